"""Tiny frames, mismatched mattes, malformed frames to save and empty names, through the API of a real server.

Each ends in a clear error of a documented type naming the input (or simply works), never in an OpenCV error or
a numpy broadcast error, and never in a file its loader refuses. The server runs the next prompt.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from graphs import Graph, assert_server_runs, out, widget_defaults

from worldkit.models.shared.files import is_temporary

SHOT_REPORT = json.dumps({"fps": 16, "boundaries": [{"shot": 0, "start": 0, "end": 3}], "shots": [{}]})


@pytest.fixture(scope="module")
def info(comfy) -> dict:
    return comfy.object_info()


def image(graph: Graph, width: int, height: int, frames: int = 3, color: int = 0x80A040) -> list:
    return out(graph.node("EmptyImage", width=width, height=height, batch_size=frames, color=color))


def mask(graph: Graph, width: int, height: int, frames: int = 1) -> list:
    solid = out(graph.node("SolidMask", value=1.0, width=width, height=height))
    if frames == 1:
        return solid
    repeated = graph.node("RepeatImageBatch", image=out(graph.node("MaskToImage", mask=solid)), amount=frames)
    return out(graph.node("ImageToMask", image=out(repeated), channel="red"))


def run_gvfx(comfy, info: dict, class_type: str, **inputs) -> tuple[str, dict | None]:
    graph = Graph()
    built = {key: value(graph) if callable(value) else value for key, value in inputs.items()}
    node = graph.node(class_type, **{**widget_defaults(info, class_type), **built})
    graph.node("WorldKitTestSaveTensor", name="sizes_probe", images=out(node))
    result = comfy.run(graph.prompt(), expect_error=None)
    return node, result.error


def grain(size: tuple[int, int]) -> dict:
    return {"element": lambda g: image(g, *size), "plate": lambda g: image(g, *size, color=0x406080)}


def composite(size: tuple[int, int]) -> dict:
    return {
        "plate": lambda g: image(g, *size),
        "element": lambda g: image(g, *size, color=0x406080),
        "element_mask": lambda g: mask(g, *size),
    }


def conform(size: tuple[int, int]) -> dict:
    return {"element": lambda g: image(g, *size, frames=4), "element_mask": lambda g: mask(g, *size)}


@pytest.mark.parametrize("size", [(1, 1), (5, 3)], ids=["1x1", "5x3"])
def test_tiny_frames_work_or_fail_naming_the_minimum_size(comfy, info, size):
    """Grain Match raised cv2.error; Composite Over cv2.error on 1x1; Conform Frame Rate's optical flow needed 12
    pixels (and crashed the server on short, wide frames)."""
    node, error = run_gvfx(comfy, info, "WorldKitGrainMatch", **grain(size))
    assert error and error["node_id"] == node, error
    assert error["exception_type"] == "ValueError" and "32x32" in error["exception_message"], error
    for class_type, inputs in (("WorldKitCompositeOver", composite(size)), ("WorldKitConformFrameRate", conform(size))):
        _, error = run_gvfx(comfy, info, class_type, **inputs)
        assert error is None, (class_type, error)
    assert_server_runs(comfy)


def test_conform_frame_rate_runs_optical_flow_on_short_wide_frames(comfy, info):
    _, error = run_gvfx(comfy, info, "WorldKitConformFrameRate", **conform((400, 24)))
    assert error is None, error
    assert_server_runs(comfy)


@pytest.mark.parametrize(
    ("element_mask", "words"),
    [
        (lambda g: mask(g, 24, 16), ("element_mask", "24x16", "32x32")),
        (lambda g: mask(g, 32, 32, 6), ("element_mask has 6",)),
    ],
    ids=["another size", "more frames"],
)
def test_conform_frame_rate_refuses_a_matte_that_does_not_fit_the_element(comfy, info, element_mask, words):
    """A matte of another size ended in a raw numpy broadcast error; one with more frames was accepted."""
    node, error = run_gvfx(
        comfy, info, "WorldKitConformFrameRate", **{**conform((32, 32)), "element_mask": element_mask}
    )
    assert error and error["node_id"] == node, error
    assert error["exception_type"] == "ValueError" and all(w in error["exception_message"] for w in words), error
    assert_server_runs(comfy)


@pytest.mark.parametrize("channels", [1, 4])
def test_save_shot_frames_refuses_frames_load_shot_frames_would_refuse(comfy, channels):
    graph = Graph()
    frames = graph.node("WorldKitTestChannels", images=image(graph, 16, 16), channels=channels)
    name = f"shots_{channels}_channels"
    save = graph.node("WorldKitSaveShotFrames", frames=out(frames), report=SHOT_REPORT, name=name)
    error = comfy.run(graph.prompt(), expect_error=True).error
    assert error["node_id"] == save and error["exception_type"].endswith("ShotFramesError"), error
    assert "frames" in error["exception_message"] and "RGB" in error["exception_message"], error
    assert not (comfy.output_dir / f"{name}.safetensors").exists()
    assert_server_runs(comfy)


@pytest.mark.parametrize(
    ("class_type", "name", "inputs"),
    [
        ("WorldKitSaveShotFrames", "name", {"report": SHOT_REPORT, "frames": "image"}),
        ("WorldKitSaveWithAlpha", "filename_prefix", {"images": "image"}),
    ],
)
@pytest.mark.parametrize("value", ["", "  ", "./"], ids=["empty", "spaces", "dot slash"])
def test_an_empty_file_name_is_refused_at_queue_time(comfy, info, class_type, name, inputs, value):
    """An empty Save Shot Frames name wrote output/.safetensors."""
    graph = Graph()
    frames = image(graph, 16, 16)
    inputs = {key: frames if given == "image" else given for key, given in inputs.items()}
    node = graph.node(class_type, **{**widget_defaults(info, class_type), **inputs, name: value})
    result = comfy.run(graph.prompt(), expect_error=None)
    assert not result.prompt_id, "the prompt was queued"
    errors = result.error["node_errors"][node]["errors"]
    assert any(name in e.get("details", "") and "empty" in e.get("details", "") for e in errors), errors
    assert not (comfy.output_dir / ".safetensors").exists()


@pytest.mark.parametrize(
    ("class_type", "name", "inputs"),
    [
        ("WorldKitSaveShotFrames", "name", {"report": SHOT_REPORT, "frames": "image"}),
        ("WorldKitSaveWithAlpha", "filename_prefix", {"images": "image"}),
    ],
)
def test_a_dict_given_as_a_file_name_is_refused_at_queue_time(comfy, info, class_type, name, inputs):
    """ComfyUI hands a STRING widget's literal to the node as text, so {'a': 1} arrived as the name "{'a': 1}" and
    was saved as such: a name holding a character no Windows file name may hold is refused, naming the input."""
    graph = Graph()
    frames = image(graph, 16, 16)
    inputs = {key: frames if given == "image" else given for key, given in inputs.items()}
    node = graph.node(class_type, **{**widget_defaults(info, class_type), **inputs, name: {"a": 1}})
    result = comfy.run(graph.prompt(), expect_error=None)
    assert not result.prompt_id, "the prompt was queued"
    errors = result.error["node_errors"][node]["errors"]
    assert any(name in e.get("details", "") and "':'" in e.get("details", "") for e in errors), errors
    assert not list(comfy.output_dir.glob("{*"))


def left_by_a_killed_save(path: Path) -> Path:
    """The temporary a save of ``path`` killed with kill -9 left (named as writers named them before they carried
    their process id, which the clean-up removes as it removes those of processes no longer running)."""
    staged = path.with_name(f".{path.stem}.{uuid.uuid4().hex}.tmp{path.suffix}")
    staged.parent.mkdir(parents=True, exist_ok=True)
    staged.write_bytes(b"partial")
    assert is_temporary(staged)
    return staged


def test_start_up_removes_what_killed_saves_left_under_the_output_folder(comfy_base_dir):
    """Save With Alpha killed mid-PNG or mid-MOV, and a new world's first save killed, left their temporaries
    for good: the folder of a world saved once is never written again unless that exact name is."""
    from conftest import launch_comfy, stop_comfy

    output = comfy_base_dir / "output"
    names = ("worlds/killed_on_first_save/world.json", "WorldKit/gvfx_00001_.png", "WorldKit/gvfx_00001_.mov")
    dead = [left_by_a_killed_save(output / name) for name in names]
    process, server = launch_comfy(comfy_base_dir, "start_up_sweep.log")
    try:
        assert not [path for path in dead if path.exists()]
        assert_server_runs(server)
    finally:
        stop_comfy(process)
