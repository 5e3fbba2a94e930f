"""Two test tiers: core (no ComfyUI) and host (real ComfyUI at COMFYUI_PATH)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
HOST_DIR = TESTS_DIR / "host"


def comfyui_path() -> Path:
    return Path(os.environ.get("COMFYUI_PATH", "/opt/ComfyUI"))


def host_skip_reason() -> str | None:
    path = comfyui_path()
    if not (path / "main.py").is_file():
        return f"host tier skipped: no ComfyUI at COMFYUI_PATH={path} (set COMFYUI_PATH to a ComfyUI v0.8.0 checkout)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = host_skip_reason()
    for item in items:
        if HOST_DIR in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.host)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


def pytest_report_header(config: pytest.Config) -> str:
    return host_skip_reason() or f"host tier: ComfyUI at {comfyui_path()}"


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    """One line with the host tier's counts, then each distinct reason a test was skipped, once."""
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    reasons: dict[str, int] = {}
    for outcome in counts:
        for report in terminalreporter.stats.get(outcome, []):
            if outcome == "skipped" and isinstance(report.longrepr, tuple):
                reasons[report.longrepr[2]] = reasons.get(report.longrepr[2], 0) + 1
            if "host" in getattr(report, "keywords", {}):
                counts[outcome] += 1
    terminalreporter.write_line(
        f"host tier: {counts['passed'] + counts['failed']} ran ({counts['passed']} passed, "
        f"{counts['failed']} failed), {counts['skipped']} skipped"
    )
    for reason, number in reasons.items():
        terminalreporter.write_line(f"skipped {number}: {reason.removeprefix('Skipped: ')}")
