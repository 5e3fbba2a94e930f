"""The rendered shots of one cut, joined: one frame rate, the frames one after another, and where each shot lies.

World Shot Sampler and Load Shot Frames both hand on a cut this way, so the rule lives once, here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import torch


@dataclass
class ShotResult:
    frames: torch.Tensor  # [F, H, W, 3] on the CPU
    report: dict[str, Any]


def shot_boundaries(results: Sequence[ShotResult]) -> list[dict[str, int]]:
    """Where each shot lies in the concatenated frames: ``[{"shot", "start", "end"}]`` with ``end`` exclusive."""
    boundaries, start = [], 0
    for index, result in enumerate(results):
        end = start + result.frames.shape[0]
        boundaries.append({"shot": index, "start": start, "end": end})
        start = end
    return boundaries


def require_one_rate(rates: Iterable[float], what: str, fix: str = "", error: type[ValueError] = ValueError) -> None:
    """One cut plays at one frame rate: raise `error` naming the rates of `what` when they differ."""
    found = sorted(set(rates))
    if len(found) > 1:
        advice = f": {fix}" if fix else ""
        raise error(f"{what} have different frame rates {found}; one cut plays at one rate{advice}.")


def join_shots(results: Sequence[ShotResult]) -> tuple[torch.Tensor, list[dict[str, int]]]:
    """The shots' frames one after another, and where each lies in them (``shot_boundaries``)."""
    frames = results[0].frames if len(results) == 1 else torch.cat([result.frames for result in results])
    return frames, shot_boundaries(results)
