"""WorldKit/GVFX nodes: generated elements composited over live-action plates."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import comfy.model_management
import comfy.utils
import folder_paths
import torch
from comfy_api.latest import io, ui

from ..models.compositing import export
from ..models.compositing.chroma_key import chroma_key
from ..models.compositing.color_match import METHODS, match_colors, region_around
from ..models.compositing.composite import Placement, composite_over, place_element
from ..models.compositing.defocus import SHAPES, defocus, estimate_defocus
from ..models.compositing.grain import match_grain
from ..models.compositing.light_wrap import light_wrap
from ..models.compositing.matte import MatteSettings, refine_matte
from ..models.compositing.motion_blur import motion_blur, velocities
from ..models.compositing.shadow import contact_shadow
from ..models.compositing.track_attach import hold_path, path_from_tracks, path_to_tracks, track_plate_point

CATEGORY = "WorldKit/GVFX"


def _progress(frames: int) -> Callable[[int], None]:
    """A chunk callback that advances ComfyUI's progress bar and stops promptly on interrupt."""
    bar = comfy.utils.ProgressBar(frames)

    def advance(done: int) -> None:
        comfy.model_management.throw_exception_if_processing_interrupted()
        bar.update(done)

    return advance


class MatteRefine(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="WorldKitMatteRefine",
            display_name="Matte Refine",
            category=CATEGORY,
            description="Turns a rough mask from any matting or segmentation node into a production matte: edges snapped to "
            "the element's colour edges, clean core and background, choke/grow, feather, despill, and temporal smoothing "
            "that does not lag on moving edges.",
            inputs=[
                io.Image.Input("image", tooltip="The element frames the mask belongs to."),
                io.Mask.Input("mask", tooltip="Rough matte (subject = 1). One frame is used for every frame."),
                io.Int.Input(
                    "edge_radius", default=16, min=1, max=128, tooltip="Pixels; about the width of the rough edge."
                ),
                io.Float.Input(
                    "edge_smoothness",
                    default=1e-3,
                    min=1e-6,
                    max=0.1,
                    step=1e-5,
                    tooltip="Higher keeps the matte smoother; lower follows colour edges (hair) more closely.",
                ),
                io.Float.Input(
                    "clip_black",
                    default=0.05,
                    min=0.0,
                    max=0.99,
                    step=0.01,
                    tooltip="Alpha at or below this becomes 0.",
                ),
                io.Float.Input(
                    "clip_white",
                    default=0.95,
                    min=0.01,
                    max=1.0,
                    step=0.01,
                    tooltip="Alpha at or above this becomes 1.",
                ),
                io.Int.Input(
                    "choke",
                    default=0,
                    min=-64,
                    max=64,
                    tooltip="Pixels; positive shrinks the matte, negative grows it.",
                ),
                io.Float.Input(
                    "feather",
                    default=0.0,
                    min=0.0,
                    max=64.0,
                    step=0.5,
                    tooltip="Edge softening (Gaussian sigma, pixels).",
                ),
                io.Float.Input(
                    "temporal",
                    default=0.5,
                    min=0.0,
                    max=1.0,
                    step=0.05,
                    tooltip="Weight of neighbouring frames where the matte is steady; 0 turns smoothing off.",
                ),
                io.Float.Input(
                    "motion_threshold",
                    default=0.1,
                    min=0.01,
                    max=1.0,
                    step=0.01,
                    tooltip="Alpha change between frames above which an edge counts as moving and is left sharp.",
                ),
                io.Combo.Input(
                    "despill",
                    options=["none", "green", "blue"],
                    default="none",
                    tooltip="Screen colour to remove from edges.",
                ),
                io.Float.Input("despill_strength", default=1.0, min=0.0, max=1.0, step=0.05),
            ],
            outputs=[io.Image.Output(display_name="image"), io.Mask.Output(display_name="matte")],
        )

    @classmethod
    def execute(
        cls,
        image,
        mask,
        edge_radius,
        edge_smoothness,
        clip_black,
        clip_white,
        choke,
        feather,
        temporal,
        motion_threshold,
        despill,
        despill_strength,
    ) -> io.NodeOutput:
        settings = MatteSettings(
            radius=edge_radius,
            eps=edge_smoothness,
            clip_black=clip_black,
            clip_white=clip_white,
            choke=choke,
            feather=feather,
            temporal=temporal,
            motion_threshold=motion_threshold,
            despill=despill,
            despill_strength=despill_strength,
        )
        out_image, matte = refine_matte(image, mask, settings, progress=_progress(image.shape[0]))
        return io.NodeOutput(out_image, matte)


class ChromaKey(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="WorldKitChromaKey",
            display_name="Chroma Key",
            category=CATEGORY,
            description="Pulls a matte from a green or blue screen by colour difference and suppresses the screen's spill.",
            inputs=[
                io.Image.Input("image"),
                io.Combo.Input("screen", options=["green", "blue"], default="green"),
                io.Float.Input(
                    "balance",
                    default=0.5,
                    min=0.0,
                    max=1.0,
                    step=0.05,
                    tooltip="How the two other channels are weighed against the screen channel (1 = their max).",
                ),
                io.Float.Input(
                    "clip_black", default=0.1, min=0.0, max=0.99, step=0.01, tooltip="Alpha at or below this becomes 0."
                ),
                io.Float.Input(
                    "clip_white", default=0.9, min=0.01, max=1.0, step=0.01, tooltip="Alpha at or above this becomes 1."
                ),
                io.Float.Input(
                    "spill", default=1.0, min=0.0, max=1.0, step=0.05, tooltip="Spill suppression strength."
                ),
            ],
            outputs=[io.Image.Output(display_name="image"), io.Mask.Output(display_name="matte")],
        )

    @classmethod
    def execute(cls, image, screen, balance, clip_black, clip_white, spill) -> io.NodeOutput:
        out_image, matte = chroma_key(
            image, screen, balance, clip_black, clip_white, spill, progress=_progress(image.shape[0])
        )
        return io.NodeOutput(out_image, matte)


class ColorMatch(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="WorldKitColorMatch",
            display_name="Color Match",
            category=CATEGORY,
            description="Matches the element's colour to the plate: Reinhard LAB mean/std, histogram, or MKL. Statistics come "
            "from the whole clip (stable in time), from the element's matte, and from the plate region around where it lands.",
            inputs=[
                io.Image.Input("element"),
                io.Image.Input("plate"),
                io.Combo.Input("method", options=list(METHODS), default="reinhard_lab"),
                io.Float.Input("strength", default=1.0, min=0.0, max=1.0, step=0.05),
                io.Mask.Input("element_mask", optional=True, tooltip="Measure the element only where this is solid."),
                io.Mask.Input("plate_region", optional=True, tooltip="Measure the plate only inside this region."),
                io.Int.Input(
                    "around_element",
                    default=0,
                    min=0,
                    max=1024,
                    optional=True,
                    tooltip="Pixels; with element_mask and no plate_region, measure the plate within this distance "
                    "of where the element lands (element and plate the same size). 0 uses the whole plate.",
                ),
            ],
            outputs=[io.Image.Output(display_name="image")],
        )

    @classmethod
    def execute(
        cls, element, plate, method, strength, element_mask=None, plate_region=None, around_element=0
    ) -> io.NodeOutput:
        if plate_region is None and element_mask is not None and around_element > 0:
            plate_region = region_around(element_mask, around_element)
        out = match_colors(
            element, plate, method, strength, element_mask, plate_region, progress=_progress(element.shape[0])
        )
        return io.NodeOutput(out)


class LightWrap(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="WorldKitLightWrap",
            display_name="Light Wrap",
            category=CATEGORY,
            description="Lets the plate's light bleed over the element's edges so it sits in the shot's light. "
            "Element, matte and plate share one frame size (place the element first with Track Attach).",
            inputs=[
                io.Image.Input("element"),
                io.Mask.Input("matte"),
                io.Image.Input("plate"),
                io.Float.Input(
                    "radius",
                    default=24.0,
                    min=1.0,
                    max=256.0,
                    step=1.0,
                    tooltip="How far the light reaches in (pixels).",
                ),
                io.Float.Input("strength", default=0.6, min=0.0, max=2.0, step=0.05),
            ],
            outputs=[io.Image.Output(display_name="image")],
        )

    @classmethod
    def execute(cls, element, matte, plate, radius, strength) -> io.NodeOutput:
        return io.NodeOutput(light_wrap(element, matte, plate, radius, strength, progress=_progress(element.shape[0])))


class GrainMatch(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="WorldKitGrainMatch",
            display_name="Grain Match",
            category=CATEGORY,
            description="Measures the plate's grain per channel in a fine and a coarse band and adds what the element lacks.",
            inputs=[
                io.Image.Input("element"),
                io.Image.Input("plate"),
                io.Float.Input("strength", default=1.0, min=0.0, max=2.0, step=0.05),
                io.Int.Input("seed", default=0, min=0, max=0xFFFFFFFF, control_after_generate=False),
                io.Mask.Input(
                    "element_mask", optional=True, tooltip="Measure the element's own grain only where this is solid."
                ),
                io.Mask.Input(
                    "plate_region",
                    optional=True,
                    tooltip="Measure the plate's grain only in this region (a flat area is best).",
                ),
            ],
            outputs=[io.Image.Output(display_name="image")],
        )

    @classmethod
    def execute(cls, element, plate, strength, seed, element_mask=None, plate_region=None) -> io.NodeOutput:
        out = match_grain(
            element, plate, strength, element_mask, plate_region, seed, progress=_progress(element.shape[0])
        )
        return io.NodeOutput(out)


class DefocusMatch(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="WorldKitDefocusMatch",
            display_name="Defocus Match",
            category=CATEGORY,
            description="Estimates how soft the plate is near the insertion point and blurs the element (with its matte) to match.",
            inputs=[
                io.Image.Input("element"),
                io.Mask.Input("element_mask"),
                io.Image.Input("plate"),
                io.Combo.Input(
                    "shape", options=list(SHAPES), default="gaussian", tooltip="Gaussian, or a lens disk (bokeh)."
                ),
                io.Float.Input(
                    "amount", default=1.0, min=0.0, max=4.0, step=0.05, tooltip="Multiplies the estimated blur."
                ),
                io.Float.Input(
                    "manual_sigma",
                    default=-1.0,
                    min=-1.0,
                    max=64.0,
                    step=0.1,
                    tooltip="Blur sigma in pixels; -1 estimates it from the plate.",
                ),
                io.Mask.Input(
                    "plate_region",
                    optional=True,
                    tooltip="Where the element lands; the plate's softness is measured here.",
                ),
            ],
            outputs=[
                io.Image.Output(display_name="image"),
                io.Mask.Output(display_name="matte"),
                io.Float.Output(display_name="sigma"),
            ],
        )

    @classmethod
    def execute(cls, element, element_mask, plate, shape, amount, manual_sigma, plate_region=None) -> io.NodeOutput:
        sigma = manual_sigma if manual_sigma >= 0 else estimate_defocus(element, plate, element_mask, plate_region)
        image, matte = defocus(element, element_mask, sigma * amount, shape, progress=_progress(element.shape[0]))
        return io.NodeOutput(image, matte, float(sigma * amount))


class ContactShadow(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="WorldKitContactShadow",
            display_name="Contact Shadow",
            category=CATEGORY,
            description="Casts the element's matte onto the ground as a shadow, sharp at contact and softer with distance, and "
            "darkens the plate with it. Composite the element over the result.",
            inputs=[
                io.Image.Input("plate"),
                io.Mask.Input("matte", tooltip="The element's matte, placed on the plate."),
                io.Float.Input(
                    "direction",
                    default=120.0,
                    min=-180.0,
                    max=180.0,
                    step=1.0,
                    tooltip="Degrees: 0 casts right, 90 away from camera (up the frame), 180 left.",
                ),
                io.Float.Input(
                    "distance",
                    default=0.35,
                    min=0.0,
                    max=3.0,
                    step=0.01,
                    tooltip="Shadow length relative to the element's height.",
                ),
                io.Float.Input(
                    "softness", default=12.0, min=0.0, max=128.0, step=0.5, tooltip="Blur at the far end (pixels)."
                ),
                io.Float.Input("opacity", default=0.6, min=0.0, max=1.0, step=0.01),
                io.Float.Input(
                    "ground_line",
                    default=-1.0,
                    min=-1.0,
                    max=1.0,
                    step=0.005,
                    tooltip="Ground height as a fraction of the frame from the top; -1 uses the matte's lowest solid row.",
                ),
            ],
            outputs=[io.Image.Output(display_name="image"), io.Mask.Output(display_name="shadow")],
        )

    @classmethod
    def execute(cls, plate, matte, direction, distance, softness, opacity, ground_line) -> io.NodeOutput:
        ground = None if ground_line < 0 else ground_line
        image, shadow = contact_shadow(
            plate, matte, direction, distance, softness, opacity, ground, progress=_progress(plate.shape[0])
        )
        return io.NodeOutput(image, shadow)


class MotionBlur(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="WorldKitMotionBlur",
            display_name="Motion Blur",
            category=CATEGORY,
            description="Blurs the element along its motion: from TRACKS (e.g. Track Attach), from the matte's movement, or a fixed velocity.",
            inputs=[
                io.Image.Input("element"),
                io.Mask.Input("element_mask"),
                io.Combo.Input("motion_from", options=["matte", "tracks", "fixed"], default="matte"),
                io.Float.Input(
                    "shutter",
                    default=0.5,
                    min=0.0,
                    max=2.0,
                    step=0.05,
                    tooltip="Fraction of the frame interval the shutter is open (0.5 = 180 degrees).",
                ),
                io.Float.Input(
                    "velocity_x", default=0.0, min=-512.0, max=512.0, step=0.5, tooltip="Pixels per frame, for 'fixed'."
                ),
                io.Float.Input(
                    "velocity_y", default=0.0, min=-512.0, max=512.0, step=0.5, tooltip="Pixels per frame, for 'fixed'."
                ),
                io.Tracks.Input(
                    "tracks", optional=True, tooltip="Used with motion_from = tracks: the mean of the points' paths."
                ),
            ],
            outputs=[io.Image.Output(display_name="image"), io.Mask.Output(display_name="matte")],
        )

    @classmethod
    def execute(cls, element, element_mask, motion_from, shutter, velocity_x, velocity_y, tracks=None) -> io.NodeOutput:
        frames = element.shape[0]
        if motion_from == "tracks":
            if tracks is None:
                raise ValueError(
                    "Motion Blur: motion_from is 'tracks' but no tracks are connected; connect TRACKS or pick 'matte'."
                )
            velocity = velocities(path_from_tracks(tracks, frames))
        elif motion_from == "matte":
            velocity = None
        else:
            velocity = torch.tensor([[velocity_x, velocity_y]])
        image, matte = motion_blur(element, element_mask, velocity, shutter, progress=_progress(frames))
        return io.NodeOutput(image, matte)


class TrackAttach(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="WorldKitTrackAttach",
            display_name="Track Attach",
            category=CATEGORY,
            description="Places the element on the plate so it follows a point tracked through the plate (optical flow), or a "
            "path from TRACKS (e.g. Trajectory Keypoints). Outputs the placed element and matte at plate size, and the path.",
            inputs=[
                io.Image.Input("plate"),
                io.Image.Input("element"),
                io.Mask.Input("element_mask"),
                io.Combo.Input("follow", options=["plate point", "tracks"], default="plate point"),
                io.Float.Input(
                    "point_x",
                    default=0.5,
                    min=0.0,
                    max=1.0,
                    step=0.001,
                    tooltip="Plate point to track in the first frame (0..1 of width).",
                ),
                io.Float.Input(
                    "point_y",
                    default=0.5,
                    min=0.0,
                    max=1.0,
                    step=0.001,
                    tooltip="Plate point to track in the first frame (0..1 of height).",
                ),
                io.Float.Input(
                    "anchor_x",
                    default=0.5,
                    min=0.0,
                    max=1.0,
                    step=0.001,
                    tooltip="Element point that sits on the path (0..1 of width).",
                ),
                io.Float.Input(
                    "anchor_y",
                    default=1.0,
                    min=0.0,
                    max=1.0,
                    step=0.001,
                    tooltip="Element point that sits on the path (0..1 of height; 1 = feet).",
                ),
                io.Float.Input("scale", default=1.0, min=0.01, max=16.0, step=0.01),
                io.Float.Input(
                    "rotation", default=0.0, min=-360.0, max=360.0, step=0.5, tooltip="Degrees, counter-clockwise."
                ),
                io.Tracks.Input("tracks", optional=True, tooltip="Used with follow = tracks."),
                io.Int.Input(
                    "track_point",
                    default=-1,
                    min=-1,
                    max=1023,
                    optional=True,
                    tooltip="Which track point to follow; -1 follows the mean of the visible points.",
                ),
            ],
            outputs=[
                io.Image.Output(display_name="element"),
                io.Mask.Output(display_name="matte"),
                io.Tracks.Output(display_name="path"),
            ],
        )

    @classmethod
    def execute(
        cls,
        plate,
        element,
        element_mask,
        follow,
        point_x,
        point_y,
        anchor_x,
        anchor_y,
        scale,
        rotation,
        tracks=None,
        track_point=-1,
    ) -> io.NodeOutput:
        frames, height, width = plate.shape[0], plate.shape[1], plate.shape[2]
        frames = max(frames, element.shape[0])
        if follow == "tracks":
            if tracks is None:
                raise ValueError(
                    "Track Attach: follow is 'tracks' but no tracks are connected; connect TRACKS or pick 'plate point'."
                )
            path = path_from_tracks(tracks, frames, track_point)
        else:
            path = hold_path(track_plate_point(plate, point_x * (width - 1), point_y * (height - 1)), frames)
        placement = Placement(
            x=path[:, 0],
            y=path[:, 1],
            scale=scale,
            rotation=rotation,
            anchor_x=anchor_x * (element.shape[2] - 1),
            anchor_y=anchor_y * (element.shape[1] - 1),
        )
        placed, matte = place_element(element, element_mask, placement, height, width, progress=_progress(frames))
        return io.NodeOutput(placed, matte, path_to_tracks(path))


class CompositeOver(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="WorldKitCompositeOver",
            display_name="Composite Over",
            category=CATEGORY,
            description="Puts the element over the plate with premultiplied alpha in linear light (no dark or light fringes). "
            "Position, scale and rotation can change over the shot (start to end values, or a TRACKS path). "
            "Outputs the composite and the combined alpha.",
            inputs=[
                io.Image.Input("plate"),
                io.Image.Input("element"),
                io.Mask.Input("element_mask"),
                io.Float.Input(
                    "x",
                    default=0.5,
                    min=-1.0,
                    max=2.0,
                    step=0.001,
                    tooltip="Where the element's anchor lands (0..1 of plate width).",
                ),
                io.Float.Input(
                    "y",
                    default=0.5,
                    min=-1.0,
                    max=2.0,
                    step=0.001,
                    tooltip="Where the element's anchor lands (0..1 of plate height).",
                ),
                io.Float.Input("anchor_x", default=0.5, min=0.0, max=1.0, step=0.001),
                io.Float.Input("anchor_y", default=0.5, min=0.0, max=1.0, step=0.001),
                io.Float.Input(
                    "scale", default=1.0, min=0.01, max=16.0, step=0.01, tooltip="Scale in the first frame."
                ),
                io.Float.Input(
                    "scale_end",
                    default=1.0,
                    min=0.01,
                    max=16.0,
                    step=0.01,
                    tooltip="Scale in the last frame (linear in between).",
                ),
                io.Float.Input(
                    "rotation", default=0.0, min=-360.0, max=360.0, step=0.5, tooltip="Degrees in the first frame."
                ),
                io.Float.Input(
                    "rotation_end", default=0.0, min=-360.0, max=360.0, step=0.5, tooltip="Degrees in the last frame."
                ),
                io.Mask.Input(
                    "plate_mask", optional=True, tooltip="The plate's own alpha; without it the plate is opaque."
                ),
                io.Tracks.Input(
                    "tracks", optional=True, tooltip="Per-frame position (mean of the points) instead of x, y."
                ),
            ],
            outputs=[io.Image.Output(display_name="image"), io.Mask.Output(display_name="alpha")],
        )

    @classmethod
    def execute(
        cls,
        plate,
        element,
        element_mask,
        x,
        y,
        anchor_x,
        anchor_y,
        scale,
        scale_end,
        rotation,
        rotation_end,
        plate_mask=None,
        tracks=None,
    ) -> io.NodeOutput:
        frames = max(plate.shape[0], element.shape[0])
        height, width = plate.shape[1], plate.shape[2]
        identity = (
            tracks is None
            and tuple(element.shape[1:3]) == (height, width)
            and x == anchor_x == 0.5
            and y == anchor_y == 0.5
            and scale == scale_end == 1.0
            and rotation == rotation_end == 0.0
        )
        placement = None
        if not identity:
            if tracks is not None:
                path = path_from_tracks(tracks, frames)
                px, py = path[:, 0], path[:, 1]
            else:
                px, py = x * (width - 1), y * (height - 1)
            placement = Placement(
                x=px,
                y=py,
                scale=torch.linspace(scale, scale_end, frames),
                rotation=torch.linspace(rotation, rotation_end, frames),
                anchor_x=anchor_x * (element.shape[2] - 1),
                anchor_y=anchor_y * (element.shape[1] - 1),
            )
        image, alpha = composite_over(plate, element, element_mask, plate_mask, placement, progress=_progress(frames))
        return io.NodeOutput(image, alpha)


class SaveWithAlpha(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="WorldKitSaveWithAlpha",
            display_name="Save With Alpha",
            category=CATEGORY,
            description="Writes frames with their alpha to ComfyUI's output folder: an RGBA PNG sequence (8 or 16 bit) and, "
            "optionally, an RGBA video (MOV with PNG or QuickTime Animation codec, or WebM VP9 with alpha).",
            inputs=[
                io.Image.Input("images"),
                io.Mask.Input("alpha", tooltip="Alpha per frame (1 = opaque); one frame is used for every frame."),
                io.String.Input("filename_prefix", default="WorldKit/gvfx"),
                io.Combo.Input("bit_depth", options=["8", "16"], default="8"),
                io.Combo.Input("video", options=["none", *export.VIDEO_FORMATS], default="mov (PNG codec, lossless)"),
                io.Float.Input("fps", default=24.0, min=0.01, max=240.0, step=0.01),
            ],
            hidden=[io.Hidden.prompt, io.Hidden.extra_pnginfo],
            is_output_node=True,
        )

    @classmethod
    def execute(cls, images, alpha, filename_prefix, bit_depth, video, fps) -> io.NodeOutput:
        image, matte = export.rgba_frames(images, alpha)
        frames, height, width, _ = image.shape
        folder, stem, counter, subfolder, _ = folder_paths.get_save_image_path(
            filename_prefix, folder_paths.get_output_directory(), width, height
        )
        text = cls._metadata()
        progress = _progress(frames)
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
        """The prompt and workflow as PNG text, as ComfyUI's own Save Image writes them."""
        hidden = cls.hidden
        text = {}
        if hidden is not None and hidden.prompt is not None:
            text["prompt"] = json.dumps(hidden.prompt)
        if hidden is not None and hidden.extra_pnginfo:
            text.update({key: json.dumps(value) for key, value in hidden.extra_pnginfo.items()})
        return text


NODES: list[type[io.ComfyNode]] = [
    MatteRefine,
    ChromaKey,
    ColorMatch,
    LightWrap,
    GrainMatch,
    DefocusMatch,
    ContactShadow,
    MotionBlur,
    TrackAttach,
    CompositeOver,
    SaveWithAlpha,
]
