"""A small asynchronous client for ComfyUI's HTTP and websocket API (aiohttp, which ComfyUI itself requires)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp


class ServerError(RuntimeError):
    """The server refused a request; the message carries what it said."""


class PromptRejected(ServerError):
    """/prompt rejected the workflow before running it (validation errors per node)."""


class RunInterrupted(RuntimeError):
    """The run was stopped from this side (Ctrl-C): its prompt was interrupted on the server or taken off the queue."""

    def __init__(self, interrupted: list[str], removed: list[str]):
        self.interrupted, self.removed = interrupted, removed
        parts = [f"interrupted prompt {p} on the server" for p in interrupted]
        parts += [f"removed queued prompt {p}" for p in removed]
        super().__init__("stopped: " + ("; ".join(parts) or "nothing had been queued yet"))


class NodeFailed(RuntimeError):
    """A node raised while the workflow ran."""

    def __init__(self, node_id: str, node_type: str, message: str, traceback: list[str] | None = None):
        self.node_id, self.node_type, self.message = node_id, node_type, message
        self.traceback = traceback or []
        super().__init__(f"node {node_id} ({node_type}) failed: {message}")


@dataclass
class Execution:
    """What the websocket reported for one prompt."""

    prompt_id: str
    executed: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)


ProgressCallback = Callable[[dict], None]
HEALTH_CHECK_S = 15.0
STALL_TIMEOUT_S = 1800.0


def describe_rejection(body: dict) -> str:
    """One readable message from /prompt's 400 answer: the top error and each node's errors."""
    error = body.get("error") or {}
    lines = [
        error.get("message", "the server rejected the workflow")
        + (f": {error['details']}" if error.get("details") else "")
    ]
    for node_id, node_error in (body.get("node_errors") or {}).items():
        for item in node_error.get("errors", []):
            detail = f" ({item['details']})" if item.get("details") else ""
            lines.append(f"  node {node_id} ({node_error.get('class_type', '?')}): {item.get('message', '')}{detail}")
    return "\n".join(lines)


class ComfyClient:
    """One session against a ComfyUI server; use as `async with ComfyClient(url) as client:`."""

    def __init__(self, base_url: str, stall_timeout: float = STALL_TIMEOUT_S):
        self.base_url = base_url.rstrip("/")
        self.stall_timeout = stall_timeout
        self.client_id = uuid.uuid4().hex
        self.queued: list[str] = []  # prompt ids this client queued, so it can withdraw them
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> ComfyClient:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, sock_connect=30))
        return self

    async def __aexit__(self, *exc) -> None:
        if self._session is not None:
            await self._session.close()

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("ComfyClient is used outside `async with`")
        return self._session

    async def get_json(self, path: str) -> Any:
        async with self.session.get(self.base_url + path) as response:
            if response.status != 200:
                raise ServerError(f"GET {path} answered {response.status}: {await response.text()}")
            return await response.json()

    async def object_info(self) -> dict:
        return await self.get_json("/object_info")

    async def upload(self, path: Path, subfolder: str = "") -> str:
        """Put a local file into the server's input folder (or a subfolder of it) under its own name."""
        return await self.upload_bytes(Path(path).name, Path(path).read_bytes(), subfolder)

    async def upload_bytes(self, name: str, data: bytes, subfolder: str = "", folder_type: str = "input") -> str:
        """Write bytes as ``name`` into a subfolder of the server's input (or output) folder, replacing it."""
        form = aiohttp.FormData()
        form.add_field("image", data, filename=name)
        form.add_field("overwrite", "true")
        form.add_field("type", folder_type)
        form.add_field("subfolder", subfolder)
        async with self.session.post(self.base_url + "/upload/image", data=form) as response:
            if response.status != 200:
                raise ServerError(f"uploading {name} answered {response.status}: {await response.text()}")
            return (await response.json())["name"]

    async def has_input(self, name: str) -> bool:
        """Whether the server's input folder holds `name` (which may include a subfolder)."""
        subfolder, _, filename = name.rpartition("/")
        params = {"filename": filename, "subfolder": subfolder, "type": "input"}
        async with self.session.head(self.base_url + "/view", params=params) as response:
            return response.status == 200

    async def queue(self, prompt: dict) -> str:
        body = {"prompt": prompt, "client_id": self.client_id}
        async with self.session.post(self.base_url + "/prompt", json=body) as response:
            answer = await response.json(content_type=None)
            if response.status != 200:
                raise PromptRejected(describe_rejection(answer))
            self.queued.append(answer["prompt_id"])
            return answer["prompt_id"]

    async def post_json(self, path: str, body: dict) -> None:
        async with self.session.post(self.base_url + path, json=body) as response:
            if response.status != 200:
                raise ServerError(f"POST {path} answered {response.status}: {await response.text()}")

    async def withdraw(self) -> RunInterrupted:
        """Take this client's prompts off the server: queued ones are deleted, a running one is interrupted
        (by id, so a prompt someone else queued is never stopped). Returns what was done, as the error to raise."""
        queue = await self.get_json("/queue")
        running = {item[1] for item in queue.get("queue_running", [])}
        pending = {item[1] for item in queue.get("queue_pending", [])}
        removed = [p for p in self.queued if p in pending]
        if removed:
            await self.post_json("/queue", {"delete": removed})
        interrupted = [p for p in self.queued if p in running]
        for prompt_id in interrupted:
            await self.post_json("/interrupt", {"prompt_id": prompt_id})
        return RunInterrupted(interrupted, removed)

    async def run(
        self,
        prompt: dict,
        on_event: ProgressCallback | None = None,
        on_queued: Callable[[str], None] | None = None,
    ) -> Execution:
        """Queue a prompt and follow the websocket until it finishes; raise NodeFailed on a node error.

        ``on_queued`` receives the prompt id as soon as the server accepts it (so a caller can cancel it).

        While the websocket is quiet the server is asked about the prompt every HEALTH_CHECK_S seconds: a
        server that stops answering, a prompt that vanished, or no event for ``stall_timeout`` seconds (a
        dead prompt worker keeps the prompt "running" forever) is a ServerError instead of a wait forever.
        """
        ws_url = self.base_url.replace("http", "ws", 1) + f"/ws?clientId={self.client_id}"
        async with self.session.ws_connect(ws_url, max_msg_size=0) as ws:
            execution = Execution(await self.queue(prompt))
            if on_queued is not None:
                on_queued(execution.prompt_id)
            last_event = time.monotonic()
            while True:
                try:
                    message = await ws.receive(timeout=min(HEALTH_CHECK_S, self.stall_timeout))
                except asyncio.TimeoutError:
                    if await self._finished_quietly(execution, time.monotonic() - last_event):
                        return execution
                    continue
                if message.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.ERROR):
                    raise ServerError("the server closed the websocket before the workflow finished")
                if message.type != aiohttp.WSMsgType.TEXT:
                    continue
                event = json.loads(message.data)
                data = event.get("data") or {}
                if data.get("prompt_id") not in (None, execution.prompt_id):
                    continue
                last_event = time.monotonic()
                if on_event is not None:
                    on_event(event)
                if _finished(event, execution):
                    return execution

    async def _finished_quietly(self, execution: Execution, quiet_s: float) -> bool:
        """True when the prompt finished without our hearing it; ServerError when it can no longer finish."""
        try:
            async with asyncio.timeout(HEALTH_CHECK_S):
                queue = await self.get_json("/queue")
                history = await self.history(execution.prompt_id)
        except (asyncio.TimeoutError, aiohttp.ClientError) as error:
            raise ServerError(f"the server stopped answering while the workflow ran ({error!r})") from None
        if history:
            return True
        queued = [entry[1] for key in ("queue_running", "queue_pending") for entry in queue.get(key, [])]
        if execution.prompt_id not in queued:
            raise ServerError(f"the server dropped prompt {execution.prompt_id}: it is neither queued nor finished")
        running = [entry[1] for entry in queue.get("queue_running", [])]
        if execution.prompt_id in running and quiet_s >= self.stall_timeout:
            raise ServerError(
                f"no progress from the server for {quiet_s:.0f} s while prompt {execution.prompt_id} runs; its "
                "prompt worker may have died (see the server's log). Restart ComfyUI, or raise --stall-timeout "
                "for nodes that work longer without reporting progress."
            )
        return False

    async def cancel(self, prompt_id: str) -> None:
        """Take a prompt off the queue, and stop it if it is running (other prompts keep going)."""
        for path, body in (("/queue", {"delete": [prompt_id]}), ("/interrupt", {"prompt_id": prompt_id})):
            async with self.session.post(self.base_url + path, json=body) as response:
                if response.status != 200:
                    raise ServerError(f"POST {path} answered {response.status}: {await response.text()}")

    async def history(self, prompt_id: str) -> dict:
        return (await self.get_json(f"/history/{prompt_id}")).get(prompt_id, {})

    async def view(self, filename: str, subfolder: str, folder_type: str) -> bytes:
        params = {"filename": filename, "subfolder": subfolder, "type": folder_type}
        async with self.session.get(self.base_url + "/view", params=params) as response:
            if response.status != 200:
                raise ServerError(f"/view {subfolder}/{filename} answered {response.status}")
            return await response.read()


def _finished(event: dict, execution: Execution) -> bool:
    """Record the event; True once the prompt has finished and its history is stored. Errors raise."""
    kind, data = event.get("type"), event.get("data") or {}
    if kind == "executing" and data.get("node") is not None:
        execution.executed.append(str(data["node"]))
    elif kind == "execution_cached":
        execution.cached.extend(str(node) for node in data.get("nodes", []))
    elif kind == "execution_error":
        raise NodeFailed(
            str(data.get("node_id")),
            str(data.get("node_type")),
            f"{data.get('exception_type', 'Error')}: {data.get('exception_message', '').strip()}",
            data.get("traceback"),
        )
    elif kind == "execution_interrupted":
        raise NodeFailed(str(data.get("node_id")), str(data.get("node_type")), "the run was interrupted")
    # ComfyUI stores the history only after execution_success; "executing" with no node follows that.
    return kind == "executing" and data.get("node") is None and data.get("prompt_id") == execution.prompt_id
