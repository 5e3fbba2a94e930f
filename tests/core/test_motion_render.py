"""Preview frames and the subject footprint mask."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from worldkit.models.motion.path import Keypoint, Path
from worldkit.models.motion.render import draw_preview, subject_footprint
from worldkit.models.motion.tracks import CameraMove, TrackSpec, build_trackset

W, H = 128, 96


def straight(subject: str = "point", points: int = 1) -> TrackSpec:
    return TrackSpec(
        Path((Keypoint(20, 40, 0), Keypoint(100, 40, 8)), "linear", "skunk"), subject, points, color="#ff0000"
    )


def test_preview_has_one_frame_per_track_frame_with_the_point_drawn_in_its_colour():
    tracks = build_trackset([straight()], W, H, 9)
    background = torch.zeros(H, W, 3)
    preview = draw_preview(tracks, background)
    assert preview.shape == (9, H, W, 3)
    assert torch.allclose(preview[0, 40, 20], torch.tensor([1.0, 0.0, 0.0]))
    assert torch.allclose(preview[8, 40, 100], torch.tensor([1.0, 0.0, 0.0]))
    assert preview[0, 40, 100].sum() == 0
    assert preview[8, 40, 60, 0] > 0.5, "the trail behind the point is drawn"
    assert preview[0, 5, 5].sum() == 0, "the background shows where nothing is drawn"


def test_preview_rejects_a_background_of_another_size():
    with pytest.raises(ValueError, match="background"):
        draw_preview(build_trackset([straight()], W, H, 9), torch.zeros(10, 10, 3))


def test_footprint_of_a_mask_subject_is_the_mask_carried_along_the_path():
    mask = torch.zeros(H, W)
    mask[30:50, 10:30] = 1
    tracks = build_trackset([straight("mask", 8)], W, H, 9, subject_mask=mask)
    footprint = subject_footprint(tracks, mask)
    assert footprint.shape == (9, H, W)
    assert torch.allclose(footprint[0], mask, atol=1e-4)
    assert torch.allclose(footprint[8], torch.roll(mask, 80, dims=1), atol=1e-4)


def test_footprint_of_point_subjects_covers_a_disc_and_ignores_the_camera_grid():
    tracks = build_trackset([straight()], W, H, 9, camera=CameraMove("pan", 0.2, "linear", 8))
    footprint = subject_footprint(tracks, radius=0.05)
    assert footprint[0, 40, 20] == 1 and footprint[0, 40, 100] == 0
    assert footprint[8, 40, 100] == 1
    radius = round(0.05 * (W + H) / 2)
    assert footprint[0].sum().item() == pytest.approx(np.pi * radius**2, rel=0.2)
