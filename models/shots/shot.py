"""A shot as filmmakers describe it: what it shows, how it is framed, lit and timed, and at what size.

A Shot is plain, frozen data: it names entities of a world (by role) but holds none of their
pixels, so shot lists are cheap to copy, compare and save. Validation happens on construction and
every error lists the values that would work.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..shared.wan import (
    WAN_2_1,
    ModelRules,
    frames_for_seconds,
    latent_frame_count,
    require_wan_frame_count,
    require_wan_size,
    retimed_frames,
)

ROLES = ("subject", "location", "prop", "style")
SHOT_SIZES = (
    "extreme wide",
    "wide",
    "full",
    "medium wide",
    "medium",
    "medium close-up",
    "close-up",
    "extreme close-up",
    "insert",
    "over-the-shoulder",
)
ANGLES = ("eye level", "low", "high", "overhead", "dutch")
CAMERA_MOVES = (
    "static",
    "pan left",
    "pan right",
    "tilt up",
    "tilt down",
    "dolly in",
    "dolly out",
    "truck left",
    "truck right",
    "orbit",
    "crane up",
    "crane down",
    "handheld",
    "zoom in",
    "zoom out",
)
LIGHTING = (
    "day",
    "golden hour",
    "blue hour",
    "night",
    "overcast",
    "neon",
    "candlelight",
    "firelight",
    "fog",
    "moonlight",
    "dawn",
)
DURATIONS = ("5 s", "10 s", "frames")
DURATION_SECONDS = {"5 s": 5, "10 s": 10}
FPS_CHOICES = (16, 24)
CONTINUITY = ("cut", "continue")
LENS_RANGE_MM = (14, 135)

ASPECTS = ("16:9", "9:16", "1:1", "21:9")
RESOLUTION_PRESETS: dict[str, dict[str, tuple[int, int]]] = {
    # (width, height); each preset keeps roughly the pixel count of Wan's native 832x480 / 1280x720.
    "480p": {"16:9": (832, 480), "9:16": (480, 832), "1:1": (624, 624), "21:9": (976, 416)},
    "720p": {"16:9": (1280, 720), "9:16": (720, 1280), "1:1": (960, 960), "21:9": (1456, 624)},
}
RESOLUTIONS = (*RESOLUTION_PRESETS, "custom")


class ShotError(ValueError):
    """A shot that cannot be built; the message names the field and the values that would work."""


def _check_choice(field_name: str, value: str, choices: tuple) -> None:
    if value not in choices:
        raise ShotError(f"Shot {field_name} {value!r} is not one of: {', '.join(map(str, choices))}.")


def resolution_size(resolution: str, aspect: str) -> tuple[int, int]:
    """(width, height) of a preset resolution at an aspect ratio."""
    _check_choice("resolution", resolution, tuple(RESOLUTION_PRESETS))
    _check_choice("aspect", aspect, ASPECTS)
    return RESOLUTION_PRESETS[resolution][aspect]


@dataclass(frozen=True)
class ShotEntity:
    """One entity of the world shown in a shot, with the part it plays."""

    name: str
    role: str = "subject"

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ShotError("A shot entity needs a name (the name it has in the world).")
        _check_choice(f"role of {self.name!r}", self.role, ROLES)


@dataclass(frozen=True)
class Shot:
    """Everything one shot needs besides the world's pixels; see the module docstring."""

    prompt: str = ""
    entities: tuple[ShotEntity, ...] = ()
    shot_size: str = "medium"
    angle: str = "eye level"
    camera_move: str = "static"
    lens_mm: int = 35
    lighting: str = "day"
    mood: str = ""
    duration: str = "5 s"
    frames: int = WAN_2_1.native_frames
    fps: int = WAN_2_1.fps
    resolution: str = "480p"
    aspect: str = "16:9"
    width: int = 832
    height: int = 480
    seed: int = 0
    negative_prompt: str | None = None
    continuity: str = "cut"
    name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "entities", tuple(self.entities))
        for field_name, choices in (
            ("shot_size", SHOT_SIZES),
            ("angle", ANGLES),
            ("camera_move", CAMERA_MOVES),
            ("lighting", LIGHTING),
            ("duration", DURATIONS),
            ("resolution", RESOLUTIONS),
            ("aspect", ASPECTS),
            ("continuity", CONTINUITY),
        ):
            _check_choice(field_name, getattr(self, field_name), choices)
        low, high = LENS_RANGE_MM
        if not low <= self.lens_mm <= high:
            raise ShotError(f"Shot lens_mm {self.lens_mm} is outside {low}–{high} mm.")
        if self.fps < 1:
            raise ShotError(f"Shot fps {self.fps} must be positive; Wan is trained at 16, 24 is the film rate.")
        if self.duration == "frames":
            require_wan_frame_count(self.frames, "Shot frames", ShotError)
        require_wan_size(*self.size, "Shot", preset_list(), ShotError)
        names = [entity.name for entity in self.entities]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ShotError(f"Shot lists {', '.join(duplicates)} more than once; give each entity one role.")

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        if self.resolution == "custom":
            return self.width, self.height
        return resolution_size(self.resolution, self.aspect)

    @property
    def frame_count(self) -> int:
        """Frames of the finished shot (4k+1)."""
        if self.duration == "frames":
            return self.frames
        return frames_for_seconds(DURATION_SECONDS[self.duration], self.fps)

    @property
    def latent_frame_count(self) -> int:
        return latent_frame_count(self.frame_count)

    def names_with_role(self, role: str) -> tuple[str, ...]:
        return tuple(entity.name for entity in self.entities if entity.role == role)

    def replace(self, **changes: Any) -> Shot:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, for reports and saved shot lists."""
        data = dataclasses.asdict(self)
        data["entities"] = [{"name": e.name, "role": e.role} for e in self.entities]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Shot:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ShotError(f"Unknown shot fields {', '.join(unknown)}; known fields: {', '.join(sorted(known))}.")
        values = dict(data)
        values["entities"] = tuple(ShotEntity(**entity) for entity in data.get("entities", ()))
        return cls(**values)


def shot_for_model(shot: Shot, rules: ModelRules) -> Shot:
    """The shot as the loaded model renders it. A shot slower than the model's native rate is lifted to that rate
    and keeps its duration (5 s at 16 fps is 5 s at 24 fps, 121 frames, on Wan 2.2 TI2V-5B): the model makes
    motion at its own rate, so frames at a slower one would play it slowed down. Faster shots are kept."""
    if shot.fps >= rules.fps:
        return shot
    frames = retimed_frames(shot.frame_count, shot.fps, rules.fps)
    return shot.replace(fps=rules.fps, **({"frames": frames} if shot.duration == "frames" else {}))


def shots_for_model(shots: list[Shot], rules: ModelRules, error: type[ValueError] = ShotError) -> list[Shot]:
    """Every shot as the model renders it (shot_for_model); a size the model cannot take is refused, with the nearest
    it takes, before any shot is rendered."""
    rendered = [shot_for_model(shot, rules) for shot in shots]
    for number, shot in enumerate(rendered, start=1):
        require_wan_size(*shot.size, f"shot {number}'s frame", preset_list(rules), error, rules)
    return rendered


def timing_report(asked: Shot, rendered: Shot, rules: ModelRules) -> dict[str, Any]:
    """What a shot asked for and what the model renders, for the shot's report."""
    timing = {
        "asked": {"fps": asked.fps, "frames": asked.frame_count},
        "rendered": {"fps": rendered.fps, "frames": rendered.frame_count},
        "model": rules.name,
    }
    if rendered.fps != asked.fps:
        seconds = round((rendered.frame_count - 1) / rendered.fps, 3)
        timing["note"] = (
            f"{asked.frame_count} frames at {asked.fps} fps rendered as {rendered.frame_count} frames at "
            f"{rendered.fps} fps ({seconds} s), {rules.name}'s own rate"
        )
    return timing


def preset_list(rules: ModelRules | None = None) -> str:
    """The resolution presets, only those the model takes when `rules` are given."""
    multiple = 1 if rules is None else rules.size_multiple
    return "; ".join(
        f"{name} {aspect} = {w}x{h}"
        for name, sizes in RESOLUTION_PRESETS.items()
        for aspect, (w, h) in sizes.items()
        if w % multiple == 0 and h % multiple == 0
    )


_SEPARATORS = re.compile(r"[\n;,]+")


def split_names(text: str) -> list[str]:
    """Entity names written one per line or separated by commas (or ';')."""
    return [name.strip() for name in _SEPARATORS.split(text) if name.strip()]


def default_role_for_kind(kind: str) -> str:
    """The role an entity plays when the shot does not say: locations set the scene, styles style it."""
    return {"location": "location", "style": "style"}.get(kind, "subject")


def parse_entities(text: str, kinds: Mapping[str, str] | None = None) -> tuple[ShotEntity, ...]:
    """Parse "name: role" items, one per line (or separated by ';' or ',').

    A missing role comes from the entity's kind in the world when `kinds` is given
    (location -> location, style -> style, character and object -> subject), else "subject".
    """
    entities = []
    for item in split_names(text):
        if item.startswith("#"):
            continue
        name, sep, role = item.rpartition(":")
        if not sep:
            name, role = item, ""
        name, role = name.strip(), role.strip().lower()
        if not role:
            role = default_role_for_kind(kinds.get(name, "")) if kinds else "subject"
        if role not in ROLES:
            raise ShotError(
                f"Entity line {item!r}: role {role!r} is not one of {', '.join(ROLES)} "
                "(write one entity per line as 'name: role')."
            )
        entities.append(ShotEntity(name, role))
    return tuple(entities)
