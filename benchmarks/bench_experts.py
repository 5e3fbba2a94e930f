"""World Shot Sampler on Wan 2.2's two experts against ComfyUI's own two-expert template, side by side in one run.

Ours: World Shot Sampler (1 candidate, reference attention 0) with ``model`` and ``low_noise_model`` and the
switch at Wan 2.2's rule. The template: CLIPTextEncode ×2 + EmptyHunyuanLatentVideo + KSamplerAdvanced (high
expert, steps 0..switch, leftover noise returned) + KSamplerAdvanced (low expert, switch..end, no noise added)
+ VAEDecode on the same inputs, with the switch step ours reports. Both experts are random-weight Wan DiTs of
ComfyUI's own class and one structure, differing by seed, sized so the template's sampling takes some seconds.
Times are this process's CPU seconds (one torch thread by default) over ``--repeats`` pairs of runs, the side
that runs first alternating. The ratio judged is the median of the pairs' ratios: the two runs of a pair see the
same load, so a busy machine's drift cancels (the ratio of the best times is printed too). The run also checks
that both sides give identical frames. Target: at most 1 % slower. Exits non-zero when the target is missed.

    COMFYUI_PATH=/opt/ComfyUI python benchmarks/bench_experts.py [--repeats 9]
"""

from __future__ import annotations

import argparse
import importlib

import torch
from bench_references import tiny_wan_vae
from bench_sampler import StandInTextEncoder, load_pack, make_shot, run_ours, side_by_side, timed

from worldkit.tools.tiny_wan import QUICK_SAMPLING, randomise, wan_dit

TARGET = 1.01
FRAMES, SIZE, STEPS, CFG = 17, 128, 12, 5.0


def random_expert(seed: int):
    """One expert: a Wan T2V DiT (the A14B experts' structure, narrowed) with seeded weights, as a ModelPatcher."""
    import comfy.sd

    return comfy.sd.load_diffusion_model_state_dict(randomise(wan_dit("wan_t2v", 384, 4, 3), seed=seed))


def run_template(high, low, vae, clip, prompt: str, negative: str, seed: int, switch: int):
    """ComfyUI's two-expert template graph's nodes, called as the executor calls them."""
    from comfy_extras.nodes_hunyuan import EmptyHunyuanLatentVideo

    import nodes

    positive = nodes.CLIPTextEncode().encode(clip, prompt)[0]
    negative = nodes.CLIPTextEncode().encode(clip, negative)[0]
    latent = EmptyHunyuanLatentVideo.execute(SIZE, SIZE, FRAMES, 1).args[0]
    sampling = dict(cfg=CFG, sampler_name=QUICK_SAMPLING["sampler_name"], scheduler=QUICK_SAMPLING["scheduler"])
    advanced = nodes.KSamplerAdvanced()
    (first,) = advanced.sample(
        high, "enable", seed, STEPS, positive=positive, negative=negative, latent_image=latent,
        start_at_step=0, end_at_step=switch, return_with_leftover_noise="enable", **sampling,
    )  # fmt: skip
    (second,) = advanced.sample(
        low, "disable", seed, STEPS, positive=positive, negative=negative, latent_image=first,
        start_at_step=switch, end_at_step=10000, return_with_leftover_noise="disable", **sampling,
    )  # fmt: skip
    return nodes.VAEDecode().decode(vae, second)  # (frames,), as the node returns them


def bench(pack, repeats: int) -> bool:
    """Whether the target is met."""
    world = importlib.import_module("worldkit.models.world.entities").World
    high, low, vae, clip = random_expert(1), random_expert(2), tiny_wan_vae("cpu"), StandInTextEncoder()
    shot = make_shot(pack, FRAMES, SIZE)
    experts = dict(low_noise_model=low, switch_step=0)
    _, report = run_ours(pack, high, vae, clip, world(), shot, 0, STEPS, CFG, **experts)  # warm-up and prompts
    switch = report["experts"]["switch_step"]
    prompt, negative = report["shots"][0]["compiled_prompt"], report["shots"][0]["compiled_negative_prompt"]
    runs = side_by_side(
        repeats,
        lambda seed: timed(run_template, high, low, vae, clip, prompt, negative, seed, switch),
        lambda seed: timed(run_ours, pack, high, vae, clip, world(), shot, seed, STEPS, CFG, **experts),
        "World Shot Sampler on two experts did not reproduce the template graph's frames",
    )
    ratio = runs.paired_ratio()
    print(
        f"two experts ({FRAMES} frames {SIZE}x{SIZE}, {STEPS} steps, switch at step {switch} by Wan 2.2's rule), "
        f"{repeats} pairs: template graph best {min(runs.baseline_s):.2f} CPU s, World Shot Sampler best "
        f"{min(runs.ours_s):.2f} CPU s (ratio of the bests {min(runs.ours_s) / min(runs.baseline_s):.4f}); "
        f"median ratio of the pairs {ratio:.4f} (target <= {TARGET}) {'PASS' if ratio <= TARGET else 'FAIL'}; "
        "frames identical: yes"
    )
    return ratio <= TARGET


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (1 keeps the ratio steady)")
    args = parser.parse_args()
    torch.set_grad_enabled(False)
    torch.set_num_threads(args.threads)
    if not bench(load_pack("pytorch"), args.repeats):
        raise SystemExit("target missed: two experts")
    print("target met")


if __name__ == "__main__":
    main()
