"""The GVFX benchmarks' scene: a grainy textured plate panning, and a green-screen element (a textured disc crossing
the frame), as float32 RGB frames in 0..1."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

SCREEN = np.array([0.05, 0.72, 0.2], np.float32)
SUBJECT = np.array([0.8, 0.45, 0.25], np.float32)


def scene_frames(width: int, height: int, frames: int, element: bool) -> Iterator[np.ndarray]:
    """The plate's frames (a texture panning, with 2 % Gaussian grain) or the element's (the disc over the screen)."""
    rng = np.random.default_rng(1 if element else 0)
    texture = rng.random((height // 16 + 2, width // 16 + 2, 3)).astype(np.float32)
    big = np.kron(texture, np.ones((16, 16, 1), np.float32))
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    for index in range(frames):
        t = index / max(1, frames - 1)
        if element:
            cx, cy, radius = width * (0.3 + 0.4 * t), height * 0.55, height * 0.22
            inside = np.clip(radius - np.hypot(xs - cx, ys - cy) + 0.5, 0, 1)[..., None]
            pixels = (SUBJECT + 0.25 * (big[:height, :width] - 0.5)) * inside + SCREEN * (1 - inside)
        else:
            shift = int(12 * t * 16)
            pixels = 0.25 + 0.5 * np.roll(big, -shift, axis=1)[:height, :width]
            pixels = pixels + rng.normal(0, 0.02, pixels.shape).astype(np.float32)
        yield np.clip(pixels, 0, 1).astype(np.float32)
