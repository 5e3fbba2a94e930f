"""A loaded Wan DiT's structure, read from its weights, and whether two models can be a pair of experts.

Wan 2.2's A14B high-noise and low-noise experts are two files of one structure (that of Wan 2.1 14B:
width 5120, 40 blocks); what tells them apart is only the values of their weights, so a pair whose
structures differ (a 5B beside a 14B, VACE beside plain, text- beside image-to-video) is certainly wrong,
while which of two same-structure files is the high-noise one cannot be read from them.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import torch

from .families import FamilyError, diffusion_model, weight_kind


@dataclass(frozen=True)
class ModelStructure:
    """What the weights' shapes say about a Wan DiT."""

    kind: str  # families.WEIGHT_KINDS
    width: int  # the transformer's hidden size (5120 for 14B models, 3072 for 5B, 1536 for 1.3B)
    in_channels: int
    out_channels: int
    blocks: int
    vace_blocks: int

    def describe(self) -> str:
        vace = f", VACE ({self.vace_blocks} side blocks)" if self.vace_blocks else ""
        return (
            f"Wan {self.kind}, width {self.width}, {self.blocks} blocks{vace}, "
            f"{self.in_channels} input / {self.out_channels} output channels"
        )


def _weight(module: Any) -> Any:
    return getattr(module, "weight", None)


def model_structure(model: Any) -> ModelStructure:
    """The structure of a ModelPatcher's (or BaseModel's) Wan DiT, from its weight shapes."""
    dit = diffusion_model(model)
    embedding = _weight(getattr(dit, "patch_embedding", None))
    head = _weight(getattr(getattr(dit, "head", None), "head", None))
    if embedding is None or head is None:
        raise FamilyError(f"The loaded model ({type(dit).__name__}) is not a Wan video model; load a Wan DiT.")
    return ModelStructure(
        kind=weight_kind(model),
        width=int(embedding.shape[0]),
        in_channels=int(embedding.shape[1]),
        out_channels=int(head.shape[0]) // math.prod(embedding.shape[2:]),  # the head emits one patch per token
        blocks=len(getattr(dit, "blocks", ())),
        vace_blocks=len(getattr(dit, "vace_blocks", None) or ()),
    )


def _same_weights(high: Any, low: Any) -> bool:
    """Whether the patch embeddings are byte for byte equal: one file loaded twice (any dtype, fp8 too)."""
    first, second = (_weight(diffusion_model(model).patch_embedding) for model in (high, low))
    if first.shape != second.shape or first.dtype != second.dtype:
        return False
    first, second = (tensor.detach().cpu().contiguous().view(torch.uint8) for tensor in (first, second))
    return torch.equal(first, second)


def expert_pair_problem(high: Any, low: Any) -> str | None:
    """Why ``high`` (model) and ``low`` (low_noise_model) cannot be Wan 2.2's two experts, or None."""
    fix = "connect the high-noise file to model and the low-noise file of the same model to low_noise_model"
    if high is low or getattr(high, "model", high) is getattr(low, "model", low):
        return f"model and low_noise_model are the same loaded model; {fix}."
    found = {name: model_structure(model) for name, model in (("model", high), ("low_noise_model", low))}
    if found["model"] != found["low_noise_model"]:
        differing = [
            key for key, value in asdict(found["model"]).items() if asdict(found["low_noise_model"])[key] != value
        ]
        return (
            f"model is {found['model'].describe()} but low_noise_model is {found['low_noise_model'].describe()} "
            f"(they differ in {', '.join(differing)}); two experts are two files of one model: {fix}."
        )
    if _same_weights(high, low):
        return f"model and low_noise_model hold the same weights (one file loaded twice); {fix}."
    return None
