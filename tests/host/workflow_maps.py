"""How the host tier runs the shipped workflows on the CPU in seconds: two documented maps.

TINY_MODEL_ROLES: each real model file a workflow names -> the tiny_models fixture role that replaces it
(same architecture family, random weights). ATI and Wan-Move are Wan 2.1 image-to-video DiTs, so the tiny
I2V model stands in for both; the tiny VACE model for both VACE sizes, the tiny Animate model for both Animate
files, and a tiny rank-4 LoRA on the blocks' attention for the step-distillation and relighting LoRAs. Each Wan 2.2
file has its own tiny twin: every A14B expert (Fun VACE, T2V, I2V, high and low), TI2V-5B and the Wan 2.2 VAE.

PREVIEW_SETTINGS: per node class, the inputs set to tiny values (64x64 frames, 9 frames a shot, 2 sampling
steps, a Wan 2.2 expert pair switching after the first; a shot already shorter, like a one-frame still, keeps its
length; a plate cut to a shot's frames is cut to 9). A value may be a function of the current one. Only inputs
that hold a value in the workflow are changed, never a connected input.
"""

from __future__ import annotations

from typing import Any

from worldkit.headless.overrides import Override

PREVIEW_SIZE = 64
PREVIEW_FRAMES = 9
PREVIEW_STEPS = 2
PREVIEW_SWITCH = 1  # the step a Wan 2.2 A14B pair's low-noise expert starts at
LAST_STEP = 10000  # KSamplerAdvanced's end_at_step for "to the end"


def _preview_switch(step: int) -> int:
    """A KSamplerAdvanced pair's start or end step: the switch between its experts moved to PREVIEW_SWITCH."""
    return step if step in (0, LAST_STEP) else PREVIEW_SWITCH


TINY_MODEL_ROLES = {
    "wan2.1_vace_14B_fp16.safetensors": "wan_vace",
    "wan2.1_vace_1.3B_fp16.safetensors": "wan_vace",
    "Wan21_T2V_14B_lightx2v_cfg_step_distill_lora_rank32.safetensors": "lora",
    "Wan2_1-I2V-ATI-14B_fp8_e4m3fn.safetensors": "wan_i2v",
    "Wan21-WanMove_fp8_scaled_e4m3fn_KJ.safetensors": "wan_i2v",
    "wan2.2_animate_14B_bf16.safetensors": "wan_animate",
    "Wan2_2-Animate-14B_fp8_e4m3fn_scaled_KJ.safetensors": "wan_animate",
    "WanAnimate_relight_lora_fp16.safetensors": "lora",
    "umt5_xxl_fp8_e4m3fn_scaled.safetensors": "umt5",
    "wan_2.1_vae.safetensors": "vae",
    "clip_vision_h.safetensors": "clip_vision",
    "wan2.2_fun_vace_high_noise_14B_fp8_scaled.safetensors": "wan22_vace_high",
    "wan2.2_fun_vace_low_noise_14B_fp8_scaled.safetensors": "wan22_vace_low",
    "wan2.2_t2v_high_noise_14B_fp8_scaled.safetensors": "wan22_t2v_high",
    "wan2.2_t2v_low_noise_14B_fp8_scaled.safetensors": "wan22_t2v_low",
    "wan2.2_i2v_high_noise_14B_fp8_scaled.safetensors": "wan22_i2v_high",
    "wan2.2_i2v_low_noise_14B_fp8_scaled.safetensors": "wan22_i2v_low",
    "wan2.2_ti2v_5B_fp16.safetensors": "wan22_ti2v",
    "wan2.2_vae.safetensors": "wan22_vae",
}

_SIZE = {"width": PREVIEW_SIZE, "height": PREVIEW_SIZE}
_SHOT = {"resolution": "custom", **_SIZE, "duration": "frames", "frames": lambda frames: min(frames, PREVIEW_FRAMES)}
PREVIEW_SETTINGS: dict[str, dict[str, Any]] = {
    "UNETLoader": {"weight_dtype": "default"},
    "WorldKitReference": _SIZE,
    "WorldKitEncodeReferences": _SIZE,
    "WorldKitPreviewWorld": {"cell_width": PREVIEW_SIZE},
    "WorldKitShot": _SHOT,
    "WorldKitCoverage": _SHOT,
    "WorldKitWorldShotSampler": {
        "steps": PREVIEW_STEPS,
        "native_frames": PREVIEW_FRAMES,
        "overlap_frames": 1,
        "switch_step": lambda step: step and PREVIEW_SWITCH,  # 0 (Wan 2.2's rule) stays 0
    },
    "WorldKitTrajectoryKeypoints": {**_SIZE, "num_frames": PREVIEW_FRAMES},
    "WorldKitImportTracks": {**_SIZE, "num_frames": PREVIEW_FRAMES},
    "KSampler": {"steps": PREVIEW_STEPS},
    "KSamplerAdvanced": {"steps": PREVIEW_STEPS, "start_at_step": _preview_switch, "end_at_step": _preview_switch},
    "RepeatImageBatch": {"amount": PREVIEW_FRAMES},
    "ImageScale": _SIZE,
    "ImageFromBatch": {"length": lambda frames: min(frames, PREVIEW_FRAMES)},
}


def tiny_renames(tiny_models: dict[str, str]) -> dict[str, str]:
    return {name: tiny_models[role] for name, role in TINY_MODEL_ROLES.items()}


def preview_overrides(prompt: dict[str, dict]) -> list[Override]:
    """--set style edits that shrink every node PREVIEW_SETTINGS names."""
    edits = []
    for node_id, entry in prompt.items():
        for name, value in PREVIEW_SETTINGS.get(entry["class_type"], {}).items():
            current = entry["inputs"].get(name)
            if name in entry["inputs"] and not (isinstance(current, list) and len(current) == 2):
                edits.append(Override(node_id, name, value(current) if callable(value) else value))
    return edits


GREEN_SCREEN = 0x00B140
ELEMENT_COLOUR = 0xC07838


VIDEO_MAKERS = {"LoadVideo", "CreateVideo", "WorldKitConformFrameRate"}
"""Nodes whose first output is a VIDEO: a Chroma Key reading one keys a streamed element."""


def green_screen_stand_in(prompt: dict[str, dict]) -> dict[str, dict]:
    """Random weights render noise, not a green screen, so every Chroma Key reads a constructed clip instead:
    a warm block (the element) over pure green, PREVIEW_FRAMES frames at PREVIEW_SIZE. The keyed matte is then
    known ground truth for the GVFX chain after it.

    The branch that rendered the element still runs: its frames are laid over the clip through an all-zero
    mask, which keeps the clip exactly as constructed while making ComfyUI execute every node before it."""
    result = {node_id: {**entry, "inputs": dict(entry["inputs"])} for node_id, entry in prompt.items()}
    keyers = [node_id for node_id, entry in result.items() if entry["class_type"] == "WorldKitChromaKey"]
    for index, node_id in enumerate(keyers):
        screen, element, clip = (f"green_screen_{index}_{part}" for part in ("screen", "element", "clip"))
        result[screen] = {
            "class_type": "EmptyImage",
            "inputs": {
                "width": PREVIEW_SIZE,
                "height": PREVIEW_SIZE,
                "batch_size": PREVIEW_FRAMES,
                "color": GREEN_SCREEN,
            },
        }
        result[element] = {
            "class_type": "EmptyImage",
            "inputs": {
                "width": PREVIEW_SIZE // 3,
                "height": PREVIEW_SIZE // 2,
                "batch_size": 1,
                "color": ELEMENT_COLOUR,
            },
        }
        result[clip] = {
            "class_type": "ImageCompositeMasked",
            "inputs": {
                "destination": [screen, 0],
                "source": [element, 0],
                "x": PREVIEW_SIZE // 3,
                "y": PREVIEW_SIZE // 3,
                "resize_source": False,
            },
        }
        hidden, kept, frames = (f"green_screen_{index}_{part}" for part in ("hidden", "kept", "frames"))
        source = result[node_id]["inputs"]["image"]
        video = result[source[0]]["class_type"] in VIDEO_MAKERS
        if video:  # a streamed element: the stand-in is laid over its frames and goes on as a VIDEO
            result[frames] = {"class_type": "GetVideoComponents", "inputs": {"video": source}}
            source = [frames, 0]
        result[hidden] = {
            "class_type": "SolidMask",
            "inputs": {"value": 0.0, "width": PREVIEW_SIZE, "height": PREVIEW_SIZE},
        }
        result[kept] = {
            "class_type": "ImageCompositeMasked",
            "inputs": {
                "destination": [clip, 0],
                "source": source,
                "x": 0,
                "y": 0,
                "resize_source": True,
                "mask": [hidden, 0],
            },
        }
        result[node_id]["inputs"]["image"] = [kept, 0]
        if video:
            stand_in = f"green_screen_{index}_video"
            result[stand_in] = {"class_type": "CreateVideo", "inputs": {"images": [kept, 0], "fps": 24.0}}
            result[node_id]["inputs"]["image"] = [stand_in, 0]
    return result


def face_crops_previewed(prompt: dict[str, dict]) -> dict[str, dict]:
    """Wan Animate's face encoder takes every face crop at 512x512 through a full-size network, about 11 s a
    frame on a CPU, so the host tier's Shot Performance nodes get no face_video: the face crops go to a Preview
    Image instead, which still loads and decodes them (test_binding_performers checks the face against
    WanAnimateToVideo)."""
    result = {node_id: {**entry, "inputs": dict(entry["inputs"])} for node_id, entry in prompt.items()}
    performers = [node_id for node_id, entry in result.items() if entry["class_type"] == "WorldKitShotPerformance"]
    for node_id in performers:
        face = result[node_id]["inputs"].pop("face_video", None)
        if face is not None:
            result[f"face_crops_{node_id}"] = {"class_type": "PreviewImage", "inputs": {"images": face}}
    return result
