"""Encode a 5-entity world (3 views each, 1280x720 sources) with a tiny Wan 2.1 VAE, then re-run it unchanged.

The re-run rebuilds the references from the same pixels (as ComfyUI does when a graph is queued
again after an upstream edit) and must encode zero views: the encoding cache answers. Prints the
time of each pass and their ratio; exits non-zero if the unchanged re-run encoded anything.

    COMFYUI_PATH=/opt/ComfyUI python benchmarks/bench_references.py [--width 1280 --height 720]
"""

from __future__ import annotations

import argparse
import sys
import time

import torch
from comfyui_host import import_comfyui, seeded_wan_vae

from worldkit.models.world.encoding import clear_cache, encode_world
from worldkit.models.world.entities import World
from worldkit.models.world.preprocess import PreprocessSettings, build_reference

ENTITIES = (
    ("skunk", "character"),
    ("ranger", "character"),
    ("lantern", "object"),
    ("night forest", "location"),
    ("ink wash", "style"),
)
VIEWS = 3
SOURCE_WIDTH, SOURCE_HEIGHT = 1280, 720


def tiny_wan_vae(device: str):
    """ComfyUI's own Wan 2.1 VAE class at a tiny width (8), with seeded weights."""
    import_comfyui()
    import comfy.cli_args

    comfy.cli_args.args.cpu = device == "cpu"
    return seeded_wan_vae(dim=8, seed=0)


def source_images(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Three 1280x720 views of a bright shape on a gradient, and its masks."""
    generator = torch.Generator().manual_seed(seed)
    ys = torch.linspace(0, 1, SOURCE_HEIGHT).view(-1, 1)
    xs = torch.linspace(0, 1, SOURCE_WIDTH).view(1, -1)
    images, masks = [], []
    for view in range(VIEWS):
        centre_x, centre_y = 0.3 + 0.2 * view, 0.4 + 0.1 * torch.rand(1, generator=generator).item()
        inside = ((xs - centre_x) ** 2 / 0.02 + (ys - centre_y) ** 2 / 0.05) < 1.0
        ground = torch.stack([xs.expand(SOURCE_HEIGHT, -1), ys.expand(-1, SOURCE_WIDTH), 0.5 * (xs + ys)], dim=-1)
        colour = torch.rand(3, generator=generator)
        images.append(torch.where(inside.unsqueeze(-1), colour, ground))
        masks.append(inside.float())
    return torch.stack(images), torch.stack(masks)


def build_world(sources: dict[str, tuple[torch.Tensor, torch.Tensor]], settings: PreprocessSettings) -> World:
    return World.from_labelled(
        (
            name,
            build_reference(
                name,
                kind,
                f"the {name}",
                sources[name][0],
                sources[name][1] if kind in ("character", "object") else None,
                settings,
            ),
        )
        for name, kind in ENTITIES
    )


def timed_pass(sources, settings, vae, width: int, height: int) -> tuple[float, float, dict]:
    """(seconds preparing, seconds encoding, stats) for building and encoding the world once."""
    start = time.perf_counter()
    world = build_world(sources, settings)
    prepared = time.perf_counter()
    _, stats = encode_world(world, vae, width, height)
    return prepared - start, time.perf_counter() - prepared, stats.as_dict()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=1280, help="encoding (shot) width")
    parser.add_argument("--height", type=int, default=720, help="encoding (shot) height")
    parser.add_argument("--device", choices=("cpu", "auto"), default="cpu")
    args = parser.parse_args()

    vae = tiny_wan_vae(args.device)
    settings = PreprocessSettings(width=args.width, height=args.height)
    sources = {name: source_images(seed) for seed, (name, _) in enumerate(ENTITIES)}
    clear_cache()
    cold_prep, cold_encode, cold = timed_pass(sources, settings, vae, args.width, args.height)
    warm_prep, warm_encode, warm = timed_pass(sources, settings, vae, args.width, args.height)

    views = len(ENTITIES) * VIEWS
    print(
        f"world: {len(ENTITIES)} entities x {VIEWS} views, sources {SOURCE_WIDTH}x{SOURCE_HEIGHT}, "
        f"encoded at {args.width}x{args.height}, tiny Wan 2.1 VAE (dim 8) on {vae.device}"
    )
    print(
        f"first run:     prepare {cold_prep:7.3f} s  encode {cold_encode:7.3f} s  views encoded {cold['vae_encoded']}"
    )
    print(
        f"unchanged run: prepare {warm_prep:7.3f} s  encode {warm_encode:7.3f} s  views encoded {warm['vae_encoded']}"
        f"  (cache hits {warm['cache_hits']})"
    )
    print(f"encode ratio first / unchanged: {cold_encode / warm_encode:.1f}x")
    print(f"whole-node ratio (prepare + encode): {(cold_prep + cold_encode) / (warm_prep + warm_encode):.1f}x")
    if cold["vae_encoded"] != views or warm["vae_encoded"] != 0:
        print(f"FAIL: expected {views} encodes then 0, got {cold['vae_encoded']} then {warm['vae_encoded']}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
