"""The fast matte solve on a coarse grid: in the trimap's band, each pixel's alpha as a mix of the nearby subject and
background colours (where that model holds; the rough mask elsewhere), then a guided filter (He et al.) of it with the
element's colours as guide, whose coefficients are applied at full size (one multiply-sum per pixel)."""

from __future__ import annotations

import cv2
import numpy as np
import torch

from . import frame_ops
from .trimap import fill_known, project_alpha, trimap

SEPARATED = 0.05  # squared RGB distance of subject and background colours from which the colour model is fully trusted
BAND_CELLS = 4  # the coarse grid is never coarser than this many cells across the band's half-width
EXPLAINED = 0.1  # residual (relative to that distance) at which a pixel no longer counts as a mix of the two


def _box_mean(planes: np.ndarray, radius: int) -> np.ndarray:
    """Mean over a (2r+1)^2 window of each plane of a channel-last stack [h, w, C] (or of one plane [h, w])."""
    size = (2 * radius + 1, 2 * radius + 1)
    return cv2.blur(planes, size).reshape(planes.shape)


def _guided_coefficients(
    guide: np.ndarray, source: np.ndarray, radius: int, eps: float, settled: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel linear model source ~ a.guide + b (He et al., colour guide) for one frame, window-averaged: (a [h, w,
    3], b [h, w]).

    `guide` is [h, w, 3], `source` [h, w]; `settled` pixels (the trimap's known ones) keep the source. Window means are
    taken of the 13 planes the model needs
    (the guide's covariance is symmetric, so six of its nine products suffice).
    """
    r, g, b = cv2.split(guide)
    products = (r, g, b, source, r * source, g * source, b * source, r * r, r * g, r * b, g * g, g * b, b * b)
    means = [_box_mean(plane, radius) for plane in products]
    mean_r, mean_g, mean_b, mean_p, mean_rp, mean_gp, mean_bp, mean_rr, mean_rg, mean_rb, mean_gg, mean_gb, mean_bb = (
        means
    )
    variance = (
        mean_rr - mean_r * mean_r + eps,
        mean_rg - mean_r * mean_g,
        mean_rb - mean_r * mean_b,
        mean_gg - mean_g * mean_g + eps,
        mean_gb - mean_g * mean_b,
        mean_bb - mean_b * mean_b + eps,
    )
    covariance = (mean_rp - mean_r * mean_p, mean_gp - mean_g * mean_p, mean_bp - mean_b * mean_p)
    a = _solve_symmetric3(variance, covariance)
    offset = mean_p - (a[..., 0] * mean_r + a[..., 1] * mean_g + a[..., 2] * mean_b)
    a[settled] = 0.0
    offset = np.where(settled, source, offset)
    return _box_mean(a, radius), _box_mean(offset, radius)


def _solve_symmetric3(matrix: tuple[np.ndarray, ...], rhs: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    """Solve per-pixel symmetric positive-definite 3x3 systems x = matrix^-1 rhs by the adjugate (several times faster
    than a batched LU).

    `matrix` holds the planes of the upper triangle (m00, m01, m02, m11, m12, m22), `rhs` three planes; returns [h, w,
    3].
    """
    a, b, c, d, e, f = matrix
    i00, i01, i02 = d * f - e * e, c * e - b * f, b * e - c * d
    i11, i12, i22 = a * f - c * c, b * c - a * e, a * d - b * b
    det = a * i00 + b * i01 + c * i02
    x, y, z = rhs
    rows = (i00 * x + i01 * y + i02 * z, i01 * x + i11 * y + i12 * z, i02 * x + i12 * y + i22 * z)
    return cv2.merge([row / det for row in rows])


def colour_driven(
    guide: np.ndarray, source: np.ndarray, subject: np.ndarray, background: np.ndarray, radius: int
) -> np.ndarray:
    """The rough mask with its band replaced by the colour model's alpha where that model can be trusted: where the
    nearby subject and background colours differ, and the pixel is well explained as a mix of them. Elsewhere (similar
    colours, texture the smooth colour estimates miss) the rough mask's answer is kept."""
    band = ~(subject | background)
    subject_colour = fill_known(guide, subject, radius, band)
    background_colour = fill_known(guide, background, radius, band)
    alpha, separation = project_alpha(guide, subject_colour, background_colour)
    mixed = background_colour + frame_ops.per_channel(alpha, 3) * (subject_colour - background_colour)
    residual = np.einsum("...c,...c->...", guide - mixed, guide - mixed)
    trust = np.clip(separation / SEPARATED, 0.0, 1.0) * np.sqrt(
        np.clip(1.0 - residual / (EXPLAINED * np.maximum(separation, 1e-6)), 0.0, 1.0)
    )
    driven = source + trust * (alpha - source)
    driven[subject], driven[background] = 1.0, 0.0
    return driven


def grid_step(radius: int, subsample: int) -> int:
    """How many pixels one cell of the coarse grid spans: `subsample`, finer for a narrow band."""
    return max(1, min(int(subsample), int(radius) // BAND_CELLS))


def grid_size(width: int, height: int, step: int) -> tuple[int, int]:
    """(width, height) of the coarse grid of `step`-pixel cells over a frame."""
    return max(1, round(width / step)), max(1, round(height / step))


def coarse_coefficients(
    guide: np.ndarray,
    source: np.ndarray,
    radius: int,
    eps: float,
    subsample: int,
    levels: tuple[float, float],
) -> tuple[np.ndarray, np.ndarray]:
    """Fast guided filter (He & Sun 2015) solved on a coarse grid for one frame and its mask, both already reduced to
    the grid (`grid_size` of `grid_step`): (gains [h, w, 3], offset [h, w]), to be applied at full size. The grid is
    refined for a narrow band, whose edge a coarser one could not place better than the rough mask already does. The
    filter works in the trimap's band only, so a binary or blocky mask's edge is refined as much as a soft one's;
    outside the band the gains are 0 and the offset is 1 or 0.

    The levels stretch (black -> 0, white -> 1) is folded into the coefficients, so applying them at full size
    costs one multiply-sum per pixel.
    """
    small_radius = max(1, round(radius / grid_step(radius, subsample)))
    subject, background = trimap(source, small_radius)
    window = max(1, small_radius // 2)
    gains, offset = np.zeros_like(guide), subject.astype(np.float32)
    # The band's box, with room for the colour estimates' reach and the filter's two window passes: beyond it every
    # pixel is settled, and so are all the pixels its result depends on.
    box = frame_ops.nonzero_box(~(subject | background), 2 * window + 3 * small_radius + 2)
    if box is not None:
        x0, y0, x1, y1 = box
        crop = (slice(y0, y1), slice(x0, x1))
        settled = (subject[crop], background[crop])
        driven = colour_driven(guide[crop], source[crop], *settled, small_radius)
        gains[crop], offset[crop] = _guided_coefficients(guide[crop], driven, window, eps, settled[0] | settled[1])
    black, white = levels
    scale = 1.0 / (white - black)
    return gains * scale, (offset - black) * scale


def apply_coefficients(gains: np.ndarray, offset: np.ndarray, image: torch.Tensor) -> torch.Tensor:
    """Evaluate coarse guided-filter coefficients at full size against one frame [H, W, 3]; clamped to 0..1.
    Only the box where the gains are non-zero needs the multiply-sum."""
    height, width, _ = image.shape
    alpha = frame_ops.resize(offset, width, height)
    scale = (width / gains.shape[1], height / gains.shape[0])
    box = frame_ops.nonzero_box(gains, 1, scale)
    if box is not None:
        x0, y0, x1, y1 = box
        region = frame_ops.enlarge_region(gains, width, height, box)
        weighted = cv2.transform(cv2.multiply(region, frame_ops.view(image)[y0:y1, x0:x1]), np.ones((1, 3), np.float32))
        alpha[y0:y1, x0:x1] += weighted
    return torch.from_numpy(np.clip(alpha, 0.0, 1.0, out=alpha))
