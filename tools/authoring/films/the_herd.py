"""A young man and a foggy field of cattle at night: coverage, a cow's eye, fire over the plate, one cut."""

from __future__ import annotations

from ..catalog import load_models
from ..variants import FilmGraph
from .common import (
    Entity,
    cast,
    framing,
    render_world,
    save_cut_timeline,
    save_video,
    shot,
    shot_fps,
    shot_list,
    show_text,
)
from .compositing import (
    color_match,
    composite_over,
    key_green_screen,
    moving_plate,
    on_plate_clock,
    save_with_alpha,
    track_attach,
)

NAME = "the_herd"
SUMMARY = "a young man and cattle in night fog: coverage, a cow's-eye insert, fire"  # on the template thumbnail
MAN = "young_man"
FIELD = "field"


def build(graph: FilmGraph) -> None:
    models = load_models(graph)

    graph.group(
        "2 · References: the young man and the herd",
        note="Swap the man (a PNG with transparency) and the field on the Load Image nodes; the fire is composited "
        "over a moving plate of the field on Load Video.",
        note_title="Your own references",
    )
    _, the_world = cast(
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
        **framing(graph),
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

    graph.group("4 · Render the coverage (VACE)")
    sampler = render_world(graph, models, the_world, "Render the coverage", shots=shots, seed=20, candidates=2)
    show_text(graph, sampler.out("report"), "Consistency report")

    graph.group(
        "5 · Fire across the grass (GVFX)",
        note="The fire is generated on a green screen, retimed to the moving field plate's 24 fps (Load Video: swap "
        "in your own footage), keyed, placed on the field, matched to the plate's colour and light and "
        "composited over it; the composite is retimed back to the cut's 16 fps.",
        note_title="Generative VFX",
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
    plate = moving_plate(graph, "foggy_field_cattle_moving", "Moving field plate")
    fire_video = on_plate_clock(graph, fire_sampler.out("frames"), plate, "Fire at the plate's frame rate")
    matte = key_green_screen(graph, fire_video, feather=2.0)
    placed = track_attach(
        graph,
        "Fire on the field",
        plate,
        matte.out("image"),
        matte.out("matte"),
        scale=0.5,
        anchor_y=1.0,
        follow="plate point",
        point_x=0.5,
        point_y=0.85,
    )
    graded = color_match(graph, placed.out("element"), plate, placed.out("matte"), strength=0.6)
    wrapped = graph.node("WorldKitLightWrap", element=graded.out("image"), matte=placed.out("matte"), plate=plate.out())
    comp = composite_over(graph, "Fire over the field", plate.out(), wrapped.out("image"), placed.out("matte"))
    save_with_alpha(graph, "Fire element with alpha", wrapped.out("image"), placed.out("matte"), f"{NAME}_fire_element")
    cut_rate = graph.node(
        "WorldKitConformFrameRate",
        title="Composite at the cut's frame rate",
        element=comp.out("image"),
        source_fps=0.0,
        target_fps=float(shot_fps(graph)),
        method="blend",
    )
    comp_frames = graph.node("GetVideoComponents", video=cut_rate.out("element"))

    graph.group("6 · Assemble the cut")
    joined = graph.node("ImageBatch", image1=sampler.out("frames"), image2=comp_frames.out("images"))
    cut = graph.node(
        "WorldKitAssembleCut", frames=joined.out("IMAGE"), shot_lengths="", fps=float(shot_fps(graph)), transition="cut"
    )
    save_video(graph, cut.out("video"), NAME)
    save_cut_timeline(graph, joined.out("IMAGE"), cut, NAME)
