"""Render a shot list so every shot keeps the world: bind, sample, decode, trim, score, keep the best.

For each shot (starting from the last frame of the previous shot when the shot says ``continue``), each
candidate seed (seed, seed + 1, …) is bound, sampled, trimmed, decoded and scored against the shot's
references; the best candidate's frames are kept and every score, seed and timing goes into a JSON-able
report. Shots longer than the model's native length are chained segments (see ``long_shot``). With the
consistency search (``search``), candidates are judged early on the first segment and only the survivors
are rendered to the end.

Binding, sampling and decoding are injected callables, so the engine stays free of ComfyUI. Frames the
binder asks to trim (reference frames prepended to the latent) are cut from the latent before decoding,
so they never reach the output; leading frames that still reproduce a reference view (reference bleed)
are dropped and reported.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import torch
import torch.nn.functional as F

from ..shared.wan import WAN_2_1, wrap_seed
from ..shots.shot import Shot
from ..world.entities import Reference
from .joining import ShotResult
from .long_shot import DEFAULT_OVERLAP, Segment, plan_segments, render_long_shot, segment_seed
from .scoring import ScoreReport
from .search import (
    SearchHooks,
    SearchOutcome,
    SearchSchedule,
    check_steps,
    early_frames_at_size,
    early_latent_frames,
    run_search,
    search_steps,
)
from .selection import EVERYTHING, Selection, check_selection
from .shot_cache import ShotReuse, tensor_digest
from .takes import NO_TAKES, Takes

BLEED_TOLERANCE = 0.03  # mean absolute difference (0..1) under which a frame is a copy of a reference view


class BoundShotLike(Protocol):
    trim_latent_frames: int
    reference_names: Sequence[str]  # entities the binder put in front of the clip as reference frames


@dataclass
class ShotPipeline:
    """The capabilities the orchestrator needs, passed in by the host.

    - ``bind(shot, context_frames, frames, new_from)``: conditioning and latent for ``frames`` frames of ``shot``;
      ``context_frames`` (IMAGE) are the frames the clip must begin with, or None; the clip's frames after them
      are shot frames from ``new_from`` on (where a performance's driving clip is read).
    - ``sample(shot, bound, seed)``: the sampled latent ``[1, C, T, h, w]``.
    - ``decode(latent)``: IMAGE frames ``[F, H, W, 3]``.
    - ``references(shot)``: the shot's bound references (scoring and the bleed check).
    - ``score(frames, references)``: a ScoreReport or a float; higher is better. A lone candidate has nothing
      to beat, so it is scored only when ``score_single_candidate`` is set; otherwise its score is None.
    - ``check_interrupt()``: raises when the user cancelled.
    - ``notes(shot)``: extra report entries for a rendered shot (e.g. what reference attention did).
    - ``search``: when set, a shot's candidates are judged early on its first segment and only the
      survivors sample on (see ``search``); None renders every candidate to the end.
    - ``live(event, previews)``: what the render is doing, for a live view: ``{"event": "shot" | "check" |
      "done", …}`` and, per candidate index, small frames to show (the search's early decodes at a check, the
      kept frames when a shot is done).
    """

    bind: Callable[[Shot, torch.Tensor | None, int, int], BoundShotLike]
    sample: Callable[[Shot, BoundShotLike, int], torch.Tensor]
    decode: Callable[[torch.Tensor], torch.Tensor]
    references: Callable[[Shot], Sequence[Reference]]
    score: Callable[[torch.Tensor, Sequence[Reference]], ScoreReport | float]
    check_interrupt: Callable[[], None] = lambda: None
    notes: Callable[[Shot], dict[str, Any]] = lambda shot: {}
    score_single_candidate: bool = False
    native_frames: int = WAN_2_1.native_frames
    overlap: int = DEFAULT_OVERLAP
    color_strength: float = 1.0
    clock: Callable[[], float] = time.perf_counter
    search: SearchHooks | None = None
    live: Callable[[dict[str, Any], dict[int, torch.Tensor]], None] = lambda event, previews: None


@dataclass
class _Timer:
    clock: Callable[[], float]
    totals: dict[str, float] = field(default_factory=dict)

    def timed(self, name: str, function: Callable[..., Any], *args: Any) -> Any:
        start = self.clock()
        result = function(*args)
        self.totals[name] = self.totals.get(name, 0.0) + self.clock() - start
        return result


def candidate_seeds(base_seed: int, candidates: int) -> list[int]:
    if candidates < 1:
        raise ValueError(f"candidates must be at least 1; got {candidates}.")
    return [wrap_seed(base_seed + index) for index in range(candidates)]


def trim_latent(latent: torch.Tensor, trim_frames: int) -> torch.Tensor:
    """Drop the leading ``trim_frames`` latent frames (reference frames the binder prepended)."""
    if trim_frames < 0:
        raise ValueError(f"trim_latent_frames must be 0 or more; got {trim_frames}.")
    if latent.ndim != 5:
        raise ValueError(f"a video latent is [batch, channels, frames, height, width]; got {tuple(latent.shape)}.")
    if trim_frames >= latent.shape[2]:
        raise ValueError(
            f"the binder asked to trim {trim_frames} latent frames but the latent has only {latent.shape[2]}."
        )
    return latent[:, :, trim_frames:]


def _views_at(reference: Reference, height: int, width: int) -> torch.Tensor:
    views = reference.views[..., :3].float().movedim(-1, 1)
    return F.interpolate(views, size=(height, width), mode="area").movedim(1, -1)


def leading_reference_frames(
    frames: torch.Tensor, references: Sequence[Reference], tolerance: float = BLEED_TOLERANCE
) -> int:
    """How many leading frames are copies of a reference view (mean absolute difference within ``tolerance``)."""
    views = [_views_at(reference, frames.shape[1], frames.shape[2]) for reference in references]
    if not views:
        return 0
    views = torch.cat(views)
    count = 0
    for frame in frames:
        distance = (views - frame[..., :3].float().unsqueeze(0)).abs().mean(dim=(1, 2, 3)).min()
        if distance > tolerance:
            break
        count += 1
    return count


def prepended_references(references: Sequence[Reference], bound: BoundShotLike) -> list[Reference]:
    """The references the binder prepended as reference frames: only these can bleed into the first frames.

    A start frame (I2V, a continued shot, a location used as the first frame) is meant to open the clip.
    """
    names = set(bound.reference_names)
    return [reference for reference in references if reference.name in names]


def _score_value(score: ScoreReport | float) -> float:
    value = score.overall if isinstance(score, ScoreReport) else float(score)
    if math.isnan(value):
        raise ValueError("a candidate scored NaN; its frames or its references contain NaNs.")
    return value


def _score_json(score: ScoreReport | float) -> dict[str, Any] | float:
    return dataclasses.asdict(score) if isinstance(score, ScoreReport) else float(score)


def render_candidate(
    pipeline: ShotPipeline,
    shot: Shot,
    seed: int,
    start_frames: torch.Tensor | None,
    timer: _Timer,
    first_binding: dict[str, BoundShotLike],
    first_latent: torch.Tensor | None = None,
) -> tuple[torch.Tensor, list[dict]]:
    """One candidate of a shot: every segment bound, sampled, trimmed and decoded, then chained.

    The first segment's binding does not depend on the seed, so it is made once per shot (``first_binding``).
    ``first_latent`` is the first segment already sampled (by the search); the later segments continue it.
    """

    def render_segment(segment: Segment, context: torch.Tensor | None) -> torch.Tensor:
        pipeline.check_interrupt()
        if segment.index == 0:
            if "bound" not in first_binding:
                first_binding["bound"] = timer.timed("bind_s", pipeline.bind, shot, start_frames, segment.frames, 0)
            bound = first_binding["bound"]
        else:
            new_from = segment.start + segment.context
            bound = timer.timed("bind_s", pipeline.bind, shot, context, segment.frames, new_from)
        if segment.index == 0 and first_latent is not None:
            latent = first_latent
        else:
            latent = timer.timed("sample_s", pipeline.sample, shot, bound, segment_seed(seed, segment.index))
        latent = trim_latent(latent, int(bound.trim_latent_frames))
        frames = timer.timed("decode_s", pipeline.decode, latent)
        return frames.cpu()

    return render_long_shot(
        shot.frame_count, pipeline.native_frames, render_segment, pipeline.overlap, pipeline.color_strength
    )


def early_judge(
    hooks: SearchHooks,
    trim_frames: int,
    references: Sequence[Reference],
    timer: _Timer | None = None,
    seen: list[torch.Tensor] | None = None,
) -> Callable[[torch.Tensor], float]:
    """How the search scores an x0 prediction: reference frames trimmed, a few latent frames decoded cheaply
    at a small size, scored against the shot's references. Each decode is appended to ``seen`` when given."""
    timer = timer or _Timer(time.perf_counter)

    def judge(x0: torch.Tensor) -> float:
        latent = early_latent_frames(trim_latent(x0, trim_frames))
        preview = early_frames_at_size(timer.timed("early_preview_s", hooks.preview, latent))
        if seen is not None:
            seen.append(preview)
        return _score_value(timer.timed("early_score_s", hooks.score, preview, references))

    return judge


def search_first_segment(
    pipeline: ShotPipeline,
    shot: Shot,
    seeds: Sequence[int],
    references: Sequence[Reference],
    start_frames: torch.Tensor | None,
    first_binding: dict[str, BoundShotLike],
) -> tuple[SearchOutcome, dict[str, Any]]:
    """Sample the first segment of every candidate under the search schedule; the survivors' latents and a report."""
    hooks = pipeline.search
    frames = plan_segments(shot.frame_count, pipeline.native_frames, pipeline.overlap)[0].frames
    first_binding["bound"] = bound = pipeline.bind(shot, start_frames, frames, 0)
    checks = check_steps(hooks.schedule, hooks.steps, len(seeds))
    timer = _Timer(pipeline.clock)
    previews: list[torch.Tensor] = []
    judge = early_judge(hooks, int(bound.trim_latent_frames), references, timer, previews)

    def on_check(record: dict[str, Any]) -> None:
        judged = [index for index, score in enumerate(record["early_scores"]) if score is not None]
        pipeline.live({"event": "check", "steps": hooks.steps, **record}, dict(zip(judged, previews, strict=True)))
        previews.clear()

    sampling = hooks.start(shot, bound, [segment_seed(seed, 0) for seed in seeds])
    outcome = timer.timed("search_s", run_search, sampling, len(seeds), checks, judge, on_check)
    timings = {name: round(seconds, 4) for name, seconds in timer.totals.items()}
    report = {"schedule": str(hooks.schedule), "steps": hooks.steps, "checks": outcome.checks, "timings": timings}
    if hooks.preview_name:
        report["preview"] = hooks.preview_name
    if outcome.note:
        report["note"] = outcome.note
    return outcome, report


def _finished_candidate(
    pipeline: ShotPipeline,
    shot: Shot,
    seed: int,
    references: Sequence[Reference],
    start_frames: torch.Tensor | None,
    first_binding: dict[str, BoundShotLike],
    first_latent: torch.Tensor | None,
    scored: bool,
) -> tuple[torch.Tensor, dict[str, Any]]:
    """A candidate rendered to the end (its first segment possibly sampled by the search), bleed-trimmed, scored."""
    timer = _Timer(pipeline.clock)
    frames, segments = render_candidate(pipeline, shot, seed, start_frames, timer, first_binding, first_latent)
    bleed = leading_reference_frames(frames, prepended_references(references, first_binding["bound"]))
    frames = frames[bleed:]
    if frames.shape[0] == 0:
        raise ValueError(
            f"every frame of shot '{shot.name or shot.prompt[:40]}' (seed {seed}) copies a reference "
            "image; the binder's trim count does not match the reference frames it prepended."
        )
    value, details = None, None
    if scored:
        score = timer.timed("score_s", pipeline.score, frames, references)
        value, details = _score_value(score), _score_json(score)
    report = {
        "seed": seed,
        "score": value,
        "scores": details,
        "frames": frames.shape[0],
        "reference_bleed_frames_dropped": bleed,
        "segments": segments,
        "timings": {name: round(seconds, 4) for name, seconds in timer.totals.items()},
    }
    return frames, report


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
        frames, report = _finished_candidate(
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
