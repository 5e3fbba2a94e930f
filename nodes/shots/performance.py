"""WorldKit/Shots: Shot Performance, a voice and a driving clip for HuMo, Wan Animate and Wan S2V shots."""

from __future__ import annotations

from comfy_api.latest import io

from ...models.shots.binding.families import FAMILIES
from ...models.shots.binding.performance import WAV2VEC2, WHISPER, Performance
from .. import categories
from ..types import Performance as PerformanceType


class WorldKitShotPerformance(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="WorldKitShotPerformance",
            display_name="Shot Performance",
            category=categories.SHOTS,
            description="What a character performs to, for Bind Shot and World Shot Sampler: a voice (HuMo and Wan S2V "
            "speak or sing to it) and a driving clip's pose and face videos (Wan Animate; Wan S2V follows the pose). "
            "With a live plate and the mask of the person in it, Wan Animate replaces that person with the character.",
            inputs=[
                io.AudioEncoderOutput.Input(
                    "audio",
                    optional=True,
                    tooltip=f"Audio Encoder Encode's output: of {WHISPER.name} ({WHISPER.file}) for HuMo, in shots at "
                    f"{FAMILIES['humo'].voice.fps} fps; of {WAV2VEC2.name} ({WAV2VEC2.file}) for Wan S2V, in shots at "
                    f"{FAMILIES['s2v'].voice.fps} fps. Another encoder's voice, or a shot at another rate, is refused "
                    "when the shot binds.",
                ),
                io.Image.Input(
                    "pose_video",
                    optional=True,
                    tooltip="Wan Animate (and Wan S2V's control video): the driving clip's pose frames, at the shot's "
                    "aspect, as long as the shot.",
                ),
                io.Image.Input(
                    "face_video",
                    optional=True,
                    tooltip="Wan Animate: square crops of the performer's face, one per frame of the shot.",
                ),
                io.Image.Input(
                    "background_video",
                    optional=True,
                    tooltip="Wan Animate replacement: the live plate the character is put into.",
                ),
                io.Mask.Input(
                    "character_mask",
                    optional=True,
                    tooltip="Wan Animate replacement: where the person to replace is in the plate (one mask or one "
                    "per frame).",
                ),
            ],
            outputs=[
                PerformanceType.Output(
                    display_name="performance", tooltip="For Bind Shot's or World Shot Sampler's performance input."
                )
            ],
        )

    @classmethod
    def execute(
        cls, audio=None, pose_video=None, face_video=None, background_video=None, character_mask=None
    ) -> io.NodeOutput:
        return io.NodeOutput(Performance(audio, pose_video, face_video, background_video, character_mask))


NODES: list[type[io.ComfyNode]] = [WorldKitShotPerformance]
