"""Three tiers: core (no ComfyUI), host (real ComfyUI at COMFYUI_PATH) and browser (host plus Chromium).

Locally a tier whose requirement is missing is skipped with one line saying which. With
WORLDKIT_REQUIRE_ALL_TIERS=1 (set by .ci/run) every such test fails instead, naming what is missing, so
CI cannot pass by skipping.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import settings

TESTS_DIR = Path(__file__).resolve().parent
HOST_DIR = TESTS_DIR / "host"
REQUIRE_FLAG = "WORLDKIT_REQUIRE_ALL_TIERS"

# CI (HYPOTHESIS_PROFILE=ci, set by .ci/run) replays the same fuzz examples every run, so its verdict is
# reproducible; local runs draw new examples and keep exploring.
settings.register_profile("ci", derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def comfyui_path() -> Path:
    return Path(os.environ.get("COMFYUI_PATH", "/opt/ComfyUI"))


def all_tiers_required() -> bool:
    return os.environ.get(REQUIRE_FLAG, "") not in ("", "0")


def host_skip_reason() -> str | None:
    path = comfyui_path()
    if not (path / "main.py").is_file():
        return f"host tier: no ComfyUI at COMFYUI_PATH={path} (set COMFYUI_PATH to a ComfyUI v0.8.0 checkout)"
    return None


def browser_skip_reason() -> str | None:
    missing = [
        name
        for name, present in (
            ("chromium", shutil.which("chromium") or shutil.which("chromium-browser")),
            ("chromedriver", shutil.which("chromedriver")),
            ("the selenium package", importlib.util.find_spec("selenium")),
        )
        if not present
    ]
    if missing:
        return (
            f"browser tests: {', '.join(missing)} not installed "
            "(apt-get install -y chromium chromium-driver; pip install -r requirements-dev.txt)"
        )
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    host_reason, browser_reason = host_skip_reason(), browser_skip_reason()
    for item in items:
        reason = None
        if HOST_DIR in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.host)
            reason = host_reason
        if item.get_closest_marker("browser") is not None:
            reason = reason or browser_reason
        if reason is None:
            continue
        if all_tiers_required():
            item.add_marker(pytest.mark.worldkit_missing(reason))
        else:
            item.add_marker(pytest.mark.skip(reason=reason))


def pytest_runtest_setup(item: pytest.Item) -> None:
    missing = item.get_closest_marker("worldkit_missing")
    if missing is not None:
        pytest.fail(f"{REQUIRE_FLAG} is set and {missing.args[0]}", pytrace=False)


def pytest_report_header(config: pytest.Config) -> list[str]:
    required = f"{REQUIRE_FLAG}=1: a missing tier fails" if all_tiers_required() else "a missing tier is skipped"
    return [
        host_skip_reason() or f"host tier: ComfyUI at {comfyui_path()}",
        browser_skip_reason() or "browser tests: Chromium, chromedriver and selenium found",
        required,
    ]


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
