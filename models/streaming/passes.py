"""The streaming pass: a clip (and its alpha) pulled block by block and written by every sink, once.

Three things overlap: the sources' decoder threads run ahead, the steps compute the current block (each spreading
its frames over the cores, or on ComfyUI's GPU), and a writer thread encodes the previous block (its frames
prepared over the cores, the encoder threaded on every core: sinks.py). Progress is reported after each
block and may raise to stop the pass; any error makes every sink remove what it wrote.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import torch

from ..compositing import export
from ..compositing.chunking import frame_threads
from .clips import Clip, batch_clip, block_frames_for
from .ops import sizes_match
from .reader import Reader
from .sinks import Sink, VideoSink

Progress = Callable[[int], None]


class WriterThread:
    """Feeds blocks to the sinks in a thread of its own, one block queued behind the one being written."""

    def __init__(self, sinks: Sequence[Sink]) -> None:
        self.sinks = sinks
        self.blocks: queue.Queue = queue.Queue(maxsize=1)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True, name="worldkit-write")
        self.thread.start()

    def _run(self) -> None:
        while (item := self.blocks.get()) is not None:
            if self.error is not None:
                continue
            start, frames, alpha = item
            try:
                for sink in self.sinks:
                    sink.write_block(start, frames, alpha)
            except BaseException as error:  # raised in the pass's own thread by `put` or `close`
                self.error = error

    def put(self, start: int, frames: torch.Tensor, alpha: torch.Tensor | None) -> None:
        self._raise()
        self.blocks.put((start, frames, alpha))

    def close(self) -> None:
        """Wait for the queued blocks to be written."""
        self.blocks.put(None)
        self.thread.join()
        self._raise()

    def stop(self) -> None:
        """After a failed pass: write nothing more and end the thread (its own error, if any, is dropped)."""
        self.error = self.error or RuntimeError("the pass stopped")
        self.blocks.put(None)
        self.thread.join()

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error


@frame_threads
def run_pass(
    image: Clip,
    alpha: Clip | None,
    sinks: Sequence[Sink],
    progress: Progress | None = None,
    block: int | None = None,
) -> None:
    """Stream `image` (with `alpha`, or opaque) through every sink, `block` frames at a time."""
    step = block or block_frames_for(image.height, image.width)
    reader = Reader([image] if alpha is None else [image, alpha])
    writer = WriterThread(sinks)
    try:
        sizes_match(("alpha", alpha, "image", image))  # before any frame is decoded; the sinks remove their files
        for start in range(0, image.frames, step):
            stop = min(image.frames, start + step)
            frames = reader.read(image, start, stop)
            mask = None if alpha is None else reader.read(alpha, start, stop)
            writer.put(start, frames, mask)
            reader.trim()
            if progress is not None:
                progress(stop - start)
        writer.close()
        for sink in sinks:
            sink.finish()
    except BaseException:
        writer.stop()
        for sink in sinks:
            sink.abort()
        raise
    finally:
        reader.close()


def write_video(path: Path, image: torch.Tensor, alpha: torch.Tensor, fps: float, video_format: str) -> None:
    """An RGBA video in one of export.VIDEO_FORMATS from IMAGE and MASK batches."""
    image, alpha = export.rgba_frames(image, alpha)
    sink = VideoSink(Path(path), video_format, fps, (image.shape[1], image.shape[2]))
    run_pass(batch_clip(image), batch_clip(alpha), [sink])
