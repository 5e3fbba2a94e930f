"""What the shot-list orchestrator (multishot.py) is given by its host: the pipeline of injected callables that
bind, sample, decode and score a shot, and the timer that sums each stage's seconds into the report.

Binding, sampling and decoding are injected callables, so the engine stays free of ComfyUI.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import torch

from ..shared.wan import WAN_2_1
from ..shots.shot import Shot
from ..world.entities import Reference
from .long_shot import DEFAULT_OVERLAP
from .scoring import ScoreReport
from .search import SearchHooks


class BoundShotLike(Protocol):
    trim_latent_frames: int
    reference_names: Sequence[str]  # entities the binder put in front of the clip as reference frames
    lead_latent: torch.Tensor | None  # latent frames decoded before the sampled ones: the overlap, rendered before


@dataclass
class ShotPipeline:
    """The capabilities the orchestrator needs, passed in by the host.

    - ``bind(shot, context_frames, frames, new_from, latent_so_far)``: conditioning and latent for ``frames`` frames
      of ``shot``; ``context_frames`` (IMAGE) are the frames the clip must begin with, or None; the clip's frames
      after them are shot frames from ``new_from`` on (where a performance's driving clip is read);
      ``latent_so_far`` is the shot's sampled latent before this segment (its segments' latents, trimmed and
      concatenated), or None for the first, for a model that continues from latents (S2V). Such a binding's
      ``lead_latent`` (the last latent frames so far) is decoded before what it samples, giving the overlap.
    - ``sample(shot, bound, seed)``: the sampled latent ``[1, C, T, h, w]``.
    - ``decode(latent)``: IMAGE frames ``[F, H, W, 3]``.
    - ``references(shot)``: the shot's bound references (scoring and the bleed check).
    - ``score(frames, references)``: a ScoreReport or a float; higher is better. A lone candidate has nothing
      to beat, so it is scored only when ``score_single_candidate`` is set; otherwise its score is None.
    - ``check_interrupt()``: raises when the user cancelled.
    - ``notes(shot)``: extra report entries for a rendered shot (e.g. what reference attention did).
    - ``search``: when set, a shot's candidates are judged early on its first segment and only the
      survivors sample on (see ``search``); None renders every candidate to the end.
    - ``live(event, previews)``: what the render is doing, for a live view: ``{"event": "shot" | "check" |
      "done", …}`` and, per candidate index, small frames to show (the search's early decodes at a check, the
      kept frames when a shot is done).
    """

    bind: Callable[[Shot, torch.Tensor | None, int, int, torch.Tensor | None], BoundShotLike]
    sample: Callable[[Shot, BoundShotLike, int], torch.Tensor]
    decode: Callable[[torch.Tensor], torch.Tensor]
    references: Callable[[Shot], Sequence[Reference]]
    score: Callable[[torch.Tensor, Sequence[Reference]], ScoreReport | float]
    check_interrupt: Callable[[], None] = lambda: None
    notes: Callable[[Shot], dict[str, Any]] = lambda shot: {}
    score_single_candidate: bool = False
    native_frames: int = WAN_2_1.native_frames
    overlap: int = DEFAULT_OVERLAP
    color_strength: float = 1.0
    clock: Callable[[], float] = time.perf_counter
    search: SearchHooks | None = None
    live: Callable[[dict[str, Any], dict[int, torch.Tensor]], None] = lambda event, previews: None


@dataclass
class Timer:
    clock: Callable[[], float]
    totals: dict[str, float] = field(default_factory=dict)

    def timed(self, name: str, function: Callable[..., Any], *args: Any) -> Any:
        start = self.clock()
        result = function(*args)
        self.totals[name] = self.totals.get(name, 0.0) + self.clock() - start
        return result
