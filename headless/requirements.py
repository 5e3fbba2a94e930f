"""What a workflow needs from the server before it runs: model files and input files, each checked by name."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .catalog import CATALOG
from .convert import input_kind, input_options

MODEL_EXTENSIONS = (".safetensors", ".sft", ".ckpt", ".pt", ".pth", ".bin", ".gguf", ".onnx")
MODEL_FOLDERS = {
    ("UNETLoader", "unet_name"): "diffusion_models",
    ("CLIPLoader", "clip_name"): "text_encoders",
    ("DualCLIPLoader", "clip_name1"): "text_encoders",
    ("DualCLIPLoader", "clip_name2"): "text_encoders",
    ("TripleCLIPLoader", "clip_name1"): "text_encoders",
    ("TripleCLIPLoader", "clip_name2"): "text_encoders",
    ("TripleCLIPLoader", "clip_name3"): "text_encoders",
    ("VAELoader", "vae_name"): "vae",
    ("CLIPVisionLoader", "clip_name"): "clip_vision",
    ("CheckpointLoaderSimple", "ckpt_name"): "checkpoints",
    ("ImageOnlyCheckpointLoader", "ckpt_name"): "checkpoints",
    ("LoraLoader", "lora_name"): "loras",
    ("LoraLoaderModelOnly", "lora_name"): "loras",
    ("ControlNetLoader", "control_net_name"): "controlnet",
    ("UpscaleModelLoader", "model_name"): "upscale_models",
    ("StyleModelLoader", "style_model_name"): "style_models",
}
INPUT_FILE_NODES = {"LoadImage": "image", "LoadImageMask": "image", "LoadAudio": "audio", "LoadVideo": "file"}


@dataclass(frozen=True)
class MissingFile:
    node_id: str
    class_type: str
    input: str
    filename: str
    folder: str

    def describe(self) -> str:
        known = CATALOG.get(self.filename)
        source = f"\n      from {known.url}" if known else ""
        node = f"node {self.node_id} {self.class_type}.{self.input}"
        return f"  {self.filename}  ->  models/{self.folder}/   ({node}){source}"


class MissingModelsError(RuntimeError):
    """Raised before queueing: lists every model file the server lacks, the folder it belongs in and its source."""

    def __init__(self, missing: list[MissingFile], workflow: Path | None = None):
        self.missing = missing
        lines = "\n".join(item.describe() for item in missing)
        super().__init__(
            f"{len(missing)} model file(s) missing on the server:\n{lines}\n"
            f"Fetch them into ComfyUI's models folders with `python -m worldkit models {workflow or 'WORKFLOW'} "
            "--download` "
            "(on the server's machine), or download them from the links above."
        )


def combo_options(spec: list | tuple) -> list | None:
    if input_kind(spec) != "COMBO":
        return None
    return spec[0] if isinstance(spec[0], list) else input_options(spec).get("options")


def _folder_for(class_type: str, name: str) -> str:
    return MODEL_FOLDERS.get((class_type, name), f"the folder {class_type}'s {name} lists")


def missing_models(prompt: dict[str, dict], object_info: dict) -> list[MissingFile]:
    """Model-file combo values the server does not list (any `*_name` combo whose value looks like a model file)."""
    missing = []
    for node_id, entry in prompt.items():
        definition = object_info.get(entry["class_type"], {}).get("input", {})
        specs = {**definition.get("required", {}), **definition.get("optional", {})}
        for name, value in entry["inputs"].items():
            options = combo_options(specs[name]) if name in specs else None
            is_model = (entry["class_type"], name) in MODEL_FOLDERS or (
                isinstance(value, str) and value.lower().endswith(MODEL_EXTENSIONS)
            )
            if options is not None and is_model and isinstance(value, str) and value not in options:
                missing.append(
                    MissingFile(node_id, entry["class_type"], name, value, _folder_for(entry["class_type"], name))
                )
    return missing


def input_files(prompt: dict[str, dict]) -> list[tuple[str, str]]:
    """(node id, file name) of every file a loader node reads from ComfyUI's input folder."""
    return [
        (node_id, entry["inputs"][INPUT_FILE_NODES[entry["class_type"]]])
        for node_id, entry in prompt.items()
        if entry["class_type"] in INPUT_FILE_NODES
        and isinstance(entry["inputs"].get(INPUT_FILE_NODES[entry["class_type"]]), str)
    ]


def missing_inputs(
    prompt: dict[str, dict], object_info: dict, local_dirs: list[Path], on_server: frozenset[str] = frozenset()
) -> tuple[list[tuple[Path, str]], list[str]]:
    """Input files to upload as (local file, server subfolder), found locally but not on the server, and those
    found nowhere. A name in a subfolder (`worldkit/skunk.png`) is not in the loader's list of top-level files:
    `on_server` holds such names the caller found on the server; a local copy may sit under its base name."""
    to_upload: list[tuple[Path, str]] = []
    nowhere: list[str] = []
    for node_id, filename in input_files(prompt):
        entry = prompt[node_id]
        spec = (
            object_info.get(entry["class_type"], {})
            .get("input", {})
            .get("required", {})
            .get(INPUT_FILE_NODES[entry["class_type"]])
        )
        if filename in on_server or (spec is not None and filename in (combo_options(spec) or [])):
            continue
        subfolder, _, name = filename.rpartition("/")
        candidates = [d / filename for d in local_dirs] + [d / name for d in local_dirs]
        local = next((path for path in candidates if path.is_file()), None)
        if local is not None:
            if (local, subfolder) not in to_upload:
                to_upload.append((local, subfolder))
        elif filename not in nowhere:
            nowhere.append(f"{filename} (node {node_id} {entry['class_type']})")
    return to_upload, nowhere
