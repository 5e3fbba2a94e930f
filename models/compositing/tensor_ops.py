"""Frame operations on torch tensors wherever they are (ComfyUI's GPU): the device paths' twins of `frame_ops`,
computing what OpenCV computes there for the same frames."""

from __future__ import annotations

import functools
import math

import cv2
import numpy as np
import torch

from . import frame_ops
from .frame_ops import COVERAGE_FLOOR


def symmetric_pad(frames: torch.Tensor, reach: int) -> torch.Tensor:
    """[N, C, H, W] padded by `reach` on each side with the edge pixel repeated (OpenCV's BORDER_REFLECT)."""
    for axis in (2, 3):
        size = frames.shape[axis]
        count = min(reach, size)
        before = frames.narrow(axis, 0, count).flip(axis)
        after = frames.narrow(axis, size - count, count).flip(axis)
        frames = torch.cat([before, frames, after], dim=axis)
    return frames


def blur_premultiplied(
    colour: torch.Tensor, alpha: torch.Tensor, kernel: np.ndarray, reflect: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """`frame_ops.blur_premultiplied` of whole frames [N, H, W, 3] and [N, H, W] with one 2-D kernel (borders
    reflected, or zero): (colour, coverage), the colour un-mixed where coverage is left and the element's own
    elsewhere."""
    reach = kernel.shape[0] // 2
    weights = torch.from_numpy(np.ascontiguousarray(kernel, dtype=np.float32)).to(colour.device)
    rgba = torch.cat([colour * alpha[..., None], alpha[..., None]], dim=-1).permute(0, 3, 1, 2)
    padded = symmetric_pad(rgba, reach) if reflect else torch.nn.functional.pad(rgba, (reach,) * 4)
    blurred = torch.nn.functional.conv2d(padded, weights[None, None].expand(4, 1, -1, -1), groups=4)
    blurred = blurred.permute(0, 2, 3, 1)
    covered = blurred[..., 3].clamp(0.0, 1.0)
    empty = covered <= COVERAGE_FLOOR
    covered = covered.masked_fill(empty, 0.0)
    unmixed = (blurred[..., :3] / covered.clamp(min=COVERAGE_FLOOR)[..., None]).clamp(0.0, 1.0)
    return torch.where(empty[..., None], colour, unmixed), covered


def gaussian_blur(frames: torch.Tensor, sigma: float) -> torch.Tensor:
    """`frame_ops.gaussian_blur` of frames [N, H, W, C] in torch: OpenCV's float kernel (4 sigma either side), applied
    along each axis, borders reflected."""
    kernel = torch.from_numpy(frame_ops.gaussian_kernel(sigma).reshape(-1)).to(frames.device)
    channels, reach = frames.shape[-1], kernel.shape[0] // 2
    planes = symmetric_pad(frames.permute(0, 3, 1, 2), reach)
    rows = torch.nn.functional.conv2d(planes, kernel.view(1, 1, -1, 1).expand(channels, 1, -1, 1), groups=channels)
    both = torch.nn.functional.conv2d(rows, kernel.view(1, 1, 1, -1).expand(channels, 1, 1, -1), groups=channels)
    return both.permute(0, 2, 3, 1)


@functools.cache
def _taps(source: int, size: int, interpolation: int) -> tuple[np.ndarray, np.ndarray]:
    """OpenCV's resampling of one axis from `source` to `size` samples as taps (indices [size, K], weights [size, K]),
    read off its response to each source sample: the same weights OpenCV applies, whatever the ratio."""
    response = cv2.resize(np.eye(source, dtype=np.float32), (size, source), interpolation=interpolation).T
    count = max(1, int(np.count_nonzero(response, axis=1).max()))
    index = np.argsort(response == 0, axis=1, kind="stable")[:, :count]
    return np.ascontiguousarray(index), np.ascontiguousarray(np.take_along_axis(response, index, 1))


def _resample(frames: torch.Tensor, axis: int, size: int, interpolation: int) -> torch.Tensor:
    """`frames` resampled along `axis` to `size` samples with OpenCV's weights for `interpolation`."""
    if frames.shape[axis] == size:
        return frames
    index, weight = (torch.from_numpy(x).to(frames.device) for x in _taps(frames.shape[axis], size, interpolation))
    broadcast = (-1,) + (1,) * (frames.ndim - axis - 1)
    out = frames.index_select(axis, index[:, 0]) * weight[:, 0].view(broadcast)
    for tap in range(1, index.shape[1]):
        out.addcmul_(frames.index_select(axis, index[:, tap]), weight[:, tap].view(broadcast))
    return out


def resize(frames: torch.Tensor, width: int, height: int, interpolation: int | None = None) -> torch.Tensor:
    """`frame_ops.resize` of frames [N, H, W] or [N, H, W, C] in torch (area-average when shrinking, bilinear when
    growing), or OpenCV's `interpolation` when given (INTER_NEAREST, say), along the width and then the height."""
    if interpolation is None:
        shrinking = width * height < frames.shape[1] * frames.shape[2]
        interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return _resample(_resample(frames, 2, width, interpolation), 1, height, interpolation)


def grow(frames: torch.Tensor, pixels: int) -> torch.Tensor:
    """`frame_ops.grow` of frames [N, H, W] in torch: dilate (pixels > 0) or erode (pixels < 0) with OpenCV's round
    structuring element, pixels beyond the frame ignored. The element is taken row by row: each row's span is a
    horizontal maximum, widened one pixel a side at a time, taken at that row's vertical offset."""
    if pixels == 0:
        return frames
    reach = abs(int(pixels))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1))
    offsets: dict[int, list[int]] = {}
    for row, line in enumerate(kernel):
        columns = np.flatnonzero(line)
        if columns.size:
            offsets.setdefault(reach - int(columns[0]), []).append(row - reach)
    signed = frames if pixels > 0 else -frames
    height, width = frames.shape[1:3]
    spread = torch.nn.functional.pad(signed, (reach, reach), value=-math.inf)
    out = torch.full_like(signed, -math.inf)
    for half in range(reach + 1):
        if half > 0:  # a span one pixel wider each side: the maximum of the narrower one around each pixel
            wider = spread.clone()
            wider[..., 1:-1] = torch.maximum(torch.maximum(spread[..., :-2], spread[..., 1:-1]), spread[..., 2:])
            spread = wider
        inner = spread[..., reach : reach + width]
        for dy in offsets.get(half, ()):
            rows, shifted = slice(max(0, -dy), height - max(0, dy)), slice(max(0, dy), height - max(0, -dy))
            out[:, rows] = torch.maximum(out[:, rows], inner[:, shifted])
    return out if pixels > 0 else -out
