"""The two variants every demo ships in: the same film, world and shot list, sized for different GPUs.

full: Wan 2.1 14B models at 1280x720, 20 steps with CFG, as the films were written.
fast: Wan 2.1 VACE 1.3B at 832x480 with ComfyUI's EasyCache, fewer best-of-N candidates; shots that need a
14B-only family (ATI, Wan-Move) run at 480p with the lightx2v step-distillation LoRA (4 steps, no CFG).
"""

from __future__ import annotations

from dataclasses import dataclass

from ...headless.catalog import LIGHTX2V_14B, VACE_1_3B, VACE_14B, ModelFile
from .graph import UIGraph


@dataclass(frozen=True)
class Sampling:
    steps: int
    cfg: float
    sampler_name: str
    scheduler: str


DEFAULT_SAMPLING = Sampling(20, 5.0, "uni_pc", "simple")  # Wan 2.1's own defaults
DISTILLED_SAMPLING = Sampling(4, 1.0, "lcm", "simple")  # what the lightx2v LoRA was distilled for


@dataclass(frozen=True)
class Variant:
    name: str
    suffix: str
    width: int
    height: int
    resolution: str
    world_model: ModelFile
    distill_lora: ModelFile | None
    easycache: bool
    candidate_share: int

    @property
    def frame_size(self) -> dict[str, int]:
        """The frame's width and height as node inputs: what references, encodings, tracks and plates are made at."""
        return {"width": self.width, "height": self.height}

    def distills(self, model: ModelFile) -> bool:
        """The step-distillation LoRA goes on 14B models only (the only size it was trained for)."""
        return self.distill_lora is not None and model.dit == "14B"

    def sampling(self, model: ModelFile) -> Sampling:
        return DISTILLED_SAMPLING if self.distills(model) else DEFAULT_SAMPLING

    def candidates(self, full: int) -> int:
        """Best-of-N candidates: the full film's count, shared down in the fast variant (at least one)."""
        return max(1, full // self.candidate_share)


FULL = Variant("full", "", 1280, 720, "720p", VACE_14B, None, easycache=False, candidate_share=1)
FAST = Variant(
    "fast",
    "_fast",
    832,
    480,
    "480p",
    VACE_1_3B,
    LIGHTX2V_14B,
    easycache=True,
    candidate_share=2,
)
VARIANTS = (FULL, FAST)


class FilmGraph(UIGraph):
    """A workflow under construction for one variant of a film."""

    def __init__(self, object_info: dict, variant: Variant = FULL):
        super().__init__(object_info)
        self.variant = variant
