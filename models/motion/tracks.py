"""From drawn paths to dense point tracks: subjects (point, spread, cluster, mask), anchors, camera grids.

The result, a `TrackSet`, is the one thing every output format is made from: ComfyUI's TRACKS dict
(WanMoveTrackToVideo), ATI track JSON (WanTrackToVideo), KJNodes coordinates, the preview and the
subject mask.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from .path import Path, TrajectoryError, ease, evaluate_path

SUBJECTS = ("point", "spread", "cluster", "mask")
CAMERA_MOVES = ("none", "pan", "tilt", "dolly", "zoom", "orbit", "truck")
ROLES = ("subject", "anchor", "camera")


@dataclass(frozen=True)
class TrackSpec:
    """One drawn track and how many points ride on it.

    `subject`: "point" (one point), "spread" (points on a line across the direction of travel, as
    ComfyUI's GenerateTracks lays them out), "cluster" (points filling a disc) or "mask" (points
    sampled inside the subject mask, moving rigidly with the path). `spread` is a fraction of the
    mean frame side: the spacing for "spread", the radius for "cluster". An `anchor` stays at its
    first keypoint (moving only with the camera) to hold that region still.
    """

    path: Path
    subject: str = "point"
    num_points: int = 1
    spread: float = 0.025
    anchor: bool = False
    color: str = "#ff6f3c"


@dataclass(frozen=True)
class CameraMove:
    """A camera move rendered as a grid of background tracks.

    `amount` is signed: the fraction of the frame the view pans/tilts/trucks/orbits, or the relative
    scale change for zoom/dolly (0.2 = 20 % closer). The move runs from `start_frame` to `end_frame`
    (None: the last frame) with the given easing. `grid` is the number of grid columns.
    """

    kind: str = "none"
    amount: float = 0.2
    easing: str = "ease_in_out"
    grid: int = 8
    start_frame: float = 0.0
    end_frame: float | None = None


@dataclass(frozen=True)
class TrackGroup:
    """A named run of columns in a TrackSet: all points of one drawn track, or the camera grid."""

    name: str
    role: str
    color: str
    start: int
    stop: int
    subject: str = "point"


@dataclass
class TrackSet:
    """Dense tracks: positions [T, N, 2] in pixels and visibility [T, N], grouped by drawn track.

    Row t stands for clip frame `times[t]` (frame t when `times` is None: one row per frame). `source`
    says what the tracks were made from: "tracks" (drawn, or ComfyUI TRACKS) or "ati" (ATI track JSON,
    whose 121 points are spread over the clip), which decides the family Bind Shot picks in auto.
    `warnings` say what reading the tracks left out (an ATI track cut to 121 points), for the user's report.
    """

    points: torch.Tensor
    visible: torch.Tensor
    width: int
    height: int
    groups: list[TrackGroup] = field(default_factory=list)
    times: np.ndarray | None = None
    source: str = "tracks"
    warnings: tuple[str, ...] = ()

    @property
    def num_frames(self) -> int:
        return int(self.points.shape[0])

    @property
    def num_points(self) -> int:
        return int(self.points.shape[1])

    def columns(self, role: str) -> list[int]:
        """Column indices of every point whose group has this role."""
        return [c for g in self.groups if g.role == role for c in range(g.start, g.stop)]

    def to_tracks_dict(self) -> dict[str, torch.Tensor]:
        """ComfyUI's TRACKS layout, as GenerateTracks outputs it and WanMoveTrackToVideo reads it."""
        return tracks_value(self.points, self.visible)

    def row_times(self) -> np.ndarray:
        return np.arange(self.num_frames, dtype=np.float64) if self.times is None else self.times

    def at_times(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(positions [len, N, 2] float64, visibility [len, N]) at clip times; rows are linearly interpolated
        and a point is visible where the row at or before the time says so. Exact rows are returned as they are."""
        rows = self.row_times()
        points, visible = self.points.double().numpy(), self.visible.bool().numpy()
        if rows.shape == times.shape and np.array_equal(rows, times):
            return points, visible
        clipped = np.clip(times, rows[0], rows[-1])
        moved = np.stack(
            [
                np.stack([np.interp(clipped, rows, points[:, n, axis]) for axis in range(2)], axis=-1)
                for n in range(self.num_points)
            ],
            axis=1,
        )
        before = np.clip(np.searchsorted(rows, clipped, side="right") - 1, 0, len(rows) - 1)
        return moved.reshape(len(times), self.num_points, 2), visible[before]

    def at_frames(self, num_frames: int) -> TrackSet:
        """One row per clip frame (self when it already has them)."""
        if self.times is None:
            return self
        points, visible = self.at_times(np.arange(num_frames, dtype=np.float64))
        return TrackSet(torch.from_numpy(points), torch.from_numpy(visible), self.width, self.height, self.groups)

    def ati_samples(self, ticks: np.ndarray) -> np.ndarray:
        """[N, len(ticks), 1, 3] float32 (x, y, visible) at ATI's ticks, the array WanTrackToVideo builds from JSON."""
        points, visible = self.at_times(ticks)
        samples = np.concatenate([points, visible[..., None].astype(np.float64)], axis=-1).astype(np.float32)
        return np.ascontiguousarray(samples.transpose(1, 0, 2)[:, :, None, :])

    @classmethod
    def from_tracks_dict(cls, tracks: dict, width: int, height: int, name: str = "tracks") -> TrackSet:
        """Wrap a TRACKS dict (e.g. from GenerateTracks) so it can be previewed, exported or bound."""
        path, visible = read_tracks(tracks)
        group = TrackGroup(name, "subject", "#ff6f3c", 0, int(path.shape[1]))
        return cls(path, visible, width, height, [group])


def read_tracks(tracks: object) -> tuple[torch.Tensor, torch.Tensor]:
    """Positions [frames, points, 2] (float, CPU) and visibility [frames, points] (bool, CPU) of a TRACKS value.

    Without 'track_visibility' every point is visible; one visibility column (GenerateTracks writes one under a
    track mask) holds for every point.
    """
    path = tracks.get("track_path") if isinstance(tracks, dict) else None
    if not isinstance(path, torch.Tensor):
        raise TrajectoryError("tracks must be a TRACKS value with a 'track_path' tensor [frames, points, 2].")
    if path.ndim != 3 or path.shape[-1] != 2 or path.shape[0] == 0 or path.shape[1] == 0:
        raise TrajectoryError(f"TRACKS 'track_path' must be [frames, points, 2]; got {tuple(path.shape)}.")
    path = path.float().cpu()
    if not torch.isfinite(path).all():
        raise TrajectoryError("TRACKS 'track_path' holds NaN or infinite positions; rebuild the tracks.")
    visible = tracks.get("track_visibility")
    if visible is None:
        return path, torch.ones(path.shape[:2], dtype=torch.bool)
    visible = torch.as_tensor(visible).cpu().bool()
    frames, points = path.shape[:2]
    if visible.numel() not in (frames, frames * points):
        raise TrajectoryError(
            f"TRACKS 'track_visibility' is {tuple(visible.shape)} but 'track_path' needs {(frames, points)} "
            f"or one column {(frames, 1)}."
        )
    return path, visible.reshape(frames, -1).expand(frames, points).contiguous()


def tracks_value(points: torch.Tensor, visible: torch.Tensor) -> dict[str, torch.Tensor]:
    """A TRACKS value from positions [frames, points, 2] and visibility [frames, points]."""
    return {"track_path": points.float().contiguous(), "track_visibility": visible.bool().contiguous()}


def concat_tracksets(sets: list[TrackSet]) -> TrackSet:
    """Join track sets over the point axis (same frames and frame size)."""
    if not sets:
        raise TrajectoryError("Nothing to combine: no tracks were drawn and no camera move was chosen.")
    first = sets[0]
    groups: list[TrackGroup] = []
    offset = 0
    for s in sets:
        if s.points.shape[0] != first.points.shape[0] or (s.width, s.height) != (first.width, first.height):
            raise TrajectoryError(
                f"Cannot combine tracks of {s.points.shape[0]} frames at {s.width}x{s.height} with "
                f"{first.points.shape[0]} frames at {first.width}x{first.height}; use one frame count and size."
            )
        groups += [replace(g, start=g.start + offset, stop=g.stop + offset) for g in s.groups]
        offset += s.num_points
    points = torch.cat([s.points for s in sets], dim=1)
    visible = torch.cat([s.visible for s in sets], dim=1)
    return TrackSet(points, visible, first.width, first.height, groups)


def spread_offsets(count: int, spacing_px: float) -> np.ndarray:
    """Signed offsets across the direction of travel, centred, as GenerateTracks spaces its tracks."""
    return (np.arange(count) - (count - 1) / 2.0) * spacing_px


def cluster_offsets(count: int, radius_px: float) -> np.ndarray:
    """[count, 2] offsets evenly filling a disc (a sunflower spiral; the first point is the centre)."""
    golden = np.pi * (3.0 - np.sqrt(5.0))
    k = np.arange(count)
    r = radius_px * np.sqrt(k / max(count - 1, 1))
    return np.stack([r * np.cos(k * golden), r * np.sin(k * golden)], axis=1)


def sample_mask_points(mask: torch.Tensor, count: int) -> np.ndarray:
    """`count` well-spread pixel positions [count, 2] (x, y) inside a [H, W] mask (farthest-point sampling).

    Deterministic: starts from the mask pixel nearest its centroid.
    """
    if mask.ndim != 2:
        raise TrajectoryError(f"The subject mask must be one [H, W] frame, got shape {tuple(mask.shape)}.")
    ys, xs = torch.nonzero(mask > 0.5, as_tuple=True)
    if ys.numel() == 0:
        raise TrajectoryError(
            "The subject mask is empty (no pixel above 0.5); paint the subject or use another subject mode."
        )
    candidates = torch.stack([xs, ys], dim=1).double() + 0.5
    stride = max(1, candidates.shape[0] // 20000)
    candidates = candidates[::stride]
    centroid = candidates.mean(dim=0)
    chosen = [int(torch.argmin(((candidates - centroid) ** 2).sum(dim=1)))]
    nearest = ((candidates - candidates[chosen[0]]) ** 2).sum(dim=1)
    for _ in range(min(count, candidates.shape[0]) - 1):
        nxt = int(torch.argmax(nearest))
        chosen.append(nxt)
        nearest = torch.minimum(nearest, ((candidates - candidates[nxt]) ** 2).sum(dim=1))
    return candidates[chosen].numpy()


def subject_tracks(
    spec: TrackSpec,
    times: np.ndarray,
    num_frames: int,
    width: int,
    height: int,
    subject_mask: torch.Tensor | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Points [T, P, 2] and visibility [T, P] of one drawn track at `times`, before any camera move."""
    if spec.subject not in SUBJECTS:
        raise TrajectoryError(
            f"Track {spec.path.name!r}: unknown subject {spec.subject!r}; use one of {', '.join(SUBJECTS)}."
        )
    if spec.num_points < 1:
        raise TrajectoryError(f"Track {spec.path.name!r}: num_points must be at least 1, got {spec.num_points}.")
    path = spec.path
    if spec.anchor:
        path = replace(path, keypoints=path.keypoints[:1])
    samples = evaluate_path(path, times, num_frames)
    centre = samples.positions[:, None, :]
    scale = spec.spread * (width + height) / 2.0
    count = spec.num_points if spec.subject != "point" else 1
    if spec.subject == "point":
        points = centre.copy()
    elif spec.subject == "spread":
        perpendicular = np.stack([-samples.directions[:, 1], samples.directions[:, 0]], axis=1)
        points = centre + perpendicular[:, None, :] * spread_offsets(count, scale)[None, :, None]
    elif spec.subject == "cluster":
        points = centre + cluster_offsets(count, scale)[None]
    else:
        if subject_mask is None:
            raise TrajectoryError(
                f"Track {spec.path.name!r} samples its points inside the subject mask, but no subject_mask is "
                f"connected; "
                "connect a MASK or set the track's subject to point, spread or cluster."
            )
        if tuple(subject_mask.shape[-2:]) != (height, width):
            raise TrajectoryError(
                f"The subject mask is {subject_mask.shape[-1]}x{subject_mask.shape[-2]} but the frame is "
                f"{width}x{height}; "
                "resize it to the frame size."
            )
        inside = sample_mask_points(subject_mask.reshape(-1, height, width)[0], count)
        origin = np.array([path.keypoints[0].x, path.keypoints[0].y])
        points = inside[None] + (samples.positions - origin)[:, None, :]
    visible = np.repeat(samples.visible[:, None], points.shape[1], axis=1)
    return points, visible


def camera_transform(
    move: CameraMove, times: np.ndarray, num_frames: int, base: np.ndarray, width: int, height: int
) -> np.ndarray:
    """Where static scene points `base` [P, 2] appear at each time [T, P, 2] under a camera move.

    Without depth, the lower part of the frame is taken as nearer (a ground plane): truck, dolly and
    orbit give near points more motion than far ones (parallax); pan, tilt and zoom move all alike.
    """
    if move.kind not in CAMERA_MOVES:
        raise TrajectoryError(f"Unknown camera move {move.kind!r}; use one of {', '.join(CAMERA_MOVES)}.")
    base = np.asarray(base, dtype=np.float64)
    if move.kind == "none":
        return np.repeat(base[None], len(times), axis=0)
    end = float(num_frames - 1) if move.end_frame is None else float(move.end_frame)
    if not 0 <= move.start_frame < end <= num_frames - 1 and num_frames > 1:
        raise TrajectoryError(
            f"The camera move runs from frame {move.start_frame:g} to {end:g}; it must start before it ends, "
            f"within the clip's frames 0 to {num_frames - 1}."
        )
    span = max(end - move.start_frame, 1e-9)
    progress = ease(move.easing, (np.asarray(times, dtype=np.float64) - move.start_frame) / span)[:, None, None]
    centre = np.array([width / 2.0, height / 2.0])
    nearness = 0.4 + 0.6 * np.clip(base[:, 1] / max(height, 1), 0.0, 1.0)  # 0.4 far (top) .. 1.0 near (bottom)
    offset = base - centre
    a = move.amount
    shift = np.zeros((1, base.shape[0], 2))
    if move.kind == "pan":
        shift[..., 0] = -a * width
    elif move.kind == "tilt":
        shift[..., 1] = -a * height
    elif move.kind == "truck":
        shift[..., 0] = -a * width * nearness
    elif move.kind == "orbit":
        shift[..., 0] = -a * width * (nearness - 0.7) / 0.3
    elif move.kind == "zoom":
        shift = offset[None] * a
    elif move.kind == "dolly":
        shift = offset[None] * (a * nearness / 0.7)[None, :, None]
    return base[None] + progress * shift


def camera_grid(width: int, height: int, columns: int) -> np.ndarray:
    """Cell-centred grid points [P, 2] covering the frame, about square cells."""
    if columns < 2:
        raise TrajectoryError(f"The camera grid needs at least 2 columns, got {columns}.")
    rows = max(2, round(columns * height / width))
    xs = (np.arange(columns) + 0.5) * width / columns
    ys = (np.arange(rows) + 0.5) * height / rows
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


def build_trackset(
    specs: list[TrackSpec],
    width: int,
    height: int,
    num_frames: int,
    times: np.ndarray | None = None,
    camera: CameraMove | None = None,
    subject_mask: torch.Tensor | None = None,
    on_track: Callable[[], None] | None = None,
) -> TrackSet:
    """Every drawn track plus the camera grid, evaluated at `times` (default: each frame).

    `on_track` is called before each track is evaluated (the node passes its interrupt check).

    Subject tracks are drawn in screen space and kept as drawn. Anchors are scene points: under a
    camera move they travel with the scene. Camera grid points that start on a subject are left out,
    so the subject's motion and the background's never pull the same place two ways.
    A point is visible where its keypoint says so and it lies inside the frame.
    """
    if width < 1 or height < 1:
        raise TrajectoryError(f"Frame size must be positive, got {width}x{height}.")
    times = np.arange(num_frames, dtype=np.float64) if times is None else np.asarray(times, dtype=np.float64)
    camera = camera or CameraMove()
    blocks: list[tuple[np.ndarray, np.ndarray, TrackGroup]] = []
    subject_starts: list[np.ndarray] = []
    for spec in specs:
        if on_track is not None:
            on_track()
        points, visible = subject_tracks(spec, times, num_frames, width, height, subject_mask)
        if spec.anchor:
            points = camera_transform(camera, times, num_frames, points[0], width, height)
        else:
            subject_starts.append(points[0])
        role = "anchor" if spec.anchor else "subject"
        blocks.append((points, visible, TrackGroup(spec.path.name, role, spec.color, 0, points.shape[1], spec.subject)))
    if camera.kind != "none":
        grid = camera_grid(width, height, camera.grid)
        if subject_starts:
            keep_out = 0.5 * width / camera.grid
            starts = np.concatenate(subject_starts)
            distance = np.linalg.norm(grid[:, None, :] - starts[None, :, :], axis=2).min(axis=1)
            grid = grid[distance > keep_out]
        points = camera_transform(camera, times, num_frames, grid, width, height)
        blocks.append(
            (points, np.ones(points.shape[:2], dtype=bool), TrackGroup("camera", "camera", "#8fd3ff", 0, len(grid)))
        )
    sets = []
    for points, visible, group in blocks:
        inside = (points[..., 0] >= 0) & (points[..., 0] < width) & (points[..., 1] >= 0) & (points[..., 1] < height)
        sets.append(
            TrackSet(
                torch.from_numpy(points.astype(np.float32)),
                torch.from_numpy(visible & inside),
                width,
                height,
                [replace(group, start=0, stop=points.shape[1])],
            )
        )
    return concat_tracksets(sets)
