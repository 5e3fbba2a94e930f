"""Moving plates for the GVFX demos: a still filmed by a virtual camera (push-in, pan, handheld shake, grain)."""

from __future__ import annotations

import io

import av
import cv2
import numpy as np
from PIL import Image

PLATE_FPS, PLATE_FRAMES = 24, 122
"""5 s at 24 fps: what the demos' 81-frame 16 fps elements become when conformed to the plate's rate."""


def camera_matrix(index: int, frames: int, width: int, height: int) -> np.ndarray:
    """2x3 map from output pixels to the still's: a slow push-in (1.06 to 1.12) panning 36 px, with a little
    shake."""
    t = index / max(1, frames - 1)
    scale = 1.0 / (1.06 + 0.06 * t)
    centre_x = width / 2 - 18 + 36 * t + np.sin(index * 0.9) * 0.8
    centre_y = height / 2 + np.cos(index * 0.7) * 0.6
    return np.array(
        [[scale, 0.0, centre_x - scale * width / 2], [0.0, scale, centre_y - scale * height / 2]], np.float64
    )


def moving_plate(
    still: Image.Image, rng: np.random.Generator, frames: int = PLATE_FRAMES, fps: int = PLATE_FPS
) -> bytes:
    """A short H.264 plate from a still, with fresh grain on every frame, so the GVFX demos composite over
    footage that moves like a real camera's."""
    pixels = np.asarray(still.convert("RGB"), np.float32)
    height, width = pixels.shape[:2]
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps, options={"crf": "24", "preset": "slow", "g": "48"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(frames):
            matrix = camera_matrix(index, frames, width, height)
            flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
            moved = cv2.warpAffine(pixels, matrix, (width, height), flags=flags, borderMode=cv2.BORDER_REPLICATE)
            moved += rng.normal(0.0, 2.5, pixels.shape).astype(np.float32)
            picture = av.VideoFrame.from_ndarray(np.clip(moved, 0, 255).round().astype(np.uint8), format="rgb24")
            container.mux(stream.encode(picture))
        container.mux(stream.encode())
    return buffer.getvalue()
