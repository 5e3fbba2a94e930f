"""Bad input to every GVFX node through the API: NaN in any FLOAT widget, NaN or infinite pixels, an empty
Save With Alpha prefix. Each must end in a clear error naming the input (at queue time where the value alone
shows it), never in NaN frames, a vanished element or a raw OpenCV error, and the server keeps running."""

from __future__ import annotations

import math

import pytest
import torch
from graphs import assert_server_runs, widget_defaults
from providers import socket_kind
from safetensors.torch import load_file

from worldkit.tools.prompt_graph import Graph, out

SIZE = 32
FRAMES = 3


@pytest.fixture(scope="module")
def info(comfy) -> dict:
    return comfy.object_info()


def gvfx_nodes(info: dict) -> list[str]:
    return sorted(name for name, entry in info.items() if entry.get("category", "").startswith("WorldKit/GVFX"))


def float_widgets(info: dict) -> list[tuple[str, str]]:
    return [
        (class_type, name)
        for class_type in gvfx_nodes(info)
        for name, spec in info[class_type]["input"].get("required", {}).items()
        if spec[0] == "FLOAT"
    ]


def gvfx_graph(info: dict, class_type: str, poison: str | None = None, **widgets) -> tuple[Graph, str]:
    """The node with every IMAGE fed a small constructed clip and every MASK a soft block, its outputs probed."""
    graph = Graph()
    image = graph.node("EmptyImage", width=SIZE, height=SIZE, batch_size=FRAMES, color=0x80A040)
    if poison:
        image = graph.node("WorldKitTestPoisonPixels", images=out(image), value=poison)
    mask = graph.node("SolidMask", value=0.0, width=SIZE, height=SIZE)
    block = graph.node("SolidMask", value=1.0, width=SIZE // 2, height=SIZE // 2)
    matte = graph.node("MaskComposite", destination=out(mask), source=out(block), x=8, y=8, operation="add")
    links = {}
    for name, spec in info[class_type]["input"].get("required", {}).items():
        if socket_kind(spec[0]) == "IMAGE":
            links[name] = out(image)
        elif socket_kind(spec[0]) == "MASK":
            links[name] = out(matte)
    node_id = graph.node(class_type, **{**widget_defaults(info, class_type), **links, **widgets})
    for index, kind in enumerate(info[class_type]["output"]):
        if socket_kind(kind) == "IMAGE":
            graph.node("WorldKitTestSaveTensor", name=f"gvfx_bad_{node_id}_{index}", images=out(node_id, index))
    return graph, node_id


def outcome(comfy, graph: Graph, node_id: str) -> tuple[str, str]:
    """('refused', message) at queue time, ('failed', message) when it ran, or ('ran', '') when it succeeded."""
    try:
        result = comfy.run(graph.prompt(), expect_error=True)
    except AssertionError:
        return "ran", ""
    if not result.prompt_id:
        errors = result.error.get("node_errors", {}).get(node_id, {}).get("errors", [])
        return "refused", " ".join(f"{e.get('message', '')} {e.get('details', '')}" for e in errors)
    assert result.error["node_id"] == node_id, result.error
    return "failed", f"{result.error['exception_type']}: {result.error['exception_message']}"


def test_every_gvfx_node_is_covered(info):
    assert len(gvfx_nodes(info)) >= 10 and len(float_widgets(info)) >= 20


def test_a_nan_float_widget_is_refused_at_queue_time_naming_it(comfy, info):
    """NaN passes ComfyUI's own min/max checks (every comparison with NaN is false); infinity does not."""
    problems = []
    for class_type, name in float_widgets(info):
        graph, node_id = gvfx_graph(info, class_type, **{name: math.nan})
        kind, message = outcome(comfy, graph, node_id)
        if kind != "refused" or name not in message:
            problems.append(f"{class_type}.{name}=nan: {kind} {message[:160]}")
    assert not problems, "\n".join(problems)
    assert_server_runs(comfy)


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_non_finite_pixels_are_refused_by_every_gvfx_node(comfy, info, value):
    problems = []
    for class_type in gvfx_nodes(info):
        graph, node_id = gvfx_graph(info, class_type, poison=value)
        kind, message = outcome(comfy, graph, node_id)
        if kind != "failed" or ("nan" not in message.lower() and "finite" not in message.lower()):
            problems.append(f"{class_type}: {kind} {message[:160]}")
        for path in comfy.output_dir.glob(f"gvfx_bad_{node_id}_*.safetensors"):
            assert torch.isfinite(load_file(path)["images"]).all(), f"{class_type} passed on non-finite pixels"
            path.unlink()
    assert not problems, "\n".join(problems)


def test_save_with_alpha_refuses_an_empty_prefix_at_queue_time(comfy, info):
    """An empty prefix would restart the numbering at ._00001_ and overwrite earlier files."""
    graph, node_id = gvfx_graph(info, "WorldKitSaveWithAlpha", filename_prefix="")
    kind, message = outcome(comfy, graph, node_id)  # waits, so a wrongly accepted prompt cannot outlive the test
    assert kind == "refused" and "filename_prefix" in message, (kind, message)
