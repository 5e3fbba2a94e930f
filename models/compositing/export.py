"""Writing RGBA results: a PNG sequence and an RGBA video, each file written atomically (temp file + rename)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import torch
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from ..shared.files import write_atomically
from .checks import as_image, as_mask, fit_frames, same_size

VIDEO_FORMATS = {
    # name: (container format, file suffix, codec, pixel format)
    "mov (PNG codec, lossless)": ("mov", ".mov", "png", "rgba"),
    "mov (QuickTime Animation, lossless)": ("mov", ".mov", "qtrle", "argb"),
    "webm (VP9 with alpha)": ("webm", ".webm", "libvpx-vp9", "yuva420p"),
}


def rgba_frames(images: torch.Tensor, alpha: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Validated, frame-matched IMAGE and MASK (named as Save With Alpha's inputs)."""
    images = as_image("images", images)
    alpha = fit_frames("alpha", as_mask("alpha", alpha), images.shape[0])
    same_size("alpha", alpha, "images", images)
    return images, alpha


def _quantise(frame: torch.Tensor, alpha: torch.Tensor, bits: int) -> np.ndarray:
    top = 255 if bits == 8 else 65535
    rgba = torch.cat([frame, alpha[..., None]], -1).clamp(0.0, 1.0).mul(top).round()
    return rgba.numpy().astype(np.uint8 if bits == 8 else np.uint16)


def write_png(
    path: Path, frame: torch.Tensor, alpha: torch.Tensor, bits: int = 8, text: dict[str, str] | None = None
) -> None:
    """One straight-alpha RGBA PNG, 8 or 16 bits per channel (text chunks only in 8-bit files)."""
    if bits not in (8, 16):
        raise ValueError(f"bit depth must be 8 or 16; got {bits}.")
    rgba = _quantise(frame, alpha, bits)
    if bits == 16:
        write_atomically(path, lambda temp: _imwrite(temp, cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA)))
        return
    info = PngInfo()
    for key, value in (text or {}).items():
        info.add_text(key, value)
    write_atomically(
        path, lambda temp: Image.fromarray(rgba, "RGBA").save(temp, format="PNG", pnginfo=info, compress_level=4)
    )


def _imwrite(path: Path, pixels: np.ndarray) -> None:
    if not cv2.imwrite(str(path), pixels):
        raise OSError(f"could not write {path}.")


def write_video(path: Path, image: torch.Tensor, alpha: torch.Tensor, fps: float, video_format: str) -> None:
    """An RGBA video in one of VIDEO_FORMATS."""
    if video_format not in VIDEO_FORMATS:
        raise ValueError(f"video format must be one of {', '.join(VIDEO_FORMATS)}; got {video_format!r}.")
    container_format, _, codec, pixel_format = VIDEO_FORMATS[video_format]
    height, width = image.shape[1:3]
    if pixel_format.startswith("yuv") and (height % 2 or width % 2):
        raise ValueError(f"{video_format} needs an even width and height; the frames are {width}x{height}.")

    def encode(temp: Path) -> None:
        with av.open(str(temp), mode="w", format=container_format) as container:
            stream = container.add_stream(codec, rate=_rate(fps))
            stream.width, stream.height, stream.pix_fmt = width, height, pixel_format
            for index in range(image.shape[0]):
                frame = av.VideoFrame.from_ndarray(_quantise(image[index], alpha[index], 8), format="rgba")
                container.mux(stream.encode(frame))
            container.mux(stream.encode())

    write_atomically(path, encode)


def _rate(fps: float) -> Fraction:
    if fps <= 0:
        raise ValueError(f"fps must be above 0; got {fps}.")
    return Fraction(fps).limit_denominator(1001)


def video_suffix(video_format: str) -> str:
    return VIDEO_FORMATS[video_format][1]
