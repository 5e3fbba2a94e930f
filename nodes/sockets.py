"""What each socket type carries, so a value of the wrong kind is refused naming the input and the type it needs.

A literal typed into an API prompt (5 on a MODEL socket) is seen when the prompt is queued; a link of the wrong
type that ComfyUI lets through (a STRING into a GVFX frame socket) is seen when the node runs. Either way the
error names the input instead of surfacing as ``'int' object has no attribute 'load_device'`` deep in a node.
"""

from __future__ import annotations

import functools

import comfy.clip_vision
import comfy.model_patcher
import comfy.sd
import torch
from comfy_api.latest import Input, io

from ..models.shots.binding.performance import Performance
from ..models.shots.shot import Shot
from ..models.world.entities import Reference, World
from .runtime.lazy_video import STREAMED_MATTE

WIDGETS = frozenset({"INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"})
"""Widget types: ComfyUI converts and range-checks these itself (and FLOAT is checked for NaN in inputs.py)."""

CARRIES: dict[str, tuple[type, ...]] = {
    "IMAGE": (torch.Tensor,),
    "MASK": (torch.Tensor,),
    "VIDEO": (Input.Video,),
    "LATENT": (dict,),
    "CONDITIONING": (list,),
    "AUDIO": (dict,),
    "AUDIO_ENCODER_OUTPUT": (dict,),
    "TRACKS": (dict,),
    "MODEL": (comfy.model_patcher.ModelPatcher,),
    "VAE": (comfy.sd.VAE,),
    "CLIP": (comfy.sd.CLIP,),
    "CLIP_VISION": (comfy.clip_vision.ClipVisionModel,),
    "WORLDKIT_WORLD": (World,),
    "WORLDKIT_REFERENCE": (Reference,),
    "WORLDKIT_SHOT": (Shot,),
    "WORLDKIT_SHOTS": (list,),
    "WORLDKIT_PERFORMANCE": (Performance,),
}
"""The Python values a socket of each type holds."""


def io_types(spec: io.Input) -> tuple[str, ...]:
    """The types a socket takes: a GVFX frame socket its template's (IMAGE, VIDEO), a multi-typed one each of
    its types."""
    if isinstance(spec, io.MatchType.Input):
        return tuple(kind.io_type for kind in spec.template.allowed_types)
    return tuple(spec.get_io_type().split(","))


@functools.cache
def sockets_of(node: type[io.ComfyNode]) -> dict[str, tuple[str, ...]]:
    """Each non-widget input of a node and the types it takes (only types whose values are known here)."""
    sockets = {}
    for spec in node.define_schema().inputs:
        kinds = io_types(spec)
        if not WIDGETS.intersection(kinds) and all(kind in CARRIES for kind in kinds):
            sockets[spec.id] = kinds
    return sockets


def described(value: object) -> str:
    """What a wrong value is, without quoting it (it may be a megabyte of text)."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    return f"a {type(value).__name__}"


def socket_problem(name: str, kinds: tuple[str, ...], value: object) -> str | None:
    """Why ``value`` cannot arrive on socket ``name`` taking ``kinds`` (None when it can, or is not there)."""
    if value is None or any(isinstance(value, CARRIES[kind]) for kind in kinds):
        return None
    if "MASK" in kinds and isinstance(value, Input.Video):
        return f"{name}: {STREAMED_MATTE}"
    wanted = " or ".join(kinds)
    return f"{name} takes {wanted} but was given {described(value)}; connect a node that outputs {wanted}."
