"""One farm worker: a Ray actor that owns (or attaches to) one ComfyUI server and renders prompts on it.

It is a plain class; the driver makes it a Ray actor holding one GPU (or the CPU slot resource). When its own
server dies or hangs past the unit timeout, the worker stops the server and exits, and Ray starts it again
(actor restart) with a fresh server; the driver sends the lost unit to the next free worker. A worker
attached to a server it does not own reports ServerLost instead, and the driver stops using it.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import Any

import aiohttp

from ..client import ComfyClient, ServerError
from ..runner import output_items
from ..server import LocalServer, find_comfyui

WORLDS_FOLDER = "worlds"
EXIT_SERVER_LOST = 75


class ServerLost(RuntimeError):
    """The worker's server stopped answering or hung past the unit timeout."""


class FarmWorker:
    def __init__(
        self,
        name: str,
        server_url: str | None = None,
        comfyui: str | None = None,
        comfy_args: list[str] | None = None,
        unit_timeout_s: float = 3600.0,
    ):
        self.name = name
        self.unit_timeout_s = unit_timeout_s
        self.local: LocalServer | None = None
        if server_url is None:
            self.local = LocalServer(find_comfyui(comfyui), list(comfy_args or []))
            self.local.start()
        self.url = server_url or self.local.base_url
        self.world_sha: str | None = None
        self.running: str | None = None
        self.progress: tuple[int, int] = (0, 0)

    def status(self) -> tuple[int, int]:
        """Sampler steps of the running unit (value, max), for the farm's progress display."""
        return self.progress

    async def object_info(self) -> dict:
        async with ComfyClient(self.url) as client:
            return await client.object_info()

    async def encode_world(self, prompt: dict, world: dict[str, str], uploads: dict[str, bytes]) -> dict[str, bytes]:
        """Run the world's encoding (it saves to the library) and return the saved files.

        ``world`` names the world and its library manifest (the file that commits a save).
        """
        async with ComfyClient(self.url) as client:
            await self._upload(client, uploads)
            await self._run(client, prompt)
            subfolder = f"{WORLDS_FOLDER}/{world['name']}"
            manifest = await client.view(world["manifest"], subfolder, "output")
            tensor_file = json.loads(manifest)["tensor_file"]
            return {tensor_file: await client.view(tensor_file, subfolder, "output"), world["manifest"]: manifest}

    async def render(self, prompt: dict, world: dict[str, Any], uploads: dict[str, bytes]) -> dict[str, Any]:
        """Ship the world if this server lacks it, upload inputs, run the prompt, return its output files."""
        started = time.perf_counter()
        try:
            async with ComfyClient(self.url) as client:
                shipped = await self._ensure_world(client, world)
                await self._upload(client, uploads)
                queued = time.perf_counter()
                prompt_id = await asyncio.wait_for(self._run(client, prompt), self.unit_timeout_s)
                rendered = time.perf_counter()
                outputs = (await client.history(prompt_id)).get("outputs", {})
                files = [
                    (item["filename"], await client.view(item["filename"], item.get("subfolder", ""), "output"))
                    for item in output_items(outputs)
                ]
        except (asyncio.TimeoutError, aiohttp.ClientConnectionError, ServerError) as error:
            self._lost(error)
        finally:
            self.running, self.progress = None, (0, 0)
        done = time.perf_counter()
        return {
            "worker": self.name,
            "prompt_id": prompt_id,
            "files": files,
            "world_shipped": shipped,
            "timings": {
                "prepare_s": queued - started,
                "render_s": rendered - queued,
                "download_s": done - rendered,
                "worker_s": done - started,
            },
        }

    async def cancel(self) -> str | None:
        """Stop the prompt in flight (queued or running); returns its id."""
        prompt_id = self.running
        if prompt_id is not None:
            async with ComfyClient(self.url) as client:
                await client.cancel(prompt_id)
        return prompt_id

    def stop(self) -> None:
        if self.local is not None:
            self.local.stop()

    @staticmethod
    async def _upload(client: ComfyClient, uploads: dict[str, bytes]) -> None:
        """Input files by their path inside the input folder."""
        for name, data in uploads.items():
            folder, _, filename = name.rpartition("/")
            await client.upload_bytes(filename, data, folder)

    async def _run(self, client: ComfyClient, prompt: dict) -> str:
        def follow(event: dict) -> None:
            if event.get("type") == "progress":
                data = event["data"]
                self.progress = (int(data.get("value", 0)), int(data.get("max", 0)))

        execution = await client.run(prompt, follow, on_queued=lambda prompt_id: setattr(self, "running", prompt_id))
        return execution.prompt_id

    async def _ensure_world(self, client: ComfyClient, world: dict[str, Any]) -> bool:
        """Put the world's files into this server's library unless the same world (by hash) is there."""
        if not world or self.world_sha == world["sha256"]:
            return False
        subfolder, manifest = f"{WORLDS_FOLDER}/{world['name']}", world["manifest"]
        try:
            present = json.loads(await client.view(manifest, subfolder, "output")).get("tensor_sha256")
        except ServerError:
            present = None
        if present != world["sha256"]:
            files = world["files"]
            for name in sorted(files, key=lambda n: n == manifest):  # the manifest last: it commits the save
                await client.upload_bytes(name, files[name], subfolder, "output")
        self.world_sha = world["sha256"]
        return present != world["sha256"]

    def _lost(self, error: BaseException) -> None:
        """A dead or hung server: restart this worker (own server) or report it lost (attached server)."""
        message = f"{self.name}: server {self.url} lost: {type(error).__name__}: {error}"
        if self.local is None:
            raise ServerLost(message) from None
        print(message + "; restarting the worker", flush=True)
        self.local.stop()
        os._exit(EXIT_SERVER_LOST)
