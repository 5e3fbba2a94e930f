"""The HuMo family with fake ComfyUI objects: reference views become the frames of HuMo's one reference latent,
a voice becomes its audio windows, and performance parts no family reads are refused.

Tensor equality with WanHuMoImageToVideo (audio included) is proven in tests/host/test_binding_performers.py."""

import pytest
import torch
from test_binding_bind import FRAMES, LATENT_T, SHOT, H, W, bind, encoded, flat

from worldkit.models.shots.binding import BindingError, BindInputs, BindOptions
from worldkit.models.shots.binding.humo import audio_frames, audio_windows
from worldkit.models.shots.binding.performance import WAV2VEC2, WHISPER, AudioEncoder, Performance, PerformanceError

VOICED = SHOT.replace(fps=25)  # HuMo hears a voice at 25 frames a second


def voice(frames=40, encoder=WHISPER):
    """An audio encoder output: 33 Whisper layers (or ``encoder``'s) at 50 per second; layer k is filled with k + the
    frame's time."""
    time = torch.arange(frames, dtype=torch.float32).view(1, frames, 1) / 50
    layers = [(k + time).expand(1, frames, encoder.width).clone() for k in range(encoder.layers)]
    return {"encoded_audio_all_layers": layers, "audio_samples": frames * 320}


def test_every_bound_view_is_a_frame_of_the_one_reference_latent_in_role_order():
    bound = bind(kind="humo")
    assert bound.family == "humo" and bound.reference_names == ("skunk", "owl", "toy")
    (reference,) = bound.positive[0][1]["reference_latents"]
    assert torch.equal(reference, torch.cat([encoded(0.1), encoded(0.3), encoded(0.5)], dim=2))
    assert torch.equal(bound.negative[0][1]["reference_latents"][0], torch.zeros_like(reference))
    assert bound.trim_latent_frames == 0  # HuMo drops its reference tokens itself
    assert bound.latent["samples"].shape == (1, 16, LATENT_T, H // 8, W // 8) and "noise_mask" not in bound.latent
    # without a voice, silence spans the clip's latent frames (the model pads it for the reference frames)
    assert bound.positive[0][1]["audio_embed"].shape == (1, LATENT_T, 8, 5, 1280)


def test_without_references_or_voice_humo_gets_a_zero_reference_and_silence():
    bound = bind(kind="humo", shot=SHOT.replace(entities=()))
    options = bound.positive[0][1]
    assert options["reference_latents"][0].shape == (1, 16, 1, H // 8, W // 8)
    assert not options["reference_latents"][0].any()
    assert options["audio_embed"].shape == (1, LATENT_T, 8, 5, 1280) and not options["audio_embed"].any()
    assert bound.report()["audio"] == "silent"


def test_a_voice_becomes_audio_windows_on_the_positive_and_silence_on_the_negative():
    bound = bind(kind="humo", shot=VOICED, performance=Performance(audio=voice()))
    positive, negative = bound.positive[0][1]["audio_embed"], bound.negative[0][1]["audio_embed"]
    assert positive.shape == (1, LATENT_T, 8, 5, 1280) and torch.equal(negative, torch.zeros_like(positive))
    assert bound.report()["audio"] == "voice" and bound.report()["voice_frames"] == 20
    frames = audio_frames(voice())
    assert frames.shape == (20, 5, 1280)  # 40 Whisper frames at 50/s are 20 video frames at 25/s
    assert frames[0, :, 0].tolist() == pytest.approx([3.5, 11.5, 19.5, 27.5, 32.0])  # bands of layers 0-7, ..., 32
    first = positive[0, 0, :, 0, 0]
    assert first[:5].tolist() == [0.0] * 5  # 3 leading zeros, then frames -2 and -1 are silence
    assert first[5:].tolist() == pytest.approx(frames[0:3, 0, 0].tolist())
    # latent frame 1 holds frames 1-4 and reaches 2 past each side: audio frames -1 (silence) to 6
    assert not positive[0, 1, 0].any() and torch.equal(positive[0, 1, 1:], frames[0:7])
    assert torch.equal(audio_windows(frames, FRAMES), positive)


def test_a_long_shots_later_segment_hears_the_voice_from_its_own_first_frame():
    """A segment starting at shot frame 8 (5 frames continued, new ones from 13): its latent frames after the first
    cover the shot's frames 9-16, so their windows are the whole shot's latent frames 3 and 4."""
    performance = Performance(audio=voice(frames=80))
    whole = bind(kind="humo", shot=VOICED, performance=performance, options=BindOptions(length=17))
    later = bind(
        kind="humo",
        shot=VOICED,
        performance=performance,
        start_image=flat(0.4, views=5),
        options=BindOptions(length=FRAMES, video_frame_offset=13),
    )
    shot_windows, segment_windows = (bound.positive[0][1]["audio_embed"] for bound in (whole, later))
    assert torch.equal(segment_windows[:, 1:], shot_windows[:, 3:5])
    assert later.report()["audio_from_frame"] == 8 and whole.report()["audio_from_frame"] == 0


def test_a_start_frame_is_held_by_the_noise_mask():
    bound = bind(kind="humo", start_image=flat(0.4))
    assert bound.latent["noise_mask"][:, :, 0].max() == 0 and bound.latent["noise_mask"][:, :, 1:].min() == 1
    assert torch.equal(bound.latent["samples"][:, :, :1], encoded(0.4))


def test_a_performance_part_the_family_does_not_read_is_refused():
    with pytest.raises(
        BindingError,
        match=r"audio would be ignored: the shot binds as vace.*load a model of a family that does \(humo, s2v\)",
    ):
        bind(kind="vace", performance=Performance(audio=voice()))
    with pytest.raises(BindingError, match="pose_video would be ignored: the shot binds as humo"):
        bind(kind="humo", performance=Performance(pose_video=flat(0.5, views=FRAMES)))


def test_a_performance_that_cannot_drive_a_shot_names_the_input():
    with pytest.raises(PerformanceError, match="background_video is connected without character_mask"):
        Performance(background_video=flat(0.5, views=FRAMES))
    with pytest.raises(PerformanceError, match="audio is not an audio encoder output"):
        Performance(audio={"waveform": torch.zeros(1, 1, 10)})
    with pytest.raises(PerformanceError, match="character_mask has shape"):
        Performance(background_video=flat(0.5, views=FRAMES), character_mask=torch.ones(FRAMES, H, W, 1))
    assert BindInputs().performance is None


def test_a_voice_of_another_audio_encoder_is_refused_naming_the_whisper_file_humo_needs():
    """wav2vec2's 25 hidden states (S2V's voice) would leave HuMo's last band, Whisper's layer 32, out of range."""
    with pytest.raises(
        PerformanceError,
        match=r"audio is a wav2vec2 large encoder's output \(25 layers of 1024 features\), but the shot binds as "
        r"humo, which listens through Whisper large v3 \(33 layers of 1280\); load whisper_large_v3_fp16\.safetensors "
        r"with Load Audio Encoder .* Shot Performance's audio",
    ):
        bind(kind="humo", shot=VOICED, performance=Performance(audio=voice(encoder=WAV2VEC2)))
    base = AudioEncoder("wav2vec2 base", 13, 768, "")
    with pytest.raises(PerformanceError, match=r"audio is an audio encoder output \(13 layers of 768 features\)"):
        bind(kind="humo", shot=VOICED, performance=Performance(audio=voice(encoder=base)))


@pytest.mark.parametrize("fps", [16, 24, 30])
def test_a_voiced_shot_at_another_rate_than_humos_25_fps_is_refused_naming_the_fps_to_set(fps):
    """Audio window i is video frame i at 25 fps: at 16 fps the 9 frames would play 0.56 s of voice over 0.5 s."""
    with pytest.raises(
        PerformanceError,
        match=rf"shot is at {fps} fps, but humo hears its voice at 25 frames a second .* set the shot's fps to 25",
    ):
        bind(kind="humo", shot=SHOT.replace(fps=fps), performance=Performance(audio=voice()))
    assert bind(kind="humo", shot=SHOT.replace(fps=fps)).report()["audio"] == "silent"  # without a voice, any rate


def test_a_voice_shorter_than_a_frame_is_refused_naming_the_audio():
    for frames, samples in ((1, 320), (0, 0), (40, 600)):  # a hidden state, none, and 600 of 640 samples a frame
        audio = {**voice(frames=frames), "audio_samples": samples}
        with pytest.raises(PerformanceError, match=rf"audio lasts {samples / 16:g} ms .*shorter than one frame at 25"):
            bind(kind="humo", shot=VOICED, performance=Performance(audio=audio))


def test_a_voice_shorter_than_the_shot_leaves_the_frames_after_it_silent_and_says_how_long_it_lasts():
    """10 Whisper frames are 5 video frames: latent frame 1 (frames 1-4, reaching to 6) hears frames 0-4 of them,
    latent frame 2 (frames 5-8, from 3) hears frames 3 and 4, and a segment from frame 7 on hears nothing."""
    performance = Performance(audio=voice(frames=10))
    bound = bind(kind="humo", shot=VOICED, performance=performance)
    windows, frames = bound.positive[0][1]["audio_embed"][0], audio_frames(voice(frames=10))
    assert bound.report()["voice_frames"] == 5 and bound.report()["audio"] == "voice"
    assert torch.equal(windows[1, 1:6], frames) and not windows[1, 6:].any()
    assert torch.equal(windows[2, :2], frames[3:]) and not windows[2, 2:].any()
    for offset, heard in ((7, "voice"), (8, "past the voice")):  # the first window reaches 2 frames back, to 4
        later = bind(
            kind="humo",
            shot=VOICED,
            performance=performance,
            start_image=flat(0.4),
            options=BindOptions(video_frame_offset=offset),
        )
        assert later.report()["audio"] == heard
        assert later.positive[0][1]["audio_embed"].any() == (heard == "voice")
