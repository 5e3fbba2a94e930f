"""WorldKit/Shots: binding a shot to a world for the loaded Wan model."""

from __future__ import annotations

import json

import torch
from comfy_api.latest import io

from ...models.motion.formats import trackset_from_ati
from ...models.motion.tracks import TrackSet
from ...models.shots.binding import FAMILY_CHOICES, LOCATION_MODES, BindInputs, BindOptions, bind_shot
from ...models.shots.shot import Shot, shot_for_model, timing_report
from .. import categories
from ..inputs import wan_inputs
from ..runtime.shot_sampling import loaded_rules
from ..runtime.track_maths import ComfyTrackMaths
from ..types import Performance as PerformanceType
from ..types import Shot as ShotType


class WorldKitBindShot(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="WorldKitBindShot",
            display_name="Bind Shot To Wan",
            category=categories.SHOTS,
            description="Compile a shot and the world entities it shows into conditioning and a latent for the loaded "
            "Wan model (VACE, Phantom, I2V, FLF, ATI, Wan-Move, T2V, Wan 2.2 TI2V-5B, Fun Camera, HuMo or Wan "
            "Animate). Feed KSampler, then trim the leading trim_latent frames with TrimVideoLatent before decoding.",
            inputs=[
                *wan_inputs("encodes reference images and start frames"),
                ShotType.Input("shot", tooltip="The shot to bind (World Shot or Pick Shot From List)."),
                io.Combo.Input(
                    "family",
                    options=list(FAMILY_CHOICES),
                    default="auto",
                    tooltip="auto reads the weights: VACE, FLF, I2V (ATI with track JSON, Wan-Move with "
                    "TRACKS), T2V or TI2V (Wan 2.2 5B). Phantom, ATI and Wan-Move share weights with their bases, "
                    "so pick them here.",
                ),
                io.Combo.Input(
                    "location_as",
                    options=list(LOCATION_MODES),
                    default="auto",
                    tooltip="Where the location's plate goes. VACE and T2V: a reference (auto) or the "
                    "first frame; I2V, FLF, ATI, Wan-Move, TI2V: the start frame (auto); Phantom: text "
                    "only (auto) or the first frame. 'text only' keeps just its description.",
                ),
                io.Int.Input(
                    "views_per_entity",
                    default=1,
                    min=1,
                    max=16,
                    tooltip="How many views of each entity become reference images.",
                ),
                io.Float.Input(
                    "vace_strength",
                    default=1.0,
                    min=0.0,
                    max=1000.0,
                    step=0.01,
                    tooltip="VACE: how strongly the reference images steer the shot (as WanVaceToVideo's strength).",
                ),
                io.Float.Input(
                    "track_strength",
                    default=1.0,
                    min=0.0,
                    max=100.0,
                    step=0.01,
                    tooltip="Wan-Move: strength of the track conditioning.",
                ),
                io.Float.Input(
                    "ati_temperature",
                    default=220.0,
                    min=1.0,
                    max=1000.0,
                    step=0.1,
                    tooltip="ATI: how sharply each track point pulls on nearby features (as WanTrackToVideo).",
                ),
                io.Int.Input(
                    "ati_topk", default=2, min=1, max=10, tooltip="ATI: nearest features each point pulls on."
                ),
                io.Tracks.Input("tracks", optional=True, tooltip="TRACKS for Wan-Move (or ATI)."),
                io.String.Input(
                    "track_json",
                    optional=True,
                    force_input=True,
                    tooltip="ATI track JSON (as WanTrackToVideo takes; a track longer than 121 points is cut to 121 as "
                    "it reads them, and info's warnings say so).",
                ),
                io.ClipVision.Input(
                    "clip_vision",
                    optional=True,
                    tooltip="CLIP vision for I2V, FLF, ATI and Wan-Move (encodes the start frame).",
                ),
                io.Image.Input(
                    "start_image",
                    optional=True,
                    tooltip="The frame(s) to start from; otherwise composed from the location and subjects.",
                ),
                io.Image.Input("end_image", optional=True, tooltip="FLF: the frame to end on."),
                io.Int.Input(
                    "video_frame_offset",
                    default=0,
                    min=0,
                    max=100000,
                    optional=True,
                    tooltip="Wan Animate, chaining chunks by hand as WanAnimateToVideo does: the driving-clip frame "
                    "this chunk's new frames start at (the previous info's video_frame_offset); start_image holds "
                    "the frames it continues from.",
                ),
                PerformanceType.Input(
                    "performance",
                    optional=True,
                    tooltip="HuMo, Wan Animate and Wan S2V: the voice and driving clip the character performs to "
                    "(Shot Performance).",
                ),
                io.Latent.Input(
                    "video_latent",
                    optional=True,
                    tooltip="Wan S2V, chaining segments by hand as WanSoundImageToVideoExtend does: the shot's "
                    "sampled latent so far (every segment before this one, concatenated). With start_image too, "
                    "start_image is the 4k+1 frames this segment shares with the one before, decoded again from the "
                    "latent's last frames (World Shot Sampler's overlap).",
                ),
            ],
            outputs=[
                io.Conditioning.Output(display_name="positive", tooltip="For KSampler's positive."),
                io.Conditioning.Output(display_name="negative", tooltip="For KSampler's negative."),
                io.Latent.Output(
                    display_name="latent", tooltip="The empty video latent to sample, sized for the shot."
                ),
                io.Int.Output(
                    display_name="trim_latent",
                    tooltip="Leading latent frames that hold references: cut them with TrimVideoLatent before "
                    "decoding.",
                ),
                io.Image.Output(display_name="start_frame", tooltip="The frame the shot starts from, if any."),
                io.String.Output(
                    display_name="info",
                    tooltip="JSON: the family, what was bound, the prompt, and warnings (what was cut).",
                ),
                io.Conditioning.Output(
                    display_name="negative_text",
                    tooltip="Phantom: the negative prompt with the subject images (WanPhantomSubjectToVideo's "
                    "negative_text), for DualCFGGuider's cond2 with negative as its negative. Other families: "
                    "the same as negative.",
                ),
            ],
        )

    @classmethod
    def execute(
        cls,
        model,
        vae,
        clip,
        world,
        shot: Shot,
        family: str,
        location_as: str,
        views_per_entity: int,
        vace_strength: float,
        track_strength: float,
        ati_temperature: float,
        ati_topk: int,
        tracks=None,
        track_json: str | None = None,
        clip_vision=None,
        start_image=None,
        end_image=None,
        video_frame_offset: int = 0,
        performance=None,
        video_latent=None,
    ) -> io.NodeOutput:
        if clip is None:
            raise ValueError("clip is empty: the checkpoint has no text encoder; load UMT5 with CLIPLoader (type wan).")
        has_json = bool(track_json and track_json.strip() not in ("", "[]"))
        if tracks is not None and has_json:
            raise ValueError("Connect either TRACKS or track_json, not both.")
        rules = loaded_rules(model, vae)
        width, height = shot.size
        track_set = None
        if tracks is not None:
            track_set = TrackSet.from_tracks_dict(tracks, width, height)
        elif has_json:
            track_set = trackset_from_ati(track_json, width, height, shot_for_model(shot, rules).frame_count)
        options = BindOptions(
            location_as=location_as,
            views_per_entity=views_per_entity,
            vace_strength=vace_strength,
            track_strength=track_strength,
            ati_temperature=ati_temperature,
            ati_topk=ati_topk,
            video_frame_offset=video_frame_offset,
        )
        bound = bind_shot(
            shot,
            world,
            model,
            vae,
            clip,
            family=family,
            inputs=BindInputs(
                track_set,
                clip_vision,
                start_image,
                end_image,
                ComfyTrackMaths(),
                performance,
                None if video_latent is None else video_latent["samples"],
            ),
            options=options,
            rules=rules,
        )
        start = bound.start_frame
        if start is None:
            start = torch.full((1, bound.height, bound.width, 3), 0.5)
        info = {
            **bound.report(),
            "trim_latent": bound.trim_latent_frames,  # the trim_latent output, under its name
            "frames": bound.frame_count,
            "fps": bound.fps,
            "width": bound.width,
            "height": bound.height,
            "timing": timing_report(shot, shot_for_model(shot, rules), rules),
            "warnings": list(track_set.warnings) if track_set is not None else [],
        }
        return io.NodeOutput(
            bound.positive,
            bound.negative,
            bound.latent,
            bound.trim_latent_frames,
            start[:1],
            json.dumps(info),
            bound.negative_text,
        )


NODES: list[type[io.ComfyNode]] = [WorldKitBindShot]
