"""Workflows built by code are what the editor would save: positional widgets, links, groups, notes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from worldkit.headless.convert import api_path_for, ui_to_api
from worldkit.tools.authoring.films import FILMS
from worldkit.tools.authoring.graph import GraphError, UIGraph

OBJECT_INFO = json.loads((Path(__file__).parent / "data" / "object_info_core.json").read_text())
WORKFLOWS_DIR = Path(__file__).resolve().parents[2] / "workflows"


def small_graph() -> UIGraph:
    graph = UIGraph(OBJECT_INFO)
    graph.group("Load models")
    graph.note("Put the models in ComfyUI/models.", title="Models")
    unet = graph.node("UNETLoader", unet_name="tiny_t2v.safetensors")
    clip = graph.node("CLIPLoader", clip_name="tiny_umt5.safetensors", type="wan")
    graph.group("Sample")
    positive = graph.node("CLIPTextEncode", title="Prompt", text="a skunk", clip=clip.out("CLIP"))
    latent = graph.node("EmptyHunyuanLatentVideo", width=1280, height=720, length=81)
    graph.node(
        "KSampler",
        model=unet.out(),
        seed=5,
        positive=positive.out(),
        negative=positive.out(),
        latent_image=latent.out("LATENT"),
    )
    return graph


def test_widgets_are_written_in_editor_order_with_control_values():
    nodes = {n["type"]: n for n in small_graph().to_json()["nodes"]}
    assert nodes["KSampler"]["widgets_values"] == [5, "fixed", 20, 8.0, "euler", "simple", 1.0]
    assert nodes["UNETLoader"]["widgets_values"] == ["tiny_t2v.safetensors", "default"]
    assert nodes["CLIPLoader"]["widgets_values"] == ["tiny_umt5.safetensors", "wan", "default"]
    assert nodes["MarkdownNote"]["widgets_values"] == ["Put the models in ComfyUI/models."]


def test_built_graph_converts_to_the_expected_api_prompt():
    prompt = ui_to_api(small_graph().to_json(), OBJECT_INFO)
    assert set(prompt) == {"2", "3", "4", "5", "6"}, "the note is not part of the prompt"
    assert prompt["6"]["inputs"] == {
        "seed": 5,
        "steps": 20,
        "cfg": 8.0,
        "sampler_name": "euler",
        "scheduler": "simple",
        "denoise": 1.0,
        "model": ["2", 0],
        "positive": ["4", 0],
        "negative": ["4", 0],
        "latent_image": ["5", 0],
    }
    assert prompt["4"] == {
        "class_type": "CLIPTextEncode",
        "inputs": {"text": "a skunk", "clip": ["3", 0]},
        "_meta": {"title": "Prompt"},
    }
    assert prompt["5"]["inputs"] == {"width": 1280, "height": 720, "length": 81, "batch_size": 1}


def test_links_and_groups_are_consistent():
    workflow = small_graph().to_json()
    nodes = {n["id"]: n for n in workflow["nodes"]}
    for link_id, origin, origin_slot, target, target_slot, type_ in workflow["links"]:
        assert link_id in nodes[origin]["outputs"][origin_slot]["links"]
        assert nodes[target]["inputs"][target_slot]["link"] == link_id
        assert nodes[target]["inputs"][target_slot]["type"] == type_
    assert [g["title"] for g in workflow["groups"]] == ["Load models", "Sample"]
    for group in workflow["groups"]:
        x, y, w, h = group["bounding"]
        members = [n for n in workflow["nodes"] if x <= n["pos"][0] < x + w]
        assert members and all(n["pos"][1] + n["size"][1] <= y + h for n in members)
    orders = {n["id"]: n["order"] for n in workflow["nodes"]}
    for _, origin, _, target, _, _ in workflow["links"]:
        assert orders[origin] < orders[target]


def test_unknown_nodes_inputs_and_outputs_are_errors():
    graph = UIGraph(OBJECT_INFO)
    with pytest.raises(GraphError, match="no node 'WorldKitNothing'"):
        graph.node("WorldKitNothing")
    with pytest.raises(GraphError, match="has no input"):
        graph.node("KSampler", sed=1)
    with pytest.raises(GraphError, match="no output 'IMAGE'"):
        graph.node("UNETLoader").out("IMAGE")
    with pytest.raises(GraphError, match="is a socket"):
        graph.node("KSampler", model="not a link")


def test_every_film_has_a_ui_file_and_an_api_twin_and_nothing_else():
    for name in FILMS:
        ui_path = WORKFLOWS_DIR / f"{name}.json"
        assert ui_path.is_file(), f"run `python -m worldkit.tools.authoring.build` to write {name}"
        assert api_path_for(ui_path).is_file()
    assert {p.stem for p in WORKFLOWS_DIR.glob("*.json")} == set(FILMS)
    assert {p.stem for p in (WORKFLOWS_DIR / "api").glob("*.json")} == set(FILMS)
