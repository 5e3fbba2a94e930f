"""Widgets several nodes share, built in one place so every node offers the same limits."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable

from comfy_api.latest import io

from ..models.shared.text import MAX_NAME_CHARS, MAX_PROMPT_CHARS, text_problem
from ..models.shared.wan import FRAME_STEP, MAX_FRAMES, MAX_SEED, MAX_SIZE, SIZE_MULTIPLE
from ..models.world.names import device_name_problem
from .types import World


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


def wan_inputs(vae_use: str) -> list[io.Input]:
    """The loaded Wan model, its VAE and text encoder, and the encoded world: what a shot is bound and sampled with."""
    return [
        io.Model.Input(
            "model",
            tooltip="The loaded Wan model (with any LoRA or cache node applied); under auto its weights tell the "
            "family.",
        ),
        io.Vae.Input("vae", tooltip=f"The Wan VAE: {vae_use}."),
        io.Clip.Input("clip", tooltip="The UMT5 text encoder (CLIPLoader, type wan)."),
        World.Input("world", tooltip="The encoded world the shots' entities come from."),
    ]


def numbers_check(*names: str) -> classmethod:
    """A ``validate_inputs`` that checks the named number widgets with `numbers_problem`.

    ComfyUI reads the parameter names of ``validate_inputs`` to decide which inputs it checks itself, so the
    function carries exactly these names in its signature (``**kwargs`` would switch off every built-in check).
    """

    def validate_inputs(cls: type[io.ComfyNode], **values: float | None) -> bool | str:
        return verdict(numbers_problem(cls, **values))

    keyword = inspect.Parameter.POSITIONAL_OR_KEYWORD
    validate_inputs.__signature__ = inspect.Signature(
        [inspect.Parameter("cls", keyword)] + [inspect.Parameter(name, keyword, default=None) for name in names]
    )
    return classmethod(validate_inputs)


def verdict(*problems: str | None) -> bool | str:
    """What ``validate_inputs`` returns: True, or the first problem found (it names the input and the fix)."""
    return next((problem for problem in problems if problem), True)


def texts_problem(limit: int = MAX_PROMPT_CHARS, **texts: str | None) -> str | None:
    """The first unusable text among named inputs (None for a linked input, which is checked when it runs)."""
    return next((p for name, value in texts.items() if (p := text_problem(value, name, limit))), None)


def parse_problem(
    parse: Callable[[str], object],
    value: str | None,
    errors: type[ValueError] | tuple[type[ValueError], ...] = ValueError,
    label: str = "",
) -> str | None:
    """What ``parse`` objects to in a text input, after ``label``: when the message does not name the input; None
    for a linked input (None here), which is checked when it runs."""
    if not isinstance(value, str):
        return None
    try:
        parse(value)
    except errors as error:
        return f"{label}: {error}" if label else str(error)
    return None


def control_problem(value: str | None, name: str, allowed: str = "") -> str | None:
    """Names and lists may not hold control characters (NUL, escape…) other than ``allowed`` ones."""
    if isinstance(value, str) and any((ord(c) < 32 or ord(c) == 127) and c not in allowed for c in value):
        return f"{name} holds a control character (such as NUL); use plain text."
    return None


def names_problem(**names: str | None) -> str | None:
    """Like ``texts_problem`` for short one-line names."""
    return texts_problem(MAX_NAME_CHARS, **names) or next(
        (p for label, value in names.items() if (p := control_problem(value, label))), None
    )


def file_names_problem(**names: str | None) -> str | None:
    """Like ``names_problem`` for names that become files, which must also open as files on every system."""
    return names_problem(**names) or next(
        (
            f"{label}: {p}; choose another name."
            for label, value in names.items()
            if value and (p := device_name_problem(value))
        ),
        None,
    )


def entities_problem(entities: str | None) -> str | None:
    """A comma- or line-separated list of entity names (checked against the world when the node runs)."""
    return texts_problem(entities=entities) or control_problem(entities, "entities", "\n\r\t")


def recheck(answer: bool | str) -> None:
    """Run a node's ``validate_inputs`` again when it executes: values that arrived through links were not
    there to check at queue time."""
    if answer is not True:
        raise ValueError(answer)


def numbers_problem(node: type[io.ComfyNode], **values: float | int | None) -> str | None:
    """The first named number that is not finite or lies outside its widget's range (None: linked, checked later).

    NaN slips through ComfyUI's own min/max check (every comparison with it is false), and a node that
    declares an input in ``validate_inputs`` takes that range check over, so both happen here.
    """
    widgets = {widget.id: widget for widget in node.define_schema().inputs}
    for name, value in values.items():
        if value is None:
            continue
        if not math.isfinite(value):
            return f"{name} is {value}; give a finite number."
        low, high = getattr(widgets[name], "min", None), getattr(widgets[name], "max", None)
        if (low is not None and value < low) or (high is not None and value > high):
            return f"{name} is {value}; use a value from {low} to {high}."
    return None
