"""Wan 2.2 Animate: the shot's character, from its reference view, performs a driving clip's pose and face.

Animation puts the character in its own scene; replacement puts it into a live plate where a person was (the
performance's background_video and character_mask). Everything follows WanAnimateToVideo: frames the clip
continues from (a start image, a long shot's context) are its continue_motion, the clips are read from
``video_frame_offset`` less those frames (a later chunk of a long performance), and the character's latent leads
the latent (trimmed after sampling).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ...shared.wan import FRAME_STEP, latent_frame_count
from ...world.preprocess import cover_box
from .context import NEUTRAL_GREY, BindContext, BindingError, FamilyBinding, set_values, sole_subject
from .image_to_video import clip_values
from .performance import Performance, require_clip

LOCATION_MODES = ("text only",)
FACE_SIZE = 512  # the face encoder's input: square face crops at 512 x 512


def cover(frames: torch.Tensor, width: int, height: int, mode: str) -> torch.Tensor:
    """[N, H, W, C] frames centre-cropped to the target's aspect and resized by ``mode``, as ComfyUI's
    common_upscale(..., "center") does."""
    box = cover_box(frames.shape[2], frames.shape[1], width, height)
    planes = frames.movedim(-1, 1)[:, :, box.y0 : box.y1, box.x0 : box.x1]
    return F.interpolate(planes, size=(height, width), mode=mode).movedim(1, -1)


def _performance(ctx: BindContext) -> Performance:
    performance = ctx.inputs.performance
    if performance is None or performance.pose_video is None:
        raise BindingError(
            "A Wan Animate shot needs a driving clip: connect a Shot Performance with pose_video (and face_video) "
            "to Bind Shot's or World Shot Sampler's performance input."
        )
    return performance


def _check_clips(ctx: BindContext, performance: Performance, offset: int) -> None:
    for name in ("pose_video", "face_video", "background_video"):
        video = getattr(performance, name)
        if video is not None:
            require_clip(video, name, offset, ctx.length, ctx.width, ctx.height)
    mask = performance.character_mask
    if mask is not None and mask.shape[0] != 1:
        require_clip(mask[..., None], "character_mask", offset, ctx.length, ctx.width, ctx.height)


def _face(face_video: torch.Tensor, ctx: BindContext, offset: int) -> torch.Tensor:
    """[1, 3, T, 512, 512] in -1..1, the face crops of the clip's frames."""
    face = cover(face_video[offset:][: ctx.length], FACE_SIZE, FACE_SIZE, "area") * 2.0 - 1.0
    return face.movedim(-1, 1).movedim(0, 1).unsqueeze(0)


def _mask_of_character(mask: torch.Tensor, ctx: BindContext, offset: int) -> torch.Tensor:
    """[1, 1, T, h, w] at latent size: one mask for every frame, or the clip's masks from ``offset``."""
    mask = mask.repeat((ctx.length, 1, 1)) if mask.shape[0] == 1 else mask[offset:]
    height, width = ctx.latent_hw
    resized = cover(mask[: ctx.length, :, :, None], width, height, "nearest-exact")[..., 0]
    return resized[None, None]


def bind(ctx: BindContext, positive: list, negative: list) -> FamilyBinding:
    """WanAnimateToVideo for the shot's one subject, the performance's clips and the frames it continues from."""
    performance, (name, view) = _performance(ctx), sole_subject(ctx, "Wan Animate")
    continued, offset = ctx.inputs.start_image, ctx.clip_start
    _check_clips(ctx, performance, offset)
    character = cover(view, ctx.width, ctx.height, "area")
    character_latent = ctx.vae.encode(character)
    video = torch.ones((ctx.length, ctx.height, ctx.width, 3)) * NEUTRAL_GREY
    motion_frames = motion_latents = 0
    if continued is not None:
        continued = cover(continued[-ctx.length :], ctx.width, ctx.height, "area")
        video = video.to(continued.dtype)
        video[: continued.shape[0]] = continued[..., :3]
        motion_latents = latent_frame_count(continued.shape[0])
        motion_frames = max(0, motion_latents * FRAME_STEP - 3)
    values = clip_values(ctx, character)
    pose = cover(performance.pose_video[offset:][: ctx.length], ctx.width, ctx.height, "area")
    values["pose_video_latent"] = ctx.vae.encode(pose[..., :3])
    positive, negative = set_values(positive, values), set_values(negative, values)
    if performance.face_video is not None:
        face = _face(performance.face_video, ctx, offset)
        positive = set_values(positive, {"face_video_pixels": face})
        negative = set_values(negative, {"face_video_pixels": face * 0.0 - 1.0})

    generate = torch.ones((1, 1, ctx.latent_length * FRAME_STEP, *ctx.latent_hw))
    generate[:, :, : motion_latents * FRAME_STEP] = 0.0
    if performance.background_video is not None:
        plate = cover(performance.background_video[offset:][: ctx.length], ctx.width, ctx.height, "area")
        video[motion_frames:] = plate[motion_frames:, ..., :3]
        where = _mask_of_character(performance.character_mask, ctx, offset)
        generate[:, :, motion_frames : ctx.length] = where[:, :, motion_frames:]
    concat = torch.cat((character_latent, ctx.vae.encode(video)), dim=2)
    generate = generate.view(1, ctx.latent_length, FRAME_STEP, *ctx.latent_hw).transpose(1, 2)
    mask = torch.cat((generate.new_zeros((1, FRAME_STEP, character_latent.shape[2], *ctx.latent_hw)), generate), 2)
    positive = set_values(positive, {"concat_latent_image": concat, "concat_mask": mask})
    negative = set_values(negative, {"concat_latent_image": concat, "concat_mask": mask})
    trim = character_latent.shape[2]
    notes = {
        "animate": {
            "mode": performance.mode,
            "character": name,
            "clip_start": offset,
            "continue_motion_frames": 0 if continued is None else int(continued.shape[0]),
            "trim_image": motion_frames,
            "video_frame_offset": offset + ctx.length,  # the next chunk's, as the native node outputs it
        }
    }
    latent = {"samples": ctx.empty_latent(ctx.latent_length + trim)}
    return FamilyBinding(positive, negative, latent, trim, (name,), continued, notes=notes)
