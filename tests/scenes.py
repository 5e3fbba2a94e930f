"""Constructed test scenes: textured objects drawn with OpenCV and re-rendered shifted, rotated and relit."""

from __future__ import annotations

import cv2
import numpy as np

SIZE = 160
FRAME_W, FRAME_H = 320, 240


def draw_object(seed: int, palette: list[tuple[int, int, int]]) -> np.ndarray:
    """A textured poster-like object: random shapes and strokes in a palette, on a coloured card."""
    rng = np.random.default_rng(seed)
    card = np.full((SIZE, SIZE, 3), palette[0], dtype=np.uint8)
    for _ in range(40):
        color = tuple(int(c) for c in palette[rng.integers(1, len(palette))])
        x, y = (int(v) for v in rng.integers(8, SIZE - 8, 2))
        shape = rng.integers(3)
        if shape == 0:
            cv2.circle(card, (x, y), int(rng.integers(4, 18)), color, -1)
        elif shape == 1:
            w, h = (int(v) for v in rng.integers(6, 30, 2))
            cv2.rectangle(card, (x, y), (min(SIZE - 1, x + w), min(SIZE - 1, y + h)), color, -1)
        else:
            x2, y2 = (int(v) for v in rng.integers(0, SIZE, 2))
            cv2.line(card, (x, y), (x2, y2), color, int(rng.integers(1, 4)))
    return card


TOY_PALETTE = [(200, 150, 90), (120, 60, 20), (240, 220, 160), (60, 120, 40), (180, 40, 30)]
OTHER_PALETTE = [(60, 80, 200), (20, 20, 90), (150, 200, 250), (200, 60, 200), (30, 160, 160)]


def background(seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = np.zeros((FRAME_H, FRAME_W, 3), dtype=np.float32)
    base[:] = (110, 110, 105)
    base += rng.normal(0, 6, base.shape)
    return np.clip(base, 0, 255).astype(np.uint8)


def render(
    obj: np.ndarray,
    center: tuple[float, float],
    angle: float = 0.0,
    scale: float = 1.0,
    gain: tuple[float, float, float] = (1.0, 1.0, 1.0),
    plate: np.ndarray | None = None,
) -> np.ndarray:
    """Place the object on a plate, rotated/scaled about its centre and relit by a per-channel gain."""
    plate = background() if plate is None else plate.copy()
    matrix = cv2.getRotationMatrix2D((SIZE / 2, SIZE / 2), angle, scale)
    matrix[:, 2] += (center[0] - SIZE / 2, center[1] - SIZE / 2)
    warped = cv2.warpAffine(obj, matrix, (FRAME_W, FRAME_H), flags=cv2.INTER_LINEAR)
    coverage = cv2.warpAffine(np.full((SIZE, SIZE), 255, np.uint8), matrix, (FRAME_W, FRAME_H))[..., None] / 255.0
    lit = np.clip(warped.astype(np.float32) * np.asarray(gain, np.float32), 0, 255)
    return (lit * coverage + plate * (1 - coverage)).astype(np.uint8)


TOY = draw_object(1, TOY_PALETTE)
OTHER = draw_object(2, OTHER_PALETTE)
OTHER_SAME_COLORS = draw_object(3, TOY_PALETTE)


def lab_mean_shifts(frames):
    """Euclidean distance (ΔE76) between the mean LAB colours of consecutive frames: [T - 1], to measure seams."""
    from worldkit.models.sampling.continuity import lab_frame_means

    means = lab_frame_means(frames)
    return (means[1:] - means[:-1]).norm(dim=-1)
