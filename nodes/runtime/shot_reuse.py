"""The host's part of World Shot Sampler's shot cache: one cache per ComfyUI process, keyed by the loaded models.

Every shot rendered is stored; shots are served from it only for a cut of chosen takes (the ``takes`` input set),
so any other queue renders as it always did (progress, interrupts and benchmarks unchanged).

models/sampling/shot_cache.py holds the cache and the engine's part of a key. Here: the objects a shot is
rendered with (model, VAE, text encoder, world, CLIP vision), by identity, with the model's patch version (a
LoRA added in place changes it); the sampler settings; reference attention; the family; and which preview
decoder the search judges with (a tiny autoencoder dropped into ``vae_approx`` changes the early scores).
"""

from __future__ import annotations

from typing import Any

from ...models.sampling.shot_cache import CacheContext, ShotCache, ShotReuse
from .early_preview import tiny_autoencoder_path
from .shot_sampling import SamplerSettings, ShotModels

SHOT_CACHE = ShotCache()


def shot_reuse(models: ShotModels, settings: SamplerSettings, reference_strength: float, read: bool) -> ShotReuse:
    """The process's shot cache with the key part these models and settings give every shot; ``read``: serve
    shots from it (a cut of chosen takes), or only store them."""
    model = models.model
    latent_format = model.get_model_object("latent_format")
    settings_key = (
        settings,
        reference_strength,
        models.family,
        str(getattr(model, "patches_uuid", "")),
        tiny_autoencoder_path(latent_format),
    )
    objects: tuple[Any, ...] = (model, models.vae, models.clip, models.world, models.clip_vision)
    return ShotReuse(SHOT_CACHE, CacheContext.of(settings_key, objects), read)
