"""GVFX on ComfyUI's GPU against the CPU path: the whole chain (decode, key, refine, colour, grain, light wrap, shadow,
defocus, motion blur, composite, ProRes 4444 encode) through the GVFX nodes, each run in a fresh process.

The chain is the resident one: the streamed VIDEO keeps each block on the device from step to step, so frames cross
between the CPU and the device once per block (up from the decoder, and the shadow cast on the CPU; down to the steps
that read the refined matte on the CPU, and to the writer). Matte Refine computes on the device too: only its coarse
grids cross (the picture, mask and fast matte reduced on the device go down, the grid's coefficients, the keep-the-mask
weight and the un-mixing's colours come up). Every crossing is counted (models/compositing/device.py's upload and
download) and reported in float32 frame planes per frame.

With a CUDA device: a 4K and a 1080p plate on the GPU against the targets (4K >= 24 fps, 1080p >= 60 fps, >= 20x
the CPU path on the same machine at all its cores, peak GPU memory of the longer clip within 1.1x the shorter's,
at most TRAFFIC_PLANES planes a frame crossing), and the CPU path at 2, 4, 8 and 16 cores (as many as the machine
has) to show how blocks spread over cores scale. Exit status 0 when every target is met, 1 when one is missed.

Without one: the steps' device path runs on the CPU device at a small size, beside the CPU path, to show that the
resident chain works end to end (its crossings counted as on a GPU, the steps' own moves of CPU-made planes aside)
and how it compares; the GPU targets are NOT measured, and the exit status is 3 (not 0, so that no one reads a run
without a GPU as the targets met).

    python benchmarks/bench_gvfx_gpu.py [--frames 48 96] [--cpu-frames 24] [--small 320x180]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from bench_gvfx_stream import load_nodes, our_chain, write_clip
from process_memory import reset_peak, resident_kib

NOT_MEASURED = 3
UHD, HD = (3840, 2160), (1920, 1080)
TARGET_FPS = {UHD: 24.0, HD: 60.0}
SPEEDUP, FLAT = 20.0, 1.1
CORE_COUNTS = (2, 4, 8, 16)
TRAFFIC_PLANES = 21.0
"""Planes a frame that may cross: up, the plate and element (3 each) and the shadow (1); down, the refined matte (1:
Color Match's mask, the light wrap's small maps and the shadow's cast read it on the CPU) and the composite (4): 12;
on top, Matte Refine's coarse grids (at the edge radius of 8 a grid of 2 px, a quarter of the pixels: about 1.6 up
and 1.5 down), the clip-wide measurements' picks and the coarse screen and light-wrap grids (on the CPU device, 96
frames of 160x96: 9.8 up and 8.8 down, the shadow not counted there; 12.0 and 10.2 while Matte Refine computed on the
CPU, its image and matte going down and up at full size). A chain moving each step's blocks there and back would
cross about 60."""


def counted_crossings() -> dict[str, int]:
    """Bytes moved up to and down from the device from here on, as device.upload and device.download move them."""
    from worldkit.models.compositing import device

    moved = {"up": 0, "down": 0}
    upload, download = device.upload, device.download

    def counted_upload(tensor, to):
        moved["up"] += tensor.numel() * tensor.element_size()
        return upload(tensor, to)

    def counted_download(tensor):
        moved["down"] += tensor.numel() * tensor.element_size()
        return download(tensor)

    device.upload, device.download = counted_upload, counted_download
    return moved


def child(plate: Path, element: Path, frames: int, mode: str, cores: int, size: tuple[int, int]) -> None:
    """One run in this fresh process on `cores` cores: mode 'gpu' (ComfyUI on its CUDA device), 'cpu' (the CPU path)
    or 'device-on-cpu' (the steps' device path on the CPU device). Prints a JSON line."""
    os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:cores])  # the engine spreads frames over these
    import torch

    torch.set_num_threads(cores)
    gpu = mode == "gpu"
    load_nodes(cpu=not gpu)
    from worldkit.nodes.gvfx.device import DEVICE_VARIABLE

    if mode == "device-on-cpu":  # what the nodes do on a GPU, with the CPU as the device
        os.environ[DEVICE_VARIABLE] = "cpu"
    moved = counted_crossings()
    with tempfile.TemporaryDirectory() as folder:
        reset_peak()
        if gpu:
            torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        our_chain(plate, element, Path(folder), cpu=not gpu)
        seconds = time.perf_counter() - start
    report = {"fps": frames / seconds, "seconds": seconds, "peak_rss_gib": resident_kib("VmHWM") / 1024**2}
    plane = frames * size[0] * size[1] * 4
    report["planes_up"], report["planes_down"] = moved["up"] / plane, moved["down"] / plane
    if gpu:
        report["peak_gpu_gib"] = torch.cuda.max_memory_allocated() / 1024**3
    print(json.dumps(report))


def measure(size: tuple[int, int], frames: int, mode: str, cores: int) -> dict:
    """Write the clips, then run the chain on them in a fresh process."""
    with tempfile.TemporaryDirectory() as folder:
        plate, element = Path(folder) / "plate.mp4", Path(folder) / "element.mp4"
        write_clip(plate, *size, frames, element=False)
        write_clip(element, *size, frames, element=True)
        shape = f"{size[0]}x{size[1]}"
        command = [sys.executable, __file__, "--child", str(plate), str(element), str(frames), mode, str(cores), shape]
        run = subprocess.run(command, capture_output=True, text=True, cwd=Path(__file__).parent)
    if run.returncode != 0:
        raise SystemExit(f"{mode} run at {size[0]}x{size[1]} failed:\n{run.stderr[-3000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def gpu_targets(frames: tuple[int, int], cpu_frames: int) -> list[str]:
    """The GPU figures against their targets, and the CPU path's scaling; the targets missed."""
    import torch

    print(f"GPU: {torch.cuda.get_device_name()}; CPU: {len(os.sched_getaffinity(0))} cores")
    misses, all_cores = [], len(os.sched_getaffinity(0))
    cpu = {n: measure(HD, cpu_frames, "cpu", n) for n in CORE_COUNTS if n <= all_cores}
    for cores, run in cpu.items():
        print(
            f"CPU path, 1080p, {cores:2} cores: {run['fps']:.2f} fps ({run['fps'] / cpu[min(cpu)]['fps']:.2f}x 2 cores)"
        )
    for size in (UHD, HD):
        short, long = (measure(size, count, "gpu", all_cores) for count in frames)
        name = "4K" if size == UHD else "1080p"
        growth = long["peak_gpu_gib"] / short["peak_gpu_gib"]
        print(
            f"GPU, {name}: {long['fps']:.1f} fps (target >= {TARGET_FPS[size]:.0f}); peak GPU memory "
            f"{short['peak_gpu_gib']:.2f} GiB at {frames[0]} frames, {long['peak_gpu_gib']:.2f} at {frames[1]}: "
            f"{growth:.2f}x (target <= {FLAT})"
        )
        crossing = long["planes_up"] + long["planes_down"]
        print(
            f"GPU, {name}: {long['planes_up']:.1f} planes a frame up, {long['planes_down']:.1f} down "
            f"(target <= {TRAFFIC_PLANES:.0f} in all)"
        )
        misses += [f"{name} fps"] * (long["fps"] < TARGET_FPS[size]) + [f"{name} GPU memory"] * (growth > FLAT)
        misses += [f"{name} crossings"] * (crossing > TRAFFIC_PLANES)
        if size == HD:
            speedup = long["fps"] / cpu[max(cpu)]["fps"]
            print(f"GPU / CPU path at {max(cpu)} cores, 1080p: {speedup:.1f}x (target >= {SPEEDUP:.0f})")
            misses += ["speed-up over the CPU path"] * (speedup < SPEEDUP)
    return misses


def without_gpu(size: tuple[int, int], frames: int) -> None:
    """The device path on the CPU device beside the CPU path, at a small size."""
    cores = min(2, len(os.sched_getaffinity(0)))
    cpu, device = (measure(size, frames, mode, cores) for mode in ("cpu", "device-on-cpu"))
    print(
        f"{size[0]}x{size[1]}, {frames} frames, {cores} cores: CPU path {cpu['fps']:.2f} fps, device path on the CPU "
        f"device {device['fps']:.2f} fps ({device['fps'] / cpu['fps']:.2f}x)"
    )
    print(
        f"resident chain on the CPU device: {device['planes_up']:.1f} planes a frame up, {device['planes_down']:.1f} "
        f"down (CPU path: {cpu['planes_up'] + cpu['planes_down']:.0f})"
    )
    print("NOT MEASURED: no CUDA device here, so the GPU targets (4K >= 24 fps, 1080p >= 60 fps, >= 20x the CPU path,")
    print("flat GPU memory) were not measured. Run this on a machine with a GPU.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=6, help=argparse.SUPPRESS)
    parser.add_argument("--frames", type=int, nargs=2, default=[48, 96], help="the two GPU clip lengths")
    parser.add_argument("--cpu-frames", type=int, default=24)
    parser.add_argument("--small", default="320x180", help="the size run without a GPU")
    args = parser.parse_args()
    if args.child:
        plate, element, frames, mode, cores, shape = args.child
        width, height = (int(side) for side in shape.split("x"))
        child(Path(plate), Path(element), int(frames), mode, int(cores), (width, height))
        return
    import torch

    print(f"load average {psutil.getloadavg()[0]:.2f}")
    if not torch.cuda.is_available():
        width, height = (int(side) for side in args.small.split("x"))
        without_gpu((width, height), args.cpu_frames)
        raise SystemExit(NOT_MEASURED)
    misses = gpu_targets(tuple(args.frames), args.cpu_frames)
    if misses:
        raise SystemExit(f"targets missed: {', '.join(misses)}")
    print("targets met")


if __name__ == "__main__":
    main()
