"""Placement (position, scale, rotation per frame) and premultiplied 'over' in linear light.

An element is resampled premultiplied in linear light, so edges neither darken nor brighten. 'Over' is
out = F*a + B*(1 - a) on linear-light colours; only pixels with 0 < a < 1 need the sRGB round trip, the rest
are copies of the element or the plate, which keeps the operation exact and cheap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from . import device as gpu
from . import frame_ops
from .checks import as_image, as_mask, check_number, clip_frames, fit_frames, new_frames, same_size
from .chunking import Progress, chunk_slices, each_frame, frame_threads, report
from .colorspace import linear_to_srgb, srgb_to_linear


@dataclass(frozen=True)
class Placement:
    """Where the element goes on the plate, per frame (each a tensor [frames] or a float for all frames).

    The element pixel (anchor_x, anchor_y) lands on plate pixel (x, y); the element is scaled by `scale` and
    rotated by `rotation` degrees (counter-clockwise on screen) about that anchor.
    """

    x: torch.Tensor | float
    y: torch.Tensor | float
    scale: torch.Tensor | float = 1.0
    rotation: torch.Tensor | float = 0.0
    anchor_x: float = 0.0
    anchor_y: float = 0.0


def pixel_position(fraction: torch.Tensor | float, size: int) -> torch.Tensor | float:
    """A position given as a fraction of a side (what the GVFX nodes take) in pixels of a `size`-pixel side.

    In: `fraction`, a float or a tensor of any shape (0 = the first pixel's centre, 1 = the last's; values
    outside 0..1 lie off the frame); `size`, the side in pixels. Out: the same shape, in pixels, not rounded
    (positions between pixel centres are resampled). The far edge maps inside the frame, so a point at 1 can
    still be tracked.
    """
    return fraction * (size - 1)


def placed_frames(plate_frames: int, element_frames: int) -> int:
    """How many frames an element placed on a plate runs: the longer of the two, so a one-frame element lasts the
    whole plate and a path or a scale ramp spans every frame the composite will have."""
    return max(plate_frames, element_frames)


def _per_frame(value: torch.Tensor | float, frames: int, name: str) -> torch.Tensor:
    values = torch.as_tensor(value, dtype=torch.float64).reshape(-1)
    if not torch.isfinite(values).all():
        raise ValueError(f"placement {name} contains NaN or infinite values.")
    if values.numel() == 1:
        return values.expand(frames)
    if values.numel() != frames:
        raise ValueError(f"placement {name} has {values.numel()} values but the clip has {frames} frames.")
    return values


def placement_frames(placement: Placement) -> int:
    """How many frames the placement describes (1 when every value is shared by all frames)."""
    values = (placement.x, placement.y, placement.scale, placement.rotation)
    return max(torch.as_tensor(value).numel() for value in values)


def placement_span(placement: Placement, frames: slice, total: int) -> Placement:
    """The placement of frames [start, stop) of a `total`-frame clip (for one block of it)."""
    values = {
        name: _per_frame(getattr(placement, name), total, name)[frames] for name in ("x", "y", "scale", "rotation")
    }
    return Placement(**values, anchor_x=placement.anchor_x, anchor_y=placement.anchor_y)


def affine_matrices(placement: Placement, frames: int) -> np.ndarray:
    """Forward affine maps element pixel -> plate pixel, [frames, 2, 3]."""
    x, y = _per_frame(placement.x, frames, "x"), _per_frame(placement.y, frames, "y")
    scale = _per_frame(placement.scale, frames, "scale")
    if (scale <= 0).any():
        raise ValueError("placement scale must be above 0.")
    anchor_x = check_number("placement anchor_x", placement.anchor_x)
    anchor_y = check_number("placement anchor_y", placement.anchor_y)
    angle = _per_frame(placement.rotation, frames, "rotation") * (math.pi / 180.0)
    cos, sin = torch.cos(angle) * scale, torch.sin(angle) * scale
    matrices = torch.zeros(frames, 2, 3, dtype=torch.float64)
    matrices[:, 0, 0], matrices[:, 0, 1] = cos, sin
    matrices[:, 1, 0], matrices[:, 1, 1] = -sin, cos
    matrices[:, 0, 2] = x - cos * anchor_x - sin * anchor_y
    matrices[:, 1, 2] = y + sin * anchor_x - cos * anchor_y
    return matrices.numpy()


@frame_threads
def place_element(
    element: torch.Tensor,
    alpha: torch.Tensor,
    placement: Placement,
    height: int,
    width: int,
    progress: Progress | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The element and its alpha moved onto a height x width canvas (transparent elsewhere), resampled premultiplied in
    linear light."""
    element, alpha = as_image("element", element), as_mask("element_mask", alpha)
    frames = max(clip_frames(element=element, element_mask=alpha), placement_frames(placement))
    element = fit_frames("element", element, frames)
    alpha = fit_frames("element_mask", alpha, frames)
    same_size("element_mask", alpha, "element", element)
    matrices = affine_matrices(placement, frames)
    placed = new_frames(frames, height, width, 3)
    placed_alpha = new_frames(frames, height, width)

    def place_frame(index: int) -> None:
        premultiplied = torch.cat(
            [srgb_to_linear(element[index]) * alpha[index, ..., None], alpha[index, ..., None]], -1
        )
        warped = torch.from_numpy(frame_ops.warp_affine(premultiplied.numpy(), matrices[index], width, height))
        coverage = warped[..., 3].clamp(0.0, 1.0)
        colour = warped[..., :3] / coverage.clamp(min=1e-6)[..., None]
        placed[index] = linear_to_srgb(colour)
        placed_alpha[index] = coverage

    for part in chunk_slices(frames, 8):
        each_frame(place_frame, part)
        report(progress, part)
    return placed, placed_alpha


def _over_pixels(
    front: torch.Tensor, back: torch.Tensor, alpha: torch.Tensor, back_alpha: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """'Over' for pixel rows [N, 3] of sRGB colour: returns sRGB colour (unpremultiplied) and combined alpha [N]."""
    a = alpha[:, None]
    front_lin = srgb_to_linear(front) * a
    if back_alpha is None:
        return linear_to_srgb(front_lin + srgb_to_linear(back) * (1.0 - a)), torch.ones_like(alpha)
    b = back_alpha[:, None]
    combined = a + b * (1.0 - a)
    premultiplied = front_lin + srgb_to_linear(back) * (b * (1.0 - a))
    return linear_to_srgb(premultiplied / combined.clamp(min=1e-6)), combined[:, 0]


DEVICE_FRAME_PLANES = 24  # float32 planes a frame takes on the device: inputs, the sRGB round trip, outputs


def _over_on_device(
    plate: torch.Tensor,
    element: torch.Tensor,
    alpha: torch.Tensor,
    plate_alpha: torch.Tensor | None,
    device: torch.device,
) -> tuple[torch.Tensor, torch.Tensor]:
    """'Over' of whole frames on `device`, part by part: `_over_pixels` on every pixel, then the element's and the
    plate's own values where the alpha is 1 or 0, as the CPU path copies them."""
    frames, height, width, _ = plate.shape

    def compute(part: slice) -> tuple[torch.Tensor, torch.Tensor]:
        back, front = gpu.moved(plate, device, part), gpu.moved(element, device, part)
        a = gpu.moved(alpha, device, part).clamp(0.0, 1.0)
        back_alpha = gpu.moved(plate_alpha, device, part)
        colour, combined = _over_pixels(
            front.reshape(-1, 3),
            back.reshape(-1, 3),
            a.reshape(-1),
            None if back_alpha is None else back_alpha.reshape(-1),
        )
        solid, empty = a >= 1.0, a <= 0.0
        out = torch.where(solid[..., None], front, torch.where(empty[..., None], back, colour.view(front.shape)))
        if back_alpha is None:
            return out, torch.ones_like(a)
        return out, torch.where(solid, a, torch.where(empty, back_alpha, combined.view(a.shape)))

    return gpu.by_parts(device, frames, height * width * DEVICE_FRAME_PLANES * 4, compute, plate.device)


def _opencv_mask(where: np.ndarray) -> np.ndarray:
    """An 8-bit OpenCV mask (255 where true), made in numpy: OpenCV's own compare reads a 1x1 frame as a scalar."""
    return where.astype(np.uint8) * 255


@frame_threads
def composite_over(
    plate: torch.Tensor,
    element: torch.Tensor,
    alpha: torch.Tensor,
    plate_alpha: torch.Tensor | None = None,
    placement: Placement | None = None,
    progress: Progress | None = None,
    device: torch.device | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Element over plate -> (IMAGE, combined MASK). Without `plate_alpha` the plate is opaque. On a `device` (a GPU)
    whole frames are composited there (`_over_on_device`); the frames stay where they came from (device.py)."""
    plate = as_image("plate", plate, device)
    frames, height, width, _ = plate.shape
    if placement is not None:
        element, alpha = place_element(element, alpha, placement, height, width)
    element, alpha = as_image("element", element, device), as_mask("element_mask", alpha, device)
    plate_alpha = None if plate_alpha is None else as_mask("plate_mask", plate_alpha, device)
    frames = clip_frames(plate=plate, element=element, element_mask=alpha, plate_mask=plate_alpha)
    plate = fit_frames("plate", plate, frames)
    element = fit_frames("element", element, frames)
    alpha = fit_frames("element_mask", alpha, frames)
    same_size("element", element, "plate", plate)
    same_size("element_mask", alpha, "plate", plate)
    if plate_alpha is not None:
        plate_alpha = fit_frames("plate_mask", plate_alpha, frames)
        same_size("plate_mask", plate_alpha, "plate", plate)
    if device is not None:
        out, out_alpha = _over_on_device(plate, element, alpha, plate_alpha, torch.device(device))
        report(progress, slice(0, frames))
        return out, out_alpha
    out = new_frames(frames, height, width, 3)
    out_alpha = new_frames(frames, height, width)

    def over_frame(index: int) -> None:
        a = alpha[index].clamp(0.0, 1.0)
        solid = _opencv_mask(a.numpy() >= 1.0)
        out[index] = plate[index]
        cv2.copyTo(element[index].numpy(), solid, out[index].numpy())
        if plate_alpha is None:
            out_alpha[index] = 1.0
        else:
            out_alpha[index] = plate_alpha[index]
            cv2.copyTo(a.numpy(), solid, out_alpha[index].numpy())
        partial = cv2.findNonZero(_opencv_mask((a.numpy() > 0.0) & (a.numpy() < 1.0)))
        if partial is None:
            return
        points = partial.reshape(-1, 2)  # (x, y) in row-major order
        rows = torch.from_numpy(points[:, 1].astype(np.int64) * width + points[:, 0])
        colour, combined = _over_pixels(
            element[index].reshape(-1, 3)[rows],
            plate[index].reshape(-1, 3)[rows],
            a.reshape(-1)[rows],
            None if plate_alpha is None else plate_alpha[index].reshape(-1)[rows],
        )
        out[index].view(-1, 3)[rows] = colour
        if plate_alpha is not None:
            out_alpha[index].view(-1)[rows] = combined

    for part in chunk_slices(frames, 8):
        each_frame(over_frame, part)
        report(progress, part)
    return out, out_alpha
