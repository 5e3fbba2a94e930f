"""Where grain is read from: a frame's flattest blocks, or, on video, the difference between a frame and its motion-
compensated neighbour, in which the picture cancels however busy it is and two frames' independent grain remains.

Statistics are block means taken by area reduction (each BLOCK x BLOCK tile one pixel of a reduced copy), so one
pass per plane gives every block's mean and variance; the residual's covariance is taken over the chosen flat blocks
alone, gathered one under the other.
"""

from __future__ import annotations

import math
from functools import cache

import cv2
import numpy as np

from . import frame_ops

BLOCK = 8  # pixels per side of the blocks grain is measured in (at each band's scale)
FLAT_SHARE = 0.25  # the flattest quarter of the blocks is measured
STRUCTURE_SIGMA = 2.0  # blur that leaves the picture's texture and little of its grain, to find flat blocks
CHANNEL_MEAN = np.full((1, 3), 1.0 / 3.0, np.float32)
NEXT_CHANNEL = np.roll(np.eye(3, dtype=np.float32), 1, axis=1)  # (r, g, b) to (g, b, r), kept interleaved
SQRT_HALF = math.sqrt(0.5)
FLOW_SCALE = 2  # motion between frames is estimated on a copy this many times smaller


MIN_SIDE = 4 * BLOCK
"""The half-size band needs 4 blocks of BLOCK pixels: frames smaller than this on either side cannot hold them."""


def require_measurable(name: str, height: int, width: int) -> None:
    """Raise, naming the input and the minimum size, when its frames are too small to measure grain in."""
    if height < MIN_SIDE or width < MIN_SIDE:
        raise ValueError(
            f"{name} is {width}x{height}; grain is measured in {BLOCK}x{BLOCK} blocks at full and half size, which "
            f"needs frames of at least {MIN_SIDE}x{MIN_SIDE} pixels. Scale it up, or leave Grain Match out for it."
        )


def _block_means(planes: np.ndarray) -> np.ndarray:
    """Mean of each BLOCK x BLOCK tile of [h, w] or [h, w, C] (the ragged border dropped): [rows, cols(, C)]."""
    rows, cols = planes.shape[0] // BLOCK, planes.shape[1] // BLOCK
    tiles = np.ascontiguousarray(planes[: rows * BLOCK, : cols * BLOCK])
    return cv2.resize(tiles, (cols, rows), interpolation=cv2.INTER_AREA).reshape(rows, cols, *planes.shape[2:])


def _chosen_blocks(planes: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """The BLOCK x BLOCK tiles of [h, w, C] where `chosen` [rows, cols] is set, one under the other: [n * BLOCK,
    BLOCK, C], whose block means are the chosen blocks' (the others are never computed)."""
    rows, cols = chosen.shape
    tiles = planes[: rows * BLOCK, : cols * BLOCK].reshape(rows, BLOCK, cols, BLOCK, -1).swapaxes(1, 2)[chosen]
    return tiles.reshape(-1, BLOCK, planes.shape[2])


def _flat_covariance(frame: np.ndarray, keep: np.ndarray | None) -> np.ndarray:
    """Covariance [3, 3] of the high-pass residual: each entry the median over the flattest kept blocks of the
    within-block value. Grain is the same in every block while texture only adds, so the median holds where up to
    half the chosen blocks carry texture, which a mean reads as grain (a plate with textured flat areas measured
    up to 1.4 times its grain so)."""
    residual = frame_ops.gaussian_blur(frame, 1.0)
    cv2.subtract(frame, residual, dst=residual)
    structure = frame_ops.gaussian_blur(cv2.transform(frame, CHANNEL_MEAN), STRUCTURE_SIGMA)
    structure -= float(structure.mean())  # variances of small differences keep their precision in float32
    flatness = _block_means(cv2.multiply(structure, structure)) - _block_means(structure) ** 2
    usable = np.ones(flatness.shape, bool) if keep is None else _block_means(keep.astype(np.float32)) > 0.999
    if usable.sum() < 4:
        raise ValueError("fewer than 4 blocks of 8x8 pixels are left to measure grain from; widen the mask or region.")
    blocks = _chosen_blocks(residual, usable & (flatness <= np.quantile(flatness[usable], FLAT_SHARE)))
    means = _block_means(blocks)[:, 0].astype(np.float64)
    squares = _block_means(cv2.multiply(blocks, blocks))[:, 0]  # rr, gg, bb
    crosses = _block_means(cv2.multiply(blocks, cv2.transform(blocks, NEXT_CHANNEL)))[:, 0]  # rg, gb, br
    pooled = np.empty((3, 3))
    diagonal = [(c, c, squares[:, c]) for c in range(3)]
    off_diagonal = [(c, (c + 1) % 3, crosses[:, c]) for c in range(3)]
    for a, b, second in diagonal + off_diagonal:  # within-block covariance, unbiased per block
        value = np.median(second - means[:, a] * means[:, b]) * BLOCK * BLOCK / (BLOCK * BLOCK - 1)
        pooled[a, b] = pooled[b, a] = value
    return pooled


def band_covariances(frame: np.ndarray, keep: np.ndarray | None = None) -> np.ndarray:
    """Measured residual covariance at full and at half size over the frame's flat blocks: [2, 3, 3]."""
    height, width = frame.shape[:2]
    half = frame_ops.resize(frame, max(1, width // 2), max(1, height // 2))
    half_keep = None
    if keep is not None:
        half_keep = frame_ops.resize(keep.astype(np.float32), half.shape[1], half.shape[0]) > 0.99
    return np.stack([_flat_covariance(frame, keep), _flat_covariance(half, half_keep)])


def _grey(frame: np.ndarray) -> np.ndarray:
    height, width = frame.shape[:2]
    small = frame_ops.resize(frame, max(8, width // FLOW_SCALE), max(8, height // FLOW_SCALE))
    return cv2.cvtColor(np.clip(small * 255.0, 0.0, 255.0).astype(np.uint8), cv2.COLOR_RGB2GRAY)


@cache
def _pixel_grid(height: int, width: int) -> np.ndarray:
    """Each pixel's (x, y) [height, width, 2], shared by every pair of frames of that size (read only)."""
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    grid = np.dstack([xs, ys])
    grid.flags.writeable = False
    return grid


def temporal_residual(frame: np.ndarray, following: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(residual [h, w, 3], valid [h, w]): the frame minus the following frame moved back onto it, over sqrt 2.

    The motion is estimated densely (DIS optical flow) and applied in whole pixels, so the following frame's grain is
    moved, not resampled: where the motion is found, the residual holds the two frames' independent grain and
    nothing of the picture, with one frame's level, correlation and size. Where it is not (occlusions, sub-pixel
    shifts of fine texture), the picture's leftovers make those blocks look busy and the flat-block choice skips them.
    """
    height, width = frame.shape[:2]
    flow = frame_ops.dense_flow(_grey(frame), _grey(following))
    flow *= np.array([width / flow.shape[1], height / flow.shape[0]], np.float32)  # scaled before it is enlarged
    targets = cv2.add(cv2.resize(flow, (width, height), interpolation=cv2.INTER_LINEAR), _pixel_grid(height, width))
    np.rint(targets, out=targets)
    valid = cv2.inRange(targets, (0, 0), (width - 1, height - 1)) > 0
    moved = cv2.remap(following, targets, None, cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE)
    return cv2.addWeighted(frame, SQRT_HALF, moved, -SQRT_HALF, 0.0), valid
