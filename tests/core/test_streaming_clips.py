"""Steps over lazy clips: how many frames a step makes, at what rate, and where it says its outputs lie."""

from __future__ import annotations

from fractions import Fraction

import torch

from worldkit.models.streaming.clips import Step, batch_clip, step_clips
from worldkit.models.streaming.reader import materialize


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
