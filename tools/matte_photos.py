"""Mattes of known truth on real photographs (scikit-image's), for the matte quality benchmark.

A subject photograph over a background photograph through a soft true alpha, and rough masks of the kinds a
segmentation hands over. Three silhouettes of different kinds, each with its own photographs: an animal (the horse),
a person with hair (the camera man segmented from his photograph, hair strands drawn at his head's edge) and an
object with thin parts (a drawn lamp with 1-3 px wires and legs). Shapes are drawn at 4x and reduced, so edges and
strands are soft. The animal set is the development set (every parameter was chosen on it); the other two are held
out: nothing was chosen on them.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import skimage.data

HEIGHT, WIDTH = 300, 400
SUPERSAMPLE = 4
TINT = np.array([1.0, 0.9, 0.75], np.float32)  # grey photographs get some colour
MASKS = (
    ("eroded 2 px", 4),
    ("eroded 4 px", 8),
    ("eroded 8 px", 12),
    ("dilated 2 px", 4),
    ("dilated 4 px", 8),
    ("dilated 8 px", 12),
    ("blocky 1/8", 8),
    ("blurred", 6),
    ("1/4 resolution", 6),
)  # each rough-mask kind with the band radius it is refined with (about twice how far off it is)
FAR_OFF = ("eroded 4 px", "eroded 8 px", "dilated 4 px", "dilated 8 px")  # where the mask is off by 4-8 px


@dataclass(frozen=True)
class MatteSet:
    """A silhouette and the (subject, background) photograph pairs shot through it."""

    name: str
    silhouette: str
    pairs: tuple[tuple[str, str], ...]
    held_out: bool


SETS = (
    MatteSet("animal", "horse", (("coffee", "astronaut"), ("chelsea", "rocket"), ("gravel", "moon")), held_out=False),
    MatteSet("person with hair", "person", (("camera", "motorcycle"), ("immunohistochemistry", "grass")), True),
    MatteSet("thin object", "lamp", (("retina", "brick"), ("hubble_deep_field", "clock")), held_out=True),
)


def photo(name: str, height: int = HEIGHT, width: int = WIDTH) -> np.ndarray:
    """A photograph as float RGB [height, width, 3]; grey ones tinted."""
    image = skimage.data.stereo_motorcycle()[0] if name == "motorcycle" else getattr(skimage.data, name)()
    image = image[..., :3].astype(np.float32) / 255.0 if image.ndim == 3 else (image[..., None] / 255.0) * TINT
    return cv2.resize(image.astype(np.float32), (width, height), interpolation=cv2.INTER_AREA)


def _reduce(big: np.ndarray, height: int, width: int) -> np.ndarray:
    """A shape drawn at SUPERSAMPLE x reduced by area averaging: its edge soft as a lens would make it."""
    soft = cv2.GaussianBlur(big.astype(np.float32), (0, 0), 1.5)
    return np.clip(cv2.resize(soft, (width, height), interpolation=cv2.INTER_AREA), 0.0, 1.0)


def _horse(height: int, width: int) -> np.ndarray:
    big = cv2.resize((~skimage.data.horse()).astype(np.float32), (width * SUPERSAMPLE, height * SUPERSAMPLE))
    return (big > 0.5).astype(np.float32)


def _person(height: int, width: int) -> np.ndarray:
    """The camera man's dark coat and hair segmented (holes filled, outline smoothed), then hair strands: thin
    curves leaving his head's upper outline, a fraction of a pixel to a pixel wide once reduced."""
    size = (width * SUPERSAMPLE, height * SUPERSAMPLE)
    camera = cv2.resize(skimage.data.camera(), size, interpolation=cv2.INTER_AREA)
    dark = (camera < 60).astype(np.uint8)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(cv2.morphologyEx(dark, cv2.MORPH_OPEN, np.ones((9, 9))))
    body = (labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))).astype(np.uint8)
    body = cv2.morphologyEx(body, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (41, 41)))
    flood = body.copy()
    cv2.floodFill(flood, None, (size[0] - 1, 0), 1)
    body = body | (1 - flood)  # holes (face, hands) filled
    body = (cv2.GaussianBlur(body.astype(np.float32), (0, 0), 6.0) > 0.5).astype(np.float32)
    rng = np.random.default_rng(7)
    rows = np.flatnonzero(body.any(1))
    top = rows[0]
    head = body[top : top + size[1] // 6]
    ys, xs = np.nonzero((head > 0) & (cv2.erode(head, np.ones((3, 3))) == 0))  # the head's outline
    for index in rng.choice(len(xs), 120, replace=False):
        x, y = float(xs[index]), float(ys[index] + top)
        angle = rng.uniform(-np.pi, 0.0)  # outwards and upwards
        length, bend = rng.uniform(20, 70), rng.uniform(-0.03, 0.03)
        points = []
        for _ in range(12):
            points.append((x, y))
            x += np.cos(angle) * length / 12
            y += np.sin(angle) * length / 12
            angle += bend
        cv2.polylines(body, [np.round(points).astype(np.int32)], False, 1.0, int(rng.integers(1, 4)))
    return body


def _lamp(height: int, width: int) -> np.ndarray:
    """A desk lamp: shade and base solid, arm, cable and three legs 1-3 px wide once reduced."""
    s = SUPERSAMPLE
    big = np.zeros((height * s, width * s), np.float32)
    scale = np.array([width * s / 400, height * s / 300])

    def at(*points: tuple[float, float]) -> np.ndarray:
        return np.round(np.array(points) * scale).astype(np.int32)

    cv2.fillPoly(big, [at((230, 40), (300, 40), (330, 110), (200, 110))], 1.0)  # shade
    cv2.ellipse(big, tuple(at((200, 250))[0]), tuple(at((60, 14))[0]), 0, 0, 360, 1.0, -1)  # base
    for points, thickness in (
        (((265, 110), (250, 170), (200, 240)), 3 * s),  # arm
        (((230, 180), (150, 190), (90, 120), (60, 40)), 1 * s),  # cable
        (((160, 255), (120, 295)), 2 * s),  # legs
        (((200, 258), (200, 299)), 2 * s),
        (((240, 255), (290, 295)), 1 * s),
        (((300, 60), (360, 20), (390, 15)), 1 * s),  # a wire from the shade
    ):
        cv2.polylines(big, [at(*points)], False, 1.0, thickness)
    return big


SILHOUETTES = {"horse": _horse, "person": _person, "lamp": _lamp}


def true_alpha(silhouette: str, height: int = HEIGHT, width: int = WIDTH) -> np.ndarray:
    """The silhouette's soft true alpha [height, width]."""
    return _reduce(SILHOUETTES[silhouette](height, width), height, width)


def rough_mask(alpha: np.ndarray, kind: str) -> np.ndarray:
    """A rough mask of one of MASKS' kinds made from the true alpha."""
    hard = (alpha > 0.5).astype(np.float32)
    height, width = alpha.shape
    if kind.startswith(("eroded", "dilated")):
        size = 2 * int(kind.split()[1]) + 1
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
        return cv2.erode(hard, kernel) if kind.startswith("eroded") else cv2.dilate(hard, kernel)
    if kind == "blocky 1/8":
        small = cv2.resize(alpha, (width // 8, height // 8), interpolation=cv2.INTER_AREA) > 0.5
        return cv2.resize(small.astype(np.float32), (width, height), interpolation=cv2.INTER_NEAREST)
    if kind == "blurred":
        return cv2.GaussianBlur(hard, (0, 0), 3.0)
    small = cv2.resize(alpha, (width // 4, height // 4), interpolation=cv2.INTER_AREA)
    return np.clip(cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR), 0.0, 1.0)


def shot(matte_set: MatteSet, pair: tuple[str, str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(image, true alpha, subject photograph) of one pair of a set."""
    alpha = true_alpha(matte_set.silhouette)
    subject, background = photo(pair[0]), photo(pair[1])
    image = subject * alpha[..., None] + background * (1.0 - alpha[..., None])
    return image.astype(np.float32), alpha, subject
