"""Save Shot Frames / Load Shot Frames: a sampler run kept losslessly, and a cut joined from such files.

The farm (`python -m worldkit farm`) saves each unit it renders with Save Shot Frames and assembles the cut by
putting Load Shot Frames where the World Shot Sampler was: it has the sampler's outputs, so the rest of the
film graph (Assemble Cut, Save Video) runs unchanged on frames equal to a single run's.
"""

import json
from fractions import Fraction
from pathlib import Path

import folder_paths
from comfy_api.latest import InputImpl, Types, io

from ...models.sampling.shot_frames import join_shot_frames, pack_shot_frames, unpack_shot_frames
from ...models.shared.files import write_bytes_atomically
from .. import categories
from .shot_sampler import shot_list_outputs

SUFFIX = ".safetensors"


def inside(root: str, name: str, what: str) -> Path:
    """``root/name``, refused when the name leaves the folder."""
    base = Path(root).resolve()
    path = (base / name).resolve()
    if base not in path.parents:
        raise ValueError(f"{what} '{name}' leaves the {base} folder; give a name inside it, e.g. 'farm/shot_1'.")
    return path


class WorldKitSaveShotFrames(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="WorldKitSaveShotFrames",
            display_name="Save Shot Frames",
            category=categories.SAMPLING,
            description="Save a World Shot Sampler run losslessly (float frames and report) to output/<name>"
            f"{SUFFIX}, for Load Shot Frames to join into a cut.",
            inputs=[
                io.Image.Input("frames", tooltip="The sampler's frames."),
                io.String.Input("report", tooltip="The sampler's report."),
                io.String.Input("name", default="worldkit_shots/shots", tooltip="File name inside output/."),
            ],
            outputs=[],
            is_output_node=True,
        )

    @classmethod
    def execute(cls, frames, report, name) -> io.NodeOutput:
        path = inside(folder_paths.get_output_directory(), name + SUFFIX, "name")
        write_bytes_atomically(path, pack_shot_frames(frames, json.loads(report)))
        subfolder = str(path.parent.relative_to(Path(folder_paths.get_output_directory()).resolve()))
        item = {"filename": path.name, "subfolder": "" if subfolder == "." else subfolder, "type": "output"}
        return io.NodeOutput(ui={"shot_frames": [item]})


class WorldKitLoadShotFrames(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="WorldKitLoadShotFrames",
            display_name="Load Shot Frames",
            category=categories.SAMPLING,
            description="Join files saved by Save Shot Frames into the outputs a World Shot Sampler gives: "
            "frames, shot boundaries, video and report.",
            inputs=[
                io.String.Input(
                    "files",
                    multiline=True,
                    default="",
                    tooltip=f"One {SUFFIX} file of the input folder per line, in cut order.",
                ),
            ],
            outputs=shot_list_outputs(),
        )

    @classmethod
    def execute(cls, files) -> io.NodeOutput:
        names = [line.strip() for line in files.splitlines() if line.strip()]
        parts = []
        for name in names:
            path = inside(folder_paths.get_input_directory(), name, "files")
            if not path.is_file():
                raise ValueError(f"files: {name} is not in the input folder; upload it first.")
            parts.append(unpack_shot_frames(path.read_bytes(), name))
        frames, boundaries, report = join_shot_frames(parts)
        video = InputImpl.VideoFromComponents(Types.VideoComponents(images=frames, frame_rate=Fraction(report["fps"])))
        return io.NodeOutput(frames, json.dumps(boundaries), video, json.dumps(report))


NODES: list[type[io.ComfyNode]] = [WorldKitSaveShotFrames, WorldKitLoadShotFrames]
