"""Frame-rate conform: an element (with its alpha) retimed to another rate, e.g. a 16 fps Wan clip to a 24 fps plate.

Each output frame j lies at source position p = j * fps_in / fps_out (same playing time). Between source frames a
and a + 1 it is made by motion-compensated interpolation: OpenCV's DIS optical flow both ways, each frame warped
part of the way, premultiplied colour and alpha blended. Where the two flows disagree (occlusions, flow failures)
or with method "blend", the two frames are simply cross-faded.
"""

from __future__ import annotations

import json
from fractions import Fraction

import cv2
import numpy as np
import torch

from .checks import as_image, as_mask, check_choice, fit_frames
from .frame_ops import dense_flow, gray8

METHODS = ("motion", "blend")
CONSISTENCY_PIXELS = 1.5
"""Forward-backward flow error (pixels) above which a pixel falls back to a cross-fade."""


def conformed_frames(frames: int, fps_in: float, fps_out: float) -> int:
    """Output frames covering the same playing time as `frames` at fps_in."""
    if fps_in <= 0 or fps_out <= 0:
        raise ValueError(f"frame rates must be above 0; got {fps_in} -> {fps_out}.")
    return max(1, round(frames * Fraction(fps_out).limit_denominator(1001) / Fraction(fps_in).limit_denominator(1001)))


def source_positions(frames: int, fps_in: float, fps_out: float) -> np.ndarray:
    """Source position (in source frames, fractional) of every output frame, held at the last source frame."""
    count = conformed_frames(frames, fps_in, fps_out)
    return np.minimum(np.arange(count) * (float(fps_in) / float(fps_out)), frames - 1)


def mapping_report(frames: int, fps_in: float, fps_out: float) -> str:
    """The in/out frame mapping as JSON: for each output frame, the source position it shows."""
    positions = source_positions(frames, fps_in, fps_out)
    return json.dumps(
        {
            "fps_in": float(fps_in),
            "fps_out": float(fps_out),
            "frames_in": frames,
            "frames_out": len(positions),
            "source_position": [round(float(p), 4) for p in positions],
        }
    )


def pair_flows(first: torch.Tensor, second: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    a, b = gray8(first), gray8(second)
    return dense_flow(a, b), dense_flow(b, a)


def _warp(picture: np.ndarray, flow: np.ndarray, amount: float, grid: np.ndarray) -> np.ndarray:
    """Sample `picture` at x - amount * flow(x)."""
    coords = grid - amount * flow
    return cv2.remap(picture, coords[..., 0], coords[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def interpolate(
    first: torch.Tensor,
    second: torch.Tensor,
    first_alpha: torch.Tensor,
    second_alpha: torch.Tensor,
    weight: float,
    flows: tuple[np.ndarray, np.ndarray] | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The frame `weight` of the way from first to second; `flows` (forward, backward) or None for a cross-fade."""
    a = np.dstack([first.numpy() * first_alpha.numpy()[..., None], first_alpha.numpy()])
    b = np.dstack([second.numpy() * second_alpha.numpy()[..., None], second_alpha.numpy()])
    blended = (1.0 - weight) * a + weight * b
    if flows is not None:
        forward, backward = flows
        height, width = forward.shape[:2]
        grid = np.dstack(np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32)))
        moved = (1.0 - weight) * _warp(a, forward, weight, grid) + weight * _warp(b, backward, 1.0 - weight, grid)
        error = np.linalg.norm(forward + _warp(backward, forward, -1.0, grid), axis=-1)
        reliable = (error < CONSISTENCY_PIXELS)[..., None]
        blended = np.where(reliable, moved, blended)
    coverage = np.clip(blended[..., 3], 0.0, 1.0)
    colour = np.clip(blended[..., :3] / np.maximum(coverage, 1e-6)[..., None], 0.0, 1.0)
    colour = np.where(coverage[..., None] > 1e-6, colour, (1.0 - weight) * first.numpy() + weight * second.numpy())
    return torch.from_numpy(colour.astype(np.float32)), torch.from_numpy(coverage.astype(np.float32))


def conform_frame(
    pair: torch.Tensor, pair_alpha: torch.Tensor, weight: float, method: str, flows=None
) -> tuple[torch.Tensor, torch.Tensor]:
    """One output frame `weight` of the way between the two frames of `pair` (with their alpha); `flows` may be
    given when already computed for this pair."""
    if weight < 1e-4 or pair.shape[0] < 2:
        return pair[0], pair_alpha[0]
    if method == "motion" and flows is None:
        flows = pair_flows(pair[0], pair[1])
    return interpolate(pair[0], pair[1], pair_alpha[0], pair_alpha[1], weight, flows if method == "motion" else None)


def conform(
    image: torch.Tensor, alpha: torch.Tensor | None, fps_in: float, fps_out: float, method: str = "motion"
) -> tuple[torch.Tensor, torch.Tensor]:
    """IMAGE and its MASK (None: opaque) retimed from fps_in to fps_out, keeping the playing time."""
    check_choice("method", method, METHODS)
    image = as_image("image", image)
    alpha = torch.ones(image.shape[:3]) if alpha is None else fit_frames("alpha", as_mask("alpha", alpha), len(image))
    frames = [
        conform_frame(image[int(p) : int(p) + 2], alpha[int(p) : int(p) + 2], float(p - int(p)), method)
        for p in source_positions(image.shape[0], fps_in, fps_out)
    ]
    return torch.stack([f[0] for f in frames]), torch.stack([f[1] for f in frames])
