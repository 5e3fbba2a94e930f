"""API-format prompts built in code over the tiny models, for the host tests and the benchmarks."""

from __future__ import annotations

from itertools import count

from ..headless.convert import widget_defaults


class Graph:
    """An API-format prompt under construction: ``node`` returns the new node's id."""

    def __init__(self) -> None:
        self.nodes: dict[str, dict] = {}
        self._ids = count(1)

    def node(self, class_type: str, **inputs) -> str:
        node_id = str(next(self._ids))
        self.nodes[node_id] = {"class_type": class_type, "inputs": inputs}
        return node_id

    def prompt(self) -> dict:
        return self.nodes


def out(node_id: str, index: int = 0) -> list:
    """A link to output ``index`` of a node."""
    return [node_id, index]


WAN22_VAE_DITS = {"wan22_ti2v"}  # the tiny DiTs that take the 48-channel Wan 2.2 VAE


def load_wan(
    graph: Graph, tiny_models: dict[str, str], dit: str = "wan_t2v", vae: str | None = None
) -> tuple[str, str, str]:
    """UNETLoader + CLIPLoader(wan) + VAELoader for a tiny Wan model and its VAE (the Wan 2.2 VAE for TI2V-5B, the
    Wan 2.1 VAE for every other DiT, the 2.2 A14B experts included, unless ``vae`` names another role); returns
    (model, clip, vae) ids."""
    vae = vae or ("wan22_vae" if dit in WAN22_VAE_DITS else "vae")
    model = graph.node("UNETLoader", unet_name=tiny_models[dit], weight_dtype="default")
    clip = graph.node("CLIPLoader", clip_name=tiny_models["umt5"], type="wan", device="default")
    vae = graph.node("VAELoader", vae_name=tiny_models[vae])
    return model, clip, vae


def with_defaults(object_info: dict, class_type: str, **inputs) -> dict:
    """Every required widget of a node at its default, from /object_info, overridden by ``inputs``."""
    return {**widget_defaults(object_info[class_type]), **inputs}
