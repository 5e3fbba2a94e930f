"""What every GVFX node shares: frame sockets that take and give IMAGE or VIDEO, and one way to run a step.

A node records its engine operation over lazy clips (models/streaming/ops.py). Fed IMAGE batches, the clips are
computed at once into batches (with the progress bar), as before; fed a VIDEO, the node gives lazy VIDEOs and
nothing is computed until a sink (Save Video, Save With Alpha, Get Video Components) pulls the frames.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from comfy_api.latest import io

from ...models.streaming.clips import Clip
from ...models.streaming.ops import mapped
from ...models.streaming.reader import materialize_all
from ..runtime.lazy_video import LazyVideo, clips_of, is_video, mask_clip_of, matte_video
from ..runtime.progress import NodeProgress

FRAMES = io.MatchType.Template("frames", [io.Image, io.Video])
FRAMES_NOTE = " IMAGE or VIDEO: every frame socket of the node takes the same type, and its outputs follow."
MASK_NOTE = " MASK, or a VIDEO whose alpha (else brightness) is the matte."
MATTE_NOTE = " With VIDEO frames it carries a VIDEO (the matte as its alpha), for GVFX nodes and Save With Alpha."


def frames_input(name: str, tooltip: str = "", optional: bool = False) -> io.MatchType.Input:
    return io.MatchType.Input(name, template=FRAMES, tooltip=tooltip + FRAMES_NOTE, optional=optional)


def frames_output(display_name: str, tooltip: str = "") -> io.MatchType.Output:
    return io.MatchType.Output(template=FRAMES, display_name=display_name, tooltip=tooltip + FRAMES_NOTE)


def mask_input(name: str, tooltip: str = "", optional: bool = False) -> io.MultiType.Input:
    return io.MultiType.Input(
        io.Mask.Input(name, tooltip=tooltip + MASK_NOTE, optional=optional), types=[io.Mask, io.Video]
    )


def mask_output(display_name: str, tooltip: str = "") -> io.Mask.Output:
    return io.Mask.Output(display_name=display_name, tooltip=tooltip + MATTE_NOTE)


def streaming(*values: Any) -> bool:
    """True when the node was fed VIDEO frames."""
    return any(is_video(value) for value in values)


def frame_clip(value: Any, name: str) -> Clip | None:
    return None if value is None else clips_of(value, name)[0]


def mask_clip(value: Any, name: str) -> Clip | None:
    return None if value is None else mask_clip_of(value, name)


def rate_of(*values: Any):
    """The frame rate of the first VIDEO among the values (None without one)."""
    return next((clips_of(value)[2] for value in values if is_video(value) and clips_of(value)[2]), None)


def alpha_of(value: Any) -> Clip | None:
    return clips_of(value)[1] if is_video(value) else None


Record = Callable[..., Sequence[Clip]]
"""record(**clips) -> the node's output clips."""


def run(
    record: Record,
    frames: dict[str, Any],
    masks: dict[str, Any] | None = None,
    kinds: Sequence[str] = ("image",),
    **options: Any,
) -> tuple[Any, ...]:
    """The node's outputs (`kinds`: "image" or "mask" each) of `record` over its frame and mask inputs.

    IMAGE inputs: the clips computed into batches now, with the progress bar. Any VIDEO input: lazy VIDEOs,
    each image output carrying the node's first mask output as its alpha (else the first frame input's alpha).
    """
    masks = masks or {}
    clips = {name: frame_clip(value, name) for name, value in frames.items()}
    clips |= {name: mask_clip(value, name) for name, value in masks.items()}
    outputs = record(**clips, **options)
    if not streaming(*frames.values(), *masks.values()):
        count = max(clip.frames for clip in outputs)
        return tuple(materialize_all(list(outputs), progress=NodeProgress(count)))
    fps = outputs[0].fps or rate_of(*frames.values(), *masks.values())
    return as_videos(outputs, kinds, fps, alpha_of(next(iter(frames.values()))))


def as_videos(outputs: Sequence[Clip], kinds: Sequence[str], fps, alpha: Clip | None) -> tuple[Any, ...]:
    """Lazy VIDEOs of a step's outputs: mattes as matte videos, images with the step's matte as alpha."""
    mattes = [clip for clip, kind in zip(outputs, kinds, strict=True) if kind == "mask"]
    alpha = mattes[0] if mattes else alpha
    return tuple(
        LazyVideo(clip, alpha, fps) if kind == "image" else matte_video(clip, fps)
        for clip, kind in zip(outputs, kinds, strict=True)
    )


def frame_count(value: Any) -> int:
    return value.shape[0] if isinstance(value, torch.Tensor) else clips_of(value)[0].frames


MASK_MEANINGS = ("matte (1 = solid)", "core alpha mask (1 = transparent)")
"""WorldKit mattes are 1 where the subject is; core's Load Image, Split Image with Alpha and Join Image with Alpha
use MASK = 1 - alpha."""


def mask_meaning_input(tooltip: str, optional: bool = False) -> io.Combo.Input:
    return io.Combo.Input(
        "masks",
        options=list(MASK_MEANINGS),
        default=MASK_MEANINGS[0],
        optional=optional,
        tooltip=tooltip + " 'core alpha mask' reads and writes masks as core's Load Image and Split/Join Image with "
        "Alpha do (1 = transparent).",
    )


def as_matte(value: Any, meaning: str) -> Any:
    """A mask in WorldKit's meaning (1 = solid) from one in `meaning`, or back: the flip is its own inverse."""
    if value is None or meaning == MASK_MEANINGS[0]:
        return value
    if isinstance(value, torch.Tensor):
        return 1.0 - value
    clip = mask_clip_of(value)
    return matte_video(mapped(clip, lambda block: 1.0 - block, clip.frame_shape), clips_of(value)[2])
