"""Consistency search cost, measured side by side in one run with a random-weight Wan 2.1 model.

Three World Shot Sampler runs on the same shot, world and seed:
1. one candidate (the baseline),
2. full best-of-4 (``search`` off: every candidate rendered, decoded and scored),
3. the search with 4 candidates (``--search``, by default the node's default schedule).
Target: the search costs at most 1.8 × one candidate. The run also checks that the search's winner is
bit-identical to a lone render of the winning seed, and that full best-of-4 and the search agree with the
scores they report.

On a CPU, times are this process's CPU seconds (``--threads 1`` by default, so a busy machine does not skew
them), the best of ``--repeats`` rounds with the order rotated. On a GPU they are wall seconds after a
device synchronise. A Wan 2.1 1.3B-sized run at 832×480×81:

    python benchmarks/bench_search.py --dim 1536 --layers 30 --heads 12 --width 832 --height 480 \\
        --frames 81 --steps 30 --repeats 1

    COMFYUI_PATH=/opt/ComfyUI python benchmarks/bench_search.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import importlib
import time

import torch
from bench_references import tiny_wan_vae
from bench_sampler import StandInTextEncoder, load_pack, random_wan_t2v, run_ours

from worldkit.tools.tiny_wan import exact_shot

TARGET = 1.8
CANDIDATES = 4
SEED = 100


def make_world(size: tuple[int, int]):
    """One entity whose reference is a seeded random picture at the shot's size."""
    entities = importlib.import_module("worldkit.models.world.entities")
    generator = torch.Generator().manual_seed(7)
    views = torch.rand(1, size[1] // 8, size[0] // 8, 3, generator=generator)
    views = torch.nn.functional.interpolate(views.movedim(-1, 1), size=(size[1], size[0])).movedim(1, -1)
    return entities.World({"toy": entities.Reference("toy", "object", "a wooden toy", views)})


def make_shot(frames: int, size: tuple[int, int]):
    shot = importlib.import_module("worldkit.models.shots.shot")
    return shot.Shot(
        prompt="the toy leans against the curb",
        entities=(shot.ShotEntity("toy"),),
        **exact_shot(frames, *size),
    )


def render(models, shot, world, steps: int, seed: int, candidates: int, search: str):
    """(frames, the shot's report) from World Shot Sampler with uni_pc (a multistep sampler) at cfg 5."""
    model, vae, clip = models
    frames, report = run_ours(
        None,
        model,
        vae,
        clip,
        world,
        shot,
        seed,
        steps,
        5.0,
        candidates=candidates,
        search=search,
        sampler_name="uni_pc",
    )
    return frames, report["shots"][0]


def timed(function, *args):
    """(seconds, result): CPU seconds of this process on a CPU, wall seconds after a synchronise on a GPU."""
    cuda = torch.cuda.is_available()
    clock = time.perf_counter if cuda else time.process_time
    if cuda:
        torch.cuda.synchronize()
    start = clock()
    result = function(*args)
    if cuda:
        torch.cuda.synchronize()
    return clock() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--heads", type=int, default=3)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--height", type=int, default=128)
    parser.add_argument("--frames", type=int, default=33)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument(
        "--search", default=None, help="preset (careful, fast) or schedule to measure (default: the node's default)"
    )
    args = parser.parse_args()
    torch.set_grad_enabled(False)
    torch.set_num_threads(args.threads)
    load_pack("pytorch")
    search_module = importlib.import_module("worldkit.models.sampling.search")
    schedule = args.search or search_module.DEFAULT_SEARCH
    device = "cuda" if torch.cuda.is_available() else "cpu"
    models = (random_wan_t2v(args.dim, args.layers, args.heads), tiny_wan_vae(device), StandInTextEncoder())
    size = (args.width, args.height)
    shot, world = make_shot(args.frames, size), make_world(size)
    runs = {
        "one candidate": (1, "off"),
        f"full best-of-{CANDIDATES}": (CANDIDATES, "off"),
        f"search {CANDIDATES} ({schedule})": (CANDIDATES, schedule),
    }
    render(models, shot, world, 1, SEED, 1, "off")  # warm-up: model loading, prompt encoding
    times: dict[str, list[float]] = {name: [] for name in runs}
    results = {}
    for repeat in range(args.repeats):
        names = list(runs)
        for name in names[repeat % len(names) :] + names[: repeat % len(names)]:
            candidates, search = runs[name]
            seconds, results[name] = timed(render, models, shot, world, args.steps, SEED, candidates, search)
            times[name].append(seconds)
    one, full, searched = (min(times[name]) for name in runs)
    frames, report = results[list(runs)[2]]
    lone, _ = render(models, shot, world, args.steps, report["chosen_seed"], 1, "off")
    if not torch.equal(frames, lone):
        raise SystemExit("the search's winner differs from a lone render of its seed")
    full_report = results[list(runs)[1]][1]
    print(f"device {device}; {args.width}x{args.height}x{args.frames}, {args.steps} steps, dim {args.dim}")
    print(f"one candidate {one:.2f} s; full best-of-{CANDIDATES} {full:.2f} s ({full / one:.2f} x)")
    for check in report["search"]["checks"]:
        scores = ", ".join("-" if value is None else f"{value:.3f}" for value in check["early_scores"])
        print(f"  check at step {check['step']}: early scores [{scores}] -> survivors {check['survivors']}")
    print(
        f"  full best-of-{CANDIDATES} picked candidate {full_report['chosen']}, the search picked "
        f"{report['chosen']} (random weights: agreement means nothing here; see search_agreement.py)"
    )
    ratio = searched / one
    verdict = "PASS" if ratio <= TARGET else "FAIL"
    print(
        f"search with {CANDIDATES} candidates {searched:.2f} s; ratio {ratio:.3f} x one candidate "
        f"(target <= {TARGET}) {verdict}; winner identical to its lone render: yes"
    )
    if ratio > TARGET:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
