"""Writes tests/data/storyboard_fixtures.json: sampler reports and the storyboard the engine builds from each.

The file is the one record both storyboard builders are checked against: models/sampling/storyboard.py in
tests/core/test_storyboard.py and web/js/storyboard/report.js in tests/js/storyboard.test.mjs. Each case holds
a report as text (so a case can be text that is not JSON) and `expected`: the storyboard, or the error message
the panel shows instead. `constants` records the format and versions both sides must share.

Run after adding a case (write its text, leave `expected` out) or after a deliberate change of the builder, from
the folder that holds the pack:

    python -m worldkit.tools.storyboard_fixtures
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from worldkit.models.sampling.storyboard import (
    REPORT_FORMAT,
    REPORT_VERSION,
    STORYBOARD_VERSION,
    ReportError,
    build_storyboard,
    parse_report,
)

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "data" / "storyboard_fixtures.json"


def shared_constants() -> dict[str, Any]:
    return {"report_format": REPORT_FORMAT, "report_version": REPORT_VERSION, "storyboard_version": STORYBOARD_VERSION}


def evaluate_case(case: dict[str, Any]) -> dict[str, Any]:
    """``{"storyboard": …}`` built from the case's text, or ``{"error": message}`` where the builder refuses it."""
    try:
        return {"storyboard": build_storyboard(parse_report(case["text"]))}
    except ReportError as error:
        return {"error": str(error)}


def main() -> None:
    data = json.loads(FIXTURES.read_text())
    data["constants"] = shared_constants()
    for case in data["cases"]:
        case["expected"] = evaluate_case(case)
    FIXTURES.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {len(data['cases'])} cases to {FIXTURES}")


if __name__ == "__main__":
    main()
