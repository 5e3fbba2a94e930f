"""WorldKit/GVFX: Writing composites with their alpha."""

from __future__ import annotations

import json
from pathlib import Path

import folder_paths
from comfy.cli_args import args
from comfy_api.latest import io, ui

from ...models.compositing import export
from ...models.streaming.passes import run_pass
from ...models.streaming.sinks import PreviewSink, SequenceSink, VideoSink
from .. import categories
from ..inputs import file_names_problem, recheck, verdict
from ..runtime.progress import NodeProgress
from .frames import MASK_MEANINGS, as_matte, footage_of, mask_input, mask_meaning_input, matte_of


class WorldKitSaveWithAlpha(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="WorldKitSaveWithAlpha",
            display_name="GVFX Save With Alpha",
            category=categories.GVFX,
            description="Writes frames with their alpha to ComfyUI's output folder: an RGBA PNG sequence (8 or 16 "
            "bit) and, optionally, an RGBA video (MOV with PNG or QuickTime Animation codec, or WebM VP9 with alpha).",
            inputs=[
                io.MultiType.Input(
                    io.Image.Input("images", tooltip="IMAGE frames, or a VIDEO (its own alpha is used without alpha)."),
                    types=[io.Image, io.Video],
                ),
                mask_input("alpha", "Alpha per frame (1 = opaque); one frame is used for every frame.", optional=True),
                io.String.Input(
                    "filename_prefix", default="WorldKit/gvfx", tooltip="Folder/name inside ComfyUI's output folder."
                ),
                io.Combo.Input("bit_depth", options=["8", "16"], default="8", tooltip="PNG sequence bits per channel."),
                io.Combo.Input(
                    "video",
                    options=["none", *export.VIDEO_FORMATS],
                    default="mov (PNG codec, lossless)",
                    tooltip="ProRes 4444 keeps alpha at 10 bits (yuva444p10le), the finishing choice.",
                ),
                io.Float.Input(
                    "fps",
                    default=24.0,
                    min=0.01,
                    max=240.0,
                    step=0.01,
                    tooltip="For IMAGE frames; a VIDEO keeps its own.",
                ),
                io.Combo.Input(
                    "sequence",
                    options=list(export.SEQUENCES),
                    default="png",
                    optional=True,
                    tooltip="One file per frame: PNG, or OpenEXR (half float, colour decoded to linear light).",
                ),
                mask_meaning_input("What the alpha input means.", optional=True),
            ],
            hidden=[io.Hidden.prompt, io.Hidden.extra_pnginfo],
            is_output_node=True,
        )

    @classmethod
    def validate_inputs(cls, filename_prefix: str | None = None) -> bool | str:
        return verdict(file_names_problem(filename_prefix=filename_prefix))

    @classmethod
    def execute(
        cls, images, filename_prefix, bit_depth, video, fps, alpha=None, sequence="png", masks=MASK_MEANINGS[0]
    ) -> io.NodeOutput:
        recheck(cls.validate_inputs(filename_prefix=filename_prefix))
        footage = footage_of(images, "images")
        image = footage.image
        matte = footage.alpha if alpha is None else as_matte(matte_of(alpha, "alpha").image, masks)
        rate = float(footage.fps or fps)
        folder, stem, counter, subfolder, _ = folder_paths.get_save_image_path(
            filename_prefix, folder_paths.get_output_directory(), image.width, image.height
        )
        text = cls._metadata()
        sinks, results = [], {}
        if sequence != "none":
            kind = "png" if sequence == "png" else "exr"
            sinks.append(SequenceSink(Path(folder), _numbered(stem, counter, kind), kind, int(bit_depth), text))
            results["sequence"] = sinks[-1]
        if video != "none":
            name = f"{stem}_{counter:05}_{export.video_suffix(video)}"
            sinks.append(VideoSink(Path(folder) / name, video, rate, (image.height, image.width), text))
            results["video"] = sinks[-1]
        preview_folder, preview_stem, preview_counter, preview_sub, _ = folder_paths.get_save_image_path(
            "WorldKit_preview", folder_paths.get_temp_directory(), image.width, image.height
        )
        preview = PreviewSink(Path(preview_folder) / f"{preview_stem}_{preview_counter:05}_.webp", image.frames, rate)
        run_pass(image, matte, [*sinks, preview], progress=NodeProgress(image.frames))
        saved = {
            key: [ui.SavedResult(name, subfolder, io.FolderType.output) for name in sink.names]
            for key, sink in results.items()
        }
        shown = ui.SavedResult(preview.names[0], preview_sub, io.FolderType.temp)
        return io.NodeOutput(ui={"images": [shown], "animated": (image.frames > 1,), **saved})

    @classmethod
    def _metadata(cls) -> dict[str, str]:
        """The prompt and workflow as PNG text, as ComfyUI's own Save Image writes them (none with
        --disable-metadata)."""
        hidden = cls.hidden
        text = {}
        if args.disable_metadata:
            return text
        if hidden is not None and hidden.prompt is not None:
            text["prompt"] = json.dumps(hidden.prompt)
        if hidden is not None and hidden.extra_pnginfo:
            text.update({key: json.dumps(value) for key, value in hidden.extra_pnginfo.items()})
        return text


def _numbered(stem: str, counter: int, suffix: str):
    """File names of a sequence, numbered on from ComfyUI's counter as Save Image numbers its files."""
    return lambda index: f"{stem}_{counter + index:05}_.{suffix}"


NODES: list[type[io.ComfyNode]] = [WorldKitSaveWithAlpha]
