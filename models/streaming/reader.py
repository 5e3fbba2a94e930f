"""One pass over a graph of clips: each producer's recent frames kept in a window, shared by all its readers.

Frames are asked for in rising order block by block. A producer computes only the frames beyond those it holds,
so a source read by several steps is decoded once; once every reader of a producer has read its newest block
(or after each block, `trim`), its window drops the frames below what its readers' context may still ask for.
Asking below a window (a statistics sample) restarts it there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch

from .clips import Batch, Clip, Frames, Producer


class Window:
    """Consecutive computed frames [start, stop) of one producer, as the blocks they were computed in."""

    def __init__(self, start: int) -> None:
        self.start = self.stop = start
        self.chunks: list[tuple[int, Frames]] = []
        self.reads = 0  # since the window last grew

    def add(self, outputs: Frames) -> None:
        self.chunks.append((self.stop, outputs))
        self.stop += outputs[0].shape[0]
        self.reads = 0

    def frames(self, start: int, stop: int) -> Frames:
        pieces = []
        for first, outputs in self.chunks:
            last = first + outputs[0].shape[0]
            if last > start and first < stop:
                pieces.append(tuple(out[max(start, first) - first : min(stop, last) - first] for out in outputs))
        if len(pieces) == 1:
            return pieces[0]
        return tuple(torch.cat(parts) for parts in zip(*pieces, strict=True))

    def drop_below(self, frame: int) -> None:
        while self.chunks and self.chunks[0][0] + self.chunks[0][1][0].shape[0] <= frame:
            self.chunks.pop(0)
        self.start = self.chunks[0][0] if self.chunks else self.stop


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

    def read(self, clip: Clip, start: int, stop: int) -> torch.Tensor:
        """Frames [start, stop) of `clip`: a one-frame clip stands for every frame, a shorter one holds its last."""
        count = clip.frames
        if count == 1 or start >= count:
            frame = self._outputs(clip.producer, count - 1, count)[clip.index]
            return frame.expand(stop - start, *frame.shape[1:])
        if stop <= count:
            return self._outputs(clip.producer, start, stop)[clip.index]
        held = self.read(clip, count, stop)
        return torch.cat([self._outputs(clip.producer, start, count)[clip.index], held])

    def _outputs(self, producer: Producer, start: int, stop: int) -> Frames:
        if isinstance(producer, Batch):
            return producer.produce(self, start, stop)
        key = id(producer)
        window = self.windows.get(key)
        if window is None or start < window.start or start > window.stop:
            window = self.windows[key] = Window(start)
        if stop > window.stop:
            window.add(producer.produce(self, window.stop, stop))
        frames = window.frames(start, stop)
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
