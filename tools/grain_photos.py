"""Grain of known level on real photographs (scikit-image's), for the grain tests and the quality benchmark.

Plates are denoised photographs with grain added: white (independent per pixel and channel), clumped (about 1.5 px,
channels correlated about 0.8, as scanned film) or luma-only (one field in every channel, as a monochrome grain
plug-in). Elements are denoised photographs (busy, smooth), a flat grey frame, and the plate's own picture without
its grain (an element cut from the same scene). Two independent sets: the development set is the one the estimator
was chosen on; the judged set played no part in choosing anything.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import skimage.data
import torch

from ..models.compositing.grain import match_grain

SIZE = (600, 800)  # height, width: grain is measured in 8x8 blocks at full and half size, so plates need some size
LEVEL = np.array([0.02, 0.025, 0.035], np.float32)  # the plate grain's standard deviation per channel
GRAINS = ("white", "clumped", "luma")
TINT = np.array([1.0, 0.9, 0.75], np.float32)  # grey photographs get some colour
PAN = (2, 3)  # pixels a moving plate or element pans per frame (down, right)
BORDER = 8  # pixels left out at each side when measuring added grain


@dataclass(frozen=True)
class PhotoSet:
    """Plates and elements from distinct photographs; `texture` is busy at grain scale everywhere."""

    name: str
    plates: tuple[str, ...]
    busy: str
    smooth: str
    texture: str


SETS = (
    PhotoSet("development", ("astronaut", "coffee"), busy="chelsea", smooth="rocket", texture="gravel"),
    PhotoSet("judged", ("stereo_motorcycle", "retina"), busy="immunohistochemistry", smooth="brick", texture="grass"),
)


def clean_photo(name: str, height: int = SIZE[0], width: int = SIZE[1]) -> np.ndarray:
    """A photograph without grain of its own, as a generated element is: denoised, then resized, float RGB."""
    image = getattr(skimage.data, name)()
    image = image[0] if isinstance(image, tuple) else image
    grey = image.ndim == 2
    image = np.ascontiguousarray(np.repeat(image[..., None], 3, axis=2) if grey else image[..., :3])
    image = cv2.fastNlMeansDenoisingColored(image, None, 6, 6, 7, 21).astype(np.float32) / 255.0
    image = image * TINT if grey else image
    shrinking = image.shape[0] * image.shape[1] > height * width
    resized = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC)
    return np.clip(resized, 0.0, 1.0)


def grain(kind: str, height: int, width: int, seed: int, level: np.ndarray = LEVEL) -> np.ndarray:
    """Grain of one kind at exactly `level` per channel, [height, width, 3]."""
    rng = np.random.default_rng(seed)
    if kind == "white":
        field = rng.normal(0, 1, (height, width, 3)).astype(np.float32)
    elif kind == "clumped":
        luma = cv2.GaussianBlur(rng.normal(0, 1, (height, width)).astype(np.float32), (0, 0), 0.8)
        chroma = cv2.GaussianBlur(rng.normal(0, 1, (height, width, 3)).astype(np.float32), (0, 0), 0.8)
        field = 0.9 * luma[..., None] + 0.45 * chroma
    elif kind == "luma":
        field = np.repeat(rng.normal(0, 1, (height, width, 1)).astype(np.float32), 3, axis=2)
    else:
        raise ValueError(f"grain kind {kind!r} is not one of {GRAINS}")
    return field / field.std(axis=(0, 1)) * level


def panned(name: str, frames: int, step: tuple[float, float] = PAN) -> np.ndarray:
    """A photograph panned `step` pixels (down, right) a frame, [frames, h, w, 3]; whole-pixel steps are crops,
    others resampled bilinearly."""
    height, width = SIZE
    big = clean_photo(name, height + int(np.ceil(step[0] * frames)) + 1, width + int(np.ceil(step[1] * frames)) + 1)
    views = []
    for t in range(frames):
        shift = np.float32([[1, 0, -step[1] * t], [0, 1, -step[0] * t]])
        views.append(cv2.warpAffine(big, shift, (width, height), flags=cv2.INTER_LINEAR))
    return np.stack(views)


def element(kind: str, photos: PhotoSet, plate: str, frames: int = 1) -> np.ndarray:
    """An element without grain of its own, [frames, h, w, 3]: busy, smooth, grey, same-scene (the plate's own
    picture) or texture (busy at grain scale everywhere, panning when `frames` > 1)."""
    if kind == "grey":
        return np.full((frames, *SIZE, 3), 0.5, np.float32)
    if kind == "texture" and frames > 1:
        return panned(photos.texture, frames)
    name = {"busy": photos.busy, "smooth": photos.smooth, "same-scene": plate, "texture": photos.texture}[kind]
    return np.repeat(clean_photo(name)[None], frames, axis=0)


def grainy_plate(name: str, kind: str, frames: int = 1, seed: int = 3) -> np.ndarray:
    """A still (frames 1) or a whole-pixel pan with fresh grain on each frame, [frames, h, w, 3]."""
    picture = clean_photo(name)[None] if frames == 1 else panned(name, frames)
    return picture + np.stack([grain(kind, *SIZE, seed + t) for t in range(frames)])


def added_grain(element_frames: np.ndarray, plate_frames: np.ndarray) -> np.ndarray:
    """Grain Match's added grain [pixels, 3], away from the frame's border and from the colours the clamp to [0, 1]
    could cut."""
    matched = match_grain(torch.from_numpy(element_frames), torch.from_numpy(plate_frames), seed=1).numpy()
    picture = np.broadcast_to(element_frames, matched.shape)  # a still element over a clip gets the clip's frames
    inner = (slice(None), slice(BORDER, -BORDER), slice(BORDER, -BORDER))
    added, picture = (matched - picture)[inner], picture[inner]
    return added[((picture > 0.15) & (picture < 0.85)).all(axis=-1)]


def added_level(element_frames: np.ndarray, plate_frames: np.ndarray, expected: np.ndarray = LEVEL) -> np.ndarray:
    """Grain Match's added grain's level over `expected`, per channel (see `added_grain`)."""
    return added_grain(element_frames, plate_frames).std(axis=0) / expected


def channel_correlation(pixels: np.ndarray) -> float:
    """Mean correlation between the channels of grain [pixels, 3]."""
    return float(np.corrcoef(pixels.reshape(-1, 3).T)[np.triu_indices(3, 1)].mean())


def own_grain_element(kind: str, photos: PhotoSet, share: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """The busy element with grain of its own, `share` of the plate's level: (frames [1, h, w, 3], the level Grain
    Match should add, which brings the element's total to the plate's)."""
    own = grain(kind, *SIZE, seed=99, level=LEVEL * share)
    return (clean_photo(photos.busy) + own)[None], LEVEL * np.sqrt(1.0 - share**2)
