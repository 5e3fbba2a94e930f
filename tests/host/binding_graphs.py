"""Graph builders and tensor checks the Bind Shot host tests share."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass

import numpy as np
import torch
from graphs import wan_conditioning
from PIL import Image
from safetensors import safe_open
from safetensors.torch import load_file

from worldkit.tools.prompt_graph import Graph, load_wan, out

SIZE = 64
FRAMES = 9
LATENT_FRAMES = (FRAMES - 1) // 4 + 1
SIZE_INPUTS = {"width": SIZE, "height": SIZE, "length": FRAMES, "batch_size": 1}


ATI_TRACK = [[{"x": 8 + 2 * i, "y": 12 + i} for i in range(21)], [{"x": 50 - i, "y": 40 - i} for i in range(30)]]
# 162 points, as the track in ComfyUI's own ATI template: WanTrackToVideo reads the first 121
LONG_ATI_TRACK = [[{"x": 4 + 0.35 * i, "y": 10 + (i % 20) * 2} for i in range(162)], ATI_TRACK[1]]


def pattern(seed: int, width: int, height: int) -> np.ndarray:
    """A smooth colour pattern (upsampled noise), so resizing and encoding have something to act on."""
    generator = np.random.default_rng(seed)
    coarse = generator.random((4, 4, 3))
    image = Image.fromarray((coarse * 255).astype(np.uint8)).resize((width, height), Image.BILINEAR)
    return np.asarray(image)


def load_image(graph: Graph, comfy, name: str, seed: int, width: int = SIZE, height: int = SIZE) -> str:
    buffer = io.BytesIO()
    Image.fromarray(pattern(seed, width, height)).save(buffer, format="PNG")
    comfy.upload_image(buffer.getvalue(), f"{name}.png")
    return graph.node("LoadImage", image=f"{name}.png")


def world_of(graph: Graph, entities: list[tuple[str, str, str]]) -> str:
    """(name, kind, LoadImage id) triples -> a WORLD holding exactly those pixels."""
    images = {f"image_{i}": out(node) for i, (_, _, node) in enumerate(entities, start=1)}
    return graph.node("CaptureTestWorld", entities=",".join(f"{n}:{k}" for n, k, _ in entities), **images)


def shot(graph: Graph, entities: str, world: str | None = None, **overrides) -> str:
    widgets = dict(
        prompt="the skunk walks to the flame",
        entities=entities,
        shot_size="medium",
        angle="eye level",
        camera_move="static",
        lens_mm=35,
        lighting="night",
        mood="",
        duration="frames",
        frames=FRAMES,
        fps=16,
        resolution="custom",
        aspect="16:9",
        width=SIZE,
        height=SIZE,
        seed=0,
        continuity="cut",
        negative_prompt="blurry",
        name="test shot",
    )
    widgets.update(overrides)
    if world is not None:
        widgets["world"] = out(world)
    return graph.node("WorldKitShot", **widgets)


def bind(
    graph: Graph, model: str, vae: str, clip: str, world: str, shot_id: str, family: str = "auto", **optional
) -> str:
    """Bind Shot at its default strengths; ``optional`` adds inputs or overrides a widget (None leaves it out)."""
    widgets = dict(
        family=family,
        location_as="auto",
        views_per_entity=1,
        vace_strength=1.0,
        track_strength=1.0,
        ati_temperature=220.0,
        ati_topk=2,
    )
    widgets.update({k: v for k, v in optional.items() if v is not None})
    return graph.node(
        "WorldKitBindShot",
        model=out(model),
        vae=out(vae),
        clip=out(clip),
        world=out(world),
        shot=out(shot_id),
        **widgets,
    )


def native_prompts(graph: Graph, clip: str, shot_id: str) -> tuple[str, str]:
    """CLIPTextEncode of the Shot node's compiled prompt and negative prompt."""
    positive = graph.node("CLIPTextEncode", text=out(shot_id, 1), clip=out(clip))
    negative = graph.node("CLIPTextEncode", text=out(shot_id, 2), clip=out(clip))
    return positive, negative


def save(graph: Graph, name: str, **links) -> str:
    return graph.node("CaptureTestSaveTensors", name=name, **links)


def native_node(graph: Graph, class_type: str, positive: str, negative: str, vae: str, **inputs) -> str:
    """ComfyUI's own node for a family, at the test shot's size and length."""
    return wan_conditioning(graph, class_type, positive, negative, vae, SIZE_INPUTS, **inputs)


def save_conditioning(graph: Graph, name: str, node: str, slots: tuple[int, int, int] = (0, 1, 2), **links) -> str:
    """Capture a node's positive, negative and latent (the outputs at ``slots``) and any further ``links``."""
    positive, negative, latent = slots
    return save(
        graph, name, positive=out(node, positive), negative=out(node, negative), latent=out(node, latent), **links
    )


def saved(comfy, name: str) -> tuple[dict[str, torch.Tensor], dict]:
    path = comfy.output_dir / f"{name}.safetensors"
    with safe_open(str(path), framework="pt") as handle:
        scalars = json.loads(handle.metadata()["scalars"])
    return load_file(str(path)), scalars


def assert_tensor_equal(comfy, ours: str, native: str) -> tuple[dict[str, torch.Tensor], dict]:
    """Every tensor of our saved outputs equals the native node's, key for key; returns ours."""
    mine, my_scalars = saved(comfy, ours)
    theirs, _ = saved(comfy, native)
    assert sorted(mine) == sorted(theirs)
    for key in theirs:
        assert mine[key].shape == theirs[key].shape, key
        assert torch.equal(mine[key], theirs[key]), f"{key} differs (max {(mine[key] - theirs[key]).abs().max()})"
    return mine, my_scalars


def assert_matches_native(comfy, graph: Graph, name: str) -> tuple[dict[str, torch.Tensor], dict]:
    """Run the graph; what was saved as ``{name}_ours`` equals ``{name}_native`` tensor for tensor."""
    comfy.run(graph.prompt())
    return assert_tensor_equal(comfy, f"{name}_ours", f"{name}_native")


@dataclass
class OneReferenceScene:
    """A graph with a tiny Wan model, a one-entity world from a loaded image, and a Shot of that entity."""

    graph: Graph
    model: str
    clip: str
    vae: str
    image: str
    world: str
    shot: str


def one_reference_scene(
    comfy,
    tiny_models,
    dit: str,
    name: str,
    seed: int,
    entity: str = "forest",
    kind: str = "location",
    size: int = SIZE,
    **shot_widgets,
) -> OneReferenceScene:
    """``shot_widgets`` override the Shot's (its fps, say)."""
    graph = Graph()
    model, clip, vae = load_wan(graph, tiny_models, dit)
    image = load_image(graph, comfy, name, seed=seed, width=size, height=size)
    world = world_of(graph, [(entity, kind, image)])
    return OneReferenceScene(graph, model, clip, vae, image, world, shot(graph, entity, world, **shot_widgets))
