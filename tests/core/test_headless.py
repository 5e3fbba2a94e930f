"""Headless tools without a server: UI-to-API conversion, --set overrides, missing-file checks, CLI parsing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from worldkit.headless.cli import main
from worldkit.headless.convert import (
    ConversionError,
    api_path_for,
    ui_to_api,
    widget_layout,
    widget_values_by_name,
)
from worldkit.headless.overrides import OverrideError, apply_overrides, parse_override, substitute_values
from worldkit.headless.requirements import MissingModelsError, missing_inputs, missing_models
from worldkit.headless.runner import output_items

PACK_DIR = Path(__file__).resolve().parents[2]


OBJECT_INFO = json.loads((Path(__file__).parent / "data" / "object_info_core.json").read_text())


def ui_node(node_id, type_, widgets=None, inputs=(), outputs=(), mode=0, title=None):
    node = {
        "id": node_id,
        "type": type_,
        "pos": [0, 0],
        "size": [200, 100],
        "flags": {},
        "order": 0,
        "mode": mode,
        "inputs": list(inputs),
        "outputs": list(outputs),
        "properties": {},
    }
    if widgets is not None:
        node["widgets_values"] = widgets
    if title:
        node["title"] = title
    return node


def socket(name, type_, link=None, widget=False):
    entry = {"name": name, "type": type_, "link": link}
    if widget:
        entry["widget"] = {"name": name}
    return entry


def out(name, type_, links):
    return {"name": name, "type": type_, "links": links}


@pytest.fixture
def small_ui_graph() -> dict:
    """UNET -> bypassed LoRA -> reroute -> KSampler; width from a primitive; a note; a muted SaveImage."""
    nodes = [
        ui_node(1, "UNETLoader", ["tiny_t2v.safetensors", "default"], outputs=[out("MODEL", "MODEL", [1])]),
        ui_node(
            2,
            "LoraLoaderModelOnly",
            ["style.safetensors", 0.8],
            inputs=[socket("model", "MODEL", 1)],
            outputs=[out("MODEL", "MODEL", [2])],
            mode=4,
        ),
        ui_node(3, "Reroute", None, inputs=[socket("", "*", 2)], outputs=[out("", "MODEL", [3])]),
        ui_node(4, "CLIPLoader", ["tiny_umt5.safetensors", "wan", "default"], outputs=[out("CLIP", "CLIP", [4, 5])]),
        ui_node(
            5,
            "CLIPTextEncode",
            ["a skunk at night"],
            inputs=[socket("clip", "CLIP", 4)],
            outputs=[out("CONDITIONING", "CONDITIONING", [6])],
            title="Positive",
        ),
        ui_node(
            6,
            "CLIPTextEncode",
            ["blurry"],
            inputs=[socket("clip", "CLIP", 5)],
            outputs=[out("CONDITIONING", "CONDITIONING", [7])],
        ),
        ui_node(
            7,
            "EmptyHunyuanLatentVideo",
            [848, 480, 9, 1],
            inputs=[socket("width", "INT", 9, widget=True)],
            outputs=[out("LATENT", "LATENT", [8])],
        ),
        ui_node(
            8,
            "KSampler",
            [42, "fixed", 3, 5.0, "euler", "simple", 1.0],
            inputs=[
                socket("model", "MODEL", 3),
                socket("positive", "CONDITIONING", 6),
                socket("negative", "CONDITIONING", 7),
                socket("latent_image", "LATENT", 8),
            ],
            outputs=[out("LATENT", "LATENT", [])],
        ),
        ui_node(9, "PrimitiveNode", [64, "fixed"], outputs=[{**out("INT", "INT", [9]), "widget": {"name": "width"}}]),
        ui_node(10, "Note", ["Download the models first."]),
        ui_node(11, "SaveImage", ["muted"], mode=2),
    ]
    links = [
        [1, 1, 0, 2, 0, "MODEL"],
        [2, 2, 0, 3, 0, "MODEL"],
        [3, 3, 0, 8, 0, "MODEL"],
        [4, 4, 0, 5, 0, "CLIP"],
        [5, 4, 0, 6, 0, "CLIP"],
        [6, 5, 0, 8, 1, "CONDITIONING"],
        [7, 6, 0, 8, 2, "CONDITIONING"],
        [8, 7, 0, 8, 3, "LATENT"],
        [9, 9, 0, 7, 0, "INT"],
    ]
    return {"last_node_id": 11, "last_link_id": 9, "nodes": nodes, "links": links, "groups": [], "version": 0.4}


def test_ui_graph_converts_to_the_api_prompt_the_editor_would_queue(small_ui_graph):
    assert ui_to_api(small_ui_graph, OBJECT_INFO) == {
        "1": {
            "class_type": "UNETLoader",
            "inputs": {"unet_name": "tiny_t2v.safetensors", "weight_dtype": "default"},
            "_meta": {"title": "Load Diffusion Model"},
        },
        "4": {
            "class_type": "CLIPLoader",
            "inputs": {"clip_name": "tiny_umt5.safetensors", "type": "wan", "device": "default"},
            "_meta": {"title": "Load CLIP"},
        },
        "5": {
            "class_type": "CLIPTextEncode",
            "inputs": {"text": "a skunk at night", "clip": ["4", 0]},
            "_meta": {"title": "Positive"},
        },
        "6": {
            "class_type": "CLIPTextEncode",
            "inputs": {"text": "blurry", "clip": ["4", 0]},
            "_meta": {"title": "CLIP Text Encode (Prompt)"},
        },
        "7": {
            "class_type": "EmptyHunyuanLatentVideo",
            "inputs": {"width": 64, "height": 480, "length": 9, "batch_size": 1},
            "_meta": {"title": "Empty HunyuanVideo 1.0 Latent"},
        },
        "8": {
            "class_type": "KSampler",
            "inputs": {
                "seed": 42,
                "steps": 3,
                "cfg": 5.0,
                "sampler_name": "euler",
                "scheduler": "simple",
                "denoise": 1.0,
                "model": ["1", 0],
                "positive": ["5", 0],
                "negative": ["6", 0],
                "latent_image": ["7", 0],
            },
            "_meta": {"title": "KSampler"},
        },
    }


def test_seed_widgets_carry_their_control_value_and_combos_with_upload_their_button():
    assert [(s.name, s.extras) for s in widget_layout(OBJECT_INFO["KSampler"])] == [
        ("seed", 1),
        ("steps", 0),
        ("cfg", 0),
        ("sampler_name", 0),
        ("scheduler", 0),
        ("denoise", 0),
    ]
    assert [(s.name, s.extras) for s in widget_layout(OBJECT_INFO["LoadImage"])] == [("image", 1)]
    assert [(s.name, s.extras) for s in widget_layout(OBJECT_INFO["PrimitiveInt"])] == [("value", 1)]
    assert [s.name for s in widget_layout(OBJECT_INFO["CLIPLoader"])] == ["clip_name", "type", "device"]


def test_a_node_with_too_few_widget_values_names_node_and_widgets(small_ui_graph):
    small_ui_graph["nodes"][7]["widgets_values"] = [42, "fixed", 3]
    with pytest.raises(ConversionError, match=r"node 8 \(KSampler\) has 3 widget values.*seed, steps, cfg"):
        ui_to_api(small_ui_graph, OBJECT_INFO)


def test_a_node_saved_before_optional_widgets_were_added_at_its_end_still_converts():
    """World Shot Sampler saved while `search` was a text box: no search_custom value after select."""
    sampler = {
        "input": {
            "required": {"steps": ["INT", {"default": 20}]},
            "optional": {
                "search": ["COMBO", {"options": ["careful", "fast", "off", "custom"], "default": "careful"}],
                "select": ["STRING", {"default": ""}],
                "search_custom": ["STRING", {"default": "2@0.2>1@0.4"}],
            },
        },
        "input_order": {"required": ["steps"], "optional": ["search", "select", "search_custom"]},
    }
    node = ui_node(3, "WorldKitWorldShotSampler", [20, "3@0.1>1@0.3", ""])
    assert widget_values_by_name(node, sampler) == {"steps": 20, "search": "3@0.1>1@0.3", "select": ""}
    with pytest.raises(ConversionError, match="has 0 widget values"):
        widget_values_by_name(ui_node(3, "WorldKitWorldShotSampler", []), sampler)


def test_unknown_node_types_are_listed(small_ui_graph):
    small_ui_graph["nodes"].append(ui_node(12, "SomeoneElsesNode", []))
    with pytest.raises(ConversionError, match="SomeoneElsesNode: install the custom nodes"):
        ui_to_api(small_ui_graph, OBJECT_INFO)


def test_not_a_ui_workflow_is_a_clear_error():
    with pytest.raises(ConversionError, match="expected an object with a 'nodes' list"):
        ui_to_api({"1": {"class_type": "KSampler", "inputs": {}}}, OBJECT_INFO)


def test_api_twin_lives_in_the_api_folder():
    assert api_path_for(Path("workflows/the_herd.json")) == Path("workflows/api/the_herd.json")


@pytest.fixture
def api_prompt(small_ui_graph) -> dict:
    return ui_to_api(small_ui_graph, OBJECT_INFO)


def test_set_overrides_by_id_title_and_unique_class(api_prompt):
    edits = [
        parse_override("8.seed=7"),
        parse_override("Positive.text=a fox"),
        parse_override("KSampler.cfg=1.5"),
        parse_override('7.length=["x", 0]'),
    ]
    edited = apply_overrides(api_prompt, edits, OBJECT_INFO)
    assert edited["8"]["inputs"]["seed"] == 7
    assert edited["8"]["inputs"]["cfg"] == 1.5
    assert edited["5"]["inputs"]["text"] == "a fox"
    assert edited["7"]["inputs"]["length"] == ["x", 0]
    assert api_prompt["8"]["inputs"]["seed"] == 42, "the original prompt is left untouched"


def test_set_rejects_unknown_nodes_inputs_and_ambiguous_names(api_prompt):
    with pytest.raises(OverrideError, match=r"no node 'Sampler'.*8 \(KSampler\)"):
        apply_overrides(api_prompt, [parse_override("Sampler.seed=1")])
    with pytest.raises(OverrideError, match=r"has no input 'sead'.*seed"):
        apply_overrides(api_prompt, [parse_override("8.sead=1")], OBJECT_INFO)
    with pytest.raises(OverrideError, match="matches nodes 5, 6"):
        apply_overrides(api_prompt, [parse_override("CLIPTextEncode.text=x")])
    with pytest.raises(OverrideError, match=r"expected NODE\.INPUT=VALUE"):
        parse_override("8seed=1")


def test_set_accepts_an_input_only_the_definition_has(api_prompt):
    edited = apply_overrides(api_prompt, [parse_override("8.denoise=0.5")], OBJECT_INFO)
    assert edited["8"]["inputs"]["denoise"] == 0.5


def test_values_that_are_not_json_stay_text():
    assert parse_override("5.text=a skunk, at night").value == "a skunk, at night"
    assert parse_override("8.steps=4").value == 4
    assert parse_override("x.flag=true").value is True


def test_renames_replace_file_names_everywhere(api_prompt):
    renamed = substitute_values(api_prompt, {"tiny_t2v.safetensors": "mine.safetensors"})
    assert renamed["1"]["inputs"]["unet_name"] == "mine.safetensors"
    assert renamed["4"]["inputs"]["clip_name"] == "tiny_umt5.safetensors"


def test_missing_models_lists_each_file_and_its_folder():
    prompt = {
        "1": {
            "class_type": "UNETLoader",
            "inputs": {"unet_name": "wan2.1_vace_14B_fp16.safetensors", "weight_dtype": "default"},
        },
        "2": {"class_type": "VAELoader", "inputs": {"vae_name": "tiny_vae.safetensors"}},
        "3": {"class_type": "CLIPVisionLoader", "inputs": {"clip_name": "clip_vision_h.safetensors"}},
        "4": {
            "class_type": "CLIPLoader",
            "inputs": {"clip_name": "umt5_xxl_fp8_e4m3fn_scaled.safetensors", "type": "wan"},
        },
        "5": {"class_type": "KSampler", "inputs": {"sampler_name": "not-a-sampler"}},
    }
    missing = missing_models(prompt, OBJECT_INFO)
    assert [(m.filename, m.folder, m.node_id) for m in missing] == [
        ("wan2.1_vace_14B_fp16.safetensors", "diffusion_models", "1"),
        ("clip_vision_h.safetensors", "clip_vision", "3"),
        ("umt5_xxl_fp8_e4m3fn_scaled.safetensors", "text_encoders", "4"),
    ]
    message = str(MissingModelsError(missing))
    assert "3 model file(s) missing" in message
    assert "wan2.1_vace_14B_fp16.safetensors  ->  models/diffusion_models/" in message
    named = str(MissingModelsError(missing, Path("workflows/api/the_herd.json")))
    assert "`python -m worldkit models workflows/api/the_herd.json --download`" in named and "WORKFLOW" not in named


def test_input_files_are_uploaded_from_local_folders_or_reported(tmp_path):
    (tmp_path / "worldkit_dog.png").write_bytes(b"png")
    prompt = {
        "1": {"class_type": "LoadImage", "inputs": {"image": "worldkit_skunk.png"}},
        "2": {"class_type": "LoadImage", "inputs": {"image": "worldkit_dog.png"}},
        "3": {"class_type": "LoadImage", "inputs": {"image": "nowhere.png"}},
    }
    upload, nowhere = missing_inputs(prompt, OBJECT_INFO, [tmp_path])
    assert upload == [(tmp_path / "worldkit_dog.png", "")]
    assert nowhere == ["nowhere.png (node 3 LoadImage)"]


def test_inputs_in_a_subfolder_are_checked_on_the_server_then_uploaded_into_that_subfolder(tmp_path):
    (tmp_path / "worldkit_dog.png").write_bytes(b"png")
    prompt = {
        "1": {"class_type": "LoadImage", "inputs": {"image": "worldkit/worldkit_skunk.png"}},
        "2": {"class_type": "LoadImage", "inputs": {"image": "worldkit/worldkit_dog.png"}},
        "3": {"class_type": "LoadImage", "inputs": {"image": "worldkit/elsewhere.png"}},
    }
    on_server = frozenset({"worldkit/worldkit_skunk.png"})
    upload, nowhere = missing_inputs(prompt, OBJECT_INFO, [tmp_path], on_server)
    assert upload == [(tmp_path / "worldkit_dog.png", "worldkit")]
    assert nowhere == ["worldkit/elsewhere.png (node 3 LoadImage)"]


def test_only_saved_outputs_are_downloaded_unless_previews_are_asked_for():
    outputs = {
        "9": {
            "images": [
                {"filename": "a.png", "subfolder": "", "type": "output"},
                {"filename": "p.png", "subfolder": "", "type": "temp"},
            ],
            "animated": [False],
        },
        "10": {"text": ["report"]},
    }
    assert [i["filename"] for i in output_items(outputs)] == ["a.png"]
    assert [i["filename"] for i in output_items(outputs, include_temp=True)] == ["a.png", "p.png"]


def test_convert_command_writes_the_api_twin_into_the_api_folder(small_ui_graph, tmp_path):
    ui_path = tmp_path / "graph.json"
    ui_path.write_text(json.dumps(small_ui_graph))
    info_path = PACK_DIR / "tests" / "core" / "data" / "object_info_core.json"
    assert main(["convert", "--object-info", str(info_path), str(ui_path)]) == 0
    written = json.loads((tmp_path / "api" / "graph.json").read_text())
    assert written == ui_to_api(small_ui_graph, OBJECT_INFO)
    assert main(["convert", "--object-info", str(info_path), str(tmp_path / "absent.json")]) == 2


def test_a_workflow_with_subgraphs_is_refused_with_how_to_export_an_api_file():
    subgraph_id = "a1b2c3d4-0000-4000-8000-000000000001"
    workflow = {
        "nodes": [{"id": 1, "type": subgraph_id, "mode": 0, "inputs": [], "outputs": [], "widgets_values": []}],
        "links": [],
        "definitions": {"subgraphs": [{"id": subgraph_id, "nodes": [], "links": []}]},
    }
    with pytest.raises(ConversionError, match=r"Export \(API\)") as refused:
        ui_to_api(workflow, OBJECT_INFO)
    assert subgraph_id in str(refused.value) and "Unpack Subgraph" in str(refused.value)
