"""The Fun Camera family with fake ComfyUI objects: the shot's move becomes the camera path, a start frame is
encoded as WanCameraImageToVideo encodes it, and the report shows the path."""

from types import SimpleNamespace

import pytest
import torch
from test_binding_bind import FRAMES, LATENT_T, SHOT, H, W, bind, encoded, flat

from worldkit.models.motion.camera_path import camera_embedding, camera_path, move_speed
from worldkit.models.shots.binding import BindingError, BindOptions


def camera_bind(shot, **kwargs):
    return bind(kind="camera", shot=shot, **kwargs)


def test_the_shots_move_becomes_the_camera_conditions_on_both_sides():
    shot = SHOT.replace(camera_move="orbit", fps=24)
    bound = camera_bind(shot)
    expected = camera_embedding(camera_path("orbit", FRAMES, move_speed(FRAMES, 24)), W, H)
    assert bound.family == "camera"
    for side in (bound.positive, bound.negative):
        assert torch.equal(side[0][1]["camera_conditions"], expected)
    assert bound.latent["samples"].shape == (1, 16, LATENT_T, H // 8, W // 8) and bound.trim_latent_frames == 0
    assert "orbits around the subject" in bound.prompt  # the words stay


def test_a_start_frame_is_encoded_over_processed_zeros_and_masked():
    start = flat(0.25)
    bound = camera_bind(SHOT.replace(camera_move="pan left"), start_image=start)
    options = bound.positive[0][1]
    concat = options["concat_latent_image"]
    assert torch.equal(concat[:, :, :1], encoded(0.25))
    assert torch.equal(concat[:, :, 1:], torch.full_like(concat[:, :, 1:], 1.0))  # process_out of zeros
    mask = options["concat_mask"]
    assert mask.shape == (1, 4, LATENT_T, H // 8, W // 8)
    assert mask[:, :, 0].max() == 0 and mask[:, :, 1:].min() == 1  # one start frame + 3 hold the first latent


def test_clip_vision_sees_the_start_frame():
    vision = SimpleNamespace(encode_image=lambda image, crop: SimpleNamespace(penultimate_hidden_states=image.mean()))
    bound = camera_bind(SHOT, start_image=flat(0.5), clip_vision=vision)
    assert float(bound.negative[0][1]["clip_vision_output"].penultimate_hidden_states) == pytest.approx(0.5)


def test_without_a_start_frame_only_the_path_is_bound():
    bound = camera_bind(SHOT.replace(entities=(), camera_move="dolly in"))  # nothing to compose a start frame from
    assert set(bound.positive[0][1]) == {"pooled_output", "camera_conditions"}
    assert bound.start_frame is None


def test_the_report_shows_the_path_used():
    report = camera_bind(SHOT.replace(camera_move="crane up")).report()
    assert report["camera"]["native_preset"] == "Pan Up"
    assert report["camera"]["path"][-1]["position"][1] < 0  # up is -y
    assert report["camera"]["speed"] == pytest.approx(FRAMES / (16 * 5))


def test_a_long_shots_later_segment_continues_the_move_where_the_segment_before_left_it():
    """A zoom over 17 frames, its segment from shot frame 8 (5 frames continued, new ones from 13): the segment's
    rays are those of the whole shot's path from frame 8, its focal length where the first segment left it."""
    shot = SHOT.replace(camera_move="zoom in")
    later = camera_bind(shot, start_image=flat(0.4, views=5), options=BindOptions(length=FRAMES, video_frame_offset=13))
    whole = camera_path("zoom in", 17, move_speed(17, 16))
    expected = camera_embedding(whole.from_frame(8), W, H)
    assert torch.equal(later.positive[0][1]["camera_conditions"], expected)
    restarted = camera_embedding(camera_path("zoom in", FRAMES, move_speed(FRAMES, 16)), W, H)
    assert not torch.equal(expected, restarted)
    assert later.report()["camera"]["from_frame"] == 8 and later.report()["camera"]["frames"] == FRAMES


def test_a_location_cannot_be_a_reference_for_a_camera_model():
    with pytest.raises(BindingError, match="cannot take the location 'forest' as a reference"):
        camera_bind(SHOT, options=BindOptions(location_as="reference"))
