"""Truncated, edited and foreign files handed to the nodes that read them, through the API of a real server:
Load World (the world library) and Load Shot Frames (files in the input folder). Each is refused whole with a
clear error naming the world or the input and what to do, even right after the intact file was loaded (its
cached result is not served); names that leave the folder are refused when the prompt is queued; the server
runs the next prompt.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from client import PromptRefused
from graphs import assert_server_runs
from safetensors.torch import load_file
from safetensors.torch import save as save_safetensors
from test_files import load_graph, save_graph

from worldkit.models.sampling.shot_frames import pack_shot_frames
from worldkit.models.world.library import MANIFEST_NAME
from worldkit.tools.prompt_graph import Graph


@pytest.fixture(scope="module")
def info(comfy) -> dict:
    return comfy.object_info()


def tensor_path(folder: Path) -> Path:
    return folder / json.loads((folder / MANIFEST_NAME).read_text())["tensor_file"]


def edit_manifest(folder: Path, edit: Callable[[dict], None]) -> None:
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    edit(manifest)
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest))


def flip_last_bytes(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF
    path.write_bytes(bytes(data))


def foreign_tensors(folder: Path) -> None:
    """A file that is not safetensors, with the manifest's hash made to match it."""
    tensor_path(folder).write_bytes(b"not safetensors at all")
    digest = hashlib.sha256(b"not safetensors at all").hexdigest()
    edit_manifest(folder, lambda manifest: manifest.update(tensor_sha256=digest))


WORLD_DAMAGE = {
    "tensors truncated": (lambda f: tensor_path(f).write_bytes(tensor_path(f).read_bytes()[:-100]), "truncated"),
    "a tensor byte edited": (lambda f: flip_last_bytes(tensor_path(f)), "truncated or edited"),
    "tensors not safetensors": (foreign_tensors, "not a readable safetensors"),
    "manifest truncated": (lambda f: (f / MANIFEST_NAME).write_text((f / MANIFEST_NAME).read_text()[:200]), "JSON"),
    "manifest from a newer version": (lambda f: edit_manifest(f, lambda m: m.update(schema_version=99)), "newer"),
    "manifest naming another file": (
        lambda f: edit_manifest(f, lambda m: m.update(tensor_file="tensors-0000000000000000.safetensors")),
        "missing its tensor file",
    ),
}


@pytest.mark.parametrize("case", sorted(WORLD_DAMAGE))
def test_load_world_refuses_a_damaged_world_even_after_loading_it_intact(comfy, info, case):
    damage, reason = WORLD_DAMAGE[case]
    name = "damaged_" + case.replace(" ", "_")
    comfy.run(save_graph(info, name)[0])
    prompt, load = load_graph(name)
    comfy.run(prompt)  # intact: loads, and ComfyUI caches the result
    damage(comfy.output_dir / "worlds" / name)
    error = comfy.run(prompt, expect_error=True).error
    assert error["node_id"] == load, error
    assert error["exception_type"].endswith("WorldLibraryError"), error
    message = error["exception_message"]
    assert reason in message and name in message, message
    assert_server_runs(comfy)


FRAMES = torch.rand(5, 16, 16, 3, generator=torch.Generator().manual_seed(2))
REPORT = {"fps": 16, "boundaries": [{"shot": 0, "start": 0, "end": 5}], "shots": [{"seed": 4}]}
SHOT_FRAMES = pack_shot_frames(FRAMES, REPORT)


def load_shot_frames(files: str) -> tuple[dict, str]:
    graph = Graph()
    node = graph.node("WorldKitLoadShotFrames", files=files)
    graph.node("WorldKitTestSaveTensor", name="shot_frames_probe", images=[node, 0])
    return graph.prompt(), node


def test_intact_shot_frames_load_exactly(comfy):
    comfy.upload_image(SHOT_FRAMES, "intact_shots.safetensors")
    comfy.run(load_shot_frames("intact_shots.safetensors")[0])
    assert torch.equal(load_file(str(comfy.output_dir / "shot_frames_probe.safetensors"))["images"], FRAMES)


SHOT_FRAMES_DAMAGE = {
    "empty": (b"", "not a readable"),
    "truncated": (SHOT_FRAMES[:-64], "truncated or edited"),
    "a frame byte edited": (SHOT_FRAMES[:-5] + bytes([SHOT_FRAMES[-5] ^ 0xFF]) + SHOT_FRAMES[-4:], "do not match"),
    "a zip file": (b"PK\x03\x04" + bytes(60), "not a readable"),
    "another safetensors file": (save_safetensors({"frames": FRAMES}), "not a WorldKit"),
}


@pytest.mark.parametrize("case", sorted(SHOT_FRAMES_DAMAGE))
def test_load_shot_frames_refuses_a_damaged_file_naming_it(comfy, case):
    data, reason = SHOT_FRAMES_DAMAGE[case]
    name = "damaged_" + case.replace(" ", "_") + ".safetensors"
    comfy.upload_image(data, name)
    prompt, node = load_shot_frames(name)
    error = comfy.run(prompt, expect_error=True).error
    assert error["node_id"] == node, error
    assert error["exception_type"].endswith("ShotFramesError"), error
    message = error["exception_message"]
    assert message.startswith("files: ") and name in message and reason in message, message
    assert_server_runs(comfy)


@pytest.mark.parametrize(
    "name", ["../escape.safetensors", "/etc/passwd", "a\x00b.safetensors", "x" * 300, "farm/CON", "nul.safetensors"]
)
def test_file_names_that_leave_the_folder_are_refused_at_queue_time(comfy, info, name):
    before = {path for path in comfy.base_dir.rglob("*") if path.is_file()}
    for class_type, value, prompt_of in (
        ("WorldKitLoadShotFrames", "files", lambda: load_shot_frames(f"intact_shots.safetensors\n{name}")),
        ("WorldKitSaveShotFrames", "name", lambda: save_shot_frames(name)),
    ):
        prompt, node = prompt_of()
        with pytest.raises(PromptRefused) as refused:
            comfy.queue(prompt)
        errors = refused.value.detail["node_errors"][node]["errors"]
        assert any(value in error["details"].split(" - ", 1)[-1] for error in errors), (class_type, errors)
    assert {path for path in comfy.base_dir.rglob("*") if path.is_file()} - before <= {comfy.base_dir / "server.log"}


def save_shot_frames(name: str) -> tuple[dict, str]:
    graph = Graph()
    image = graph.node("EmptyImage", width=16, height=16, batch_size=5, color=0x406080)
    node = graph.node("WorldKitSaveShotFrames", frames=[image, 0], report=json.dumps(REPORT), name=name)
    return graph.prompt(), node
