"""Closed-form matting (Levin, Lischinski & Weiss 2008) over the trimap's band: the accurate, slow matte solve.

Within every 3x3 window alpha is taken to be an affine function of the colour; the matting Laplacian L scores how far
a matte is from that. The matte minimises a'La + sum_i w_i (a_i - p_i)^2, where the prior p is 1/0 with a large
weight on the trimap's known pixels and the fast estimate with a small weight in the band (it keeps regions the colour
model cannot decide near the mask's own answer). Only windows touching the band enter L.
"""

from __future__ import annotations

import cv2
import numpy as np
import scipy.sparse
import scipy.sparse.linalg

WINDOW_EPS = 1e-6  # regularises each window's colour covariance (Levin's epsilon): a little above the usual 1e-7
# keeps flat or noisy windows from carving steps into the matte
KNOWN_WEIGHT = 100.0


def _band_windows(band: np.ndarray) -> np.ndarray:
    """Flat indices of the centres of the 3x3 windows (away from the border) that touch the band."""
    touched = cv2.dilate(band.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    touched[0, :] = touched[-1, :] = touched[:, 0] = touched[:, -1] = False
    return np.flatnonzero(touched)


def matting_laplacian(image: np.ndarray, band: np.ndarray) -> scipy.sparse.csr_matrix:
    """The matting Laplacian of an image [h, w, 3] restricted to windows touching `band` ([h*w, h*w] sparse)."""
    height, width, _ = image.shape
    centres = _band_windows(band)
    offsets = np.array([dy * width + dx for dy in (-1, 0, 1) for dx in (-1, 0, 1)])
    pixels = centres[:, None] + offsets[None, :]  # [K, 9]
    colours = image.reshape(-1, 3).astype(np.float64)[pixels]  # [K, 9, 3]
    mean = colours.mean(axis=1, keepdims=True)
    centred = colours - mean
    transposed = centred.transpose(0, 2, 1)
    covariance = transposed @ centred / 9.0 + (WINDOW_EPS / 9.0) * np.eye(3)
    inverse = np.linalg.inv(covariance)
    affinity = (1.0 + centred @ inverse @ transposed) / 9.0  # batched matmuls: several times faster than einsum
    values = np.eye(9)[None] - affinity
    rows = np.repeat(pixels, 9, axis=1).reshape(-1)
    cols = np.tile(pixels, (1, 9)).reshape(-1)
    size = height * width
    return scipy.sparse.csr_matrix((values.reshape(-1), (rows, cols)), shape=(size, size))


def solve_alpha(
    image: np.ndarray,
    subject: np.ndarray,
    background: np.ndarray,
    prior: np.ndarray,
    prior_weight: np.ndarray,
    laplacian: scipy.sparse.csr_matrix | None = None,
) -> np.ndarray:
    """The closed-form matte [h, w] of one frame, solved only for the band's pixels (the rest keep their known
    value); from the band's `laplacian` where the caller has built it for its own use too."""
    band = ~(subject | background)
    alpha = subject.astype(np.float64)
    if not band.any():
        return alpha.astype(np.float32)
    if laplacian is None:
        laplacian = matting_laplacian(image, band)
    weights = np.where(band, prior_weight, KNOWN_WEIGHT).reshape(-1)
    target = np.where(band, prior, subject).reshape(-1).astype(np.float64)
    unknown = np.flatnonzero(band | (cv2.dilate(band.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0))
    rows = laplacian[unknown]
    fixed = alpha.reshape(-1).copy()
    fixed[unknown] = 0.0  # the known pixels' values, which move to the right-hand side
    system = rows[:, unknown] + scipy.sparse.diags(weights[unknown])
    rhs = weights[unknown] * target[unknown] - rows @ fixed
    flat = alpha.reshape(-1)
    flat[unknown] = _solve_positive_definite(system.tocsc(), rhs)
    return np.clip(flat.reshape(band.shape), 0.0, 1.0).astype(np.float32)


def _solve_positive_definite(system: scipy.sparse.csc_matrix, rhs: np.ndarray) -> np.ndarray:
    """Solve a sparse symmetric positive-definite system. SuperLU in its symmetric mode (a fill-reducing ordering of
    A + A', diagonal pivots: safe for positive-definite systems) is about four times faster on a band's system than
    its default column ordering with partial pivoting, and gives the same solution to rounding."""
    factor = scipy.sparse.linalg.splu(
        system, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0, options={"SymmetricMode": True}
    )
    return factor.solve(rhs)
