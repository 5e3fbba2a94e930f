"""Pictures of tracks: a preview with the paths drawn over the start frame, and the subject's footprint."""

from __future__ import annotations

import cv2
import kornia
import numpy as np
import torch

from .tracks import TrackSet


def _rgb(color: str) -> tuple[int, int, int]:
    text = color.lstrip("#")
    if len(text) != 6:
        return (255, 111, 60)
    try:
        return tuple(int(text[i : i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]
    except ValueError:
        return (255, 111, 60)


def draw_preview(tracks: TrackSet, background: torch.Tensor | None = None, trail: int = 24) -> torch.Tensor:
    """IMAGE batch [T, H, W, 3]: each frame shows every visible point and its last `trail` frames of path.

    `background` is one [H, W, 3] image (0..1) at the track size; without one, mid grey.
    Camera-grid points are drawn small so the subject paths stay readable.
    """
    h, w = tracks.height, tracks.width
    if background is None:
        base = np.full((h, w, 3), 128, dtype=np.uint8)
    else:
        if tuple(background.shape[:2]) != (h, w):
            raise ValueError(
                f"The background is {background.shape[1]}x{background.shape[0]} but the tracks are {w}x{h}."
            )
        base = (background[..., :3].clamp(0, 1) * 255).round().byte().cpu().numpy()
    points = tracks.points.double().numpy()
    visible = tracks.visible.numpy()
    scale = max(1, round((w + h) / 400))
    frames = []
    for t in range(tracks.num_frames):
        frame = base.copy()
        for group in tracks.groups:
            color = _rgb(group.color)
            small = group.role == "camera"
            for n in range(group.start, group.stop):
                history = points[max(0, t - trail) : t + 1, n]
                shown = visible[max(0, t - trail) : t + 1, n]
                if len(history) > 1:
                    line = np.round(history[shown] * 16).astype(np.int32)
                    if len(line) > 1:
                        cv2.polylines(frame, [line], False, color, 1 if small else scale, cv2.LINE_AA, shift=4)
                if visible[t, n]:
                    centre = tuple(int(v) for v in np.round(points[t, n] * 16))
                    radius = (2 if small else 4) * scale * 16
                    cv2.circle(frame, centre, radius, color, -1, cv2.LINE_AA, shift=4)
        frames.append(torch.from_numpy(frame))
    return torch.stack(frames).float() / 255.0


def subject_footprint(tracks: TrackSet, subject_mask: torch.Tensor | None = None, radius: float = 0.04) -> torch.Tensor:
    """MASK [T, H, W]: where the subjects are in each frame (anchors and camera grid excluded).

    Tracks whose points were sampled in the subject mask carry that mask along their rigid motion;
    other tracks cover a disc of `radius` (fraction of the mean frame side) around each visible point.
    """
    h, w, frames = tracks.height, tracks.width, tracks.num_frames
    out = torch.zeros((frames, h, w))
    disc = max(1, round(radius * (w + h) / 2))
    for group in tracks.groups:
        if group.role != "subject":
            continue
        points = tracks.points[:, group.start : group.stop].double()
        visible = tracks.visible[:, group.start : group.stop]
        if group.subject == "mask" and subject_mask is not None:
            shift = (points.mean(dim=1) - points[0].mean(dim=0)).float()
            base = subject_mask.reshape(-1, h, w)[:1].float().expand(frames, h, w)[:, None]
            moved = kornia.geometry.transform.translate(base, shift, mode="bilinear", padding_mode="zeros")[:, 0]
            out = torch.maximum(out, moved * visible.any(dim=1).float()[:, None, None])
            continue
        for t in range(frames):
            canvas = np.zeros((h, w), dtype=np.uint8)
            for x, y in points[t][visible[t]].numpy():
                cv2.circle(canvas, (round(x), round(y)), disc, 255, -1)
            out[t] = torch.maximum(out[t], torch.from_numpy(canvas).float() / 255.0)
    return out
