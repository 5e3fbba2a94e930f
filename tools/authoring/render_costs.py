"""Render-time table for the README: each demo in each variant, from its API twin and measured per-step times.

    python -m worldkit.tools.authoring.render_costs      # prints the Markdown table

Every World Shot Sampler and KSampler is followed to its model loader and its shots; shots are planned into
segments exactly as the sampler does (models/sampling/long_shot.py), and each segment's latent is led by the
reference frames its family's binder prepends (models/shots/binding). Measured (docs/measurements, an H200): a
Wan 2.1 T2V DiT step at 81 frames for 1.3B/14B at 480p/720p with CFG, the VAE decoding 81 frames, and World
Shot Sampler with and without reference attention. Derived: a step's time scales with its forward FLOPs at the
measured throughput (the FLOP count below reproduces the measured TFLOP per forward), so a segment's length,
its reference frames and VACE's extra blocks each cost their FLOPs; a step without CFG is one forward.

Scaled, not measured (no GPU has run them yet): a Wan 2.2 A14B expert has Wan 2.1 14B's shape, so its step is the
14B's; TI2V-5B's step is its forward FLOPs (its own dims, 16x VAE and 2x2 patches: 880 tokens a latent frame at
1280x704) at the measured 14B 720p throughput, its decode the measured 720p decode scaled by pixels and frames,
and its peak memory its fp16 weights plus the measured 14B activations scaled by tokens x width.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, fields
from pathlib import Path
from statistics import mean

from ...headless.catalog import CATALOG, ModelFile, total_download
from ...headless.model_files import needed_models
from ...models.sampling.long_shot import plan_segments
from ...models.shared.wan import WAN_2_1, WAN_2_2_5B, ModelRules, latent_frame_count
from ...models.shots.binding.bind import resolve_location_mode
from ...models.shots.binding.context import bound_names
from ...models.shots.coverage import SETUPS, coverage
from ...models.shots.shot import Shot, parse_entities, split_names
from .films import WORKFLOWS

PACK_DIR = Path(__file__).resolve().parents[2]
MEASUREMENTS = PACK_DIR / "docs" / "measurements"
DIT_STEPS = MEASUREMENTS / "h200-wan21-dit-per-step.json"
SAMPLER_RUNS = MEASUREMENTS / "h200-worldkit-sampler-1.3b-480p.json"
MEASURED_FRAMES = WAN_2_1.native_frames  # the step and decode times were measured at Wan 2.1's native length
MEASURED_LATENT_FRAMES = latent_frame_count(MEASURED_FRAMES)
VRAM_CLASSES_GB = (8, 12, 16, 24, 32, 48, 80, 141)
SHOT_FIELDS = {f.name for f in fields(Shot)} - {"prompt", "entities"}
TEXT_TOKENS = 512  # UMT5 context length every Wan block cross-attends to
# Families whose binder leads the latent with one frame per bound reference view (vace.py, t2v.py); the
# image-to-video families (ATI, Wan-Move) start from an image and prepend none.
REFERENCE_FRAME_FAMILIES = ("vace", "t2v")
# Families whose binder leads the latent with a fixed count of frames: Wan Animate's one latent frame of the
# character (animate.py), whatever the shot binds.
LEADING_FRAMES = {"animate": 1}
VACE_WEIGHT_BYTES = 2  # the VACE files are fp16
WEIGHT_BYTES = 2  # 16-bit weights, as measured (and as the 5B file is)
SCALED_FROM = "14B_720p"  # the measured point a DiT without its own measurement is scaled from


@dataclass(frozen=True)
class DiT:
    """A Wan 2.1 DiT's shape (the released configs) and the VACE blocks its VACE file adds.

    ComfyUI's VaceWanModel counts `vace_blocks` from the weights and runs each one after every
    (layers // vace_blocks)-th main block, on a context as long as the latent: 15 in the 1.3B file, 8 in the 14B.
    """

    dim: int
    ffn_dim: int
    layers: int
    vace_blocks: int

    def block_flops(self, tokens: int) -> float:
        """One block's forward: q, k, v, o and cross-attention q, o projections, FFN, self-attention, and
        cross-attention to the text."""
        d = self.dim
        linear = 2 * tokens * (6 * d * d + 2 * d * self.ffn_dim)
        return linear + 4 * tokens * tokens * d + 4 * tokens * TEXT_TOKENS * d

    @property
    def parameters(self) -> int:
        """The main blocks' weights: self- and cross-attention's 8 matrices and the FFN's 2, per block."""
        d = self.dim
        return self.layers * (8 * d * d + 2 * d * self.ffn_dim)

    def forward_flops(self, tokens: int, vace: bool) -> float:
        """The main blocks, plus on a VACE file its blocks and their output projections (and the first one's input)."""
        flops = self.layers * self.block_flops(tokens)
        if vace:
            projection = 2 * tokens * self.dim * self.dim
            flops += self.vace_blocks * (self.block_flops(tokens) + projection) + projection
        return flops

    @property
    def vace_parameters(self) -> int:
        """Weights the VACE blocks add (8 attention and 2 FFN matrices each, its output projection, the first
        one's input projection): their share of the file's size."""
        d = self.dim
        return self.vace_blocks * (9 * d * d + 2 * d * self.ffn_dim) + d * d


WAN_DITS = {
    "1.3B": DiT(1536, 8960, 30, vace_blocks=15),
    "14B": DiT(5120, 13824, 40, vace_blocks=8),  # Wan 2.1 14B and each Wan 2.2 A14B expert
    "5B": DiT(3072, 14336, 30, vace_blocks=0),  # Wan 2.2 TI2V-5B (comfy/ldm/wan's config for the 5B file)
}
DIT_RULES = {"5B": WAN_2_2_5B}  # the others are Wan 2.1's (and A14B's) 8x VAE and 2x2 patches


def frame_tokens(model: str, width: int, height: int) -> int:
    """DiT tokens per latent frame: the frame's latent pixels over the patch, per side."""
    rules: ModelRules = DIT_RULES.get(model, WAN_2_1)
    return (width // rules.size_multiple) * (height // rules.size_multiple)


@dataclass(frozen=True)
class Segment:
    model: str  # a WAN_DITS key: "1.3B", "5B" or "14B"
    resolution: str  # "480p", "720p" (or the 5B's "704p")
    cfg: bool
    steps: int
    latent_frames: int
    frames: int
    reference_frames: int = 0  # latent frames the binder prepends (sampled, trimmed before decoding)
    vace: bool = False  # a VACE file: its extra blocks run every step
    reference_attention: bool = False
    frame_tokens: int = 0  # DiT tokens per latent frame (frame_tokens)


def _source(prompt: dict, link: list) -> dict:
    return prompt[link[0]]


def _model_file(prompt: dict, link: list) -> ModelFile:
    """Follow a MODEL link back through LoRA and cache nodes to its UNETLoader's file."""
    entry = _source(prompt, link)
    while entry["class_type"] != "UNETLoader":
        entry = _source(prompt, entry["inputs"]["model"])
    return CATALOG[entry["inputs"]["unet_name"]]


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


def reference_frames(shot: Shot, family: str | None, location_as: str = "auto") -> int:
    """Latent frames the binder puts before the shot's own: one per bound entity view (one view each, as both
    samplers bind) for the families that lead with references, the character's one for Wan Animate."""
    if family in LEADING_FRAMES:
        return LEADING_FRAMES[family]
    if family not in REFERENCE_FRAME_FAMILIES:
        return 0
    return len(bound_names(shot, resolve_location_mode(family, location_as, shot)))


def is_first_expert(entry: dict) -> bool:
    """The high-noise half of a KSamplerAdvanced pair (it adds the noise): it carries the whole shot's steps."""
    return entry["class_type"] == "KSamplerAdvanced" and entry["inputs"]["add_noise"] == "enable"


def segments(prompt: dict) -> list[Segment]:
    """Every sampled segment of the workflow, once per candidate."""
    found = []
    for entry in prompt.values():
        inputs = entry["inputs"]
        if entry["class_type"] == "WorldKitWorldShotSampler":
            shots = _shots(prompt, inputs.get("shots")) + _shots(prompt, inputs.get("shot"))
            location_as, repeats = "auto", inputs["candidates"]
            planned = [
                (shot, seg.frames)
                for shot in shots
                for seg in plan_segments(shot.frame_count, inputs["native_frames"], inputs["overlap_frames"])
            ]
            attention = inputs["reference_attention"] > 0
        elif entry["class_type"] == "KSampler" or is_first_expert(entry):
            bound = _source(prompt, inputs["positive"])
            shots = _shots(prompt, bound["inputs"]["shot"])
            location_as, repeats = bound["inputs"]["location_as"], 1
            planned, attention = [(shots[0], shots[0].frame_count)], False
        else:
            continue
        model = _model_file(prompt, inputs["model"])
        for shot, length in planned * repeats:
            found.append(
                Segment(
                    model.dit,
                    f"{shot.height}p",
                    inputs["cfg"] > 1.0,
                    inputs["steps"],
                    latent_frame_count(length),
                    length,
                    reference_frames(shot, model.family, location_as),
                    model.family == "vace",
                    attention,
                    frame_tokens(model.dit, shot.width, shot.height),
                )
            )
    return found


def reference_attention_ratio(runs: dict) -> float:
    """World Shot Sampler's time with reference attention over without (two entities), as measured."""
    timed = runs["reference_attention"]
    return mean(r["s"] for r in timed if r["strength"] > 0) / mean(r["s"] for r in timed if r["strength"] == 0)


def measured_point(seg: Segment, measured: dict) -> tuple[DiT, dict]:
    """The measured T2V step the segment scales from, and the DiT it was measured on: its own model at its
    resolution, or (a DiT not measured) SCALED_FROM."""
    key = f"{seg.model}_{seg.resolution}"
    key = key if key in measured else SCALED_FROM
    return WAN_DITS[key.split("_")[0]], measured[key]


def segment_tokens(seg: Segment) -> int:
    return (seg.latent_frames + seg.reference_frames) * seg.frame_tokens


def step_seconds(seg: Segment, measured: dict, attention_ratio: float) -> float:
    """The measured T2V step at 81 frames, scaled by this segment's forward FLOPs over the measured one's."""
    measured_dit, point = measured_point(seg, measured)
    flops = WAN_DITS[seg.model].forward_flops(segment_tokens(seg), seg.vace)
    share = flops / measured_dit.forward_flops(point["tokens"], vace=False)
    step = point["step_with_cfg_s"] * (1.0 if seg.cfg else 0.5) * share
    return step * (attention_ratio if seg.reference_attention else 1.0)


def decode_seconds(seg: Segment, measured: dict) -> float:
    """The measured decode of 81 frames at the segment's resolution (the 5B's: 720p's, scaled by pixels)."""
    key = f"vae_decode_{MEASURED_FRAMES}f_{seg.resolution}_s"
    pixels = 1.0 if key in measured else seg.frame_tokens / frame_tokens("14B", 1280, 720)
    seconds_81 = measured.get(key, measured[f"vae_decode_{MEASURED_FRAMES}f_720p_s"] * pixels)
    return seconds_81 * seg.frames / MEASURED_FRAMES


def seconds(parts: list[Segment], measured: dict, attention_ratio: float) -> float:
    return sum(
        seg.steps * step_seconds(seg, measured, attention_ratio) + decode_seconds(seg, measured) for seg in parts
    )


def peak_gib(seg: Segment, measured: dict) -> float:
    """The measured T2V DiT peak, plus the VACE blocks' weights on a VACE file; a DiT not measured: its weights
    plus the measured point's activations (its peak less its weights) scaled by tokens x width."""
    dit = WAN_DITS[seg.model]
    measured_dit, point = measured_point(seg, measured)
    if measured_dit is dit:
        extra = dit.vace_parameters * VACE_WEIGHT_BYTES if seg.vace else 0
        return point["peak_GiB"] + extra / 2**30
    activations = point["peak_GiB"] - measured_dit.parameters * WEIGHT_BYTES / 2**30
    scale = segment_tokens(seg) * dit.dim / (point["tokens"] * measured_dit.dim)
    return dit.parameters * WEIGHT_BYTES / 2**30 + activations * scale


def vram_class(parts: list[Segment], measured: dict) -> str:
    peak = max(peak_gib(seg, measured) for seg in parts)
    gigabytes = peak * 1.073741824
    return f"{next(c for c in VRAM_CLASSES_GB if c >= gigabytes)} GB (DiT peak {peak:.1f} GiB)"


def _duration(total_s: float) -> str:
    minutes = total_s / 60
    return f"{minutes / 60:.1f} h" if minutes >= 90 else f"{max(1, math.ceil(minutes))} min"


def table(workflows_dir: Path = PACK_DIR / "workflows") -> str:
    measured = json.loads(DIT_STEPS.read_text())
    attention_ratio = reference_attention_ratio(json.loads(SAMPLER_RUNS.read_text()))
    rows = [
        "| demo | variant | model files (download size) | total download | peak VRAM class | sampling steps "
        "| on one H200 (estimate) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, (film, variant) in sorted(WORKFLOWS.items(), key=lambda item: (item[1][0], item[1][1].suffix)):
        prompt = json.loads((workflows_dir / "api" / f"{name}.json").read_text())
        parts, needed = segments(prompt), needed_models(prompt)
        files = ", ".join(f"{m.name} ({m.size or 'size not listed'})" for m in needed)
        steps = sum(seg.steps for seg in parts)
        rows.append(
            f"| {film} | {variant.name} | {files} | {total_download(m.size for m in needed)} | "
            f"{vram_class(parts, measured)} | {steps} | {_duration(seconds(parts, measured, attention_ratio))} |"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    print(table())
