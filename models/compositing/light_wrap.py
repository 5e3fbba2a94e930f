"""Light wrap: the plate's light bleeding a little over the element's edges, as a lens and film do."""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import torch

from . import device as gpu
from . import frame_ops
from .checks import as_image, as_mask, check_number, clip_frames, fit_frames, new_frames, same_size
from .chunking import Progress, chunk_slices, each_frame, frame_threads, map_frames, report


@frame_threads
def light_wrap(
    element: torch.Tensor,
    matte: torch.Tensor,
    plate: torch.Tensor,
    radius: float = 24.0,
    strength: float = 0.6,
    progress: Progress | None = None,
    device: torch.device | None = None,
    host_matte: torch.Tensor | None = None,
) -> torch.Tensor:
    """Screen a blurred plate onto the element where it borders the plate.

    The wrap weight at an element pixel is its alpha times the share of plate seen around it within `radius`
    (a Gaussian of that sigma), so it is strongest at the edge and fades inwards, and 0 outside the element (only the
    element's bounding box is computed). Element and plate share one frame
    size. On a `device` (a GPU) the full-size work is done there (`_wrap_on_device`) and the frames stay where the
    element's came from; the small maps are made on the CPU from the plate and `host_matte` (the matte's CPU copy,
    which a streamed chain holding the matte on the device hands in; else the matte itself, brought to the CPU).
    """
    radius = check_number("radius", radius, above=0.0)
    strength = check_number("strength", strength, 0.0)
    element, matte, plate = (
        as_image("element", element, device),
        as_mask("matte", matte, device),
        as_image("plate", plate),
    )
    frames = clip_frames(element=element, matte=matte, plate=plate)
    element = fit_frames("element", element, frames)
    matte, plate = fit_frames("matte", matte, frames), fit_frames("plate", plate, frames)
    same_size("matte", matte, "element", element)
    same_size("plate", plate, "element", element)
    _, height, width, _ = element.shape
    factor = int(max(1, radius // 3))
    small_w, small_h = max(1, width // factor), max(1, height // factor)
    sigma = max(radius / factor, 0.5)
    if device is not None:
        host = gpu.download(matte) if host_matte is None and matte.device.type != "cpu" else host_matte
        host = matte if host is None else fit_frames("matte", as_mask("matte", host), frames)
        small_maps = functools.partial(_small_maps, host, plate, (small_w, small_h), sigma, strength)
        out = _wrap_on_device(element, matte, small_maps, torch.device(device))
        report(progress, slice(0, frames))
        return out
    out = new_frames(frames, height, width, 3)

    def wrap_frame(index: int) -> None:
        alpha, colour, result = (frame_ops.view(x[index]) for x in (matte, element, out))
        np.copyto(result, colour)
        small_alpha = frame_ops.resize(alpha, small_w, small_h)
        box = frame_ops.nonzero_box(small_alpha, 1, (width / small_w, height / small_h))
        if box is None:  # no element here: nothing to wrap
            return
        glow = frame_ops.gaussian_blur(frame_ops.resize(frame_ops.view(plate[index]), small_w, small_h), sigma)
        seen = frame_ops.gaussian_blur(1.0 - small_alpha, sigma) * strength
        x0, y0, x1, y1 = box
        weight = frame_ops.enlarge_region(seen, width, height, box) * alpha[y0:y1, x0:x1]
        wrap = frame_ops.enlarge_region(glow, width, height, box) * weight[..., None]
        inside, region = colour[y0:y1, x0:x1], result[y0:y1, x0:x1]
        np.subtract(wrap, np.multiply(wrap, inside, out=region), out=region)
        region += inside

    for part in chunk_slices(frames, 8):
        each_frame(wrap_frame, part)
        report(progress, part)
    return out


DEVICE_FRAME_PLANES = 16  # float32 planes a frame takes on the device: element, matte, the enlarged maps, the result


def _small_maps(
    matte: torch.Tensor, plate: torch.Tensor, size: tuple[int, int], sigma: float, strength: float, index: int
) -> np.ndarray:
    """One frame's reduced glow (the blurred plate) and seen share (times the strength), [h, w, 4], as the CPU path
    computes them: they are small, so they are made on the CPU, where the frames arrive."""
    small_alpha = frame_ops.resize(frame_ops.view(matte[index]), *size)
    glow = frame_ops.gaussian_blur(frame_ops.resize(frame_ops.view(plate[index]), *size), sigma)
    seen = frame_ops.gaussian_blur(1.0 - small_alpha, sigma) * strength
    return np.dstack([glow, seen])


def _wrap_on_device(
    element: torch.Tensor,
    matte: torch.Tensor,
    small_maps: Callable[[int], np.ndarray],
    device: torch.device,
) -> torch.Tensor:
    """The maps enlarged bilinearly on `device` (resize's sample positions) and screened onto the element where its
    matte is, part by part; elsewhere the weight is 0 and the element unchanged, as on the CPU path."""
    frames, height, width, _ = element.shape

    def compute(part: slice) -> tuple[torch.Tensor]:
        small = np.stack(map_frames(small_maps, range(part.start, part.stop)))
        small = gpu.upload(torch.from_numpy(small), device).permute(0, 3, 1, 2)
        maps = torch.nn.functional.interpolate(small, size=(height, width), mode="bilinear", align_corners=False)
        maps = maps.permute(0, 2, 3, 1)
        colour, alpha = gpu.moved(element, device, part), gpu.moved(matte, device, part)
        wrap = maps[..., :3] * (maps[..., 3] * alpha)[..., None]
        return (colour + wrap - wrap * colour,)

    return gpu.by_parts(device, frames, height * width * DEVICE_FRAME_PLANES * 4, compute, element.device)[0]
