"""WorldKit/Sampling: Save Cut Timeline, the cut handed to an editor as OpenTimelineIO, FCP XML and CMX 3600 EDL."""

from pathlib import Path

import folder_paths
from comfy_api.latest import io, ui

from ...models.sampling.cut_media import write_shot_videos, write_wav
from ...models.sampling.timeline import (
    AudioMedia,
    ShotMedia,
    build_timeline,
    require_cut,
    require_formats,
    write_timeline,
)
from ...models.shared.pixels import require_pixels
from ...models.shared.text import load_json_text
from .. import categories
from ..inputs import file_names_problem, recheck, verdict
from .shot_frames import report_problem


def shot_media(paths: list[Path], report: dict | None) -> list[ShotMedia]:
    """Each shot's file with its name and the sampler's account of it (candidates, seeds, scores, prompt)."""
    shots = report.get("shots") if isinstance(report, dict) else None
    if report is not None and (not isinstance(shots, list) or len(shots) != len(paths)):
        count = len(shots) if isinstance(shots, list) else 0
        raise ValueError(
            f"report describes {count} shots but the cut has {len(paths)}; connect the World Shot Sampler's "
            "report for the same shots, or leave report unconnected."
        )
    accounts = shots if shots is not None else [{}] * len(paths)
    return [
        ShotMedia(
            str(account.get("name") or f"shot {number}") if isinstance(account, dict) else f"shot {number}",
            path,
            account if isinstance(account, dict) else {},
        )
        for number, (path, account) in enumerate(zip(paths, accounts, strict=True), start=1)
    ]


class WorldKitSaveCutTimeline(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="WorldKitSaveCutTimeline",
            display_name="Save Cut Timeline",
            category=categories.SAMPLING,
            description="Hand the cut to an editor (Resolve, Premiere, Avid, Nuke Studio): writes each shot as its "
            "own ProRes 4444 file, the track as WAV, and the cut as an OpenTimelineIO timeline (.otio), with FCP 7 "
            "XML and a CMX 3600 EDL beside it; media paths are relative, so move the folder whole.",
            inputs=[
                io.Image.Input("frames", tooltip="The frames that went into Assemble Cut (every shot, whole)."),
                io.String.Input("cut_list", force_input=True, tooltip="Assemble Cut's cut_list."),
                io.String.Input(
                    "filename_prefix", default="WorldKit/cut", tooltip="Folder/name inside ComfyUI's output folder."
                ),
                io.Boolean.Input(
                    "fcp_xml", default=False, tooltip="Also write FCP 7 XML (needs a broadcast fps: 24, 25, 30…)."
                ),
                io.Boolean.Input(
                    "edl", default=False, tooltip="Also write a CMX 3600 EDL (needs a broadcast fps: 24, 25, 30…)."
                ),
                io.String.Input(
                    "report",
                    optional=True,
                    force_input=True,
                    tooltip="The World Shot Sampler's report: shot names, and each shot's candidates as metadata.",
                ),
                io.Audio.Input("audio", optional=True, tooltip="The track under the cut (Assemble Cut's audio)."),
            ],
            outputs=[],
            is_output_node=True,
        )

    @classmethod
    def validate_inputs(cls, filename_prefix=None, cut_list=None, report=None) -> bool | str:
        return verdict(
            file_names_problem(filename_prefix=filename_prefix),
            None if cut_list is None else report_problem(cut_list, "cut_list"),
            None if report is None else report_problem(report),
        )

    @classmethod
    def execute(cls, frames, cut_list, filename_prefix, fcp_xml, edl, report=None, audio=None) -> io.NodeOutput:
        recheck(cls.validate_inputs(filename_prefix, cut_list, report))
        require_pixels(frames, "frames")
        cut = load_json_text(cut_list, "cut_list")
        fps = require_cut(cut)
        formats = ["otio", *(["fcp_xml"] if fcp_xml else []), *(["edl"] if edl else [])]
        require_formats(formats, fps)
        folder, stem, counter, subfolder, _ = folder_paths.get_save_image_path(
            filename_prefix, folder_paths.get_output_directory(), frames.shape[2], frames.shape[1]
        )
        base = Path(folder) / f"{stem}_{counter:05}"
        shots = shot_media(
            write_shot_videos(frames, cut["shots"], fps, base),
            None if report is None else load_json_text(report, "report"),
        )
        track = None
        if audio is not None:
            wav = base.with_name(base.name + "_audio.wav")
            track = AudioMedia(wav, write_wav(wav, audio["waveform"], audio["sample_rate"]))
        timeline = build_timeline(cut, shots, base.with_suffix(".otio"), track, name=base.name)
        written = write_timeline(timeline, base, formats, fps)
        files = [*written, *(shot.path for shot in shots), *([track.path] if track else [])]
        return io.NodeOutput(
            ui={"timeline": [ui.SavedResult(path.name, subfolder, io.FolderType.output) for path in files]}
        )


NODES: list[type[io.ComfyNode]] = [WorldKitSaveCutTimeline]
