"""Motion blur along each frame's velocity, on the premultiplied element so edges blur into transparency."""

from __future__ import annotations

import cv2
import numpy as np
import torch

from .checks import as_image, as_mask, check_number, clip_frames, fit_frames, new_frames, same_size
from .chunking import Progress, chunk_slices, each_frame, frame_threads, report
from .frame_ops import blur_premultiplied


def velocities(path: torch.Tensor) -> torch.Tensor:
    """Per-frame velocity [frames, 2] (pixels per frame) of a path by central differences."""
    if path.shape[0] < 2:
        return torch.zeros_like(path)
    return torch.gradient(path.double(), dim=0)[0].float()


def matte_centroids(mask: torch.Tensor) -> torch.Tensor:
    """Centre of mass [frames, 2] of each frame's matte (the last known one where a frame is empty)."""
    frames, height, width = mask.shape
    ys = torch.arange(height, dtype=torch.float32)[None, :, None]
    xs = torch.arange(width, dtype=torch.float32)[None, None, :]
    total = mask.sum(dim=(1, 2))
    centroids = (
        torch.stack([(mask * xs).sum(dim=(1, 2)), (mask * ys).sum(dim=(1, 2))], -1) / total.clamp(min=1e-6)[:, None]
    )
    for index in range(1, frames):
        if total[index] <= 0:
            centroids[index] = centroids[index - 1]
    return centroids


def line_kernel(dx: float, dy: float) -> np.ndarray:
    """A normalised, anti-aliased line kernel covering the displacement (dx, dy) centred on the pixel."""
    length = float(np.hypot(dx, dy))
    size = 2 * int(np.ceil(length / 2)) + 3
    scale = 8  # draw at 8x and shrink for sub-pixel accuracy
    canvas = np.zeros((size * scale, size * scale), np.float32)
    centre = size * scale / 2
    start = (round(centre - dx * scale / 2), round(centre - dy * scale / 2))
    end = (round(centre + dx * scale / 2), round(centre + dy * scale / 2))
    cv2.line(canvas, start, end, 1.0, thickness=scale, lineType=cv2.LINE_AA)
    kernel = cv2.resize(canvas, (size, size), interpolation=cv2.INTER_AREA)
    return kernel / kernel.sum()


@frame_threads
def motion_blur(
    element: torch.Tensor,
    alpha: torch.Tensor,
    velocity: torch.Tensor | None,
    shutter: float = 0.5,
    progress: Progress | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Blur each frame along velocity * shutter (fraction of the frame interval the shutter is open).

    `velocity` is [frames, 2] or [1, 2] pixels per frame; None takes it from the movement of the matte's centre.
    """
    shutter = check_number("shutter", shutter, 0.0, 4.0)
    element, alpha = as_image("element", element), as_mask("element_mask", alpha)
    frames = clip_frames(element=element, element_mask=alpha)
    element, alpha = fit_frames("element", element, frames), fit_frames("element_mask", alpha, frames)
    same_size("element_mask", alpha, "element", element)
    if velocity is None:
        velocity = velocities(matte_centroids(alpha))
    velocity = torch.as_tensor(velocity, dtype=torch.float32).reshape(-1, 2)
    if velocity.shape[0] not in (1, frames) or not torch.isfinite(velocity).all():
        raise ValueError(
            f"velocity must be finite, one (dx, dy) per frame ({frames}) or one for all; got {tuple(velocity.shape)}."
        )
    velocity = velocity.expand(frames, 2)
    out, out_alpha = new_frames(*element.shape), new_frames(*alpha.shape)

    def blur_frame(index: int) -> None:
        dx, dy = (velocity[index] * shutter).tolist()
        if np.hypot(dx, dy) < 0.5:
            out[index], out_alpha[index] = element[index], alpha[index]
            return
        kernel = line_kernel(dx, dy)

        def blur(premultiplied: np.ndarray) -> np.ndarray:
            return cv2.filter2D(premultiplied, -1, kernel, borderType=cv2.BORDER_CONSTANT)

        frames_in = element[index].numpy(), alpha[index].numpy()
        blur_premultiplied(*frames_in, blur, kernel.shape[0] // 2, out[index].numpy(), out_alpha[index].numpy())

    for part in chunk_slices(frames, 8):
        each_frame(blur_frame, part)
        report(progress, part)
    return out, out_alpha
