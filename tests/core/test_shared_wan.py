"""Wan's shape rules at their edges: the nearest 4k+1 counts offered, the largest Wan size within a frame."""

import pytest

from worldkit.models.shared.wan import (
    WAN_2_1,
    WAN_2_2_5B,
    WanShapeError,
    floor_wan_size,
    is_wan_frame_count,
    model_rules,
    nearest_wan_frame_counts,
    nearest_wan_size,
    require_wan_frame_count,
    require_wan_size,
    retimed_frames,
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
        (
            (840, 480),
            "Shot width is 840, but Wan needs a positive multiple of 16: the nearest size it takes is 832x480; "
            "presets: 832x480, 480x832.",
        ),
        (
            (832, 0),
            "Shot height is 0, but Wan needs a positive multiple of 16: the nearest size it takes is 832x16; "
            "presets: 832x480, 480x832.",
        ),
    ],
)
def test_a_size_refusal_names_the_side_and_lists_the_presets(size, message):
    with pytest.raises(WanShapeError) as caught:
        require_wan_size(*size, "Shot", "832x480, 480x832")
    assert str(caught.value) == message


def test_a_size_refusal_without_presets_ends_at_the_rule():
    with pytest.raises(WanShapeError) as caught:
        require_wan_size(64, 40, "The frame")
    assert str(caught.value) == (
        "The frame height is 40, but Wan needs a positive multiple of 16: the nearest size it takes is 64x32."
    )


def test_rules_are_read_from_the_model_and_vae_numbers():
    """16-channel 8x latents are Wan 2.1 / A14B (81 frames at 16 fps, x16 sizes); 48-channel 16x are the 5B's."""
    wan21 = model_rules(model_channels=16, vae_channels=16, vae_stride=8)
    five_b = model_rules(model_channels=48, vae_channels=48, vae_stride=16)
    assert (wan21.native_frames, wan21.fps, wan21.size_multiple, wan21.latent_channels) == (81, 16, 16, 16)
    assert (five_b.native_frames, five_b.fps, five_b.size_multiple, five_b.latent_channels) == (121, 24, 32, 48)
    assert model_rules(16, 16, 8, patch=1).size_multiple == 8  # a DiT with 1x1 patches takes x8 sizes


@pytest.mark.parametrize(
    ("numbers", "message"),
    [
        ((48, 16, 8), r"16-channel latents \(the wan_2\.1_vae\.safetensors kind\).*TI2V-5B.*load wan2\.2_vae"),
        ((16, 48, 16), r"48-channel latents \(the wan2\.2_vae\.safetensors kind\).*A14B.*load wan_2\.1_vae"),
        ((48, 48, 8), r"compresses frames 8x.*16x: load wan2\.2_vae\.safetensors"),
        ((32, 32, 16), r"takes 32-channel latents; WorldKit drives Wan models with 16 .*, 48 "),
    ],
    ids=["5B with the 2.1 VAE", "2.1 with the 2.2 VAE", "wrong compression", "not Wan"],
)
def test_a_model_and_vae_that_do_not_belong_together_are_refused_with_the_vae_file_to_load(numbers, message):
    with pytest.raises(WanShapeError, match=message):
        model_rules(*numbers)


def test_sizes_follow_the_loaded_model():
    """848x480 is a Wan 2.1 size but not a 5B one (x32): the 5B is offered the nearest it takes."""
    require_wan_size(848, 480, "Shot", rules=WAN_2_1)
    require_wan_size(1280, 704, "Shot", rules=WAN_2_2_5B)
    with pytest.raises(WanShapeError) as caught:
        require_wan_size(848, 480, "Shot", rules=WAN_2_2_5B)
    assert str(caught.value) == (
        "Shot width is 848, but Wan 2.2 TI2V-5B needs a positive multiple of 32: the nearest size it takes is 832x480."
    )
    assert floor_wan_size(850, 490, WAN_2_2_5B) == (832, 480)
    assert nearest_wan_size(1280, 720, WAN_2_2_5B) == (1280, 704)  # ties go down, to ComfyUI's 5B size
    assert nearest_wan_size(1300, 10, WAN_2_2_5B) == (1312, 32)


@pytest.mark.parametrize(
    ("frames", "fps", "target", "retimed"), [(81, 16, 24, 121), (161, 16, 24, 241), (9, 16, 24, 13)]
)
def test_retimed_frames_keep_the_duration(frames, fps, target, retimed):
    assert retimed_frames(frames, fps, target) == retimed
