"""sRGB transfer functions (exact piecewise curves) and CIE LAB through OpenCV (D65, sRGB primaries)."""

from __future__ import annotations

import cv2
import numpy as np
import torch


def srgb_to_linear(x: torch.Tensor) -> torch.Tensor:
    """Decode sRGB-encoded values to linear light."""
    x = x.clamp(0.0, 1.0)
    return torch.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(x: torch.Tensor) -> torch.Tensor:
    """Encode linear-light values with the sRGB curve."""
    x = x.clamp(0.0, 1.0)
    return torch.where(x <= 0.0031308, x * 12.92, 1.055 * x ** (1.0 / 2.4) - 0.055)


def rgb_to_lab(frame: np.ndarray) -> np.ndarray:
    """sRGB float frame [H, W, 3] (0..1) to LAB (L 0..100)."""
    return cv2.cvtColor(frame, cv2.COLOR_RGB2Lab)


def lab_to_rgb(frame: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """LAB frame back to sRGB float, clamped to 0..1; written into `out` when given."""
    rgb = cv2.cvtColor(np.ascontiguousarray(frame, dtype=np.float32), cv2.COLOR_Lab2RGB, dst=out)
    return np.clip(rgb, 0.0, 1.0, out=rgb)
