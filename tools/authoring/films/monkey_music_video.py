"""One monkey image grown into eight shots, cut to the beats of a track and assembled with it."""

from __future__ import annotations

from ....demo_inputs import demo_input_name
from ..catalog import load_models
from ..inputs import BEAT_TRACK, PREFIX
from ..variants import FilmGraph
from .common import Entity, cast, render_world, save_cut_timeline, save_video, shot, shot_fps, shot_list, show_text

NAME = "monkey_music_video"
SUMMARY = "one monkey in eight shots, cut to the beats of a track"  # on the template thumbnail
MONKEY = "monkey"
CAST = {MONKEY: "subject"}
# (name, what happens, shot size, camera move, lighting, mood)
SHOTS = [
    ("rooftop", "the monkey dances on a city rooftop under neon signs", "wide", "orbit", "neon", "euphoric"),
    ("canopy", "the monkey swings up through a jungle canopy into the first sun", "full", "crane up", "dawn", "free"),
    (
        "subway",
        "the monkey nods along with headphones in a moving subway car",
        "medium",
        "handheld",
        "overcast",
        "cool",
    ),
    ("beach", "the monkey runs along the surf line, kicking up spray", "wide", "dolly out", "golden hour", "joyful"),
    ("records", "the monkey flips through crates in a record store", "medium close-up", "truck left", "day", "playful"),
    (
        "desert road",
        "the monkey leans out of a car window on an empty desert road",
        "medium",
        "pan right",
        "blue hour",
        "dreamy",
    ),
    ("rain", "the monkey stomps through puddles on a rainy street", "full", "dolly in", "neon", "defiant"),
    (
        "spotlight",
        "the monkey takes a bow alone on a stage in a single spotlight",
        "close-up",
        "static",
        "candlelight",
        "triumphant",
    ),
]


def build(graph: FilmGraph) -> None:
    models = load_models(graph)

    graph.group(
        "2 · The monkey",
        note="One image is the whole cast: swap it on Load Image (a PNG with transparency keeps the cut-out). "
        "Swap the track on Load Audio.",
        note_title="Your own monkey and music",
    )
    _, the_world = cast(
        graph,
        models,
        [
            Entity(
                MONKEY, "character", "monkey", "a small brown monkey with a pale face and big round ears", masked=True
            ),
        ],
    )

    graph.group("3 · Eight shots")
    shots = [
        shot(
            graph,
            f"{i} {name}",
            action,
            CAST,
            the_world,
            shot_size=size,
            camera_move=move,
            lighting=light,
            mood=mood,
            seed=i,
        )
        for i, (name, action, size, move, light, mood) in enumerate(SHOTS, start=1)
    ]
    shots_node = shot_list(graph, shots)

    graph.group("4 · Render (VACE)")
    sampler = render_world(graph, models, the_world, "Render the eight shots", shots=shots_node, seed=40)
    show_text(graph, sampler.out("report"), "Consistency report")

    graph.group("5 · Cut to the beat")
    track = graph.node("LoadAudio", title="Load the track", audio=demo_input_name(f"{PREFIX}{BEAT_TRACK}"))
    cut = graph.node(
        "WorldKitAssembleCut",
        frames=sampler.out("frames"),
        shot_lengths=sampler.out("shot_boundaries"),
        fps=float(shot_fps(graph)),
        transition="cut",
        snap_to_beats=True,
        audio=track.out("AUDIO"),
    )
    show_text(graph, cut.out("cut_list"), "Cut list")
    save_video(graph, cut.out("video"), NAME)
    save_cut_timeline(graph, sampler.out("frames"), cut, NAME, report=sampler.out("report"), audio=track.out("AUDIO"))
