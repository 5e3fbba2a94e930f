"""Colour drift correction and overlap blending on constructed chained clips."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from kornia.color import lab_to_rgb, rgb_to_lab

from worldkit.models.sampling.continuity import (
    correct_color_drift,
    crossfade,
    crossfade_weights,
    lab_frame_means,
    lab_statistics,
)
from worldkit.tests.scenes import lab_mean_shifts

HEIGHT, WIDTH = 48, 64
OVERLAP = 5
SEGMENT = 25


def join_segments(previous: torch.Tensor, segment: torch.Tensor, overlap: int) -> torch.Tensor:
    """Two segments sharing ``overlap`` frames, the shared frames crossfaded (as a chained long shot joins them)."""
    return torch.cat([previous[:-overlap], crossfade(previous[-overlap:], segment[:overlap]), segment[overlap:]])


def texture() -> torch.Tensor:
    """A periodic colour texture [H, W, 3]; rolling it sideways moves the picture without changing its colours."""
    y, x = torch.meshgrid(torch.linspace(0, 1, HEIGHT), torch.linspace(0, 1, WIDTH + 1)[:-1], indexing="ij")
    red = 0.5 + 0.3 * torch.sin(2 * torch.pi * 2 * x) * torch.cos(5 * y)
    green = 0.45 + 0.25 * torch.cos(2 * torch.pi * 3 * x + 3 * y)
    blue = 0.4 + 0.2 * torch.sin(11 * y + 2 * torch.pi * x)
    return torch.stack([red, green, blue], dim=-1)


def scene(frame_index: int) -> torch.Tensor:
    """The texture panning one pixel a frame, under an exposure that creeps up a little every frame."""
    exposure = 1.0 + 0.004 * frame_index
    return (torch.roll(texture(), frame_index, dims=1) * exposure).clamp(0, 1)


def clip(start: int, count: int) -> torch.Tensor:
    """Frames start..start+count of the scene."""
    return torch.stack([scene(start + i) for i in range(count)])


def lab_drift(frames: torch.Tensor, contrast: float, brightness: float, tint_a: float, tint_b: float) -> torch.Tensor:
    """The drift a re-encoded extension shows: contrast and brightness on L, a tint on a/b."""
    lab = rgb_to_lab(frames.movedim(-1, 1))
    lab = lab * torch.tensor([contrast, 1.0, 1.0]).view(1, 3, 1, 1) + torch.tensor([brightness, tint_a, tint_b]).view(
        1, 3, 1, 1
    )
    return lab_to_rgb(lab, clip=True).movedim(1, -1)


def rgb_cast(frames: torch.Tensor, gain: tuple[float, float, float], offset: float) -> torch.Tensor:
    """A per-channel gain and offset in sRGB: a cast that grows with exposure, outside LAB matching's model."""
    return (frames * torch.tensor(gain) + offset).clamp(0, 1)


def drifting_pair() -> tuple[torch.Tensor, torch.Tensor]:
    previous = clip(0, SEGMENT)
    drifted = lab_drift(clip(SEGMENT - OVERLAP, SEGMENT), contrast=1.12, brightness=-4.0, tint_a=3.0, tint_b=-5.0)
    return previous, drifted


def largest_inner_step(*segments: torch.Tensor) -> float:
    return max(float(lab_mean_shifts(segment).max()) for segment in segments)


def seam_and_inner_steps(shot: torch.Tensor, seam_starts: list[int]) -> tuple[float, float]:
    """Largest LAB mean shift around the blended overlaps (from the frame before to the frame after each),
    and the largest one everywhere else, inside the segments."""
    shifts = lab_mean_shifts(shot)
    at_seam = torch.zeros_like(shifts, dtype=torch.bool)
    for start in seam_starts:
        at_seam[start - 1 : start + OVERLAP] = True
    return float(shifts[at_seam].max()), float(shifts[~at_seam].max())


def test_seam_shift_after_correction_is_within_the_inner_frame_to_frame_level():
    previous, drifted = drifting_pair()
    inner = largest_inner_step(previous, drifted)
    hard_seam = float((lab_frame_means(drifted[OVERLAP : OVERLAP + 1]) - lab_frame_means(previous[-1:])).norm())
    assert hard_seam > 3 * inner, "the constructed drift must be visible at the seam before correction"
    uncorrected_seam, _ = seam_and_inner_steps(join_segments(previous, drifted, OVERLAP), [SEGMENT - OVERLAP])
    assert uncorrected_seam > inner
    corrected = join_segments(previous, correct_color_drift(previous, drifted, OVERLAP), OVERLAP)
    seam, inner_after = seam_and_inner_steps(corrected, [SEGMENT - OVERLAP])
    assert seam <= inner_after
    assert seam <= inner


def test_corrected_overlap_matches_the_previous_overlap_statistics():
    previous, drifted = drifting_pair()
    corrected = correct_color_drift(previous, drifted, OVERLAP)
    target_mean, target_std = lab_statistics(previous[-OVERLAP:])
    mean, std = lab_statistics(corrected[:OVERLAP])
    assert torch.allclose(mean, target_mean, atol=0.5)
    assert torch.allclose(std, target_std, rtol=0.05, atol=0.3)
    assert corrected.shape == drifted.shape and corrected.dtype == drifted.dtype
    assert float(corrected.min()) >= 0.0 and float(corrected.max()) <= 1.0


def test_strength_zero_changes_nothing_beyond_lab_round_trip():
    previous, drifted = drifting_pair()
    untouched = correct_color_drift(previous, drifted, OVERLAP, strength=0.0)
    assert torch.allclose(untouched, drifted, atol=2e-3)
    half = correct_color_drift(previous, drifted, OVERLAP, strength=0.5)
    full = correct_color_drift(previous, drifted, OVERLAP, strength=1.0)
    assert torch.equal(correct_color_drift(previous, drifted, OVERLAP, chunk_size=3, device="cpu"), full)
    target = lab_statistics(previous[-OVERLAP:])[0]
    gap = [float((lab_statistics(x[:OVERLAP])[0] - target).norm()) for x in (untouched, half, full)]
    assert gap[0] > gap[1] > gap[2]


def test_crossfade_weights_are_linear_and_exclude_both_ends():
    assert torch.allclose(crossfade_weights(4), torch.tensor([0.2, 0.4, 0.6, 0.8]))
    assert crossfade_weights(0).shape == (0,)
    outgoing, incoming = torch.zeros(3, 2, 2, 3), torch.ones(3, 2, 2, 3)
    blended = crossfade(outgoing, incoming)
    assert torch.allclose(blended[:, 0, 0, 0], torch.tensor([0.25, 0.5, 0.75]))


def long_shot_segments(drift) -> list[torch.Tensor]:
    """Four chained segments, each drifting further from the scene's true colours than the one before."""
    return [drift(clip(i * (SEGMENT - OVERLAP), SEGMENT), i) for i in range(4)]


def stitch_segments(segments: list[torch.Tensor], color_strength: float = 1.0) -> torch.Tensor:
    """Chain segments as a long shot does: correct each to the (corrected) one before it, then join."""
    shot, previous = segments[0], segments[0]
    for segment in segments[1:]:
        if color_strength > 0.0:
            segment = correct_color_drift(previous, segment, OVERLAP, color_strength)
        shot, previous = join_segments(shot, segment, OVERLAP), segment
    return shot


def stitch_and_measure(segments: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, list[int]]:
    plain = stitch_segments(segments, color_strength=0.0)
    stitched = stitch_segments(segments)
    expected_length = len(segments) * SEGMENT - (len(segments) - 1) * OVERLAP
    assert stitched.shape[0] == plain.shape[0] == expected_length
    seams = [i * (SEGMENT - OVERLAP) + SEGMENT - OVERLAP for i in range(len(segments) - 1)]
    return plain, stitched, seams


def test_stitched_long_shot_has_no_seam_above_the_inner_level():
    segments = long_shot_segments(lambda frames, i: lab_drift(frames, 1.0 + 0.08 * i, -3.0 * i, 2.0 * i, -3.0 * i))
    plain, stitched, seams = stitch_and_measure(segments)
    inner = largest_inner_step(*segments)
    assert seam_and_inner_steps(plain, seams)[0] > 3 * inner
    seam, inner_after = seam_and_inner_steps(stitched, seams)
    assert seam <= inner_after
    assert seam <= inner
    truth = lab_frame_means(clip(0, stitched.shape[0]))
    drift_stitched = (lab_frame_means(stitched) - truth).norm(dim=-1).max()
    drift_plain = (lab_frame_means(plain) - truth).norm(dim=-1).max()
    assert float(drift_stitched) < 0.1 * float(drift_plain)


def test_a_cast_outside_the_lab_model_is_still_brought_close_to_the_inner_level():
    gains = [(1.0, 1.0, 1.0), (1.06, 0.97, 0.92), (1.12, 0.94, 0.84), (1.18, 0.91, 0.76)]
    segments = long_shot_segments(lambda frames, i: rgb_cast(frames * 0.8, gains[i], 0.015 * i))
    plain, stitched, seams = stitch_and_measure(segments)
    inner = largest_inner_step(*segments)
    plain_seam = seam_and_inner_steps(plain, seams)[0]
    seam, inner_after = seam_and_inner_steps(stitched, seams)
    assert plain_seam > 5 * inner
    assert seam < 0.25 * plain_seam
    assert seam <= 1.3 * inner_after
    truth = lab_frame_means(clip(0, stitched.shape[0]) * 0.8)
    drift_stitched = (lab_frame_means(stitched) - truth).norm(dim=-1).max()
    drift_plain = (lab_frame_means(plain) - truth).norm(dim=-1).max()
    assert float(drift_stitched) < 0.25 * float(drift_plain)


def test_bad_input_is_a_clear_error():
    previous, drifted = drifting_pair()
    with pytest.raises(ValueError, match="overlap"):
        correct_color_drift(previous, drifted, SEGMENT + 1)
    with pytest.raises(ValueError, match="resolution"):
        correct_color_drift(previous, drifted[:, :10], OVERLAP)
    broken = drifted.clone()
    broken[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        correct_color_drift(previous, broken, OVERLAP)
    with pytest.raises(ValueError, match="strength"):
        correct_color_drift(previous, drifted, OVERLAP, strength=1.5)


def test_lab_statistics_match_a_direct_computation():
    frames = clip(0, 3)
    mean, std = lab_statistics(frames, chunk_size=2)
    lab = rgb_to_lab(frames.movedim(-1, 1)).movedim(1, -1).reshape(-1, 3).double().numpy()
    assert np.allclose(mean.numpy(), lab.mean(axis=0), atol=1e-3)
    assert np.allclose(std.numpy(), lab.std(axis=0), atol=1e-3)
