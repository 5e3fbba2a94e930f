"""Colour match an element to a plate: Reinhard LAB mean/std, per-channel histogram matching, or MKL (Pitié & Kokaram).

Statistics are taken over the whole clip (on a 1/4-size copy, which leaves means, spreads and histograms unchanged
to within sampling noise), so the correction is stable in time. Where masks are given, only the pixels they select
count: the element's own matte, and the plate region around where the element lands.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from . import device as gpu
from . import frame_ops
from .checks import as_mask, check_choice, check_number, element_over_plate, new_frames
from .chunking import Progress, chunk_slices, each_frame, frame_threads, map_frames, report
from .colorspace import lab_to_rgb, lab_to_rgb_torch, rgb_to_lab, rgb_to_lab_torch

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


@dataclass(frozen=True)
class ColorTransform:
    """One clip's correction: `transform(frame, out) -> out` moves one frame's colours onto the plate's on the CPU;
    `on_device(frames)` does it to a batch on its torch device. `matrix` is a 3x4 affine (in LAB for reinhard_lab,
    RGB for mkl), `curves` the histogram method's (inputs, outputs) [3, Q] each."""

    method: str
    matrix: np.ndarray | None = None
    curves: tuple[np.ndarray, np.ndarray] | None = None

    def __call__(self, frame: np.ndarray, out: np.ndarray) -> np.ndarray:
        if self.curves is not None:
            return _apply_curves(frame, self.curves, out)
        apply = _apply_lab_affine if self.method == "reinhard_lab" else _apply_affine
        return apply(frame, self.matrix, out)

    def on_device(self, frames: torch.Tensor) -> torch.Tensor:
        """The corrected batch [..., 3], computed where `frames` are. LAB is the exact conversion, OpenCV's float
        one interpolates a table, so reinhard_lab differs from the CPU path by up to 0.03 where colours leave the
        gamut (0.002 on average)."""
        if self.curves is not None:
            inputs, outputs = (
                torch.from_numpy(part).to(frames.device, torch.float32).contiguous() for part in self.curves
            )
            return torch.stack([_interp(frames[..., c], inputs[c], outputs[c]) for c in range(3)], dim=-1)
        matrix = torch.from_numpy(self.matrix).to(frames.device)
        if self.method == "reinhard_lab":
            return lab_to_rgb_torch(rgb_to_lab_torch(frames) @ matrix[:, :3].T + matrix[:, 3])
        return (frames @ matrix[:, :3].T + matrix[:, 3]).clamp(0.0, 1.0)


def _interp(values: torch.Tensor, inputs: torch.Tensor, outputs: torch.Tensor) -> torch.Tensor:
    """np.interp in torch: piecewise linear through (inputs, outputs), held at the ends."""
    right = torch.searchsorted(inputs, values.contiguous()).clamp(1, inputs.shape[0] - 1)
    x0, x1, y0, y1 = inputs[right - 1], inputs[right], outputs[right - 1], outputs[right]
    share = ((values - x0) / (x1 - x0)).clamp(0.0, 1.0)
    return y0 + share * (y1 - y0)


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
    if method == "histogram":
        return ColorTransform(method, curves=histogram_curves(source, target))
    measure = reinhard_transform if method == "reinhard_lab" else mkl_transform
    return ColorTransform(method, matrix=measure(source, target).astype(np.float32))


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
    device: torch.device | None = None,
) -> torch.Tensor:
    """The element IMAGE with its colour statistics moved onto the plate's (optionally only from masked pixels).

    Frames follow the engine's rule: a single-frame element over an N-frame plate gets N frames. `transform` is
    `color_transform` of the whole clip, given when the frames are one block of a longer clip. On a `device` (a GPU)
    the correction is applied there (`ColorTransform.on_device`); the frames stay where they came from (device.py).
    """
    check_choice("method", method, METHODS)
    strength = check_number("strength", strength, 0.0, 1.0)
    element, plate, element_mask, plate_region = element_over_plate(element, plate, element_mask, plate_region, device)
    frames = element.shape[0]
    transform = transform or color_transform(element, plate, method, element_mask, plate_region)
    if device is not None:
        out = _match_on_device(element, transform, strength, torch.device(device))
        report(progress, slice(0, frames))
        return out
    out = new_frames(*element.shape)

    def match_frame(index: int) -> None:
        transform(frame_ops.view(element[index]), frame_ops.view(out[index]))
        if strength < 1.0:
            torch.lerp(element[index], out[index], float(strength), out=out[index])

    for part in chunk_slices(frames, 8):
        each_frame(match_frame, part)
        report(progress, part)
    return out


DEVICE_FRAME_PLANES = 30  # float32 planes a frame takes on the device: the element, LAB and its temporaries, result


def _match_on_device(
    element: torch.Tensor, transform: ColorTransform, strength: float, device: torch.device
) -> torch.Tensor:
    """The correction applied on `device`, part by part, blended with the element below full strength."""
    frames, height, width, _ = element.shape

    def compute(part: slice) -> tuple[torch.Tensor]:
        frames_there = gpu.moved(element, device, part)
        return (torch.lerp(frames_there, transform.on_device(frames_there), float(strength)),)

    return gpu.by_parts(device, frames, height * width * DEVICE_FRAME_PLANES * 4, compute, element.device)[0]


def region_around(mask: torch.Tensor, pixels: int) -> torch.Tensor:
    """The plate region around where the element lands: its matte grown by `pixels` (solid where the matte is above
    0.5)."""
    mask = as_mask("element_mask", mask)
    pixels = int(check_number("around_element", pixels, 0))
    binary = (mask > 0.5).float()
    return torch.stack([torch.from_numpy(frame_ops.grow(frame_ops.view(frame), int(pixels))) for frame in binary])
