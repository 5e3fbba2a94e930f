"""A megabyte of text in every STRING input of every WorldKit node, through the API of a real server.

A widget value is refused when the prompt is queued, with a message that names the input; a value that can
only arrive through a link fails its node when it runs, naming the input. Either way the message does not
quote the megabyte back, and the server runs the next prompt. The table is checked against /object_info, so
a new STRING input cannot be left out.
"""

from __future__ import annotations

import pytest
from client import PromptRefused
from graphs import Graph, assert_server_runs, load_wan, out, widget_defaults

MEGABYTE = "a" * 1_000_000

STRING_INPUTS = {
    "WorldKitReference": ("name", "description"),
    "WorldKitSaveWorld": ("world_name",),
    "WorldKitShot": ("prompt", "entities", "mood", "negative_prompt", "name"),
    "WorldKitCoverage": ("location", "subjects", "props", "action", "mood"),
    "WorldKitBindShot": ("track_json",),
    "WorldKitTrajectoryKeypoints": ("editor_state",),
    "WorldKitImportTracks": ("track_text",),
    "WorldKitWorldShotSampler": ("search", "select"),
    "WorldKitReferenceAttention": ("entities",),
    "WorldKitScoreConsistency": ("entities",),
    "WorldKitPickBest": ("entities",),
    "WorldKitAssembleCut": ("shot_lengths",),
    "WorldKitSaveShotFrames": ("report", "name"),
    "WorldKitLoadShotFrames": ("files",),
    "WorldKitSaveWithAlpha": ("filename_prefix",),
}
CASES = [(node, name) for node, names in STRING_INPUTS.items() for name in names]
EXTRA_LINKS = {"WorldKitWorldShotSampler": {"shot": "WORLDKIT_SHOT"}}  # optional, but the sampler needs one


@pytest.fixture(scope="module")
def info(comfy) -> dict:
    return comfy.object_info()


def specs(info: dict, class_type: str) -> dict[str, list]:
    inputs = info[class_type]["input"]
    return {**inputs.get("required", {}), **inputs.get("optional", {})}


def linked_only(spec: list) -> bool:
    return len(spec) > 1 and isinstance(spec[1], dict) and bool(spec[1].get("forceInput"))


def test_the_table_holds_every_string_input(info):
    found = {
        (class_type, name)
        for class_type, entry in info.items()
        if entry.get("python_module") == "custom_nodes.worldkit"
        for name, spec in specs(info, class_type).items()
        if spec[0] == "STRING"
    }
    assert found == set(CASES)


class Providers:
    """One upstream node per input type a WorldKit node needs, made on first use."""

    def __init__(self, graph: Graph, info: dict, tiny_models: dict[str, str]) -> None:
        self.graph, self.info, self.tiny_models, self.made = graph, info, tiny_models, {}

    def link(self, kind: str) -> list:
        if kind not in self.made:
            self.made[kind] = self.make(kind)
        return self.made[kind]

    def make(self, kind: str) -> list:
        graph = self.graph
        if kind == "IMAGE":
            return out(graph.node("EmptyImage", width=32, height=32, batch_size=9, color=0x406080))
        if kind == "MASK":
            return out(graph.node("SolidMask", value=1.0, width=32, height=32))
        if kind in ("MODEL", "CLIP", "VAE"):
            model, clip, vae = load_wan(graph, self.tiny_models)
            self.made.update(MODEL=out(model), CLIP=out(clip), VAE=out(vae))
            return self.made[kind]
        if "WORLDKIT_WORLD" in kind:
            defaults = widget_defaults(self.info, "WorldKitReference")
            reference = graph.node("WorldKitReference", **{**defaults, "image": self.link("IMAGE"), "name": "toy"})
            return out(graph.node("WorldKitWorld", reference_1=out(reference)))
        if kind == "WORLDKIT_SHOT":
            settings = {"entities": "toy", "resolution": "custom", "width": 32, "height": 32}
            return out(graph.node("WorldKitShot", **{**widget_defaults(self.info, "WorldKitShot"), **settings}))
        raise AssertionError(f"no provider for {kind}")


def megabyte_graph(info: dict, tiny_models: dict[str, str], class_type: str, name: str) -> tuple[Graph, str]:
    """The node at its defaults, its required links fed, ``name`` a megabyte, its first output sunk."""
    graph = Graph()
    providers = Providers(graph, info, tiny_models)
    inputs = widget_defaults(info, class_type)
    required = info[class_type]["input"].get("required", {})
    links = {key: spec[0] for key, spec in required.items() if key not in inputs and spec[0] != "STRING"}
    for key, kind in {**links, **EXTRA_LINKS.get(class_type, {})}.items():
        inputs[key] = providers.link(kind)
    spec = specs(info, class_type)[name]
    inputs[name] = out(graph.node("PrimitiveString", value=MEGABYTE)) if linked_only(spec) else MEGABYTE
    node = graph.node(class_type, **inputs)
    if info[class_type]["output"] and not info[class_type]["output_node"]:
        graph.node("WorldKitTestSink", value=out(node))
    return graph, node


def names(message: str, name: str) -> bool:
    lowered = message.lower()
    return name in lowered or name.replace("_", " ") in lowered


@pytest.mark.parametrize(("class_type", "name"), CASES, ids=[f"{node}.{name}" for node, name in CASES])
def test_a_megabyte_string_gets_a_clear_error_naming_the_input(comfy, info, tiny_models, class_type, name):
    graph, node = megabyte_graph(info, tiny_models, class_type, name)
    if linked_only(specs(info, class_type)[name]):
        error = comfy.run(graph.prompt(), expect_error=True).error
        assert error.get("node_id") == node, error
        messages = [error["exception_message"]]
    else:
        with pytest.raises(PromptRefused) as refused:
            comfy.queue(graph.prompt())
        errors = refused.value.detail.get("node_errors", {}).get(node, {}).get("errors", [])
        # ComfyUI prefixes a validate_inputs answer with each input it declares; the answer itself must name it.
        messages = [error.get("details", "").split(" - ", 1)[-1] for error in errors]
    assert any(names(message, name) for message in messages), messages
    assert all(len(message) < 5_000 for message in messages), "the error quotes the megabyte back"
    assert_server_runs(comfy)
