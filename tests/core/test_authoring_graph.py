"""Workflows built by code are what the editor would save: positional widgets, links, groups, notes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFont

from worldkit.demo_inputs import demo_files
from worldkit.headless.catalog import (
    ATI_14B,
    CATALOG,
    CLIP_VISION_H,
    FUN_VACE_22_HIGH,
    FUN_VACE_22_LOW,
    TI2V_5B,
    UMT5,
    VACE_1_3B,
    WAN22_VAE,
    WAN_VAE,
)
from worldkit.headless.convert import api_path_for, ui_to_api
from worldkit.headless.model_files import LOADER_WIDGETS
from worldkit.headless.requirements import input_files
from worldkit.tools.authoring.catalog import download_note
from worldkit.tools.authoring.films import FILMS, SUMMARIES, WORKFLOWS
from worldkit.tools.authoring.graph import GraphError, UIGraph
from worldkit.tools.authoring.thumbnails import SIZE, caption, render

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


def test_every_film_has_a_ui_file_and_an_api_twin_in_every_variant_and_nothing_else():
    every = {name + suffix for name in FILMS for suffix in ("", "_fast", "_wan22", "_wan22_5b")}
    # new_york_animals' one generated shot follows tracks on Wan-Move, which its full variant already loads;
    # street_performer renders on Wan 2.2 Animate in its full and fast variants already
    repeats = {"new_york_animals_wan22", "street_performer_wan22", "street_performer_wan22_5b"}
    assert set(WORKFLOWS) == every - repeats
    for name in WORKFLOWS:
        ui_path = WORKFLOWS_DIR / f"{name}.json"
        assert ui_path.is_file(), f"run `python -m worldkit.tools.authoring.build` to write {name}"
        assert api_path_for(ui_path).is_file()
    assert {p.stem for p in WORKFLOWS_DIR.glob("*.json")} == set(WORKFLOWS)
    assert {p.stem for p in (WORKFLOWS_DIR / "api").glob("*.json")} == set(WORKFLOWS)


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_every_loader_carries_its_download_link_from_the_catalog_in_the_ui_file_and_the_twin(name):
    ui = json.loads((WORKFLOWS_DIR / f"{name}.json").read_text())
    api = json.loads(api_path_for(WORKFLOWS_DIR / f"{name}.json").read_text())
    loaders = [node for node in ui["nodes"] if node["type"] in LOADER_WIDGETS]
    assert len(loaders) >= 4
    for node in loaders:
        file_name = node["widgets_values"][0]
        assert node["properties"]["models"] == [CATALOG[file_name].entry()], node["type"]
        assert api[str(node["id"])]["_meta"]["models"] == node["properties"]["models"]


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_the_demo_inputs_are_named_in_the_folder_the_pack_places_them_in(name):
    api = json.loads(api_path_for(WORKFLOWS_DIR / f"{name}.json").read_text())
    names = [file for _, file in input_files(api)]
    assert names and all(file.startswith("worldkit/") for file in names)
    assert {file.removeprefix("worldkit/") for file in names} <= {p.name for p in demo_files()}


def test_the_fast_variant_tells_the_same_story_on_the_small_model_at_480p():
    full = json.loads(api_path_for(WORKFLOWS_DIR / "the_herd.json").read_text())
    fast = json.loads(api_path_for(WORKFLOWS_DIR / "the_herd_fast.json").read_text())

    def shots(prompt):
        return [e["inputs"] for e in prompt.values() if e["class_type"] == "WorldKitShot"]

    assert [s["prompt"] for s in shots(full)] == [s["prompt"] for s in shots(fast)]
    assert {(s["width"], s["height"]) for s in shots(full)} == {(1280, 720)}
    assert {(s["width"], s["height"]) for s in shots(fast)} == {(832, 480)}
    unets = {e["inputs"]["unet_name"] for e in fast.values() if e["class_type"] == "UNETLoader"}
    assert unets == {"wan2.1_vace_1.3B_fp16.safetensors"}
    assert any(e["class_type"] == "EasyCache" for e in fast.values())
    assert not any(e["class_type"] == "EasyCache" for e in full.values())


def shots_and_loaders(name: str) -> tuple[list[dict], dict[str, set]]:
    """A workflow's Shot nodes' inputs, and the files its loaders load by class."""
    prompt = json.loads(api_path_for(WORKFLOWS_DIR / f"{name}.json").read_text())
    shots = [e["inputs"] for e in prompt.values() if e["class_type"] == "WorldKitShot"]
    loaded: dict[str, set] = {}
    for entry in prompt.values():
        for key in ("unet_name", "vae_name"):
            if key in entry["inputs"]:
                loaded.setdefault(key, set()).add(entry["inputs"][key])
    return shots, loaded


def test_the_wan22_variants_tell_the_same_story_on_the_experts_and_on_the_5b():
    full, _ = shots_and_loaders("lonely_little_flame")
    experts, on_experts = shots_and_loaders("lonely_little_flame_wan22")
    small, on_5b = shots_and_loaders("lonely_little_flame_wan22_5b")
    assert [s["prompt"] for s in full] == [s["prompt"] for s in experts] == [s["prompt"] for s in small]
    assert {(s["width"], s["height"], s["fps"]) for s in experts} == {(1280, 720, 16)}
    assert {(s["width"], s["height"], s["fps"]) for s in small} == {(1280, 704, 24)}
    assert on_experts == {
        "unet_name": {FUN_VACE_22_HIGH.name, FUN_VACE_22_LOW.name, ATI_14B.name},  # ATI: no Wan 2.2 follows tracks
        "vae_name": {WAN_VAE.name},  # the A14B experts take the Wan 2.1 VAE
    }
    assert on_5b == {"unet_name": {TI2V_5B.name}, "vae_name": {WAN22_VAE.name}}


def test_every_sampler_of_an_a14b_variant_switches_experts_where_comfyuis_templates_do():
    prompt = json.loads(api_path_for(WORKFLOWS_DIR / "wooden_toy_nyc_wan22.json").read_text())
    high, low = (
        [k for k, e in prompt.items() if e["inputs"].get("unet_name") == f.name]
        for f in (FUN_VACE_22_HIGH, FUN_VACE_22_LOW)
    )
    samplers = [e["inputs"] for e in prompt.values() if e["class_type"] == "WorldKitWorldShotSampler"]
    assert samplers and all(
        (s["model"], s["low_noise_model"], s["switch_step"]) == ([*high, 0], [*low, 0], 10) for s in samplers
    )
    pair = [e["inputs"] for e in prompt.values() if e["class_type"] == "KSamplerAdvanced"]
    assert [
        (p["model"][0], p["add_noise"], p["start_at_step"], p["end_at_step"], p["return_with_leftover_noise"])
        for p in pair
    ] == [
        (*high, "enable", 0, 10, "enable"),
        (*low, "disable", 10, 10000, "disable"),
    ]
    assert {(p["steps"], p["cfg"], p["sampler_name"]) for p in pair} == {(20, 3.5, "euler")}


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_every_workflow_has_the_thumbnail_its_inputs_draw(name):
    film, variant = WORKFLOWS[name]
    ui = json.loads((WORKFLOWS_DIR / f"{name}.json").read_text())
    drawn = np.asarray(render(ui, caption(film, variant, ui)), dtype=np.float32)
    shipped = np.asarray(Image.open(WORKFLOWS_DIR / f"{name}.jpg").convert("RGB"), dtype=np.float32)
    assert shipped.shape == drawn.shape == (SIZE[1], SIZE[0], 3)
    assert np.abs(shipped - drawn).mean() < 3.0, "regenerate with `python -m worldkit.tools.authoring.build`"
    assert drawn.std() > 20, "the thumbnail shows the film's pictures, not a blank frame"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("new_york_animals_fast", "new york animals  ·  fast 480p  ·  Wan-Move 14B"),
        ("lonely_little_flame_fast", "lonely little flame  ·  fast 480p  ·  VACE 1.3B + ATI 14B"),
        ("the_herd_fast", "the herd  ·  fast 480p  ·  VACE 1.3B"),
        ("the_herd", "the herd  ·  full 720p  ·  VACE 14B"),
        ("lonely_little_flame_wan22", "lonely little flame  ·  wan22 720p  ·  Wan 2.2 Fun VACE A14B + ATI 14B"),
        ("the_herd_wan22_5b", "the herd  ·  wan22 5B 1280x704  ·  Wan 2.2 TI2V 5B"),
    ],
)
def test_the_thumbnail_names_the_models_the_workflow_loads_not_the_variant(name, expected):
    film, variant = WORKFLOWS[name]
    title, summary = caption(film, variant, json.loads((WORKFLOWS_DIR / f"{name}.json").read_text())).split("\n")
    assert title == expected and summary == SUMMARIES[film]


def test_every_film_says_what_it_is_in_a_line_that_fits_the_thumbnail():
    assert set(SUMMARIES) == set(FILMS)
    for film, summary in SUMMARIES.items():
        assert summary and film.replace("_", " ") not in summary, "say what the film is, not its name"
        assert ImageFont.load_default(size=15).getlength(summary) < SIZE[0] - 28, f"{film}: shorten the summary"


def test_the_download_note_gives_each_files_size_and_the_total():
    note = download_note([VACE_1_3B, UMT5, WAN_VAE, CLIP_VISION_H])
    assert "(4.31 GB)" in note and "(1.26 GB)" in note
    assert "In all 12.6 GB to download." in note  # 4.31 + 6.74 + 0.254 + 1.26
