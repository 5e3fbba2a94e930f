"""Chained long shots on a constructed scene: segment plan, context hand-over, seamless and colour-continuous joins."""

import itertools
import math

import pytest
import torch

from worldkit.models.sampling.long_shot import (
    Segment,
    plan_segments,
    render_long_shot,
    segment_seed,
)
from worldkit.models.shared.wan import round_up_frame_count
from worldkit.tests.scenes import lab_mean_shifts

SIZE = 32


def scene(t: int) -> torch.Tensor:
    """Frame ``t`` of a smooth ground-truth scene: a drifting colour wave whose brightness breathes slowly."""
    y, x = torch.meshgrid(torch.linspace(0, 1, SIZE), torch.linspace(0, 1, SIZE), indexing="ij")
    phase = 2 * math.pi * (x + 0.5 * y + t / 48)
    level = 0.5 + 0.08 * math.sin(t / 20)
    return torch.stack(
        [level + 0.2 * torch.sin(phase), level + 0.15 * torch.cos(phase), level - 0.1 * torch.sin(phase)], -1
    )


class DriftingRenderer:
    """Renders a segment's frames of the scene with a colour cast that grows with every segment (VAE drift)."""

    def __init__(self) -> None:
        self.contexts: list[torch.Tensor | None] = []

    def __call__(self, segment: Segment, context):
        self.contexts.append(context)
        frames = torch.stack([scene(segment.start + i) for i in range(segment.frames)])
        cast = torch.tensor([1.0 + 0.12 * segment.index, 1.0, 1.0 - 0.08 * segment.index])
        return (frames * cast + 0.03 * segment.index).clamp(0, 1)


def test_plan_for_ten_seconds_at_sixteen_fps():
    assert plan_segments(161, 81, 9) == [Segment(0, 0, 81, 0), Segment(1, 72, 81, 9), Segment(2, 144, 17, 9)]
    assert plan_segments(161, 81, 1) == [Segment(0, 0, 81, 0), Segment(1, 80, 81, 1)]
    assert plan_segments(49, 81) == [Segment(0, 0, 49, 0)]
    assert plan_segments(50, 81) == [Segment(0, 0, 53, 0)]


def test_plan_covers_every_frame_with_valid_clip_lengths():
    for total in range(82, 400, 7):
        segments = plan_segments(total, 81, 9)
        assert all((s.frames - 1) % 4 == 0 and s.frames <= 81 for s in segments)
        assert segments[-1].start + segments[-1].frames >= total
        for before, after in itertools.pairwise(segments):
            assert after.start == before.start + before.frames - 9


def test_bad_plans_are_refused():
    with pytest.raises(ValueError, match=r"4k\+1"):
        plan_segments(161, 80)
    with pytest.raises(ValueError, match="overlap"):
        plan_segments(161, 81, 60)
    assert round_up_frame_count(10) == 13


def test_segment_seeds_do_not_collide_across_candidates():
    seeds = {segment_seed(seed, index) for seed in range(8) for index in range(3)}
    assert len(seeds) == 24
    assert segment_seed(2**64 - 1, 1) < 2**64


def test_each_segment_is_conditioned_on_the_frames_before_it():
    renderer = DriftingRenderer()
    frames, notes = render_long_shot(161, 81, renderer, overlap=9)
    assert frames.shape == (161, SIZE, SIZE, 3)
    assert renderer.contexts[0] is None
    first = renderer(Segment(0, 0, 81, 0), None)
    assert torch.equal(renderer.contexts[1], first[72:81])
    assert [note["start"] for note in notes] == [0, 72, 144]
    assert torch.equal(frames[:72], first[:72])


def seam_ranges(notes):
    return [(note["start"], note["start"] + note["context"]) for note in notes[1:]]


def test_seams_are_no_rougher_than_the_motion_inside_segments():
    frames, notes = render_long_shot(161, 81, DriftingRenderer(), overlap=9)
    steps = (frames[1:] - frames[:-1]).abs().mean(dim=(1, 2, 3))
    seam_steps = set()
    for start, end in seam_ranges(notes):
        seam_steps.update(range(start - 1, end))
    inside = torch.tensor([steps[i] for i in range(len(steps)) if i not in seam_steps])
    across = torch.tensor([steps[i] for i in sorted(seam_steps)])
    assert across.max() <= inside.max() * 1.05


@pytest.mark.parametrize("color_strength", [1.0, 0.0])
def test_lab_shift_across_each_seam_is_within_the_segment_level(color_strength):
    frames, notes = render_long_shot(161, 81, DriftingRenderer(), overlap=9, color_strength=color_strength)
    shifts = lab_mean_shifts(frames)
    seam_steps = {i for start, end in seam_ranges(notes) for i in range(start - 1, end)}
    inside = max(float(shifts[i]) for i in range(len(shifts)) if i not in seam_steps)
    across = max(float(shifts[i]) for i in seam_steps)
    if color_strength == 1.0:
        assert across <= inside
        assert all(n["overlap_lab_offset_corrected"] < n["overlap_lab_offset_raw"] / 5 for n in notes[1:])
    else:
        assert across > inside  # the uncorrected drift is visible: the check above has teeth


def test_decoder_that_drops_frames_is_an_error():
    def short(segment, context):
        return torch.zeros(segment.frames - 4, 8, 8, 3)

    with pytest.raises(ValueError, match="dropped frames"):
        render_long_shot(161, 81, short)
