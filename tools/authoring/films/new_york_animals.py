"""Animal photos placed into New York street photos, each on a drawn path, grounded, colour- and grain-matched."""

from __future__ import annotations

from ..catalog import WAN_MOVE_14B, Loaders, load_models
from ..graph import Node, Output
from ..variants import FilmGraph
from .common import (
    FPS,
    bind_and_sample,
    editor_state,
    load_image,
    reference,
    save_frames,
    shot,
    track,
    world,
)

NAME = "new_york_animals"
SHOT_FRAMES = 81  # 5 s at 16 fps
# (animal, street photo, path in normalised plate coordinates, scale of the plate-sized photo, track colour)
ANIMALS = [
    ("pigeon", "nyc_street_crosswalk", [(0.15, 0.8), (0.4, 0.78), (0.62, 0.8)], 0.35, "#8fb4ff"),
    ("dog", "nyc_street_plate", [(0.85, 0.82), (0.55, 0.8), (0.25, 0.82)], 0.5, "#ffb347"),
    ("cat", "nyc_street_dusk", [(0.3, 0.79), (0.5, 0.77), (0.7, 0.78)], 0.4, "#c3f584"),
]


def fit_to_plate(graph: FilmGraph, photo: Node) -> tuple[Output, Output]:
    """The photo and its cut-out (alpha, 1 = animal) at plate size, so Track Attach's scale is a share of the frame."""
    picture = graph.node(
        "ImageScale",
        title="Photo at plate size",
        image=photo.out("IMAGE"),
        upscale_method="lanczos",
        width=graph.variant.width,
        height=graph.variant.height,
        crop="center",
    )
    alpha = graph.node("InvertMask", title="Cut-out from alpha", mask=photo.out("MASK"))
    alpha_image = graph.node("MaskToImage", mask=alpha.out("MASK"))
    alpha_scaled = graph.node(
        "ImageScale",
        title="Cut-out at plate size",
        image=alpha_image.out("IMAGE"),
        upscale_method="bilinear",
        width=graph.variant.width,
        height=graph.variant.height,
        crop="center",
    )
    cutout = graph.node("ImageToMask", image=alpha_scaled.out("IMAGE"), channel="red")
    return picture.out("IMAGE"), cutout.out("MASK")


def place_animal(graph: FilmGraph, animal: str, street: str, path: list, scale: float, color: str) -> dict[str, Node]:
    """One animal walked along its drawn path over its street photo, grounded and matched; returns the key nodes."""
    graph.group(f"{animal.capitalize()} on {street.replace('_', ' ')}")
    photo = load_image(graph, animal, title=f"Load {animal} photo")
    street_image = load_image(graph, street, title="Load street photo")
    plate_still = graph.node(
        "ImageScale",
        image=street_image.out("IMAGE"),
        upscale_method="lanczos",
        width=graph.variant.width,
        height=graph.variant.height,
        crop="center",
    )
    plate = graph.node(
        "RepeatImageBatch", title="Plate over the shot", image=plate_still.out("IMAGE"), amount=SHOT_FRAMES
    )
    element, cutout = fit_to_plate(graph, photo)
    walk = graph.node(
        "WorldKitTrajectoryKeypoints",
        title=f"{animal.capitalize()} path",
        editor_state=editor_state([track(animal, color, path)]),
        width=graph.variant.width,
        height=graph.variant.height,
        num_frames=SHOT_FRAMES,
        fps=FPS,
        camera_move="none",
        background=plate_still.out("IMAGE"),
    )
    placed = graph.node(
        "WorldKitTrackAttach",
        title="Follow the path",
        plate=plate.out("IMAGE"),
        element=element,
        element_mask=cutout,
        follow="tracks",
        tracks=walk.out("tracks"),
        anchor_x=0.5,
        anchor_y=0.88,
        scale=scale,
    )
    graded = graph.node(
        "WorldKitColorMatch",
        element=placed.out("element"),
        plate=plate.out("IMAGE"),
        element_mask=placed.out("matte"),
        method="reinhard_lab",
        strength=0.7,
        around_element=64,
    )
    grained = graph.node(
        "WorldKitGrainMatch", element=graded.out("image"), plate=plate.out("IMAGE"), strength=1.0, seed=0
    )
    blurred = graph.node(
        "WorldKitMotionBlur",
        element=grained.out("image"),
        element_mask=placed.out("matte"),
        motion_from="tracks",
        shutter=0.5,
        tracks=placed.out("path"),
    )
    shadowed = graph.node(
        "WorldKitContactShadow",
        plate=plate.out("IMAGE"),
        matte=blurred.out("matte"),
        direction=120.0,
        distance=0.3,
        softness=10.0,
        opacity=0.55,
    )
    comp = graph.node(
        "WorldKitCompositeOver",
        title=f"{animal.capitalize()} over the street",
        plate=shadowed.out("image"),
        element=blurred.out("image"),
        element_mask=blurred.out("matte"),
    )
    save_frames(graph, comp.out("image"), f"{NAME}_{animal}")
    graph.node(
        "WorldKitSaveWithAlpha",
        title=f"{animal.capitalize()} with alpha",
        images=blurred.out("image"),
        alpha=blurred.out("matte"),
        filename_prefix=f"worldkit/{NAME}_{animal}_alpha",
        video="none",
        fps=float(FPS),
    )
    return {"photo": photo, "street": street_image, "path": walk, "comp": comp}


def bring_to_life(graph: FilmGraph, models: Loaders, dog: dict[str, Node]) -> None:
    """The dog's composite as a start frame, its drawn path as Wan-Move tracks: the dog really walks."""
    graph.group("Bring the dog to life (Wan-Move)")
    graph.note(
        "The composite's first frame starts an image-to-video shot that follows the same drawn path, so the "
        "dog walks instead of gliding.",
        title="Wan-Move",
    )
    first = graph.node("ImageFromBatch", image=dog["comp"].out("image"), batch_index=0, length=1)
    dog_ref = reference(graph, dog["photo"], "dog", "character", "a tan dog with floppy ears", masked=True)
    street_ref = reference(graph, dog["street"], "street", "location", "a New York street with brownstones")
    the_world = world(graph, [dog_ref, street_ref], models.vae, models.clip_vision)
    trot = shot(
        graph,
        "dog trots",
        "the dog trots along the sidewalk, tail wagging",
        {"dog": "subject", "street": "location"},
        the_world,
        shot_size="wide",
        lighting="day",
        seed=5,
    )
    frames = bind_and_sample(
        graph,
        models,
        models.model,
        the_world,
        trot,
        seed=5,
        title="Bind the Wan-Move shot",
        family="wan_move",
        tracks=dog["path"].out("tracks"),
        start_image=first.out("IMAGE"),
    )
    save_frames(graph, frames.out("IMAGE"), f"{NAME}_dog_alive")


def build(graph: FilmGraph) -> None:
    models = load_models(graph, diffusion=WAN_MOVE_14B)
    graph.note(
        "Each animal photo (a PNG with transparency) walks the path drawn on its Trajectory Keypoints canvas "
        "over a street photo, with a contact shadow, colour, grain and motion blur matched to the plate. Swap "
        "the photos on the Load Image nodes and redraw the paths.",
        title="How this works",
    )
    placed = {
        animal: place_animal(graph, animal, street, path, scale, color)
        for animal, street, path, scale, color in ANIMALS
    }
    bring_to_life(graph, models, placed["dog"])
