"""Files through the API of a real server: the world library stays inside output/worlds whatever name or link
it is handed, a pickle in a library folder is never executed, and a save killed with kill -9 leaves the previous
world loadable and its leftovers are removed by the next save."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import signal
import time
from pathlib import Path

import pytest
from client import PromptRefused
from conftest import launch_comfy, stop_comfy
from graphs import assert_server_runs, widget_defaults

from worldkit.models.shared.files import is_temporary
from worldkit.models.world.library import MANIFEST_NAME, load_world
from worldkit.tools.prompt_graph import Graph, out

BAD_NAMES = ["../escape", "/tmp/escape", "..%2Fescape", "%2e%2e", "a/b", "a\\b", "C:escape", "nul", "x\x00y", "~root"]


def reference_world(graph: Graph, info: dict, name: str = "toy", views: int = 1, size: int = 32) -> str:
    image = graph.node("EmptyImage", width=size, height=size, batch_size=views, color=0x40A080)
    settings = {"image": out(image), "name": name, "width": size, "height": size}
    reference = graph.node("WorldKitReference", **{**widget_defaults(info, "WorldKitReference"), **settings})
    return graph.node("WorldKitWorld", reference_1=out(reference))


def save_graph(info: dict, world_name: str, **world) -> tuple[dict, str]:
    graph = Graph()
    world_id = reference_world(graph, info, **world)
    save = graph.node("WorldKitSaveWorld", world=out(world_id), world_name=world_name, overwrite=True)
    return graph.prompt(), save


def load_graph(world_name: str) -> tuple[dict, str]:
    graph = Graph()
    load = graph.node("WorldKitLoadWorld", world_name=world_name, discard_mismatched_latents=False)
    graph.node("WorldKitPreviewWorld", world=out(load), cell_width=64, columns=0)
    return graph.prompt(), load


def files_under(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*") if path.is_file()} if folder.exists() else set()


@pytest.fixture(scope="module")
def info(comfy) -> dict:
    return comfy.object_info()


@pytest.mark.parametrize("name", BAD_NAMES)
def test_world_names_that_leave_the_library_are_refused_at_queue_time(comfy, info, name, tmp_path):
    before = files_under(comfy.base_dir)
    for prompt, node_id in (save_graph(info, name), load_graph(name)):
        with pytest.raises(PromptRefused) as refused:
            comfy.queue(prompt)
        errors = refused.value.detail["node_errors"][node_id]["errors"]
        assert any("world_name" in error["details"] for error in errors), errors
    assert files_under(comfy.base_dir) - before <= {comfy.base_dir / "server.log"}
    assert not Path("/tmp/escape").exists()


def test_a_library_folder_linked_outside_is_neither_loaded_nor_written(comfy, info, tmp_path):
    outside = tmp_path / "outside"
    prompt, _ = save_graph(info, "linked_source")
    comfy.run(prompt)
    library = comfy.output_dir / "worlds"
    (library / "linked_source").rename(outside)
    (library / "linked").symlink_to(outside, target_is_directory=True)
    try:
        before = files_under(outside)
        for prompt, node_id in (load_graph("linked"), save_graph(info, "linked")):
            result = comfy.run(prompt, expect_error=True)
            assert result.error["node_id"] == node_id
            assert "outside the library" in result.error["exception_message"]
        assert files_under(outside) == before
    finally:
        (library / "linked").unlink()


def test_a_pickle_in_a_library_folder_is_never_executed(comfy, info, tmp_path):
    marker = tmp_path / "pickle_ran"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (marker,))

    payload = pickle.dumps(Payload())
    library = comfy.output_dir / "worlds"
    prompt, _ = save_graph(info, "pickled")
    comfy.run(prompt)
    folder = library / "pickled"
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    (folder / manifest["tensor_file"]).write_bytes(payload)
    manifest["tensor_sha256"] = hashlib.sha256(payload).hexdigest()  # the hash check alone must not be the guard
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest))
    for name in ("world.pt", "world.ckpt", "world.pkl", "tensors.bin"):
        (folder / name).write_bytes(payload)
    result = comfy.run(load_graph("pickled")[0], expect_error=True)
    assert "safetensors" in result.error["exception_message"]
    assert not marker.exists(), "the pickle payload ran"
    pickle.loads(payload)  # control: the payload does run when unpickled
    assert marker.exists()


def test_a_save_killed_mid_write_leaves_the_previous_world_and_the_next_save_cleans_up(comfy_base_dir):
    process, server = launch_comfy(comfy_base_dir, "kill9.log")
    info = server.object_info()
    folder = server.output_dir / "worlds" / "survivor"
    try:
        server.run(save_graph(info, "survivor", name="first")[0])
        big, _ = save_graph(info, "survivor", name="second", views=24, size=1024)
        server.queue(big)
        deadline = time.monotonic() + 240
        while not any(is_temporary(path) for path in folder.iterdir()):
            assert time.monotonic() < deadline, "the big save never started writing"
            assert process.poll() is None
            time.sleep(0.002)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    finally:
        stop_comfy(process)
    leftovers = [path for path in folder.iterdir() if is_temporary(path)]
    assert leftovers, "the kill should have left a staged write"
    assert list(load_world(folder.parent, "survivor").references) == ["first"]

    process, server = launch_comfy(comfy_base_dir, "after_kill9.log")
    try:
        server.run(save_graph(info, "survivor", name="third")[0])
        assert not any(is_temporary(path) for path in folder.iterdir())
        assert list(load_world(folder.parent, "survivor").references) == ["third"]
        assert_server_runs(server)
    finally:
        stop_comfy(process)
