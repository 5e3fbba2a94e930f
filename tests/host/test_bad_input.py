"""Bad input through the API of a real server: each case gets a clear error naming the input, at queue time
where the value alone shows the problem, and the server keeps running prompts afterwards.

GVFX cases live in test_bad_input_gvfx.py, a megabyte in every text input in test_bad_input_strings.py, broken
files in test_bad_input_files.py.
"""

from __future__ import annotations

import json

import pytest
from client import PromptRefused
from graphs import assert_server_runs, widget_defaults

from worldkit.tools.prompt_graph import Graph, load_wan, out

SURROGATE = "\ud800"


@pytest.fixture(scope="module")
def info(comfy) -> dict:
    return comfy.object_info()


def node(graph: Graph, info: dict, class_type: str, **inputs) -> str:
    return graph.node(class_type, **{**widget_defaults(info, class_type), **inputs})


def frames(graph: Graph, count: int = 9, size: int = 32) -> str:
    return graph.node("EmptyImage", width=size, height=size, batch_size=count, color=0x406080)


def probe_text(graph: Graph, source: list) -> str:
    return graph.node("WorldKitTestSaveTensor", name="bad_input_probe", text=source)


def probe_images(graph: Graph, source: list) -> str:
    graph.node("WorldKitTestSaveTensor", name="bad_input_images", images=source)
    return source[0]


def refusal(comfy, prompt: dict, node_id: str) -> str:
    """The errors /prompt gave for one node, as one string; fails when the graph was accepted."""
    with pytest.raises(PromptRefused) as refused:
        comfy.queue(prompt)
    errors = refused.value.detail.get("node_errors", {}).get(node_id, {}).get("errors", [])
    assert errors, f"node {node_id} has no errors in {json.dumps(refused.value.detail)[:2000]}"
    return " ".join(f"{e.get('message', '')} {e.get('details', '')}" for e in errors)


def assemble_cut(graph: Graph, info: dict, shot_lengths) -> str:
    cut = node(graph, info, "WorldKitAssembleCut", frames=out(frames(graph)), shot_lengths=shot_lengths)
    graph.node("WorldKitTestSaveTensor", name="cut_probe", images=out(cut, 2))
    return cut


def reference(graph: Graph, info: dict, **inputs) -> str:
    image = inputs.pop("image", None) or out(frames(graph, 1, 48))
    return node(graph, info, "WorldKitReference", image=image, width=32, height=32, **inputs)


def scorer(graph: Graph, info: dict, class_type: str, entities) -> str:
    ref = reference(graph, info, name="toy")
    images = {"frames": out(frames(graph))} if class_type == "WorldKitScoreConsistency" else {}
    if class_type == "WorldKitPickBest":
        images = {"candidates": out(frames(graph))}
    scored = node(graph, info, class_type, references=out(ref), entities=entities, **images)
    probe_text(graph, out(scored, 1 if class_type == "WorldKitScoreConsistency" else 2))
    return scored


def shot(graph: Graph, info: dict, **inputs) -> str:
    made = node(graph, info, "WorldKitShot", **inputs)
    probe_text(graph, out(made, 1))
    return made


TEXT_CASES = {
    "assemble_cut_lengths_surrogate": (lambda g, i: assemble_cut(g, i, f"4, 5{SURROGATE}"), "shot_lengths"),
    "assemble_cut_lengths_deep": (lambda g, i: assemble_cut(g, i, "[" * 100_000), "shot_lengths"),
    "assemble_cut_lengths_huge_number": (lambda g, i: assemble_cut(g, i, "[" + "9" * 100_000 + "]"), "shot_lengths"),
    "score_entities_surrogate": (lambda g, i: scorer(g, i, "WorldKitScoreConsistency", SURROGATE), "entities"),
    "pick_best_entities_surrogate": (lambda g, i: scorer(g, i, "WorldKitPickBest", f"toy, {SURROGATE}"), "entities"),
    "shot_prompt_surrogate": (lambda g, i: shot(g, i, prompt=f"a fox {SURROGATE}"), "prompt"),
    "shot_entity_bad_role": (lambda g, i: shot(g, i, entities="fox: villain"), "entities"),
    "shot_name_nul": (lambda g, i: shot(g, i, name="3A\x00close"), "name"),
    "reference_name_surrogate": (lambda g, i: probe_images(g, out(reference(g, i, name=SURROGATE), 1)), "name"),
    "reference_name_empty": (lambda g, i: probe_images(g, out(reference(g, i, name="  "), 1)), "name"),
}


@pytest.mark.parametrize("case", sorted(TEXT_CASES))
def test_bad_text_is_refused_at_queue_time_naming_the_input(comfy, info, case):
    build, input_name = TEXT_CASES[case]
    graph = Graph()
    node_id = build(graph, info)
    message = refusal(comfy, graph.prompt(), node_id)
    assert input_name in message, message
    assert "\\ud800" in message or SURROGATE not in message
    assert len(message) < 5_000, "the error quotes the whole input back"
    assert_server_runs(comfy)


def test_a_surrogate_arriving_through_a_link_fails_the_node_cleanly_and_the_worker_survives(comfy, info):
    graph = Graph()
    text = graph.node("PrimitiveString", value=f"4, 5{SURROGATE}")
    cut = assemble_cut(graph, info, out(text))
    result = comfy.run(graph.prompt(), expect_error=True)
    assert result.error["node_id"] == cut
    assert "shot_lengths" in result.error["exception_message"]
    assert_server_runs(comfy)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
@pytest.mark.parametrize("target", ["WorldKitReference", "WorldKitAssembleCut"])
def test_non_finite_pixels_are_refused(comfy, info, target, value):
    graph = Graph()
    bad = graph.node("WorldKitTestPoisonPixels", images=out(frames(graph, 9, 48)), value=value)
    if target == "WorldKitReference":
        node_id = reference(graph, info, image=out(bad), name="toy")
        graph.node("WorldKitTestSaveTensor", name="poisoned", images=out(node_id, 1))
    else:
        node_id = node(graph, info, "WorldKitAssembleCut", frames=out(bad), shot_lengths="")
        graph.node("WorldKitTestSaveTensor", name="poisoned", images=out(node_id, 2))
    result = comfy.run(graph.prompt(), expect_error=True)
    assert result.error["node_id"] == node_id
    assert "NaN or infinite" in result.error["exception_message"]
    assert not (comfy.output_dir / "poisoned.safetensors").exists()


def toy_scene(info: dict, tiny_models: dict[str, str], size: int) -> tuple[Graph, dict]:
    """Tiny Wan T2V, a one-toy world and a square Shot of it; returns the graph and the links a sampler or a
    binder takes (model, vae, clip, world, shot)."""
    graph = Graph()
    model, clip, vae = load_wan(graph, tiny_models)
    world = graph.node("WorldKitWorld", reference_1=out(reference(graph, info, name="toy")))
    made = node(graph, info, "WorldKitShot", entities="toy", resolution="custom", width=size, height=size)
    return graph, dict(model=out(model), vae=out(vae), clip=out(clip), world=out(world), shot=out(made))


def sampler_graph(info: dict, tiny_models: dict[str, str], **settings) -> tuple[dict, str]:
    graph, links = toy_scene(info, tiny_models, 32)
    sampler = node(
        graph,
        info,
        "WorldKitWorldShotSampler",
        **links,
        **{"steps": 1, "native_frames": 5, "overlap_frames": 1, **settings},
    )
    graph.node("WorldKitTestSaveTensor", name="sampler_probe", images=out(sampler))
    return graph.prompt(), sampler


SAMPLER_CASES = {
    "steps": 0,
    "switch_step": -1,
    "candidates": 1000,
    "sampler_name": "no_such_sampler",
    "scheduler": "no_such_scheduler",
    "denoise": 0.0,
    "seed": 2**64,
    "cfg": -1.0,
    "native_frames": 2001,
    "overlap_frames": 0,
}


@pytest.mark.parametrize("name", sorted(SAMPLER_CASES))
def test_world_shot_sampler_refuses_out_of_range_settings_at_queue_time(comfy, info, tiny_models, name):
    prompt, sampler = sampler_graph(info, tiny_models, **{name: SAMPLER_CASES[name]})
    assert name in refusal(comfy, prompt, sampler)


def trajectory(graph: Graph, info: dict, state: str) -> str:
    made = node(graph, info, "WorldKitTrajectoryKeypoints", editor_state=state, width=64, height=64, num_frames=9)
    probe_text(graph, out(made, 0))
    return made


def state_with(keypoint: dict, **track) -> str:
    base = {"name": "skunk", "keypoints": [{"x": 0.1, "y": 0.5, "frame": 0}, {"x": 0.9, "y": 0.5, "frame": 8}]}
    base["keypoints"][0].update(keypoint)
    return json.dumps({"version": 1, "tracks": [{**base, **track}]})


def _many_points_state() -> str:
    track = {"subject": "spread", "points": 1024, "keypoints": [{"x": 0.5, "y": 0.5}]}
    return json.dumps({"version": 1, "tracks": [{**track, "name": f"t{i}"} for i in range(12)]})


TRAJECTORY_CASES = {
    "bezier_handle_1e300": (state_with({"out": [1e300, 0.0]}), "handle"),
    "frame_1e300": (state_with({"frame": 1e300}), "frame"),
    "deeply_nested": ("[" * 100_000, "nest"),
    "unknown_version": (json.dumps({"version": 99, "tracks": []}), "version"),
    "too_many_tracks": (json.dumps({"version": 1, "tracks": [{"keypoints": [{"x": 0, "y": 0}]}] * 300}), "limit"),
    "too_many_points": (_many_points_state(), "limit"),
}


@pytest.mark.parametrize("case", sorted(TRAJECTORY_CASES))
def test_trajectory_state_is_checked_at_queue_time(comfy, info, case):
    state, words = TRAJECTORY_CASES[case]
    graph = Graph()
    made = trajectory(graph, info, state)
    message = refusal(comfy, graph.prompt(), made)
    assert "editor_state" in message and words in message, message


def import_tracks(graph: Graph, info: dict, text: str) -> str:
    made = node(graph, info, "WorldKitImportTracks", track_text=text, width=64, height=64, num_frames=9)
    probe_text(graph, out(made, 0))
    return made


def test_valid_ati_json_with_an_apostrophe_is_read(comfy, info):
    points = [{"x": 10 + i * 0.1, "y": 20, "label": "the skunk's nose"} for i in range(121)]
    graph = Graph()
    made = import_tracks(graph, info, json.dumps([points]))
    result = comfy.run(graph.prompt())
    state = json.loads(result.outputs[str(int(made) + 1)]["text"][0])
    assert len(state["tracks"]) == 1 and len(state["tracks"][0]["keypoints"]) >= 121


@pytest.mark.parametrize(
    "text,words",
    [("[" * 100_000, "nest"), ('[[{"x": ' + "9" * 100_000 + ', "y": 1}]]', "track_text"), ("[[{'x': 1}]]", "'y'")],
)
def test_import_tracks_names_the_input_for_malformed_json(comfy, info, text, words):
    graph = Graph()
    made = import_tracks(graph, info, text)
    message = refusal(comfy, graph.prompt(), made)
    assert words in message, message


def bind_graph(info: dict, tiny_models: dict[str, str], **tracks) -> tuple[dict, str]:
    graph, links = toy_scene(info, tiny_models, 64)
    made_tracks = {}
    if "tracks" in tracks:
        imported = import_tracks(graph, info, tracks["tracks"])
        made_tracks = {"tracks": out(imported, 1)}
    elif "track_json" in tracks:
        made_tracks = {"track_json": out(graph.node("PrimitiveString", value=tracks["track_json"]))}
    bound = node(graph, info, "WorldKitBindShot", **links, **made_tracks)
    probe_text(graph, out(bound, 5))
    return graph.prompt(), bound


ONE_TRACK = json.dumps([[{"x": 10 + i * 0.2, "y": 30} for i in range(121)]])


@pytest.mark.parametrize("tracks", [{"tracks": ONE_TRACK}, {"track_json": ONE_TRACK}, {"track_json": "[[{"}])
def test_bind_shot_on_a_t2v_model_never_ignores_tracks(comfy, info, tiny_models, tracks):
    prompt, bound = bind_graph(info, tiny_models, **tracks)
    result = comfy.run(prompt, expect_error=True)
    assert result.error["node_id"] == bound, result.error
    assert "track" in result.error["exception_message"].lower()


@pytest.mark.parametrize("text", ["[[]]", '[[{"x": 500, "y": 1}]]', "[[{'x': 1, 'y': 1}], 3]"])
def test_bind_shot_and_import_tracks_refuse_the_same_track_json(comfy, info, tiny_models, text):
    graph = Graph()
    imported = import_tracks(graph, info, text)
    import_error = comfy.run(graph.prompt(), expect_error=True).error
    prompt, _ = bind_graph(info, tiny_models, track_json=text)
    bind_error = comfy.run(prompt, expect_error=True).error
    assert (import_error or {}).get("node_id", imported) == imported
    assert bind_error is not None and "track" in bind_error["exception_message"].lower()
