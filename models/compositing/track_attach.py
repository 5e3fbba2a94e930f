"""Attach an element to the plate: a point tracked through the plate (pyramidal Lucas-Kanade), or a TRACKS path."""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np
import torch

from ..motion.tracks import read_tracks, tracks_value
from .checks import as_image
from .frame_ops import gray8

MIN_FEATURES = 4


def _features_near(gray: np.ndarray, x: float, y: float, window: int) -> np.ndarray:
    """Good corners within the window around (x, y), [N, 1, 2] float32; the point itself when none are found."""
    mask = np.zeros_like(gray)
    cv2.rectangle(mask, (int(x - window), int(y - window)), (int(x + window), int(y + window)), 255, -1)
    corners = cv2.goodFeaturesToTrack(gray, maxCorners=40, qualityLevel=0.01, minDistance=3, mask=mask)
    if corners is None:
        return np.array([[[x, y]]], np.float32)
    return corners.astype(np.float32)


def track_plate_point(plate: torch.Tensor, x: float, y: float, window: int = 24) -> torch.Tensor:
    """Pixel path [frames, 2] of the plate point at (x, y) in frame 0 (see `track_point`)."""
    plate = as_image("plate", plate)
    return track_point(iter(plate), plate.shape[0], plate.shape[1], plate.shape[2], x, y, window)


def track_point(
    frames: Iterator[torch.Tensor], count: int, height: int, width: int, x: float, y: float, window: int = 24
) -> torch.Tensor:
    """Pixel path [count, 2] of the point at (x, y) in the first of `frames` (read once, in order).

    Corners around the point are followed frame to frame with pyramidal Lucas-Kanade; a forward-backward check
    drops unreliable ones and the point moves by the median displacement of the rest. Corners are re-detected
    around the current point when too few survive.
    """
    if not (0 <= x < width and 0 <= y < height):
        raise ValueError(f"the point to track ({x:.1f}, {y:.1f}) is outside the {width}x{height} plate.")
    lk = {"winSize": (21, 21), "maxLevel": 3, "criteria": (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01)}
    path = np.zeros((count, 2), np.float64)
    path[0] = (x, y)
    previous = gray8(next(frames))
    features = _features_near(previous, x, y, window)
    for index in range(1, count):
        current = gray8(next(frames))
        forward, status, _ = cv2.calcOpticalFlowPyrLK(previous, current, features, None, **lk)
        backward, status_back, _ = cv2.calcOpticalFlowPyrLK(current, previous, forward, None, **lk)
        error = np.linalg.norm((backward - features).reshape(-1, 2), axis=1)
        good = (status.reshape(-1) == 1) & (status_back.reshape(-1) == 1) & (error < 1.0)
        shift = np.median((forward - features).reshape(-1, 2)[good], axis=0) if good.any() else np.zeros(2)
        path[index] = path[index - 1] + shift
        features = forward[good]
        if features.shape[0] < MIN_FEATURES:
            features = _features_near(current, *path[index], window)
        previous = current
    return torch.from_numpy(path).float()


def path_from_tracks(tracks: dict, frames: int, point: int = -1) -> torch.Tensor:
    """A pixel path [frames, 2] from ComfyUI TRACKS: one point's path, or (point = -1) the mean of visible points.

    Frames where no point is visible hold the last known position. A path of a different length is stretched
    over the clip by linear interpolation in time (track lengths often follow the latent frame count).
    """
    coords, visible = read_tracks(tracks)
    if point >= coords.shape[1]:
        raise ValueError(
            f"track point {point} does not exist; the tracks hold {coords.shape[1]} points (0..{coords.shape[1] - 1})."
        )
    if point >= 0:
        coords, visible = coords[:, point : point + 1], visible[:, point : point + 1]
    weights = visible.float()[..., None]
    counts = weights.sum(1)
    path = (coords * weights).sum(1) / counts.clamp(min=1)
    known = counts[:, 0] > 0
    if not known.any():
        raise ValueError("no track point is visible in any frame.")
    last = path[known.nonzero()[0, 0]]
    for index in range(path.shape[0]):  # hold the last known position through invisible frames
        if known[index]:
            last = path[index]
        else:
            path[index] = last
    return resample_path(path, frames)


def resample_path(path: torch.Tensor, frames: int) -> torch.Tensor:
    """Linear-in-time resampling of a path [T, 2] to [frames, 2]."""
    if path.shape[0] == frames:
        return path
    if path.shape[0] == 1:
        return path.expand(frames, 2).clone()
    positions = torch.linspace(0, path.shape[0] - 1, frames)
    low = positions.floor().long().clamp(max=path.shape[0] - 2)
    fraction = (positions - low)[:, None]
    return path[low] * (1 - fraction) + path[low + 1] * fraction


def hold_path(path: torch.Tensor, frames: int) -> torch.Tensor:
    """A path [T, 2] cut or extended (holding its last position) to `frames` frames."""
    if path.shape[0] < frames:
        path = torch.cat([path, path[-1:].expand(frames - path.shape[0], 2)])
    return path[:frames]


def path_to_tracks(path: torch.Tensor) -> dict:
    """A path [frames, 2] as a one-point ComfyUI TRACKS value."""
    return tracks_value(path[:, None, :].clone(), torch.ones(path.shape[0], 1, dtype=torch.bool))
