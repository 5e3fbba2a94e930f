"""A contact sheet of a world: every entity's views with its name and kind, the world bible at a glance."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from .entities import World
from .preprocess import fit_frames

GAP = 8
CAPTION_HEIGHT = 44
MAX_VIEWS_PER_CELL = 4
VIEW_GAP = 2
SHEET_COLOUR = (22, 22, 24)
TILE_COLOUR = (44, 44, 48)
NAME_COLOUR = (240, 240, 240)
DETAIL_COLOUR = (170, 170, 176)
KIND_COLOURS = {
    "character": (230, 140, 60),
    "object": (70, 180, 190),
    "location": (110, 180, 90),
    "style": (170, 120, 210),
}
NAME_FONT_SIZE = 16
DETAIL_FONT_SIZE = 12


@dataclass(frozen=True)
class SheetCell:
    """Where an entity sits on the sheet, and the caption lines written under its views."""

    name: str
    kind: str
    caption: tuple[str, str]
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 of the whole cell
    caption_box: tuple[int, int, int, int]


def sheet_layout(count: int, cell_width: int, columns: int = 0) -> tuple[int, int, int, int]:
    """(columns, rows, sheet width, sheet height) for ``count`` cells; 0 columns means a near-square grid."""
    columns = columns or math.ceil(math.sqrt(count))
    columns = max(1, min(columns, count))
    rows = math.ceil(count / columns)
    cell_height = thumb_height(cell_width) + CAPTION_HEIGHT
    return columns, rows, columns * cell_width + (columns + 1) * GAP, rows * cell_height + (rows + 1) * GAP


def thumb_height(cell_width: int) -> int:
    return round(cell_width * 9 / 16)


def font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):
        return ImageFont.load_default()


def fit_text(draw: ImageDraw.ImageDraw, text: str, typeface, width: int) -> str:
    """``text`` shortened with an ellipsis until it fits ``width`` pixels."""
    if draw.textlength(text, font=typeface) <= width:
        return text
    while text and draw.textlength(text + "…", font=typeface) > width:
        text = text[:-1]
    return text + "…"


def view_strip(views: torch.Tensor, width: int, height: int) -> np.ndarray:
    """Up to four views side by side in a width x height tile, each letterboxed, as uint8 RGB."""
    shown = views[:MAX_VIEWS_PER_CELL, :, :, :3].float().cpu()
    count = shown.shape[0]
    slot = max(1, (width - (count - 1) * VIEW_GAP) // count)
    ground = tuple(c / 255 for c in TILE_COLOUR)
    tile = np.full((height, width, 3), TILE_COLOUR, dtype=np.uint8)
    fitted = fit_frames(shown, slot, height, "contain", ground, antialias=True).clamp(0, 1)
    pixels = (fitted * 255).round().to(torch.uint8).numpy()
    for index in range(count):
        x0 = index * (slot + VIEW_GAP)
        tile[:, x0 : x0 + slot] = pixels[index]
    return tile


def render_contact_sheet(world: World, cell_width: int = 320, columns: int = 0) -> tuple[torch.Tensor, list[SheetCell]]:
    """The sheet as an IMAGE tensor [1, H, W, 3] and where each entity was drawn."""
    if not len(world):
        raise ValueError("The world is empty; connect at least one reference to preview it.")
    if cell_width < 64:
        raise ValueError(f"cell_width {cell_width} is too small to show views and labels; use 64 or more.")
    columns, _, sheet_width, sheet_height = sheet_layout(len(world), cell_width, columns)
    canvas = Image.new("RGB", (sheet_width, sheet_height), SHEET_COLOUR)
    draw = ImageDraw.Draw(canvas)
    name_font, detail_font = font(NAME_FONT_SIZE), font(DETAIL_FONT_SIZE)
    tile_height = thumb_height(cell_width)
    cells = []
    for index, reference in enumerate(world.references.values()):
        x0 = GAP + (index % columns) * (cell_width + GAP)
        y0 = GAP + (index // columns) * (tile_height + CAPTION_HEIGHT + GAP)
        canvas.paste(Image.fromarray(view_strip(reference.views, cell_width, tile_height)), (x0, y0))
        caption_top = y0 + tile_height
        caption_box = (x0, caption_top, x0 + cell_width, caption_top + CAPTION_HEIGHT)
        draw.rectangle(caption_box, fill=TILE_COLOUR)
        draw.rectangle(
            (x0, caption_top, x0 + 3, caption_box[3] - 1), fill=KIND_COLOURS.get(reference.kind, NAME_COLOUR)
        )
        views = f"{reference.view_count} view" + ("s" if reference.view_count != 1 else "")
        encoded = (
            ", encoded " + " ".join(f"{e.width}x{e.height}" for e in reference.encodings) if reference.encodings else ""
        )
        caption = (reference.name, f"{reference.kind} · {views}{encoded}")
        draw.text(
            (x0 + 10, caption_top + 4),
            fit_text(draw, caption[0], name_font, cell_width - 14),
            fill=NAME_COLOUR,
            font=name_font,
        )
        draw.text(
            (x0 + 10, caption_top + 25),
            fit_text(draw, caption[1], detail_font, cell_width - 14),
            fill=DETAIL_COLOUR,
            font=detail_font,
        )
        cells.append(
            SheetCell(reference.name, reference.kind, caption, (x0, y0, x0 + cell_width, caption_box[3]), caption_box)
        )
    image = torch.from_numpy(np.asarray(canvas, dtype=np.float32) / 255.0).unsqueeze(0)
    return image, cells
