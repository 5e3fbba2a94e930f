"""A small skunk in a night forest with a lonely little flame: one character under three lights, one shot directed."""

from __future__ import annotations

from ..catalog import ATI_14B, load_models, track_model
from ..variants import FilmGraph
from .common import (
    Entity,
    bind_and_sample,
    cast,
    keypoints,
    render_world,
    save_frames,
    save_video,
    shot,
    shot_list,
    show_text,
    track,
)

NAME = "lonely_little_flame"
SUMMARY = "a skunk by firelight, moonlight and dawn, then led along a drawn path"  # on the template thumbnail
SKUNK = "skunk"
FOREST = "forest"
CAST = {SKUNK: "subject", FOREST: "location"}
# Out to the left, then back to where it started: the skunk searching.
SEARCH_PATH = [(0.55, 0.74), (0.2, 0.72), (0.55, 0.74)]


def build(graph: FilmGraph) -> None:
    models = load_models(graph, extra=(ATI_14B,))

    graph.group(
        "2 · References: the skunk and the forest",
        note="Swap in your own character (a PNG with transparency keeps the cut-out) and location: "
        "change the file on the two Load Image nodes. Descriptions feed every shot's prompt.",
        note_title="Your own references",
    )
    _, the_world = cast(
        graph,
        models,
        [
            Entity(
                SKUNK,
                "character",
                "skunk",
                "a small black-and-white skunk with a big fluffy tail and bright eyes",
                masked=True,
            ),
            Entity(
                FOREST,
                "location",
                "night_forest",
                "a dark pine forest at night around a tiny campfire, a lonely little flame",
            ),
        ],
    )

    graph.group("3 · Shots: one skunk, three lights")
    firelight = shot(
        graph,
        "1 firelight",
        "the skunk sits by the lonely little flame, warming its paws",
        CAST,
        the_world,
        shot_size="medium",
        lighting="firelight",
        mood="tender, quiet",
        seed=1,
    )
    moonlight = shot(
        graph,
        "2 moonlight",
        "the skunk looks up at the moon between the pines",
        CAST,
        the_world,
        shot_size="wide",
        angle="low",
        camera_move="dolly in",
        lighting="moonlight",
        mood="lonely",
        seed=2,
    )
    dawn = shot(
        graph,
        "3 dawn",
        "the flame has gone out; the skunk wakes curled by the ashes as the sky turns pale",
        CAST,
        the_world,
        shot_size="close-up",
        lens_mm=85,
        camera_move="crane up",
        lighting="dawn",
        mood="hopeful",
        seconds=10,
        seed=3,
    )
    shots = shot_list(graph, [firelight, moonlight, dawn])

    graph.group("4 · Render the world (VACE)")
    sampler = render_world(graph, models, the_world, "Render the three lights", shots=shots, seed=7, candidates=2)
    save_video(graph, sampler.out("video"), NAME)
    show_text(graph, sampler.out("report"), "Consistency report")

    graph.group(
        "5 · Directed shot: out to the side and back (ATI)",
        note="Draw on the Trajectory Keypoints canvas: the skunk's track goes out to the left and comes back. "
        "Drag the keypoints to re-direct it; the shot follows.",
        note_title="Direct the skunk",
    )
    ati_model = track_model(graph, models, ATI_14B)
    searching = shot(
        graph,
        "4 searching",
        "the skunk scurries away from the fire, stops, sniffs and comes back",
        CAST,
        the_world,
        shot_size="wide",
        lighting="firelight",
        mood="curious",
        seed=4,
    )
    path = keypoints(
        graph, "Skunk path: out and back", [track(SKUNK, "#ff6f3c", SEARCH_PATH, subject="spread", count=3)]
    )
    graph.node("PreviewImage", title="Path preview", images=path.out("preview"))
    frames = bind_and_sample(
        graph,
        models,
        ati_model,
        the_world,
        searching,
        seed=4,
        title="Bind the directed shot",
        family="ati",
        track_json=path.out("ati_tracks"),
    )
    save_frames(graph, frames.out("IMAGE"), f"{NAME}_searching")
