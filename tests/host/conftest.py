"""Host-tier fixtures: tiny random-weight models and a real ComfyUI server with the pack mounted."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

HOST_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(HOST_DIR))

from client import ComfyClient  # noqa: E402

from worldkit.tools.tiny_models import build_models, mount_pack  # noqa: E402

TEST_NODES_DIR = HOST_DIR / "testing_nodes"
SERVER_START_TIMEOUT_S = 240


def comfyui_path() -> Path:
    return Path(os.environ.get("COMFYUI_PATH", "/opt/ComfyUI"))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def comfy_base_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ComfyUI's base directory for the test server: models, custom_nodes, input, output, temp, user."""
    base = tmp_path_factory.mktemp("comfy_base")
    custom_nodes = base / "custom_nodes"
    mount_pack(custom_nodes)
    for package in TEST_NODES_DIR.iterdir():
        if (package / "__init__.py").is_file():
            (custom_nodes / package.name).symlink_to(package, target_is_directory=True)
    for folder in ("input", "output", "temp", "user"):
        (base / folder).mkdir()
    return base


@pytest.fixture(scope="session")
def tiny_models(comfy_base_dir: Path) -> dict[str, str]:
    """Role -> file name of tiny Wan 2.1 DiTs, VAE, UMT5 and CLIP-vision files, built with ComfyUI's classes."""
    return build_models(comfy_base_dir / "models", comfyui_path())


def wait_until_serving(base_url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"ComfyUI exited with {process.returncode}:\n{log_path.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{base_url}/system_stats", timeout=5):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(
        f"ComfyUI did not answer within {SERVER_START_TIMEOUT_S} s:\n{log_path.read_text(errors='replace')}"
    )


def launch_comfy(
    base_dir: Path, log_name: str = "server.log", python: str = sys.executable, environment: dict | None = None
) -> tuple[subprocess.Popen, ComfyClient]:
    """A real ComfyUI server (main.py --cpu on a free loopback port) with WorldKit mounted, answering; run by
    ``python`` with ``environment`` (default: this process's) when given."""
    port = free_port()
    log_path = base_dir / log_name
    command = [
        python,
        "main.py",
        "--cpu",
        "--listen",
        "127.0.0.1",
        "--port",
        str(port),
        "--base-directory",
        str(base_dir),
        "--database-url",
        "sqlite:///:memory:",
        "--disable-auto-launch",
    ]
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command,
            cwd=comfyui_path(),
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**(os.environ if environment is None else environment), "PYTHONUNBUFFERED": "1"},
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base_url, process, log_path)
    except BaseException:
        stop_comfy(process)
        raise
    client = ComfyClient(base_url, base_dir, log_path)
    client.pid = process.pid
    return process, client


def stop_comfy(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def comfy(comfy_base_dir: Path, tiny_models: dict[str, str]):
    """The session's ComfyUI server; ``comfy.pid`` is its process id."""
    process, client = launch_comfy(comfy_base_dir)
    try:
        yield client
    finally:
        stop_comfy(process)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """A failing host test shows the end of the server's log."""
    outcome = yield
    report = outcome.get_result()
    client = item.funcargs.get("comfy") if hasattr(item, "funcargs") else None
    if report.failed and isinstance(client, ComfyClient):
        report.sections.append(("ComfyUI server log (tail)", client.log_tail(120)))
