"""Colour continuity across chained segments: LAB statistics matching and linear crossfades.

Chained video segments drift in colour (every extension re-encodes the previous frames through the VAE).
A new segment is corrected to its predecessor by matching LAB mean and standard deviation over the
overlap frames, which depict the same moments in both segments, and the overlap itself is crossfaded.

All frame tensors are ComfyUI IMAGE batches: [T, H, W, 3], float, sRGB in 0..1.
"""

from __future__ import annotations

import math

import kornia.color
import torch

STD_FLOOR = 1e-3  # LAB units; keeps flat overlap frames from blowing the std ratio up
DEFAULT_CHUNK = 16


def _rgb_to_lab(frames: torch.Tensor) -> torch.Tensor:
    """[T, H, W, 3] sRGB -> [T, 3, H, W] LAB (L 0..100, a/b about -128..127)."""
    return kornia.color.rgb_to_lab(frames.movedim(-1, 1).float().clamp(0.0, 1.0))


def _lab_to_rgb(lab: torch.Tensor) -> torch.Tensor:
    """[T, 3, H, W] LAB -> [T, H, W, 3] sRGB clipped to 0..1."""
    return kornia.color.lab_to_rgb(lab, clip=True).movedim(1, -1)


def lab_frame_means(frames: torch.Tensor, chunk_size: int = DEFAULT_CHUNK) -> torch.Tensor:
    """Mean LAB colour of every frame: [T, 3]."""
    means = [_rgb_to_lab(chunk).mean(dim=(2, 3)) for chunk in frames.split(chunk_size)]
    return torch.cat(means) if means else frames.new_zeros((0, 3))


def lab_statistics(
    frames: torch.Tensor,
    chunk_size: int = DEFAULT_CHUNK,
    frame_weights: torch.Tensor | None = None,
    device: torch.device | str | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel LAB mean and standard deviation over every pixel of every frame: ([3], [3]) on the CPU.

    ``frame_weights`` [T] (optional, non-negative) weighs each frame's pixels, e.g. by its crossfade weight.
    Chunks are converted on ``device`` (default: where the frames are).
    """
    weights = (
        torch.ones(frames.shape[0], dtype=torch.float64) if frame_weights is None else frame_weights.double().cpu()
    )
    if weights.shape != (frames.shape[0],) or float(weights.sum()) <= 0.0:
        raise ValueError(
            f"LAB statistics need at least one frame with positive weight; got {frames.shape[0]} frames "
            f"and weights {weights.tolist()}."
        )
    total = torch.zeros(3, dtype=torch.float64)
    total_sq = torch.zeros(3, dtype=torch.float64)
    pixels = frames.shape[1] * frames.shape[2]
    for chunk, chunk_weights in zip(frames.split(chunk_size), weights.split(chunk_size), strict=True):
        lab = _rgb_to_lab(chunk if device is None else chunk.to(device)).double().cpu()
        total += (lab.sum(dim=(2, 3)) * chunk_weights[:, None]).sum(dim=0)
        total_sq += ((lab * lab).sum(dim=(2, 3)) * chunk_weights[:, None]).sum(dim=0)
    count = float(weights.sum()) * pixels
    mean = total / count
    std = (total_sq / count - mean * mean).clamp_min(0.0).sqrt()
    return mean.float(), std.float()


def _check_frames(name: str, frames: torch.Tensor) -> None:
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"{name} must be an IMAGE batch [frames, height, width, 3]; got shape {tuple(frames.shape)}.")
    if not math.isfinite(float(frames.sum())):  # one pass: any NaN or inf makes the sum non-finite
        raise ValueError(f"{name} contains NaN or infinite values; check the node that produced these frames.")


def _check_overlap(previous: torch.Tensor, segment: torch.Tensor, overlap: int) -> None:
    _check_frames("previous", previous)
    _check_frames("segment", segment)
    if previous.shape[1:] != segment.shape[1:]:
        raise ValueError(
            f"previous frames are {tuple(previous.shape[1:3])} but the segment is {tuple(segment.shape[1:3])}; "
            "chained segments must share one resolution."
        )
    if overlap < 1 or overlap > min(previous.shape[0], segment.shape[0]):
        raise ValueError(
            f"overlap must be between 1 and {min(previous.shape[0], segment.shape[0])} frames "
            f"(the shorter of the two segments); got {overlap}."
        )


def correct_color_drift(
    previous: torch.Tensor,
    segment: torch.Tensor,
    overlap: int,
    strength: float = 1.0,
    chunk_size: int = DEFAULT_CHUNK,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Match the whole ``segment``'s LAB mean/std to ``previous`` over the overlap.

    ``previous[-overlap:]`` and ``segment[:overlap]`` show the same moments; the per-channel affine map in
    LAB that carries the segment's overlap statistics onto the previous one's is applied to every frame of
    the segment, so colour does not jump at the seam and the correction does not flicker within it.
    Overlap frames count by their crossfade weight: where the new segment dominates the blend, and next
    to the frames that follow the overlap, the match is closest.
    ``strength`` blends between no correction (0) and full matching (1). Chunks of ``chunk_size`` frames
    are converted on ``device`` (default: where the segment is; a GPU makes long shots cheap) and the
    result is returned where the segment is.
    """
    _check_overlap(previous, segment, overlap)
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"strength must be within 0..1; got {strength}.")
    weights = crossfade_weights(overlap)
    device = segment.device if device is None else torch.device(device)
    target_mean, target_std = lab_statistics(previous[-overlap:], chunk_size, weights, device)
    source_mean, source_std = lab_statistics(segment[:overlap], chunk_size, weights, device)
    scale = target_std / source_std.clamp_min(STD_FLOOR)
    scale = (1.0 + strength * (scale - 1.0)).view(1, 3, 1, 1).to(device)
    shift_to = (source_mean + strength * (target_mean - source_mean)).view(1, 3, 1, 1).to(device)
    source_mean = source_mean.view(1, 3, 1, 1).to(device)
    corrected = torch.empty_like(segment)
    for start in range(0, segment.shape[0], chunk_size):
        lab = _rgb_to_lab(segment[start : start + chunk_size].to(device))
        corrected[start : start + chunk_size] = _lab_to_rgb((lab - source_mean) * scale + shift_to).to(corrected)
    return corrected


def crossfade_weights(length: int) -> torch.Tensor:
    """Weights of the incoming frames across a linear crossfade of ``length`` frames: (i + 1) / (length + 1).

    Both endpoints are excluded, so the frame before the fade is purely outgoing and the frame after it
    purely incoming, and each step of the fade changes the mix by the same amount.
    """
    if length < 0:
        raise ValueError(f"crossfade length must be 0 or more frames; got {length}.")
    return torch.arange(1, length + 1, dtype=torch.float32) / (length + 1)


def crossfade(outgoing: torch.Tensor, incoming: torch.Tensor) -> torch.Tensor:
    """Linear crossfade of two equally long frame runs: outgoing fades out while incoming fades in."""
    if outgoing.shape != incoming.shape:
        raise ValueError(
            f"crossfaded frame runs must have one shape; got {tuple(outgoing.shape)} and {tuple(incoming.shape)}."
        )
    weights = crossfade_weights(outgoing.shape[0]).to(device=incoming.device, dtype=incoming.dtype)
    weights = weights.view(-1, *([1] * (incoming.ndim - 1)))
    return outgoing * (1.0 - weights) + incoming * weights
