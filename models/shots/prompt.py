"""Compile a shot into the text a video model reads: framing in film terms, then action, entities, light.

The output is deterministic (same shot and world, same words) so a seed reproduces a take. Order:
camera sentence, the user's action text, subjects, props, location, style, lighting, mood. Entity
descriptions come from the world, woven in by the role each entity plays in the shot.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..world.entities import World
from .shot import Shot

# Wan's own default negative prompt (the one its reference code and ComfyUI's Wan templates use).
DEFAULT_NEGATIVE_PROMPT = (
    "色调艳丽，过曝，静态，细节模糊不清，字幕，风格，作品，画作，画面，静止，整体发灰，最差质量，低质量，"
    "JPEG压缩残留，丑陋的，残缺的，多余的手指，画得不好的手部，画得不好的脸部，畸形的，毁容的，形态畸形的肢体，"
    "手指融合，静止不动的画面，杂乱的背景，三条腿，背景人很多，倒着走"
)

SHOT_SIZE_TERMS = {
    "extreme wide": "Extreme wide shot",
    "wide": "Wide shot",
    "full": "Full shot, head to toe",
    "medium wide": "Medium wide shot (cowboy shot, framed from mid-thigh up)",
    "medium": "Medium shot, framed from the waist up",
    "medium close-up": "Medium close-up, framed from the chest up",
    "close-up": "Close-up",
    "extreme close-up": "Extreme close-up",
    "insert": "Insert shot",
    "over-the-shoulder": "Over-the-shoulder shot",
}
ANGLE_TERMS = {
    "eye level": "eye-level angle",
    "low": "low angle looking up",
    "high": "high angle looking down",
    "overhead": "overhead top-down angle",
    "dutch": "Dutch angle with a tilted horizon",
}
CAMERA_MOVE_TERMS = {
    "static": "static locked-off camera",
    "pan left": "camera pans left",
    "pan right": "camera pans right",
    "tilt up": "camera tilts up",
    "tilt down": "camera tilts down",
    "dolly in": "camera dollies in",
    "dolly out": "camera dollies out",
    "truck left": "camera trucks left",
    "truck right": "camera trucks right",
    "orbit": "camera orbits around the subject",
    "crane up": "camera cranes up",
    "crane down": "camera cranes down",
    "handheld": "handheld camera with natural shake",
    "zoom in": "camera zooms in",
    "zoom out": "camera zooms out",
}
LIGHTING_TERMS = {
    "day": "Natural daylight.",
    "golden hour": "Golden hour light, warm low sun and long shadows.",
    "blue hour": "Blue hour, cool soft twilight.",
    "night": "Night, dark scene lit by practical lights.",
    "overcast": "Overcast sky, soft diffuse light.",
    "neon": "Neon lighting, saturated magenta and cyan glow.",
    "candlelight": "Candlelight, warm flickering glow and deep shadows.",
    "firelight": "Firelight, warm flickering orange glow.",
    "fog": "Fog, hazy atmosphere with volumetric light.",
    "moonlight": "Moonlight, cool silver-blue light.",
    "dawn": "Dawn, soft pale pink early light.",
}
LENS_CLASSES = ((20, "ultra-wide"), (35, "wide-angle"), (70, "normal"), (110, "portrait telephoto"))


def lens_term(lens_mm: int) -> str:
    """'35mm wide-angle lens': focal length with the class of lens a cinematographer would name."""
    for upper, label in LENS_CLASSES:
        if lens_mm < upper:
            return f"{lens_mm}mm {label} lens"
    return f"{lens_mm}mm long telephoto lens"


def _describe(name: str, descriptions: Mapping[str, str]) -> str:
    description = descriptions.get(name, "").strip().rstrip(".")
    return f"{name}, {description}" if description else name


def _entity_sentence(label_one: str, label_many: str, names: tuple[str, ...], descriptions: Mapping[str, str]) -> str:
    if not names:
        return ""
    label = label_one if len(names) == 1 else label_many
    return f"{label}: " + "; ".join(_describe(name, descriptions) for name in names) + "."


def _framing_sentence(shot: Shot) -> str:
    size = SHOT_SIZE_TERMS[shot.shot_size]
    subjects = shot.names_with_role("subject")
    if shot.shot_size == "over-the-shoulder" and len(subjects) >= 2:
        size += f" over {subjects[0]}'s shoulder onto {subjects[1]}"
    elif shot.shot_size == "insert":
        focus = shot.names_with_role("prop") or subjects
        if focus:
            size += f" of {focus[0]}"
    parts = [size, ANGLE_TERMS[shot.angle], CAMERA_MOVE_TERMS[shot.camera_move], lens_term(shot.lens_mm)]
    return ", ".join(parts) + "."


def compile_prompt(shot: Shot, descriptions: Mapping[str, str] | None = None) -> str:
    """The positive prompt for a shot; `descriptions` maps entity name -> its words in the world."""
    descriptions = descriptions or {}
    action = shot.prompt.strip()
    if action:
        action = action[0].upper() + action[1:]
        if action[-1] not in ".!?":
            action += "."
    sentences = [
        _framing_sentence(shot),
        action,
        _entity_sentence("Subject", "Subjects", shot.names_with_role("subject"), descriptions),
        _entity_sentence("Prop", "Props", shot.names_with_role("prop"), descriptions),
        _entity_sentence("Location", "Locations", shot.names_with_role("location"), descriptions),
        _entity_sentence("Style", "Styles", shot.names_with_role("style"), descriptions),
        LIGHTING_TERMS[shot.lighting],
        f"Mood: {shot.mood.strip().rstrip('.')}." if shot.mood.strip() else "",
    ]
    return " ".join(sentence for sentence in sentences if sentence)


def negative_prompt(shot: Shot) -> str:
    """The shot's own negative prompt when it has one (even an empty one), else Wan's default."""
    return DEFAULT_NEGATIVE_PROMPT if shot.negative_prompt is None else shot.negative_prompt


def world_descriptions(world: World | None) -> dict[str, str]:
    """Entity name -> description for every reference of a world."""
    if world is None:
        return {}
    return {name: reference.description for name, reference in world.references.items()}
