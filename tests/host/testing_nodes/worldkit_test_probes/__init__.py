"""Test-only probe nodes mounted into the host-tier server, never shipped with the pack.

- WorldKitTestSaveTensor: PNG output is 8-bit, which hides small differences; this node writes IMAGE
  batches to safetensors in the output folder and echoes text, so tests can compare exact values.
- WorldKitTestInterruptAtCall: a MODEL whose Nth diffusion-model call requests an interrupt (as the
  /interrupt endpoint does), so a test can check that sampling stops within that step.
- WorldKitTestCountCalls: a MODEL that writes how many diffusion-model calls it has made, and the batch size
  of each, to ``<name>.calls.json`` in the output folder, so a test can count the compute a node spent.
- WorldKitTestAttentionProbe: a MODEL whose attention calls are recorded as they reach the kernel (the query
  shape, the keys and values) into output/<name>.safetensors, so a test sees what attention really got.
- WorldKitTestPoisonPixels: an IMAGE with one value set to NaN or ±infinity, as a broken upstream node
  would pass on, so a test can check that WorldKit refuses it.
- WorldKitTestEmptyBatch: an IMAGE and a MASK with no frames, as a filter that dropped everything passes on.
- WorldKitTestSink: an output node taking any type, so a graph ending in any node's output is queued and run.
"""

import json
import os

import comfy.model_management
import comfy.patcher_extension
import folder_paths
import torch
from safetensors.torch import save_file


class WorldKitTestSaveTensor:
    @classmethod
    def INPUT_TYPES(cls):  # noqa: N802 (ComfyUI's node API name)
        return {
            "required": {"name": ("STRING", {"default": "probe"})},
            "optional": {"images": ("IMAGE",), "text": ("STRING", {"forceInput": True})},
        }

    RETURN_TYPES = ()
    FUNCTION = "save"
    OUTPUT_NODE = True
    CATEGORY = "testing"

    def save(self, name, images=None, text=None):
        ui = {"text": [text or ""], "files": []}
        if images is not None:
            file_name = f"{name}.safetensors"
            save_file(
                {"images": images.contiguous().cpu()}, os.path.join(folder_paths.get_output_directory(), file_name)
            )
            ui["files"].append(file_name)
        return {"ui": ui}


class WorldKitTestInterruptAtCall:
    @classmethod
    def INPUT_TYPES(cls):  # noqa: N802 (ComfyUI's node API name)
        return {"required": {"model": ("MODEL",), "call": ("INT", {"default": 3, "min": 1})}}

    RETURN_TYPES = ("MODEL",)
    FUNCTION = "patch"
    CATEGORY = "testing"

    def patch(self, model, call):
        calls = []

        def wrapper(executor, *args, **kwargs):
            calls.append(1)
            if len(calls) == call:
                comfy.model_management.interrupt_current_processing(True)
            return executor(*args, **kwargs)

        patched = model.clone()
        patched.add_wrapper_with_key(
            comfy.patcher_extension.WrappersMP.DIFFUSION_MODEL, "worldkit_test_interrupt", wrapper
        )
        return (patched,)


class ModelProbe:
    """A node that hands on a patched clone of its MODEL, the patch recording into output/<name>… what it sees."""

    DEFAULT_NAME = "probe"

    @classmethod
    def INPUT_TYPES(cls):  # noqa: N802 (ComfyUI's node API name)
        return {"required": {"model": ("MODEL",), "name": ("STRING", {"default": cls.DEFAULT_NAME})}}

    RETURN_TYPES = ("MODEL",)
    FUNCTION = "patch"
    CATEGORY = "testing"


class WorldKitTestCountCalls(ModelProbe):
    DEFAULT_NAME = "calls"

    def patch(self, model, name):
        path = os.path.join(folder_paths.get_output_directory(), f"{name}.calls.json")
        calls = []

        def wrapper(executor, x, *args, **kwargs):
            calls.append(int(x.shape[0]))
            with open(path, "w") as file:
                json.dump(calls, file)
            return executor(x, *args, **kwargs)

        patched = model.clone()
        patched.add_wrapper_with_key(comfy.patcher_extension.WrappersMP.DIFFUSION_MODEL, "worldkit_test_count", wrapper)
        return (patched,)


class WorldKitTestPoisonPixels:
    @classmethod
    def INPUT_TYPES(cls):  # noqa: N802 (ComfyUI's node API name)
        return {"required": {"images": ("IMAGE",), "value": (["nan", "inf", "-inf"],)}}

    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "poison"
    CATEGORY = "testing"

    def poison(self, images, value):
        poisoned = images.clone()
        poisoned[-1, -1, -1, 0] = float(value)
        return (poisoned,)


class WorldKitTestAttentionProbe(ModelProbe):
    DEFAULT_NAME = "attention"

    def patch(self, model, name):
        path = os.path.join(folder_paths.get_output_directory(), f"{name}.safetensors")
        seen = {}

        def record(func, q, k, v, *args, **kwargs):
            call = len(seen) // 3
            seen[f"{call:05d}.q_shape"] = torch.tensor(list(q.shape))
            seen[f"{call:05d}.k"] = k.detach().float().cpu().contiguous()
            seen[f"{call:05d}.v"] = v.detach().float().cpu().contiguous()
            save_file(seen, path)
            return func(q, k, v, *args, **kwargs)

        patched = model.clone()
        options = patched.model_options.setdefault("transformer_options", {})
        options["optimized_attention_override"] = record
        return (patched,)


class WorldKitTestEmptyBatch:
    @classmethod
    def INPUT_TYPES(cls):  # noqa: N802 (ComfyUI's node API name)
        return {"required": {}}

    RETURN_TYPES = ("IMAGE", "MASK")
    FUNCTION = "empty"
    CATEGORY = "testing"

    def empty(self):
        return (torch.zeros(0, 32, 32, 3), torch.zeros(0, 32, 32))


class WorldKitTestChannels:
    """IMAGE frames cut or padded (with ones) to ``channels`` channels: what a malformed upstream node may give."""

    @classmethod
    def INPUT_TYPES(cls):  # noqa: N802 (ComfyUI's node API name)
        return {"required": {"images": ("IMAGE",), "channels": ("INT", {"default": 4, "min": 1, "max": 4})}}

    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "reshape"
    CATEGORY = "testing"

    def reshape(self, images, channels):
        padding = torch.ones(*images.shape[:3], max(0, channels - images.shape[-1]))
        return (torch.cat([images[..., :channels], padding], dim=-1),)


class WorldKitTestSink:
    @classmethod
    def INPUT_TYPES(cls):  # noqa: N802 (ComfyUI's node API name)
        return {"required": {"value": ("*",)}}

    RETURN_TYPES = ()
    FUNCTION = "take"
    OUTPUT_NODE = True
    CATEGORY = "testing"

    def take(self, value):
        return {}


NODE_CLASS_MAPPINGS = {
    "WorldKitTestSink": WorldKitTestSink,
    "WorldKitTestChannels": WorldKitTestChannels,
    "WorldKitTestEmptyBatch": WorldKitTestEmptyBatch,
    "WorldKitTestCountCalls": WorldKitTestCountCalls,
    "WorldKitTestAttentionProbe": WorldKitTestAttentionProbe,
    "WorldKitTestPoisonPixels": WorldKitTestPoisonPixels,
    "WorldKitTestSaveTensor": WorldKitTestSaveTensor,
    "WorldKitTestInterruptAtCall": WorldKitTestInterruptAtCall,
}
