"""The guided filter's pieces on constructed pictures: the per-pixel 3x3 solve, the linear model it recovers, the
coarse grid's size, the levels folded into its coefficients and their evaluation at full size."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from worldkit.models.compositing.guided_filter import (
    EXPLAINED,
    _box_mean,
    _guided_coefficients,
    _solve_symmetric3,
    coarse_coefficients,
    colour_driven,
    grid_size,
    grid_step,
)


def test_the_adjugate_solve_matches_numpys_on_symmetric_positive_definite_systems():
    rng = np.random.default_rng(1)
    roots = rng.normal(0, 1, (6, 5, 3, 3))
    matrices = roots @ roots.swapaxes(-1, -2) + 0.1 * np.eye(3)
    rhs = rng.normal(0, 1, (6, 5, 3))
    upper = tuple(matrices[..., i, j] for i, j in ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)))
    solved = _solve_symmetric3(upper, tuple(rhs[..., c] for c in range(3)))
    assert np.allclose(solved, np.linalg.solve(matrices, rhs[..., None])[..., 0], rtol=1e-8, atol=1e-8)


def test_a_source_linear_in_the_guide_is_reproduced_by_its_coefficients():
    """source = a . guide + b everywhere: every window's model is exactly (a, b), whatever the window."""
    rng = np.random.default_rng(2)
    guide = rng.uniform(0, 1, (40, 40, 3)).astype(np.float32)
    gains = np.array([0.5, -0.3, 0.2], np.float32)
    source = (guide @ gains + 0.1).astype(np.float32)
    settled = np.zeros((40, 40), bool)
    a, b = _guided_coefficients(guide, source, 2, 1e-7, settled)
    assert np.allclose(a, gains, atol=2e-3) and np.allclose(b, 0.1, atol=2e-3)
    settled[:, :20] = True  # settled pixels keep the source: gains 0, offset the source's window mean
    a, b = _guided_coefficients(guide, source, 2, 1e-7, settled)
    assert np.allclose(a[:, :17], 0.0, atol=1e-6) and np.allclose(b[:, :17], _box_mean(source, 2)[:, :17], atol=1e-5)
    assert np.allclose(a[:, 23:], gains, atol=2e-3)


@pytest.mark.parametrize(
    "radius, subsample, step", [(16, 4, 4), (12, 4, 3), (8, 4, 2), (3, 4, 1), (0, 4, 1), (16, 2, 2), (40, 8, 8)]
)
def test_the_grid_is_the_subsample_finer_for_a_narrow_band_never_under_a_pixel(radius, subsample, step):
    """At least 4 cells across the band's half-width."""
    assert grid_step(radius, subsample) == step


def test_the_grid_rounds_the_frame_over_its_cells_and_keeps_a_cell_at_least():
    assert grid_size(100, 50, 3) == (33, 17)
    assert grid_size(102, 50, 4) == (26, 12)
    assert grid_size(1, 1, 8) == (1, 1)


def test_the_box_mean_averages_a_2r_plus_1_square():
    spot = np.zeros((15, 15), np.float32)
    spot[7, 7] = 1.0
    spread = _box_mean(spot, 2)
    assert np.allclose(spread[5:10, 5:10], 1 / 25) and spread.sum() == pytest.approx(1.0)
    assert np.count_nonzero(spread) == 25


RED, BLUE = np.array([0.9, 0.1, 0.1], np.float32), np.array([0.1, 0.1, 0.9], np.float32)


def band_row(off_line: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rows of 9 pixels: red known subject (columns 0-2), blue known background (6-8), and in the band a 0.7 mix, a
    0.6 mix moved off the red-blue line by `off_line` in green, and a 0.3 mix; the rough mask 0.5 in the band."""
    guide = np.empty((5, 9, 3), np.float32)
    guide[:, :3], guide[:, 6:] = RED, BLUE
    guide[:, 3], guide[:, 5] = BLUE + 0.7 * (RED - BLUE), BLUE + 0.3 * (RED - BLUE)
    guide[:, 4] = BLUE + 0.6 * (RED - BLUE) + np.array([0.0, off_line, 0.0], np.float32)
    subject, background = np.zeros((5, 9), bool), np.zeros((5, 9), bool)
    subject[:, :3], background[:, 6:] = True, True
    source = np.where(subject, 1.0, np.where(background, 0.0, 0.5)).astype(np.float32)
    return guide, source, subject, background


def test_band_pixels_explained_as_a_mix_take_its_alpha_and_the_rest_keep_the_rough_mask():
    """Residual 1.5 times EXPLAINED of the colours' squared distance: not a mix of the two, the mask is kept; on
    the line, the projection's alpha."""
    separation = float(np.sum((RED - BLUE) ** 2))
    guide, source, subject, background = band_row(np.sqrt(1.5 * EXPLAINED * separation))
    driven = colour_driven(guide, source, subject, background, 2)
    assert np.allclose(driven[:, 3:6], [0.7, 0.5, 0.3], atol=1e-5), driven[0]
    assert np.all(driven[subject] == 1.0) and np.all(driven[background] == 0.0)
    guide, source, subject, background = band_row(np.sqrt(0.25 * EXPLAINED * separation))
    partly = colour_driven(guide, source, subject, background, 2)[0, 4]
    assert partly == pytest.approx(0.5 + np.sqrt(0.75) * 0.1, abs=1e-5)


def narrow_band_scene() -> tuple[torch.Tensor, torch.Tensor]:
    """A bright left half over a dark right one, its mask's edge a pixel left of the picture's (column 15)."""
    image = torch.full((32, 32, 3), 0.2)
    image[:, :16] = 0.8
    mask = torch.zeros(32, 32)
    mask[:, :15] = 1.0
    return image, mask


def test_the_narrowest_band_is_filtered_by_the_guide_in_a_3x3_window_and_settled_beyond():
    """Radius 1 on the full-size grid: columns 14-15 are the band, the filter's 3x3 window reaches one column
    further each side, and everything beyond keeps the mask (gains 0, offset 1 or 0)."""
    image, mask = narrow_band_scene()
    gains, offset = coarse_coefficients(image.numpy(), mask.numpy(), 1, 1e-4, 1, (0.0, 1.0))
    assert np.abs(gains[:, 13:17]).max() > 0.1
    assert np.all(gains[:, :13] == 0.0) and np.all(gains[:, 17:] == 0.0)
    assert np.all(offset[:, :12] == 1.0) and np.all(offset[:, 18:] == 0.0)


def test_the_levels_stretch_is_folded_into_the_coefficients():
    """Black 0.2 and white 0.8: alpha (gains . colour + offset) maps 0.2 to 0 and 0.8 to 1."""
    image, mask = narrow_band_scene()
    plain = coarse_coefficients(image.numpy(), mask.numpy(), 1, 1e-4, 1, (0.0, 1.0))
    gains, offset = coarse_coefficients(image.numpy(), mask.numpy(), 1, 1e-4, 1, (0.2, 0.8))
    assert np.allclose(gains, plain[0] / 0.6, atol=1e-5) and np.allclose(offset, (plain[1] - 0.2) / 0.6, atol=1e-5)
