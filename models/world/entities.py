"""World and reference data types: named entities with their views, masks and cached encodings."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import torch

ENTITY_KINDS = ("character", "object", "location", "style")
SUBJECT_KINDS = ("character", "object")


class DuplicateEntityError(ValueError):
    """Two references in one world share a name."""


class MissingEntityError(LookupError, ValueError):
    """Names were asked of a world that does not hold them; the message lists the entities it has."""


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

    def matches(self, vae_identity: str, width: int, height: int) -> bool:
        return (self.vae_identity, self.width, self.height) == (vae_identity, width, height)


@dataclass
class Reference:
    """One named entity: preprocessed views of it, optional masks, and encodings made from them.

    ``preprocess`` records the settings the views were made with (JSON-safe), so caches and the
    library can tell two preparations of the same photo apart.
    """

    name: str
    kind: str
    description: str
    views: torch.Tensor  # [V, H, W, 3] float 0..1, preprocessed
    masks: torch.Tensor | None = None  # [V, H, W] float 0..1, subject = 1
    source_hash: str = ""
    encodings: list[Encoding] = field(default_factory=list)
    preprocess: dict = field(default_factory=dict)

    @property
    def view_count(self) -> int:
        return int(self.views.shape[0])

    @property
    def is_subject(self) -> bool:
        """Characters and objects are cut out of their photo; locations and styles stay full-frame."""
        return self.kind in SUBJECT_KINDS

    @property
    def background(self) -> tuple[float, float, float]:
        """The plain colour subjects were padded with (white unless the preprocessing chose another)."""
        return tuple(self.preprocess.get("background", (1.0, 1.0, 1.0)))

    def encoding_for(self, vae_identity: str, width: int, height: int) -> Encoding | None:
        """The encoding made by this VAE at this frame size, if the reference carries one."""
        return next((e for e in self.encodings if e.matches(vae_identity, width, height)), None)

    def with_encoding(self, encoding: Encoding) -> Reference:
        """A copy holding ``encoding`` in place of any earlier one for the same VAE and frame size."""
        kept = [e for e in self.encodings if not e.matches(encoding.vae_identity, encoding.width, encoding.height)]
        return replace(self, encodings=[*kept, encoding])

    def without_encodings(self) -> Reference:
        return replace(self, encodings=[])


@dataclass
class World:
    """An ordered set of references, unique by name."""

    references: dict[str, Reference] = field(default_factory=dict)

    @classmethod
    def from_labelled(cls, labelled: Iterable[tuple[str, Reference]]) -> World:
        """Build a world from (input label, reference) pairs; a repeated name names both inputs."""
        references: dict[str, Reference] = {}
        labels: dict[str, str] = {}
        for label, reference in labelled:
            if reference.name in references:
                raise DuplicateEntityError(
                    f"'{labels[reference.name]}' and '{label}' are both named '{reference.name}'. "
                    "Names must be unique within a world: rename one of the references."
                )
            references[reference.name] = reference
            labels[reference.name] = label
        return cls(references)

    def names(self) -> list[str]:
        return list(self.references)

    def get(self, name: str) -> Reference:
        """The named reference, or an error listing the names the world holds."""
        return self.require([name])[0]

    def require(self, names: Iterable[str], where: str = "") -> list[Reference]:
        """The named references in order; the one error for names the world lacks, prefixed by `where`."""
        names = list(names)
        missing = [name for name in names if name not in self.references]
        if missing:
            available = ", ".join(f"'{n}' ({r.kind})" for n, r in self.references.items()) or "none"
            prefix = f"{where}: " if where else ""
            raise MissingEntityError(
                f"{prefix}the world has no entity named {', '.join(map(repr, missing))}. "
                f"Entities in this world: {available}."
            )
        return [self.references[name] for name in names]

    def with_reference(self, reference: Reference, replace_existing: bool = False) -> World:
        """A copy with ``reference`` added at the end (or in place of a same-named one when allowed)."""
        if reference.name in self.references and not replace_existing:
            raise DuplicateEntityError(
                f"The world already holds an entity named '{reference.name}'. Rename the new reference, "
                "or allow replacing the existing one."
            )
        return World({**self.references, reference.name: reference})

    def map(self, transform) -> World:
        """A copy with every reference passed through ``transform`` (order kept)."""
        return World({name: transform(reference) for name, reference in self.references.items()})

    def __len__(self) -> int:
        return len(self.references)
