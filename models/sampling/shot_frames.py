"""Rendered shots as lossless files, so a farm can assemble the cut from shots rendered on other machines.

A file holds one World Shot Sampler run: its frames (float, exactly as decoded), its report and the SHA-256
of both.
Joining files gives back the sampler's frames, boundaries and report, as if one run had rendered every shot in
them. A truncated or edited file is refused whole, with the reason, never half read.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import torch
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from .joining import ShotResult, join_shots, require_one_rate

FORMAT = "worldkit.shot_frames"


class ShotFramesError(ValueError):
    """A shot-frames file is not one, or the files cannot be joined into one cut."""


def content_digest(frames: torch.Tensor, report_text: str) -> str:
    return hashlib.sha256(report_text.encode() + frames.numpy().tobytes()).hexdigest()


def require_rgb(frames: torch.Tensor, name: str) -> None:
    """The one layout a shot-frames file holds (what the sampler gives), checked when saving and when loading."""
    if frames.dtype != torch.float32 or frames.ndim != 4 or frames.shape[-1] != 3:
        raise ShotFramesError(
            f"{name} holds frames of {frames.dtype} {list(frames.shape)}, not [F, H, W, 3] floats (RGB); save the "
            "sampler's frames, or convert these to RGB first."
        )


def pack_shot_frames(frames: torch.Tensor, report: dict[str, Any]) -> bytes:
    """Frames [F, H, W, 3] and the sampler's report as safetensors bytes."""
    frames = frames.detach().cpu().float().contiguous()
    require_rgb(frames, "frames")
    check_report(report, frames.shape[0], "report")
    text = json.dumps(report)
    metadata = {"format": FORMAT, "report": text, "sha256": content_digest(frames, text)}
    return save_safetensors({"frames": frames}, metadata=metadata)


def read_shot_report(data: bytes, name: str) -> dict[str, Any]:
    """The report of a shot-frames file, read from its header alone (the frames are not loaded)."""
    return _read_header(data, name)[0]


def unpack_shot_frames(data: bytes, name: str) -> tuple[torch.Tensor, dict[str, Any]]:
    """The frames and report of a shot-frames file, refused whole when it was truncated or edited."""
    report, text, digest = _read_header(data, name)
    try:
        frames = load_safetensors(data)["frames"]
    except Exception as error:  # safetensors reports a short or inconsistent file with its own error type
        raise ShotFramesError(f"{name} is truncated or edited ({error}); save or render it again.") from None
    require_rgb(frames, name)
    if content_digest(frames, text) != digest:
        raise ShotFramesError(f"{name}'s frames or report do not match the hash saved with them: it was edited.")
    check_report(report, frames.shape[0], name)
    return frames, report


def _read_header(data: bytes, name: str) -> tuple[Any, str, str]:
    """(report, its JSON text, the content hash) from a shot-frames file's header."""
    try:
        header = json.loads(data[8 : 8 + int.from_bytes(data[:8], "little")])
        metadata = header.get("__metadata__") or {}
        text = metadata.get("report", "null")
        report = json.loads(text)
    except (ValueError, UnicodeDecodeError, AttributeError, RecursionError) as error:
        raise ShotFramesError(f"{name} is not a readable shot-frames file ({type(error).__name__}).") from None
    if metadata.get("format") != FORMAT or "frames" not in header:
        raise ShotFramesError(f"{name} is not a WorldKit shot-frames file (saved by Save Shot Frames).")
    if not isinstance(metadata.get("sha256"), str):
        raise ShotFramesError(f"{name} has no hash of its contents (an older or edited file); render it again.")
    return report, text, metadata["sha256"]


def check_report(report: Any, frame_count: int, name: str) -> None:
    """A sampler report whose shots and boundaries cover exactly ``frame_count`` frames, in order."""
    fields = report if isinstance(report, dict) else {}
    shots, boundaries, fps = fields.get("shots"), fields.get("boundaries"), fields.get("fps")
    if not (isinstance(shots, list) and isinstance(boundaries, list) and len(shots) == len(boundaries) > 0):
        raise ShotFramesError(f"{name} is not a World Shot Sampler report (one boundary per shot).")
    if not (isinstance(fps, (int, float)) and not isinstance(fps, bool) and 0 < fps <= 1000):
        raise ShotFramesError(f"{name} has no usable frame rate (fps {fps!r}).")
    ends = [0]
    for entry in boundaries:
        start, end = (entry.get(key) if isinstance(entry, dict) else None for key in ("start", "end"))
        if not (type(start) is int and type(end) is int and start == ends[-1] < end):
            raise ShotFramesError(f"{name}'s shot boundaries are not consecutive spans of frames.")
        ends.append(end)
    if ends[-1] != frame_count:
        raise ShotFramesError(f"{name}'s shots span {ends[-1]} frames, but there are {frame_count}.")


def join_shot_frames(parts: Sequence[tuple[torch.Tensor, dict[str, Any]]]) -> tuple[torch.Tensor, list, dict]:
    """Frames, shot boundaries and report of the shots in ``parts`` (each a sampler run), in order."""
    if not parts:
        raise ShotFramesError("no shot-frames files were given; list at least one.")
    results = [
        ShotResult(frames[start:end], shot)
        for frames, report in parts
        for shot, (start, end) in zip(report["shots"], _spans(report), strict=True)
    ]
    require_one_rate((report["fps"] for _, report in parts), "the shot-frames files", error=ShotFramesError)
    frames, boundaries = join_shots(results)
    report = {**parts[0][1], "boundaries": boundaries, "shots": [result.report for result in results]}
    return frames, boundaries, report


def _spans(report: dict[str, Any]) -> list[tuple[int, int]]:
    return [(entry["start"], entry["end"]) for entry in report["boundaries"]]
