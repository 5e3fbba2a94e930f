"""How often the consistency search's early pick equals the full best-of-N pick, with real Wan weights.

For each trial (base seed ``--seed`` + trial × N), N candidates of one shot are rendered to the end exactly as
World Shot Sampler renders them; while they sample, each candidate's x0 prediction is judged at every step
of ``--fractions`` exactly as the search judges it (same preview decoder, frames, size and early score),
and each finished candidate is scored as the full best-of-N scores it. Reported per check fraction, over
all trials:

- top-1 agreement: the early best is the full best;
- kept-best rate for each keep in ``--keeps``: the full best is among the early top-k (what a check
  keeping k candidates needs);
- the mean Spearman rank correlation between early and full scores.

Use it to choose a schedule: a check at fraction f keeping k is safe when the kept-best rate at (f, k) is
near 1. Random weights make every number meaningless; ``--random-weights`` only smoke-tests the script.

    python benchmarks/search_agreement.py --unet wan2.1_t2v_1.3B_fp16.safetensors \\
        --text-encoder umt5_xxl_fp8_e4m3fn_scaled.safetensors --vae wan_2.1_vae.safetensors \\
        --reference toy.png --prompt "the toy leans against the curb" --candidates 8 --trials 8 \\
        [--clip-vision clip_vision_h.safetensors] [--json agreement.json]
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
from pathlib import Path

import numpy as np
import torch
from bench_sampler import StandInTextEncoder, load_pack, random_wan_t2v
from scipy.stats import spearmanr

from worldkit.models.shared.wan import WAN_2_1
from worldkit.tools.tiny_wan import exact_shot


def load_models(args):
    """(model, vae, clip, clip_vision) from files, or random-weight stand-ins for a smoke run."""
    import comfy.clip_vision
    import comfy.sd
    import comfy.utils

    if args.random_weights:
        from bench_references import tiny_wan_vae

        device = "cuda" if torch.cuda.is_available() else "cpu"
        return random_wan_t2v(128, 2, 2), tiny_wan_vae(device), StandInTextEncoder(), None
    model = comfy.sd.load_diffusion_model(args.unet)
    clip = comfy.sd.load_clip(ckpt_paths=[args.text_encoder], clip_type=comfy.sd.CLIPType.WAN)
    vae = comfy.sd.VAE(sd=comfy.utils.load_torch_file(args.vae))
    vision = comfy.clip_vision.load(args.clip_vision) if args.clip_vision else None
    return model, vae, clip, vision


def load_world(paths: list[str], size: tuple[int, int]):
    """One entity per reference image (ref1, ref2, …); a seeded random picture when none is given."""
    entities = importlib.import_module("worldkit.models.world.entities")
    references = {}
    for index, path in enumerate(paths or [None], start=1):
        if path is None:
            views = torch.rand(1, size[1], size[0], 3, generator=torch.Generator().manual_seed(index))
        else:
            from PIL import Image

            image = Image.open(path).convert("RGB")
            views = torch.from_numpy(np.asarray(image, dtype=np.float32) / 255.0)[None]
        name = f"ref{index}"
        references[name] = entities.Reference(name, "object", f"reference {index}", views)
    return entities.World(references)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("--unet", "--text-encoder", "--vae", "--clip-vision"):
        parser.add_argument(name)
    parser.add_argument("--reference", action="append", default=[], help="an entity's reference image; repeatable")
    parser.add_argument("--prompt", default="the toy leans against the curb")
    parser.add_argument("--width", type=int, default=832)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--frames", type=int, default=WAN_2_1.native_frames)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--cfg", type=float, default=5.0)
    parser.add_argument("--sampler", default="uni_pc")
    parser.add_argument("--scheduler", default="simple")
    parser.add_argument("--candidates", type=int, default=8)
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fractions", default="0.1,0.2,0.3,0.4,0.5,0.6")
    parser.add_argument("--keeps", default="1,2")
    parser.add_argument("--json", help="also write the per-trial scores and the summary here")
    parser.add_argument("--random-weights", action="store_true", help="smoke-test with random models (no meaning)")
    args = parser.parse_args()
    if not args.random_weights and not (args.unet and args.text_encoder and args.vae):
        parser.error("give --unet, --text-encoder and --vae (or --random-weights for a smoke run)")
    return args


def render_trial(pipeline, model, shot, settings, seeds, check_steps, references):
    """(early scores [fraction][candidate], full scores [candidate]) for one trial's candidates.

    ``model`` is what the node samples with at reference attention 0: the loaded model itself.
    """
    ksampling = importlib.import_module("worldkit.nodes.runtime.ksampling")
    candidate = importlib.import_module("worldkit.models.sampling.candidate")
    bound = pipeline.bind(shot, None, shot.frame_count, 0, None)
    judge = candidate.early_judge(pipeline.search, int(bound.trim_latent_frames), references)
    early = [[] for _ in check_steps]
    full = []
    for seed in seeds:

        def capture(step, denoised, x, total):
            for row, check in enumerate(check_steps):
                if step + 1 == check:
                    early[row].append(judge(denoised))

        latent = ksampling.sample_latent(model, bound.latent, bound.positive, bound.negative, seed, settings, capture)
        frames = pipeline.decode(candidate.trim_latent(latent, int(bound.trim_latent_frames)))
        score = pipeline.score(frames, references)
        full.append(float(score.overall if hasattr(score, "overall") else score))
    return early, full


def summarise(fractions, steps, keeps, trials):
    rows = []
    for row, (fraction, step) in enumerate(zip(fractions, steps, strict=True)):
        top1, kept, correlations = 0, dict.fromkeys(keeps, 0), []
        for early_rows, full in trials:
            early = early_rows[row]
            best = max(range(len(full)), key=lambda i: (full[i], -i))
            ranked = sorted(range(len(early)), key=lambda i: (-early[i], i))
            top1 += ranked[0] == best
            for keep in keeps:
                kept[keep] += best in ranked[:keep]
            correlation = spearmanr(early, full).statistic
            if not math.isnan(correlation):
                correlations.append(float(correlation))
        count = len(trials)
        rows.append(
            {
                "fraction": fraction,
                "step": step,
                "top1_agreement": top1 / count,
                "kept_best_rate": {str(keep): kept[keep] / count for keep in keeps},
                "spearman_mean": float(np.mean(correlations)) if correlations else None,
            }
        )
    return rows


def main() -> None:
    args = parse_args()
    torch.set_grad_enabled(False)
    load_pack("pytorch")
    search = importlib.import_module("worldkit.models.sampling.search")
    runtime = importlib.import_module("worldkit.nodes.runtime.shot_sampling")
    progress = importlib.import_module("worldkit.nodes.runtime.progress")
    shots = importlib.import_module("worldkit.models.shots.shot")
    files = importlib.import_module("worldkit.models.shared.files")
    model, vae, clip, vision = load_models(args)
    size = (args.width, args.height)
    world = load_world(args.reference, size)
    shot = shots.Shot(
        prompt=args.prompt,
        entities=tuple(shots.ShotEntity(name) for name in world.references),
        **exact_shot(args.frames, *size),
    )
    settings = importlib.import_module("worldkit.nodes.runtime.ksampling").SamplerSettings(
        args.sampler, args.scheduler, args.steps, args.cfg, 1.0
    )
    models = runtime.ShotModels(model, vae, clip, world, vision)
    pipeline = runtime.make_pipeline(
        models,
        settings,
        0.0,
        max(WAN_2_1.native_frames, args.frames),
        9,
        progress.NodeProgress(1),
        search.parse_search("1@0.5"),
    )
    if pipeline.search is None:
        raise SystemExit("this model's latents have no preview decoder, so the search cannot judge them")
    fractions = [float(value) for value in args.fractions.split(",")]
    keeps = [int(value) for value in args.keeps.split(",")]
    steps = [search.check_steps(search.SearchSchedule((search.Check(f, 1),)), args.steps, 2)[0][0] for f in fractions]
    references = list(pipeline.references(shot))
    trials = []
    for trial in range(args.trials):
        seeds = [args.seed + trial * args.candidates + index for index in range(args.candidates)]
        trials.append(render_trial(pipeline, model, shot, settings, seeds, steps, references))
        print(f"trial {trial + 1}/{args.trials}: full scores {[round(s, 4) for s in trials[-1][1]]}", flush=True)
    rows = summarise(fractions, steps, keeps, trials)
    print(f"{args.candidates} candidates x {args.trials} trials, {args.steps} steps, {args.sampler}/{args.scheduler}")
    for row in rows:
        kept = ", ".join(f"top-{keep} {rate:.2f}" for keep, rate in row["kept_best_rate"].items())
        spearman = "n/a" if row["spearman_mean"] is None else f"{row['spearman_mean']:.3f}"
        print(
            f"fraction {row['fraction']:g} (step {row['step']}): top-1 agreement {row['top1_agreement']:.2f}; "
            f"full best kept: {kept}; Spearman {spearman}"
        )
    if args.random_weights:
        print("random weights: these numbers say nothing about real models")
    if args.json:
        text = json.dumps({"summary": rows, "trials": trials, "arguments": vars(args)}, indent=2)
        files.write_text_atomically(Path(args.json), text)


if __name__ == "__main__":
    main()
