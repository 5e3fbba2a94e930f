"""A tiny six-shot film for the farm's tests and benchmark (one world entity, cut shots, a cut with audio),
and the CPU servers and loopback Ray head they run it on."""

from __future__ import annotations

import math
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import wave
from pathlib import Path

from ..headless.farm.cluster import CPU_SLOT, LOOPBACK_ONLY
from ..headless.server import PACK_DIR, LocalServer, free_port
from .prompt_graph import Graph, load_wan, out, with_defaults
from .tiny_wan import QUICK_SAMPLING, exact_shot

COMFYUI_PATH = Path(os.environ.get("COMFYUI_PATH", "/opt/ComfyUI"))

SIZE, FRAMES, SHOTS, CANDIDATES = 64, 5, 6, 2
AUDIO = "farm_tone.wav"


def write_tone(folder: Path, seconds: float = 2.5, rate: int = 8000) -> Path:
    """A short 220 Hz tone, the film's soundtrack."""
    path = folder / AUDIO
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        samples = (int(8000 * math.sin(2 * math.pi * 220 * i / rate)) for i in range(int(seconds * rate)))
        handle.writeframes(b"".join(struct.pack("<h", s) for s in samples))
    return path


def film_prompt(object_info: dict, tiny_models: dict[str, str], seed: int = 5, shots: int = SHOTS) -> dict:
    """API prompt: world (encoded), ``shots`` cut shots, World Shot Sampler (2 candidates, 1 step), cut, save."""
    graph = Graph()

    def add(class_type: str, **inputs) -> str:
        return graph.node(class_type, **with_defaults(object_info, class_type, **inputs))

    model, clip, vae = load_wan(graph, tiny_models, "wan_t2v")
    image = graph.node("EmptyImage", width=SIZE, height=SIZE, batch_size=1, color=0x4080C0)
    reference = add("WorldKitReference", image=out(image), name="toy", kind="object", width=SIZE, height=SIZE)
    world = add("WorldKitWorld", reference_1=out(reference))
    encoded = add("WorldKitEncodeReferences", references=out(world), vae=out(vae), width=SIZE, height=SIZE)
    shot_nodes = [
        add(
            "WorldKitShot",
            prompt=f"the toy, shot {index}",
            entities="toy",
            **exact_shot(FRAMES, SIZE, SIZE),
            seed=index * 3,
            world=out(encoded),
        )
        for index in range(shots)
    ]
    shot_list = add("WorldKitShotList", **{f"shot_{i + 1}": out(node) for i, node in enumerate(shot_nodes)})
    sampler = add(
        "WorldKitWorldShotSampler",
        model=out(model),
        vae=out(vae),
        clip=out(clip),
        world=out(encoded),
        shots=out(shot_list),
        seed=seed,
        steps=1,
        cfg=1.0,
        **QUICK_SAMPLING,
        candidates=CANDIDATES,
        reference_attention=0.0,
        native_frames=FRAMES,
        overlap_frames=1,
    )
    audio = graph.node("LoadAudio", audio=AUDIO)
    cut = add("WorldKitAssembleCut", frames=out(sampler, 0), shot_lengths=out(sampler, 1), fps=16.0, audio=out(audio))
    graph.node("SaveVideo", video=out(cut), filename_prefix="farm/cut", format="mp4", codec="h264")
    add(
        "WorldKitSaveCutTimeline",
        frames=out(sampler, 0),
        cut_list=out(cut, 1),
        filename_prefix="farm/cut_timeline",
        report=out(sampler, 3),
        audio=out(audio),
    )
    # The cut's float frames, saved losslessly so equality is exact (the video is 8-bit and compressed).
    add("WorldKitSaveShotFrames", frames=out(cut, 2), report=out(sampler, 3), name="farm/cut_frames")
    graph.node("PreviewAny", source=out(sampler, 3))
    return graph.prompt()


def farm_env() -> dict[str, str]:
    """The farm's processes: the pack importable as `worldkit`; every Ray component and the driver on loopback;
    Ray's usage stats, (loopback) tokens and memory monitor off (the workers are thin clients; on a shared
    machine Ray would kill them for others' use)."""
    paths = [str(PACK_DIR.parent), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env = {
        "PYTHONPATH": os.pathsep.join(paths),
        **LOOPBACK_ONLY,
        "RAY_USAGE_STATS_ENABLED": "0",
        "RAY_AUTH_MODE": "disabled",
        "RAY_memory_monitor_refresh_ms": "0",
    }
    return {**os.environ, **env}


def start_cpu_servers(source: Path, folders: list[Path]) -> list[LocalServer]:
    """CPU servers sharing ``source``'s nodes and models, each with its own input, output and world library."""
    servers = []
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        for shared in ("custom_nodes", "models"):
            (folder / shared).symlink_to(source / shared, target_is_directory=True)
        for own in ("input", "output", "temp", "user"):
            (folder / own).mkdir(parents=True, exist_ok=True)
        args = ["--cpu", "--base-directory", str(folder), "--database-url", "sqlite:///:memory:"]
        servers.append(LocalServer(COMFYUI_PATH, args))
    threads = [threading.Thread(target=server.start) for server in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return servers


def start_ray_head(temp: Path, slots: int) -> tuple[subprocess.Popen, str]:
    """A Ray head on loopback offering ``slots`` CPU slots, no dashboard; stop it with ``stop_ray_head``."""
    port = free_port()
    command = [
        str(Path(sys.executable).parent / "ray"),
        "start",
        "--head",
        "--block",
        f"--port={port}",
        "--node-ip-address=127.0.0.1",
        "--num-cpus=1",
        f'--resources={{"{CPU_SLOT}": {slots}}}',
        "--include-dashboard=false",
        "--disable-usage-stats",
        f"--temp-dir={temp}",
    ]
    log = (temp / "head.log").open("w")
    head = subprocess.Popen(command, env=farm_env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return head, f"127.0.0.1:{port}"
        if head.poll() is not None:
            raise RuntimeError((temp / "head.log").read_text())
        time.sleep(0.5)
    raise RuntimeError("the Ray head did not start within 120 s")


def stop_ray_head(head: subprocess.Popen) -> None:
    """The head and the processes it started (its own session), nothing else."""
    os.killpg(head.pid, signal.SIGTERM)
    try:
        head.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(head.pid, signal.SIGKILL)
