"""Shots longer than the model's native length, as chained segments.

A 10 s shot at 16 fps (161 frames) on a model that samples 81 frames at a time is rendered as segments of
at most the native length. Each segment after the first is conditioned on the last ``overlap`` frames of
the shot so far, so it begins where the previous one ended; its colour statistics are matched to the
previous frames over the overlap (chained extensions drift in colour through VAE re-encoding), and the
overlap is crossfaded so no seam shows.

Only one segment is sampled and decoded at a time and only pixels are kept (on the CPU), so the peak
memory of a chained shot is that of one segment plus the finished frames.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch

from ..shared.wan import GENERATIONS, require_wan_frame_count, round_up_frame_count, wrap_seed
from .continuity import correct_color_drift, crossfade, lab_frame_means

DEFAULT_OVERLAP = 9
SEGMENT_SEED_STRIDE = 1_000_003  # a prime, so segment seeds of neighbouring candidates never coincide


@dataclass(frozen=True)
class Segment:
    """One sampled piece of a long shot: shot frames ``start .. start + frames``, the first ``context`` given."""

    index: int
    start: int
    frames: int
    context: int


def require_native_frames(native_frames: int, error: type[ValueError] = ValueError) -> None:
    """Raise `error` unless `native_frames` is a clip length a model can sample (4k+1)."""
    native = ", ".join(f"{rules.native_frames} for {rules.name}" for rules in GENERATIONS)
    require_wan_frame_count(native_frames, f"native_frames ({native})", error)


def max_overlap(native_frames: int) -> int:
    """The most frames a segment may share with the one before: half the native length, so each adds new ones."""
    return native_frames // 2


def overlap_problem(overlap: int, native_frames: int, name: str = "overlap") -> str | None:
    """Why `overlap` cannot chain segments of `native_frames`, or None when it can."""
    if 1 <= overlap <= max_overlap(native_frames):
        return None
    return f"{name} is {overlap}; use 1 to {max_overlap(native_frames)} frames (half of native_frames {native_frames})."


SegmentRenderer = Callable[[Segment, "torch.Tensor | None"], torch.Tensor]
"""``render(segment, context_frames) -> frames [segment.frames, H, W, 3]``; context is None for the first."""


def plan_segments(total_frames: int, native_frames: int, overlap: int = DEFAULT_OVERLAP) -> list[Segment]:
    """Segments covering ``total_frames``: native-length pieces sharing ``overlap`` frames with their predecessor.

    The last segment is only as long as needed (rounded up to a valid clip length; frames past the shot's
    end are dropped after rendering). A shot within the native length is one segment.
    """
    if total_frames < 1:
        raise ValueError(f"a shot needs at least 1 frame; got {total_frames}.")
    require_native_frames(native_frames)
    if total_frames <= native_frames:
        return [Segment(0, 0, round_up_frame_count(total_frames), 0)]
    problem = overlap_problem(overlap, native_frames)
    if problem:
        raise ValueError(problem)
    segments = [Segment(0, 0, native_frames, 0)]
    covered = native_frames
    while covered < total_frames:
        start = covered - overlap
        length = min(native_frames, round_up_frame_count(total_frames - start))
        segments.append(Segment(len(segments), start, length, overlap))
        covered = start + length
    return segments


def segment_seed(seed: int, segment_index: int) -> int:
    return wrap_seed(seed + segment_index * SEGMENT_SEED_STRIDE)


def _check_segment_frames(segment: Segment, frames: torch.Tensor, previous: torch.Tensor | None) -> torch.Tensor:
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(
            f"segment {segment.index} decoded to shape {tuple(frames.shape)}; expected [frames, height, width, 3]."
        )
    if frames.shape[0] < segment.frames:
        raise ValueError(
            f"segment {segment.index} has {frames.shape[0]} frames but {segment.frames} were sampled; "
            "the decoder dropped frames."
        )
    if previous is not None and frames.shape[1:] != previous.shape[1:]:
        raise ValueError(
            f"segment {segment.index} is {tuple(frames.shape[1:3])} but the shot is {tuple(previous.shape[1:3])}."
        )
    return frames[: segment.frames].cpu()


def overlap_lab_offset(context: torch.Tensor, overlap_frames: torch.Tensor) -> float:
    """ΔE76 between the mean LAB colours of two renderings of the same moments (the overlap)."""
    return float((lab_frame_means(context).mean(0) - lab_frame_means(overlap_frames).mean(0)).norm())


def render_long_shot(
    total_frames: int,
    native_frames: int,
    render_segment: SegmentRenderer,
    overlap: int = DEFAULT_OVERLAP,
    color_strength: float = 1.0,
) -> tuple[torch.Tensor, list[dict]]:
    """Render and chain the segments of a shot; returns its frames ``[total_frames, H, W, 3]`` and per-segment notes.

    Each segment after the first gets the shot's last ``overlap`` frames as context, is colour-matched to
    them over the overlap (``color_strength`` 0..1), and the overlap is crossfaded. Frames are written into
    one preallocated CPU tensor, so memory holds one segment being rendered plus the output.
    """
    segments = plan_segments(total_frames, native_frames, overlap)
    shot: torch.Tensor | None = None
    notes = []
    for segment in segments:
        end = segment.start + segment.frames
        context = None if shot is None else shot[segment.start : segment.start + segment.context].clone()
        frames = _check_segment_frames(segment, render_segment(segment, context), shot)
        note = asdict(segment)
        if shot is None:
            last = segments[-1]
            shot = frames.new_empty((last.start + last.frames, *frames.shape[1:]))
        else:
            raw_overlap = frames[: segment.context]
            if color_strength > 0.0:
                frames = correct_color_drift(context, frames, segment.context, color_strength)
            note["overlap_lab_offset_raw"] = overlap_lab_offset(context, raw_overlap)
            note["overlap_lab_offset_corrected"] = overlap_lab_offset(context, frames[: segment.context])
            frames[: segment.context] = crossfade(context, frames[: segment.context])
        shot[segment.start : end] = frames
        notes.append(note)
        del frames
    return shot[:total_frames], notes
