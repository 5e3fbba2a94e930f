"""Shape rules every Wan 2.1 model shares: clip lengths, frame sizes, latent geometry and seeds.

Each rule lives here once; shots, binding, long shots, the sampler and the node inputs import it.
"""

from __future__ import annotations

from dataclasses import dataclass

FRAME_STEP = 4  # the Wan VAE packs 4 frames into each latent frame after the first: clips have 4k+1 frames
SPATIAL_STRIDE = 8  # one latent pixel per 8x8 image pixels
SIZE_MULTIPLE = 2 * SPATIAL_STRIDE  # the DiT patches 2x2 latent pixels: width and height are multiples of 16
LATENT_CHANNELS = 16  # Wan 2.1 VAE latents
SEED_LIMIT = 2**64  # seeds are 64-bit unsigned, as KSampler's
MAX_SEED = SEED_LIMIT - 1
MAX_FRAMES = 1025  # the longest clip any WorldKit input accepts (64 s at 16 fps)
MAX_SIZE = 4096


@dataclass(frozen=True)
class ModelRules:
    """What one Wan generation samples at once; kept apart from the shape rules above because Wan 2.2 models
    differ in it, so it will be read from the loaded model."""

    native_frames: int  # the longest clip sampled in one piece (4k+1); longer shots are chained segments
    fps: int  # the frame rate it was trained at


WAN_2_1 = ModelRules(native_frames=81, fps=16)  # 5 s at 16 fps


class WanShapeError(ValueError):
    """A frame count or frame size a Wan model cannot take; the message gives the nearest that work."""


def is_wan_frame_count(frames: int) -> bool:
    """True for 4k+1 frame counts (1, 5, …, 81, …)."""
    return frames >= 1 and (frames - 1) % FRAME_STEP == 0


def nearest_wan_frame_counts(frames: int) -> tuple[int, int]:
    """The 4k+1 counts just below (at least 1) and above `frames`."""
    below = max(1, frames - (frames - 1) % FRAME_STEP)
    return below, below + FRAME_STEP


def round_up_frame_count(frames: int) -> int:
    """The smallest 4k+1 count that holds `frames` frames."""
    return frames if is_wan_frame_count(frames) else nearest_wan_frame_counts(frames)[1]


def frames_for_seconds(seconds: float, fps: int) -> int:
    """The 4k+1 frame count closest to a duration: 5 s at 16 fps is 81 frames, 10 s is 161."""
    return FRAME_STEP * round(seconds * fps / FRAME_STEP) + 1


def latent_frame_count(frames: int) -> int:
    return (frames - 1) // FRAME_STEP + 1


def require_wan_frame_count(frames: int, what: str, error: type[ValueError] = WanShapeError) -> None:
    """Raise `error` naming `what` unless `frames` is 4k+1."""
    if not is_wan_frame_count(frames):
        below, above = nearest_wan_frame_counts(frames)
        raise error(f"{what} is {frames}, but Wan clips have 4k+1 frames; use {below} or {above}.")


def require_wan_size(
    width: int, height: int, what: str, presets: str = "", error: type[ValueError] = WanShapeError
) -> None:
    """Raise `error` naming `what` unless width and height are positive multiples of 16."""
    for label, value in (("width", width), ("height", height)):
        if value < SIZE_MULTIPLE or value % SIZE_MULTIPLE:
            hint = f"; presets: {presets}" if presets else ""
            raise error(f"{what} {label} is {value}, but Wan needs a positive multiple of {SIZE_MULTIPLE}{hint}.")


def floor_wan_size(width: int, height: int) -> tuple[int, int]:
    """The largest Wan frame size (multiples of 16, at least 16) within width x height."""
    return tuple(max(SIZE_MULTIPLE, value - value % SIZE_MULTIPLE) for value in (width, height))


def wrap_seed(seed: int) -> int:
    """A seed offset (seed + candidate, seed + shot) kept in KSampler's 64-bit range."""
    return seed % SEED_LIMIT
