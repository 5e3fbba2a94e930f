"""Camera paths for Wan Fun Camera: each shot move's geometry, its pace, and the packed embedding.

Equality with ComfyUI's WanCameraEmbedding for the moves it has presets for is proven in the host tier
(tests/host/test_binding_performers.py); here the moves it lacks are checked against the camera model itself.
"""

import math

import numpy as np
import pytest
import torch

from worldkit.models.motion.camera_path import (
    NATIVE_PRESETS,
    SHOT_MOTIONS,
    CameraPathError,
    camera_embedding,
    camera_path,
    move_speed,
)
from worldkit.models.shots.shot import CAMERA_MOVES


def forward(path, frame):
    return path.poses[frame, :3, 2]


def test_every_shot_move_has_a_path_and_the_preset_moves_name_their_native_pose():
    assert set(SHOT_MOTIONS) == set(CAMERA_MOVES)
    presets = {move: motion.preset for move, motion in SHOT_MOTIONS.items() if motion.preset}
    assert presets == {
        "static": "Static",
        "truck left": "Pan Left",
        "truck right": "Pan Right",
        "crane up": "Pan Up",
        "crane down": "Pan Down",
        "dolly in": "Zoom In",
        "dolly out": "Zoom Out",
    }
    assert all(NATIVE_PRESETS[name] == SHOT_MOTIONS[move] for move, name in presets.items())


def test_a_move_keeps_its_pace_whatever_the_clip_length():
    """Frame i is i / fps seconds into the move, so a 10 s shot travels twice as far as a 5 s one."""
    short, long = (camera_path("dolly in", n, move_speed(n, 16)) for n in (81, 161))
    assert np.allclose(short.poses, long.poses[:81])
    assert short.poses[80, 2, 3] == pytest.approx(2 * 1.5)  # one preset's travel (2 x base 1.5) after 5 s
    assert long.poses[160, 2, 3] == pytest.approx(2 * short.poses[80, 2, 3])


@pytest.mark.parametrize(
    ("move", "axis", "sign"), [("pan right", 0, 1), ("pan left", 0, -1), ("tilt up", 1, -1), ("tilt down", 1, 1)]
)
def test_pans_and_tilts_turn_the_camera_without_moving_it(move, axis, sign):
    path = camera_path(move, 17, 1.0)
    assert np.allclose(path.poses[:, :3, 3], 0.0)
    turned = forward(path, 16)
    assert sign * turned[axis] > 0.1  # x right, y down: a tilt up looks towards -y
    assert math.degrees(math.acos(turned[2])) == pytest.approx(30 * 16 / 17)


def test_an_orbit_circles_a_point_and_keeps_it_on_the_optical_axis():
    path = camera_path("orbit", 21, 1.0)
    pivot = np.array([0.0, 0.0, 3.0])
    for pose in path.poses:
        seen = pose[:3, :3].T @ (pivot - pose[:3, 3])
        assert np.allclose(seen[:2], 0.0, atol=1e-12) and seen[2] == pytest.approx(3.0)
    assert path.poses[-1, 0, 3] > 1.0  # it travels right around the subject


def test_a_zoom_changes_the_focal_length_and_a_dolly_moves_the_camera():
    zoom, dolly = camera_path("zoom in", 9, 1.0), camera_path("dolly in", 9, 1.0)
    assert np.allclose(zoom.poses, np.eye(4)) and zoom.intrinsics[-1, 0] == pytest.approx(0.5 * 2 ** (8 / 9))
    assert np.allclose(dolly.intrinsics, 0.5) and dolly.poses[-1, 2, 3] > 0
    assert camera_path("zoom out", 9, 1.0).intrinsics[-1, 1] < 0.5
    rays = camera_embedding(zoom, 32, 32)
    assert torch.all(rays[:, :12] == 0)  # the camera stays put: no moment o x d (channels 0-11, four frames each)
    assert not torch.allclose(rays[:, 12:, 0], rays[:, 12:, -1])  # the rays' directions narrow


def test_handheld_shakes_a_little_and_is_the_same_every_time():
    first, again = camera_path("handheld", 33, 1.0), camera_path("handheld", 33, 1.0)
    assert np.array_equal(first.poses, again.poses)
    angles = [math.degrees(math.acos(min(1.0, forward(first, i)[2]))) for i in range(33)]
    assert 0.0 < max(angles) < 2.0


def test_the_embedding_packs_four_frames_per_latent_frame():
    rays = camera_embedding(camera_path("truck right", 9, 1.0), 48, 32)
    assert rays.shape == (1, 24, 3, 32, 48)
    # channel 4c + k is Plücker coordinate c of frame k of the latent frame; the first frame fills its latent frame
    assert torch.equal(rays[:, 0::4, 0], rays[:, 3::4, 0])
    assert not torch.equal(rays[:, 0::4, 1], rays[:, 3::4, 1])


def test_the_report_shows_the_path_at_its_ends():
    report = camera_path("orbit", 81, move_speed(81, 16)).report()
    assert report["move"] == "orbit" and report["native_preset"] is None and report["frames"] == 81
    assert [entry["frame"] for entry in report["path"]] == [0, 20, 40, 60, 80]
    assert report["path"][0]["position"] == [0.0, 0.0, 0.0]
    assert report["path"][-1]["pan_tilt_roll_deg"][0] == pytest.approx(-30.0)


def test_bad_moves_and_speeds_are_named():
    with pytest.raises(CameraPathError, match="'spin' has no camera path; use one of static"):
        camera_path("spin", 9, 1.0)
    with pytest.raises(CameraPathError, match="speed nan"):
        camera_path("orbit", 9, float("nan"))
