"""Editor state JSON, ATI track JSON and KJNodes coordinates: round trips and clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from worldkit.models.motion.formats import (
    ATI_TICKS,
    ati_json,
    ati_times,
    dump_state,
    kjnodes_coordinates,
    parse_state,
    scale_specs,
    specs_from_ati,
    specs_from_kjnodes,
    trackset_from_ati,
)
from worldkit.models.motion.path import EASINGS, INTERPOLATIONS, Keypoint, Path, TrajectoryError
from worldkit.models.motion.tracks import SUBJECTS, TrackSpec, build_trackset

W, H, FRAMES = 832, 480, 81
unit = st.floats(0, 1)


@st.composite
def track_specs(draw, index: int):
    count = draw(st.integers(1, 5))
    frames = sorted(draw(st.lists(st.integers(0, FRAMES - 1), min_size=count, max_size=count, unique=True)))
    keypoints = tuple(
        Keypoint(
            draw(unit),
            draw(unit),
            draw(st.sampled_from([float(f), None])),
            float(draw(st.integers(0, 3))),
            draw(st.sampled_from(EASINGS)),
            draw(st.booleans()),
            draw(st.none() | st.tuples(unit, unit)),
            draw(st.none() | st.tuples(unit, unit)),
        )
        for f in frames
    )
    return TrackSpec(
        Path(keypoints, draw(st.sampled_from(INTERPOLATIONS)), f"track {index}"),
        draw(st.sampled_from(SUBJECTS)),
        draw(st.integers(1, 64)),
        draw(st.floats(0, 1)),
        draw(st.booleans()),
        draw(st.sampled_from(["#ff6f3c", "#00ff00"])),
    )


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 4).flatmap(lambda n: st.tuples(*(track_specs(i) for i in range(n)))))
def test_editor_state_round_trips_exactly(specs):
    specs = list(specs)
    assert parse_state(dump_state(specs)) == specs


def test_state_is_versioned_and_normalised():
    state = json.loads(dump_state([TrackSpec(Path((Keypoint(0.25, 0.5, 0),), "linear", "skunk"))]))
    assert state["version"] == 1
    pixels = scale_specs(parse_state(json.dumps(state)), W, H)
    assert (pixels[0].path.keypoints[0].x, pixels[0].path.keypoints[0].y) == (0.25 * W, 0.5 * H)


def test_an_empty_widget_is_an_empty_drawing():
    assert parse_state("") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not valid JSON"),
        ("[]", "JSON object"),
        ('{"version": 2, "tracks": []}', "version 2"),
        ('{"version": 1, "tracks": {}}', "must be a list"),
        ('{"version": 1, "tracks": [{"keypoints": []}]}', "non-empty 'keypoints'"),
        ('{"version": 1, "tracks": [{"keypoints": [{"x": 1.5, "y": 0}]}]}', r"outside 0\.\.1"),
        ('{"version": 1, "tracks": [{"keypoints": [{"x": "a", "y": 0}]}]}', "finite number"),
        ('{"version": 1, "tracks": [{"subject": "blob", "keypoints": [{"x": 0, "y": 0}]}]}', "subject 'blob'"),
        ('{"version": 1, "tracks": [{"keypoints": [{"x": 0, "y": 0, "easing": "wobble"}]}]}', "easing 'wobble'"),
        (
            '{"version": 1, "tracks": [{"name": "a", "keypoints": [{"x": 0, "y": 0}]}, {"name": "a", "keypoints": '
            '[{"x": 0, "y": 0}]}]}',
            "unique",
        ),
    ],
)
def test_malformed_state_is_a_clear_error(text, message):
    with pytest.raises(TrajectoryError, match=message):
        parse_state(text)


def skunk_spec() -> TrackSpec:
    keypoints = (
        Keypoint(0.3 * W, 0.7 * H, 0, easing="ease_in_out"),
        Keypoint(0.75 * W, 0.65 * H, 40, hold=6, easing="ease_in_out"),
        Keypoint(0.3 * W, 0.7 * H, 80),
    )
    return TrackSpec(Path(keypoints, "catmull_rom", "skunk"))


def test_ati_export_has_121_points_per_track_spanning_the_clip():
    tracks = build_trackset([skunk_spec()], W, H, FRAMES, times=ati_times(FRAMES))
    data = json.loads(ati_json(tracks))
    assert len(data) == 1 and len(data[0]) == ATI_TICKS
    assert data[0][0] == {"x": round(0.3 * W, 2), "y": round(0.7 * H, 2)}
    assert data[0][60] == {"x": round(0.75 * W, 2), "y": round(0.65 * H, 2)}
    assert data[0][-1] == data[0][0]


def test_ati_round_trip_reproduces_the_motion():
    spec = skunk_spec()
    ticks = build_trackset([spec], W, H, FRAMES, times=ati_times(FRAMES))
    specs, warnings = specs_from_ati(ati_json(ticks), W, H, FRAMES)
    assert warnings == ()
    imported = scale_specs(specs, W, H)
    again = build_trackset(imported, W, H, FRAMES, times=ati_times(FRAMES))
    np.testing.assert_allclose(again.points.numpy(), ticks.points.numpy(), atol=0.01)
    original = build_trackset([spec], W, H, FRAMES).points.numpy()
    per_frame = build_trackset(imported, W, H, FRAMES).points.numpy()
    assert np.abs(per_frame - original).max() < 1.0


def test_short_ati_tracks_are_hidden_after_their_end_as_wan_track_to_video_pads_them():
    text = json.dumps([[{"x": 10 + i, "y": 20} for i in range(61)]])
    tracks = build_trackset(scale_specs(specs_from_ati(text, W, H, FRAMES)[0], W, H), W, H, FRAMES)
    assert tracks.visible[:40, 0].all() and not tracks.visible[41:, 0].any()


def test_kjnodes_coordinates_round_trip_frame_for_frame():
    original = build_trackset([skunk_spec()], W, H, FRAMES)
    text = kjnodes_coordinates(original)
    assert isinstance(json.loads(text)[0][0]["x"], float)
    imported = build_trackset(scale_specs(specs_from_kjnodes(text, W, H, FRAMES), W, H), W, H, FRAMES)
    np.testing.assert_allclose(imported.points.numpy(), original.points.numpy(), atol=0.01)


def test_kjnodes_single_spline_and_single_quotes_are_read():
    text = "[{'x': 0, 'y': 0}, {'x': 100, 'y': 50}]"
    specs = scale_specs(specs_from_kjnodes(text, W, H, 5), W, H)
    points = build_trackset(specs, W, H, 5).points[:, 0].numpy()
    np.testing.assert_allclose(points, [[0, 0], [25, 12.5], [50, 25], [75, 37.5], [100, 50]])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not valid JSON"),
        ("{}", "non-empty JSON list"),
        ("[[]]", "track 1 must be a non-empty list"),
        ('[[{"x": 1}]]', "'x' and 'y'"),
        ('[[{"x": "1", "y": 2}]]', "finite number"),
        ('[[{"x": 900, "y": 20}]]', "outside the 832x480 frame"),
        ('[[{"x": 10, "y": -1}]]', "outside the 832x480 frame"),
        ('[[[{"x": 1, "y": 2}]]]', "batched track sets"),
    ],
)
@pytest.mark.parametrize("reader", [specs_from_ati, specs_from_kjnodes])
def test_malformed_or_out_of_frame_imports_are_clear_errors(reader, text, message):
    with pytest.raises(TrajectoryError, match=message):
        reader(text, W, H, FRAMES)


def template_like_ati_json() -> tuple[str, list[list[dict[str, float]]]]:
    """A 162-point track (as ComfyUI's ATI template ships) beside a 121-point one."""
    long = [{"x": 226 + 2.5 * i, "y": 121 + (i % 17) * 5.5} for i in range(162)]
    full = [{"x": 400 - i, "y": 300.25} for i in range(ATI_TICKS)]
    return json.dumps([long, full]), [long, full]


def test_ati_tracks_longer_than_wan_reads_are_cut_to_121_with_a_warning():
    text, (long, _) = template_like_ati_json()
    specs, warnings = specs_from_ati(text, W, H, FRAMES)
    assert warnings == ("ATI track 1: 162 points cut to 121 as ComfyUI's ATI node reads them.",)
    kept = [(kp.x * W, kp.y * H, kp.frame) for kp in specs[0].path.keypoints]
    assert len(kept) == ATI_TICKS
    np.testing.assert_allclose([k[:2] for k in kept], [(p["x"], p["y"]) for p in long[:ATI_TICKS]], rtol=1e-12)
    np.testing.assert_array_equal([k[2] for k in kept], ati_times(FRAMES))
    assert len(specs[1].path.keypoints) == ATI_TICKS
    assert len(specs_from_kjnodes(text, W, H, FRAMES)[0].path.keypoints) == 162


def test_ati_trackset_keeps_the_first_121_points_exactly_and_reports_the_cut():
    text, (long, full) = template_like_ati_json()
    tracks = trackset_from_ati(text, W, H, FRAMES)
    assert tracks.warnings == ("ATI track 1: 162 points cut to 121 as ComfyUI's ATI node reads them.",)
    expected = np.array([[(p["x"], p["y"]) for p in track[:ATI_TICKS]] for track in (long, full)]).transpose(1, 0, 2)
    np.testing.assert_array_equal(tracks.points.numpy(), expected)
    assert tracks.visible.all()
    assert trackset_from_ati(json.dumps([full]), W, H, FRAMES).warnings == ()
