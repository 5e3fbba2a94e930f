"""The Animate demo's footage, drawn by code: a dancer's driving clip (pose frames and face crops) and a street
plate with a passer-by to replace, filmed with its matte.

The pose frames are a stick figure in OpenPose's limb colours on black, what any pose node hands Wan Animate;
the face crops are a drawn face that talks and blinks. The passer-by walks along the sidewalk of the street
plate while the virtual camera of plates.py pushes in and pans, and the matte is the same walker filmed by the
same camera without grain. Everything is drawn with integer coordinates, so the frames are the same everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw

from ...models.shared.wan import WAN_2_1
from .plates import filmed, yuv420p

CLIP_FPS = WAN_2_1.fps
"""The shots' rate: Wan Animate reads a driving clip and a plate frame by frame."""
WALK_FRAMES = WAN_2_1.native_frames  # 5 s: the replacement shot, one pass of the model
DANCE_FRAMES = 2 * WALK_FRAMES - 1  # 10 s: the performance is one shot rendered in chunks
POSE_SIZE = (640, 360)
FACE_SIZE = 256  # square crops; the binder resizes them to the face encoder's 512
# OpenPose's limb colours, one per bone: what pose nodes draw and Wan Animate was trained on.
LIMB_COLOURS = {
    ("neck", "nose"): (0, 0, 255),
    ("neck", "r_shoulder"): (255, 0, 0),
    ("r_shoulder", "r_elbow"): (255, 85, 0),
    ("r_elbow", "r_wrist"): (255, 170, 0),
    ("neck", "l_shoulder"): (255, 255, 0),
    ("l_shoulder", "l_elbow"): (170, 255, 0),
    ("l_elbow", "l_wrist"): (85, 255, 0),
    ("neck", "r_hip"): (0, 255, 0),
    ("r_hip", "r_knee"): (0, 255, 85),
    ("r_knee", "r_ankle"): (0, 255, 170),
    ("neck", "l_hip"): (0, 255, 255),
    ("l_hip", "l_knee"): (0, 170, 255),
    ("l_knee", "l_ankle"): (0, 85, 255),
}


def _limb(start: tuple[float, float], length: float, degrees: float) -> tuple[float, float]:
    """The end of a bone from ``start``, ``degrees`` from straight down (positive swings to the image's right)."""
    angle = math.radians(degrees)
    return start[0] + length * math.sin(angle), start[1] + length * math.cos(angle)


def dancer_joints(index: int) -> dict[str, tuple[int, int]]:
    """The dancer's joints at a frame: a two-beat sway with alternating arm waves and knee lifts."""
    beat = 2 * math.pi * index / 32  # a step every 2 s at 16 fps
    sway = 40 * math.sin(beat / 2)
    neck = (320 + sway, 110 + 6 * abs(math.sin(beat)))
    joints = {"neck": neck, "nose": (neck[0] + 4 * math.sin(beat), neck[1] - 34)}
    for side, sign in (("r", -1), ("l", 1)):
        wave = math.sin(beat + (0 if side == "r" else math.pi))
        shoulder = (neck[0] + sign * 36, neck[1] + 4)
        elbow = _limb(shoulder, 48, sign * (40 + 70 * max(0.0, wave)))
        wrist = _limb(elbow, 44, sign * (60 + 100 * max(0.0, wave)))
        hip = (neck[0] + sign * 22, neck[1] + 110)
        knee = _limb(hip, 60, sign * 6 + 30 * max(0.0, -wave))
        ankle = _limb(knee, 58, sign * 4 - 10 * max(0.0, -wave))
        joints |= {f"{side}_shoulder": shoulder, f"{side}_elbow": elbow, f"{side}_wrist": wrist}
        joints |= {f"{side}_hip": hip, f"{side}_knee": knee, f"{side}_ankle": ankle}
    return {name: (round(x), round(y)) for name, (x, y) in joints.items()}


def pose_image(joints: dict[str, tuple[int, int]], size: tuple[int, int], width: int) -> Image.Image:
    """A skeleton as pose nodes draw it: coloured bones ``width`` pixels wide and white joints, on black."""
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for (start, end), colour in LIMB_COLOURS.items():
        draw.line((joints[start], joints[end]), fill=colour, width=width)
    for x, y in joints.values():
        draw.ellipse((x - width // 2, y - width // 2, x + width // 2, y + width // 2), fill=(255, 255, 255))
    return image


def pose_frame(index: int) -> Image.Image:
    return pose_image(dancer_joints(index), POSE_SIZE, 10)


def face_frame(index: int) -> Image.Image:
    """A face crop: the head tilts with the dance, the mouth sings, the eyes blink every 3 s."""
    image = Image.new("RGB", (FACE_SIZE, FACE_SIZE), (36, 30, 40))
    draw = ImageDraw.Draw(image)
    dx = round(10 * math.sin(2 * math.pi * index / 64))
    draw.ellipse((58 + dx, 34, 198 + dx, 214), fill=(222, 178, 142))
    draw.chord((52 + dx, 24, 204 + dx, 130), 180, 360, fill=(170, 30, 40))  # the red beanie
    open_eyes = index % 48 >= 3
    for x in (96 + dx, 144 + dx):
        box = (x, 112, x + 18, 126) if open_eyes else (x, 118, x + 18, 121)
        draw.ellipse(box, fill=(30, 26, 24))
    mouth = round(4 + 12 * abs(math.sin(2 * math.pi * index / 20)))
    draw.ellipse((110 + dx, 162 - mouth // 2, 146 + dx, 166 + mouth // 2), fill=(120, 40, 50))
    return image


def walker_step(index: int) -> tuple[int, int]:
    """The passer-by's centre line and stride at a frame: crossing the sidewalk left to right, legs scissoring."""
    return 170 + round(260 * index / (WALK_FRAMES - 1)), round(14 * math.sin(2 * math.pi * index / 10))


def walker_figure(draw: ImageDraw.ImageDraw, index: int, colours: dict[str, tuple[int, int, int]]) -> None:
    """A passer-by in a long coat, in ``colours``."""
    x, stride = walker_step(index)
    draw.ellipse((x - 13, 104, x + 13, 132), fill=colours["skin"])  # head
    draw.rounded_rectangle((x - 24, 132, x + 24, 230), 10, fill=colours["coat"])  # coat
    draw.line(((x - 8, 226), (x - 8 + stride, 286)), fill=colours["legs"], width=12)
    draw.line(((x + 8, 226), (x + 8 - stride, 286)), fill=colours["legs"], width=12)


def walker_plate_frames(street: Image.Image, rng: np.random.Generator) -> list[np.ndarray]:
    """The street with the passer-by, filmed with the plates' moving camera and grain."""
    colours = {"skin": (206, 160, 128), "coat": (72, 76, 86), "legs": (40, 40, 44)}

    def scene(index: int) -> Image.Image:
        frame = street.copy()
        walker_figure(ImageDraw.Draw(frame), index, colours)
        return frame

    return filmed(scene, WALK_FRAMES, rng)


def walker_matte_frames(size: tuple[int, int]) -> list[np.ndarray]:
    """The passer-by's matte (white on black) filmed by the same camera, without grain: the roto a compositor gets."""

    def scene(index: int) -> Image.Image:
        frame = Image.new("RGB", size)
        walker_figure(ImageDraw.Draw(frame), index, dict.fromkeys(("skin", "coat", "legs"), (255, 255, 255)))
        return frame

    return filmed(scene, WALK_FRAMES, None)


def walker_joints(index: int) -> dict[str, tuple[int, int]]:
    """The passer-by's skeleton at a frame, on the figure walker_figure draws: arms swing against the legs."""
    x, stride = walker_step(index)
    joints = {"nose": (x, 118), "neck": (x, 136)}
    for side, sign in (("r", -1), ("l", 1)):
        swing = -sign * stride // 2
        joints |= {f"{side}_shoulder": (x + sign * 18, 140), f"{side}_elbow": (x + sign * 22 + swing, 178)}
        joints |= {f"{side}_wrist": (x + sign * 20 + 2 * swing, 214), f"{side}_hip": (x + sign * 8, 226)}
        step = sign * stride
        joints |= {f"{side}_knee": (x + sign * 8 - step // 2, 256), f"{side}_ankle": (x + sign * 8 - step, 286)}
    return joints


def walker_pose_frames(size: tuple[int, int]) -> list[np.ndarray]:
    """The passer-by's pose frames filmed by the plate's camera: what a pose node run on the plate gives."""
    return filmed(lambda index: pose_image(walker_joints(index), size, 6), WALK_FRAMES, None)


def drawn_clip(draw_frame: Callable[[int], Image.Image], frames: int) -> list[np.ndarray]:
    """A clip drawn frame by frame with a fixed camera, as the encoder receives it (yuv420p)."""
    return [yuv420p(np.asarray(draw_frame(index), np.int64)) for index in range(frames)]
