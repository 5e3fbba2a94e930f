"""Keypoint paths: timing, easing and interpolation of one drawn track, evaluated at any time.

Every segment between two keypoints is a cubic Bézier, whichever interpolation the track uses
(linear, centripetal Catmull-Rom, Bézier with handles), so a single evaluator serves all of them
and a path passes exactly through each keypoint at its frame (the Bernstein form at u=0 returns the
control point itself).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

EASINGS = ("linear", "ease_in", "ease_out", "ease_in_out", "hold")
INTERPOLATIONS = ("linear", "catmull_rom", "bezier")


class TrajectoryError(ValueError):
    """A trajectory that cannot be evaluated; the message says what to change."""


@dataclass(frozen=True)
class Keypoint:
    """A place the subject must be at a frame.

    Coordinates are pixels of the output frame. `frame` None means "time me from my neighbours"
    (constant speed along the path). `hold` frames are spent standing at this keypoint before moving
    on; `easing` shapes the move from this keypoint to the next; `visible` applies from this
    keypoint until the next. `handle_in`/`handle_out` are Bézier handle offsets in pixels.
    """

    x: float
    y: float
    frame: float | None = None
    hold: float = 0.0
    easing: str = "linear"
    visible: bool = True
    handle_in: tuple[float, float] | None = None
    handle_out: tuple[float, float] | None = None


@dataclass(frozen=True)
class Path:
    """An ordered set of keypoints and the curve family that joins them."""

    keypoints: tuple[Keypoint, ...]
    interpolation: str = "catmull_rom"
    name: str = "track"


def ease(name: str, u: np.ndarray) -> np.ndarray:
    """Map linear progress u in [0, 1] to eased progress; the curves match ComfyUI's GenerateTracks."""
    u = np.clip(np.asarray(u, dtype=np.float64), 0.0, 1.0)
    if name == "linear":
        return u
    if name == "ease_in":
        return u * u
    if name == "ease_out":
        return 1.0 - (1.0 - u) ** 2
    if name == "ease_in_out":
        return u * u * (3.0 - 2.0 * u)
    if name == "hold":
        return np.where(u >= 1.0, 1.0, 0.0)
    raise TrajectoryError(f"Unknown easing {name!r}; use one of {', '.join(EASINGS)}.")


def resolve_frames(path: Path, num_frames: int) -> np.ndarray:
    """The frame of every keypoint: given frames kept, missing ones timed at constant speed.

    A missing first frame is 0, a missing last frame is the clip's last frame; interior gaps are
    filled in proportion to the straight-line distance between keypoints (evenly where two
    keypoints (nearly) coincide, so every keypoint keeps a frame of its own).
    """
    kps = path.keypoints
    if not kps:
        raise TrajectoryError(f"Track {path.name!r} has no keypoints; add at least one or delete the track.")
    if num_frames < 1:
        raise TrajectoryError(f"num_frames must be at least 1, got {num_frames}.")
    frames = [kp.frame for kp in kps]
    if frames[0] is None:
        frames[0] = 0.0
    if len(frames) > 1 and frames[-1] is None:
        frames[-1] = float(num_frames - 1)
    known = [i for i, f in enumerate(frames) if f is not None]
    for a, b in itertools.pairwise(known):
        if b - a < 2:
            continue
        pts = np.array([[kps[i].x, kps[i].y] for i in range(a, b + 1)], dtype=np.float64)
        steps = np.linalg.norm(np.diff(pts, axis=0), axis=1)
        cumulative = np.cumsum(steps)
        distinct = cumulative[-1] > 0 and np.all(steps >= 1e-3 * cumulative[-1] / len(steps))
        share = cumulative / cumulative[-1] if distinct else np.arange(1, b - a + 1) / (b - a)
        for k in range(a + 1, b):
            frames[k] = frames[a] + (frames[b] - frames[a]) * share[k - a - 1]
    resolved = np.array(frames, dtype=np.float64)
    _check_timing(path, resolved, num_frames)
    return resolved


def _check_timing(path: Path, frames: np.ndarray, num_frames: int) -> None:
    last = num_frames - 1
    for i, (kp, frame) in enumerate(zip(path.keypoints, frames, strict=True)):
        where = f"keypoint {i + 1} of track {path.name!r}"
        values = (kp.x, kp.y, frame, kp.hold)
        if not all(math.isfinite(v) for v in values):
            raise TrajectoryError(f"{where} has a non-finite coordinate, frame or hold ({values}); use plain numbers.")
        if frame < 0 or frame > last:
            raise TrajectoryError(
                f"{where} is at frame {frame:g} but the clip has {num_frames} frames (0 to {last}); "
                "move the keypoint or raise num_frames."
            )
        if kp.hold < 0:
            raise TrajectoryError(f"{where} has a negative hold ({kp.hold:g}); holds count frames and must be >= 0.")
        if kp.easing not in EASINGS:
            raise TrajectoryError(f"{where} has unknown easing {kp.easing!r}; use one of {', '.join(EASINGS)}.")
        if i + 1 < len(frames):
            if frames[i + 1] <= frame:
                raise TrajectoryError(
                    f"{where} is at frame {frame:g} and the next one at {frames[i + 1]:g}; "
                    "keypoint frames must increase along a track."
                )
            if frame + kp.hold > frames[i + 1]:
                raise TrajectoryError(
                    f"{where} holds {kp.hold:g} frames from frame {frame:g}, past the next keypoint at "
                    f"frame {frames[i + 1]:g}; shorten the hold or move the next keypoint later."
                )


def bezier_controls(path: Path) -> np.ndarray:
    """Control points [segments, 4, 2] of the cubic Bézier joining each pair of keypoints."""
    if path.interpolation not in INTERPOLATIONS:
        raise TrajectoryError(
            f"Track {path.name!r} has unknown interpolation {path.interpolation!r}; "
            f"use one of {', '.join(INTERPOLATIONS)}."
        )
    pts = np.array([[kp.x, kp.y] for kp in path.keypoints], dtype=np.float64)
    n = len(pts)
    if n < 2:
        return np.zeros((0, 4, 2))
    if path.interpolation == "linear":
        c1 = pts[:-1] + (pts[1:] - pts[:-1]) / 3.0
        c2 = pts[1:] - (pts[1:] - pts[:-1]) / 3.0
    else:
        out_tangent, in_tangent = _catmull_rom_tangents(pts)
        c1 = pts[:-1] + out_tangent / 3.0
        c2 = pts[1:] - in_tangent / 3.0
        if path.interpolation == "bezier":
            for i, kp in enumerate(path.keypoints):
                if kp.handle_out is not None and i < n - 1:
                    c1[i] = pts[i] + np.asarray(kp.handle_out, dtype=np.float64)
                if kp.handle_in is not None and i > 0:
                    c2[i - 1] = pts[i] + np.asarray(kp.handle_in, dtype=np.float64)
    return np.stack([pts[:-1], c1, c2, pts[1:]], axis=1)


def _catmull_rom_tangents(pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centripetal Catmull-Rom tangents per segment (no cusps or loops between close keypoints)."""
    padded = np.concatenate([2 * pts[:1] - pts[1:2], pts, 2 * pts[-1:] - pts[-2:-1]])
    knots = np.concatenate([[0.0], np.cumsum(np.maximum(np.linalg.norm(np.diff(padded, axis=0), axis=1) ** 0.5, 1e-6))])
    p0, p1, p2, p3 = padded[:-3], padded[1:-2], padded[2:-1], padded[3:]
    t0, t1, t2, t3 = (knots[i : len(knots) - 3 + i, None] for i in range(4))
    m1 = (t2 - t1) * ((p1 - p0) / (t1 - t0) - (p2 - p0) / (t2 - t0) + (p2 - p1) / (t2 - t1))
    m2 = (t2 - t1) * ((p2 - p1) / (t2 - t1) - (p3 - p1) / (t3 - t1) + (p3 - p2) / (t3 - t2))
    return m1, m2


def _bezier(ctrl: np.ndarray, u: np.ndarray) -> np.ndarray:
    w = 1.0 - u
    basis = np.stack([w**3, 3 * w * w * u, 3 * w * u * u, u**3], axis=-1)
    return np.einsum("tk,tkd->td", basis, ctrl)


def _bezier_tangent(ctrl: np.ndarray, u: np.ndarray) -> np.ndarray:
    w = (1.0 - u)[:, None]
    uu = u[:, None]
    p0, c1, c2, p1 = ctrl[:, 0], ctrl[:, 1], ctrl[:, 2], ctrl[:, 3]
    return 3 * w * w * (c1 - p0) + 6 * w * uu * (c2 - c1) + 3 * uu * uu * (p1 - c2)


@dataclass(frozen=True)
class PathSamples:
    """A path evaluated at given times."""

    positions: np.ndarray  # [T, 2] pixels
    directions: np.ndarray  # [T, 2] unit direction of travel (last one carried over when standing still)
    visible: np.ndarray  # [T] bool, from the keypoints' visibility flags


def evaluate_path(path: Path, times: np.ndarray, num_frames: int) -> PathSamples:
    """Positions, directions and visibility of a path at `times` (frames, may be fractional)."""
    times = np.asarray(times, dtype=np.float64)
    frames = resolve_frames(path, num_frames)
    kps = path.keypoints
    if len(kps) == 1:
        positions = np.repeat([[kps[0].x, kps[0].y]], len(times), axis=0)
        return PathSamples(positions, _carry_directions(np.zeros_like(positions)), np.full(len(times), kps[0].visible))
    ctrl = bezier_controls(path)
    seg = np.clip(np.searchsorted(frames, times, side="right") - 1, 0, len(kps) - 2)
    start = frames[seg] + np.array([kps[i].hold for i in seg])
    span = frames[seg + 1] - start
    u_linear = np.where(span > 0, (times - start) / np.where(span > 0, span, 1.0), 0.0)
    u = np.empty_like(u_linear)
    for i in np.unique(seg):
        sel = seg == i
        u[sel] = ease(kps[i].easing, u_linear[sel])
    after_end = times >= frames[-1]
    u[after_end] = 1.0
    positions = _bezier(ctrl[seg], u)
    positions[after_end] = (kps[-1].x, kps[-1].y)
    tangents = _bezier_tangent(ctrl[seg], u)
    moving = (u_linear > 0) & (u_linear < 1) & (times < frames[-1])
    tangents[~moving] = 0.0
    visible = np.array([kps[i].visible for i in seg])
    visible[after_end] = kps[-1].visible
    return PathSamples(positions, _carry_directions(tangents), visible)


def _carry_directions(tangents: np.ndarray) -> np.ndarray:
    """Unit directions; where the path stands still, the nearest earlier (else later) direction, else +x."""
    lengths = np.linalg.norm(tangents, axis=1)
    valid = lengths > 1e-9
    directions = np.zeros_like(tangents)
    directions[valid] = tangents[valid] / lengths[valid, None]
    if not valid.any():
        directions[:] = (1.0, 0.0)
        return directions
    index = np.where(valid, np.arange(len(valid)), -1)
    index = np.maximum.accumulate(index)
    index[index < 0] = np.argmax(valid)
    return directions[index]
