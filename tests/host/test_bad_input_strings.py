"""A megabyte of text in every STRING input of every WorldKit node, through the API of a real server.

A widget value is refused when the prompt is queued, with a message that names the input; a value that can
only arrive through a link fails its node when it runs, naming the input. Either way the message does not
quote the megabyte back, and the server runs the next prompt. The table is checked against /object_info, so
a new STRING input cannot be left out.
"""

from __future__ import annotations

import pytest
from client import PromptRefused
from graphs import assert_server_runs
from providers import node_with_links

from worldkit.tools.prompt_graph import Graph, out

MEGABYTE = "a" * 1_000_000

STRING_INPUTS = {
    "WorldKitReference": ("name", "description"),
    "WorldKitSaveWorld": ("world_name",),
    "WorldKitShot": ("prompt", "entities", "mood", "negative_prompt", "name"),
    "WorldKitCoverage": ("location", "subjects", "props", "action", "mood"),
    "WorldKitBindShot": ("track_json",),
    "WorldKitTrajectoryKeypoints": ("editor_state",),
    "WorldKitImportTracks": ("track_text",),
    "WorldKitWorldShotSampler": ("select", "search_custom", "takes"),
    "WorldKitReferenceAttention": ("entities",),
    "WorldKitScoreConsistency": ("entities",),
    "WorldKitPickBest": ("entities",),
    "WorldKitAssembleCut": ("shot_lengths",),
    "WorldKitSaveShotFrames": ("report", "name"),
    "WorldKitLoadShotFrames": ("files",),
    "WorldKitSaveWithAlpha": ("filename_prefix",),
    "WorldKitSaveCutTimeline": ("cut_list", "filename_prefix", "report"),
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


def megabyte_graph(info: dict, tiny_models: dict[str, str], class_type: str, name: str) -> tuple[Graph, str]:
    """The node at its defaults, its required links fed, ``name`` a megabyte."""
    graph = Graph()
    linked = linked_only(specs(info, class_type)[name])
    value = out(graph.node("PrimitiveString", value=MEGABYTE)) if linked else MEGABYTE
    return graph, node_with_links(graph, info, tiny_models, class_type, EXTRA_LINKS.get(class_type), **{name: value})


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
