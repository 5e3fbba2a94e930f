"""Wan Fun Camera (2.1 and 2.2): the shot's camera move as a camera path, a start frame and CLIP vision.

The move's words stay in the prompt; the path (camera_path.py) is what the model obeys, and the report shows it.
"""

from __future__ import annotations

import torch

from ...motion.camera_path import camera_embedding, camera_path, move_speed
from ...shared.wan import FRAME_STEP
from .context import BindContext, FamilyBinding, first_frames, set_values
from .image_to_video import clip_values

LOCATION_MODES = ("first frame", "text only")


def bind(ctx: BindContext, positive: list, negative: list) -> FamilyBinding:
    """WanCameraImageToVideo with WanCameraEmbedding's conditioning built from the shot's move, at a speed that
    keeps the move's pace over the clip's duration (move_speed); a long shot's later segment continues the shot's
    path from its own first frame."""
    frames = ctx.clip_start + ctx.length  # a long shot's later segment: the move from the shot's first frame on
    path = camera_path(ctx.shot.camera_move, frames, move_speed(frames, ctx.shot.fps)).from_frame(ctx.clip_start)
    values = {"camera_conditions": camera_embedding(path, ctx.width, ctx.height)}
    first = first_frames(ctx, compose=True)
    if first is not None:
        concat = ctx.latent_format.process_out(ctx.empty_latent(ctx.latent_length))
        encoded = ctx.vae.encode(first[..., :3])
        concat[:, :, : encoded.shape[2]] = encoded[:, :, : concat.shape[2]]
        mask = torch.ones((1, 1, ctx.latent_length * FRAME_STEP, *ctx.latent_hw))
        mask[:, :, : first.shape[0] + FRAME_STEP - 1] = 0.0
        mask = mask.view(1, ctx.latent_length, FRAME_STEP, *ctx.latent_hw).transpose(1, 2)
        values |= {"concat_latent_image": concat, "concat_mask": mask, **clip_values(ctx, first[:1])}
    return FamilyBinding(
        set_values(positive, values),
        set_values(negative, values),
        {"samples": ctx.empty_latent(ctx.latent_length)},
        first=first,
        notes={"camera": path.report()},
    )
