"""Reference nodes in a real ComfyUI: tiny Wan VAE and CLIP-vision encoding, the cache, the library, the contact
sheet."""

from __future__ import annotations

import io
import json
import uuid

import numpy as np
import pytest
import torch
from client import ExecutionFailed
from graphs import load_clip_vision, reference_node
from PIL import Image
from safetensors.torch import load_file, save_file

from worldkit.models.world.entities import Reference
from worldkit.models.world.library import load_world, save_world
from worldkit.tools.prompt_graph import Graph, out

REFERENCE_NODES = {
    "WorldKitReference",
    "WorldKitEncodeReferences",
    "WorldKitWorld",
    "WorldKitAddToWorld",
    "WorldKitSaveWorld",
    "WorldKitLoadWorld",
    "WorldKitPreviewWorld",
}
WIDTH, HEIGHT = 64, 48


def png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def cutout_png() -> bytes:
    """A striped subject on a transparent background: LoadImage's MASK is 1 outside it."""
    rgba = np.zeros((60, 80, 4), dtype=np.uint8)
    rgba[15:45, 25:55, 0] = 200
    rgba[15:45, 25:55, 1] = np.arange(30, dtype=np.uint8)[:, None] * 8
    rgba[15:45, 25:55, 3] = 255
    return png(rgba)


def plate_png() -> bytes:
    ys, xs = np.mgrid[0:72, 0:96]
    return png(np.stack([xs * 2, ys * 3, (xs + ys) % 255], axis=-1).astype(np.uint8))


@pytest.fixture(scope="module")
def images(comfy) -> dict[str, str]:
    return {
        "subject": comfy.upload_image(cutout_png(), "worldkit_skunk.png"),
        "plate": comfy.upload_image(plate_png(), "worldkit_forest.png"),
    }


def reference_graph(graph: Graph, images: dict[str, str], description: str = "a small skunk") -> tuple[str, str]:
    """Two references (a masked character and a location plate) gathered into a world; returns (world, plate ref)."""
    subject_image = graph.node("LoadImage", image=images["subject"])
    plate_image = graph.node("LoadImage", image=images["plate"])
    skunk = reference_node(
        graph,
        subject_image,
        "skunk",
        "character",
        WIDTH,
        HEIGHT,
        description=description,
        mask=out(subject_image, 1),
        invert_mask=True,
        remove_background=True,
    )
    forest = reference_node(
        graph, plate_image, "forest", "location", WIDTH, HEIGHT, description="a night forest", remove_background=True
    )
    world = graph.node("WorldKitWorld", reference_1=out(skunk), reference_2=out(forest))
    return world, forest


def encode(graph: Graph, source: list, vae: str, clip_vision: str | None = None) -> str:
    inputs = {"references": source, "vae": out(vae), "width": WIDTH, "height": HEIGHT}
    if clip_vision is not None:
        inputs["clip_vision"] = out(clip_vision)
    return graph.node("WorldKitEncodeReferences", **inputs)


def save_native_clip_vision(
    graph: Graph, tiny_models: dict[str, str], image: list, clip_vision: str, vae: str, name: str
) -> None:
    """ComfyUI's own CLIPVisionEncode of ``image``, carried by WanImageToVideo's conditioning into a file."""
    clip = graph.node("CLIPLoader", clip_name=tiny_models["umt5"], type="wan", device="default")
    text = graph.node("CLIPTextEncode", text="a night forest", clip=out(clip))
    vision = graph.node("CLIPVisionEncode", clip_vision=out(clip_vision), image=image, crop="center")
    conditioned = graph.node(
        "WanImageToVideo",
        positive=out(text),
        negative=out(text),
        vae=out(vae),
        width=WIDTH,
        height=HEIGHT,
        length=1,
        batch_size=1,
        clip_vision_output=out(vision),
    )
    graph.node("CaptureTestSaveTensors", name=f"{name}_clip", positive=out(conditioned))


def report(result, node_id: str) -> dict:
    return json.loads(result.outputs[node_id]["text"][0])


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def combo_options(spec: list) -> list[str]:
    """A dropdown's choices from /object_info, in either the list form or the COMBO form."""
    return spec[0] if isinstance(spec[0], list) else spec[1]["options"]


def saved_tensors(comfy, world_name: str) -> dict[str, torch.Tensor]:
    folder = comfy.output_dir / "worlds" / world_name
    manifest = json.loads((folder / "world.json").read_text())
    return load_file(str(folder / manifest["tensor_file"]))


def test_reference_nodes_are_listed_under_references(comfy):
    info = comfy.object_info()
    assert set(info) >= REFERENCE_NODES
    assert {info[name]["category"] for name in REFERENCE_NODES} == {"WorldKit/References"}
    assert info["WorldKitSaveWorld"]["output_node"] and info["WorldKitPreviewWorld"]["output_node"]


def test_encoding_through_a_real_graph_matches_comfyui_and_the_cache_skips_unchanged_views(comfy, tiny_models, images):
    name = unique("forest")

    def build(description: str) -> tuple[Graph, str]:
        graph = Graph()
        world, forest = reference_graph(graph, images, description)
        vae = graph.node("VAELoader", vae_name=tiny_models["vae"])
        clip_vision = load_clip_vision(graph, tiny_models)
        encoded = encode(graph, out(world), vae, clip_vision)
        graph.node("WorldKitSaveWorld", world=out(encoded), world_name=name, overwrite=True)
        native = graph.node("VAEEncode", pixels=out(forest, 1), vae=out(vae))
        graph.node("SaveLatent", samples=out(native), filename_prefix=f"latents/{name}")
        save_native_clip_vision(graph, tiny_models, out(forest, 1), clip_vision, vae, name)
        return graph, encoded

    graph, encoded = build("a small skunk")
    first = comfy.run(graph.prompt())
    counts = report(first, encoded)
    assert (counts["vae_encoded"], counts["clip_encoded"], counts["cache_hits"]) == (2, 2, 0)
    assert counts["entities"] == ["skunk", "forest"]

    tensors = saved_tensors(comfy, name)
    assert tensors["e0.views"].shape == (1, HEIGHT, WIDTH, 3) and tensors["e0.masks"].shape == (1, HEIGHT, WIDTH)
    assert tensors["e0.enc0.latents"].shape == (1, 16, 1, HEIGHT // 8, WIDTH // 8)
    assert tensors["e0.enc0.clip_penultimate"].shape[0] == 1 and tensors["e0.enc0.clip_penultimate"].ndim == 3
    assert not torch.equal(tensors["e0.enc0.clip_embeds"], tensors["e1.enc0.clip_embeds"])
    native_file = next((comfy.output_dir / "latents").glob(f"{name}_*.latent"))
    native = load_file(str(native_file))["latent_tensor"]
    assert torch.equal(tensors["e1.enc0.latents"], native), "a location plate must encode exactly as VAEEncode does"
    native_clip = load_file(str(comfy.output_dir / f"{name}_clip.safetensors"))
    assert torch.equal(
        tensors["e1.enc0.clip_penultimate"], native_clip["positive.0.clip_vision_output.penultimate_hidden_states"]
    ), "CLIP-vision embeddings must equal CLIPVisionEncode(crop=center) of the same view"
    subject_view = tensors["e0.views"][0]
    assert torch.allclose(subject_view[0, 0], torch.ones(3)), "background removed to white"

    graph, encoded = build("a small skunk with a white stripe")
    second = comfy.run(graph.prompt())
    assert encoded in second.executed
    counts = report(second, encoded)
    assert (counts["vae_encoded"], counts["clip_encoded"], counts["cache_hits"]) == (0, 0, 4)
    assert counts["totals_since_start"]["vae_encoded"] >= 2


def test_save_then_load_through_the_api_encodes_nothing(comfy, tiny_models, images):
    name = unique("library")
    graph = Graph()
    world, _ = reference_graph(graph, images)
    vae = graph.node("VAELoader", vae_name=tiny_models["vae"])
    encoded = encode(graph, out(world), vae, load_clip_vision(graph, tiny_models))
    graph.node("WorldKitSaveWorld", world=out(encoded), world_name=name, overwrite=True)
    comfy.run(graph.prompt())

    assert name in combo_options(comfy.object_info()["WorldKitLoadWorld"]["input"]["required"]["world_name"])

    graph = Graph()
    vae = graph.node("VAELoader", vae_name=tiny_models["vae"])
    loaded = graph.node("WorldKitLoadWorld", world_name=name, vae=out(vae), discard_mismatched_latents=False)
    encoded = encode(graph, out(loaded), vae, load_clip_vision(graph, tiny_models))
    graph.node("WorldKitPreviewWorld", world=out(encoded), cell_width=160, columns=0)
    result = comfy.run(graph.prompt())
    counts = report(result, encoded)
    assert (counts["vae_encoded"], counts["clip_encoded"], counts["cache_hits"], counts["reused"]) == (0, 0, 0, 2)
    assert f"Loaded world '{name}'" in result.outputs[loaded]["text"][0]


def save_encoded_world(comfy, tiny_models: dict[str, str], images: dict[str, str], name: str) -> str:
    """Encode the two-reference world with the tiny VAE and save it under ``name``."""
    graph = Graph()
    world, _ = reference_graph(graph, images)
    vae = graph.node("VAELoader", vae_name=tiny_models["vae"])
    graph.node("WorldKitSaveWorld", world=out(encode(graph, out(world), vae)), world_name=name, overwrite=True)
    comfy.run(graph.prompt())
    return name


def preview_saved(name: str) -> tuple[Graph, str]:
    graph = Graph()
    loaded = graph.node("WorldKitLoadWorld", world_name=name, discard_mismatched_latents=False)
    graph.node("WorldKitPreviewWorld", world=out(loaded), cell_width=160, columns=0)
    return graph, loaded


def test_adding_to_a_loaded_world_encodes_only_the_new_reference(comfy, tiny_models, images):
    name = save_encoded_world(comfy, tiny_models, images, unique("grown"))

    graph = Graph()
    vae = graph.node("VAELoader", vae_name=tiny_models["vae"])
    loaded = graph.node("WorldKitLoadWorld", world_name=name, vae=out(vae), discard_mismatched_latents=False)
    picture = graph.node("LoadImage", image=images["plate"])
    lamp = reference_node(
        graph, picture, "lamp", "object", WIDTH, HEIGHT, description="a lamp", margin=0.2, background="grey"
    )
    grown = graph.node("WorldKitAddToWorld", world=out(loaded), reference=out(lamp), replace_existing=False)
    encoded = encode(graph, out(grown), vae)
    graph.node("WorldKitSaveWorld", world=out(encoded), world_name=name, overwrite=True)
    counts = report(comfy.run(graph.prompt()), encoded)
    assert counts["entities"] == ["skunk", "forest", "lamp"]
    assert (counts["vae_encoded"], counts["reused"]) == (1, 2)
    assert saved_tensors(comfy, name)["e2.enc0.latents"].shape == (1, 16, 1, HEIGHT // 8, WIDTH // 8)


def test_load_world_reads_the_library_again_when_the_world_is_saved_again(comfy, tiny_models, images):
    name = unique("revised")
    graph = Graph()
    world, _ = reference_graph(graph, images)
    graph.node("WorldKitSaveWorld", world=out(world), world_name=name, overwrite=True)
    comfy.run(graph.prompt())
    preview, loader = preview_saved(name)
    assert loader in comfy.run(preview.prompt()).executed
    assert loader not in comfy.run(preview.prompt()).executed, "an unchanged library world stays cached"

    root = comfy.output_dir / "worlds"
    revised = load_world(root, name)
    extra = Reference(name="moth", kind="object", description="", views=torch.rand(1, HEIGHT, WIDTH, 3))
    save_world(revised.with_reference(extra), root, name)
    reloaded = comfy.run(preview.prompt())
    assert loader in reloaded.executed, "a re-saved world is read again, not served from ComfyUI's cache"
    assert "moth" in reloaded.outputs[loader]["text"][0]


def test_latents_from_another_vae_are_refused_until_re_encoded(comfy, tiny_models, images):
    name = save_encoded_world(comfy, tiny_models, images, unique("foreign"))

    vae_folder = comfy.base_dir / "models" / "vae"
    weights = load_file(str(vae_folder / tiny_models["vae"]))
    weights["encoder.conv1.weight"] = weights["encoder.conv1.weight"] * 1.5
    other_vae = f"{unique('other_vae')}.safetensors"
    save_file(weights, str(vae_folder / other_vae))

    graph = Graph()
    other = graph.node("VAELoader", vae_name=other_vae)
    loaded = graph.node("WorldKitLoadWorld", world_name=name, vae=out(other), discard_mismatched_latents=False)
    graph.node("WorldKitPreviewWorld", world=out(loaded), cell_width=160, columns=0)
    refused = comfy.run(graph.prompt(), expect_error=True)
    assert refused.error["node_type"] == "WorldKitLoadWorld"
    assert "different VAE" in refused.error["exception_message"]
    assert "Re-encode" in refused.error["exception_message"]

    graph = Graph()
    other = graph.node("VAELoader", vae_name=other_vae)
    loaded = graph.node("WorldKitLoadWorld", world_name=name, vae=out(other), discard_mismatched_latents=True)
    encoded = encode(graph, out(loaded), other)
    graph.node("WorldKitSaveWorld", world=out(encoded), world_name=name, overwrite=True)
    counts = report(comfy.run(graph.prompt()), encoded)
    assert (counts["vae_encoded"], counts["reused"]) == (2, 0)


def test_preview_world_sheet_size_and_labels(comfy, images):
    graph = Graph()
    world, _ = reference_graph(graph, images)
    preview = graph.node("WorldKitPreviewWorld", world=out(world), cell_width=160, columns=0)
    result = comfy.run(graph.prompt())
    ui = result.outputs[preview]
    assert ui["text"] == ["skunk — character · 1 view", "forest — location · 1 view"]
    image = ui["images"][0]
    sheet = Image.open(io.BytesIO(comfy.view(image["filename"], image["subfolder"], image["type"])))
    # two cells side by side: 2 x 160 + 3 gaps of 8; one row of 90 (16:9 tiles) + 44 caption + 2 gaps
    assert sheet.size == (344, 150)
    pixels = np.asarray(sheet.convert("RGB"))
    centre = pixels[8 + 45, 8 + 80]
    assert centre[0] > 150 and centre[2] < 60, "the red subject sits at the centre of its cell"
    assert (pixels[8 + 90 : 8 + 134, 8:168].max(axis=-1) > 200).sum() > 30, "the caption holds text"


def test_duplicate_names_are_an_error_naming_both_inputs(comfy, images):
    graph = Graph()
    image = graph.node("LoadImage", image=images["plate"])
    first = reference_node(graph, image, "lamp", "object", WIDTH, HEIGHT)
    second = reference_node(graph, image, "lamp", "character", WIDTH, HEIGHT)
    world = graph.node("WorldKitWorld", reference_1=out(first), reference_3=out(second))
    graph.node("WorldKitPreviewWorld", world=out(world), cell_width=160, columns=0)
    result = comfy.run(graph.prompt(), expect_error=True)
    assert "'reference_1' and 'reference_3' are both named 'lamp'" in result.error["exception_message"]


@pytest.mark.parametrize("bad_name", ["../escape", "/tmp/escape", "C:\\escape", "a/b"])
def test_unsafe_world_names_are_refused_before_anything_runs(comfy, images, bad_name):
    graph = Graph()
    world, _ = reference_graph(graph, images)
    graph.node("WorldKitSaveWorld", world=out(world), world_name=bad_name, overwrite=True)
    with pytest.raises(ExecutionFailed, match="not allowed"):
        comfy.run(graph.prompt())
    assert not (comfy.output_dir / "escape").exists() and not (comfy.output_dir.parent / "escape").exists()


def test_loading_a_world_that_does_not_exist_names_the_saved_ones(comfy):
    graph = Graph()
    loaded = graph.node("WorldKitLoadWorld", world_name=unique("nowhere"), discard_mismatched_latents=False)
    graph.node("WorldKitPreviewWorld", world=out(loaded), cell_width=160, columns=0)
    result = comfy.run(graph.prompt(), expect_error=True)
    assert "No saved world named" in result.error["exception_message"]
