"""Colour match an element to a plate: Reinhard LAB mean/std, per-channel histogram matching, or MKL (Pitié & Kokaram).

Statistics are taken over the whole clip (on a 1/4-size copy, which leaves means, spreads and histograms unchanged
to within sampling noise), so the correction is stable in time. Where masks are given, only the pixels they select
count: the element's own matte, and the plate region around where the element lands.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import torch

from . import frame_ops
from .checks import as_mask, check_choice, check_number, element_over_plate, new_frames
from .chunking import Progress, chunk_slices, each_frame, frame_threads, map_frames, report
from .colorspace import lab_to_rgb, rgb_to_lab

METHODS = ("reinhard_lab", "histogram", "mkl")
STATS_SCALE = 4
SAMPLE_FRAMES = 24
HISTOGRAM_QUANTILES = 256
MIN_LAB_SPREAD = 1.0  # about one just-noticeable difference: a flat element is shifted, never amplified without bound
MIN_RGB_SPREAD = 1.0 / 255.0


def frame_pixels(frame: np.ndarray, weight: np.ndarray | None, to_lab: bool) -> np.ndarray:
    """One frame's pixels [n, 3] at 1/4 size, kept where the weight is above 0.5."""
    height, width = frame.shape[:2]
    size = (max(1, width // STATS_SCALE), max(1, height // STATS_SCALE))
    small = frame_ops.resize(frame, *size)
    pixels = (rgb_to_lab(small) if to_lab else small).reshape(-1, 3)
    if weight is None:
        return pixels
    return pixels[frame_ops.resize(weight, *size).reshape(-1) > 0.5]


def sample_pixels(
    frames: torch.Tensor, weights: torch.Tensor | None, to_lab: bool, max_frames: int = SAMPLE_FRAMES
) -> np.ndarray:
    """Pixels [N, 3] from up to `max_frames` evenly spaced frames at 1/4 size, kept where the weight is above 0.5."""
    count = frames.shape[0]
    picks = np.unique(np.linspace(0, count - 1, min(count, max_frames)).round().astype(int))

    def sample(index: int) -> np.ndarray:
        weight = None if weights is None else frame_ops.view(weights[index])
        return frame_pixels(frame_ops.view(frames[index]), weight, to_lab)

    return joined_pixels(map_frames(sample, picks))


def joined_pixels(parts: list[np.ndarray]) -> np.ndarray:
    """The sampled frames' pixels as one array; too few to measure raises."""
    pixels = np.concatenate(parts)
    if pixels.shape[0] < 16:
        raise ValueError(
            "the masks select fewer than 16 pixels to measure colour from; widen the region or element mask."
        )
    return pixels.astype(np.float64)


def reinhard_transform(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """3x4 affine in LAB mapping the source mean/std onto the target's, channel by channel (Reinhard et al. 2001)."""
    scale = target.std(0) / np.maximum(source.std(0), MIN_LAB_SPREAD)
    offset = target.mean(0) - source.mean(0) * scale
    return np.concatenate([np.diag(scale), offset[:, None]], axis=1)


def psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix."""
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def mkl_transform(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """3x4 affine in RGB: the Monge-Kantorovich linear map between the two colour distributions (Pitié & Kokaram
    2007)."""
    eps = MIN_RGB_SPREAD**2 * np.eye(3)
    cov_s = np.cov(source, rowvar=False) + eps
    cov_t = np.cov(target, rowvar=False) + eps
    root_s = psd_sqrt(cov_s)
    inv_root_s = np.linalg.inv(root_s)
    linear = inv_root_s @ psd_sqrt(root_s @ cov_t @ root_s) @ inv_root_s
    offset = target.mean(0) - linear @ source.mean(0)
    return np.concatenate([linear, offset[:, None]], axis=1)


def histogram_curves(source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel tone curves (input quantiles -> target quantiles), each [3, Q]."""
    levels = np.linspace(0.0, 1.0, HISTOGRAM_QUANTILES)
    inputs = np.quantile(source, levels, axis=0).T
    outputs = np.quantile(target, levels, axis=0).T
    for channel in range(3):  # np.interp needs strictly rising inputs; flat runs come from clipped or posterised areas
        inputs[channel] = np.maximum.accumulate(inputs[channel] + np.arange(HISTOGRAM_QUANTILES) * 1e-9)
    return inputs, outputs


def _apply_curves(frame: np.ndarray, curves: tuple[np.ndarray, np.ndarray], out: np.ndarray) -> np.ndarray:
    inputs, outputs = curves
    for channel in range(3):
        out[..., channel] = np.interp(frame[..., channel], inputs[channel], outputs[channel])
    return out


def _apply_affine(frame: np.ndarray, matrix: np.ndarray, out: np.ndarray) -> np.ndarray:
    cv2.transform(frame, matrix, dst=out)
    return np.clip(out, 0.0, 1.0, out=out)


def _apply_lab_affine(frame: np.ndarray, matrix: np.ndarray, out: np.ndarray) -> np.ndarray:
    lab = rgb_to_lab(frame)
    return lab_to_rgb(cv2.transform(lab, matrix, dst=lab), out=out)


ColorTransform = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""transform(frame, out) -> out: one frame's colours moved onto the plate's."""


def color_transform(
    element: torch.Tensor,
    plate: torch.Tensor,
    method: str,
    element_mask: torch.Tensor | None = None,
    plate_region: torch.Tensor | None = None,
) -> ColorTransform:
    """The correction measured from the element's and the plate's pixels over the whole clip (SAMPLE_FRAMES spread
    frames of each)."""
    check_choice("method", method, METHODS)
    lab = method == "reinhard_lab"
    return transform_from_pixels(
        sample_pixels(element, element_mask, lab), sample_pixels(plate, plate_region, lab), method
    )


def transform_from_pixels(source: np.ndarray, target: np.ndarray, method: str) -> ColorTransform:
    """The correction moving the source pixels' statistics onto the target's (LAB pixels for reinhard_lab)."""
    lab = method == "reinhard_lab"
    if method == "histogram":
        curves = histogram_curves(source, target)
        return lambda frame, out: _apply_curves(frame, curves, out)
    matrix = (reinhard_transform if lab else mkl_transform)(source, target).astype(np.float32)
    apply = _apply_lab_affine if lab else _apply_affine
    return lambda frame, out: apply(frame, matrix, out)


@frame_threads
def match_colors(
    element: torch.Tensor,
    plate: torch.Tensor,
    method: str = "reinhard_lab",
    strength: float = 1.0,
    element_mask: torch.Tensor | None = None,
    plate_region: torch.Tensor | None = None,
    progress: Progress | None = None,
    transform: ColorTransform | None = None,
) -> torch.Tensor:
    """The element IMAGE with its colour statistics moved onto the plate's (optionally only from masked pixels).

    Frames follow the engine's rule: a single-frame element over an N-frame plate gets N frames. `transform` is
    `color_transform` of the whole clip, given when the frames are one block of a longer clip.
    """
    check_choice("method", method, METHODS)
    strength = check_number("strength", strength, 0.0, 1.0)
    element, plate, element_mask, plate_region = element_over_plate(element, plate, element_mask, plate_region)
    frames = element.shape[0]
    transform = transform or color_transform(element, plate, method, element_mask, plate_region)
    out = new_frames(*element.shape)

    def match_frame(index: int) -> None:
        transform(frame_ops.view(element[index]), frame_ops.view(out[index]))
        if strength < 1.0:
            torch.lerp(element[index], out[index], float(strength), out=out[index])

    for part in chunk_slices(frames, 8):
        each_frame(match_frame, part)
        report(progress, part)
    return out


def region_around(mask: torch.Tensor, pixels: int) -> torch.Tensor:
    """The plate region around where the element lands: its matte grown by `pixels` (solid where the matte is above
    0.5)."""
    mask = as_mask("element_mask", mask)
    pixels = int(check_number("around_element", pixels, 0))
    binary = (mask > 0.5).float()
    return torch.stack([torch.from_numpy(frame_ops.grow(frame_ops.view(frame), int(pixels))) for frame in binary])
