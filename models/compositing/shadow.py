"""Contact shadow: the element's matte cast onto a ground line, sharp where it touches and softer with distance."""

from __future__ import annotations

import math

import numpy as np
import torch

from . import device as gpu
from . import frame_ops
from .checks import as_image, as_mask, check_number, clip_frames, fit_frames, new_frames, same_size
from .chunking import Progress, chunk_slices, each_frame, frame_threads, report
from .colorspace import linear_to_srgb, srgb_to_linear
from .composite import pixel_position

MIN_RISE = 0.03


def solid_rows(alpha: np.ndarray, threshold: float = 0.5) -> tuple[float, float] | None:
    """Top and bottom image rows where the matte is solid (the bottom is where the element stands); None if empty."""
    rows = np.nonzero((alpha > threshold).any(axis=1))[0]
    return (float(rows[0]), float(rows[-1])) if rows.size else None


def cast_matrix(ground: float, angle: float, length: float) -> np.ndarray:
    """Affine map of image points onto their shadow on the ground line y = ground.

    A point at height h = ground - y above the ground lands length*h away along `angle` (degrees; 0 points right,
    90 straight up the frame, i.e. away from camera).
    """
    radians = math.radians(angle)
    along_x, along_y = length * math.cos(radians), length * math.sin(radians)
    if abs(along_y) < MIN_RISE:  # a shadow exactly along the ground line would have no height: keep it a sliver
        along_y = math.copysign(MIN_RISE, along_y)
    return np.array([[1.0, -along_x, along_x * ground], [0.0, along_y, ground * (1.0 - along_y)]])


@frame_threads
def contact_shadow(
    plate: torch.Tensor,
    matte: torch.Tensor,
    angle: float = 120.0,
    length: float = 0.35,
    softness: float = 12.0,
    opacity: float = 0.6,
    ground_line: float | None = None,
    progress: Progress | None = None,
    device: torch.device | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Darken the plate with the element's cast shadow -> (shadowed plate, shadow MASK).

    `ground_line` is the ground's height as a fraction of the frame from the top; None finds it per frame at the
    lowest solid row of the matte. Softness is the blur (pixels) at the shadow's far end; it falls to 1 px at contact.
    The shadow multiplies the plate in linear light, as an occluded light would. On a `device` (a GPU) the shadows
    are cast on the CPU (one plane a frame) and the plate darkened there (`_darken_on_device`); the frames stay
    where they came from (device.py).
    """
    angle = check_number("angle", angle)
    length = check_number("length", length, 0.0)
    softness = check_number("softness", softness, 0.0)
    opacity = check_number("opacity", opacity, 0.0, 1.0)
    if ground_line is not None:
        ground_line = check_number("ground_line", ground_line, 0.0, 1.0)
    plate = as_image("plate", plate, device)
    matte = as_mask("matte", matte)
    frames = clip_frames(plate=plate, matte=matte)
    plate, matte = fit_frames("plate", plate, frames), fit_frames("matte", matte, frames)
    same_size("matte", matte, "plate", plate)
    _, height, width, _ = plate.shape
    rows = torch.arange(height, dtype=torch.float32)[:, None]
    out = plate.clone() if device is None else plate
    shadows = new_frames(frames, height, width).zero_()

    def shadow_frame(index: int) -> None:
        alpha = matte[index].numpy()
        extent = solid_rows(alpha)
        if extent is None:
            return
        top, bottom = extent
        ground = bottom if ground_line is None else pixel_position(ground_line, height)
        cast = frame_ops.warp_affine(alpha, cast_matrix(ground, angle, length), width, height)
        sharp = torch.from_numpy(frame_ops.gaussian_blur(cast, 1.0))
        soft = torch.from_numpy(frame_ops.wide_blur(cast, max(softness, 1.0)))
        reach = max(1.0, length * (ground - top))  # how far the far end of the shadow lies from the ground line
        spread = ((ground - rows).abs() / reach).clamp(0.0, 1.0)
        shadow = torch.lerp(sharp, soft, spread, out=shadows[index]).mul_(opacity).clamp_(0.0, 1.0)
        if device is not None:
            return
        box = frame_ops.nonzero_box(shadow.numpy())  # the plate is left as it is where no shadow falls
        if box is not None:
            x0, y0, x1, y1 = box
            darkened = srgb_to_linear(plate[index, y0:y1, x0:x1]) * (1.0 - shadow[y0:y1, x0:x1, None])
            out[index, y0:y1, x0:x1] = linear_to_srgb(darkened)

    for part in chunk_slices(frames, 8):
        each_frame(shadow_frame, part)
        report(progress, part)
    if device is not None:
        return _darken_on_device(plate, shadows, torch.device(device)), shadows
    return out, shadows


DEVICE_FRAME_PLANES = 16  # float32 planes a frame takes on the device: the plate, its shadow, the round trip, result


def _darken_on_device(plate: torch.Tensor, shadows: torch.Tensor, device: torch.device) -> torch.Tensor:
    """The plate multiplied by 1 - shadow in linear light on `device`, part by part; unchanged where no shadow falls,
    as the CPU path leaves it."""
    frames, height, width, _ = plate.shape

    def compute(part: slice) -> tuple[torch.Tensor]:
        colour, shadow = gpu.moved(plate, device, part), gpu.moved(shadows, device, part)
        darkened = linear_to_srgb(srgb_to_linear(colour) * (1.0 - shadow[..., None]))
        return (torch.where(shadow[..., None] > 0.0, darkened, colour),)

    return gpu.by_parts(device, frames, height * width * DEVICE_FRAME_PLANES * 4, compute, plate.device)[0]
