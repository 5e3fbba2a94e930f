"""Reading and writing trajectories: the editor's state JSON, ATI track JSON and KJNodes coordinates.

Editor state (version 1) keeps coordinates normalised to the frame (0..1), so a drawing survives a
change of resolution:

    {"version": 1, "tracks": [{"name": "skunk", "color": "#ff6f3c", "subject": "point", "points": 1,
      "spread": 0.025, "interpolation": "catmull_rom", "anchor": false,
      "keypoints": [{"x": 0.5, "y": 0.7, "frame": 0, "hold": 0, "easing": "ease_in_out",
                     "visible": true, "in": [dx, dy], "out": [dx, dy]}]}]}

ATI track JSON is what ComfyUI's WanTrackToVideo reads: a list of tracks, each a list of
{"x", "y"} pixel positions. WanTrackToVideo reads 121 points per track spread evenly over the clip
(shorter tracks are hidden after their end, longer ones cut at 121, which imports read the same way and
report), so exports have 121 points.
KJNodes' spline editor writes the same point lists (or one bare list for a single spline) with the
points spread evenly over the clip; WanMoveTracksFromCoords reads that one point per frame.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from typing import Any

import numpy as np
import torch

from ..shared.text import MAX_NAME_CHARS, TextInputError, load_json_text, quote
from .path import EASINGS, INTERPOLATIONS, Keypoint, Path, TrajectoryError
from .tracks import SUBJECTS, TrackGroup, TrackSet, TrackSpec, build_trackset

STATE_VERSION = 1
ATI_TICKS = 121
MAX_TRACKS = 256
MAX_KEYPOINTS = 4096
MAX_TOTAL_POINTS = 8192  # points followed across all tracks: bounds the work of one evaluation
MAX_KEY_FRAME = 1e6  # keypoint frames and holds, in frames
MAX_HANDLE = 100.0  # bezier handles, in frame widths and heights
TRACK_COLORS = ("#ff6f3c", "#3cb4ff", "#b8e986", "#f5a623", "#bd10e0", "#50e3c2", "#f8e71c", "#ff4f8b")


def default_state_json() -> str:
    """An empty drawing, the editor's starting point."""
    return json.dumps({"version": STATE_VERSION, "tracks": []})


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise TrajectoryError(message)


def _number(value: Any, where: str, lo: float | None = None, hi: float | None = None) -> float:
    _require(
        isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value),
        f"{where} must be a finite number, got {value!r}.",
    )
    if lo is not None and hi is not None:
        _require(lo <= value <= hi, f"{where} is {value!r}, outside {lo:g}..{hi:g}.")
    return float(value)


def _load_json(text: str, what: str) -> Any:
    try:
        return load_json_text(text, what)
    except TextInputError as error:
        raise TrajectoryError(str(error)) from None


def parse_state(text: str) -> list[TrackSpec]:
    """Tracks of an editor state JSON, in normalised coordinates, checked field by field."""
    data = _load_json(text if text.strip() else default_state_json(), "The trajectory state")
    _require(isinstance(data, dict), "The trajectory state must be a JSON object with 'version' and 'tracks'.")
    version = data.get("version")
    _require(
        version == STATE_VERSION,
        f"The trajectory state has version {version!r}; this WorldKit reads version {STATE_VERSION}. "
        "Re-draw the tracks or update WorldKit.",
    )
    tracks = data.get("tracks", [])
    _require(isinstance(tracks, list), "The trajectory state's 'tracks' must be a list.")
    _require(len(tracks) <= MAX_TRACKS, f"The trajectory state has {len(tracks)} tracks; the limit is {MAX_TRACKS}.")
    specs = [_parse_track(track, i) for i, track in enumerate(tracks)]
    total = sum(spec.num_points for spec in specs)
    _require(
        total <= MAX_TOTAL_POINTS,
        f"The tracks follow {total} points in all; the limit is {MAX_TOTAL_POINTS}. Lower some tracks' 'points'.",
    )
    names = [s.path.name for s in specs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    _require(not duplicates, f"Track names must be unique; repeated: {', '.join(duplicates)}.")
    return specs


def _parse_track(track: Any, index: int) -> TrackSpec:
    where = f"Track {index + 1}"
    _require(isinstance(track, dict), f"{where} must be a JSON object.")
    name = str(track.get("name", f"track {index + 1}"))
    where = f"Track {index + 1} ({quote(name, 40)})"
    _require(len(name) <= MAX_NAME_CHARS, f"{where}: the name is longer than {MAX_NAME_CHARS} characters.")
    subject = track.get("subject", "point")
    _require(subject in SUBJECTS, f"{where} has subject {subject!r}; use one of {', '.join(SUBJECTS)}.")
    interpolation = track.get("interpolation", "catmull_rom")
    _require(
        interpolation in INTERPOLATIONS,
        f"{where} has interpolation {interpolation!r}; use one of {', '.join(INTERPOLATIONS)}.",
    )
    points = track.get("points", 1)
    _require(
        isinstance(points, int) and 1 <= points <= 1024,
        f"{where}: 'points' must be an integer 1..1024, got {points!r}.",
    )
    keypoints = track.get("keypoints", [])
    _require(isinstance(keypoints, list) and keypoints, f"{where} needs a non-empty 'keypoints' list.")
    _require(len(keypoints) <= MAX_KEYPOINTS, f"{where} has {len(keypoints)} keypoints; the limit is {MAX_KEYPOINTS}.")
    path = Path(
        tuple(_parse_keypoint(kp, f"{where}, keypoint {k + 1}") for k, kp in enumerate(keypoints)), interpolation, name
    )
    return TrackSpec(
        path=path,
        subject=subject,
        num_points=points,
        spread=_number(track.get("spread", 0.025), f"{where}: 'spread'", 0.0, 1.0),
        anchor=bool(track.get("anchor", False)),
        color=str(track.get("color", TRACK_COLORS[index % len(TRACK_COLORS)])),
    )


def _parse_keypoint(kp: Any, where: str) -> Keypoint:
    _require(isinstance(kp, dict), f"{where} must be a JSON object with x, y and frame.")
    frame = kp.get("frame")
    easing = kp.get("easing", "linear")
    _require(easing in EASINGS, f"{where} has easing {easing!r}; use one of {', '.join(EASINGS)}.")
    return Keypoint(
        x=_number(kp.get("x"), f"{where}: x (0..1 across the frame)", 0.0, 1.0),
        y=_number(kp.get("y"), f"{where}: y (0..1 down the frame)", 0.0, 1.0),
        frame=None if frame is None else _number(frame, f"{where}: frame", -MAX_KEY_FRAME, MAX_KEY_FRAME),
        hold=_number(kp.get("hold", 0), f"{where}: hold", 0.0, MAX_KEY_FRAME),
        easing=easing,
        visible=bool(kp.get("visible", True)),
        handle_in=_handle(kp.get("in"), f"{where}: 'in' handle"),
        handle_out=_handle(kp.get("out"), f"{where}: 'out' handle"),
    )


def _handle(value: Any, where: str) -> tuple[float, float] | None:
    if value is None:
        return None
    _require(isinstance(value, list) and len(value) == 2, f"{where} must be [dx, dy].")
    where = f"{where} (frame widths and heights)"
    return (_number(value[0], where, -MAX_HANDLE, MAX_HANDLE), _number(value[1], where, -MAX_HANDLE, MAX_HANDLE))


def dump_state(specs: list[TrackSpec]) -> str:
    """Editor state JSON of tracks in normalised coordinates (the inverse of parse_state)."""
    tracks = []
    for spec in specs:
        keypoints = []
        for kp in spec.path.keypoints:
            entry: dict[str, Any] = {
                "x": kp.x,
                "y": kp.y,
                "frame": kp.frame,
                "hold": kp.hold,
                "easing": kp.easing,
                "visible": kp.visible,
            }
            if kp.handle_in is not None:
                entry["in"] = list(kp.handle_in)
            if kp.handle_out is not None:
                entry["out"] = list(kp.handle_out)
            keypoints.append(entry)
        tracks.append(
            {
                "name": spec.path.name,
                "color": spec.color,
                "subject": spec.subject,
                "points": spec.num_points,
                "spread": spec.spread,
                "interpolation": spec.path.interpolation,
                "anchor": spec.anchor,
                "keypoints": keypoints,
            }
        )
    return json.dumps({"version": STATE_VERSION, "tracks": tracks}, indent=1)


def tracks_from_state(text: str, width: int, height: int, num_frames: int, **options: Any) -> TrackSet:
    """Dense tracks of an editor state JSON at a frame size: the one call other nodes need.

    `options` are build_trackset's: `times` (default every frame; `ati_times(num_frames)` for ATI
    export), `camera` (a CameraMove) and `subject_mask` ([H, W] at the frame size).
    """
    return build_trackset(scale_specs(parse_state(text), width, height), width, height, num_frames, **options)


def scale_specs(specs: list[TrackSpec], sx: float, sy: float) -> list[TrackSpec]:
    """Tracks with keypoints and handles scaled (normalised -> pixels with the frame size, or back)."""

    def scale_handle(h: tuple[float, float] | None) -> tuple[float, float] | None:
        return None if h is None else (h[0] * sx, h[1] * sy)

    out = []
    for spec in specs:
        kps = tuple(
            replace(
                kp,
                x=kp.x * sx,
                y=kp.y * sy,
                handle_in=scale_handle(kp.handle_in),
                handle_out=scale_handle(kp.handle_out),
            )
            for kp in spec.path.keypoints
        )
        out.append(replace(spec, path=replace(spec.path, keypoints=kps)))
    return out


def ati_times(num_frames: int) -> np.ndarray:
    """The 121 clip times (frames) that the points of an ATI track stand for in WanTrackToVideo."""
    return np.linspace(0.0, float(max(num_frames - 1, 0)), ATI_TICKS)


def _point_lists_json(tracks: TrackSet) -> list[list[dict[str, float]]]:
    pts = tracks.points.double().numpy()
    _require(
        bool(np.isfinite(pts).all()),
        "Some track positions are not finite numbers (a keypoint or handle is far outside the frame); "
        "bring the keypoints and handles back near the frame.",
    )
    return [[{"x": round(float(x), 2), "y": round(float(y), 2)} for x, y in pts[:, n]] for n in range(pts.shape[1])]


def ati_json(tracks_at_ticks: TrackSet) -> str:
    """ATI track JSON from tracks evaluated at `ati_times` (one list of 121 points per track).

    ATI JSON has no visibility channel: hidden stretches keep their interpolated positions; use
    TRACKS (WanMoveTrackToVideo) where visibility matters.
    """
    _require(
        tracks_at_ticks.num_frames == ATI_TICKS,
        f"ATI tracks need {ATI_TICKS} samples per track, got {tracks_at_ticks.num_frames}; evaluate at ati_times().",
    )
    return json.dumps(_point_lists_json(tracks_at_ticks))


def kjnodes_coordinates(tracks: TrackSet) -> str:
    """KJNodes / WanMoveTracksFromCoords coordinate string: per track, one {"x", "y"} per frame."""
    return json.dumps(_point_lists_json(tracks))


def _load_point_json(text: str, what: str) -> Any:
    """JSON as written; text with single quotes (as some spline editors write it) only when strict JSON fails,
    so an apostrophe inside a valid JSON string is kept."""
    try:
        return _load_json(text, what)
    except TrajectoryError:
        if not isinstance(text, str) or "'" not in text or '"' in text:
            raise
        return _load_json(text.replace("'", '"'), what)


def parse_point_lists(text: str, width: int, height: int, what: str) -> list[np.ndarray]:
    """Point lists [P, 2] from a JSON list of tracks of {"x", "y"} (or one bare track), in pixels.

    Every point must lie inside the width x height frame: a point outside means the tracks were
    drawn for another frame size, and clamping would move the subject somewhere nobody drew.
    """
    data = _load_point_json(text, what)
    _require(isinstance(data, list) and data, f"{what} must be a non-empty JSON list of tracks.")
    if all(isinstance(p, dict) for p in data):
        data = [data]
    tracks = []
    for t, track in enumerate(data):
        _require(
            isinstance(track, list) and track,
            f'{what}: track {t + 1} must be a non-empty list of {{"x": .., "y": ..}} points.',
        )
        _require(
            not isinstance(track[0], list),
            f"{what}: track {t + 1} is a list of lists; batched track sets are not supported, pass one set of tracks.",
        )
        points = np.zeros((len(track), 2))
        for p, point in enumerate(track):
            where = f"{what}: track {t + 1}, point {p + 1}"
            _require(
                isinstance(point, dict) and "x" in point and "y" in point,
                f"{where} must be an object with 'x' and 'y'.",
            )
            x, y = _number(point["x"], f"{where}: x"), _number(point["y"], f"{where}: y")
            _require(
                0 <= x <= width and 0 <= y <= height,
                f"{where} is at ({x:g}, {y:g}), outside the {width}x{height} frame; set width/height to the size the "
                "tracks were drawn on.",
            )
            points[p] = (x, y)
        tracks.append(points)
    return tracks


def specs_from_point_lists(
    tracks: list[np.ndarray],
    frames: list[np.ndarray],
    width: int,
    height: int,
    hide_after_end: list[float | None] | None = None,
) -> list[TrackSpec]:
    """Editable tracks (normalised, linear interpolation) whose keypoints are the imported points."""
    specs = []
    for t, (points, when) in enumerate(zip(tracks, frames, strict=True)):
        kps = [Keypoint(float(x) / width, float(y) / height, float(f)) for (x, y), f in zip(points, when, strict=True)]
        hide_at = hide_after_end[t] if hide_after_end else None
        if hide_at is not None:
            kps.append(Keypoint(kps[-1].x, kps[-1].y, hide_at, visible=False))
        specs.append(TrackSpec(Path(tuple(kps), "linear", f"track {t + 1}"), color=TRACK_COLORS[t % len(TRACK_COLORS)]))
    return specs


def ati_cut_warning(track: int, points: int) -> str:
    """What reading a track of `points` points as WanTrackToVideo does left out."""
    return f"ATI track {track}: {points} points cut to {ATI_TICKS} as ComfyUI's ATI node reads them."


def _ati_point_lists(text: str, width: int, height: int) -> tuple[list[np.ndarray], tuple[str, ...]]:
    """ATI JSON's tracks as WanTrackToVideo reads them (each cut to its first 121 points) and a warning per cut."""
    tracks = parse_point_lists(text, width, height, "The ATI track JSON")
    warnings = tuple(ati_cut_warning(i + 1, len(points)) for i, points in enumerate(tracks) if len(points) > ATI_TICKS)
    return [points[:ATI_TICKS] for points in tracks], warnings


def specs_from_ati(text: str, width: int, height: int, num_frames: int) -> tuple[list[TrackSpec], tuple[str, ...]]:
    """Tracks from ATI JSON, timed as WanTrackToVideo reads it (point j at 121-tick time j), and what was cut."""
    tracks, warnings = _ati_point_lists(text, width, height)
    ticks = ati_times(num_frames)
    frames = [ticks[: len(points)] for points in tracks]
    hide = [float(ticks[len(points)]) if len(points) < ATI_TICKS else None for points in tracks]
    return specs_from_point_lists(tracks, frames, width, height, hide), warnings


def trackset_from_ati(text: str, width: int, height: int, num_frames: int) -> TrackSet:
    """ATI JSON as a TrackSet at ATI's 121 ticks over the clip, exactly as WanTrackToVideo pads and cuts it: a
    short track is hidden (at 0, 0) after its end, a long one keeps its first 121 points (its `warnings` say so)."""
    tracks, warnings = _ati_point_lists(text, width, height)
    points = torch.zeros((ATI_TICKS, len(tracks), 2), dtype=torch.float64)
    visible = torch.zeros((ATI_TICKS, len(tracks)), dtype=torch.bool)
    for n, track in enumerate(tracks):
        points[: len(track), n] = torch.from_numpy(track)
        visible[: len(track), n] = True
    groups = [
        TrackGroup(f"track {n + 1}", "subject", TRACK_COLORS[n % len(TRACK_COLORS)], n, n + 1)
        for n in range(len(tracks))
    ]
    times = ati_times(num_frames)
    return TrackSet(points, visible, width, height, groups, times=times, source="ati", warnings=warnings)


def specs_from_kjnodes(text: str, width: int, height: int, num_frames: int) -> list[TrackSpec]:
    """Tracks from KJNodes spline-editor coordinates, each spline's points spread evenly over the clip."""
    tracks = parse_point_lists(text, width, height, "The KJNodes coordinates")
    frames = [np.linspace(0.0, float(num_frames - 1), len(points)) for points in tracks]
    return specs_from_point_lists(tracks, frames, width, height)
