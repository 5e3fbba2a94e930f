"""From a rough mask to what matting needs: a trimap (known subject, known background, the band between) and
smooth estimates of the subject's and the background's colours across that band, taken from the known pixels nearby.

The rough mask is read only through its 0.5 contour and its soft zone, so a binary, blurred, blocky or low-resolution
segmentation all give a band around where the edge can be; the picture decides where in the band the edge lies.
"""

from __future__ import annotations

import numpy as np

from . import frame_ops

SOFT_LOW, SOFT_HIGH = 0.1, 0.9  # a rough mask between these is undecided, whatever the distance to its contour
FILL_REACH = (1.0, 3.0, 9.0)  # Gaussian widths (in band radii) tried in turn where nearer known pixels are too few


def trimap(mask: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray]:
    """(known subject, known background) [h, w] bool: farther than `radius` pixels from the mask's 0.5 contour and
    outside its soft zone; everything else is the band the matte is solved in."""
    inside = (mask > 0.5).astype(np.uint8)
    reach = max(1, int(radius))
    subject = (frame_ops.grow(inside, -reach) > 0) & (mask >= SOFT_HIGH)
    background = (frame_ops.grow(1 - inside, -reach) > 0) & (mask <= SOFT_LOW)
    return subject, background


def fill_known(colours: np.ndarray, known: np.ndarray, radius: float, needed: np.ndarray | None = None) -> np.ndarray:
    """Colours [h, w, c] of the known pixels spread over the `needed` ones (all by default) by normalised Gaussian
    averaging (width `radius`, widened where too few known pixels are near; the known mean where none are).
    Pixels neither known nor needed may hold anything. Any number of planes: one spread of the weights serves all."""
    if not known.any():
        return np.broadcast_to(colours.reshape(-1, colours.shape[-1]).mean(0), colours.shape).astype(np.float32)
    planes = colours.shape[-1]
    weight = known.astype(np.float32)
    weighted = colours * frame_ops.per_channel(weight, planes)
    filled = colours.copy()
    missing = ~known if needed is None else needed & ~known
    for reach in FILL_REACH:
        if not missing.any():
            return filled
        sigma = max(1.0, radius * reach)
        total = frame_ops.wide_blur(weight, sigma)
        spread = frame_ops.wide_blur(weighted, sigma) / frame_ops.per_channel(np.maximum(total, 1e-6), planes)
        ready = missing & (total > 1e-3)
        np.copyto(filled, spread, where=frame_ops.per_channel(ready, planes))
        missing = missing & ~ready
    np.copyto(filled, weighted.reshape(-1, planes).sum(0) / weight.sum(), where=frame_ops.per_channel(missing, planes))
    return filled


def project_alpha(image: np.ndarray, subject: np.ndarray, background: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Alpha of each pixel as a mix of its subject and background colour estimates (projection of I-B on F-B), and
    how far those two colours are apart (squared), which says how much the projection can be trusted."""
    difference = subject - background
    separation = np.einsum("...c,...c->...", difference, difference)
    offset = image - background
    alpha = np.einsum("...c,...c->...", offset, difference) / np.maximum(separation, 1e-6)
    return np.clip(alpha, 0.0, 1.0, out=alpha), separation
