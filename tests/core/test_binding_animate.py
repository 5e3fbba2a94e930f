"""The Wan Animate family with fake ComfyUI objects: the character's view leads the latent, the driving clip's pose
and face condition it, a live plate and mask make a replacement, and clips that cannot drive the shot are named.

Tensor equality with WanAnimateToVideo (both modes, and a chunk continuing a clip) is proven in
tests/host/test_binding_performers.py."""

import pytest
import torch
from test_binding_bind import FRAMES, LATENT_T, SHOT, H, W, bind, encoded, encoded_video, flat

from worldkit.models.shots.binding import BindingError, BindOptions
from worldkit.models.shots.binding.animate import cover
from worldkit.models.shots.binding.performance import Performance, PerformanceError
from worldkit.models.shots.shot import ShotEntity

ONE_SUBJECT = SHOT.replace(entities=(ShotEntity("skunk"), ShotEntity("forest", "location")))


def ramp(frames=FRAMES, size=(H, W)):
    """A clip whose frame i is flat at i / 100, so every frame is traceable."""
    return torch.arange(frames, dtype=torch.float32).view(frames, 1, 1, 1).expand(frames, *size, 3) / 100


def animate(performance, shot=ONE_SUBJECT, **kwargs):
    return bind(kind="animate", shot=shot, performance=performance, **kwargs)


def test_animation_leads_with_the_character_and_conditions_on_pose_and_face():
    bound = animate(Performance(pose_video=ramp(), face_video=ramp(size=(20, 20))))
    assert bound.family == "animate" and bound.reference_names == ("skunk",) and bound.trim_latent_frames == 1
    options = bound.positive[0][1]
    assert torch.equal(options["pose_video_latent"], encoded_video(ramp()))
    assert options["face_video_pixels"].shape == (1, 3, FRAMES, 512, 512)
    assert torch.equal(bound.negative[0][1]["face_video_pixels"], torch.full_like(options["face_video_pixels"], -1))
    concat = options["concat_latent_image"]
    assert torch.equal(concat[:, :, :1], encoded(0.1))  # the skunk's view
    assert torch.equal(concat[:, :, 1:], encoded_video(torch.full((FRAMES, H, W, 3), 0.5)))  # grey: all generated
    mask = options["concat_mask"]
    assert mask.shape == (1, 4, 1 + LATENT_T, H // 8, W // 8) and mask[:, :, 0].max() == 0 and mask[:, :, 1:].min() == 1
    assert bound.latent["samples"].shape == (1, 16, 1 + LATENT_T, H // 8, W // 8)
    assert bound.report()["animate"]["mode"] == "animation"


def test_replacement_puts_the_plate_in_the_clip_and_generates_only_where_the_mask_is():
    plate = torch.full((FRAMES, H, W, 3), 0.8)
    where = torch.zeros(FRAMES, H, W)
    where[:, :, : W // 2] = 1.0
    bound = animate(Performance(pose_video=ramp(), background_video=plate, character_mask=where))
    options = bound.positive[0][1]
    assert torch.equal(options["concat_latent_image"][:, :, 1:], encoded_video(plate))
    frames = options["concat_mask"][:, :, 1:].transpose(1, 2).reshape(1, 4 * LATENT_T, H // 8, W // 8)
    assert frames[:, :, :, : W // 16].min() == 1 and frames[:, :FRAMES, :, W // 16 :].max() == 0
    assert frames[:, FRAMES:].min() == 1  # past the clip's last frame the latent's spare frames are generated
    assert bound.report()["animate"]["mode"] == "replacement"


def test_a_later_chunk_reads_the_clips_from_its_offset_and_continues_the_frames_before_it():
    start = flat(0.3, views=5)
    options = BindOptions(video_frame_offset=13)  # 5 frames continued: the clip starts at frame 8
    bound = animate(Performance(pose_video=ramp(frames=30)), start_image=start, options=options)
    assert torch.equal(bound.positive[0][1]["pose_video_latent"], encoded_video(ramp(frames=30)[8 : 8 + FRAMES]))
    concat, mask = bound.positive[0][1]["concat_latent_image"], bound.positive[0][1]["concat_mask"]
    assert torch.equal(concat[:, :, 1:3], encoded_video(torch.cat([start, torch.full((4, H, W, 3), 0.5)]))[:, :, :2])
    assert mask[:, :, 1:3].max() == 0 and mask[:, :, 3:].min() == 1  # 5 frames hold two latent frames
    report = bound.report()["animate"]
    assert report["clip_start"] == 8 and report["trim_image"] == 5 and report["video_frame_offset"] == 8 + FRAMES


def test_clips_that_cannot_drive_the_shot_are_named_with_the_fix():
    with pytest.raises(BindingError, match="needs a driving clip: connect a Shot Performance with pose_video"):
        animate(None)
    with pytest.raises(PerformanceError, match=r"pose_video has 5 frames but the shot needs 9 \(frames 0 to 8\)"):
        animate(Performance(pose_video=ramp(frames=5)))
    with pytest.raises(PerformanceError, match=r"pose_video has 9 frames but the shot needs 13 \(frames 4 to 12\)"):
        animate(Performance(pose_video=ramp()), options=BindOptions(video_frame_offset=4))
    with pytest.raises(PerformanceError, match="face_video is 40x20 but must have square face crops"):
        animate(Performance(pose_video=ramp(), face_video=ramp(size=(20, 40))))
    with pytest.raises(PerformanceError, match="background_video is 48x48 but must have the shot's 64x48 aspect"):
        animate(
            Performance(pose_video=ramp(), background_video=ramp(size=(48, 48)), character_mask=torch.ones(1, H, W))
        )
    with pytest.raises(PerformanceError, match="character_mask has 4 frames"):
        animate(Performance(pose_video=ramp(), background_video=ramp(), character_mask=torch.ones(4, H, W)))


def test_animate_drives_exactly_one_character():
    with pytest.raises(BindingError, match=r"2 subjects \(skunk, owl\); give it exactly one subject"):
        animate(Performance(pose_video=ramp()), shot=SHOT)
    with pytest.raises(BindingError, match="audio would be ignored: the shot binds as animate"):
        animate(Performance(pose_video=ramp(), audio={"encoded_audio_all_layers": [], "audio_samples": 0}))


def test_cover_crops_the_centre_as_comfyuis_common_upscale():
    frames = torch.arange(4 * 6, dtype=torch.float32).view(1, 4, 6, 1)
    # a 6x4 ramp loses a column each side; nearest-exact samples rows 1, 3 and (cropped) columns 1, 3
    assert cover(frames, 2, 2, "nearest-exact")[0, :, :, 0].tolist() == [[8.0, 10.0], [20.0, 22.0]]
