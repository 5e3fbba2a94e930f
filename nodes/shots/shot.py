"""WorldKit/Shots: shots in film language, shot lists and coverage."""

from __future__ import annotations

from comfy_api.latest import io

from ...models.shots.coverage import SETUPS, coverage
from ...models.shots.prompt import compile_prompt, world_descriptions
from ...models.shots.prompt import negative_prompt as shot_negative_prompt
from ...models.shots.shot import (
    CONTINUITY,
    Shot,
    ShotError,
    parse_entities,
    split_names,
)
from .. import categories
from ..inputs import entities_problem, names_problem, parse_problem, recheck, texts_problem, verdict
from ..types import Shot as ShotType
from ..types import Shots as ShotsType
from ..types import World as WorldType
from .shot_inputs import SETUP_TOOLTIPS, shot_inputs

MAX_SHOTS_PER_LIST = 8


def _check_names(names: list[str], world, what: str) -> None:
    """Every name must be an entity of the connected world (when one is connected)."""
    if world is not None:
        world.require([name for name in names if name], what)


def _entities_problem(entities: str | None) -> str | None:
    """Entity lines checked as far as the text alone allows (names against the world happen when it runs)."""
    return entities_problem(entities) or parse_problem(parse_entities, entities, ShotError, "entities")


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


NODES: list[type[io.ComfyNode]] = [WorldKitShot, WorldKitShotList, WorldKitPickShot, WorldKitCoverage]
