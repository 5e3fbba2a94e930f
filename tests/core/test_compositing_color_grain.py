"""Color Match and Grain Match on constructed plates with known statistics."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
import torch
from test_compositing_scenes import HEIGHT, WIDTH, soft_disc, textured

from worldkit.models.compositing.color_match import (
    METHODS,
    MIN_RGB_SPREAD,
    color_transform,
    match_colors,
    region_around,
)
from worldkit.models.compositing.grain import (
    FIELD_MARGIN,
    _calibration,
    band_noise,
    frame_offsets,
    grain_to_add,
    match_grain,
    measure_grain,
    profile_from_measurement,
    profile_of,
    unit_noise,
)


def lab_stats(image: torch.Tensor, keep: torch.Tensor | None = None) -> tuple[np.ndarray, np.ndarray]:
    pixels = np.concatenate([cv2.cvtColor(frame.numpy(), cv2.COLOR_RGB2Lab).reshape(-1, 3) for frame in image])
    if keep is not None:
        pixels = pixels[keep.reshape(-1).numpy()]
    return pixels.mean(0), pixels.std(0)


def delta_e(a: torch.Tensor, b: torch.Tensor, keep_a=None, keep_b=None) -> float:
    """CIE76 distance between mean LAB colours plus the distance between LAB spreads."""
    mean_a, std_a = lab_stats(a, keep_a)
    mean_b, std_b = lab_stats(b, keep_b)
    return float(np.linalg.norm(mean_a - mean_b) + np.linalg.norm(std_a - std_b))


@pytest.fixture
def element_and_plate():
    plate = textured(3, (0.55, 0.45, 0.3), 0.5, seed=4)  # warm, contrasty plate
    element = textured(3, (0.3, 0.4, 0.7), 0.2, seed=5)  # cool, flat element
    return element, plate


@pytest.mark.parametrize("method", METHODS)
def test_color_match_lowers_lab_delta_e(element_and_plate, method):
    element, plate = element_and_plate
    before = delta_e(element, plate)
    matched = match_colors(element, plate, method)
    assert matched.shape == element.shape and matched.dtype == torch.float32
    assert before > 10.0
    assert delta_e(matched, plate) < 0.25 * before


def test_color_match_strength_zero_is_identity_and_half_is_between(element_and_plate):
    element, plate = element_and_plate
    assert torch.allclose(match_colors(element, plate, "mkl", strength=0.0), element)
    full = match_colors(element, plate, "mkl")
    half = match_colors(element, plate, "mkl", strength=0.5)
    assert torch.allclose(half, 0.5 * (element + full), atol=1e-5)


def test_color_match_reads_only_the_plate_region_and_element_matte(element_and_plate):
    element, _ = element_and_plate
    matte = soft_disc(3) > 0.5
    split_plate = (
        torch.where(
            (torch.arange(WIDTH) < WIDTH // 2)[None, None, :, None],
            torch.tensor([0.8, 0.2, 0.2]),
            torch.tensor([0.2, 0.8, 0.2]),
        )
        .expand(3, HEIGHT, WIDTH, 3)
        .contiguous()
    )
    left = torch.zeros(3, HEIGHT, WIDTH)
    left[..., : WIDTH // 2] = 1.0
    element_on_grey = torch.where(matte[..., None], element, torch.tensor(0.5))
    matched = match_colors(element_on_grey, split_plate, "reinhard_lab", element_mask=matte.float(), plate_region=left)
    assert delta_e(matched, split_plate, matte, left.bool()) < 0.2 * delta_e(
        element_on_grey, split_plate, matte, left.bool()
    )
    region = region_around(matte.float(), 4)
    assert torch.all(region[matte] == 1.0) and region.sum() > matte.sum()


def test_color_match_errors_name_the_bad_input(element_and_plate):
    element, plate = element_and_plate
    with pytest.raises(ValueError, match=r"^method must be one of"):
        match_colors(element, plate, "average")
    with pytest.raises(ValueError, match="plate_region is 64x48 but plate is 128x96"):
        match_colors(element, plate, plate_region=torch.ones(1, 48, 64))
    with pytest.raises(ValueError, match=r"^the masks select fewer than 16 pixels to measure colour from"):
        match_colors(element, plate, element_mask=torch.zeros(1, HEIGHT, WIDTH))
    broken = plate.clone()
    broken[2, 0, 0, 1] = float("inf")
    with pytest.raises(ValueError, match="plate contains NaN or infinite values \\(first at frame 2\\)"):
        match_colors(element, broken)


def smooth_frames(frames: int, seed: int, size: tuple[int, int] = (HEIGHT, WIDTH)) -> torch.Tensor:
    return textured(frames, (0.45, 0.5, 0.4), 0.3, seed=seed, size=size)


@pytest.mark.parametrize("coarse", [False, True])
def test_grain_match_brings_element_noise_within_ten_percent_of_the_plate(coarse):
    """At 192x256: at 96x128 the half-size band has 48 blocks, 12 of them measured, and the matched element's
    reading of clumped grain varies by up to 13 % with the added field's seed alone."""
    height, width = 192, 256
    generator = torch.Generator().manual_seed(7)
    sigma = torch.tensor([0.02, 0.03, 0.045])
    noise = torch.randn(4, height, width, 3, generator=generator)
    if coarse:  # grain clumped at two-pixel scale, as in scanned film
        noise = (
            torch.nn.functional.interpolate(
                torch.randn(4, 3, height // 2, width // 2, generator=generator), scale_factor=2, mode="bilinear"
            ).permute(0, 2, 3, 1)
            * 1.6
        )
    plate = smooth_frames(4, seed=8, size=(height, width)) + noise * sigma
    element = (
        smooth_frames(4, seed=9, size=(height, width)) + torch.randn(4, height, width, 3, generator=generator) * 0.005
    )
    plate_grain = measure_grain(plate).sigma
    matched = match_grain(element, plate, seed=3)
    total = lambda profile: np.linalg.norm(profile, axis=0)  # noqa: E731  per-channel grain over both bands
    before, after, target = total(measure_grain(element).sigma), total(measure_grain(matched).sigma), total(plate_grain)
    assert np.all(np.abs(before - target) / target > 0.5)
    relative = np.abs(after - target) / target
    assert np.all(relative < 0.10), relative
    fine_dominates = plate_grain[0] > plate_grain[1]
    assert np.all(fine_dominates != coarse)


def test_grain_match_measures_close_to_the_true_sigma_and_varies_per_frame():
    generator = torch.Generator().manual_seed(11)
    plate = smooth_frames(3, seed=12) + torch.randn(3, HEIGHT, WIDTH, 3, generator=generator) * 0.03
    measured = measure_grain(plate).sigma
    assert np.allclose(measured[0], 0.03, rtol=0.1) and np.all(measured[1] < 0.4 * measured[0])
    clean = smooth_frames(3, seed=13)
    grained = match_grain(clean, plate, seed=1) - clean
    assert not torch.allclose(grained[0], grained[1])
    assert torch.equal(match_grain(clean, plate, seed=1), match_grain(clean, plate, seed=1))


def test_grain_match_adds_nothing_to_an_element_already_as_grainy():
    generator = torch.Generator().manual_seed(21)
    plate = smooth_frames(2, seed=22) + torch.randn(2, HEIGHT, WIDTH, 3, generator=generator) * 0.02
    element = smooth_frames(2, seed=23) + torch.randn(2, HEIGHT, WIDTH, 3, generator=generator) * 0.04
    added = match_grain(element, plate) - element.clamp(0, 1)
    assert float(added.std()) < 0.1 * 0.02


def busy_texture(height: int, width: int, seed: int) -> np.ndarray:
    """A picture with texture at every scale on its left half (bricks of random shade, 4-12 px) and flat on its
    right."""
    rng = np.random.default_rng(seed)
    texture = np.empty((height, width, 3), np.float32)
    texture[:] = (0.5, 0.45, 0.4)
    for _ in range(400):
        y, x = rng.integers(0, height), rng.integers(0, width // 2)
        size = int(rng.integers(4, 13))
        texture[y : y + size, x : min(x + size, width // 2)] = rng.uniform(0.15, 0.85, 3)
    return texture


def luma_grain(height: int, width: int, sigma: tuple[float, float, float], seed: int) -> np.ndarray:
    """Grain almost the same in all channels (correlation about 0.97), at pixel scale."""
    rng = np.random.default_rng(seed)
    shared = rng.normal(0, 1, (height, width, 1))
    return ((shared + 0.25 * rng.normal(0, 1, (height, width, 3))) / np.sqrt(1.0625) * np.array(sigma)).astype(
        np.float32
    )


def stats(grain: np.ndarray) -> tuple[np.ndarray, float]:
    pixels = grain.reshape(-1, 3)
    return pixels.std(0), float(np.corrcoef(pixels.T)[np.triu_indices(3, 1)].mean())


def test_grain_is_measured_where_the_plate_is_flat_and_matched_on_a_busy_element():
    size = (192, 256)
    truth = luma_grain(*size, (0.02, 0.025, 0.03), seed=1)
    plate = torch.from_numpy(busy_texture(*size, seed=2) + truth)[None]
    level, correlation = stats(truth)
    measured = measure_grain(plate).sigma
    assert np.allclose(np.linalg.norm(measured, axis=0), level, rtol=0.1)  # texture is not read as grain
    element = torch.from_numpy(busy_texture(*size, seed=3)[:, ::-1].copy())[None]  # busy where the plate is flat
    added = (match_grain(element, plate, seed=4) - element)[0, 8:-8, 8:-8].numpy()
    added_level, added_correlation = stats(added)
    assert np.all(np.abs(added_level / level - 1) < 0.1), added_level / level
    assert abs(added_correlation / correlation - 1) < 0.1, (added_correlation, correlation)


def test_correlated_plate_grain_is_added_correlated_and_independent_grain_independent():
    size = (192, 256)
    flat = np.full((*size, 3), 0.5, np.float32)
    for grain, expected in ((luma_grain(*size, (0.03, 0.03, 0.03), seed=5), 0.94), (None, 0.0)):
        if grain is None:
            grain = np.random.default_rng(6).normal(0, 0.03, (*size, 3)).astype(np.float32)
        added = (match_grain(torch.from_numpy(flat)[None], torch.from_numpy(flat + grain)[None], seed=7))[0] - 0.5
        assert abs(stats(added.numpy())[1] - expected) < 0.05


def panning_plate(frames: int, size: tuple[int, int], step: tuple[int, int]) -> tuple[torch.Tensor, np.ndarray]:
    """A picture busy at pixel scale everywhere, panned `step` pixels a frame, with fresh grain on each frame."""
    height, width = size
    rng = np.random.default_rng(8)
    picture = cv2.GaussianBlur(rng.uniform(0, 1, (height + 64, width + 64, 3)).astype(np.float32), (0, 0), 1.2)
    picture = np.clip((picture - picture.mean()) * 4 + 0.5, 0.1, 0.9)
    grain = np.stack([luma_grain(height, width, (0.02, 0.025, 0.03), seed=20 + t) for t in range(frames)])
    views = [picture[step[1] * t : step[1] * t + height, step[0] * t : step[0] * t + width] for t in range(frames)]
    return torch.from_numpy(np.stack(views) + grain), grain


def size_share(grain: np.ndarray) -> float:
    """Share of the grain's level left after a 2x area reduction (its spectrum's weight at coarse scale)."""
    half = [cv2.resize(g, (g.shape[1] // 2, g.shape[0] // 2), interpolation=cv2.INTER_AREA) for g in grain]
    return float(np.std(half) / grain.std())


def test_grain_of_a_busy_panning_plate_is_read_from_its_temporal_residual():
    plate, truth = panning_plate(5, (192, 256), (3, 2))
    level, correlation = stats(truth)
    still = measure_grain(plate[2:3]).sigma  # one frame: only the spatial estimate, which reads texture as grain
    assert np.all(np.linalg.norm(still, axis=0) > 3 * level)
    element = torch.full((5, 192, 256, 3), 0.5)
    added = (match_grain(element, plate, seed=2) - element)[:, 8:-8, 8:-8].numpy()
    added_level, added_correlation = stats(added)
    assert np.all(np.abs(added_level / level - 1) < 0.1), added_level / level
    assert abs(added_correlation / correlation - 1) < 0.1, (added_correlation, correlation)
    assert abs(size_share(added) / size_share(truth[:, 8:-8, 8:-8]) - 1) < 0.1


def test_the_region_around_an_element_is_its_matte_above_half_grown_by_the_pixels_given():
    matte = torch.zeros(1, 9, 9)
    matte[0, 4, 4] = 0.6
    matte[0, 0, 0] = 0.5  # half covered is not solid
    assert torch.equal(region_around(matte, 0), (matte > 0.5).float())
    grown = region_around(matte, 1)  # a round 3x3 element: the pixel and its four neighbours
    assert grown.sum() == 5 and torch.all(grown[0, 4, 3:6] == 1.0) and torch.all(grown[0, 3:6, 4] == 1.0)


@pytest.mark.parametrize(
    ("mask", "pixels", "message"),
    [
        (torch.zeros(1, 8, 8), -1, r"around_element must be at least 0; got -1.0"),
        (torch.zeros(1, 8, 8), float("nan"), r"around_element must be a finite number"),
        (torch.full((1, 8, 8), float("nan")), 2, r"element_mask contains NaN or infinite values"),
    ],
)
def test_the_region_around_an_element_refuses_bad_input_naming_it(mask, pixels, message):
    with pytest.raises(ValueError, match=message):
        region_around(mask, pixels)


def test_mkl_amplifies_a_nearly_flat_element_only_up_to_the_floor_on_its_spread():
    """MKL scales each colour axis by the plate's spread over the element's; the element's spread is floored at one
    8-bit level (MIN_RGB_SPREAD), so a flat element is shifted and its faint noise raised to a bounded level."""
    element = textured(1, (0.5, 0.5, 0.5), 0.004, seed=5)  # smooth: the 1/4-size statistics keep its spread
    plate = textured(1, (0.4, 0.4, 0.4), 0.2, seed=6)
    matched = match_colors(element, plate, "mkl")
    spread = float(element.std((0, 1, 2)).mean())  # about 0.001, under one 8-bit level
    gain = float(matched.std((0, 1, 2)).mean()) / spread
    expected = float(plate.std((0, 1, 2)).mean()) / math.hypot(spread, MIN_RGB_SPREAD)  # about 13
    assert 0.7 * expected < gain < 1.4 * expected
    assert torch.allclose(matched.mean((0, 1, 2)), plate.mean((0, 1, 2)), atol=0.01)


@pytest.mark.parametrize("method", METHODS)
def test_color_match_output_stays_within_0_and_1_when_the_transfer_overshoots(method):
    """A dim, flat element matched to a contrasty plate: the linear maps reach past black and white."""
    element = textured(2, (0.3, 0.3, 0.3), 0.3, seed=7)
    plate = (textured(2, (0.5, 0.5, 0.5), 1.0, seed=8) * 3 - 1).clamp(0, 1)
    matched = match_colors(element, plate, method)
    assert float(matched.min()) >= 0.0 and float(matched.max()) <= 1.0
    assert float((matched == 1.0).float().mean()) > 0.01 and float((matched == 0.0).float().mean()) > 0.01


def test_histogram_matching_gives_the_element_the_plates_distribution_not_just_its_spread():
    """A plate of two flat tones: histogram matching maps the element onto those two tones; an affine transfer (MKL,
    Reinhard) could only match their mean and spread."""
    element = textured(1, (0.5, 0.5, 0.5), 0.6, seed=9)
    plate = torch.full((1, HEIGHT, WIDTH, 3), 0.2)
    plate[:, :, WIDTH // 2 :] = 0.8
    matched = match_colors(element, plate, "histogram")
    near_a_tone = ((matched - 0.2).abs() < 0.05) | ((matched - 0.8).abs() < 0.05)
    assert float(near_a_tone.float().mean()) > 0.9


SKIPPED = 2  # a frame of a 30-frame clip that the 24 evenly spread sample frames leave out


def test_colours_are_measured_on_frames_spread_to_the_clips_first_and_last():
    """Only one frame of the plate region selects pixels: the first, or the last, of a 30-frame clip (both are
    sampled), or one the sample leaves out (nothing to measure)."""
    element, plate = textured(30, (0.6, 0.4, 0.3), 0.2, seed=1), textured(30, (0.3, 0.4, 0.6), 0.2, seed=2)
    for frame in (0, 29):
        region = torch.zeros(30, HEIGHT, WIDTH)
        region[frame] = 1.0
        matched = match_colors(element, plate, "reinhard_lab", plate_region=region)
        assert matched.shape == element.shape
    region = torch.zeros(30, HEIGHT, WIDTH)
    region[SKIPPED] = 1.0  # 24 frames spread over 30 leave this one out
    with pytest.raises(ValueError, match="fewer than 16 pixels"):
        match_colors(element, plate, "reinhard_lab", plate_region=region)


def test_a_colour_transform_asked_for_an_unknown_method_names_it():
    with pytest.raises(ValueError, match=r"^method must be one of"):
        color_transform(textured(1, (0.5, 0.5, 0.5), 0.2, seed=1), textured(1, (0.4, 0.4, 0.4), 0.2, seed=2), "mean")


def test_reinhard_matches_each_lab_channels_spread_and_keeps_the_elements_colour_correlation():
    """Reinhard scales each LAB channel on its own: the plate's per-channel spreads, the element's own correlation
    between channels (a full-covariance transfer such as MKL would impose the plate's)."""
    shade = textured(1, (0.0, 0.0, 0.0), 0.6, seed=10)[..., :1]
    element = torch.cat([0.5 + shade, torch.full_like(shade, 0.5), 0.5 - shade], -1).clamp(
        0, 1
    )  # a and b move together
    plate = textured(1, (0.5, 0.4, 0.3), 0.5, seed=11)
    matched = match_colors(element, plate, "reinhard_lab")

    def lab(image: torch.Tensor) -> np.ndarray:
        return cv2.cvtColor(image[0].numpy(), cv2.COLOR_RGB2Lab).reshape(-1, 3)

    result, target, source = lab(matched), lab(plate), lab(element)
    assert np.allclose(result.std(0), target.std(0), rtol=0.15)
    correlation = np.corrcoef(result[:, 1], result[:, 2])[0, 1]
    assert abs(correlation - np.corrcoef(source[:, 1], source[:, 2])[0, 1]) < 0.1
    assert abs(correlation - np.corrcoef(target[:, 1], target[:, 2])[0, 1]) > 0.3


def flat_grainy(frames: int, size: tuple[int, int], sigma: float, seed: int) -> torch.Tensor:
    """A flat grey picture with fresh white grain of `sigma` on each frame."""
    generator = torch.Generator().manual_seed(seed)
    return 0.5 + torch.randn(frames, *size, 3, generator=generator) * sigma


def test_grain_match_keeps_the_result_within_0_and_1_on_the_cpu_and_on_a_device():
    """A near-white element under heavy grain: half its pixels would pass 1 were the sum not clamped."""
    plate = flat_grainy(2, (HEIGHT, WIDTH), 0.08, seed=30)
    element = torch.full((2, HEIGHT, WIDTH, 3), 0.98)
    for device in (None, torch.device("cpu")):
        matched = match_grain(element, plate, seed=1, device=device)
        assert float(matched.max()) == 1.0 and float(matched.min()) > 0.5, device
        assert float((matched == 1.0).float().mean()) > 0.3, device


@pytest.mark.parametrize("device", [None, torch.device("cpu")])
def test_grain_match_reports_each_frame_done_once(device):
    done: list[int] = []
    match_grain(
        torch.full((3, HEIGHT, WIDTH, 3), 0.5),
        flat_grainy(3, (HEIGHT, WIDTH), 0.03, 31),
        progress=done.append,
        device=device,
    )
    assert sum(done) == 3, done


@pytest.mark.parametrize("frames", [1, 3])
def test_grain_is_read_where_the_plate_region_is_solid(frames):
    """Grain of 0.02 on the left half, three times that on the right: with the left half as the region, a still
    and a clip (read from its temporal residual too) both measure the left half's grain."""
    size = (128, 128)
    plate = flat_grainy(frames, size, 0.02, seed=32)
    plate[:, :, 64:] = flat_grainy(frames, (128, 64), 0.06, seed=33)
    region = torch.zeros(frames, *size)
    region[:, :, :64] = 1.0
    level = np.linalg.norm(measure_grain(plate, region).sigma, axis=0)
    assert np.allclose(level, 0.02, rtol=0.1), level


def test_a_held_frame_repeated_measures_as_the_frame_alone():
    """Identical frames have no temporal residual to read; their grain is the one frame's, not none."""
    plate = flat_grainy(1, (HEIGHT, WIDTH), 0.03, seed=34)
    alone = measure_grain(plate).covariance
    assert np.all(np.diagonal(alone[0]) > 0.5 * 0.03**2)
    assert np.allclose(measure_grain(plate.expand(3, -1, -1, -1)).covariance, alone, rtol=1e-6, atol=0.0)


def test_each_frame_of_a_ten_second_clip_reads_grain_no_other_frame_shares():
    """240 frames (10 s at 24 fps) read the field at distinct offsets within its margin, every two at least 4 px
    apart on one axis: coarse grain, enlarged bilinearly from half size, shares a noise sample only between pixels
    less than 4 px apart, so the closest two frames' grain is uncorrelated."""
    offsets = np.array(frame_offsets(240, seed=3))
    assert offsets.min() >= 0 and offsets.max() < FIELD_MARGIN
    apart = np.abs(offsets[:, None] - offsets[None]).max(-1)
    np.fill_diagonal(apart, FIELD_MARGIN)
    assert apart.min() >= 4, apart.min()
    first, second = np.unravel_index(np.argmin(apart), apart.shape)
    coarse = band_noise(1, HEIGHT + FIELD_MARGIN, WIDTH + FIELD_MARGIN, torch.Generator().manual_seed(5))
    views = [coarse[y : y + HEIGHT, x : x + WIDTH].reshape(-1) for y, x in (offsets[first], offsets[second])]
    assert abs(np.corrcoef(views)[0, 1]) < 0.03


def band_readings(covariance: np.ndarray) -> np.ndarray:
    """What measuring fine grain of `covariance` [3, 3] reads in each band [2, 3, 3] (the calibration's column)."""
    return np.stack([reading * covariance for reading in _calibration()[:, 0]])


def test_a_reading_the_fine_band_explains_alone_gives_no_coarse_grain():
    """The half-size reading of fine grain short in two channels and long in one (a measurement's scatter): solving
    for both bands gives the coarse band a negative trace, so the fine band takes the full-size reading whole and
    the coarse band nothing, not the solve's positive channel."""
    fine = np.diag([0.02, 0.03, 0.04]) ** 2
    measured = band_readings(fine)
    measured[1] *= np.array([0.5, 0.5, 1.2])[:, None]
    assert np.trace(np.einsum("bm,mcd->bcd", np.linalg.inv(_calibration()), measured)[1]) < 0
    profile = profile_from_measurement(measured)
    assert np.allclose(profile.covariance[0], fine, rtol=1e-6) and np.all(profile.covariance[1] == 0.0)


def test_a_clips_grain_is_the_smaller_of_its_spatial_and_temporal_readings_over_all_channels():
    """The temporal reading here is smaller in red and green but larger overall (blue): the spatial one is kept."""
    spatial = band_readings(np.diag([4e-4, 4e-4, 4e-4]))
    temporal = band_readings(np.diag([1e-4, 1e-4, 25e-4]))
    expected = profile_from_measurement(spatial).covariance
    assert np.allclose(profile_of([spatial], [temporal, None]).covariance, expected)
    assert np.allclose(profile_of([temporal], [spatial]).covariance, expected)


@pytest.mark.parametrize("add", ["one block", "streamed field"])
def test_grain_strength_above_4_is_refused_on_either_path(add):
    """match_grain checks it, and so does grain_to_add, which the streamed Grain Match calls directly."""
    plate = flat_grainy(1, (64, 64), 0.03, seed=35)
    element = torch.full((1, 64, 64, 3), 0.5)
    profile = measure_grain(plate)
    run = {
        "one block": lambda strength: match_grain(element, plate, strength=strength),
        "streamed field": lambda strength: grain_to_add(profile, profile, strength, unit_noise(64, 64, 0)),
    }[add]
    run(4.0)
    with pytest.raises(ValueError, match="strength"):
        run(4.5)
