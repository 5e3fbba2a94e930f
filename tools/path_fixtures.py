"""Writes the expected values of tests/data/path_fixtures.json from the Python path engine.

The fixture file is the one record both path implementations are checked against: each case is an
editor-state track with a frame size, a clip length and the times to sample, and `expected` holds
where the engine puts the track at those times ([x, y, visible], pixels) or null where it refuses
the track. tests/core/test_path_fixtures.py checks models/motion against it and tests/js/path.test.mjs
checks web/js/trajectory/path.js. `constants` records the names both sides must share.

Run after adding a case (write its inputs, leave `expected` out) or after a deliberate change of the
maths, from the folder that holds the pack:

    python -m worldkit.tools.path_fixtures
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from worldkit.models.motion.formats import STATE_VERSION, TRACK_COLORS, parse_state, scale_specs
from worldkit.models.motion.path import EASINGS, INTERPOLATIONS, TrajectoryError
from worldkit.models.motion.tracks import SUBJECTS, subject_tracks

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "data" / "path_fixtures.json"


def shared_constants() -> dict[str, Any]:
    """The editor-state names and values the JS editor must use too."""
    return {
        "state_version": STATE_VERSION,
        "easings": list(EASINGS),
        "interpolations": list(INTERPOLATIONS),
        "subjects": list(SUBJECTS),
        "colors": list(TRACK_COLORS),
    }


def evaluate_case(case: dict[str, Any]) -> list[list[float | bool]] | None:
    """[x, y, visible] of the case's track at each of its times, as the node computes it; None if refused."""
    width, height = case["width"], case["height"]
    state = json.dumps({"version": STATE_VERSION, "tracks": [case["track"]]})
    try:
        (spec,) = scale_specs(parse_state(state), width, height)
        points, visible = subject_tracks(
            spec, np.asarray(case["times"], dtype=np.float64), case["num_frames"], width, height
        )
    except TrajectoryError:
        return None
    return [[float(x), float(y), bool(v)] for (x, y), v in zip(points[:, 0], visible[:, 0], strict=True)]


def _compact(text: str) -> str:
    """Innermost lists (times, points, handles, names) and keypoints on one line each, so the file reads case by
    case."""

    def one_line(match: re.Match) -> str:
        return match[1] + ", ".join(v.strip() for v in match[2].split(",")) + match[3]

    text = re.sub(r"(\[)\s+([^\[\]{}]*?)\s+(\])", one_line, text)
    return re.sub(r'(\{)\s+("x"[^{}]*?)\s+(\})', one_line, text)


def main() -> None:
    data = json.loads(FIXTURES.read_text())
    data["constants"] = shared_constants()
    for case in data["cases"]:
        case["expected"] = evaluate_case(case)
    FIXTURES.write_text(_compact(json.dumps(data, indent=1, ensure_ascii=False)) + "\n")
    print(f"wrote {len(data['cases'])} cases to {FIXTURES}")


if __name__ == "__main__":
    main()
