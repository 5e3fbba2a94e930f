"""What makes a character perform beyond the shot's words: a voice and a driving clip.

A Performance carries core's audio encoder output (HuMo, S2V: the character speaks or sings to it) and a driving
clip's pose and face videos (Wan Animate), with, for replacement, the live plate and the character's mask in it.
It travels from the Shot Performance node to Bind Shot and World Shot Sampler; the clips are checked against the
shot they drive here, and the voice against the audio encoder the shot's family listens through, so every error
names the input and what would work.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch

from ...shared.pixels import require_pixels

ASPECT_TOLERANCE = 0.02  # a clip may differ from the frame's aspect by 2 % (a pixel or two of rounding)
AUDIO_KEYS = ("encoded_audio_all_layers", "audio_samples")
ENCODER_RATE = 16000  # Hz: Audio Encoder Encode resamples any audio to it, and audio_samples counts at it
MIN_HIDDEN_STATES = 2  # the fewest that resample to one frame (Wan's audio nodes resample 50 a second to 25 or 30)


@dataclass(frozen=True)
class AudioEncoder:
    """An audio encoder as Audio Encoder Encode's output shows it (its hidden states and their width) and the file
    that loads it. Audio Encoder Encode resamples any audio to ENCODER_RATE first, so a voice's sample rate is that
    whatever the audio file's was."""

    name: str
    layers: int  # hidden states in encoded_audio_all_layers: every transformer layer and the input to the first
    width: int
    file: str  # in ComfyUI's models/audio_encoders

    @property
    def fix(self) -> str:
        return (
            f"load {self.file} with Load Audio Encoder and connect Audio Encoder Encode's output to Shot "
            "Performance's audio"
        )


@dataclass(frozen=True)
class Listening:
    """How a family hears a voice: through one audio encoder, one audio window a video frame at ``fps``."""

    encoder: AudioEncoder
    fps: int


WHISPER = AudioEncoder("Whisper large v3", 33, 1280, "whisper_large_v3_fp16.safetensors")  # HuMo's
WAV2VEC2 = AudioEncoder("wav2vec2 large", 25, 1024, "wav2vec2_large_english_fp16.safetensors")  # Wan S2V's
AUDIO_ENCODERS = (WHISPER, WAV2VEC2)


class PerformanceError(ValueError):
    """A voice or driving clip that cannot drive the shot; the message names the input and the fix."""


@dataclass(frozen=True)
class Performance:
    """A voice (AUDIO_ENCODER_OUTPUT) and a driving clip (IMAGE batches, MASK); any part may be missing."""

    audio: Mapping[str, Any] | None = None
    pose_video: torch.Tensor | None = None
    face_video: torch.Tensor | None = None
    background_video: torch.Tensor | None = None
    character_mask: torch.Tensor | None = None

    def __post_init__(self) -> None:
        for name in ("pose_video", "face_video", "background_video"):
            video = getattr(self, name)
            if video is not None:
                require_pixels(video, name)
                if video.ndim != 4 or video.shape[-1] < 3:
                    raise PerformanceError(
                        f"{name} has shape {tuple(video.shape)}; expected IMAGE frames [frames, height, width, 3]."
                    )
        if self.character_mask is not None:
            require_pixels(self.character_mask, "character_mask")
            if self.character_mask.ndim != 3:
                raise PerformanceError(
                    f"character_mask has shape {tuple(self.character_mask.shape)}; expected a MASK "
                    "[frames, height, width]."
                )
        if (self.background_video is None) != (self.character_mask is None):
            given, missing = (
                ("background_video", "character_mask")
                if self.character_mask is None
                else ("character_mask", "background_video")
            )
            raise PerformanceError(
                f"{given} is connected without {missing}: replacement needs both the live plate and the mask of "
                f"the person the character replaces; connect {missing}, or disconnect {given} for animation."
            )
        if self.audio is not None and any(key not in self.audio for key in AUDIO_KEYS):
            raise PerformanceError(
                "audio is not an audio encoder output (it lacks encoded_audio_all_layers / audio_samples); connect "
                f"Audio Encoder Encode's output ({WHISPER.name} for HuMo, {WAV2VEC2.name} for Wan S2V)."
            )

    @property
    def mode(self) -> str:
        """ "replacement" when a live plate and the character's mask are given, else "animation"."""
        return "replacement" if self.background_video is not None else "animation"


def require_clip(video: torch.Tensor, name: str, start: int, length: int, width: int, height: int) -> None:
    """A driving clip covers the shot's frames from ``start`` and has the frame's aspect (face crops: square)."""
    if video.shape[0] < start + length:
        raise PerformanceError(
            f"{name} has {video.shape[0]} frames but the shot needs {start + length} (frames {start} to "
            f"{start + length - 1}); give a clip at least that long, or shorten the shot."
        )
    clip_height, clip_width = video.shape[1:3]
    square = name == "face_video"
    aspect, wanted = clip_width / clip_height, 1.0 if square else width / height
    if abs(aspect / wanted - 1.0) > ASPECT_TOLERANCE:
        shape = "square face crops" if square else f"the shot's {width}x{height} aspect"
        raise PerformanceError(
            f"{name} is {clip_width}x{clip_height} but must have {shape}; its centre would be cropped and the "
            f"{'face' if square else 'motion'} would no longer line up. Crop or pad it to that shape first."
        )


def require_voice(audio: Mapping[str, Any], listening: Listening, family: str, shot_fps: int) -> None:
    """A voice the shot's ``family`` can hear: its encoder's output, at least a frame long, for a shot at the rate
    the family hears it at."""
    _require_encoder(audio, listening.encoder, family)
    _require_length(audio, listening.fps, family)
    _require_rate(shot_fps, listening.fps, family)


def _require_encoder(audio: Mapping[str, Any], encoder: AudioEncoder, family: str) -> None:
    """Another encoder's hidden states (their count and width) would be misread: refused naming the file to load."""
    layers = list(audio["encoded_audio_all_layers"])
    found = (len(layers), int(layers[0].shape[-1]) if layers else 0)
    if found != (encoder.layers, encoder.width):
        known = [other.name for other in AUDIO_ENCODERS if (other.layers, other.width) == found]
        what = f"a {known[0]} encoder's output" if known else "an audio encoder output"
        raise PerformanceError(
            f"The performance's audio is {what} ({found[0]} layers of {found[1]} features), but the shot binds as "
            f"{family}, which listens through {encoder.name} ({encoder.layers} layers of {encoder.width}); "
            f"{encoder.fix}."
        )


def _require_length(audio: Mapping[str, Any], fps: int, family: str) -> None:
    """A voice shorter than one frame has no audio window to give (the resampling to frames would be empty)."""
    samples, hidden = int(audio["audio_samples"]), int(audio["encoded_audio_all_layers"][0].shape[1])
    if samples * fps < ENCODER_RATE or hidden < MIN_HIDDEN_STATES:
        raise PerformanceError(
            f"Shot Performance's audio lasts {1000 * samples / ENCODER_RATE:g} ms ({samples} samples at "
            f"{ENCODER_RATE} Hz, {hidden} hidden states): shorter than one frame at {fps} fps, so {family} has no "
            "voice to hear; connect Audio Encoder Encode to a longer audio clip (check the file Load Audio read, or "
            "how the audio was trimmed)."
        )


def _require_rate(shot_fps: int, fps: int, family: str) -> None:
    """Audio window i is video frame i at the family's rate, so a shot at another rate drifts from its voice."""
    if shot_fps != fps:
        raise PerformanceError(
            f"The shot is at {shot_fps} fps, but {family} hears its voice at {fps} frames a second (one audio "
            f"window a frame), so played at {shot_fps} fps the character's lips would drift from the voice; set the "
            f"shot's fps to {fps} (World Shot's fps), or disconnect Shot Performance's audio."
        )
