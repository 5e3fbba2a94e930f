"""This process's resident memory from /proc (Linux): the current size, and the peak since it was last reset."""

from __future__ import annotations

from pathlib import Path


def resident_kib(field: str) -> int:
    """`VmRSS` (now) or `VmHWM` (the peak) of /proc/self/status, in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def reset_peak() -> None:
    """Start the peak (VmHWM) afresh from the current size, so it measures what runs next."""
    Path("/proc/self/clear_refs").write_text("5")
