"""WorldKit/Motion: keypoint paths drawn in the graph, turned into the track formats Wan models take."""

from __future__ import annotations

import logging
import math

import comfy.model_management
import comfy.utils
import torch
from comfy_api.latest import io, ui

from ..models.motion.formats import (
    ati_json,
    ati_times,
    default_state_json,
    dump_state,
    kjnodes_coordinates,
    parse_point_lists,
    parse_state,
    scale_specs,
    specs_from_ati,
    specs_from_kjnodes,
    tracks_from_state,
)
from ..models.motion.path import EASINGS, TrajectoryError
from ..models.motion.render import draw_preview, subject_footprint
from ..models.motion.tracks import CAMERA_MOVES, CameraMove, build_trackset
from ..models.shared.pixels import require_pixels
from ..models.shared.wan import WAN_2_1
from . import categories
from .inputs import length_input, parse_problem, recheck, size_inputs, verdict
from .runtime.progress import check_interrupt

IMPORT_FORMATS = ("ati", "kjnodes")


def _frame_size_inputs() -> list:
    return [
        *size_inputs(832, 480, "of the frame the tracks are drawn for"),
        length_input("num_frames", WAN_2_1.native_frames, "Clip length in frames (Wan: 4k+1)."),
    ]


def _fit(image: torch.Tensor, width: int, height: int) -> torch.Tensor:
    """First frame of an IMAGE [B,H,W,C] or MASK [B,H,W], cropped and scaled as WanTrackToVideo fits its start image."""
    first = image[:1] if image.ndim == 4 else image[:1, :, :, None]
    fitted = comfy.utils.common_upscale(first.movedim(-1, 1), width, height, "bilinear", "center").movedim(1, -1)[0]
    return fitted if image.ndim == 4 else fitted[..., 0]


class WorldKitTrajectoryKeypoints(io.ComfyNode):
    """Draw where subjects go, frame by frame; get ATI JSON, TRACKS, a preview and the subject's footprint."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="WorldKitTrajectoryKeypoints",
            display_name="Trajectory Keypoints",
            category=categories.MOTION,
            description=(
                "Click on the canvas to place keypoints, drag to move them, right-click to delete. Each "
                "keypoint has a frame (or seconds at fps), a hold and an easing; each track a name, colour and subject "
                "(point, spread, cluster, points inside the subject mask) or is a still anchor. A camera move adds "
                "background grid tracks."
            ),
            inputs=[
                io.String.Input(
                    "editor_state",
                    multiline=True,
                    default=default_state_json(),
                    tooltip="The drawing as versioned JSON; the canvas edits it, and it can be edited as text.",
                ),
                *_frame_size_inputs(),
                io.Int.Input(
                    "fps",
                    default=WAN_2_1.fps,
                    min=1,
                    max=120,
                    tooltip="Frames per second, for timing keypoints in seconds.",
                ),
                io.Combo.Input(
                    "camera_move",
                    options=list(CAMERA_MOVES),
                    default="none",
                    tooltip="Camera move rendered as grid tracks.",
                ),
                io.Float.Input(
                    "camera_amount",
                    default=0.2,
                    min=-1.0,
                    max=1.0,
                    step=0.01,
                    tooltip="Signed size of the move: fraction of the frame for pan/tilt/truck/orbit, scale change "
                    "for zoom/dolly.",
                ),
                io.Combo.Input(
                    "camera_easing",
                    options=list(EASINGS),
                    default="ease_in_out",
                    tooltip="How the camera move accelerates: linear at constant speed, ease_in starts slow, "
                    "ease_out ends slow, ease_in_out both, hold stays put.",
                ),
                io.Int.Input("camera_grid", default=8, min=2, max=32, tooltip="Columns of camera grid tracks."),
                io.Image.Input(
                    "background", optional=True, tooltip="Start frame shown under the canvas and the preview."
                ),
                io.Mask.Input(
                    "subject_mask", optional=True, tooltip="Subject mask for tracks whose subject is 'mask'."
                ),
            ],
            outputs=[
                io.String.Output(
                    "ati_tracks", display_name="ati_tracks", tooltip="Track JSON for WanTrackToVideo's tracks input."
                ),
                io.Tracks.Output("tracks", display_name="tracks", tooltip="TRACKS for WanMoveTrackToVideo."),
                io.Image.Output(
                    "preview",
                    display_name="preview",
                    tooltip="The paths drawn over the start frame, one image per frame.",
                ),
                io.Mask.Output(
                    "subject_mask", display_name="subject_mask", tooltip="Where the subjects are in each frame."
                ),
                io.String.Output(
                    "coordinates",
                    display_name="coordinates",
                    tooltip="KJNodes / WanMoveTracksFromCoords coordinates, one point per frame.",
                ),
            ],
        )

    @classmethod
    def validate_inputs(cls, editor_state=None) -> bool | str:
        """The drawing is read before the prompt runs, so a broken state is named at queue time."""
        return verdict(parse_problem(parse_state, editor_state, TrajectoryError, "editor_state"))

    @classmethod
    def execute(
        cls,
        editor_state: str,
        width: int,
        height: int,
        num_frames: int,
        fps: int,
        camera_move: str,
        camera_amount: float,
        camera_easing: str,
        camera_grid: int,
        background: torch.Tensor | None = None,
        subject_mask: torch.Tensor | None = None,
    ) -> io.NodeOutput:
        recheck(cls.validate_inputs(editor_state))
        for tensor, what in ((background, "background"), (subject_mask, "subject_mask")):
            if tensor is not None:
                require_pixels(tensor, what)
        camera = CameraMove(camera_move, camera_amount, camera_easing, camera_grid)
        start_frame = None if background is None else _fit(background, width, height)[..., :3].float().cpu()
        mask = None if subject_mask is None else _fit(subject_mask, width, height).float().cpu()
        options = {"camera": camera, "subject_mask": mask, "on_track": check_interrupt}
        per_frame = tracks_from_state(editor_state, width, height, num_frames, **options)
        ticks = tracks_from_state(editor_state, width, height, num_frames, times=ati_times(num_frames), **options)
        preview = draw_preview(per_frame, start_frame)
        footprint = subject_footprint(per_frame, mask)
        out_ui = None
        if start_frame is not None:
            saved = ui.ImageSaveHelper.save_images(
                start_frame[None],
                filename_prefix="worldkit_trajectory_bg",
                folder_type=io.FolderType.temp,
                cls=cls,
                compress_level=1,
            )
            out_ui = {"worldkit_background": saved}
        device = comfy.model_management.intermediate_device()
        tracks = {k: v.to(device) for k, v in per_frame.to_tracks_dict().items()}
        return io.NodeOutput(
            ati_json(ticks),
            tracks,
            preview.to(device),
            footprint.to(device),
            kjnodes_coordinates(per_frame),
            ui=out_ui,
        )


class WorldKitImportTracks(io.ComfyNode):
    """Bring tracks drawn elsewhere (ATI tool, KJNodes spline editor) into an editable trajectory."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="WorldKitImportTracks",
            display_name="Import Point Tracks",
            category=categories.MOTION,
            description=(
                "Reads ATI track JSON (as WanTrackToVideo takes it: 121 points spread over the clip) or KJNodes "
                "spline-editor coordinates (any number of points spread over the clip). Points outside the frame are "
                "an error, never clamped."
            ),
            inputs=[
                io.String.Input(
                    "track_text", multiline=True, default="[]", tooltip="The track JSON or coordinate string."
                ),
                io.Combo.Input(
                    "format",
                    options=list(IMPORT_FORMATS),
                    default="ati",
                    tooltip="ati: ATI's track JSON (121 points a track; a longer one is cut to 121 as "
                    "WanTrackToVideo reads it, with a warning); kjnodes: the KJNodes spline editor's coordinates.",
                ),
                *_frame_size_inputs(),
            ],
            outputs=[
                io.String.Output(
                    "editor_state",
                    display_name="editor_state",
                    tooltip="Connect to Trajectory Keypoints' editor_state.",
                ),
                io.Tracks.Output("tracks", display_name="tracks", tooltip="TRACKS for WanMoveTrackToVideo."),
            ],
        )

    @classmethod
    def validate_inputs(cls, track_text=None) -> bool | str:
        """The text's JSON and point structure, checked before the prompt runs (the frame bounds when it runs)."""
        return verdict(
            parse_problem(
                lambda text: parse_point_lists(text, math.inf, math.inf, "track_text"), track_text, TrajectoryError
            )
        )

    @classmethod
    def execute(cls, track_text: str, format: str, width: int, height: int, num_frames: int) -> io.NodeOutput:
        if format not in IMPORT_FORMATS:
            raise ValueError(f"Import Tracks: unknown format {format!r}; use one of {', '.join(IMPORT_FORMATS)}.")
        recheck(cls.validate_inputs(track_text))
        if format == "ati":
            specs, warnings = specs_from_ati(track_text, width, height, num_frames)
        else:
            specs, warnings = specs_from_kjnodes(track_text, width, height, num_frames), ()
        tracks = build_trackset(scale_specs(specs, width, height), width, height, num_frames)
        device = comfy.model_management.intermediate_device()
        for warning in warnings:
            logging.getLogger("worldkit").warning("Import Tracks: %s", warning)
        return io.NodeOutput(
            dump_state(specs),
            {k: v.to(device) for k, v in tracks.to_tracks_dict().items()},
            ui=ui.PreviewText("\n".join(warnings)) if warnings else None,
        )


NODES: list[type[io.ComfyNode]] = [WorldKitTrajectoryKeypoints, WorldKitImportTracks]
