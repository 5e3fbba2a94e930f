"""Trajectory Keypoints in a real ComfyUI: its outputs drive ComfyUI's own WanTrackToVideo and WanMoveTrackToVideo."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch
from graphs import encode_prompts, ksampler, load_clip_vision, straight_tracks, wan_conditioning
from PIL import Image
from safetensors.torch import load_file

from worldkit.tools.prompt_graph import Graph, load_wan, out

SIZE, FRAMES = 64, 9
HOME, SIDE = (0.25, 0.6), (0.75, 0.55)


def skunk_path_state(frames: int = FRAMES) -> str:
    """The skunk's direction: two markers, out to one side (holding a beat) and back home."""
    middle = (frames - 1) // 2
    keypoints = [
        {"x": HOME[0], "y": HOME[1], "frame": 0, "hold": 0, "easing": "ease_in_out", "visible": True},
        {"x": SIDE[0], "y": SIDE[1], "frame": middle, "hold": 1, "easing": "ease_in_out", "visible": True},
        {"x": HOME[0], "y": HOME[1], "frame": frames - 1, "hold": 0, "easing": "linear", "visible": True},
    ]
    track = {
        "name": "skunk",
        "color": "#ff0000",
        "subject": "point",
        "points": 1,
        "spread": 0.025,
        "interpolation": "catmull_rom",
        "anchor": False,
        "keypoints": keypoints,
    }
    return json.dumps({"version": 1, "tracks": [track]})


@pytest.fixture(scope="module")
def skunk_path() -> str:
    return skunk_path_state()


@pytest.fixture(scope="module")
def start_frame(comfy) -> str:
    """A dark forest plate with a bright skunk-sized blob at the first marker, in the input folder."""
    pixels = np.zeros((SIZE, SIZE, 3), dtype=np.uint8)
    pixels[..., 1] = np.linspace(30, 90, SIZE, dtype=np.uint8)[:, None]
    cx, cy = int(HOME[0] * SIZE), int(HOME[1] * SIZE)
    pixels[cy - 4 : cy + 4, cx - 5 : cx + 5] = (240, 240, 240)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return comfy.upload_image(buffer.getvalue(), "worldkit_skunk_start.png")


def trajectory_node(graph: Graph, state: str | list, image: str | None = None, **overrides) -> str:
    inputs = {
        "editor_state": state,
        "width": SIZE,
        "height": SIZE,
        "num_frames": FRAMES,
        "fps": 16,
        "camera_move": "none",
        "camera_amount": 0.2,
        "camera_easing": "ease_in_out",
        "camera_grid": 4,
    }
    if image:
        inputs["background"] = out(image)
    inputs.update(overrides)
    return graph.node("WorldKitTrajectoryKeypoints", **inputs)


def preview_images(comfy, result, node_id: str) -> list[np.ndarray]:
    images = result.outputs[node_id]["images"]
    return [np.asarray(Image.open(io.BytesIO(comfy.view(i["filename"], i["subfolder"], i["type"])))) for i in images]


def sampled_latent(comfy, tiny_models, start_frame: str, conditioning: str, **inputs) -> torch.Tensor:
    """Tiny Wan I2V: prompt, start frame and CLIP vision into a ComfyUI conditioning node, then KSampler.

    The sampled latent is saved with SaveLatent and read back in full precision: random tiny weights
    make small changes that decoded 8-bit frames could round away.
    """
    graph = Graph()
    model, clip, vae = load_wan(graph, tiny_models, "wan_i2v")
    positive, negative = encode_prompts(graph, clip)
    image = graph.node("LoadImage", image=start_frame)
    vision = graph.node(
        "CLIPVisionEncode", clip_vision=out(load_clip_vision(graph, tiny_models)), image=out(image), crop="center"
    )
    for key, value in inputs.items():
        if value == "TRAJECTORY":
            inputs[key] = out(
                trajectory_node(graph, skunk_path_state(), image), 0 if conditioning == "WanTrackToVideo" else 1
            )
    size = {"width": SIZE, "height": SIZE, "length": FRAMES, "batch_size": 1}
    node = wan_conditioning(
        graph,
        conditioning,
        positive,
        negative,
        vae,
        size,
        start_image=out(image),
        clip_vision_output=out(vision),
        **inputs,
    )
    sampled = ksampler(graph, out(model), out(node, 0), out(node, 1), out(node, 2), seed=7)
    saved = graph.node("SaveLatent", samples=out(sampled), filename_prefix="latents/worldkit_motion")
    result = comfy.run(graph.prompt())
    assert sampled in result.executed
    entry = result.outputs[saved]["latents"][0]
    latent = load_file(str(comfy.output_dir / entry["subfolder"] / entry["filename"]))["latent_tensor"]
    assert latent.shape == (1, 16, (FRAMES - 1) // 4 + 1, SIZE // 8, SIZE // 8)
    return latent


@pytest.fixture(scope="module")
def plain_image_to_video(comfy, tiny_models, start_frame) -> torch.Tensor:
    """The same prompt, start frame and seed through WanImageToVideo: what a track node gives without tracks."""
    return sampled_latent(comfy, tiny_models, start_frame, "WanImageToVideo")


def test_wan_track_to_video_reads_our_ati_json_and_conditions_on_it(
    comfy, tiny_models, start_frame, plain_image_to_video
):
    drawn = sampled_latent(
        comfy, tiny_models, start_frame, "WanTrackToVideo", tracks="TRAJECTORY", temperature=220.0, topk=2
    )
    # "[]" makes WanTrackToVideo fall back to plain image-to-video: an equal latent would mean our JSON was ignored.
    untracked = sampled_latent(
        comfy, tiny_models, start_frame, "WanTrackToVideo", tracks="[]", temperature=220.0, topk=2
    )
    assert not torch.equal(drawn, untracked)
    assert torch.equal(untracked, plain_image_to_video)  # control: without tracks, separately sampled, equal


def test_wan_move_track_to_video_takes_our_tracks_and_conditions_on_them(
    comfy, tiny_models, start_frame, plain_image_to_video
):
    drawn = sampled_latent(comfy, tiny_models, start_frame, "WanMoveTrackToVideo", tracks="TRAJECTORY", strength=1.0)
    ignored = sampled_latent(comfy, tiny_models, start_frame, "WanMoveTrackToVideo", tracks="TRAJECTORY", strength=0.0)
    assert not torch.equal(drawn, ignored)
    assert torch.equal(ignored, plain_image_to_video)  # control: tracks at strength 0, separately sampled, equal


def comfyui_track_positions(ati_text: str, width: int, height: int, length: int) -> np.ndarray:
    """ComfyUI's own parse_json_tracks + pad_pts + process_tracks on our JSON, back in pixels [F, N, 2]."""
    script = (
        "import json, sys, numpy as np\n"
        "import comfy.cli_args\n"
        "comfy.cli_args.args.cpu = True\n"
        "from comfy_extras.nodes_wan import parse_json_tracks, pad_pts, process_tracks\n"
        "text, w, h, length = sys.stdin.read(), *map(int, sys.argv[1:])\n"
        "tracks = np.stack([pad_pts(t) for t in parse_json_tracks(text)], axis=0)\n"
        "out = process_tracks(tracks, (w, h), length - 1)\n"
        "print(json.dumps(out[..., 1:3].tolist()))\n"
    )
    comfyui = os.environ.get("COMFYUI_PATH", "/opt/ComfyUI")
    done = subprocess.run(
        [sys.executable, "-c", script, str(width), str(height), str(length)],
        input=ati_text,
        capture_output=True,
        text=True,
        cwd=comfyui,
        env={**os.environ, "PYTHONPATH": comfyui},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    normalised = np.array(json.loads(done.stdout.strip().splitlines()[-1]))
    return normalised * min(width, height) / 2 + np.array([width, height]) / 2


def test_wan_track_to_video_sees_each_keypoint_at_its_frame(comfy):
    """Our ATI JSON, read by ComfyUI's own track code, puts the skunk at both markers on the drawn frames."""
    width, height, frames = 832, 480, 81
    graph = Graph()
    node = trajectory_node(graph, skunk_path_state(frames), width=width, height=height, num_frames=frames)
    shown = graph.node("PreviewAny", source=out(node, 0))
    result = comfy.run(graph.prompt())
    ati_text = result.outputs[shown]["text"][0]
    positions = comfyui_track_positions(ati_text, width, height, frames)
    assert positions.shape == (frames, 1, 2)
    home = np.array([HOME[0] * width, HOME[1] * height])
    side = np.array([SIDE[0] * width, SIDE[1] * height])
    np.testing.assert_allclose(positions[0, 0], home, atol=0.01)
    np.testing.assert_allclose(positions[40, 0], side, atol=0.01)
    np.testing.assert_allclose(positions[80, 0], home, atol=0.01)
    assert positions[20, 0, 0] > home[0] + 50 and positions[60, 0, 0] > home[0] + 50


def test_preview_and_subject_mask_follow_the_skunk(comfy, skunk_path, start_frame):
    graph = Graph()
    image = graph.node("LoadImage", image=start_frame)
    node = trajectory_node(graph, skunk_path, image)
    preview = graph.node("PreviewImage", images=out(node, 2))
    mask = graph.node("PreviewImage", images=out(graph.node("MaskToImage", mask=out(node, 3))))
    result = comfy.run(graph.prompt())
    frames = preview_images(comfy, result, preview)
    masks = preview_images(comfy, result, mask)
    assert len(frames) == FRAMES and len(masks) == FRAMES
    home = (int(HOME[1] * SIZE), int(HOME[0] * SIZE))
    side = (int(SIDE[1] * SIZE), int(SIDE[0] * SIZE))
    assert tuple(frames[0][home][:3]) == (255, 0, 0), "the skunk's marker is drawn in its track colour"
    assert masks[0][home][0] == 255 and masks[0][side][0] == 0
    assert masks[4][side][0] == 255 and masks[4][home][0] == 0
    assert masks[8][home][0] == 255
    background = result.outputs[node]["worldkit_background"][0]
    sent = Image.open(io.BytesIO(comfy.view(background["filename"], background["subfolder"], background["type"])))
    assert sent.size == (SIZE, SIZE), "the start frame is sent to the canvas"


def test_spread_tracks_match_comfyui_generate_tracks(comfy):
    graph = Graph()
    frames = graph.node("EmptyImage", width=SIZE, height=SIZE, batch_size=1, color=0)
    theirs = straight_tracks(graph, SIZE, FRAMES, (0.25, 0.5), (0.75, 0.5), count=3, spread=0.05)
    state = {
        "version": 1,
        "tracks": [
            {
                "name": "line",
                "subject": "spread",
                "points": 3,
                "spread": 0.05,
                "interpolation": "linear",
                "keypoints": [{"x": 0.25, "y": 0.5, "frame": 0}, {"x": 0.75, "y": 0.5, "frame": 8}],
            }
        ],
    }
    ours = trajectory_node(graph, json.dumps(state))
    drawn = {}
    for name, tracks in (("theirs", out(theirs, 0)), ("ours", out(ours, 1))):
        visual = graph.node(
            "WanMoveVisualizeTracks",
            images=out(frames),
            tracks=tracks,
            line_resolution=4,
            circle_size=2,
            opacity=1.0,
            line_width=1,
        )
        drawn[name] = graph.node("PreviewImage", images=out(visual))
    result = comfy.run(graph.prompt())
    theirs_frames = preview_images(comfy, result, drawn["theirs"])
    ours_frames = preview_images(comfy, result, drawn["ours"])
    assert len(ours_frames) == FRAMES
    for a, b in zip(theirs_frames, ours_frames, strict=True):
        np.testing.assert_array_equal(a, b)


def test_kjnodes_coordinates_import_into_an_editable_trajectory(comfy):
    coordinates = json.dumps([[{"x": 8 + 6 * i, "y": 32} for i in range(FRAMES)]])
    graph = Graph()
    imported = graph.node(
        "WorldKitImportTracks", track_text=coordinates, format="kjnodes", width=SIZE, height=SIZE, num_frames=FRAMES
    )
    node = trajectory_node(graph, out(imported, 0))
    shown = graph.node("PreviewAny", source=out(node, 4))
    result = comfy.run(graph.prompt())
    again = json.loads(result.outputs[shown]["text"][0])
    assert [(p["x"], p["y"]) for p in again[0]] == [(8.0 + 6 * i, 32.0) for i in range(FRAMES)]


def test_an_ati_track_of_162_points_imports_its_first_121_and_says_so(comfy):
    track = [{"x": 2 + 0.375 * i, "y": 5 + (i % 9) * 6} for i in range(162)]
    graph = Graph()
    imported = graph.node(
        "WorldKitImportTracks", track_text=json.dumps([track]), format="ati", width=SIZE, height=SIZE, num_frames=FRAMES
    )
    shown = graph.node("PreviewAny", source=out(imported, 0))
    result = comfy.run(graph.prompt())
    assert result.outputs[imported]["text"] == ["ATI track 1: 162 points cut to 121 as ComfyUI's ATI node reads them."]
    [kept] = json.loads(result.outputs[shown]["text"][0])["tracks"]
    np.testing.assert_allclose(
        [(kp["x"] * SIZE, kp["y"] * SIZE) for kp in kept["keypoints"]], [(p["x"], p["y"]) for p in track[:121]]
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [('[[{"x": 70, "y": 10}]]', "outside the 64x64 frame"), ("[[{'x': 1}]]", "'x' and 'y'"), ("{", "not valid JSON")],
)
def test_a_bad_import_stops_the_graph_with_a_clear_message(comfy, text, message):
    graph = Graph()
    imported = graph.node(
        "WorldKitImportTracks", track_text=text, format="ati", width=SIZE, height=SIZE, num_frames=FRAMES
    )
    graph.node("PreviewAny", source=out(imported, 0))
    error = comfy.run(graph.prompt(), expect_error=True).error
    # the text alone shows most mistakes, so they are refused when queued; the frame bounds when it runs
    assert message in (error.get("exception_message") or json.dumps(error.get("node_errors")))


def test_a_keypoint_past_the_clip_is_a_clear_error(comfy, skunk_path):
    graph = Graph()
    node = trajectory_node(graph, skunk_path, num_frames=5)
    graph.node("PreviewAny", source=out(node, 0))
    result = comfy.run(graph.prompt(), expect_error=True)
    assert "clip has 5 frames" in result.error["exception_message"]


def test_the_canvas_scripts_are_listed_and_served_with_the_pack(comfy):
    """The frontend imports every listed script; the nested trajectory modules are served where the entry imports
    them."""
    web = Path(__file__).resolve().parents[2] / "web"
    prefix = "/extensions/worldkit/"
    listed = sorted(path for path in comfy.get_json("/extensions") if path.startswith(prefix))
    assert listed == sorted(prefix + path.relative_to(web).as_posix() for path in web.rglob("*.js"))
    assert {prefix + "js/trajectory_editor.js", prefix + "js/trajectory/path.js"} <= set(listed)
    for path in listed:
        with urllib.request.urlopen(comfy.base_url + path, timeout=60) as response:
            assert response.read() == (web / path.removeprefix(prefix)).read_bytes()
