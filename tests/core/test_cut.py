"""Assembling cuts: durations, crossfade content, and cuts snapped to beats of a constructed click track."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from worldkit.models.sampling.cut import (
    DEFAULT_HOP_SECONDS,
    assemble_cut,
    detect_beats,
    onset_envelope,
    parse_shot_lengths,
    plan_kept_frames,
)

SAMPLE_RATE = 22050
FPS = 16.0


def click_track(times: list[float], duration: float, channels: int = 2, seed: int = 0) -> np.ndarray:
    """Short decaying 1.5 kHz clicks at ``times`` over faint noise: [channels, samples]."""
    rng = np.random.default_rng(seed)
    samples = int(duration * SAMPLE_RATE)
    track = rng.normal(0.0, 1e-3, samples).astype(np.float32)
    length = int(0.02 * SAMPLE_RATE)
    t = np.arange(length) / SAMPLE_RATE
    click = (np.sin(2 * np.pi * 1500 * t) * np.exp(-t / 0.004)).astype(np.float32)
    for time in times:
        start = round(time * SAMPLE_RATE)
        track[start : start + length] += click[: samples - start]
    return np.stack([track] * channels)


def shots_of_solid_colours(lengths: list[int], size: int = 8) -> torch.Tensor:
    """Shot i is a constant grey of value (i + 1) / 10, so every output frame tells where it came from."""
    return torch.cat([torch.full((n, size, size, 3), (i + 1) / 10) for i, n in enumerate(lengths)])


def test_onsets_of_a_click_track_are_found_within_one_hop():
    times = [0.25, 0.8, 1.37, 1.9, 2.61, 3.05]
    beats = detect_beats(torch.from_numpy(click_track(times, 3.5))[None], SAMPLE_RATE)
    assert len(beats) == len(times)
    assert np.abs(beats - np.asarray(times)).max() <= DEFAULT_HOP_SECONDS


def test_silence_has_no_onsets_and_quiet_clicks_are_still_found():
    assert detect_beats(np.zeros((1, SAMPLE_RATE)), SAMPLE_RATE).size == 0
    assert not onset_envelope(np.zeros(SAMPLE_RATE, np.float32), 220).any()
    quiet = click_track([0.5, 1.0], 1.5) * 0.01
    assert np.abs(detect_beats(quiet, SAMPLE_RATE) - [0.5, 1.0]).max() <= DEFAULT_HOP_SECONDS


def test_min_gap_keeps_one_onset_of_a_close_pair():
    beats = detect_beats(click_track([0.5, 0.55, 1.2], 1.6), SAMPLE_RATE, min_gap_seconds=0.1)
    assert len(beats) == 2
    assert abs(beats[1] - 1.2) <= DEFAULT_HOP_SECONDS


def test_hard_cuts_keep_every_frame_and_report_cut_times():
    lengths = [20, 33, 11]
    result = assemble_cut(shots_of_solid_colours(lengths), lengths, FPS)
    assert result.frames.shape[0] == 64
    assert result.duration == pytest.approx(64 / FPS)
    assert [cut.frame for cut in result.cuts] == [20, 53]
    assert [cut.time for cut in result.cuts] == pytest.approx([20 / FPS, 53 / FPS])
    assert [shot.timeline_start for shot in result.shots] == [0, 20, 53]
    assert float(result.frames[19, 0, 0, 0]) == pytest.approx(0.1)
    assert float(result.frames[20, 0, 0, 0]) == pytest.approx(0.2)


def test_crossfades_overlap_shots_and_blend_linearly():
    lengths, fade = [20, 30, 25], 5
    result = assemble_cut(shots_of_solid_colours(lengths), lengths, FPS, "crossfade", fade)
    assert result.frames.shape[0] == sum(lengths) - 2 * fade
    assert [cut.frame for cut in result.cuts] == [15, 40]
    assert [cut.time for cut in result.cuts] == pytest.approx([17 / FPS, 42 / FPS])
    values = result.frames[:, 0, 0, 0]
    assert torch.allclose(
        values[14:21], torch.tensor([0.1, 0.1 + 0.1 / 6, 0.1 + 0.2 / 6, 0.15, 0.1 + 0.4 / 6, 0.1 + 0.5 / 6, 0.2])
    )
    assert float(values[-1]) == pytest.approx(0.3)


def test_cut_mode_ignores_crossfade_frames():
    lengths = [10, 10]
    result = assemble_cut(shots_of_solid_colours(lengths), lengths, FPS, "cut", 6)
    assert result.frames.shape[0] == 20 and result.transition_frames == 0


def test_cuts_snap_to_detected_beats_of_a_click_track():
    beat_frames = [6 + 9 * k for k in range(14)]  # every 9 frames from frame 6: 6, 15, 24, 33, 42, ...
    times = [f / FPS for f in beat_frames]
    beats = detect_beats(click_track(times, 8.0), SAMPLE_RATE)
    assert np.abs(beats - times[: len(beats)]).max() <= DEFAULT_HOP_SECONDS
    lengths = [40, 40, 40]
    result = assemble_cut(shots_of_solid_colours(lengths), lengths, FPS, beats=beats)
    assert [shot.kept_frames for shot in result.shots] == [33, 36, 40]
    assert [cut.frame for cut in result.cuts] == [33, 69]
    assert result.frames.shape[0] == 109
    for cut in result.cuts:
        assert cut.beat is not None
        assert abs(cut.time - cut.beat) <= DEFAULT_HOP_SECONDS
        assert min(abs(cut.time - t) for t in times) <= DEFAULT_HOP_SECONDS
    assert float(result.frames[32, 0, 0, 0]) == pytest.approx(0.1)
    assert float(result.frames[33, 0, 0, 0]) == pytest.approx(0.2)


def test_crossfade_midpoints_land_on_beats():
    beats = [2.0, 4.0, 4.5]  # 4.5 s would need frames the second shot does not have
    lengths, fade = [40, 40, 40], 5
    result = assemble_cut(shots_of_solid_colours(lengths), lengths, FPS, "crossfade", fade, beats=beats)
    assert [cut.time for cut in result.cuts] == pytest.approx([2.0, 4.0])
    assert [shot.kept_frames for shot in result.shots] == [35, 37, 40]
    midpoint = result.cuts[0].frame + 2
    assert float(result.frames[midpoint, 0, 0, 0]) == pytest.approx(0.15)
    assert result.frames.shape[0] == sum(shot.kept_frames for shot in result.shots) - 2 * fade


def test_snapping_never_trims_below_min_keep():
    kept, snapped = plan_kept_frames([40, 40], FPS, beats=[0.5], min_keep=0.5)
    assert kept == [40, 40] and snapped == [None]
    kept, snapped = plan_kept_frames([40, 40], FPS, beats=[0.5], min_keep=0.1)
    assert kept == [8, 40] and snapped == [0.5]


def test_snapping_never_lengthens_a_shot():
    kept, snapped = plan_kept_frames([40, 40], FPS, beats=[2.4, 2.6, 3.0])
    assert kept == [38, 40]
    assert snapped == [2.4]


def test_shot_lengths_parse_and_validate():
    assert parse_shot_lengths("", 12) == [12]
    assert parse_shot_lengths("4, 4 4", 12) == [4, 4, 4]
    assert parse_shot_lengths("[5, 7]", 12) == [5, 7]
    assert parse_shot_lengths('[{"shot": 0, "start": 0, "end": 5}, {"shot": 1, "start": 5, "end": 12}]', 12) == [5, 7]
    with pytest.raises(ValueError, match="without gaps"):
        parse_shot_lengths('[{"start": 0, "end": 5}, {"start": 6, "end": 12}]', 12)
    with pytest.raises(ValueError, match="add up to 11"):
        parse_shot_lengths("5, 6", 12)
    with pytest.raises(ValueError, match="frame counts"):
        parse_shot_lengths("five, seven", 12)
    with pytest.raises(ValueError, match="at least one frame"):
        parse_shot_lengths("12, 0", 12)
    with pytest.raises(ValueError, match="whole frame counts"):
        parse_shot_lengths("[5.5, 6.5]", 12)


def test_crossfade_longer_than_a_shot_is_a_clear_error():
    with pytest.raises(ValueError, match="shot 2 has 6 frames"):
        assemble_cut(shots_of_solid_colours([10, 6, 10]), [10, 6, 10], FPS, "crossfade", 4)
    with pytest.raises(ValueError, match="transition"):
        assemble_cut(shots_of_solid_colours([10]), [10], FPS, "wipe")


def test_report_is_json_ready():
    import json

    result = assemble_cut(shots_of_solid_colours([8, 8]), [8, 8], FPS, beats=np.array([0.25]))
    report = json.loads(json.dumps(result.to_dict()))
    assert report["frames"] == 12 and report["cuts"][0]["frame"] == 4 and report["beats"] == [0.25]
    assert report["shots"][0] == {"source_start": 0, "source_frames": 8, "kept_frames": 4, "timeline_start": 0}
