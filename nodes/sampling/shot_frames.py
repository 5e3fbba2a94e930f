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

from ...models.sampling.shot_frames import ShotFramesError, join_shot_frames, pack_shot_frames, unpack_shot_frames
from ...models.shared.files import write_bytes_atomically
from ...models.shared.pixels import require_pixels
from ...models.shared.text import MAX_JSON_CHARS, TextInputError, load_json_text, quote
from .. import categories
from ..inputs import control_problem, file_names_problem, recheck, texts_problem, verdict
from .shot_sampler import shot_list_outputs

SUFFIX = ".safetensors"


def inside(root: str, name: str) -> Path | None:
    """``root/name``, or None when the name leaves the folder."""
    base = Path(root).resolve()
    path = (base / name).resolve()
    return path if base in path.parents else None


def leaves_problem(root: str, name: str, what: str) -> str | None:
    if inside(root, name) is None:
        return f"{what} {quote(name)} leaves its folder; give a name inside it, e.g. 'farm/shot_1'."
    return None


def save_name_problem(name: str | None) -> str | None:
    if name is None:
        return None
    return file_names_problem(name=name) or leaves_problem(folder_paths.get_output_directory(), name + SUFFIX, "name")


def report_problem(report: str | None, name: str = "report") -> str | None:
    try:
        load_json_text(report, name)
    except TextInputError as error:
        return str(error)
    return None


def file_list(files: str) -> list[str]:
    return [line.strip() for line in files.splitlines() if line.strip()]


def files_problem(files: str | None) -> str | None:
    """Each line one plain name inside the input folder (whether it exists is checked when the node runs)."""
    problem = texts_problem(MAX_JSON_CHARS, files=files) or control_problem(files, "files", "\n\r\t")
    if problem or files is None:
        return problem
    root = folder_paths.get_input_directory()
    for number, name in enumerate(file_list(files), start=1):
        problem = file_names_problem(**{f"files line {number}": name}) or leaves_problem(
            root, name, f"files line {number}"
        )
        if problem:
            return problem
    return None


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
    def validate_inputs(cls, report=None, name=None) -> bool | str:
        return verdict(save_name_problem(name), None if report is None else report_problem(report))

    @classmethod
    def execute(cls, frames, report, name) -> io.NodeOutput:
        recheck(cls.validate_inputs(report, name))
        require_pixels(frames, "frames")
        path = inside(folder_paths.get_output_directory(), name + SUFFIX)
        write_bytes_atomically(path, pack_shot_frames(frames, load_json_text(report, "report")))
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
            description="Join files saved by Save Shot Frames into the outputs a World Shot Sampler gives: frames, "
            "shot boundaries, video and report.",
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
    def validate_inputs(cls, files=None) -> bool | str:
        return verdict(files_problem(files))

    @classmethod
    def execute(cls, files) -> io.NodeOutput:
        recheck(cls.validate_inputs(files))
        parts = []
        for name in file_list(files):
            path = inside(folder_paths.get_input_directory(), name)
            if not path.is_file():
                raise ValueError(f"files: {quote(name)} is not in the input folder; upload it first.")
            try:
                parts.append(unpack_shot_frames(path.read_bytes(), quote(name)))
            except ShotFramesError as error:
                raise ShotFramesError(f"files: {error}") from None
        frames, boundaries, report = join_shot_frames(parts)
        video = InputImpl.VideoFromComponents(Types.VideoComponents(images=frames, frame_rate=Fraction(report["fps"])))
        return io.NodeOutput(frames, json.dumps(boundaries), video, json.dumps(report))


NODES: list[type[io.ComfyNode]] = [WorldKitSaveShotFrames, WorldKitLoadShotFrames]
