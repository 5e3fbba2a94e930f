"""ComfyUI's own nodes that load only when a package is installed in ComfyUI's environment.

ComfyUI v0.8.0 skips comfy_extras/nodes_audio.py (Load Audio and the other audio nodes) when torchaudio is
missing, with a traceback in its log that names neither a workflow nor the fix. The pack says so instead:
at start-up for the demos that use such a node, and in the CLI before a run or a download.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Container, Iterable
from pathlib import Path

WORKFLOWS_DIR = Path(__file__).resolve().parent / "workflows"
NODE_PACKAGES = {"LoadAudio": "torchaudio"}  # node type -> the package its ComfyUI module imports


class MissingPackageError(RuntimeError):
    """The workflow uses ComfyUI nodes that the server did not load because its environment lacks a package."""

    def __init__(self, missing: dict[str, str]):
        self.missing = missing
        super().__init__(f"the workflow uses ComfyUI nodes this server did not load. {describe_missing(missing)}")


def node_types(workflow: dict) -> set[str]:
    """The node types a UI-format (`nodes[].type`) or API-format (`{id: {class_type}}`) workflow uses."""
    if isinstance(workflow.get("nodes"), list):
        return {node.get("type") for node in workflow["nodes"] if isinstance(node, dict)} - {None}
    return {entry["class_type"] for entry in workflow.values() if isinstance(entry, dict) and "class_type" in entry}


def install_hint(package: str) -> str:
    return f"install {package} into ComfyUI's environment (`python -m pip install {package}` with ComfyUI's Python)"


def missing_packages(types: Iterable[str], available: Container[str]) -> dict[str, str]:
    """Node type -> package, for the types that need a package and are not among the `available` nodes."""
    return {kind: NODE_PACKAGES[kind] for kind in sorted(types) if kind in NODE_PACKAGES and kind not in available}


def importable_nodes() -> set[str]:
    """The package-needing node types whose package this Python can import (the CLI runs in ComfyUI's)."""
    return {kind for kind, package in NODE_PACKAGES.items() if importlib.util.find_spec(package) is not None}


def describe_missing(missing: dict[str, str]) -> str:
    """One sentence per package: which nodes need it and how to install it."""
    by_package: dict[str, list[str]] = {}
    for kind, package in missing.items():
        by_package.setdefault(package, []).append(kind)
    return " ".join(
        f"{', '.join(kinds)} needs {package}: {install_hint(package)}, then restart ComfyUI."
        for package, kinds in sorted(by_package.items())
    )


def demo_warning(available: Container[str], workflows_dir: Path = WORKFLOWS_DIR) -> str | None:
    """The start-up log line naming the demos that cannot run on this ComfyUI and the package each lacks."""
    demos, missing = [], {}
    for path in sorted(workflows_dir.glob("*.json")):
        lacking = missing_packages(node_types(json.loads(path.read_text(encoding="utf-8"))), available)
        if lacking:
            demos.append(path.stem)
            missing.update(lacking)
    if not demos:
        return None
    return f"WorldKit: the demos {', '.join(demos)} cannot run on this ComfyUI: {describe_missing(missing)}"
