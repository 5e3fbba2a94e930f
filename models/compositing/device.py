"""Where a GVFX step computes: the CPU path (OpenCV, frames spread over the cores) or, when ComfyUI runs on a GPU, that
device, which the nodes hand in (the engine never asks ComfyUI). On a device a step takes its block in parts that fit
the free memory and gives its frames back where its frames came from: a block handed in on the device (a streamed
chain keeps its blocks there, see streaming/reader.py) stays there, a CPU block comes back to the CPU, as ComfyUI's
IMAGE expects. Every move between the CPU and a device goes through `upload` and `download`."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import cv2
import numpy as np
import torch

from . import tensor_ops
from .checks import new_frames

MEMORY_SHARE = 0.5  # of the device's free memory one part may take, leaving room for the kernels' temporaries


def upload(tensor: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Frames moved from the CPU to `device` (without waiting where the device allows it)."""
    return tensor.to(device, non_blocking=True)


def download(tensor: torch.Tensor) -> torch.Tensor:
    """Frames brought back from a device to the CPU."""
    return tensor.cpu()


def reduced(frames: torch.Tensor, size: tuple[int, int]) -> np.ndarray:
    """A part's frames reduced on their device to a coarse grid of `size` (width, height) as `frame_ops.resize`
    reduces them, brought to the CPU for work done there on small planes: the full-size frames stay on the device."""
    return download(tensor_ops.resize(frames, *size)).numpy()


def enlarged(
    small: list[np.ndarray], width: int, height: int, device: torch.device, nearest: bool = False
) -> torch.Tensor:
    """Coarse planes made on the CPU, one a frame, moved to `device` and enlarged there as `frame_ops.resize`
    (or OpenCV's nearest neighbour) enlarges them."""
    planes = upload(torch.from_numpy(np.stack(small)), device)
    return tensor_ops.resize(planes, width, height, cv2.INTER_NEAREST if nearest else None)


def free_bytes(device: torch.device) -> int | None:
    """Free memory on a CUDA device; None where torch cannot say (the CPU), where one part takes the whole block."""
    if device.type != "cuda":
        return None
    free, _ = torch.cuda.mem_get_info(device)
    return int(free)


def part_frames(device: torch.device, frames: int, frame_bytes: int) -> int:
    """Frames per part: as many of `frame_bytes` each (inputs, outputs and temporaries) as half the free memory
    holds, at least one."""
    free = free_bytes(device)
    if free is None:
        return max(1, frames)
    return max(1, min(frames, int(free * MEMORY_SHARE) // max(1, frame_bytes)))


def parts(device: torch.device, frames: int, frame_bytes: int) -> Iterator[slice]:
    """The block's frames in consecutive parts that fit the device (see `part_frames`)."""
    step = part_frames(device, frames, frame_bytes)
    for start in range(0, frames, step):
        yield slice(start, min(frames, start + step))


def moved(tensor: torch.Tensor | None, device: torch.device, frames: slice) -> torch.Tensor | None:
    """One part of a batch on the device (None stays None; a part already there is not moved); a single-frame batch
    is used whole by every part."""
    if tensor is None:
        return None
    part = tensor if tensor.shape[0] == 1 else tensor[frames]
    return part if on(part, device) else upload(part, device)


def on(tensor: torch.Tensor, device: torch.device) -> bool:
    """Whether `tensor` lies on `device` (`cuda` naming the current CUDA device, as torch places it)."""
    if tensor.device.type != device.type:
        return False
    current = torch.cuda.current_device() if device.type == "cuda" else None
    return (tensor.device.index if tensor.device.index is not None else current) == (
        device.index if device.index is not None else current
    )


def by_parts(
    device: torch.device,
    frames: int,
    frame_bytes: int,
    compute: Callable[[slice], tuple[torch.Tensor, ...]],
    home: torch.device,
) -> tuple[torch.Tensor, ...]:
    """`compute(part)` on the device part by part, its results gathered on `home` (the device the step's frames came
    from): one part's results are used as they are, several are copied into one batch."""
    outputs: list[torch.Tensor] = []
    for part in parts(device, frames, frame_bytes):
        results = tuple(result if on(result, home) else download(result) for result in compute(part))
        if part.stop - part.start == frames:
            return results
        if not outputs:
            outputs = [_batch(home, frames, result) for result in results]
        for out, result in zip(outputs, results, strict=True):
            out[part] = result
    return tuple(outputs)


def _batch(home: torch.device, frames: int, like: torch.Tensor) -> torch.Tensor:
    """An output batch of `frames` frames shaped as `like`'s, on `home` (the CPU's in numpy's huge pages)."""
    if home.type == "cpu":
        return new_frames(frames, *like.shape[1:])
    return torch.empty((frames, *like.shape[1:]), dtype=like.dtype, device=home)
