"""Frame operations on torch tensors wherever they are (ComfyUI's GPU): the device paths' twins of `frame_ops`,
computing what OpenCV computes there for the same frames."""

from __future__ import annotations

import cv2
import numpy as np
import torch

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
    size = round(sigma * 8 + 1) | 1
    kernel = torch.from_numpy(cv2.getGaussianKernel(size, sigma, cv2.CV_32F).reshape(-1)).to(frames.device)
    channels, reach = frames.shape[-1], size // 2
    planes = symmetric_pad(frames.permute(0, 3, 1, 2), reach)
    rows = torch.nn.functional.conv2d(planes, kernel.view(1, 1, -1, 1).expand(channels, 1, -1, 1), groups=channels)
    both = torch.nn.functional.conv2d(rows, kernel.view(1, 1, 1, -1).expand(channels, 1, 1, -1), groups=channels)
    return both.permute(0, 2, 3, 1)
