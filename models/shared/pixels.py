"""Pixels from other nodes, checked before they are stored or passed on."""

from __future__ import annotations

import torch


class PixelError(ValueError):
    """Images or masks that cannot be used; the message names the input and the fix."""


def require_pixels(tensor: torch.Tensor, what: str) -> torch.Tensor:
    """``tensor`` when it holds at least one frame and every value is a finite number. An empty batch (a filter
    that dropped every frame) has nothing to show; NaN or infinity would spread through every frame made from
    it (and be saved in a world), so it is refused with the count and where the first one is."""
    if not isinstance(tensor, torch.Tensor):
        raise PixelError(f"{what} must be an image tensor, got {type(tensor).__name__}.")
    if tensor.numel() == 0:
        raise PixelError(
            f"{what} is an empty batch (shape {tuple(tensor.shape)}); connect a node that gives at least one frame."
        )
    if tensor.is_floating_point():
        bad = ~torch.isfinite(tensor)
        if bool(bad.any()):
            first = [int(i) for i in bad.nonzero()[0]]
            raise PixelError(
                f"{what} holds {int(bad.sum()):,} NaN or infinite values (the first at index {first}); "
                "fix the node that made it, or clamp it (e.g. with an image-adjust node) before connecting it."
            )
    return tensor
