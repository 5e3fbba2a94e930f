"""Score Consistency, Best of N and Assemble Cut in real ComfyUI graphs; the cut is written by ComfyUI's SaveVideo."""

from __future__ import annotations

import json
import wave

import cv2
import numpy as np
import pytest
from graphs import load_clip_vision, reference_node, save_cut_timeline, saved_video, timeline_clips

from worldkit.tests.scenes import OTHER, OTHER_SAME_COLORS, SIZE, TOY, render
from worldkit.tools.prompt_graph import Graph, out

FPS = 16.0
SAMPLE_RATE = 22050
BEAT_FRAMES = [6 + 9 * k for k in range(14)]  # a click every 9 frames from frame 6, at 16 fps


def png_bytes(rgb: np.ndarray, alpha: np.ndarray | None = None) -> bytes:
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    image = bgr if alpha is None else np.dstack([bgr, alpha])
    ok, encoded = cv2.imencode(".png", image)
    assert ok
    return encoded.tobytes()


def upload_scenes(comfy) -> dict[str, str]:
    """The toy as an RGBA reference photo (transparent around it) and four candidate stills; the third shows the toy."""
    reference = np.zeros((SIZE + 80, SIZE + 80, 3), np.uint8)
    alpha = np.zeros((SIZE + 80, SIZE + 80), np.uint8)
    reference[40 : 40 + SIZE, 40 : 40 + SIZE] = TOY
    alpha[40 : 40 + SIZE, 40 : 40 + SIZE] = 255
    names = {"reference": comfy.upload_image(png_bytes(reference, alpha), "wk_scoring_toy_reference.png")}
    stills = [
        render(OTHER, (150, 120)),
        render(OTHER_SAME_COLORS, (150, 120)),
        render(TOY, (170, 110), angle=10, gain=(0.9, 0.95, 1.1)),
        render(OTHER, (100, 100), angle=30),
    ]
    for index, still in enumerate(stills):
        names[f"still_{index}"] = comfy.upload_image(png_bytes(still), f"wk_scoring_still_{index}.png")
    return names


def toy_reference(graph: Graph, names: dict[str, str]) -> str:
    photo = graph.node("LoadImage", image=names["reference"])
    return reference_node(
        graph, photo, "toy", "object", 256, 256, description="a wooden toy", mask=out(photo, 1), invert_mask=True
    )


def four_stills(graph: Graph, names: dict[str, str]) -> str:
    batch = graph.node("LoadImage", image=names["still_0"])
    for index in range(1, 4):
        still = graph.node("LoadImage", image=names[f"still_{index}"])
        batch = graph.node("ImageBatch", image1=out(batch), image2=out(still))
    return batch


def text_of(result, node_id: str) -> str:
    return result.outputs[node_id]["text"][0]


def scoring_settings(**overrides) -> dict:
    return {"entities": "", "temporal_weight": 0.25, "features": "sift", "max_frames": 16, **overrides}


def test_score_consistency_ranks_the_same_toy_above_a_different_object(comfy):
    names = upload_scenes(comfy)
    graph = Graph()
    reference = toy_reference(graph, names)
    world = graph.node("WorldKitWorld", reference_1=out(reference))
    previews = {}
    for label in ("still_1", "still_2"):
        frames = graph.node("LoadImage", image=names[label])
        score = graph.node(
            "WorldKitScoreConsistency", frames=out(frames), references=out(world), **scoring_settings(entities="toy")
        )
        previews[label] = (
            graph.node("PreviewAny", source=out(score, 0)),
            graph.node("PreviewAny", source=out(score, 1)),
        )
    result = comfy.run(graph.prompt())
    scores = {label: float(text_of(result, score)) for label, (score, _) in previews.items()}
    reports = {label: json.loads(text_of(result, report)) for label, (_, report) in previews.items()}
    assert scores["still_2"] > scores["still_1"]
    for label, report in reports.items():
        assert report["method"] == "classical"
        assert report["overall"] == pytest.approx(scores[label])
        assert [entry["name"] for entry in report["references"]] == ["toy"]
        assert 0.0 <= report["identity"] <= 1.0 and report["temporal_stability"] == 1.0


def test_best_of_four_stills_keeps_the_toy_and_reports_every_score(comfy):
    names = upload_scenes(comfy)
    graph = Graph()
    pick = graph.node(
        "WorldKitPickBest",
        candidates=out(four_stills(graph, names)),
        frames_per_candidate=1,
        references=out(toy_reference(graph, names)),
        **scoring_settings(),
    )
    index = graph.node("PreviewAny", source=out(pick, 1))
    report = graph.node("PreviewAny", source=out(pick, 2))
    saved = graph.node("SaveImage", images=out(pick, 0), filename_prefix="wk_scoring/best")
    result = comfy.run(graph.prompt())
    summary = json.loads(text_of(result, report))
    assert int(text_of(result, index)) == 2 == summary["best"]
    assert len(summary["scores"]) == len(summary["candidates"]) == 4
    assert summary["best"] == int(np.argmax(summary["scores"]))
    assert len(result.outputs[saved]["images"]) == 1


def test_best_of_n_splits_a_batch_into_clips_and_rejects_a_split_that_does_not_fit(comfy):
    names = upload_scenes(comfy)
    graph = Graph()
    stills, reference = four_stills(graph, names), toy_reference(graph, names)
    pick = graph.node(
        "WorldKitPickBest",
        candidates=out(stills),
        frames_per_candidate=2,
        references=out(reference),
        **scoring_settings(),
    )
    report = graph.node("PreviewAny", source=out(pick, 2))
    frames = graph.node("PreviewAny", source=out(graph.node("GetImageSize", image=out(pick, 0)), 2))
    result = comfy.run(graph.prompt())
    summary = json.loads(text_of(result, report))
    assert len(summary["scores"]) == 2 and summary["best"] == 1  # the second clip holds the toy
    assert int(text_of(result, frames)) == 2
    graph.nodes[pick]["inputs"]["frames_per_candidate"] = 3
    failed = comfy.run(graph.prompt(), expect_error=True)
    assert "not a multiple of frames_per_candidate (3)" in failed.error["exception_message"]


def test_best_of_n_with_clip_vision_scores_by_clip_i_and_picks_the_argmax(comfy, tiny_models):
    names = upload_scenes(comfy)
    graph = Graph()
    vision = load_clip_vision(graph, tiny_models)
    pick = graph.node(
        "WorldKitPickBest",
        candidates=out(four_stills(graph, names)),
        frames_per_candidate=1,
        references=out(toy_reference(graph, names)),
        clip_vision=out(vision),
        **scoring_settings(),
    )
    report = graph.node("PreviewAny", source=out(pick, 2))
    summary = json.loads(text_of(comfy.run(graph.prompt()), report))
    assert {candidate["method"] for candidate in summary["candidates"]} == {"clip"}
    assert all(0.0 <= score <= 1.0 for score in summary["scores"])
    best = max(summary["scores"])
    assert summary["best"] == summary["scores"].index(best)


def solid_shots(graph: Graph, lengths: list[int], size: int = 64) -> str:
    batch = None
    for index, length in enumerate(lengths):
        shot = graph.node("EmptyImage", width=size, height=size, batch_size=length, color=0x303030 + 0x202020 * index)
        batch = shot if batch is None else graph.node("ImageBatch", image1=out(batch), image2=out(shot))
    return batch


def assemble_cut(graph: Graph, lengths: list[int], **widgets) -> tuple[str, str]:
    """Assemble Cut over solid shots of these lengths, straight cuts without beats unless ``widgets`` say; returns
    the node and a preview of its cut list."""
    settings = dict(transition="cut", crossfade_frames=0, snap_to_beats=False, beat_threshold=0.3, min_keep=0.5)
    cut = graph.node(
        "WorldKitAssembleCut",
        frames=out(solid_shots(graph, lengths)),
        shot_lengths=", ".join(map(str, lengths)),
        fps=FPS,
        **{**settings, **widgets},
    )
    return cut, graph.node("PreviewAny", source=out(cut, 1))


def save_cut(graph: Graph, cut: str, name: str) -> str:
    return graph.node("SaveVideo", video=out(cut), filename_prefix=f"wk_scoring/{name}", format="mp4", codec="h264")


def test_assemble_cut_with_crossfades_writes_a_video_of_the_expected_length(comfy):
    graph = Graph()
    cut, cut_list = assemble_cut(graph, [6, 5, 7], transition="crossfade", crossfade_frames=2)
    save_cut(graph, cut, "crossfade")
    result = comfy.run(graph.prompt())
    frames, has_audio, size, rate = saved_video(comfy, result)
    assert frames == 6 + 5 + 7 - 2 * 2
    assert not has_audio and size == (64, 64) and rate == pytest.approx(FPS)
    report = json.loads(text_of(result, cut_list))
    assert [c["frame"] for c in report["cuts"]] == [4, 7]
    assert report["frames"] == frames


def write_click_track(path, seconds: float) -> None:
    """A stereo 16-bit WAV with a short click on every beat of BEAT_FRAMES."""
    samples = np.zeros(int(seconds * SAMPLE_RATE), np.float32)
    t = np.arange(int(0.02 * SAMPLE_RATE)) / SAMPLE_RATE
    click = np.sin(2 * np.pi * 1500 * t) * np.exp(-t / 0.004)
    for frame in BEAT_FRAMES:
        start = round(frame / FPS * SAMPLE_RATE)
        samples[start : start + click.size] += click[: samples.size - start]
    pcm = (np.clip(samples, -1, 1) * 32000).astype(np.int16)
    with wave.open(str(path), "wb") as track:
        track.setnchannels(2)
        track.setsampwidth(2)
        track.setframerate(SAMPLE_RATE)
        track.writeframes(np.repeat(pcm, 2).tobytes())


def test_assemble_cut_snaps_cuts_to_the_beats_of_a_click_track(comfy):
    write_click_track(comfy.input_dir / "wk_scoring_clicks.wav", 8.0)
    graph = Graph()
    audio = out(graph.node("LoadAudio", audio="wk_scoring_clicks.wav"))
    cut, cut_list = assemble_cut(graph, [40, 40, 40], snap_to_beats=True, audio=audio)
    save_cut(graph, cut, "beats")
    result = comfy.run(graph.prompt())
    report = json.loads(text_of(result, cut_list))
    assert [shot["kept_frames"] for shot in report["shots"]] == [33, 36, 40]
    assert [c["frame"] for c in report["cuts"]] == [33, 69]
    for c in report["cuts"]:
        assert abs(c["time"] - c["beat"]) <= 0.01
    frames, has_audio, _, _ = saved_video(comfy, result)
    assert frames == 109 and has_audio


def test_snapping_without_audio_is_a_clear_error(comfy):
    graph = Graph()
    assemble_cut(graph, [4, 4], snap_to_beats=True)
    result = comfy.run(graph.prompt(), expect_error=True)
    assert "no audio is connected" in result.error["exception_message"]


def test_save_cut_timeline_hands_the_beat_cut_to_the_editor(comfy):
    """Save Cut Timeline after a beat-snapped cut at 24 fps: the OTIO, FCP XML and EDL it writes read back with
    OpenTimelineIO's adapters, each clip on its shot's frames, each media path a file beside the timeline."""
    write_click_track(comfy.input_dir / "wk_scoring_clicks.wav", 8.0)
    graph = Graph()
    audio = out(graph.node("LoadAudio", audio="wk_scoring_clicks.wav"))
    shots = solid_shots(graph, [40, 40, 40])
    settings = dict(transition="crossfade", crossfade_frames=4, snap_to_beats=True, beat_threshold=0.3, min_keep=0.5)
    cut = graph.node(
        "WorldKitAssembleCut", frames=out(shots), shot_lengths="40, 40, 40", fps=24.0, audio=audio, **settings
    )
    cut_list = graph.node("PreviewAny", source=out(cut, 1))
    accounts = [{"name": f"take {number}", "candidates": [{"candidate": 1, "seed": number}]} for number in (1, 2, 3)]
    report = graph.node("PrimitiveString", value=json.dumps({"shots": accounts}))
    save = save_cut_timeline(
        graph, shots, cut, "wk_scoring/timeline", fcp_xml=True, edl=True, report=out(report), audio=audio
    )
    result = comfy.run(graph.prompt())
    placements = json.loads(text_of(result, cut_list))["shots"]
    assert placements[0]["kept_frames"] < 40  # the beats trimmed
    saved = {entry["filename"]: entry for entry in result.outputs[save]["timeline"]}
    folder = comfy.output_dir / next(iter(saved.values()))["subfolder"]
    timelines = [folder / name for name in saved if name.endswith((".otio", ".xml", ".edl"))]
    assert sorted(path.suffix for path in timelines) == [".edl", ".otio", ".xml"]
    for path in timelines:
        timeline, clips = timeline_clips(path, 24.0)
        for index, (clip, shot) in enumerate(zip(clips, placements, strict=True)):
            record = clip.range_in_parent()
            shown = shot["kept_frames"] - (4 if index < 2 else 0)
            assert (record.start_time.value, record.duration.value) == (shot["timeline_start"], shown)
            assert record.duration.rate == 24.0
            if path.suffix != ".edl":  # the EDL reader takes a dissolve's media from its outgoing clip
                media = (path.parent / clip.media_reference.target_url).resolve()
                assert media.is_file() and media.name in saved
        if path.suffix == ".otio":
            assert [clip.name for clip in clips] == ["take 1", "take 2", "take 3"]
            assert [clip.metadata["worldkit"]["candidates"][0]["seed"] for clip in clips] == [1, 2, 3]
            (music,) = timeline.audio_tracks()[0]
            assert (path.parent / music.media_reference.target_url).resolve().is_file()
            assert len(timeline.tracks.markers) > 0
