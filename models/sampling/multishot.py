"""Render a shot list so every shot keeps the world: bind, sample, decode, trim, score, keep the best.

For each shot (starting from the last frame of the previous shot when the shot says ``continue``), each
candidate seed (seed, seed + 1, …) is bound, sampled, trimmed, decoded and scored against the shot's
references; the best candidate's frames are kept and every score, seed and timing goes into a JSON-able
report. Shots longer than the model's native length are chained segments (see ``long_shot``). With the
consistency search (``search``), candidates are judged early on the first segment and only the survivors
are rendered to the end.

The pipeline the host passes in is shot_pipeline.py's; a candidate is rendered by candidate.py. This module
holds the list loop: the shots in order, each shot's candidates, the one kept, and the shot cache.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from ..shared.wan import wrap_seed
from ..shots.shot import Shot
from .candidate import finished_candidate, search_first_segment
from .joining import ShotResult
from .long_shot import plan_segments
from .search import SearchSchedule, check_steps, search_steps
from .selection import EVERYTHING, Selection, check_selection
from .shot_cache import ShotReuse, tensor_digest
from .shot_pipeline import BoundShotLike, ShotPipeline
from .takes import NO_TAKES, Takes


def candidate_seeds(base_seed: int, candidates: int) -> list[int]:
    if candidates < 1:
        raise ValueError(f"candidates must be at least 1; got {candidates}.")
    return [wrap_seed(base_seed + index) for index in range(candidates)]


def render_shot(
    pipeline: ShotPipeline,
    shot: Shot,
    base_seed: int,
    candidates: int,
    start_frames: torch.Tensor | None,
    selection: Selection = EVERYTHING,
) -> ShotResult:
    """Render every candidate of one shot (the search's survivors, or the selected ones), score them, keep the
    best (ties go to the earlier seed).

    The search runs only when every candidate is rendered here. A selected candidate is scored whenever the
    shot has several, so a farm that renders them apart gets the scores a full best-of-N run compares.
    """
    references = list(pipeline.references(shot))
    started = pipeline.clock()
    seeds = candidate_seeds(base_seed, candidates)
    first_binding: dict[str, BoundShotLike] = {}
    outcome, search_report = None, None
    selected = [index for index in range(candidates) if selection.wants_candidate(index + 1)]
    if pipeline.search is not None and selection.judges_candidates_together(candidates):
        pipeline.check_interrupt()
        outcome, search_report = search_first_segment(pipeline, shot, seeds, references, start_frames, first_binding)
    finishing = selected if outcome is None else sorted(outcome.finished)
    apart = candidates > 1 and not selection.judges_candidates_together(candidates)  # e.g. a farm unit
    scored = len(finishing) > 1 or apart or pipeline.score_single_candidate
    best_frames, best_index, best_value = None, -1, -math.inf
    reports = []
    for index, seed in enumerate(seeds):
        if index not in selected:
            continue
        if index not in finishing:
            reports.append(
                {
                    "candidate": index + 1,
                    "seed": seed,
                    "score": None,
                    "scores": None,
                    "pruned_at_step": outcome.pruned_at[index],
                }
            )
            continue
        first_latent = None if outcome is None else outcome.finished.pop(index)
        frames, report = finished_candidate(
            pipeline, shot, seed, references, start_frames, first_binding, first_latent, scored
        )
        reports.append({"candidate": index + 1, **report})
        if best_frames is None or report["score"] > best_value:
            best_frames, best_index, best_value = frames, len(reports) - 1, report["score"]
        del frames
    report = {
        "name": shot.name,
        "prompt": shot.prompt,
        "entities": [entity.name for entity in shot.entities],
        "continuity": shot.continuity,
        "continued_from_previous": start_frames is not None,
        "fps": shot.fps,
        "requested_frames": shot.frame_count,
        "frames": best_frames.shape[0],
        "width": best_frames.shape[2],
        "height": best_frames.shape[1],
        "seeds": seeds,
        "scores": [c["score"] for c in reports],
        "chosen": reports[best_index]["candidate"] - 1,
        "chosen_seed": reports[best_index]["seed"],
        "candidates": reports,
        "timings": {"total_s": round(pipeline.clock() - started, 4)},
        **({"search": search_report} if search_report is not None else {}),
        **pipeline.notes(shot),
    }
    return ShotResult(best_frames, report)


def render_shot_list(
    pipeline: ShotPipeline,
    shots: Sequence[Shot],
    seed: int,
    candidates: int,
    selection: Selection = EVERYTHING,
    takes: Takes = NO_TAKES,
    reuse: ShotReuse | None = None,
) -> list[ShotResult]:
    """Render shots in order. A ``continue`` shot starts from the last frame of the one before; a ``cut`` does not.

    Shot ``i``'s candidates use seeds ``seed + shot.seed``, ``+ 1``, …; a shot's own seed offsets the list's.
    ``selection`` renders only some shots and candidates, each with the seeds a full run gives it; ``takes``
    renders chosen shots as a run with another seed did. With ``reuse``, a shot rendered before with the same
    key comes from its cache (its report says ``cached``).
    """
    if not shots:
        raise ValueError("the shot list is empty; connect a Shot or a Shot List.")
    if shots[0].continuity == "continue":
        raise ValueError("the first shot is set to 'continue' but there is no shot before it; set it to 'cut'.")
    check_selection(selection, len(shots), candidates)
    takes.check(len(shots), candidates)
    results: list[ShotResult] = []
    for index, shot in enumerate(shots):
        if not selection.wants_shot(index + 1):
            continue
        start = None
        if shot.continuity == "continue":
            if not results or results[-1].report["shot"] != index - 1:
                raise ValueError(
                    f"shot {index + 1} continues shot {index}, which the selection leaves out; select both, "
                    f"or set shot {index + 1}'s continuity to 'cut'."
                )
            start = results[-1].frames[-1:]
        base = wrap_seed(takes.run_seed(index + 1, seed) + shot.seed)
        pipeline.live({"event": "shot", "shot": index + 1, "seeds": candidate_seeds(base, candidates)}, {})
        result = render_or_reuse(pipeline, shot, base, candidates, start, takes.selection(index + 1, selection), reuse)
        result.report["shot"] = index
        pipeline.live(
            {"event": "done", "shot": index + 1, "chosen": result.report["chosen"], "cached": result.report["cached"]},
            {result.report["chosen"]: result.frames},
        )
        results.append(result)
    return results


def render_or_reuse(
    pipeline: ShotPipeline,
    shot: Shot,
    base_seed: int,
    candidates: int,
    start_frames: torch.Tensor | None,
    selection: Selection,
    reuse: ShotReuse | None,
) -> ShotResult:
    """``render_shot``, or its earlier result from ``reuse``'s cache when it reads (stored there after rendering).

    The key holds the host's part and everything of the shot and the pipeline the shot's frames depend on."""
    search = pipeline.search
    key = (
        None if reuse is None else reuse.context.key,
        shot,
        base_seed,
        candidates,
        selection.candidates,
        tensor_digest(start_frames),
        pipeline.native_frames,
        pipeline.overlap,
        pipeline.color_strength,
        pipeline.score_single_candidate,
        None if search is None else (str(search.schedule), search.steps),
    )
    found = reuse.cache.get(key, reuse.context) if reuse is not None and reuse.read else None
    if found is not None:
        return found
    result = render_shot(pipeline, shot, base_seed, candidates, start_frames, selection)
    result.report["cached"] = False
    if reuse is not None:
        reuse.cache.put(key, reuse.context, result)
    return result


def steps_per_shot(
    shots: Sequence[Shot],
    candidates: int,
    steps: int,
    native_frames: int,
    overlap: int,
    selection: Selection = EVERYTHING,
    search: SearchSchedule | None = None,
    takes: Takes = NO_TAKES,
) -> dict[int, int]:
    """The sampler steps ``render_shot_list`` takes per selected shot number (segments × candidates × steps), for
    one progress bar; with the search, pruned candidates stop counting at their check."""
    counts = {}
    for number, shot in enumerate(shots, start=1):
        if not selection.wants_shot(number):
            continue
        chosen = takes.selection(number, selection)
        picked = sum(chosen.wants_candidate(candidate) for candidate in range(1, candidates + 1))
        searched = search is not None and chosen.judges_candidates_together(candidates)
        checks = check_steps(search, steps, candidates) if searched else []
        segments = len(plan_segments(shot.frame_count, native_frames, overlap))
        counts[number] = search_steps(checks, picked, steps, segments)
    return counts


def total_steps(*args: Any, **options: Any) -> int:
    """The sampler steps of the whole list (``steps_per_shot`` summed)."""
    return sum(steps_per_shot(*args, **options).values())
