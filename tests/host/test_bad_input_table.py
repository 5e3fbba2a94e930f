"""The bad-input table for the non-GVFX nodes, run through the API: 1x1 and mismatched images, masks of another
size, unknown and duplicate entity names, empty lists. Each case either works or fails with a clear error of a
documented type (ValueError and its subclasses) naming what was wrong; never AttributeError, TypeError,
IndexError, ZeroDivisionError, cv2.error or RecursionError. The server runs the next prompt normally."""

from __future__ import annotations

import pytest
from graphs import assert_server_runs, widget_defaults

from worldkit.tools.prompt_graph import Graph, out

CLEAR_ERRORS = {
    "ValueError",
    "ShotError",
    "BindingError",
    "MissingEntityError",
    "DuplicateEntityError",
    "TrajectoryError",
    "WorldLibraryError",
    "PixelError",
    "TextInputError",
    "WanShapeError",
    "FamilyError",
    "ShotFramesError",
}


def image(graph: Graph, width: int, height: int, frames: int = 1, color: int = 0x336699) -> list:
    return out(graph.node("EmptyImage", width=width, height=height, batch_size=frames, color=color))


def mask(graph: Graph, width: int, height: int, value: float = 1.0) -> list:
    return out(graph.node("SolidMask", value=value, width=width, height=height))


def add(graph: Graph, info: dict, class_type: str, **inputs) -> str:
    return graph.node(class_type, **{**widget_defaults(info, class_type), **inputs})


def reference(graph: Graph, info: dict, name: str = "toy", **inputs) -> str:
    inputs.setdefault("image", image(graph, 48, 40))
    return add(graph, info, "WorldKitReference", name=name, width=32, height=32, **inputs)


def probe(graph: Graph, source: list, kind: str = "images") -> None:
    graph.node("WorldKitTestSaveTensor", name="table_probe", **{kind: source})


def case_reference_1x1(g, i):
    probe(g, out(reference(g, i, image=image(g, 1, 1)), 1))


def case_reference_1x1_subject_with_empty_mask(g, i):
    probe(g, out(reference(g, i, kind="character", image=image(g, 1, 1), mask=mask(g, 1, 1, 0.0)), 1))


def case_reference_mask_of_another_size(g, i):
    probe(g, out(reference(g, i, mask=mask(g, 17, 5)), 1))


def case_reference_more_masks_than_views(g, i):
    batch = g.node("ImageToMask", image=image(g, 48, 40, frames=3), channel="red")
    joined = g.node("WorldKitWorld", reference_1=out(reference(g, i, mask=out(batch), image=image(g, 48, 40, 2))))
    probe(g, out(g.node("WorldKitPreviewWorld", world=out(joined), cell_width=64, columns=0)))


def case_reference_very_wide_image(g, i):
    probe(g, out(reference(g, i, image=image(g, 4096, 1), kind="location"), 1))


def case_world_duplicate_names(g, i):
    world = g.node("WorldKitWorld", reference_1=out(reference(g, i)), reference_2=out(reference(g, i)))
    probe(g, out(g.node("WorldKitPreviewWorld", world=out(world), cell_width=64, columns=0)))


def case_add_to_world_duplicate(g, i):
    world = g.node("WorldKitWorld", reference_1=out(reference(g, i)))
    added = add(g, i, "WorldKitAddToWorld", world=out(world), reference=out(reference(g, i)))
    probe(g, out(g.node("WorldKitPreviewWorld", world=out(added), cell_width=64, columns=0)))


def case_shot_unknown_entity(g, i):
    world = g.node("WorldKitWorld", reference_1=out(reference(g, i)))
    probe(g, out(add(g, i, "WorldKitShot", entities="ghost", world=out(world)), 1), "text")


def case_shot_duplicate_entity(g, i):
    world = g.node("WorldKitWorld", reference_1=out(reference(g, i)))
    probe(g, out(add(g, i, "WorldKitShot", entities="toy\ntoy: prop", world=out(world)), 1), "text")


def case_coverage_unknown_names(g, i):
    world = g.node("WorldKitWorld", reference_1=out(reference(g, i)))
    cover = add(g, i, "WorldKitCoverage", location="nowhere", subjects="toy, ghost", world=out(world))
    probe(g, out(cover, 1), "text")


def case_coverage_nothing_chosen(g, i):
    setups = {name: False for name, spec in i["WorldKitCoverage"]["input"]["required"].items() if spec[0] == "BOOLEAN"}
    probe(g, out(add(g, i, "WorldKitCoverage", location="street", subjects="toy", **setups), 1), "text")


def case_pick_shot_out_of_range(g, i):
    shots = g.node("WorldKitShotList", shot_1=out(add(g, i, "WorldKitShot")))
    probe(g, out(add(g, i, "WorldKitPickShot", shots=out(shots), index=5), 1), "text")


def case_score_unknown_entity(g, i):
    scored = add(
        g, i, "WorldKitScoreConsistency", frames=image(g, 32, 32, 3), references=out(reference(g, i)), entities="ghost"
    )
    probe(g, out(scored, 1), "text")


def case_score_1x1_frames(g, i):
    scored = add(g, i, "WorldKitScoreConsistency", frames=image(g, 1, 1, 3), references=out(reference(g, i)))
    probe(g, out(scored, 1), "text")


def case_score_orb_1x1(g, i):
    scored = add(
        g, i, "WorldKitScoreConsistency", frames=image(g, 1, 1, 2), references=out(reference(g, i)), features="orb"
    )
    probe(g, out(scored, 1), "text")


def case_pick_best_frames_not_a_multiple(g, i):
    best = add(
        g,
        i,
        "WorldKitPickBest",
        candidates=image(g, 32, 32, 5),
        references=out(reference(g, i)),
        frames_per_candidate=2,
    )
    probe(g, out(best, 0))


def case_pick_best_1x1(g, i):
    best = add(g, i, "WorldKitPickBest", candidates=image(g, 1, 1, 3), references=out(reference(g, i)))
    probe(g, out(best, 0))


def case_assemble_cut_1x1(g, i):
    probe(g, out(add(g, i, "WorldKitAssembleCut", frames=image(g, 1, 1, 9), shot_lengths="4, 5"), 2))


def case_assemble_cut_lengths_too_long(g, i):
    probe(g, out(add(g, i, "WorldKitAssembleCut", frames=image(g, 8, 8, 9), shot_lengths="40, 50"), 2))


def case_assemble_cut_crossfade_longer_than_shots(g, i):
    cut = add(
        g,
        i,
        "WorldKitAssembleCut",
        frames=image(g, 8, 8, 9),
        shot_lengths="4, 5",
        transition="crossfade",
        crossfade_frames=200,
    )
    probe(g, out(cut, 2))


def case_assemble_cut_single_frame(g, i):
    probe(g, out(add(g, i, "WorldKitAssembleCut", frames=image(g, 8, 8, 1), shot_lengths="[1]"), 2))


MASK_TRACK = '{"version": 1, "tracks": [{"subject": "mask", "points": 4, "keypoints": [{"x": 0.5, "y": 0.5}]}]}'
"""Trajectory Keypoints editor state with one track that follows the subject mask."""


def probe_trajectory(g, i, **inputs) -> None:
    """Trajectory Keypoints at 32x32 over five frames, probed at its track output."""
    probe(g, out(add(g, i, "WorldKitTrajectoryKeypoints", width=32, height=32, num_frames=5, **inputs), 2))


def case_trajectory_background_1x1(g, i):
    probe_trajectory(g, i, background=image(g, 1, 1), subject_mask=mask(g, 3, 1))


def case_trajectory_mask_subject_without_mask(g, i):
    probe_trajectory(g, i, editor_state=MASK_TRACK)


def case_trajectory_empty_mask(g, i):
    probe_trajectory(g, i, editor_state=MASK_TRACK, subject_mask=mask(g, 32, 32, 0.0))


def case_import_tracks_points_outside(g, i):
    text = '[[{"x": 500, "y": 1}, {"x": 2, "y": 2}]]'
    probe(g, out(add(g, i, "WorldKitImportTracks", track_text=text, width=32, height=32, num_frames=5), 0), "text")


def case_preview_world_empty_columns(g, i):
    world = g.node("WorldKitWorld", reference_1=out(reference(g, i, image=image(g, 1, 1))))
    probe(g, out(g.node("WorldKitPreviewWorld", world=out(world), cell_width=64, columns=64)))


def case_world_no_references(g, i):
    probe(g, out(g.node("WorldKitPreviewWorld", world=out(g.node("WorldKitWorld")), cell_width=64, columns=0)))


CASES = {name.removeprefix("case_"): value for name, value in globals().items() if name.startswith("case_")}


@pytest.fixture(scope="module")
def info(comfy) -> dict:
    return comfy.object_info()


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_table(comfy, info, case):
    graph = Graph()
    CASES[case](graph, info)
    result = comfy.run(graph.prompt(), expect_error=None)
    if result.error:
        error = result.error
        if "exception_type" in error:
            kind = error["exception_type"].rsplit(".", 1)[-1]
            assert kind in CLEAR_ERRORS, f"{case}: {error['exception_type']}: {error['exception_message']}"
            assert len(error["exception_message"]) > 20, error
        else:
            assert error.get("node_errors"), error
    assert_server_runs(comfy)
