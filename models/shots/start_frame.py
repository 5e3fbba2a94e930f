"""The start frame of an image-to-video shot: the location plate with the shot's subjects placed on it.

Images are ComfyUI-style float tensors in 0..1. Subjects are cut out by their masks, scaled for
the shot size (whole figures in wide shots, filling the frame in close ones), spread across the
frame and stood on a ground line, so the model starts from the world's own pixels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

# Height of a subject as a fraction of the frame, and where its feet stand (fraction of height from
# the top), per shot size: wide shots show whole figures on the ground, close shots fill the frame.
SUBJECT_HEIGHT = {
    "extreme wide": 0.2,
    "wide": 0.35,
    "full": 0.8,
    "medium wide": 0.9,
    "medium": 0.9,
    "medium close-up": 0.95,
    "close-up": 0.95,
    "extreme close-up": 0.95,
    "insert": 0.6,
    "over-the-shoulder": 0.85,
}
GROUND_LINE = {"extreme wide": 0.9, "wide": 0.9, "full": 0.95}
PROP_SCALE = 0.5


@dataclass(frozen=True)
class Cutout:
    """A subject (or prop) to place: its view [H, W, 3] and matte [H, W] (1 = subject)."""

    image: torch.Tensor
    matte: torch.Tensor
    is_prop: bool = False


def cutout(name: str, view: torch.Tensor, mask: torch.Tensor | None, is_prop: bool = False) -> Cutout:
    """The view cropped to its matte's bounding box; a view without a mask is placed whole."""
    matte = torch.ones(view.shape[:2], dtype=view.dtype) if mask is None else mask.to(view.dtype)
    rows = torch.nonzero(matte.amax(dim=1) > 0.5).flatten()
    cols = torch.nonzero(matte.amax(dim=0) > 0.5).flatten()
    if rows.numel() == 0:
        raise ValueError(
            f"Reference {name!r} has an empty mask, so there is no subject to place in the "
            "start frame; give it a mask that covers the subject, or none to use the whole view."
        )
    top, bottom, left, right = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    return Cutout(view[top:bottom, left:right, :3], matte[top:bottom, left:right], is_prop)


def _resize_hw(tensor: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Resize [H, W, C] with antialiasing (subjects are usually shrunk)."""
    out = F.interpolate(tensor.movedim(-1, 0)[None], size=(height, width), mode="bilinear", antialias=True)
    return out[0].movedim(0, -1)


def _placement(
    item: Cutout, slot: int, slots: int, width: int, height: int, shot_size: str
) -> tuple[int, int, int, int]:
    """(x0, y0, w, h) of a cutout: evenly spaced across the frame, standing on the ground line."""
    fraction = SUBJECT_HEIGHT[shot_size] * (PROP_SCALE if item.is_prop and shot_size != "insert" else 1.0)
    target_h = max(1, round(height * fraction))
    target_w = max(1, round(item.image.shape[1] * target_h / item.image.shape[0]))
    if target_w > width:
        target_h = max(1, round(target_h * width / target_w))
        target_w = width
    centre_x = round(width * (slot + 1) / (slots + 1))
    bottom = round(height * GROUND_LINE.get(shot_size, 1.0))
    return centre_x - target_w // 2, bottom - target_h, target_w, target_h


def compose_start_frame(
    plate: torch.Tensor | None,
    cutouts: Sequence[Cutout],
    width: int,
    height: int,
    shot_size: str,
    background: float = 1.0,
) -> torch.Tensor:
    """[1, height, width, 3]: the plate (already at size) or a plain background, with cutouts placed over it."""
    if plate is None:
        frame = torch.full((height, width, 3), background)
    else:
        frame = plate[..., :3].reshape(height, width, 3).clone()
    for slot, item in enumerate(cutouts):
        x0, y0, w, h = _placement(item, slot, len(cutouts), width, height, shot_size)
        image = _resize_hw(item.image.to(frame.dtype), h, w)
        alpha = _resize_hw(item.matte.to(frame.dtype)[..., None], h, w).clamp(0, 1)
        fx0, fy0, fx1, fy1 = max(x0, 0), max(y0, 0), min(x0 + w, width), min(y0 + h, height)
        if fx0 >= fx1 or fy0 >= fy1:
            continue
        src = (slice(fy0 - y0, fy1 - y0), slice(fx0 - x0, fx1 - x0))
        region = frame[fy0:fy1, fx0:fx1]
        a = alpha[src]
        frame[fy0:fy1, fx0:fx1] = region * (1 - a) + image[src] * a
    return frame[None]
