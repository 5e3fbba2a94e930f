"""`python -m worldkit models WORKFLOW [--download]`: what a workflow loads, where each file goes, whether it is
there, and fetching the missing ones.

Works on UI and API files without a server: loader nodes are found by type (headless/requirements.py's map),
and each file's source comes from the pack's catalog or, for workflows from elsewhere, from the node's own
`properties.models` entry (UI) or `_meta.models` (API twin), as ComfyUI's templates carry them.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ..host_packages import describe_missing, importable_nodes, missing_packages, node_types
from .catalog import CATALOG, total_download
from .convert import load_json
from .download import DownloadError, HostUnreachable, download
from .progress import bar
from .requirements import MODEL_EXTENSIONS, MODEL_FOLDERS
from .server import ServerStartError, find_comfyui

HUB = "https://huggingface.co"
# ComfyUI also reads these older folder names for the same kinds of model (folder_paths.py).
LEGACY_FOLDERS = {"diffusion_models": ("unet",), "text_encoders": ("clip",)}
LOADER_WIDGETS = {class_type: name for class_type, name in MODEL_FOLDERS}


@dataclass(frozen=True)
class NeededModel:
    name: str
    directory: str
    url: str | None
    size: str | None = None
    sha256: str | None = None


def _entry(name: str, directory: str, listed: dict[str, dict]) -> NeededModel:
    known = CATALOG.get(name)
    if known is not None:
        return NeededModel(name, known.directory, known.url, known.size, known.sha256)
    own = listed.get(name, {})
    return NeededModel(name, own.get("directory", directory), own.get("url"))


def _api_files(prompt: dict) -> tuple[list[tuple[str, str]], dict[str, dict]]:
    files, listed = [], {}
    for entry in prompt.values():
        for item in (entry.get("_meta") or {}).get("models", []):
            listed[item["name"]] = item
        for (class_type, input_name), directory in MODEL_FOLDERS.items():
            value = entry.get("inputs", {}).get(input_name)
            if entry.get("class_type") == class_type and isinstance(value, str):
                files.append((value, directory))
    return files, listed


def _ui_files(workflow: dict) -> tuple[list[tuple[str, str]], dict[str, dict]]:
    """Loader nodes' first widget (their file for every single-file loader) and every `properties.models`."""
    files, listed = [], {}
    for node in workflow.get("nodes", []):
        for item in (node.get("properties") or {}).get("models", []):
            listed[item["name"]] = item
            files.append((item["name"], item.get("directory", "")))
        values = node.get("widgets_values")
        first = values[0] if isinstance(values, list) and values else None
        if node.get("type") in LOADER_WIDGETS and isinstance(first, str) and first.endswith(MODEL_EXTENSIONS):
            files.append((first, MODEL_FOLDERS[(node["type"], LOADER_WIDGETS[node["type"]])]))
    return files, listed


def needed_models(workflow: dict) -> list[NeededModel]:
    """Every model file the workflow loads, once each, in the order the nodes name them."""
    files, listed = _ui_files(workflow) if "nodes" in workflow else _api_files(workflow)
    seen: dict[str, NeededModel] = {}
    for name, directory in files:
        seen.setdefault(name, _entry(name, directory, listed))
    return list(seen.values())


def locate(models_dir: Path, model: NeededModel) -> Path | None:
    """Where ComfyUI would find the file (its folder or the older name of that folder), or None."""
    for folder in (model.directory, *LEGACY_FOLDERS.get(model.directory, ())):
        path = models_dir / folder / model.name
        if path.is_file():
            return path
    return None


def models_dir_for(args: argparse.Namespace) -> Path:
    if args.models_dir:
        return Path(args.models_dir)
    return find_comfyui(args.comfyui) / "models"


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {seconds:02d}s" if minutes else f"{seconds}s"


class ProgressLine:
    """One terminal line per file: a bar, bytes so far of the total, the rate and the time left (the last two
    once bytes have arrived in this run). Nothing is drawn for a file no byte arrived for."""

    def __init__(self, name: str, clock: Callable[[], float] = time.monotonic):
        self.name, self.clock = name, clock
        self.start: tuple[float, int] | None = None
        self.drawn = False

    def text(self, done: int, total: int | None) -> str:
        now = self.clock()
        if self.start is None:
            self.start = (now, done)
        elapsed, arrived = now - self.start[0], done - self.start[1]
        rate = arrived / elapsed if elapsed > 0 and arrived > 0 else None
        shown = f"{bar(done, total)} {done / 1e6:,.1f}/{total / 1e6:,.1f} MB" if total else f"{done / 1e6:,.1f} MB"
        if rate:
            shown += f"  {rate / 1e6:,.1f} MB/s"
            if total:
                shown += f"  {_duration(max(total - done, 0) / rate)} left"
        return f"  {self.name} {shown}"

    def __call__(self, done: int, total: int | None) -> None:
        sys.stderr.write(f"\r{self.text(done, total):<100}")
        sys.stderr.flush()
        self.drawn = True

    def finish(self) -> None:
        """End the file's line, if one was drawn."""
        if self.drawn:
            sys.stderr.write("\n")


def source_url(model: NeededModel, mirror: str | None) -> str:
    return mirror.rstrip("/") + model.url.removeprefix(HUB) if mirror else model.url


def fetch_missing(needed: list[NeededModel], models_dir: Path, mirror: str | None = None) -> list[str]:
    """Download each missing file that has a source (from `mirror` instead of huggingface.co when given);
    returns one line per file that could not be fetched, and one per host that could not be reached (the
    host's other files are then not tried)."""
    problems, unreachable = [], set()
    for model in needed:
        if locate(models_dir, model) is not None:
            continue
        if model.url is None:
            problems.append(f"{model.name}: no download source known; put it in models/{model.directory}/ by hand")
            continue
        url = source_url(model, mirror)
        if urlsplit(url).hostname in unreachable:
            continue
        progress = ProgressLine(model.name)
        try:
            download(url, models_dir / model.directory / model.name, sha256=model.sha256, progress=progress)
        except HostUnreachable as error:
            unreachable.add(error.host)
            problems.append(f"{error}; check the network, or fetch from a mirror of {HUB} with --mirror URL")
        except DownloadError as error:
            problems.append(str(error))
        finally:
            progress.finish()
    return problems


def describe(needed: list[NeededModel], models_dir: Path) -> str:
    lines = []
    for model in needed:
        found = locate(models_dir, model)
        state = "present" if found else "missing"
        size = f" ({model.size})" if model.size else ""
        lines.append(f"{state:8} {model.name}{size} -> {models_dir / model.directory}/")
        if not found:
            lines.append(f"         {model.url or 'no download source known'}")
    lines.append(f"total download: {total_download(model.size for model in needed)}")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("workflow", type=Path, help="UI- or API-format workflow")
    parser.add_argument("--download", action="store_true", help="fetch the missing files")
    parser.add_argument("--comfyui", help="ComfyUI folder (default: $COMFYUI_PATH or the install holding this pack)")
    parser.add_argument("--models-dir", type=Path, help="ComfyUI's models folder (default: <ComfyUI>/models)")
    parser.add_argument("--mirror", help=f"fetch from this mirror of {HUB} (same paths), e.g. a studio cache")
    return parser


def run(args: argparse.Namespace) -> int:
    """Exit 0 when every file is present (after downloading, with --download), 1 when some are missing."""
    try:
        workflow = load_json(args.workflow, "workflow")
        models_dir = models_dir_for(args)
    except (ServerStartError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    needed = needed_models(workflow)
    if lacking := missing_packages(node_types(workflow), importable_nodes()):
        print(
            f"note: this Python lacks a package the workflow's nodes need. {describe_missing(lacking)}", file=sys.stderr
        )
    problems = fetch_missing(needed, models_dir, args.mirror) if args.download else []
    print(describe(needed, models_dir))
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    missing = [model for model in needed if locate(models_dir, model) is None]
    if missing and not args.download:
        print(f"{len(missing)} file(s) missing: python -m worldkit models {args.workflow} --download", file=sys.stderr)
    return 1 if missing else 0
