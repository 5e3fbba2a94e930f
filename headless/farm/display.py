"""One progress display for the whole farm: units done, and what each worker is rendering."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from ..progress import bar


class FarmDisplay:
    """Event lines (unit done, retried, failed) plus, on a terminal, one status line redrawn in place."""

    def __init__(self, total: int, stream: TextIO = sys.stderr, interval_s: float = 0.5):
        self.total, self.done, self.stream = total, 0, stream
        self.interactive = stream.isatty()
        self.interval_s, self._drawn = interval_s, 0.0

    def event(self, message: str) -> None:
        self._clear()
        self.stream.write(message + "\n")
        self.stream.flush()

    def unit_done(self, label: str, worker: str, seconds: float, score: float | None, skipped: bool = False) -> None:
        self.done += 1
        if skipped:
            return
        scored = "" if score is None else f", score {score:.4f}"
        self.event(f"[{self.done}/{self.total}] {label} on {worker} in {seconds:.1f} s{scored}")

    def status(self, running: dict[str, tuple[str, int, int]]) -> None:
        """``running``: worker → (unit label, step, steps)."""
        if not self.interactive or time.monotonic() - self._drawn < self.interval_s:
            return
        self._drawn = time.monotonic()
        parts = [f"{worker}: {label} {bar(step, steps, 10)}" for worker, (label, step, steps) in running.items()]
        line = f"{bar(self.done, self.total, 20)} {self.done}/{self.total} | " + " | ".join(parts or ["idle"])
        self.stream.write("\r" + line[:200].ljust(200))
        self.stream.flush()

    def _clear(self) -> None:
        if self.interactive:
            self.stream.write("\r" + " " * 200 + "\r")
