"""RGBA file formats: PNG and OpenEXR frames and the RGBA video codecs; each file written atomically (temp file +
rename). The streamed writers that use them are in models/streaming/sinks.py."""

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
from .colorspace import srgb_to_linear

VIDEO_FORMATS = {
    # name: (container format, file suffix, codec, pixel format, bits per channel handed to the encoder)
    "mov (ProRes 4444 with alpha, 10-bit)": ("mov", ".mov", "prores_ks", "yuva444p10le", 16),
    "mov (PNG codec, lossless)": ("mov", ".mov", "png", "rgba", 8),
    "mov (QuickTime Animation, lossless)": ("mov", ".mov", "qtrle", "argb", 8),
    "webm (VP9 with alpha)": ("webm", ".webm", "libvpx-vp9", "yuva420p", 8),
}
OPAQUE_FORMATS = {"mp4 (H.264)": ("mp4", ".mp4", "h264", "yuv420p", 8)}
"""What core Save Video writes (no alpha)."""
FINEST_PRORES_QUANT = 1
"""prores_ks's rate control picks its 4444 profile's finest quantiser (1) on flat, grainy and noise frames alike, after
trying its others on every slice; fixing it there gives the same bytes at about a quarter of the CPU."""
CODEC_OPTIONS = {
    "prores_ks": {
        "profile": "4444",
        "vendor": "apl0",
        "flags": "+qscale",
        "global_quality": str(FINEST_PRORES_QUANT * 118),  # FFmpeg's FF_QP2LAMBDA: quantiser -> lambda
    }
}
SEQUENCES = ("png", "exr (half float, linear light)", "none")


def rgba_frames(images: torch.Tensor, alpha: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Validated, frame-matched IMAGE and MASK (named as Save With Alpha's inputs)."""
    images = as_image("images", images)
    alpha = fit_frames("alpha", as_mask("alpha", alpha), images.shape[0])
    same_size("alpha", alpha, "images", images)
    return images, alpha


def quantise(frame: torch.Tensor, alpha: torch.Tensor, bits: int) -> np.ndarray:
    """RGBA integers of one frame (straight alpha), rounded half to even; 8 or 16 bits."""
    top = 255 if bits == 8 else 65535
    rgba = cv2.merge([frame.numpy(), alpha.numpy()])
    np.clip(rgba, 0.0, 1.0, out=rgba)
    rgba *= top
    return np.rint(rgba, out=rgba).astype(np.uint8 if bits == 8 else np.uint16)


def write_png(
    path: Path, frame: torch.Tensor, alpha: torch.Tensor, bits: int = 8, text: dict[str, str] | None = None
) -> None:
    """One straight-alpha RGBA PNG, 8 or 16 bits per channel (text chunks only in 8-bit files)."""
    if bits not in (8, 16):
        raise ValueError(f"bit depth must be 8 or 16; got {bits}.")
    rgba = quantise(frame, alpha, bits)
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


def exr_bytes(frame: torch.Tensor, alpha: torch.Tensor) -> bytes:
    """One OpenEXR image: half-float RGBA, colour decoded from sRGB to linear light, alpha straight (PyAV's EXR
    encoder; OpenCV wheels are built without OpenEXR)."""
    linear = srgb_to_linear(frame.clamp(0.0, 1.0))
    planes = torch.stack([linear[..., 1], linear[..., 2], linear[..., 0], alpha.clamp(0.0, 1.0)], -1)
    picture = av.VideoFrame.from_ndarray(planes.numpy(), format="gbrapf32le")  # the encoder's G, B, R, A order
    encoder = av.CodecContext.create("exr", "w")
    encoder.width, encoder.height, encoder.pix_fmt = frame.shape[1], frame.shape[0], "gbrapf32le"
    encoder.time_base = Fraction(1, 1)
    encoder.options = {"format": "half", "compression": "zip16"}
    return b"".join(bytes(packet) for packet in [*encoder.encode(picture), *encoder.encode(None)])


def read_exr(path: Path) -> np.ndarray:
    """An EXR written by `exr_bytes` back as float32 RGBA [H, W, 4] (linear colour)."""
    with av.open(str(path)) as container:
        planes = next(container.decode(video=0)).reformat(format="gbrapf32le").to_ndarray()
    return planes[..., [2, 0, 1, 3]]


def frame_rate(fps: float) -> Fraction:
    """A frame rate as the containers store it."""
    if fps <= 0:
        raise ValueError(f"fps must be above 0; got {fps}.")
    return Fraction(fps).limit_denominator(1001)


def video_suffix(video_format: str) -> str:
    return VIDEO_FORMATS[video_format][1]
