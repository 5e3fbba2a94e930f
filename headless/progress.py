"""Terminal progress for headless runs, drawn from ComfyUI's websocket events."""

from __future__ import annotations

import sys
from typing import TextIO

BAR_WIDTH = 30


def bar(value: float, maximum: float, width: int = BAR_WIDTH) -> str:
    filled = round(width * min(max(value / maximum, 0.0), 1.0)) if maximum else 0
    return "[" + "#" * filled + "-" * (width - filled) + "]"


class ProgressPrinter:
    """Prints each node as it starts and a bar for nodes that report progress (samplers, encoders)."""

    def __init__(self, stream: TextIO = sys.stderr):
        self.stream = stream
        self._bar_open = False

    def _end_bar(self) -> None:
        if self._bar_open:
            self.stream.write("\n")
            self._bar_open = False

    def __call__(self, event: dict) -> None:
        kind, data = event.get("type"), event.get("data") or {}
        if kind == "executing" and data.get("node") is not None:
            self._end_bar()
            node = str(data["node"])
            self.stream.write(f"node {node} ({data.get('class_type', '?')})\n")
        elif kind == "progress":
            value, maximum = data.get("value", 0), data.get("max", 0)
            self.stream.write(f"\r  {bar(value, maximum)} {value}/{maximum}")
            self._bar_open = True
        elif kind == "execution_cached" and data.get("nodes"):
            self._end_bar()
            self.stream.write(f"cached: {', '.join(map(str, data['nodes']))}\n")
        elif kind in ("execution_success", "execution_error", "execution_interrupted"):
            self._end_bar()
        self.stream.flush()
