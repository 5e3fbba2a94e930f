"""What a lazy clip is: frames [start, stop) produced on request by a reader, from memory, a file or a step.

A producer reads its inputs through the `FrameReader` interface defined here; reader.py's `Reader` implements it,
so this module imports nothing of the reader. A producer's outputs have a place: the CPU (None) or the device a step
computes on; a step says where it reads each input, and the reader moves blocks between places (see reader.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any, Protocol

import numpy as np
import torch

from ..compositing import chunking
from ..compositing.checks import sources_checked

CORE_BLOCK_BYTES = 12 * 1024**2
"""About how many bytes of float RGB frames a block holds per core, since a block's frames run one a core: on two
cores 2 frames at 720p and 1 at 1080p and above."""
MAX_BLOCK_BYTES = 96 * 1024**2
"""The most a block holds whatever the cores (each step's block and working buffers add up over a chain): on 16
cores 8 frames at 720p, 4 at 1080p, 1 at 4K."""
MAX_BLOCK_FRAMES = 8

Frames = tuple[torch.Tensor, ...]
"""One produce call's outputs, each [frames, ...] for the same frames."""
Place = torch.device | None
"""Where frames lie: None for the CPU (where ComfyUI, the decoders and the writers hold them), else a compute device."""


def block_frames_for(height: int, width: int, cores: int | None = None) -> int:
    """Frames per block at this frame size, on this machine's cores (or `cores`)."""
    budget = min(CORE_BLOCK_BYTES * (cores or chunking.cores()), MAX_BLOCK_BYTES)
    return int(np.clip(budget // max(1, height * width * 3 * 4), 1, MAX_BLOCK_FRAMES))


class FrameReader(Protocol):
    """What a producer reads its inputs through during one pass (reader.py's Reader)."""

    state: dict[int, Any]
    """Per-pass resources of producers, by id(producer) (a source's decoder)."""

    def read(self, clip: Clip, start: int, stop: int, place: Place = None) -> torch.Tensor:
        """Frames [start, stop) of `clip`, on `place`."""


class Producer:
    """Something a Reader asks for frames: its outputs for frames [start, stop), computed in one go.

    `lookback` is how far below the frames it last asked for it may ask its inputs again (its context), so the
    Reader keeps that many of each input's frames between blocks and drops the rest.
    """

    frames: int
    lookback: int = 0

    def inputs(self) -> Sequence[Clip]:
        return ()

    def place(self, index: int) -> Place:
        """Where output `index` is produced: on the CPU unless a step computes it on a device."""
        return None

    def produce(self, reader: FrameReader, start: int, stop: int) -> Frames:
        raise NotImplementedError


class Clip:
    """Frames of one kind (IMAGE [H, W, 3] or MASK [H, W]) on request: output `index` of a producer."""

    def __init__(self, producer: Producer, index: int, frame_shape: tuple[int, ...], fps: Fraction | None) -> None:
        self.producer, self.index, self.frame_shape, self.fps = producer, index, tuple(frame_shape), fps

    @property
    def frames(self) -> int:
        return self.producer.frames

    @property
    def height(self) -> int:
        return self.frame_shape[0]

    @property
    def width(self) -> int:
        return self.frame_shape[1]


class Batch(Producer):
    """IMAGE or MASK batches already in memory (a single frame stands for every frame)."""

    def __init__(self, *tensors: torch.Tensor) -> None:
        self.tensors = tensors
        self.frames = tensors[0].shape[0]

    def produce(self, reader: FrameReader, start: int, stop: int) -> Frames:
        return tuple(tensor[start:stop] for tensor in self.tensors)


def batch_clip(tensor: torch.Tensor, fps: Fraction | None = None) -> Clip:
    """An IMAGE or MASK batch as a clip; checked already (`as_image`, `as_mask`), since steps do not scan it again."""
    return Clip(Batch(tensor), 0, tuple(tensor.shape[1:]), fps)


Work = Callable[..., torch.Tensor | Frames]
"""work(frames, *input_blocks) -> output block(s): `frames` is the slice of the clip the blocks hold (context
included), each input block is that many frames (None for an input left out)."""


class Step(Producer):
    """An engine operation applied to its inputs' frames block by block, with `before`/`after` frames of context
    either side where the clip has them; each output keeps only the frames asked for. `reads` says where each input
    is read and `places` where each output is produced (all on the CPU when not given)."""

    def __init__(
        self,
        work: Work,
        inputs: Sequence[Clip | None],
        frames: int | None = None,
        before: int = 0,
        after: int = 0,
        reads: Sequence[Place] = (),
        places: Sequence[Place] = (),
    ) -> None:
        self.work, self.sources, self.before, self.after = work, list(inputs), before, after
        self.reads, self.places = list(reads) or [None] * len(self.sources), tuple(places)
        present = [clip for clip in self.sources if clip is not None]
        self.frames = frames if frames is not None else max(clip.frames for clip in present)
        self.lookback = before + after

    def inputs(self) -> Sequence[Clip]:
        return [clip for clip in self.sources if clip is not None]

    def place(self, index: int) -> Place:
        return self.places[index] if self.places else None

    def produce(self, reader: FrameReader, start: int, stop: int) -> Frames:
        first, last = max(0, start - self.before), min(self.frames, stop + self.after)
        blocks = [
            None if clip is None else reader.read(clip, first, last, place)
            for clip, place in zip(self.sources, self.reads, strict=True)
        ]
        with sources_checked():  # every clip's source was checked when recorded
            result = self.work(slice(first, last), *blocks)
        outputs = result if isinstance(result, tuple) else (result,)
        if (first, last) == (start, stop):
            return outputs
        return tuple(out[start - first : stop - first] for out in outputs)


def step_clips(
    work: Work,
    inputs: Sequence[Clip | None],
    shapes: Sequence[tuple[int, ...]],
    fps: Fraction | None = None,
    **options,
) -> list[Clip]:
    """The outputs of `work` over `inputs` as clips of the given frame shapes (see Step)."""
    step = Step(work, inputs, **options)
    rate = fps if fps is not None else next((clip.fps for clip in step.inputs() if clip.fps), None)
    return [Clip(step, index, shape, rate) for index, shape in enumerate(shapes)]


def sample_picks(frames: int, count: int) -> list[int]:
    """Up to `count` evenly spaced frame indices, as the engine's clip-wide measurements pick them."""
    return [int(i) for i in np.unique(np.linspace(0, frames - 1, min(frames, count)).round().astype(int))]
