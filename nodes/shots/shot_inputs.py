"""The film-vocabulary widgets Shot and Coverage share, each choice explained in its tooltip."""

from __future__ import annotations

from comfy_api.latest import io

from ...models.shared.wan import WAN_2_1, WAN_2_2_5B
from ...models.shots.shot import (
    ANGLES,
    ASPECTS,
    CAMERA_MOVES,
    DURATIONS,
    LENS_RANGE_MM,
    LIGHTING,
    RESOLUTIONS,
    SHOT_SIZES,
)
from ..inputs import length_input, seed_input, size_inputs

SETUP_TOOLTIPS = {
    "establishing wide": "Include the establishing wide: the whole place first, so the audience knows where it is.",
    "medium": "Include a medium shot (waist up) of the lead subject.",
    "close-up": "Include a close-up of the lead subject's face.",
    "over-the-shoulder": "Include an over-the-shoulder: past one subject onto the other (needs two subjects).",
    "reverse": "Include the reverse: the same exchange from the other side of the line.",
    "insert": "Include an insert: a close detail of a prop (name it under props).",
}


def shot_inputs() -> list[io.Input]:
    """Widgets shared by Shot and the template of Coverage: framing, light, timing, size."""
    low, high = LENS_RANGE_MM
    return [
        io.Combo.Input(
            "shot_size",
            options=list(SHOT_SIZES),
            default="medium",
            tooltip="How much of the subject the frame holds: extreme wide (a speck in the place), wide (whole "
            "body and surroundings), full (head to toe), medium (waist up), close-up (face), extreme close-up "
            "(a detail of the face), insert (a prop), over-the-shoulder (past one subject onto another).",
        ),
        io.Combo.Input(
            "angle",
            options=list(ANGLES),
            default="eye level",
            tooltip="Where the camera looks from: low looks up (the subject looms), high looks down (it shrinks), "
            "overhead from straight above, dutch tilts the horizon (unease).",
        ),
        io.Combo.Input(
            "camera_move",
            options=list(CAMERA_MOVES),
            default="static",
            tooltip="pan and tilt turn the camera in place; dolly moves it toward or away from the subject; truck "
            "moves it sideways; orbit circles the subject; crane rises or falls; handheld adds a human shake.",
        ),
        io.Int.Input("lens_mm", default=35, min=low, max=high, step=1, tooltip="Focal length in mm (full-frame)."),
        io.Combo.Input(
            "lighting",
            options=list(LIGHTING),
            default="day",
            tooltip="The light of the scene: golden hour is low warm sun, blue hour the cool dusk after sunset, "
            "neon coloured city light, candle- and firelight a warm flicker from one source.",
        ),
        io.String.Input("mood", default="", tooltip="A few words: tense, melancholic, playful…"),
        io.Combo.Input(
            "duration",
            options=list(DURATIONS),
            default="5 s",
            tooltip="5 s or 10 s at the fps below (4k+1 frames), or exactly `frames`.",
        ),
        length_input("frames", WAN_2_1.native_frames, "Used when duration is 'frames'; 4k+1."),
        io.Int.Input(
            "fps",
            default=WAN_2_1.fps,
            min=1,
            max=60,
            tooltip=f"{WAN_2_1.fps} is Wan 2.1's native rate; 24 for film. On a model with a faster native rate "
            f"(Wan 2.2 TI2V-5B: {WAN_2_2_5B.fps}) the shot renders at that rate for the same duration.",
        ),
        io.Combo.Input(
            "resolution",
            options=list(RESOLUTIONS),
            default="480p",
            tooltip="480p is 832x480 and 720p is 1280x720 at 16:9; 'custom' uses width and height.",
        ),
        io.Combo.Input(
            "aspect",
            options=list(ASPECTS),
            default="16:9",
            tooltip="Frame shape: 16:9 widescreen, 9:16 vertical (phones), 1:1 square, 21:9 scope.",
        ),
        *size_inputs(832, 480, f"when resolution is 'custom' ({WAN_2_2_5B.size_multiple}s for Wan 2.2 TI2V-5B)"),
        seed_input("The shot's seed, added to the sampler's base seed (so shots of a list differ)."),
    ]
