"""Wan 2.2 S2V: the shot's character, from its reference view, speaks or sings to a voice.

Everything follows WanSoundImageToVideo: wav2vec2's hidden states (all 25 layers of 1024) are resampled from 50 to
30 a second and sampled at 16 frames a second, four per latent frame, from the clip's frame offset; the character's
view, centre-cropped, is the reference latent; a pose video, when given, is the control video. Frames the clip
continues from (a start image) are its motion: their last 73, grey before them, encoded, the last 19 latent frames.
A long shot chains segments as WanSoundImageToVideoExtend does: the shot's latent so far is the motion (its last 19
latent frames) and says where in the voice the segment starts (4 frames per latent frame). Given with it, a start
image is the frames the segment shares with the one before (World Shot Sampler's overlap): not sampled again, they
are the last latent frames so far decoded before the segment's own. A voice shorter than the shot leaves the frames
after it silent, as the native node does; the report says how long it lasts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from ...shared.wan import FRAME_STEP, latent_frame_count
from .animate import cover
from .context import NEUTRAL_GREY, BindContext, BindingError, FamilyBinding, set_values, sole_subject
from .humo import resample
from .performance import WAV2VEC2, require_clip

LOCATION_MODES = ("text only",)
AUDIO_FPS = 50  # wav2vec2's hidden states per second
AUDIO_RATE = 30  # the rate WanSoundImageToVideo resamples them to (its video_rate)
FPS = 16  # the rate it samples them at, one per frame
MOTION_FRAMES = 73  # the frames a start image's motion is read from (grey before them)
MOTION_LATENTS = 19  # the latent frames of motion the model packs


def sample_indices(total: int, count: int) -> np.ndarray:
    """The native get_sample_indices from the start: ``count`` samples at FPS of ``total`` at AUDIO_RATE."""
    times = np.linspace(0.0, count / FPS, count, endpoint=False)
    return np.clip(np.round(np.array(times) * AUDIO_RATE).astype(int), 0, total - 1)


def audio_buckets(features: torch.Tensor, batch_frames: int) -> tuple[torch.Tensor, int]:
    """[1, layers, width, buckets]: the native get_audio_embed_bucket_fps (one sample per frame): whole clips of
    ``batch_frames`` covering the voice, silence past its end; and how many frames the voice lasts."""
    layers, count, width = features.shape
    clips = int(count / (batch_frames * (AUDIO_RATE / FPS))) + 1
    indices = sample_indices(math.ceil(clips * batch_frames / FPS * AUDIO_RATE), clips * batch_frames)
    heard = indices < count
    # the native node stacks float32 silence with the features, which promotes them when any is silent
    dtype = features.dtype if heard.all() else torch.promote_types(features.dtype, torch.float32)
    buckets = torch.zeros((len(indices), layers, width), dtype=dtype, device=features.device)
    buckets[torch.from_numpy(heard)] = features[:, torch.from_numpy(indices[heard])].movedim(1, 0).to(dtype)
    return buckets.permute(1, 2, 0)[None], int(heard.sum())


def voice_window(features: torch.Tensor, offset: int, latent_frames: int) -> tuple[torch.Tensor, int]:
    """[1, 25, 1024, frames]: the voice at the clip's frames from ``offset`` (empty once past the voice); and how
    many frames the whole voice lasts."""
    batch_frames = latent_frames * FRAME_STEP
    buckets, voice_frames = audio_buckets(resample(features, AUDIO_FPS, AUDIO_RATE), batch_frames)
    return buckets[:, :, :, offset : offset + batch_frames], voice_frames


def motion_from_frames(ctx: BindContext, frames: torch.Tensor) -> torch.Tensor:
    """The native ref_motion: the last MOTION_FRAMES frames resized, grey before them, encoded."""
    frames = cover(frames[-MOTION_FRAMES:], ctx.width, ctx.height, "bilinear")
    padded = torch.ones([MOTION_FRAMES, ctx.height, ctx.width, 3]) * NEUTRAL_GREY
    padded[-frames.shape[0] :] = frames[..., :3]
    return ctx.vae.encode(padded)


def require_latent_so_far(ctx: BindContext, latent: torch.Tensor) -> None:
    """The shot's latent so far is a video latent of the shot's size and the model's channels."""
    expected = (ctx.rules.latent_channels, *ctx.latent_hw)
    if latent.ndim != 5 or (latent.shape[1], *latent.shape[3:]) != expected:
        raise BindingError(
            f"video_latent has shape {tuple(latent.shape)}; expected the shot's sampled video latent [batch, "
            f"{expected[0]}, frames, {expected[1]}, {expected[2]}]: KSampler's output for the segments before this "
            "one (joined with LatentConcat on t), at the shot's size."
        )


def _motion(ctx: BindContext) -> tuple[torch.Tensor | None, int, str | None]:
    """The motion latent, the voice frame the clip starts at, and where the motion came from."""
    so_far = ctx.inputs.video_latent
    if so_far is not None:
        require_latent_so_far(ctx, so_far)
        return so_far[:, :, -MOTION_LATENTS:], so_far.shape[2] * FRAME_STEP, "video_latent"
    if ctx.inputs.start_image is not None:
        return motion_from_frames(ctx, ctx.inputs.start_image)[:, :, -MOTION_LATENTS:], 0, "start_image"
    return None, 0, None


def _clip(ctx: BindContext) -> tuple[int, torch.Tensor | None]:
    """The frames the segment samples (the native node's length) and the latent frames so far it re-renders first:
    with the shot's latent so far, a start image of 4k+1 frames is its overlap with the segment before."""
    so_far, overlap = ctx.inputs.video_latent, ctx.inputs.start_image
    if so_far is None or overlap is None:
        return ctx.length, None
    count, lead = overlap.shape[0], (overlap.shape[0] + 3) // FRAME_STEP
    if count % FRAME_STEP != 1 or count >= ctx.length or lead > so_far.shape[2]:
        raise BindingError(
            f"A long Wan S2V shot continues from its latent so far, so a segment shares 4k+1 frames with the one "
            f"before (5, 9, 13, ...; fewer than its {ctx.length} and than those sampled), not {count}; set "
            "overlap_frames to 5 or 9."
        )
    return ctx.length - count - 3, so_far[:, :, -lead:]


def _voice(ctx: BindContext) -> Mapping[str, Any]:
    performance = ctx.inputs.performance
    if performance is None or performance.audio is None:
        raise BindingError(
            "A Wan S2V shot needs a voice to speak or sing to: connect a Shot Performance with audio to Bind Shot's "
            f"or World Shot Sampler's performance input ({WAV2VEC2.fix})."
        )
    return performance.audio


def _control_video(ctx: BindContext, latent: torch.Tensor, offset: int, frames: int) -> torch.Tensor:
    """The pose video's latent over the clip's ``frames`` from ``offset``; without one, what the native node gives
    (zeros in the model's latent space)."""
    control = ctx.latent_format.process_out(torch.zeros_like(latent))
    pose = ctx.inputs.performance.pose_video
    if pose is not None:
        require_clip(pose, "pose_video", offset, frames, ctx.width, ctx.height)
        encoded = ctx.vae.encode(cover(pose[offset:][:frames], ctx.width, ctx.height, "bilinear")[..., :3])
        control[:, :, : encoded.shape[2]] = encoded
    return control


def bind(ctx: BindContext, positive: list, negative: list) -> FamilyBinding:
    """WanSoundImageToVideo (or, with the shot's latent so far, WanSoundImageToVideoExtend) for the shot's one
    subject, the performance's voice and, when given, its pose video."""
    features = torch.cat(list(_voice(ctx)["encoded_audio_all_layers"]))  # bind_shot checked it is wav2vec2's
    name, view = sole_subject(ctx, "Wan S2V")
    motion, offset, motion_source = _motion(ctx)
    frames, lead = _clip(ctx)
    voice, voice_frames = voice_window(features, offset, latent_frame_count(frames))
    if voice.shape[3] > 0:
        positive = set_values(positive, {"audio_embed": voice})
        negative = set_values(negative, {"audio_embed": voice * 0.0})
    reference = ctx.vae.encode(cover(view, ctx.width, ctx.height, "bilinear")[..., :3])
    positive = set_values(positive, {"reference_latents": [reference]}, append=True)
    negative = set_values(negative, {"reference_latents": [reference]}, append=True)
    if motion is not None:
        positive = set_values(positive, {"reference_motion": motion})
        negative = set_values(negative, {"reference_motion": motion})
    latent = ctx.empty_latent(latent_frame_count(frames))
    control = _control_video(ctx, latent, offset, frames)
    positive = set_values(positive, {"control_video": control})
    negative = set_values(negative, {"control_video": control})
    notes = {
        "s2v": {
            "character": name,
            "audio_frame_offset": offset,
            "audio": "voice" if voice.shape[3] > 0 else "past the voice",
            "voice_frames": voice_frames,
            "motion": motion_source,
            "pose_video": ctx.inputs.performance.pose_video is not None,
            "overlap_latent_frames": 0 if lead is None else int(lead.shape[2]),
        }
    }
    return FamilyBinding(positive, negative, {"samples": latent}, 0, (name,), None, notes=notes, lead_latent=lead)
