"""Consistency search: best-of-N where candidates are judged early and the weak ones stop sampling.

Every candidate starts from its own seed's noise. At chosen steps each remaining candidate's own prediction
of the clean latent (x0) is decoded cheaply (a few frames, small) and scored against the shot's references;
a schedule says how many survive each check. Survivors keep their sampler state, so a survivor's frames are
exactly those of a lone render of its seed. Written ``"2@0.2>1@0.4"``: after 20 % of the steps the best 2
continue, after 40 % the best 1 (optionally led by the candidate count, ``"4>2@0.2>1@0.4"``); ``"off"``
renders every candidate to the end (full best-of-N). Named presets stand for the usual schedules: ``off``,
``careful`` (``2@0.2>1@0.4``, two survive until 40 % so a misjudgement at 20 % can still be corrected) and
``fast`` (``1@0.15``: one judgement, earlier, keeping only the best).

The host starts the candidates as a ``SteppedSampling`` (stepped_sampling.py interleaves the host's own
sampler); this module holds the schedule, the survivor rule and the report, and stays free of ComfyUI.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import torch

from ..shared.text import quote
from ..shots.shot import Shot
from ..world.entities import Reference
from .scoring import ScoreReport

OFF = "off"
CUSTOM = "custom"
SEARCH_PRESETS = {"careful": "2@0.2>1@0.4", "fast": "1@0.15", OFF: OFF}  # preset name -> the schedule it names
SEARCH_CHOICES = (*SEARCH_PRESETS, CUSTOM)
DEFAULT_SEARCH = "careful"
EXAMPLE = SEARCH_PRESETS[DEFAULT_SEARCH]
EARLY_FRAMES = 4  # latent frames decoded and scored at a check
EARLY_SIDE = 256  # longest side, pixels, of the frames scored at a check
_CHECK = re.compile(r"^\s*(\d+)\s*@\s*([0-9]*\.?[0-9]+)\s*$")


@dataclass(frozen=True)
class Check:
    """After ``fraction`` of the steps, the best ``keep`` candidates continue."""

    fraction: float
    keep: int


@dataclass(frozen=True)
class SearchSchedule:
    checks: tuple[Check, ...]
    candidates: int | None = None  # the leading count, when the schedule names one

    def __str__(self) -> str:
        head = [str(self.candidates)] if self.candidates is not None else []
        return ">".join(head + [f"{check.keep}@{check.fraction:g}" for check in self.checks])


def parse_search(text: str) -> SearchSchedule | None:
    """The schedule written in the ``search`` input, or None for "off"; a clear error names what to fix."""
    text = text.strip()
    if text.lower() == OFF or not text:
        return None
    parts = text.split(">")
    head = None
    if parts[0].strip().isdecimal():  # what int() reads (isdigit() also takes "²")
        head, parts = int(parts[0]), parts[1:]
    if not parts:
        raise ValueError(f"search {quote(text)} has no check; write e.g. '{EXAMPLE}' or 'off'.")
    checks = []
    for part in parts:
        match = _CHECK.match(part)
        if match is None:
            raise ValueError(
                f"search check {quote(part.strip())} is not 'keep@fraction' (e.g. '2@0.2': the best 2 continue "
                f"after 20 % of the steps); write e.g. '{EXAMPLE}' or 'off'."
            )
        keep, fraction = int(match.group(1)), float(match.group(2))
        if keep < 1 or not 0.0 < fraction < 1.0:
            raise ValueError(f"search check {quote(part.strip())}: keep at least 1, at a fraction between 0 and 1.")
        checks.append(Check(fraction, keep))
    for before, after in itertools.pairwise(checks):
        if after.fraction <= before.fraction or after.keep >= before.keep:
            raise ValueError(
                f"search {quote(text)}: each check must come later and keep fewer than the one before "
                f"('{before.keep}@{before.fraction:g}' then '{after.keep}@{after.fraction:g}')."
            )
    if head is not None and not checks[0].keep < head:
        raise ValueError(f"search {quote(text)} starts with {head} candidates; its first check must keep fewer.")
    return SearchSchedule(tuple(checks), head)


def parse_search_choice(choice: str, custom: str) -> SearchSchedule | None:
    """The schedule a ``search`` choice names: a preset's, the ``search_custom`` text for "custom", or the choice
    itself (a graph saved before the presets holds its schedule text in ``search``)."""
    if choice != CUSTOM:
        return parse_search(SEARCH_PRESETS.get(choice, choice))
    try:
        return parse_search(custom)
    except ValueError as error:
        raise ValueError(f"search_custom: {error}") from None


def require_schedule_candidates(schedule: SearchSchedule | None, candidates: int | None) -> None:
    """A schedule that names its candidate count must agree with the ``candidates`` input (None: not known yet)."""
    if schedule is not None and candidates is not None and schedule.candidates not in (None, candidates):
        raise ValueError(
            f"search starts with {schedule.candidates} candidates but candidates is {candidates}; set candidates "
            f"to {schedule.candidates}, or drop the leading count from search."
        )


def check_steps(schedule: SearchSchedule, steps: int, candidates: int) -> list[tuple[int, int]]:
    """(step, keep) pairs for a sampler of ``steps`` steps: checks that prune, at steps 1 … steps − 1.

    A fraction lands on the nearest step; checks landing on one step keep the smallest count; a check
    keeping every remaining candidate is skipped (nothing to judge).
    """
    by_step: dict[int, int] = {}
    for check in schedule.checks:
        step = min(steps - 1, max(1, round(check.fraction * steps)))
        if step >= 1:  # a one-step sampler has no step before its end
            by_step[step] = min(check.keep, by_step.get(step, check.keep))
    pairs, alive = [], candidates
    for step in sorted(by_step):
        if by_step[step] < alive:
            alive = by_step[step]
            pairs.append((step, alive))
    return pairs


def search_steps(checks: Sequence[tuple[int, int]], candidates: int, steps: int, segments: int = 1) -> int:
    """Sampler steps of a shot over all candidates (for the progress bar): the first segment is searched,
    the survivors alone sample the later ones."""
    total, alive, done = 0, candidates, 0
    for step, keep in checks:
        total += alive * (step - done)
        alive, done = keep, step
    return total + alive * (steps - done) + alive * steps * (segments - 1)


def survivors(scores: dict[int, float], keep: int) -> list[int]:
    """The ``keep`` best candidates in candidate order; ties go to the earlier candidate."""
    for index, value in scores.items():
        if math.isnan(value):
            raise ValueError(f"candidate {index} scored NaN at an early check; its preview or references hold NaNs.")
    ranked = sorted(scores, key=lambda index: (-scores[index], index))
    return sorted(ranked[:keep])


class SteppedSampling(Protocol):
    """Candidates of one segment sampled side by side, each as it would be alone (same noise, same state)."""

    def advance(self, index: int, steps: int) -> torch.Tensor | None:
        """Run candidate ``index`` until it has taken ``steps`` steps; its x0 prediction then, or None
        when its sampler finished without reporting that many steps."""

    def finish(self, index: int) -> torch.Tensor:
        """Run candidate ``index`` to the end; the sampled latent."""

    def stop(self, index: int) -> None:
        """Drop candidate ``index``: it makes no more model calls."""

    def close(self) -> None:
        """Stop every candidate still sampling (also after an error or an interrupt)."""


@dataclass
class SearchHooks:
    """What the host gives the engine to search: the schedule, the sampler's step count and three callables.

    - ``start(shot, bound, seeds)``: the candidates of a shot's first segment, ready to step.
    - ``preview(latent)``: a few x0 latent frames ``[1, C, t, h, w]`` decoded cheaply to small IMAGE frames.
    - ``score(frames, references)``: the early score (a ScoreReport or a float; higher is better).
    - ``preview_name``: which decoder ``preview`` is, for the report (the model's own latent format's).
    """

    schedule: SearchSchedule
    steps: int
    start: Callable[[Shot, Any, Sequence[int]], SteppedSampling]
    preview: Callable[[torch.Tensor], torch.Tensor]
    score: Callable[[torch.Tensor, Sequence[Reference]], ScoreReport | float]
    preview_name: str = ""


@dataclass
class SearchOutcome:
    finished: dict[int, torch.Tensor]  # candidate index -> sampled latent, for the survivors
    checks: list[dict]  # per check: step, keep, every candidate's early score (None once pruned), survivors
    pruned_at: dict[int, int]  # candidate index -> the step it stopped at
    note: str | None = None


def early_latent_frames(x0: torch.Tensor, frames: int = EARLY_FRAMES) -> torch.Tensor:
    """At most ``frames`` evenly spaced latent frames of ``[B, C, T, h, w]`` (first and last included)."""
    count = x0.shape[2]
    if count <= frames:
        return x0
    indices = sorted({round(i * (count - 1) / (frames - 1)) for i in range(frames)}) if frames > 1 else [0]
    return x0[:, :, indices]


def early_frames_at_size(frames: torch.Tensor, side: int = EARLY_SIDE) -> torch.Tensor:
    """Preview frames ``[t, H, W, 3]`` resized so their longest side is ``side`` (latent-to-RGB previews are
    at latent resolution, tiny autoencoders at full size; both are scored at one small size)."""
    height, width = frames.shape[1:3]
    scale = side / max(height, width)
    size = (max(1, round(height * scale)), max(1, round(width * scale)))
    resized = torch.nn.functional.interpolate(frames[..., :3].float().movedim(-1, 1), size=size, mode="bilinear")
    return resized.clamp(0.0, 1.0).movedim(1, -1)


def run_search(
    sampling: SteppedSampling,
    candidates: int,
    checks: Sequence[tuple[int, int]],
    judge: Callable[[torch.Tensor], float],
    on_check: Callable[[dict], None] = lambda record: None,
) -> SearchOutcome:
    """Advance every remaining candidate to each check, judge its x0, stop the weak; finish the survivors.
    ``on_check`` sees each check's record as it is made (a live view)."""
    alive, records, pruned_at, note = list(range(candidates)), [], {}, None
    try:
        for step, keep in checks:
            scores: dict[int, float] = {}
            for index in alive:
                x0 = sampling.advance(index, step)
                if x0 is None:
                    break
                scores[index] = float(judge(x0))
                del x0
            if len(scores) < len(alive):
                note = "the sampler does not report its steps, so every candidate was rendered to the end"
                break
            kept = survivors(scores, keep)
            for index in alive:
                if index not in kept:
                    sampling.stop(index)
                    pruned_at[index] = step
            records.append(
                {
                    "step": step,
                    "keep": keep,
                    "early_scores": [scores.get(index) for index in range(candidates)],
                    "survivors": kept,
                }
            )
            on_check(records[-1])
            alive = kept
        finished = {index: sampling.finish(index) for index in alive}
    finally:
        sampling.close()
    return SearchOutcome(finished, records, pruned_at, note)
