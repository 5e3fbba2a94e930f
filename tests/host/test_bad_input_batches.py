"""Empty batches and missing optional inputs for every WorldKit node, through the API of a real server.

Each IMAGE or MASK input of each node, in turn, gets a batch of no frames: the node fails with a clear error
of a documented type naming that input, and the server runs the next prompt. Each node with only its required
inputs connected runs or fails the same clear way. The tables are read from /object_info, so a new node or
input is covered.
"""

from __future__ import annotations

import pytest
from graphs import assert_server_runs
from providers import node_with_links, socket_kind
from test_bad_input_strings import EXTRA_LINKS, names, specs
from test_bad_input_table import CLEAR_ERRORS

from worldkit.tools.prompt_graph import Graph, out


@pytest.fixture(scope="module")
def info(comfy) -> dict:
    return comfy.object_info()


def worldkit_nodes(info: dict) -> list[str]:
    return sorted(name for name, entry in info.items() if entry.get("python_module") == "custom_nodes.worldkit")


def assert_clear(error: dict) -> str:
    kind = error.get("exception_type", "").rsplit(".", 1)[-1]
    assert kind in CLEAR_ERRORS, f"{error.get('exception_type')}: {error.get('exception_message')}"
    return error["exception_message"]


@pytest.fixture(scope="module")
def frame_inputs(info) -> list[tuple[str, str, str]]:
    return [
        (class_type, name, socket_kind(spec[0]))
        for class_type in worldkit_nodes(info)
        for name, spec in specs(info, class_type).items()
        if socket_kind(spec[0]) in ("IMAGE", "MASK")
    ]


def test_empty_batches_get_a_clear_error_naming_the_input(comfy, info, tiny_models, frame_inputs):
    assert len(frame_inputs) >= 40, "the table reads every IMAGE and MASK input"
    unclear = []
    for class_type, name, kind in frame_inputs:
        graph = Graph()
        empty = out(graph.node("WorldKitTestEmptyBatch"), 0 if kind == "IMAGE" else 1)
        node = node_with_links(graph, info, tiny_models, class_type, EXTRA_LINKS.get(class_type), **{name: empty})
        error = comfy.run(graph.prompt(), expect_error=None).error
        if not error or error.get("node_id") != node:
            unclear.append(f"{class_type}.{name}: {error or 'ran'}")
            continue
        try:
            message = assert_clear(error)
        except AssertionError as failure:
            unclear.append(f"{class_type}.{name}: {failure}")
            continue
        if not names(message, name):
            unclear.append(f"{class_type}.{name}: {message}")
    assert_server_runs(comfy)
    assert not unclear, "\n".join(unclear)


def test_every_node_with_only_its_required_inputs_runs_or_fails_clearly(comfy, info, tiny_models):
    unclear = []
    for class_type in worldkit_nodes(info):
        graph = Graph()
        node_with_links(graph, info, tiny_models, class_type, EXTRA_LINKS.get(class_type))
        result = comfy.run(graph.prompt(), expect_error=None)
        if result.error and "exception_type" in result.error:
            try:
                assert_clear(result.error)
            except AssertionError as failure:
                unclear.append(f"{class_type}: {failure}")
    assert_server_runs(comfy)
    assert not unclear, "\n".join(unclear)
