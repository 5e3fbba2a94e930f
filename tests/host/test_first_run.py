"""The README's first screen as a new user runs it: fetch the fast demo's models, then render it headless.

The commands are read from the README's "First render" block and run as written, with test-only options
appended: the models come from a loopback mirror of huggingface.co serving the tiny models, into a scratch
models folder; the render goes to the test server with the tiny models' names and preview sizes.
"""

from __future__ import annotations

import json
import shlex
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from test_headless_runner import cli
from workflow_maps import TINY_MODEL_ROLES, preview_overrides

from worldkit.headless.catalog import CATALOG, WAN_VAE
from worldkit.headless.model_files import HUB, needed_models

PACK_DIR = Path(__file__).resolve().parents[2]


def readme_commands() -> list[list[str]]:
    """`python -m worldkit ...` lines of the README's First render block, split as a shell would."""
    readme = (PACK_DIR / "README.md").read_text()
    block = readme.split("## First render", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    prefix = "python -m worldkit "
    return [shlex.split(line.removeprefix(prefix)) for line in block.splitlines() if line.startswith(prefix)]


def tiny_mirror(files: dict[str, bytes]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            body = files.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def mirror(comfy_base_dir, tiny_models):
    """huggingface.co paths of the catalog's files -> the tiny model standing in for each."""
    tiny = {}
    for name, role in TINY_MODEL_ROLES.items():
        found = next((comfy_base_dir / "models").rglob(tiny_models[role]))
        tiny[CATALOG[name].url.removeprefix(HUB)] = found.read_bytes()
    server = tiny_mirror(tiny)
    yield f"http://127.0.0.1:{server.server_address[1]}", tiny
    server.shutdown()
    server.server_close()


def test_the_readme_first_render_fetches_the_models_and_renders_the_fast_demo(comfy, tiny_models, mirror, tmp_path):
    (fetch, fetch_args), (render, render_args) = [(c[0], c[1:]) for c in readme_commands()]
    assert (fetch, render) == ("models", "run") and "--download" in fetch_args
    workflow = PACK_DIR / fetch_args[0].removeprefix("worldkit/")
    assert workflow.name.endswith("_fast.json") and render_args[0] == fetch_args[0]
    url, tiny = mirror
    models_dir = tmp_path / "models"
    # The VAE stands in for a file the user has already: its real SHA-256 is in the catalog.
    (models_dir / "vae").mkdir(parents=True)
    (models_dir / "vae" / WAN_VAE.name).write_bytes(b"already downloaded")

    fetched = cli(["models", *fetch_args, "--models-dir", str(models_dir), "--mirror", url], tmp_path)
    assert fetched.returncode == 0, fetched.stdout + fetched.stderr
    needed = needed_models(json.loads(workflow.read_text()))
    assert len(needed) >= 4
    for model in needed:
        if model.name != WAN_VAE.name:
            assert (models_dir / model.directory / model.name).read_bytes() == tiny[model.url.removeprefix(HUB)]
    assert "[" + "#" * 30 + "]" in fetched.stderr, "a progress bar per file"

    renames = [f"--rename={name}={tiny_models[role]}" for name, role in TINY_MODEL_ROLES.items()]
    sizes = [
        f"--set={o.node}.{o.input}={json.dumps(o.value)}" for o in preview_overrides(json.loads(workflow.read_text()))
    ]
    rendered = cli(["run", *render_args, "--server", comfy.base_url, *renames, *sizes], tmp_path)
    assert rendered.returncode == 0, rendered.stderr[-4000:]
    videos = sorted((tmp_path / "renders").rglob("*.mp4"))
    assert videos, rendered.stdout
