"""Random-weight Wan 2.1 and Wan 2.2 TI2V-5B DiTs and VAEs of ComfyUI's own classes, and the quick settings they are
run with, for the host tests and the benchmarks.

The builders import ``comfy`` when called: call them once ComfyUI's folder is on the path.
"""

from __future__ import annotations

import torch

from ..models.shared.wan import WAN_2_1, WAN_2_2_5B

TEXT_DIM = 4096  # UMT5-XXL's width, what Wan's text embedding takes
LATENT_CHANNELS = WAN_2_1.latent_channels
# The 5B's DiT takes and gives the Wan 2.2 VAE's 48 channels; ComfyUI recognises a WAN22 file by that output.
WAN22_LATENT_CHANNELS = WAN_2_2_5B.latent_channels
CLIP_VISION_TOKENS = 257  # 224 / 14 squared, plus the class token
# KSampler's deterministic first-order sampler over the whole schedule: what every quick run samples with.
QUICK_SAMPLING = {"sampler_name": "euler", "scheduler": "simple", "denoise": 1.0}
ONES_SUFFIXES = (
    "norm.weight",
    "gamma",
    "layer_norm.weight",
    "norm1.weight",
    "norm2.weight",
    "norm3.weight",
    "post_layernorm.weight",
    "pre_layrnorm.weight",
    "layer_norm1.weight",
    "layer_norm2.weight",
)


def exact_shot(frames: int, width: int, height: int, fps: int = 16) -> dict[str, object]:
    """A shot's timing and size widgets for exactly ``frames`` frames at ``width`` x ``height``."""
    return {
        "duration": "frames",
        "frames": frames,
        "resolution": "custom",
        "width": width,
        "height": height,
        "fps": fps,
    }


def randomise(module: torch.nn.Module, seed: int) -> dict[str, torch.Tensor]:
    """Fill every tensor of a module's state dict with small seeded noise (norm scales with ones, biases zero)."""
    generator = torch.Generator().manual_seed(seed)
    state = {}
    for key, tensor in module.state_dict().items():
        if tensor.ndim == 1 and key.endswith(ONES_SUFFIXES):
            state[key] = torch.ones(tensor.shape)
        elif key.endswith("bias"):
            state[key] = torch.zeros(tensor.shape)
        else:
            state[key] = torch.randn(tensor.shape, generator=generator) * 0.02
    return {k: v.to(torch.float32).contiguous() for k, v in state.items()}


ANIMATE_LAYERS = 5  # Wan Animate has a face adapter layer per 5 blocks; ComfyUI detects it by the first one


def wan_dit(kind: str, dim: int, layers: int, heads: int = 1) -> torch.nn.Module:
    """A Wan DiT of one kind (wan_t2v, wan_i2v, wan_flf, wan_vace, wan_camera, wan_humo, wan_animate, wan_s2v;
    wan22_i2v, the A14B I2V expert layout; wan22_ti2v, the 5B's) at width ``dim``, weights not yet set. Each has the
    parts ComfyUI's model detection reads its kind from."""
    import comfy.ldm.wan.model as wan
    import comfy.ops

    common = dict(
        dim=dim,
        ffn_dim=2 * dim,
        num_heads=heads,
        num_layers=layers,
        text_dim=TEXT_DIM,
        out_dim=LATENT_CHANNELS,
        operations=comfy.ops.disable_weight_init,
    )
    if kind == "wan_vace":
        return wan.VaceWanModel(model_type="vace", in_dim=16, vace_layers=1, vace_in_dim=96, **common)
    if kind == "wan22_ti2v":
        return wan.WanModel(
            model_type="t2v", in_dim=WAN22_LATENT_CHANNELS, **common | {"out_dim": WAN22_LATENT_CHANNELS}
        )
    if kind == "wan_t2v":
        return wan.WanModel(model_type="t2v", in_dim=16, **common)
    if kind == "wan_i2v":
        return wan.WanModel(model_type="i2v", in_dim=36, **common)
    if kind == "wan22_i2v":  # Wan 2.2 I2V A14B: the start frame's latents concatenated, no CLIP image embedding
        return wan.WanModel(model_type="t2v", in_dim=36, **common)
    if kind == "wan_camera":  # Fun Camera 2.1: an image-to-video DiT with a control adapter, 32 input channels
        return wan.CameraWanModel(model_type="camera", in_dim=32, **common)
    if kind == "wan_humo":  # HuMo 1.7B: text-to-video with an audio projection and audio cross-attention
        return wan.HumoWanModel(in_dim=16, **common)
    if kind == "wan_s2v":  # Wan 2.2 S2V: the audio encoder, injectors and motion packer at ComfyUI's defaults
        return wan.WanModel_S2V(in_dim=16, **common)
    if kind == "wan_animate":
        import comfy.ldm.wan.model_animate as animate

        return animate.AnimateWanModel(in_dim=36, **{**common, "num_layers": max(layers, ANIMATE_LAYERS)})
    if kind == "wan_flf":
        return wan.WanModel(model_type="i2v", in_dim=36, flf_pos_embed_token_number=2 * CLIP_VISION_TOKENS, **common)
    raise ValueError(f"unknown Wan DiT kind {kind!r}")


# The layout both Wan VAEs are built with (comfy/sd.py's ddconfig), apart from their widths and channels.
WAN_VAE_LAYOUT = dict(dim_mult=[1, 2, 4, 4], num_res_blocks=2, attn_scales=[], temperal_downsample=[False, True, True])


def wan_vae(dim: int) -> torch.nn.Module:
    """The Wan 2.1 VAE at base width ``dim`` (96 is the released one), weights not yet set."""
    import comfy.ldm.wan.vae

    return comfy.ldm.wan.vae.WanVAE(dim=dim, z_dim=LATENT_CHANNELS, dropout=0.0, **WAN_VAE_LAYOUT)


def wan22_vae(dim: int) -> torch.nn.Module:
    """The Wan 2.2 VAE (48 channels, 16x) at encoder and decoder width ``dim`` (the released one is 160 and 256),
    weights not yet set. ComfyUI builds it at the released widths; the tiny-models shim builds a marked file's."""
    import comfy.ldm.wan.vae2_2

    return comfy.ldm.wan.vae2_2.WanVAE(dim=dim, dec_dim=dim, z_dim=WAN22_LATENT_CHANNELS, dropout=0.0, **WAN_VAE_LAYOUT)
