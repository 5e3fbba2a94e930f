"""Widgets several nodes share, built in one place so every node offers the same limits."""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable

from comfy_api.latest import io

from ..models.shared.text import MAX_NAME_CHARS, MAX_PROMPT_CHARS, text_problem
from ..models.shared.wan import FRAME_STEP, MAX_FRAMES, MAX_SEED, MAX_SIZE, SIZE_MULTIPLE
from ..models.world.names import windows_name_problem
from .sockets import socket_problem, sockets_of
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


def length_input(name: str, default: int, tooltip: str, minimum: int = 1) -> io.Int.Input:
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
    """Like ``names_problem`` for names that become files, which must also open as files on every system and
    not be empty (an empty name saves a hidden ``.safetensors``, or restarts a sequence's numbering and overwrites
    earlier files)."""
    return names_problem(**names) or next(
        (
            f"{label} is empty; give a name such as 'worldkit/shot_1'."
            if not value.strip(" ./\\")
            else f"{label}: {p}; choose another name."
            for label, value in names.items()
            if value is not None and (not value.strip(" ./\\") or (p := windows_name_problem(value)))
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


@functools.cache
def float_names(node: type[io.ComfyNode]) -> frozenset[str]:
    return frozenset(spec.id for spec in node.define_schema().inputs if isinstance(spec, io.Float.Input))


@functools.cache
def takes_lists(node: type[io.ComfyNode]) -> bool:
    """A node declared ``is_input_list`` gets each input as a list of values."""
    return bool(node.define_schema().is_input_list)


def inputs_problem(node: type[io.ComfyNode], **values: object) -> str | None:
    """The first value among ``values`` that a FLOAT widget or a socket of ``node`` cannot take (None: all fit)."""
    items = [
        (name, item)
        for name, value in values.items()
        for item in (value if takes_lists(node) and isinstance(value, (list, tuple)) else [value])
    ]
    return next((problem for name, item in items if (problem := input_problem(node, name, item))), None)


def input_problem(node: type[io.ComfyNode], name: str, value: object) -> str | None:
    if name in float_names(node):
        return numbers_problem(node, **{name: value})
    sockets = sockets_of(node)
    return socket_problem(name, sockets[name], value) if name in sockets else None


def checked(node: type[io.ComfyNode]) -> type[io.ComfyNode]:
    """Check every FLOAT widget and socket of ``node`` with `inputs_problem`: literal values when the prompt is
    queued, through ``validate_inputs``; linked ones when the node runs, before ``execute``.

    ComfyUI hands ``validate_inputs`` exactly the inputs its signature names (``**kwargs`` would switch off every
    built-in check), so the node's own ``validate_inputs`` keeps its parameters and these are added after them.
    """
    if getattr(node.execute, "inputs_checked", False):
        return node
    names = [*float_names(node), *sockets_of(node)]
    own = vars(node).get("validate_inputs")
    own = own.__func__ if own is not None else None
    keyword = inspect.Parameter.POSITIONAL_OR_KEYWORD
    own_parameters = list(inspect.signature(own).parameters.values())[1:] if own else []
    own_names = [parameter.name for parameter in own_parameters]
    added = [inspect.Parameter(name, keyword, default=None) for name in names if name not in own_names]
    signature = inspect.Signature([inspect.Parameter("cls", keyword), *own_parameters, *added])

    def validate_inputs(cls: type[io.ComfyNode], *args: object, **kwargs: object) -> bool | str:
        values = signature.bind(cls, *args, **kwargs).arguments
        problem = inputs_problem(node, **{name: values[name] for name in names if name in values})
        if problem or own is None:
            return verdict(problem)
        return own(cls, **{name: values[name] for name in own_names if name in values})

    validate_inputs.__signature__ = signature
    node.validate_inputs = classmethod(validate_inputs)
    execute = node.execute.__func__

    def checked_execute(cls: type[io.ComfyNode], *args: object, **kwargs: object) -> io.NodeOutput:
        recheck(verdict(inputs_problem(node, **kwargs)))
        return execute(cls, *args, **kwargs)

    checked_execute.inputs_checked = True
    node.execute = classmethod(checked_execute)
    return node
