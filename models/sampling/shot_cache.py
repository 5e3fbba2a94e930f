"""Rendered shots kept in memory, so a cut of takes rendered earlier in this process renders nothing new.

ComfyUI caches one output per node; a storyboard's takes are several renders of one sampler node, so the
sampler keeps its own cache of shot results. A key holds everything a shot's frames depend on: the host's
part (loaded models by identity, sampler settings, reference attention, family, preview decoder) and the
engine's (the shot itself, its base seed, the candidates and which of them render, the frames it starts from,
segment lengths, colour continuity, the search). A key that missed one of these would return wrong frames.

Objects known only by identity (a loaded model) are held as weak references: an entry whose model was freed
can never match a new object that reuses the old one's ``id``, and the cache keeps no model alive.
"""

from __future__ import annotations

import copy
import hashlib
import weakref
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from .joining import ShotResult

MAX_CACHE_BYTES = 2 * 1024**3  # frames kept, in bytes (about 13 shots of 81 frames at 832 × 480)


def tensor_digest(tensor: torch.Tensor | None) -> tuple | None:
    """A content key for frames a shot starts from: shape, dtype and a SHA-256 of the values."""
    if tensor is None:
        return None
    values = tensor.detach().cpu().contiguous()
    digest = hashlib.sha256(values.view(torch.uint8).numpy().tobytes() if values.numel() else b"").hexdigest()
    return (tuple(values.shape), str(values.dtype), digest)


def _anchor(value: Any) -> weakref.ref | Any:
    try:
        return weakref.ref(value)
    except TypeError:  # None, numbers: held as they are
        return value


def _alive(anchor: Any, value: Any) -> bool:
    return anchor() is value if isinstance(anchor, weakref.ref) else anchor is value


@dataclass(frozen=True)
class CacheContext:
    """The host's part of a key: ``key`` (hashable settings, with each anchor's ``id``) and ``anchors``, the
    objects known only by identity."""

    key: Hashable
    anchors: tuple[Any, ...] = ()

    @classmethod
    def of(cls, settings: Hashable, objects: Sequence[Any]) -> CacheContext:
        return cls((settings, tuple(id(value) for value in objects)), tuple(objects))


@dataclass
class _Entry:
    result: ShotResult
    anchors: tuple[Any, ...]
    size: int


class ShotCache:
    """Least-recently-used shot results, at most ``max_bytes`` of frames."""

    def __init__(self, max_bytes: int = MAX_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self.entries: OrderedDict[Hashable, _Entry] = OrderedDict()

    @property
    def size(self) -> int:
        return sum(entry.size for entry in self.entries.values())

    def get(self, key: Hashable, context: CacheContext) -> ShotResult | None:
        """A copy of the stored result (its report marked ``cached``), or None."""
        entry = self.entries.get(key)
        if entry is None:
            return None
        if not all(_alive(anchor, value) for anchor, value in zip(entry.anchors, context.anchors, strict=True)):
            del self.entries[key]  # an object it was rendered with is gone: its id may now be another's
            return None
        self.entries.move_to_end(key)
        return ShotResult(entry.result.frames, {**copy.deepcopy(entry.result.report), "cached": True})

    def put(self, key: Hashable, context: CacheContext, result: ShotResult) -> None:
        size = result.frames.element_size() * result.frames.nelement()
        if size > self.max_bytes:
            return
        anchors = tuple(_anchor(value) for value in context.anchors)
        self.entries[key] = _Entry(ShotResult(result.frames, copy.deepcopy(result.report)), anchors, size)
        self.entries.move_to_end(key)
        while self.size > self.max_bytes:
            self.entries.popitem(last=False)

    def clear(self) -> None:
        self.entries.clear()


@dataclass
class ShotReuse:
    """A cache and the host's part of its keys, handed to ``render_shot_list``; with ``read`` False the shots
    rendered are stored but none is served."""

    cache: ShotCache
    context: CacheContext
    read: bool = True
