"""Collecting the suite depends on nothing else installed: a site-packages package named `tests` (color-matcher
ships one) must not hide this repository's test helpers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PACK_DIR = Path(__file__).resolve().parents[2]


def test_the_suite_collects_with_another_tests_package_first_on_the_path(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "__init__.py").write_text('"""Another distribution\'s top-level tests package."""\n')
    paths = [str(tmp_path), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=PACK_DIR,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(paths)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = collected.stdout + collected.stderr
    assert collected.returncode == 0, report
    assert "tests/core/test_scoring.py::" in report and "tests/host/test_sampler.py::" in report, report
