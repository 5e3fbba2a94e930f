"""Moving plates for the GVFX demos: a still filmed by a virtual camera (push-in, pan, handheld shake, grain).

Every frame is made in integer arithmetic (a fixed-point bilinear warp, integer grain, an integer BT.601
conversion to 4:2:0), so the frames handed to the encoder are the same on every CPU: no kernel chosen by CPU
features (OpenCV's IPP warp, FFmpeg's swscale) decides a pixel. The encoder's own bytes are reproducible only
with the same x264 build, so the file records a hash of the frames it was encoded from.
"""

from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Callable, Iterable

import av
import numpy as np
from PIL import Image

PLATE_FPS, PLATE_FRAMES = 24, 122
"""5 s at 24 fps: what the demos' 81-frame 16 fps elements become when conformed to the plate's rate."""
SUBPIXEL_BITS = 8
"""The warp samples the still at 1/256 pixel positions."""
CAMERA_GRID = 1 << 16
"""Camera scale and centre are rounded to 1/65536, so a last-bit difference in a CPU's sin or cos cannot move
a sample position."""
GRAIN_TERMS, GRAIN_SPAN = 3, 2
"""Grain per channel: the sum of three uniform integers in [-2, 2], a bell-shaped sigma of about 2.45 levels."""
FRAMES_HASH_KEY = "comment"
FRAMES_HASH_PREFIX = "yuv420p frames sha256:"
ENCODER_OPTIONS = {"crf": "24", "preset": "slow", "g": "48", "threads": "4"}
"""A fixed thread count: x264's frame threads shape its decisions, so an automatic count would tie the bytes to
the machine's cores."""


def camera(index: int, frames: int, width: int, height: int) -> tuple[float, float, float]:
    """(scale, centre x, centre y) in the still's pixels: a slow push-in (1.06 to 1.12) panning 36 px, with a
    little shake."""
    t = index / max(1, frames - 1)
    scale = 1.0 / (1.06 + 0.06 * t)
    centre_x = width / 2 - 18 + 36 * t + math.sin(index * 0.9) * 0.8
    centre_y = height / 2 + math.cos(index * 0.7) * 0.6
    return tuple(round(value * CAMERA_GRID) / CAMERA_GRID for value in (scale, centre_x, centre_y))


def sample_positions(scale: float, centre: float, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Along one axis, each output pixel's two source pixels (the edge repeated) and the second's weight in
    1/256ths."""
    source = scale * np.arange(size, dtype=np.float64) + (centre - scale * size / 2)
    fixed = np.floor(source * (1 << SUBPIXEL_BITS) + 0.5).astype(np.int64)
    first = fixed >> SUBPIXEL_BITS
    weight = fixed & ((1 << SUBPIXEL_BITS) - 1)
    return np.clip(first, 0, size - 1), np.clip(first + 1, 0, size - 1), weight.astype(np.int32)


def warp(pixels: np.ndarray, scale: float, centre_x: float, centre_y: float) -> np.ndarray:
    """Bilinear zoom and pan of an 8-bit image held as integers, in fixed point: values scaled by 2**16."""
    height, width = pixels.shape[:2]
    top, bottom, down = sample_positions(scale, centre_y, height)
    left, right, across = sample_positions(scale, centre_x, width)
    one = 1 << SUBPIXEL_BITS
    rows = pixels[top] * (one - down)[:, None, None] + pixels[bottom] * down[:, None, None]
    return rows[:, left] * (one - across)[None, :, None] + rows[:, right] * across[None, :, None]


def grain(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.integers(-GRAIN_SPAN, GRAIN_SPAN + 1, (GRAIN_TERMS, *shape)).sum(axis=0)


def yuv420p(rgb: np.ndarray) -> np.ndarray:
    """BT.601 limited range 4:2:0 (what FFmpeg assumes for an untagged SD stream), chroma averaged over each
    2x2 block, as the (height * 3 / 2, width) array PyAV takes."""
    r, g, b = (rgb[..., channel].astype(np.int64) for channel in range(3))
    luma = ((66 * r + 129 * g + 25 * b + 128) >> 8) + 16

    def chroma(weights: tuple[int, int, int]) -> np.ndarray:
        full = weights[0] * r + weights[1] * g + weights[2] * b
        blocks = full[0::2, 0::2] + full[1::2, 0::2] + full[0::2, 1::2] + full[1::2, 1::2]
        return ((blocks + 512) >> 10) + 128

    u, v = chroma((-38, -74, 112)), chroma((112, -94, -18))
    height, width = luma.shape
    planes = [luma.reshape(-1), u.reshape(-1), v.reshape(-1)]
    return np.concatenate(planes).reshape(height * 3 // 2, width).astype(np.uint8)


def filmed(scene: Callable[[int], Image.Image], frames: int, rng: np.random.Generator | None) -> list[np.ndarray]:
    """A scene (its picture at each frame index) filmed by the virtual camera, as the encoder receives it
    (yuv420p), with fresh grain on every frame unless ``rng`` is None (a matte filmed with the plate)."""
    out = []
    for index in range(frames):
        pixels = np.asarray(scene(index).convert("RGB"), np.int32)
        height, width = pixels.shape[:2]
        moved = (warp(pixels, *camera(index, frames, width, height)) + (1 << 15)) >> 16
        noise = 0 if rng is None else grain(rng, pixels.shape)
        out.append(yuv420p(np.clip(moved + noise, 0, 255)))
    return out


def plate_frames(still: Image.Image, rng: np.random.Generator, frames: int = PLATE_FRAMES) -> list[np.ndarray]:
    """The plate's frames as the encoder receives them (yuv420p), with fresh grain on every frame."""
    return filmed(lambda _index: still, frames, rng)


def frames_hash(frames: Iterable[np.ndarray]) -> str:
    digest = hashlib.sha256()
    for frame in frames:
        digest.update(np.ascontiguousarray(frame, np.uint8).tobytes())
    return digest.hexdigest()


def moving_plate(frames: list[np.ndarray], fps: int = PLATE_FPS) -> bytes:
    """A short H.264 plate of ``frames``, so the GVFX demos composite over footage that moves like a real
    camera's; its metadata holds the frames' hash, what a regeneration on another machine is compared by."""
    height, width = frames[0].shape[0] * 2 // 3, frames[0].shape[1]
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        container.metadata[FRAMES_HASH_KEY] = FRAMES_HASH_PREFIX + frames_hash(frames)
        stream = container.add_stream("libx264", rate=fps, options=ENCODER_OPTIONS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="yuv420p")))
        container.mux(stream.encode())
    return buffer.getvalue()


def recorded_frames_hash(data: bytes) -> str:
    """The frames hash a plate's metadata records ('' for a plate without one)."""
    with av.open(io.BytesIO(data)) as container:
        recorded = container.metadata.get(FRAMES_HASH_KEY, "")
    return recorded.removeprefix(FRAMES_HASH_PREFIX) if recorded.startswith(FRAMES_HASH_PREFIX) else ""


def decoded_frames(data: bytes) -> list[np.ndarray]:
    """A plate's frames as the decoder gives them (yuv420p, no colour conversion: H.264 decoding is exact)."""
    with av.open(io.BytesIO(data)) as container:
        return [frame.to_ndarray(format="yuv420p") for frame in container.decode(video=0)]
