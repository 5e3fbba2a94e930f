"""Defocus match: measure how soft the plate is near the insertion point and blur the element to match.

Sharpness is the ratio of fine-band to mid-band detail energy on luminance; it depends on blur, not on contrast,
and falls monotonically as an image is blurred. The element's blur is found by bisection on that ratio.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from . import device as gpu
from . import frame_ops, tensor_ops
from .checks import (
    as_image,
    as_mask,
    check_choice,
    check_number,
    clip_frames,
    fit_frames,
    new_frames,
    optional_mask,
    same_size,
)
from .chunking import Progress, chunk_slices, each_frame, frame_threads, report

MAX_SIGMA = 16.0
SHAPES = ("gaussian", "disk")
MEASURED_FRAMES = 3
"""Frames of each clip whose sharpness is measured."""


def _luma(frame: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)


def sharpness(frame: np.ndarray, keep: np.ndarray | None = None) -> float:
    """Fine-band / mid-band mean absolute detail of one frame's luminance, over the kept pixels."""
    luma = _luma(frame)
    g1 = frame_ops.gaussian_blur(luma, 1.0)
    g2 = frame_ops.gaussian_blur(luma, 2.0)
    fine, mid = np.abs(luma - g1), np.abs(g1 - g2)
    if keep is not None:
        if keep.sum() < 64:
            raise ValueError("fewer than 64 pixels are left to measure sharpness from; widen the region or mask.")
        fine, mid = fine[keep], mid[keep]
    return float(fine.mean() / max(mid.mean(), 1e-8))


def _sample(
    frames: torch.Tensor, mask: torch.Tensor | None, count: int = MEASURED_FRAMES
) -> list[tuple[np.ndarray, np.ndarray | None]]:
    picks = np.unique(np.linspace(0, frames.shape[0] - 1, min(count, frames.shape[0])).round().astype(int))
    return [(frames[i].numpy(), None if mask is None else mask[i].numpy() > 0.5) for i in picks]


@frame_threads
def estimate_defocus(
    element: torch.Tensor,
    plate: torch.Tensor,
    element_mask: torch.Tensor | None = None,
    plate_region: torch.Tensor | None = None,
) -> float:
    """Gaussian sigma (pixels) that brings the element's sharpness down to the plate's; 0 when the element is already
    softer."""
    element, plate = as_image("element", element), as_image("plate", plate)
    element_mask = optional_mask("element_mask", element_mask, "element", element)
    plate_region = optional_mask("plate_region", plate_region, "plate", plate)
    target = np.median([sharpness(f, k) for f, k in _sample(plate, plate_region)])
    samples = _sample(element, element_mask)

    def element_sharpness(sigma: float) -> float:
        return float(np.median([sharpness(frame_ops.gaussian_blur(f, sigma), k) for f, k in samples]))

    if element_sharpness(0.0) <= target:
        return 0.0
    low, high = 0.0, MAX_SIGMA
    for _ in range(14):
        middle = 0.5 * (low + high)
        low, high = (middle, high) if element_sharpness(middle) > target else (low, middle)
    return 0.5 * (low + high)


def _disk(radius: float) -> np.ndarray:
    size = 2 * int(np.ceil(radius)) + 1
    kernel = np.zeros((size * 8, size * 8), np.float32)
    cv2.circle(kernel, (size * 4, size * 4), int(radius * 8), 1.0, -1, lineType=cv2.LINE_AA)
    kernel = cv2.resize(kernel, (size, size), interpolation=cv2.INTER_AREA)
    return kernel / kernel.sum()


@frame_threads
def defocus(
    element: torch.Tensor,
    alpha: torch.Tensor,
    sigma: float,
    shape: str = "gaussian",
    progress: Progress | None = None,
    device: torch.device | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Blur the premultiplied element and its alpha together: a Gaussian of `sigma`, or a lens disk of radius
    2*sigma. On a `device` (a GPU) whole frames are blurred there (`_defocus_on_device`); the frames stay where they
    came from (device.py)."""
    check_choice("shape", shape, SHAPES)
    sigma = check_number("sigma", sigma, 0.0)
    element, alpha = as_image("element", element, device), as_mask("element_mask", alpha, device)
    frames = clip_frames(element=element, element_mask=alpha)
    element, alpha = fit_frames("element", element, frames), fit_frames("element_mask", alpha, frames)
    same_size("element_mask", alpha, "element", element)
    if sigma <= 0:
        return element.clone(), alpha.clone()
    kernel = _disk(2.0 * sigma) if shape == "disk" else None
    reach = kernel.shape[0] // 2 if kernel is not None else frame_ops.gaussian_reach(sigma)
    if device is not None:
        gaussian = frame_ops.gaussian_kernel(sigma) if kernel is None else None
        kernel_2d = kernel if gaussian is None else gaussian @ gaussian.T
        out, out_alpha = _defocus_on_device(element, alpha, kernel_2d, torch.device(device))
        report(progress, slice(0, frames))
        return out, out_alpha
    out, out_alpha = new_frames(*element.shape), new_frames(*alpha.shape)

    def blur(premultiplied: np.ndarray) -> np.ndarray:
        if kernel is None:
            return frame_ops.gaussian_blur(premultiplied, sigma)
        return cv2.filter2D(premultiplied, -1, kernel, borderType=cv2.BORDER_REFLECT)

    def defocus_frame(index: int) -> None:
        frames_in = element[index].numpy(), alpha[index].numpy()
        frame_ops.blur_premultiplied(*frames_in, blur, reach, out[index].numpy(), out_alpha[index].numpy())

    for part in chunk_slices(frames, 8):
        each_frame(defocus_frame, part)
        report(progress, part)
    return out, out_alpha


DEVICE_FRAME_PLANES = 20  # float32 planes a frame takes on the device: RGBA, its padded copy and blur, the results


def _defocus_on_device(
    element: torch.Tensor,
    alpha: torch.Tensor,
    kernel: np.ndarray,
    device: torch.device,
) -> tuple[torch.Tensor, torch.Tensor]:
    """`frame_ops.blur_premultiplied` on whole frames on `device`, part by part: the RGBA frames convolved with the
    kernel (reflected borders), the colour un-mixed where any coverage is left, the element's own colour elsewhere."""
    frames, height, width, _ = element.shape

    def compute(part: slice) -> tuple[torch.Tensor, torch.Tensor]:
        colour, weight = gpu.moved(element, device, part), gpu.moved(alpha, device, part)
        return tensor_ops.blur_premultiplied(colour, weight, kernel, reflect=True)

    return gpu.by_parts(device, frames, height * width * DEVICE_FRAME_PLANES * 4, compute, element.device)
