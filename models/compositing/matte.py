"""Matte refinement: colour-guided edge refinement, levels, choke/grow, feather, despill and temporal smoothing."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from . import frame_ops
from .checks import as_image, as_mask, fit_frames, mark_finite_all, new_frames, same_size
from .chunking import Progress, chunk_slices, each_frame, frame_threads, report

SCREEN_CHANNEL = {"green": 1, "blue": 2}


@dataclass(frozen=True)
class MatteSettings:
    """How a rough matte becomes a production matte."""

    radius: int = 16  # guided-filter window radius in pixels; about the width of the rough edge
    eps: float = 1e-3  # guided-filter regularisation; larger keeps the matte smoother, smaller follows colour edges
    subsample: int = 4  # the filter's coefficients are solved on a grid this many times coarser (fast guided filter)
    clip_black: float = 0.05  # alpha at or below this becomes 0
    clip_white: float = 0.95  # alpha at or above this becomes 1
    choke: int = 0  # pixels; positive shrinks the matte, negative grows it
    feather: float = 0.0  # Gaussian sigma in pixels applied after choke
    temporal: float = 0.5  # 0..1 weight of neighbouring frames where the matte is steady
    motion_threshold: float = 0.1  # alpha change between frames above which an edge counts as moving
    despill: str = "none"  # "none", "green" or "blue"
    despill_strength: float = 1.0


def _box_mean(planes: np.ndarray, radius: int) -> np.ndarray:
    """Mean over a (2r+1)^2 window of each plane of a channel-last stack [h, w, C] (or of one plane [h, w])."""
    size = (2 * radius + 1, 2 * radius + 1)
    return cv2.blur(planes, size).reshape(planes.shape)


def _guided_coefficients(
    guide: np.ndarray, source: np.ndarray, radius: int, eps: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel linear model source ~ a.guide + b (He et al., colour guide) for one frame, window-averaged: (a [h, w, 3], b [h, w]).

    `guide` is [h, w, 3], `source` [h, w]; window means are taken of the 13 planes the model needs
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
    settled = ~_edge_band(source, radius)  # far from the rough edge, keep the rough matte
    a[settled] = 0.0
    offset = np.where(settled, source, offset)
    return _box_mean(a, radius), _box_mean(offset, radius)


def _solve_symmetric3(matrix: tuple[np.ndarray, ...], rhs: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    """Solve per-pixel symmetric positive-definite 3x3 systems x = matrix^-1 rhs by the adjugate (several times faster than a batched LU).

    `matrix` holds the planes of the upper triangle (m00, m01, m02, m11, m12, m22), `rhs` three planes; returns [h, w, 3].
    """
    a, b, c, d, e, f = matrix
    i00, i01, i02 = d * f - e * e, c * e - b * f, b * e - c * d
    i11, i12, i22 = a * f - c * c, b * c - a * e, a * d - b * b
    det = a * i00 + b * i01 + c * i02
    x, y, z = rhs
    rows = (i00 * x + i01 * y + i02 * z, i01 * x + i11 * y + i12 * z, i02 * x + i12 * y + i22 * z)
    return cv2.merge([row / det for row in rows])


def _edge_band(source: np.ndarray, radius: int) -> np.ndarray:
    """Pixels within `radius` of where the rough matte is neither 0 nor 1: the only place its edge can move to. [h, w] bool."""
    uncertain = ((source > 0.02) & (source < 0.98)).astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return cv2.dilate(uncertain, kernel) > 0


def guided_coefficients(
    image: torch.Tensor,
    mask: torch.Tensor,
    radius: int,
    eps: float,
    subsample: int,
    levels: tuple[float, float] = (0.0, 1.0),
) -> tuple[np.ndarray, np.ndarray]:
    """Fast guided filter (He & Sun 2015) solved on a coarse grid for one frame [H, W, 3] and its mask [H, W]:
    (gains [h, w, 3], offset [h, w]).

    The levels stretch (black -> 0, white -> 1) is folded into the coefficients, so applying them at full size
    costs one multiply-sum per pixel.
    """
    height, width, _ = image.shape
    step = max(1, int(subsample))
    small_w, small_h = max(1, round(width / step)), max(1, round(height / step))
    small_radius = max(1, round(radius / step))
    guide = frame_ops.resize(frame_ops.view(image), small_w, small_h)
    source = frame_ops.resize(frame_ops.view(mask), small_w, small_h)
    gains, offset = _guided_coefficients(guide, source, small_radius, eps)
    black, white = levels
    if not 0.0 <= black < white <= 1.0:
        raise ValueError(f"clip_black ({black}) must be below clip_white ({white}), both within 0..1.")
    scale = 1.0 / (white - black)
    return gains * scale, (offset - black) * scale


def apply_coefficients(gains: np.ndarray, offset: np.ndarray, image: torch.Tensor) -> torch.Tensor:
    """Evaluate coarse guided-filter coefficients at full size against one frame [H, W, 3]; clamped to 0..1."""
    height, width, _ = image.shape
    gains = frame_ops.resize(gains, width, height)
    offset = frame_ops.resize(offset, width, height)
    weighted = cv2.transform(cv2.multiply(gains, frame_ops.view(image)), np.ones((1, 3), np.float32))
    return torch.from_numpy(cv2.add(weighted, offset)).clamp_(0.0, 1.0)


def choke_and_feather(alpha: torch.Tensor, choke: int, feather: float) -> torch.Tensor:
    """Shrink (choke > 0) or grow one frame's matte by whole pixels, then soften it by a Gaussian of `feather` pixels."""
    if choke == 0 and feather <= 0:
        return alpha
    frame = frame_ops.gaussian_blur(frame_ops.grow(frame_ops.view(alpha), -int(choke)), feather)
    return torch.from_numpy(np.ascontiguousarray(frame))


def temporal_smooth(
    before: torch.Tensor, centre: torch.Tensor, after: torch.Tensor, strength: float, motion_threshold: float
) -> torch.Tensor:
    """Average a frame's matte with its neighbours where it is steady and keep it where it moves.

    The kernel is symmetric in time, so a moving edge is never pulled towards its past position (no lag);
    a neighbour's weight falls linearly to 0 as its alpha differs from the centre by `motion_threshold`.
    """
    scale = -1.0 / max(motion_threshold, 1e-6)
    weight_before = (before - centre).abs_().mul_(scale).add_(1.0).clamp_(min=0.0).mul_(strength)
    weight_after = (after - centre).abs_().mul_(scale).add_(1.0).clamp_(min=0.0).mul_(strength)
    total = (before * weight_before).addcmul_(after, weight_after).add_(centre)
    return total.div_(weight_before.add_(weight_after).add_(1.0))


def despill(image: torch.Tensor, screen: str, strength: float) -> torch.Tensor:
    """Limit the screen channel to the average of the other two, removing green/blue spill from edges and hair."""
    if screen == "none" or strength <= 0:
        return image
    if screen not in SCREEN_CHANNEL:
        raise ValueError(f"despill must be 'none', 'green' or 'blue'; got {screen!r}.")
    channel = SCREEN_CHANNEL[screen]
    others = [c for c in range(3) if c != channel]
    limit = (image[..., others[0]] + image[..., others[1]]) * 0.5
    spill = (image[..., channel] - limit).clamp_(min=0.0)
    out = image.clone()
    out[..., channel] -= spill * strength
    return out


@frame_threads
def refine_matte(
    image: torch.Tensor, mask: torch.Tensor, settings: MatteSettings = MatteSettings(), progress: Progress | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Rough MASK + the element's IMAGE -> (despilled IMAGE, production MASK), streamed in chunks of frames."""
    image = as_image("image", image)
    mask = as_mask("mask", mask)
    same_size("mask", mask, "image", image)
    frames, height, width, _ = image.shape
    mask = fit_frames("mask", mask, frames)
    alpha = new_frames(frames, height, width)
    out_image = image if settings.despill == "none" else new_frames(*image.shape)
    levels = (settings.clip_black, settings.clip_white)

    def refine_frame(index: int) -> None:
        gains, offset = guided_coefficients(
            image[index], mask[index], settings.radius, settings.eps, settings.subsample, levels
        )
        refined = apply_coefficients(gains, offset, image[index])
        alpha[index] = choke_and_feather(refined, settings.choke, settings.feather)
        if settings.despill != "none":
            out_image[index] = despill(image[index], settings.despill, settings.despill_strength)

    for part in chunk_slices(frames, 8):
        each_frame(refine_frame, part)
        report(progress, part)
    if settings.temporal > 0 and frames > 1:
        _smooth_in_place(alpha, settings.temporal, settings.motion_threshold)
    return mark_finite_all(out_image, alpha)


def _smooth_in_place(alpha: torch.Tensor, strength: float, motion_threshold: float, chunk: int = 8) -> None:
    """Temporal smoothing chunk by chunk; each chunk reads unsmoothed copies of its frames and their neighbours,
    kept in one buffer for the whole clip (the clip's first and last frames stand in for their missing neighbours)."""
    frames = alpha.shape[0]
    raw = torch.empty(min(frames, chunk) + 2, *alpha.shape[1:])  # raw[k] is frame part.start - 1 + k
    raw[0] = alpha[0]
    for part in chunk_slices(frames, chunk):
        count = part.stop - part.start
        raw[1 : count + 1] = alpha[part]
        raw[count + 1] = alpha[min(part.stop, frames - 1)]

        def smooth(index: int, start: int = part.start) -> None:
            k = index - start + 1
            alpha[index] = temporal_smooth(raw[k - 1], raw[k], raw[k + 1], strength, motion_threshold)

        each_frame(smooth, part)
        raw[0] = raw[count]
