"""The cut handed to an editor: a timeline written as OTIO, FCP 7 XML and CMX 3600 EDL, read back with
OpenTimelineIO's adapters, matches the cut frame for frame, and its media paths resolve beside it."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import opentimelineio as otio
import pytest
import torch

from worldkit.models.sampling.cut import assemble_cut
from worldkit.models.sampling.cut_media import write_shot_videos, write_wav
from worldkit.models.sampling.timeline import (
    FORMATS,
    AudioMedia,
    ShotMedia,
    build_timeline,
    require_formats,
    write_timeline,
)

FPS = 24.0
LENGTHS = [20, 31, 13]
BEATS = [0.7, 1.9]  # seconds: frames 16.8 and 45.6, so shots 1 and 2 are trimmed to land their cuts there
SAMPLE_RATE = 8000


def shot_frames() -> torch.Tensor:
    """Shot i a constant grey of (i + 1) / 4, 16 × 16 pixels."""
    return torch.cat([torch.full((n, 16, 16, 3), (i + 1) / 4) for i, n in enumerate(LENGTHS)])


def write_cut(folder: Path, transition: str, fade: int, formats: list[str]) -> tuple[dict, list[Path], Path, Path]:
    """A three-shot cut snapped to ``BEATS`` with its media and track, written as ``formats``."""
    frames = shot_frames()
    cut = json.loads(json.dumps(assemble_cut(frames, LENGTHS, FPS, transition, fade, BEATS, 0.5).to_dict()))
    stem = folder / "film" / "cut"
    videos = write_shot_videos(frames, cut["shots"], FPS, stem)
    wav = stem.with_name("cut_audio.wav")
    seconds = write_wav(wav, torch.zeros(2, SAMPLE_RATE * 3), SAMPLE_RATE)
    shots = [
        ShotMedia(f"shot {i + 1}", path, {"candidates": [{"candidate": 1, "seed": 7 + i}], "chosen": 0})
        for i, path in enumerate(videos)
    ]
    timeline = build_timeline(cut, shots, stem.with_suffix(".otio"), AudioMedia(wav, seconds))
    paths = write_timeline(timeline, stem, formats, FPS)
    return cut, videos, wav, paths


def read_back(path: Path) -> otio.schema.Timeline:
    if path.suffix == ".edl":
        return otio.adapters.read_from_file(str(path), "cmx_3600", rate=FPS)
    return otio.adapters.read_from_file(str(path))


def video_clips(timeline: otio.schema.Timeline) -> tuple[otio.schema.Track, list[otio.schema.Clip]]:
    track = timeline.video_tracks()[0]
    return track, [item for item in track if isinstance(item, otio.schema.Clip)]


def record_frames(track: otio.schema.Track, clip: otio.schema.Clip) -> tuple[int, int]:
    """A clip's first and end (exclusive) frame in the cut, counting its dissolve into the next shot."""
    index = list(track).index(clip)
    visible = clip.range_in_parent()
    following = track[index + 1] if index + 1 < len(track) else None
    fade = following.out_offset if isinstance(following, otio.schema.Transition) else otio.opentime.RationalTime()
    start = visible.start_time
    return round(start.value), round((start + visible.duration + fade).value)


@pytest.mark.parametrize(("transition", "fade"), [("cut", 0), ("crossfade", 4)])
@pytest.mark.parametrize("kind", list(FORMATS))
def test_clip_ranges_are_the_shots_frame_for_frame_in_every_format(tmp_path, kind, transition, fade):
    cut, _, _, (path,) = write_cut(tmp_path, transition, fade, [kind])
    assert cut["shots"][0]["kept_frames"] < LENGTHS[0]  # a beat trimmed the first shot
    track, clips = video_clips(read_back(path))
    assert len(clips) == len(LENGTHS)
    for clip, shot in zip(clips, cut["shots"], strict=True):
        assert record_frames(track, clip) == (shot["timeline_start"], shot["timeline_start"] + shot["kept_frames"])
        assert clip.source_range.start_time.value == 0
        assert clip.source_range.duration.rate == FPS
    transitions = [item for item in track if isinstance(item, otio.schema.Transition)]
    assert len(transitions) == (len(LENGTHS) - 1 if fade else 0)


@pytest.mark.parametrize("kind", list(FORMATS))
def test_media_paths_resolve_relative_to_the_timeline(tmp_path, kind):
    _, videos, wav, (path,) = write_cut(tmp_path, "cut", 0, [kind])
    moved = tmp_path / "moved"
    (tmp_path / "film").rename(moved)  # the folder moves whole: the links still hold
    path = moved / path.name
    timeline = read_back(path)
    _, clips = video_clips(timeline)
    resolved = [(path.parent / clip.media_reference.target_url).resolve() for clip in clips]
    assert resolved == [moved / video.name for video in videos]
    assert all(file.is_file() for file in resolved)
    if kind != "edl":  # a CMX 3600 EDL holds one picture track and no sound
        (audio,) = timeline.audio_tracks()[0]
        assert (path.parent / audio.media_reference.target_url).resolve() == moved / wav.name


@pytest.mark.parametrize("kind", ["otio", "fcp_xml"])
def test_beats_are_markers_and_the_rate_is_the_films(tmp_path, kind):
    _, _, _, (path,) = write_cut(tmp_path, "cut", 0, [kind])
    timeline = read_back(path)
    markers = timeline.tracks.markers
    assert [marker.marked_range.start_time.value for marker in markers] == [round(beat * FPS) for beat in BEATS]
    assert {marker.marked_range.start_time.rate for marker in markers} == {FPS}
    assert timeline.duration().rate == FPS


def test_candidates_travel_as_clip_metadata(tmp_path):
    _, _, _, (path,) = write_cut(tmp_path, "cut", 0, ["otio"])
    _, clips = video_clips(read_back(path))
    assert [clip.metadata["worldkit"]["candidates"][0]["seed"] for clip in clips] == [7, 8, 9]


def test_seeds_beyond_int64_travel_as_text(tmp_path):
    """ComfyUI seeds reach 2**64 - 1; OTIO metadata holds int64, so larger ones are written as text."""
    cut = json.loads(json.dumps(assemble_cut(shot_frames(), LENGTHS, FPS).to_dict()))
    seeds = [2**64 - 1, 5]
    shots = [ShotMedia(f"shot {i}", tmp_path / f"{i}.mov", {"seeds": seeds}) for i in range(len(LENGTHS))]
    (path,) = write_timeline(build_timeline(cut, shots, tmp_path / "cut.otio"), tmp_path / "cut", ["otio"], FPS)
    _, clips = video_clips(read_back(path))
    assert [list(clip.metadata["worldkit"]["seeds"]) for clip in clips] == [[str(2**64 - 1), 5]] * len(LENGTHS)


def test_each_shot_file_holds_the_whole_shot(tmp_path):
    """The media holds every source frame (the trimmed tail is a handle), each frame the shot's grey."""
    _, videos, _, _ = write_cut(tmp_path, "cut", 0, ["otio"])
    for index, (video, length) in enumerate(zip(videos, LENGTHS, strict=True)):
        with av.open(str(video)) as container:
            decoded = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
        assert len(decoded) == length
        assert np.abs(np.stack(decoded) / 255.0 - (index + 1) / 4).max() < 2 / 255


def test_timecode_formats_refuse_rates_without_timecode():
    with pytest.raises(ValueError, match=r"no 16 fps.*only 'otio'"):
        require_formats(["otio", "edl"], 16.0)
    require_formats(["otio"], 16.0)
    with pytest.raises(ValueError, match="formats must be some of"):
        require_formats(["aaf"], 24.0)
