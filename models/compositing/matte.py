"""Matte refinement driven by the element's picture: a band around the rough mask's edge (any mask: binary, soft,
blocky or low-resolution) where the matte is solved from the colours, then levels, choke/grow, feather, despill,
temporal smoothing, and the un-mixed foreground colour so edges recomposite without the old background.

Two solves: "fast" (default), a guided filter on a coarse grid that keeps 720p interactive, and "accurate",
closed-form matting over the band at full size (seconds a frame). Either is never to be worse than the mask given:
where the picture offers no better edge, the mask is kept (mask_support.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from . import frame_ops
from .checks import as_image, as_mask, check_choice, check_number, clip_frames, fit_frames, new_frames, same_size
from .chunking import Progress, chunk_slices, each_frame, frame_threads, report
from .closed_form import solve_alpha
from .guided_filter import apply_coefficients, grid_step, guided_coefficients
from .mask_support import refined_weight
from .trimap import fill_known, trimap

SCREEN_CHANNEL = {"green": 1, "blue": 2}
QUALITIES = ("fast", "accurate")
DESPILL = ("none", "green", "blue")
PRIOR_WEIGHT = 3e-4  # pull of the fast matte in the accurate solve's band: only decides what the colours cannot
ACCURATE_CHUNK = 2  # frames between progress reports (and interrupt checks) of the seconds-a-frame accurate solve
SOLID, CLEAR = 0.99, 0.01  # matte values taken as pure subject / pure background when spreading their colours


@dataclass(frozen=True)
class MatteSettings:
    """How a rough matte becomes a production matte."""

    radius: int = 16  # pixels either side of the rough edge where the matte is solved; about twice how far off it is
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

    The accurate solve takes the fast matte (levels applied) as its prior in the band, so the levels reach it there;
    its own tails are then clipped by half the levels, since a full stretch would steepen its edges a second time.
    Each keeps the rough mask in the tiles of the band where the picture offers no better edge than the mask, judged
    on its own matte: the accurate solve places edges the fast one blurs (strands, busy textures) and follows texture
    the fast one smooths over, so the fast matte's trust says little about it.
    """
    levels = (settings.clip_black, settings.clip_white)
    gains, offset = guided_coefficients(image, mask, settings.radius, settings.eps, settings.subsample, levels)
    fast = apply_coefficients(gains, offset, image)
    picture, rough = frame_ops.view(image), frame_ops.view(mask)
    step = grid_step(settings.radius, settings.subsample)
    weight = refined_weight(picture, rough, fast.numpy(), settings.radius, step)
    fast = rough + weight * (fast.numpy() - rough)
    if settings.quality == "fast":
        return torch.from_numpy(fast)
    subject, background = trimap(rough, settings.radius)
    band = ~(subject | background)
    alpha = solve_alpha(picture, subject, background, fast, band * PRIOR_WEIGHT)
    black, white = settings.clip_black / 2, (1.0 + settings.clip_white) / 2
    alpha = np.clip((alpha - black) / (white - black), 0.0, 1.0)
    weight = refined_weight(picture, rough, alpha, settings.radius, step)
    return torch.from_numpy(rough + weight * (alpha - rough))


@frame_threads
def refine_matte(
    image: torch.Tensor, mask: torch.Tensor, settings: MatteSettings = MatteSettings(), progress: Progress | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Rough MASK + the element's IMAGE -> (despilled IMAGE, production MASK), streamed in chunks of frames."""
    settings = settings.checked()
    image, mask = as_image("image", image), as_mask("mask", mask)
    same_size("mask", mask, "image", image)
    frames = clip_frames(image=image, mask=mask)
    image, mask = fit_frames("image", image, frames), fit_frames("mask", mask, frames)
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


def unmix_frame(image: torch.Tensor, alpha: torch.Tensor, radius: int, subsample: int = 4) -> torch.Tensor:
    """One frame's foreground colour [H, W, 3]: I = aF + (1 - a)B solved for F, with B spread from the nearest solid
    background pixels on a coarse grid; blended by alpha with the subject colour spread the same way, since the
    division amplifies any error in B as alpha falls."""
    height, width, _ = image.shape
    step = max(1, int(subsample))
    small_w, small_h = max(1, round(width / step)), max(1, round(height / step))
    small_image = frame_ops.resize(frame_ops.view(image), small_w, small_h)
    small_alpha = frame_ops.resize(frame_ops.view(alpha), small_w, small_h)
    reach = max(1.0, radius / step)
    solid, clear = small_alpha >= SOLID, small_alpha <= CLEAR
    subject = fill_known(small_image, solid, reach)
    background = fill_known(small_image, clear, reach)
    out = torch.from_numpy(frame_ops.resize(subject, width, height))
    box = frame_ops.nonzero_box(frame_ops.view(alpha))  # outside it alpha is 0: the subject colour as it is
    if box is None:
        return out
    x0, y0, x1, y1 = box
    background = frame_ops.enlarge_region(background, width, height, box)
    a = torch.from_numpy(cv2.merge([frame_ops.view(alpha)[y0:y1, x0:x1]] * 3))  # no broadcast over channels: faster
    unmixed = (image[y0:y1, x0:x1] - torch.from_numpy(background) * (1.0 - a)) / a.clamp(min=CLEAR)
    out[y0:y1, x0:x1] = torch.lerp(out[y0:y1, x0:x1], unmixed.clamp_(0.0, 1.0), a)
    return out


@frame_threads
def unmix_foreground(
    image: torch.Tensor, matte: torch.Tensor, radius: int = 16, progress: Progress | None = None
) -> torch.Tensor:
    """The element's own colour behind its matte (IMAGE): edges carry no trace of the background they were shot on,
    so the element recomposites over any plate without fringes."""
    radius = int(check_number("radius", radius, 1, 512))
    image, matte = as_image("image", image), as_mask("matte", matte)
    same_size("matte", matte, "image", image)
    frames = clip_frames(image=image, matte=matte)
    image, matte = fit_frames("image", image, frames), fit_frames("matte", matte, frames)
    out = new_frames(frames, *image.shape[1:])

    def unmix(index: int) -> None:
        out[index] = unmix_frame(image[index], matte[index], radius)

    for part in chunk_slices(frames, 8):
        each_frame(unmix, part)
        report(progress, part)
    return out


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
