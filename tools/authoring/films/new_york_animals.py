"""Animal photos placed into New York street photos, each on a drawn path, grounded, colour- and grain-matched."""

from __future__ import annotations

from ..catalog import WAN_MOVE_14B, Loaders, load_models
from ..graph import Node, Output
from ..variants import FilmGraph
from .common import bind_and_sample, keypoints, load_image, reference, save_frames, shot, track, world
from .compositing import at_plate_size, ground_and_composite, match_color_and_grain, plate_over_shot, track_attach

NAME = "new_york_animals"
SUMMARY = (
    "a pigeon, a dog and a cat walked along drawn paths through New York"  # what the film is, on its template thumbnail
)
# Its one generated shot follows drawn tracks on Wan-Move, a Wan 2.1 14B model (no Wan 2.2 model follows tracks),
# so a wan22 variant would be the full one again; its wan22 5B variant renders that shot on TI2V-5B.
WITHOUT_VARIANTS = ("wan22",)
# (animal, street photo, path in normalised plate coordinates, scale of the plate-sized photo, track colour)
ANIMALS = [
    ("pigeon", "nyc_street_crosswalk", [(0.15, 0.8), (0.4, 0.78), (0.62, 0.8)], 0.35, "#8fb4ff"),
    ("dog", "nyc_street_plate", [(0.85, 0.82), (0.55, 0.8), (0.25, 0.82)], 0.5, "#ffb347"),
    ("cat", "nyc_street_dusk", [(0.3, 0.79), (0.5, 0.77), (0.7, 0.78)], 0.4, "#c3f584"),
]


def fit_to_plate(graph: FilmGraph, photo: Node) -> tuple[Output, Output]:
    """The photo and its cut-out (alpha, 1 = animal) at plate size, so Track Attach's scale is a share of the frame."""
    picture = at_plate_size(graph, photo.out("IMAGE"), title="Photo at plate size")
    alpha = graph.node("InvertMask", title="Cut-out from alpha", mask=photo.out("MASK"))
    alpha_image = graph.node("MaskToImage", mask=alpha.out("MASK"))
    alpha_scaled = at_plate_size(graph, alpha_image.out("IMAGE"), "bilinear", title="Cut-out at plate size")
    cutout = graph.node("ImageToMask", image=alpha_scaled.out("IMAGE"), channel="red")
    return picture.out("IMAGE"), cutout.out("MASK")


def place_animal(graph: FilmGraph, animal: str, street: str, path: list, scale: float, color: str) -> dict[str, Node]:
    """One animal walked along its drawn path over its street photo, grounded and matched; returns the key nodes."""
    graph.group(f"{animal.capitalize()} on {street.replace('_', ' ')}")
    photo = load_image(graph, animal, title=f"Load {animal} photo")
    street_image = load_image(graph, street, title="Load street photo")
    plate = plate_over_shot(graph, street_image)
    element, cutout = fit_to_plate(graph, photo)
    walk = keypoints(
        graph,
        f"{animal.capitalize()} path",
        [track(animal, color, path)],
        background=plate.still.out("IMAGE"),
    )
    placed = track_attach(
        graph,
        "Follow the path",
        plate,
        element,
        cutout,
        scale=scale,
        anchor_y=0.88,
        follow="tracks",
        tracks=walk.out("tracks"),
    )
    grained = match_color_and_grain(graph, placed, plate, strength=0.7)
    blurred = graph.node(
        "WorldKitMotionBlur",
        element=grained.out("image"),
        element_mask=placed.out("matte"),
        motion_from="tracks",
        shutter=0.5,
        tracks=placed.out("path"),
    )
    comp = ground_and_composite(
        graph,
        f"{animal.capitalize()} over the street",
        plate,
        blurred.out("image"),
        blurred.out("matte"),
        prefix=f"{NAME}_{animal}",
        alpha_title=f"{animal.capitalize()} with alpha",
        alpha_prefix=f"{NAME}_{animal}_alpha",
        distance=0.3,
        softness=10.0,
        opacity=0.55,
    )
    return {"photo": photo, "street": street_image, "path": walk, "comp": comp}


def bring_to_life(graph: FilmGraph, models: Loaders, dog: dict[str, Node]) -> None:
    """The dog's composite as a start frame, its drawn path as Wan-Move tracks: the dog really walks."""
    graph.group(
        "Bring the dog to life (Wan-Move)",
        note="The composite's first frame starts an image-to-video shot that follows the same drawn path, so the "
        "dog walks instead of gliding.",
        note_title="Wan-Move",
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
