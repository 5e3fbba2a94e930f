"""Values of the wrong kind on every socket of every WorldKit node, and NaN or infinity in every FLOAT widget,
through the API of a real server.

A literal number or text on a socket (IMAGE, MASK, VIDEO, MODEL, VAE, CLIP, WORLD, REFERENCE, SHOTS…) is refused
when the prompt is queued, naming the input and the type it takes; a STRING link that ComfyUI's own type check
lets through fails the node naming the same. A non-finite FLOAT is refused at queue time naming the input. The
tables come from /object_info, so a new socket or widget cannot be left out.
"""

from __future__ import annotations

import math

import pytest
from graphs import Graph, assert_server_runs, out
from providers import node_with_links

WIDGETS = {"INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"}
EXTRA_LINKS = {"WorldKitWorldShotSampler": {"shot": "WORLDKIT_SHOT"}}  # optional, but the sampler needs one


@pytest.fixture(scope="module")
def info(comfy) -> dict:
    return comfy.object_info()


def worldkit_nodes(info: dict) -> list[str]:
    return sorted(name for name, entry in info.items() if entry.get("python_module") == "custom_nodes.worldkit")


def specs(info: dict, class_type: str) -> dict[str, list]:
    inputs = info[class_type]["input"]
    return {**inputs.get("required", {}), **inputs.get("optional", {})}


def socket_types(spec: list) -> list[str]:
    """The types a socket takes (a GVFX frame socket: its template's), or [] for a combo."""
    if isinstance(spec[0], list):
        return []
    if spec[0] == "COMFY_MATCHTYPE_V3":
        return spec[1]["template"]["allowed_types"].split(",")
    return spec[0].split(",")


def sockets(info: dict) -> list[tuple[str, str, list[str]]]:
    return [
        (class_type, name, kinds)
        for class_type in worldkit_nodes(info)
        for name, spec in specs(info, class_type).items()
        if (kinds := socket_types(spec)) and not WIDGETS.intersection(kinds)
    ]


def floats(info: dict) -> list[tuple[str, str]]:
    return [
        (class_type, name)
        for class_type in worldkit_nodes(info)
        for name, spec in specs(info, class_type).items()
        if spec[0] == "FLOAT"
    ]


def refusal(comfy, graph: Graph, node: str) -> list[str] | None:
    """The messages /prompt refused ``node`` with (each input ComfyUI prefixes cut off), or None if it queued."""
    result = comfy.run(graph.prompt(), expect_error=None)  # waits, so an accepted prompt cannot outlive the check
    if result.prompt_id:
        return None
    errors = result.error.get("node_errors", {}).get(node, {}).get("errors", [])
    return [f"{e.get('message', '')} {e.get('details', '').split(' - ', 1)[-1]}" for e in errors]


def test_the_tables_cover_the_pack(info):
    kinds = {kind for _, _, types in sockets(info) for kind in types}
    assert {"IMAGE", "MASK", "VIDEO", "MODEL", "VAE", "CLIP", "WORLDKIT_WORLD", "WORLDKIT_SHOTS"} <= kinds, kinds
    assert len(floats(info)) >= 40


@pytest.mark.parametrize("literal", [5, "text"], ids=["number", "text"])
def test_a_literal_on_any_socket_is_refused_at_queue_time_naming_the_input_and_its_type(
    comfy, info, tiny_models, literal
):
    problems = []
    for class_type, name, kinds in sockets(info):
        graph = Graph()
        node = node_with_links(graph, info, tiny_models, class_type, EXTRA_LINKS.get(class_type), **{name: literal})
        messages = refusal(comfy, graph, node)
        wanted = " or ".join(kinds)
        if messages is None or not any(name in m and wanted in m for m in messages):
            problems.append(f"{class_type}.{name}={literal!r}: {messages}")
    assert not problems, "\n".join(problems)
    assert_server_runs(comfy)


def test_a_string_link_on_any_socket_is_refused_or_fails_naming_the_input_and_its_type(comfy, info, tiny_models):
    """ComfyUI refuses most such links itself; the GVFX frame sockets (IMAGE or VIDEO, matched) let them through."""
    problems, ran = [], 0
    for class_type, name, kinds in sockets(info):
        graph = Graph()
        text = out(graph.node("PrimitiveString", value="not frames"))
        node = node_with_links(graph, info, tiny_models, class_type, EXTRA_LINKS.get(class_type), **{name: text})
        result = comfy.run(graph.prompt(), expect_error=None)
        if not result.prompt_id:
            continue
        ran += 1
        error = result.error or {}
        message, wanted = error.get("exception_message", ""), " or ".join(kinds)
        if error.get("node_id") != node or name not in message or wanted not in message:
            problems.append(f"{class_type}.{name}: {error.get('exception_type')}: {message[:200]}")
    assert not problems, "\n".join(problems)
    assert ran >= 10, "the GVFX frame sockets should have let the STRING link through to the node"
    assert_server_runs(comfy)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf], ids=["nan", "inf", "-inf"])
def test_a_non_finite_float_is_refused_at_queue_time_naming_it(comfy, info, tiny_models, value):
    """NaN passes ComfyUI's own min/max check (every comparison with it is false): World Shot Sampler's cfg NaN
    ended in a misleading error about references, denoise NaN in 'cannot convert float NaN to integer'."""
    problems = []
    for class_type, name in floats(info):
        graph = Graph()
        node = node_with_links(graph, info, tiny_models, class_type, EXTRA_LINKS.get(class_type), **{name: value})
        messages = refusal(comfy, graph, node)
        if messages is None or not any(name in m and "finite" in m for m in messages):
            problems.append(f"{class_type}.{name}={value}: {messages}")
    assert not problems, "\n".join(problems)
    assert_server_runs(comfy)
