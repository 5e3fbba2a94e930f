"""The frontend's pure modules (tests/js, node's built-in test runner) run inside `python -m pytest`.

Without node the test is skipped with one line, or fails where WORLDKIT_REQUIRE_ALL_TIERS=1 asks for every tier.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

PACK_DIR = Path(__file__).resolve().parents[2]
NODE_TIMEOUT_S = 120


def node_binary() -> str:
    node = shutil.which("node")
    if node:
        return node
    reason = "node is not installed (apt-get install -y nodejs); the JS tests in tests/js did not run"
    if os.environ.get("WORLDKIT_REQUIRE_ALL_TIERS") == "1":
        pytest.fail(f"{reason}, and WORLDKIT_REQUIRE_ALL_TIERS=1 requires them")
    pytest.skip(reason)


def test_the_js_tests_pass_under_node():
    completed = subprocess.run(
        [node_binary(), "--test", "tests/js/"],
        cwd=PACK_DIR,
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT_S,
    )
    assert completed.returncode == 0, (
        f"node --test tests/js/ failed:\n{completed.stdout[-6000:]}\n{completed.stderr[-3000:]}"
    )
