"""`python -m worldkit farm` on a local Ray cluster with three CPU ComfyUI servers on loopback and tiny models.

The six-shot, two-candidate film renders every unit once and cuts exactly as one server renders it; a server
killed mid-run, a rerun and an interrupted driver all end with the same complete manifest and cut. The Ray
head, its processes and the driver report and listen on loopback addresses only.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import av
import psutil
import pytest
import torch
from ctrl_c import default_sigint
from graphs import timeline_clips
from safetensors.torch import load_file

from worldkit.headless import run_workflow
from worldkit.headless.farm.cluster import LOOPBACK_ONLY
from worldkit.tools.farm_film import (
    CANDIDATES,
    SHOTS,
    farm_env,
    film_prompt,
    start_cpu_servers,
    start_ray_head,
    stop_ray_head,
    write_tone,
)

SEED = 5
SHORT = 3
RUN_TIMEOUT_S = 400


@pytest.fixture(scope="module")
def extra_servers(comfy_base_dir, tiny_models, tmp_path_factory):
    """Two more CPU servers, each with its own output folder (so the world must be shipped to it)."""
    servers = start_cpu_servers(comfy_base_dir, [tmp_path_factory.mktemp(f"farm_server_{i}") for i in range(2)])
    yield servers
    for server in servers:
        server.stop()


LOOPBACK = {"127.0.0.1", "::ffff:127.0.0.1"}
# A driver joining the cluster at argv[1] (or, given "", starting the farm's own local one) reports the node,
# GCS and driver addresses Ray gives it and what it and the processes under it listen on.
ADDRESS_PROBE = """
import json, sys
import psutil
from worldkit.headless.farm.cluster import WorkerSpec, connect
ray = connect(sys.argv[1] or None, WorkerSpec(cpu=True))
me = psutil.Process()
print(json.dumps({
    "nodes": [node["NodeManagerAddress"] for node in ray.nodes()],
    "gcs": ray.get_runtime_context().gcs_address.rsplit(":", 1)[0],
    "driver": ray.util.get_node_ip_address(),
    "listening": sorted({c.laddr.ip for p in [me, *me.children(recursive=True)]
                         for c in p.net_connections("inet") if c.status == psutil.CONN_LISTEN}),
}))
"""


@pytest.fixture(scope="module")
def ray_head(tmp_path_factory):
    """A local Ray head on loopback with three CPU slots, no dashboard; stopped at the end."""
    head, address = start_ray_head(tmp_path_factory.mktemp("ray"), 3)
    yield head, address
    stop_ray_head(head)


@pytest.fixture(scope="module")
def ray_address(ray_head):
    return ray_head[1]


def listening_hosts(pid: int) -> set[str]:
    """The addresses a process and every process under it listen on."""
    root = psutil.Process(pid)
    hosts = set()
    for process in [root, *root.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            connections = process.net_connections("inet")
            hosts |= {c.laddr.ip for c in connections if c.status == psutil.CONN_LISTEN}
    return hosts


def probe_addresses(address: str, env: dict[str, str]) -> dict:
    probe = subprocess.run(
        [sys.executable, "-c", ADDRESS_PROBE, address], env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S
    )
    assert probe.returncode == 0, probe.stderr
    return json.loads(probe.stdout.strip().splitlines()[-1])


def assert_loopback(found: dict) -> None:
    assert found["nodes"] == ["127.0.0.1"], found
    assert found["gcs"] == found["driver"] == "127.0.0.1", found
    assert found["listening"] and set(found["listening"]) <= LOOPBACK, found


def test_the_ray_head_its_processes_and_the_driver_stay_on_loopback(ray_head):
    head, address = ray_head
    assert_loopback(probe_addresses(address, farm_env()))
    listening = listening_hosts(head.pid)
    assert listening and listening <= LOOPBACK, listening


def test_the_farms_own_local_cluster_stays_on_loopback():
    """Without an address the farm starts a cluster itself: loopback with no environment set for it."""
    env = {name: value for name, value in farm_env().items() if name not in LOOPBACK_ONLY}
    assert_loopback(probe_addresses("", env))


def write_film(comfy, tiny_models, folder: Path, shots: int) -> Path:
    write_tone(folder)
    path = folder / "film.json"
    path.write_text(json.dumps(film_prompt(comfy.object_info(), tiny_models, SEED, shots)))
    return path


@pytest.fixture(scope="module")
def film(comfy, tiny_models, tmp_path_factory):
    return write_film(comfy, tiny_models, tmp_path_factory.mktemp("film"), SHOTS)


@pytest.fixture(scope="module")
def short_film(comfy, tiny_models, tmp_path_factory):
    """The film's first three shots: its units and cut are the first half of the full film's."""
    return write_film(comfy, tiny_models, tmp_path_factory.mktemp("short_film"), SHORT)


@pytest.fixture(scope="module")
def single_run(comfy, film, tmp_path_factory):
    """The film rendered by one server, the usual way: the reference every farm run must equal."""
    out = tmp_path_factory.mktemp("single")
    result = run_workflow(film, server=comfy.base_url, out_dir=out, inputs_dirs=[film.parent])
    frames = [path for path in result.files if path.suffix == ".safetensors"]
    videos = [path for path in result.files if path.suffix == ".mp4"]
    report = next(o["text"][0] for n, o in result.outputs.items() if result.prompt[n]["class_type"] == "PreviewAny")
    return load_file(str(frames[0]))["frames"], frame_hashes(videos[0]), json.loads(report)


def frame_hashes(video: Path) -> list[str]:
    with av.open(str(video)) as container:
        return [hashlib.sha256(f.to_ndarray(format="rgb24").tobytes()).hexdigest() for f in container.decode(video=0)]


def farm_command(film: Path, out: Path, address: str, servers: list[str]) -> list[str]:
    command = [sys.executable, "-m", "worldkit", "farm", str(film), "--out", str(out), "--address", address, "--cpu"]
    return command + [arg for url in servers for arg in ("--server", url)] + ["--inputs", str(film.parent)]


def farm(film: Path, out: Path, address: str, servers: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        farm_command(film, out, address, servers),
        env=farm_env(),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
    )


def start_farm(film: Path, out: Path, address: str, servers: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        farm_command(film, out, address, servers),
        env=farm_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,
    )


def manifest(out: Path) -> dict:
    path = out / "manifest.json"
    return json.loads(path.read_text()) if path.is_file() else {"units": {}}


def wait_for_units(out: Path, count: int, process: subprocess.Popen) -> dict:
    """The manifest once it holds ``count`` units."""
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline:
        found = manifest(out)
        if len(found["units"]) >= count:
            return found
        assert process.poll() is None, process.communicate()
        time.sleep(0.2)
    raise AssertionError(f"the farm did not finish {count} units in time")


def wait_until_rendering(server_url: str, process: subprocess.Popen) -> None:
    """Return once ``server_url`` is executing a prompt, so a kill now lands in the middle of a unit."""
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{server_url}/queue") as response:
            if json.load(response)["queue_running"]:
                return
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    raise AssertionError(f"{server_url} was never given a unit")


def check_complete(out: Path, single_run, shots: int = SHOTS) -> dict:
    """Every unit once with intact outputs and the right seed, and a cut equal to the single run's.

    A film of the first ``shots`` shots has the single run's first shots' picks and frames.
    """
    reference_frames, reference_hashes, reference_report = single_run
    found = manifest(out)
    units = found["units"]
    assert sorted((u["shot"], u["candidate"]) for u in units.values()) == [
        (shot, candidate) for shot in range(1, shots + 1) for candidate in range(1, CANDIDATES + 1)
    ]
    for unit in units.values():
        (output,) = unit["outputs"]
        data = (out / output["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == output["sha256"]
        assert unit["seed"] == SEED + 3 * (unit["shot"] - 1) + unit["candidate"] - 1
    chosen = {int(shot): units[key]["candidate"] for shot, key in found["picks"].items()}
    assert chosen == {shot["shot"] + 1: shot["chosen"] + 1 for shot in reference_report["shots"][:shots]}
    cut = {Path(o["path"]).suffix: out / o["path"] for o in found["cut"]["outputs"]}
    end = reference_report["boundaries"][shots - 1]["end"]
    assert torch.equal(load_file(str(cut[".safetensors"]))["frames"], reference_frames[:end])
    if shots == SHOTS:
        assert frame_hashes(cut[".mp4"]) == reference_hashes
    check_timeline(
        cut[".otio"], reference_report["boundaries"][:shots], {out / o["path"] for o in found["cut"]["outputs"]}
    )
    return found


def check_timeline(path: Path, boundaries: list[dict], stored: set[Path]) -> None:
    """The farm's cut timeline: a clip on each shot's frames, its media one of the cut's stored files beside it."""
    _, clips = timeline_clips(path, 16.0)
    ranges = [
        (clip.range_in_parent().start_time.value, clip.range_in_parent().end_time_exclusive().value) for clip in clips
    ]
    assert ranges == [(b["start"], b["end"]) for b in boundaries]
    media = {(path.parent / clip.media_reference.target_url) for clip in clips}
    assert len(media) == len(boundaries) and media <= stored and all(file.is_file() for file in media)


def unit_frames(out: Path, found: dict, shot: int, candidate: int) -> torch.Tensor:
    (entry,) = [u for u in found["units"].values() if (u["shot"], u["candidate"]) == (shot, candidate)]
    return load_file(str(out / entry["outputs"][0]["path"]))["frames"]


def history_size(url: str) -> int:
    with urllib.request.urlopen(f"{url}/history", timeout=30) as response:
        return len(json.loads(response.read()))


def test_farm_renders_each_unit_once_cuts_like_one_server_and_a_rerun_does_nothing(
    comfy, extra_servers, ray_address, film, single_run, tmp_path
):
    servers = [comfy.base_url, extra_servers[0].base_url]
    done = farm(film, tmp_path, ray_address, servers)
    assert done.returncode == 0, done.stderr
    found = check_complete(tmp_path, single_run)
    workers = {u["worker"] for u in found["units"].values()}
    assert workers == {"worker-1", "worker-2"}, "both servers took units"
    shipped = sorted((u["worker"], u["world_shipped"]) for u in found["units"].values() if u["world_shipped"])
    assert shipped == [("worker-2", True)], "the world is shipped once, to the server that lacked it"
    # Negative control: the cut is made of the chosen candidates, which differ from the others.
    picked = torch.cat([unit_frames(tmp_path, found, s, c) for s, c in _picks(found).items()])
    others = torch.cat([unit_frames(tmp_path, found, s, 3 - c) for s, c in _picks(found).items()])
    assert torch.equal(picked, single_run[0]) and not torch.equal(others, single_run[0])

    before = [history_size(url) for url in servers]
    again = farm(film, tmp_path, ray_address, servers)
    assert again.returncode == 0, again.stderr
    assert "0 unit(s) rendered, 12 already done" in again.stderr
    assert [history_size(url) for url in servers] == before, "a rerun queues nothing"
    assert manifest(tmp_path)["units"] == found["units"]


def _picks(found: dict) -> dict[int, int]:
    return {int(shot): found["units"][key]["candidate"] for shot, key in found["picks"].items()}


def test_a_server_killed_mid_run_loses_no_unit(comfy, extra_servers, ray_address, short_film, single_run, tmp_path):
    victim = extra_servers[1]
    process = start_farm(short_film, tmp_path, ray_address, [comfy.base_url, victim.base_url])
    wait_until_rendering(victim.base_url, process)
    victim._process.kill()
    _, stderr = process.communicate(timeout=RUN_TIMEOUT_S)
    assert process.returncode == 0, stderr
    assert "worker-2 is out of the farm" in stderr
    check_complete(tmp_path, single_run, SHORT)


def test_an_interrupted_driver_finishes_only_the_rest(
    comfy, extra_servers, ray_address, short_film, single_run, tmp_path
):
    servers = [comfy.base_url, extra_servers[0].base_url]
    process = start_farm(short_film, tmp_path, ray_address, servers)
    wait_for_units(tmp_path, 2, process)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "cancelled" in stderr
    finished = manifest(tmp_path)["units"]
    assert 2 <= len(finished) < SHORT * CANDIDATES
    rest = farm(short_film, tmp_path, ray_address, servers)
    assert rest.returncode == 0, rest.stderr
    rendered = SHORT * CANDIDATES - len(finished)
    assert f"done: {rendered} unit(s) rendered, {len(finished)} already done" in rest.stderr
    found = check_complete(tmp_path, single_run, SHORT)
    assert all(found["units"][key] == entry for key, entry in finished.items()), "finished units are kept as they were"
