"""Widgets several nodes share, built in one place so every node offers the same limits."""

from __future__ import annotations

from comfy_api.latest import io

from ..models.shared.wan import FRAME_STEP, MAX_FRAMES, MAX_SEED, MAX_SIZE, SIZE_MULTIPLE


def seed_input(tooltip: str, name: str = "seed", control_after_generate: bool = True) -> io.Int.Input:
    """A 64-bit seed, as KSampler's."""
    return io.Int.Input(
        name, default=0, min=0, max=MAX_SEED, control_after_generate=control_after_generate, tooltip=tooltip
    )


def size_inputs(default_width: int, default_height: int, purpose: str) -> list[io.Int.Input]:
    """Width and height in multiples of 16 (what Wan takes) up to 4096."""
    return [
        io.Int.Input(
            label,
            default=default,
            min=SIZE_MULTIPLE,
            max=MAX_SIZE,
            step=SIZE_MULTIPLE,
            tooltip=f"{label.capitalize()} {purpose}, a multiple of {SIZE_MULTIPLE}.",
        )
        for label, default in (("width", default_width), ("height", default_height))
    ]


def frames_input(name: str, default: int, tooltip: str, minimum: int = 1) -> io.Int.Input:
    """A Wan clip length: 4k+1 frames, stepping by 4."""
    return io.Int.Input(name, default=default, min=minimum, max=MAX_FRAMES, step=FRAME_STEP, tooltip=tooltip)
