"""ModelPatcher wiring for reference attention (the maths is in models/sampling/reference_attention.py).

A DIFFUSION_MODEL wrapper runs, at every model call, a capture pass of the reference latents (noised to
the call's sigma with a fixed noise, placed after the video in time through RoPE's ``shift_t``; stopped
once the last block's keys and values are stored) and then the real pass; an ``optimized_attention_override`` in
transformer_options routes each attention call to
the session, which stores the references' self-attention keys/values in the capture pass and appends
them in the real pass. Another override already present is chained, not replaced.
"""

from __future__ import annotations

import contextlib
from typing import Any

import comfy.patcher_extension
import torch

from ...models.sampling.reference_attention import (
    CaptureComplete,
    ReferenceAttentionSession,
    reference_model_input,
    stack_reference_latents,
)

WRAPPER_KEY = "worldkit_reference_attention"
OVERRIDE_KEY = "optimized_attention_override"
REFERENCE_NOISE_SEED = 0


def _reference_kwargs(kwargs: dict[str, Any], reference: torch.Tensor) -> dict[str, Any]:
    """Model inputs for the capture pass: video-shaped conditioning is dropped; VACE gets a silent context."""
    out = {}
    for key, value in kwargs.items():
        if key == "vace_context":
            out[key] = value.new_zeros(*value.shape[:-3], *reference.shape[-3:])
        elif key == "vace_strength":
            out[key] = [0.0] * len(value)
        elif not (torch.is_tensor(value) or isinstance(value, (list, tuple))):
            out[key] = value
    return out


def _capture_timestep(timestep: torch.Tensor) -> torch.Tensor:
    """One timestep per batch item (models with per-token timesteps give the noisiest token's)."""
    return timestep if timestep.ndim <= 1 else timestep.flatten(1).amax(dim=1)


def _make_override(session: ReferenceAttentionSession, previous: Any):
    def override(func, *args, **kwargs):
        q, k, v = args[:3]
        heads_positional = "heads" not in kwargs
        heads = args[3] if heads_positional else kwargs["heads"]
        extra = args[4:] if heads_positional else args[3:]
        options = kwargs.get("transformer_options") or {}

        def attention(q_, k_, v_, heads_, mask=None):
            call = {key: value for key, value in kwargs.items() if key != "heads"}
            if mask is not None:
                call["mask"] = mask
            if previous is not None:
                return previous(func, q_, k_, v_, heads_, *extra, **call)
            return func(q_, k_, v_, heads_, *extra, **call)

        if kwargs.get("mask") is not None:
            return attention(q, k, v, heads)
        token_dim = 2 if kwargs.get("skip_reshape") else 1
        block_index = options.get("block_index")
        last_block = block_index is not None and block_index == options.get("total_blocks", 0) - 1
        return session(attention, q, k, v, heads, block_index, token_dim, last_block)

    return override


def apply_reference_attention(
    model: Any, latents: list[torch.Tensor], strength: float, session: ReferenceAttentionSession | None = None
) -> Any:
    """A clone of ``model`` whose self-attention also attends to ``latents`` (raw VAE latents ``[C, 1, h, w]``).

    ``strength`` 0 or no latents returns ``model`` itself: sampling is then exactly plain.
    Pass ``session`` to read its ``stats`` after sampling.
    """
    session = session or ReferenceAttentionSession(strength)
    if strength == 0.0 or not latents:
        return model
    patched = model.clone()
    base = patched.model
    clips = [base.process_latent_in(clip) for clip in stack_reference_latents(latents)]
    generator = torch.Generator().manual_seed(REFERENCE_NOISE_SEED)
    noises = [torch.randn(clip.shape, generator=generator) for clip in clips]

    def wrapper(executor, x, timestep, context, clip_fea, time_dim_concat, transformer_options, **kwargs):
        sigma = transformer_options.get("sigmas")
        if sigma is None:
            return executor(x, timestep, context, clip_fea, time_dim_concat, transformer_options, **kwargs)
        previous = transformer_options.get(OVERRIDE_KEY)
        transformer_options[OVERRIDE_KEY] = _make_override(session, previous)
        try:
            video_frames = x.shape[2] + (0 if time_dim_concat is None else time_dim_concat.shape[2])
            rope = dict(transformer_options.get("rope_options") or {})
            rope["shift_t"] = rope.get("shift_t", 0.0) + video_frames
            session.begin_capture()
            for clip, noise in zip(clips, noises, strict=True):
                reference = reference_model_input(
                    clip.to(x.device, torch.float32),
                    sigma.to(x.device, torch.float32),
                    noise.to(x.device),
                    x.shape[0],
                    x.shape[1],
                    base.model_sampling.noise_scaling,
                    base.model_sampling.calculate_input,
                ).to(x.dtype)
                capture_options = {**transformer_options, "rope_options": rope}
                # The pass ends with CaptureComplete once every block's keys and values are stored.
                with contextlib.suppress(CaptureComplete):
                    executor(
                        reference,
                        _capture_timestep(timestep),
                        context,
                        clip_fea,
                        None,
                        capture_options,
                        **_reference_kwargs(kwargs, reference),
                    )
                session.continue_capture()
            session.begin_attend()
            return executor(x, timestep, context, clip_fea, time_dim_concat, transformer_options, **kwargs)
        finally:
            session.end()
            if previous is None:
                transformer_options.pop(OVERRIDE_KEY, None)
            else:
                transformer_options[OVERRIDE_KEY] = previous

    patched.add_wrapper_with_key(comfy.patcher_extension.WrappersMP.DIFFUSION_MODEL, WRAPPER_KEY, wrapper)
    return patched
