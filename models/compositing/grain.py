"""Grain: measure a plate's noise per channel in two frequency bands and add the missing amount to an element.

Grain is modelled as the sum of two independent Gaussian fields per channel: a fine one (white at pixel scale)
and a coarse one (white at half size, bilinearly enlarged). Measurement takes the robust spread (median absolute
deviation) of a high-pass residual at full and half size; a calibration on synthetic fields of each band maps
those spreads back to the two band strengths, so measuring and synthesising agree by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np
import torch

from . import frame_ops
from .checks import as_image, mark_finite_all, new_frames, optional_mask
from .chunking import Progress, chunk_slices, each_frame, frame_threads, map_frames, report

BANDS = ("fine", "coarse")
MAD_TO_SIGMA = 1.4826
FIELD_MARGIN = 64
OFFSET_STEP = 4


@dataclass(frozen=True)
class GrainProfile:
    """Grain strength (standard deviation, image units) per band and channel: sigma[band, channel]."""

    sigma: np.ndarray


def _robust_spread(residual: np.ndarray, keep: np.ndarray | None) -> np.ndarray:
    """Per-channel MAD-based standard deviation of a residual [H, W, 3], over the kept pixels."""
    pixels = residual.reshape(-1, 3) if keep is None else residual[keep]
    if pixels.shape[0] < 64:
        raise ValueError("fewer than 64 pixels are left to measure grain from; widen the mask or region.")
    centred = np.abs(pixels - np.median(pixels, axis=0))
    return np.median(centred, axis=0) * MAD_TO_SIGMA


def band_spreads(frame: np.ndarray, keep: np.ndarray | None = None) -> np.ndarray:
    """Spread of the high-pass residual at full and at half size: [2, 3]."""
    height, width = frame.shape[:2]
    fine = frame - frame_ops.gaussian_blur(frame, 1.0)
    half = frame_ops.resize(frame, width // 2, height // 2)
    coarse = half - frame_ops.gaussian_blur(half, 1.0)
    half_keep = None if keep is None else frame_ops.resize(keep.astype(np.float32), width // 2, height // 2) > 0.99
    # every 4th pixel of the fine band and every 2nd of the coarse: tens of thousands of samples, ample for a median
    fine_keep = None if keep is None else keep[::4, ::4]
    coarse_keep = None if half_keep is None else half_keep[::2, ::2]
    return np.stack([_robust_spread(fine[::4, ::4], fine_keep), _robust_spread(coarse[::2, ::2], coarse_keep)])


def band_noise(band: int, height: int, width: int, generator: torch.Generator) -> np.ndarray:
    """A unit-strength noise field of one band, [height, width, 3]."""
    if band == 0:
        return torch.randn(height, width, 3, generator=generator).numpy()
    small = torch.randn(height // 2 + 1, width // 2 + 1, 3, generator=generator).numpy()
    return frame_ops.resize(small, width, height)


@cache
def _calibration() -> np.ndarray:
    """Measured spread squared of unit noise of each band: matrix[measurement band, noise band]."""
    generator = torch.Generator().manual_seed(1234)
    columns = [band_spreads(band_noise(band, 512, 512, generator)).mean(axis=1) ** 2 for band in range(len(BANDS))]
    return np.stack(columns, axis=1)


def profile_from_spreads(spreads: np.ndarray) -> GrainProfile:
    """Band strengths whose measured spreads match `spreads` [2, 3] (non-negative least squares per channel)."""
    matrix = _calibration()
    variances = np.zeros_like(spreads)
    for channel in range(3):
        solved = np.linalg.solve(matrix, spreads[:, channel] ** 2)
        if (solved < 0).any():  # one band explains it alone: keep the band that fits best
            fits = [max(spreads[:, channel] ** 2 @ matrix[:, b], 0.0) / (matrix[:, b] @ matrix[:, b]) for b in range(2)]
            errors = [np.sum((matrix[:, b] * fits[b] - spreads[:, channel] ** 2) ** 2) for b in range(2)]
            best = int(np.argmin(errors))
            solved = np.zeros(2)
            solved[best] = fits[best]
        variances[:, channel] = solved
    return GrainProfile(np.sqrt(variances))


def measure_grain(frames: torch.Tensor, mask: torch.Tensor | None = None, max_frames: int = 8) -> GrainProfile:
    """The grain profile of a clip, the median over up to `max_frames` evenly spaced frames (grain is steady in time)."""
    count = frames.shape[0]
    picks = np.unique(np.linspace(0, count - 1, min(count, max_frames)).round().astype(int))
    spreads = map_frames(
        lambda i: band_spreads(frame_ops.view(frames[i]), None if mask is None else frame_ops.view(mask[i]) > 0.99),
        picks,
    )
    return profile_from_spreads(np.median(np.stack(spreads), axis=0))


def grain_field(profile: GrainProfile, height: int, width: int, seed: int) -> torch.Tensor:
    """A grain field larger than the frame by FIELD_MARGIN, to be read at a different offset for each frame."""
    generator = torch.Generator().manual_seed(int(seed))
    field = np.zeros((height + FIELD_MARGIN, width + FIELD_MARGIN, 3), np.float32)
    for band in range(len(BANDS)):
        if profile.sigma[band].any():
            field += band_noise(band, *field.shape[:2], generator) * profile.sigma[band].astype(np.float32)
    return torch.from_numpy(field)


def frame_offsets(frames: int, seed: int) -> list[tuple[int, int]]:
    """Distinct field offsets (a grid OFFSET_STEP apart) in a shuffled order, repeating only after all are used."""
    grid = [(y, x) for y in range(0, FIELD_MARGIN, OFFSET_STEP) for x in range(0, FIELD_MARGIN, OFFSET_STEP)]
    order = np.random.default_rng(seed).permutation(len(grid))
    return [grid[order[i % len(grid)]] for i in range(frames)]


def missing_grain(target: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Grain to add [band, channel]: each band's shortfall, capped so no channel ends up grainier than the target overall."""
    shortfall = np.clip(target**2 - present**2, 0.0, None)
    room = np.clip((target**2).sum(0) - (present**2).sum(0), 0.0, None)
    cap = np.where(shortfall.sum(0) > 0, np.minimum(1.0, room / np.maximum(shortfall.sum(0), 1e-12)), 0.0)
    return np.sqrt(shortfall * cap)


@frame_threads
def match_grain(
    element: torch.Tensor,
    plate: torch.Tensor,
    strength: float = 1.0,
    element_mask: torch.Tensor | None = None,
    plate_region: torch.Tensor | None = None,
    seed: int = 0,
    progress: Progress | None = None,
) -> torch.Tensor:
    """Add to the element the grain the plate has and it lacks, band by band and channel by channel."""
    element = as_image("element", element)
    plate = as_image("plate", plate)
    element_mask = optional_mask("element_mask", element_mask, "element", element)
    plate_region = optional_mask("plate_region", plate_region, "plate", plate)
    target = measure_grain(plate, plate_region).sigma
    present = measure_grain(element, element_mask).sigma
    missing = GrainProfile(missing_grain(target, present) * float(strength))
    frames, height, width, _ = element.shape
    field = grain_field(missing, height, width, seed)
    offsets = frame_offsets(frames, seed)
    out = new_frames(*element.shape)

    def add_grain(index: int) -> None:
        top, left = offsets[index]
        grain = field[top : top + height, left : left + width].numpy()
        cv2.add(element[index].numpy(), grain, dst=out[index].numpy())
        out[index].clamp_(0.0, 1.0)

    for part in chunk_slices(frames, 8):
        each_frame(add_grain, part)
        report(progress, part)
    return mark_finite_all(out)
