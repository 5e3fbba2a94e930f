"""Rendered shots as lossless files, so a farm can assemble the cut from shots rendered on other machines.

A file holds one World Shot Sampler run: its frames (float, exactly as decoded) and its report. Joining files
gives back the sampler's frames, boundaries and report, as if one run had rendered every shot in them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import torch
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from .multishot import ShotResult, shot_boundaries

FORMAT = "worldkit.shot_frames"


class ShotFramesError(ValueError):
    """A shot-frames file is not one, or the files cannot be joined into one cut."""


def pack_shot_frames(frames: torch.Tensor, report: dict[str, Any]) -> bytes:
    """Frames [F, H, W, 3] and the sampler's report as safetensors bytes."""
    tensors = {"frames": frames.detach().cpu().contiguous()}
    return save_safetensors(tensors, metadata={"format": FORMAT, "report": json.dumps(report)})


def read_shot_report(data: bytes, name: str) -> dict[str, Any]:
    """The report of a shot-frames file, read from its header alone (the frames are not loaded)."""
    try:
        header = json.loads(data[8 : 8 + int.from_bytes(data[:8], "little")])
    except (ValueError, UnicodeDecodeError) as error:
        raise ShotFramesError(f"{name} is not a readable shot-frames file ({error}).") from None
    metadata = header.get("__metadata__") or {} if isinstance(header, dict) else {}
    if metadata.get("format") != FORMAT or "frames" not in header:
        raise ShotFramesError(f"{name} is not a WorldKit shot-frames file (saved by Save Shot Frames).")
    return json.loads(metadata["report"])


def unpack_shot_frames(data: bytes, name: str) -> tuple[torch.Tensor, dict[str, Any]]:
    report = read_shot_report(data, name)
    return load_safetensors(data)["frames"], report


def join_shot_frames(parts: Sequence[tuple[torch.Tensor, dict[str, Any]]]) -> tuple[torch.Tensor, list, dict]:
    """Frames, shot boundaries and report of the shots in ``parts`` (each a sampler run), in order."""
    if not parts:
        raise ShotFramesError("no shot-frames files were given; list at least one.")
    results = [
        ShotResult(frames[start:end], shot)
        for frames, report in parts
        for shot, (start, end) in zip(report["shots"], _spans(report), strict=True)
    ]
    rates = sorted({report["fps"] for _, report in parts})
    if len(rates) > 1:
        raise ShotFramesError(f"the shot-frames files have different frame rates {rates}; one cut plays at one rate.")
    frames = results[0].frames if len(results) == 1 else torch.cat([result.frames for result in results])
    boundaries = shot_boundaries(results)
    report = {**parts[0][1], "boundaries": boundaries, "shots": [result.report for result in results]}
    return frames, boundaries, report


def _spans(report: dict[str, Any]) -> list[tuple[int, int]]:
    return [(entry["start"], entry["end"]) for entry in report["boundaries"]]
