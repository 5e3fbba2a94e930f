"""GVFX streamed from video files: the full chain (key, refine, colour, grain, light wrap, shadow, defocus, motion
blur, composite) from a decoded plate and element to a ProRes 4444 file, through the GVFX nodes as a graph runs them.

Memory: peak resident memory of the chain on a 1080p plate, 60 and 240 frames, each in a fresh process above its
own loaded baseline (ComfyUI and the pack imported): the 240-frame peak must stay within 1.1x the 60-frame one and
under 1.5 GiB above the baseline, and a 4K 48-frame run must complete.
Speed: 1280x720 through the whole chain including decode and encode, against a plain per-frame numpy/PIL
implementation of the same chain on the same frames (its output checked against ours): at least 25 fps and 5x.
Exits non-zero when a target is missed. Run from the repository root with the venv python:

    python benchmarks/bench_gvfx_stream.py [--parts memory,uhd,speed] [--memory-frames 60 240]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np
import psutil
from plain_gvfx import PARAMS, plain_chain

GIB = 1024**3
FPS = 24


def write_clip(path: Path, width: int, height: int, frames: int, element: bool) -> None:
    """A plate (a textured pan with grain) or a green-screen element (a textured disc crossing), as H.264."""
    rng = np.random.default_rng(1 if element else 0)
    texture = rng.random((height // 16 + 2, width // 16 + 2, 3)).astype(np.float32)
    big = np.kron(texture, np.ones((16, 16, 1), np.float32))
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=FPS, options={"crf": "18", "preset": "ultrafast", "g": "24"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(frames):
            t = index / max(1, frames - 1)
            if element:
                cx, cy, radius = width * (0.3 + 0.4 * t), height * 0.55, height * 0.22
                inside = np.clip(radius - np.hypot(xs - cx, ys - cy) + 0.5, 0, 1)[..., None]
                subject = np.array([0.8, 0.45, 0.25], np.float32) + 0.25 * (big[:height, :width] - 0.5)
                pixels = subject * inside + np.array([0.05, 0.72, 0.2], np.float32) * (1 - inside)
            else:
                shift = int(12 * t * 16)
                pixels = 0.25 + 0.5 * np.roll(big, -shift, axis=1)[:height, :width]
                pixels = pixels + rng.normal(0, 0.02, pixels.shape).astype(np.float32)
            frame = av.VideoFrame.from_ndarray((np.clip(pixels, 0, 1) * 255).astype(np.uint8), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())


def load_nodes():
    """ComfyUI on the path (CPU), then the GVFX nodes and core's VideoFromFile."""
    from comfyui_host import import_comfyui

    import_comfyui()
    import comfy.options

    comfy.options.enable_args_parsing(False)
    import comfy.cli_args

    comfy.cli_args.args.cpu = True
    comfy.cli_args.args.disable_metadata = True
    import folder_paths
    from comfy_api.latest import InputImpl

    from worldkit.nodes.gvfx import matching, mattes, output, placement, shading

    return folder_paths, InputImpl.VideoFromFile, mattes, matching, placement, shading, output


def our_chain(plate_path: Path, element_path: Path, out_folder: Path) -> tuple[Path, float]:
    """The GVFX nodes wired as a graph wires them, the plate and element as VIDEOs: (the ProRes file, seconds the
    nodes took before the save, which is the clip-wide measurements)."""
    import torch

    folder_paths, video, mattes, matching, placement, shading, output = load_nodes()
    folder_paths.set_output_directory(str(out_folder))
    folder_paths.set_temp_directory(str(out_folder / "temp"))
    p = PARAMS

    def node(cls, **inputs):
        return cls.execute(**inputs).args

    start = time.perf_counter()
    with torch.inference_mode():
        plate, element = video(str(plate_path)), video(str(element_path))
        key = node(mattes.WorldKitChromaKey, image=element, screen="green", **p["key"])
        refined = node(mattes.WorldKitMatteRefine, image=key[0], mask=key[1], **p["refine"])
        graded = node(
            matching.WorldKitColorMatch, element=refined[0], plate=plate, element_mask=refined[1], **p["colour"]
        )
        grained = node(matching.WorldKitGrainMatch, element=graded[0], plate=plate, **p["grain"])
        wrapped = node(matching.WorldKitLightWrap, element=grained[0], matte=refined[1], plate=plate, **p["wrap"])
        shadowed = node(shading.WorldKitContactShadow, plate=plate, matte=refined[1], **p["shadow"])
        soft = node(
            matching.WorldKitDefocusMatch, element=wrapped[0], element_mask=refined[1], plate=plate, **p["defocus"]
        )
        blurred = node(shading.WorldKitMotionBlur, element=soft[0], element_mask=soft[1], **p["blur"])
        comp = node(
            placement.WorldKitCompositeOver, plate=shadowed[0], element=blurred[0], element_mask=blurred[1], **p["over"]
        )
        measuring = time.perf_counter() - start
        output.WorldKitSaveWithAlpha.hidden = None
        saved = output.WorldKitSaveWithAlpha.execute(
            images=comp[0],
            filename_prefix="bench/comp",
            bit_depth="8",
            video="mov (ProRes 4444 with alpha, 10-bit)",
            fps=float(FPS),
            alpha=comp[1],
            sequence="none",
        )
    return out_folder / "bench" / saved.ui["video"][0]["filename"], measuring


def peak_rss() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / GIB


def child(mode: str, plate: Path, element: Path, frames: int) -> None:
    """One measurement in this (fresh) process, on clips the parent wrote; prints a JSON line."""
    import torch

    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        load_nodes()
        baseline = psutil.Process().memory_info().rss / GIB
        start = time.perf_counter()
        result, measuring = our_chain(plate, element, folder)
        seconds = time.perf_counter() - start
        report = {"baseline": baseline, "peak": peak_rss(), "seconds": seconds, "fps": frames / seconds}
        report["measuring"], report["pass_fps"] = measuring, frames / (seconds - measuring)
        if mode == "speed":
            report["check"] = check_against_plain(plate, element, result)
        print(json.dumps(report))


def check_against_plain(plate: Path, element: Path, ours: Path, frames: int = 4) -> dict:
    """The plain chain on the first frames; its composites against ours (after a blur that evens out the grain,
    which both draw at random)."""
    import cv2

    def decoded(path: Path, count: int) -> list[np.ndarray]:
        with av.open(str(path)) as container:
            out = []
            for frame in container.decode(video=0):
                out.append(frame.to_ndarray(format="rgb24").astype(np.float32) / 255)
                if len(out) == count:
                    return out
        return out

    start = time.perf_counter()
    plain = plain_chain(decoded(plate, frames), decoded(element, frames))
    plain_seconds = time.perf_counter() - start
    difference = [
        float(np.abs(cv2.GaussianBlur(a, (0, 0), 2) - cv2.GaussianBlur(b.astype(np.float32), (0, 0), 2)).mean())
        for a, b in zip(decoded(ours, frames), plain, strict=True)
    ]
    return {"plain_fps": frames / plain_seconds, "mean_abs_difference": max(difference)}


def measure(mode: str, width: int, height: int, frames: int) -> dict:
    """Write the clips, then run the chain on them in a fresh process."""
    with tempfile.TemporaryDirectory() as folder:
        plate, element = Path(folder) / "plate.mp4", Path(folder) / "element.mp4"
        write_clip(plate, width, height, frames, element=False)
        write_clip(element, width, height, frames, element=True)
        command = [sys.executable, __file__, "--child", mode, str(plate), str(element), str(frames)]
        run = subprocess.run(command, capture_output=True, text=True, cwd=Path(__file__).parent)
    if run.returncode != 0:
        return {"failed": run.stderr[-2000:]}
    return json.loads(run.stdout.strip().splitlines()[-1])


def memory_targets(short_frames: int, long_frames: int) -> list[str]:
    short, long = measure("memory", 1920, 1080, short_frames), measure("memory", 1920, 1080, long_frames)
    for count, run in ((short_frames, short), (long_frames, long)):
        if "failed" in run:
            print(f"1080p {count} frames: FAILED\n{run['failed']}")
            return ["1080p run"]
    growth, above = long["peak"] / short["peak"], long["peak"] - long["baseline"]
    print(
        f"1080p memory: {short_frames} frames peak {short['peak']:.2f} GiB (baseline {short['baseline']:.2f}), "
        f"{long_frames} frames peak {long['peak']:.2f} GiB (baseline {long['baseline']:.2f}): {growth:.3f}x "
        f"(target <= 1.1), {above:.2f} GiB above the baseline (target < 1.5); {long['fps']:.2f} fps"
    )
    return ["longer/shorter peak"] * (growth > 1.1) + ["1080p above baseline"] * (above >= 1.5)


def uhd_target(frames: int) -> list[str]:
    uhd = measure("memory", 3840, 2160, frames)
    if "failed" in uhd:
        print(f"4K {frames} frames: FAILED\n{uhd['failed']}")
        return ["4K run"]
    print(
        f"4K {frames} frames: completed, peak {uhd['peak']:.2f} GiB (baseline {uhd['baseline']:.2f}), "
        f"{uhd['fps']:.2f} fps"
    )
    return []


def speed_targets(frames: int) -> list[str]:
    speed = measure("speed", 1280, 720, frames)
    if "failed" in speed:
        print(f"720p run: FAILED\n{speed['failed']}")
        return ["720p run"]
    check = speed["check"]
    ratio = speed["fps"] / check["plain_fps"]
    print(
        f"720p whole chain with decode and encode, {frames} frames: {speed['fps']:.2f} fps (target >= 25; "
        f"{speed['measuring']:.2f} s of clip-wide measurements, then the pass at {speed['pass_fps']:.2f} fps); plain "
        f"numpy/PIL {check['plain_fps']:.2f} fps; {ratio:.1f}x (target >= 5); outputs differ by "
        f"{check['mean_abs_difference']:.4f} mean abs after a 2 px blur (check < 0.03)"
    )
    return (
        ["720p fps"] * (speed["fps"] < 25)
        + ["speed-up"] * (ratio < 5)
        + ["plain output check"] * (check["mean_abs_difference"] >= 0.03)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--parts", default="memory,uhd,speed", help="which measurements, comma separated")
    parser.add_argument("--memory-frames", type=int, nargs=2, default=[60, 240])
    parser.add_argument("--uhd-frames", type=int, default=48)
    parser.add_argument("--speed-frames", type=int, default=240, help="a 10 s plate, as the memory run's")
    args = parser.parse_args()
    if args.child:
        mode, plate, element, frames = args.child
        child(mode, Path(plate), Path(element), int(frames))
        return
    print(f"CPU: {psutil.cpu_count()} logical cores, load average {psutil.getloadavg()[0]:.2f}")
    parts, misses = args.parts.split(","), []
    if "memory" in parts:
        misses += memory_targets(*args.memory_frames)
    if "uhd" in parts:
        misses += uhd_target(args.uhd_frames)
    if "speed" in parts:
        misses += speed_targets(args.speed_frames)
    print(f"load average after: {psutil.getloadavg()[0]:.2f}")
    if misses:
        raise SystemExit(f"targets missed: {', '.join(misses)}")
    print("targets met")


if __name__ == "__main__":
    main()
