"""Finding and understanding the pack's nodes in the editor: names that collide with no other node's, and a
tooltip on every input and output, read from the running server's /object_info."""

from __future__ import annotations

from test_smoke import worldkit_nodes

# Display names of widely installed packs that a WorldKit node must not reuse (KJNodes, VideoHelperSuite).
POPULAR_PACK_NAMES = frozenset({"Color Match", "Image Resize", "Load Video (Upload)", "Video Combine"})


def untipped(info: dict) -> list[str]:
    """Inputs and outputs of one node definition that carry no tooltip."""
    inputs = [
        name
        for section in ("required", "optional")
        for name, spec in info["input"].get(section, {}).items()
        if not (len(spec) > 1 and isinstance(spec[1], dict) and spec[1].get("tooltip"))
    ]
    tips = info.get("output_tooltips") or []
    outputs = [
        f"output {name}"
        for index, name in enumerate(info.get("output_name") or info["output"])
        if index >= len(tips) or not tips[index]
    ]
    return inputs + outputs


def test_every_input_and_output_has_a_tooltip(comfy):
    nodes = worldkit_nodes(comfy.object_info())
    missing = {name: untipped(info) for name, info in nodes.items()}
    missing = {name: items for name, items in missing.items() if items}
    assert len(nodes) >= 30, "the check reads every WorldKit node"
    assert not missing, missing


def test_display_names_collide_with_no_other_node_or_popular_pack(comfy):
    info = comfy.object_info()
    ours = worldkit_nodes(info)
    others = {entry["display_name"] for name, entry in info.items() if name not in ours} | POPULAR_PACK_NAMES
    clashes = {name for name, entry in ours.items() if entry["display_name"] in others}
    assert len({entry["display_name"] for entry in ours.values()}) == len(ours), "two WorldKit nodes share a name"
    assert "Color Match" in others  # the check sees the popular packs' names
    assert not clashes, {n: ours[n]["display_name"] for n in clashes}
