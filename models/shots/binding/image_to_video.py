"""Image-to-video families (I2V, first-last-frame, ATI, Wan-Move): a start frame, CLIP vision, and tracks.

The start frame is the given start image, or the location plate with the shot's subjects composed on it.
"""

from __future__ import annotations

from typing import Any

import torch

from ...motion.formats import ati_times
from ...shared.wan import FRAME_STEP
from .context import (
    BindContext,
    BindingError,
    FamilyBinding,
    cover_frames,
    first_frames,
    neutral_video,
    set_values,
    start_mask,
)

LOCATION_MODES = ("first frame", "text only")


def _start(ctx: BindContext, family: str) -> torch.Tensor:
    first = first_frames(ctx, compose=True)
    if first is None:
        raise BindingError(
            f"A {family} model needs a start frame: connect a start IMAGE, or bind a location "
            "(role 'location', location_as 'first frame') or subjects to compose one from."
        )
    return first


def _clip_vision(ctx: BindContext, image: torch.Tensor) -> Any:
    return ctx.inputs.clip_vision.encode_image(image, crop=ctx.options.clip_vision_crop)


def _finish(ctx: BindContext, positive: list, negative: list, values: dict, first: torch.Tensor, clip: dict):
    """Conditioning values and CLIP vision set on both sides; the latent is plain noise of the clip's length."""
    positive, negative = set_values(positive, {**values, **clip}), set_values(negative, {**values, **clip})
    return FamilyBinding(positive, negative, {"samples": ctx.empty_latent(ctx.latent_length)}, first=first)


def clip_values(ctx: BindContext, image: torch.Tensor) -> dict[str, Any]:
    return {} if ctx.inputs.clip_vision is None else {"clip_vision_output": _clip_vision(ctx, image)}


def bind_i2v(ctx: BindContext, positive: list, negative: list) -> FamilyBinding:
    """WanImageToVideo: the start frames encoded over grey, masked where given."""
    first = _start(ctx, "i2v")
    concat = ctx.vae.encode(neutral_video(ctx, first))
    values = {"concat_latent_image": concat, "concat_mask": start_mask(ctx, first)}
    return _finish(ctx, positive, negative, values, first, clip_values(ctx, first[:1]))


def bind_flf(ctx: BindContext, positive: list, negative: list) -> FamilyBinding:
    """WanFirstLastFrameToVideo: start frames, and the end image's frames at the clip's end."""
    first = _start(ctx, "flf")
    image = neutral_video(ctx, None)
    mask = torch.ones((1, 1, ctx.latent_length * FRAME_STEP, *ctx.latent_hw))
    image[: first.shape[0]] = first[..., :3]
    mask[:, :, : first.shape[0] + 3] = 0.0
    last = None
    if ctx.inputs.end_image is not None:
        last = cover_frames(ctx.inputs.end_image[-ctx.length :], ctx.width, ctx.height)
        image[-last.shape[0] :] = last[..., :3]
        mask[:, :, -last.shape[0] :] = 0.0
    concat = ctx.vae.encode(image)
    mask = mask.view(1, ctx.latent_length, FRAME_STEP, *ctx.latent_hw).transpose(1, 2)
    clip = clip_values(ctx, first[:1])
    if clip and last is not None:
        start_output, end_output = clip["clip_vision_output"], _clip_vision(ctx, last[-1:])
        combined = type(start_output)()
        combined.penultimate_hidden_states = torch.cat(
            [start_output.penultimate_hidden_states, end_output.penultimate_hidden_states], dim=-2
        )
        clip = {"clip_vision_output": combined}
    return _finish(ctx, positive, negative, {"concat_latent_image": concat, "concat_mask": mask}, first, clip)


def _tracks(ctx: BindContext, family: str):
    if ctx.inputs.tracks is None:
        raise BindingError(f"An {family} shot needs tracks: connect TRACKS or ATI track JSON, or bind as i2v.")
    if ctx.inputs.track_maths is None:
        raise BindingError(f"Binding {family} needs ComfyUI's track maths (track_maths); Bind Shot passes it.")
    return ctx.inputs.tracks, ctx.inputs.track_maths


def bind_ati(ctx: BindContext, positive: list, negative: list) -> FamilyBinding:
    """WanTrackToVideo: the tracks at ATI's 121 ticks patch the start frame's latent along their paths."""
    tracks, maths = _tracks(ctx, "ati")
    first = _start(ctx, "ati")
    start_latent = ctx.latent_format.process_in(ctx.vae.encode(neutral_video(ctx, first[:1])))
    samples = tracks.ati_samples(ati_times(ctx.length))
    mask, patched = maths.ati(
        samples, start_latent, ctx.width, ctx.height, ctx.length, ctx.options.ati_temperature, ctx.options.ati_topk
    )
    values = {"concat_mask": -mask + 1.0, "concat_latent_image": ctx.latent_format.process_out(patched)}
    return _finish(ctx, positive, negative, values, first, clip_values(ctx, first[:1]))


def bind_wan_move(ctx: BindContext, positive: list, negative: list) -> FamilyBinding:
    """WanMoveTrackToVideo: per-frame tracks move the start latent's features (positive side only)."""
    tracks, maths = _tracks(ctx, "wan_move")
    first = _start(ctx, "wan_move")
    concat = ctx.vae.encode(neutral_video(ctx, first))
    mask = start_mask(ctx, first)
    moved = concat
    if ctx.options.track_strength > 0.0:
        # Like WanMoveTrackToVideo, the negative keeps the same latent object the track maths patched.
        per_frame = tracks.at_frames(ctx.length).to_tracks_dict()
        moved = maths.wan_move(per_frame, concat, ctx.width, ctx.height, ctx.length, ctx.options.track_strength)
    clip = clip_values(ctx, first[:1])
    positive = set_values(positive, {"concat_latent_image": moved, "concat_mask": mask, **clip})
    negative = set_values(negative, {"concat_latent_image": concat, "concat_mask": mask, **clip})
    return FamilyBinding(positive, negative, {"samples": ctx.empty_latent(ctx.latent_length)}, first=first)
