"""A young man and a foggy field of cattle at night: coverage, a cow's eye, fire over the plate, one cut."""

from __future__ import annotations

from ..catalog import load_models
from ..variants import FilmGraph
from .common import (
    FPS,
    Entity,
    cast,
    render_world,
    save_video,
    shot,
    shot_list,
    show_text,
)

NAME = "the_herd"
MAN = "young_man"
FIELD = "field"
SHOT_FRAMES = 81  # 5 s at 16 fps


def build(graph: FilmGraph) -> None:
    models = load_models(graph)

    graph.group("2 · References: the young man and the herd")
    graph.note(
        "Swap the man (a PNG with transparency) and the field plate on the Load Image nodes; "
        "the plate is also the background the fire is composited over.",
        title="Your own references",
    )
    images, the_world = cast(
        graph,
        models,
        [
            Entity(
                MAN, "character", "young_man", "a young man in a brown jacket and jeans, short dark hair", masked=True
            ),
            Entity(
                FIELD,
                "location",
                "foggy_field_cattle",
                "a foggy pasture at night, black cattle standing in the mist",
                image_title="Load field plate",
            ),
        ],
    )
    field_image = images[FIELD]

    graph.group("3 · Coverage")
    coverage = graph.node(
        "WorldKitCoverage",
        title="Coverage: the chase",
        location=FIELD,
        subjects=MAN,
        props="",
        action="the young man runs through the fog as the herd stampedes behind him",
        establishing_wide=True,
        medium=True,
        close_up=True,
        over_the_shoulder=False,
        reverse=False,
        insert=False,
        lighting="fog",
        mood="tense, breathless",
        duration="5 s",
        fps=FPS,
        resolution=graph.variant.resolution,
        aspect="16:9",
        width=graph.variant.width,
        height=graph.variant.height,
        seed=10,
        world=the_world.out("world"),
    )
    eye = shot(
        graph,
        "cow's eye",
        "extreme close-up of a cow's wet black eye; the young man's reflection runs across it",
        {MAN: "subject", FIELD: "location"},
        the_world,
        shot_size="extreme close-up",
        lens_mm=100,
        lighting="fog",
        mood="uncanny",
        seed=11,
    )
    shots = shot_list(graph, [eye], extend=coverage.out("shots"))
    show_text(graph, shots.out("summary"), "Shot list")

    graph.group("4 · Render the coverage (VACE)")
    sampler = render_world(graph, models, the_world, "Render the coverage", shots=shots, seed=20, candidates=2)
    show_text(graph, sampler.out("report"), "Consistency report")

    graph.group("5 · Fire across the grass (GVFX)")
    graph.note(
        "The fire is generated on a green screen, keyed, matched to the plate's colour and light, and "
        "composited over the field plate.",
        title="Generative VFX",
    )
    fire = shot(
        graph,
        "fire element",
        "a line of flames spreading across dry grass, filmed against a flat green screen",
        {},
        the_world,
        shot_size="wide",
        lighting="night",
        seed=12,
    )
    fire_sampler = render_world(
        graph, models, the_world, "Render the fire element", single=fire, seed=30, reference_attention=0.0
    )
    plate_still = graph.node(
        "ImageScale",
        image=field_image.out("IMAGE"),
        upscale_method="lanczos",
        width=graph.variant.width,
        height=graph.variant.height,
        crop="center",
    )
    plate = graph.node(
        "RepeatImageBatch", title="Plate over the shot", image=plate_still.out("IMAGE"), amount=SHOT_FRAMES
    )
    key = graph.node("WorldKitChromaKey", image=fire_sampler.out("frames"), screen="green")
    matte = graph.node(
        "WorldKitMatteRefine", image=key.out("image"), mask=key.out("matte"), despill="green", feather=2.0
    )
    graded = graph.node(
        "WorldKitColorMatch",
        element=matte.out("image"),
        plate=plate.out("IMAGE"),
        element_mask=matte.out("matte"),
        method="reinhard_lab",
        strength=0.6,
    )
    wrapped = graph.node(
        "WorldKitLightWrap", element=graded.out("image"), matte=matte.out("matte"), plate=plate.out("IMAGE")
    )
    comp = graph.node(
        "WorldKitCompositeOver",
        title="Fire over the field",
        plate=plate.out("IMAGE"),
        element=wrapped.out("image"),
        element_mask=matte.out("matte"),
    )
    graph.node(
        "WorldKitSaveWithAlpha",
        title="Fire element with alpha",
        images=wrapped.out("image"),
        alpha=matte.out("matte"),
        filename_prefix=f"worldkit/{NAME}_fire_element",
        video="none",
        fps=float(FPS),
    )

    graph.group("6 · Assemble the cut")
    joined = graph.node("ImageBatch", image1=sampler.out("frames"), image2=comp.out("image"))
    cut = graph.node(
        "WorldKitAssembleCut", frames=joined.out("IMAGE"), shot_lengths="", fps=float(FPS), transition="cut"
    )
    save_video(graph, cut.out("video"), NAME)
