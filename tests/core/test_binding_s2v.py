"""The Wan S2V family with fake ComfyUI objects: the character's view is the reference, a wav2vec2 voice its audio
buckets from the clip's frame offset, a pose video its control video, and the shot's latent so far its motion.

Tensor equality with WanSoundImageToVideo and WanSoundImageToVideoExtend is proven in
tests/host/test_binding_performers.py."""

import pytest
import torch
from test_binding_animate import ONE_SUBJECT, ramp
from test_binding_bind import FRAMES, LATENT_T, SHOT, H, W, bind, encoded, encoded_video, flat
from test_binding_humo import voice as whisper_voice

from worldkit.models.shots.binding import BindingError, BindOptions
from worldkit.models.shots.binding.animate import cover
from worldkit.models.shots.binding.performance import Performance, PerformanceError
from worldkit.models.shots.binding.s2v import MOTION_FRAMES, audio_buckets, sample_indices
from worldkit.models.shots.shot import ShotEntity

CLIP_FRAMES = LATENT_T * 4  # the voice frames one clip of FRAMES frames hears


def voice(frames=50):
    """wav2vec2's 25 layers at 50 per second; layer k at frame t is k + t / 1000 (traceable through resampling)."""
    time = torch.arange(frames, dtype=torch.float32).view(1, frames, 1) / 1000
    layers = [(k + time).expand(1, frames, 1024).clone() for k in range(25)]
    return {"encoded_audio_all_layers": layers, "audio_samples": frames * 320}


def s2v(performance=None, shot=ONE_SUBJECT, **kwargs):
    performance = Performance(audio=voice()) if performance is None else performance
    return bind(kind="s2v", shot=shot, performance=performance, **kwargs)


def heard(frame: int, input_frames: int = 50) -> float:
    """Layer 0's value at clip frame ``frame`` (16/s): the 30/s resampled frame it takes, in input frames / 1000."""
    resampled = input_frames * 30 // 50
    index = round(frame / 16 * 30)
    return 0.0 if index >= resampled else index * (input_frames - 1) / (resampled - 1) / 1000


def test_the_character_is_the_reference_and_the_voice_its_audio_from_the_first_frame():
    bound = s2v()
    assert bound.family == "s2v" and bound.reference_names == ("skunk",) and bound.trim_latent_frames == 0
    options, negative = bound.positive[0][1], bound.negative[0][1]
    (reference,) = options["reference_latents"]
    assert torch.equal(reference, encoded(0.1)) and torch.equal(negative["reference_latents"][0], reference)
    audio = options["audio_embed"]
    assert audio.shape == (1, 25, 1024, CLIP_FRAMES) and not negative["audio_embed"].any()
    assert audio[0, :, 0, 0].tolist() == pytest.approx(list(range(25)))
    assert audio[0, 0, 0].tolist() == pytest.approx([heard(i) for i in range(CLIP_FRAMES)], abs=1e-6)
    # no pose: the control video is the latent space's zero (process_out of zeros), no motion
    assert torch.equal(options["control_video"], torch.ones(1, 16, LATENT_T, H // 8, W // 8))
    assert "reference_motion" not in options
    assert bound.latent["samples"].shape == (1, 16, LATENT_T, H // 8, W // 8) and not bound.latent["samples"].any()
    report = bound.report()["s2v"]
    assert report == {
        "character": "skunk",
        "audio_frame_offset": 0,
        "audio": "voice",
        "voice_frames": 16,  # 50 wav2vec2 frames are a second: 16 frames
        "motion": None,
        "pose_video": False,
        "overlap_latent_frames": 0,
    }


def test_buckets_cover_the_voice_in_whole_clips_and_fall_silent_after_it():
    buckets, voice_frames = audio_buckets(torch.arange(30, dtype=torch.float32).view(1, 30, 1), CLIP_FRAMES)
    assert buckets.shape == (1, 1, 1, 2 * CLIP_FRAMES)  # 30 frames at 30/s are 16 frames: two clips of 12
    assert voice_frames == 16 and buckets[0, 0, 0, 15] > 0 and not buckets[..., 16:].any()
    assert buckets[0, 0, 0].tolist() == [float(i) if i < 30 else 0.0 for i in sample_indices(45, 24)]
    assert sample_indices(45, 24)[:6].tolist() == [0, 2, 4, 6, 8, 9]  # round(i * 30 / 16), halves to even


def test_the_latent_so_far_is_the_motion_and_moves_the_clip_along_the_voice():
    so_far = torch.arange(25, dtype=torch.float32).view(1, 1, 25, 1, 1).expand(1, 16, 25, H // 8, W // 8)
    bound = s2v(video_latent=so_far[:, :, :2])
    options = bound.positive[0][1]
    assert torch.equal(options["reference_motion"], so_far[:, :, :2])
    assert bound.report()["s2v"]["audio_frame_offset"] == 8 and bound.report()["s2v"]["motion"] == "video_latent"
    # frames 8 to 19: one second of voice is 16 frames, so the last four are silence
    assert options["audio_embed"][0, 0, 0].tolist() == pytest.approx([heard(i) for i in range(8, 20)], abs=1e-6)
    assert not options["audio_embed"][..., 8:].any()
    long = s2v(video_latent=so_far)
    assert torch.equal(long.positive[0][1]["reference_motion"], so_far[:, :, -19:])
    assert "audio_embed" not in long.positive[0][1] and long.report()["s2v"]["audio"] == "past the voice"


def test_a_long_shots_overlap_is_the_latent_so_far_decoded_again_and_the_rest_is_sampled():
    """World Shot Sampler's segment of 13 frames sharing 5 with the one before: 2 latent frames so far lead it, 2 are
    sampled (the native node's length 5), hearing the voice from frame 16."""
    so_far = torch.arange(4, dtype=torch.float32).view(1, 1, 4, 1, 1).expand(1, 16, 4, H // 8, W // 8)
    bound = s2v(video_latent=so_far, start_image=flat(0.4, views=5), options=BindOptions(length=13))
    assert torch.equal(bound.lead_latent, so_far[:, :, 2:]) and bound.latent["samples"].shape[2] == 2
    options = bound.positive[0][1]
    assert torch.equal(options["reference_motion"], so_far) and options["control_video"].shape[2] == 2
    assert options["audio_embed"][0, 0, 0].tolist() == pytest.approx([heard(i) for i in range(16, 24)], abs=1e-6)
    assert bound.report()["s2v"]["overlap_latent_frames"] == 2 and bound.report()["s2v"]["motion"] == "video_latent"
    for views in (4, 13):
        with pytest.raises(BindingError, match=f"shares 4k\\+1 frames.*not {views}; set overlap_frames to 5 or 9"):
            s2v(video_latent=so_far, start_image=flat(0.4, views=views), options=BindOptions(length=13))


def test_a_start_image_is_the_first_clips_motion_grey_before_it():
    bound = s2v(start_image=flat(0.4, views=5))
    motion = bound.positive[0][1]["reference_motion"]
    grey = torch.full((MOTION_FRAMES, H, W, 3), 0.5)
    grey[-5:] = 0.4
    assert motion.shape[2] == 19 and torch.equal(motion, encoded_video(grey)[:, :, -19:])
    assert bound.report()["s2v"]["motion"] == "start_image" and bound.report()["s2v"]["audio_frame_offset"] == 0


def test_a_pose_video_is_the_control_video_from_the_clips_offset():
    pose = ramp(frames=30)
    first = s2v(Performance(audio=voice(), pose_video=pose))
    assert torch.equal(first.positive[0][1]["control_video"], encoded_video(cover(pose[:FRAMES], W, H, "bilinear")))
    later = s2v(Performance(audio=voice(), pose_video=pose), video_latent=torch.zeros(1, 16, 2, H // 8, W // 8))
    assert torch.equal(later.negative[0][1]["control_video"], encoded_video(pose[8 : 8 + FRAMES]))
    assert later.report()["s2v"]["pose_video"] is True
    with pytest.raises(PerformanceError, match="pose_video has 9 frames but the shot needs 17"):
        s2v(Performance(audio=voice(), pose_video=pose[:9]), video_latent=torch.zeros(1, 16, 2, H // 8, W // 8))


def test_inputs_s2v_cannot_use_are_refused_naming_the_input_and_the_fix():
    with pytest.raises(BindingError, match=r"needs a voice.*connect a Shot Performance with audio.*wav2vec2_large"):
        bind(kind="s2v", shot=ONE_SUBJECT)
    with pytest.raises(BindingError, match="needs a voice"):
        s2v(Performance(pose_video=ramp()))
    with pytest.raises(
        PerformanceError,
        match=r"audio is a Whisper large v3 encoder's output \(33 layers of 1280 features\), but the shot binds as "
        r"s2v, which listens through wav2vec2 large .*load wav2vec2_large_english_fp16\.safetensors",
    ):
        s2v(Performance(audio=whisper_voice()))
    with pytest.raises(BindingError, match="Wan S2V animates one character, but the shot has 2 subjects"):
        s2v(shot=SHOT)
    with pytest.raises(BindingError, match=r"the shot has 0 subjects \(none\); give it exactly one subject"):
        s2v(shot=SHOT.replace(entities=(ShotEntity("forest", "location"),)))  # no reference image to speak
    with pytest.raises(BindingError, match="video_latent is connected but the shot binds as humo"):
        bind(kind="humo", video_latent=torch.zeros(1, 16, 2, H // 8, W // 8))
    for latent in (torch.zeros(1, 16, 2, H // 16, W // 16), torch.zeros(1, 16, H // 8, W // 8)):
        with pytest.raises(BindingError, match=r"video_latent has shape .*expected the shot's sampled video latent"):
            s2v(video_latent=latent)
    with pytest.raises(BindingError, match="face_video would be ignored: the shot binds as s2v"):
        s2v(Performance(audio=voice(), face_video=ramp()))


@pytest.mark.parametrize("fps", [24, 25])
def test_a_shot_at_another_rate_than_s2vs_16_fps_is_refused_naming_the_fps_to_set(fps):
    """S2V samples its voice at 16 frames a second: at 24 fps its lips would run 1.5 times ahead of the voice."""
    with pytest.raises(
        PerformanceError,
        match=rf"shot is at {fps} fps, but s2v hears its voice at 16 frames a second .* set the shot's fps to 16",
    ):
        s2v(shot=ONE_SUBJECT.replace(fps=fps))


def test_a_voice_shorter_than_a_frame_is_refused_and_a_short_one_says_where_it_ends():
    with pytest.raises(PerformanceError, match=r"audio lasts 20 ms .*1 hidden states.*shorter than one frame at 16"):
        s2v(Performance(audio=voice(frames=1)))
    with pytest.raises(PerformanceError, match=r"audio lasts 50 ms .*shorter than one frame at 16 fps"):
        s2v(Performance(audio={**voice(frames=5), "audio_samples": 800}))
    # a quarter second is 4 frames: the rest of the clip is silence, as WanSoundImageToVideo gives it
    short = s2v(Performance(audio=voice(frames=13)))
    audio = short.positive[0][1]["audio_embed"]
    assert short.report()["s2v"]["voice_frames"] == 4 and short.report()["s2v"]["audio"] == "voice"
    assert audio[..., :4].abs().sum() > 0 and not audio[..., 4:].any()
