"""WorldKit/Sampling: Assemble Cut."""

import json
from fractions import Fraction

from comfy_api.latest import InputImpl, Types, io

from ...models.sampling.cut import (
    DEFAULT_BEAT_THRESHOLD,
    DEFAULT_MIN_KEEP,
    TRANSITIONS,
    assemble_cut,
    detect_beats,
    parse_shot_lengths,
)
from ...models.shared.pixels import require_pixels
from .. import categories
from ..inputs import parse_problem, verdict


class WorldKitAssembleCut(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="WorldKitAssembleCut",
            display_name="Assemble Cut",
            category=categories.SAMPLING,
            description="Join shots into one video with hard cuts or crossfades. With a track connected and snap to "
            "beats on, each cut lands on a detected beat by trimming the end of the shot before it. Connect the video "
            "to Save Video.",
            inputs=[
                io.Image.Input("frames", tooltip="Every shot's frames, one after another."),
                io.String.Input(
                    "shot_lengths",
                    default="",
                    tooltip="Frames per shot, e.g. '81, 81, 49', or the World Shot Sampler's "
                    "shot_boundaries; empty means one shot.",
                ),
                io.Float.Input(
                    "fps", default=16.0, min=1.0, max=120.0, step=1.0, tooltip="Frames per second of the cut."
                ),
                io.Combo.Input(
                    "transition",
                    options=list(TRANSITIONS),
                    default="cut",
                    tooltip="cut: a hard cut from one shot to the next; crossfade: the shots dissolve into each "
                    "other over crossfade_frames.",
                ),
                io.Int.Input(
                    "crossfade_frames",
                    default=8,
                    min=0,
                    max=240,
                    tooltip="Frames two shots overlap in a crossfade (ignored for hard cuts).",
                ),
                io.Boolean.Input(
                    "snap_to_beats",
                    default=False,
                    tooltip="Move each cut to a beat of the audio (needs the audio input).",
                ),
                io.Float.Input(
                    "beat_threshold",
                    default=DEFAULT_BEAT_THRESHOLD,
                    min=0.01,
                    max=1.0,
                    step=0.01,
                    tooltip="How strong an onset must be (share of the strongest) to count as a beat.",
                ),
                io.Float.Input(
                    "min_keep",
                    default=DEFAULT_MIN_KEEP,
                    min=0.0,
                    max=1.0,
                    step=0.05,
                    tooltip="Snapping never trims a shot below this share of its frames.",
                ),
                io.Audio.Input("audio", optional=True, tooltip="Laid under the cut; its beats place the cuts."),
            ],
            outputs=[
                io.Video.Output(display_name="video", tooltip="The cut with the track under it, for Save Video."),
                io.String.Output(display_name="cut_list", tooltip="JSON: each cut's frame and the beat it landed on."),
                io.Image.Output(display_name="frames", tooltip="The cut's frames."),
            ],
        )

    @classmethod
    def validate_inputs(cls, shot_lengths=None) -> bool | str:
        """The lengths' syntax is checked before the prompt runs; their sum once the frames arrive."""
        return verdict(parse_problem(lambda lengths: parse_shot_lengths(lengths, None), shot_lengths))

    @classmethod
    def execute(
        cls,
        frames,
        shot_lengths,
        fps,
        transition,
        crossfade_frames,
        snap_to_beats,
        beat_threshold,
        min_keep,
        audio=None,
    ) -> io.NodeOutput:
        if snap_to_beats and audio is None:
            raise ValueError(
                "snap_to_beats is on but no audio is connected: connect a track to 'audio' "
                "(e.g. from Load Audio) or turn snap_to_beats off."
            )
        require_pixels(frames, "frames")
        lengths = parse_shot_lengths(shot_lengths, frames.shape[0])
        beats = (
            detect_beats(audio["waveform"], audio["sample_rate"], threshold=beat_threshold) if snap_to_beats else None
        )
        cut = assemble_cut(frames, lengths, fps, transition, crossfade_frames, beats, min_keep)
        video = InputImpl.VideoFromComponents(
            Types.VideoComponents(images=cut.frames, audio=audio, frame_rate=Fraction(fps))
        )
        return io.NodeOutput(video, json.dumps(cut.to_dict()), cut.frames)


NODES: list[type[io.ComfyNode]] = [WorldKitAssembleCut]
