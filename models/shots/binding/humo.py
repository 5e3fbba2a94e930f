"""HuMo: the shot's characters (and props) are HuMo's reference images; a voice, when given, is its audio.

HuMo reads one reference latent (the last of reference_latents); several references are its frames, one per view,
as HuMo encodes several reference images. Its audio windows follow WanHuMoImageToVideo: Whisper's 33 hidden
states grouped into 5 bands, resampled from 50 to 25 frames a second, 8 audio frames around each latent frame.
A start frame (a long shot's context) is held by the noise mask, as Phantom's is; a long shot's later segment
hears the voice from its own first frame on (audio frame i is video frame i at HuMo's 25 fps). A voice shorter
than the shot leaves the frames after it silent, as the native node does; the report says how long it lasts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F

from ...shared.wan import FRAME_STEP, latent_frame_count
from .context import BindContext, FamilyBinding, first_frames, in_context_latent, reference_stack, set_values
from .performance import ENCODER_RATE, WHISPER

LOCATION_MODES = ("text only", "first frame", "reference")
AUDIO_FPS = 50  # Whisper's hidden states per second
VIDEO_FPS = 25  # HuMo's frame rate, which its audio windows count in
SAMPLES_PER_FRAME = ENCODER_RATE // VIDEO_FPS  # audio samples per HuMo video frame: 640
LAYER_BANDS = ((0, 8), (8, 16), (16, 24), (24, 32))  # Whisper layers averaged into one band each; layer 32 alone
WINDOW = 8  # audio frames per latent frame
SHIFT = 2  # audio frames each window reaches past its latent frame on either side
LEADING_ZEROS = 3  # the first latent frame's window opens with silence
AUDIO_BANDS = len(LAYER_BANDS) + 1  # the bands above, each as wide as a Whisper hidden state (WHISPER.width)


def resample(features: torch.Tensor, input_fps: int = AUDIO_FPS, output_fps: int = VIDEO_FPS) -> torch.Tensor:
    """[N, T, C] at ``input_fps`` to ``output_fps`` by linear interpolation (corners aligned), as ComfyUI's Wan audio
    nodes resample an audio encoder's hidden states."""
    features = features.transpose(1, 2)
    length = int(features.shape[2] / float(input_fps) * output_fps)
    return F.interpolate(features, size=length, align_corners=True, mode="linear").transpose(1, 2)


def audio_frames(audio: Mapping[str, Any]) -> torch.Tensor:
    """[T, 5, 1280]: the voice at HuMo's 25 frames a second, in its five layer bands."""
    layers = torch.stack(list(audio["encoded_audio_all_layers"]), dim=2)
    layers = layers[:, : audio["audio_samples"] // SAMPLES_PER_FRAME * 2]
    bands = [layers[:, :, low:high].mean(dim=2) for low, high in LAYER_BANDS] + [layers[:, :, LAYER_BANDS[-1][1]]]
    return torch.stack([resample(band) for band in bands], dim=2)[0]


def audio_windows(frames: torch.Tensor, length: int, first: int = 0) -> torch.Tensor:
    """[1, latent frames, 8, 5, 1280]: the audio frames around each latent frame of a clip of ``length`` frames
    whose first frame is video frame ``first`` (silence outside the voice)."""
    silence = frames.new_zeros(frames.shape[1:])

    def take(start: int, end: int) -> torch.Tensor:
        return torch.stack(
            [frames[i] if 0 <= i < frames.shape[0] else silence for i in range(start + first, end + first)]
        )

    windows = [
        torch.cat((frames.new_zeros((LEADING_ZEROS, *frames.shape[1:])), take(-SHIFT, WINDOW - LEADING_ZEROS - SHIFT)))
    ]
    for index in range(1, latent_frame_count(length)):
        start = 1 + FRAME_STEP * (index - 1)
        windows.append(take(start - SHIFT, start + FRAME_STEP + SHIFT))
    return torch.stack(windows)[None]


def bind(ctx: BindContext, positive: list, negative: list) -> FamilyBinding:
    """WanHuMoImageToVideo with every bound view as a frame of the reference latent, and the performance's voice.

    Without a voice the audio is silence over the clip's latent frames; the model pads it for the reference frames
    itself. (WanHuMoImageToVideo in ComfyUI v0.8.0 gives one frame more, which the model cannot reshape once it
    has padded for the reference, so its silent shots fail; these run, with one reference or several.)"""
    references, labels = reference_stack(ctx)
    reference = torch.cat(references, dim=2) if references else ctx.empty_latent(1)
    blank = torch.zeros_like(reference) if references else reference
    positive = set_values(positive, {"reference_latents": [reference]}, append=True)
    negative = set_values(negative, {"reference_latents": [blank]}, append=True)
    audio = None if ctx.inputs.performance is None else ctx.inputs.performance.audio
    notes: dict[str, Any] = {"audio": "silent"}
    if audio is not None:
        frames = audio_frames(audio)
        voice = audio_windows(frames, ctx.length, ctx.clip_start)
        heard = ctx.clip_start - SHIFT < frames.shape[0]  # the first window reaches SHIFT frames back
        notes = {
            "audio": "voice" if heard else "past the voice",
            "audio_from_frame": ctx.clip_start,
            "voice_frames": frames.shape[0],
        }
        positive = set_values(positive, {"audio_embed": voice})
        negative = set_values(negative, {"audio_embed": torch.zeros_like(voice)})
    else:
        silence = torch.zeros([1, ctx.latent_length, WINDOW, AUDIO_BANDS, WHISPER.width])
        positive, negative = (
            set_values(positive, {"audio_embed": silence}),
            set_values(negative, {"audio_embed": silence}),
        )
    first = first_frames(ctx, compose=False)
    return FamilyBinding(positive, negative, in_context_latent(ctx, [], first), 0, labels, first, notes=notes)
