"""The storyboard: one row per rendered shot, built from the World Shot Sampler's report.

The report is the record (the panel in the editor, a headless or farm run's saved report and a shot-frames file
all hold the same JSON); a row is what a director reads from it: the chosen candidate and its score against
each entity, the other candidates with their scores and the step the search stopped them at, the family and
model, where a long shot's segments meet, the frames to show (first, middle, last) and what to look at twice.

web/js/storyboard/report.js builds the same rows from the same report in the browser (a dropped file has no
server behind it); tests/data/storyboard_fixtures.json holds cases both sides are checked against, so any
message or number here changes there too (``python -m worldkit.tools.storyboard_fixtures``).
"""

from __future__ import annotations

import json
import math
import statistics
from typing import Any

REPORT_FORMAT = "worldkit.shot_report"
REPORT_VERSION = 1  # raise when a reader of the previous version would misread a report
STORYBOARD_VERSION = 1
COLOR_OFFSET_WARNING = 2.0  # ΔE76 over a seam, before correction, worth a look (about a just-noticeable step)
FAR_BELOW = 0.15  # a chosen score this far under the median of the other shots' is flagged


class ReportError(ValueError):
    """The text is not a report this storyboard reads; the message says why and what to do."""


def report_header(model: str, low_noise_model: str | None = None) -> dict[str, Any]:
    """The keys that make a sampler report recognisable and versioned, and the model it was rendered with: both of
    Wan 2.2's experts, high-noise first, when two rendered it."""
    if low_noise_model is not None:
        model = f"{model} (high-noise expert) + {low_noise_model} (low-noise expert)"
    return {"format": REPORT_FORMAT, "version": REPORT_VERSION, "model": model}


def thumbnail_frames(frame_count: int) -> list[int]:
    """The first, middle and last frame of a shot (fewer when the shot is shorter)."""
    return sorted({0, frame_count // 2, frame_count - 1}) if frame_count > 0 else []


def parse_report(text: str) -> dict[str, Any]:
    """A report from its JSON text; ReportError when it is not JSON or not a report this version reads."""
    try:
        report = json.loads(text)
    except (ValueError, RecursionError):
        raise ReportError("This is not a World Shot Sampler report: the text is not JSON.") from None
    return check_report(report)


def check_report(report: Any) -> dict[str, Any]:
    """The report itself when its format and version are ones this storyboard reads."""
    if not isinstance(report, dict) or not isinstance(report.get("shots"), list):
        raise ReportError("This is not a World Shot Sampler report: it has no list of shots.")
    if report.get("format", REPORT_FORMAT) != REPORT_FORMAT:
        raise ReportError(f"This is not a World Shot Sampler report: its format is not {REPORT_FORMAT}.")
    version = report.get("version", REPORT_VERSION)  # reports from before the version field read as version 1
    if not _is_int(version) or version < 1:
        raise ReportError("The report is damaged: its version is not a whole number from 1.")
    if version > REPORT_VERSION:
        raise ReportError(
            f"This report is version {version}, written by a newer WorldKit; this storyboard reads up to version "
            f"{REPORT_VERSION}. Update WorldKit to open it."
        )
    return report


def build_storyboard(report: dict[str, Any]) -> dict[str, Any]:
    """The storyboard of a checked report: a row per shot in the order rendered; ReportError names a damaged shot."""
    check_report(report)
    boundaries = report.get("boundaries")
    rows = [
        _row(
            shot,
            position,
            boundaries[position] if isinstance(boundaries, list) and position < len(boundaries) else None,
        )
        for position, shot in enumerate(report["shots"])
    ]
    _flag_far_below(rows)
    return {
        "version": STORYBOARD_VERSION,
        "model": _text(report.get("model")),
        "seed": report.get("seed") if _is_int(report.get("seed")) else None,
        "candidates": report.get("candidates") if _is_int(report.get("candidates")) else None,
        "select": _text(report.get("select")),
        "takes": _text(report.get("takes")),
        "fps": _number(report.get("fps")),
        "search": _text(report.get("search")),
        "rows": rows,
    }


def _row(shot: Any, position: int, boundary: Any) -> dict[str, Any]:
    label = f"shot {position + 1} of the report"
    if not isinstance(shot, dict):
        raise ReportError(f"The report is damaged: {label} is not an object.")
    candidates = shot.get("candidates")
    if not isinstance(candidates, list) or not candidates or not all(isinstance(c, dict) for c in candidates):
        raise ReportError(f"The report is damaged: {label} has no candidates.")
    chosen = shot.get("chosen")
    numbers = [c.get("candidate") for c in candidates]
    if not all(_is_int(n) for n in numbers) or not _is_int(chosen) or chosen + 1 not in numbers:
        raise ReportError(f"The report is damaged: {label} does not say which of its candidates was kept.")
    if not _is_int(shot.get("frames")) or shot["frames"] < 1:
        raise ReportError(f"The report is damaged: {label} has no frame count.")
    kept = candidates[numbers.index(chosen + 1)]
    bleed = kept.get("reference_bleed_frames_dropped")
    bleed = bleed if _is_int(bleed) else 0
    segments = [s for s in kept.get("segments") or [] if isinstance(s, dict)]
    early = _early_scores(shot.get("search"))
    number = shot.get("shot") + 1 if _is_int(shot.get("shot")) else position + 1
    return {
        "shot": number,
        "name": _text(shot.get("name")),
        "prompt": _text(shot.get("prompt")),
        "family": _text(shot.get("family")),
        "frames": shot["frames"],
        "start": boundary.get("start") if isinstance(boundary, dict) and _is_int(boundary.get("start")) else None,
        "chosen": chosen + 1,
        "seed": kept.get("seed") if _is_int(kept.get("seed")) else None,
        "score": _number(kept.get("score")),
        "references": _reference_scores(shot.get("entities"), kept.get("scores")),
        "candidates": [_candidate(c, c is kept, early) for c in candidates],
        "seams": [s["start"] - bleed for s in segments if _is_int(s.get("start")) and s["start"] > 0],
        "thumbnails": thumbnail_frames(shot["frames"]),
        "warnings": _warnings(bleed, segments),
    }


def _candidate(candidate: dict[str, Any], chosen: bool, early: dict[tuple[int, int], float]) -> dict[str, Any]:
    """A candidate's score: its final one, or for one the search stopped, its score at that check; and its score
    at the last check it was judged at (a lone survivor of the search has no final score, only that one)."""
    pruned = candidate.get("pruned_at_step")
    pruned = pruned if _is_int(pruned) else None
    number = candidate["candidate"]
    score = _number(candidate.get("score"))
    if pruned is not None:
        score = early.get((pruned, number))
    judged = [step for step, judged_number in early if judged_number == number]
    seed = candidate.get("seed")
    return {
        "candidate": number,
        "seed": seed if _is_int(seed) else None,
        "score": score,
        "chosen": chosen,
        "pruned_at_step": pruned,
        "early_step": max(judged) if judged else None,
        "early_score": early[(max(judged), number)] if judged else None,
    }


def _early_scores(search: Any) -> dict[tuple[int, int], float]:
    """(check step, candidate number) -> the candidate's early score at that check."""
    found: dict[tuple[int, int], float] = {}
    checks = search.get("checks") if isinstance(search, dict) else None
    for check in checks if isinstance(checks, list) else []:
        if not isinstance(check, dict) or not _is_int(check.get("step")):
            continue
        scores = check.get("early_scores")
        for index, value in enumerate(scores if isinstance(scores, list) else []):
            if _number(value) is not None:
                found[(check["step"], index + 1)] = value
    return found


def _reference_scores(entities: Any, scores: Any) -> list[dict[str, Any]]:
    """Each entity of the shot with the kept candidate's identity score against it (None when not scored)."""
    references = scores.get("references") if isinstance(scores, dict) else None
    scored = {
        entry["name"]: _number(entry.get("identity"))
        for entry in (references if isinstance(references, list) else [])
        if isinstance(entry, dict) and isinstance(entry.get("name"), str)
    }
    names = [name for name in (entities if isinstance(entities, list) else []) if isinstance(name, str)]
    names += [name for name in scored if name not in names]
    return [{"name": name, "score": scored.get(name)} for name in names]


def _warnings(bleed: int, segments: list[dict[str, Any]]) -> list[str]:
    warnings = []
    if bleed > 0:
        warnings.append(f"{bleed} leading frame(s) copied a reference view and were dropped")
    for segment in segments:
        raw, corrected = _number(segment.get("overlap_lab_offset_raw")), segment.get("overlap_lab_offset_corrected")
        if raw is not None and raw >= COLOR_OFFSET_WARNING:
            after = f", {corrected:.1f} after correction" if _number(corrected) is not None else ""
            warnings.append(f"colour offset ΔE {raw:.1f} at the seam of segment {segment.get('index')}{after}")
    return warnings


def _flag_far_below(rows: list[dict[str, Any]]) -> None:
    """Warn on a shot whose kept score is far under the median of the other shots' (needs two others)."""
    for row in rows:
        others = [other["score"] for other in rows if other is not row and other["score"] is not None]
        if row["score"] is None or len(others) < 2:
            continue
        median = statistics.median(others)
        if row["score"] < median - FAR_BELOW:
            row["warnings"].append(f"score {row['score']:.3f} is far below the other shots' median {median:.3f}")


def _is_int(value: Any) -> bool:
    return type(value) is int


def _number(value: Any) -> float | int | None:
    return value if type(value) in (int, float) and math.isfinite(value) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
