"""Start-frame composition on constructed images: cutouts by mask, placement by shot size."""

import pytest
import torch

from worldkit.models.shots.start_frame import SUBJECT_HEIGHT, compose_start_frame, cutout


def test_cutout_crops_to_mask_box_and_rejects_empty_mask():
    view = torch.ones(20, 30, 3)
    mask = torch.zeros(20, 30)
    mask[5:15, 10:16] = 1
    item = cutout("skunk", view, mask)
    assert item.image.shape == (10, 6, 3) and item.matte.shape == (10, 6)
    assert cutout("skunk", view, None).image.shape == (20, 30, 3)
    with pytest.raises(ValueError, match="'skunk' has an empty mask"):
        cutout("skunk", view, torch.zeros(20, 30))


def test_compose_places_masked_subject_standing_on_the_plate():
    width, height = 96, 64
    plate = torch.zeros(1, height, width, 3)
    plate[..., 2] = 1.0  # blue plate
    view = torch.ones(40, 40, 3)  # white padding around...
    view[10:30, 15:25] = torch.tensor([1.0, 0.0, 0.0])  # ...a red subject, twice as tall as wide
    mask = torch.zeros(40, 40)
    mask[10:30, 15:25] = 1.0
    frame = compose_start_frame(plate, [cutout("a", view, mask)], width, height, "full")
    assert frame.shape == (1, height, width, 3)
    red = (frame[0, ..., 0] > 0.9) & (frame[0, ..., 2] < 0.1)
    rows, cols = torch.nonzero(red, as_tuple=True)
    expected_h = round(height * SUBJECT_HEIGHT["full"])
    assert rows.max() - rows.min() + 1 == pytest.approx(expected_h, abs=2)
    assert cols.max() - cols.min() + 1 == pytest.approx(expected_h / 2, abs=2)
    assert (cols.min() + cols.max()) / 2 == pytest.approx(width / 2, abs=1.5)  # one subject: centred
    assert rows.max() == pytest.approx(round(height * 0.95) - 1, abs=1)  # feet on the ground line
    assert frame[0, 0, 0].tolist() == [0.0, 0.0, 1.0]  # plate untouched elsewhere
    assert not (frame[0] == 1.0).all(dim=-1).any()  # the white padding was not pasted


def test_compose_spreads_subjects_and_shrinks_props():
    width, height = 128, 64
    subject = cutout("s", torch.full((10, 10, 3), 0.2), None)
    prop = cutout("p", torch.full((10, 10, 3), 0.8), None, is_prop=True)
    frame = compose_start_frame(None, [subject, prop], width, height, "medium")[0, ..., 0]
    subject_cols = torch.nonzero((frame - 0.2).abs() < 1e-4, as_tuple=True)[1]
    prop_cols = torch.nonzero((frame - 0.8).abs() < 1e-4, as_tuple=True)[1]
    assert subject_cols.float().mean() == pytest.approx(width / 3, abs=1.5)
    assert prop_cols.float().mean() == pytest.approx(2 * width / 3, abs=1.5)
    assert prop_cols.unique().numel() < subject_cols.unique().numel()
    assert frame[0, 0] == 1.0  # plain white background without a plate
