"""The 'Models' step of every film: loader nodes that carry their download links, for the variant being built.

The files themselves (names, folders, sources, sizes, hashes) live in the pack's one catalog,
headless/catalog.py, which `python -m worldkit models` and the runner read too.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...headless.catalog import (
    ATI_14B,
    CLIP_VISION_H,
    UMT5,
    WAN_MOVE_14B,
    WEIGHT_DTYPES,
    ModelFile,
    total_download,
)
from .graph import Node, Output
from .variants import FilmGraph

__all__ = ["ATI_14B", "WAN_MOVE_14B", "Diffusion", "Loaders", "load_diffusion_model", "load_models", "track_model"]

EASYCACHE = {"reuse_threshold": 0.2, "start_percent": 0.15, "end_percent": 0.95, "verbose": False}


@dataclass
class Diffusion:
    """A Wan DiT ready to sample (loaded, with the variant's LoRA or cache applied) and the file it came from;
    for a Wan 2.2 A14B pair, `node` is the high-noise expert and `low` the low-noise one."""

    node: Node
    file: ModelFile
    low: Node | None = None

    def out(self, name: str | int = 0) -> Output:
        return self.node.out(name)


@dataclass
class Loaders:
    """Outputs of the model-loading step shared by every film."""

    model: Diffusion
    clip: Node
    vae: Node
    clip_vision: Node


def download_note(files: list[ModelFile]) -> str:
    lines = ["## Models to download", "", "Put each file in the folder named under `ComfyUI/models/`:", ""]
    for model in files:
        size = f" ({model.size})" if model.size else ""
        lines.append(f"- [{model.name}]({model.url}){size} → `models/{model.directory}/`  \n  {model.what}")
    lines += [
        "",
        f"In all {total_download(model.size for model in files)} to download. Or in one step: "
        "`python -m worldkit models <this workflow> --download`.",
    ]
    return "\n".join(lines)


def loader(graph: FilmGraph, class_type: str, file: ModelFile, title: str | None = None, **inputs) -> Node:
    """A loader node whose `properties.models` entry lets the editor offer the file's download."""
    node = graph.node(class_type, title=title, **inputs)
    node.models.append(file.entry())
    return node


def load_unet(graph: FilmGraph, model: ModelFile) -> Node:
    return loader(
        graph,
        "UNETLoader",
        model,
        title=f"Load {model.title}",
        unet_name=model.name,
        weight_dtype=WEIGHT_DTYPES.get(model.name, "default"),
    )


def load_diffusion_model(graph: FilmGraph, model: ModelFile) -> Diffusion:
    """UNETLoader, then the fast variant's step-distillation LoRA (14B) or EasyCache (the small model); the
    variant's world model loads with its low-noise expert when it has one."""
    node = load_unet(graph, model)
    variant = graph.variant
    if model == variant.world_model and variant.low_noise_model is not None:
        return Diffusion(node, model, load_unet(graph, variant.low_noise_model))
    if variant.distills(model):
        lora = variant.distill_lora
        node = loader(
            graph,
            "LoraLoaderModelOnly",
            lora,
            title="Step distillation (4 steps, no CFG)",
            model=node.out("MODEL"),
            lora_name=lora.name,
            strength_model=1.0,
        )
    elif variant.easycache:
        node = graph.node("EasyCache", title="EasyCache: reuse steps that barely change", model=node.out(), **EASYCACHE)
    return Diffusion(node, model)


def load_models(graph: FilmGraph, diffusion: ModelFile | None = None, extra: tuple[ModelFile, ...] = ()) -> Loaders:
    """The 'Models' group: Wan DiT (the variant's world model unless given; a track model only where the variant
    keeps it), UMT5, the variant's VAE, CLIP vision, and a note listing what to download and where."""
    variant = graph.variant
    diffusion = variant.tracked(diffusion) if diffusion else variant.world_model
    extra = tuple(m for m in dict.fromkeys(variant.tracked(m) for m in extra) if m != diffusion)
    graph.group("1 · Models")
    experts = [variant.low_noise_model] if diffusion == variant.world_model and variant.low_noise_model else []
    loras = [variant.distill_lora] if any(variant.distills(m) for m in (diffusion, *extra)) else []
    files = [diffusion, *experts, *extra, *loras, UMT5, variant.vae, CLIP_VISION_H]
    graph.note(download_note(files), title="Download these models")
    model = load_diffusion_model(graph, diffusion)
    clip = loader(graph, "CLIPLoader", UMT5, clip_name=UMT5.name, type="wan", device="default")
    vae = loader(graph, "VAELoader", variant.vae, vae_name=variant.vae.name)
    clip_vision = loader(graph, "CLIPVisionLoader", CLIP_VISION_H, clip_name=CLIP_VISION_H.name)
    return Loaders(model, clip, vae, clip_vision)


def track_model(graph: FilmGraph, models: Loaders, model: ModelFile) -> Diffusion:
    """The model a track-driven shot renders on: `model` loaded, or the loaded world model in a variant that has
    no track model."""
    tracked = graph.variant.tracked(model)
    return models.model if tracked == models.model.file else load_diffusion_model(graph, tracked)
