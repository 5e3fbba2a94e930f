"""sRGB transfer functions (exact piecewise curves) and CIE LAB through OpenCV (D65, sRGB primaries), with a torch twin
of OpenCV's float LAB conversions (its constants and thresholds) for frames on a device."""

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


SRGB_TO_XYZ = torch.tensor(
    [[0.412453, 0.357580, 0.180423], [0.212671, 0.715160, 0.072169], [0.019334, 0.119193, 0.950227]]
)
XYZ_TO_SRGB = torch.tensor(
    [[3.240479, -1.53715, -0.498535], [-0.969256, 1.875991, 0.041556], [0.055648, -0.204043, 1.057311]]
)
WHITE_D65 = torch.tensor([0.950456, 1.0, 1.088754])
LAB_THRESHOLD = 0.008856  # OpenCV's: the cube root's linear toe below it
LAB_SLOPE, LAB_TOE, LAB_LINEAR_L = 7.787, 16.0 / 116.0, 903.3


def rgb_to_lab_torch(rgb: torch.Tensor) -> torch.Tensor:
    """sRGB [..., 3] (0..1) to LAB on the frames' device, as OpenCV's `rgb_to_lab` computes it."""
    matrix = (SRGB_TO_XYZ / WHITE_D65[:, None]).to(rgb.device)
    xyz = srgb_to_linear(rgb) @ matrix.T
    f = torch.where(xyz > LAB_THRESHOLD, xyz.clamp(min=0.0) ** (1.0 / 3.0), LAB_SLOPE * xyz + LAB_TOE)
    y = xyz[..., 1]
    lightness = torch.where(y > LAB_THRESHOLD, 116.0 * f[..., 1] - 16.0, LAB_LINEAR_L * y)
    return torch.stack([lightness, 500.0 * (f[..., 0] - f[..., 1]), 200.0 * (f[..., 1] - f[..., 2])], dim=-1)


def lab_to_rgb_torch(lab: torch.Tensor) -> torch.Tensor:
    """LAB [..., 3] back to sRGB clamped to 0..1 on the frames' device, as OpenCV's `lab_to_rgb` computes it."""
    lightness = lab[..., 0]
    dark = lightness <= LAB_THRESHOLD * LAB_LINEAR_L
    y = torch.where(dark, lightness / LAB_LINEAR_L, ((lightness + 16.0) / 116.0) ** 3)
    fy = torch.where(dark, LAB_SLOPE * y + LAB_TOE, (lightness + 16.0) / 116.0)
    fxz = torch.stack([lab[..., 1] / 500.0 + fy, fy - lab[..., 2] / 200.0], dim=-1)
    threshold = LAB_SLOPE * LAB_THRESHOLD + LAB_TOE
    xz = torch.where(fxz <= threshold, (fxz - LAB_TOE) / LAB_SLOPE, fxz**3)
    xyz = torch.stack([xz[..., 0], y, xz[..., 1]], dim=-1)
    matrix = (XYZ_TO_SRGB * WHITE_D65[None, :]).to(lab.device)
    return linear_to_srgb((xyz @ matrix.T).clamp(0.0, 1.0))
