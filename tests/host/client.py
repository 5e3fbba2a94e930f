"""A small client for a real ComfyUI server: /prompt, the websocket, /history, /view, /object_info."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import websocket

RUN_TIMEOUT_S = 600


class ExecutionFailed(AssertionError):
    """A node raised while the prompt ran, or a prompt ran that should have failed."""


class PromptRefused(ExecutionFailed):
    """/prompt refused the graph before running it; ``detail`` holds ComfyUI's error and node_errors."""

    def __init__(self, detail: dict):
        super().__init__(f"/prompt refused the graph: {json.dumps(detail, indent=1)}")
        self.detail = detail


@dataclass
class RunResult:
    prompt_id: str
    outputs: dict[str, dict] = field(default_factory=dict)
    executed: set[str] = field(default_factory=set)
    cached: set[str] = field(default_factory=set)
    error: dict | None = None
    interrupted: bool = False
    progress: list[tuple[str, int, int]] = field(default_factory=list)
    history: dict = field(default_factory=dict)


class ComfyClient:
    def __init__(self, base_url: str, base_dir: Path, log_path: Path):
        self.base_url = base_url.rstrip("/")
        self.base_dir = base_dir
        self.log_path = log_path
        self.output_dir = base_dir / "output"
        self.input_dir = base_dir / "input"
        self.temp_dir = base_dir / "temp"
        self.client_id = str(uuid.uuid4())
        self.pid: int | None = None

    def log_tail(self, lines: int = 80) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def get_json(self, path: str) -> dict:
        with urllib.request.urlopen(f"{self.base_url}{path}", timeout=60) as response:
            return json.loads(response.read())

    def object_info(self) -> dict:
        return self.get_json("/object_info")

    def history(self, prompt_id: str) -> dict:
        return self.get_json(f"/history/{prompt_id}").get(prompt_id, {})

    def view(self, filename: str, subfolder: str = "", folder_type: str = "output") -> bytes:
        query = urllib.parse.urlencode({"filename": filename, "subfolder": subfolder, "type": folder_type})
        with urllib.request.urlopen(f"{self.base_url}/view?{query}", timeout=60) as response:
            return response.read()

    def upload_image(self, source: Path | bytes, name: str) -> str:
        """Place an image in the server's input folder, where LoadImage lists it."""
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
        self.input_dir.mkdir(parents=True, exist_ok=True)
        (self.input_dir / name).write_bytes(data)
        return name

    def queue(self, prompt: dict) -> str:
        """Post a prompt; a graph /prompt refuses (validation errors) raises PromptRefused."""
        body = json.dumps({"prompt": prompt, "client_id": self.client_id}).encode()
        request = urllib.request.Request(
            f"{self.base_url}/prompt", data=body, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read())["prompt_id"]
        except urllib.error.HTTPError as error:
            detail = json.loads(error.read().decode(errors="replace") or "{}")
            raise PromptRefused(detail) from None

    def run(self, prompt: dict, expect_error: bool | None = False, on_event=None) -> RunResult:
        """Queue a prompt, follow the websocket until it finishes, and collect its history.

        ``expect_error``: False (the default) raises on any error, True raises when none came, None takes either.
        ``on_event`` is called with each websocket event of this prompt as it arrives.
        """
        ws_url = self.base_url.replace("http://", "ws://") + f"/ws?clientId={self.client_id}"
        ws = websocket.create_connection(ws_url, timeout=RUN_TIMEOUT_S)
        try:
            prompt_id = self.queue(prompt)
            result = RunResult(prompt_id)
            self._follow(ws, result, on_event)
        except PromptRefused as refused:
            if expect_error is False:
                raise
            return RunResult("", error=refused.detail)
        finally:
            ws.close()
        result.history = self.history(prompt_id)
        result.outputs = result.history.get("outputs", {})
        if result.error and expect_error is False:
            error = result.error
            raise ExecutionFailed(
                f"node {error.get('node_id')} ({error.get('node_type')}) failed: "
                f"{error.get('exception_type')}: {error.get('exception_message')}\n"
                f"--- server log tail ---\n{self.log_tail()}"
            )
        if expect_error is True and not result.error:
            raise ExecutionFailed("the graph ran without the error the test expected")
        return result

    def _follow(self, ws: websocket.WebSocket, result: RunResult, on_event=None) -> None:
        while True:
            message = ws.recv()
            if not isinstance(message, str):
                continue
            event = json.loads(message)
            data = event.get("data", {})
            if data.get("prompt_id") not in (None, result.prompt_id):
                continue
            if on_event is not None:
                on_event(event)
            kind = event.get("type")
            if kind == "executing" and data.get("node") is not None:
                result.executed.add(str(data["node"]))
            elif kind == "execution_cached":
                result.cached.update(str(n) for n in data.get("nodes", []))
            elif kind == "progress":
                result.progress.append((str(data.get("node")), data.get("value"), data.get("max")))
            elif kind == "execution_error":
                result.error = data
            elif kind == "execution_interrupted":
                result.interrupted = True
            elif kind == "executing":
                return  # no node: ComfyUI has stored the history and moved on
