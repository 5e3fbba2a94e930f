"""WorldKit/GVFX: Mattes and keys: refine a rough matte, pull a chroma key."""

from __future__ import annotations

from comfy_api.latest import io

from ...models.compositing.matte import QUALITIES, MatteSettings
from ...models.streaming import ops
from .. import categories
from .device import compute_device
from .frames import Step, frames_input, frames_output, mask_input, mask_output


class WorldKitMatteRefine(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="WorldKitMatteRefine",
            display_name="GVFX Matte Refine",
            category=categories.GVFX,
            description="Turns a rough mask from any matting or segmentation node into a production matte: edges "
            "snapped to the element's colour edges (the mask kept where the picture offers no better edge), clean "
            "core and background, choke/grow, feather, despill, and temporal smoothing that does not lag on moving "
            "edges.",
            inputs=[
                frames_input("image", tooltip="The element frames the mask belongs to."),
                mask_input("mask", tooltip="Rough matte (subject = 1). One frame is used for every frame."),
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
                    default=0.02,
                    min=0.0,
                    max=0.99,
                    step=0.01,
                    tooltip="Alpha at or below this becomes 0.",
                ),
                io.Float.Input(
                    "clip_white",
                    default=0.98,
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
                io.Float.Input(
                    "despill_strength",
                    default=1.0,
                    min=0.0,
                    max=1.0,
                    step=0.05,
                    tooltip="How much of the spill to remove.",
                ),
                io.Combo.Input(
                    "quality",
                    options=list(QUALITIES),
                    default="fast",
                    optional=True,
                    tooltip="fast: interactive at 720p. accurate: closed-form matting, seconds a frame, for finals.",
                ),
            ],
            outputs=[
                frames_output("image", tooltip="The element, despilled."),
                mask_output("matte", tooltip="The refined matte."),
                io.Image.Output(
                    display_name="foreground",
                    tooltip="The element's own colour with the old background un-mixed from its edges: composite this, "
                    "not image, to avoid fringes.",
                ),
            ],
        )

    @classmethod
    def execute(cls, **inputs) -> io.NodeOutput:
        def record(image, mask, edge_radius, edge_smoothness, quality="fast", **settings):
            settings = MatteSettings(radius=edge_radius, eps=edge_smoothness, quality=quality, **settings)
            return ops.refined(image, mask, settings, compute_device())

        return Step(cls, inputs).run(record)


class WorldKitChromaKey(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="WorldKitChromaKey",
            display_name="GVFX Chroma Key",
            category=categories.GVFX,
            description="Pulls a matte from a green or blue screen by colour difference and suppresses the screen's "
            "spill.",
            inputs=[
                frames_input("image", tooltip="The green or blue screen element."),
                io.Combo.Input("screen", options=["green", "blue"], default="green", tooltip="The screen colour."),
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
                frames_input(
                    "clean_plate",
                    optional=True,
                    tooltip="The screen shot without the subject; without it the screen is modelled from each frame.",
                ),
            ],
            outputs=[
                frames_output("image", tooltip="The element with the screen's spill suppressed."),
                mask_output("matte", tooltip="The key (subject = 1)."),
            ],
        )

    @classmethod
    def execute(cls, **inputs) -> io.NodeOutput:
        def record(image, screen, balance, clip_black, clip_white, spill, clean_plate=None):
            levels = {"clip_black": clip_black, "clip_white": clip_white, "spill": spill}
            return ops.keyed(image, clean_plate, screen, balance, compute_device(), **levels)

        return Step(cls, inputs).run(record)


NODES: list[type[io.ComfyNode]] = [WorldKitMatteRefine, WorldKitChromaKey]
