"""Text-to-video: reference latents lead the latent as in-context frames, held by the noise mask and trimmed."""

from __future__ import annotations

from .context import BindContext, FamilyBinding, first_frames, in_context_latent, reference_stack

LOCATION_MODES = ("reference", "first frame", "text only")


def bind(ctx: BindContext, positive: list, negative: list) -> FamilyBinding:
    references, labels = reference_stack(ctx)
    first = first_frames(ctx, compose=False)
    return FamilyBinding(positive, negative, in_context_latent(ctx, references, first), len(references), labels, first)
