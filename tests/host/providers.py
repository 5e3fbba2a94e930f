"""Upstream nodes for the bad-input tables: whatever a WorldKit node needs linked, made once per graph."""

from __future__ import annotations

import json

from graphs import widget_defaults

from worldkit.tools.prompt_graph import Graph, load_wan, out

# Required text inputs without a default: a value that suits the providers' 9-frame clips.
REQUIRED_TEXT = {
    "report": json.dumps({"fps": 16, "boundaries": [{"shot": 0, "start": 0, "end": 9}], "shots": [{}]}),
    "cut_list": json.dumps(
        {
            "fps": 24,
            "frames": 9,
            "shots": [{"source_start": 0, "source_frames": 9, "kept_frames": 9, "timeline_start": 0}],
        }
    ),
}


def socket_kind(io_type: str) -> str:
    """The type a provider feeds a socket: IMAGE for GVFX frame sockets (IMAGE or VIDEO, matched), the first type
    of a socket that takes several (GVFX mask sockets take MASK or VIDEO)."""
    return "IMAGE" if io_type == "COMFY_MATCHTYPE_V3" else io_type.split(",")[0]


class Providers:
    """One upstream node per input type a WorldKit node needs, made on first use."""

    def __init__(self, graph: Graph, info: dict, tiny_models: dict[str, str]) -> None:
        self.graph, self.info, self.tiny_models, self.made = graph, info, tiny_models, {}

    def link(self, kind: str) -> list:
        kind = socket_kind(kind)
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
            return out(graph.node("WorldKitWorld", reference_1=self.link("WORLDKIT_REFERENCE")))
        if kind == "WORLDKIT_REFERENCE":
            defaults = widget_defaults(self.info, "WorldKitReference")
            return out(graph.node("WorldKitReference", **{**defaults, "image": self.link("IMAGE"), "name": "toy"}))
        if kind == "WORLDKIT_SHOTS":
            return out(graph.node("WorldKitShotList", shot_1=self.link("WORLDKIT_SHOT")))
        if kind == "WORLDKIT_SHOT":
            settings = {"entities": "toy", "resolution": "custom", "width": 32, "height": 32}
            return out(graph.node("WorldKitShot", **{**widget_defaults(self.info, "WorldKitShot"), **settings}))
        raise AssertionError(f"no provider for {kind}")


def node_with_links(
    graph: Graph, info: dict, tiny_models: dict[str, str], class_type: str, extra: dict | None = None, **inputs
) -> str:
    """``class_type`` at its widget defaults with every required link fed, plus the optional links of the kinds
    ``extra`` names ({input: kind}); ``inputs`` override. Its first output is sunk so the graph runs."""
    providers = Providers(graph, info, tiny_models)
    values = widget_defaults(info, class_type)
    links = {key: spec[0] for key, spec in info[class_type]["input"].get("required", {}).items()}
    for key, kind in {**links, **(extra or {})}.items():
        if key not in values and key not in inputs:
            values[key] = REQUIRED_TEXT[key] if kind == "STRING" else providers.link(kind)
    node = graph.node(class_type, **{**values, **inputs})
    if info[class_type]["output"] and not info[class_type]["output_node"]:
        graph.node("WorldKitTestSink", value=out(node))
    return node
