"""Build tiny random-weight model files with ComfyUI's own classes, for the host tests and the benchmarks.

``build_models`` runs this module inside ComfyUI's folder (``python -m worldkit.tools.tiny_models MODELS_DIR``);
it writes the files into the subfolders ComfyUI's loaders read (diffusion_models, vae, text_encoders,
clip_vision) and prints a JSON map of role -> file name. The text encoder and CLIP-vision configs are shrunk;
the node package in ``tools/shims/tiny_models`` (``mount_pack`` puts it beside the pack) teaches the server to build
those shrunk configs, so the weights load through ComfyUI's normal loaders.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import torch

from ..headless.server import PACK_DIR
from .tiny_wan import randomise, wan22_vae, wan_dit, wan_vae

SHIMS_DIR = Path(__file__).resolve().parent / "shims"
TINY_UMT5_CONFIG = SHIMS_DIR / "tiny_models" / "tiny_umt5_config.json"
TINY_CLIP_VISION_CONFIG = SHIMS_DIR / "tiny_models" / "tiny_clip_vision_config.json"
TINY_CLIP_VISION_MARKER = "worldkit_tiny_clip_vision"
TINY_WAN22_VAE_MARKER = "worldkit_tiny_wan22_vae_dim"
TINY_WAN22_VAE_DIM = 8

DIT_DIM = 128
DIT_LAYERS = 2

FILE_NAMES = {
    "wan_t2v": "tiny_wan21_t2v.safetensors",
    "wan_i2v": "tiny_wan21_i2v.safetensors",
    "wan_flf": "tiny_wan21_flf.safetensors",
    "wan_vace": "tiny_wan21_vace.safetensors",
    "wan_camera": "tiny_wan21_fun_camera.safetensors",
    "wan_humo": "tiny_humo.safetensors",
    "wan_animate": "tiny_wan22_animate.safetensors",
    "wan_s2v": "tiny_wan22_s2v.safetensors",
    "vae": "tiny_wan21_vae.safetensors",
    "wan22_ti2v": "tiny_wan22_ti2v_5b.safetensors",
    "wan22_vae": "tiny_wan22_vae.safetensors",
    "umt5": "tiny_umt5.safetensors",
    "clip_vision": "tiny_clip_vision_h.safetensors",
    "lora": "tiny_wan21_lora.safetensors",
    "wan22_t2v_high": "tiny_wan22_t2v_high_noise.safetensors",
    "wan22_t2v_low": "tiny_wan22_t2v_low_noise.safetensors",
    "wan22_i2v_high": "tiny_wan22_i2v_high_noise.safetensors",
    "wan22_i2v_low": "tiny_wan22_i2v_low_noise.safetensors",
    "wan22_vace_high": "tiny_wan22_fun_vace_high_noise.safetensors",
    "wan22_vace_low": "tiny_wan22_fun_vace_low_noise.safetensors",
}
LORA_RANK = 4
# Wan 2.2 A14B expert pairs (Fun VACE 2.2 included): the two experts of a pair have one structure, that of
# Wan 2.1 14B, so a pair is two DiTs of one kind whose weights differ only by their seed. role -> (kind, seed)
EXPERT_DITS = {
    "wan22_t2v_high": ("wan_t2v", 101),
    "wan22_t2v_low": ("wan_t2v", 102),
    "wan22_i2v_high": ("wan22_i2v", 103),
    "wan22_i2v_low": ("wan22_i2v", 104),
    "wan22_vace_high": ("wan_vace", 105),
    "wan22_vace_low": ("wan_vace", 106),
}


def build_dit(role: str) -> dict[str, torch.Tensor]:
    kind, seed = EXPERT_DITS.get(role, (role, len(role)))
    return randomise(wan_dit(kind, DIT_DIM, DIT_LAYERS), seed=seed)


def build_vae() -> dict[str, torch.Tensor]:
    return randomise(wan_vae(8), seed=7)


def build_wan22_vae() -> dict[str, torch.Tensor]:
    """A Wan 2.2 VAE at width 8, marked so the tiny-models shim builds it at that width (ComfyUI builds 160/256)."""
    state = randomise(wan22_vae(TINY_WAN22_VAE_DIM), seed=17)
    state[TINY_WAN22_VAE_MARKER] = torch.tensor([TINY_WAN22_VAE_DIM])
    return state


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

    folders = {"vae": "vae", "wan22_vae": "vae", "umt5": "text_encoders", "clip_vision": "clip_vision", "lora": "loras"}
    builders = {
        "vae": build_vae,
        "wan22_vae": build_wan22_vae,
        "umt5": build_umt5,
        "clip_vision": build_clip_vision,
        "lora": build_lora,
    }
    for role, file_name in FILE_NAMES.items():
        folder = models_dir / folders.get(role, "diffusion_models")
        folder.mkdir(parents=True, exist_ok=True)
        state = builders[role]() if role in builders else build_dit(role)
        save_file(state, str(folder / file_name))
    return dict(FILE_NAMES)


def mount_pack(custom_nodes: Path) -> None:
    """The pack as ``custom_nodes/worldkit`` and the shims beside it (``tools/shims``: the tiny models' configs,
    a Load Audio where ComfyUI has none)."""
    custom_nodes.mkdir(parents=True, exist_ok=True)
    (custom_nodes / "worldkit").symlink_to(PACK_DIR, target_is_directory=True)
    for package in sorted(SHIMS_DIR.iterdir()):
        if (package / "__init__.py").is_file():
            (custom_nodes / f"worldkit_shim_{package.name}").symlink_to(package, target_is_directory=True)


def build_models(models_dir: Path, comfyui: Path, timeout_s: float = 600) -> dict[str, str]:
    """Role -> file name of the tiny models written under ``models_dir``, built in a process inside ComfyUI's
    folder (its modules import by their top-level names)."""
    paths = [str(comfyui), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    completed = subprocess.run(
        [sys.executable, "-m", "worldkit.tools.tiny_models", str(models_dir)],
        cwd=comfyui,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(paths)},
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"building tiny models failed:\n{completed.stdout}\n{completed.stderr}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    import comfy.cli_args

    comfy.cli_args.args.cpu = True
    torch.manual_seed(0)
    print(json.dumps(build_all(Path(sys.argv[1]))))


if __name__ == "__main__":
    main()
