"""The trimap and the known colours spread over its band, on constructed masks and pictures."""

from __future__ import annotations

import numpy as np
import pytest

from worldkit.models.compositing.trimap import SOFT_HIGH, SOFT_LOW, fill_known, project_alpha, trimap

SIZE = 64


def half_mask() -> np.ndarray:
    """The left half solid, the right half empty: the 0.5 contour runs between columns 31 and 32."""
    mask = np.zeros((SIZE, SIZE), np.float32)
    mask[:, : SIZE // 2] = 1.0
    return mask


@pytest.mark.parametrize("radius", [0, 1, 4])
def test_the_band_reaches_the_radius_from_the_contour_and_never_less_than_a_pixel(radius):
    """Columns within `radius` (at least 1) of the contour on either side are undecided, the rest known."""
    subject, background = trimap(half_mask(), radius)
    reach = max(1, radius)
    row_subject, row_background = subject[SIZE // 2], background[SIZE // 2]
    assert row_subject[: SIZE // 2 - reach].all() and not row_subject[SIZE // 2 - reach :].any()
    assert row_background[SIZE // 2 + reach :].all() and not row_background[: SIZE // 2 + reach].any()


def test_a_soft_mask_is_undecided_wherever_it_is_soft_however_far_from_its_contour():
    """A ramp across the frame: only where it is at or beyond SOFT_HIGH / SOFT_LOW is anything known."""
    mask = np.tile(np.linspace(0.0, 1.0, SIZE, dtype=np.float32), (SIZE, 1))
    subject, background = trimap(mask, 2)
    assert np.array_equal(subject[0], (mask[0] >= SOFT_HIGH) & (mask[0] > 0.5))
    assert np.array_equal(background[0], mask[0] <= SOFT_LOW)
    assert subject.any() and background.any()


def test_with_nothing_known_every_pixel_gets_the_frames_mean_colour():
    colours = np.random.default_rng(1).uniform(0, 1, (SIZE, SIZE, 3)).astype(np.float32)
    filled = fill_known(colours, np.zeros((SIZE, SIZE), bool), 3.0)
    assert filled.shape == colours.shape and filled.dtype == np.float32
    assert np.allclose(filled, colours.reshape(-1, 3).mean(0), atol=1e-6)


def test_known_colours_spread_near_and_beyond_every_reach_the_known_mean():
    """Two known pixels in the top-left corner (red and blue): a needed pixel next to them gets their mix, one far
    beyond the widest Gaussian (9 band radii) the known pixels' mean; pixels not needed keep their colour."""
    colours = np.full((200, 200, 3), 0.5, np.float32)
    known = np.zeros((200, 200), bool)
    known[0, 0], known[0, 1] = True, True
    colours[0, 0], colours[0, 1] = (1.0, 0.0, 0.0), (0.0, 0.0, 1.0)
    needed = np.zeros_like(known)
    needed[1, 0] = needed[199, 199] = True
    filled = fill_known(colours, known, 1.0, needed)
    assert np.allclose(filled[199, 199], (0.5, 0.0, 0.5), atol=1e-6)
    assert filled[1, 0, 0] > 0.3 and filled[1, 0, 2] > 0.3 and filled[1, 0, 1] < 1e-6
    assert np.array_equal(filled[100, 100], colours[100, 100])


def test_alpha_is_the_pixels_share_of_the_subject_colour_clipped_to_0_1():
    subject = np.full((3, 3), (0.9, 0.2, 0.1), np.float32)
    background = np.full((3, 3), (0.1, 0.6, 0.3), np.float32)
    shares = np.array([-0.5, 0.3, 1.5], np.float32)[:, None]
    image = background + shares * (subject - background)
    alpha, separation = project_alpha(image, subject, background)
    assert np.allclose(alpha, [0.0, 0.3, 1.0], atol=1e-6)
    assert np.allclose(separation, 0.8**2 + 0.4**2 + 0.2**2, atol=1e-6)


@pytest.mark.parametrize("planes", [5, 9, 24])
def test_fill_known_spreads_any_number_of_planes_as_it_spreads_them_three_at_a_time(planes):
    """Moments and histograms are spread in one call however many planes they have (OpenCV resizes four at most):
    each plane comes out as it does spread three at a time, as colours are, with widths that take the reduced wide
    blur."""
    rng = np.random.default_rng(3)
    colours = rng.uniform(0.0, 1.0, (SIZE, SIZE, planes)).astype(np.float32)
    known = np.zeros((SIZE, SIZE), bool)
    known[:, :20] = True
    together = fill_known(colours, known, 8.0)
    alone = np.concatenate([fill_known(colours[..., i : i + 3], known, 8.0) for i in range(0, planes, 3)], -1)
    assert together.shape == colours.shape
    np.testing.assert_allclose(together, alone, atol=1e-6)
