"""Edits to an API prompt before it runs: `--set node.input=value` and file-name substitutions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


class OverrideError(ValueError):
    """An override names a node or input that the workflow does not have; the message lists what it has."""


@dataclass(frozen=True)
class Override:
    node: str
    input: str
    value: Any


def parse_value(text: str) -> Any:
    """JSON when the text is JSON (numbers, true/false, null, lists, quoted strings), otherwise the text itself."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_override(text: str) -> Override:
    """`node.input=value`, where node is a node id, a node title or a class type that occurs once."""
    target, sep, value = text.partition("=")
    node, dot, name = target.rpartition(".")
    if not sep or not dot or not node or not name:
        raise OverrideError(
            f"--set {text!r}: expected NODE.INPUT=VALUE, e.g. --set 3.seed=42 or --set KSampler.steps=4"
        )
    return Override(node.strip(), name.strip(), parse_value(value))


def find_node(prompt: dict[str, dict], ref: str) -> str:
    """The id of the node an override refers to: by id, then by exact title, then by class type if unique."""
    if ref in prompt:
        return ref
    for key in ("title", "class_type"):
        matches = [nid for nid, entry in prompt.items() if _node_field(entry, key) == ref]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise OverrideError(f"{ref!r} matches nodes {', '.join(matches)}: use the node id instead")
    known = ", ".join(f"{nid} ({entry['class_type']})" for nid, entry in prompt.items())
    raise OverrideError(f"no node {ref!r} in the workflow; its nodes are: {known}")


def _node_field(entry: dict, key: str) -> Any:
    return entry.get("_meta", {}).get("title") if key == "title" else entry.get(key)


def apply_overrides(prompt: dict[str, dict], overrides: list[Override], object_info: dict | None = None) -> dict:
    """A copy of the prompt with each override applied; an input must exist on the node or in its definition."""
    result = json.loads(json.dumps(prompt))
    for override in overrides:
        node_id = find_node(result, override.node)
        entry = result[node_id]
        allowed = set(entry["inputs"])
        if object_info and entry["class_type"] in object_info:
            definition = object_info[entry["class_type"]].get("input", {})
            allowed |= {name for section in ("required", "optional") for name in definition.get(section, {})}
        if override.input not in allowed:
            raise OverrideError(
                f"node {node_id} ({entry['class_type']}) has no input {override.input!r}; "
                f"its inputs are: {', '.join(sorted(allowed))}"
            )
        entry["inputs"][override.input] = override.value
    return result


def substitute_values(prompt: dict[str, dict], mapping: dict[str, Any]) -> dict:
    """A copy of the prompt with every widget value equal to a key of `mapping` replaced (e.g. model file names)."""
    result = json.loads(json.dumps(prompt))
    for entry in result.values():
        for name, value in entry["inputs"].items():
            if isinstance(value, str) and value in mapping:
                entry["inputs"][name] = mapping[value]
    return result
