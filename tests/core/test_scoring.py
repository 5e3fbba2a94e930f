"""Consistency scores on constructed scenes: a textured object re-rendered vs a different object."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from worldkit.models.sampling.identity import color_similarity, lab_histogram
from worldkit.models.sampling.scoring import (
    METHOD_CLASSICAL,
    METHOD_CLIP,
    TEMPORAL_ERROR_SCALE,
    ScoreReport,
    frame_step_errors,
    pick_best,
    sample_frame_indices,
    score_candidate,
    select_references,
    temporal_stability,
)
from worldkit.models.world.entities import Reference
from worldkit.tests.scenes import FRAME_W, OTHER, OTHER_SAME_COLORS, SIZE, TOY, render


def to_image(*frames: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.stack(frames)).float() / 255.0


def reference_of(obj: np.ndarray, name: str = "toy", with_mask: bool = True) -> Reference:
    """A reference view with the object on its own background, masked to the object."""
    view = np.full((SIZE + 80, SIZE + 80, 3), (30, 200, 30), np.uint8)  # green surround the mask excludes
    view[40 : 40 + SIZE, 40 : 40 + SIZE] = obj
    mask = torch.zeros(SIZE + 80, SIZE + 80)
    mask[40 : 40 + SIZE, 40 : 40 + SIZE] = 1.0
    return Reference(
        name=name, kind="object", description="", views=to_image(view), masks=mask[None] if with_mask else None
    )


@pytest.mark.parametrize("features", ["sift", "orb"])
def test_same_object_shifted_rotated_relit_ranks_above_a_different_object(features):
    reference = reference_of(TOY)
    same = to_image(render(TOY, (200, 130), angle=20, scale=0.9, gain=(1.15, 1.05, 0.9)))
    different = to_image(render(OTHER, (200, 130), angle=20, scale=0.9, gain=(1.15, 1.05, 0.9)))
    same_report = score_candidate(same, [reference], features=features)
    different_report = score_candidate(different, [reference], features=features)
    assert same_report.method == METHOD_CLASSICAL
    assert same_report.identity > different_report.identity
    assert same_report.references[0].feature > different_report.references[0].feature
    assert same_report.references[0].color > different_report.references[0].color


def test_features_separate_objects_that_share_a_palette():
    reference = reference_of(TOY)
    same = score_candidate(to_image(render(TOY, (150, 120), angle=-15, gain=(0.8, 0.8, 0.85))), [reference])
    lookalike = score_candidate(
        to_image(render(OTHER_SAME_COLORS, (150, 120), angle=-15, gain=(0.8, 0.8, 0.85))), [reference]
    )
    assert same.references[0].feature > 0.2
    assert lookalike.references[0].feature < 0.05
    assert same.identity > lookalike.identity


def test_reference_mask_keeps_the_reference_background_out_of_the_colour_score():
    frame = to_image(render(TOY, (160, 120)))
    masked = score_candidate(frame, [reference_of(TOY, with_mask=True)])
    unmasked = score_candidate(frame, [reference_of(TOY, with_mask=False)])
    assert masked.references[0].color > unmasked.references[0].color


def test_identical_histograms_score_one_and_disjoint_colours_score_zero():
    red = np.zeros((32, 32, 3), np.uint8)
    red[..., 0] = 255
    blue = np.zeros((32, 32, 3), np.uint8)
    blue[..., 2] = 255
    assert color_similarity(lab_histogram(red), lab_histogram(red)) == pytest.approx(1.0, abs=1e-6)
    assert color_similarity(lab_histogram(red), lab_histogram(blue)) == pytest.approx(0.0, abs=1e-6)


def test_all_scores_lie_in_unit_range_and_scoring_is_deterministic():
    frames = to_image(*(render(TOY, (120 + 8 * t, 120), angle=2 * t) for t in range(5)))
    first = score_candidate(frames, [reference_of(TOY), reference_of(OTHER, name="other")])
    second = score_candidate(frames, [reference_of(TOY), reference_of(OTHER, name="other")])
    assert first == second
    values = [first.overall, first.identity, first.temporal_stability]
    for reference in first.references:
        values += [reference.identity, reference.feature, reference.color, *reference.per_frame]
    assert all(0.0 <= v <= 1.0 for v in values)
    assert [r.name for r in first.references] == ["toy", "other"]
    assert first.identity == pytest.approx((first.references[0].identity + first.references[1].identity) / 2)
    assert first.overall == pytest.approx(0.75 * first.identity + 0.25 * first.temporal_stability)


def test_temporal_stability_is_lower_for_flicker_than_for_smooth_motion():
    smooth = to_image(*(render(TOY, (110 + 6 * t, 120)) for t in range(8)))
    gains = [1.0, 0.7, 1.0, 0.7, 1.0, 0.7, 1.0, 0.7]
    flicker = to_image(*(render(TOY, (110 + 6 * t, 120), gain=(g, g, g)) for t, g in enumerate(gains)))
    assert temporal_stability(smooth) > temporal_stability(flicker)
    assert temporal_stability(smooth) > 0.8
    assert temporal_stability(to_image(render(TOY, (110, 120)))) == 1.0


def test_flow_compensates_motion_so_a_moving_object_is_steadier_than_a_popping_one():
    moving = to_image(*(render(TOY, (100 + 10 * t, 120)) for t in range(6)))
    popping = to_image(*(render(TOY if t % 2 == 0 else OTHER, (100 + 10 * t, 120)) for t in range(6)))
    moving_errors, popping_errors = frame_step_errors(moving), frame_step_errors(popping)
    assert moving_errors.shape == (5,)
    assert moving_errors.max() < popping_errors.min()
    assert temporal_stability(moving) == pytest.approx(math.exp(-moving_errors.mean() / TEMPORAL_ERROR_SCALE))


class FakeClipVision:
    """A CLIP-vision stand-in whose embedding is the mean colour of the centre of what it is given."""

    def __init__(self):
        self.calls: list[tuple[tuple[int, ...], bool]] = []

    def encode_image(self, image: torch.Tensor, crop: bool = True):
        self.calls.append((tuple(image.shape), crop))
        side = image.shape[1]
        centre = image[:, side // 4 : 3 * side // 4, side // 4 : 3 * side // 4]
        return SimpleNamespace(image_embeds=centre.mean(dim=(1, 2)) - 0.5)


def test_clip_method_is_cosine_of_frame_and_masked_reference_embeddings():
    clip = FakeClipVision()
    reference = reference_of(TOY)
    report = score_candidate(to_image(render(TOY, (160, 120)), render(OTHER, (160, 120))), [reference], clip)
    assert report.method == METHOD_CLIP
    assert report.references[0].per_frame[0] > report.references[0].per_frame[1]
    frame_shapes = [shape for shape, _ in clip.calls]
    assert all(shape[1] == shape[2] for shape in frame_shapes), "inputs are padded to squares, not cropped"
    assert (2, FRAME_W, FRAME_W, 3) in frame_shapes
    crop_side = round(SIZE * 1.1)  # the mask's bounding box plus its margin, not the whole green-surround view
    assert (1, crop_side, crop_side, 3) in frame_shapes, frame_shapes
    assert all(crop for _, crop in clip.calls)


def test_identity_uses_the_best_matching_view():
    two_views = Reference(
        "toy",
        "object",
        "",
        views=torch.cat([reference_of(OTHER).views, reference_of(TOY).views]),
        masks=torch.cat([reference_of(OTHER).masks, reference_of(TOY).masks]),
    )
    frame = to_image(render(TOY, (160, 120)))
    assert score_candidate(frame, [two_views]).identity == pytest.approx(
        score_candidate(frame, [reference_of(TOY)]).identity
    )


def test_empty_reference_mask_is_a_clear_error():
    reference = reference_of(TOY)
    reference.masks.zero_()
    with pytest.raises(ValueError, match="empty mask"):
        score_candidate(to_image(render(TOY, (160, 120))), [reference])


def test_nan_frames_are_rejected():
    frames = to_image(render(TOY, (160, 120)))
    frames[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        score_candidate(frames, [reference_of(TOY)])


def test_without_references_overall_is_temporal_stability():
    frames = to_image(*(render(TOY, (110 + 6 * t, 120)) for t in range(3)))
    report = score_candidate(frames, [])
    assert report.identity is None
    assert report.overall == report.temporal_stability


def test_sampled_frames_are_evenly_spaced_with_both_ends():
    assert sample_frame_indices(5, 16) == [0, 1, 2, 3, 4]
    assert sample_frame_indices(161, 5) == [0, 40, 80, 120, 160]
    assert sample_frame_indices(10, 1) == [0]


def test_pick_best_is_argmax_with_ties_to_the_lowest_index():
    assert pick_best([0.2, 0.9, 0.5]) == 1
    assert pick_best([0.7, 0.3, 0.7, 0.7]) == 0
    assert pick_best([0.1, 0.4, 0.4]) == 1
    reports = [ScoreReport("classical", value, value, 1.0) for value in (0.3, 0.8, 0.8)]
    assert pick_best(reports) == 1
    with pytest.raises(ValueError, match="at least one"):
        pick_best([])
    with pytest.raises(ValueError, match="NaN"):
        pick_best([0.5, float("nan")])


def test_best_of_four_stills_picks_the_one_showing_the_reference():
    reference = reference_of(TOY)
    stills = [
        render(OTHER, (150, 120)),
        render(OTHER_SAME_COLORS, (150, 120)),
        render(TOY, (170, 110), angle=10, gain=(0.9, 0.95, 1.1)),
        render(OTHER, (100, 100), angle=30),
    ]
    reports = [score_candidate(to_image(still), [reference]) for still in stills]
    assert pick_best(reports) == 2


def test_select_references_from_a_world_or_a_single_reference():
    from worldkit.models.world.entities import MissingEntityError, World

    toy, other = reference_of(TOY), reference_of(OTHER, name="other")
    world = World({"toy": toy, "other": other})
    assert [r.name for r in select_references(world, [])] == ["toy", "other"]
    assert [r.name for r in select_references(world, ["other"])] == ["other"]
    assert select_references(toy, []) == [toy] and select_references(toy, ["toy"]) == [toy]
    with pytest.raises(MissingEntityError, match="no entity named 'robot'"):
        select_references(world, ["robot"])
    with pytest.raises(ValueError, match="connected is 'toy'"):
        select_references(toy, ["other"])
