"""Test-only nodes mounted into the host-tier ComfyUI server, never shipped with the pack.

- CaptureTestWorld builds a WORLD whose views are exactly the connected images (no preprocessing),
  so a test can hand the very same pixels to ComfyUI's native nodes and compare tensors.
- CaptureTestSaveTensors writes conditioning, a latent, an INT and images to a safetensors file in
  the output folder, flattened to "positive.0.vace_frames.0"-style keys, for the test to read back.
- CaptureTestVideo makes seeded changing frames (driving clips, face crops, plates); CaptureTestVoice makes a
  seeded audio encoder output (Whisper's or wav2vec2's shape), so HuMo's and S2V's audio paths run without a real
  audio encoder.
"""

import json
import os
import sys

import folder_paths
import torch
from safetensors.torch import save_file

CLIP_VISION_FIELDS = ("penultimate_hidden_states", "image_embeds", "last_hidden_state")
MAX_IMAGES = 4


def pack_module(relative: str):
    """A module of the mounted WorldKit pack (ComfyUI imports it under its folder path)."""
    suffix = f"worldkit.{relative}"
    for name, module in list(sys.modules.items()):
        if name.endswith(suffix) and module is not None:
            return module
    raise RuntimeError(f"the WorldKit pack's {relative} module is not loaded")


class CaptureTestWorld:
    @classmethod
    def INPUT_TYPES(cls):  # noqa: N802 (ComfyUI's V1 node API name)
        optional = {f"image_{i}": ("IMAGE",) for i in range(1, MAX_IMAGES + 1)}
        optional.update({f"mask_{i}": ("MASK",) for i in range(1, MAX_IMAGES + 1)})
        return {"required": {"entities": ("STRING", {"default": "skunk:character"})}, "optional": optional}

    RETURN_TYPES = ("WORLDKIT_WORLD",)
    FUNCTION = "build"
    CATEGORY = "testing"

    def build(self, entities, **images):
        world_module = pack_module("models.world.entities")
        references = {}
        for index, item in enumerate(entities.split(","), start=1):
            name, kind = (part.strip() for part in item.split(":"))
            mask = images.get(f"mask_{index}")
            references[name] = world_module.Reference(
                name, kind, f"the {name}", images[f"image_{index}"][..., :3], masks=mask
            )
        return (world_module.World(references),)


def flatten(value, key, tensors, scalars):
    if isinstance(value, torch.Tensor):
        tensors[key] = value.detach().to("cpu").clone().contiguous()
    elif isinstance(value, list) and len(value) == 2 and isinstance(value[1], dict):  # a [tensor, options] entry
        flatten(value[0], f"{key}.cond", tensors, scalars)
        flatten(value[1], key, tensors, scalars)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            flatten(item, f"{key}.{index}", tensors, scalars)
    elif isinstance(value, dict):
        for name, item in value.items():
            flatten(item, f"{key}.{name}", tensors, scalars)
    elif any(hasattr(value, field) for field in CLIP_VISION_FIELDS):
        for field in CLIP_VISION_FIELDS:
            if getattr(value, field, None) is not None:
                flatten(getattr(value, field), f"{key}.{field}", tensors, scalars)
    elif value is not None:
        scalars[key] = value if isinstance(value, (int, float, str, bool)) else repr(value)


class CaptureTestSaveTensors:
    @classmethod
    def INPUT_TYPES(cls):  # noqa: N802 (ComfyUI's V1 node API name)
        return {
            "required": {"name": ("STRING", {"default": "tensors"})},
            "optional": {
                "positive": ("CONDITIONING",),
                "negative": ("CONDITIONING",),
                "latent": ("LATENT",),
                "number": ("INT", {"forceInput": True}),
                "images": ("IMAGE",),
                "text": ("STRING", {"forceInput": True}),
            },
        }

    RETURN_TYPES = ()
    FUNCTION = "save"
    OUTPUT_NODE = True
    CATEGORY = "testing"

    def save(self, name, **values):
        tensors, scalars = {}, {}
        for key, value in values.items():
            flatten(value, key, tensors, scalars)
        path = os.path.join(folder_paths.get_output_directory(), f"{name}.safetensors")
        save_file(tensors, path, metadata={"scalars": json.dumps(scalars)})
        return {"ui": {"tensors": [f"{name}.safetensors"]}}


# hidden states (layers, width) Audio Encoder Encode gives per encoder, at 50 per second
VOICE_ENCODERS = {"whisper": (33, 1280), "wav2vec2": (25, 1024)}


class CaptureTestVoice:
    """An AUDIO_ENCODER_OUTPUT as Audio Encoder Encode gives for Whisper (33 hidden states of width 1280, HuMo's) or
    wav2vec2 large (25 of width 1024, Wan S2V's) at 50 per second, seeded noise, for ``seconds`` of 16 kHz audio."""

    @classmethod
    def INPUT_TYPES(cls):  # noqa: N802 (ComfyUI's V1 node API name)
        return {
            "required": {"seconds": ("FLOAT", {"default": 1.0}), "seed": ("INT", {"default": 0})},
            "optional": {"encoder": (list(VOICE_ENCODERS), {"default": "whisper"})},
        }

    RETURN_TYPES = ("AUDIO_ENCODER_OUTPUT",)
    FUNCTION = "encode"
    CATEGORY = "testing"

    def encode(self, seconds, seed, encoder="whisper"):
        generator = torch.Generator().manual_seed(seed)
        frames = round(seconds * 50)
        count, width = VOICE_ENCODERS[encoder]
        layers = [torch.randn(1, frames, width, generator=generator) for _ in range(count)]
        return ({"encoded_audio_all_layers": layers, "audio_samples": round(seconds * 16000)},)


class CaptureTestVideo:
    """Seeded smooth random frames (coarse noise, bilinearly enlarged) that change from frame to frame: a driving
    clip, a face crop clip or a live plate of a chosen size."""

    @classmethod
    def INPUT_TYPES(cls):  # noqa: N802 (ComfyUI's V1 node API name)
        size = {"default": 64, "min": 8, "max": 1024}
        return {
            "required": {
                "frames": ("INT", {"default": 9, "min": 1, "max": 256}),
                "width": ("INT", size),
                "height": ("INT", size),
                "seed": ("INT", {"default": 0}),
            }
        }

    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "make"
    CATEGORY = "testing"

    def make(self, frames, width, height, seed):
        generator = torch.Generator().manual_seed(seed)
        coarse = torch.rand(frames, 3, 4, 4, generator=generator)
        video = torch.nn.functional.interpolate(coarse, size=(height, width), mode="bilinear", align_corners=False)
        return (video.movedim(1, -1).contiguous(),)


NODE_CLASS_MAPPINGS = {
    "CaptureTestVideo": CaptureTestVideo,
    "CaptureTestWorld": CaptureTestWorld,
    "CaptureTestSaveTensors": CaptureTestSaveTensors,
    "CaptureTestVoice": CaptureTestVoice,
}
