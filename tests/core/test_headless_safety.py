"""The headless runner against a scripted server: it writes only inside --out, fails early on an unusable
--out, and never waits forever on a server whose prompt worker died."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Callable

import pytest
from aiohttp import web

from worldkit.headless.cli import EXIT_OUTPUT, main
from worldkit.headless.client import ServerError
from worldkit.headless.outputs import OutputPathError, output_target, prepare_out_dir
from worldkit.headless.runner import run_workflow

PROMPT = {"1": {"class_type": "SaveImage", "inputs": {"filename_prefix": "x"}}}


class ScriptedServer:
    """A stand-in ComfyUI: accepts one prompt; ``finish`` names the outputs it reports, or None to go silent
    with the prompt left "running" (what a dead prompt worker looks like)."""

    def __init__(self, outputs: list[dict] | None):
        self.outputs = outputs
        self.prompt_id = "p1"
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.port = 0
        self.queued = False
        self.asked: list[str] = []  # "METHOD /path" of each request, in order

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        while not self.queued:
            await asyncio.sleep(0.05)
        if self.outputs is None:
            await asyncio.sleep(3600)
        await ws.send_json({"type": "executing", "data": {"node": "1", "prompt_id": self.prompt_id}})
        await ws.send_json({"type": "executing", "data": {"node": None, "prompt_id": self.prompt_id}})
        await ws.close()
        return ws

    async def _prompt(self, request: web.Request) -> web.Response:
        self.queued = True
        return web.json_response({"prompt_id": self.prompt_id})

    async def _queue(self, request: web.Request) -> web.Response:
        running = [[0, self.prompt_id, {}, {}, []]] if self.outputs is None else []
        return web.json_response({"queue_running": running, "queue_pending": []})

    async def _history(self, request: web.Request) -> web.Response:
        if self.outputs is None:
            return web.json_response({})
        return web.json_response({self.prompt_id: {"outputs": {"1": {"images": self.outputs}}}})

    async def _object_info(self, request: web.Request) -> web.Response:
        return web.json_response({"SaveImage": {"input": {}}})

    async def _view(self, request: web.Request) -> web.Response:
        return web.Response(body=b"image bytes")

    @web.middleware
    async def _record(self, request: web.Request, handler) -> web.StreamResponse:
        self.asked.append(f"{request.method} {request.path}")
        return await handler(request)

    def start(self) -> str:
        app = web.Application(middlewares=[self._record])
        app.router.add_get("/ws", self._ws)
        app.router.add_post("/prompt", self._prompt)
        app.router.add_get("/queue", self._queue)
        app.router.add_get("/history/{prompt_id}", self._history)
        app.router.add_get("/object_info", self._object_info)
        app.router.add_get("/view", self._view)

        async def serve() -> None:
            runner = web.AppRunner(app)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            self.port = site._server.sockets[0].getsockname()[1]
            self.ready.set()

        threading.Thread(
            target=lambda: (self.loop.run_until_complete(serve()), self.loop.run_forever()), daemon=True
        ).start()
        assert self.ready.wait(10)
        return f"http://127.0.0.1:{self.port}"


@pytest.mark.parametrize(
    "subfolder,filename",
    [
        ("..", "x.png"),
        ("a/../..", "x.png"),
        ("", "../x.png"),
        ("/etc", "x.png"),
        ("", "/tmp/x.png"),
        ("..%2f..", "x.png"),
        ("%2e%2e", "x.png"),
        ("", "%2e%2e%2fx.png"),
        ("C:\\Windows", "x.png"),
        ("..\\..", "x.png"),
        ("", "x\x00.png"),
        ("", "sub/x.png"),
    ],
)
def test_server_names_leading_outside_out_are_refused(tmp_path, subfolder, filename):
    with pytest.raises(OutputPathError):
        output_target(tmp_path, subfolder, filename)


def test_plain_names_and_subfolders_stay_inside_out(tmp_path):
    assert output_target(tmp_path, "films/shot 1", "cut_00001_.mp4") == tmp_path / "films" / "shot 1" / "cut_00001_.mp4"
    assert output_target(tmp_path, "", "it's 100%.png") == tmp_path / "it's 100%.png"


def test_a_subfolder_linked_out_of_out_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "renders").symlink_to(outside, target_is_directory=True)
    with pytest.raises(OutputPathError, match="outside --out"):
        output_target(out, "renders", "x.png")


def test_out_expands_the_home_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert prepare_out_dir("~/renders") == (tmp_path / "renders").resolve()
    assert (tmp_path / "renders").is_dir()
    assert not list((tmp_path / "renders").iterdir()), "the write test left a file behind"


def finishes(call: Callable[[], object], hang_guard_s: float = 120) -> object:
    """``call()``'s result (or its exception, raised here); the limit only stops a hung run from hanging the suite."""
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["value"] = call()
        except BaseException as error:  # handed to the test's thread
            outcome["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(hang_guard_s)
    assert not thread.is_alive(), "the run never ended"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def test_an_unusable_out_fails_before_any_server_is_contacted(tmp_path, capsys):
    workflow = tmp_path / "w.json"
    workflow.write_text(json.dumps(PROMPT))
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    with socket.socket() as server:  # a listening port: any connection to it waits in its backlog
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        url = f"http://127.0.0.1:{server.getsockname()[1]}"
        code = finishes(lambda: main(["run", str(workflow), "--server", url, "--out", str(blocker / "renders")]))
        server.setblocking(False)
        with pytest.raises(BlockingIOError):
            server.accept()  # nothing connected
    assert code == EXIT_OUTPUT
    assert "--out" in capsys.readouterr().err


def test_a_hostile_answer_writes_nothing_outside_out(tmp_path):
    server = ScriptedServer([{"filename": "escaped.png", "subfolder": "../..", "type": "output"}])
    out = tmp_path / "deep" / "out"
    with pytest.raises(OutputPathError):
        run_workflow(PROMPT, server=server.start(), out_dir=out)
    assert not (tmp_path / "escaped.png").exists()
    assert not [p for p in tmp_path.rglob("*") if p.is_file()], "a file was written"


def test_a_good_answer_is_downloaded_into_out(tmp_path):
    server = ScriptedServer([{"filename": "frame.png", "subfolder": "shots", "type": "output"}])
    result = run_workflow(PROMPT, server=server.start(), out_dir=tmp_path)
    assert result.files == [tmp_path.resolve() / "shots" / "frame.png"]
    assert (tmp_path / "shots" / "frame.png").read_bytes() == b"image bytes"


def test_a_server_whose_worker_died_ends_the_run_instead_of_waiting_forever(tmp_path):
    server = ScriptedServer(None)
    url = server.start()
    with pytest.raises(ServerError, match=r"no progress from the server for [1-9][0-9]* s while prompt p1 runs"):
        finishes(lambda: run_workflow(PROMPT, server=url, out_dir=tmp_path, stall_timeout=1.0))
    after_queueing = server.asked[server.asked.index("POST /prompt") :]
    assert {"GET /queue", "GET /history/p1"} <= set(after_queueing), f"it gave up without asking: {server.asked}"
