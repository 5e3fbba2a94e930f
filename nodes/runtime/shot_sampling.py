"""ComfyUI-side capabilities for the multi-shot engine: binding, KSampler-equivalent sampling, decoding.

``make_pipeline`` hands models/sampling/multishot.py the callables it needs. Sampling follows ComfyUI's
common_ksampler exactly (fix_empty_latent_channels, prepare_noise, noise_mask, comfy.sample.sample), so
model patches and LoRAs apply and strength-0 output equals KSampler's bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import comfy.model_management
import comfy.sample
import comfy.utils
import latent_preview
import torch

from ...models.sampling.multishot import ShotPipeline
from ...models.sampling.reference_attention import ReferenceAttentionSession, entity_reference_latents
from ...models.sampling.scoring import score_candidate
from ...models.sampling.search import SearchHooks, SearchSchedule
from ...models.sampling.stepped_sampling import InterleavedSampling
from ...models.shared.wan import floor_wan_size
from ...models.shots.binding import BindInputs, BindOptions, BoundShot, bind_shot, reference_latents
from ...models.shots.binding.performance import Performance
from ...models.shots.shot import Shot
from ...models.world.entities import Reference, World
from .attention_patch import apply_reference_attention
from .early_preview import early_decoder
from .progress import NodeProgress, check_interrupt

PREVIEW_FORMAT = "JPEG"


@dataclass(frozen=True)
class SamplerSettings:
    """KSampler's settings, as the World Shot Sampler takes them."""

    sampler_name: str
    scheduler: str
    steps: int
    cfg: float
    denoise: float


def sample_latent(
    model: Any,
    latent: dict[str, torch.Tensor],
    positive: list,
    negative: list,
    seed: int,
    settings: SamplerSettings,
    callback: Callable | None = None,
) -> torch.Tensor:
    """What ComfyUI's KSampler node does with these inputs (nodes.common_ksampler), returning the samples."""
    latent_image = comfy.sample.fix_empty_latent_channels(model, latent["samples"])
    noise = comfy.sample.prepare_noise(latent_image, seed, latent.get("batch_index"))
    return comfy.sample.sample(
        model,
        noise,
        settings.steps,
        settings.cfg,
        settings.sampler_name,
        settings.scheduler,
        positive,
        negative,
        latent_image,
        denoise=settings.denoise,
        noise_mask=latent.get("noise_mask"),
        callback=callback,
        disable_pbar=True,
        seed=seed,
    )


def decode_frames(vae: Any, latent: torch.Tensor) -> torch.Tensor:
    """IMAGE frames [F, H, W, 3] on the CPU, as VAEDecode returns them for a video latent."""
    images = vae.decode(latent)
    if images.ndim == 5:
        images = images.reshape(-1, *images.shape[-3:])
    return images[..., :3].cpu()


def step_callback(progress: NodeProgress, previewer: Any = None) -> Callable:
    """Sampler callback: a cancel check and one progress tick per step, with a latent preview as KSampler shows."""

    def callback(step, denoised, x, total_steps):
        check_interrupt()
        progress(1, previewer.decode_latent_to_preview_image(PREVIEW_FORMAT, denoised) if previewer else None)

    return callback


def encode_views(vae: Any) -> Callable[[Reference], torch.Tensor]:
    """Encode a reference's views at their own size (rounded down to a multiple of 16) when it has no encoding."""

    def encode(reference: Reference) -> torch.Tensor:
        height, width = reference.views.shape[1:3]
        return reference_latents(reference, vae, *floor_wan_size(width, height), reference.views.shape[0])

    return encode


def model_latent_channels(model: Any) -> int:
    return int(model.get_model_object("latent_format").latent_channels)


@dataclass
class ShotModels:
    """The loaded models and world a shot list is rendered with."""

    model: Any
    vae: Any
    clip: Any
    world: World
    clip_vision: Any = None
    family: str = "auto"
    performance: Performance | None = None


class ShotAttention:
    """The model patched with reference attention to the shot being sampled, made once per shot, and its session."""

    def __init__(self, models: ShotModels, strength: float) -> None:
        self.models, self.strength = models, strength
        self.shot: Shot | None = None
        self.model: Any = models.model
        self.session: ReferenceAttentionSession | None = None

    def model_for(self, shot: Shot) -> Any:
        if self.shot is not shot:
            session = ReferenceAttentionSession(self.strength)
            self.model = apply_reference_attention(self.models.model, self.latents(shot), self.strength, session)
            self.shot, self.session = shot, session
        return self.model

    def latents(self, shot: Shot) -> list[torch.Tensor]:
        names = [entity.name for entity in shot.entities]
        if not (self.strength > 0.0 and names):
            return []
        models = self.models
        return entity_reference_latents(
            models.world, names, model_latent_channels(models.model), encode_views(models.vae)
        )

    def report(self, shot: Shot) -> dict[str, Any]:
        """The strength and, when this shot was sampled with the patch, what the attention did."""
        stats = self.session.stats.as_dict() if self.shot is shot and self.session is not None else {}
        return {"strength": self.strength, **stats}


class LastBinding:
    """bind_shot over the loaded models, keeping the latest binding so a rendered shot reports what it was bound as."""

    def __init__(self, models: ShotModels) -> None:
        self.models = models
        self.shot: Shot | None = None
        self.bound: BoundShot | None = None

    def bind(self, shot: Shot, context: torch.Tensor | None, frames: int, new_from: int) -> BoundShot:
        models = self.models
        bound = bind_shot(
            shot,
            models.world,
            models.model,
            models.vae,
            models.clip,
            family=models.family,
            inputs=BindInputs(clip_vision=models.clip_vision, start_image=context, performance=models.performance),
            options=BindOptions(length=frames, video_frame_offset=new_from),
        )
        self.shot, self.bound = shot, bound
        return bound

    def report(self, shot: Shot) -> dict[str, Any]:
        return self.bound.report() if self.shot is shot and self.bound is not None else {}


def search_hooks(
    model_for: Callable[[Shot], Any],
    models: ShotModels,
    settings: SamplerSettings,
    schedule: SearchSchedule | None,
    callback: Callable,
) -> SearchHooks | None:
    """The engine's search over ComfyUI: candidates step-interleaved (stepped_sampling), x0 decoded by a
    preview decoder, scored for identity as the final pick is (CLIP-I or classical). None when the search
    is off or the model's latents have no cheap decoder (every candidate is then rendered to the end)."""
    decoder = early_decoder(models.model) if schedule is not None else None
    if decoder is None:
        return None

    def start(shot: Shot, bound, seeds: Sequence[int]) -> InterleavedSampling:
        model = model_for(shot)

        def runner(seed: int) -> Callable[[Callable], torch.Tensor]:
            return lambda on_step: sample_latent(
                model, bound.latent, bound.positive, bound.negative, seed, settings, on_step
            )

        def restore_current_patcher() -> None:
            if hasattr(model.model, "current_patcher"):
                model.model.current_patcher = model

        return InterleavedSampling([runner(seed) for seed in seeds], callback, restore_current_patcher)

    return SearchHooks(
        schedule,
        settings.steps,
        start,
        decoder,
        lambda frames, refs: score_candidate(frames, refs, models.clip_vision, temporal_weight=0.0),
    )


def make_pipeline(
    models: ShotModels,
    settings: SamplerSettings,
    reference_strength: float,
    native_frames: int,
    overlap: int,
    progress: NodeProgress,
    search: SearchSchedule | None = None,
) -> ShotPipeline:
    """The engine's pipeline over ComfyUI: bind_shot, KSampler sampling (with reference attention), VAE decode,
    and the consistency search when ``search`` is a schedule."""
    previewer = latent_preview.get_previewer(models.model.load_device, models.model.model.latent_format)
    callback = step_callback(progress, previewer)
    attention = ShotAttention(models, reference_strength)
    bindings = LastBinding(models)

    def sample(shot: Shot, bound, seed: int) -> torch.Tensor:
        return sample_latent(
            attention.model_for(shot), bound.latent, bound.positive, bound.negative, seed, settings, callback
        )

    def references(shot: Shot) -> list[Reference]:
        return [
            models.world.references[entity.name] for entity in shot.entities if entity.name in models.world.references
        ]

    def notes(shot: Shot) -> dict[str, Any]:
        return {**bindings.report(shot), "reference_attention": attention.report(shot)}

    return ShotPipeline(
        bind=bindings.bind,
        sample=sample,
        decode=lambda latent: decode_frames(models.vae, latent),
        references=references,
        score=lambda frames, refs: score_candidate(frames, refs, models.clip_vision),
        check_interrupt=check_interrupt,
        notes=notes,
        native_frames=native_frames,
        overlap=overlap,
        search=search_hooks(attention.model_for, models, settings, search, callback),
    )
