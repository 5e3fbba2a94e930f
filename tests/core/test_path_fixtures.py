"""The Python path engine against tests/data/path_fixtures.json, the record the JS editor is checked against too.

A failure here means the maths changed: if on purpose, rewrite the expected values with
`python -m worldkit.tools.path_fixtures` and make web/js/trajectory/path.js agree (tests/js/path.test.mjs).
"""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import pytest

from worldkit.models.motion.formats import parse_state, scale_specs
from worldkit.models.motion.path import EASINGS, INTERPOLATIONS, resolve_frames
from worldkit.tools.path_fixtures import FIXTURES, evaluate_case, shared_constants

DATA = json.loads(FIXTURES.read_text())
CASES = DATA["cases"]
TOLERANCE = DATA["tolerance_px"]


def mismatches(expected: list | None, actual: list | None) -> list[str]:
    """Where `actual` ([x, y, visible] per time, or None when refused) differs from `expected`."""
    if expected is None or actual is None:
        if expected is actual:
            return []
        return [
            "the track is refused, expected positions" if actual is None else "the track is accepted, expected refused"
        ]
    if len(expected) != len(actual):
        return [f"{len(actual)} samples, expected {len(expected)}"]
    found = []
    for k, ((ex, ey, ev), (ax, ay, av)) in enumerate(zip(expected, actual, strict=True)):
        if not (math.isclose(ax, ex, abs_tol=TOLERANCE) and math.isclose(ay, ey, abs_tol=TOLERANCE)) or av != ev:
            found.append(f"sample {k}: got ({ax}, {ay}, {av}), expected ({ex}, {ey}, {ev})")
    return found


def test_the_fixtures_record_the_engines_constants():
    assert DATA["constants"] == shared_constants()


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_the_engine_puts_each_track_where_the_fixtures_say(case):
    assert not mismatches(case["expected"], evaluate_case(case))


def test_a_perturbed_expected_value_is_detected():
    case = next(c for c in CASES if c["expected"])
    actual = evaluate_case(case)
    for change in ((0, 0, 10 * TOLERANCE), (-1, 1, -10 * TOLERANCE)):
        perturbed = copy.deepcopy(case["expected"])
        perturbed[change[0]][change[1]] += change[2]
        assert mismatches(perturbed, actual)
    hidden = copy.deepcopy(case["expected"])
    hidden[1][2] = not hidden[1][2]
    assert mismatches(hidden, actual)
    assert mismatches(None, actual) and mismatches(case["expected"], None)


def _moving_samples(case: dict[str, Any]) -> list[tuple[str, int, str]]:
    """(interpolation, segment, easing) of every sample taken while the track moves between two keypoints."""
    (spec,) = scale_specs(parse_state(json.dumps({"version": 1, "tracks": [case["track"]]})), 1, 1)
    path = spec.path
    frames = resolve_frames(path, case["num_frames"])
    found = []
    for i, kp in enumerate(path.keypoints[:-1]):
        start, end = frames[i] + kp.hold, frames[i + 1]
        if any(start < t < end for t in case["times"]):
            found.append((path.interpolation, i, kp.easing))
    return found


def test_the_fixtures_sample_every_easing_interpolation_and_option_while_moving():
    valid = [c for c in CASES if c["expected"] is not None]
    moving = [s for c in valid if not c["track"].get("anchor") for s in _moving_samples(c)]
    assert {easing for _, _, easing in moving} == set(EASINGS)
    assert {interpolation for interpolation, _, _ in moving} == set(INTERPOLATIONS)
    keypoints = [kp for c in valid for kp in c["track"]["keypoints"]]
    assert any("in" in kp for kp in keypoints) and any("out" in kp for kp in keypoints), "Bézier handles"
    assert any(kp["frame"] is None for c in valid for kp in c["track"]["keypoints"][1:-1]), "auto interior frames"
    assert any(kp.get("hold") for kp in keypoints) and any(kp.get("visible") is False for kp in keypoints)
    assert any(c["track"].get("anchor") for c in valid) and any(len(c["track"]["keypoints"]) == 1 for c in valid)
    assert any(not float(t).is_integer() for c in valid for t in c["times"]), "fractional times"
    assert any(min(c["times"]) < 0 and max(c["times"]) > c["num_frames"] - 1 for c in valid), "times outside the clip"
    assert sum(c["expected"] is None for c in CASES) >= 5, "refused tracks"
    # The JS editor previews the path itself; spread, cluster and mask offsets are the engine's alone.
    assert {c["track"].get("subject", "point") for c in CASES} == {"point"}
    assert len({(c["width"], c["height"]) for c in valid}) >= 3
