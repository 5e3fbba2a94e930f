"""Chroma key: a matte from a green or blue screen by colour difference against the screen's own colour at each
pixel (from a clean plate, or a smooth model of the screen fitted to the frame), the edge colours un-mixed from the
screen, and spill limited without touching neutral or non-screen colours.

On a device (ComfyUI's GPU) the key is worked there in torch (`_key_on_device`), the same maths on whole frames; the
screen model's coarse grid is still fitted on the CPU (a 64th of the pixels) and enlarged on the device.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import torch

from . import device as gpu
from . import frame_ops, tensor_ops
from .checks import as_image, check_choice, check_number, clip_frames, fit_frames, new_frames, same_size
from .chunking import Progress, chunk_slices, each_frame, frame_threads, map_frames, report
from .matte import SCREEN_CHANNEL, despill
from .trimap import fill_known

MODEL_SCALE = 8  # the screen model is fitted on a grid this many times coarser (a screen's light varies slowly)
PURE_SHARE = (
    0.8  # pixels whose screen purity (difference / screen channel) reaches this share of the screen's are screen
)
MIN_DIFFERENCE = 0.05  # a screen must stand out from its other channels by at least this much
UNMIX_FLOOR = 0.05  # alpha below which the un-mixed colour is divided by this instead (noise would blow up)
CLEAN_PLATE_SIGMA = 1.5  # the clean plate's blur, which takes its noise out of the screen colour


def _difference(image: np.ndarray, channel: int, balance: float) -> np.ndarray:
    """Screen channel minus a blend of the other two (balance 1 = their max, 0 = their min), of one frame [H, W, 3]
    or a stack of them. The blend is their mean plus (balance - 0.5) times their distance, so the usual balance of
    0.5 is one OpenCV channel transform (a single pass over the frame)."""
    pixels = np.ascontiguousarray(image).reshape(-1, image.shape[-2], 3)
    weights = np.full((1, 3), -0.5, np.float32)
    weights[0, channel] = 1.0
    difference = cv2.transform(pixels, weights)
    if balance != 0.5:
        a, b = (c for c in range(3) if c != channel)
        spread = cv2.absdiff(cv2.extractChannel(pixels, a), cv2.extractChannel(pixels, b))
        cv2.scaleAdd(spread, 0.5 - balance, difference, dst=difference)
    return difference.reshape(image.shape[:-1])


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
    return frame_ops.resize(coarse_screen(frame, channel, balance, purity), width, height)


def coarse_screen(frame: np.ndarray, channel: int, balance: float, purity: float) -> np.ndarray:
    """`screen_model` on its coarse grid, before it is enlarged to the frame."""
    height, width = frame.shape[:2]
    small = frame_ops.resize(frame, max(1, width // MODEL_SCALE), max(1, height // MODEL_SCALE))
    pure = (_purity(small, channel, balance) >= PURE_SHARE * purity) & (
        _difference(small, channel, balance) > MIN_DIFFERENCE
    )
    reach = max(small.shape[:2]) / 16
    return fill_known(small, pure, reach)


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
    share = _difference(frame.numpy(), channel, balance)
    cv2.divide(share, cv2.max(_difference(screen.numpy(), channel, balance), MIN_DIFFERENCE), dst=share)
    black, white = levels
    # 1 - share stretched by the levels and clamped; share's own clamp to 0..1 changes nothing the level clamp keeps.
    key = alpha.numpy()
    cv2.addWeighted(share, -1.0 / (white - black), share, 0.0, (1.0 - black) / (white - black), dst=key)
    _clamp_unit(key)
    out = colour.numpy()  # the un-mixed colour (frame - (1 - alpha) screen) / alpha, worked in place
    cv2.merge([np.subtract(1.0, key, dtype=np.float32)] * 3, dst=out)  # OpenCV on matching channels, no broadcast
    cv2.multiply(screen.numpy(), out, dst=out)
    cv2.subtract(frame.numpy(), out, dst=out)
    cv2.divide(out, frame_ops.per_channel(cv2.max(key, UNMIX_FLOOR), 3), dst=out)
    _clamp_unit(out)


def _clamp_unit(frame: np.ndarray) -> None:
    """Clamp a float32 frame to 0..1 in place (OpenCV's thresholds: about twice as fast as numpy's clip)."""
    cv2.threshold(frame, 1.0, 1.0, cv2.THRESH_TRUNC, dst=frame)
    cv2.threshold(frame, 0.0, 0.0, cv2.THRESH_TOZERO, dst=frame)


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
    device: torch.device | None = None,
    host_image: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Green/blue screen IMAGE -> (un-mixed, spill-limited IMAGE, MASK with the subject at 1).

    `clean_plate` (the screen shot without the subject, one frame or one per frame) gives the screen colour at each
    pixel; without it the screen is modelled from each frame's own pure-screen pixels. `purity` is the screen's,
    measured beforehand (`screen_purity` over the whole clip) when the frames are one block of a longer clip. On a
    `device` (a GPU) the key is worked there and the frames stay where they came from (device.py); the screen model's
    coarse grid is fitted from `host_image` (the frames' CPU copy, which a streamed chain holding them on the device
    hands in; else the image itself, brought to the CPU).
    """
    channel = SCREEN_CHANNEL[check_choice("screen", screen, tuple(SCREEN_CHANNEL))]
    balance = check_number("balance", balance, 0.0, 1.0)
    black, white = check_number("clip_black", clip_black, 0.0, 1.0), check_number("clip_white", clip_white, 0.0, 1.0)
    if black >= white:
        raise ValueError(f"clip_black ({black}) must be below clip_white ({white}), both within 0..1.")
    spill = check_number("spill", spill, 0.0, 1.0)
    image = as_image("image", image, device)
    plate = None if clean_plate is None else as_image("clean_plate", clean_plate, device)
    frames = clip_frames(image=image, clean_plate=plate)
    image = fit_frames("image", image, frames)
    if plate is not None:
        same_size("clean_plate", plate, "image", image)
        plate = fit_frames("clean_plate", plate, frames)
    if device is not None:
        host = fit_frames("image", as_image("image", gpu.download(image) if host_image is None else host_image), frames)
        if purity is None:
            purity = screen_purity(host if plate is None else gpu.download(plate), channel, balance)
        if plate is None:
            screens = _coarse_screens(host, channel, balance, purity, torch.device(device))
        else:
            screens = _blurred_plates(plate, torch.device(device))
        out, alpha = _key_on_device(image, screens, (channel, balance, black, white), screen, spill, device)
        report(progress, slice(0, frames))
        return out, alpha
    if purity is None:
        purity = screen_purity(image if plate is None else plate, channel, balance)
    out, alpha = new_frames(*image.shape), new_frames(*image.shape[:3])

    def key(index: int) -> None:
        if plate is None:
            behind = torch.from_numpy(screen_model(image[index].numpy(), channel, balance, purity))
        else:
            behind = torch.from_numpy(frame_ops.gaussian_blur(plate[index].numpy(), CLEAN_PLATE_SIGMA))
        colour = out[index]
        key_frame(image[index], behind, channel, balance, (black, white), colour, alpha[index])
        despill(colour, screen, spill, out=colour)

    for part in chunk_slices(frames, 8):
        each_frame(key, part)
        report(progress, part)
    return out, alpha


DEVICE_FRAME_PLANES = (
    24  # float32 planes a frame takes on the device: the frame, its screen, their differences, results
)


def _coarse_screens(
    host: torch.Tensor, channel: int, balance: float, purity: float, device: torch.device
) -> Callable[[slice], torch.Tensor]:
    """Screen colours of a part's frames on `device`: each frame's coarse model fitted on the CPU (over the cores),
    moved there and enlarged as `screen_model` enlarges it (tensor_ops.resize)."""
    height, width = host.shape[1:3]

    def screens(part: slice) -> torch.Tensor:
        coarse = np.stack(
            map_frames(lambda i: coarse_screen(host[i].numpy(), channel, balance, purity), range(part.start, part.stop))
        )
        return tensor_ops.resize(gpu.upload(torch.from_numpy(coarse), device), width, height)

    return screens


def _blurred_plates(plate: torch.Tensor, device: torch.device) -> Callable[[slice], torch.Tensor]:
    """Screen colours of a part's frames on `device` from the clean plate, blurred as the CPU path blurs it (once,
    for a plate of one frame that stands for every frame)."""
    still = plate[:1] if plate.stride(0) == 0 else plate

    def screens(part: slice) -> torch.Tensor:
        frames = gpu.moved(still, device, part)
        return tensor_ops.gaussian_blur(frames, CLEAN_PLATE_SIGMA).expand(part.stop - part.start, *frames.shape[1:])

    return screens


def _difference_of(frames: torch.Tensor, channel: int, balance: float) -> torch.Tensor:
    """`_difference` of frames [..., 3] in torch: the screen channel less the other two's blend."""
    a, b = (frames[..., c] for c in range(3) if c != channel)
    difference = frames[..., channel] - 0.5 * a - 0.5 * b
    return difference if balance == 0.5 else difference + (0.5 - balance) * (a - b).abs()


def _key_on_device(
    image: torch.Tensor,
    screens: Callable[[slice], torch.Tensor],
    settings: tuple[int, float, float, float],
    screen: str,
    spill: float,
    device: torch.device,
) -> tuple[torch.Tensor, torch.Tensor]:
    """`key_frame` and the despill on whole frames on `device`, part by part; `settings` are the screen's channel,
    the balance and the clip levels."""
    frames, height, width, _ = image.shape
    channel, balance, black, white = settings

    def compute(part: slice) -> tuple[torch.Tensor, torch.Tensor]:
        colour, behind = gpu.moved(image, torch.device(device), part), screens(part)
        share = _difference_of(colour, channel, balance) / _difference_of(behind, channel, balance).clamp(
            min=MIN_DIFFERENCE
        )
        key = (share * (-1.0 / (white - black)) + (1.0 - black) / (white - black)).clamp_(0.0, 1.0)
        unmixed = (colour - behind * (1.0 - key)[..., None]) / key.clamp(min=UNMIX_FLOOR)[..., None]
        unmixed = unmixed.clamp_(0.0, 1.0)
        return despill(unmixed, screen, spill, out=unmixed), key

    return gpu.by_parts(torch.device(device), frames, height * width * DEVICE_FRAME_PLANES * 4, compute, image.device)
