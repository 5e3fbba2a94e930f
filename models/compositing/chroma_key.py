"""Chroma key: a matte from a green or blue screen by colour difference against the screen's own colour at each
pixel (from a clean plate, or a smooth model of the screen fitted to the frame), the edge colours un-mixed from the
screen, and spill limited without touching neutral or non-screen colours.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from . import frame_ops
from .checks import as_image, check_choice, check_number, clip_frames, fit_frames, new_frames, same_size
from .chunking import Progress, chunk_slices, each_frame, frame_threads, report
from .matte import SCREEN_CHANNEL, despill
from .trimap import fill_known

MODEL_SCALE = 8  # the screen model is fitted on a grid this many times coarser (a screen's light varies slowly)
PURE_SHARE = (
    0.8  # pixels whose screen purity (difference / screen channel) reaches this share of the screen's are screen
)
MIN_DIFFERENCE = 0.05  # a screen must stand out from its other channels by at least this much
UNMIX_FLOOR = 0.05  # alpha below which the un-mixed colour is divided by this instead (noise would blow up)


def _difference(image: np.ndarray, channel: int, balance: float) -> np.ndarray:
    """Screen channel minus a blend of the other two (balance 1 = their max, 0 = their min), of one frame [H, W, 3]
    or a stack of them: on the split channel planes, where OpenCV's max and min are several times faster than
    numpy's on channel views."""
    planes = cv2.split(image.reshape(-1, image.shape[-2], 3))
    a, b = (planes[c] for c in range(3) if c != channel)
    high, low = cv2.max(a, b), cv2.min(a, b, dst=a)
    high *= balance
    low *= 1.0 - balance
    high += low
    return np.subtract(planes[channel], high, out=high).reshape(image.shape[:-1])


def _purity(image: np.ndarray, channel: int, balance: float) -> np.ndarray:
    """How much a colour is the screen's hue, whatever its brightness: difference over the screen channel."""
    return _difference(image, channel, balance) / np.maximum(image[..., channel], 1e-3)


def purity_frames(frames: int) -> slice:
    """The frames the screen's purity is measured on: about 8 spread over the clip."""
    return slice(None, None, max(1, frames // 8))


def screen_purity(image: torch.Tensor, channel: int, balance: float) -> float:
    """The screen's purity: the 95th percentile over a sparse sample of the clip (raises when there is no screen)."""
    return purity_of(image[purity_frames(image.shape[0]), ::4, ::4].numpy(), channel, balance)


def purity_of(sample: np.ndarray, channel: int, balance: float) -> float:
    """The screen's purity from a sparse sample of its pixels (every 4th pixel of about 8 frames)."""
    difference = _difference(sample, channel, balance)
    standing_out = difference > MIN_DIFFERENCE
    if standing_out.mean() < 0.01:
        raise ValueError("no green/blue screen found: the chosen screen colour barely stands out in the image.")
    return float(np.quantile(_purity(sample, channel, balance)[standing_out], 0.95))


def screen_model(frame: np.ndarray, channel: int, balance: float, purity: float) -> np.ndarray:
    """The screen's colour behind every pixel of one frame [H, W, 3]: its pure-screen pixels' colours, spread
    smoothly over the frame on a coarse grid (unevenly lit screens get their local level, the subject the nearest)."""
    height, width = frame.shape[:2]
    small = frame_ops.resize(frame, max(1, width // MODEL_SCALE), max(1, height // MODEL_SCALE))
    pure = (_purity(small, channel, balance) >= PURE_SHARE * purity) & (
        _difference(small, channel, balance) > MIN_DIFFERENCE
    )
    reach = max(small.shape[:2]) / 16
    return frame_ops.resize(fill_known(small, pure, reach), width, height)


def key_frame(
    frame: torch.Tensor,
    screen: torch.Tensor,
    channel: int,
    balance: float,
    levels: tuple[float, float],
    colour: torch.Tensor,
    alpha: torch.Tensor,
) -> None:
    """One frame's un-mixed colour and alpha against the screen colour behind each pixel, written into `colour` and
    `alpha`."""
    share = torch.from_numpy(_difference(frame.numpy(), channel, balance))  # numpy: faster on channel views
    share /= torch.from_numpy(_difference(screen.numpy(), channel, balance)).clamp_(min=MIN_DIFFERENCE)
    black, white = levels
    torch.clamp(((1.0 - share.clamp_(0.0, 1.0)) - black).div_(white - black), 0.0, 1.0, out=alpha)
    a = cv2.merge([alpha.numpy()] * 3)  # OpenCV on matching channels: several times faster than a broadcast
    out = np.subtract(1.0, a, out=colour.numpy())  # worked in place in the output frame
    cv2.multiply(screen.numpy(), out, dst=out)
    cv2.subtract(frame.numpy(), out, dst=out)
    cv2.divide(out, np.maximum(a, UNMIX_FLOOR, out=a), dst=out)
    np.clip(out, 0.0, 1.0, out=out)


@frame_threads
def chroma_key(
    image: torch.Tensor,
    screen: str = "green",
    balance: float = 0.5,
    clip_black: float = 0.1,
    clip_white: float = 0.9,
    spill: float = 1.0,
    clean_plate: torch.Tensor | None = None,
    progress: Progress | None = None,
    purity: float | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Green/blue screen IMAGE -> (un-mixed, spill-limited IMAGE, MASK with the subject at 1).

    `clean_plate` (the screen shot without the subject, one frame or one per frame) gives the screen colour at each
    pixel; without it the screen is modelled from each frame's own pure-screen pixels. `purity` is the screen's,
    measured beforehand (`screen_purity` over the whole clip) when the frames are one block of a longer clip.
    """
    channel = SCREEN_CHANNEL[check_choice("screen", screen, tuple(SCREEN_CHANNEL))]
    balance = check_number("balance", balance, 0.0, 1.0)
    black, white = check_number("clip_black", clip_black, 0.0, 1.0), check_number("clip_white", clip_white, 0.0, 1.0)
    if black >= white:
        raise ValueError(f"clip_black ({black}) must be below clip_white ({white}), both within 0..1.")
    spill = check_number("spill", spill, 0.0, 1.0)
    image = as_image("image", image)
    plate = None if clean_plate is None else as_image("clean_plate", clean_plate)
    frames = clip_frames(image=image, clean_plate=plate)
    image = fit_frames("image", image, frames)
    if plate is not None:
        same_size("clean_plate", plate, "image", image)
        plate = fit_frames("clean_plate", plate, frames)
    if purity is None:
        purity = screen_purity(image if plate is None else plate, channel, balance)
    out, alpha = new_frames(*image.shape), new_frames(*image.shape[:3])

    def key(index: int) -> None:
        if plate is None:
            behind = torch.from_numpy(screen_model(image[index].numpy(), channel, balance, purity))
        else:
            behind = torch.from_numpy(frame_ops.gaussian_blur(plate[index].numpy(), 1.5))
        colour = out[index]
        key_frame(image[index], behind, channel, balance, (black, white), colour, alpha[index])
        despill(colour, screen, spill, out=colour)

    for part in chunk_slices(frames, 8):
        each_frame(key, part)
        report(progress, part)
    return out, alpha
