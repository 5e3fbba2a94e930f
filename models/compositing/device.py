"""Where a GVFX step computes: the CPU path (OpenCV, frames spread over the cores) or, when ComfyUI runs on a GPU, that
device, which the nodes hand in (the engine never asks ComfyUI). On a device a step takes its block in parts that fit
the free memory, moves each part there once and brings its frames back to the CPU, as ComfyUI's IMAGE expects."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch

MEMORY_SHARE = 0.5  # of the device's free memory one part may take, leaving room for the kernels' temporaries


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
    """One part of a batch on the device (None stays None); a single-frame batch is used whole by every part."""
    if tensor is None:
        return None
    return (tensor if tensor.shape[0] == 1 else tensor[frames]).to(device, non_blocking=True)


def by_parts(
    device: torch.device,
    frames: int,
    frame_bytes: int,
    compute: Callable[[slice], tuple[torch.Tensor, ...]],
    outputs: tuple[torch.Tensor, ...],
) -> None:
    """Run `compute(part)` on the device part by part, copying its results into the CPU `outputs`."""
    for part in parts(device, frames, frame_bytes):
        for out, result in zip(outputs, compute(part), strict=True):
            out[part] = result.cpu()
