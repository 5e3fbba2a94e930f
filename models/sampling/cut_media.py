"""A cut's media for the editor: each shot's frames as its own ProRes file, the track as a WAV.

The shots are written whole (their source frames, not only what the cut shows), so a trimmed tail stays
available as a handle in the editor.
"""

from __future__ import annotations

import wave
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from ..shared.files import write_atomically
from ..streaming.sinks import VideoSink

SHOT_VIDEO_FORMAT = "mov (ProRes 4444 with alpha, 10-bit)"
"""What every editor reads natively, 10-bit 4:4:4 with no visible loss."""


def write_shot_videos(frames: torch.Tensor, placements: Sequence[dict], fps: float, stem: Path) -> list[Path]:
    """Shot ``i``'s source frames of ``frames`` to ``stem`` + ``_shot_<i>.mov``; returns the paths."""
    paths = []
    for number, placement in enumerate(placements, start=1):
        start, count = placement["source_start"], placement["source_frames"]
        if start + count > frames.shape[0]:
            raise ValueError(
                f"the cut's shot {number} needs frames {start}..{start + count - 1} but {frames.shape[0]} frames "
                "were given; connect the frames that went into Assemble Cut."
            )
        path = Path(stem).with_name(f"{Path(stem).name}_shot_{number:03}.mov")
        sink = VideoSink(path, SHOT_VIDEO_FORMAT, fps, (frames.shape[1], frames.shape[2]))
        try:
            for index in range(count):
                sink.write(index, frames[start + index, ..., :3].float().cpu(), None)
            sink.finish()
        except BaseException:
            sink.abort()
            raise
        paths.append(path)
    return paths


def write_wav(path: Path, waveform: torch.Tensor, sample_rate: int) -> float:
    """A [C, S] or [B, C, S] track (first batch item) as 16-bit PCM WAV; returns its length in seconds."""
    samples = waveform.detach().float().cpu()
    samples = samples[0] if samples.ndim == 3 else samples
    if samples.ndim != 2 or samples.shape[1] == 0:
        raise ValueError(f"audio must be [channels, samples] with samples; got {tuple(waveform.shape)}.")
    pcm = np.rint(samples.clamp(-1.0, 1.0).numpy().T * 32767).astype("<i2")

    def write(temporary: Path) -> None:
        with wave.open(str(temporary), "wb") as file:
            file.setnchannels(pcm.shape[1])
            file.setsampwidth(2)
            file.setframerate(int(sample_rate))
            file.writeframes(pcm.tobytes())

    write_atomically(path, write)
    return pcm.shape[0] / sample_rate
