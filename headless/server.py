"""Finding, starting and stopping a ComfyUI server for headless runs."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

PACK_DIR = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT_S = 300.0


class ServerStartError(RuntimeError):
    """ComfyUI could not be found or did not come up; the message says where to look."""


def fetch_object_info(base_url: str) -> dict:
    """GET /object_info from a running server (blocking)."""
    try:
        with urllib.request.urlopen(base_url.rstrip("/") + "/object_info", timeout=60) as response:
            return json.loads(response.read())
    except (urllib.error.URLError, OSError) as error:
        raise ServerStartError(f"cannot reach ComfyUI at {base_url}: {error}") from None


def find_comfyui(explicit: str | os.PathLike | None = None) -> Path:
    """The ComfyUI folder: the one given, else $COMFYUI_PATH, else the install whose custom_nodes holds this pack."""
    candidates = [explicit, os.environ.get("COMFYUI_PATH")]
    if PACK_DIR.parent.name == "custom_nodes":
        candidates.append(PACK_DIR.parent.parent)
    for candidate in candidates:
        if candidate and (Path(candidate) / "main.py").is_file():
            return Path(candidate)
    raise ServerStartError(
        "ComfyUI not found: pass --comfyui PATH, set COMFYUI_PATH, or run from a pack installed in ComfyUI/custom_nodes"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/system_stats", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


class LocalServer:
    """ComfyUI started on a free loopback port for one run, stopped afterwards; its log goes to a file."""

    def __init__(self, comfyui: Path, extra_args: list[str] | None = None, python: str | None = None):
        self.comfyui = Path(comfyui)
        self.extra_args = list(extra_args or [])
        self.python = python or sys.executable
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(tempfile.gettempdir()) / f"worldkit-comfyui-{self.port}.log"
        self._process: subprocess.Popen | None = None

    def start(self, timeout_s: float = STARTUP_TIMEOUT_S) -> None:
        command = [self.python, "main.py", "--listen", "127.0.0.1", "--port", str(self.port), "--disable-auto-launch"]
        with open(self.log_path, "wb") as log:
            self._process = subprocess.Popen(
                [*command, *self.extra_args], cwd=self.comfyui, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise ServerStartError(f"ComfyUI exited with code {self._process.returncode}:\n{self.log_tail()}")
            if _answers(self.base_url):
                return
            time.sleep(0.5)
        self.stop()
        raise ServerStartError(f"ComfyUI did not answer within {timeout_s:.0f} s:\n{self.log_tail()}")

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs."""
        return None if self._process is None else self._process.pid

    def stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def __enter__(self) -> LocalServer:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
