"""Steps over lazy clips: how many frames a step makes, at what rate, and where it says its outputs lie."""

from __future__ import annotations

from fractions import Fraction

import torch

from worldkit.models.streaming.clips import Step, batch_clip, sample_picks, step_clips
from worldkit.models.streaming.reader import Reader, materialize


def first_input(frames: slice, block: torch.Tensor, *others: torch.Tensor | None) -> torch.Tensor:
    return block


def test_a_step_given_no_frame_count_runs_over_its_longest_input():
    five, one = batch_clip(torch.rand(5, 4, 6, 3)), batch_clip(torch.rand(1, 4, 6, 3))
    (out,) = step_clips(lambda frames, a, b, c: c, [five, None, one], [(4, 6, 3)])
    assert out.frames == 5 and torch.equal(materialize(out), one.producer.tensors[0].expand(5, 4, 6, 3))


def test_a_steps_outputs_play_at_the_rate_given_else_at_their_inputs_rate():
    still, moving = batch_clip(torch.rand(1, 4, 6, 3)), batch_clip(torch.rand(3, 4, 6, 3), Fraction(24))
    assert [clip.fps for clip in step_clips(first_input, [still, moving], [(4, 6, 3), (4, 6)])] == [Fraction(24)] * 2
    assert step_clips(first_input, [moving], [(4, 6, 3)], fps=Fraction(16))[0].fps == Fraction(16)
    assert step_clips(first_input, [still], [(4, 6, 3)])[0].fps is None


def test_a_step_says_its_outputs_lie_where_it_computes_them():
    clip = batch_clip(torch.rand(3, 4, 6, 3))
    assert Step(first_input, [clip]).place(0) is None
    assert Step(first_input, [clip], places=[None, torch.device("meta")]).place(1) == torch.device("meta")


def running_mean(frames: slice, block: torch.Tensor) -> torch.Tensor:
    """Each frame averaged with its neighbours within the block: a step that reads a frame of context either side."""
    padded = torch.cat([block[:1], block, block[-1:]])
    return (padded[:-2] + padded[1:-1] + padded[2:]) / 3


def test_two_steps_with_context_streamed_in_blocks_equal_the_steps_on_the_whole_clip():
    """The second step reads the first's frames again across each block boundary, so the first's block must hold
    only frames it had the context for."""
    frames = torch.rand(7, 4, 6, 3)
    (once,) = step_clips(running_mean, [batch_clip(frames)], [(4, 6, 3)], before=1, after=1)
    (twice,) = step_clips(running_mean, [once], [(4, 6, 3)], before=1, after=1)
    reader = Reader([twice])
    streamed = torch.cat([reader.read(twice, start, min(7, start + 2)) for start in range(0, 7, 2)])
    assert torch.equal(streamed, running_mean(slice(0, 7), running_mean(slice(0, 7), frames)))


def test_clip_wide_measurements_pick_evenly_spaced_frames_each_once():
    assert sample_picks(100, 5) == [0, 25, 50, 74, 99]
    assert sample_picks(3, 10) == [0, 1, 2]
