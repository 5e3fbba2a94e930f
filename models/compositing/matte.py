"""Matte refinement driven by the element's picture: a band around the rough mask's edge (any mask: binary, soft,
blocky or low-resolution) where the matte is solved from the colours, then levels, choke/grow, feather, despill,
temporal smoothing; the un-mixed foreground colour behind the matte is unmix.py's.

Two solves: "fast" (default), a guided filter on a coarse grid that keeps 720p interactive, and "accurate",
closed-form matting at full size (seconds a frame) over a band around the edge the fast solve found. Either is
never to be worse than the mask given: where the picture offers no better edge, the mask is kept (mask_support.py's
colour tests; the accurate matte is also trusted where its own matting energy singles out its edges,
matte_energy.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from . import device as gpu
from . import frame_ops, tensor_ops
from .checks import as_image, as_mask, check_choice, check_number, clip_frames, fit_frames, new_frames, same_size
from .chunking import Progress, chunk_slices, each_frame, frame_threads, map_frames, report
from .closed_form import matting_laplacian, solve_alpha
from .guided_filter import apply_coefficients, coarse_coefficients, grid_size, grid_step
from .mask_support import coarse_weight
from .matte_energy import placement_weight
from .trimap import trimap

SCREEN_CHANNEL = {"green": 1, "blue": 2}
QUALITIES = ("fast", "accurate")
DESPILL = ("none", "green", "blue")
PRIOR_WEIGHT = 3e-4  # pull of the fast matte in the accurate solve's band: only decides what the colours cannot
ACCURATE_CHUNK = 2  # frames between progress reports (and interrupt checks) of the seconds-a-frame accurate solve


@dataclass(frozen=True)
class MatteSettings:
    """How a rough matte becomes a production matte."""

    radius: int = 16  # pixels either side of the edge where the matte is solved; about twice how far the mask is off
    eps: float = 1e-3  # guided-filter regularisation; larger keeps the matte smoother, smaller follows colour edges
    subsample: int = 4  # the filter's coefficients are solved on a grid this many times coarser (fast guided filter)
    clip_black: float = 0.02  # alpha at or below this becomes 0
    clip_white: float = 0.98  # alpha at or above this becomes 1
    choke: int = 0  # pixels; positive shrinks the matte, negative grows it
    feather: float = 0.0  # Gaussian sigma in pixels applied after choke
    temporal: float = 0.5  # 0..1 weight of neighbouring frames where the matte is steady
    motion_threshold: float = 0.1  # alpha change between frames above which an edge counts as moving
    despill: str = "none"  # "none", "green" or "blue"
    despill_strength: float = 1.0
    quality: str = "fast"  # "fast" (guided filter, interactive) or "accurate" (closed-form matting, seconds a frame)

    def checked(self) -> MatteSettings:
        """The settings with every value checked (finite, in range), each error naming the setting."""
        check_number("radius", self.radius, 1, 512)
        check_number("eps", self.eps, 1e-9, 1.0)
        check_number("subsample", self.subsample, 1, 16)
        black = check_number("clip_black", self.clip_black, 0.0, 1.0)
        white = check_number("clip_white", self.clip_white, 0.0, 1.0)
        if black >= white:
            raise ValueError(f"clip_black ({black}) must be below clip_white ({white}), both within 0..1.")
        check_number("choke", self.choke, -512, 512)
        check_number("feather", self.feather, 0.0, 512.0)
        check_number("temporal", self.temporal, 0.0, 1.0)
        check_number("motion_threshold", self.motion_threshold, above=0.0, high=1.0)
        check_choice("despill", self.despill, DESPILL)
        check_number("despill_strength", self.despill_strength, 0.0, 1.0)
        check_choice("quality", self.quality, QUALITIES)
        return self


def choke_and_feather(alpha: torch.Tensor, choke: int, feather: float) -> torch.Tensor:
    """Shrink (choke > 0) or grow one frame's matte by whole pixels, then soften it by a Gaussian of `feather`
    pixels."""
    if choke == 0 and feather <= 0:
        return alpha
    frame = frame_ops.gaussian_blur(frame_ops.grow(frame_ops.view(alpha), -int(choke)), feather)
    return torch.from_numpy(np.ascontiguousarray(frame))


def temporal_smooth(
    before: torch.Tensor, centre: torch.Tensor, after: torch.Tensor, strength: float, motion_threshold: float
) -> torch.Tensor:
    """Average a frame's matte with its neighbours where it is steady and keep it where it moves.

    The kernel is symmetric in time, so a moving edge is never pulled towards its past position (no lag);
    a neighbour's weight falls linearly to 0 as its alpha differs from the centre by `motion_threshold`.
    """
    scale = -1.0 / max(motion_threshold, 1e-6)
    weight_before = (before - centre).abs_().mul_(scale).add_(1.0).clamp_(min=0.0).mul_(strength)
    weight_after = (after - centre).abs_().mul_(scale).add_(1.0).clamp_(min=0.0).mul_(strength)
    total = (before * weight_before).addcmul_(after, weight_after).add_(centre)
    return total.div_(weight_before.add_(weight_after).add_(1.0))


def despill(image: torch.Tensor, screen: str, strength: float, out: torch.Tensor | None = None) -> torch.Tensor:
    """Limit the screen channel to the larger of the other two: only colours leaning towards the screen's hue lose
    anything; neutrals, and colours whose screen channel another channel matches (yellow, cyan, skin), are untouched.
    Written into `out` (which may be `image` itself) when given."""
    if out is None:
        out = image.clone()
    elif out is not image:
        out.copy_(image)
    if screen == "none" or strength <= 0:
        return out
    channel = SCREEN_CHANNEL[check_choice("despill", screen, DESPILL)]
    others = [c for c in range(3) if c != channel]
    limit = torch.maximum(image[..., others[0]], image[..., others[1]])
    spill = torch.sub(image[..., channel], limit, out=limit).clamp_(min=0.0).mul_(strength)
    out[..., channel] -= spill
    return out


def refine_alpha(image: torch.Tensor, mask: torch.Tensor, settings: MatteSettings) -> torch.Tensor:
    """One frame's matte [H, W] from its picture [H, W, 3] and rough mask [H, W], levels applied.

    The accurate solve works in a band around the fast matte's edge, not the mask's: where the colours moved the edge
    off a mask that is several pixels out, a band around the mask's edge would end short of the true edge's far side
    and cut off what leaves it (strands, fur) at known background or subject. It takes the fast matte (levels applied)
    as its prior in the band, so the levels reach it there; its own tails are then clipped by half the levels, since a
    full stretch would steepen its edges a second time.
    Each keeps the rough mask in the tiles of the band where the picture offers no better edge than the mask, judged
    on its own matte: the accurate solve places edges the fast one blurs (strands, busy textures) and follows texture
    the fast one smooths over, so the fast matte's trust says little about it. The accurate matte is also trusted as
    far as its matting energy singles out its edges (matte_energy.py), from the Laplacian its solve is built on.
    Both colour judgements read the coarse grid the fast solve works on, the picture and mask reduced to it once.
    """
    picture, rough = frame_ops.view(image), frame_ops.view(mask)
    height, width = rough.shape
    step = grid_step(settings.radius, settings.subsample)
    size = grid_size(width, height, step)
    small_picture, small_mask = frame_ops.resize(picture, *size), frame_ops.resize(rough, *size)

    def supported(refined: np.ndarray) -> np.ndarray:
        """Trust in the refined matte per pixel [h, w], from the colour tests on the coarse grid (mask_support)."""
        weight = coarse_weight(small_picture, small_mask, frame_ops.resize(refined, *size), settings.radius, step)
        return cv2.resize(weight, (width, height), interpolation=cv2.INTER_NEAREST)

    fast = apply_coefficients(*_coefficients(small_picture, small_mask, settings), image).numpy()
    fast = rough + supported(fast) * (fast - rough)
    if settings.quality == "fast":
        return torch.from_numpy(fast)
    subject, background = trimap(fast, settings.radius)
    band = ~(subject | background)
    laplacian = matting_laplacian(picture, band)
    alpha = solve_alpha(picture, subject, background, fast, band * PRIOR_WEIGHT, laplacian)
    black, white = settings.clip_black / 2, (1.0 + settings.clip_white) / 2
    alpha = np.clip((alpha - black) / (white - black), 0.0, 1.0)
    weight = np.maximum(supported(alpha), placement_weight(laplacian, alpha, band, settings.radius))
    return torch.from_numpy(rough + weight * (alpha - rough))


def _coefficients(picture: np.ndarray, mask: np.ndarray, settings: MatteSettings) -> tuple[np.ndarray, np.ndarray]:
    """The fast solve's (gains, offset) on its coarse grid, from the frame and mask reduced to it, levels folded in."""
    levels = (settings.clip_black, settings.clip_white)
    return coarse_coefficients(picture, mask, settings.radius, settings.eps, settings.subsample, levels)


@frame_threads
def refine_matte(
    image: torch.Tensor,
    mask: torch.Tensor,
    settings: MatteSettings = MatteSettings(),
    progress: Progress | None = None,
    device: torch.device | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Rough MASK + the element's IMAGE -> (despilled IMAGE, production MASK), streamed in chunks of frames.

    On a `device` (a GPU) the full-size work is done there and the frames stay where they came from
    (`_refine_on_device`); only the coarse grid's solve and the keep-the-mask rule run on the CPU, on planes reduced
    on the device, and the accurate solve on the CPU as ever, its matte moved up once.
    """
    settings = settings.checked()
    image, mask = as_image("image", image, device), as_mask("mask", mask, device)
    same_size("mask", mask, "image", image)
    frames = clip_frames(image=image, mask=mask)
    image, mask = fit_frames("image", image, frames), fit_frames("mask", mask, frames)
    if device is not None:
        out_image, alpha = _refine_on_device(image, mask, settings, torch.device(device))
        if settings.temporal > 0 and frames > 1:
            alpha = _smooth_on_device(alpha, settings.temporal, settings.motion_threshold, torch.device(device))
        report(progress, slice(0, frames))
        return out_image.contiguous(), alpha
    _, height, width, _ = image.shape
    alpha = new_frames(frames, height, width)
    out_image = image if settings.despill == "none" else new_frames(frames, height, width, 3)

    def refine_frame(index: int) -> None:
        refined = refine_alpha(image[index], mask[index], settings)
        alpha[index] = choke_and_feather(refined, settings.choke, settings.feather)
        if settings.despill != "none":
            out_image[index] = despill(image[index], settings.despill, settings.despill_strength)

    for part in chunk_slices(frames, 8 if settings.quality == "fast" else ACCURATE_CHUNK):
        each_frame(refine_frame, part)
        report(progress, part)
    if settings.temporal > 0 and frames > 1:
        _smooth_in_place(alpha, settings.temporal, settings.motion_threshold)
    return out_image.contiguous(), alpha


def _smooth_in_place(alpha: torch.Tensor, strength: float, motion_threshold: float, chunk: int = 8) -> None:
    """Temporal smoothing chunk by chunk; each chunk reads unsmoothed copies of its frames and their neighbours,
    kept in one buffer for the whole clip (the clip's first and last frames stand in for their missing neighbours)."""
    frames = alpha.shape[0]
    raw = torch.empty(min(frames, chunk) + 2, *alpha.shape[1:])  # raw[k] is frame part.start - 1 + k
    raw[0] = alpha[0]
    for part in chunk_slices(frames, chunk):
        count = part.stop - part.start
        raw[1 : count + 1] = alpha[part]
        raw[count + 1] = alpha[min(part.stop, frames - 1)]

        def smooth(index: int, start: int = part.start) -> None:
            k = index - start + 1
            alpha[index] = temporal_smooth(raw[k - 1], raw[k], raw[k + 1], strength, motion_threshold)

        each_frame(smooth, part)
        raw[0] = raw[count]


DEVICE_FRAME_PLANES = 24  # float32 planes a frame takes on the device: picture, mask, the enlarged grids, mattes, temps
SMOOTH_FRAME_PLANES = 8  # likewise for the temporal smoothing: the frame, its neighbours, weights, the result


def _fast_on_device(colour: torch.Tensor, rough: torch.Tensor, settings: MatteSettings) -> torch.Tensor:
    """`refine_alpha`'s fast matte of a part's frames on their device: the coarse grid's coefficients solved on the
    CPU from the frames reduced there, applied at full size on the device, and blended with the rough mask by the
    weight the keep-the-mask rule gives on the same grid."""
    frames, height, width, _ = colour.shape
    step = grid_step(settings.radius, settings.subsample)
    size = grid_size(width, height, step)
    small = gpu.reduced(torch.cat([colour, rough[..., None]], dim=-1), size)
    picture = [np.ascontiguousarray(small[index, ..., :3]) for index in range(frames)]
    mask = [np.ascontiguousarray(small[index, ..., 3]) for index in range(frames)]

    def coefficients(index: int) -> np.ndarray:
        return np.dstack(_coefficients(picture[index], mask[index], settings))

    grids = gpu.enlarged(map_frames(coefficients, range(frames)), width, height, colour.device)
    fast = torch.sum(grids[..., :3] * colour, dim=-1).add_(grids[..., 3]).clamp_(0.0, 1.0)
    refined = gpu.reduced(fast, size)

    def weight(index: int) -> np.ndarray:
        return coarse_weight(picture[index], mask[index], refined[index], settings.radius, step)

    weights = gpu.enlarged(map_frames(weight, range(frames)), width, height, colour.device, nearest=True)
    return rough + weights * (fast - rough)


def _accurate_on_cpu(image: torch.Tensor, mask: torch.Tensor, part: slice, settings: MatteSettings) -> torch.Tensor:
    """`refine_alpha`'s accurate matte of a part's frames, solved on the CPU (closed-form, seconds a frame) from the
    frames brought there where they lie on a device: [n, H, W] on the CPU."""
    colour, rough = (x[part] if x.device.type == "cpu" else gpu.download(x[part]) for x in (image, mask))
    return torch.stack(
        map_frames(lambda index: refine_alpha(colour[index], rough[index], settings), range(len(colour)))
    )


def _choked_and_feathered(alpha: torch.Tensor, choke: int, feather: float) -> torch.Tensor:
    """`choke_and_feather` of a part's mattes [n, H, W] on their device."""
    grown = tensor_ops.grow(alpha, -int(choke))
    return tensor_ops.gaussian_blur(grown[..., None], feather)[..., 0] if feather > 0 else grown


def _refine_on_device(
    image: torch.Tensor, mask: torch.Tensor, settings: MatteSettings, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """`refine_matte`'s (despilled image, unsmoothed matte) on `device`, part by part, gathered where the image lies
    (the image itself when there is nothing to despill)."""
    frames, height, width, _ = image.shape
    despilled = settings.despill != "none"

    def compute(part: slice) -> tuple[torch.Tensor, ...]:
        colour, rough = gpu.moved(image, device, part), gpu.moved(mask, device, part)
        if settings.quality == "fast":
            alpha = _fast_on_device(colour, rough, settings)
        else:
            alpha = gpu.upload(_accurate_on_cpu(image, mask, part, settings), device)
        alpha = _choked_and_feathered(alpha, settings.choke, settings.feather)
        if not despilled:
            return (alpha,)
        return alpha, despill(colour, settings.despill, settings.despill_strength)

    results = gpu.by_parts(device, frames, height * width * DEVICE_FRAME_PLANES * 4, compute, image.device)
    return (results[1] if despilled else image), results[0]


def _smooth_on_device(
    alpha: torch.Tensor, strength: float, motion_threshold: float, device: torch.device
) -> torch.Tensor:
    """`_smooth_in_place` on `device`, part by part: each part reads its frames and their unsmoothed neighbours (the
    clip's first and last frames standing in for their missing ones), the result gathered where the mattes lie."""
    frames, height, width = alpha.shape

    def compute(part: slice) -> tuple[torch.Tensor]:
        low, high = max(0, part.start - 1), min(frames, part.stop + 1)
        near = gpu.moved(alpha, device, slice(low, high))
        index = torch.arange(part.start - 1, part.stop + 1).clamp_(0, frames - 1).sub_(low)
        near = near.index_select(0, index.to(near.device))
        return (temporal_smooth(near[:-2], near[1:-1], near[2:], strength, motion_threshold),)

    return gpu.by_parts(device, frames, height * width * SMOOTH_FRAME_PLANES * 4, compute, alpha.device)[0]
