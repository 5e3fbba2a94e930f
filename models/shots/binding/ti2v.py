"""Wan 2.2 TI2V-5B: text-to-video, or image-to-video from a start frame held in the latent by its noise mask.

The start frame is the given start image, or the location plate (with the shot's subjects placed on it);
without either the shot is text-to-video. The latent follows Wan22ImageToVideoLatent's rule.
"""

from __future__ import annotations

import torch

from .context import BindContext, FamilyBinding, first_frames

LOCATION_MODES = ("first frame", "text only")


def bind(ctx: BindContext, positive: list, negative: list) -> FamilyBinding:
    """Wan22ImageToVideoLatent: the start frames' latents lead a latent whose other frames hold the latent
    format's mean, and the noise mask keeps the start frames (0) while the rest is sampled (1)."""
    plate = ctx.location_as == "first frame" and bool(ctx.shot.names_with_role("location"))
    first = first_frames(ctx, compose=plate)
    latent = ctx.empty_latent(ctx.latent_length)
    if first is None:
        return FamilyBinding(positive, negative, {"samples": latent})
    encoded = ctx.vae.encode(first[..., :3])
    held = encoded.shape[2]
    latent[:, :, :held] = encoded
    mask = torch.ones((1, 1, ctx.latent_length, *ctx.latent_hw))
    mask[:, :, :held] = 0.0
    samples = ctx.latent_format.process_out(latent) * mask + latent * (1.0 - mask)
    return FamilyBinding(positive, negative, {"samples": samples, "noise_mask": mask}, first=first)
