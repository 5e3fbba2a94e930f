"""One progress-and-interrupt adapter for every node: ComfyUI's progress bar, checked for cancel on each tick."""

from __future__ import annotations

from typing import Any

import comfy.model_management
import comfy.utils


def check_interrupt() -> None:
    """Raises ComfyUI's interrupt exception when the user cancelled the prompt."""
    comfy.model_management.throw_exception_if_processing_interrupted()


class NodeProgress:
    """Progress of one node's work in units (frames, views, steps); each tick first checks for cancel.

    Called with a count it advances by that many units, so it serves as the engine's chunk callback.
    """

    def __init__(self, total: int) -> None:
        self.bar = comfy.utils.ProgressBar(max(int(total), 1))

    @property
    def done(self) -> int:
        return int(self.bar.current)

    def __call__(self, count: int = 1, preview: Any = None) -> None:
        check_interrupt()
        self.bar.update_absolute(self.bar.current + count, None, preview)
