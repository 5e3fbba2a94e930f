"""Per-frame spatial kernels through OpenCV on zero-copy numpy views of CPU tensors."""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np
import torch


def view(frame: torch.Tensor) -> np.ndarray:
    """A numpy view of one CPU float32 frame (no copy)."""
    return frame.numpy()


def gray8(frame: torch.Tensor) -> np.ndarray:
    """An 8-bit grey copy of an RGB frame, what OpenCV's trackers and optical flow read."""
    return cv2.cvtColor((frame.clamp(0, 1) * 255).round().to(torch.uint8).numpy(), cv2.COLOR_RGB2GRAY)


FLOW_MIN_SIDE = 32
"""OpenCV's DIS optical flow refuses frames under 12 pixels on both sides and crashes the whole process on short,
wide ones (24 x 400, say); `dense_flow` pads frames to this on each side and crops the flow back."""


def dense_flow(first: np.ndarray, second: np.ndarray, preset: int = cv2.DISOPTICAL_FLOW_PRESET_FAST) -> np.ndarray:
    """DIS optical flow [h, w, 2] from one 8-bit grey frame to another of the same size, for frames of any size (a
    frame padded with its edges adds no motion)."""
    height, width = first.shape
    pad = ((0, max(0, FLOW_MIN_SIDE - height)), (0, max(0, FLOW_MIN_SIDE - width)))
    if pad != ((0, 0), (0, 0)):
        first, second = np.pad(first, pad, mode="edge"), np.pad(second, pad, mode="edge")
    flow = cv2.DISOpticalFlow_create(preset).calc(first, second, None)
    return np.ascontiguousarray(flow[:height, :width])


def resize(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    """Area-average when shrinking, bilinear when growing; any number of channels (OpenCV's resize takes four at
    most, so more are resized four at a time)."""
    shrinking = width * height < frame.shape[0] * frame.shape[1]
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    if frame.ndim < 3 or frame.shape[2] <= 4:
        return cv2.resize(frame, (width, height), interpolation=interpolation)
    parts = [
        cv2.resize(frame[..., i : i + 4], (width, height), interpolation=interpolation)
        for i in range(0, frame.shape[2], 4)
    ]
    return cv2.merge(parts).reshape(height, width, frame.shape[2])  # several times faster than numpy's concatenate


def per_channel(plane: np.ndarray, channels: int) -> np.ndarray:
    """A plane [h, w] repeated as each of `channels` interleaved channels [h, w, channels] (a bool plane stays bool):
    arithmetic between same-shaped frames is several times faster than numpy's broadcasting over a short last axis."""
    if plane.dtype == bool:
        return cv2.merge([plane.view(np.uint8)] * channels).reshape(*plane.shape, channels).view(bool)
    return cv2.merge([plane] * channels).reshape(*plane.shape, channels)


def enlarge_region(small: np.ndarray, width: int, height: int, box: tuple[int, int, int, int]) -> np.ndarray:
    """The part `box` (x0, y0, x1, y1) of `small` enlarged bilinearly to width x height, as `resize` would give it
    (same sample positions and edge clamping), without computing the rest of the frame."""
    x0, y0, x1, y1 = box
    scale_x, scale_y = small.shape[1] / width, small.shape[0] / height
    matrix = np.array([[scale_x, 0.0, (x0 + 0.5) * scale_x - 0.5], [0.0, scale_y, (y0 + 0.5) * scale_y - 0.5]])
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    return cv2.warpAffine(small, matrix, (x1 - x0, y1 - y0), flags=flags, borderMode=cv2.BORDER_REPLICATE)


def nonzero_box(
    frame: np.ndarray, margin: int = 0, scale: tuple[float, float] = (1.0, 1.0)
) -> tuple[int, int, int, int] | None:
    """Bounding box (x0, y0, x1, y1) of a frame's pixels with any non-zero channel, grown by `margin` pixels and then
    scaled by (x, y) factors (a coarse grid's box on the full frame); None when every pixel is zero."""
    rows, cols = frame.shape[:2]
    channels = frame.shape[2] if frame.ndim == 3 else 1
    x, y, w, h = cv2.boundingRect((frame != 0).reshape(rows, cols * channels).view(np.uint8))
    if w == 0:
        return None
    x, w = x // channels, (x + w + channels - 1) // channels - x // channels
    x0, y0, x1, y1 = max(0, x - margin), max(0, y - margin), min(cols, x + w + margin), min(rows, y + h + margin)
    scale_x, scale_y = scale
    return int(x0 * scale_x), int(y0 * scale_y), math.ceil(x1 * scale_x), math.ceil(y1 * scale_y)


def gaussian_blur(frame: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur with reflected borders; sigma in pixels, 0 returns the frame."""
    if sigma <= 0:
        return frame
    return cv2.GaussianBlur(frame, (0, 0), sigmaX=float(sigma), borderType=cv2.BORDER_REFLECT)


def gaussian_kernel(sigma: float) -> np.ndarray:
    """The 1-D kernel [size, 1] (float32) `gaussian_blur` applies along each axis, OpenCV's for float frames (4 sigma
    either side): for the paths that convolve with it themselves (on a device, or as one 2-D kernel)."""
    return cv2.getGaussianKernel(round(sigma * 8 + 1) | 1, sigma, cv2.CV_32F)


def gaussian_reach(sigma: float) -> int:
    """How many pixels `gaussian_blur` reaches: OpenCV's kernel for float frames spans 4 sigma either side."""
    return math.ceil(4 * sigma) + 1


def wide_blur(frame: np.ndarray, sigma: float) -> np.ndarray:
    """A large Gaussian blur computed on a reduced copy: a wide blur has no detail a smaller grid would lose."""
    factor = int(max(1, sigma // 3))
    if factor == 1:
        return gaussian_blur(frame, sigma)
    height, width = frame.shape[:2]
    small = resize(frame, max(1, width // factor), max(1, height // factor))
    return resize(gaussian_blur(small, sigma / factor), width, height)


def grow(frame: np.ndarray, pixels: int) -> np.ndarray:
    """Dilate (pixels > 0) or erode (pixels < 0) with a round structuring element."""
    if pixels == 0:
        return frame
    size = 2 * abs(pixels) + 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    return cv2.dilate(frame, kernel) if pixels > 0 else cv2.erode(frame, kernel)


def warp_affine(frame: np.ndarray, matrix: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resample `frame` through a 2x3 forward affine `matrix` onto a width x height canvas, transparent outside."""
    return cv2.warpAffine(
        frame,
        matrix.astype(np.float64),
        (width, height),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )


COVERAGE_FLOOR = 1e-6  # a blurred alpha below this counts as no coverage


def blur_premultiplied(
    colour: np.ndarray,
    alpha: np.ndarray,
    blur: Callable[[np.ndarray], np.ndarray],
    reach: int,
    out: np.ndarray,
    coverage: np.ndarray,
) -> None:
    """An element blurred premultiplied by its alpha, with the alpha blurred alongside so edges blur into
    transparency, written into `out` [H, W, 3] and `coverage` [H, W]. `blur` maps an RGBA frame to its blur and
    reaches `reach` pixels: only the alpha's box grown by that much is computed (a zero border as wide as the
    kernel's reach stands in for the rest of the frame, whatever the blur's border rule), and outside it the
    coverage is 0 and the colour the element's own."""
    np.copyto(out, colour)
    coverage.fill(0.0)
    box = nonzero_box(alpha, reach + 1)
    if box is None:
        return
    x0, y0, x1, y1 = box
    part, weight = colour[y0:y1, x0:x1], alpha[y0:y1, x0:x1]
    blurred = blur(cv2.merge([part * weight[..., None], weight]))
    covered = np.clip(blurred[..., 3], 0.0, 1.0, out=coverage[y0:y1, x0:x1])
    empty = (
        covered <= COVERAGE_FLOOR
    )  # includes the round-off a DFT-based filter leaves where the kernel reaches nothing
    covered[empty] = 0.0
    unmixed = np.clip(blurred[..., :3] / np.maximum(covered, COVERAGE_FLOOR)[..., None], 0.0, 1.0)
    np.copyto(out[y0:y1, x0:x1], unmixed, where=~empty[..., None])
