"""WorldKit/GVFX: Matching the element to the plate: colour, light wrap, grain and defocus."""

from __future__ import annotations

from comfy_api.latest import io

from ...models.compositing.color_match import METHODS
from ...models.compositing.defocus import SHAPES
from ...models.streaming import ops
from .. import categories
from ..inputs import seed_input
from .device import compute_device
from .frames import Step, frames_input, frames_output, mask_input, mask_output


class WorldKitColorMatch(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="WorldKitColorMatch",
            display_name="GVFX Color Match",
            category=categories.GVFX,
            description="Matches the element's colour to the plate: Reinhard LAB mean/std, histogram, or MKL. "
            "Statistics come from the whole clip (stable in time), from the element's matte, and from the plate "
            "region around where it lands.",
            inputs=[
                frames_input("element", tooltip="The element to grade."),
                frames_input("plate", tooltip="The shot to match."),
                io.Combo.Input(
                    "method",
                    options=list(METHODS),
                    default="reinhard_lab",
                    tooltip="reinhard_lab: mean and spread in LAB; histogram: per-channel curves; mkl: full colour "
                    "covariance.",
                ),
                io.Float.Input(
                    "strength", default=1.0, min=0.0, max=1.0, step=0.05, tooltip="0 leaves the element as it is."
                ),
                mask_input("element_mask", optional=True, tooltip="Measure the element only where this is solid."),
                mask_input("plate_region", optional=True, tooltip="Measure the plate only inside this region."),
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
            outputs=[frames_output("image", tooltip="The graded element.")],
        )

    @classmethod
    def execute(cls, **inputs) -> io.NodeOutput:
        def record(element, plate, method, strength, element_mask=None, plate_region=None, around_element=0):
            if plate_region is None and element_mask is not None and around_element > 0:
                plate_region = ops.region_around(element_mask, around_element)
            return [ops.color_matched(element, plate, method, strength, element_mask, plate_region, compute_device())]

        return Step(cls, inputs).run(record)


class WorldKitLightWrap(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="WorldKitLightWrap",
            display_name="GVFX Light Wrap",
            category=categories.GVFX,
            description="Lets the plate's light bleed over the element's edges so it sits in the shot's light. "
            "Element, matte and plate share one frame size (place the element first with Track Attach).",
            inputs=[
                frames_input("element", tooltip="The element, placed at plate size."),
                mask_input("matte", tooltip="The element's matte. Subject = 1."),
                frames_input("plate", tooltip="The shot whose light wraps the element."),
                io.Float.Input(
                    "radius",
                    default=24.0,
                    min=1.0,
                    max=256.0,
                    step=1.0,
                    tooltip="How far the light reaches in (pixels).",
                ),
                io.Float.Input(
                    "strength", default=0.6, min=0.0, max=2.0, step=0.05, tooltip="How bright the wrapped light is."
                ),
            ],
            outputs=[frames_output("image", tooltip="The element with the plate's light over its edges.")],
        )

    @classmethod
    def execute(cls, **inputs) -> io.NodeOutput:
        def record(element, matte, plate, radius, strength):
            return [ops.light_wrapped(element, matte, plate, radius, strength, compute_device())]

        return Step(cls, inputs).run(record)


class WorldKitGrainMatch(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="WorldKitGrainMatch",
            display_name="GVFX Grain Match",
            category=categories.GVFX,
            description="Measures the plate's grain per channel in a fine and a coarse band and adds what the element "
            "lacks.",
            inputs=[
                frames_input("element", tooltip="The element to add grain to."),
                frames_input("plate", tooltip="The shot whose grain is measured."),
                io.Float.Input(
                    "strength", default=1.0, min=0.0, max=2.0, step=0.05, tooltip="Multiplies the grain added."
                ),
                seed_input("Seed of the added grain pattern.", control_after_generate=False),
                mask_input(
                    "element_mask", optional=True, tooltip="Measure the element's own grain only where this is solid."
                ),
                mask_input(
                    "plate_region",
                    optional=True,
                    tooltip="Measure the plate's grain only in this region (a flat area is best).",
                ),
            ],
            outputs=[frames_output("image", tooltip="The element with the plate's grain.")],
        )

    @classmethod
    def execute(cls, **inputs) -> io.NodeOutput:
        def record(element, plate, strength, seed, element_mask=None, plate_region=None):
            return [ops.grain_matched(element, plate, strength, seed, element_mask, plate_region, compute_device())]

        return Step(cls, inputs).run(record)


class WorldKitDefocusMatch(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="WorldKitDefocusMatch",
            display_name="GVFX Defocus Match",
            category=categories.GVFX,
            description="Estimates how soft the plate is near the insertion point and blurs the element (with its "
            "matte) to match.",
            inputs=[
                frames_input("element", tooltip="The element to soften."),
                mask_input("element_mask", tooltip="The element's matte (blurred with it). Subject = 1."),
                frames_input("plate", tooltip="The shot whose softness is matched."),
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
                mask_input(
                    "plate_region",
                    optional=True,
                    tooltip="Where the element lands; the plate's softness is measured here.",
                ),
            ],
            outputs=[
                frames_output("image", tooltip="The softened element."),
                mask_output("matte", tooltip="The softened matte."),
                io.Float.Output(display_name="sigma", tooltip="The blur applied (pixels)."),
            ],
        )

    @classmethod
    def execute(cls, **inputs) -> io.NodeOutput:
        def record(element, element_mask, plate, shape, amount, manual_sigma, plate_region=None):
            sigma = manual_sigma if manual_sigma >= 0 else ops.defocus_sigma(element, element_mask, plate, plate_region)
            softened = ops.defocused(element, element_mask, sigma * amount, shape, compute_device())
            return [*softened, float(sigma * amount)]

        return Step(cls, inputs).run(record)


NODES: list[type[io.ComfyNode]] = [WorldKitColorMatch, WorldKitLightWrap, WorldKitGrainMatch, WorldKitDefocusMatch]
