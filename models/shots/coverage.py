"""Standard coverage of a scene: the six set-ups a director shoots so the editor can cut it.

Establishing wide, medium, close-up, over-the-shoulder, reverse and insert, generated from a
location and its subjects as editable Shots that share the template's timing, size, light and mood.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .shot import Shot, ShotEntity, ShotError

SETUPS = ("establishing wide", "medium", "close-up", "over-the-shoulder", "reverse", "insert")


@dataclass(frozen=True)
class _Framing:
    shot_size: str
    angle: str
    camera_move: str
    lens_mm: int


FRAMINGS = {
    "establishing wide": _Framing("extreme wide", "high", "static", 24),
    "medium": _Framing("medium", "eye level", "static", 35),
    "close-up": _Framing("close-up", "eye level", "static", 85),
    "over-the-shoulder": _Framing("over-the-shoulder", "eye level", "static", 50),
    "reverse": _Framing("over-the-shoulder", "eye level", "static", 50),
    "insert": _Framing("insert", "high", "static", 100),
}


def _entities(location: str, subjects: Sequence[str], props: Sequence[str]) -> tuple[ShotEntity, ...]:
    return (
        *(ShotEntity(name, "subject") for name in subjects),
        *(ShotEntity(name, "prop") for name in props),
        ShotEntity(location, "location"),
    )


def _setup_content(
    setup: str, location: str, subjects: Sequence[str], props: Sequence[str], action: str
) -> tuple[tuple[ShotEntity, ...], str, str | None]:
    """(entities, action text, shot size override) for one set-up."""
    lead = subjects[0]
    if setup in ("establishing wide", "medium"):
        return _entities(location, subjects, props), action, None
    if setup == "close-up":
        return _entities(location, [lead], []), action, None
    if setup == "over-the-shoulder":
        if len(subjects) >= 2:
            return _entities(location, subjects[:2], []), action, None
        return (
            _entities(location, [lead], props),
            f"Over {lead}'s shoulder, looking at what {lead} sees. {action}",
            None,
        )
    if setup == "reverse":
        if len(subjects) >= 2:
            return _entities(location, [subjects[1], subjects[0]], []), f"Reverse angle. {action}", None
        return (_entities(location, [lead], []), f"Reverse angle facing {lead}. {action}", "medium close-up")
    if props:
        return _entities(location, [], props[:1]), action, None
    return _entities(location, [lead], []), f"Detail of {lead}. {action}", None


def coverage(
    location: str,
    subjects: Sequence[str],
    template: Shot,
    props: Sequence[str] = (),
    action: str = "",
    setups: Sequence[str] = SETUPS,
) -> list[Shot]:
    """The chosen set-ups (all six by default, in SETUPS order) as Shots; seeds count up from the template's."""
    if not location.strip():
        raise ShotError("Coverage needs a location: the name of a location entity in the world.")
    subjects = [name for name in subjects if name.strip()]
    if not subjects:
        raise ShotError("Coverage needs at least one subject: names of character or object entities in the world.")
    unknown = [setup for setup in setups if setup not in SETUPS]
    if unknown:
        raise ShotError(f"Unknown coverage set-ups {', '.join(unknown)}; choose from {', '.join(SETUPS)}.")
    shots = []
    for index, setup in enumerate(s for s in SETUPS if s in setups):
        framing = FRAMINGS[setup]
        entities, text, size_override = _setup_content(setup, location, subjects, list(props), action.strip())
        shots.append(
            template.replace(
                name=setup,
                prompt=text.strip(),
                entities=entities,
                shot_size=size_override or framing.shot_size,
                angle=framing.angle,
                camera_move=framing.camera_move,
                lens_mm=framing.lens_mm,
                seed=template.seed + index,
            )
        )
    return shots
