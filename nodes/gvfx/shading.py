"""WorldKit/GVFX: the element in the plate's light and motion: contact shadow and motion blur."""

from __future__ import annotations

import torch
from comfy_api.latest import io

from ...models.compositing.motion_blur import velocities
from ...models.compositing.track_attach import path_from_tracks
from ...models.streaming import ops
from .. import categories
from .device import compute_device
from .frames import Step, frames_input, frames_output, mask_input, mask_output


class WorldKitContactShadow(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="WorldKitContactShadow",
            display_name="GVFX Contact Shadow",
            category=categories.GVFX,
            description="Casts the element's matte onto the ground as a shadow, sharp at contact and softer with "
            "distance, and darkens the plate with it. Composite the element over the result.",
            inputs=[
                frames_input("plate", tooltip="The shot to cast the shadow on."),
                mask_input("matte", tooltip="The element's matte, placed on the plate."),
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
                io.Float.Input(
                    "opacity", default=0.6, min=0.0, max=1.0, step=0.01, tooltip="How dark the shadow is at contact."
                ),
                io.Float.Input(
                    "ground_line",
                    default=-1.0,
                    min=-1.0,
                    max=1.0,
                    step=0.005,
                    tooltip="Ground height as a fraction of the frame from the top; -1 uses the matte's lowest solid "
                    "row.",
                ),
            ],
            outputs=[
                frames_output("image", tooltip="The plate darkened by the shadow."),
                mask_output("shadow", tooltip="The shadow's strength."),
            ],
        )

    @classmethod
    def execute(cls, **inputs) -> io.NodeOutput:
        def record(plate, matte, direction, distance, softness, opacity, ground_line):
            ground = None if ground_line < 0 else ground_line
            settings = direction, distance, softness, opacity
            return ops.shadowed(plate, matte, *settings, ground_line=ground, device=compute_device())

        return Step(cls, inputs).run(record)


class WorldKitMotionBlur(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="WorldKitMotionBlur",
            display_name="GVFX Motion Blur",
            category=categories.GVFX,
            description="Blurs the element along its motion: from TRACKS (e.g. Track Attach), from the matte's "
            "movement, or a fixed velocity.",
            inputs=[
                frames_input("element", tooltip="The element to blur."),
                mask_input("element_mask", tooltip="The element's matte (blurred with it). Subject = 1."),
                io.Combo.Input(
                    "motion_from",
                    options=["matte", "tracks", "fixed"],
                    default="matte",
                    tooltip="Where the velocity comes from: the matte's movement, TRACKS, or velocity_x/y.",
                ),
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
            outputs=[
                frames_output("image", tooltip="The blurred element."),
                mask_output("matte", tooltip="The blurred matte."),
            ],
        )

    @classmethod
    def execute(cls, **inputs) -> io.NodeOutput:
        if inputs["motion_from"] == "tracks" and inputs.get("tracks") is None:
            raise ValueError(
                "Motion Blur: motion_from is 'tracks' but no tracks are connected; connect TRACKS or pick 'matte'."
            )

        def record(element, element_mask, motion_from, shutter, velocity_x, velocity_y, tracks=None):
            if motion_from == "tracks":
                velocity = velocities(path_from_tracks(tracks, element.frames))
            elif motion_from == "matte":
                velocity = None
            else:
                velocity = torch.tensor([[velocity_x, velocity_y]])
            return ops.motion_blurred(element, element_mask, velocity, shutter, compute_device())

        return Step(cls, inputs).run(record)


NODES: list[type[io.ComfyNode]] = [WorldKitContactShadow, WorldKitMotionBlur]
