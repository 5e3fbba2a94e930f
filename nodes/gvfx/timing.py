"""WorldKit/GVFX: Frame-rate conform, so a 16 fps generated element plays in step with a 24/25/30 fps plate."""

from __future__ import annotations

from comfy_api.latest import io

from ...models.compositing.conform import METHODS, conformed_frames, mapping_report
from ...models.streaming.retime import Conformed
from .. import categories
from .frames import Step, footage_of, frames_input, frames_output, mask_input, mask_output


class WorldKitConformFrameRate(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="WorldKitConformFrameRate",
            display_name="GVFX Conform Frame Rate",
            category=categories.GVFX,
            description="Retimes an element and its alpha to the plate's frame rate, keeping its playing time: "
            "motion-compensated interpolation (OpenCV optical flow) with a cross-fade where the flow is unreliable, "
            "or a plain frame blend. Reports which source position each output frame shows. Conform before Track "
            "Attach, Motion Blur and the composite so everything timed counts the plate's frames.",
            inputs=[
                frames_input("element", "The element to retime."),
                mask_input(
                    "element_mask",
                    "The element's matte (retimed with it); a VIDEO's own alpha when absent.",
                    optional=True,
                ),
                io.Float.Input(
                    "source_fps",
                    default=16.0,
                    min=0.0,
                    max=240.0,
                    step=0.001,
                    tooltip="The element's rate (Wan renders 16 fps); 0 takes it from the element VIDEO.",
                ),
                io.Float.Input(
                    "target_fps",
                    default=24.0,
                    min=0.0,
                    max=240.0,
                    step=0.001,
                    tooltip="The plate's rate; 0 takes it from the plate VIDEO.",
                ),
                io.Combo.Input(
                    "method",
                    options=list(METHODS),
                    default="motion",
                    tooltip="motion: optical-flow interpolation, falling back to a blend where the flow disagrees; "
                    "blend: cross-fade neighbouring frames.",
                ),
                io.MultiType.Input(
                    io.Video.Input("plate", optional=True, tooltip="A VIDEO whose rate is the target (target_fps 0)."),
                    types=[io.Video, io.Image],
                ),
            ],
            outputs=[
                frames_output("element", "The retimed element."),
                mask_output("matte", "The retimed matte."),
                io.String.Output(display_name="mapping", tooltip="JSON: the source position of every output frame."),
                io.Int.Output(display_name="frames", tooltip="Frames after the conform."),
            ],
        )

    @classmethod
    def execute(cls, **inputs) -> io.NodeOutput:
        step = Step(cls, inputs)
        own = step.footage["element"]

        def record(element, source_fps, target_fps, method, element_mask=None, plate=None):
            fps_in = source_fps or own.fps
            fps_out = target_fps or (footage_of(plate, "plate").fps if plate is not None else None)
            if not fps_in:
                raise ValueError("Conform Frame Rate: source_fps is 0 but the element is not a VIDEO; give its rate.")
            if not fps_out:
                raise ValueError("Conform Frame Rate: target_fps is 0 and no plate VIDEO is connected; give the rate.")
            fps_in, fps_out = float(fps_in), float(fps_out)
            retimed = Conformed(element, element_mask or own.alpha, fps_in, fps_out, method).clips()
            report = mapping_report(element.frames, fps_in, fps_out)
            return [*retimed, report, conformed_frames(element.frames, fps_in, fps_out)]

        return step.run(record)


NODES: list[type[io.ComfyNode]] = [WorldKitConformFrameRate]
