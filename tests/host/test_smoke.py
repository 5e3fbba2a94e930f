"""The pack loads into real ComfyUI, lists its nodes, and runs beside ComfyUI's own Wan graph."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from graphs import composite_centred, encode_prompts, ksampler, load_clip_vision, saved_video, wan_conditioning

from worldkit.tools.prompt_graph import Graph, load_wan, out

PACK_NODE_PREFIX = "WorldKit"
FAMILIES = ("References", "Shots", "Motion", "Sampling", "GVFX")
NODES_DIR = Path(__file__).resolve().parents[2] / "nodes"


def worldkit_nodes(object_info: dict) -> dict[str, dict]:
    """Nodes ComfyUI loaded from the pack's module (the test-only packages are left out)."""
    return {name: info for name, info in object_info.items() if info.get("python_module") == "custom_nodes.worldkit"}


def declared_node_ids() -> set[str]:
    """Node ids the pack's source declares, read from nodes/ without importing ComfyUI here."""
    return {
        match for path in NODES_DIR.rglob("*.py") for match in re.findall(r'node_id="(WorldKit\w+)"', path.read_text())
    }


def test_object_info_lists_every_worldkit_node_with_its_schema(comfy):
    expected = declared_node_ids()
    listed = worldkit_nodes(comfy.object_info())
    assert expected, "the pack declares no nodes"
    assert set(listed) == expected, f"missing from the server: {sorted(expected - set(listed))}"
    for name, info in listed.items():
        assert name.startswith(PACK_NODE_PREFIX), name
        family = info["category"].split("/")
        assert family[0] == "WorldKit" and family[1] in FAMILIES, (name, info["category"])
        assert info["display_name"] and not info["display_name"].startswith(PACK_NODE_PREFIX), name
        assert "input" in info and "output" in info, name
    pack_import_failures = [
        line
        for line in comfy.log_tail(10_000).splitlines()
        if "Cannot import" in line and f"{os.sep}worldkit module" in line
    ]
    assert not pack_import_failures


def test_every_family_is_present(comfy):
    categories = {info["category"] for info in worldkit_nodes(comfy.object_info()).values()}
    assert {f"WorldKit/{family}" for family in FAMILIES} <= categories


def wan_conditioned_latent(graph: Graph, tiny_models: dict[str, str], dit: str) -> tuple[str, str, str]:
    """The conditioning node ComfyUI's own templates use for each tiny DiT kind."""
    model, clip, vae = load_wan(graph, tiny_models, dit)
    positive, negative = encode_prompts(graph, clip)
    size = {"width": 64, "height": 64, "length": 5, "batch_size": 1}
    image = graph.node("EmptyImage", width=64, height=64, batch_size=1, color=0x808080)
    if dit == "wan_vace":
        node = wan_conditioning(
            graph, "WanVaceToVideo", positive, negative, vae, size, strength=1.0, reference_image=out(image)
        )
    else:
        vision = graph.node(
            "CLIPVisionEncode", clip_vision=out(load_clip_vision(graph, tiny_models)), image=out(image), crop="center"
        )
        if dit == "wan_i2v":
            node = wan_conditioning(
                graph,
                "WanImageToVideo",
                positive,
                negative,
                vae,
                size,
                clip_vision_output=out(vision),
                start_image=out(image),
            )
        else:
            node = wan_conditioning(
                graph,
                "WanFirstLastFrameToVideo",
                positive,
                negative,
                vae,
                size,
                clip_vision_start_image=out(vision),
                clip_vision_end_image=out(vision),
                start_image=out(image),
                end_image=out(image),
            )
    return model, node, vae


@pytest.mark.parametrize("dit", ["wan_i2v", "wan_flf", "wan_vace"])
def test_tiny_models_load_and_sample_through_comfyui_nodes(comfy, tiny_models, dit):
    graph = Graph()
    model, conditioned, vae = wan_conditioned_latent(graph, tiny_models, dit)
    sampled = ksampler(graph, out(model), out(conditioned, 0), out(conditioned, 1), out(conditioned, 2))
    decoded = graph.node("VAEDecode", samples=out(sampled), vae=out(vae))
    graph.node("PreviewImage", images=out(decoded))
    result = comfy.run(graph.prompt())
    assert sampled in result.executed


def test_core_wan_t2v_graph_with_a_worldkit_node_writes_a_video(comfy, tiny_models):
    graph = Graph()
    model, clip, vae = load_wan(graph, tiny_models, "wan_t2v")
    positive, negative = encode_prompts(graph, clip)
    latent = graph.node("EmptyHunyuanLatentVideo", width=64, height=64, length=9, batch_size=1)
    sampled = ksampler(graph, out(model), out(positive), out(negative), out(latent))
    frames = graph.node("VAEDecode", samples=out(sampled), vae=out(vae))
    plate = graph.node("EmptyImage", width=64, height=64, batch_size=9, color=0x204060)
    matte = graph.node("SolidMask", value=1.0, width=64, height=64)
    composite = composite_centred(graph, out(plate), out(frames), out(matte), scale=0.5)
    video = graph.node("CreateVideo", images=out(composite), fps=16.0)
    graph.node("SaveVideo", video=out(video), filename_prefix="smoke/wan_t2v", format="mp4", codec="h264")
    frame_count, _, size, _ = saved_video(comfy, comfy.run(graph.prompt()))
    assert (frame_count, size) == (9, (64, 64))
