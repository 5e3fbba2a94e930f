"""Draws the demo workflows' input images and beat track, so every input ships as code under the pack's licence.

Run `python -m worldkit.tools.authoring.inputs` (from the folder that holds the pack) to (re)write `workflows/inputs/`.
The pictures are simple painted stand-ins (shapes, gradients, fog, grain) sized 640x360 so the files stay small;
the README says how to swap in real photos.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from ...models.shared.files import write_bytes_atomically
from .clips import (
    CLIP_FPS,
    DANCE_FRAMES,
    drawn_clip,
    face_frame,
    pose_frame,
    walker_matte_frames,
    walker_plate_frames,
    walker_pose_frames,
)
from .plates import moving_plate, plate_frames

SIZE = (640, 360)
INPUTS_DIR = Path(__file__).resolve().parents[2] / "workflows" / "inputs"
PREFIX = "worldkit_"
BEAT_BPM = 120
BEAT_SECONDS = 40.0
BEAT_SAMPLE_RATE = 16000


def _rng(name: str) -> np.random.Generator:
    """One fixed generator per picture, so redrawing gives the same bytes."""
    return np.random.default_rng(sum(ord(c) * (i + 1) for i, c in enumerate(name)))


def vertical_gradient(top: tuple[int, int, int], bottom: tuple[int, int, int], size=SIZE) -> Image.Image:
    w, h = size
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    rows = (1 - t) * np.array(top, np.float32) + t * np.array(bottom, np.float32)
    return Image.fromarray(np.broadcast_to(rows, (h, w, 3)).astype(np.uint8))


def add_grain(img: Image.Image, rng: np.random.Generator, sigma: float) -> Image.Image:
    """Sensor-like grain; a small sigma keeps PNGs compact."""
    a = np.asarray(img.convert("RGB"), np.float32)
    a += rng.normal(0.0, sigma, a.shape[:2])[..., None]
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def add_fog(img: Image.Image, rng: np.random.Generator, colour=(150, 160, 175), amount=0.55) -> Image.Image:
    """Low-frequency fog, thicker near the ground."""
    w, h = img.size
    coarse = rng.random((h // 40 + 2, w // 40 + 2)).astype(np.float32)
    fog = np.asarray(Image.fromarray((coarse * 255).astype(np.uint8)).resize((w, h), Image.BICUBIC), np.float32) / 255
    ramp = np.linspace(0.2, 1.0, h, dtype=np.float32)[:, None]
    alpha = np.clip(fog * ramp * amount, 0, 1)[..., None]
    a = np.asarray(img.convert("RGB"), np.float32)
    return Image.fromarray((a * (1 - alpha) + np.array(colour, np.float32) * alpha).astype(np.uint8))


def transparent_canvas() -> tuple[Image.Image, ImageDraw.ImageDraw]:
    img = Image.new("RGBA", SIZE, (0, 0, 0, 0))
    return img, ImageDraw.Draw(img)


def cutout_on_plate(subject: Image.Image, plate: Image.Image) -> Image.Image:
    """A subject with alpha kept as RGBA: LoadImage turns the alpha into the subject's MASK."""
    soft = subject.copy()
    alpha = soft.getchannel("A").filter(ImageFilter.GaussianBlur(1.2))
    soft.putalpha(alpha)
    base = plate.convert("RGBA")
    base.alpha_composite(soft)
    base.putalpha(alpha)
    return base


def draw_skunk() -> Image.Image:
    img, d = transparent_canvas()
    black, white, pink = (24, 22, 26, 255), (238, 236, 230, 255), (230, 150, 160, 255)
    d.ellipse((300, 60, 470, 250), fill=black)  # tail
    d.ellipse((345, 70, 420, 240), fill=white)
    d.ellipse((220, 170, 400, 290), fill=black)  # body
    d.polygon([(260, 175), (330, 170), (395, 200), (330, 190)], fill=white)  # back stripe
    d.ellipse((170, 150, 270, 240), fill=black)  # head
    d.polygon([(180, 160), (195, 120), (212, 158)], fill=black)  # ears
    d.polygon([(232, 156), (250, 118), (262, 160)], fill=black)
    d.polygon([(215, 150), (225, 185), (235, 150)], fill=white)  # face stripe
    d.ellipse((195, 180, 210, 195), fill=white)
    d.ellipse((232, 180, 247, 195), fill=white)
    d.ellipse((200, 184, 208, 192), fill=black)
    d.ellipse((237, 184, 245, 192), fill=black)
    d.ellipse((214, 212, 228, 224), fill=pink)  # nose
    for x in (240, 280, 330, 365):
        d.rounded_rectangle((x, 270, x + 22, 315), 8, fill=black)
    return cutout_on_plate(img, Image.new("RGB", SIZE, (255, 255, 255)))


def draw_night_forest() -> Image.Image:
    rng = _rng("forest")
    img = vertical_gradient((8, 12, 34), (18, 30, 28))
    d = ImageDraw.Draw(img)
    d.ellipse((500, 30, 545, 75), fill=(228, 230, 210))
    for x in rng.integers(0, 640, 60):
        y = int(rng.integers(0, 140))
        d.point((int(x), y), fill=(200, 205, 220))
    for _i in range(26):
        x = int(rng.integers(-20, 660))
        depth = 0.4 + 0.6 * rng.random()
        top = int(60 + 90 * (1 - depth))
        shade = int(10 + 25 * (1 - depth))
        d.polygon([(x, top), (x - 45 * depth, 300), (x + 45 * depth, 300)], fill=(shade, shade + 12, shade + 6))
        d.rectangle((x - 4, 290, x + 4, 320), fill=(shade + 10, shade + 6, shade))
    d.rectangle((0, 300, 640, 360), fill=(20, 26, 18))
    glow = Image.new("L", SIZE, 0)
    ImageDraw.Draw(glow).ellipse((270, 250, 370, 350), fill=255)
    glow = glow.filter(ImageFilter.GaussianBlur(28))
    img = Image.composite(Image.new("RGB", SIZE, (255, 150, 60)), img, glow.point(lambda v: int(v * 0.6)))
    d = ImageDraw.Draw(img)
    d.polygon([(320, 282), (306, 318), (334, 318)], fill=(255, 200, 90))
    d.polygon([(320, 298), (313, 318), (327, 318)], fill=(255, 245, 200))
    return add_grain(img, rng, 2.0)


def draw_wooden_toy_phone() -> Image.Image:
    rng = _rng("toy")
    img = vertical_gradient((196, 190, 178), (150, 140, 126))
    d = ImageDraw.Draw(img)
    d.rectangle((0, 250, 640, 360), fill=(120, 92, 64))  # table
    for y in range(256, 360, 9):
        d.line((0, y, 640, y + 4), fill=(108, 82, 56), width=2)
    wood, dark = (196, 146, 92), (150, 104, 60)
    d.rounded_rectangle((270, 150, 370, 270), 18, fill=wood, outline=dark, width=3)  # body
    d.ellipse((285, 60, 355, 150), fill=wood, outline=dark, width=3)  # head
    d.ellipse((303, 95, 313, 105), fill=(40, 30, 24))
    d.ellipse((327, 95, 337, 105), fill=(40, 30, 24))
    d.arc((305, 105, 335, 128), 20, 160, fill=(90, 50, 30), width=3)
    d.rounded_rectangle((240, 160, 272, 240), 12, fill=wood, outline=dark, width=3)  # arms
    d.rounded_rectangle((368, 160, 400, 240), 12, fill=wood, outline=dark, width=3)
    d.ellipse((268, 258, 304, 294), fill=(70, 50, 36))  # wheels
    d.ellipse((336, 258, 372, 294), fill=(70, 50, 36))
    img = img.filter(ImageFilter.GaussianBlur(0.8))
    vignette = np.hypot(*np.meshgrid(np.linspace(-1, 1, SIZE[0]), np.linspace(-1, 1, SIZE[1])))
    a = np.asarray(img, np.float32) * (1 - 0.35 * np.clip(vignette - 0.5, 0, 1))[..., None]
    return add_grain(Image.fromarray(a.astype(np.uint8)), rng, 1.0)


def draw_street(name: str, sky=(150, 170, 196), dusk=False) -> Image.Image:
    """A New York street plate: brownstones and towers in perspective, sidewalk, curb, road."""
    rng = _rng(name)
    img = vertical_gradient(sky, (200, 196, 190) if not dusk else (230, 150, 110))
    d = ImageDraw.Draw(img)
    x = 0
    while x < 640:
        w = int(rng.integers(60, 120))
        top = int(rng.integers(20, 150))
        base = tuple(int(c) for c in rng.integers(70, 150, 3))
        d.rectangle((x, top, x + w, 250), fill=base)
        for wy in range(top + 12, 240, 22):
            for wx in range(x + 8, x + w - 12, 18):
                lit = dusk and rng.random() < 0.4
                d.rectangle((wx, wy, wx + 9, wy + 12), fill=(250, 220, 140) if lit else (60, 70, 84))
        x += w + int(rng.integers(0, 6))
    d.rectangle((0, 250, 640, 292), fill=(168, 164, 158))  # sidewalk
    for sx in range(0, 640, 48):
        d.line((sx, 250, sx - 10, 292), fill=(140, 136, 130), width=1)
    d.rectangle((0, 292, 640, 300), fill=(120, 116, 110))  # curb
    d.rectangle((0, 300, 640, 360), fill=(64, 64, 68))  # road
    for lx in range(20, 640, 120):
        d.rectangle((lx, 332, lx + 60, 337), fill=(230, 200, 80))
    d.rectangle((560, 150, 566, 252), fill=(40, 60, 48))  # lamp post
    d.ellipse((550, 140, 576, 158), fill=(250, 240, 200) if dusk else (90, 96, 90))
    return add_grain(img, rng, 2.5)


def draw_young_man() -> Image.Image:
    img, d = transparent_canvas()
    skin, hair, jacket, jeans = (214, 170, 136, 255), (52, 36, 28, 255), (96, 60, 40, 255), (52, 66, 98, 255)
    d.rounded_rectangle((262, 120, 378, 250), 24, fill=jacket)  # torso
    d.rounded_rectangle((236, 128, 266, 240), 14, fill=jacket)
    d.rounded_rectangle((374, 128, 404, 240), 14, fill=jacket)
    d.rectangle((270, 245, 316, 350), fill=jeans)
    d.rectangle((324, 245, 370, 350), fill=jeans)
    d.rectangle((304, 96, 336, 124), fill=skin)  # neck
    d.ellipse((282, 30, 358, 112), fill=skin)  # head
    d.chord((278, 22, 362, 86), 180, 360, fill=hair)
    d.ellipse((300, 62, 310, 70), fill=(40, 40, 40, 255))
    d.ellipse((330, 62, 340, 70), fill=(40, 40, 40, 255))
    d.line((310, 92, 330, 92), fill=(150, 90, 80, 255), width=3)
    return cutout_on_plate(img, Image.new("RGB", SIZE, (255, 255, 255)))


def draw_performer() -> Image.Image:
    """The Animate film's one character: a street dancer in a yellow raincoat and a red beanie, arms open."""
    img, d = transparent_canvas()
    skin, coat, beanie, trousers = (222, 178, 142, 255), (240, 196, 40, 255), (170, 30, 40, 255), (40, 44, 60, 255)
    d.rounded_rectangle((276, 118, 364, 246), 20, fill=coat)  # raincoat
    d.line(((282, 130), (226, 200)), fill=coat, width=26)  # arms, open
    d.line(((358, 130), (414, 200)), fill=coat, width=26)
    d.ellipse((214, 192, 238, 216), fill=skin)
    d.ellipse((402, 192, 426, 216), fill=skin)
    d.rectangle((286, 240, 314, 340), fill=trousers)
    d.rectangle((326, 240, 354, 340), fill=trousers)
    d.rounded_rectangle((278, 334, 318, 350), 6, fill=(20, 20, 24, 255))  # shoes
    d.rounded_rectangle((322, 334, 362, 350), 6, fill=(20, 20, 24, 255))
    d.rectangle((308, 98, 332, 122), fill=skin)  # neck
    d.ellipse((288, 36, 352, 110), fill=skin)  # head
    d.chord((284, 26, 356, 78), 180, 360, fill=beanie)
    d.ellipse((304, 66, 312, 74), fill=(30, 26, 24, 255))
    d.ellipse((328, 66, 336, 74), fill=(30, 26, 24, 255))
    d.arc((308, 80, 332, 98), 20, 160, fill=(120, 40, 50, 255), width=3)
    return cutout_on_plate(img, Image.new("RGB", SIZE, (255, 255, 255)))


def draw_foggy_field_cattle() -> Image.Image:
    rng = _rng("herd")
    img = vertical_gradient((14, 18, 30), (34, 40, 36))
    d = ImageDraw.Draw(img)
    d.polygon([(0, 210), (160, 190), (330, 205), (480, 188), (640, 200), (640, 360), (0, 360)], fill=(30, 38, 28))
    for i in range(9):
        depth = 0.35 + 0.65 * (i / 8)
        cx = int(rng.integers(30, 610))
        cy = int(205 + 120 * depth)
        w, h = int(70 * depth), int(36 * depth)
        body = (28, 24, 22) if i % 3 else (120, 110, 100)
        d.ellipse((cx - w // 2, cy - h, cx + w // 2, cy), fill=body)
        d.ellipse((cx + w // 2 - 8, cy - h - 6, cx + w // 2 + int(18 * depth), cy - h // 2), fill=body)
        for lx in (cx - w // 3, cx - w // 6, cx + w // 6, cx + w // 3):
            d.rectangle((lx, cy - 4, lx + max(2, int(5 * depth)), cy + int(14 * depth)), fill=body)
    img = add_fog(img, rng, colour=(120, 128, 140), amount=0.7)
    return add_grain(img, rng, 1.2)


def draw_pigeon() -> Image.Image:
    img, d = transparent_canvas()
    grey, dark, sheen = (132, 136, 150, 255), (70, 72, 84, 255), (90, 140, 120, 255)
    d.ellipse((250, 160, 400, 260), fill=grey)  # body
    d.polygon([(390, 200), (470, 180), (470, 230), (395, 235)], fill=dark)  # tail
    d.ellipse((220, 120, 290, 185), fill=grey)  # head
    d.chord((228, 150, 300, 215), 0, 180, fill=sheen)  # neck sheen
    d.polygon([(220, 150), (196, 158), (222, 162)], fill=(60, 50, 50, 255))  # beak
    d.ellipse((240, 138, 250, 148), fill=(230, 120, 40, 255))
    d.arc((280, 175, 390, 245), 200, 340, fill=dark, width=6)  # wing
    d.line((310, 258, 300, 290), fill=(200, 90, 90, 255), width=4)
    d.line((340, 258, 345, 290), fill=(200, 90, 90, 255), width=4)
    return cutout_on_plate(img, Image.new("RGB", SIZE, (255, 255, 255)))


def draw_dog() -> Image.Image:
    img, d = transparent_canvas()
    fur, dark = (196, 150, 96, 255), (120, 80, 50, 255)
    d.rounded_rectangle((230, 160, 420, 250), 40, fill=fur)  # body
    for x in (245, 290, 360, 395):
        d.rounded_rectangle((x, 230, x + 24, 320), 10, fill=fur)
    d.line((418, 180, 470, 130), fill=fur, width=14)  # tail
    d.ellipse((160, 100, 260, 200), fill=fur)  # head
    d.ellipse((140, 140, 190, 185), fill=fur)  # muzzle
    d.ellipse((138, 150, 156, 166), fill=(30, 24, 20, 255))
    d.ellipse((180, 126, 194, 140), fill=(30, 24, 20, 255))
    d.polygon([(200, 100), (250, 92), (240, 170)], fill=dark)  # ear
    return cutout_on_plate(img, Image.new("RGB", SIZE, (255, 255, 255)))


def draw_cat() -> Image.Image:
    img, d = transparent_canvas()
    fur, stripe = (110, 110, 118, 255), (60, 60, 66, 255)
    d.ellipse((270, 170, 400, 300), fill=fur)  # body
    for x in (290, 320, 350):
        d.line((x, 180, x + 10, 290), fill=stripe, width=6)
    d.ellipse((240, 110, 330, 200), fill=fur)  # head
    d.polygon([(246, 130), (252, 88), (280, 118)], fill=fur)
    d.polygon([(292, 116), (322, 86), (326, 130)], fill=fur)
    d.ellipse((262, 140, 276, 156), fill=(180, 200, 80, 255))
    d.ellipse((296, 140, 310, 156), fill=(180, 200, 80, 255))
    d.ellipse((267, 143, 271, 153), fill=(10, 10, 10, 255))
    d.ellipse((301, 143, 305, 153), fill=(10, 10, 10, 255))
    d.arc((380, 200, 470, 300), 180, 300, fill=fur, width=14)  # tail
    return cutout_on_plate(img, Image.new("RGB", SIZE, (255, 255, 255)))


def draw_monkey() -> Image.Image:
    img, d = transparent_canvas()
    fur, face = (104, 70, 44, 255), (222, 186, 150, 255)
    d.ellipse((250, 170, 390, 320), fill=fur)  # body
    d.ellipse((240, 60, 400, 200), fill=fur)  # head
    d.ellipse((214, 100, 262, 150), fill=fur)  # ears
    d.ellipse((378, 100, 426, 150), fill=fur)
    d.ellipse((226, 112, 252, 138), fill=face)
    d.ellipse((388, 112, 414, 138), fill=face)
    d.ellipse((270, 90, 370, 190), fill=face)  # face
    d.ellipse((292, 112, 310, 130), fill=(30, 20, 14, 255))
    d.ellipse((330, 112, 348, 130), fill=(30, 20, 14, 255))
    d.arc((296, 140, 344, 175), 20, 160, fill=(110, 60, 40, 255), width=4)
    d.line((390, 270, 460, 220), fill=fur, width=12)  # arm with headphones cable-like tail
    d.arc((440, 160, 520, 260), 90, 270, fill=fur, width=10)
    return cutout_on_plate(img, Image.new("RGB", SIZE, (255, 255, 255)))


def beat_track(bpm: int = BEAT_BPM, seconds: float = BEAT_SECONDS, rate: int = BEAT_SAMPLE_RATE) -> np.ndarray:
    """A kick and click on every beat (accented bar downbeats) over silence: onsets a beat detector must find."""
    n = int(seconds * rate)
    out = np.zeros(n)
    hit_len = int(0.08 * rate)
    t = np.arange(hit_len) / rate
    kick = np.sin(2 * np.pi * (110.0 - 500.0 * t) * t) * np.exp(-t / 0.03)
    click = np.sin(2 * np.pi * 1760.0 * t) * np.exp(-t / 0.006)
    beat = 60.0 / bpm
    for k in range(int(seconds / beat) + 1):
        start = round(k * beat * rate)
        if start >= n:
            break
        accent = 0.9 if k % 4 == 0 else 0.55
        hit = accent * (0.7 * kick + 0.3 * click)
        out[start : start + hit_len] += hit[: n - start]
    return np.clip(out, -1, 1)


def flac_bytes(samples: np.ndarray, rate: int) -> bytes:
    """Lossless and small: the beat track is mostly silence."""
    buf = io.BytesIO()
    with av.open(buf, "w", format="flac") as container:
        stream = container.add_stream("flac", rate=rate, layout="mono")
        frame = av.AudioFrame.from_ndarray((samples * 32767).astype(np.int16)[None], format="s16", layout="mono")
        frame.sample_rate = rate
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    return buf.getvalue()


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


PICTURES: dict[str, Callable[[], Image.Image]] = {
    "skunk.png": draw_skunk,
    "night_forest.png": draw_night_forest,
    "wooden_toy_phone.png": draw_wooden_toy_phone,
    "nyc_street_plate.png": lambda: draw_street("nyc_street_plate"),
    "young_man.png": draw_young_man,
    "foggy_field_cattle.png": draw_foggy_field_cattle,
    "pigeon.png": draw_pigeon,
    "dog.png": draw_dog,
    "cat.png": draw_cat,
    "nyc_street_crosswalk.png": lambda: draw_street("nyc_street_crosswalk", sky=(176, 190, 206)),
    "nyc_street_dusk.png": lambda: draw_street("nyc_street_dusk", sky=(60, 70, 120), dusk=True),
    "monkey.png": draw_monkey,
    "performer.png": draw_performer,
}
BEAT_TRACK = "beat_120bpm.flac"
MOVING_PLATES: dict[str, str] = {
    "nyc_street_plate_moving.mp4": "nyc_street_plate.png",
    "foggy_field_cattle_moving.mp4": "foggy_field_cattle.png",
}
"""Moving plates (for Load Video) and the still each is filmed from."""
CLIPS: dict[str, Callable[[], list[np.ndarray]]] = {
    "dance_pose.mp4": lambda: drawn_clip(pose_frame, DANCE_FRAMES),
    "dance_face.mp4": lambda: drawn_clip(face_frame, DANCE_FRAMES),
    "nyc_street_walker_moving.mp4": lambda: walker_plate_frames(draw_street("nyc_street_plate"), _rng("walker")),
    "nyc_street_walker_matte.mp4": lambda: walker_matte_frames(SIZE),
    "nyc_street_walker_pose.mp4": lambda: walker_pose_frames(SIZE),
}
"""The Animate film's footage at the shots' rate (tools/authoring/clips.py): the dancer's pose frames and face
crops, and a moving street plate with a passer-by, that passer-by's matte and pose frames."""


def input_files() -> dict[str, bytes]:
    """Every input file by the name workflows load it under (ComfyUI's input folder is flat, hence the prefix)."""
    files = {PREFIX + name: png_bytes(draw()) for name, draw in PICTURES.items()}
    files[PREFIX + BEAT_TRACK] = flac_bytes(beat_track(), BEAT_SAMPLE_RATE)
    for name in MOVING_PLATES:
        files[PREFIX + name] = moving_plate(moving_plate_frames(name))
    for name, frames in CLIPS.items():
        files[PREFIX + name] = moving_plate(frames(), CLIP_FPS)
    return files


def moving_plate_frames(name: str) -> list[np.ndarray]:
    """The frames a moving plate is encoded from: the same on every machine, unlike the encoder's bytes."""
    return plate_frames(PICTURES[MOVING_PLATES[name]](), _rng(name))


def main(out_dir: Path = INPUTS_DIR) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, data in input_files().items():
        write_bytes_atomically(out_dir / name, data)
        print(f"{name}: {len(data) // 1024} KB")


if __name__ == "__main__":
    main()
