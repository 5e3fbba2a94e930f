"""The device the GVFX steps compute on: ComfyUI's own when it is a GPU, where the element was just rendered; none
on a CPU-only ComfyUI, where the engine keeps its CPU path. WORLDKIT_GVFX_DEVICE overrides the choice: `cpu-path`
keeps the CPU path on a GPU machine, a torch device name (`cuda:1`, or `cpu` to run the device path on the CPU, as
the host tests do) picks that device."""

from __future__ import annotations

import os

import comfy.model_management
import torch

DEVICE_VARIABLE = "WORLDKIT_GVFX_DEVICE"
CPU_PATH = "cpu-path"


def compute_device() -> torch.device | None:
    """The device the steps compute on, or None for the CPU path."""
    chosen = os.environ.get(DEVICE_VARIABLE, "").strip()
    if chosen == CPU_PATH:
        return None
    if chosen:
        try:
            return _indexed(torch.device(chosen))
        except RuntimeError as error:
            raise ValueError(
                f"{DEVICE_VARIABLE}={chosen!r} is not a torch device; set it to {CPU_PATH!r}, 'cpu', 'cuda' or "
                "'cuda:N', or unset it to use ComfyUI's device."
            ) from error
    device = comfy.model_management.get_torch_device()
    return None if device.type == "cpu" else _indexed(device)


def _indexed(device: torch.device) -> torch.device:
    """`cuda` as the CUDA device it stands for (`cuda:0`), as tensors there name it: the streamed chain compares
    where blocks lie by device."""
    if device.type == "cuda" and device.index is None:
        return torch.device("cuda", torch.cuda.current_device())
    return device
