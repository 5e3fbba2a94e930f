"""The wheel, installed (not editable) into a clean virtual environment, is the pack ComfyUI loads and runs.

The environment sees the test environment's packages (torch, ComfyUI's requirements, Ray) through a path in a
.pth file; .pth files found on such a path are not run, so the editable install of the checkout never loads.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import urllib.request
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import launch_comfy, stop_comfy

from worldkit.demo_inputs import demo_files
from worldkit.tools.prompt_graph import Graph, out
from worldkit.tools.wheel import PACK_DIR, build_wheel

PROBE = '''"""Reports where every loaded WorldKit module came from."""
import sys

from aiohttp import web
from server import PromptServer


@PromptServer.instance.routes.get("/worldkit_wheel_probe")
async def modules(request):
    files = {name: getattr(module, "__file__", None) for name, module in list(sys.modules.items())}
    pack = {name: file for name, file in files.items() if file and "worldkit" in name and name != __name__}
    return web.json_response(pack)


NODE_CLASS_MAPPINGS = {}
'''


def clean_environment() -> dict[str, str]:
    """This process's variables without the ones that would put the checkout on the path."""
    hidden = {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}
    return {**{key: value for key, value in os.environ.items() if key not in hidden}, "PYTHONNOUSERSITE": "1"}


def run(command: list, cwd: Path, timeout_s: float = 120) -> subprocess.CompletedProcess:
    completed = subprocess.run(
        command, cwd=cwd, env=clean_environment(), capture_output=True, text=True, timeout=timeout_s
    )
    assert completed.returncode == 0, f"{command} failed:\n{completed.stdout}\n{completed.stderr}"
    return completed


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(python of the clean environment, the installed package folder)."""
    work = tmp_path_factory.mktemp("wheel_install")
    wheel = build_wheel(work)
    env = work / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(env)], work)
    python = env / "bin" / "python"
    site = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], work).stdout.strip())
    test_site = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    (site / "worldkit_test_environment.pth").write_text("\n".join(test_site) + "\n")
    # --ignore-installed: the editable install's metadata is visible on the borrowed path, its code is not.
    run([python, "-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed", "--quiet", str(wheel)], work)
    package = Path(run([python, "-c", FIND_PACKAGE], work).stdout.strip())
    assert package == site / "worldkit", f"worldkit resolves to {package}, not the installed wheel in {site}"
    return python, package


FIND_PACKAGE = "import importlib.util; print(importlib.util.find_spec('worldkit').submodule_search_locations[0])"


def test_the_installed_farm_command_answers(installed, tmp_path):
    python, package = installed
    completed = run([python, "-m", "worldkit", "farm", "--help"], tmp_path)
    assert "usage:" in completed.stdout and "farm" in completed.stdout
    loaded = run([python, "-c", "import worldkit.headless.farm as farm; print(farm.__file__)"], tmp_path).stdout
    assert Path(loaded.strip()).is_relative_to(package)


def test_comfyui_loads_the_installed_pack_and_runs_a_graph(installed, tmp_path):
    python, package = installed
    custom_nodes = tmp_path / "custom_nodes"
    custom_nodes.mkdir()
    (custom_nodes / "worldkit").symlink_to(package, target_is_directory=True)
    (custom_nodes / "worldkit_wheel_probe").mkdir()
    (custom_nodes / "worldkit_wheel_probe" / "__init__.py").write_text(PROBE)
    for folder in ("input", "output", "temp", "user"):
        (tmp_path / folder).mkdir()
    process, comfy = launch_comfy(tmp_path, python=str(python), environment=clean_environment())
    try:
        files = {name: Path(file).resolve() for name, file in comfy.get_json("/worldkit_wheel_probe").items()}
        pack = {name: file for name, file in files.items() if "custom_nodes" in name}
        assert any(file.parent.name == "gvfx" for file in pack.values()), f"no GVFX module loaded: {sorted(pack)}"
        outside = {name: str(file) for name, file in files.items() if not file.is_relative_to(package)}
        assert not outside and pack, f"modules loaded from outside the installed wheel at {package}: {outside}"

        graph = Graph()
        image = graph.node("EmptyImage", width=16, height=8, batch_size=2, color=0x406080)
        matte = graph.node("SolidMask", value=0.5, width=16, height=8)
        saved = graph.node(
            "WorldKitSaveWithAlpha",
            images=out(image),
            alpha=out(matte),
            filename_prefix="wheel/element",
            bit_depth="8",
            video="none",
            fps=24.0,
        )
        frames = comfy.run(graph.prompt()).outputs[saved]["sequence"]
        assert len(frames) == 2
        for frame in frames:
            pixels = cv2.imread(str(comfy.output_dir / frame["subfolder"] / frame["filename"]), cv2.IMREAD_UNCHANGED)
            rgba = cv2.cvtColor(pixels, cv2.COLOR_BGRA2RGBA)
            assert rgba.shape == (8, 16, 4)
            assert np.abs(rgba[..., :3].astype(int) - [0x40, 0x60, 0x80]).max() <= 1
            assert np.abs(rgba[..., 3].astype(float) - 127.5).max() <= 1

        # web/ and workflows/ came with the wheel: the editor's script is served, the demos' inputs are placed.
        with urllib.request.urlopen(f"{comfy.base_url}/extensions/worldkit/js/trajectory_editor.js") as response:
            assert response.read() == (PACK_DIR / "web" / "js" / "trajectory_editor.js").read_bytes()
        placed = {path.name for path in (tmp_path / "input" / "worldkit").iterdir()}
        assert {path.name for path in demo_files()} <= placed
    finally:
        stop_comfy(process)
