"""Which shots and candidates of a shot list to render: the World Shot Sampler's ``select`` input.

A render farm splits a film into units (one shot, one candidate) and renders each with the same graph and
one changed input; the selected unit gets exactly the seeds and frames a full run gives it. Shots and
candidates are counted from 1, as Pick Shot counts shots: ``shot=3;candidate=2`` renders the second
candidate (seed + shot seed + 1) of the third shot. Either part may be left out, and each takes a comma list
(``shot=1,2``); an empty text selects everything.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..shared.text import quote

KEYS = ("shot", "candidate")


class SelectionError(ValueError):
    """The select text cannot be read; the message shows the expected form."""


@dataclass(frozen=True)
class Selection:
    """Shot and candidate numbers (from 1) to render; None means all of them."""

    shots: frozenset[int] | None = None
    candidates: frozenset[int] | None = None

    def wants_shot(self, number: int) -> bool:
        return self.shots is None or number in self.shots

    def wants_candidate(self, number: int) -> bool:
        return self.candidates is None or number in self.candidates

    def judges_candidates_together(self, candidates: int) -> bool:
        """Several candidates of a shot, all rendered in this run: only then can the early search compare them."""
        return candidates > 1 and self.candidates is None

    def to_text(self) -> str:
        parts = [
            f"{key}={','.join(str(n) for n in sorted(values))}"
            for key, values in zip(KEYS, (self.shots, self.candidates), strict=True)
            if values is not None
        ]
        return ";".join(parts)


EVERYTHING = Selection()


def _numbers(key: str, text: str) -> frozenset[int]:
    try:
        numbers = frozenset(int(part) for part in text.split(","))
    except ValueError:
        raise SelectionError(f"select: {key}={quote(text)} must be whole numbers, e.g. {key}=1 or {key}=1,3") from None
    if min(numbers) < 1:
        raise SelectionError(f"select: {key} numbers count from 1; got {key}={text}")
    return numbers


def parse_selection(text: str) -> Selection:
    """``"shot=3;candidate=1"`` → Selection; empty → everything. Raises SelectionError naming the bad part."""
    found: dict[str, frozenset[int]] = {}
    for part in filter(None, (piece.strip() for piece in text.split(";"))):
        key, sep, value = (item.strip() for item in part.partition("="))
        if not sep or key not in KEYS or not value:
            raise SelectionError(
                f"select: cannot read {quote(part)}; write e.g. 'shot=3;candidate=1' (shot and candidate count "
                "from 1, either may be left out; empty renders everything)"
            )
        if key in found:
            raise SelectionError(f"select: {key} is given twice in {quote(text)}")
        found[key] = _numbers(key, value.replace(" ", ""))
    return Selection(found.get("shot"), found.get("candidate"))


def check_selection(selection: Selection, shot_count: int, candidates: int) -> None:
    """Every selected number exists in this shot list and candidate count."""
    for key, values, limit in (("shot", selection.shots, shot_count), ("candidate", selection.candidates, candidates)):
        if values is not None and max(values) > limit:
            raise SelectionError(f"select: {key} {max(values)} does not exist; there are {limit} ({key} 1 to {limit})")
