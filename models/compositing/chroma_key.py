"""Chroma key: a matte from a green or blue screen by colour difference, with spill suppression."""

from __future__ import annotations

import torch

from .checks import as_image, mark_finite_all
from .chunking import Progress, chunk_slices, frame_threads, report
from .matte import SCREEN_CHANNEL, despill


def _difference(image: torch.Tensor, channel: int, balance: float) -> torch.Tensor:
    """Screen channel minus a blend of the other two (balance 1 = their max, 0 = their min)."""
    a, b = (image[..., c] for c in range(3) if c != channel)
    others = torch.maximum(a, b) * balance + torch.minimum(a, b) * (1.0 - balance)
    return image[..., channel] - others


def screen_level(image: torch.Tensor, channel: int, balance: float) -> float:
    """The colour difference of the screen itself: the 95th percentile over a sparse sample of the clip."""
    sample = image[:: max(1, image.shape[0] // 8), ::4, ::4]
    level = float(torch.quantile(_difference(sample, channel, balance).reshape(-1)[:1_000_000], 0.95))
    if level <= 0.05:
        raise ValueError("no green/blue screen found: the chosen screen colour barely stands out in the image.")
    return level


@frame_threads
def chroma_key(
    image: torch.Tensor,
    screen: str = "green",
    balance: float = 0.5,
    clip_black: float = 0.1,
    clip_white: float = 0.9,
    spill: float = 1.0,
    progress: Progress | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Green/blue screen IMAGE -> (spill-suppressed IMAGE, MASK with the subject at 1)."""
    if screen not in SCREEN_CHANNEL:
        raise ValueError(f"screen must be 'green' or 'blue'; got {screen!r}.")
    if not 0.0 <= clip_black < clip_white <= 1.0:
        raise ValueError(f"clip_black ({clip_black}) must be below clip_white ({clip_white}), both within 0..1.")
    image = as_image("image", image)
    channel = SCREEN_CHANNEL[screen]
    level = screen_level(image, channel, balance)
    frames = image.shape[0]
    out, alpha = torch.empty_like(image), torch.empty(image.shape[:3])
    for part in chunk_slices(frames, 8):
        screen_share = (_difference(image[part], channel, balance) / level).clamp_(0.0, 1.0)
        alpha[part] = ((1.0 - screen_share) - clip_black).div_(clip_white - clip_black).clamp_(0.0, 1.0)
        out[part] = despill(image[part], screen, spill)
        report(progress, part)
    return mark_finite_all(out, alpha)
