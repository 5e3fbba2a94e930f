"""One input validation at every entry of the compositing engine: NaN, integer pixels, out-of-range masks, scalar
parameters, and the one frame-count rule (N frames or one) in every operation."""

from __future__ import annotations

import cv2
import pytest
import torch
from test_compositing_scenes import HEIGHT, WIDTH, soft_disc, textured

from worldkit.models.compositing import chunking
from worldkit.models.compositing.checks import (
    as_image,
    as_mask,
    check_choice,
    check_number,
    element_over_plate,
    ensure_finite,
    fit_frames,
    frame_count,
    sources_checked,
)
from worldkit.models.compositing.chroma_key import chroma_key
from worldkit.models.compositing.color_match import match_colors
from worldkit.models.compositing.composite import Placement, composite_over
from worldkit.models.compositing.defocus import defocus
from worldkit.models.compositing.grain import match_grain
from worldkit.models.compositing.light_wrap import light_wrap
from worldkit.models.compositing.matte import MatteSettings, refine_matte
from worldkit.models.compositing.motion_blur import motion_blur
from worldkit.models.compositing.shadow import contact_shadow
from worldkit.models.compositing.unmix import unmix_foreground

NAN = float("nan")


@pytest.fixture
def clip():
    element = textured(3, (0.7, 0.4, 0.3), 0.2, seed=1)
    plate = textured(3, (0.3, 0.4, 0.6), 0.2, seed=2)
    return element, soft_disc(3), plate


def test_nan_written_into_an_engine_output_through_a_numpy_view_is_caught(clip):
    element, matte, plate = clip
    graded = match_colors(element, plate)
    graded.numpy()[1, 3, 3, 0] = NAN  # numpy writes leave torch's edit counter alone
    with pytest.raises(ValueError, match="element contains NaN or infinite values \\(first at frame 1\\)"):
        light_wrap(graded, matte, plate)


def test_the_nan_scan_is_skipped_only_inside_a_streaming_step(clip):
    """A streaming step's blocks come from sources checked when their clips were made (a node's IMAGE input is
    refused there by as_image, naming it), so the engine calls inside the step skip the scan; only there."""
    element, _, _ = clip
    element = element.clone()
    element[2, 1, 1, 0] = NAN
    with pytest.raises(ValueError, match="element contains NaN or infinite values \\(first at frame 2\\)"):
        as_image("element", element)
    with sources_checked():
        ensure_finite("element", element)
    with pytest.raises(ValueError, match="first at frame 2"):
        ensure_finite("element", element)


def test_eight_bit_images_are_scaled_and_other_integer_or_boolean_pixels_refused():
    eight_bit = torch.full((1, 4, 4, 3), 255, dtype=torch.uint8)
    assert torch.equal(as_image("image", eight_bit), torch.ones(1, 4, 4, 3))
    assert torch.equal(as_mask("mask", torch.full((1, 4, 4), 51, dtype=torch.uint8)), torch.full((1, 4, 4), 0.2))
    with pytest.raises(ValueError, match=r"image has torch\.int32 pixels"):
        as_image("image", torch.ones(1, 4, 4, 3, dtype=torch.int32))
    with pytest.raises(ValueError, match=r"mask has torch\.bool pixels"):
        as_mask("mask", torch.ones(1, 4, 4, dtype=torch.bool))


def test_masks_outside_zero_to_one_are_clamped_so_light_wrap_stays_in_range(clip):
    element, matte, plate = clip
    wrapped = light_wrap(element, matte * 3.0 - 1.0, plate, strength=2.0)
    assert float(wrapped.min()) >= 0.0 and float(wrapped.max()) <= 1.0
    assert torch.equal(wrapped, light_wrap(element, (matte * 3.0 - 1.0).clamp(0, 1), plate, strength=2.0))


def test_a_nan_placement_is_refused_instead_of_hiding_the_element(clip):
    element, matte, plate = clip
    with pytest.raises(ValueError, match="placement x contains NaN"):
        composite_over(plate, element, matte, placement=Placement(x=NAN, y=10.0))
    with pytest.raises(ValueError, match="placement anchor_x must be a finite number"):
        composite_over(plate, element, matte, placement=Placement(x=1.0, y=1.0, anchor_x=float("inf")))


@pytest.mark.parametrize(
    ("name", "call"),
    [
        ("sigma", lambda e, m, p: defocus(e, m, NAN)),
        ("radius", lambda e, m, p: light_wrap(e, m, p, radius=NAN)),
        ("strength", lambda e, m, p: light_wrap(e, m, p, strength=NAN)),
        ("softness", lambda e, m, p: contact_shadow(p, m, softness=NAN)),
        ("opacity", lambda e, m, p: contact_shadow(p, m, opacity=NAN)),
        ("strength", lambda e, m, p: match_grain(e, p, strength=NAN)),
        ("strength", lambda e, m, p: match_colors(e, p, strength=2.0)),
        ("eps", lambda e, m, p: refine_matte(e, m, MatteSettings(eps=0.0))),
        ("feather", lambda e, m, p: refine_matte(e, m, MatteSettings(feather=NAN))),
        ("quality", lambda e, m, p: refine_matte(e, m, MatteSettings(quality="best"))),
        ("shutter", lambda e, m, p: motion_blur(e, m, None, shutter=NAN)),
        ("balance", lambda e, m, p: chroma_key(e, balance=NAN)),
        ("radius", lambda e, m, p: unmix_foreground(e, m, radius=0)),
    ],
)
def test_every_scalar_parameter_is_checked_with_a_message_naming_it(clip, name, call):
    with pytest.raises(ValueError, match=f"^{name} must be"):
        call(*clip)


ONE_OVER_MANY = {
    "refine_matte": lambda e, m, p: refine_matte(e, m)[1],
    "unmix_foreground": lambda e, m, p: unmix_foreground(e, m),
    "chroma_key": lambda e, m, p: chroma_key(e * torch.tensor([0.2, 1.0, 0.2]), clean_plate=p)[1],
    "match_colors": lambda e, m, p: match_colors(e, p),
    "match_grain": lambda e, m, p: match_grain(e, p),
    "light_wrap": lambda e, m, p: light_wrap(e, m, p),
    "defocus": lambda e, m, p: defocus(e, m, 1.5)[0],
    "motion_blur": lambda e, m, p: motion_blur(e, m, torch.tensor([[3.0, 0.0]]))[0],
    "contact_shadow": lambda e, m, p: contact_shadow(p, m)[0],
    "composite_over": lambda e, m, p: composite_over(p, e, m)[0],
}


def plate_for(operation: str, plate: torch.Tensor) -> torch.Tensor:
    """The clip's plate, or for Chroma Key a clean green screen of as many frames."""
    if operation != "chroma_key":
        return plate
    return torch.tensor([0.2, 1.0, 0.2]).expand(plate.shape[0], HEIGHT, WIDTH, 3) * 0.7


@pytest.mark.parametrize("operation", sorted(ONE_OVER_MANY))
def test_a_one_frame_input_stands_for_every_frame_and_other_counts_are_refused(clip, operation):
    element, matte, plate = clip
    plate_in = plate_for(operation, plate)
    run = ONE_OVER_MANY[operation]
    assert run(element[:1], matte, plate_in).shape[0] == 3  # one-frame element over a three-frame clip
    assert run(element, matte[:1], plate_in).shape[0] == 3
    assert run(element, matte, plate_in[:1]).shape[0] == 3
    with pytest.raises(ValueError, match=r"has 2 frames but \w+ has 3; give every input the same number of frames"):
        if operation == "contact_shadow":  # takes no element: its matte is the odd one out
            run(element, matte[:2], plate_in)
        else:
            run(element[:2], matte, plate_in)


@pytest.fixture
def two_threads():
    """torch and OpenCV set to two threads, as a host might leave them; restored afterwards."""
    previous = torch.get_num_threads(), cv2.getNumThreads()
    torch.set_num_threads(2)
    cv2.setNumThreads(2)
    yield (2, 2)
    torch.set_num_threads(previous[0])
    cv2.setNumThreads(previous[1])


@pytest.mark.parametrize("operation", sorted(ONE_OVER_MANY))
def test_every_step_spreads_frames_with_torch_and_opencv_single_threaded_and_restores_them(
    clip, operation, monkeypatch, two_threads
):
    """The engine spreads frames over the cores itself; kernels splitting over threads on top would oversubscribe."""
    seen, spread = [], chunking.map_frames

    def recording(work, indices):
        seen.append((torch.get_num_threads(), cv2.getNumThreads()))
        return spread(work, indices)

    monkeypatch.setattr(chunking, "map_frames", recording)
    element, matte, plate = clip
    ONE_OVER_MANY[operation](element, matte, plate_for(operation, plate))
    assert seen and set(seen) == {(1, 1)}
    assert (torch.get_num_threads(), cv2.getNumThreads()) == two_threads


def test_an_image_or_mask_batch_without_frames_is_refused_naming_it():
    with pytest.raises(ValueError, match=r"^plate has no frames\.$"):
        as_image("plate", torch.zeros(0, HEIGHT, WIDTH, 3))
    with pytest.raises(ValueError, match=r"^matte has no frames\.$"):
        as_mask("matte", torch.zeros(0, HEIGHT, WIDTH))


@pytest.mark.parametrize(
    ("mask", "got"), [(torch.zeros(1, 4, 4, 1), r"\(1, 4, 4, 1\)"), (torch.zeros(4), r"\(4,\)"), ([[0.5]], "list")]
)
def test_a_mask_of_another_rank_or_type_is_refused_with_what_it_got(mask, got):
    with pytest.raises(ValueError, match=rf"^matte must be a MASK \[frames, height, width\]; got {got}.$"):
        as_mask("matte", mask)


def test_a_batch_of_neither_the_frames_needed_nor_one_is_refused_naming_it():
    with pytest.raises(ValueError) as caught:
        fit_frames("plate", torch.zeros(3, 4, 4, 3), 5)
    assert str(caught.value) == (
        "plate has 3 frames but 5 are needed; give it the same number of frames or a single frame."
    )


def test_pixels_that_track_gradients_are_taken_as_plain_values():
    """A tensor from a graph that records gradients is read as values, so engine steps can edit their copies."""
    image = torch.rand(2, 4, 4, 3, requires_grad=True)
    assert not as_image("image", image).requires_grad
    assert not as_mask("mask", torch.rand(2, 4, 4, requires_grad=True)).requires_grad


def test_an_element_and_plate_are_read_as_images_and_their_single_masks_spread_to_every_frame(clip):
    element, matte, plate = clip
    eight_bit = (element * 255).round().to(torch.uint8)
    checked, _, element_mask, plate_region = element_over_plate(eight_bit, plate[:1], matte[0], matte[0])  # 2-D masks
    assert torch.equal(checked, eight_bit.float() / 255) and checked.shape == element.shape
    assert element_mask.shape == plate_region.shape == (3, HEIGHT, WIDTH)
    assert torch.equal(element_mask, matte[:1].expand(3, HEIGHT, WIDTH))


@pytest.mark.parametrize("name", ["element_mask", "plate_region"])
def test_a_mask_of_another_size_than_its_image_is_refused_naming_both(clip, name):
    element, matte, plate = clip
    masks = {"element_mask": None, "plate_region": None, name: matte[:, : HEIGHT // 2]}
    image = "element" if name == "element_mask" else "plate"
    with pytest.raises(ValueError, match=f"^{name} is {WIDTH}x{HEIGHT // 2} but {image} is {WIDTH}x{HEIGHT}; "):
        element_over_plate(element, plate, masks["element_mask"], masks["plate_region"])


def test_a_nan_past_the_first_eight_frames_is_found_and_its_frame_named():
    """The scan reads eight frames at a time; a bad frame in a later chunk is found all the same."""
    frames = torch.rand(12, 4, 4, 3)
    frames[10, 1, 2, 0] = NAN
    with pytest.raises(ValueError, match=r"^plate contains NaN or infinite values \(first at frame 10\)\. "):
        ensure_finite("plate", frames)


@pytest.mark.parametrize(("low", "high"), [(0.5, 1.5), (-0.5, 0.5)], ids=["above one", "below zero"])
def test_a_mask_out_of_range_on_one_side_only_is_clamped(low, high):
    mask = torch.linspace(low, high, 16).reshape(1, 4, 4)
    assert torch.equal(as_mask("matte", mask), mask.clamp(0, 1))


@pytest.mark.parametrize(
    ("bounds", "value", "message"),
    [
        ({"low": 0}, -1, "radius must be at least 0; got -1.0."),
        ({"high": 2}, 3, "radius must be at most 2; got 3.0."),
        ({"above": 0, "high": 2}, 0, "radius must be above 0 and at most 2; got 0.0."),
        ({}, "wide", "radius must be a number; got 'wide'."),
        ({}, float("inf"), "radius must be a finite number; got inf."),
    ],
)
def test_a_number_out_of_its_range_is_refused_with_the_range(bounds, value, message):
    with pytest.raises(ValueError) as caught:
        check_number("radius", value, **bounds)
    assert str(caught.value) == message


def test_an_image_of_another_rank_is_refused_with_its_shape():
    with pytest.raises(
        ValueError, match=r"^plate must be an IMAGE batch \[frames, height, width, 3\]; got \(4, 4, 3\)\.$"
    ):
        as_image("plate", torch.zeros(4, 4, 3))


def test_a_still_element_and_plate_with_a_moving_matte_make_a_clip_of_the_mattes_frames(clip):
    element, matte, plate = clip
    checked, backdrop, element_mask, plate_region = element_over_plate(element[:1], plate[:1], None, matte)
    assert checked.shape[0] == backdrop.shape[0] == plate_region.shape[0] == 3 and element_mask is None
    checked, backdrop, element_mask, _ = element_over_plate(element[:1], plate[:1], matte, None)
    assert checked.shape[0] == backdrop.shape[0] == element_mask.shape[0] == 3


def test_an_alpha_channel_is_dropped_from_an_image():
    rgba = torch.rand(2, 4, 4, 4)
    assert torch.equal(as_image("element", rgba), rgba[..., :3])


def test_a_frame_count_mismatch_names_the_input_with_the_most_frames():
    with pytest.raises(ValueError, match=r"^matte has 2 frames but element has 3; "):
        frame_count(element=3, plate=1, matte=2)


def test_a_choice_outside_the_options_is_refused_with_them():
    with pytest.raises(ValueError) as caught:
        check_choice("method", "warp", ("motion", "blend"))
    assert str(caught.value) == "method must be one of 'motion', 'blend'; got 'warp'."


@pytest.mark.parametrize("name", ["element", "plate", "element_mask", "plate_region"])
def test_a_nan_in_an_element_a_plate_or_their_masks_is_refused_naming_which(clip, name):
    element, matte, plate = clip
    inputs = {"element": element, "plate": plate, "element_mask": matte, "plate_region": matte.clone()}
    inputs[name] = inputs[name].clone()
    inputs[name][1, 2, 3] = NAN
    with pytest.raises(ValueError, match=rf"^{name} contains NaN or infinite values \(first at frame 1\)"):
        element_over_plate(**inputs)
