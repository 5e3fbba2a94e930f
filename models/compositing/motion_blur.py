"""Motion blur along each frame's velocity, on the premultiplied element so edges blur into transparency."""

from __future__ import annotations

import cv2
import numpy as np
import torch

from . import device as gpu
from . import tensor_ops
from .checks import as_image, as_mask, check_number, clip_frames, fit_frames, new_frames, same_size
from .chunking import Progress, chunk_slices, each_frame, frame_threads, report
from .frame_ops import blur_premultiplied


def velocities(path: torch.Tensor) -> torch.Tensor:
    """Per-frame velocity [frames, 2] (pixels per frame) of a path by central differences."""
    if path.shape[0] < 2:
        return torch.zeros_like(path)
    return torch.gradient(path.double(), dim=0)[0].float()


def matte_velocities(mask: torch.Tensor) -> torch.Tensor:
    """Per-frame velocity [frames, 2] of the matte's centre of mass: central differences where both neighbours show
    the matte, one-sided where one does, none where neither does. An element entering or leaving the shot is not
    smeared towards a position it never held, and each frame needs only its neighbours (as a streamed block has)."""
    frames, height, width = mask.shape
    ys = torch.arange(height, dtype=torch.float64, device=mask.device)[None, :, None]
    xs = torch.arange(width, dtype=torch.float64, device=mask.device)[None, None, :]
    weights = mask.double()
    total = weights.sum(dim=(1, 2))
    centre = torch.stack([(weights * xs).sum(dim=(1, 2)), (weights * ys).sum(dim=(1, 2))], -1)
    centre, total = (centre / total.clamp(min=1e-12)[:, None]).cpu(), total.cpu()  # a few numbers, to the CPU
    shown = (total > 0).tolist()
    velocity = torch.zeros(frames, 2, dtype=torch.float64)
    for index in (index for index in range(frames) if shown[index]):
        first = index - 1 if index > 0 and shown[index - 1] else index
        last = index + 1 if index + 1 < frames and shown[index + 1] else index
        if last > first:
            velocity[index] = (centre[last] - centre[first]) / (last - first)
    return velocity.float()


MIN_STREAK = 0.5  # pixels: a shorter streak leaves the frame as it is


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
    device: torch.device | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Blur each frame along velocity * shutter (fraction of the frame interval the shutter is open).

    `velocity` is [frames, 2] or [1, 2] pixels per frame; None takes it from the movement of the matte's centre
    (`matte_velocities`). On a `device` (a GPU) whole frames are blurred there (`_blur_on_device`); the frames stay
    where they came from (device.py).
    """
    shutter = check_number("shutter", shutter, 0.0, 4.0)
    element, alpha = as_image("element", element, device), as_mask("element_mask", alpha, device)
    frames = clip_frames(element=element, element_mask=alpha)
    element, alpha = fit_frames("element", element, frames), fit_frames("element_mask", alpha, frames)
    same_size("element_mask", alpha, "element", element)
    if velocity is None:
        velocity = matte_velocities(alpha)
    velocity = torch.as_tensor(velocity, dtype=torch.float32, device="cpu").reshape(-1, 2)
    if velocity.shape[0] not in (1, frames) or not torch.isfinite(velocity).all():
        raise ValueError(
            f"velocity must be finite, one (dx, dy) per frame ({frames}) or one for all; got {tuple(velocity.shape)}."
        )
    velocity = velocity.expand(frames, 2)
    if device is not None:
        out, out_alpha = _blur_on_device(element, alpha, velocity * shutter, torch.device(device))
        report(progress, slice(0, frames))
        return out, out_alpha
    out, out_alpha = new_frames(*element.shape), new_frames(*alpha.shape)

    def blur_frame(index: int) -> None:
        dx, dy = (velocity[index] * shutter).tolist()
        if np.hypot(dx, dy) < MIN_STREAK:
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


DEVICE_FRAME_PLANES = 20  # float32 planes a frame takes on the device: RGBA, its padded copy and blur, the results


def _blur_on_device(
    element: torch.Tensor,
    alpha: torch.Tensor,
    streaks: torch.Tensor,
    device: torch.device,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Each frame blurred along its streak [frames, 2] on `device`, part by part (zero borders, as on the CPU);
    a frame whose streak is under MIN_STREAK is left as it is."""
    frames, height, width, _ = element.shape

    def compute(part: slice) -> tuple[torch.Tensor, torch.Tensor]:
        colour, weight = gpu.moved(element, device, part), gpu.moved(alpha, device, part)
        blurred, covered = [], []
        for offset, (dx, dy) in enumerate(streaks[part].tolist()):
            frame = colour[offset : offset + 1], weight[offset : offset + 1]
            if np.hypot(dx, dy) >= MIN_STREAK:
                frame = tensor_ops.blur_premultiplied(*frame, line_kernel(dx, dy), reflect=False)
            blurred.append(frame[0])
            covered.append(frame[1])
        return torch.cat(blurred), torch.cat(covered)

    return gpu.by_parts(device, frames, height * width * DEVICE_FRAME_PLANES * 4, compute, element.device)
