"""The storyboard builder against tests/data/storyboard_fixtures.json (the record web/js/storyboard/report.js is
checked against too) and against reports the engine really writes.

A fixture failure means the builder changed: if on purpose, rewrite the expected values with
`python -m worldkit.tools.storyboard_fixtures` and make the JS builder agree (tests/js/storyboard.test.mjs).
"""

from __future__ import annotations

import copy
import json

import pytest
from test_search import FakeModel, level, make_shot

from worldkit.models.sampling.joining import shot_boundaries
from worldkit.models.sampling.multishot import render_shot_list
from worldkit.models.sampling.selection import parse_selection
from worldkit.models.sampling.storyboard import (
    REPORT_VERSION,
    ReportError,
    build_storyboard,
    parse_report,
    report_header,
    thumbnail_frames,
)
from worldkit.tools.storyboard_fixtures import FIXTURES, evaluate_case, shared_constants

DATA = json.loads(FIXTURES.read_text())
CASES = DATA["cases"]


def test_the_fixtures_record_the_engines_constants():
    assert DATA["constants"] == shared_constants()


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_the_builder_gives_what_the_fixtures_say(case):
    assert evaluate_case(case) == case["expected"]


def searched_report(**selection) -> dict:
    """A real engine report: four candidates of one shot under the careful search, with the report header."""
    pipeline = FakeModel().pipeline()
    results = render_shot_list(
        pipeline,
        [make_shot(), make_shot()],
        seed=10,
        candidates=4,
        selection=parse_selection(selection.get("select", "")),
    )
    return {
        **report_header("FakeModel"),
        "fps": 16,
        "boundaries": shot_boundaries(results),
        "shots": [result.report for result in results],
    }


def test_a_searched_run_gives_each_candidate_its_score_and_the_step_it_was_pruned_at():
    report = searched_report()
    board = build_storyboard(parse_report(json.dumps(report)))
    assert [row["shot"] for row in board["rows"]] == [1, 2]
    row, shot = board["rows"][0], report["shots"][0]
    seeds = [10, 11, 12, 13]
    ranked = sorted(range(4), key=lambda index: -level(seeds[index]))
    assert row["chosen"] == ranked[0] + 1 and row["seed"] == seeds[ranked[0]]
    checks = shot["search"]["checks"]
    pruned = {c["candidate"]: c["pruned_at_step"] for c in row["candidates"] if c["pruned_at_step"] is not None}
    assert pruned == {ranked[3] + 1: 2, ranked[2] + 1: 2, ranked[1] + 1: 4}
    for candidate in row["candidates"]:
        step = candidate["pruned_at_step"]
        if step is not None:
            check = next(c for c in checks if c["step"] == step)
            assert candidate["score"] == check["early_scores"][candidate["candidate"] - 1]
            assert candidate["score"] == pytest.approx(level(candidate["seed"]), abs=0.02)
    assert [c["chosen"] for c in row["candidates"]] == [index == ranked[0] for index in range(4)]
    kept = row["candidates"][ranked[0]]
    assert kept["score"] is None, "the search's lone survivor gets no final score"
    assert (kept["early_step"], kept["early_score"]) == (4, checks[-1]["early_scores"][ranked[0]])
    assert row["references"] == [{"name": "skunk", "score": None}]  # the lone finisher was not scored
    assert row["thumbnails"] == [0, 4, 8] and row["frames"] == 9
    assert board["model"] == "FakeModel" and row["start"] == 0 and board["rows"][1]["start"] == 9


def test_a_run_of_one_selected_shot_numbers_its_row_as_the_shot_list_does():
    board = build_storyboard(searched_report(select="shot=2"))
    assert [row["shot"] for row in board["rows"]] == [2]


def test_first_middle_and_last_frames():
    assert thumbnail_frames(9) == [0, 4, 8]
    assert thumbnail_frames(2) == [0, 1]
    assert thumbnail_frames(1) == [0]


def test_a_newer_report_names_its_version_and_the_fix():
    report = {**searched_report(), "version": REPORT_VERSION + 1}
    with pytest.raises(ReportError, match=f"version {REPORT_VERSION + 1}.*Update WorldKit"):
        build_storyboard(report)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda r: r["shots"][1].pop("candidates"), "shot 2 of the report has no candidates"),
        (lambda r: r["shots"][0].update(chosen=9), "shot 1 of the report does not say which"),
        (lambda r: r["shots"][0].update(frames="9"), "shot 1 of the report has no frame count"),
        (lambda r: r.update(shots={}), "it has no list of shots"),
    ],
)
def test_a_damaged_report_says_where(damage, message):
    report = copy.deepcopy(searched_report())
    damage(report)
    with pytest.raises(ReportError, match=message):
        build_storyboard(report)


def test_a_weak_shot_is_flagged_only_when_far_below_the_others():
    report = json.loads(next(c for c in CASES if c["name"].startswith("a searched"))["text"])
    rows = build_storyboard(report)["rows"]
    assert [any("far below" in w for w in row["warnings"]) for row in rows] == [False, False, True]
    report["shots"][2]["candidates"][2]["score"] = 0.7
    rows = build_storyboard(report)["rows"]
    assert not any("far below" in w for row in rows for w in row["warnings"])


def test_a_run_on_two_experts_names_both_in_the_report_and_the_storyboard():
    report = {**searched_report(), **report_header("WAN22High", "WAN22Low")}
    board = build_storyboard(parse_report(json.dumps(report)))
    assert board["model"] == "WAN22High (high-noise expert) + WAN22Low (low-noise expert)"
