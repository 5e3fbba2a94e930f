"""WorldKit/References: the world library (save, load) and the contact sheet."""

from __future__ import annotations

import os

import folder_paths
from comfy_api.latest import io, ui

from ...models.world.contact_sheet import render_contact_sheet
from ...models.world.encoding import model_identity
from ...models.world.library import (
    WorldLibraryError,
    list_worlds,
    load_world,
    manifest_fingerprint,
    sanitize_world_name,
    save_world,
)
from .. import categories
from ..inputs import parse_problem, verdict
from ..types import World
from .entities import summary

NO_SAVED_WORLDS = "(no saved worlds)"


def worlds_root() -> str:
    """The world library: ``worlds/`` inside ComfyUI's output folder."""
    return os.path.join(folder_paths.get_output_directory(), "worlds")


def check_world_name(world_name: str) -> bool | str:
    """True for a usable library name, else the reason (shown by ComfyUI before anything runs)."""
    return verdict(parse_problem(sanitize_world_name, world_name, WorldLibraryError))


class WorldKitSaveWorld(io.ComfyNode):
    """Keep a world in the library (output/worlds/<name>/)."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="WorldKitSaveWorld",
            display_name="Save World",
            category=categories.REFERENCES,
            description="Save the world (views, masks, encodings, descriptions) to output/worlds/<name>/.",
            inputs=[
                World.Input("world", tooltip="The world to keep, best after Encode World References."),
                io.String.Input(
                    "world_name", default="my_world", tooltip="Letters, digits, spaces, '-', '_' and '.'; no folders."
                ),
                io.Boolean.Input("overwrite", default=True, tooltip="Replace a saved world of the same name."),
            ],
            outputs=[World.Output(display_name="world", tooltip="The same world, passed on.")],
            is_output_node=True,
        )

    @classmethod
    def validate_inputs(cls, world_name) -> bool | str:
        return check_world_name(world_name)

    @classmethod
    def execute(cls, world, world_name, overwrite) -> io.NodeOutput:
        folder = save_world(world, worlds_root(), world_name, overwrite)
        message = f"Saved world '{folder.name}' ({len(world)} entities: {summary(world)}) to {folder}"
        return io.NodeOutput(world, ui=ui.PreviewText(message))


class WorldKitLoadWorld(io.ComfyNode):
    """A world from the library, validated; latents from another VAE are refused."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        saved = list_worlds(worlds_root())
        return io.Schema(
            node_id="WorldKitLoadWorld",
            display_name="Load World",
            category=categories.REFERENCES,
            description="Load a world saved with Save World. Connect the VAE to check its latents belong to it.",
            inputs=[
                io.Combo.Input(
                    "world_name",
                    options=saved or [NO_SAVED_WORLDS],
                    tooltip="Saved worlds in output/worlds (a name can also be given through the API).",
                ),
                io.Vae.Input("vae", optional=True, tooltip="Latents made by a different VAE are refused."),
                io.Boolean.Input(
                    "discard_mismatched_latents",
                    default=False,
                    tooltip="Drop latents from another VAE so Encode References can re-encode them.",
                ),
            ],
            outputs=[World.Output(display_name="world", tooltip="The saved world, with its encodings.")],
        )

    @classmethod
    def validate_inputs(cls, world_name) -> bool | str:
        if world_name == NO_SAVED_WORLDS:
            return "No saved worlds yet: save one with Save World, then refresh."
        return check_world_name(world_name)

    @classmethod
    def fingerprint_inputs(cls, world_name, **kwargs) -> str:
        try:
            return manifest_fingerprint(worlds_root(), world_name)
        except WorldLibraryError:
            return world_name

    @classmethod
    def execute(cls, world_name, discard_mismatched_latents, vae=None) -> io.NodeOutput:
        identity = model_identity(vae) if vae is not None else None
        world = load_world(worlds_root(), world_name, identity, discard_mismatched_latents)
        return io.NodeOutput(world, ui=ui.PreviewText(f"Loaded world '{world_name}': {summary(world)}"))


class WorldKitPreviewWorld(io.ComfyNode):
    """A contact sheet of every entity with its name and kind."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="WorldKitPreviewWorld",
            display_name="Preview World",
            category=categories.REFERENCES,
            description="A contact sheet of the world: each entity's views, name and kind.",
            inputs=[
                World.Input("world", tooltip="The world to show."),
                io.Int.Input(
                    "cell_width", default=320, min=64, max=2048, step=16, tooltip="Width of each entity's cell."
                ),
                io.Int.Input("columns", default=0, min=0, max=64, tooltip="0 picks a near-square grid."),
            ],
            outputs=[
                io.Image.Output(display_name="contact_sheet", tooltip="Every entity's views with its name and kind.")
            ],
            is_output_node=True,
        )

    @classmethod
    def execute(cls, world, cell_width, columns) -> io.NodeOutput:
        sheet, cells = render_contact_sheet(world, cell_width, columns)
        labels = [" — ".join(cell.caption) for cell in cells]
        preview = ui.PreviewImage(sheet, cls=cls).as_dict()
        return io.NodeOutput(sheet, ui={**preview, "text": labels})


NODES: list[type[io.ComfyNode]] = [WorldKitSaveWorld, WorldKitLoadWorld, WorldKitPreviewWorld]
