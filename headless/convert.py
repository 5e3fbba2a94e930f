"""Turns workflows saved by ComfyUI's editor (UI format) into the API format that /prompt accepts.

The editor keeps widget values as a positional list (`widgets_values`); the API wants them by input name.
The mapping follows the editor's own rules, read from each node's definition in /object_info:
widget inputs in definition order (required, then optional); a seed-like INT, or any input marked
`control_after_generate`, is followed by its "control after generate" value (combos also by a filter
string); upload combos are followed by their upload button's value(s). Notes are dropped, reroutes and
primitive nodes resolved, muted nodes removed and bypassed nodes passed through, as the editor does.

Run `python -m worldkit convert --object-info info.json workflows/*.json` (or `--server URL`) to write API twins.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WIDGET_TYPES = frozenset({"INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"})
SEED_NAMES = frozenset({"seed", "noise_seed"})
NOTE_TYPES = frozenset({"Note", "MarkdownNote"})
REROUTE_TYPE = "Reroute"
PRIMITIVE_TYPE = "PrimitiveNode"
MODE_MUTED = 2
MODE_BYPASSED = 4
UPLOAD_EXTRAS = {"image_upload": 1, "video_upload": 1, "audio_upload": 2}


class ConversionError(ValueError):
    """The UI graph cannot be turned into an API prompt; the message says which node and why."""


@dataclass(frozen=True)
class WidgetSlot:
    """One widget input of a node and how many editor-only values follow it in `widgets_values`."""

    name: str
    extras: int
    optional: bool = False


def input_kind(spec: list | tuple) -> str:
    """The socket/widget type of an /object_info input spec; legacy combos are given as a list of options."""
    kind = spec[0]
    return "COMBO" if isinstance(kind, list) else str(kind)


def input_options(spec: list | tuple) -> dict:
    return spec[1] if len(spec) > 1 and isinstance(spec[1], dict) else {}


def is_widget(spec: list | tuple) -> bool:
    return input_kind(spec) in WIDGET_TYPES and not input_options(spec).get("forceInput", False)


def editor_extras(name: str, spec: list | tuple) -> int:
    """Values the editor stores after a widget's own value: control-after-generate, combo filter, upload buttons."""
    kind, options = input_kind(spec), input_options(spec)
    extras = 0
    if options.get("control_after_generate", kind == "INT" and name in SEED_NAMES):
        extras += 2 if kind == "COMBO" else 1
    for flag, count in UPLOAD_EXTRAS.items():
        if options.get(flag):
            extras += count
    return extras


def ordered_inputs(class_info: dict) -> list[tuple[str, list]]:
    """(name, spec) of every required then optional input, in the order the node defines them."""
    return [(name, spec) for name, spec, _ in _sectioned_inputs(class_info)]


def _sectioned_inputs(class_info: dict) -> list[tuple[str, list, bool]]:
    """(name, spec, optional) of every required then optional input, in the order the node defines them."""
    inputs = class_info.get("input", {})
    order = class_info.get("input_order") or {section: list(inputs.get(section, {})) for section in inputs}
    return [
        (name, inputs[section][name], section == "optional")
        for section in ("required", "optional")
        for name in order.get(section, [])
        if name in inputs.get(section, {})
    ]


def widget_layout(class_info: dict) -> list[WidgetSlot]:
    """The positions of a node's widgets in `widgets_values`."""
    return [
        WidgetSlot(name, editor_extras(name, spec), optional)
        for name, spec, optional in _sectioned_inputs(class_info)
        if is_widget(spec)
    ]


def widget_defaults(class_info: dict) -> dict[str, Any]:
    """Every required widget of a node definition at its default (a list's first option when it names none)."""
    values = {}
    for name, spec in class_info["input"].get("required", {}).items():
        kind, options = spec[0], input_options(spec)
        if isinstance(kind, list):
            values[name] = options.get("default", kind[0] if kind else None)
        elif kind == "COMBO":
            values[name] = options.get("default", (options.get("options") or [None])[0])
        elif "default" in options:
            values[name] = options["default"]
    return values


def widget_values_by_name(node: dict, class_info: dict) -> dict[str, Any]:
    """Map a UI node's `widgets_values` onto its widget input names."""
    values = node.get("widgets_values")
    if values is None:
        return {}
    layout = widget_layout(class_info)
    if isinstance(values, dict):
        return {slot.name: values[slot.name] for slot in layout if slot.name in values}
    # A node saved before optional widgets were added at its end lacks their values: they take their defaults.
    required = [slot for slot in layout if not slot.optional]
    needed = sum(1 + slot.extras for slot in required[:-1]) + (1 if required else 0)
    if len(values) < needed:
        names = ", ".join(slot.name for slot in layout)
        raise ConversionError(
            f"node {node['id']} ({node['type']}) has {len(values)} widget values but its definition has "
            f"widgets {names}; re-save the workflow with the installed version of the node"
        )
    result: dict[str, Any] = {}
    position = 0
    for slot in layout:
        if position < len(values) and values[position] is not None:
            result[slot.name] = values[position]
        position += 1 + slot.extras
    return result


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_sockets(node: dict, key: str, where: str) -> None:
    sockets = node.get(key)
    if sockets is None:
        return
    if not isinstance(sockets, list) or not all(isinstance(socket, dict) for socket in sockets):
        raise ConversionError(f"{where}: '{key}' must be a list of objects")
    for socket in sockets:
        if key == "inputs" and not isinstance(socket.get("name"), str):
            raise ConversionError(f"{where}: an input has no name")
        if key == "inputs" and not (socket.get("link") is None or _is_int(socket["link"])):
            raise ConversionError(f"{where}: input {socket['name']!r} has a link that is not a number")
        if not isinstance(socket.get("widget") or {}, dict):
            raise ConversionError(f"{where}: a socket's 'widget' must be an object")


def check_ui_shape(workflow: Any) -> None:
    """ConversionError naming the first part of a UI workflow that is not shaped as the editor saves it,
    so a damaged or hand-edited file never fails with a KeyError or TypeError."""
    if not isinstance(workflow, dict) or not isinstance(workflow.get("nodes"), list):
        raise ConversionError("not a UI-format workflow: expected an object with a 'nodes' list")
    for index, node in enumerate(workflow["nodes"]):
        if not isinstance(node, dict) or not _is_int(node.get("id")) or not isinstance(node.get("type"), str):
            raise ConversionError(f"node {index + 1} of the workflow has no numeric 'id' or no 'type'")
        where = f"node {node['id']} ({node['type']})"
        if not _is_int(node.get("mode", 0)):
            raise ConversionError(f"{where}: 'mode' must be a number")
        if not isinstance(node.get("widgets_values"), (list, dict, type(None))):
            raise ConversionError(f"{where}: 'widgets_values' must be a list")
        _check_sockets(node, "inputs", where)
        _check_sockets(node, "outputs", where)
    links = workflow.get("links") or []
    if not isinstance(links, list):
        raise ConversionError("the workflow's 'links' must be a list")
    for link in links:
        fields = (
            [link.get(k) for k in ("id", "origin_id", "origin_slot", "target_id", "target_slot")]
            if isinstance(link, dict)
            else link[:5]
            if isinstance(link, list)
            else []
        )
        if len(fields) != 5 or not all(_is_int(field) for field in fields):
            raise ConversionError(f"link {str(link)[:60]} is not [id, origin, slot, target, slot] numbers")


def _links(workflow: dict) -> dict[int, tuple[int, int, int, int]]:
    """link id -> (origin node, origin slot, target node, target slot); both saved link layouts are accepted."""
    links: dict[int, tuple[int, int, int, int]] = {}
    for link in workflow.get("links") or []:
        if isinstance(link, dict):
            links[link["id"]] = (link["origin_id"], link["origin_slot"], link["target_id"], link["target_slot"])
        else:
            links[link[0]] = (link[1], link[2], link[3], link[4])
    return links


@dataclass(frozen=True)
class _Constant:
    value: Any


class _Graph:
    """Resolves where an input's value really comes from, through reroutes, primitives and bypassed nodes."""

    def __init__(self, workflow: dict):
        check_ui_shape(workflow)
        self.nodes = {node["id"]: node for node in workflow["nodes"]}
        self.links = _links(workflow)

    def source(self, link_id: int | None, seen: frozenset[int] = frozenset()) -> tuple[int, int] | _Constant | None:
        if link_id is None or link_id not in self.links:
            return None
        origin_id, origin_slot, _, _ = self.links[link_id]
        origin = self.nodes.get(origin_id)
        if origin is None or origin_id in seen:
            return None
        seen = seen | {origin_id}
        if origin["type"] == REROUTE_TYPE:
            return self.source(_input_link(origin, 0), seen)
        if origin["type"] == PRIMITIVE_TYPE:
            values = origin.get("widgets_values") or [None]
            return _Constant(values[0])
        mode = origin.get("mode", 0)
        if mode == MODE_MUTED:
            return None
        if mode == MODE_BYPASSED:
            return self.source(_bypass_input_link(origin, origin_slot), seen)
        return (origin_id, origin_slot)


def _input_link(node: dict, index: int) -> int | None:
    inputs = node.get("inputs") or []
    return inputs[index].get("link") if index < len(inputs) else None


def _bypass_input_link(node: dict, output_slot: int) -> int | None:
    """A bypassed node hands through the input of the output's type: same index first, then the first match."""
    outputs, inputs = node.get("outputs") or [], node.get("inputs") or []
    if output_slot >= len(outputs):
        return None
    wanted = outputs[output_slot].get("type")
    candidates = [output_slot] if output_slot < len(inputs) else []
    candidates += [i for i in range(len(inputs)) if i != output_slot]
    for index in candidates:
        if inputs[index].get("type") == wanted and inputs[index].get("link") is not None:
            return inputs[index]["link"]
    return None


def _is_virtual(node: dict) -> bool:
    return node["type"] in NOTE_TYPES or node["type"] in (REROUTE_TYPE, PRIMITIVE_TYPE)


def ui_to_api(workflow: dict, object_info: dict) -> dict[str, dict]:
    """The API prompt for a UI-format workflow, given the node definitions of the server that will run it."""
    graph = _Graph(workflow)
    subgraphs = {sg.get("id") for sg in (workflow.get("definitions") or {}).get("subgraphs", [])}
    runnable = [
        node
        for node in graph.nodes.values()
        if not _is_virtual(node) and node.get("mode", 0) not in (MODE_MUTED, MODE_BYPASSED)
    ]
    unknown = sorted({node["type"] for node in runnable if node["type"] not in object_info})
    if unknown:
        packed = [name for name in unknown if name in subgraphs]
        if packed:
            raise ConversionError(
                f"the workflow uses subgraphs ({', '.join(packed)}), which this converter does not flatten. "
                "Open it in ComfyUI and export the API file (ComfyUI logo menu → File → Export (API)), then run that "
                "file; or unpack the subgraphs (right-click → Unpack Subgraph) and save the workflow again."
            )
        raise ConversionError(
            f"the server does not know node types {', '.join(unknown)}: install the custom nodes that provide them"
        )
    prompt: dict[str, dict] = {}
    for node in sorted(runnable, key=lambda n: n["id"]):
        class_info = object_info[node["type"]]
        inputs: dict[str, Any] = widget_values_by_name(node, class_info)
        for socket in node.get("inputs") or []:
            name = (socket.get("widget") or {}).get("name", socket["name"])
            source = graph.source(socket.get("link"))
            if isinstance(source, _Constant):
                inputs[name] = source.value
            elif source is not None:
                inputs[name] = [str(source[0]), source[1]]
        title = node.get("title") or class_info.get("display_name") or node["type"]
        meta = {"title": title}
        if (node.get("properties") or {}).get("models"):
            meta["models"] = node["properties"]["models"]  # download links travel with the API twin
        prompt[str(node["id"])] = {"class_type": node["type"], "inputs": inputs, "_meta": meta}
    _drop_links_to_missing(prompt)
    return prompt


def _drop_links_to_missing(prompt: dict[str, dict]) -> None:
    for entry in prompt.values():
        for name, value in list(entry["inputs"].items()):
            if _is_link(value) and value[0] not in prompt:
                del entry["inputs"][name]


def _is_link(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[0], str) and isinstance(value[1], int)


def dumps(prompt: dict) -> str:
    """The canonical text of an API workflow file, so regenerated twins compare byte for byte."""
    return json.dumps(prompt, indent=2, ensure_ascii=False) + "\n"


def api_path_for(ui_path: Path) -> Path:
    return ui_path.parent / "api" / ui_path.name


def load_json(path: Path, what: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConversionError(f"{what} {path} does not exist") from None
    except json.JSONDecodeError as error:
        raise ConversionError(f"{what} {path} is not valid JSON: {error}") from None


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("workflows", nargs="+", type=Path, help="UI-format workflow files")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--object-info", type=Path, help="a saved /object_info JSON")
    source.add_argument("--server", help="URL of a running ComfyUI server, e.g. http://127.0.0.1:8188")
    return parser


def run(args: argparse.Namespace) -> int:
    """Write `api/<name>.json` beside each UI workflow; exit code 2 on a conversion error."""
    from ..models.shared.files import write_text_atomically
    from .server import ServerStartError, fetch_object_info

    try:
        info = load_json(args.object_info, "object info") if args.object_info else fetch_object_info(args.server)
        for path in args.workflows:
            target = api_path_for(path)
            write_text_atomically(target, dumps(ui_to_api(load_json(path, "workflow"), info)))
            print(f"{path} -> {target}")
    except (ConversionError, ServerStartError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0
