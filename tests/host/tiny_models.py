"""Build tiny random-weight model files with ComfyUI's own classes, for the host tier.

Run as a script inside ComfyUI's folder (``python tiny_models.py MODELS_DIR``); it writes the files
into the subfolders ComfyUI's loaders read (diffusion_models, vae, text_encoders, clip_vision) and
prints a JSON map of role -> file name. The text encoder and CLIP-vision configs are shrunk; the
test-only node package in ``testing_nodes/worldkit_test_shims`` teaches the test server to build
those shrunk configs, so the weights load through ComfyUI's normal loaders.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

SHIM_CONFIG_DIR = Path(__file__).resolve().parent / "testing_nodes" / "worldkit_test_shims"
TINY_UMT5_CONFIG = SHIM_CONFIG_DIR / "tiny_umt5_config.json"
TINY_CLIP_VISION_CONFIG = SHIM_CONFIG_DIR / "tiny_clip_vision_config.json"
TINY_CLIP_VISION_MARKER = "worldkit_tiny_clip_vision"

DIT_DIM = 128
DIT_FFN = 256
DIT_LAYERS = 2
CLIP_VISION_TOKENS = 257  # 224 / 14 squared, plus the class token

FILE_NAMES = {
    "wan_t2v": "tiny_wan21_t2v.safetensors",
    "wan_i2v": "tiny_wan21_i2v.safetensors",
    "wan_flf": "tiny_wan21_flf.safetensors",
    "wan_vace": "tiny_wan21_vace.safetensors",
    "vae": "tiny_wan21_vae.safetensors",
    "umt5": "tiny_umt5.safetensors",
    "clip_vision": "tiny_clip_vision_h.safetensors",
    "lora": "tiny_wan21_lora.safetensors",
}
LORA_RANK = 4


def randomise(module: torch.nn.Module, seed: int) -> dict[str, torch.Tensor]:
    """Fill every tensor of a module's state dict with small seeded noise (norm scales with ones)."""
    generator = torch.Generator().manual_seed(seed)
    state = {}
    for key, tensor in module.state_dict().items():
        if tensor.ndim == 1 and key.endswith(
            (
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
        ):
            state[key] = torch.ones(tensor.shape)
        elif key.endswith("bias"):
            state[key] = torch.zeros(tensor.shape)
        else:
            state[key] = torch.randn(tensor.shape, generator=generator) * 0.02
    return {k: v.to(torch.float32).contiguous() for k, v in state.items()}


def build_dit(kind: str) -> dict[str, torch.Tensor]:
    import comfy.ldm.wan.model as wan
    import comfy.ops

    common = dict(
        dim=DIT_DIM,
        ffn_dim=DIT_FFN,
        num_heads=1,
        num_layers=DIT_LAYERS,
        text_dim=4096,
        out_dim=16,
        operations=comfy.ops.disable_weight_init,
    )
    if kind == "wan_vace":
        model = wan.VaceWanModel(model_type="vace", in_dim=16, vace_layers=1, vace_in_dim=96, **common)
    elif kind == "wan_t2v":
        model = wan.WanModel(model_type="t2v", in_dim=16, **common)
    elif kind == "wan_i2v":
        model = wan.WanModel(model_type="i2v", in_dim=36, **common)
    elif kind == "wan_flf":
        model = wan.WanModel(model_type="i2v", in_dim=36, flf_pos_embed_token_number=2 * CLIP_VISION_TOKENS, **common)
    else:
        raise ValueError(kind)
    return randomise(model, seed=len(kind))


def build_vae() -> dict[str, torch.Tensor]:
    import comfy.ldm.wan.vae as wan_vae

    model = wan_vae.WanVAE(
        dim=8,
        z_dim=16,
        dim_mult=[1, 2, 4, 4],
        num_res_blocks=2,
        attn_scales=[],
        temperal_downsample=[False, True, True],
        dropout=0.0,
    )
    return randomise(model, seed=7)


def train_tokenizer() -> torch.Tensor:
    """A small SentencePiece model trained here, stored in the file as UMT5 files store theirs."""
    import io

    import sentencepiece

    words = (
        "a the of and in on with at by night day forest fire flame skunk toy wooden street city new york "
        "cattle field fog man young monkey music dance light moon dawn golden hour camera wide close up "
        "shot medium dolly pan tilt orbit crane handheld lens mm sidewalk curb pedestrians walking"
    ).split()
    lines = [" ".join(words[(i * 7 + j) % len(words)] for j in range(12)) for i in range(400)]
    model_bytes = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_writer=model_bytes,
        vocab_size=64,
        hard_vocab_limit=False,
        model_type="unigram",
        character_coverage=1.0,
        pad_id=0,
        eos_id=1,
        unk_id=2,
        bos_id=-1,
        minloglevel=2,
    )
    return torch.frombuffer(bytearray(model_bytes.getvalue()), dtype=torch.uint8).clone()


def build_umt5() -> dict[str, torch.Tensor]:
    import comfy.ops
    import comfy.text_encoders.t5 as t5

    config = json.loads(TINY_UMT5_CONFIG.read_text())
    model = t5.T5(config, dtype=torch.float32, device="cpu", operations=comfy.ops.disable_weight_init)
    state = randomise(model, seed=11)
    # ComfyUI recognises a UMT5-XXL file by its 24th block's 4096-wide feed-forward weight; the
    # marker tensor satisfies that check and is then ignored as an unexpected key.
    state["encoder.block.23.layer.1.DenseReluDense.wi_1.weight"] = torch.zeros(1, config["d_model"])
    state["spiece_model"] = train_tokenizer()
    return state


def build_clip_vision() -> dict[str, torch.Tensor]:
    import comfy.clip_vision

    model = comfy.clip_vision.ClipVisionModel(str(TINY_CLIP_VISION_CONFIG))
    state = randomise(model.model, seed=13)
    state[TINY_CLIP_VISION_MARKER] = torch.ones(1)
    return state


def build_lora() -> dict[str, torch.Tensor]:
    """A rank-4 LoRA on every block's self-attention query, in the key layout ComfyUI maps onto Wan DiTs."""
    state = {}
    for block in range(DIT_LAYERS):
        key = f"diffusion_model.blocks.{block}.self_attn.q"
        state[f"{key}.lora_up.weight"] = torch.randn(DIT_DIM, LORA_RANK) * 0.01
        state[f"{key}.lora_down.weight"] = torch.randn(LORA_RANK, DIT_DIM) * 0.01
    return state


def build_all(models_dir: Path) -> dict[str, str]:
    from safetensors.torch import save_file

    folders = {"vae": "vae", "umt5": "text_encoders", "clip_vision": "clip_vision", "lora": "loras"}
    builders = {"vae": build_vae, "umt5": build_umt5, "clip_vision": build_clip_vision, "lora": build_lora}
    for role, file_name in FILE_NAMES.items():
        folder = models_dir / folders.get(role, "diffusion_models")
        folder.mkdir(parents=True, exist_ok=True)
        state = builders[role]() if role in builders else build_dit(role)
        save_file(state, str(folder / file_name))
    return dict(FILE_NAMES)


def main() -> None:
    import comfy.cli_args

    comfy.cli_args.args.cpu = True
    torch.manual_seed(0)
    print(json.dumps(build_all(Path(sys.argv[1]))))


if __name__ == "__main__":
    main()
