"""Cheap decoding of a sampler's x0 prediction for the consistency search, with ComfyUI's preview decoders.

Where the user has the model's tiny video autoencoder (``lighttaew2_1``, ``taehv``, … in ``vae_approx``,
the files ComfyUI's TAESD previews use), each chosen latent frame is decoded by it, as ComfyUI's own
preview does; otherwise the latent format's latent-to-RGB factors (a per-pixel linear map, the default
preview) give an image at latent resolution. Both cost a small fraction of one sampler step.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import comfy.sd
import comfy.utils
import folder_paths
import latent_preview
import torch

Decoder = Callable[[torch.Tensor], torch.Tensor]


def tiny_autoencoder_path(latent_format: Any) -> str | None:
    """The model's tiny video autoencoder in ``vae_approx``, found as ComfyUI's previewer finds it, or None."""
    name = getattr(latent_format, "taesd_decoder_name", None)
    if name not in latent_preview.VIDEO_TAES:
        return None
    found = next((file for file in folder_paths.get_filename_list("vae_approx") if file.startswith(name)), None)
    return None if found is None else folder_paths.get_full_path("vae_approx", found)


def tiny_autoencoder_decoder(path: str) -> Decoder:
    autoencoder = comfy.sd.VAE(comfy.utils.load_torch_file(path))
    autoencoder.first_stage_model.show_progress_bar = False

    def decode(latent: torch.Tensor) -> torch.Tensor:
        frames = [autoencoder.decode(latent[:1, :, index : index + 1])[0][0] for index in range(latent.shape[2])]
        return torch.stack(frames)[..., :3].float().clamp(0.0, 1.0).cpu()

    return decode


def latent_rgb_decoder(latent_format: Any) -> Decoder | None:
    if getattr(latent_format, "latent_rgb_factors", None) is None:
        return None
    factors = latent_preview.Latent2RGBPreviewer(
        latent_format.latent_rgb_factors,
        latent_format.latent_rgb_factors_bias,
        latent_format.latent_rgb_factors_reshape,
    )

    def decode(latent: torch.Tensor) -> torch.Tensor:
        if factors.latent_rgb_factors_reshape is not None:
            latent = factors.latent_rgb_factors_reshape(latent)
        latent = latent[:1].float().cpu()
        bias = None if factors.latent_rgb_factors_bias is None else factors.latent_rgb_factors_bias.float()
        rgb = torch.nn.functional.linear(latent[0].movedim(0, -1), factors.latent_rgb_factors.float(), bias)
        return ((rgb + 1.0) / 2.0).clamp(0.0, 1.0)  # [t, h, w, 3], the previewer's -1..1 to 0..1

    return decode


def early_decoding_available(model: Any) -> bool:
    latent_format = model.get_model_object("latent_format")
    return tiny_autoencoder_path(latent_format) is not None or latent_format.latent_rgb_factors is not None


def early_decoder_name(model: Any) -> str:
    """Which decoder the search judges this model's latents with, for the shot's report."""
    latent_format = model.get_model_object("latent_format")
    path = tiny_autoencoder_path(latent_format)
    if path:
        return f"tiny autoencoder {os.path.basename(path)}"
    return f"{type(latent_format).__name__} latent-to-RGB factors ({latent_format.latent_channels} channels)"


def early_decoder(model: Any) -> Decoder | None:
    """x0 latent ``[1, C, t, h, w]`` → IMAGE ``[t, H, W, 3]``; None when the model's latents have no cheap decoder."""
    latent_format = model.get_model_object("latent_format")
    path = tiny_autoencoder_path(latent_format)
    return tiny_autoencoder_decoder(path) if path else latent_rgb_decoder(latent_format)
