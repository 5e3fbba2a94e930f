"""Writes the demo workflows: `workflows/<film>.json` (UI format) and their API twins in `workflows/api/`.

    python -m worldkit.tools.authoring.build --server http://127.0.0.1:8188   # node definitions from a running ComfyUI
    python -m worldkit.tools.authoring.build --comfyui /path/to/ComfyUI        # or start one (with --cpu) for the build

Run from the folder that holds the pack. The server must have WorldKit loaded: the graphs use its node definitions.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ...headless.convert import ConversionError, api_path_for, dumps, ui_to_api
from ...headless.server import LocalServer, ServerStartError, fetch_object_info, find_comfyui
from ...models.shared.files import write_bytes_atomically, write_text_atomically
from .films import FILMS, WORKFLOWS
from .graph import GraphError
from .thumbnails import caption, jpeg_bytes, render
from .variants import FilmGraph

WORKFLOWS_DIR = Path(__file__).resolve().parents[2] / "workflows"


def build_workflow(name: str, object_info: dict) -> tuple[dict, dict]:
    """The UI workflow of one film in one variant (`the_herd`, `the_herd_fast`) and its API twin."""
    film, variant = WORKFLOWS[name]
    graph = FilmGraph(object_info, variant)
    FILMS[film](graph)
    ui = graph.to_json()
    return ui, ui_to_api(ui, object_info)


def write_workflows(object_info: dict, names: list[str], out_dir: Path = WORKFLOWS_DIR) -> list[str]:
    """Write each film's UI file and API twin; returns the films that could not be built and why."""
    failures = []
    for name in names:
        try:
            ui, api = build_workflow(name, object_info)
        except (GraphError, ConversionError) as error:
            failures.append(f"{name}: {error}")
            continue
        ui_path = out_dir / f"{name}.json"
        write_text_atomically(ui_path, dumps(ui))
        write_text_atomically(api_path_for(ui_path), dumps(api))
        film, variant = WORKFLOWS[name]
        write_bytes_atomically(ui_path.with_suffix(".jpg"), jpeg_bytes(render(ui, caption(film, variant, ui))))
        print(f"wrote {ui_path}, its thumbnail and {api_path_for(ui_path)}")
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m worldkit.tools.authoring.build", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--server", help="URL of a running ComfyUI with WorldKit loaded")
    parser.add_argument("--comfyui", help="ComfyUI folder to start for the build (default: $COMFYUI_PATH)")
    parser.add_argument("--comfy-args", default="--cpu", help="arguments for the started ComfyUI (default: --cpu)")
    parser.add_argument(
        "--only", action="append", choices=sorted(WORKFLOWS), help="build only this workflow (repeatable)"
    )
    args = parser.parse_args(argv)
    names = args.only or list(WORKFLOWS)
    try:
        if args.server:
            failures = write_workflows(fetch_object_info(args.server), names)
        else:
            with LocalServer(find_comfyui(args.comfyui), args.comfy_args.split()) as server:
                failures = write_workflows(fetch_object_info(server.base_url), names)
    except ServerStartError as error:
        print(f"error: {error}", file=sys.stderr)
        return 3
    for failure in failures:
        print(f"not built: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
