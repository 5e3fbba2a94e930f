"""The device the GVFX steps compute on: ComfyUI's own when it is a GPU, where the element was just rendered; none
on a CPU-only ComfyUI, where the engine keeps its CPU path."""

from __future__ import annotations

import comfy.model_management
import torch


def compute_device() -> torch.device | None:
    """ComfyUI's torch device, or None when that is the CPU."""
    device = comfy.model_management.get_torch_device()
    return None if device.type == "cpu" else device
