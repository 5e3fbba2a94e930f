"""Preview World's contact sheet: layout size, views drawn in their cells, names and kinds written under them."""

import pytest
import torch

from worldkit.models.world.contact_sheet import CAPTION_HEIGHT, GAP, TILE_COLOUR, render_contact_sheet, sheet_layout
from worldkit.models.world.entities import Reference, World


def solid(name: str, kind: str, colour: tuple[float, float, float], views: int = 1) -> Reference:
    pixels = torch.tensor(colour).view(1, 1, 1, 3).expand(views, 36, 64, 3).clone()
    return Reference(name=name, kind=kind, description="", views=pixels)


def ink(sheet: torch.Tensor, box: tuple[int, int, int, int]) -> int:
    """Pixels in a caption box brighter than the caption's own colour: the drawn text."""
    x0, y0, x1, y1 = box
    region = sheet[0, y0:y1, x0 + 6 : x1]
    return int((region.max(dim=-1).values > TILE_COLOUR[0] / 255 + 0.2).sum())


def test_sheet_size_follows_the_grid():
    assert sheet_layout(5, 160) == (3, 2, 3 * 160 + 4 * GAP, 2 * (90 + CAPTION_HEIGHT) + 3 * GAP)
    assert sheet_layout(1, 320) == (1, 1, 320 + 2 * GAP, 180 + CAPTION_HEIGHT + 2 * GAP)
    assert sheet_layout(4, 100, columns=4)[:2] == (4, 1)


def test_each_cell_shows_its_views_and_a_caption_with_name_and_kind():
    world = World.from_labelled(
        [
            ("1", solid("skunk", "character", (1.0, 0.0, 0.0), views=3)),
            ("2", solid("forest", "location", (0.0, 1.0, 0.0))),
            ("3", solid("lantern", "object", (0.0, 0.0, 1.0))),
        ]
    )
    sheet, cells = render_contact_sheet(world, cell_width=160)
    _, _, width, height = sheet_layout(3, 160)
    assert sheet.shape == (1, height, width, 3)
    assert [(c.name, c.kind) for c in cells] == [("skunk", "character"), ("forest", "location"), ("lantern", "object")]
    assert cells[0].caption == ("skunk", "character · 3 views")
    for cell, channel in zip(cells, (0, 1, 2), strict=True):
        x0, y0, x1, _ = cell.box
        centre = sheet[0, y0 + 45, (x0 + x1) // 2]
        assert centre.argmax() == channel and centre[channel] > 0.99
        assert ink(sheet, cell.caption_box) > 30
    # three views in the first cell: the gaps between them show the tile colour
    x0, y0 = cells[0].box[:2]
    row = sheet[0, y0 + 45, x0 : x0 + 160]
    assert (row[:, 0] < 0.5).sum() >= 2


def test_longer_labels_draw_more_text_and_stay_inside_their_cell():
    short = World.from_labelled([("1", solid("ox", "object", (0.5, 0.5, 0.5)))])
    long = World.from_labelled([("1", solid("a very long entity name " * 4, "object", (0.5, 0.5, 0.5)))])
    short_sheet, short_cells = render_contact_sheet(short, cell_width=160)
    long_sheet, long_cells = render_contact_sheet(long, cell_width=160)
    assert ink(long_sheet, long_cells[0].caption_box) > ink(short_sheet, short_cells[0].caption_box)
    x1 = long_cells[0].caption_box[2]
    assert ink(long_sheet, (x1, 0, long_sheet.shape[2], long_sheet.shape[1])) == 0


def test_empty_world_is_a_clear_error():
    with pytest.raises(ValueError, match="empty"):
        render_contact_sheet(World())
