"""Chosen takes: which earlier render of a shot goes into the cut, the World Shot Sampler's ``takes`` input.

A take is a shot rendered by an earlier queue of the same graph, usually a storyboard re-render with a new
``seed``. ``shot=2:seed=24`` renders shot 2 as a run with ``seed`` 24 rendered it (its candidates, its search,
its pick); ``:candidate=1`` keeps only that candidate, as ``select``'s ``candidate`` does. Entries are joined by
commas; shots without an entry use the sampler's own seed. With the shot cache (shot_cache.py) a take rendered
before in this process is reused, so queueing a cut of chosen takes renders nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..shared.text import quote
from .selection import Selection

TAKE_KEYS = ("shot", "seed", "candidate")
EXAMPLE = "shot=2:seed=24,shot=3:seed=30:candidate=1"


class TakesError(ValueError):
    """The takes text cannot be read; the message shows the expected form."""


@dataclass(frozen=True)
class Take:
    """Shot ``shot`` (from 1) as rendered with sampler seed ``seed``, only candidate ``candidate`` when set."""

    shot: int
    seed: int
    candidate: int | None = None

    def to_text(self) -> str:
        tail = f":candidate={self.candidate}" if self.candidate is not None else ""
        return f"shot={self.shot}:seed={self.seed}{tail}"


@dataclass(frozen=True)
class Takes:
    """The chosen takes by shot number."""

    by_shot: tuple[tuple[int, Take], ...] = ()

    def get(self, number: int) -> Take | None:
        return dict(self.by_shot).get(number)

    def run_seed(self, number: int, seed: int) -> int:
        """The sampler seed shot ``number`` renders with: its take's, or the run's."""
        take = self.get(number)
        return seed if take is None else take.seed

    def selection(self, number: int, selection: Selection) -> Selection:
        """The candidates shot ``number`` renders: its take's one candidate, or those ``selection`` names."""
        take = self.get(number)
        if take is None or take.candidate is None:
            return selection
        return Selection(selection.shots, frozenset({take.candidate}))

    def check(self, shot_count: int, candidates: int) -> None:
        """Every take names a shot of this list and a candidate of this count."""
        for number, take in self.by_shot:
            if number > shot_count:
                raise TakesError(
                    f"takes: shot {number} does not exist; there are {shot_count} (shot 1 to {shot_count})"
                )
            if take.candidate is not None and take.candidate > candidates:
                raise TakesError(
                    f"takes: shot {number} names candidate {take.candidate}; there are {candidates} (1 to {candidates})"
                )

    def to_text(self) -> str:
        return ",".join(take.to_text() for _, take in self.by_shot)


NO_TAKES = Takes()


def _take(text: str) -> Take:
    found: dict[str, int] = {}
    for part in text.split(":"):
        key, sep, value = (item.strip() for item in part.partition("="))
        if not sep or key not in TAKE_KEYS or key in found:
            raise TakesError(
                f"takes: cannot read {quote(text.strip())}; write e.g. '{EXAMPLE}' (shot and candidate count from 1, "
                "seed is the sampler seed the take was rendered with; empty uses the sampler's seed for every shot)"
            )
        try:
            found[key] = int(value)
        except ValueError:
            raise TakesError(f"takes: {key}={quote(value)} in {quote(text.strip())} must be a whole number") from None
    if "shot" not in found or "seed" not in found:
        raise TakesError(f"takes: {quote(text.strip())} needs a shot and a seed, e.g. 'shot=2:seed=24'")
    if found["shot"] < 1 or found.get("candidate", 1) < 1 or found["seed"] < 0:
        raise TakesError(f"takes: in {quote(text.strip())} shot and candidate count from 1 and seed is 0 or more")
    return Take(found["shot"], found["seed"], found.get("candidate"))


def parse_takes(text: str) -> Takes:
    """``"shot=2:seed=24,shot=3:seed=30:candidate=1"`` → Takes; empty → none. Raises TakesError naming the part."""
    takes: dict[int, Take] = {}
    for piece in filter(None, (piece.strip() for piece in text.split(","))):
        take = _take(piece)
        if take.shot in takes:
            raise TakesError(f"takes: shot {take.shot} is given twice in {quote(text)}")
        takes[take.shot] = take
    return Takes(tuple(sorted(takes.items())))
