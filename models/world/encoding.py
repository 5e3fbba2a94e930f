"""Encode reference views with a VAE (and optionally CLIP vision) once, and remember the result by content.

A view's cache key hashes its pixels, its mask, the preprocessing settings that made it, the frame
size it is encoded at, and the identity of the model. The identity is derived from the model's
weights, so a restarted server or a reloaded file with the same weights maps to the same key.

The VAE and CLIP-vision models are duck-typed, as ComfyUI provides them:
- VAE: ``encode(pixels [1, H, W, 3] in 0..1) -> latents [1, C, 1, h, w]`` and ``get_sd()`` (or
  ``first_stage_model`` / ``state_dict()``); ``spacial_compression_encode()`` when available.
- CLIP vision: ``encode_image(image [1, H, W, 3], crop=True)`` returning an object with
  ``penultimate_hidden_states`` and ``image_embeds``; ``get_sd()`` (or ``state_dict()``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch

from .entities import Encoding, Reference, World
from .preprocess import fit_frames, tensor_digest

IDENTITY_SAMPLES_PER_TENSOR = 1024
DEFAULT_CACHE_MB = int(os.environ.get("WORLDKIT_ENCODING_CACHE_MB", "2048"))
DEFAULT_SPATIAL_STEP = 8
INTEGER_VIEWS = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}

ViewCallback = Callable[[int, int], None]


@dataclass
class EncodeStats:
    """What one encoding pass did, per view: encoded now, found in the cache, or already on the reference."""

    vae_encoded: int = 0
    clip_encoded: int = 0
    cache_hits: int = 0
    reused: int = 0

    def add(self, other: EncodeStats) -> None:
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class EncodingCache:
    """A least-recently-used map from content keys to CPU tensors, bounded in bytes."""

    def __init__(self, capacity_bytes: int):
        self.capacity_bytes = capacity_bytes
        self._entries: OrderedDict[str, tuple[torch.Tensor, ...]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @staticmethod
    def _size(value: tuple[torch.Tensor, ...]) -> int:
        return sum(t.numel() * t.element_size() for t in value)

    def get(self, key: str) -> tuple[torch.Tensor, ...] | None:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: str, value: tuple[torch.Tensor, ...]) -> None:
        size = self._size(value)
        with self._lock:
            if key in self._entries:
                self._bytes -= self._size(self._entries.pop(key))
            if size > self.capacity_bytes:
                return
            self._entries[key] = value
            self._bytes += size
            while self._bytes > self.capacity_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= self._size(evicted)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    @property
    def nbytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)


CACHE = EncodingCache(DEFAULT_CACHE_MB * 1024 * 1024)
TOTALS = EncodeStats()
_identities: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def encode_counts() -> dict[str, int]:
    """Totals since the process started: views encoded by VAE and CLIP vision, cache hits, reuses."""
    return TOTALS.as_dict()


def clear_cache() -> None:
    CACHE.clear()


def model_state_dict(model) -> tuple[str, dict[str, torch.Tensor]]:
    """The model's class name and weights, found the ways ComfyUI's VAE and CLIP-vision objects expose them."""
    inner = getattr(model, "first_stage_model", None)
    if inner is None:
        inner = getattr(model, "model", None)
    label = type(inner if isinstance(inner, torch.nn.Module) else model).__name__
    if callable(getattr(model, "get_sd", None)):
        return label, model.get_sd()
    if isinstance(inner, torch.nn.Module):
        return label, inner.state_dict()
    if callable(getattr(model, "state_dict", None)):
        return label, model.state_dict()
    raise TypeError(f"Cannot identify a {type(model).__name__}: it offers neither get_sd() nor state_dict().")


def weights_digest(state: dict[str, torch.Tensor]) -> str:
    """A hash of every tensor's name, dtype, shape and an evenly spaced sample of its raw values."""
    digest = hashlib.sha256()
    for key in sorted(state):
        tensor = state[key]
        if not isinstance(tensor, torch.Tensor):
            continue
        digest.update(f"{key}:{tensor.dtype}:{tuple(tensor.shape)};".encode())
        flat = tensor.detach().reshape(-1)
        if flat.numel() == 0:
            continue
        flat = flat.view(INTEGER_VIEWS[flat.element_size()]) if flat.element_size() in INTEGER_VIEWS else flat
        count = min(flat.numel(), IDENTITY_SAMPLES_PER_TENSOR)
        index = torch.linspace(0, flat.numel() - 1, count, device=flat.device).round().long()
        digest.update(flat[index].cpu().contiguous().view(torch.uint8).numpy())
    return digest.hexdigest()


def model_identity(model) -> str:
    """A stable name for a model's weights, e.g. ``WanVAE:1f3c...``; the same weights give the same name."""
    try:
        return _identities[model]
    except (KeyError, TypeError):
        pass
    label, state = model_state_dict(model)
    identity = f"{label}:{weights_digest(state)[:32]}"
    with contextlib.suppress(TypeError):
        _identities[model] = identity
    return identity


def spatial_step(vae) -> int:
    """The VAE's spatial compression (8 for Wan 2.1): frame sizes must be multiples of it."""
    ratio = getattr(vae, "spacial_compression_encode", None)
    return int(ratio()) if callable(ratio) else DEFAULT_SPATIAL_STEP


def default_fit(reference: Reference) -> str:
    """Subjects are padded (never cropped) to a shot's aspect; plates keep the fit they were prepared with."""
    return "contain" if reference.is_subject else reference.preprocess.get("fit", "cover")


def view_digests(reference: Reference) -> list[str]:
    """One content hash per view: its pixels, its mask and the preprocessing settings."""
    settings = json.dumps(reference.preprocess, sort_keys=True).encode()
    masks = reference.masks
    return [
        tensor_digest(reference.views[i], None if masks is None else masks[i], extra=settings)
        for i in range(reference.view_count)
    ]


def purpose_key(view_digest: str, **parts) -> str:
    return hashlib.sha256(json.dumps({"view": view_digest, **parts}, sort_keys=True).encode()).hexdigest()


def as_latent_frame(latent: torch.Tensor) -> torch.Tensor:
    """A VAE's output for one image as [1, C, 1, h, w] on the CPU."""
    if latent.ndim == 4:
        latent = latent.unsqueeze(2)
    if latent.ndim != 5 or latent.shape[0] != 1 or latent.shape[2] != 1:
        raise ValueError(
            f"The VAE returned latents shaped {list(latent.shape)} for one image; expected "
            "[1, channels, 1, height, width]. Connect a video VAE such as Wan 2.1's."
        )
    return latent.detach().float().cpu().contiguous()


def clip_output_field(output, name: str) -> torch.Tensor:
    value = getattr(output, name, None)
    if value is None:
        raise ValueError(
            f"The CLIP-vision model returned no '{name}'; connect a CLIP-vision model (e.g. clip_vision_h)."
        )
    return value.detach().float().cpu().contiguous()


def encode_view_latent(reference: Reference, index: int, vae, width: int, height: int, fit: str) -> torch.Tensor:
    frame = fit_frames(reference.views[index : index + 1], width, height, fit, reference.background)
    return as_latent_frame(vae.encode(frame[..., :3]))


def encode_view_clip(reference: Reference, index: int, clip_vision) -> tuple[torch.Tensor, torch.Tensor]:
    output = clip_vision.encode_image(reference.views[index : index + 1, :, :, :3], crop=True)
    return clip_output_field(output, "penultimate_hidden_states"), clip_output_field(output, "image_embeds")


def check_frame_size(vae, width: int, height: int) -> None:
    step = spatial_step(vae)
    if width < step or height < step or width % step or height % step:
        raise ValueError(
            f"Encoding size {width}x{height} must be positive multiples of {step} for this VAE "
            "(for example 1280x720 or 832x480)."
        )


def cached(
    key: str, compute: Callable[[], tuple[torch.Tensor, ...]], stats: EncodeStats, counter: str
) -> tuple[torch.Tensor, ...]:
    """The cached value for ``key``, or compute it, store it and count it under ``counter``."""
    value = CACHE.get(key)
    if value is not None:
        stats.cache_hits += 1
        return value
    value = compute()
    CACHE.put(key, value)
    setattr(stats, counter, getattr(stats, counter) + 1)
    return value


def encode_reference(
    reference: Reference,
    vae,
    width: int,
    height: int,
    clip_vision=None,
    *,
    fit: str | None = None,
    stats: EncodeStats | None = None,
    on_view: ViewCallback | None = None,
) -> Encoding:
    """The reference's encoding at width x height: carried by the reference, cached, or encoded now.

    Each view is fitted to the frame (``fit``: "cover" crops as ComfyUI's Wan nodes do, "contain"
    pads with the reference's background; default per kind, see ``default_fit``) and encoded on its
    own, one latent frame per view. ``on_view(done, total)`` is called before the first view and after
    each one, so a caller can report progress and stop between views.
    """
    check_frame_size(vae, width, height)
    stats = stats if stats is not None else EncodeStats()
    local = EncodeStats()
    vae_id = model_identity(vae)
    clip_id = model_identity(clip_vision) if clip_vision is not None else None
    fit = fit or default_fit(reference)
    # encodings a reference carries were made with its default fit
    carried = reference.encoding_for(vae_id, width, height) if fit == default_fit(reference) else None
    total = reference.view_count
    if carried is not None and (clip_id is None or carried.clip_identity == clip_id):
        local.reused += total
        _finish(stats, local)
        if on_view is not None:
            on_view(total, total)
        return carried

    digests = view_digests(reference)
    if on_view is not None:
        on_view(0, total)
    latents, penultimate, embeds = [], [], []
    for index, view_digest in enumerate(digests):
        if carried is None:
            key = purpose_key(view_digest, vae=vae_id, width=width, height=height, fit=fit)
            (latent,) = cached(
                key, lambda i=index: (encode_view_latent(reference, i, vae, width, height, fit),), local, "vae_encoded"
            )
            latents.append(latent)
        if clip_vision is not None:
            key = purpose_key(view_digest, clip=clip_id, crop=True)
            hidden, pooled = cached(
                key, lambda i=index: encode_view_clip(reference, i, clip_vision), local, "clip_encoded"
            )
            penultimate.append(hidden)
            embeds.append(pooled)
        if on_view is not None:
            on_view(index + 1, total)
    if carried is not None:
        local.reused += total
    _finish(stats, local)
    return Encoding(
        vae_identity=vae_id,
        width=width,
        height=height,
        latents=carried.latents if carried is not None else torch.cat(latents),
        clip_identity=clip_id,
        clip_penultimate=torch.cat(penultimate) if penultimate else None,
        clip_embeds=torch.cat(embeds) if embeds else None,
    )


def _finish(stats: EncodeStats, local: EncodeStats) -> None:
    stats.add(local)
    TOTALS.add(local)


def encode_world(
    world: World, vae, width: int, height: int, clip_vision=None, *, on_view: ViewCallback | None = None
) -> tuple[World, EncodeStats]:
    """A copy of the world with every reference carrying its encoding at width x height, and what it took."""
    stats = EncodeStats()
    total = sum(r.view_count for r in world.references.values())
    done = 0

    def encode(reference: Reference) -> Reference:
        nonlocal done
        start = done

        def progress(finished: int, _count: int) -> None:
            if on_view is not None:
                on_view(start + finished, total)

        encoding = encode_reference(reference, vae, width, height, clip_vision, stats=stats, on_view=progress)
        done = start + reference.view_count
        return reference.with_encoding(encoding)

    return world.map(encode), stats
