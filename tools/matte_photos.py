"""Mattes of known truth on real photographs (scikit-image's), for the matte quality benchmark.

A subject photograph over a background photograph through a soft true alpha, and rough masks of the kinds a
segmentation hands over. Five silhouettes of different kinds, each with its own photographs: an animal (the horse),
a furred subject (the cat segmented from its own photograph, fur strands and whiskers drawn at its outline, shot in
colour and in grey, as monochrome footage is), a person with hair (the camera man segmented from his photograph, hair
strands drawn at his head's edge), an object with thin parts (a drawn lamp with 1-3 px wires and legs) and scattered
objects (the coins segmented from their photograph). Shapes are drawn at 4x and reduced, so edges and strands are
soft. The animal and fur sets are the development sets: every parameter is chosen on them. The person, thin-object
and coins sets are held out: nothing is chosen on them, and no development pair uses their photographs (the coins
set was added before anything was tuned against the fur set).
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
    MatteSet("fur", "cat", (("chelsea grey", "rocket"), ("chelsea", "astronaut")), held_out=False),
    MatteSet("person with hair", "person", (("camera", "motorcycle"), ("immunohistochemistry", "grass")), True),
    MatteSet("thin object", "lamp", (("retina", "brick"), ("hubble_deep_field", "clock")), held_out=True),
    MatteSet("scattered objects", "coins", (("coins", "page"), ("cell", "text")), held_out=True),
)
GREY = " grey"  # a colour photograph's name with this suffix: the photograph in grey, tinted as grey ones are


def photo(name: str, height: int = HEIGHT, width: int = WIDTH) -> np.ndarray:
    """A photograph as float RGB [height, width, 3]; grey ones tinted."""
    grey = name.endswith(GREY)
    name = name.removesuffix(GREY)
    image = skimage.data.stereo_motorcycle()[0] if name == "motorcycle" else getattr(skimage.data, name)()
    if grey and image.ndim == 3:
        image = cv2.cvtColor(image[..., :3], cv2.COLOR_RGB2GRAY)
    image = image[..., :3].astype(np.float32) / 255.0 if image.ndim == 3 else (image[..., None] / 255.0) * TINT
    return cv2.resize(image.astype(np.float32), (width, height), interpolation=cv2.INTER_AREA)


def _reduce(big: np.ndarray, height: int, width: int) -> np.ndarray:
    """A shape drawn at SUPERSAMPLE x reduced by area averaging: its edge soft as a lens would make it."""
    soft = cv2.GaussianBlur(big.astype(np.float32), (0, 0), 1.5)
    return np.clip(cv2.resize(soft, (width, height), interpolation=cv2.INTER_AREA), 0.0, 1.0)


def _horse(height: int, width: int) -> np.ndarray:
    big = cv2.resize((~skimage.data.horse()).astype(np.float32), (width * SUPERSAMPLE, height * SUPERSAMPLE))
    return (big > 0.5).astype(np.float32)


def _filled(picked: np.ndarray, close: int, smooth: float) -> np.ndarray:
    """A segmentation's gaps closed, its holes filled (everything the top right corner's background does not reach)
    and its outline smoothed."""
    body = cv2.morphologyEx(picked, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (close, close)))
    flood = body.copy()
    cv2.floodFill(flood, None, (body.shape[1] - 1, 0), 1)
    body = body | (1 - flood)
    return (cv2.GaussianBlur(body.astype(np.float32), (0, 0), smooth) > 0.5).astype(np.float32)


def _largest(picked: np.ndarray) -> np.ndarray:
    """The largest connected part of a segmentation, after specks are opened away."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(cv2.morphologyEx(picked, cv2.MORPH_OPEN, np.ones((9, 9))))
    return (labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))).astype(np.uint8)


def _strand(body: np.ndarray, start: tuple[float, float], angle: float, length: float, bend: float, width: int) -> None:
    """Draws one strand (hair, fur, a whisker) into body: a gently bending curve of 12 steps from start."""
    x, y = start
    points = []
    for _ in range(12):
        points.append((x, y))
        x += np.cos(angle) * length / 12
        y += np.sin(angle) * length / 12
        angle += bend
    cv2.polylines(body, [np.round(points).astype(np.int32)], False, 1.0, width)


def _outline(body: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows, columns) of a shape's outline pixels."""
    return np.nonzero((body > 0) & (cv2.erode(body, np.ones((3, 3))) == 0))


def _person(height: int, width: int) -> np.ndarray:
    """The camera man's dark coat and hair segmented (holes filled, outline smoothed), then hair strands: thin
    curves leaving his head's upper outline, a fraction of a pixel to a pixel wide once reduced."""
    size = (width * SUPERSAMPLE, height * SUPERSAMPLE)
    camera = cv2.resize(skimage.data.camera(), size, interpolation=cv2.INTER_AREA)
    body = _filled(_largest((camera < 60).astype(np.uint8)), 41, 6.0)  # holes (face, hands) filled
    rng = np.random.default_rng(7)
    top = np.flatnonzero(body.any(1))[0]
    ys, xs = _outline(body[top : top + size[1] // 6])  # the head's outline
    for index in rng.choice(len(xs), 120, replace=False):
        angle = rng.uniform(-np.pi, 0.0)  # outwards and upwards
        length, bend = rng.uniform(20, 70), rng.uniform(-0.03, 0.03)
        _strand(body, (float(xs[index]), float(ys[index] + top)), angle, length, bend, int(rng.integers(1, 4)))
    return body


def _cat(height: int, width: int) -> np.ndarray:
    """The cat's head segmented from its own photograph by its fur's colour saturation (the background is greyish;
    holes filled, outline smoothed), then fur: short strands leaving its outline outwards, and a few long whiskers."""
    size = (width * SUPERSAMPLE, height * SUPERSAMPLE)
    chelsea = cv2.resize(skimage.data.chelsea(), size, interpolation=cv2.INTER_AREA)
    saturation = cv2.GaussianBlur(cv2.cvtColor(chelsea, cv2.COLOR_RGB2HSV)[..., 1], (0, 0), 16.0)
    _, picked = cv2.threshold(saturation, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    body = _filled(_largest(picked), 61, 8.0)
    outwards = cv2.GaussianBlur(body, (0, 0), 24.0)  # falls away from the body: its gradient points inwards
    dy, dx = np.gradient(outwards)
    rng = np.random.default_rng(11)
    ys, xs = _outline(body)
    inside = (ys > 0) & (xs > 0) & (ys < size[1] - 1) & (xs < size[0] - 1)  # not along the frame's edge
    ys, xs = ys[inside], xs[inside]
    for count, lengths, widths in ((600, (8, 40), (1, 3)), (12, (120, 320), (1, 3))):  # fur, then whiskers
        for index in rng.choice(len(xs), count, replace=False):
            y, x = ys[index], xs[index]
            angle = float(np.arctan2(-dy[y, x], -dx[y, x])) + rng.uniform(-0.6, 0.6)
            length, bend = rng.uniform(*lengths), rng.uniform(-0.02, 0.02)
            _strand(body, (float(x), float(y)), angle, length, bend, int(rng.integers(*widths)))
    return body


def _coins(height: int, width: int) -> np.ndarray:
    """The coins segmented from their photograph: the bright parts that do not touch the frame (the lit wall at
    the top does), holes filled, outlines smoothed."""
    size = (width * SUPERSAMPLE, height * SUPERSAMPLE)
    coins = cv2.GaussianBlur(cv2.resize(skimage.data.coins(), size, interpolation=cv2.INTER_LINEAR), (0, 0), 4.0)
    _, picked = cv2.threshold(coins, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(cv2.morphologyEx(picked, cv2.MORPH_OPEN, np.ones((9, 9))))
    left, top = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
    right, bottom = left + stats[:, cv2.CC_STAT_WIDTH], top + stats[:, cv2.CC_STAT_HEIGHT]
    inner = (left > 0) & (top > 0) & (right < size[0]) & (bottom < size[1])
    inner[0] = False  # the background
    return _filled(inner[labels].astype(np.uint8), 9, 4.0)


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


SILHOUETTES = {"horse": _horse, "cat": _cat, "person": _person, "lamp": _lamp, "coins": _coins}


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
