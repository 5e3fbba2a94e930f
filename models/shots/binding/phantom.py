"""Phantom: subject and prop views are subject images; a start frame is held fixed by the noise mask."""

from __future__ import annotations

import torch

from .context import BindContext, FamilyBinding, first_frames, in_context_latent, reference_stack, set_values

LOCATION_MODES = ("text only", "first frame")


def bind(ctx: BindContext, positive: list, negative: list) -> FamilyBinding:
    """WanPhantomSubjectToVideo's three conditionings (the model drops the subject frames itself)."""
    references, labels = reference_stack(ctx)
    negative_text = negative
    if references:
        subjects = torch.cat(references, dim=2)
        positive = set_values(positive, {"time_dim_concat": subjects})
        negative_text = set_values(negative, {"time_dim_concat": subjects})
        blank = ctx.latent_format.process_out(torch.zeros_like(subjects))
        negative = set_values(negative, {"time_dim_concat": blank})
    first = first_frames(ctx, compose=False)
    return FamilyBinding(
        positive, negative, in_context_latent(ctx, [], first), 0, labels, first, negative_text=negative_text
    )
