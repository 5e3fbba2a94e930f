"""The model files the demo workflows load: the names, folders and sources ComfyUI's own Wan templates use."""

from __future__ import annotations

from dataclasses import dataclass

from .graph import Node, UIGraph

REPACKAGED = "https://huggingface.co/Comfy-Org/Wan_2.1_ComfyUI_repackaged/resolve/main/split_files"


@dataclass(frozen=True)
class ModelFile:
    name: str
    folder: str
    url: str
    what: str


VACE_14B = ModelFile(
    "wan2.1_vace_14B_fp16.safetensors",
    "diffusion_models",
    f"{REPACKAGED}/diffusion_models/wan2.1_vace_14B_fp16.safetensors",
    "Wan 2.1 VACE 14B: reference-to-video, keeps the world's entities (480p and 720p)",
)
ATI_14B = ModelFile(
    "Wan2_1-I2V-ATI-14B_fp8_e4m3fn.safetensors",
    "diffusion_models",
    "https://huggingface.co/Kijai/WanVideo_comfy/resolve/main/Wan2_1-I2V-ATI-14B_fp8_e4m3fn.safetensors",
    "Wan 2.1 ATI 14B: image-to-video that follows drawn trajectories",
)
WAN_MOVE_14B = ModelFile(
    "Wan21-WanMove_fp8_scaled_e4m3fn_KJ.safetensors",
    "diffusion_models",
    "https://huggingface.co/Kijai/WanVideo_comfy_fp8_scaled/resolve/main/WanMove/"
    "Wan21-WanMove_fp8_scaled_e4m3fn_KJ.safetensors",
    "Wan-Move 14B: image-to-video driven by dense point tracks",
)
UMT5 = ModelFile(
    "umt5_xxl_fp8_e4m3fn_scaled.safetensors",
    "text_encoders",
    f"{REPACKAGED}/text_encoders/umt5_xxl_fp8_e4m3fn_scaled.safetensors",
    "UMT5-XXL text encoder",
)
WAN_VAE = ModelFile("wan_2.1_vae.safetensors", "vae", f"{REPACKAGED}/vae/wan_2.1_vae.safetensors", "Wan 2.1 VAE")
CLIP_VISION_H = ModelFile(
    "clip_vision_h.safetensors",
    "clip_vision",
    f"{REPACKAGED}/clip_vision/clip_vision_h.safetensors",
    "CLIP ViT-H vision encoder: scores consistency, conditions image-to-video",
)

WEIGHT_DTYPES = {ATI_14B.name: "fp8_e4m3fn"}


def download_note(files: list[ModelFile]) -> str:
    lines = ["## Models to download", "", "Put each file in the folder named under `ComfyUI/models/`:", ""]
    for model in files:
        lines.append(f"- [{model.name}]({model.url}) → `models/{model.folder}/`  \n  {model.what}")
    lines += ["", "Headless: `python -m worldkit run` lists any of these that are missing before it starts."]
    return "\n".join(lines)


@dataclass
class Loaders:
    """Outputs of the model-loading step shared by every film."""

    model: Node
    clip: Node
    vae: Node
    clip_vision: Node


def load_models(graph: UIGraph, diffusion: ModelFile = VACE_14B, extra: tuple[ModelFile, ...] = ()) -> Loaders:
    """The 'Models' group: Wan DiT, UMT5, Wan VAE, CLIP vision and a note saying what to download and where."""
    graph.group("1 · Models")
    graph.note(download_note([diffusion, *extra, UMT5, WAN_VAE, CLIP_VISION_H]), title="Download these models")
    model = graph.node(
        "UNETLoader",
        title=f"Load {diffusion.what.split(':')[0]}",
        unet_name=diffusion.name,
        weight_dtype=WEIGHT_DTYPES.get(diffusion.name, "default"),
    )
    clip = graph.node("CLIPLoader", clip_name=UMT5.name, type="wan", device="default")
    vae = graph.node("VAELoader", vae_name=WAN_VAE.name)
    clip_vision = graph.node("CLIPVisionLoader", clip_name=CLIP_VISION_H.name)
    return Loaders(model, clip, vae, clip_vision)


def load_diffusion_model(graph: UIGraph, model: ModelFile) -> Node:
    return graph.node(
        "UNETLoader",
        title=f"Load {model.what.split(':')[0]}",
        unet_name=model.name,
        weight_dtype=WEIGHT_DTYPES.get(model.name, "default"),
    )
