"""Where the picture supports a refined edge better than the rough mask's own, tile by tile of the edge band.

A refined matte is never to be worse than the mask it was given. Each tile of the band (an edge segment about two
band radii long) keeps the refined matte only where the picture gives evidence for it, and the rough mask elsewhere:

- the refined matte explains more of the picture than the mask: each band pixel is a mix aF + (1 - a)B of the
  subject's and the background's colour (spread from the trimap's known pixels nearby), and the picture's distance
  from the mix each matte claims is compared, both box-averaged so texture a matte follows by chance averages out;
- and either subject and background colours stand apart well beyond their own texture, or the refined matte moved
  the edge further than a thin (1-2 px) error: a thin correction between alike colours is noise, not an edge.

Decided from the picture and the mask alone. Every threshold was chosen on the development set of
tools/matte_photos.py (the animal silhouette) and judged on the held-out ones.
"""

from __future__ import annotations

import cv2
import numpy as np

from . import frame_ops
from .trimap import fill_known, trimap

TILE_RADII = 2  # a tile is this many band radii across (at least MIN_TILE pixels): an edge segment, not a frame
MIN_TILE = 16
SMOOTH = 0.25  # the box both mattes and the picture are averaged over before comparing, in band radii
GAIN_KEEP, GAIN_TRUST = 0.0, 0.06  # share of the mask's unexplained picture the refined matte explains: at or below
# the first the mask is kept, from the second on the refined matte, linearly between
CONTRAST_KEEP, CONTRAST_TRUST = 2.0, 4.0  # subject and background colours' squared distance over their texture's
# variance, likewise
MOVED_THIN = 2.0  # pixels the refined matte moves the edge on average: up to this a thin correction, from twice it far


def _ramp(value: np.ndarray, low: float, high: float) -> np.ndarray:
    """0 at or below `low`, 1 from `high` on, linear between."""
    return np.clip((value - low) / (high - low), 0.0, 1.0)


def _tile_sums(plane: np.ndarray, tile: int) -> np.ndarray:
    """Sums of `plane` over tiles of `tile` pixels (the last row and column of tiles may be partial)."""
    height, width = plane.shape
    rows, cols = -(-height // tile), -(-width // tile)
    padded = np.zeros((rows * tile, cols * tile), np.float64)
    padded[:height, :width] = plane
    return padded.reshape(rows, tile, cols, tile).sum((1, 3))


def _unexplained(image: np.ndarray, subject: np.ndarray, background: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Squared colour distance of each pixel from the mix its alpha claims, [h, w]."""
    difference = image - background - alpha[..., None] * (subject - background)
    return np.einsum("...c,...c->...", difference, difference)


def _texture(image: np.ndarray, known: np.ndarray, reach: int) -> np.ndarray:
    """Variance of the known pixels' colours near each pixel (summed over channels), [h, w]."""
    weight = known.astype(np.float32)
    total = np.maximum(frame_ops.wide_blur(weight, reach), 1e-6)
    mean = frame_ops.wide_blur(image * weight[..., None], reach) / total[..., None]
    square = frame_ops.wide_blur(np.einsum("...c,...c->...", image, image) * weight, reach) / total
    return np.maximum(square - np.einsum("...c,...c->...", mean, mean), 0.0)


def _tile_trust(
    image: np.ndarray,
    mask: np.ndarray,
    refined: np.ndarray,
    known: tuple[np.ndarray, np.ndarray],
    reach: int,
    step: int,
) -> tuple[np.ndarray, int]:
    """Trust in the refined matte per tile of one band crop on a grid of `step`-pixel cells (the rules in the module's
    docstring), and the tile's size in cells."""
    subject, background = known
    band = ~(subject | background)
    tile = max(-(-MIN_TILE // step), TILE_RADII * reach)
    in_band = _tile_sums(band.astype(np.float64), tile)
    subject_colour = fill_known(image, subject, reach, band)
    background_colour = fill_known(image, background, reach, band)
    box = (2 * round(reach * SMOOTH) + 1,) * 2
    picture = cv2.blur(image, box)

    def unexplained(alpha: np.ndarray) -> np.ndarray:
        claimed = _unexplained(picture, subject_colour, background_colour, cv2.blur(alpha, box))
        return _tile_sums(np.where(band, claimed, 0.0), tile)

    left = unexplained(mask)
    gain = (left - unexplained(refined)) / np.maximum(left, 1e-9)
    separation = _unexplained(subject_colour, background_colour, background_colour, np.zeros_like(mask))
    texture = _texture(image, subject, reach) + _texture(image, background, reach)
    contrast = _tile_sums(np.where(band, separation, 0.0), tile) / np.maximum(
        _tile_sums(np.where(band, texture, 0.0), tile), 1e-9
    )
    moved = _tile_sums(np.where(band, np.abs(refined - mask), 0.0), tile) / np.maximum(in_band, 1e-9) * 2 * reach * step
    evidence = np.maximum(_ramp(contrast, CONTRAST_KEEP, CONTRAST_TRUST), _ramp(moved, MOVED_THIN, 2 * MOVED_THIN))
    return (_ramp(gain, GAIN_KEEP, GAIN_TRUST) * evidence).astype(np.float32), tile


def refined_weight(image: np.ndarray, mask: np.ndarray, refined: np.ndarray, radius: int, step: int) -> np.ndarray:
    """How far to take the refined matte over the rough mask, per pixel [h, w] in 0..1: per tile of the band, and 1
    outside it (where the refined matte is the mask made solid or clear). Judged on a grid `step` times coarser (the
    fast solve's): the comparison averages over boxes of that size anyway."""
    height, width = mask.shape
    size = (max(1, round(width / step)), max(1, round(height / step)))
    image, mask, refined = (frame_ops.resize(frame, *size) for frame in (image, mask, refined))
    weight = coarse_weight(image, mask, refined, radius, step)
    return cv2.resize(weight, (width, height), interpolation=cv2.INTER_NEAREST)


def coarse_weight(image: np.ndarray, mask: np.ndarray, refined: np.ndarray, radius: int, step: int) -> np.ndarray:
    """`refined_weight` on the grid `step` times coarser, from the frame, mask and refined matte already reduced to
    it (a device path reduces them there and enlarges the weight there)."""
    reach = max(1, round(radius / step))
    subject, background = trimap(mask, reach)
    band = ~(subject | background)
    weight = np.ones(mask.shape, np.float32)
    box = frame_ops.nonzero_box(band)
    if box is not None:
        x0, y0, x1, y1 = box
        crop = (slice(y0, y1), slice(x0, x1))
        known = (subject[crop], background[crop])
        tiles, tile = _tile_trust(image[crop], mask[crop], refined[crop], known, reach, step)
        tiles = np.repeat(np.repeat(tiles, tile, 0), tile, 1)[: y1 - y0, : x1 - x0]
        weight[crop] = np.where(band[crop], tiles, 1.0)
    return weight
