"""WorldKit/GVFX: placing the element in the plate: track attach and the final over."""

from __future__ import annotations

import torch
from comfy_api.latest import io

from ...models.compositing.composite import Placement, pixel_position, placed_frames
from ...models.compositing.track_attach import hold_path, path_from_tracks, path_to_tracks
from ...models.streaming import ops
from .. import categories
from .device import compute_device
from .frames import Step, frames_input, frames_output, mask_input, mask_meaning_input, mask_output


class WorldKitTrackAttach(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="WorldKitTrackAttach",
            display_name="GVFX Track Attach",
            category=categories.GVFX,
            description="Places the element on the plate so it follows a point tracked through the plate (optical "
            "flow), or a path from TRACKS (e.g. Trajectory Keypoints). Outputs the placed element and matte at plate "
            "size, and the path.",
            inputs=[
                frames_input("plate", tooltip="The shot to attach the element to."),
                frames_input("element", tooltip="The element (any size)."),
                mask_input("element_mask", tooltip="The element's matte. Subject = 1."),
                io.Combo.Input(
                    "follow",
                    options=["plate point", "tracks"],
                    default="plate point",
                    tooltip="Track a point of the plate (optical flow), or follow a TRACKS path.",
                ),
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
                io.Float.Input(
                    "scale", default=1.0, min=0.01, max=16.0, step=0.01, tooltip="Element size on the plate."
                ),
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
                frames_output("element", tooltip="The element placed at plate size."),
                mask_output("matte", tooltip="The placed matte."),
                io.Tracks.Output(display_name="path", tooltip="The path followed, in plate pixels per frame."),
            ],
        )

    @classmethod
    def execute(cls, **inputs) -> io.NodeOutput:
        if inputs["follow"] == "tracks" and inputs.get("tracks") is None:
            raise ValueError(
                "Track Attach: follow is 'tracks' but no tracks are connected; connect TRACKS or pick 'plate point'."
            )

        def record(
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
        ):
            frames = placed_frames(plate.frames, element.frames)
            if follow == "tracks":
                path = path_from_tracks(tracks, frames, track_point)
            else:
                spot = (pixel_position(point_x, plate.width), pixel_position(point_y, plate.height))
                path = hold_path(ops.tracked_point(plate, *spot), frames)
            placement = Placement(
                x=path[:, 0],
                y=path[:, 1],
                scale=scale,
                rotation=rotation,
                anchor_x=pixel_position(anchor_x, element.width),
                anchor_y=pixel_position(anchor_y, element.height),
            )
            placed = ops.placed(element, element_mask, placement, frames, (plate.height, plate.width), plate.fps)
            return [*placed, path_to_tracks(path)]

        return Step(cls, inputs).run(record)


class WorldKitCompositeOver(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="WorldKitCompositeOver",
            display_name="GVFX Composite Over",
            category=categories.GVFX,
            description="Puts the element over the plate with premultiplied alpha in linear light (no dark or light "
            "fringes). Position, scale and rotation can change over the shot (start to end values, or a TRACKS path). "
            "Outputs the composite and the combined alpha.",
            inputs=[
                frames_input("plate", tooltip="The shot."),
                frames_input("element", tooltip="The element to put over it."),
                mask_input("element_mask", tooltip="The element's matte. Subject = 1."),
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
                io.Float.Input(
                    "anchor_x",
                    default=0.5,
                    min=0.0,
                    max=1.0,
                    step=0.001,
                    tooltip="Element point placed at x (0..1 of width).",
                ),
                io.Float.Input(
                    "anchor_y",
                    default=0.5,
                    min=0.0,
                    max=1.0,
                    step=0.001,
                    tooltip="Element point placed at y (0..1 of height).",
                ),
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
                mask_input(
                    "plate_mask", optional=True, tooltip="The plate's own alpha; without it the plate is opaque."
                ),
                io.Tracks.Input(
                    "tracks", optional=True, tooltip="Per-frame position (mean of the points) instead of x, y."
                ),
                mask_meaning_input("What element_mask, plate_mask and the alpha output mean.", optional=True),
            ],
            outputs=[
                frames_output("image", tooltip="The composite."),
                mask_output("alpha", tooltip="The combined alpha."),
            ],
        )

    @classmethod
    def execute(cls, **inputs) -> io.NodeOutput:
        def record(
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
        ):
            frames = placed_frames(plate.frames, element.frames)
            identity = (
                tracks is None
                and (element.height, element.width) == (plate.height, plate.width)
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
                    px, py = pixel_position(x, plate.width), pixel_position(y, plate.height)
                placement = Placement(
                    x=px,
                    y=py,
                    scale=torch.linspace(scale, scale_end, frames),
                    rotation=torch.linspace(rotation, rotation_end, frames),
                    anchor_x=pixel_position(anchor_x, element.width),
                    anchor_y=pixel_position(anchor_y, element.height),
                )
            return ops.composited(plate, element, element_mask, plate_mask, placement, compute_device())

        return Step(cls, inputs).run(record)


NODES: list[type[io.ComfyNode]] = [WorldKitTrackAttach, WorldKitCompositeOver]
