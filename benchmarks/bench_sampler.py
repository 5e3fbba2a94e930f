"""World Shot Sampler benchmarks, measured side by side in one run with random-weight Wan 2.1 models.

Times are this process's CPU seconds (``--threads 1`` by default, so they track the work done even on a
busy machine), the best of ``--repeats`` alternating runs.

1. Overhead: World Shot Sampler (1 candidate, reference attention 0) against ComfyUI's native path on the
   same inputs (CLIPTextEncode ×2 + EmptyHunyuanLatentVideo + KSampler + VAEDecode). The DiT is sized so
   native sampling takes at least 2 s. Target: at most 5 % slower.
2. Reference attention cost: sampling at strength 1 against plain sampling. Target: at most
   1 + 1.5 × (reference tokens / video tokens).
3. Peak memory of a 161-frame chained shot against one 81-frame segment at 64x64, each in a fresh process:
   peak resident memory above the loaded-model baseline, with the Wan 2.1 VAE at its released width so
   decoding has a realistic working set (the finished shot's pixels are the floor of the difference).
   On a GPU the same run bounds device memory, since finished pixels are kept on the CPU. Target: at most 1.2 ×.

A deterministic stand-in text encoder serves both paths (text encoding is the same call on either side).
Exits non-zero when a target is missed.

    COMFYUI_PATH=/opt/ComfyUI python benchmarks/bench_sampler.py [--repeats 5] [--skip-memory]
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import importlib
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from bench_references import tiny_wan_vae
from comfyui_host import import_comfyui, seeded_wan_vae
from process_memory import reset_peak, resident_kib

from worldkit.models.shared.wan import WAN_2_1, latent_frame_count
from worldkit.tools.tiny_wan import QUICK_SAMPLING, TEXT_DIM, exact_shot, randomise, wan_dit

TEXT_TOKENS = 24
OVERHEAD_TARGET = 1.05
MEMORY_TARGET = 1.2
MEMORY_SHOT_SIZE = 64
SEGMENT_FRAMES = WAN_2_1.native_frames  # one native segment
CHAINED_FRAMES = 2 * SEGMENT_FRAMES - 1  # 161, 10 s at 16 fps: a shot of chained segments
# Large blocks are mapped and unmapped on free, so resident memory follows live tensors instead of
# whatever glibc's heap happened to keep from earlier work.
EXACT_MALLOC = {"MALLOC_MMAP_THRESHOLD_": "65536", "MALLOC_TRIM_THRESHOLD_": "0"}


class StandInTextEncoder:
    """CLIP's two calls the conditioning nodes make, answering a fixed embedding per text.

    An instance is also a ``comfy.sd.CLIP`` (without its model), so the pack's socket checks take it for one;
    ComfyUI is imported on first use, after ``load_pack`` has set its options.
    """

    def __new__(cls) -> StandInTextEncoder:
        return object.__new__(_as_clip(cls))

    def __init__(self) -> None:
        pass

    def tokenize(self, text: str) -> str:
        return text

    def encode_from_tokens_scheduled(self, tokens: str) -> list:
        seed = int(hashlib.sha256(tokens.encode()).hexdigest()[:8], 16)
        embedding = torch.randn(1, TEXT_TOKENS, TEXT_DIM, generator=torch.Generator().manual_seed(seed)) * 0.1
        return [[embedding, {"pooled_output": None}]]


@functools.cache
def _as_clip(cls: type) -> type:
    import comfy.sd

    return type(cls.__name__, (cls, comfy.sd.CLIP), {})


def load_pack(attention: str):
    """Import the pack as ComfyUI does (a package named after its folder), with ComfyUI in-process.

    ``attention`` "pytorch" is ComfyUI's --use-pytorch-cross-attention (SDPA, what GPUs run); "default" keeps
    ComfyUI's own choice (sub-quadratic attention on a CPU).
    """
    import_comfyui()
    import comfy.cli_args

    comfy.cli_args.args.cpu = not torch.cuda.is_available()
    comfy.cli_args.args.use_pytorch_cross_attention = attention == "pytorch"
    return importlib.import_module("worldkit")


def random_wan_t2v(dim: int, layers: int, heads: int):
    """A Wan 2.1 T2V DiT of ComfyUI's own class with seeded weights, loaded as a ModelPatcher."""
    import comfy.sd

    return comfy.sd.load_diffusion_model_state_dict(randomise(wan_dit("wan_t2v", dim, layers, heads), seed=0))


def make_shot(pack, frames: int, size: int, entities: tuple = ()):
    shot_module = importlib.import_module("worldkit.models.shots.shot")
    return shot_module.Shot(
        prompt="the toy leans against the curb",
        entities=entities,
        **exact_shot(frames, size, size),
    )


def run_ours(pack, model, vae, clip, world, shot, seed: int, steps: int, cfg: float, strength: float = 0.0, **options):
    """World Shot Sampler with KSampler's euler/simple and one candidate, unless ``options`` say otherwise."""
    sampler = importlib.import_module("worldkit.nodes.sampling.shot_sampler").WorldKitWorldShotSampler
    inputs = dict(
        model=model,
        vae=vae,
        clip=clip,
        world=world,
        seed=seed,
        steps=steps,
        cfg=cfg,
        **QUICK_SAMPLING,
        candidates=1,
        reference_attention=strength,
        native_frames=WAN_2_1.native_frames,
        overlap_frames=9,
        shot=shot,
    )
    output = sampler.execute(**{**inputs, **options})
    return output.args[0], json.loads(output.args[3])


def run_native(model, vae, clip, prompt: str, negative: str, frames: int, size: int, seed: int, steps: int, cfg: float):
    from comfy_extras.nodes_hunyuan import EmptyHunyuanLatentVideo

    import nodes

    positive = nodes.CLIPTextEncode().encode(clip, prompt)[0]
    negative = nodes.CLIPTextEncode().encode(clip, negative)[0]
    latent = EmptyHunyuanLatentVideo.execute(size, size, frames, 1).args[0]
    sampling_s, (sampled,) = timed(
        nodes.common_ksampler, model, seed, steps, cfg, "euler", "simple", positive, negative, latent
    )
    return nodes.VAEDecode().decode(vae, sampled)[0], sampling_s


def timed(function, *args, **kwargs):
    """(CPU seconds of this process, result): on a shared machine, other processes do not inflate it."""
    start = time.process_time()
    result = function(*args, **kwargs)
    return time.process_time() - start, result


@dataclass
class SideBySide:
    """CPU seconds of each side's runs, in pairs, and each run's results after its frames."""

    baseline_s: list[float] = field(default_factory=list)
    ours_s: list[float] = field(default_factory=list)
    extras: list[list] = field(default_factory=list)
    our_extras: list[list] = field(default_factory=list)

    def paired_ratio(self) -> float:
        """The median of each pair's ratio: the two runs of a pair ran back to back, under the same load."""
        return statistics.median(ours / baseline for ours, baseline in zip(self.ours_s, self.baseline_s, strict=True))


def side_by_side(repeats: int, baseline: Callable[[int], tuple], ours: Callable[[int], tuple], mismatch: str):
    """``repeats`` pairs of runs (seed = repeat, the side that runs first alternating) as a SideBySide. Each side
    returns (seconds, (frames, …)); a run whose frames differ from the other side's stops with ``mismatch``."""
    runs = SideBySide()
    for repeat in range(repeats):
        order = (baseline, ours) if repeat % 2 == 0 else (ours, baseline)
        results = {id(side): side(repeat) for side in order}
        (baseline_s, (baseline_frames, *extra)), (ours_s, (our_frames, *our_extra)) = (
            results[id(baseline)],
            results[id(ours)],
        )
        if not torch.equal(baseline_frames, our_frames):
            raise SystemExit(mismatch)
        runs.baseline_s.append(baseline_s)
        runs.ours_s.append(ours_s)
        runs.extras.append(extra)
        runs.our_extras.append(our_extra)
    return runs


def bench_overhead(pack, repeats: int) -> bool:
    """Whether the overhead target is met."""
    world_module = importlib.import_module("worldkit.models.world.entities")
    model, vae, clip = random_wan_t2v(dim=384, layers=4, heads=3), tiny_wan_vae("cpu"), StandInTextEncoder()
    frames, size, steps, cfg = 33, 128, 16, 5.0
    shot = make_shot(pack, frames, size)
    _, report = run_ours(pack, model, vae, clip, world_module.World(), shot, 0, 1, cfg)  # warm-up and prompts
    prompt, negative = report["shots"][0]["compiled_prompt"], report["shots"][0]["compiled_negative_prompt"]
    run_native(model, vae, clip, prompt, negative, frames, size, 0, 1, cfg)
    runs = side_by_side(
        repeats,
        lambda seed: timed(run_native, model, vae, clip, prompt, negative, frames, size, seed, steps, cfg),
        lambda seed: timed(run_ours, pack, model, vae, clip, world_module.World(), shot, seed, steps, cfg),
        "World Shot Sampler at strength 0 did not reproduce the native path's frames",
    )
    native_s, ours_s = min(runs.baseline_s), min(runs.ours_s)
    ratio = ours_s / native_s
    print(
        f"[1] overhead: native {native_s:.2f} CPU s, World Shot Sampler {ours_s:.2f} CPU s (best of {repeats}); "
        f"ratio {ratio:.3f} (target <= {OVERHEAD_TARGET}) {'PASS' if ratio <= OVERHEAD_TARGET else 'FAIL'}; "
        f"frames identical: yes; native KSampler alone {min(extra[0] for extra in runs.extras):.2f} CPU s"
    )
    return ratio <= OVERHEAD_TARGET


def bench_reference_attention(pack, repeats: int) -> bool:
    """Whether the reference attention cost target is met."""
    import comfy.sample

    patch = importlib.import_module("worldkit.nodes.runtime.attention_patch")
    attention = importlib.import_module("worldkit.models.sampling.reference_attention")
    model = random_wan_t2v(dim=384, layers=4, heads=3)
    frames, size, steps = 33, 128, 6
    latent = torch.zeros(1, 16, latent_frame_count(frames), size // 8, size // 8)
    references = [
        torch.randn(16, 1, size // 8, size // 8, generator=torch.Generator().manual_seed(i)) for i in range(2)
    ]
    clip = StandInTextEncoder()
    positive, negative = clip.encode_from_tokens_scheduled("a toy"), clip.encode_from_tokens_scheduled("blurry")
    noise = comfy.sample.prepare_noise(latent, 0)

    def sample(patched):
        return comfy.sample.sample(
            patched, noise, steps, 5.0, "euler", "simple", positive, negative, latent, seed=0, disable_pbar=True
        )

    session = attention.ReferenceAttentionSession(1.0)
    extended = patch.apply_reference_attention(model, references, 1.0, session)
    sample(model)
    sample(extended)
    plain_times, extended_times = [], []
    for _ in range(repeats):
        plain_times.append(timed(sample, model)[0])
        extended_times.append(timed(sample, extended)[0])
    ratio = min(extended_times) / min(plain_times)
    stats = session.stats.as_dict()
    token_ratio = stats["reference_tokens"] / stats["video_tokens"]
    target = 1 + 1.5 * token_ratio
    print(
        f"[2] reference attention: {stats['reference_tokens']} reference tokens / {stats['video_tokens']} video "
        f"tokens = {token_ratio:.3f}; time ratio {ratio:.3f} (target <= {target:.3f}) "
        f"{'PASS' if ratio <= target else 'FAIL'}"
    )
    return ratio <= target


def full_width_wan_vae():
    """The Wan 2.1 VAE at its released width (base 96 channels) with seeded weights: a realistic decode working set."""
    return seeded_wan_vae(dim=96, seed=1)


def measure_memory_case(pack, frames: int) -> None:
    """Child process: peak resident memory above the baseline while rendering one shot of ``frames`` frames."""
    world_module = importlib.import_module("worldkit.models.world.entities")
    model, vae, clip = random_wan_t2v(dim=128, layers=2, heads=1), full_width_wan_vae(), StandInTextEncoder()
    size = MEMORY_SHOT_SIZE
    run_ours(pack, model, vae, clip, world_module.World(), make_shot(pack, 5, size), 0, 1, 1.0)  # load everything
    reset_peak()
    baseline = resident_kib("VmRSS")
    images, _ = run_ours(pack, model, vae, clip, world_module.World(), make_shot(pack, frames, size), 0, 2, 1.0)
    print(json.dumps({"frames": images.shape[0], "peak_above_baseline_kib": resident_kib("VmHWM") - baseline}))


def bench_memory(threads: int) -> bool:
    """Whether the chained shot's memory target is met."""
    peaks = {}
    for frames in (SEGMENT_FRAMES, CHAINED_FRAMES):
        completed = subprocess.run(
            [sys.executable, __file__, "--memory-case", str(frames), "--threads", str(threads)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, **EXACT_MALLOC},
        )
        result = json.loads(completed.stdout.strip().splitlines()[-1])
        if result["frames"] != frames:
            raise SystemExit(f"the {frames}-frame shot came back with {result['frames']} frames")
        peaks[frames] = result["peak_above_baseline_kib"]
    ratio = peaks[CHAINED_FRAMES] / peaks[SEGMENT_FRAMES]
    print(
        f"[3] peak memory above baseline ({MEMORY_SHOT_SIZE}x{MEMORY_SHOT_SIZE}): {SEGMENT_FRAMES}-frame segment "
        f"{peaks[SEGMENT_FRAMES] / 1024:.1f} MiB, {CHAINED_FRAMES}-frame chained shot "
        f"{peaks[CHAINED_FRAMES] / 1024:.1f} MiB; ratio {ratio:.3f} (target <= {MEMORY_TARGET}) "
        f"{'PASS' if ratio <= MEMORY_TARGET else 'FAIL'}"
    )
    return ratio <= MEMORY_TARGET


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads (1 keeps the side-by-side ratios steady on a busy machine)",
    )
    parser.add_argument(
        "--attention",
        choices=("pytorch", "default"),
        default="pytorch",
        help="attention kernel for both sides (default: PyTorch SDPA, as on GPUs)",
    )
    parser.add_argument("--memory-case", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_grad_enabled(False)
    torch.set_num_threads(args.threads)
    pack = load_pack(args.attention)
    import comfy.ldm.modules.attention

    print(
        f"attention kernel: {comfy.ldm.modules.attention.optimized_attention.__name__}; "
        f"torch threads: {torch.get_num_threads()}"
    )
    if args.memory_case:
        measure_memory_case(pack, args.memory_case)
        return
    results = {"overhead": bench_overhead(pack, args.repeats)}
    results["reference attention"] = bench_reference_attention(pack, args.repeats)
    if not args.skip_memory:
        results["memory"] = bench_memory(args.threads)
    missed = [name for name, met in results.items() if not met]
    if missed:
        raise SystemExit(f"targets missed: {', '.join(missed)}")
    print("targets met")


if __name__ == "__main__":
    main()
