"""A plain per-frame numpy/PIL implementation of the full GVFX chain, the baseline of bench_gvfx_stream.py.

Each step follows the engine's published method on one frame at a time, written the straightforward way (He's
box-filter guided filter, Reinhard LAB, PIL Gaussian blurs, a shifted-sum line blur, linear-light over), with the
same settings as the WorldKit chain (PARAMS, given to the nodes as they are).
"""

from __future__ import annotations

import math

import numpy as np
from bench_gvfx import box, lab_to_rgb, linear_to_srgb, noise_sigma, pil_blur, rgb_to_lab, srgb_to_linear
from PIL import Image

PARAMS = {
    "key": {"balance": 0.5, "clip_black": 0.1, "clip_white": 0.9, "spill": 1.0},
    "refine": {
        "edge_radius": 8,
        "edge_smoothness": 1e-3,
        "clip_black": 0.05,
        "clip_white": 0.95,
        "choke": 0,
        "feather": 0.0,
        "temporal": 0.0,
        "motion_threshold": 0.1,
        "despill": "none",
        "despill_strength": 1.0,
    },
    "colour": {"method": "reinhard_lab", "strength": 1.0},
    "grain": {"strength": 1.0, "seed": 0},
    "wrap": {"radius": 24.0, "strength": 0.6},
    "shadow": {"direction": 120.0, "distance": 0.35, "softness": 12.0, "opacity": 0.6, "ground_line": -1.0},
    "defocus": {"shape": "gaussian", "amount": 1.0, "manual_sigma": 1.5},
    "blur": {"motion_from": "fixed", "shutter": 0.5, "velocity_x": 6.0, "velocity_y": 0.0},
    "over": {
        "x": 0.5,
        "y": 0.5,
        "anchor_x": 0.5,
        "anchor_y": 0.5,
        "scale": 1.0,
        "scale_end": 1.0,
        "rotation": 0.0,
        "rotation_end": 0.0,
    },
}


def key(frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = PARAMS["key"]
    r, g, b = frame[..., 0], frame[..., 1], frame[..., 2]
    difference = g - (np.maximum(r, b) * p["balance"] + np.minimum(r, b) * (1 - p["balance"]))
    level = np.quantile(difference[::4, ::4], 0.95)
    alpha = np.clip(
        ((1 - np.clip(difference / level, 0, 1)) - p["clip_black"]) / (p["clip_white"] - p["clip_black"]), 0, 1
    )
    despilled = frame.copy()
    despilled[..., 1] -= np.maximum(g - (r + b) / 2, 0) * p["spill"]
    return despilled, alpha


def refine(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    p, r, eps = PARAMS["refine"], PARAMS["refine"]["edge_radius"], PARAMS["refine"]["edge_smoothness"]
    mean_i, mean_p = box(image, r), box(mask, r)
    cov_ip = box(image * mask[..., None], r) - mean_i * mean_p[..., None]
    var = box(image[..., :, None] * image[..., None, :], r) - mean_i[..., :, None] * mean_i[..., None, :]
    a = np.linalg.solve(var + eps * np.eye(3), cov_ip[..., None])[..., 0]
    b = mean_p - (a * mean_i).sum(-1)
    guided = (box(a, r) * image).sum(-1) + box(b, r)
    return np.clip((guided - p["clip_black"]) / (p["clip_white"] - p["clip_black"]), 0, 1)


def colour(element: np.ndarray, matte: np.ndarray, plate: np.ndarray) -> np.ndarray:
    lab, target = rgb_to_lab(element), rgb_to_lab(plate).reshape(-1, 3)
    source = lab[matte > 0.5]
    return lab_to_rgb((lab - source.mean(0)) * target.std(0) / np.maximum(source.std(0), 1.0) + target.mean(0))


def grain(element: np.ndarray, plate: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    missing = np.sqrt(np.clip(noise_sigma(plate) ** 2 - noise_sigma(element) ** 2, 0, None))
    return np.clip(element + rng.standard_normal(element.shape) * missing, 0, 1)


def wrap(element: np.ndarray, matte: np.ndarray, plate: np.ndarray) -> np.ndarray:
    p = PARAMS["wrap"]
    glow = pil_blur(plate, p["radius"]) * (pil_blur(1 - matte, p["radius"]) * p["strength"] * matte)[..., None]
    return element + glow * (1 - element)


def shadow(plate: np.ndarray, matte: np.ndarray) -> np.ndarray:
    p = PARAMS["shadow"]
    rows = np.nonzero((matte > 0.5).any(axis=1))[0]
    if not rows.size:
        return plate
    top, ground = float(rows[0]), float(rows[-1])
    angle = math.radians(p["direction"])
    along_x, along_y = p["distance"] * math.cos(angle), p["distance"] * math.sin(angle)
    forward = np.array([[1.0, -along_x, along_x * ground], [0.0, along_y, ground * (1 - along_y)], [0, 0, 1]])
    inverse = np.linalg.inv(forward)[:2].reshape(-1)
    image = Image.fromarray(matte.astype(np.float32), "F")
    cast = np.asarray(image.transform(image.size, Image.AFFINE, tuple(inverse), Image.BILINEAR), np.float32)
    sharp, soft = pil_blur(cast, 1.0), pil_blur(cast, p["softness"])
    reach = max(1.0, p["distance"] * (ground - top))
    spread = np.clip(np.abs(ground - np.arange(matte.shape[0]))[:, None] / reach, 0, 1)
    amount = np.clip((sharp + (soft - sharp) * spread) * p["opacity"], 0, 1)
    return linear_to_srgb(srgb_to_linear(plate) * (1 - amount[..., None]))


def premultiplied_blur(element: np.ndarray, matte: np.ndarray, blur) -> tuple[np.ndarray, np.ndarray]:
    blurred = blur(np.dstack([element * matte[..., None], matte]))
    coverage = np.clip(blurred[..., 3], 0, 1)
    colour_ = np.clip(blurred[..., :3] / np.maximum(coverage, 1e-6)[..., None], 0, 1)
    return np.where(coverage[..., None] > 1e-6, colour_, element), coverage


def rgba_blur(stack: np.ndarray, sigma: float) -> np.ndarray:
    """PIL's Gaussian blur of premultiplied colour and alpha (8-bit, as PIL filters work)."""
    return np.dstack([pil_blur(stack[..., :3], sigma), pil_blur(stack[..., 3], sigma)])


def line_blur(stack: np.ndarray) -> np.ndarray:
    """The shutter's streak: the mean of copies shifted along the velocity (zero outside the frame)."""
    p = PARAMS["blur"]
    length = p["velocity_x"] * p["shutter"]
    shifts = np.linspace(-length / 2, length / 2, max(2, math.ceil(length) + 1))
    out = np.zeros_like(stack)
    for shift in shifts:
        whole = round(shift)
        moved = np.zeros_like(stack)
        if whole >= 0:
            moved[:, whole:] = stack[:, : stack.shape[1] - whole]
        else:
            moved[:, :whole] = stack[:, -whole:]
        out += moved
    return out / len(shifts)


def over(plate: np.ndarray, element: np.ndarray, matte: np.ndarray) -> np.ndarray:
    a = matte[..., None]
    return linear_to_srgb(srgb_to_linear(element) * a + srgb_to_linear(plate) * (1 - a))


def plain_frame(plate: np.ndarray, element: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    keyed, rough = key(element)
    matte = refine(keyed, rough)
    graded = grain(colour(keyed, matte, plate), plate, rng)
    wrapped = wrap(graded, matte, plate)
    soft, soft_matte = premultiplied_blur(wrapped, matte, lambda s: rgba_blur(s, PARAMS["defocus"]["manual_sigma"]))
    streaked, streak_matte = premultiplied_blur(soft, soft_matte, line_blur)
    return over(shadow(plate, matte), streaked, streak_matte)


def plain_chain(plates: list[np.ndarray], elements: list[np.ndarray]) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [plain_frame(p, e, rng) for p, e in zip(plates, elements, strict=True)]
