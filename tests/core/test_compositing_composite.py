"""Composite Over, placement, light wrap, shadow, defocus, motion blur, tracking and RGBA export."""

from __future__ import annotations

import math

import av
import numpy as np
import pytest
import torch
from PIL import Image
from test_compositing_scenes import HEIGHT, WIDTH, soft_disc, textured

from worldkit.models.compositing.colorspace import linear_to_srgb, srgb_to_linear
from worldkit.models.compositing.composite import (
    Placement,
    affine_matrices,
    composite_over,
    pixel_position,
    place_element,
    placed_frames,
)
from worldkit.models.compositing.defocus import defocus, estimate_defocus
from worldkit.models.compositing.export import write_png
from worldkit.models.compositing.light_wrap import light_wrap
from worldkit.models.compositing.motion_blur import matte_velocities, motion_blur, velocities
from worldkit.models.compositing.shadow import contact_shadow
from worldkit.models.compositing.track_attach import path_from_tracks, track_plate_point
from worldkit.models.shared.files import is_temporary, temporary_name
from worldkit.models.streaming.passes import write_video


def srgb_decode(value: float) -> float:
    return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4


def srgb_encode(value: float) -> float:
    return value * 12.92 if value <= 0.0031308 else 1.055 * value ** (1 / 2.4) - 0.055


def constant(frames: int, colour: tuple[float, float, float]) -> torch.Tensor:
    return torch.tensor(colour).expand(frames, HEIGHT, WIDTH, 3).contiguous()


def test_srgb_curves_are_inverse_and_match_the_standard():
    values = torch.linspace(0, 1, 1001)
    assert torch.allclose(linear_to_srgb(srgb_to_linear(values)), values, atol=1e-6)
    assert abs(float(srgb_to_linear(torch.tensor(0.5))) - 0.21404114) < 1e-6


def test_over_of_constant_colours_is_exact_at_soft_edges():
    front, back = (0.9, 0.2, 0.1), (0.05, 0.3, 0.8)
    alpha = soft_disc(2, edge=8.0)
    image, combined = composite_over(constant(2, back), constant(2, front), alpha)
    edge = (alpha > 0) & (alpha < 1)
    assert edge.sum() > 500
    a = alpha[edge].double()
    for channel in range(3):
        linear = srgb_decode(front[channel]) * a + srgb_decode(back[channel]) * (1 - a)
        expected = torch.tensor([srgb_encode(float(v)) for v in linear], dtype=torch.float64)
        assert torch.allclose(image[edge][:, channel].double(), expected, atol=2e-6)
    assert torch.equal(image[alpha == 1], constant(2, front)[alpha == 1])
    assert torch.equal(image[alpha == 0], constant(2, back)[alpha == 0])
    assert torch.equal(combined, torch.ones_like(alpha))
    midway = image[(alpha - 0.5).abs() < 0.02][:, 0]  # linear-light blending is brighter than naive sRGB mixing
    assert torch.all(midway > 0.5 * (0.9 + 0.05) + 0.1)


def test_over_a_transparent_plate_keeps_colour_and_combines_alpha():
    alpha = soft_disc(1, edge=8.0)
    plate_alpha = torch.full_like(alpha, 0.5)
    image, combined = composite_over(constant(1, (0.2, 0.2, 0.2)), constant(1, (0.7, 0.5, 0.3)), alpha, plate_alpha)
    assert torch.allclose(combined, alpha + 0.5 * (1 - alpha), atol=1e-6)
    edge = (alpha > 0) & (alpha < 1)
    a = alpha[edge][0].double()
    linear = (srgb_decode(0.7) * a + srgb_decode(0.2) * 0.5 * (1 - a)) / (a + 0.5 * (1 - a))
    assert abs(float(image[edge][0, 0]) - srgb_encode(float(linear))) < 2e-6
    empty = torch.zeros_like(alpha)
    unchanged, combined = composite_over(constant(1, (0.2, 0.2, 0.2)), constant(1, (0.7, 0.5, 0.3)), alpha, empty)
    assert torch.allclose(unchanged[alpha > 0], constant(1, (0.7, 0.5, 0.3))[alpha > 0], atol=1e-5)
    assert torch.equal(combined, alpha)


def test_placement_moves_scales_and_rotates_about_the_anchor():
    element = constant(2, (1.0, 0.0, 0.0))[:, :20, :30].contiguous()
    alpha = torch.ones(2, 20, 30)
    shifted, coverage = place_element(element, alpha, Placement(x=torch.tensor([40.0, 50.0]), y=30.0), HEIGHT, WIDTH)
    assert torch.equal(coverage[0, 30:50, 40:70], torch.ones(20, 30)) and coverage[0].sum() == 600
    assert torch.equal(coverage[1, 30:50, 50:80], torch.ones(20, 30))
    assert torch.allclose(shifted[1, 30:50, 50:80], element[0], atol=1e-6)
    still, _ = place_element(
        element[:1], alpha[:1], Placement(x=torch.tensor([40.0, 50.0, 60.0]), y=30.0), HEIGHT, WIDTH
    )
    assert still.shape == (3, HEIGHT, WIDTH, 3)  # one element frame follows a three-frame path
    _, doubled = place_element(element, alpha, Placement(x=10.0, y=10.0, scale=2.0), HEIGHT, WIDTH)
    assert abs(float(doubled[0].sum()) - 2400) < 80
    _, turned = place_element(
        element, alpha, Placement(x=60.0, y=60.0, rotation=90.0, anchor_x=0.0, anchor_y=0.0), HEIGHT, WIDTH
    )
    ys, xs = turned[0].gt(0.5).nonzero().T
    assert (
        int(ys.max()) <= 60 and int(xs.max()) <= 80
    )  # counter-clockwise: the element now extends upwards from the anchor
    assert int(ys.min()) < 35


def test_fractions_of_a_side_are_pixel_centres_first_to_last_unrounded():
    assert (pixel_position(0.0, 64), pixel_position(1.0, 64), pixel_position(0.5, 64)) == (0.0, 63.0, 31.5)
    assert pixel_position(0.25, 5) == 1.0
    assert pixel_position(0.001, 1920) == pytest.approx(1.919, abs=1e-12)  # between pixel centres, kept so
    assert (pixel_position(-1.0, 64), pixel_position(2.0, 64)) == (-63.0, 126.0)  # off the frame either side
    assert pixel_position(0.7, 1) == 0.0  # a one-pixel side has one centre
    fractions = torch.tensor([[0.0, 0.5], [1.0, 2.0]])
    assert torch.equal(pixel_position(fractions, 3), torch.tensor([[0.0, 1.0], [2.0, 4.0]]))
    plate = torch.rand(2, 24, 32, 3)
    far_corner = (pixel_position(1.0, 32), pixel_position(1.0, 24))
    assert track_plate_point(plate, *far_corner)[0].tolist() == [31.0, 23.0]  # still inside the plate


def test_a_placed_element_runs_as_long_as_the_longer_of_plate_and_element():
    assert placed_frames(10, 1) == placed_frames(1, 10) == 10
    assert placed_frames(3, 12) == 12 and placed_frames(12, 3) == 12
    assert placed_frames(7, 7) == 7 and placed_frames(1, 1) == 1


def test_composite_reports_mismatched_inputs():
    plate = constant(3, (0.1, 0.1, 0.1))
    with pytest.raises(ValueError, match="element has 2 frames but plate has 3"):
        composite_over(plate, constant(2, (1.0, 1.0, 1.0)), torch.ones(2, HEIGHT, WIDTH))
    with pytest.raises(ValueError, match="element is 64x48 but plate is 128x96"):
        composite_over(plate, torch.ones(3, 48, 64, 3), torch.ones(3, 48, 64))
    bad = torch.ones(3, HEIGHT, WIDTH)
    bad[0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="element_mask contains NaN"):
        composite_over(plate, plate, bad)
    with pytest.raises(ValueError, match="placement x has 2 values but the clip has 3 frames"):
        composite_over(
            plate, plate, torch.ones(3, HEIGHT, WIDTH), placement=Placement(x=torch.tensor([1.0, 2.0]), y=0.0)
        )


def test_light_wrap_brightens_only_the_element_edge_towards_the_plate():
    element, plate = constant(1, (0.2, 0.2, 0.2)), constant(1, (1.0, 0.9, 0.6))
    matte = soft_disc(1, radius=30.0, edge=1.0)
    wrapped = light_wrap(element, matte, plate, radius=6.0, strength=1.0)
    gain = (wrapped - element)[..., 0]
    assert torch.all(gain >= -1e-6)
    assert float(gain[0, HEIGHT // 2, 64 + 29]) > 0.1  # just inside the edge
    assert float(gain[0, HEIGHT // 2, 64]) < 1e-3  # the centre is untouched
    assert torch.all(gain[matte == 0] == 0)


def test_contact_shadow_falls_on_the_ground_behind_the_element_and_darkens_linearly():
    matte = torch.zeros(1, HEIGHT, WIDTH)
    matte[0, 40:80, 60:70] = 1.0
    plate = constant(1, (0.8, 0.8, 0.8))
    shadowed, shadow = contact_shadow(plate, matte, angle=45.0, length=1.0, softness=2.0, opacity=1.0)
    assert float(shadow[0, 79, 64]) > 0.4  # at the feet
    assert float(shadow[0, 65, 79]) > 0.4  # cast up and to the right
    assert float(shadow[0, 65, 40]) == 0.0 and float(shadow[0, 20, 100]) == 0.0
    expected = linear_to_srgb(srgb_to_linear(torch.tensor(0.8)) * (1 - shadow[0, 65, 79]))
    assert torch.allclose(shadowed[0, 65, 79, 0], expected, atol=1e-6)
    _, flat = contact_shadow(plate, matte, angle=0.0, length=1.0, softness=2.0, opacity=1.0)
    assert torch.isfinite(flat).all() and float(flat[0, 79, 100]) > 0.1  # a shadow along the ground line stays defined


def test_defocus_estimate_recovers_the_plate_blur():
    import cv2

    generator = torch.Generator().manual_seed(5)
    sharp_plate = torch.rand(2, HEIGHT, WIDTH, 3, generator=generator)
    plate = torch.from_numpy(np.stack([cv2.GaussianBlur(f.numpy(), (0, 0), 2.0) for f in sharp_plate]))
    element = torch.rand(2, HEIGHT, WIDTH, 3, generator=generator)
    sigma = estimate_defocus(element, plate)
    assert 1.6 < sigma < 2.4
    assert estimate_defocus(plate, element) == 0.0
    blurred, matte = defocus(element, torch.ones(2, HEIGHT, WIDTH), sigma)
    assert blurred.std() < element.std() and torch.allclose(matte, torch.ones_like(matte), atol=1e-5)


def test_motion_blur_smears_along_the_velocity_only():
    alpha = torch.zeros(2, HEIGHT, WIDTH)
    alpha[:, 40:56, 60:76] = 1.0
    element = constant(2, (0.5, 0.5, 0.5))
    _, blurred = motion_blur(element, alpha, torch.tensor([[20.0, 0.0], [0.0, 0.0]]), shutter=1.0)
    assert float(blurred[0, 48, 82]) > 0.1 and float(blurred[0, 30, 68]) == 0.0  # spread sideways, not up
    assert torch.equal(blurred[1], alpha[1])
    assert abs(float(blurred[0].sum() - alpha[0].sum())) < 1.0  # coverage is conserved
    moving = torch.stack([torch.roll(alpha[0], shifts=4 * i, dims=1) for i in range(3)])
    _, from_matte = motion_blur(constant(3, (0.5, 0.5, 0.5)), moving, None, shutter=1.0)
    assert float(from_matte[1, 48, 80]) > 0.05 and float(from_matte[1, 30, 68]) == 0.0  # box now ends at x = 79
    path = torch.tensor([[0.0, 0.0], [2.0, 1.0], [4.0, 2.0]])
    assert torch.allclose(velocities(path), torch.tensor([[2.0, 1.0]] * 3))


def entering_disc(frames: int = 6, enters: int = 3) -> torch.Tensor:
    """A matte empty until frame `enters`, then a disc moving 2 px a frame to the right."""
    ys, xs = torch.meshgrid(torch.arange(HEIGHT), torch.arange(WIDTH), indexing="ij")
    matte = torch.zeros(frames, HEIGHT, WIDTH)
    for index in range(enters, frames):
        matte[index] = (((xs - 50 - 2 * index) ** 2 + (ys - 30) ** 2) < 50).float()
    return matte


def test_motion_blur_from_the_matte_does_not_smear_an_element_entering_the_shot():
    """The frame where the element appears has no earlier position: its velocity is the one-sided difference with
    the next frame, not a jump from the empty frames' (0, 0)."""
    matte = entering_disc()
    assert torch.allclose(matte_velocities(matte), torch.tensor([[0.0, 0.0]] * 3 + [[2.0, 0.0]] * 3))
    _, blurred = motion_blur(constant(6, (0.5, 0.5, 0.5)), matte, None, shutter=4.0)
    assert float(blurred[3, 30, 64]) > 0.05  # smeared sideways by its 8 px of motion
    assert float(blurred[3, 20, 45]) == 0.0 and float(blurred[3, 28, 40]) == 0.0  # not up and to the left
    assert torch.equal(blurred[:3], matte[:3])


def test_steps_give_the_same_frames_under_inference_mode_as_comfyui_runs_nodes():
    """Frames are spread over worker threads, which must work in the caller's inference mode."""
    alpha = torch.zeros(2, HEIGHT, WIDTH)
    alpha[:, 40:56, 60:76] = 0.5
    element, plate = constant(2, (0.5, 0.4, 0.3)), constant(2, (0.8, 0.8, 0.8))
    steps = (
        lambda: contact_shadow(plate, alpha, angle=45.0, length=1.0, softness=2.0, opacity=1.0),
        lambda: motion_blur(element, alpha, torch.tensor([[20.0, 0.0], [0.0, 0.0]]), shutter=1.0),
        lambda: composite_over(plate, element, alpha),
    )
    for step in steps:
        expected = step()
        with torch.inference_mode():
            frames = step()
        assert all(torch.equal(got, want) for got, want in zip(frames, expected, strict=True))


def test_track_point_follows_a_translating_plate():
    texture = textured(1, (0.5, 0.5, 0.5), 0.9, seed=31)[0]
    generator = torch.Generator().manual_seed(32)
    texture = (texture + 0.2 * torch.rand(HEIGHT, WIDTH, 3, generator=generator)).clamp(0, 1)
    frames = torch.stack([torch.roll(texture, shifts=(i, 2 * i), dims=(0, 1)) for i in range(5)])
    path = track_plate_point(frames, 60.0, 45.0)
    expected = torch.tensor([[60.0 + 2 * i, 45.0 + i] for i in range(5)])
    assert torch.allclose(path, expected, atol=0.3)


def test_tracks_give_the_mean_of_visible_points_stretched_over_the_clip():
    track_path = torch.tensor([[[0.0, 0.0], [10.0, 10.0]], [[2.0, 2.0], [100.0, 100.0]]])
    visibility = torch.tensor([[True, True], [True, False]])
    path = path_from_tracks({"track_path": track_path, "track_visibility": visibility}, 3)
    assert torch.allclose(path, torch.tensor([[5.0, 5.0], [3.5, 3.5], [2.0, 2.0]]))
    assert torch.allclose(
        path_from_tracks({"track_path": track_path, "track_visibility": visibility}, 2, point=1)[1],
        torch.tensor([10.0, 10.0]),
    )
    with pytest.raises(ValueError, match="track point 5 does not exist"):
        path_from_tracks({"track_path": track_path}, 2, point=5)
    with pytest.raises(ValueError, match="must be \\[frames, points, 2\\]"):
        path_from_tracks({"track_path": torch.zeros(3, 2)}, 3)


def test_rgba_png_and_video_keep_the_alpha(tmp_path):
    image = textured(3, (0.5, 0.4, 0.3), 0.5, seed=41)
    alpha = soft_disc(3, edge=10.0)
    write_png(tmp_path / "frame.png", image[0], alpha[0], 8, {"prompt": "{}"})
    pixels = np.asarray(Image.open(tmp_path / "frame.png"))
    assert pixels.shape == (HEIGHT, WIDTH, 4)
    assert np.abs(pixels[..., 3] / 255.0 - alpha[0].numpy()).max() <= 0.5 / 255 + 1e-6
    assert not [path for path in tmp_path.iterdir() if is_temporary(path)]
    write_video(tmp_path / "clip.mov", image, alpha, 24.0, "mov (PNG codec, lossless)")
    with av.open(str(tmp_path / "clip.mov")) as container:
        decoded = [frame.to_ndarray(format="rgba") for frame in container.decode(video=0)]
    assert len(decoded) == 3
    assert np.abs(decoded[2][..., 3] / 255.0 - alpha[2].numpy()).max() <= 0.5 / 255 + 1e-6
    assert sorted(path.name for path in tmp_path.iterdir()) == ["clip.mov", "frame.png"]
    temporary_name(tmp_path / "frame.png").write_bytes(b"")  # a leftover is seen by the same check
    assert [path for path in tmp_path.iterdir() if is_temporary(path)]


def test_the_placement_maps_the_anchor_onto_its_position_scaled_and_turned_counter_clockwise():
    placement = Placement(x=40.0, y=25.0, scale=2.0, rotation=30.0, anchor_x=3.0, anchor_y=4.0)
    matrix = affine_matrices(placement, 1)[0]
    assert np.allclose(matrix @ [3.0, 4.0, 1.0], [40.0, 25.0], atol=1e-9)  # the anchor lands on (x, y)
    turn = math.radians(30.0)
    # one element pixel to the right of the anchor: twice as far, turned up (y grows downwards on screen)
    assert np.allclose(matrix[:, :2] @ [1.0, 0.0], [2 * math.cos(turn), -2 * math.sin(turn)], atol=1e-9)
    assert np.allclose(matrix[:, :2] @ [0.0, 1.0], [2 * math.sin(turn), 2 * math.cos(turn)], atol=1e-9)


@pytest.mark.parametrize(
    ("placement", "message"),
    [
        (Placement(x=1.0, y=float("nan")), r"^placement y contains NaN or infinite values"),
        (Placement(x=1.0, y=1.0, scale=torch.tensor([1.0, 2.0])), r"^placement scale has 2 values but the clip has 3"),
        (Placement(x=1.0, y=1.0, scale=0.0), r"^placement scale must be above 0\.$"),
        (Placement(x=1.0, y=1.0, rotation=float("inf")), r"^placement rotation contains NaN or infinite values"),
        (Placement(x=1.0, y=1.0, anchor_y=float("nan")), r"^placement anchor_y must be a finite number"),
    ],
)
def test_a_bad_placement_is_refused_naming_the_value(placement, message):
    with pytest.raises(ValueError, match=message):
        affine_matrices(placement, 3)


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"plate": torch.zeros(HEIGHT, WIDTH)}, r"^plate must be an IMAGE batch"),
        ({"element": torch.zeros(HEIGHT, WIDTH)}, r"^element must be an IMAGE batch"),
        ({"plate_alpha": torch.full((1, HEIGHT, WIDTH), float("nan"))}, r"^plate_mask contains NaN"),
        ({"alpha": torch.ones(1, 48, 64)}, r"^element_mask is 64x48 but plate is 128x96"),
        ({"plate_alpha": torch.ones(1, 48, 64)}, r"^plate_mask is 64x48 but plate is 128x96"),
    ],
)
def test_composite_over_refuses_a_bad_input_naming_it(inputs, message):
    given = {"plate": textured(1, (0.3, 0.4, 0.5), 0.1, seed=1), "element": textured(1, (0.6, 0.5, 0.4), 0.1, seed=2)}
    with pytest.raises(ValueError, match=message):
        composite_over(**{**given, "alpha": soft_disc(1), **inputs})


@pytest.mark.parametrize("moving", ["alpha", "plate_alpha"])
def test_a_moving_mask_over_one_frame_pictures_makes_a_clip_of_its_length(moving):
    plate, element = constant(1, (0.2, 0.2, 0.2)), constant(1, (0.8, 0.6, 0.4))
    masks = {"alpha": torch.zeros(1, HEIGHT, WIDTH), "plate_alpha": torch.zeros(1, HEIGHT, WIDTH)}
    masks[moving] = soft_disc(4, step_x=6.0)
    out, combined = composite_over(plate, element, masks["alpha"], masks["plate_alpha"])
    assert out.shape == (4, HEIGHT, WIDTH, 3) and combined.shape == (4, HEIGHT, WIDTH)
    assert torch.allclose(combined, masks[moving], atol=1e-6)  # the other layer is clear: coverage is the mask's


def test_composite_over_with_a_placement_places_the_element_first():
    plate = textured(2, (0.3, 0.4, 0.5), 0.1, seed=1)
    element, alpha = constant(1, (0.9, 0.2, 0.1))[:, :20, :30].contiguous(), torch.ones(1, 20, 30)
    placement = Placement(x=torch.tensor([10.5, 40.0]), y=30.0, rotation=15.0)
    placed, coverage = place_element(element, alpha, placement, HEIGHT, WIDTH)
    out, combined = composite_over(plate, element, alpha, placement=placement)
    expected, expected_alpha = composite_over(plate, placed, coverage)
    assert torch.equal(out, expected) and torch.equal(combined, expected_alpha)
    assert float(coverage[1].sum()) == pytest.approx(600, rel=0.02)


def test_composite_over_reports_every_frame_it_finishes():
    done = []
    composite_over(constant(20, (0.2, 0.2, 0.2)), constant(1, (0.8, 0.6, 0.4)), soft_disc(1), progress=done.append)
    assert sum(done) == 20 and all(count > 0 for count in done)
