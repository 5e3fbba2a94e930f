"""One pass over a graph of clips: each producer's recent frames kept in a window, shared by all its readers.

Frames are asked for in rising order block by block. A producer computes only the frames beyond those it holds,
so a source read by several steps is decoded once; once every reader of a producer has read its newest block
(or after each block, `trim`), its window drops the frames below what its readers' context may still ask for.
Asking below a window (a statistics sample) restarts it there.

Where a block lies is decided here and only here: a step reads each input on the place it asks for (the CPU, or
the device it computes on), and a window keeps each block's copy on each place it was asked on, so a block goes to
a device at most once and comes back at most once, however many steps read it. A chain of steps on one device hands
its blocks from step to step there; frames come back to the CPU only where something on the CPU reads them (a
writer, an IMAGE batch for ComfyUI, a step that computes on the CPU).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch

from ..compositing import device as gpu
from .clips import Batch, Clip, Place, Producer


def moved_to(frames: torch.Tensor, source: Place, place: Place) -> torch.Tensor:
    """Frames produced on `source` as they are on `place`: uploaded to a device, or downloaded to the CPU."""
    if place == source:
        return frames
    return gpu.download(frames) if place is None else gpu.upload(frames, place)


class Chunk:
    """One block a producer computed: its outputs where they were produced, and their copies on other places."""

    def __init__(self, first: int, outputs: tuple[torch.Tensor, ...], places: tuple[Place, ...]) -> None:
        self.first, self.outputs, self.places = first, outputs, places
        self.copies: dict[tuple[int, Place], torch.Tensor] = {}

    @property
    def last(self) -> int:
        return self.first + self.outputs[0].shape[0]

    def output(self, index: int, place: Place) -> torch.Tensor:
        """Output `index` on `place`, moved there the first time it is asked for."""
        if place == self.places[index]:
            return self.outputs[index]
        if (index, place) not in self.copies:
            self.copies[index, place] = moved_to(self.outputs[index], self.places[index], place)
        return self.copies[index, place]


class Window:
    """Consecutive computed frames [start, stop) of one producer, as the blocks they were computed in. A one-frame
    producer's frame stands for every frame: its window keeps it for the whole pass (computed and moved once)."""

    def __init__(self, start: int, lasting: bool = False) -> None:
        self.start = self.stop = start
        self.lasting = lasting
        self.chunks: list[Chunk] = []
        self.reads = 0  # since the window last grew

    def add(self, outputs: tuple[torch.Tensor, ...], places: tuple[Place, ...]) -> None:
        self.chunks.append(Chunk(self.stop, outputs, places))
        self.stop += outputs[0].shape[0]
        self.reads = 0

    def frames(self, index: int, start: int, stop: int, place: Place) -> torch.Tensor:
        """Frames [start, stop) of output `index` on `place`."""
        pieces = [
            chunk.output(index, place)[max(start, chunk.first) - chunk.first : min(stop, chunk.last) - chunk.first]
            for chunk in self.chunks
            if chunk.last > start and chunk.first < stop
        ]
        return pieces[0] if len(pieces) == 1 else torch.cat(pieces)

    def drop_below(self, frame: int) -> None:
        while self.chunks and self.chunks[0].last <= frame and not self.lasting:
            self.chunks.pop(0)
        self.start = self.chunks[0].first if self.chunks else self.stop


def producers_of(roots: Iterable[Clip]) -> list[Producer]:
    """Every producer the roots depend on, each once, inputs before the steps that read them."""
    ordered: list[Producer] = []
    seen: set[int] = set()

    def visit(producer: Producer) -> None:
        if id(producer) in seen:
            return
        seen.add(id(producer))
        for clip in producer.inputs():
            visit(clip.producer)
        ordered.append(producer)

    for root in roots:
        visit(root.producer)
    return ordered


class Reader:
    """Frames of clips for one pass; `state` holds per-pass resources of producers (a source's decoder)."""

    def __init__(self, roots: Iterable[Clip] = ()) -> None:
        self.windows: dict[int, Window] = {}
        self.state: dict[int, Any] = {}
        self.keep: dict[int, int] = {}
        self.readers: dict[int, int] = {}
        roots = list(roots)
        for root in roots:
            self.readers[id(root.producer)] = self.readers.get(id(root.producer), 0) + 1
        for producer in producers_of(roots):
            for clip in producer.inputs():
                key = id(clip.producer)
                self.keep[key] = max(self.keep.get(key, 0), producer.lookback)
                self.readers[key] = self.readers.get(key, 0) + 1

    def read(self, clip: Clip, start: int, stop: int, place: Place = None) -> torch.Tensor:
        """Frames [start, stop) of `clip` on `place` (None: the CPU): a one-frame clip stands for every frame, a
        shorter one holds its last."""
        count = clip.frames
        if count == 1 or start >= count:
            frame = self._output(clip, count - 1, count, place)
            return frame.expand(stop - start, *frame.shape[1:])
        if stop <= count:
            return self._output(clip, start, stop, place)
        held = self.read(clip, count, stop, place)
        return torch.cat([self._output(clip, start, count, place), held])

    def _output(self, clip: Clip, start: int, stop: int, place: Place) -> torch.Tensor:
        producer = clip.producer
        if isinstance(producer, Batch) and place is None:  # in memory already: no window needed
            return producer.produce(self, start, stop)[clip.index]
        key = id(producer)
        window = self.windows.get(key)
        if window is None or start < window.start or start > window.stop:
            window = self.windows[key] = Window(start, lasting=producer.frames == 1)
        if stop > window.stop:
            outputs = producer.produce(self, window.stop, stop)
            window.add(outputs, tuple(producer.place(index) for index in range(len(outputs))))
        frames = window.frames(clip.index, start, stop, place)
        window.reads += 1
        if window.reads == self.readers.get(key):  # every reader has this block: keep only their context
            window.drop_below(window.stop - self.keep.get(key, 0))
        return frames

    def trim(self) -> None:
        """After a block: drop the frames no reader can ask for again."""
        for key, window in self.windows.items():
            window.drop_below(window.stop - self.keep.get(key, 0))

    def close(self) -> None:
        """Release the pass's resources (decoder threads, open files)."""
        for resource in self.state.values():
            resource.close()
        self.state.clear()
        self.windows.clear()


def materialize(clip: Clip) -> torch.Tensor:
    """The whole clip as one batch, for consumers that need frames in memory."""
    return materialize_all([clip])[0]


def materialize_all(
    clips: list[Clip], block: int = 8, progress: Callable[[int], None] | None = None
) -> list[torch.Tensor]:
    """Several clips of the same length as batches in one pass (outputs of one step computed once)."""
    reader = Reader(clips)
    frames = max(clip.frames for clip in clips)
    outs = [torch.empty(frames, *clip.frame_shape) for clip in clips]
    try:
        for start in range(0, frames, block):
            stop = min(frames, start + block)
            for clip, out in zip(clips, outs, strict=True):
                out[start:stop] = reader.read(clip, start, stop)
            reader.trim()
            if progress is not None:
                progress(stop - start)
    finally:
        reader.close()
    return outs
