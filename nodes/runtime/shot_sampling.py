"""ComfyUI-side capabilities for the multi-shot engine: binding, sampling (ksampling.py), decoding, the search's
hooks and the shot cache's key.

``make_pipeline`` hands models/sampling/multishot.py the callables it needs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import latent_preview
import torch

from ...models.sampling.reference_attention import ReferenceAttentionSession, entity_reference_latents
from ...models.sampling.scoring import score_candidate
from ...models.sampling.search import SearchHooks, SearchSchedule
from ...models.sampling.shot_cache import CacheContext, ShotCache, ShotReuse
from ...models.sampling.shot_pipeline import ShotPipeline
from ...models.sampling.stepped_sampling import InterleavedSampling
from ...models.shared.wan import WAN_2_1, ModelRules, floor_wan_size, model_rules
from ...models.shots.binding import BindInputs, BindOptions, BoundShot, bind_shot, reference_latents
from ...models.shots.binding.families import continues_from_latents
from ...models.shots.binding.performance import Performance
from ...models.shots.shot import Shot
from ...models.world.entities import Reference, World
from .attention_patch import apply_reference_attention
from .early_preview import early_decoder, early_decoder_name, tiny_autoencoder_path
from .ksampling import Experts, SamplerSettings
from .progress import NodeProgress, check_interrupt

PREVIEW_FORMAT = "JPEG"


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


def encode_views(vae: Any, rules: ModelRules | None = None) -> Callable[[Reference], torch.Tensor]:
    """Encode a reference's views at their own size (rounded down to a size the model takes) when it has no
    encoding."""

    def encode(reference: Reference) -> torch.Tensor:
        height, width = reference.views.shape[1:3]
        return reference_latents(reference, vae, *floor_wan_size(width, height, rules), reference.views.shape[0])

    return encode


def model_latent_channels(model: Any) -> int:
    return int(model.get_model_object("latent_format").latent_channels)


def loaded_rules(model: Any, vae: Any) -> ModelRules:
    """The loaded model's and VAE's rules (models/shared/wan.py) from the numbers ComfyUI's objects give: the model's
    latent format channels, the VAE's latent channels and spatial compression, the DiT's patch side. A model and VAE
    that do not belong together are refused naming the VAE file to load."""
    patch = getattr(model.get_model_object("diffusion_model"), "patch_size", None)
    return model_rules(
        model_latent_channels(model),
        int(vae.latent_channels),
        int(vae.spacial_compression_encode()),
        None if patch is None else int(patch[-1]),
        ValueError,
    )


@dataclass
class ShotModels:
    """The loaded models and world a shot list is rendered with."""

    model: Any
    vae: Any
    clip: Any
    world: World
    clip_vision: Any = None
    family: str = "auto"
    rules: ModelRules = WAN_2_1  # the loaded model's and VAE's (model_rules.loaded_rules)
    experts: Experts | None = None  # with Wan 2.2's two experts: model is the high-noise one

    def __post_init__(self) -> None:
        self.experts = self.experts or Experts(self.model)

    performance: Performance | None = None  # what drives HuMo and Animate shots (Shot Performance)


class ShotAttention:
    """The experts patched with reference attention to the shot being sampled, made once per shot, and the
    session they share (one model call runs at a time)."""

    def __init__(self, models: ShotModels, strength: float) -> None:
        self.models, self.strength = models, strength
        self.shot: Shot | None = None
        self.experts: Experts = models.experts
        self.session: ReferenceAttentionSession | None = None

    def model_for(self, shot: Shot) -> Experts:
        if self.shot is not shot:
            session = ReferenceAttentionSession(self.strength)
            latents, experts = self.latents(shot), self.models.experts
            high, low = (
                None if model is None else apply_reference_attention(model, latents, self.strength, session)
                for model in (experts.high, experts.low)
            )
            self.experts = dataclasses.replace(experts, high=high, low=low)
            self.shot, self.session = shot, session
        return self.experts

    def latents(self, shot: Shot) -> list[torch.Tensor]:
        names = [entity.name for entity in shot.entities]
        if not (self.strength > 0.0 and names):
            return []
        models = self.models
        return entity_reference_latents(
            models.world, names, model_latent_channels(models.model), encode_views(models.vae, models.rules)
        )

    def report(self, shot: Shot) -> dict[str, Any]:
        """The strength and, when this shot was sampled with the patch, what the attention did (or why nothing)."""
        stats = self.session.stats.as_dict() if self.shot is shot and self.session is not None else {}
        if self.strength > 0.0 and not shot.entities:
            stats["note"] = "the shot names no entities, so there are no references to attend to; it sampled plain"
        return {"strength": self.strength, **stats}


class LastBinding:
    """bind_shot over the loaded models, keeping the latest binding so a rendered shot reports what it was bound as."""

    def __init__(self, models: ShotModels) -> None:
        self.models = models
        self.shot: Shot | None = None
        self.bound: BoundShot | None = None

    def bind(
        self, shot: Shot, context: torch.Tensor | None, frames: int, new_from: int, so_far: torch.Tensor | None
    ) -> BoundShot:
        models = self.models
        if so_far is not None and not continues_from_latents(models.model, models.family):
            so_far = None  # the family continues from the context frames
        bound = bind_shot(
            shot,
            models.world,
            models.model,
            models.vae,
            models.clip,
            family=models.family,
            inputs=BindInputs(
                clip_vision=models.clip_vision, start_image=context, performance=models.performance, video_latent=so_far
            ),
            options=BindOptions(length=frames, video_frame_offset=new_from),
            rules=models.rules,
        )
        self.shot, self.bound = shot, bound
        return bound

    def report(self, shot: Shot) -> dict[str, Any]:
        return self.bound.report() if self.shot is shot and self.bound is not None else {}


def search_hooks(
    model_for: Callable[[Shot], Experts],
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
        experts = model_for(shot)

        def runner(seed: int) -> Callable[[Callable], torch.Tensor]:
            return lambda on_step: experts.sample(bound, seed, settings, on_step)

        def restore_current_patcher() -> None:
            for model in experts.models():
                if hasattr(model.model, "current_patcher"):
                    model.model.current_patcher = model

        runs = [runner(seed) for seed in seeds]
        return InterleavedSampling(runs, callback, restore_current_patcher, experts.barriers())

    return SearchHooks(
        schedule,
        settings.steps,
        start,
        decoder,
        lambda frames, refs: score_candidate(frames, refs, models.clip_vision, temporal_weight=0.0),
        early_decoder_name(models.model),
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
        return attention.model_for(shot).sample(bound, seed, settings, callback)

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


# World Shot Sampler's shot cache, one per ComfyUI process (models/sampling/shot_cache.py holds the cache and the
# engine's part of a key). Every shot rendered is stored; shots are served from it only for a cut of chosen takes
# (the ``takes`` input set), so any other queue renders as it always did.
SHOT_CACHE = ShotCache()


def shot_reuse(models: ShotModels, settings: SamplerSettings, reference_strength: float, read: bool) -> ShotReuse:
    """The process's shot cache with the key part these models and settings give every shot; ``read``: serve
    shots from it (a cut of chosen takes), or only store them.

    The host's part of the key: the objects a shot is rendered with (model, low-noise expert, VAE, text encoder,
    world, CLIP vision, performance), by identity, with each expert's patch version (a LoRA added in place changes
    it) and the step they switch at; the sampler settings; reference attention; the family; and which preview
    decoder the search judges with (a tiny autoencoder dropped into ``vae_approx`` changes the early scores).
    """
    model = models.model
    settings_key = (
        settings,
        reference_strength,
        models.family,
        str(getattr(model, "patches_uuid", "")),
        str(getattr(models.experts.low, "patches_uuid", "")),
        models.experts.switch,
        tiny_autoencoder_path(model.get_model_object("latent_format")),
    )
    objects: tuple[Any, ...] = (
        model,
        models.experts.low,
        models.vae,
        models.clip,
        models.world,
        models.clip_vision,
        models.performance,
    )
    return ShotReuse(SHOT_CACHE, CacheContext.of(settings_key, objects), read)
