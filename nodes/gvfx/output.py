"""WorldKit/GVFX: Writing composites with their alpha."""

from __future__ import annotations

import json
from pathlib import Path

import folder_paths
from comfy.cli_args import args
from comfy_api.latest import io, ui

from ...models.compositing import export
from .. import categories
from ..inputs import names_problem, numbers_problem, recheck, verdict
from ..runtime.progress import NodeProgress


class WorldKitSaveWithAlpha(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="WorldKitSaveWithAlpha",
            display_name="GVFX Save With Alpha",
            category=categories.GVFX,
            description="Writes frames with their alpha to ComfyUI's output folder: an RGBA PNG sequence (8 or 16 "
            "bit) and, "
            "optionally, an RGBA video (MOV with PNG or QuickTime Animation codec, or WebM VP9 with alpha).",
            inputs=[
                io.Image.Input("images", tooltip="IMAGE frames, or a VIDEO (its own alpha is used without alpha)."),
                io.Mask.Input("alpha", tooltip="Alpha per frame (1 = opaque); one frame is used for every frame."),
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
            ],
            hidden=[io.Hidden.prompt, io.Hidden.extra_pnginfo],
            is_output_node=True,
        )

    @classmethod
    def validate_inputs(cls, fps: float | None = None, filename_prefix: str | None = None) -> bool | str:
        """Checked before the prompt runs: a finite fps in range, and a prefix to number the files under (an
        empty one would restart the numbering at ``._00001_`` and overwrite earlier files)."""
        empty = filename_prefix is not None and not filename_prefix.strip(" ./\\")
        return verdict(
            numbers_problem(cls, fps=fps),
            "filename_prefix is empty; give a name such as 'WorldKit/gvfx'." if empty else None,
            names_problem(filename_prefix=filename_prefix) if not empty else None,
        )

    @classmethod
    def execute(cls, images, alpha, filename_prefix, bit_depth, video, fps) -> io.NodeOutput:
        recheck(cls.validate_inputs(fps=fps, filename_prefix=filename_prefix))
        image, matte = export.rgba_frames(images, alpha)
        frames, height, width, _ = image.shape
        folder, stem, counter, subfolder, _ = folder_paths.get_save_image_path(
            filename_prefix, folder_paths.get_output_directory(), width, height
        )
        text = cls._metadata()
        progress = NodeProgress(frames)
        saved = []
        for index in range(frames):
            name = f"{stem}_{counter + index:05}_.png"
            export.write_png(Path(folder) / name, image[index], matte[index], int(bit_depth), text)
            saved.append(ui.SavedResult(name, subfolder, io.FolderType.output))
            progress(1)
        result = {"images": saved}
        if video != "none":
            name = f"{stem}_{counter:05}_{export.video_suffix(video)}"
            export.write_video(Path(folder) / name, image, matte, fps, video)
            result["video"] = [ui.SavedResult(name, subfolder, io.FolderType.output)]
        return io.NodeOutput(ui=result)

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


NODES: list[type[io.ComfyNode]] = [WorldKitSaveWithAlpha]
