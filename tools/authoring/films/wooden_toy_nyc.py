"""A phone photo of a wooden toy on a New York sidewalk: four stills scored, the best animated and composited."""

from __future__ import annotations

from ..catalog import load_models
from ..variants import FilmGraph
from .common import (
    FPS,
    Entity,
    bind_and_sample,
    cast,
    render_world,
    save_frames,
    save_video,
    shot,
    show_text,
)

NAME = "wooden_toy_nyc"
TOY = "toy"
STREET = "street"
SHOT_FRAMES = 81  # 5 s at 16 fps
STILL_PROMPT = "the wooden toy leaning against the curb on a New York sidewalk"


def build(graph: FilmGraph) -> None:
    models = load_models(graph)

    graph.group("2 · References: the toy and the street")
    graph.note(
        "Any phone photo of an object works: swap it on Load Image. The street plate is the location and "
        "the background plate of the composite.",
        title="Your own photos",
    )
    images, the_world = cast(
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
    street_image = images[STREET]

    graph.group("3 · Four candidate stills, the best kept")
    still = graph.node(
        "WorldKitShot",
        title="Shot: still",
        prompt=STILL_PROMPT,
        entities=f"{TOY}: subject\n{STREET}: location",
        shot_size="medium",
        angle="low",
        lens_mm=50,
        lighting="overcast",
        duration="frames",
        frames=1,
        fps=FPS,
        resolution=graph.variant.resolution,
        aspect="16:9",
        width=graph.variant.width,
        height=graph.variant.height,
        seed=1,
        name="still",
        world=the_world.out("world"),
    )
    stills = render_world(graph, models, the_world, "Four candidates, best kept", single=still, seed=50, candidates=4)
    graph.node("SaveImage", title="Best still", images=stills.out("frames"), filename_prefix=f"worldkit/{NAME}_still")
    show_text(graph, stills.out("report"), "Candidate scores")

    graph.group("4 · Animate the best still: pedestrians walk past")
    walk = shot(
        graph,
        "pedestrians",
        "pedestrians' legs walk past the wooden toy leaning against the curb",
        {TOY: "subject", STREET: "location"},
        the_world,
        shot_size="medium",
        angle="low",
        lens_mm=50,
        lighting="overcast",
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

    graph.group("5 · Composite over the plate (GVFX)")
    graph.note(
        "The toy is rendered on a green screen, keyed, colour- and grain-matched to the plate, grounded "
        "with a contact shadow and composited over the street plate. The element is also saved with alpha.",
        title="Generative VFX",
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
    key = graph.node("WorldKitChromaKey", image=element.out("frames"), screen="green")
    matte = graph.node("WorldKitMatteRefine", image=key.out("image"), mask=key.out("matte"), despill="green")
    placed = graph.node(
        "WorldKitTrackAttach",
        title="Stand it on the curb",
        plate=plate.out("IMAGE"),
        element=matte.out("image"),
        element_mask=matte.out("matte"),
        follow="plate point",
        point_x=0.45,
        point_y=0.82,
        anchor_x=0.5,
        anchor_y=1.0,
        scale=0.45,
    )
    graded = graph.node(
        "WorldKitColorMatch",
        element=placed.out("element"),
        plate=plate.out("IMAGE"),
        element_mask=placed.out("matte"),
        method="reinhard_lab",
        strength=0.8,
        around_element=64,
    )
    grained = graph.node(
        "WorldKitGrainMatch", element=graded.out("image"), plate=plate.out("IMAGE"), strength=1.0, seed=0
    )
    shadowed = graph.node(
        "WorldKitContactShadow",
        plate=plate.out("IMAGE"),
        matte=placed.out("matte"),
        direction=120.0,
        distance=0.35,
        softness=12.0,
        opacity=0.6,
    )
    comp = graph.node(
        "WorldKitCompositeOver",
        title="Toy over the street",
        plate=shadowed.out("image"),
        element=grained.out("image"),
        element_mask=placed.out("matte"),
    )
    save_video(
        graph, graph.node("CreateVideo", images=comp.out("image"), fps=float(FPS)).out("VIDEO"), f"{NAME}_composite"
    )
    graph.node(
        "WorldKitSaveWithAlpha",
        title="Toy element with alpha",
        images=grained.out("image"),
        alpha=placed.out("matte"),
        filename_prefix=f"worldkit/{NAME}_element",
        video="none",
        fps=float(FPS),
    )
