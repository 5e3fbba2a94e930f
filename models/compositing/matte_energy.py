"""Where the picture singles out the accurate matte's edges, judged tile by tile by the model its own solve uses.

Closed-form matting scores a matte by its matting energy a'La (closed_form.py): in every 3x3 window, how far alpha is
from an affine function of the colour. Where the picture has an edge and the matte follows it, moving the matte's
edges by a thin error's width (MOVED_THIN, 2 px) either way sets them on colours that do not change with them, and the
energy rises many times over. Where the colours cannot place the edge (alike textures on one colour line, as gravel
over the moon), the model fits the texture about as well wherever the edge lies: the matte's own placement saves
little of the moved mattes' energy, so its departure from the mask is no evidence.

Per tile of the band (mask_support's tiles), the share of the moved mattes' energy (the mean of the matte grown and
shrunk) that the matte's own placement saves is the evidence: none at or below PLACED_KEEP (moving costs at most 10x
the matte's own energy), full from PLACED_TRUST on (20x), linear between. Energies are summed over each tile and its 8
neighbours before the ratio is taken: a tile may hold only the end of an edge, and the ratio of sums is steadier. A
tile whose matte is flat (no edge left to move) saves nothing. The energy of a tile is the sum over its band pixels of
each pixel's share a_i (La)_i - (L a^2)_i / 2 (L's rows sum to zero, so a'La = sum over pairs of -L_ij (a_i - a_j)^2,
split evenly between the two pixels of each pair): a matte and the same matte plus a constant cost the same.

This evidence adds to mask_support.py's colour tests, it does not replace them: the accurate matte is trusted as far
as either trusts it. The colour tests miss edges that colours on one line, overlapping along it, still place (a
textured subject over a plain background of its hue: the plain side cannot take the edge at no cost); the energy ratio
alone trusted the fur set's fine strands less than the colour tests (moving them costs mostly 6-100x their own energy,
whose low end gravel over moon's 3-10x reaches).
Both thresholds were chosen on the development sets of tools/matte_photos.py (animal and fur), the pooling on the
animal set: lower thresholds took gravel over moon further past its mask's error than the colour tests alone; higher
ones gave back part of the gain on both sets.
"""

from __future__ import annotations

import cv2
import numpy as np
import scipy.sparse

from . import frame_ops
from .mask_support import MOVED_THIN, ramp, spread_tiles, tile_cells, tile_sums

PLACED_KEEP, PLACED_TRUST = 0.9, 0.95  # share of the moved mattes' energy the matte's own placement saves: no
# evidence at or below the first, full evidence from the second on


def tile_energies(
    laplacian: scipy.sparse.csr_matrix, mattes: list[np.ndarray], band: np.ndarray, tile: int
) -> list[np.ndarray]:
    """Each matte's [h, w] matting energy summed over the band's pixels of each tile of `tile` pixels."""
    flat = np.stack([matte.reshape(-1) for matte in mattes], axis=1).astype(np.float64)
    both = laplacian @ np.hstack([flat, flat * flat])
    shares = flat * both[:, : len(mattes)] - both[:, len(mattes) :] / 2
    return [tile_sums(np.where(band, share.reshape(band.shape), 0.0), tile) for share in shares.T]


def _neighbourhood(tiles: np.ndarray) -> np.ndarray:
    """Each tile's sum with its 8 neighbours': a ratio of sums over them is steadier than one tile's, which may hold
    only the end of an edge."""
    return cv2.boxFilter(tiles, -1, (3, 3), normalize=False, borderType=cv2.BORDER_CONSTANT)


def placement_weight(
    laplacian: scipy.sparse.csr_matrix, alpha: np.ndarray, band: np.ndarray, radius: int
) -> np.ndarray:
    """How far the matting energy supports the accurate matte over the rough mask, per pixel [h, w] in 0..1: per tile
    of the band, by how much moving its edges 2 px would add to its energy (the module's docstring); 1 outside the
    band, where the matte is the mask made solid or clear."""
    tile = tile_cells(radius, 1)
    thin = int(MOVED_THIN)
    own, grown, shrunk = tile_energies(
        laplacian, [alpha, frame_ops.grow(alpha, thin), frame_ops.grow(alpha, -thin)], band, tile
    )
    own, moved = _neighbourhood(np.maximum(own, 0.0)), _neighbourhood((grown + shrunk) / 2)
    saved = np.divide(moved - own, moved, out=np.zeros_like(moved), where=moved > 0)
    trust = ramp(saved, PLACED_KEEP, PLACED_TRUST).astype(np.float32)
    return np.where(band, spread_tiles(trust, tile, band.shape), np.float32(1.0))
