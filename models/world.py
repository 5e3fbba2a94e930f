"""World and reference data types: named entities with their views, masks and cached encodings."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

ENTITY_KINDS = ("character", "object", "location", "style")


@dataclass
class Encoding:
    """Model-specific encodings of a reference's views, tagged with the model that made them."""

    vae_identity: str
    width: int
    height: int
    latents: torch.Tensor  # [V, C, 1, h, w] one latent frame per view
    clip_identity: str | None = None
    clip_penultimate: torch.Tensor | None = None  # [V, tokens, dim]
    clip_embeds: torch.Tensor | None = None  # [V, dim] pooled image embeddings


@dataclass
class Reference:
    """One named entity: preprocessed views of it, optional masks, and encodings made from them."""

    name: str
    kind: str
    description: str
    views: torch.Tensor  # [V, H, W, 3] float 0..1, preprocessed
    masks: torch.Tensor | None = None  # [V, H, W] float 0..1, subject = 1
    source_hash: str = ""
    encodings: list[Encoding] = field(default_factory=list)


@dataclass
class World:
    """An ordered set of references, unique by name."""

    references: dict[str, Reference] = field(default_factory=dict)
