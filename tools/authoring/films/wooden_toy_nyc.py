"""A phone photo of a wooden toy on a New York sidewalk: four stills scored, the best animated and composited."""

from __future__ import annotations

from ..catalog import load_models
from ..variants import FilmGraph
from .common import Entity, bind_and_sample, cast, render_world, save_frames, shot, show_text
from .compositing import (
    ground_and_composite,
    key_green_screen,
    match_color_and_grain,
    moving_plate,
    on_plate_clock,
    track_attach,
)

NAME = "wooden_toy_nyc"
SUMMARY = "the best of four stills of a wooden toy, animated into a New York street"  # on the template thumbnail
TOY = "toy"
STREET = "street"
STILL_PROMPT = "the wooden toy leaning against the curb on a New York sidewalk"
CAST = {TOY: "subject", STREET: "location"}
# The still and the shot animated from it are framed alike, low by the curb.
CURB_FRAMING = {"shot_size": "medium", "angle": "low", "lens_mm": 50, "lighting": "overcast"}


def build(graph: FilmGraph) -> None:
    models = load_models(graph)

    graph.group(
        "2 · References: the toy and the street",
        note="Any phone photo of an object works: swap it on Load Image. The street photo is the location; the "
        "composite goes over a moving plate of the street on Load Video.",
        note_title="Your own photos",
    )
    _, the_world = cast(
        graph,
        models,
        [
            Entity(
                TOY,
                "object",
                "wooden_toy_phone",
                "a small hand-made wooden toy figure with wheels",
                image_title="Load toy photo",
            ),
            Entity(
                STREET,
                "location",
                "nyc_street_plate",
                "a New York street with brownstones, a sidewalk and a curb",
                image_title="Load street plate",
            ),
        ],
    )

    graph.group("3 · Four candidate stills, the best kept")
    still = shot(
        graph,
        "still",
        STILL_PROMPT,
        CAST,
        the_world,
        **CURB_FRAMING,
        frames=1,
        seed=1,
    )
    stills = render_world(graph, models, the_world, "Four candidates, best kept", single=still, seed=50, candidates=4)
    graph.node("SaveImage", title="Best still", images=stills.out("frames"), filename_prefix=f"worldkit/{NAME}_still")
    show_text(graph, stills.out("report"), "Candidate scores")

    graph.group("4 · Animate the best still: pedestrians walk past")
    walk = shot(
        graph,
        "pedestrians",
        "pedestrians' legs walk past the wooden toy leaning against the curb",
        CAST,
        the_world,
        **CURB_FRAMING,
        mood="busy, indifferent city",
        seed=2,
    )
    street_frames = bind_and_sample(
        graph,
        models,
        models.model,
        the_world,
        walk,
        seed=53,
        title="Start from the best still",
        start_image=stills.out("frames"),
    )
    save_frames(graph, street_frames.out("IMAGE"), f"{NAME}_street")

    graph.group(
        "5 · Composite over the plate (GVFX)",
        note="The toy is rendered on a green screen, retimed from 16 fps to the moving street plate's 24 (Load Video: "
        "swap in your own footage), keyed, colour- and grain-matched to the plate, grounded with a contact shadow "
        "and composited over it, streamed a few frames at a time. The element is also saved with alpha.",
        note_title="Generative VFX",
    )
    element_shot = shot(
        graph,
        "toy element",
        "the wooden toy rocks gently on its wheels, filmed against a flat green screen",
        {TOY: "subject"},
        the_world,
        shot_size="medium",
        lens_mm=50,
        lighting="overcast",
        seed=3,
    )
    element = render_world(graph, models, the_world, "Render the toy element", single=element_shot, seed=52)
    plate = moving_plate(graph, "nyc_street_plate_moving", "Moving street plate")
    toy = on_plate_clock(graph, element.out("frames"), plate, "Toy at the plate's frame rate")
    matte = key_green_screen(graph, toy)
    placed = track_attach(
        graph,
        "Stand it on the curb",
        plate,
        matte.out("image"),
        matte.out("matte"),
        scale=0.45,
        anchor_y=1.0,
        follow="plate point",
        point_x=0.45,
        point_y=0.82,
    )
    grained = match_color_and_grain(graph, placed, plate, strength=0.8)
    ground_and_composite(
        graph,
        "Toy over the street",
        plate,
        grained.out("image"),
        placed.out("matte"),
        prefix=f"{NAME}_composite",
        alpha_title="Toy element with alpha",
        alpha_prefix=f"{NAME}_element",
        distance=0.35,
        softness=12.0,
        opacity=0.6,
    )
