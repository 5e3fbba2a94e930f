"""Keypoint paths: pass-through, timing, easing, interpolation, subjects, camera moves."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from worldkit.models.compositing.track_attach import path_from_tracks
from worldkit.models.motion.formats import ati_times
from worldkit.models.motion.path import (
    EASINGS,
    INTERPOLATIONS,
    Keypoint,
    Path,
    TrajectoryError,
    ease,
    evaluate_path,
    resolve_frames,
)
from worldkit.models.motion.tracks import (
    CameraMove,
    TrackGroup,
    TrackSet,
    TrackSpec,
    build_trackset,
    camera_grid,
    camera_transform,
    cluster_offsets,
    concat_tracksets,
    sample_mask_points,
    spread_offsets,
)

W, H = 832, 480


@st.composite
def paths(draw, num_frames: int = 81, timed: bool = True):
    """Random paths with strictly increasing frames that leave room for each hold."""
    count = draw(st.integers(1, 6))
    frames = sorted(draw(st.lists(st.integers(0, num_frames - 1), min_size=count, max_size=count, unique=True)))
    keypoints = []
    for i, frame in enumerate(frames):
        room = (frames[i + 1] - frame) if i + 1 < count else 0
        keypoints.append(
            Keypoint(
                x=draw(st.floats(0, W)),
                y=draw(st.floats(0, H)),
                frame=float(frame) if timed or i in (0, count - 1) else None,
                hold=float(draw(st.integers(0, room))) if timed else 0.0,
                easing=draw(st.sampled_from(EASINGS)),
                visible=draw(st.booleans()),
            )
        )
    return Path(tuple(keypoints), draw(st.sampled_from(INTERPOLATIONS)), "p")


@settings(max_examples=200, deadline=None)
@given(paths())
def test_every_path_passes_exactly_through_each_keypoint_at_its_frame(path):
    frames = resolve_frames(path, 81)
    samples = evaluate_path(path, frames, 81)
    expected = np.array([[kp.x, kp.y] for kp in path.keypoints])
    np.testing.assert_array_equal(samples.positions, expected)


@settings(max_examples=100, deadline=None)
@given(paths(timed=False))
def test_auto_timing_fills_frames_in_increasing_order(path):
    frames = resolve_frames(path, 81)
    assert frames[0] == path.keypoints[0].frame
    assert np.all(np.diff(frames) > 0) or len(frames) == 1


def test_auto_timing_is_constant_speed_between_timed_keypoints():
    path = Path((Keypoint(0, 0, 0), Keypoint(30, 0), Keypoint(40, 0), Keypoint(100, 0, 50)), "linear")
    np.testing.assert_allclose(resolve_frames(path, 81), [0, 15, 20, 50])


def test_missing_end_frames_default_to_the_clip_ends():
    path = Path((Keypoint(0, 0), Keypoint(10, 0)), "linear")
    np.testing.assert_array_equal(resolve_frames(path, 33), [0, 32])


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(EASINGS), st.floats(0, 1))
def test_easings_fix_their_endpoints_and_stay_in_range(name, u):
    assert ease(name, np.array([0.0]))[0] == 0.0
    assert ease(name, np.array([1.0]))[0] == 1.0
    assert 0.0 <= ease(name, np.array([u]))[0] <= 1.0


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(["linear", "ease_in", "ease_out", "ease_in_out"]),
    st.lists(st.floats(0, 1), min_size=2, max_size=20),
)
def test_easings_never_go_backwards(name, us):
    values = ease(name, np.sort(np.array(us)))
    assert np.all(np.diff(values) >= 0)


def test_hold_keypoint_stands_still_for_its_hold_then_moves():
    path = Path((Keypoint(0, 0, 0, hold=10), Keypoint(100, 0, 30)), "linear")
    x = evaluate_path(path, np.arange(31), 31).positions[:, 0]
    assert np.all(x[:11] == 0)
    assert x[11] > 0 and x[30] == 100
    np.testing.assert_allclose(x[20], 50.0)


def test_hold_easing_jumps_at_the_next_keyframe():
    path = Path((Keypoint(0, 0, 0, easing="hold"), Keypoint(100, 0, 10)), "linear")
    x = evaluate_path(path, np.arange(11), 11).positions[:, 0]
    assert np.all(x[:10] == 0) and x[10] == 100


def test_ease_in_out_is_slow_at_both_ends_of_a_segment():
    path = Path((Keypoint(0, 0, 0, easing="ease_in_out"), Keypoint(100, 0, 20)), "linear")
    x = evaluate_path(path, np.arange(21), 21).positions[:, 0]
    steps = np.diff(x)
    assert steps[0] < steps[10] and steps[-1] < steps[10]
    np.testing.assert_allclose(x[10], 50.0)


def test_linear_interpolation_is_a_straight_line_at_constant_speed():
    path = Path((Keypoint(10, 20, 0), Keypoint(110, 70, 10)), "linear")
    positions = evaluate_path(path, np.arange(11), 11).positions
    np.testing.assert_allclose(positions, np.stack([10 + 10 * np.arange(11), 20 + 5 * np.arange(11)], axis=1))


def test_catmull_rom_is_smooth_through_a_corner_and_bezier_follows_its_handles():
    corner = (Keypoint(0, 0, 0), Keypoint(100, 0, 10), Keypoint(100, 100, 20))
    linear = evaluate_path(Path(corner, "linear"), np.array([15.0]), 21).positions[0]
    smooth = evaluate_path(Path(corner, "catmull_rom"), np.array([15.0]), 21).positions[0]
    assert linear[0] == pytest.approx(100.0)
    assert smooth[0] != pytest.approx(100.0)
    handled = (Keypoint(0, 0, 0, handle_out=(0, 300)), Keypoint(100, 0, 10, handle_in=(0, 300)))
    mid = evaluate_path(Path(handled, "bezier"), np.array([5.0]), 11).positions[0]
    np.testing.assert_allclose(mid, [50.0, 225.0])


def test_visibility_follows_the_keypoint_flags():
    path = Path((Keypoint(0, 0, 0), Keypoint(50, 0, 5, visible=False), Keypoint(100, 0, 10)), "linear")
    visible = evaluate_path(path, np.arange(11), 11).visible
    assert visible.tolist() == [True] * 5 + [False] * 5 + [True]


@pytest.mark.parametrize(
    ("keypoints", "message"),
    [
        ((Keypoint(0, 0, 10), Keypoint(1, 1, 5)), "must increase"),
        ((Keypoint(0, 0, 0, hold=20), Keypoint(1, 1, 10)), "past the next keypoint"),
        ((Keypoint(0, 0, 0), Keypoint(1, 1, 90)), "clip has 81 frames"),
        ((Keypoint(float("nan"), 0, 0),), "non-finite"),
        ((Keypoint(0, 0, 0, easing="bounce"),), "unknown easing"),
    ],
)
def test_impossible_timing_is_a_clear_error(keypoints, message):
    with pytest.raises(TrajectoryError, match=message):
        evaluate_path(Path(keypoints, "linear", "bad"), np.arange(81), 81)


@settings(max_examples=50, deadline=None)
@given(paths(), st.integers(1, 200))
def test_resampling_samples_the_same_motion_at_the_requested_times(path, count):
    spec = TrackSpec(path, "spread", 3, 0.02)
    keyed = [kp.frame for kp in path.keypoints]
    times = np.unique(np.concatenate([np.linspace(0, 80, count), keyed]))
    tracks = build_trackset([spec], W, H, 81, times=times)
    assert tracks.points.shape == (len(times), 3, 2) and tracks.visible.shape == (len(times), 3)
    # The middle point follows the path: where a requested time is a frame, it is that frame's per-frame row,
    centre, every_frame = tracks.points[:, 1].numpy(), build_trackset([spec], W, H, 81)
    whole = np.flatnonzero(times == np.round(times))
    frames = times[whole].astype(int)
    np.testing.assert_allclose(centre[whole], every_frame.points[frames, 1].numpy(), atol=1e-3)
    assert torch.equal(tracks.visible[whole, 1], every_frame.visible[frames, 1])
    # and it is on each keypoint at the keypoint's frame;
    np.testing.assert_allclose(
        centre[np.searchsorted(times, keyed)], [[kp.x, kp.y] for kp in path.keypoints], atol=1e-3
    )
    # the other two keep the spread's spacing on either side of it, at every requested time.
    spacing = 0.02 * (W + H) / 2
    for side in (0, 2):
        np.testing.assert_allclose(np.linalg.norm(tracks.points[:, side].numpy() - centre, axis=1), spacing, rtol=1e-4)


def steady_track(num_frames: int = 81, speed: float = 10.0) -> TrackSpec:
    """One point moving `speed` px a frame along x at constant speed."""
    keypoints = (Keypoint(0.0, 100.0, 0), Keypoint(speed * (num_frames - 1), 100.0, num_frames - 1))
    return TrackSpec(Path(keypoints, "linear", "steady"))


# ATI's 121 ticks over an 81-frame clip fall 2/3 of a frame apart: between frames, not on them.
ATI_TICK_X = [0.0, 20 / 3, 40 / 3, 20.0, 80 / 3]


def test_tracks_evaluated_between_frames_keep_their_fractional_positions():
    tracks = build_trackset([steady_track()], W, H, 81, times=ati_times(81))
    np.testing.assert_allclose(tracks.points[:5, 0, 0].numpy(), ATI_TICK_X, atol=1e-3)
    np.testing.assert_allclose(tracks.points[:, 0, 0].numpy(), 10.0 * ati_times(81), atol=1e-3)


def test_per_frame_tracks_resampled_at_ati_ticks_are_interpolated_not_rounded_to_frames():
    tracks = build_trackset([steady_track()], W, H, 81)
    samples = tracks.ati_samples(ati_times(81))
    assert samples.shape == (1, 121, 1, 3)
    np.testing.assert_allclose(samples[0, :5, 0, 0], ATI_TICK_X, atol=1e-3)
    np.testing.assert_allclose(samples[0, :, 0, 0], 10.0 * ati_times(81), atol=1e-3)


def test_tracks_timed_at_ati_ticks_resampled_to_frames_land_on_each_frame():
    ticks = ati_times(81)
    points = torch.from_numpy(np.stack([10.0 * ticks, np.full(121, 100.0)], axis=-1)[:, None, :])
    visible = torch.from_numpy(ticks < 40.5)[:, None]  # hidden from the tick after frame 40 (at 40 2/3)
    groups = [TrackGroup("steady", "subject", "#ff6f3c", 0, 1)]
    per_frame = TrackSet(points, visible, W, H, groups, times=ticks).at_frames(81)
    assert (per_frame.width, per_frame.height, per_frame.groups, per_frame.times) == (W, H, groups, None)
    np.testing.assert_allclose(per_frame.points[:, 0, 0].numpy(), 10.0 * np.arange(81), atol=1e-3)
    assert per_frame.visible[:41, 0].all() and not per_frame.visible[41:, 0].any()


def test_spread_matches_generate_tracks_layout_on_a_straight_path():
    # GenerateTracks: offsets (i - (n-1)/2) * spread * (W+H)/2 along the left-hand perpendicular of travel.
    path = Path((Keypoint(100, 240, 0), Keypoint(700, 240, 80)), "linear")
    tracks = build_trackset([TrackSpec(path, "spread", 5, 0.025)], W, H, 81)
    spacing = 0.025 * (W + H) / 2
    expected_y = 240 + spacing * np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    np.testing.assert_allclose(tracks.points[:, :, 1].numpy(), np.tile(expected_y, (81, 1)), atol=1e-3)
    np.testing.assert_allclose(tracks.points[40, :, 0].numpy(), 400.0, atol=1e-3)


def test_mask_points_lie_inside_the_mask_and_move_rigidly():
    mask = torch.zeros(H, W)
    mask[200:300, 100:220] = 1
    path = Path((Keypoint(160, 250, 0), Keypoint(500, 150, 40), Keypoint(300, 260, 80)), "catmull_rom")
    tracks = build_trackset([TrackSpec(path, "mask", 24)], W, H, 81, subject_mask=mask)
    start = tracks.points[0].numpy()
    assert np.all((start[:, 0] >= 100) & (start[:, 0] < 220) & (start[:, 1] >= 200) & (start[:, 1] < 300))
    displacement = tracks.points.numpy() - start[None]
    np.testing.assert_allclose(displacement, np.repeat(displacement[:, :1], 24, axis=1), atol=1e-3)
    np.testing.assert_allclose(displacement[40, 0], [340, -100], atol=1e-3)


@settings(max_examples=30, deadline=None)
@given(st.integers(4, 60), st.integers(1, 40))
def test_mask_sampling_is_deterministic_spread_and_inside(side, count):
    mask = torch.zeros(64, 64)
    mask[2 : 2 + side, 3 : 3 + side] = 1
    points = sample_mask_points(mask, count)
    np.testing.assert_array_equal(points, sample_mask_points(mask, count))
    assert len(points) == min(count, side * side)
    assert len({tuple(p) for p in points.tolist()}) == len(points)
    assert np.all(mask[points[:, 1].astype(int), points[:, 0].astype(int)].numpy() == 1)


def test_spread_offsets_are_centred_and_evenly_spaced():
    np.testing.assert_allclose(spread_offsets(5, 10.0), [-20, -10, 0, 10, 20])
    np.testing.assert_allclose(spread_offsets(4, 10.0), [-15, -5, 5, 15])


def test_mask_sampling_starts_nearest_the_centroid_and_takes_every_pixel_of_a_small_mask():
    mask = torch.zeros(16, 16)
    mask[2:7, 3:12] = 1  # pixel centres x 3.5 .. 11.5, y 2.5 .. 6.5: the centroid is (7.5, 4.5)
    np.testing.assert_array_equal(sample_mask_points(mask, 4)[0], [7.5, 4.5])
    assert len({tuple(p) for p in sample_mask_points(mask, 45).tolist()}) == 45


def test_mask_sampling_takes_pixels_above_one_half_only():
    mask = torch.full((16, 16), 0.5)
    mask[4:6, 4:6] = 1.0
    points = sample_mask_points(mask, 10)
    np.testing.assert_array_equal(np.sort(points, axis=0), [[4.5, 4.5], [4.5, 4.5], [5.5, 5.5], [5.5, 5.5]])
    with pytest.raises(TrajectoryError) as caught:
        sample_mask_points(torch.full((16, 16), 0.5), 4)
    assert str(caught.value) == (
        "The subject mask is empty (no pixel above 0.5); paint the subject or use another subject mode."
    )


def test_a_large_mask_is_sampled_on_a_thinned_grid_and_a_batch_is_refused():
    points = sample_mask_points(torch.ones(200, 200), 8)
    assert points.shape == (8, 2) and len({tuple(p) for p in points.tolist()}) == 8
    with pytest.raises(TrajectoryError) as caught:
        sample_mask_points(torch.ones(2, 16, 16), 4)
    assert str(caught.value) == "The subject mask must be one [H, W] frame, got shape (2, 16, 16)."


def test_empty_mask_or_missing_mask_is_a_clear_error():
    path = Path((Keypoint(1, 1, 0),), "linear")
    with pytest.raises(TrajectoryError, match="no subject_mask is connected"):
        build_trackset([TrackSpec(path, "mask", 4)], W, H, 9)
    with pytest.raises(TrajectoryError, match="mask is empty"):
        build_trackset([TrackSpec(path, "mask", 4)], W, H, 9, subject_mask=torch.zeros(H, W))


def grid_motion(kind: str, amount: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    tracks = build_trackset([], W, H, 9, camera=CameraMove(kind, amount, "linear", 8))
    return tracks.points[0].numpy(), tracks.points[-1].numpy()


def test_pan_and_tilt_shift_every_grid_point_alike():
    start, end = grid_motion("pan")
    np.testing.assert_allclose(end - start, np.tile([-0.2 * W, 0], (len(start), 1)), atol=1e-3)
    start, end = grid_motion("tilt", -0.1)
    np.testing.assert_allclose(end - start, np.tile([0, 0.1 * H], (len(start), 1)), atol=1e-3)


def test_zoom_scales_about_the_centre_and_dolly_has_parallax():
    start, end = grid_motion("zoom", 0.5)
    centre = np.array([W / 2, H / 2])
    np.testing.assert_allclose(end - centre, (start - centre) * 1.5, atol=1e-3)
    start, end = grid_motion("dolly", 0.5)
    ratio = np.linalg.norm(end - centre, axis=1) / np.linalg.norm(start - centre, axis=1)
    assert ratio[np.argmax(start[:, 1])] > ratio[np.argmin(start[:, 1])] > 1.0


def test_truck_moves_points_by_their_nearness_from_0_4_at_the_top_to_1_at_the_bottom_clipped_outside():
    heights = np.array([-H, 0.0, H / 2, H, 2 * H])
    base = np.stack([np.full(5, W / 2), heights], axis=1)
    moved = camera_transform(CameraMove("truck", 0.1, "linear"), np.array([0.0, 8.0]), 9, base, W, H)
    np.testing.assert_allclose(moved[-1, :, 0] - base[:, 0], -0.1 * W * np.array([0.4, 0.4, 0.7, 1.0, 1.0]))
    np.testing.assert_array_equal(moved[0], base)


def test_orbit_and_dolly_weigh_points_by_nearness_about_the_middle_row():
    base = np.array([[W / 4, 0.0], [W / 4, H / 2], [W / 4, H]])  # nearness 0.4, 0.7 and 1.0
    times = np.array([0.0, 8.0])
    orbit = camera_transform(CameraMove("orbit", 0.1, "linear"), times, 9, base, W, H)[-1] - base
    np.testing.assert_allclose(orbit[:, 0], [0.1 * W, 0.0, -0.1 * W], atol=1e-9)
    dolly = camera_transform(CameraMove("dolly", 0.1, "linear"), times, 9, base, W, H)[-1] - base
    offset = base - [W / 2, H / 2]
    np.testing.assert_allclose(dolly, offset * (0.1 * np.array([0.4, 0.7, 1.0]) / 0.7)[:, None], atol=1e-9)


def test_a_camera_move_runs_from_its_start_frame_to_its_end_frame_and_then_holds():
    base = np.array([[W / 2, H / 2]])
    move = CameraMove("pan", 0.1, "linear", start_frame=20, end_frame=40)
    moved = camera_transform(move, np.array([0.0, 20.0, 30.0, 40.0, 80.0]), 81, base, W, H)
    np.testing.assert_allclose(moved[:, 0, 0] - W / 2, -0.1 * W * np.array([0.0, 0.0, 0.5, 1.0, 1.0]))
    half_frame = CameraMove("pan", 0.1, "linear", start_frame=10, end_frame=10.5)
    np.testing.assert_allclose(
        camera_transform(half_frame, np.array([10.25]), 81, base, W, H)[0, 0, 0], W / 2 - 0.05 * W
    )


def test_a_camera_move_without_an_end_frame_ends_on_the_last_frame():
    base = np.array([[W / 2, H / 2]])
    moved = camera_transform(CameraMove("pan", 0.1, "linear"), np.array([40.0, 79.0, 80.0]), 81, base, W, H)
    np.testing.assert_allclose(moved[:, 0, 0] - W / 2, -0.1 * W * np.array([0.5, 79 / 80, 1.0]))


@pytest.mark.parametrize(
    ("move", "frames", "message"),
    [
        (
            CameraMove("pan", start_frame=40, end_frame=40),
            81,
            "The camera move runs from frame 40 to 40; it must start before it ends, within the clip's frames 0 to 80.",
        ),
        (
            CameraMove("pan", end_frame=81),
            81,
            "The camera move runs from frame 0 to 81; it must start before it ends, within the clip's frames 0 to 80.",
        ),
        (
            CameraMove("pan", start_frame=1),
            2,
            "The camera move runs from frame 1 to 1; it must start before it ends, within the clip's frames 0 to 1.",
        ),
        (CameraMove("spin"), 81, "Unknown camera move 'spin'; use one of none, pan, tilt, dolly, zoom, orbit, truck."),
    ],
)
def test_a_camera_move_outside_the_clip_is_refused_word_for_word(move, frames, message):
    with pytest.raises(TrajectoryError) as caught:
        camera_transform(move, np.arange(frames, dtype=np.float64), frames, np.array([[1.0, 2.0]]), W, H)
    assert str(caught.value) == message


def test_a_single_frame_clip_or_no_camera_move_leaves_the_points_where_they_are():
    base = np.array([[100.0, 200.0]])
    np.testing.assert_array_equal(camera_transform(CameraMove("pan"), np.array([0.0]), 1, base, W, H), base[None])
    still = camera_transform(CameraMove("none", start_frame=90), np.arange(81.0), 81, base, W, H)
    np.testing.assert_array_equal(still, np.repeat(base[None], 81, axis=0))


def test_cluster_offsets_are_a_sunflower_spiral_filling_the_disc():
    golden = np.deg2rad(360.0 * (1 - (np.sqrt(5.0) - 1) / 2))  # the golden angle, about 137.5 degrees
    offsets = cluster_offsets(5, 10.0)
    radii = 10.0 * np.sqrt(np.arange(5) / 4)
    angles = golden * np.arange(5)
    np.testing.assert_allclose(offsets, np.stack([radii * np.cos(angles), radii * np.sin(angles)], axis=1), atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(cluster_offsets(2, 10.0), axis=1), [0.0, 10.0])
    np.testing.assert_array_equal(cluster_offsets(1, 10.0), [[0.0, 0.0]])


def test_the_camera_grid_has_cell_centred_points_and_at_least_two_rows_and_columns():
    np.testing.assert_allclose(
        camera_grid(W, H, 2), [[W / 4, H / 4], [3 * W / 4, H / 4], [W / 4, 3 * H / 4], [3 * W / 4, 3 * H / 4]]
    )
    assert camera_grid(W, H, 8).shape == (8 * 5, 2)  # 8 x 480 / 832 rounds to 5 rows
    with pytest.raises(TrajectoryError) as caught:
        camera_grid(W, H, 1)
    assert str(caught.value) == "The camera grid needs at least 2 columns, got 1."


def test_truck_moves_near_points_more_and_orbit_moves_near_and_far_opposite_ways():
    start, end = grid_motion("truck")
    dx = (end - start)[:, 0]
    assert np.all(dx < 0) and dx[np.argmax(start[:, 1])] < dx[np.argmin(start[:, 1])]
    start, end = grid_motion("orbit")
    dx = (end - start)[:, 0]
    assert dx[np.argmax(start[:, 1])] < 0 < dx[np.argmin(start[:, 1])]


def test_points_leaving_the_frame_become_invisible():
    tracks = build_trackset([], W, H, 9, camera=CameraMove("pan", 0.5, "linear", 8))
    left_half = tracks.points[0, :, 0] < W / 2
    assert tracks.visible[0].all()
    assert not tracks.visible[-1, left_half].any() and tracks.visible[-1, ~left_half].all()


def test_camera_and_subject_combine_without_grid_points_on_the_subject():
    subject = TrackSpec(Path((Keypoint(W / 16, H / 10, 0), Keypoint(400, 300, 8)), "linear", "skunk"))
    anchor = TrackSpec(Path((Keypoint(600, 100, 0),), "linear", "tree"), "cluster", 5, anchor=True)
    tracks = build_trackset([subject, anchor], W, H, 9, camera=CameraMove("pan", 0.1, "linear", 8))
    roles = {g.name: g.role for g in tracks.groups}
    assert roles == {"skunk": "subject", "tree": "anchor", "camera": "camera"}
    assert len(tracks.columns("camera")) == len(camera_grid(W, H, 8)) - 1
    np.testing.assert_allclose(tracks.points[-1, 0].numpy(), [400, 300], atol=1e-4)
    anchor_cols = tracks.columns("anchor")
    np.testing.assert_allclose(
        (tracks.points[-1, anchor_cols] - tracks.points[0, anchor_cols]).numpy(), [[-0.1 * W, 0]] * 5, atol=1e-3
    )


@pytest.mark.parametrize(
    ("start", "camera_points"), [((W / 16, H / 10 + 40), 39), ((W / 8, H / 5), 40), ((W / 8, H / 10), 38)]
)
def test_grid_points_within_half_a_cell_of_a_subject_start_are_left_out(start, camera_points):
    subject = TrackSpec(Path((Keypoint(*start, 0), Keypoint(400, 300, 8)), "linear", "skunk"))
    tracks = build_trackset([subject], W, H, 9, camera=CameraMove("pan", 0.1, "linear", 8))
    assert len(tracks.columns("camera")) == camera_points  # of the 8 x 5 grid, 104 x 96 px cells; 52 px is out
    assert tracks.groups[-1] == TrackGroup("camera", "camera", "#8fd3ff", 1, 1 + camera_points)


def test_a_point_is_visible_from_the_frames_top_left_edge_up_to_but_not_on_its_far_edges():
    corners = [(0, 0), (0.5, 0.5), (W, 100), (100, H), (W - 0.5, H - 0.5)]
    path = Path(tuple(Keypoint(x, y, frame) for frame, (x, y) in enumerate(corners)), "linear", "edge")
    tracks = build_trackset([TrackSpec(path)], W, H, 5)
    assert tracks.visible[:, 0].tolist() == [True, True, False, False, True]


def test_any_positive_frame_size_and_a_single_frame_clip_are_tracked():
    point = TrackSpec(Path((Keypoint(0.5, 0.5, 0),), "linear", "dot"))
    assert build_trackset([point], 1, 1, 9).points.shape == (9, 1, 2)
    anchor = TrackSpec(Path((Keypoint(100, 100, 0),), "linear", "tree"), anchor=True)
    single = build_trackset([anchor], W, H, 1, camera=CameraMove("pan"))
    np.testing.assert_array_equal(single.points[0, 0].numpy(), [100, 100])


@pytest.mark.parametrize("size", [(0, H), (W, 0)])
def test_a_frame_size_that_is_not_positive_is_refused(size):
    with pytest.raises(TrajectoryError) as caught:
        build_trackset([], *size, 9, camera=CameraMove("pan"))
    assert str(caught.value) == f"Frame size must be positive, got {size[0]}x{size[1]}."


def trackset(points: int, frames: int = 9, width: int = W, height: int = H) -> TrackSet:
    group = TrackGroup(f"{points} points", "subject", "#ff6f3c", 0, points)
    return TrackSet(
        torch.zeros(frames, points, 2), torch.ones(frames, points, dtype=torch.bool), width, height, [group]
    )


def test_combined_track_sets_keep_each_groups_columns():
    combined = concat_tracksets([trackset(2), trackset(3), trackset(4)])
    assert [(g.start, g.stop) for g in combined.groups] == [(0, 2), (2, 5), (5, 9)]
    assert combined.points.shape == (9, 9, 2) and (combined.width, combined.height) == (W, H)


@pytest.mark.parametrize(
    ("other", "message"),
    [
        (trackset(3, frames=5), f"Cannot combine tracks of 5 frames at {W}x{H} with 9 frames at {W}x{H}; "),
        (trackset(3, width=64), f"Cannot combine tracks of 9 frames at 64x{H} with 9 frames at {W}x{H}; "),
    ],
)
def test_track_sets_of_other_lengths_or_sizes_are_not_combined(other, message):
    with pytest.raises(TrajectoryError) as caught:
        concat_tracksets([trackset(2), other])
    assert str(caught.value) == message + "use one frame count and size."
    with pytest.raises(TrajectoryError) as caught:
        concat_tracksets([])
    assert str(caught.value) == "Nothing to combine: no tracks were drawn and no camera move was chosen."


def test_a_lone_anchor_holds_still_without_a_camera_move():
    anchor = TrackSpec(
        Path((Keypoint(300, 200, 0), Keypoint(500, 200, 8)), "linear", "rock"), "cluster", 7, 0.02, anchor=True
    )
    tracks = build_trackset([anchor], W, H, 9)
    assert torch.equal(tracks.points[0].expand(9, 7, 2), tracks.points)


def test_tracks_dict_has_generate_tracks_layout_and_round_trips():
    tracks = build_trackset([TrackSpec(Path((Keypoint(1, 2, 0), Keypoint(30, 40, 8)), "linear"), "spread", 4)], W, H, 9)
    as_dict = tracks.to_tracks_dict()
    assert set(as_dict) == {"track_path", "track_visibility"}
    assert as_dict["track_path"].dtype == torch.float32 and as_dict["track_path"].shape == (9, 4, 2)
    assert as_dict["track_visibility"].dtype == torch.bool and as_dict["track_visibility"].shape == (9, 4)
    back = TrackSet.from_tracks_dict(as_dict, W, H)
    assert torch.equal(back.points, tracks.points) and torch.equal(back.visible, tracks.visible)


def test_one_visibility_column_reads_alike_for_binding_and_compositing():
    """GenerateTracks under a track mask writes visibility [frames, 1]: every point shares it, wherever TRACKS
    are read (Bind Shot's TrackSet, the GVFX track attach)."""
    path = torch.tensor([[[0.0, 0.0], [10.0, 10.0]], [[2.0, 2.0], [100.0, 100.0]], [[4.0, 4.0], [50.0, 50.0]]])
    column = torch.tensor([[True], [False], [True]])
    tracks = {"track_path": path, "track_visibility": column}
    read = TrackSet.from_tracks_dict(tracks, W, H)
    assert torch.equal(read.visible, column.expand(3, 2))
    assert torch.equal(read.to_tracks_dict()["track_visibility"], column.expand(3, 2))
    held = path_from_tracks(tracks, 3)
    assert torch.equal(held, torch.tensor([[5.0, 5.0], [5.0, 5.0], [27.0, 27.0]]))
    with pytest.raises(TrajectoryError, match="track_visibility"):
        TrackSet.from_tracks_dict({"track_path": path, "track_visibility": torch.ones(3, 3, dtype=torch.bool)}, W, H)
    with pytest.raises(ValueError, match="track_visibility"):
        path_from_tracks({"track_path": path, "track_visibility": torch.ones(3, 3, dtype=torch.bool)}, 3)


def test_a_tracks_dict_becomes_one_subject_group_named_tracks_by_default():
    tracks = TrackSet.from_tracks_dict({"track_path": torch.zeros(9, 4, 2)}, W, H)
    assert (tracks.width, tracks.height) == (W, H)
    assert tracks.groups == [TrackGroup("tracks", "subject", "#ff6f3c", 0, 4)]


@pytest.mark.parametrize(
    ("tracks", "message"),
    [
        ([1, 2], "tracks must be a TRACKS value with a 'track_path' tensor [frames, points, 2]."),
        ({"track_path": torch.zeros(9, 4, 3)}, "TRACKS 'track_path' must be [frames, points, 2]; got (9, 4, 3)."),
        ({"track_path": torch.zeros(9, 2)}, "TRACKS 'track_path' must be [frames, points, 2]; got (9, 2)."),
        (
            {"track_path": torch.full((9, 4, 2), float("nan"))},
            "TRACKS 'track_path' holds NaN or infinite positions; rebuild the tracks.",
        ),
        (
            {"track_path": torch.zeros(9, 4, 2), "track_visibility": torch.ones(9, 3, dtype=torch.bool)},
            "TRACKS 'track_visibility' is (9, 3) but 'track_path' needs (9, 4) or one column (9, 1).",
        ),
    ],
)
def test_a_tracks_dict_of_another_layout_is_refused_word_for_word(tracks, message):
    with pytest.raises(TrajectoryError) as caught:
        TrackSet.from_tracks_dict(tracks, W, H)
    assert str(caught.value) == message


def test_tracks_between_rows_interpolate_each_point_and_take_the_visibility_of_the_row_at_or_before():
    rows = np.arange(4.0)
    points = torch.from_numpy(
        np.stack([np.stack([10 * rows, 0 * rows], 1), np.stack([0 * rows + 7, 5 * rows + 1], 1)], 1)
    )
    visible = torch.tensor([[True, True], [False, True], [True, True], [False, True]])
    tracks = TrackSet(points, visible, W, H)
    moved, seen = tracks.at_times(np.array([0.5, 1.0, 2.0, 2.5, 3.0]))
    np.testing.assert_allclose(moved[:, 0], [[5, 0], [10, 0], [20, 0], [25, 0], [30, 0]])
    np.testing.assert_allclose(moved[:, 1], [[7, 3.5], [7, 6], [7, 11], [7, 13.5], [7, 16]])
    np.testing.assert_array_equal(seen[:, 0], [True, False, True, True, False])
    shifted, _ = tracks.at_times(rows + 0.5)  # as many times as rows, but not the rows' own
    np.testing.assert_allclose(shifted[:, 0, 0], [5, 15, 25, 30])


def straight(start: tuple[float, float], end: tuple[float, float], name: str = "walk") -> Path:
    return Path((Keypoint(*start, 0), Keypoint(*end, 8)), "linear", name)


def test_a_point_subject_is_one_point_and_spread_and_cluster_lay_out_about_the_path():
    assert build_trackset([TrackSpec(straight((100, 100), (200, 100)), "point", 3)], W, H, 9).num_points == 1
    down = build_trackset([TrackSpec(straight((400, 100), (400, 400)), "spread", 3, 0.025)], W, H, 9)
    spacing = 0.025 * (W + H) / 2
    np.testing.assert_allclose(down.points[0, :, 0].numpy(), [400 + spacing, 400, 400 - spacing], atol=1e-3)
    cluster = build_trackset([TrackSpec(straight((300, 200), (300, 200)), "cluster", 4, 0.025)], W, H, 9)
    expected = np.array([300, 200]) + cluster_offsets(4, spacing)
    np.testing.assert_allclose(cluster.points[0].numpy(), expected, atol=1e-3)


@pytest.mark.parametrize("mask", [torch.zeros(1, H, W), torch.zeros(2, H, W)])
def test_a_subject_mask_batch_is_sampled_on_its_first_frame(mask):
    mask[0, 100:120, 200:220] = 1
    tracks = build_trackset([TrackSpec(straight((210, 110), (300, 110)), "mask", 4)], W, H, 9, subject_mask=mask)
    start = tracks.points[0].numpy()
    assert np.all((start[:, 0] >= 200) & (start[:, 0] < 220) & (start[:, 1] >= 100) & (start[:, 1] < 120))


@pytest.mark.parametrize(
    ("spec", "mask", "message"),
    [
        (
            TrackSpec(straight((1, 1), (2, 2)), "blob"),
            None,
            "Track 'walk': unknown subject 'blob'; use one of point, spread, cluster, mask.",
        ),
        (TrackSpec(straight((1, 1), (2, 2)), "spread", 0), None, "Track 'walk': num_points must be at least 1, got 0."),
        (
            TrackSpec(straight((1, 1), (2, 2)), "mask", 4),
            None,
            "Track 'walk' samples its points inside the subject mask, but no subject_mask is connected; connect a MASK "
            "or set the track's subject to point, spread or cluster.",
        ),
        (
            TrackSpec(straight((1, 1), (2, 2)), "mask", 4),
            torch.ones(1, 40, 60),
            f"The subject mask is 60x40 but the frame is {W}x{H}; resize it to the frame size.",
        ),
    ],
)
def test_a_track_that_cannot_be_laid_out_is_refused_word_for_word(spec, mask, message):
    with pytest.raises(TrajectoryError) as caught:
        build_trackset([spec], W, H, 9, subject_mask=mask)
    assert str(caught.value) == message
