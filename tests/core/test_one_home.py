"""Each rule of the pack is written once: these patterns may appear only in their home module."""

from __future__ import annotations

import io
import re
import tokenize
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
    "the chained-segment overlap bound": (r"native(_frames)?\s*//\s*2", "models/sampling/long_shot.py"),
    "TRACKS visibility": (r"[\"']track_visibility[\"']", "models/motion/tracks.py"),
    "Wan 2.2's expert boundaries": (r"\b0\.875\b|\bEXPERT_BOUNDARIES\s*=", "models/sampling/experts.py"),
    "the audio encoders a voice comes from": (
        r"whisper_large_v3|wav2vec2_large_english",
        "models/shots/binding/performance.py",
    ),
}
NATIVE_FRAMES_HOME = "models/shared/wan.py"  # Wan 2.1's native clip length, 81 frames, in WAN_2_1


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


def number_literals(source: str, value: str) -> int:
    """How often `value` is written as a number in Python code (strings, docstrings and comments left out)."""
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return sum(token.type == tokenize.NUMBER and token.string == value for token in tokens)


def test_the_native_clip_length_has_one_home():
    """81 is Wan 2.1's native length; Wan 2.2 makes it a property of the loaded model, so code reads WAN_2_1."""
    found = {
        str(path.relative_to(PACK_DIR))
        for folder in SOURCE_FOLDERS
        for path in (PACK_DIR / folder).rglob("*.py")
        if number_literals(path.read_text(encoding="utf-8"), "81")
    }
    assert found == {NATIVE_FRAMES_HOME}, f"81 is written outside {NATIVE_FRAMES_HOME}: {sorted(found)}"
    in_editor = [
        str(path.relative_to(PACK_DIR))
        for path in (PACK_DIR / "web").rglob("*.js")
        if re.search(r"(?<![\w.])81(?![\w.])", path.read_text(encoding="utf-8"))
    ]
    assert not in_editor, f"the editor must take the clip length from the node's schema: {in_editor}"


def test_the_literal_search_skips_text_and_sees_code():
    assert number_literals('"""81 frames"""\nx = "81"  # 81\n', "81") == 0
    assert number_literals("frames = 81\nf(81, 8.1, 181)\n", "81") == 2
