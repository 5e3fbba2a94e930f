"""Wan's shape rules at their edges: the nearest 4k+1 counts offered, the largest Wan size within a frame."""

import pytest

from worldkit.models.shared.wan import (
    WanShapeError,
    floor_wan_size,
    is_wan_frame_count,
    nearest_wan_frame_counts,
    require_wan_frame_count,
    require_wan_size,
)


@pytest.mark.parametrize(("frames", "wan"), [(1, True), (5, True), (81, True), (0, False), (-3, False), (3, False)])
def test_a_single_frame_is_a_wan_clip_and_nothing_shorter_is(frames, wan):
    assert is_wan_frame_count(frames) is wan


@pytest.mark.parametrize(("frames", "nearest"), [(0, (1, 5)), (2, (1, 5)), (4, (1, 5)), (6, (5, 9)), (80, (77, 81))])
def test_the_counts_offered_are_the_4k_plus_1_either_side_and_never_below_one(frames, nearest):
    assert nearest_wan_frame_counts(frames) == nearest


def test_a_two_frame_clip_is_told_to_use_1_or_5():
    with pytest.raises(WanShapeError, match=r"^clip length is 2, but Wan clips have 4k\+1 frames; use 1 or 5\.$"):
        require_wan_frame_count(2, "clip length")


@pytest.mark.parametrize(
    ("size", "floored"), [((850, 490), (848, 480)), ((832, 480), (832, 480)), ((31, 15), (16, 16)), ((5, 40), (16, 32))]
)
def test_floor_wan_size_is_the_largest_multiple_of_16_within_at_least_16(size, floored):
    assert floor_wan_size(*size) == floored


@pytest.mark.parametrize(
    ("size", "message"),
    [
        ((840, 480), "Shot width is 840, but Wan needs a positive multiple of 16; presets: 832x480, 480x832."),
        ((832, 0), "Shot height is 0, but Wan needs a positive multiple of 16; presets: 832x480, 480x832."),
    ],
)
def test_a_size_refusal_names_the_side_and_lists_the_presets(size, message):
    with pytest.raises(WanShapeError) as caught:
        require_wan_size(*size, "Shot", "832x480, 480x832")
    assert str(caught.value) == message


def test_a_size_refusal_without_presets_ends_at_the_rule():
    with pytest.raises(WanShapeError) as caught:
        require_wan_size(64, 40, "The frame")
    assert str(caught.value) == "The frame height is 40, but Wan needs a positive multiple of 16."
