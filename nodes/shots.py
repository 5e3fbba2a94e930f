"""WorldKit/Shots nodes: shots in film language, shot lists, coverage, and binding a shot to a world."""

from __future__ import annotations

import json

import torch
from comfy_api.latest import io

from ..models.motion.formats import trackset_from_ati
from ..models.motion.tracks import TrackSet
from ..models.shots.binding import FAMILY_CHOICES, LOCATION_MODES, BindInputs, BindOptions, bind_shot
from ..models.shots.coverage import SETUPS, coverage
from ..models.shots.prompt import compile_prompt, world_descriptions
from ..models.shots.prompt import negative_prompt as shot_negative_prompt
from ..models.shots.shot import (
    CONTINUITY,
    Shot,
    ShotError,
    parse_entities,
    split_names,
)
from . import categories
from .inputs import entities_problem, names_problem, recheck, texts_problem, verdict
from .runtime.track_maths import ComfyTrackMaths
from .shot_inputs import SETUP_TOOLTIPS, shot_inputs
from .types import Shot as ShotType
from .types import Shots as ShotsType
from .types import World as WorldType

MAX_SHOTS_PER_LIST = 8


def _check_names(names: list[str], world, what: str) -> None:
    """Every name must be an entity of the connected world (when one is connected)."""
    if world is not None:
        world.require([name for name in names if name], what)


def _entities_problem(entities: str | None) -> str | None:
    """Entity lines checked as far as the text alone allows (names against the world happen when it runs)."""
    problem = entities_problem(entities)
    if problem or not isinstance(entities, str):
        return problem
    try:
        parse_entities(entities)
    except ShotError as error:
        return f"entities: {error}"
    return None


def _shot_from_widgets(**widgets) -> Shot:
    try:
        return Shot(**widgets)
    except ShotError as error:
        raise ValueError(str(error)) from None


class WorldKitShot(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="WorldKitShot",
            display_name="World Shot",
            category=categories.SHOTS,
            description="One shot in film language: action, who and where it shows, framing, light, length and size. "
            "Outputs the shot and the prompt the model will read.",
            inputs=[
                io.String.Input(
                    "prompt",
                    multiline=True,
                    default="",
                    tooltip="What happens in the shot, e.g. 'the skunk sniffs the air and looks around'.",
                ),
                io.String.Input(
                    "entities",
                    multiline=True,
                    default="",
                    tooltip="One world entity per line as 'name: role' (subject, location, prop, style). "
                    "Without a role, a location is a location, a style a style, others subjects.",
                ),
                *shot_inputs(),
                io.Combo.Input(
                    "continuity",
                    options=list(CONTINUITY),
                    default="cut",
                    tooltip="'continue' starts from the last frame of the previous shot in a shot list.",
                ),
                io.String.Input(
                    "negative_prompt",
                    multiline=True,
                    default="",
                    tooltip="Leave empty for Wan's standard negative prompt.",
                ),
                io.String.Input("name", default="", tooltip="A label for reports and shot lists, e.g. '3A close-up'."),
                WorldType.Input(
                    "world",
                    optional=True,
                    tooltip="Checks the entity names and puts their descriptions into the prompt.",
                ),
            ],
            outputs=[
                ShotType.Output(display_name="shot", tooltip="The shot, for Shot List, Bind Shot or the sampler."),
                io.String.Output(display_name="prompt", tooltip="The prompt the model will read, compiled."),
                io.String.Output(display_name="negative_prompt", tooltip="The negative prompt it will use."),
            ],
        )

    @classmethod
    def validate_inputs(cls, prompt=None, entities=None, negative_prompt=None, mood=None, name=None) -> bool | str:
        """Text inputs, checked before the prompt runs: length, encodable text, entity roles."""
        return verdict(
            texts_problem(prompt=prompt, negative_prompt=negative_prompt, mood=mood),
            names_problem(name=name),
            _entities_problem(entities),
        )

    @classmethod
    def execute(cls, prompt: str, entities: str, negative_prompt: str, world=None, **widgets) -> io.NodeOutput:
        recheck(
            cls.validate_inputs(
                prompt=prompt,
                entities=entities,
                negative_prompt=negative_prompt,
                mood=widgets.get("mood"),
                name=widgets.get("name"),
            )
        )
        kinds = None if world is None else {name: ref.kind for name, ref in world.references.items()}
        try:
            parsed = parse_entities(entities, kinds)
        except ShotError as error:
            raise ValueError(f"entities: {error}") from None
        _check_names([e.name for e in parsed], world, "Shot entities")
        shot = _shot_from_widgets(prompt=prompt, entities=parsed, negative_prompt=negative_prompt or None, **widgets)
        return io.NodeOutput(shot, compile_prompt(shot, world_descriptions(world)), shot_negative_prompt(shot))


def _summary(shots: list[Shot]) -> str:
    """One line per shot: number, name, framing and length, so a shot list reads like a call sheet."""
    lines = []
    for index, shot in enumerate(shots, start=1):
        width, height = shot.size
        who = ", ".join(f"{e.name} ({e.role})" for e in shot.entities) or "no entities"
        lines.append(
            f"{index}. {shot.name or shot.shot_size}: {shot.shot_size}, {shot.angle}, {shot.camera_move}, "
            f"{shot.lens_mm}mm, {shot.lighting}; {shot.frame_count} frames at {shot.fps} fps, "
            f"{width}x{height}; {who}"
        )
    return "\n".join(lines)


class WorldKitShotList(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="WorldKitShotList",
            display_name="World Shot List",
            category=categories.SHOTS,
            description="Shots in order. Connect an earlier list to 'shots' to extend it.",
            inputs=[
                ShotsType.Input(
                    "shots", optional=True, tooltip="A list to extend (from Coverage or another Shot List)."
                ),
                *(
                    ShotType.Input(f"shot_{i}", optional=True, tooltip="A shot, in order; empty slots are skipped.")
                    for i in range(1, MAX_SHOTS_PER_LIST + 1)
                ),
            ],
            outputs=[
                ShotsType.Output(display_name="shots", tooltip="The shots in order, for the World Shot Sampler."),
                io.String.Output(display_name="summary", tooltip="One line per shot: name, size, length, who."),
            ],
        )

    @classmethod
    def execute(cls, shots: list[Shot] | None = None, **numbered: Shot | None) -> io.NodeOutput:
        ordered = list(shots or [])
        ordered += [
            numbered[f"shot_{i}"] for i in range(1, MAX_SHOTS_PER_LIST + 1) if numbered.get(f"shot_{i}") is not None
        ]
        if not ordered:
            raise ValueError("Shot List is empty: connect at least one Shot (or a list to 'shots').")
        return io.NodeOutput(ordered, _summary(ordered))


class WorldKitPickShot(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="WorldKitPickShot",
            display_name="Pick Shot From List",
            category=categories.SHOTS,
            description="One shot out of a shot list, to bind or preview it on its own.",
            inputs=[
                ShotsType.Input("shots", tooltip="A shot list (Shot List or Coverage)."),
                io.Int.Input("index", default=1, min=1, max=999, tooltip="1 is the first shot."),
            ],
            outputs=[
                ShotType.Output(display_name="shot", tooltip="The chosen shot."),
                io.String.Output(display_name="summary", tooltip="Its one-line summary."),
            ],
        )

    @classmethod
    def execute(cls, shots: list[Shot], index: int) -> io.NodeOutput:
        if not 1 <= index <= len(shots):
            raise ValueError(f"index {index} is outside the shot list, which has shots 1 to {len(shots)}.")
        shot = shots[index - 1]
        return io.NodeOutput(shot, _summary([shot]))


class WorldKitCoverage(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="WorldKitCoverage",
            display_name="Scene Coverage",
            category=categories.SHOTS,
            description="The standard coverage of a scene from a location and its subjects: establishing wide, "
            "medium, close-up, over-the-shoulder, reverse and insert, as a shot list.",
            inputs=[
                io.String.Input("location", default="", tooltip="Name of the location entity."),
                io.String.Input("subjects", default="", tooltip="Subject names, comma separated, lead first."),
                io.String.Input("props", default="", tooltip="Prop names for the insert shot, comma separated."),
                io.String.Input("action", multiline=True, default="", tooltip="What happens in the scene."),
                *(
                    io.Boolean.Input(
                        setup.replace(" ", "_").replace("-", "_"), default=True, tooltip=SETUP_TOOLTIPS[setup]
                    )
                    for setup in SETUPS
                ),
                *(i for i in shot_inputs() if i.id not in ("shot_size", "angle", "camera_move", "lens_mm")),
                WorldType.Input("world", optional=True, tooltip="Checks names and fills in their descriptions."),
            ],
            outputs=[
                ShotsType.Output(display_name="shots", tooltip="The chosen setups as a shot list, in order."),
                io.String.Output(display_name="prompts", tooltip="Each shot's compiled prompt, numbered."),
            ],
        )

    @classmethod
    def validate_inputs(cls, location=None, subjects=None, props=None, action=None, mood=None) -> bool | str:
        """Text inputs, checked before the prompt runs."""
        return verdict(
            names_problem(location=location),
            texts_problem(subjects=subjects, props=props, action=action, mood=mood),
        )

    @classmethod
    def execute(cls, location: str, subjects: str, props: str, action: str, world=None, **widgets) -> io.NodeOutput:
        recheck(cls.validate_inputs(location, subjects, props, action, widgets.get("mood")))
        chosen = [setup for setup in SETUPS if widgets.pop(setup.replace(" ", "_").replace("-", "_"))]
        subject_names, prop_names = split_names(subjects), split_names(props)
        _check_names([location.strip(), *subject_names, *prop_names], world, "Coverage")
        template = _shot_from_widgets(**widgets)
        try:
            shots = coverage(location.strip(), subject_names, template, prop_names, action, chosen)
        except ShotError as error:
            raise ValueError(str(error)) from None
        descriptions = world_descriptions(world)
        prompts = "\n".join(
            f"{i}. {shot.name}: {compile_prompt(shot, descriptions)}" for i, shot in enumerate(shots, 1)
        )
        return io.NodeOutput(shots, prompts)


class WorldKitBindShot(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="WorldKitBindShot",
            display_name="Bind Shot To Wan",
            category=categories.SHOTS,
            description="Compile a shot and the world entities it shows into conditioning and a latent for the "
            "loaded Wan model (VACE, Phantom, I2V, FLF, ATI, Wan-Move or T2V). Feed KSampler, then trim "
            "the leading trim_latent frames with TrimVideoLatent before decoding.",
            inputs=[
                io.Model.Input("model", tooltip="The loaded Wan model; its weights tell the family under auto."),
                io.Vae.Input("vae", tooltip="The Wan VAE: encodes reference images and start frames."),
                io.Clip.Input("clip", tooltip="The UMT5 text encoder (CLIPLoader, type wan)."),
                WorldType.Input("world", tooltip="The encoded world the shot's entities come from."),
                ShotType.Input("shot", tooltip="The shot to bind (World Shot or Pick Shot From List)."),
                io.Combo.Input(
                    "family",
                    options=list(FAMILY_CHOICES),
                    default="auto",
                    tooltip="auto reads the weights: VACE, FLF, I2V (ATI with track JSON, Wan-Move with "
                    "TRACKS) or T2V. Phantom, ATI and Wan-Move share weights with their bases, "
                    "so pick them here.",
                ),
                io.Combo.Input(
                    "location_as",
                    options=list(LOCATION_MODES),
                    default="auto",
                    tooltip="Where the location's plate goes. VACE and T2V: a reference (auto) or the "
                    "first frame; I2V, FLF, ATI, Wan-Move: the start frame (auto); Phantom: text "
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
                    "track_json", optional=True, force_input=True, tooltip="ATI track JSON (as WanTrackToVideo takes)."
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
                io.String.Output(display_name="info", tooltip="JSON: the family, what was bound, the prompt."),
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
    ) -> io.NodeOutput:
        if clip is None:
            raise ValueError("clip is empty: the checkpoint has no text encoder; load UMT5 with CLIPLoader (type wan).")
        has_json = bool(track_json and track_json.strip() not in ("", "[]"))
        if tracks is not None and has_json:
            raise ValueError("Connect either TRACKS or track_json, not both.")
        width, height = shot.size
        track_set = None
        if tracks is not None:
            track_set = TrackSet.from_tracks_dict(tracks, width, height)
        elif has_json:
            track_set = trackset_from_ati(track_json, width, height, shot.frame_count)
        options = BindOptions(
            location_as=location_as,
            views_per_entity=views_per_entity,
            vace_strength=vace_strength,
            track_strength=track_strength,
            ati_temperature=ati_temperature,
            ati_topk=ati_topk,
        )
        bound = bind_shot(
            shot,
            world,
            model,
            vae,
            clip,
            family=family,
            inputs=BindInputs(track_set, clip_vision, start_image, end_image, ComfyTrackMaths()),
            options=options,
        )
        start = bound.start_frame
        if start is None:
            start = torch.full((1, bound.height, bound.width, 3), 0.5)
        info = {
            "family": bound.family,
            "location_as": bound.location_as,
            "trim_latent": bound.trim_latent_frames,
            "reference_frames": list(bound.reference_names),
            "frames": bound.frame_count,
            "fps": bound.fps,
            "width": bound.width,
            "height": bound.height,
            "prompt": bound.prompt,
        }
        return io.NodeOutput(
            bound.positive, bound.negative, bound.latent, bound.trim_latent_frames, start[:1], json.dumps(info)
        )


NODES: list[type[io.ComfyNode]] = [WorldKitShot, WorldKitShotList, WorldKitPickShot, WorldKitCoverage, WorldKitBindShot]
