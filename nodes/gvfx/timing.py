"""WorldKit/GVFX: Frame-rate conform, so a 16 fps generated element plays in step with a 24/25/30 fps plate."""

from __future__ import annotations

from comfy_api.latest import io

from ...models.compositing.conform import METHODS, conformed_frames, mapping_report
from ...models.streaming.retime import Conformed
from .. import categories
from ..runtime.lazy_video import clips_of
from .frames import frames_input, frames_output, mask_input, mask_output, run


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
    def execute(cls, element, source_fps, target_fps, method, element_mask=None, plate=None) -> io.NodeOutput:
        image, own_alpha, own_fps = clips_of(element, "element")
        fps_in = source_fps or own_fps
        fps_out = target_fps or (clips_of(plate, "plate")[2] if plate is not None else None)
        if not fps_in:
            raise ValueError("Conform Frame Rate: source_fps is 0 but the element is not a VIDEO; give its rate.")
        if not fps_out:
            raise ValueError("Conform Frame Rate: target_fps is 0 and no plate VIDEO is connected; give the rate.")
        fps_in, fps_out = float(fps_in), float(fps_out)

        def record(element, element_mask):
            return Conformed(element, element_mask or own_alpha, fps_in, fps_out, method).clips()

        retimed, matte = run(record, {"element": element}, {"element_mask": element_mask}, kinds=("image", "mask"))
        count = conformed_frames(image.frames, fps_in, fps_out)
        return io.NodeOutput(retimed, matte, mapping_report(image.frames, fps_in, fps_out), count)


NODES: list[type[io.ComfyNode]] = [WorldKitConformFrameRate]
