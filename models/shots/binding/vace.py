"""VACE: every subject and prop view is a reference frame; a start frame or the location plate opens the control
video."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .context import NEUTRAL_GREY, BindContext, FamilyBinding, first_frames, neutral_video, reference_stack, set_values

LOCATION_MODES = ("reference", "first frame", "text only")


def bind(ctx: BindContext, positive: list, negative: list) -> FamilyBinding:
    """WanVaceToVideo's conditioning with every bound view as a reference frame leading the latent."""
    references, labels = reference_stack(ctx)
    first = first_frames(ctx, compose=False)
    control = neutral_video(ctx, first)
    mask = torch.ones((ctx.length, ctx.height, ctx.width, 1))
    if first is not None:
        mask[: first.shape[0]] = 0.0

    control = control - NEUTRAL_GREY
    inactive = ctx.vae.encode(((control * (1 - mask)) + NEUTRAL_GREY)[..., :3])
    reactive = ctx.vae.encode(((control * mask) + NEUTRAL_GREY)[..., :3])
    frames = torch.cat((inactive, reactive), dim=1)
    trim = len(references)
    if references:
        stacked = torch.cat(references, dim=2)
        stacked = torch.cat([stacked, ctx.latent_format.process_out(torch.zeros_like(stacked))], dim=1)
        frames = torch.cat((stacked, frames), dim=2)

    (h, w), stride = ctx.latent_hw, ctx.rules.spatial_stride
    mask = mask.view(ctx.length, h, stride, w, stride).permute(2, 4, 0, 1, 3)
    mask = mask.reshape(stride * stride, ctx.length, h, w)
    mask = F.interpolate(mask[None], size=(ctx.latent_length, h, w), mode="nearest-exact")[0]
    if trim:
        mask = torch.cat((mask.new_zeros((mask.shape[0], trim, *mask.shape[2:])), mask), dim=1)
    values = {"vace_frames": [frames], "vace_mask": [mask[None]], "vace_strength": [ctx.options.vace_strength]}
    return FamilyBinding(
        set_values(positive, values, append=True),
        set_values(negative, values, append=True),
        {"samples": ctx.empty_latent(ctx.latent_length + trim)},
        trim,
        labels,
        first,
    )
