"""Each rule of the pack is written once: these patterns may appear only in their home module."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PACK_DIR = Path(__file__).resolve().parents[2]
SOURCE_FOLDERS = ("models", "nodes", "headless", "tools", "benchmarks")

# rule -> (pattern that writes the rule down, the one module allowed to hold it)
RULES = {
    "Wan's 4k+1 frame counts": (r"-\s*1\s*\)\s*(%|//)\s*(4\b|FRAME_STEP)|\bFRAME_STEP\s*=", "models/shared/wan.py"),
    "Wan's x16 frame sizes": (r"%\s*16\b|\bSIZE_MULTIPLE\s*=|\bDIMENSION_MULTIPLE\b", "models/shared/wan.py"),
    "the 64-bit seed limit": (r"2\s*\*\*\s*64|0x[fF]{8,}|\bSEED_LIMIT\s*=|\bMAX_SEED\s*=", "models/shared/wan.py"),
    "the family list": (r"\(\s*\"auto\",\s*\"vace\"|\bFAMILIES\s*[:=]", "models/shots/binding/families.py"),
    "the missing-entity error": (r"no entity named|not in the (connected )?world", "models/world/entities.py"),
    "0..1 in pixels": (r"\*\s*\(\s*[\w.]*(width|height|size)\s*-\s*1\s*\)", "models/compositing/composite.py"),
    "placed frames": (r"max\(\s*plate[._]frames\s*,\s*element[._]frames", "models/compositing/composite.py"),
    "width/height/seed widgets": (r"Int\.Input\(\s*(\"(width|height|seed)\"|label\b|name\b)", "nodes/inputs.py"),
    "ComfyUI's progress bar": (r"ProgressBar\(", "nodes/runtime/progress.py"),
    "the interrupt check": (r"throw_exception_if_processing_interrupted", "nodes/runtime/progress.py"),
    "atomic renames": (r"os\.replace\(|tempfile\.mkstemp|\.tmp\b", "models/shared/files.py"),
}


def places(pattern: str) -> dict[str, int]:
    found = {}
    for folder in SOURCE_FOLDERS:
        for path in (PACK_DIR / folder).rglob("*.py"):
            hits = len(re.findall(pattern, path.read_text(encoding="utf-8")))
            if hits:
                found[str(path.relative_to(PACK_DIR))] = hits
    return found


@pytest.mark.parametrize("rule", sorted(RULES))
def test_rule_has_one_home(rule):
    pattern, home = RULES[rule]
    found = places(pattern)
    assert home in found, f"{rule}: its home {home} no longer holds it (the pattern is stale)"
    assert set(found) == {home}, f"{rule} is written outside {home}: {sorted(set(found) - {home})}"


def test_the_search_sees_a_copy(tmp_path, monkeypatch):
    """A rule copied into another module is found, so the test above can fail."""
    copy = tmp_path / "models" / "x.py"
    copy.parent.mkdir()
    copy.write_text("ok = (frames - 1) % 4 == 0\nlimit = 2**64\n")
    monkeypatch.setattr(__import__(__name__), "PACK_DIR", tmp_path)
    assert places(RULES["Wan's 4k+1 frame counts"][0]) == {"models/x.py": 1}
    assert places(RULES["the 64-bit seed limit"][0]) == {"models/x.py": 1}
    copy.write_text(
        "spot = (point_x * (plate.width - 1), y * (height - 1))\nframes = max(plate.frames, element.frames)\n"
    )
    assert places(RULES["0..1 in pixels"][0]) == {"models/x.py": 2}
    assert places(RULES["placed frames"][0]) == {"models/x.py": 1}
