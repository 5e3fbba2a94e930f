"""Shape rules of the Wan models: clip lengths, frame sizes, latent geometry, native length and rate, and seeds.

Each rule lives here once; shots, binding, long shots, the sampler and the node inputs import it. What differs
between Wan models (latent channels, spatial compression, sizes, native length and rate) is a ModelRules built by
`model_rules` from the numbers the loaded model and VAE give.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

FRAME_STEP = 4  # every Wan VAE packs 4 frames into each latent frame after the first: clips have 4k+1 frames
SEED_LIMIT = 2**64  # seeds are 64-bit unsigned, as KSampler's
MAX_SEED = SEED_LIMIT - 1
MAX_FRAMES = 1025  # the longest clip any WorldKit input accepts (64 s at 16 fps)
MAX_SIZE = 4096


@dataclass(frozen=True)
class ModelRules:
    """What one loaded Wan model and its VAE take: latent geometry, frame sizes, native length and rate."""

    name: str
    native_frames: int  # the longest clip sampled in one piece (4k+1); longer shots are chained segments
    fps: int  # the frame rate it was trained at
    latent_channels: int  # channels of its VAE's latents
    spatial_stride: int  # image pixels per latent pixel, per side (the VAE's spatial compression)
    vae_file: str  # the VAE file ComfyUI's templates load with it
    patch: int = 2  # latent pixels per DiT patch, per side

    @property
    def size_multiple(self) -> int:
        """Width and height are multiples of this: one DiT patch in image pixels."""
        return self.spatial_stride * self.patch


# Wan 2.1 and the Wan 2.2 A14B experts: 5 s at 16 fps, the 16-channel 8x VAE.
WAN_2_1 = ModelRules("Wan 2.1 / 2.2 A14B", 81, 16, 16, 8, "wan_2.1_vae.safetensors")
# Wan 2.2 TI2V-5B: 5 s at 24 fps, the 48-channel 16x Wan 2.2 VAE.
WAN_2_2_5B = ModelRules("Wan 2.2 TI2V-5B", 121, 24, 48, 16, "wan2.2_vae.safetensors")
GENERATIONS = (WAN_2_1, WAN_2_2_5B)
SIZE_MULTIPLE = min(rules.size_multiple for rules in GENERATIONS)  # the finest size step any Wan model takes (16)


class WanShapeError(ValueError):
    """A frame count or frame size a Wan model cannot take; the message gives the nearest that work."""


def require_vae_channels(rules: ModelRules, vae_channels: int, error: type[ValueError] = WanShapeError) -> None:
    """Raise `error` unless the VAE makes the latents the model takes, naming the VAE file that does."""
    if vae_channels != rules.latent_channels:
        other = next((g for g in GENERATIONS if g.latent_channels == vae_channels), None)
        found = f" (the {other.vae_file} kind)" if other else ""
        raise error(
            f"The VAE makes {vae_channels}-channel latents{found}, but the loaded model is {rules.name}, which takes "
            f"{rules.latent_channels}-channel latents: load {rules.vae_file} in the VAE loader."
        )


def model_rules(
    model_channels: int,
    vae_channels: int,
    vae_stride: int,
    patch: int | None = None,
    error: type[ValueError] = WanShapeError,
) -> ModelRules:
    """The rules of a loaded model and VAE from their numbers: the latent channels the model takes (its latent
    format), the VAE's latent channels and spatial compression, and the DiT's patch side (None: the generation's)."""
    rules = next((g for g in GENERATIONS if g.latent_channels == model_channels), None)
    if rules is None:
        known = ", ".join(f"{g.latent_channels} ({g.name})" for g in GENERATIONS)
        raise error(
            f"The loaded model takes {model_channels}-channel latents; WorldKit drives Wan models with {known}."
        )
    require_vae_channels(rules, vae_channels, error)
    if vae_stride != rules.spatial_stride:
        raise error(
            f"The VAE compresses frames {vae_stride}x, but {rules.name} latents are {rules.spatial_stride}x: "
            f"load {rules.vae_file} in the VAE loader."
        )
    return rules if patch is None else dataclasses.replace(rules, patch=patch)


def retimed_frames(frames: int, fps: int, target_fps: int) -> int:
    """The 4k+1 frame count that lasts as long at `target_fps` as `frames` do at `fps` (81 at 16 fps -> 121 at 24)."""
    return frames_for_seconds((frames - 1) / fps, target_fps)


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


def _size_rule(rules: ModelRules | None) -> tuple[int, str]:
    """The size multiple and the model named in refusals: any Wan model's (16) without rules."""
    return (SIZE_MULTIPLE, "Wan") if rules is None else (rules.size_multiple, rules.name)


def nearest_wan_size(width: int, height: int, rules: ModelRules | None = None) -> tuple[int, int]:
    """The frame size the model takes that is nearest to width x height: each side rounded, halves down (1280x720 is
    1280x704 on TI2V-5B, the size ComfyUI's 5B templates use), at least one patch."""
    multiple, _ = _size_rule(rules)
    return tuple(max(multiple, multiple * math.ceil(value / multiple - 0.5)) for value in (width, height))


def require_wan_size(
    width: int,
    height: int,
    what: str,
    presets: str = "",
    error: type[ValueError] = WanShapeError,
    rules: ModelRules | None = None,
) -> None:
    """Raise `error` naming `what` and the nearest size that works unless width and height are positive multiples
    of the model's size multiple (16 for any Wan model when `rules` is None)."""
    multiple, name = _size_rule(rules)
    for label, value in (("width", width), ("height", height)):
        if value < multiple or value % multiple:
            hint = f"; presets: {presets}" if presets else ""
            nearest = "x".join(map(str, nearest_wan_size(width, height, rules)))
            raise error(
                f"{what} {label} is {value}, but {name} needs a positive multiple of {multiple}: "
                f"the nearest size it takes is {nearest}{hint}."
            )


def floor_wan_size(width: int, height: int, rules: ModelRules | None = None) -> tuple[int, int]:
    """The largest frame size the model takes (multiples of its size multiple, at least one) within width x height."""
    multiple, _ = _size_rule(rules)
    return tuple(max(multiple, value - value % multiple) for value in (width, height))


def wrap_seed(seed: int) -> int:
    """A seed offset (seed + candidate, seed + shot) kept in KSampler's 64-bit range."""
    return seed % SEED_LIMIT
