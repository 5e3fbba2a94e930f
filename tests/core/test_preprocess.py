"""Subject crops, padding, background removal and plate resizing on constructed images with known boxes."""

import pytest
import torch
import torch.nn.functional as F

from worldkit.models.world.preprocess import (
    Box,
    PreprocessSettings,
    build_reference,
    cover_box,
    fit_frames,
    framed_box,
    mask_box,
    preprocess_views,
)

WHITE = (1.0, 1.0, 1.0)


def ramp_image(height: int, width: int, views: int = 1) -> torch.Tensor:
    """Every pixel distinct, so a crop can be located exactly."""
    ys = torch.arange(height, dtype=torch.float32).view(-1, 1).expand(height, width) / height
    xs = torch.arange(width, dtype=torch.float32).view(1, -1).expand(height, width) / width
    image = torch.stack([xs, ys, (xs + ys) / 2], dim=-1) * 0.8 + 0.1
    return image.unsqueeze(0).repeat(views, 1, 1, 1)


def box_mask(height: int, width: int, box: Box, views: int = 1) -> torch.Tensor:
    mask = torch.zeros(views, height, width)
    mask[:, box.y0 : box.y1, box.x0 : box.x1] = 1.0
    return mask


def test_framed_box_grows_by_margin_and_widens_to_aspect():
    assert framed_box(Box(40, 30, 60, 50), margin=0.5, aspect=2.0) == Box(10, 20, 90, 60)
    assert framed_box(Box(10, 50, 30, 60), margin=0.0, aspect=1.0) == Box(10, 45, 30, 65)


def test_mask_box_is_tight_and_thresholded():
    mask = torch.zeros(50, 60)
    mask[12:20, 7:31] = 1.0
    mask[0, 0] = 0.4  # below the threshold
    assert mask_box(mask) == Box(7, 12, 31, 20)
    assert mask_box(torch.zeros(5, 5)) is None


def test_subject_is_cropped_to_box_with_margin_and_centred_at_unit_scale():
    image = ramp_image(100, 100)
    subject = Box(40, 30, 60, 50)
    settings = PreprocessSettings(width=80, height=40, margin=0.5)
    views, masks = preprocess_views(image, box_mask(100, 100, subject), "character", settings)
    assert views.shape == (1, 40, 80, 3) and masks.shape == (1, 40, 80)
    # framed box is x 10..90, y 20..60: a pure crop at scale 1
    assert torch.equal(views[0], image[0, 20:60, 10:90])
    assert mask_box(masks[0]) == Box(30, 10, 50, 30)


def test_subject_scaled_up_lands_centred():
    image = ramp_image(80, 100)
    _, masks = preprocess_views(
        image, box_mask(80, 100, Box(10, 50, 30, 60)), "object", PreprocessSettings(width=40, height=40, margin=0.0)
    )
    # framed box 20x20 (y 45..65) scaled 2x: the 20x10 subject fills columns 0..40, rows 10..30
    assert mask_box(masks[0]) == Box(0, 10, 40, 30)
    assert masks[0, 12:28].min() == 1.0 and masks[0, :8].max() == 0.0 and masks[0, 32:].max() == 0.0


def test_subject_at_the_edge_is_padded_with_background():
    image = ramp_image(40, 40)
    views, masks = preprocess_views(
        image, box_mask(40, 40, Box(0, 0, 10, 10)), "character", PreprocessSettings(width=20, height=20, margin=0.5)
    )
    # framed box is x, y in -5..15: five rows and columns of white, then the image from its corner
    assert torch.equal(views[0, :5], torch.ones(5, 20, 3))
    assert torch.equal(views[0, :, :5], torch.ones(20, 5, 3))
    assert torch.equal(views[0, 5:, 5:], image[0, :15, :15])
    assert masks[0, :5].max() == 0.0


def test_remove_background_fills_outside_the_mask_with_the_background_colour():
    image = ramp_image(60, 60)
    mask = box_mask(60, 60, Box(20, 20, 40, 40))
    black = (0.0, 0.0, 0.0)
    views, masks = preprocess_views(
        image,
        mask,
        "object",
        PreprocessSettings(width=40, height=40, margin=0.5, background=black, remove_background=True),
    )
    outside = masks[0] == 0.0
    inside = masks[0] == 1.0
    assert outside.sum() > 0 and inside.sum() > 0
    assert views[0][outside].abs().max() == 0.0
    assert torch.equal(views[0, 10:30, 10:30], image[0, 20:40, 20:40])


def test_background_kept_without_remove_background():
    image = ramp_image(60, 60)
    views, _ = preprocess_views(
        image, box_mask(60, 60, Box(20, 20, 40, 40)), "object", PreprocessSettings(width=40, height=40, margin=0.5)
    )
    assert torch.equal(views[0], image[0, 10:50, 10:50])


def test_subject_without_mask_is_contained_on_white():
    image = torch.full((1, 50, 100, 3), 0.25)
    views, masks = preprocess_views(image, None, "character", PreprocessSettings(width=40, height=40))
    assert masks is None
    # 100x50 in a square: 25 rows of white above and below at source scale, 10 at 0.4x (one row blends)
    assert torch.allclose(views[0, :9], torch.ones(9, 40, 3), atol=1e-6)
    assert torch.allclose(views[0, 31:], torch.ones(9, 40, 3), atol=1e-6)
    assert torch.allclose(views[0, 11:29], torch.full((18, 40, 3), 0.25))
    assert 0.25 < views[0, 9].mean() < 1.0


def test_alpha_channel_is_the_mask_when_none_is_given():
    rgb = ramp_image(60, 60)
    alpha = box_mask(60, 60, Box(20, 20, 40, 40)).unsqueeze(-1)
    settings = PreprocessSettings(width=40, height=40, margin=0.5)
    from_alpha = preprocess_views(torch.cat([rgb, alpha], dim=-1), None, "character", settings)
    from_mask = preprocess_views(rgb, alpha[..., 0], "character", settings)
    assert torch.equal(from_alpha[0], from_mask[0]) and torch.equal(from_alpha[1], from_mask[1])


def test_loadimage_placeholder_mask_counts_as_no_mask():
    image = ramp_image(50, 100)
    settings = PreprocessSettings(width=40, height=40)
    with_placeholder = preprocess_views(image, torch.zeros(1, 64, 64), "character", settings)
    without = preprocess_views(image, None, "character", settings)
    assert with_placeholder[1] is None
    assert torch.equal(with_placeholder[0], without[0])


def test_one_mask_is_shared_by_every_view():
    image = ramp_image(60, 60, views=3) * torch.tensor([1.0, 0.9, 0.8]).view(3, 1, 1, 1)  # three distinct views
    mask = box_mask(60, 60, Box(20, 20, 40, 40))
    views, masks = preprocess_views(image, mask, "character", PreprocessSettings(width=40, height=40, margin=0.5))
    assert views.shape == (3, 40, 40, 3) and masks.shape == (3, 40, 40)
    # framed box x, y 10..50 at scale 1: each view is cut from its own picture, at the one mask's box
    for index in range(3):
        assert torch.equal(views[index], image[index, 10:50, 10:50])
        assert torch.equal(masks[index], mask[0, 10:50, 10:50])


@pytest.mark.parametrize(
    ("mask", "message"),
    [
        (torch.zeros(1, 60, 60), "empty"),
        (torch.ones(1, 30, 60), "30"),
        (torch.ones(2, 60, 60), "2 masks for 3 views"),
        (torch.full((1, 60, 60), float("nan")), "NaN"),
    ],
)
def test_bad_masks_are_clear_errors(mask, message):
    with pytest.raises(ValueError, match=message):
        preprocess_views(ramp_image(60, 60, views=3), mask, "character", PreprocessSettings(width=40, height=40))


def test_unknown_kind_and_bad_settings_are_refused():
    with pytest.raises(ValueError, match="kind 'prop'"):
        preprocess_views(ramp_image(10, 10), None, "prop", PreprocessSettings())
    with pytest.raises(ValueError, match="fit"):
        PreprocessSettings(fit="stretch")
    with pytest.raises(ValueError, match="margin"):
        PreprocessSettings(margin=-1)


def test_location_cover_crops_the_centre_then_resizes():
    image = ramp_image(100, 200)
    views, _ = preprocess_views(image, None, "location", PreprocessSettings(width=50, height=50, fit="cover"))
    crop = image[:, :, 50:150].permute(0, 3, 1, 2)
    expected = F.interpolate(crop, size=(50, 50), mode="bilinear", align_corners=False, antialias=True)
    assert torch.allclose(views, expected.permute(0, 2, 3, 1).clamp(0, 1), atol=1e-6)


def test_location_contain_letterboxes_with_background():
    image = torch.full((1, 50, 100, 3), 0.3)
    views, _ = preprocess_views(
        image, None, "location", PreprocessSettings(width=100, height=100, fit="contain", background=(0.0, 0.0, 0.0))
    )
    assert torch.equal(views[0, :25], torch.zeros(25, 100, 3))
    assert torch.equal(views[0, 75:], torch.zeros(25, 100, 3))
    assert torch.allclose(views[0, 25:75], torch.full((50, 100, 3), 0.3))


def test_cover_box_matches_comfyui_centre_crop_arithmetic():
    # 1280x720 to 832x480: ComfyUI crops round((1280 - 1280 * (1.7333 / 1.7778)) / 2) = 16 columns each side
    assert cover_box(1280, 720, 832, 480) == Box(16, 0, 1264, 720)
    assert cover_box(720, 1280, 480, 832) == Box(0, 16, 720, 1264)
    assert cover_box(640, 480, 320, 240) == Box(0, 0, 640, 480)


def test_fit_frames_cover_without_antialias_is_plain_bilinear_of_the_crop():
    image = ramp_image(72, 128)
    fitted = fit_frames(image, 104, 60, "cover")
    expected = F.interpolate(image[:, :, 2:126].permute(0, 3, 1, 2), size=(60, 104), mode="bilinear")
    assert torch.equal(fitted, expected.permute(0, 2, 3, 1))


def test_build_reference_records_name_settings_and_source_hash():
    image = ramp_image(60, 60)
    mask = box_mask(60, 60, Box(20, 20, 40, 40))
    settings = PreprocessSettings(width=32, height=32)
    reference = build_reference("  skunk ", "character", " a small skunk ", image, mask, settings)
    assert reference.name == "skunk" and reference.description == "a small skunk"
    assert reference.preprocess == settings.as_dict() and reference.preprocess["background"] == [1.0, 1.0, 1.0]
    same = build_reference("skunk", "character", "", image.clone(), mask.clone(), settings)
    other_mask = build_reference("skunk", "character", "", image, box_mask(60, 60, Box(10, 10, 40, 40)), settings)
    assert reference.source_hash == same.source_hash != other_mask.source_hash
    with pytest.raises(ValueError, match="name"):
        build_reference("  ", "character", "", image)
