"""The element's own colour behind its matte: each pixel's picture I = aF + (1 - a)B solved for the foreground F, with
the background B (and the subject colour the result is blended with) spread over a coarse grid from the matte's clear
(and solid) pixels nearby, so edges recomposite over any plate without the background they were shot on. Matte Refine
hands its matte here (matte.py); the full-size work runs on the CPU over the cores or on a device."""

from __future__ import annotations

import numpy as np
import torch

from . import device as gpu
from . import frame_ops
from .checks import as_image, as_mask, check_number, clip_frames, fit_frames, new_frames, same_size
from .chunking import Progress, chunk_slices, each_frame, frame_threads, map_frames, report
from .guided_filter import grid_size
from .matte import DEVICE_FRAME_PLANES
from .trimap import fill_known

SOLID, CLEAR = 0.99, 0.01  # matte values taken as pure subject / pure background when spreading their colours
UNMIX_SUBSAMPLE = 4  # pixels a cell of the grid the un-mixing spreads its colours on


def unmix_frame(
    image: torch.Tensor, alpha: torch.Tensor, radius: int, subsample: int = UNMIX_SUBSAMPLE
) -> torch.Tensor:
    """One frame's foreground colour [H, W, 3]: I = aF + (1 - a)B solved for F, with B spread from the nearest solid
    background pixels on a coarse grid; blended by alpha with the subject colour spread the same way, since the
    division amplifies any error in B as alpha falls."""
    height, width, _ = image.shape
    size = grid_size(width, height, max(1, int(subsample)))
    small_image, small_alpha = (
        frame_ops.resize(frame_ops.view(image), *size),
        frame_ops.resize(frame_ops.view(alpha), *size),
    )
    subject, background = unmix_colours(small_image, small_alpha, radius, subsample)
    out = torch.from_numpy(frame_ops.resize(subject, width, height))
    box = frame_ops.nonzero_box(frame_ops.view(alpha))  # outside it alpha is 0: the subject colour as it is
    if box is None:
        return out
    x0, y0, x1, y1 = box
    background = frame_ops.enlarge_region(background, width, height, box)
    a = torch.from_numpy(frame_ops.per_channel(frame_ops.view(alpha)[y0:y1, x0:x1], 3))
    unmixed = (image[y0:y1, x0:x1] - torch.from_numpy(background) * (1.0 - a)) / a.clamp(min=CLEAR)
    out[y0:y1, x0:x1] = torch.lerp(out[y0:y1, x0:x1], unmixed.clamp_(0.0, 1.0), a)
    return out


def unmix_colours(
    small_image: np.ndarray, small_alpha: np.ndarray, radius: int, subsample: int = UNMIX_SUBSAMPLE
) -> tuple[np.ndarray, np.ndarray]:
    """`unmix_frame`'s subject and background colours [h, w, 3] on its coarse grid, from the frame and its matte
    reduced to that grid: each spread from the solid (or clear) pixels nearby."""
    reach = max(1.0, radius / max(1, int(subsample)))
    solid, clear = small_alpha >= SOLID, small_alpha <= CLEAR
    return fill_known(small_image, solid, reach), fill_known(small_image, clear, reach)


@frame_threads
def unmix_foreground(
    image: torch.Tensor,
    matte: torch.Tensor,
    radius: int = 16,
    progress: Progress | None = None,
    device: torch.device | None = None,
) -> torch.Tensor:
    """The element's own colour behind its matte (IMAGE): edges carry no trace of the background they were shot on,
    so the element recomposites over any plate without fringes. On a `device` the full-size work is done there
    (`_unmix_on_device`), the colours' coarse grid spread on the CPU."""
    radius = int(check_number("radius", radius, 1, 512))
    image, matte = as_image("image", image, device), as_mask("matte", matte, device)
    same_size("matte", matte, "image", image)
    frames = clip_frames(image=image, matte=matte)
    image, matte = fit_frames("image", image, frames), fit_frames("matte", matte, frames)
    if device is not None:
        out = _unmix_on_device(image, matte, radius, torch.device(device))
        report(progress, slice(0, frames))
        return out
    out = new_frames(frames, *image.shape[1:])

    def unmix(index: int) -> None:
        out[index] = unmix_frame(image[index], matte[index], radius)

    for part in chunk_slices(frames, 8):
        each_frame(unmix, part)
        report(progress, part)
    return out


def _unmix_on_device(image: torch.Tensor, matte: torch.Tensor, radius: int, device: torch.device) -> torch.Tensor:
    """`unmix_frame` of every frame on `device`, part by part: the subject and background colours spread on the CPU
    from the frames reduced on the device, enlarged and un-mixed there, the result gathered where the image lies.
    Where the matte is 0 the blend keeps the subject colour exactly, as the CPU path's box does."""
    frames, height, width, _ = image.shape
    size = grid_size(width, height, UNMIX_SUBSAMPLE)

    def compute(part: slice) -> tuple[torch.Tensor]:
        colour, alpha = gpu.moved(image, device, part), gpu.moved(matte, device, part)
        small = gpu.reduced(torch.cat([colour, alpha[..., None]], dim=-1), size)

        def colours(index: int) -> np.ndarray:
            picture, coverage = np.ascontiguousarray(small[index, ..., :3]), np.ascontiguousarray(small[index, ..., 3])
            return np.dstack(unmix_colours(picture, coverage, radius))

        spread = gpu.enlarged(map_frames(colours, range(len(small))), width, height, device)
        a = alpha[..., None]
        unmixed = (colour - spread[..., 3:] * (1.0 - a)) / a.clamp(min=CLEAR)
        return (torch.lerp(spread[..., :3], unmixed.clamp_(0.0, 1.0), a),)

    return gpu.by_parts(device, frames, height * width * DEVICE_FRAME_PLANES * 4, compute, image.device)[0]
