"""One candidate of a shot, rendered: every segment bound, sampled, trimmed, decoded and chained, then cut of any
leading copy of a reference view and scored; and, under the consistency search, the first segment of all of a
shot's candidates sampled side by side and judged early.

Frames the binder asks to trim (reference frames prepended to the latent) are cut from the latent before decoding,
so they never reach the output; leading frames that still reproduce a reference view (reference bleed) are
dropped and reported.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F

from ..shots.shot import Shot
from ..world.entities import Reference
from .long_shot import Segment, plan_segments, render_long_shot, segment_seed
from .scoring import ScoreReport
from .search import (
    SearchHooks,
    SearchOutcome,
    check_steps,
    early_frames_at_size,
    early_latent_frames,
    run_search,
)
from .shot_pipeline import BoundShotLike, ShotPipeline, Timer

BLEED_TOLERANCE = 0.03  # mean absolute difference (0..1) under which a frame is a copy of a reference view


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


def score_value(score: ScoreReport | float) -> float:
    value = score.overall if isinstance(score, ScoreReport) else float(score)
    if math.isnan(value):
        raise ValueError("a candidate scored NaN; its frames or its references contain NaNs.")
    return value


def score_json(score: ScoreReport | float) -> dict[str, Any] | float:
    return dataclasses.asdict(score) if isinstance(score, ScoreReport) else float(score)


def render_candidate(
    pipeline: ShotPipeline,
    shot: Shot,
    seed: int,
    start_frames: torch.Tensor | None,
    timer: Timer,
    first_binding: dict[str, BoundShotLike],
    first_latent: torch.Tensor | None = None,
) -> tuple[torch.Tensor, list[dict]]:
    """One candidate of a shot: every segment bound, sampled, trimmed and decoded, then chained.

    The first segment's binding does not depend on the seed, so it is made once per shot (``first_binding``).
    ``first_latent`` is the first segment already sampled (by the search); the later segments continue it.
    """
    sampled: list[torch.Tensor] = []  # the candidate's latents so far, segment by segment, trimmed

    def render_segment(segment: Segment, context: torch.Tensor | None) -> torch.Tensor:
        pipeline.check_interrupt()
        if segment.index == 0:
            if "bound" not in first_binding:
                first_binding["bound"] = timer.timed(
                    "bind_s", pipeline.bind, shot, start_frames, segment.frames, 0, None
                )
            bound = first_binding["bound"]
        else:
            new_from = segment.start + segment.context
            so_far = torch.cat(sampled, dim=2)
            bound = timer.timed("bind_s", pipeline.bind, shot, context, segment.frames, new_from, so_far)
        if segment.index == 0 and first_latent is not None:
            latent = first_latent
        else:
            latent = timer.timed("sample_s", pipeline.sample, shot, bound, segment_seed(seed, segment.index))
        latent = trim_latent(latent, int(bound.trim_latent_frames))
        sampled.append(latent)
        if bound.lead_latent is not None:
            latent = torch.cat((bound.lead_latent.to(latent), latent), dim=2)
        frames = timer.timed("decode_s", pipeline.decode, latent)
        return frames.cpu()

    return render_long_shot(
        shot.frame_count, pipeline.native_frames, render_segment, pipeline.overlap, pipeline.color_strength
    )


def early_judge(
    hooks: SearchHooks,
    trim_frames: int,
    references: Sequence[Reference],
    timer: Timer | None = None,
    seen: list[torch.Tensor] | None = None,
) -> Callable[[torch.Tensor], float]:
    """How the search scores an x0 prediction: reference frames trimmed, a few latent frames decoded cheaply
    at a small size, scored against the shot's references. Each decode is appended to ``seen`` when given."""
    timer = timer or Timer(time.perf_counter)

    def judge(x0: torch.Tensor) -> float:
        latent = early_latent_frames(trim_latent(x0, trim_frames))
        preview = early_frames_at_size(timer.timed("early_preview_s", hooks.preview, latent))
        if seen is not None:
            seen.append(preview)
        return score_value(timer.timed("early_score_s", hooks.score, preview, references))

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
    first_binding["bound"] = bound = pipeline.bind(shot, start_frames, frames, 0, None)
    checks = check_steps(hooks.schedule, hooks.steps, len(seeds))
    timer = Timer(pipeline.clock)
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


def finished_candidate(
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
    timer = Timer(pipeline.clock)
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
        value, details = score_value(score), score_json(score)
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
