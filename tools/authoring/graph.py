"""Builds UI-format workflows (what ComfyUI's editor saves) from code, laid out in named groups.

Widget values are given by input name and written in the editor's positional order, taken from the
node definitions of a live server (/object_info), so the saved graph loads exactly as if drawn by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...headless.convert import editor_extras, input_kind, input_options, is_widget, ordered_inputs

NODE_WIDTH = 340
ROW_HEIGHT = 26
MULTILINE_HEIGHT = 110
MEDIA_PREVIEW_HEIGHT = 300  # the picture a Load Image/Video/Audio node shows under its widgets
CANVAS_EDITOR_HEIGHT = 460  # the trajectory editor's canvas and controls
CANVAS_EDITOR_TYPES = ("WorldKitTrajectoryKeypoints",)
NODE_GAP = 40
GROUP_GAP = 90
GROUP_PADDING = 40
GROUP_TITLE = 46
MAX_COLUMN_HEIGHT = 1500
NOTE_COLOR, NOTE_BGCOLOR = "#432", "#653"
GROUP_COLORS = ("#3f789e", "#8A8", "#b58b2a", "#a1309b", "#88A", "#b06634", "#444")
CONTROL_VALUE = "fixed"
UPLOAD_VALUES = {"image_upload": ["image"], "video_upload": ["image"], "audio_upload": [None, None]}


class GraphError(ValueError):
    """A workflow script asked for a node, input or output that the server's definitions do not have."""


@dataclass(frozen=True)
class Output:
    """One output socket of a node, usable as an input value of another node."""

    node: int
    slot: int
    type: str


@dataclass
class Node:
    id: int
    type: str
    title: str | None
    group: str
    values: dict[str, Any]
    links: dict[str, Output]
    definition: dict
    pos: list[float] = field(default_factory=lambda: [0.0, 0.0])
    size: list[float] = field(default_factory=lambda: [NODE_WIDTH, 100.0])
    models: list[dict] = field(default_factory=list)  # `properties.models`: files the editor offers to download

    def out(self, name: str | int = 0) -> Output:
        """An output by index or name (output name, or its type when names are not given)."""
        types = self.definition.get("output", [])
        names = self.definition.get("output_name") or types
        if isinstance(name, int):
            slot = name
        elif name in names:
            slot = list(names).index(name)
        elif name in types:
            slot = list(types).index(name)
        else:
            raise GraphError(f"{self.type} has no output {name!r}; it has {', '.join(map(str, names))}")
        if slot >= len(types):
            raise GraphError(f"{self.type} has {len(types)} outputs, not {slot + 1}")
        return Output(self.id, slot, _socket_type(types[slot]))


def _socket_type(kind: Any) -> str:
    return "COMBO" if isinstance(kind, list) else str(kind)


def default_value(spec: list | tuple) -> Any:
    options = input_options(spec)
    if "default" in options:
        return options["default"]
    kind = input_kind(spec)
    if kind == "COMBO":
        choices = spec[0] if isinstance(spec[0], list) else options.get("options", [])
        return choices[0] if choices else ""
    return {"INT": 0, "FLOAT": 0.0, "STRING": "", "BOOLEAN": False}.get(kind)


class UIGraph:
    """A workflow under construction: add nodes to named groups, then `to_json()`."""

    def __init__(self, object_info: dict):
        self.object_info = object_info
        self.nodes: list[Node] = []
        self.groups: list[str] = []
        self._group = "Workflow"

    def group(self, title: str, note: str = "", note_title: str = "Note") -> UIGraph:
        """Following nodes go into the group with this title (a step of the film), opened by ``note`` when given."""
        if title not in self.groups:
            self.groups.append(title)
        self._group = title
        if note:
            self.note(note, title=note_title)
        return self

    def node(self, class_type: str, title: str | None = None, **inputs: Any) -> Node:
        if class_type not in self.object_info:
            raise GraphError(f"the server has no node {class_type!r}")
        definition = self.object_info[class_type]
        known = dict(ordered_inputs(definition))
        unknown = set(inputs) - set(known)
        if unknown:
            raise GraphError(f"{class_type} has no input(s) {', '.join(sorted(unknown))}; it has {', '.join(known)}")
        links = {name: value for name, value in inputs.items() if isinstance(value, Output)}
        values = {name: value for name, value in inputs.items() if not isinstance(value, Output)}
        for name, value in values.items():
            if not is_widget(known[name]):
                raise GraphError(f"{class_type}.{name} is a socket; connect an output to it, not {value!r}")
        if self._group not in self.groups:
            self.groups.append(self._group)
        node = Node(len(self.nodes) + 1, class_type, title, self._group, values, links, definition)
        self.nodes.append(node)
        return node

    def note(self, text: str, title: str = "Note") -> Node:
        """A Markdown note (not a runnable node; the API twin leaves it out)."""
        node = Node(len(self.nodes) + 1, "MarkdownNote", title, self._group, {"text": text}, {}, {})
        self.nodes.append(node)
        return node

    def _widgets_values(self, node: Node) -> list[Any]:
        if node.type == "MarkdownNote":
            return [node.values["text"]]
        values: list[Any] = []
        for name, spec in ordered_inputs(node.definition):
            if not is_widget(spec):
                continue
            values.append(node.values.get(name, default_value(spec)))
            uploads = [v for flag, vals in UPLOAD_VALUES.items() if input_options(spec).get(flag) for v in vals]
            controls = editor_extras(name, spec) - len(uploads)
            values += [CONTROL_VALUE] + [""] * (controls - 1) if controls else []
            values += uploads
        return values

    def _inputs(self, node: Node, link_ids: dict[tuple[int, str], int]) -> list[dict]:
        entries = []
        for name, spec in ordered_inputs(node.definition):
            widget = is_widget(spec)
            if widget and name not in node.links:
                continue
            entry = {"name": name, "type": input_kind(spec), "link": link_ids.get((node.id, name))}
            if widget:
                entry["widget"] = {"name": name}
            elif name in node.definition.get("input", {}).get("optional", {}):
                entry["shape"] = 7
            entries.append(entry)
        return entries

    def _outputs(self, node: Node, links_from: dict[tuple[int, int], list[int]]) -> list[dict]:
        types = node.definition.get("output", [])
        names = node.definition.get("output_name") or types
        return [
            {"name": str(names[i]), "type": _socket_type(kind), "links": links_from.get((node.id, i), [])}
            for i, kind in enumerate(types)
        ]

    def _size(self, node: Node) -> list[float]:
        if node.type == "MarkdownNote":
            lines = sum(1 + len(line) // 48 for line in node.values["text"].splitlines())
            return [NODE_WIDTH, 40 + 20 * lines]
        rows = len(node.definition.get("output", [])) + len(node.links)
        height = 46.0
        for _name, spec in ordered_inputs(node.definition):
            rows += 1
            options = input_options(spec) if is_widget(spec) else {}
            if options.get("multiline"):
                height += MULTILINE_HEIGHT
            if any(options.get(upload) for upload in UPLOAD_VALUES):
                height += MEDIA_PREVIEW_HEIGHT
        if node.type in CANVAS_EDITOR_TYPES:
            height += CANVAS_EDITOR_HEIGHT
        return [NODE_WIDTH, height + ROW_HEIGHT * rows]

    def _layout(self) -> list[dict]:
        """Groups left to right in the order they were opened; each a column (or several) of its nodes."""
        groups, x = [], 0.0
        for index, title in enumerate(self.groups):
            members = [n for n in self.nodes if n.group == title]
            if not members:
                continue
            column_x, y, right, bottom = x + GROUP_PADDING, GROUP_TITLE + GROUP_PADDING, x, 0.0
            for node in members:
                node.size = self._size(node)
                if y + node.size[1] > MAX_COLUMN_HEIGHT and y > GROUP_TITLE + GROUP_PADDING:
                    column_x += NODE_WIDTH + NODE_GAP
                    y = GROUP_TITLE + GROUP_PADDING
                node.pos = [column_x, y]
                y += node.size[1] + NODE_GAP
                right, bottom = max(right, column_x + NODE_WIDTH), max(bottom, y)
            width = right + GROUP_PADDING - x
            groups.append(
                {
                    "id": index + 1,
                    "title": title,
                    "bounding": [x, 0.0, width, bottom + GROUP_PADDING],
                    "color": GROUP_COLORS[index % len(GROUP_COLORS)],
                    "font_size": 24,
                    "flags": {},
                }
            )
            x += width + GROUP_GAP
        return groups

    def _order(self) -> dict[int, int]:
        """Execution order as the editor stores it: a topological order of the nodes."""
        order: dict[int, int] = {}
        pending = list(self.nodes)
        while pending:
            ready = [n for n in pending if all(link.node in order for link in n.links.values())]
            if not ready:
                raise GraphError("the workflow has a cycle")
            for node in ready:
                order[node.id] = len(order)
            pending = [n for n in pending if n.id not in order]
        return order

    def to_json(self) -> dict:
        links, link_ids, links_from = [], {}, {}
        for node in self.nodes:
            for name, source in node.links.items():
                link_id = len(links) + 1
                target_slot = [e["name"] for e in self._inputs(node, {})].index(name)
                links.append([link_id, source.node, source.slot, node.id, target_slot, source.type])
                link_ids[(node.id, name)] = link_id
                links_from.setdefault((source.node, source.slot), []).append(link_id)
        groups = self._layout()
        order = self._order()
        nodes = []
        for node in self.nodes:
            properties = {"Node name for S&R": node.type} if node.type != "MarkdownNote" else {}
            if node.models:
                properties["models"] = node.models
            entry = {
                "id": node.id,
                "type": node.type,
                "pos": node.pos,
                "size": node.size,
                "flags": {},
                "order": order[node.id],
                "mode": 0,
                "inputs": self._inputs(node, link_ids),
                "outputs": self._outputs(node, links_from),
                "properties": properties,
                "widgets_values": self._widgets_values(node),
            }
            if node.title:
                entry["title"] = node.title
            if node.type == "MarkdownNote":
                entry["color"], entry["bgcolor"] = NOTE_COLOR, NOTE_BGCOLOR
            nodes.append(entry)
        return {
            "last_node_id": len(nodes),
            "last_link_id": len(links),
            "nodes": nodes,
            "links": links,
            "groups": groups,
            "config": {},
            "extra": {"ds": {"scale": 0.6, "offset": [0, 0]}},
            "version": 0.4,
        }
