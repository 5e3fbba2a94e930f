"""`python -m worldkit run` and `run_workflow` against a real ComfyUI server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import av
import pytest
from ctrl_c import default_sigint
from graphs import encode_prompts, ksampler, save_cut_timeline, timeline_clips

from worldkit.headless import MissingModelsError, NodeFailed, run_workflow
from worldkit.headless.catalog import CATALOG, WAN_VAE
from worldkit.tools.prompt_graph import Graph, load_wan, out

PACK_DIR = Path(__file__).resolve().parents[2]
FRAMES = 5


def t2v_video_prompt(tiny_models: dict[str, str]) -> dict:
    """Tiny Wan T2V: 64x64, 5 frames, 2 steps, saved as a video."""
    graph = Graph()
    model, clip, vae = load_wan(graph, tiny_models, "wan_t2v")
    positive, negative = encode_prompts(graph, clip)
    latent = graph.node("EmptyHunyuanLatentVideo", width=64, height=64, length=FRAMES, batch_size=1)
    sampled = ksampler(graph, out(model), out(positive), out(negative), out(latent), seed=3)
    frames = graph.node("VAEDecode", samples=out(sampled), vae=out(vae))
    video = graph.node("CreateVideo", images=out(frames), fps=16.0)
    graph.node("SaveVideo", video=out(video), filename_prefix="headless/t2v", format="mp4", codec="h264")
    prompt = graph.prompt()
    for node_id, entry in prompt.items():
        entry["_meta"] = {"title": f"{entry['class_type']} {node_id}"}
    return prompt


def cli(args: list[str], cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    """`python -m worldkit ...` run from a folder holding the pack as `worldkit`, as in ComfyUI/custom_nodes."""
    link = cwd / "worldkit"
    if not link.exists():
        link.symlink_to(PACK_DIR, target_is_directory=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [sys.executable, "-m", "worldkit", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def frame_count(path: Path) -> tuple[int, int, int]:
    with av.open(str(path)) as container:
        frames = list(container.decode(video=0))
    return len(frames), frames[0].width, frames[0].height


def history_size(base_url: str) -> int:
    with urllib.request.urlopen(f"{base_url}/history", timeout=30) as response:
        return len(json.loads(response.read()))


def test_cli_runs_a_workflow_shows_progress_and_downloads_the_video(comfy, tiny_models, tmp_path):
    workflow = tmp_path / "t2v.json"
    workflow.write_text(json.dumps(t2v_video_prompt(tiny_models)))
    done = cli(
        [
            "run",
            str(workflow),
            "--server",
            comfy.base_url,
            "--out",
            str(tmp_path / "renders"),
            "--set",
            "KSampler.steps=3",
            "--set",
            "6.length=9",
        ],
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    videos = list((tmp_path / "renders" / "headless").glob("t2v*.mp4"))
    assert len(videos) == 1 and str(videos[0]) in done.stdout
    assert frame_count(videos[0]) == (9, 64, 64), "the --set length override reached the graph"
    assert "node 7 (KSampler)" in done.stderr
    assert "3/3" in done.stderr and "[" + "#" * 30 + "]" in done.stderr, "a progress bar for the 3 sampler steps"


def test_cli_exits_non_zero_naming_the_failing_node(comfy, tmp_path):
    (comfy.input_dir / "worldkit_not_an_image.png").write_bytes(b"this is not a png")
    prompt = {
        "1": {"class_type": "LoadImage", "inputs": {"image": "worldkit_not_an_image.png"}},
        "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "headless/bad"}},
    }
    workflow = tmp_path / "bad.json"
    workflow.write_text(json.dumps(prompt))
    done = cli(["run", str(workflow), "--server", comfy.base_url, "--out", str(tmp_path / "renders")], tmp_path)
    assert done.returncode == 1
    assert "node 1 (LoadImage) failed" in done.stderr
    assert "UnidentifiedImageError" in done.stderr or "cannot identify image" in done.stderr


def test_missing_models_are_listed_with_their_folders_before_anything_runs(comfy, tiny_models, tmp_path):
    prompt = t2v_video_prompt(tiny_models)
    prompt["1"]["inputs"]["unet_name"] = "wan2.1_vace_14B_fp16.safetensors"
    prompt["3"]["inputs"]["vae_name"] = "wan_2.1_vae.safetensors"
    workflow = tmp_path / "missing.json"
    workflow.write_text(json.dumps(prompt))
    before = history_size(comfy.base_url)
    done = cli(["run", str(workflow), "--server", comfy.base_url], tmp_path)
    assert done.returncode == 2
    assert "2 model file(s) missing" in done.stderr
    assert "wan2.1_vace_14B_fp16.safetensors  ->  models/diffusion_models/" in done.stderr
    assert "wan_2.1_vae.safetensors  ->  models/vae/" in done.stderr
    assert CATALOG["wan2.1_vace_14B_fp16.safetensors"].url in done.stderr and WAN_VAE.url in done.stderr
    assert f"python -m worldkit models {workflow} --download" in done.stderr, "the hint names the real path"
    assert history_size(comfy.base_url) == before, "nothing was queued"


def test_python_api_runs_a_prompt_and_raises_node_errors(comfy, tiny_models, tmp_path):
    events = []
    result = run_workflow(
        t2v_video_prompt(tiny_models),
        server=comfy.base_url,
        out_dir=tmp_path,
        overrides=["KSampler.seed=11"],
        on_event=events.append,
    )
    assert result.prompt["7"]["inputs"]["seed"] == 11
    assert [p.suffix for p in result.files] == [".mp4"]
    assert frame_count(result.files[0]) == (FRAMES, 64, 64)
    assert {"7", "8", "9", "10"} <= set(result.executed)
    assert any(e["type"] == "progress" and e["data"]["class_type"] == "KSampler" for e in events)
    bad = {
        "1": {"class_type": "LoadImage", "inputs": {"image": "worldkit_not_an_image.png"}},
        "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}},
    }
    (comfy.input_dir / "worldkit_not_an_image.png").write_bytes(b"still not a png")
    with pytest.raises(NodeFailed) as failed:
        run_workflow(bad, server=comfy.base_url, out_dir=None)
    assert (failed.value.node_id, failed.value.node_type) == ("1", "LoadImage")
    with pytest.raises(MissingModelsError):
        run_workflow(
            {"1": {"class_type": "VAELoader", "inputs": {"vae_name": "absent.safetensors"}}},
            server=comfy.base_url,
            out_dir=None,
        )


def test_without_a_server_the_runner_starts_comfyui_and_stops_it(comfy_base_dir, tiny_models, tmp_path):
    workflow = tmp_path / "t2v.json"
    workflow.write_text(json.dumps(t2v_video_prompt(tiny_models)))
    comfy_args = f"--base-directory {comfy_base_dir} --database-url sqlite:///:memory:"
    comfyui = os.environ.get("COMFYUI_PATH", "/opt/ComfyUI")
    done = cli(
        [
            "run",
            str(workflow),
            "--comfyui",
            comfyui,
            "--cpu",
            "--comfy-args",
            comfy_args,
            "--out",
            str(tmp_path / "renders"),
        ],
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert frame_count(next((tmp_path / "renders" / "headless").glob("t2v*.mp4"))) == (FRAMES, 64, 64)
    started = [line for line in done.stderr.splitlines() if line.startswith("ComfyUI started at ")]
    assert len(started) == 1, done.stderr
    url = started[0].split()[-1]
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{url}/system_stats", timeout=5)


def post(base_url: str, path: str, body: dict) -> None:
    request = urllib.request.Request(
        base_url + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    urllib.request.urlopen(request, timeout=30).close()


def queue_ids(base_url: str) -> tuple[list[str], list[str]]:
    with urllib.request.urlopen(f"{base_url}/queue", timeout=30) as response:
        queue = json.loads(response.read())
    return [item[1] for item in queue["queue_running"]], [item[1] for item in queue["queue_pending"]]


def wait_for(condition, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def slow_prompt(tiny_models: dict[str, str], seed: int) -> dict:
    """The tiny T2V graph with enough steps to be stopped mid-way (minutes on the CPU)."""
    prompt = t2v_video_prompt(tiny_models)
    sampler = next(entry for entry in prompt.values() if entry["class_type"] == "KSampler")
    sampler["inputs"].update(steps=5000, seed=seed)
    return prompt


def start_cli(args: list[str], cwd: Path) -> subprocess.Popen:
    link = cwd / "worldkit"
    if not link.exists():
        link.symlink_to(PACK_DIR, target_is_directory=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    command = [sys.executable, "-m", "worldkit", *args]
    return subprocess.Popen(command, cwd=cwd, env=env, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint)


def start_slow_run(comfy, tiny_models, tmp_path, seed: int) -> subprocess.Popen:
    """The CLI running a slow workflow on the test server."""
    workflow = tmp_path / "slow.json"
    workflow.write_text(json.dumps(slow_prompt(tiny_models, seed=seed)))
    return start_cli(["run", str(workflow), "--server", comfy.base_url], tmp_path)


def press_ctrl_c(process: subprocess.Popen) -> str:
    """SIGINT to the CLI; its stderr, once it has exited with 130."""
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    return stderr


def test_ctrl_c_removes_a_queued_prompt_and_leaves_someone_elses_running(comfy, tiny_models, tmp_path):
    blocker = comfy.queue(slow_prompt(tiny_models, seed=101))
    wait_for(lambda: queue_ids(comfy.base_url)[0] == [blocker])
    process = start_slow_run(comfy, tiny_models, tmp_path, seed=102)
    try:
        wait_for(lambda: len(queue_ids(comfy.base_url)[1]) == 1)
        ours = queue_ids(comfy.base_url)[1][0]
        stderr = press_ctrl_c(process)
        assert f"removed queued prompt {ours}" in stderr
        running, pending = queue_ids(comfy.base_url)
        assert running == [blocker] and pending == [], "the other client's prompt keeps running"
    finally:
        process.kill()
        post(comfy.base_url, "/interrupt", {"prompt_id": blocker})
        wait_for(lambda: queue_ids(comfy.base_url) == ([], []))


def test_ctrl_c_interrupts_its_own_running_prompt_and_exits_non_zero(comfy, tiny_models, tmp_path):
    process = start_slow_run(comfy, tiny_models, tmp_path, seed=103)
    try:
        wait_for(lambda: len(queue_ids(comfy.base_url)[0]) == 1)
        ours = queue_ids(comfy.base_url)[0][0]
        stderr = press_ctrl_c(process)
        assert f"interrupted: stopped: interrupted prompt {ours} on the server" in stderr
        wait_for(lambda: queue_ids(comfy.base_url) == ([], []), timeout_s=60)
        status = comfy.history(ours).get("status", {})
        assert any(message[0] == "execution_interrupted" for message in status.get("messages", []))
    finally:
        process.kill()


def test_the_runner_downloads_the_cut_timeline_with_its_media_beside_it(comfy, tmp_path):
    """Save Cut Timeline through `run_workflow`: the timeline and every file it names land together in --out, so
    its relative media paths resolve there, and its clips are the cut's shots."""
    graph = Graph()
    first = graph.node("EmptyImage", width=32, height=32, batch_size=7, color=0x304050)
    second = graph.node("EmptyImage", width=32, height=32, batch_size=5, color=0x506070)
    shots = graph.node("ImageBatch", image1=out(first), image2=out(second))
    cut = graph.node(
        "WorldKitAssembleCut",
        frames=out(shots),
        shot_lengths="7, 5",
        fps=25.0,
        transition="cut",
        crossfade_frames=0,
        snap_to_beats=False,
        beat_threshold=0.3,
        min_keep=0.5,
    )
    save_cut_timeline(graph, shots, cut, "wk_runner/cut", edl=True)
    result = run_workflow(graph.prompt(), server=comfy.base_url, out_dir=tmp_path)
    assert sorted(path.suffix for path in result.files) == [".edl", ".mov", ".mov", ".otio"]
    for path in (p for p in result.files if p.suffix in (".otio", ".edl")):
        _, clips = timeline_clips(path, 25.0)
        ranges = [(c.range_in_parent().start_time.value, c.range_in_parent().duration.value) for c in clips]
        assert ranges == [(0, 7), (7, 5)]
        media = [(path.parent / clip.media_reference.target_url).resolve() for clip in clips]
        assert media == sorted(p.resolve() for p in result.files if p.suffix == ".mov")
