"""ComfyUI in the benchmark's own process: it is no installed package, so its folder goes on the path here, once."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

from worldkit.tools.tiny_wan import randomise, wan_vae

COMFYUI_PATH = Path(os.environ.get("COMFYUI_PATH", "/opt/ComfyUI"))


def import_comfyui() -> Path:
    """Make ComfyUI's top-level modules (comfy, nodes, comfy_extras) importable; the pack is `worldkit` already."""
    if not (COMFYUI_PATH / "main.py").is_file():
        raise SystemExit(f"No ComfyUI at COMFYUI_PATH={COMFYUI_PATH}: set COMFYUI_PATH to a ComfyUI v0.8.0 folder.")
    if str(COMFYUI_PATH) not in sys.path:
        sys.path.insert(0, str(COMFYUI_PATH))
    # ComfyUI's own `utils` package first, as its main.py imports it: else comfy/utils.py comes to stand under that
    # name while the nodes load, and server.py (which the pack's live previews import) fails on utils.install_util.
    importlib.import_module("utils.install_util")
    return COMFYUI_PATH


def seeded_wan_vae(dim: int, seed: int):
    """ComfyUI's own Wan 2.1 VAE class at base width `dim` (96 is the released one), seeded, as comfy.sd.VAE."""
    import comfy.sd

    return comfy.sd.VAE(sd=randomise(wan_vae(dim), seed))
