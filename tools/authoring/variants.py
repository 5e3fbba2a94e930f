"""The variants every demo ships in: the same film, world and shot list, sized for different GPUs and models.

full: Wan 2.1 14B models at 1280x720, 20 steps with CFG, as the films were written.
fast: Wan 2.1 VACE 1.3B at 832x480 with ComfyUI's EasyCache, fewer best-of-N candidates; shots that need a
14B-only family (ATI, Wan-Move) run at 480p with the lightx2v step-distillation LoRA (4 steps, no CFG).
wan22: the Wan 2.2 Fun VACE A14B experts at 1280x720 and 16 fps, sampled as ComfyUI's own A14B templates do (20
steps, CFG 3.5, euler, the low-noise expert from step 10); the track-driven shots (ATI, Wan-Move) keep their Wan
2.1 14B file, as no Wan 2.2 model follows drawn tracks.
wan22_5b: Wan 2.2 TI2V-5B at 1280x704 and 24 fps with the Wan 2.2 VAE, sampled as ComfyUI's 5B template (20
steps, CFG 5, uni_pc); every shot renders on it, the track-driven ones as image-to-video from the same start
frame, led by the prompt (the 5B follows no tracks; a 14B track model would not fit the GPUs the 5B is for).
"""

from __future__ import annotations

from dataclasses import dataclass

from ...headless.catalog import (
    FUN_VACE_22_HIGH,
    FUN_VACE_22_LOW,
    LIGHTX2V_14B,
    TI2V_5B,
    VACE_1_3B,
    VACE_14B,
    WAN22_VAE,
    WAN_VAE,
    ModelFile,
)
from ...models.shared.wan import WAN_2_1, WAN_2_2_5B, ModelRules
from .graph import UIGraph


@dataclass(frozen=True)
class Sampling:
    steps: int
    cfg: float
    sampler_name: str
    scheduler: str


DEFAULT_SAMPLING = Sampling(20, 5.0, "uni_pc", "simple")  # Wan 2.1's own defaults, and ComfyUI's 5B template's
DISTILLED_SAMPLING = Sampling(4, 1.0, "lcm", "simple")  # what the lightx2v LoRA was distilled for
EXPERT_SAMPLING = Sampling(20, 3.5, "euler", "simple")  # ComfyUI's Wan 2.2 A14B templates


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
    low_noise_model: ModelFile | None = None  # world_model's low-noise expert (Wan 2.2 A14B)
    rules: ModelRules = WAN_2_1  # frame rate and native length of the world model's shots
    vae: ModelFile = WAN_VAE
    follows_tracks: bool = True  # track-driven shots keep their Wan 2.1 track model; else the world model's

    @property
    def label(self) -> str:
        """The frame size in words, for the thumbnail: the preset's name, or width x height."""
        return f"{self.width}x{self.height}" if self.resolution == "custom" else self.resolution

    @property
    def switch_step(self) -> int:
        """The step the low-noise expert starts at: half-way, as ComfyUI's A14B templates switch."""
        return EXPERT_SAMPLING.steps // 2

    def tracked(self, model: ModelFile) -> ModelFile:
        """The model a track-driven shot (ATI, Wan-Move) renders on: its own, or the world model's."""
        return model if self.follows_tracks else self.world_model

    @property
    def frame_size(self) -> dict[str, int]:
        """The frame's width and height as node inputs: what references, encodings, tracks and plates are made at."""
        return {"width": self.width, "height": self.height}

    def distills(self, model: ModelFile) -> bool:
        """The step-distillation LoRA goes on 14B models only (the only size it was trained for)."""
        return self.distill_lora is not None and model.dit == "14B"

    def sampling(self, model: ModelFile) -> Sampling:
        if self.distills(model):
            return DISTILLED_SAMPLING
        return EXPERT_SAMPLING if model == self.world_model and self.low_noise_model else DEFAULT_SAMPLING

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
WAN22 = Variant("wan22", "_wan22", 1280, 720, "720p", FUN_VACE_22_HIGH, None, False, 1, low_noise_model=FUN_VACE_22_LOW)
WAN22_5B = Variant(
    "wan22 5B",
    "_wan22_5b",
    1280,
    704,
    "custom",
    TI2V_5B,
    None,
    easycache=False,
    candidate_share=1,
    rules=WAN_2_2_5B,
    vae=WAN22_VAE,
    follows_tracks=False,
)
VARIANTS = (FULL, FAST, WAN22, WAN22_5B)


class FilmGraph(UIGraph):
    """A workflow under construction for one variant of a film."""

    def __init__(self, object_info: dict, variant: Variant = FULL):
        super().__init__(object_info)
        self.variant = variant
