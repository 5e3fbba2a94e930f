"""The GVFX adapter: frame sockets that take and give IMAGE or VIDEO, each input read once, and one way to run a
node's engine step.

A node records its engine operation over lazy clips (models/streaming/ops.py) in a ``record`` function whose
parameters are the node's inputs: its frame and mask sockets arrive as clips, everything else as given. Fed
IMAGE batches, the clips are computed at once into batches (with the progress bar), as before; fed a VIDEO, the
node gives lazy VIDEOs and nothing is computed until a sink (Save Video, Save With Alpha, Get Video Components)
pulls the frames. Each socket's value was checked for its type before the node ran (nodes/inputs.py `checked`);
here each is unpacked once: a VIDEO that is not a file is asked for its components, and scanned for NaN, once.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import torch
from comfy_api.latest import Input, InputImpl, io

from ...models.compositing.checks import as_image, as_mask
from ...models.streaming.clips import Clip, batch_clip
from ...models.streaming.ops import mapped
from ...models.streaming.reader import materialize_all
from ...models.streaming.video_file import VideoFile
from ..runtime.lazy_video import LazyVideo, matte_video
from ..runtime.progress import NodeProgress
from ..sockets import io_types

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


@dataclass(frozen=True)
class Footage:
    """What a frame socket holds: its RGB clip, the alpha a VIDEO carries (else None), and a VIDEO's frame rate."""

    image: Clip
    alpha: Clip | None = None
    fps: Fraction | None = None
    video: bool = False


_DECODED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
"""One decoder per loaded video: every node reading the plate shares its frames, so it is decoded once a pass."""


def footage_of(value: torch.Tensor | Input.Video, name: str) -> Footage:
    """An IMAGE batch (checked as input `name`) or any VIDEO as clips."""
    if isinstance(value, torch.Tensor):
        return Footage(batch_clip(as_image(name, value)))
    if isinstance(value, LazyVideo):
        return Footage(value.image, value.alpha, value.fps, video=True)
    if isinstance(value, InputImpl.VideoFromFile):
        if value not in _DECODED:
            video = VideoFile(value.get_stream_source())
            _DECODED[value] = Footage(*video.clips(), video.fps, video=True)
        return _DECODED[value]
    components = value.get_components()
    images = as_image(name, components.images)
    return Footage(batch_clip(images, components.frame_rate), None, components.frame_rate, video=True)


def matte_of(value: torch.Tensor | Input.Video, name: str) -> Footage:
    """A MASK batch (checked as input `name`), or a VIDEO used as a matte: its alpha, else the mean of its RGB."""
    if isinstance(value, torch.Tensor):
        return Footage(batch_clip(as_mask(name, value)))
    video = footage_of(value, name)
    matte = video.alpha
    if matte is None:
        matte = mapped(video.image, lambda block: block.mean(-1), video.image.frame_shape[:2])
    return Footage(matte, None, video.fps, video=True)


def _output_kind(spec: io.Output) -> str:
    """ "image" or "mask" for a frame or matte output, "value" for any other (a number, a path, a report)."""
    if isinstance(spec, io.MatchType.Output) or spec.io_type == io.Image.io_type:
        return "image"
    return "mask" if spec.io_type == io.Mask.io_type else "value"


class Step:
    """A GVFX node's inputs, each frame and mask socket unpacked once, and the way its engine step is run.

    A node with a ``masks`` input (`mask_meaning_input`) reads its mask sockets and gives its mask outputs in that
    meaning; its image outputs' alpha stays the step's own matte.
    """

    def __init__(self, node: type[io.ComfyNode], inputs: dict[str, Any]) -> None:
        schema = node.define_schema()
        frames = [spec.id for spec in schema.inputs if isinstance(spec, io.MatchType.Input)]
        masks = [spec.id for spec in schema.inputs if "MASK" in io_types(spec)]
        self.meaning = inputs.get("masks", MASK_MEANINGS[0])
        self.footage = {name: footage_of(inputs[name], name) for name in frames if inputs.get(name) is not None}
        self.mattes = {name: matte_of(inputs[name], name) for name in masks if inputs.get(name) is not None}
        unpacked = {*self.footage, *self.mattes, "masks"}
        self.options = {name: value for name, value in inputs.items() if name not in unpacked}
        self.kinds = [_output_kind(spec) for spec in schema.outputs]

    @property
    def streaming(self) -> bool:
        """True when the node was fed a VIDEO."""
        return any(footage.video for footage in (*self.footage.values(), *self.mattes.values()))

    def run(self, record: Callable[..., Sequence[Any]]) -> io.NodeOutput:
        """The node's outputs from ``record(**inputs)``, its frame and mask sockets given as clips.

        IMAGE inputs: the clips computed into batches now, with the progress bar. Any VIDEO input: lazy VIDEOs,
        each image output carrying the node's first mask output as its alpha (else the first frame input's alpha).
        """
        clips = {name: footage.image for name, footage in self.footage.items()}
        clips |= {name: as_matte(footage.image, self.meaning) for name, footage in self.mattes.items()}
        outputs = list(record(**clips, **self.options))
        shown = [index for index, kind in enumerate(self.kinds) if kind != "value"]
        if self.streaming:
            computed = self._videos([outputs[index] for index in shown], [self.kinds[index] for index in shown])
        else:
            given = [as_matte(outputs[i], self.meaning) if self.kinds[i] == "mask" else outputs[i] for i in shown]
            computed = materialize_all(given, progress=NodeProgress(max(clip.frames for clip in given)))
        for index, value in zip(shown, computed, strict=True):
            outputs[index] = value
        return io.NodeOutput(*outputs)

    def _videos(self, outputs: Sequence[Clip], kinds: Sequence[str]) -> list[Any]:
        """Lazy VIDEOs of a step's outputs: mattes as matte videos, images with the step's matte as alpha."""
        given = [*self.footage.values(), *self.mattes.values()]
        fps = outputs[0].fps or next((footage.fps for footage in given if footage.video and footage.fps), None)
        mattes = [clip for clip, kind in zip(outputs, kinds, strict=True) if kind == "mask"]
        alpha = mattes[0] if mattes else next(iter(self.footage.values())).alpha
        return [
            LazyVideo(clip, alpha, fps) if kind == "image" else matte_video(as_matte(clip, self.meaning), fps)
            for clip, kind in zip(outputs, kinds, strict=True)
        ]


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


def as_matte(clip: Clip | None, meaning: str) -> Clip | None:
    """A mask clip in WorldKit's meaning (1 = solid) from one in `meaning`, or back: the flip is its own inverse."""
    if clip is None or meaning == MASK_MEANINGS[0]:
        return clip
    return mapped(clip, lambda block: 1.0 - block, clip.frame_shape)
