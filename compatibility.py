"""Which ComfyUI the pack needs, checked before any of its nodes import ComfyUI's newer APIs."""

from __future__ import annotations

import re

REQUIRES_COMFYUI = (0, 8, 0)  # pyproject.toml [tool.comfy] requires-comfyui says the same (a core test checks)


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def refusal(installed: str | None) -> str | None:
    """The one log line for a ComfyUI older than the pack needs; None when it is new enough or unknown."""
    if installed is None or version_tuple(installed) >= REQUIRES_COMFYUI:
        return None
    needed = ".".join(map(str, REQUIRES_COMFYUI))
    return f"WorldKit needs ComfyUI {needed} or newer (this is {installed}); update ComfyUI. WorldKit is not loaded."


def installed_comfyui() -> str | None:
    """ComfyUI's version when the pack is loaded by ComfyUI (its comfyui_version module), else None."""
    try:
        from comfyui_version import __version__
    except ImportError:
        return None
    return str(__version__)
