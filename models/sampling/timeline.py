"""The cut as an editorial timeline (OpenTimelineIO), for finishing in Resolve, Premiere, Avid or Nuke Studio.

Each shot is a clip whose media is that shot's rendered file, whole: the frames a beat snap trimmed stay in the
file as a handle the editor can roll back into. A clip's record start is the frame the shot starts in the cut,
its source range the frames the cut shows. A crossfade is a dissolve that starts at the cut and runs into the
incoming shot (the CMX 3600 convention), drawing on the outgoing shot's trimmed tail. Beats are markers on the
timeline, the track under the cut an audio clip, each shot's candidates (seeds, scores, the one chosen) clip
metadata under ``worldkit``. Media paths are relative to the timeline's folder, so the folder can move whole.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import opentimelineio as otio

from ..shared.files import write_text_atomically
from ..shared.text import quote

FORMATS = {
    # name: (OTIO adapter, file suffix)
    "otio": ("otio_json", ".otio"),
    "fcp_xml": ("fcp_xml", ".xml"),
    "edl": ("cmx_3600", ".edl"),
}
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
TIMECODE_FORMATS = ("fcp_xml", "edl")
"""Formats that count in SMPTE timecode, which exists only at the broadcast rates (24, 25, 30, 48, 50, 60 and
23.976)."""


@dataclass
class ShotMedia:
    """A shot's rendered file and what the editor should know about it (its report: candidates, prompt…)."""

    name: str
    path: Path
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class AudioMedia:
    path: Path
    seconds: float


def _time(frames: float, fps: float) -> otio.opentime.RationalTime:
    return otio.opentime.RationalTime(frames, fps)


def _range(start: float, frames: float, fps: float) -> otio.opentime.TimeRange:
    return otio.opentime.TimeRange(_time(start, fps), _time(frames, fps))


def relative_url(media: Path, timeline_path: Path) -> str:
    """``media`` as a path relative to the timeline's folder, with forward slashes on every system."""
    return Path(os.path.relpath(Path(media).resolve(), Path(timeline_path).resolve().parent)).as_posix()


def require_cut(cut: Any) -> float:
    """An Assemble Cut cut list's frame rate, once its shot placements are seen to be there."""
    placements = cut.get("shots") if isinstance(cut, dict) else None
    fps = cut.get("fps") if isinstance(cut, dict) else None
    keys = ("source_start", "source_frames", "kept_frames", "timeline_start")
    if (
        not isinstance(placements, list)
        or not placements
        or not all(isinstance(shot, dict) and all(type(shot.get(key)) is int for key in keys) for shot in placements)
        or not isinstance(fps, (int, float))
        or not fps > 0
    ):
        raise ValueError("cut_list is not an Assemble Cut cut list; connect Assemble Cut's cut_list output.")
    return float(fps)


def _int64_safe(value: Any) -> Any:
    """``value`` with integers beyond int64 (seeds reach SEED_LIMIT - 1) as text: OTIO metadata holds int64 only."""
    if isinstance(value, dict):
        return {key: _int64_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_int64_safe(item) for item in value]
    if type(value) is int and not INT64_MIN <= value <= INT64_MAX:
        return str(value)
    return value


def _shot_clip(placement: dict[str, Any], shot: ShotMedia, shown: int, fps: float, timeline_path: Path):
    reference = otio.schema.ExternalReference(
        target_url=relative_url(shot.path, timeline_path),
        available_range=_range(0, placement["source_frames"], fps),
    )
    return otio.schema.Clip(
        name=shot.name,
        media_reference=reference,
        source_range=_range(0, shown, fps),
        metadata={"worldkit": _int64_safe(shot.metadata)} if shot.metadata else {},
    )


def build_timeline(
    cut: dict[str, Any],
    shots: Sequence[ShotMedia],
    timeline_path: Path,
    audio: AudioMedia | None = None,
    name: str = "WorldKit cut",
) -> otio.schema.Timeline:
    """The timeline of an Assemble Cut cut list (``AssembledCut.to_dict()``), its shots' media in ``shots``."""
    fps, fade, placements = require_cut(cut), int(cut.get("transition_frames", 0)), cut["shots"]
    if len(placements) != len(shots):
        raise ValueError(f"the cut has {len(placements)} shots but {len(shots)} shot files were given.")
    timeline = otio.schema.Timeline(name=name, global_start_time=_time(0, fps))
    video = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    for index, (placement, shot) in enumerate(zip(placements, shots, strict=True)):
        last = index == len(placements) - 1
        shown = placement["kept_frames"] - (0 if last else fade)
        video.append(_shot_clip(placement, shot, shown, fps, timeline_path))
        if fade and not last:
            video.append(
                otio.schema.Transition(
                    name=f"dissolve {index + 1}",
                    transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve,
                    in_offset=_time(0, fps),
                    out_offset=_time(fade, fps),
                )
            )
    timeline.tracks.append(video)
    if audio is not None:
        track = otio.schema.Track(name="A1", kind=otio.schema.TrackKind.Audio)
        available = round(audio.seconds * fps)
        reference = otio.schema.ExternalReference(
            target_url=relative_url(audio.path, timeline_path), available_range=_range(0, available, fps)
        )
        shown = min(available, int(cut["frames"]))
        track.append(otio.schema.Clip(name="audio", media_reference=reference, source_range=_range(0, shown, fps)))
        timeline.tracks.append(track)
    for number, beat in enumerate(cut.get("beats", []), start=1):
        timeline.tracks.markers.append(
            otio.schema.Marker(name=f"beat {number}", marked_range=_range(round(beat * fps), 0, fps))
        )
    return timeline


def require_formats(formats: Sequence[str], fps: float) -> None:
    """Known format names, and a frame rate timecode exists at for the formats that count in timecode."""
    unknown = [name for name in formats if name not in FORMATS]
    if unknown or not formats:
        raise ValueError(f"timeline formats must be some of {', '.join(FORMATS)}; got {quote(', '.join(formats))}.")
    timecoded = [name for name in formats if name in TIMECODE_FORMATS]
    if timecoded and not otio.opentime.RationalTime.is_smpte_timecode_rate(fps):
        raise ValueError(
            f"{' and '.join(timecoded)} count in SMPTE timecode, which has no {fps:g} fps; give the cut a "
            "broadcast rate (24, 25, 30, 48, 50, 60 or 23.976, e.g. by interpolating the frames), or write "
            "only 'otio', which keeps any rate."
        )


def write_timeline(timeline: otio.schema.Timeline, stem: Path, formats: Sequence[str], fps: float) -> list[Path]:
    """Write ``timeline`` as ``stem`` + each format's suffix, each file atomically; returns the paths."""
    require_formats(formats, fps)
    paths = []
    for name in formats:
        adapter, suffix = FORMATS[name]
        path = Path(stem).with_name(Path(stem).name + suffix)
        write_text_atomically(path, otio.adapters.write_to_string(timeline, adapter))
        paths.append(path)
    return paths
