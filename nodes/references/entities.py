"""WorldKit/References: a reference from photos, encoding, and building a world."""

from __future__ import annotations

import json

from comfy_api.latest import io, ui

from ...models.shared.text import quote
from ...models.world import entities as world_data
from ...models.world.encoding import encode_counts, encode_world, model_identity
from ...models.world.preprocess import BACKGROUNDS, FIT_MODES, PreprocessSettings, build_reference
from .. import categories
from ..inputs import names_problem, recheck, size_inputs, texts_problem, verdict
from ..runtime.progress import NodeProgress
from ..types import Reference, World

WORLD_SLOTS = 8


def summary(world: world_data.World) -> str:
    return ", ".join(
        f"{r.name} ({r.kind}, {r.view_count} view{'s' if r.view_count != 1 else ''})" for r in world.references.values()
    )


class WorldKitReference(io.ComfyNode):
    """One named entity from one or more photos of it."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="WorldKitReference",
            display_name="World Reference",
            category=categories.REFERENCES,
            description="A named character, object, location or style from one or more images of it. Subjects are cut "
            "to their mask and centred on a plain background; locations stay full-frame plates.",
            inputs=[
                io.Image.Input(
                    "image",
                    tooltip="One or more views of the same entity. An RGBA image's alpha is "
                    "used as the mask when no mask is connected.",
                ),
                io.String.Input(
                    "name", default="hero", tooltip="Unique within a world; shots refer to the entity by it."
                ),
                io.Combo.Input(
                    "kind",
                    options=list(world_data.ENTITY_KINDS),
                    default="character",
                    tooltip="character or object: a subject, cut out and centred on a plain background. location: "
                    "the set, kept full-frame as a plate. style: a look the shots borrow, kept full-frame.",
                ),
                io.String.Input(
                    "description",
                    default="",
                    multiline=True,
                    tooltip="Words the prompt compiler weaves into shots that show this entity.",
                ),
                io.Mask.Input(
                    "mask",
                    optional=True,
                    tooltip="Subject = 1. LoadImage's MASK is 1 where the PNG is transparent, so turn on "
                    "invert_mask when you connect it.",
                ),
                io.Boolean.Input(
                    "invert_mask",
                    default=False,
                    tooltip="Use 1 - mask: needed for LoadImage's MASK output (it marks transparency).",
                ),
                *size_inputs(1280, 720, "of the prepared views (the working aspect)"),
                io.Float.Input(
                    "margin",
                    default=0.1,
                    min=0.0,
                    max=4.0,
                    step=0.01,
                    tooltip="Space around a subject's mask box, as a fraction of the box's longer side.",
                ),
                io.Combo.Input(
                    "background",
                    options=list(BACKGROUNDS),
                    default="white",
                    tooltip="The plain colour subjects are padded with (white is what VACE and Phantom use).",
                ),
                io.Boolean.Input(
                    "remove_background",
                    default=False,
                    tooltip="Replace everything outside the subject's mask with the background colour.",
                ),
                io.Combo.Input(
                    "fit",
                    options=list(FIT_MODES),
                    default="cover",
                    tooltip="Locations and styles: cover crops to fill the frame, contain letterboxes.",
                ),
            ],
            outputs=[
                Reference.Output(display_name="reference", tooltip="The named entity, for World or Add To World."),
                io.Image.Output(display_name="views", tooltip="The prepared views, as the model will see them."),
            ],
        )

    @classmethod
    def validate_inputs(cls, name=None, description=None) -> bool | str:
        """The name and description, checked before the prompt runs."""
        if isinstance(name, str) and not name.strip():
            return "name is empty: give the entity the name shots will call it by, e.g. 'hero'."
        return verdict(names_problem(name=name), texts_problem(description=description))

    @classmethod
    def execute(
        cls,
        image,
        name,
        kind,
        description,
        width,
        height,
        margin,
        background,
        remove_background,
        fit,
        invert_mask=False,
        mask=None,
    ) -> io.NodeOutput:
        recheck(cls.validate_inputs(name=name, description=description))
        if mask is not None and invert_mask:
            mask = 1.0 - mask
        settings = PreprocessSettings(
            width=width,
            height=height,
            margin=margin,
            background=BACKGROUNDS[background],
            remove_background=remove_background,
            fit=fit,
        )
        try:
            reference = build_reference(name, kind, description, image, mask, settings)
        except ValueError as error:
            raise ValueError(f"Reference {quote(name)}: {error}") from None
        return io.NodeOutput(reference, reference.views)


class WorldKitEncodeReferences(io.ComfyNode):
    """VAE latents and CLIP-vision embeddings for every view, encoded once and cached by content."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="WorldKitEncodeReferences",
            display_name="Encode World References",
            category=categories.REFERENCES,
            description="Encode every view with the VAE (and CLIP vision when connected) at the shot's frame size. "
            "Encodings are cached by content, so an unchanged graph encodes nothing.",
            inputs=[
                io.MultiType.Input("references", types=[World, Reference], tooltip="A WORLD or a single REFERENCE."),
                io.Vae.Input("vae", tooltip="The Wan VAE the shots will be decoded with (latents are cached per VAE)."),
                *size_inputs(1280, 720, "of the shots the references will be used in"),
                io.ClipVision.Input(
                    "clip_vision",
                    optional=True,
                    tooltip="CLIP vision (clip_vision_h): needed for consistency scores and image-to-video shots.",
                ),
            ],
            outputs=[
                World.Output(
                    display_name="world", tooltip="The world with every view encoded, for shots and samplers."
                ),
                Reference.Output(display_name="reference", tooltip="The encoded reference (a world's first entity)."),
                io.String.Output(display_name="report", tooltip="JSON: views encoded now, cached, reused."),
            ],
        )

    @classmethod
    def execute(cls, references, vae, width, height, clip_vision=None) -> io.NodeOutput:
        if isinstance(references, world_data.Reference):
            world = world_data.World({references.name: references})
        elif isinstance(references, world_data.World) and len(references):
            world = references
        else:
            raise ValueError("Encode References needs a REFERENCE or a non-empty WORLD on 'references'.")
        progress = NodeProgress(sum(r.view_count for r in world.references.values()))
        encoded, stats = encode_world(
            world, vae, width, height, clip_vision, on_view=lambda done, _total: progress(done - progress.done)
        )
        report = json.dumps(
            {
                "width": width,
                "height": height,
                "entities": encoded.names(),
                **stats.as_dict(),
                "vae_identity": model_identity(vae),
                "clip_identity": model_identity(clip_vision) if clip_vision is not None else None,
                "totals_since_start": encode_counts(),
            }
        )
        first = next(iter(encoded.references.values()))
        return io.NodeOutput(encoded, first, report, ui=ui.PreviewText(report))


class WorldKitWorld(io.ComfyNode):
    """Several references gathered into one world."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="WorldKitWorld",
            display_name="Build World",
            category=categories.REFERENCES,
            description="Gather references into a world (names must be unique).",
            inputs=[
                Reference.Input(f"reference_{i}", optional=True, tooltip="A World Reference; empty slots are skipped.")
                for i in range(1, WORLD_SLOTS + 1)
            ],
            outputs=[World.Output(display_name="world", tooltip="Every connected entity, by name.")],
        )

    @classmethod
    def execute(cls, **references) -> io.NodeOutput:
        labelled = [
            (slot, references[slot])
            for slot in sorted(references, key=lambda s: int(s.rsplit("_", 1)[1]))
            if references[slot] is not None
        ]
        if not labelled:
            raise ValueError("World has no references: connect at least one Reference node.")
        return io.NodeOutput(world_data.World.from_labelled(labelled))


class WorldKitAddToWorld(io.ComfyNode):
    """One more reference in an existing world."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="WorldKitAddToWorld",
            display_name="Add To World",
            category=categories.REFERENCES,
            description="Add a reference to a world (for example to a loaded library world).",
            inputs=[
                World.Input("world", tooltip="The world to add to (built here or loaded from the library)."),
                Reference.Input("reference", tooltip="The entity to add; its name must be new unless replacing."),
                io.Boolean.Input(
                    "replace_existing", default=False, tooltip="Replace an entity of the same name instead of refusing."
                ),
            ],
            outputs=[World.Output(display_name="world", tooltip="The world with the reference in it.")],
        )

    @classmethod
    def execute(cls, world, reference, replace_existing) -> io.NodeOutput:
        try:
            return io.NodeOutput(world.with_reference(reference, replace_existing))
        except world_data.DuplicateEntityError:
            raise ValueError(
                f"The 'reference' input is named '{reference.name}', which the 'world' input already "
                "holds. Rename the reference, or turn on replace_existing."
            ) from None


NODES: list[type[io.ComfyNode]] = [WorldKitReference, WorldKitEncodeReferences, WorldKitWorld, WorldKitAddToWorld]
