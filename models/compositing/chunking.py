"""Streaming over frames in chunks (progress is reported per chunk), each chunk's frames spread over the cores."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import ParamSpec, TypeVar

import cv2
import torch

Progress = Callable[[int], None]
"""Called after each chunk with the number of frames it finished; may raise to stop the work."""

Params = ParamSpec("Params")
Result = TypeVar("Result")


def chunk_slices(frames: int, chunk_frames: int) -> Iterator[slice]:
    """Consecutive frame ranges of at most `chunk_frames` frames covering `frames`."""
    step = max(1, int(chunk_frames))
    for start in range(0, frames, step):
        yield slice(start, min(frames, start + step))


def cores() -> int:
    """The CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@functools.cache
def _frame_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=cores(), thread_name_prefix="worldkit-frames")


# A forked child inherits the pool without its threads, so work queued there would never run: it gets a new pool.
os.register_at_fork(after_in_child=_frame_pool.cache_clear)


def map_frames(work: Callable[[int], Result], indices: Iterable[int]) -> list[Result]:
    """`work(index)` for each frame index, one frame per core at a time; the results in order.

    OpenCV, numpy and torch kernels release the GIL, so frames processed on different threads run in parallel;
    `work` must only write to its own frame and must not call `map_frames` itself (the pool's threads would wait on
    each other). The first error raised by any frame is raised here. Inference mode is per thread, so the caller's
    (ComfyUI runs nodes under it) is carried over to the threads.
    """
    inference = torch.is_inference_mode_enabled()

    def in_caller_mode(index: int) -> Result:
        with torch.inference_mode(inference):
            return work(index)

    return list(_frame_pool().map(in_caller_mode, indices))


def started(work: Callable[[], Result]) -> Future[Result]:
    """`work` begun on the frame pool while the caller goes on: frames the caller maps next queue behind it and fill
    the other cores meanwhile. Its result (or its error) comes from `.result()`; `work` must not call `map_frames`."""
    return _frame_pool().submit(work)


def each_frame(work: Callable[[int], None], frames: slice) -> None:
    """`map_frames` over a chunk of frames, for work that writes its results into output frames."""
    map_frames(work, range(frames.start, frames.stop))


def report(progress: Progress | None, frames: slice) -> None:
    """Tell the caller a chunk is done."""
    if progress is not None:
        progress(frames.stop - frames.start)


def frame_threads(function: Callable[Params, Result]) -> Callable[Params, Result]:
    """Run `function` with torch and OpenCV single-threaded, restoring their settings afterwards.

    The engine spreads frames over the cores itself (`map_frames`), each frame's kernels being small and
    cache-resident; torch's OpenMP pool or OpenCV's splitting every kernel on top of that would only oversubscribe
    the cores (at 720p the streamed chain runs about 7 % faster without OpenCV's).
    """

    @functools.wraps(function)
    def wrapper(*args: Params.args, **kwargs: Params.kwargs) -> Result:
        previous = torch.get_num_threads(), cv2.getNumThreads()
        torch.set_num_threads(1)
        cv2.setNumThreads(1)
        try:
            return function(*args, **kwargs)
        finally:
            torch.set_num_threads(previous[0])
            cv2.setNumThreads(previous[1])

    return wrapper
