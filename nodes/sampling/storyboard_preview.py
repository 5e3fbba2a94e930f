"""What World Shot Sampler shows in the editor: the chosen shots as a video on the node, and the storyboard.

The video is previewed as core's Save Video previews one (``images`` + ``animated``, a file in the temp folder).
The storyboard (web/js/storyboard.js) gets, under ``worldkit_storyboard``, the rows built from the report, the
report itself, and small temp images: each row's first, middle and last frame and each entity's first view.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import folder_paths
import torch
from comfy_api.latest import Types, io, ui

from ...models.sampling.search import early_frames_at_size
from ...models.sampling.storyboard import build_storyboard
from ...models.world.entities import World

THUMBNAIL_SIDE = 192  # longest side, pixels, of a storyboard frame
STORYBOARD_KEY = "worldkit_storyboard"


def model_name(model: Any) -> str:
    """The loaded model's class (e.g. WAN21), for the report: the MODEL socket carries no file name."""
    return type(getattr(model, "model", model)).__name__


def preview_video(video: Any) -> dict[str, Any]:
    """The cut as an MP4 in the temp folder, in the UI form core's video nodes use."""
    name = f"WorldKit_shots_{uuid.uuid4().hex[:12]}.mp4"
    video.save_to(
        os.path.join(folder_paths.get_temp_directory(), name),
        format=Types.VideoContainer.MP4,
        codec=Types.VideoCodec.H264,
    )
    return ui.PreviewVideo([ui.SavedResult(name, "", io.FolderType.temp)]).as_dict()


def _thumbnails(images: torch.Tensor, prefix: str) -> list[ui.SavedResult]:
    small = early_frames_at_size(images.cpu(), THUMBNAIL_SIDE)
    return ui.ImageSaveHelper.save_images(small, prefix, io.FolderType.temp, None, compress_level=1)


def storyboard_ui(frames: torch.Tensor, report: dict[str, Any], report_text: str, world: World) -> dict[str, Any]:
    """The storyboard message: rows, the report, and temp images of the rows' frames and the entities' views."""
    storyboard = build_storyboard(report)
    shots = []
    for row in storyboard["rows"]:
        picked = frames[[row["start"] + index for index in row["thumbnails"]]]
        shots.append(_thumbnails(picked, "WorldKit_storyboard"))
    names = sorted({entry["name"] for row in storyboard["rows"] for entry in row["references"]} & set(world.references))
    views = {name: _thumbnails(world.references[name].views[:1, ..., :3], "WorldKit_reference")[0] for name in names}
    return {STORYBOARD_KEY: [{"storyboard": storyboard, "report": report_text, "frames": shots, "views": views}]}
