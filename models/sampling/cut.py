"""Assembling shots into one cut: hard cuts or crossfades, with cuts optionally landed on the beats of a track.

Shots arrive as one IMAGE batch [N, H, W, 3] plus the length of each shot in frames. Beats are onsets
found by spectral flux. Snapping only ever trims the tail of the outgoing shot (frames that were never
rendered cannot be added), so each cut moves to the latest beat at or before where it would fall
untrimmed, as long as the shot keeps at least ``min_keep`` of its frames; otherwise that cut stays put.

The instant of a cut is the first frame of the incoming shot for a hard cut, and the middle of the fade
(the frame where both shots weigh one half) for a crossfade; that instant is what lands on the beat.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from numpy.lib.stride_tricks import sliding_window_view
from scipy.ndimage import uniform_filter1d
from scipy.signal import find_peaks, get_window

from ..shared.text import MAX_JSON_CHARS, load_json_text, quote, require_text
from .continuity import crossfade

TRANSITIONS = ("cut", "crossfade")
DEFAULT_HOP_SECONDS = 0.01
DEFAULT_BEAT_THRESHOLD = 0.3
DEFAULT_MIN_BEAT_GAP_SECONDS = 0.1
DEFAULT_MIN_KEEP = 0.5
LOG_COMPRESSION = 100.0  # γ in log(1 + γ·|X|), on spectra normalised to a peak of 1
LOCAL_MEAN_SECONDS = 0.2  # window of the moving average subtracted before peak picking
STFT_BLOCK_FRAMES = 4096  # frames transformed at once, bounding memory on long tracks


@dataclass
class ShotPlacement:
    """Where one shot's frames came from and where they sit in the cut."""

    source_start: int
    source_frames: int
    kept_frames: int
    timeline_start: int


@dataclass
class CutPoint:
    """One transition. ``frame``: first timeline frame showing the incoming shot; ``time``: the cut instant, seconds."""

    frame: int
    time: float
    beat: float | None = None


@dataclass
class AssembledCut:
    frames: torch.Tensor  # [T, H, W, 3]
    fps: float
    transition: str
    transition_frames: int
    shots: list[ShotPlacement] = field(default_factory=list)
    cuts: list[CutPoint] = field(default_factory=list)
    beats: list[float] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return self.frames.shape[0] / self.fps

    def to_dict(self) -> dict[str, Any]:
        """Everything but the frames, for the cut list a node reports."""
        return {
            "fps": self.fps,
            "frames": int(self.frames.shape[0]),
            "duration": self.duration,
            "transition": self.transition,
            "transition_frames": self.transition_frames,
            "shots": [asdict(shot) for shot in self.shots],
            "cuts": [asdict(cut) for cut in self.cuts],
            "beats": self.beats,
        }


# ---------------------------------------------------------------- shot lengths


def _lengths_from_boundaries(boundaries: list) -> list[int]:
    """Lengths from ``[{"start": 0, "end": 81}, ...]`` (end exclusive, shots back to back), as the sampler reports."""
    lengths, expected_start = [], 0
    for index, boundary in enumerate(boundaries):
        if not isinstance(boundary, dict) or not all(
            isinstance(boundary.get(key), int) and not isinstance(boundary.get(key), bool) for key in ("start", "end")
        ):
            raise ValueError(
                f"shot boundary {index + 1} must be an object with whole-frame 'start' and 'end'; "
                f"got {quote(boundary)}."
            )
        if boundary["start"] != expected_start:
            raise ValueError(
                f"shot boundary {index + 1} starts at frame {boundary['start']} but the previous shot ends "
                f"at {expected_start}; shots must follow each other without gaps."
            )
        lengths.append(boundary["end"] - boundary["start"])
        expected_start = boundary["end"]
    return lengths


def parse_shot_lengths(text: str, total_frames: int | None) -> list[int]:
    """Shot lengths in frames from "81, 81, 49", "81 81 49", a JSON list of lengths, or the World Shot
    Sampler's boundaries ``[{"start": 0, "end": 81}, ...]``; empty text means one shot.

    The lengths must be positive and add up to the frames given (not checked when ``total_frames`` is None,
    as when the text alone is checked before the frames exist).
    """
    text = require_text(text, "shot_lengths", MAX_JSON_CHARS).strip()
    if not text:
        return [] if total_frames is None else [total_frames]
    if text.startswith("["):
        values = load_json_text(text, "shot_lengths")
    else:
        try:
            values = [int(part) for part in text.replace(",", " ").split()]
        except ValueError:
            raise ValueError(
                f"shot_lengths must be frame counts such as '81, 81, 49' or [81, 81, 49]; got {quote(text)}."
            ) from None
    if isinstance(values, list) and values and all(isinstance(v, dict) for v in values):
        values = _lengths_from_boundaries(values)
    if not isinstance(values, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise ValueError(f"shot_lengths must be a list of whole frame counts; got {quote(text)}.")
    if not values or any(v < 1 for v in values):
        raise ValueError(f"every shot needs at least one frame; got shot_lengths {values}.")
    if total_frames is not None and sum(values) != total_frames:
        raise ValueError(
            f"shot_lengths {values} add up to {sum(values)} frames but {total_frames} frames were given; "
            "make the lengths sum to the frame count."
        )
    return values


# ---------------------------------------------------------------- beats


def _mono(waveform: np.ndarray | torch.Tensor) -> np.ndarray:
    """[S], [C, S] or [B, C, S] audio to one float32 channel (first batch item, channels averaged)."""
    samples = waveform.detach().float().cpu().numpy() if isinstance(waveform, torch.Tensor) else np.asarray(waveform)
    while samples.ndim > 2:
        samples = samples[0]
    if samples.ndim == 2:
        samples = samples.mean(axis=0)
    if samples.size == 0:
        raise ValueError("the audio has no samples; connect a track to detect beats in.")
    if not np.isfinite(samples).all():
        raise ValueError("the audio contains NaN or infinite samples; re-export the track.")
    return samples.astype(np.float32)


def onset_envelope(samples: np.ndarray, hop_length: int) -> np.ndarray:
    """Spectral-flux onset strength per hop, normalised to a peak of 1 (all zeros for silence).

    Frame k is centred on sample k·hop with a Hann window of two hops, so any click shows up only in
    frames whose centre is less than one hop away from it.
    """
    n_fft = 2 * hop_length
    padded = np.pad(samples, (hop_length, hop_length))
    windows = sliding_window_view(padded, n_fft)[::hop_length]
    window = get_window("hann", n_fft).astype(np.float32)
    magnitudes = np.concatenate(
        [
            np.abs(np.fft.rfft(windows[start : start + STFT_BLOCK_FRAMES] * window, axis=1)).astype(np.float32)
            for start in range(0, windows.shape[0], STFT_BLOCK_FRAMES)
        ]
    )
    peak = magnitudes.max()
    if peak <= 0.0:
        return np.zeros(magnitudes.shape[0], dtype=np.float32)
    compressed = np.log1p(LOG_COMPRESSION * magnitudes / peak)
    flux = np.concatenate([[0.0], np.maximum(np.diff(compressed, axis=0), 0.0).sum(axis=1)])
    return (flux / flux.max()).astype(np.float32) if flux.max() > 0 else flux.astype(np.float32)


def detect_beats(
    waveform: np.ndarray | torch.Tensor,
    sample_rate: int,
    hop_seconds: float = DEFAULT_HOP_SECONDS,
    threshold: float = DEFAULT_BEAT_THRESHOLD,
    min_gap_seconds: float = DEFAULT_MIN_BEAT_GAP_SECONDS,
) -> np.ndarray:
    """Onset times in seconds (ascending), accurate to one hop.

    Peaks of the onset envelope that rise at least ``threshold`` (0..1 of the strongest onset) above the
    envelope's local mean; of peaks closer than ``min_gap_seconds`` only the strongest is kept.
    """
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive; got {sample_rate}.")
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"beat threshold must be within (0, 1]; got {threshold}.")
    hop_length = max(1, round(sample_rate * hop_seconds))
    envelope = onset_envelope(_mono(waveform), hop_length)
    local_mean = uniform_filter1d(
        envelope, size=max(1, round(LOCAL_MEAN_SECONDS * sample_rate / hop_length)), mode="constant"
    )
    distance = max(1, round(min_gap_seconds * sample_rate / hop_length))
    peaks, _ = find_peaks(envelope - local_mean, height=threshold, distance=distance)
    return peaks * hop_length / sample_rate


# ---------------------------------------------------------------- planning and assembly


def _check_transition(transition: str, transition_frames: int) -> int:
    if transition not in TRANSITIONS:
        raise ValueError(f"transition must be one of {TRANSITIONS}; got '{transition}'.")
    if transition_frames < 0:
        raise ValueError(f"crossfade frames must be 0 or more; got {transition_frames}.")
    return transition_frames if transition == "crossfade" else 0


def _cut_offset(fade: int) -> float:
    """Frames from the incoming shot's first frame to the cut instant (the fade's half-way frame)."""
    return max(fade - 1, 0) / 2.0


def _shortest_allowed(index: int, count: int, fade: int) -> int:
    """Frames a shot needs for its fades in and out (at least one)."""
    fades = (fade if index > 0 else 0) + (fade if index < count - 1 else 0)
    return max(1, fades)


def plan_kept_frames(
    shot_lengths: Sequence[int],
    fps: float,
    fade: int = 0,
    beats: Sequence[float] | None = None,
    min_keep: float = DEFAULT_MIN_KEEP,
) -> tuple[list[int], list[float | None]]:
    """Frames kept of each shot, and the beat each cut was snapped to (None where it stayed put).

    Without beats every shot is kept whole. With beats, each cut moves to the latest beat at or before its
    untrimmed position that leaves the outgoing shot at least ``min_keep`` of its frames.
    """
    if not 0.0 <= min_keep <= 1.0:
        raise ValueError(f"min_keep must be within 0..1; got {min_keep}.")
    count = len(shot_lengths)
    for index, length in enumerate(shot_lengths):
        needed = _shortest_allowed(index, count, fade)
        if length < needed:
            raise ValueError(
                f"shot {index + 1} has {length} frames but its {fade}-frame crossfades need {needed}; "
                "use fewer crossfade frames or longer shots."
            )
    kept, snapped = list(shot_lengths), [None] * max(count - 1, 0)
    beat_frames = sorted(float(beat) * fps for beat in (beats if beats is not None else []))
    start = 0
    for index in range(count - 1):
        shortest = max(_shortest_allowed(index, count, fade), math.ceil(min_keep * shot_lengths[index]))
        offset = _cut_offset(fade) - fade  # cut instant = start + kept + offset
        for beat in reversed(beat_frames):
            candidate = round(beat - start - offset)
            if candidate > shot_lengths[index]:
                continue
            if candidate >= shortest:
                kept[index] = candidate
                snapped[index] = beat / fps
            break
        start += kept[index] - fade
    return kept, snapped


def assemble_cut(
    frames: torch.Tensor,
    shot_lengths: Sequence[int],
    fps: float,
    transition: str = "cut",
    transition_frames: int = 0,
    beats: Sequence[float] | None = None,
    min_keep: float = DEFAULT_MIN_KEEP,
) -> AssembledCut:
    """Join the shots of ``frames`` (lengths in ``shot_lengths``) into one timeline.

    Hard cuts concatenate; crossfades overlap consecutive shots by ``transition_frames`` frames, so the cut
    lasts sum(kept) − fade × (shots − 1) frames. With ``beats`` (seconds), cuts are snapped by trimming.
    """
    if frames.ndim != 4 or frames.shape[0] == 0:
        raise ValueError(f"frames must be an IMAGE batch [frames, height, width, channels]; got {tuple(frames.shape)}.")
    if not fps > 0:
        raise ValueError(f"fps must be positive; got {fps}.")
    if sum(shot_lengths) != frames.shape[0]:
        raise ValueError(
            f"shot lengths {list(shot_lengths)} add up to {sum(shot_lengths)} frames, "
            f"but {frames.shape[0]} frames were given."
        )
    fade = _check_transition(transition, transition_frames)
    kept, snapped = plan_kept_frames(shot_lengths, fps, fade, beats, min_keep)
    sources = np.concatenate([[0], np.cumsum(shot_lengths)[:-1]]).tolist()
    pieces: list[torch.Tensor] = []
    placements: list[ShotPlacement] = []
    cuts: list[CutPoint] = []
    timeline = 0
    for index, (source, length, keep) in enumerate(zip(sources, shot_lengths, kept, strict=True)):
        shot = frames[source : source + keep]
        if index > 0 and fade > 0:
            pieces[-1], tail = pieces[-1][:-fade], pieces[-1][-fade:]
            pieces.append(crossfade(tail, shot[:fade]))
            shot = shot[fade:]
        timeline_start = timeline - (fade if index > 0 else 0)
        if index > 0:
            cuts.append(CutPoint(timeline_start, (timeline_start + _cut_offset(fade)) / fps, snapped[index - 1]))
        placements.append(ShotPlacement(int(source), int(length), int(keep), int(timeline_start)))
        pieces.append(shot)
        timeline = timeline_start + keep
    assembled = torch.cat([piece for piece in pieces if piece.shape[0] > 0])
    beat_list = [] if beats is None else [float(beat) for beat in beats]
    return AssembledCut(assembled, float(fps), transition, fade, placements, cuts, beat_list)
