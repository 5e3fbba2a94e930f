"""The streaming engine: a chain recorded over lazy clips equals the engine on whole batches, frame for frame;
memory stays a few frames whatever the length; a source read by two branches is decoded once; a stopped pass
leaves no file."""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import replace
from fractions import Fraction

import av
import numpy as np
import pytest
import torch
from test_compositing_scenes import drifting_screen_shot

from worldkit.models.compositing import export
from worldkit.models.compositing.chroma_key import chroma_key
from worldkit.models.compositing.chunking import cores
from worldkit.models.compositing.color_match import match_colors
from worldkit.models.compositing.composite import composite_over
from worldkit.models.compositing.conform import conform
from worldkit.models.compositing.defocus import defocus, estimate_defocus
from worldkit.models.compositing.export import VIDEO_FORMATS, quantise
from worldkit.models.compositing.grain import match_grain
from worldkit.models.compositing.light_wrap import light_wrap
from worldkit.models.compositing.matte import MatteSettings, refine_matte
from worldkit.models.compositing.motion_blur import motion_blur
from worldkit.models.compositing.shadow import contact_shadow
from worldkit.models.compositing.unmix import unmix_foreground
from worldkit.models.shared.files import is_temporary
from worldkit.models.streaming import ops, video_file
from worldkit.models.streaming.clips import Clip, Producer, batch_clip, block_frames_for
from worldkit.models.streaming.passes import run_pass
from worldkit.models.streaming.reader import materialize_all
from worldkit.models.streaming.retime import Conformed
from worldkit.models.streaming.sinks import SequenceSink, Sink, VideoSink
from worldkit.models.streaming.video_file import VideoFile

FRAMES, HEIGHT, WIDTH = 11, 96, 128


def scene(frames: int = FRAMES) -> tuple[torch.Tensor, torch.Tensor]:
    """A grainy plate and a red disc crossing a green screen."""
    generator = torch.Generator().manual_seed(0)
    ys, xs = torch.meshgrid(torch.arange(HEIGHT), torch.arange(WIDTH), indexing="ij")
    plate = (torch.stack([0.3 + 0.4 * xs / WIDTH, 0.4 + 0.2 * ys / HEIGHT, 0.5 - 0.2 * xs / WIDTH], -1)).expand(
        frames, HEIGHT, WIDTH, 3
    ) + 0.03 * torch.randn(frames, HEIGHT, WIDTH, 3, generator=generator)
    screen = torch.tensor([0.1, 0.8, 0.15]).expand(frames, HEIGHT, WIDTH, 3).clone()
    for index in range(frames):
        disc = ((xs - 16 - 2 * index) ** 2 + (ys - 24) ** 2 < 120).float()[..., None]
        screen[index] = screen[index] * (1 - disc) + torch.tensor([0.8, 0.3, 0.25]) * disc
    return plate.clamp(0, 1).contiguous(), screen


def batch_chain(plate: torch.Tensor, screen: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The chain as the IMAGE path runs it: each engine step on the whole batches."""
    settings = MatteSettings(radius=4)
    keyed, key = chroma_key(screen)
    refined, matte = refine_matte(keyed, key, settings)
    foreground = unmix_foreground(refined, matte, settings.radius)
    graded = match_colors(foreground, plate, "reinhard_lab", 1.0, matte)
    grained = match_grain(graded, plate, 1.0, None, None, 5)
    wrapped = light_wrap(grained, matte, plate, 6.0, 0.5)
    shadowed, _ = contact_shadow(plate, matte, 120.0, 0.3, 4.0, 0.5)
    sigma = estimate_defocus(wrapped, plate, matte)
    soft, soft_matte = defocus(wrapped, matte, sigma + 0.5)
    blurred, blurred_matte = motion_blur(soft, soft_matte, None, 0.5)
    return composite_over(shadowed, blurred, blurred_matte)


def clip_chain(plate: Clip, screen: Clip, wrap: float = 0.5) -> list[Clip]:
    """The same chain recorded over lazy clips."""
    settings = MatteSettings(radius=4)
    keyed, key = ops.keyed(screen, None, "green", 0.5, clip_black=0.1, clip_white=0.9, spill=1.0)
    _, matte, foreground = ops.refined(keyed, key, settings)
    graded = ops.color_matched(foreground, plate, "reinhard_lab", 1.0, matte, None)
    grained = ops.grain_matched(graded, plate, 1.0, 5, None, None)
    wrapped = ops.light_wrapped(grained, matte, plate, 6.0, wrap)
    shadowed, _ = ops.shadowed(plate, matte, 120.0, 0.3, 4.0, 0.5)
    soft, soft_matte = ops.defocused(wrapped, matte, ops.defocus_sigma(wrapped, matte, plate, None) + 0.5, "gaussian")
    blurred, blurred_matte = ops.motion_blurred(soft, soft_matte, None, 0.5)
    return ops.composited(shadowed, blurred, blurred_matte, None, None)


class Capture(Sink):
    def __init__(self) -> None:
        self.frames, self.alphas, self.names, self.finished = [], [], [], False

    def write(self, index, frame, alpha) -> None:
        self.frames.append(frame.clone())
        self.alphas.append(alpha.clone())

    def finish(self) -> None:
        self.finished = True


@pytest.mark.parametrize("block", [1, 3, 8])
def test_streamed_chain_equals_the_batch_chain_frame_for_frame(block):
    plate, screen = scene()
    image, alpha = batch_chain(plate, screen)
    composite, combined = clip_chain(batch_clip(plate), batch_clip(screen))
    capture = Capture()
    run_pass(composite, combined, [capture], block=block)
    assert capture.finished and len(capture.frames) == FRAMES
    assert torch.equal(torch.stack(capture.frames), image)
    assert torch.equal(torch.stack(capture.alphas), alpha)
    assert not torch.equal(image[0], image[-1])  # the disc moves: frames differ, so frame order is checked


@pytest.mark.parametrize("block", [1, 3])
def test_streamed_motion_blur_from_a_matte_with_empty_frames_equals_the_batch(block):
    """Velocity from the matte needs only each frame's neighbours, so a block with one frame of context either
    side gives the batch's frames even where the matte is empty for several frames in a row."""
    _, screen = scene()
    matte = torch.zeros(FRAMES, HEIGHT, WIDTH)
    matte[4:] = (screen[4:, ..., 0] > 0.5).float()
    matte[7:9] = 0.0
    image, alpha = motion_blur(screen, matte, None, 2.0)
    blurred = ops.motion_blurred(batch_clip(screen), batch_clip(matte), None, 2.0)
    capture = Capture()
    run_pass(*blurred, [capture], block=block)
    assert torch.equal(torch.stack(capture.frames), image) and torch.equal(torch.stack(capture.alphas), alpha)
    assert not torch.equal(alpha[5], matte[5])  # the frames were blurred


@pytest.mark.parametrize("block", [3, 8])
def test_streamed_matte_refine_of_a_noisy_matte_equals_the_batch_across_block_boundaries(block):
    """Temporal smoothing reads each frame's neighbours, so every block needs a frame of context either side: on a
    matte made noisy by a grainy picture (so smoothing changes it) over more frames than a block holds, the
    streamed matte is the batch's."""
    frames = 20
    _, screen = scene(frames)
    generator = torch.Generator().manual_seed(1)
    grainy = (screen + 0.05 * torch.randn(frames, HEIGHT, WIDTH, 3, generator=generator)).clamp(0, 1)
    rough = (screen[..., 0] > 0.5).float()
    settings = MatteSettings(radius=4)
    image, matte = refine_matte(grainy, rough, settings)
    despilled, streamed_matte, _ = ops.refined(batch_clip(grainy), batch_clip(rough), settings)
    capture = Capture()
    run_pass(despilled, streamed_matte, [capture], block=block)
    assert len(capture.alphas) == frames
    assert torch.equal(torch.stack(capture.alphas), matte) and torch.equal(torch.stack(capture.frames), image)
    unsmoothed = refine_matte(grainy, rough, replace(settings, temporal=0.0))[1]
    assert (unsmoothed - matte).abs().amax() > 0.01  # the smoothing changed the matte, so its context is checked


@pytest.mark.parametrize("block", [4, 16])
def test_streamed_chroma_key_measures_the_screen_on_the_engines_sample(block):
    """A 40-frame clip whose screen hue drifts: streamed in blocks, the key measures the screen on the frames the
    engine samples over the whole clip (not every frame, nor each block's), so its matte is the batch's."""
    image, _ = drifting_screen_shot(40)
    keyed, matte = chroma_key(image)
    capture = Capture()
    run_pass(
        *ops.keyed(batch_clip(image), None, "green", 0.5, clip_black=0.1, clip_white=0.9, spill=1.0),
        [capture],
        block=block,
    )
    assert torch.equal(torch.stack(capture.alphas), matte) and torch.equal(torch.stack(capture.frames), keyed)


def test_a_changed_setting_changes_the_streamed_result():
    """Negative control for the equality above: the comparison sees a difference when there is one."""
    plate, screen = scene()
    image, _ = batch_chain(plate, screen)
    other, _ = clip_chain(batch_clip(plate), batch_clip(screen), wrap=0.9)
    assert not torch.equal(materialize_all([other])[0], image)


def write_lossless(path, frames: torch.Tensor, fps: int = 24) -> None:
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("ffv1", rate=fps)
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "bgr0"
        for frame in frames:
            pixels = (frame * 255).round().to(torch.uint8).numpy()
            container.mux(stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")))
        container.mux(stream.encode())


def test_a_video_file_streams_as_core_load_video_decodes_it(tmp_path):
    plate, screen = scene()
    write_lossless(tmp_path / "plate.mkv", plate)
    write_lossless(tmp_path / "screen.mkv", screen)
    decoded_plate = torch.from_numpy((plate * 255).round().to(torch.uint8).numpy()) / 255.0
    decoded_screen = torch.from_numpy((screen * 255).round().to(torch.uint8).numpy()) / 255.0
    image, alpha = batch_chain(decoded_plate, decoded_screen)
    plate_video, screen_video = VideoFile(str(tmp_path / "plate.mkv")), VideoFile(str(tmp_path / "screen.mkv"))
    assert plate_video.frames == FRAMES and plate_video.fps == Fraction(24)
    composite, combined = clip_chain(plate_video.clips()[0], screen_video.clips()[0])
    capture = Capture()
    run_pass(composite, combined, [capture], block=4)
    assert torch.equal(torch.stack(capture.frames), image) and torch.equal(torch.stack(capture.alphas), alpha)


def write_levels(path, codec: str, frames: int = 96) -> None:
    """Frames of one grey level each (the frame index times two), keyframes every 24 where the codec has others."""
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=24)
        stream.width, stream.height = 64, 48
        stream.pix_fmt = "yuv422p10le" if codec == "prores_ks" else "yuv420p"
        stream.codec_context.gop_size = 24
        for index in range(frames):
            picture = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 2 * index, np.uint8), format="rgb24")
            container.mux(stream.encode(picture))
        container.mux(stream.encode())


@pytest.mark.parametrize(("codec", "interval", "opens"), [("prores_ks", 1, 10), ("mpeg4", 24, 1)])
def test_spread_frames_of_a_video_seek_only_where_a_keyframe_is_nearer(tmp_path, monkeypatch, codec, interval, opens):
    """An intra-frame plate (ProRes) is opened at each of ten frames spread 10 apart; a plate with a keyframe every
    24 frames is read through instead. Both give the frames a whole pass decodes."""
    path = tmp_path / "levels.mov"
    write_levels(path, codec)
    video = VideoFile(str(path))
    clip = video.clips()[0]
    everything = materialize_all([clip])[0]
    assert video.keyframe_interval == interval
    opened, open_file = [], video_file._open

    def counted(source):
        opened.append(source)
        return open_file(source)

    monkeypatch.setattr(video_file, "_open", counted)
    picks = list(range(0, 96, 10))
    spread = ops.measured([clip], picks, lambda frame: frame.clone())
    assert torch.equal(torch.stack(spread), everything[picks]) and len(opened) == opens
    assert not torch.equal(everything[0], everything[10])  # the levels differ: the right frames were read


def test_a_block_holds_a_frame_per_core_within_its_memory_budget():
    sizes = {
        (height, cores): block_frames_for(height, height * 16 // 9, cores)
        for height in (720, 1080, 2160)
        for cores in (2, 16)
    }
    assert sizes == {(720, 2): 2, (720, 16): 8, (1080, 2): 1, (1080, 16): 4, (2160, 2): 1, (2160, 16): 1}


class CountingSource(Producer):
    """Frames made on request, counting how many are made and how many of them are alive at most."""

    def __init__(self, frames: int) -> None:
        self.frames, self.made, self.alive, self.peak = frames, 0, 0, 0

    def produce(self, reader, start: int, stop: int):
        block = torch.rand(stop - start, HEIGHT, WIDTH, 3)
        self.made += stop - start
        self.alive += stop - start
        self.peak = max(self.peak, self.alive)
        weakref.finalize(block, self._freed, stop - start)
        return (block,)

    def _freed(self, count: int) -> None:
        self.alive -= count


def counted_chain(frames: int) -> tuple[CountingSource, list[Clip]]:
    source = CountingSource(frames)
    plate = Clip(source, 0, (HEIGHT, WIDTH, 3), None)
    matte = batch_clip(torch.ones(1, HEIGHT, WIDTH))
    refined = ops.refined(plate, matte, MatteSettings(radius=4))
    wrapped = ops.light_wrapped(refined[0], refined[1], plate, 4.0, 0.5)  # the plate read by a second branch
    return source, ops.composited(plate, wrapped, refined[1], None, None)


@pytest.mark.parametrize("frames", [24, 240])
def test_memory_stays_a_few_frames_and_a_shared_source_is_decoded_once(frames):
    source, (composite, alpha) = counted_chain(frames)
    run_pass(composite, alpha, [Capture()], block=4)
    assert source.made == frames  # two branches read the plate, it was made once
    assert source.peak <= 4 + 2 + 4  # a block, the temporal context, the block being replaced


def test_an_interrupted_save_leaves_no_file(tmp_path):
    plate, _ = scene(frames=16)
    target = tmp_path / "out.mov"
    sink = VideoSink(target, "mov (ProRes 4444 with alpha, 10-bit)", 24.0, (HEIGHT, WIDTH))

    def progress(count: int) -> None:
        if progress.done >= 8:
            raise KeyboardInterrupt
        progress.done += count

    progress.done = 0
    with pytest.raises(KeyboardInterrupt):
        run_pass(batch_clip(plate), batch_clip(torch.full((1, HEIGHT, WIDTH), 0.5)), [sink], progress, block=4)
    assert list(tmp_path.iterdir()) == []


class StopAt(Sink):
    """Beside a video sink: at frame `index`, after the video took the frames before it, notes what the folder holds
    and stops the pass as Ctrl-C would."""

    def __init__(self, folder, index: int) -> None:
        self.folder, self.index, self.seen = folder, index, {}

    def write(self, index, frame, alpha) -> None:
        if index == self.index:
            self.seen = {path.name: path.read_bytes() for path in self.folder.iterdir()}
            raise KeyboardInterrupt


def test_an_interrupted_save_keeps_the_previous_file_and_writes_only_under_a_temporary_name(tmp_path):
    plate, _ = scene(frames=16)
    target = tmp_path / "out.mov"
    previous = b"the previous render"
    target.write_bytes(previous)
    sink = VideoSink(target, "mov (ProRes 4444 with alpha, 10-bit)", 24.0, (HEIGHT, WIDTH))
    stop = StopAt(tmp_path, 8)
    with pytest.raises(KeyboardInterrupt):
        run_pass(batch_clip(plate), batch_clip(torch.full((1, HEIGHT, WIDTH), 0.5)), [sink, stop], block=4)
    staged = [name for name in stop.seen if name != target.name]
    assert stop.seen[target.name] == previous  # mid-write, the final name still holds the previous file
    assert len(staged) == 1 and is_temporary(tmp_path / staged[0]) and stop.seen[staged[0]]  # the frames so far
    assert target.read_bytes() == previous and list(tmp_path.iterdir()) == [target]


@pytest.mark.parametrize("video", [name for name in VIDEO_FORMATS if "ProRes 4444" in name])
def test_prores_4444_keeps_a_10_bit_alpha(tmp_path, video):
    plate, _ = scene(frames=3)
    ramp = torch.linspace(0, 1, WIDTH).expand(3, HEIGHT, WIDTH)
    target = tmp_path / "out.mov"
    run_pass(
        batch_clip(plate),
        batch_clip(ramp),
        [VideoSink(target, video, 24.0, (HEIGHT, WIDTH))],
    )
    with av.open(str(target)) as container:
        stream = container.streams.video[0]
        context = stream.codec_context  # FFmpeg's ProRes decoder hands 4444 out at 12 bits
        assert context.name == "prores" and "4444" in context.profile and context.pix_fmt.startswith("yuva444")
        frames = [frame.to_ndarray(format="rgba64le") for frame in container.decode(stream)]
    assert len(frames) == 3
    alpha = frames[0][..., 3].astype(np.float64) / 65535
    assert np.abs(alpha - ramp[0].numpy()).max() < 2 / 1023
    assert len(np.unique(frames[0][..., 3])) > 48  # more levels than the 48 columns would need at 8 bits: all kept


def prores_ks_packets(frames: torch.Tensor, alpha: torch.Tensor, options: dict[str, str]) -> list[bytes]:
    """The frames through prores_ks as the sink quantises them, with these encoder options."""
    encoder = av.CodecContext.create("prores_ks", "w")
    encoder.width, encoder.height, encoder.pix_fmt = WIDTH, HEIGHT, "yuva444p10le"
    encoder.time_base, encoder.options = Fraction(1, 24), options
    quantised = [quantise(frame, matte, 16) for frame, matte in zip(frames, alpha, strict=True)]
    pictures = [av.VideoFrame.from_ndarray(pixels, format="rgba64le") for pixels in quantised]
    return [bytes(packet) for picture in [*pictures, None] for packet in encoder.encode(picture)]


def test_prores_4444_is_what_prores_ks_rate_control_gives_without_its_search(tmp_path):
    """The finishing ProRes fixes the finest quantiser, the one prores_ks's own rate control picks even on heavy
    grain: the same bytes. A coarser fixed quantiser (the control) gives others."""
    plate, _ = scene(frames=3)
    grainy = (plate + 0.1 * torch.randn(plate.shape, generator=torch.Generator().manual_seed(1))).clamp(0, 1)
    alpha = torch.linspace(0, 1, WIDTH).expand(3, HEIGHT, WIDTH).contiguous()
    target = tmp_path / "out.mov"
    run_pass(
        batch_clip(grainy),
        batch_clip(alpha),
        [VideoSink(target, "mov (ProRes 4444 with alpha, 10-bit)", 24.0, (HEIGHT, WIDTH))],
    )
    with av.open(str(target)) as container:
        ours = [bytes(packet) for packet in container.demux(video=0) if packet.size]
    assert ours == prores_ks_packets(grainy, alpha, {"profile": "4444", "vendor": "apl0"})
    coarser = {"profile": "4444", "vendor": "apl0", "flags": "+qscale", "global_quality": str(4 * 118)}
    assert ours != prores_ks_packets(grainy, alpha, coarser)


def test_the_writers_prepare_a_blocks_frames_on_every_core_and_the_encoder_threads_on_all(tmp_path, monkeypatch):
    """The pass's writer thread hands each block to the sinks whole: ProRes pictures are quantised and EXR frames
    encoded on the frame pool's threads, one frame per core (each held a moment, so every thread takes one), and
    the files hold every frame in order; the ProRes encoder runs a thread per core."""
    plate, _ = scene(frames=8)
    alpha = torch.linspace(0, 1, WIDTH).expand(8, HEIGHT, WIDTH).contiguous()
    threads: dict[str, set[str]] = {"quantise": set(), "exr_bytes": set()}
    for name in threads:
        original = getattr(export, name)

        def recorded(*args, name=name, original=original):
            threads[name].add(threading.current_thread().name)
            time.sleep(0.05)
            return original(*args)

        monkeypatch.setattr(export, name, recorded)
    video = VideoSink(tmp_path / "out.mov", "mov (ProRes 4444 with alpha, 10-bit)", 24.0, (HEIGHT, WIDTH))
    assert (
        video.stream.codec_context.thread_count == cores()
        and video.stream.thread_type == av.codec.context.ThreadType.AUTO
    )
    sequence = SequenceSink(tmp_path, lambda index: f"frame_{index:03}.exr", "exr")
    run_pass(batch_clip(plate), batch_clip(alpha), [video, sequence], block=4)
    for name, used in threads.items():
        assert len(used) == min(cores(), 4) and all(thread.startswith("worldkit-frames") for thread in used), name
    assert sequence.names == [f"frame_{index:03}.exr" for index in range(8)]
    assert np.abs(export.read_exr(tmp_path / "frame_005.exr")[..., 3] - alpha[5].numpy()).max() < 1e-3
    with av.open(str(tmp_path / "out.mov")) as container:
        decoded = [frame.to_ndarray(format="rgba64le") for frame in container.decode(video=0)]
    assert len(decoded) == 8 and np.abs(decoded[5][..., 3] / 65535 - alpha[5].numpy()).max() < 2 / 1023


def test_conform_streams_as_the_batch_conform_and_retimes_alpha():
    _, screen = scene(frames=8)
    alpha = (screen[..., 0] > 0.5).float()
    retimed = Conformed(batch_clip(screen), batch_clip(alpha), 16.0, 24.0, "motion")
    assert retimed.frames == 12
    image, matte = materialize_all(retimed.clips(), block=5)
    batch_image, batch_matte = conform(screen, alpha, 16.0, 24.0)
    assert torch.equal(image, batch_image) and torch.equal(matte, batch_matte)
    assert torch.equal(image[0], screen[0]) and torch.equal(image[3], screen[2])  # whole source frames kept
    between = matte[1].sum()  # a frame a third of the way between source frames 0 and 1
    assert alpha[0].sum() * 0.8 < between < alpha[0].sum() * 1.2 and not torch.equal(matte[1], alpha[0])


SIZE_RULED_STEPS = {
    "keyed": lambda plate, mask, image: ops.keyed(plate, image, "green", 0.5, clip_black=0.1, clip_white=0.9, spill=1),
    "refined": lambda plate, mask, image: ops.refined(plate, mask, MatteSettings(radius=4)),
    "color_matched": lambda plate, mask, image: ops.color_matched(plate, plate, "reinhard_lab", 1.0, mask, None),
    "grain_matched": lambda plate, mask, image: ops.grain_matched(plate, plate, 1.0, 5, None, mask),
    "light_wrapped": lambda plate, mask, image: ops.light_wrapped(plate, mask, plate, 4.0, 0.5),
    "light_wrapped plate": lambda plate, mask, image: ops.light_wrapped(image, mask, plate, 4.0, 0.5),
    "defocus_sigma": lambda plate, mask, image: ops.defocus_sigma(plate, mask, plate, None),
    "defocused": lambda plate, mask, image: ops.defocused(plate, mask, 1.0, "gaussian"),
    "shadowed": lambda plate, mask, image: ops.shadowed(plate, mask, 120.0, 0.3, 4.0, 0.5),
    "motion_blurred": lambda plate, mask, image: ops.motion_blurred(plate, mask, None, 0.5),
    "composited": lambda plate, mask, image: ops.composited(plate, plate, mask, None, None),
    "composited element": lambda plate, mask, image: ops.composited(plate, image, mask, None, None),
}


def sized(height: int, width: int) -> tuple[Clip, Clip]:
    """A solid matte and a green-screen picture of this size."""
    screen = torch.tensor([0.1, 0.8, 0.15]).expand(1, height, width, 3).clone()
    return batch_clip(torch.ones(1, height, width)), batch_clip(screen)


@pytest.mark.parametrize("step", SIZE_RULED_STEPS)
def test_a_size_mismatch_is_refused_when_the_step_is_recorded_before_any_frame_is_made(step):
    source = CountingSource(8)
    plate = Clip(source, 0, (HEIGHT, WIDTH, 3), None)
    with pytest.raises(ValueError, match=r"is \d+x\d+ but \w+ is \d+x\d+; scale one of them"):
        SIZE_RULED_STEPS[step](plate, *sized(HEIGHT // 2, WIDTH // 2))
    assert source.made == 0
    SIZE_RULED_STEPS[step](plate, *sized(HEIGHT, WIDTH))  # control: matching sizes are recorded


def test_an_alpha_of_another_size_is_refused_before_any_frame_is_made(tmp_path):
    source = CountingSource(8)
    image = Clip(source, 0, (HEIGHT, WIDTH, 3), None)
    sink = VideoSink(tmp_path / "out.mov", "mov (ProRes 4444 with alpha, 10-bit)", 24.0, (HEIGHT, WIDTH))
    with pytest.raises(ValueError, match=f"alpha is {WIDTH // 2}x{HEIGHT // 2} but image is {WIDTH}x{HEIGHT}"):
        run_pass(image, sized(HEIGHT // 2, WIDTH // 2)[0], [sink])
    assert source.made == 0 and list(tmp_path.iterdir()) == []
