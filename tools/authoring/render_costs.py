"""Render-time table for the README: each demo in each variant, from its API twin and measured per-step times.

    python -m worldkit.tools.authoring.render_costs      # prints the Markdown table

Every World Shot Sampler and KSampler is followed to its model loader and its shots; shots are planned into
segments exactly as the sampler does (models/sampling/long_shot.py). Measured (docs/measurements, an H200):
a Wan 2.1 DiT sampling step at 81 frames for 1.3B/14B at 480p/720p with CFG, and the VAE decoding 81 frames.
Scaled: a step without CFG (cfg 1) is one forward, half the measured CFG step; a segment shorter than 81
frames costs its share of latent frames; 14B fp8 files and VACE's extra blocks are counted as the measured
14B T2V. EasyCache's skipped steps are not subtracted, so fast-variant times are upper bounds.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, fields
from pathlib import Path

from ...headless.catalog import CATALOG
from ...headless.model_files import needed_models
from ...models.sampling.long_shot import plan_segments
from ...models.shared.wan import WAN_2_1, latent_frame_count
from ...models.shots.coverage import SETUPS, coverage
from ...models.shots.shot import Shot, parse_entities, split_names
from .films import WORKFLOWS

PACK_DIR = Path(__file__).resolve().parents[2]
MEASUREMENTS = PACK_DIR / "docs" / "measurements" / "h200-wan21-dit-per-step.json"
MEASURED_FRAMES = WAN_2_1.native_frames  # the step and decode times were measured at Wan 2.1's native length
MEASURED_LATENT_FRAMES = latent_frame_count(MEASURED_FRAMES)
VRAM_CLASSES_GB = (8, 12, 16, 24, 32, 48, 80, 141)
SHOT_FIELDS = {f.name for f in fields(Shot)} - {"prompt", "entities"}


@dataclass(frozen=True)
class Segment:
    model: str  # "1.3B" or "14B"
    resolution: str  # "480p" or "720p"
    cfg: bool
    steps: int
    latent_frames: int
    frames: int


def _source(prompt: dict, link: list) -> dict:
    return prompt[link[0]]


def _model_size(prompt: dict, link: list) -> str:
    """Follow a MODEL link back through LoRA and cache nodes to its UNETLoader."""
    entry = _source(prompt, link)
    while entry["class_type"] != "UNETLoader":
        entry = _source(prompt, entry["inputs"]["model"])
    return CATALOG[entry["inputs"]["unet_name"]].dit


def _shot(inputs: dict) -> Shot:
    values = {k: v for k, v in inputs.items() if k in SHOT_FIELDS and not isinstance(v, list)}
    return Shot(entities=parse_entities(inputs.get("entities", "")), **values)


def _shots(prompt: dict, link: list | None) -> list[Shot]:
    """The shots a SHOT or SHOTS link carries: Shot, Shot List (with its extended list) or Coverage."""
    if link is None:
        return []
    entry = _source(prompt, link)
    inputs, kind = entry["inputs"], entry["class_type"]
    if kind == "WorldKitShot":
        return [_shot(inputs)]
    if kind == "WorldKitShotList":
        numbered = sorted((k for k in inputs if k.startswith("shot_")), key=lambda k: int(k.split("_")[1]))
        return _shots(prompt, inputs.get("shots")) + [s for k in numbered for s in _shots(prompt, inputs[k])]
    if kind == "WorldKitCoverage":
        chosen = [s for s in SETUPS if inputs.get(s.replace(" ", "_").replace("-", "_"))]
        template = _shot({k: v for k, v in inputs.items() if k != "entities"})
        return coverage(
            inputs["location"], split_names(inputs["subjects"]), template, split_names(inputs["props"]),
            inputs["action"], chosen,
        )  # fmt: skip
    raise ValueError(f"no shots from a {kind} node")


def segments(prompt: dict) -> list[Segment]:
    """Every sampled segment of the workflow, once per candidate."""
    found = []
    for entry in prompt.values():
        inputs = entry["inputs"]
        if entry["class_type"] == "WorldKitWorldShotSampler":
            shots = _shots(prompt, inputs.get("shots")) + _shots(prompt, inputs.get("shot"))
            lengths = [
                seg.frames
                for shot in shots
                for seg in plan_segments(shot.frame_count, inputs["native_frames"], inputs["overlap_frames"])
            ]
            repeats = inputs["candidates"]
        elif entry["class_type"] == "KSampler":
            bound = _source(prompt, inputs["positive"])
            shots = _shots(prompt, bound["inputs"]["shot"])
            lengths, repeats = [shots[0].frame_count], 1
        else:
            continue
        size, resolution = _model_size(prompt, inputs["model"]), f"{shots[0].height}p"
        for length in lengths * repeats:
            found.append(
                Segment(size, resolution, inputs["cfg"] > 1.0, inputs["steps"], latent_frame_count(length), length)
            )
    return found


def seconds(parts: list[Segment], measured: dict) -> float:
    total = 0.0
    for seg in parts:
        step = measured[f"{seg.model}_{seg.resolution}"]["step_with_cfg_s"] * (1.0 if seg.cfg else 0.5)
        share = seg.latent_frames / MEASURED_LATENT_FRAMES
        decode = measured[f"vae_decode_{MEASURED_FRAMES}f_{seg.resolution}_s"] * seg.frames / MEASURED_FRAMES
        total += seg.steps * step * share + decode
    return total


def vram_class(parts: list[Segment], measured: dict) -> str:
    peak = max(measured[f"{seg.model}_{seg.resolution}"]["peak_GiB"] for seg in parts)
    gigabytes = peak * 1.073741824
    return f"{next(c for c in VRAM_CLASSES_GB if c >= gigabytes)} GB (DiT peak {peak:.1f} GiB)"


def _duration(total_s: float) -> str:
    minutes = total_s / 60
    return f"{minutes / 60:.1f} h" if minutes >= 90 else f"{max(1, math.ceil(minutes))} min"


def table(workflows_dir: Path = PACK_DIR / "workflows") -> str:
    measured = json.loads(MEASUREMENTS.read_text())
    rows = [
        "| demo | variant | model files (download size) | peak VRAM class | sampling steps | on one H200 |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, (film, variant) in sorted(WORKFLOWS.items(), key=lambda item: (item[1][0], item[1][1].suffix)):
        prompt = json.loads((workflows_dir / "api" / f"{name}.json").read_text())
        parts = segments(prompt)
        files = ", ".join(f"{m.name} ({m.size or 'size not listed'})" for m in needed_models(prompt))
        steps = sum(seg.steps for seg in parts)
        rows.append(
            f"| {film} | {variant.name} | {files} | {vram_class(parts, measured)} | {steps} | "
            f"{_duration(seconds(parts, measured))} |"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    print(table())
