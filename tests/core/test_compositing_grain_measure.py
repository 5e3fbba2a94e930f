"""Grain Match on real photographs with grain of known level added (tools/grain_photos.py): the added level is the
plate's within 10 % on busy, smooth, grey and same-scene elements, for white, clumped and luma-only grain, on stills
and on moving plates, with the element's own grain accounted for; and the smallest frames grain can be measured in."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from worldkit.models.compositing.grain import GrainProfile, missing_grain
from worldkit.models.compositing.grain_measure import require_measurable, temporal_residual
from worldkit.tools.grain_photos import (
    GRAINS,
    SETS,
    SIZE,
    added_grain,
    added_level,
    channel_correlation,
    element,
    grain,
    grainy_plate,
    own_grain_element,
)

DEVELOPMENT, JUDGED = SETS
TOLERANCE = 0.10


def assert_plate_level(ratios: np.ndarray, case: str) -> None:
    assert np.all(np.abs(ratios - 1.0) <= TOLERANCE), f"{case}: added {np.round(ratios, 2)} of the plate's grain"


@pytest.mark.parametrize("kind", GRAINS)
def test_a_still_plates_grain_is_added_in_full_to_every_kind_of_element(kind):
    """The judged photographs (none chose the estimator): a plate whose flattest areas hold some texture of its
    own (read as grain by a mean over the flat blocks, up to 1.38 times the true level)."""
    name = JUDGED.plates[0]
    plate = grainy_plate(name, kind)
    for case in ("busy", "smooth", "grey", "same-scene"):
        assert_plate_level(added_level(element(case, JUDGED, name), plate), f"{kind} grain, {case} element")


@pytest.mark.parametrize("kind", GRAINS)
def test_a_moving_plate_reads_as_its_still_and_a_moving_textured_element_gets_it_all(kind):
    """A panning plate (fresh grain on each frame) over a busy element, and a still plate over an element busy at
    grain scale everywhere that pans: its temporal residual shows it has no grain, which one frame cannot."""
    name = JUDGED.plates[0]
    moving = grainy_plate(name, kind, frames=4)
    assert_plate_level(added_level(element("busy", JUDGED, name, frames=4), moving), f"{kind}, moving plate")
    textured = element("texture", JUDGED, name, frames=4)
    assert_plate_level(added_level(textured, grainy_plate(name, kind)), f"{kind}, moving textured element")


@pytest.mark.parametrize("photos", SETS, ids=[photos.name for photos in SETS])
@pytest.mark.parametrize("kind", GRAINS)
def test_an_element_with_grain_of_its_own_gets_only_what_it_lacks(kind, photos):
    """Half the plate's level already on the busy element: the added grain brings its total to the plate's. The
    judged set's busy element holds fine texture in its flattest blocks, read as coarse grain of its own."""
    frames, expected = own_grain_element(kind, photos)
    added = added_grain(frames, grainy_plate(photos.plates[-1], kind))
    assert_plate_level(added.std(axis=0) / expected, f"{kind} grain, {photos.name} element with its own")
    truth = channel_correlation(grain(kind, *SIZE, seed=3))
    assert abs(channel_correlation(added) - truth) <= 0.1, (channel_correlation(added), truth)


def test_an_elements_coarse_band_excess_does_not_fill_its_fine_bands_shortfall():
    """Bands are independent fields: an element with fine grain and texture read as coarse grain still lacks the
    plate's fine grain (texture barely reads at full size, where the element may not end up grainier than the
    plate), while an element grainier in every band gets nothing."""
    fine = np.array([0.02, 0.025, 0.035])
    plate = GrainProfile(np.stack([np.diag(fine) ** 2, np.diag([0.006, 0.005, 0.006]) ** 2]))
    element = GrainProfile(np.stack([np.diag(fine / 2) ** 2, np.diag([0.014, 0.014, 0.015]) ** 2]))
    missing = missing_grain(plate, element).sigma
    assert np.allclose(missing[0], np.sqrt(0.75) * fine, rtol=0.05), missing[0] / (np.sqrt(0.75) * fine)
    assert np.allclose(missing[1], 0.0, atol=1e-9), missing
    grainier = GrainProfile(np.stack([np.diag(fine * 2) ** 2, np.diag([0.003, 0.003, 0.003]) ** 2]))
    assert np.allclose(missing_grain(plate, grainier).covariance, 0.0, atol=1e-12)


@pytest.mark.parametrize("width, height", [(31, 32), (32, 31)])
def test_frames_too_small_for_the_half_size_band_are_refused_naming_the_input(width, height):
    """Four 8 px blocks at half size need 32 px on each side: 32x32 is measured, one pixel less on either side is
    refused, naming the input, its size and the minimum."""
    require_measurable("plate", 32, 32)
    with pytest.raises(ValueError, match=rf"^plate is {width}x{height}; .* at least 32x32 pixels\. Scale it up"):
        require_measurable("plate", height, width)


@pytest.mark.parametrize("shift", [4, -4])
def test_the_temporal_residual_cancels_a_pan_and_is_valid_only_where_the_motion_stays_in_the_frame(shift):
    """A grain-free picture panned 4 px: the following frame moved back onto the frame leaves nothing, and the 4
    columns whose match lies outside the following frame are not valid, nor is any other."""
    rng = np.random.default_rng(1)
    picture = cv2.GaussianBlur(rng.uniform(0, 1, (96, 150, 3)).astype(np.float32), (0, 0), 2.0)
    picture = np.ascontiguousarray(np.clip((picture - picture.mean()) * 5 + 0.5, 0, 1))
    frame = np.ascontiguousarray(picture[:, 10:138])
    following = np.ascontiguousarray(picture[:, 10 + shift : 138 + shift])
    residual, valid = temporal_residual(frame, following)
    outside = np.zeros(valid.shape, bool)
    if shift > 0:
        outside[:, :shift] = True
    else:
        outside[:, shift:] = True
    assert np.array_equal(valid, ~outside)
    assert np.abs(residual[valid]).max() < 1e-4
