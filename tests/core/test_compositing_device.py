"""The steps' device path (what runs on ComfyUI's GPU) against their CPU path, run here on the CPU device: the same
frames within 1e-6 (the same float32 maths in a different order; blurs 1e-5), block by block and part by part;
Color Match's LAB within 0.03 where colours leave the gamut and 0.002 on average (OpenCV's float LAB interpolates a
table, the device path computes it exactly); Matte Refine and Un-mix within 1e-5 (their coarse grids reduced and
enlarged on the device with OpenCV's own weights, on frames the grids divide, and the feather's blur)."""

from __future__ import annotations

import functools
import types

import pytest
import torch
from test_compositing_matte import half_alike_scene
from test_compositing_scenes import HEIGHT, WIDTH, soft_disc, textured

from worldkit.models.compositing import device as gpu
from worldkit.models.compositing.chroma_key import chroma_key
from worldkit.models.compositing.color_match import METHODS, match_colors
from worldkit.models.compositing.composite import composite_over
from worldkit.models.compositing.defocus import SHAPES, defocus
from worldkit.models.compositing.grain import match_grain
from worldkit.models.compositing.light_wrap import light_wrap
from worldkit.models.compositing.matte import DEVICE_FRAME_PLANES, MatteSettings, refine_matte
from worldkit.models.compositing.motion_blur import motion_blur
from worldkit.models.compositing.shadow import contact_shadow
from worldkit.models.compositing.unmix import unmix_foreground
from worldkit.models.streaming import ops
from worldkit.models.streaming.clips import batch_clip
from worldkit.models.streaming.reader import materialize_all

CPU = torch.device("cpu")
TOLERANCE = 1e-6
BLUR_TOLERANCE = 1e-5  # a convolution sums in another order than OpenCV's filters


def scene(frames: int = 3) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Plate, element, an alpha with solid, empty and soft pixels, and a plate alpha."""
    plate = textured(frames, (0.3, 0.5, 0.6), 0.3, seed=1)
    element = textured(frames, (0.8, 0.4, 0.2), 0.3, seed=2)
    return plate, element, soft_disc(frames), textured(frames, (0.5, 0.5, 0.5), 0.5, seed=3)[..., 0].clamp(0, 1)


def assert_same(device_frames: torch.Tensor, cpu_frames: torch.Tensor) -> None:
    assert device_frames.device == CPU and device_frames.shape == cpu_frames.shape
    assert float((device_frames - cpu_frames).abs().max()) <= TOLERANCE


@pytest.mark.parametrize("with_plate_alpha", [False, True])
def test_composite_over_on_a_device_gives_the_cpu_paths_frames(with_plate_alpha):
    plate, element, alpha, plate_alpha = scene()
    plate_alpha = plate_alpha if with_plate_alpha else None
    assert 0 < float(((alpha > 0) & (alpha < 1)).float().mean()) < 0.5 and bool((alpha == 1).any())
    on_cpu = composite_over(plate, element, alpha, plate_alpha)
    on_device = composite_over(plate, element, alpha, plate_alpha, device=CPU)
    for got, expected in zip(on_device, on_cpu, strict=True):
        assert_same(got, expected)
    solid, empty = alpha >= 1, alpha <= 0  # copied exactly, as the CPU path copies them
    assert torch.equal(on_device[0][solid], element[solid]) and torch.equal(on_device[0][empty], plate[empty])


def test_grain_on_a_device_gives_the_cpu_paths_frames_each_frame_its_own():
    plate = textured(4, (0.4, 0.5, 0.5), 0.2, seed=4) + torch.randn(4, HEIGHT, WIDTH, 3) * 0.03
    element = textured(1, (0.6, 0.5, 0.4), 0.2, seed=5)
    on_device = match_grain(element, plate, seed=2, device=CPU)
    assert_same(on_device, match_grain(element, plate, seed=2))
    assert not torch.equal(on_device[0] - element[0], on_device[1] - element[0])


LAB_TOLERANCE = {"max": 0.03, "mean": 0.002}  # reinhard_lab: 8 8-bit levels where colours leave the gamut, 0.5 mean


@pytest.mark.parametrize("method", METHODS)
def test_color_match_on_a_device_gives_the_cpu_paths_frames(method):
    plate, element, alpha, _ = scene()
    element = element * torch.tensor([1.1, 0.8, 0.9])  # a cast to correct
    for strength in (1.0, 0.6):
        on_cpu = match_colors(element, plate, method, strength, element_mask=alpha)
        on_device = match_colors(element, plate, method, strength, element_mask=alpha, device=CPU)
        assert float((on_cpu - element).abs().mean()) > 0.02  # the correction does something
        difference = (on_device - on_cpu).abs()
        if method == "reinhard_lab":
            assert float(difference.max()) <= LAB_TOLERANCE["max"]
            assert float(difference.mean()) <= LAB_TOLERANCE["mean"]
        else:
            assert_same(on_device, on_cpu)


@pytest.mark.parametrize("shape", SHAPES)
def test_defocus_on_a_device_gives_the_cpu_paths_frames(shape):
    """Blurs small and wide enough to reach the frame's edges (where the border rule counts)."""
    _, element, alpha, _ = scene()
    for sigma in (0.7, 6.0):
        on_cpu, on_device = defocus(element, alpha, sigma, shape), defocus(element, alpha, sigma, shape, device=CPU)
        assert float((on_cpu[1] > 0).float().mean()) > (0.4 if sigma > 1 else 0.2)
        for got, expected in zip(on_device, on_cpu, strict=True):
            assert float((got - expected).abs().max()) <= BLUR_TOLERANCE


def test_motion_blur_on_a_device_gives_the_cpu_paths_frames():
    """Streaks under half a pixel (left as they are), along an axis, slanted, and long enough to leave the frame."""
    _, element, alpha, _ = scene(frames=4)
    velocity = torch.tensor([[0.3, 0.1], [6.0, 0.0], [-90.0, 40.0], [3.0, -2.5]])
    on_cpu = motion_blur(element, alpha, velocity, 1.0)
    assert torch.equal(on_cpu[0][0], element[0]) and float((on_cpu[0][2] - element[2]).abs().max()) > 0.1
    for got, expected in zip(motion_blur(element, alpha, velocity, 1.0, device=CPU), on_cpu, strict=True):
        assert float((got - expected).abs().max()) <= BLUR_TOLERANCE


def test_contact_shadow_on_a_device_gives_the_cpu_paths_frames():
    plate, _, alpha, _ = scene()
    for ground_line in (None, 0.9):
        on_cpu = contact_shadow(plate, alpha, 120.0, 0.5, 8.0, 0.7, ground_line)
        assert float((on_cpu[0] - plate).abs().max()) > 0.1
        on_device = contact_shadow(plate, alpha, 120.0, 0.5, 8.0, 0.7, ground_line, device=CPU)
        for got, expected in zip(on_device, on_cpu, strict=True):
            assert_same(got, expected)
        unshadowed = on_cpu[1] <= 0  # the plate itself, exactly, as on the CPU path
        assert torch.equal(on_device[0][unshadowed], plate[unshadowed])


def test_light_wrap_on_a_device_gives_the_cpu_paths_frames():
    plate, element, alpha, _ = scene()
    for radius in (3.0, 24.0):  # reduced 1x and 8x before blurring
        on_cpu = light_wrap(element, alpha, plate, radius, 0.8)
        assert float((on_cpu - element).abs().max()) > 0.1
        assert_same(light_wrap(element, alpha, plate, radius, 0.8, device=CPU), on_cpu)


KEY_TOLERANCE = 1e-5  # the key divides by the screen's difference: float32 round-off grows with it


@pytest.mark.parametrize("clean_plates", [0, 1, 3])
def test_chroma_key_on_a_device_gives_the_cpu_paths_frames(clean_plates):
    """A noisy, unevenly lit screen (its model fitted per frame, or a clean plate of one frame or one a frame blurred
    to the frame's edges) keyed with a balance off the usual 0.5, and soft levels: key and despilled colour the
    same."""
    light = 1.0 - 0.5 * torch.linspace(0, 1, WIDTH).expand(HEIGHT, WIDTH)
    screen = (torch.tensor([0.1, 0.8, 0.15]) * light[..., None])[None].expand(3, -1, -1, -1)
    _, element, alpha, _ = scene()
    noise = torch.randn(3, HEIGHT, WIDTH, 3, generator=torch.Generator().manual_seed(7)) * 0.02
    image = (element * alpha[..., None] + screen * (1 - alpha[..., None]) + noise).clamp(0, 1)
    plate = screen[:clean_plates].contiguous() if clean_plates else None
    for balance in (0.5, 0.3):
        on_cpu = chroma_key(image, "green", balance, 0.05, 0.9, 0.8, clean_plate=plate)
        assert float((on_cpu[1] - alpha).abs().mean()) < 0.05 and 0 < float(on_cpu[1].mean()) < 1
        on_device = chroma_key(image, "green", balance, 0.05, 0.9, 0.8, clean_plate=plate, device=CPU)
        for got, expected in zip(on_device, on_cpu, strict=True):
            assert got.shape == expected.shape and float((got - expected).abs().max()) <= KEY_TOLERANCE


def test_a_block_larger_than_the_device_memory_is_computed_in_parts(monkeypatch):
    """Room for one frame at a time: the parts cover the block and give the frames the whole block would."""
    plate, element, alpha, _ = scene(frames=5)
    monkeypatch.setattr(gpu, "free_bytes", lambda device: HEIGHT * WIDTH * 24 * 4 * 2)
    assert [(part.start, part.stop) for part in gpu.parts(CPU, 5, HEIGHT * WIDTH * 24 * 4)] == [
        (0, 1),
        (1, 2),
        (2, 3),
        (3, 4),
        (4, 5),
    ]
    assert_same(composite_over(plate, element, alpha, device=CPU)[0], composite_over(plate, element, alpha)[0])
    grainy = plate + torch.randn(5, HEIGHT, WIDTH, 3) * 0.03
    assert_same(match_grain(element, grainy, seed=1, device=CPU), match_grain(element, grainy, seed=1))
    graded = match_colors(element, plate, "mkl", device=CPU)
    assert_same(graded, match_colors(element, plate, "mkl"))


def test_the_streamed_steps_on_a_device_equal_their_cpu_path_block_by_block():
    plate, element, alpha, _ = scene(frames=6)
    grainy = batch_clip(plate + torch.randn(6, HEIGHT, WIDTH, 3) * 0.03)
    clips = [batch_clip(element), batch_clip(alpha)]
    for device in (None, CPU):
        shadowed, _ = ops.shadowed(grainy, clips[1], 120.0, 0.4, 6.0, 0.6, device=device)
        graded = ops.color_matched(clips[0], grainy, "mkl", 1.0, clips[1], None, device)
        grained = ops.grain_matched(graded, grainy, 1.0, 3, None, None, device)
        wrapped = ops.light_wrapped(grained, clips[1], grainy, 12.0, 0.6, device)
        soft, soft_alpha = ops.defocused(wrapped, clips[1], 1.5, "gaussian", device)
        streaked, streaked_alpha = ops.motion_blurred(soft, soft_alpha, None, 0.5, device)
        clips.extend(ops.composited(shadowed, streaked, streaked_alpha, None, None, device))
        screen = ops.mapped(clips[0], lambda block: block * torch.tensor([0.3, 1.0, 0.3]), clips[0].frame_shape)
        clips.extend(ops.keyed(screen, None, "green", 0.5, device, clip_black=0.1, clip_white=0.9, spill=1.0))
    cpu_frames, device_frames = materialize_all(clips[2:6], block=4), materialize_all(clips[6:], block=4)
    for got, expected in zip(device_frames, cpu_frames, strict=True):
        assert float((got - expected).abs().max()) <= BLUR_TOLERANCE


def counted_moves(monkeypatch) -> dict[str, list[tuple[int, ...]]]:
    """The shapes of what `device.upload` and `device.download` move from here on, by kind."""
    moves = {"upload": [], "download": []}
    upload, download = gpu.upload, gpu.download
    monkeypatch.setattr(gpu, "upload", lambda t, d: moves["upload"].append(tuple(t.shape)) or upload(t, d))
    monkeypatch.setattr(gpu, "download", lambda t: moves["download"].append(tuple(t.shape)) or download(t))
    return moves


def full_size_frames(moves: dict[str, list[tuple[int, ...]]], kind: str, planes: int) -> int:
    """Frames of `planes` dimensions (4: IMAGE, 3: MASK) moved at full size one way."""
    return sum(shape[0] for shape in moves[kind] if len(shape) == planes and shape[1:3] == (HEIGHT, WIDTH))


def resident_chain(plate, element, alpha, device):
    """Shadow, colour, grain, light wrap, defocus, motion blur and composite over clips, as the GVFX nodes chain them
    on a VIDEO: (composite, its alpha)."""
    plate, element, alpha = batch_clip(plate), batch_clip(element), batch_clip(alpha)
    shadowed, _ = ops.shadowed(plate, alpha, 120.0, 0.4, 6.0, 0.6, device=device)
    graded = ops.color_matched(element, plate, "mkl", 1.0, alpha, None, device)
    grained = ops.grain_matched(graded, plate, 1.0, 3, None, None, device)
    wrapped = ops.light_wrapped(grained, alpha, plate, 12.0, 0.6, device)
    soft, soft_alpha = ops.defocused(wrapped, alpha, 1.5, "gaussian", device)
    streaked, streaked_alpha = ops.motion_blurred(soft, soft_alpha, None, 0.5, device)
    return ops.composited(shadowed, streaked, streaked_alpha, None, None, device)


def test_a_chain_on_a_device_moves_each_block_there_once_and_back_once(monkeypatch):
    """Every move between the CPU and the device in the pass, counted (the clip-wide measurements, taken when the
    chain is recorded, are not the pass): each source frame goes up once (the matte, read on the device by three
    steps, too), only the composite and its alpha come back, and a whole block moves at a time; the frames are the
    step-by-step path's."""
    frames, block = 6, 2
    plate, element, alpha, _ = scene(frames)
    plate = plate + torch.randn(frames, HEIGHT, WIDTH, 3, generator=torch.Generator().manual_seed(5)) * 0.03
    chain = list(resident_chain(plate, element, alpha, CPU))
    moves = counted_moves(monkeypatch)
    image, image_alpha = materialize_all(chain, block=block)
    moved_frames = functools.partial(full_size_frames, moves)  # the light wrap's maps aside
    assert (moved_frames("upload", 4), moved_frames("upload", 3)) == (2 * frames, frames)  # plate, element; matte
    assert (moved_frames("download", 4), moved_frames("download", 3)) == (frames, frames)  # composite, alpha
    whole = [shape for shape in moves["upload"] + moves["download"] if shape[1:3] == (HEIGHT, WIDTH)]
    assert len(whole) <= 5 * -(-frames // block)  # three sources up, two outputs down, a block at a time

    shadowed, _ = contact_shadow(plate, alpha, 120.0, 0.4, 6.0, 0.6, device=CPU)
    graded = match_colors(element, plate, "mkl", 1.0, element_mask=alpha, device=CPU)
    grained = match_grain(graded, plate, 1.0, seed=3, device=CPU)
    soft = defocus(light_wrap(grained, alpha, plate, 12.0, 0.6, device=CPU), alpha, 1.5, device=CPU)
    streaked = motion_blur(*soft, None, 0.5, device=CPU)
    for got, expected in zip((image, image_alpha), composite_over(shadowed, *streaked, device=CPU), strict=True):
        assert float((got - expected).abs().max()) <= BLUR_TOLERANCE


def test_a_still_element_moves_to_the_device_once_for_the_whole_pass(monkeypatch):
    """A one-frame element and matte stand for every frame: over a 6-frame plate in blocks of 2 each is uploaded
    once, not once a block, and every frame of the composite carries the element."""
    plate, element, alpha, _ = scene(6)
    still, matte = batch_clip(element[:1]), batch_clip(alpha[:1])
    graded = ops.color_matched(still, batch_clip(plate), "mkl", 1.0, matte, None, CPU)
    chain = ops.composited(batch_clip(plate), graded, matte, None, None, CPU)
    uploads, upload = [], gpu.upload
    monkeypatch.setattr(gpu, "upload", lambda t, d: uploads.append(tuple(t.shape)) or upload(t, d))
    image, _ = materialize_all(list(chain), block=2)
    assert uploads.count((1, HEIGHT, WIDTH, 3)) == 1 and uploads.count((1, HEIGHT, WIDTH)) == 1
    expected = composite_over(plate, match_colors(element[:1], plate, "mkl", element_mask=alpha[:1]), alpha[:1])[0]
    assert float((image - expected).abs().max()) <= TOLERANCE


def moving_matte_scene(frames: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    """(image, rough mask): `half_alike_scene` (an edge the picture places on the left, none it can on the right)
    drifting 2 px a frame, with its own noise each frame and a green cast to despill, cropped to 94x126, which a
    grid of 4 px does not divide."""
    image, _, rough = half_alike_scene()
    noise = torch.randn(frames, HEIGHT, WIDTH, 3, generator=torch.Generator().manual_seed(11)) * 0.01
    shifted = [torch.roll(image[0], 2 * index, dims=1) for index in range(frames)]
    cast = torch.tensor([0.85, 1.0, 0.85])
    image = (torch.stack(shifted) * cast + noise).clamp(0, 1)
    rough = torch.stack([torch.roll(rough[0], 2 * index, dims=1) for index in range(frames)])
    return image[:, :94, :126].contiguous(), rough[:, :94, :126].contiguous()


MATTE_TOLERANCE = BLUR_TOLERANCE


@pytest.mark.parametrize("quality", ["fast", "accurate"])
@pytest.mark.parametrize("one_frame_parts", [False, True])
def test_matte_refine_and_unmix_on_a_device_give_the_cpu_paths_frames(quality, one_frame_parts, monkeypatch):
    """Four drifting frames despilled, choked, feathered and smoothed in time, the block whole or in parts (room for
    one frame of the refine at a time, three of the smoothing, whose parts read their neighbours across the part's
    edge), on coarse grids of 1, 2 and 4 px (edge radius 4, 8 and 16): the despilled image, the matte (kept the
    mask's where the picture has no better edge) and the un-mixed foreground are the CPU path's."""
    image, rough = moving_matte_scene()
    if one_frame_parts:
        monkeypatch.setattr(gpu, "free_bytes", lambda device: HEIGHT * WIDTH * DEVICE_FRAME_PLANES * 4 * 2)
    for settings in (
        MatteSettings(radius=4, quality=quality, despill="green", choke=2, feather=1.5, temporal=0.8),
        MatteSettings(radius=8, quality=quality, despill="blue", feather=0.8, temporal=0.5),
        MatteSettings(radius=16, quality=quality, choke=-3, temporal=0.0, clip_black=0.1, clip_white=0.9),
    ):
        on_cpu = refine_matte(image, rough, settings)
        on_device = refine_matte(image, rough, settings, device=CPU)
        assert float((on_cpu[1] != rough).float().mean()) > 0.02  # the matte is not the mask
        for got, expected in zip(on_device, on_cpu, strict=True):
            assert got.device == CPU and float((got - expected).abs().max()) <= MATTE_TOLERANCE
        foreground = unmix_foreground(*on_cpu, settings.radius)
        assert float((foreground - on_cpu[0]).abs().max()) > 0.1  # the old background un-mixed from the edges
        on_device = unmix_foreground(*on_cpu, settings.radius, device=CPU)
        assert float((on_device - foreground).abs().max()) <= MATTE_TOLERANCE
    assert float((on_cpu[0] - image).abs().max()) == 0.0  # the second settings despill nothing


def keyed_and_refined(image, plate, settings, device):
    """Chroma Key, Matte Refine of its key and Composite Over of the un-mixed foreground as clips, as the GVFX
    nodes chain them on a VIDEO: (composite, its alpha)."""
    keyed = ops.keyed(batch_clip(image), None, "green", 0.5, device, clip_black=0.1, clip_white=0.9, spill=1.0)
    _, matte, foreground = ops.refined(keyed[0], keyed[1], settings, device)
    return ops.composited(batch_clip(plate), foreground, matte, None, None, device)


def test_matte_refine_in_a_chain_on_a_device_sends_only_its_coarse_grids_across(monkeypatch):
    """Key, Matte Refine (smoothing in time, so each block reads a frame either side) and Composite Over in blocks
    on the device: the only full-size frames that cross are the sources up and the composite and its alpha down;
    Matte Refine moves its coarse grids' planes alone, a quarter of a frame's pixels or fewer; the frames are the
    steps' own on the whole clip."""
    frames, block = 6, 2
    plate, element, alpha, _ = scene(frames)
    screen = torch.tensor([0.1, 0.8, 0.15]).expand(frames, HEIGHT, WIDTH, 3)
    noise = torch.randn(frames, HEIGHT, WIDTH, 3, generator=torch.Generator().manual_seed(9)) * 0.02
    image = (element * alpha[..., None] + screen * (1 - alpha[..., None]) + noise).clamp(0, 1)
    settings = MatteSettings(radius=8, despill="green", choke=1, feather=1.0, temporal=0.5)
    chain = list(keyed_and_refined(image, plate, settings, CPU))
    moves = counted_moves(monkeypatch)
    composite, composite_alpha = materialize_all(chain, block=block)
    full_size = functools.partial(full_size_frames, moves)
    assert (full_size("upload", 4), full_size("upload", 3)) == (2 * frames, 0)  # the screen shot, the plate
    assert (full_size("download", 4), full_size("download", 3)) == (frames, frames)  # composite, alpha
    grids = [shape for shape in moves["upload"] + moves["download"] if shape[1:3] != (HEIGHT, WIDTH)]
    assert grids and all(shape[1] * shape[2] * 4 <= HEIGHT * WIDTH for shape in grids)

    keyed = chroma_key(image, "green", 0.5, 0.1, 0.9, 1.0, device=CPU)
    despilled, matte = refine_matte(*keyed, settings, device=CPU)
    foreground = unmix_foreground(despilled, matte, settings.radius, device=CPU)
    expected = composite_over(plate, foreground, matte, device=CPU)
    for got, want in zip((composite, composite_alpha), expected, strict=True):
        assert float((got - want).abs().max()) <= TOLERANCE


def test_parts_cover_the_block_in_order_and_an_empty_block_has_none(monkeypatch):
    """Half the free memory in whole frames, at least one a part; no limit where torch cannot say (the CPU)."""
    assert [(p.start, p.stop) for p in gpu.parts(CPU, 7, 10**12)] == [(0, 7)]
    assert list(gpu.parts(CPU, 0, 100)) == []
    monkeypatch.setattr(gpu, "free_bytes", lambda device: 1000)
    assert [(p.start, p.stop) for p in gpu.parts(CPU, 7, 100)] == [(0, 5), (5, 7)]
    assert [(p.start, p.stop) for p in gpu.parts(CPU, 2, 10**6)] == [(0, 1), (1, 2)]


def test_free_bytes_asks_cuda_for_a_cuda_device_and_nothing_for_the_cpu(monkeypatch):
    monkeypatch.setattr(gpu.torch.cuda, "mem_get_info", lambda device: (123456, 10**9))
    assert gpu.free_bytes(torch.device("cuda", 0)) == 123456
    assert gpu.free_bytes(CPU) is None


def test_a_tensor_on_the_current_cuda_device_lies_on_cuda_named_without_an_index(monkeypatch):
    """`on` reads only the tensor's device; a stand-in carries one on the second GPU, which is the current one."""
    monkeypatch.setattr(gpu.torch.cuda, "current_device", lambda: 1)
    on_second = types.SimpleNamespace(device=torch.device("cuda", 1))
    assert gpu.on(on_second, torch.device("cuda")) and gpu.on(on_second, torch.device("cuda", 1))
    assert not gpu.on(on_second, torch.device("cuda", 0)) and not gpu.on(on_second, CPU)
    assert not gpu.on(torch.zeros(1), torch.device("cuda"))  # neither has an index: the types differ
    assert gpu.on(types.SimpleNamespace(device=torch.device("cuda", 0)), torch.device("cuda", 0))  # not current


def test_a_single_frame_batch_is_used_whole_by_every_part_and_a_clip_gives_its_part():
    clip, still = torch.rand(4, 2, 2, 3), torch.rand(1, 2, 2, 3)
    assert gpu.moved(None, CPU, slice(2, 4)) is None
    assert torch.equal(gpu.moved(still, CPU, slice(2, 4)), still)
    assert torch.equal(gpu.moved(clip, CPU, slice(2, 4)), clip[2:4])
    two = torch.rand(2, 2, 2, 3)
    assert torch.equal(gpu.moved(two, CPU, slice(1, 2)), two[1:2])
    elsewhere = gpu.moved(clip, torch.device("meta"), slice(0, 3))  # a part not on the device goes there
    assert elsewhere.device.type == "meta" and elsewhere.shape == (3, 2, 2, 3)


def test_one_parts_results_are_returned_as_they_are_and_several_gathered(monkeypatch):
    results = torch.rand(3, 2, 2)
    whole = gpu.by_parts(CPU, 3, 16, lambda part: (results,), CPU)[0]
    assert whole is results  # no copy when one part is the block
    monkeypatch.setattr(gpu, "free_bytes", lambda device: 32)
    gathered = gpu.by_parts(CPU, 3, 16, lambda part: (results[part],), CPU)[0]
    assert gathered is not results and torch.equal(gathered, results)


def test_a_device_homes_output_batch_is_made_there_shaped_as_each_part():
    like = torch.zeros(2, 5, 7, 3, dtype=torch.float16)
    batch = gpu._batch(torch.device("meta"), 6, like)
    assert batch.device.type == "meta" and batch.shape == (6, 5, 7, 3) and batch.dtype == torch.float16
