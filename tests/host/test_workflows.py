"""The demo workflows (six films in their variants): API twins match their UI files, and each runs end to end on
tiny models: the full and fast variant of every film, the Wan 2.2 5B variant of the five that have one, and the
Wan 2.2 A14B variant of one (every A14B variant builds its graph from the same steps as the one run here: the
experts on World Shot Sampler and a KSamplerAdvanced pair after Bind Shot)."""

from __future__ import annotations

import json
import math
from itertools import islice
from pathlib import Path

import av
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from graphs import timeline_clips
from PIL import Image
from scipy import ndimage
from workflow_maps import (
    PREVIEW_FRAMES,
    PREVIEW_SIZE,
    PREVIEW_SWITCH,
    face_crops_previewed,
    green_screen_stand_in,
    preview_overrides,
    tiny_renames,
)

from worldkit.headless import run_workflow
from worldkit.headless.convert import api_path_for, ui_to_api
from worldkit.headless.overrides import Override
from worldkit.models.shared.wan import round_up_frame_count
from worldkit.tools.authoring.build import build_workflow
from worldkit.tools.authoring.films import WORKFLOWS
from worldkit.tools.authoring.inputs import BEAT_BPM, SIZE
from worldkit.tools.authoring.plates import PLATE_FPS, PLATE_FRAMES

PLATE_SHAPE = (PLATE_FRAMES, SIZE[1], SIZE[0])
"""The GVFX composites play over the moving plate (Load Video): its length and size, whatever the element's."""

WORKFLOWS_DIR = Path(__file__).resolve().parents[2] / "workflows"


def ui_file(name: str) -> Path:
    return WORKFLOWS_DIR / f"{name}.json"


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_api_twin_is_what_the_converter_makes_from_the_ui_file(comfy, name):
    ui = json.loads(ui_file(name).read_text())
    twin = json.loads(api_path_for(ui_file(name)).read_text())
    assert ui_to_api(ui, comfy.object_info()) == twin, "regenerate with `python -m worldkit.tools.authoring.build`"


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_ui_file_is_what_the_generator_builds_from_the_installed_nodes(comfy, name):
    ui, _ = build_workflow(name, comfy.object_info())
    assert ui == json.loads(ui_file(name).read_text()), "regenerate with `python -m worldkit.tools.authoring.build`"


def video_shape(path: Path) -> tuple[int, int, int]:
    with av.open(str(path)) as container:
        frames = list(container.decode(video=0))
    return len(frames), frames[0].height, frames[0].width


def texts(result, class_type: str) -> list[str]:
    return [
        text
        for node_id, entry in result.prompt.items()
        if entry["class_type"] == class_type
        for text in result.outputs.get(node_id, {}).get("text", [])
    ]


def videos_by_prefix(result) -> dict[str, Path]:
    prefixes = {
        entry["inputs"]["filename_prefix"].split("/")[-1]: node_id
        for node_id, entry in result.prompt.items()
        if entry["class_type"] == "SaveVideo"
    }
    found = {}
    for prefix in prefixes:
        matches = [p for p in result.files if p.suffix == ".mp4" and p.name.startswith(prefix + "_0")]
        assert len(matches) == 1, f"SaveVideo {prefix} wrote {matches}"
        found[prefix] = matches[0]
    return found


def assert_every_node_ran(result) -> None:
    """Every node of the graph executed (or was reused from cache): no branch of the film went untested."""
    ran = set(result.executed) | set(result.cached)
    idle = sorted(set(result.prompt) - ran, key=lambda node_id: result.prompt[node_id]["class_type"])
    assert not idle, "nodes that never ran: " + ", ".join(f"{n} ({result.prompt[n]['class_type']})" for n in idle)
    assert len(ran & set(result.prompt)) == len(result.prompt)


def longer_shots(prompt: dict, frames: int) -> list[Override]:
    """Every shot `frames` long, sampled in one segment (after preview_overrides, which these replace)."""
    lengths = {"WorldKitShot": "frames", "WorldKitWorldShotSampler": "native_frames"}
    return [
        Override(node, lengths[e["class_type"]], frames) for node, e in prompt.items() if e["class_type"] in lengths
    ]


def run_film(comfy, tiny_models, name: str, out_dir: Path, shot_frames: int = PREVIEW_FRAMES):
    prompt = face_crops_previewed(green_screen_stand_in(json.loads(api_path_for(ui_file(name)).read_text())))
    longer = longer_shots(prompt, shot_frames) if shot_frames != PREVIEW_FRAMES else []
    result = run_workflow(
        prompt,
        server=comfy.base_url,
        out_dir=out_dir,
        renames=tiny_renames(tiny_models),
        overrides=preview_overrides(prompt) + longer,
        inputs_dirs=[WORKFLOWS_DIR / "inputs"],
    )
    assert_every_node_ran(result)
    return result


def handed_cut(result, cut: dict) -> list:
    """The timeline Save Cut Timeline wrote, read back with OpenTimelineIO: one clip per shot of the cut at the
    cut's rate, each on the frames the cut placed it, its media the shot's own file beside the timeline."""
    (path,) = [p for p in result.files if p.suffix == ".otio"]
    _, clips = timeline_clips(path, cut["fps"])
    placed = [(shot["timeline_start"], shot["timeline_start"] + shot["kept_frames"]) for shot in cut["shots"]]
    ranges = [(c.range_in_parent().start_time, c.range_in_parent().end_time_exclusive()) for c in clips]
    assert [(start.value, end.value) for start, end in ranges] == placed
    assert {start.rate for start, _ in ranges} == {cut["fps"]}
    assert all((path.parent / clip.media_reference.target_url).is_file() for clip in clips)
    return clips


def test_the_executed_node_check_catches_a_branch_that_never_ran():
    """Negative control: a graph where one node's output feeds nothing is reported."""
    from worldkit.headless.runner import RunResult

    prompt = {"1": {"class_type": "EmptyImage", "inputs": {}}, "2": {"class_type": "SaveImage", "inputs": {}}}
    with pytest.raises(AssertionError, match="1 \\(EmptyImage\\)"):
        assert_every_node_ran(RunResult("p", prompt, {}, executed=["2"]))


def sampler_reports(result) -> list[dict]:
    reports = [json.loads(text) for text in texts(result, "PreviewAny") if text.lstrip().startswith("{")]
    return [report for report in reports if "sampler" in report]


def shot_reports(result) -> list[dict]:
    return [shot for report in sampler_reports(result) for shot in report["shots"]]


def cut_fps(name: str) -> int:
    """The rate a workflow's shots are cut at: its variant's world model's (16 fps; 24 on TI2V-5B)."""
    return WORKFLOWS[name][1].rules.fps


def assert_rendered_by_the_variants_model(result, name: str) -> None:
    """Every World Shot Sampler ran by the variant's world model's rules, on both experts where it has two."""
    variant = WORKFLOWS[name][1]
    reports = sampler_reports(result)
    assert reports and {report["model_rules"] for report in reports} == {variant.rules.name}
    assert {report["fps"] for report in reports} == {variant.rules.fps}
    for report in reports:
        assert ("experts" in report) == (variant.low_noise_model is not None)
        if variant.low_noise_model is not None:
            assert report["experts"]["switch_step"] == PREVIEW_SWITCH
            assert "(high-noise expert) + " in report["model"] and report["model"].endswith("(low-noise expert)")


def assert_scored(shots: list[dict], candidates: int) -> None:
    """Every candidate scored: in full, or (the sampler's default search) early, the chosen one surviving."""
    assert shots
    for shot in shots:
        assert len(shot["scores"]) == candidates
        if "search" in shot:
            checks = shot["search"]["checks"]
            assert checks and all(np.isfinite(checks[0]["early_scores"]))
            assert checks[-1]["survivors"] == [shot["chosen"]]
        else:
            assert all(np.isfinite(shot["scores"]))
            assert shot["chosen"] == int(np.argmax(shot["scores"]))


def assert_directed_by_tracks_where_the_variant_can(result, tiny_models, name: str, family: str, tracks: str) -> None:
    """The track-driven shot binds as its track family with its tracks, or, in a variant without a track model
    (TI2V-5B follows none), as the world model's own family from the same start frame, tracks unused."""
    variant = WORKFLOWS[name][1]
    (bound,) = [entry["inputs"] for entry in result.prompt.values() if entry["class_type"] == "WorldKitBindShot"]
    expected = (family, True) if variant.follows_tracks else ("auto", False)
    assert (bound["family"], tracks in bound) == expected
    loaded = {entry["inputs"]["unet_name"] for entry in result.prompt.values() if "unet_name" in entry["inputs"]}
    assert (tiny_models["wan_i2v"] in loaded) == variant.follows_tracks  # the tiny ATI and Wan-Move twin


def three_lights_and_the_directed_shot(result) -> list[dict]:
    """What every variant of lonely_little_flame renders: the three lights in one video, the directed shot in
    another; returns the three lights' shot reports."""
    videos = videos_by_prefix(result)
    assert video_shape(videos["lonely_little_flame"]) == (3 * PREVIEW_FRAMES, PREVIEW_SIZE, PREVIEW_SIZE)
    assert video_shape(videos["lonely_little_flame_searching"]) == (PREVIEW_FRAMES, PREVIEW_SIZE, PREVIEW_SIZE)
    shots = shot_reports(result)
    assert [s["name"] for s in shots] == ["1 firelight", "2 moonlight", "3 dawn"]
    return shots


@pytest.mark.parametrize("name", ["lonely_little_flame", "lonely_little_flame_wan22_5b"])
def test_lonely_little_flame_renders_three_lights_and_the_directed_shot(comfy, tiny_models, tmp_path, name):
    result = run_film(comfy, tiny_models, name, tmp_path)
    shots = three_lights_and_the_directed_shot(result)
    assert_scored(shots, candidates=2)
    assert_rendered_by_the_variants_model(result, name)
    assert_directed_by_tracks_where_the_variant_can(result, tiny_models, name, "ati", "track_json")


def test_lonely_little_flame_fast_runs_the_small_model_cached_and_the_directed_shot_distilled(
    comfy, tiny_models, tmp_path
):
    result = run_film(comfy, tiny_models, "lonely_little_flame_fast", tmp_path)
    shots = three_lights_and_the_directed_shot(result)
    assert all(len(s["scores"]) == 1 for s in shots), "one candidate a shot in the fast variant"
    ran = {result.prompt[node]["class_type"] for node in result.executed}
    assert {"EasyCache", "LoraLoaderModelOnly"} <= ran
    loaded = {entry["inputs"].get("unet_name") for entry in result.prompt.values()}
    assert tiny_models["wan_vace"] in loaded and tiny_models["wan_i2v"] in loaded


def alpha_frames(result, prefix: str) -> list[np.ndarray]:
    """RGBA PNGs a Save With Alpha node wrote (downloaded by the runner), as arrays."""
    paths = sorted(p for p in result.files if p.suffix == ".png" and p.name.startswith(prefix))
    images = [Image.open(p) for p in paths]
    assert images and all(image.mode in ("RGBA", "RGBA;16", "I;16") or "A" in image.getbands() for image in images)
    return [np.asarray(image.convert("RGBA")) for image in images]


def assert_real_alpha(frames: list[np.ndarray], size: tuple[int, int] = (PREVIEW_SIZE, PREVIEW_SIZE)) -> None:
    """Alpha varies inside each frame: an element with a matte, not an opaque or empty layer."""
    for frame in frames:
        assert frame.shape == (*size, 4)
        assert frame[..., 3].min() < frame[..., 3].max()


@pytest.mark.parametrize("name", ["wooden_toy_nyc", "wooden_toy_nyc_wan22", "wooden_toy_nyc_wan22_5b"])
def test_wooden_toy_scores_four_stills_and_composites_with_alpha(comfy, tiny_models, tmp_path, name):
    result = run_film(comfy, tiny_models, name, tmp_path)
    assert_rendered_by_the_variants_model(result, name)
    stills = [p for p in result.files if p.name.startswith("wooden_toy_nyc_still")]
    assert len(stills) == 1 and Image.open(stills[0]).size == (PREVIEW_SIZE, PREVIEW_SIZE)
    shots = shot_reports(result)
    assert [s["name"] for s in shots][:1] == ["still"]
    assert_scored(shots[:1], candidates=4)
    videos = videos_by_prefix(result)
    assert video_shape(videos["wooden_toy_nyc_street"]) == (PREVIEW_FRAMES, PREVIEW_SIZE, PREVIEW_SIZE)
    assert video_shape(videos["wooden_toy_nyc_composite"]) == PLATE_SHAPE  # streamed over the moving plate
    element = alpha_frames(result, "wooden_toy_nyc_element")  # placed on the plate, at its rate
    assert len(element) == PLATE_FRAMES
    assert_real_alpha(element[:1], PLATE_SHAPE[1:])


@pytest.mark.parametrize("name", ["the_herd", "the_herd_wan22_5b"])
def test_the_herd_cuts_coverage_eye_and_fire_together(comfy, tiny_models, tmp_path, name):
    result = run_film(comfy, tiny_models, name, tmp_path)
    assert_rendered_by_the_variants_model(result, name)
    shots = shot_reports(result)
    assert len(shots) == 4 and shots[-1]["name"] == "cow's eye"
    assert_scored(shots, candidates=2)
    fire = alpha_frames(result, "the_herd_fire_element")
    assert len(fire) == PLATE_FRAMES  # placed on the moving plate, at its rate
    assert_real_alpha(fire[:1], PLATE_SHAPE[1:])
    comp_frames = round(PLATE_FRAMES * cut_fps(name) / PLATE_FPS)  # the composite over the plate, at the cut's rate
    cut = (4 * PREVIEW_FRAMES + comp_frames, PREVIEW_SIZE, PREVIEW_SIZE)
    assert video_shape(videos_by_prefix(result)["the_herd"]) == cut
    one_shot = [{"timeline_start": 0, "kept_frames": cut[0]}]  # shot_lengths "": one shot
    whole = {"fps": float(cut_fps(name)), "shots": one_shot}
    assert len(handed_cut(result, whole)) == 1


@pytest.mark.parametrize("name", ["new_york_animals", "new_york_animals_wan22_5b"])
def test_new_york_animals_walk_their_paths_with_alpha(comfy, tiny_models, tmp_path, name):
    result = run_film(comfy, tiny_models, name, tmp_path)
    videos = videos_by_prefix(result)
    for animal in ("pigeon", "dog", "cat"):
        assert video_shape(videos[f"new_york_animals_{animal}"]) == (PREVIEW_FRAMES, PREVIEW_SIZE, PREVIEW_SIZE)
        layer = alpha_frames(result, f"new_york_animals_{animal}_alpha")
        assert len(layer) == PREVIEW_FRAMES
        assert_real_alpha(layer)
        centres = [np.argwhere(frame[..., 3] > 127).mean(axis=0)[1] for frame in (layer[0], layer[-1])]
        assert abs(centres[1] - centres[0]) > PREVIEW_SIZE * 0.2, f"the {animal} moved along its path"
    assert video_shape(videos["new_york_animals_dog_alive"]) == (PREVIEW_FRAMES, PREVIEW_SIZE, PREVIEW_SIZE)
    assert_directed_by_tracks_where_the_variant_can(result, tiny_models, name, "wan_move", "tracks")


@pytest.mark.parametrize("name", ["monkey_music_video", "monkey_music_video_wan22_5b"])
def test_monkey_music_video_cuts_eight_shots_to_the_beat_with_the_track(comfy, tiny_models, tmp_path, name):
    # a shot lasts at least one beat of the track, so every cut can reach one: 9 frames at 16 fps, 13 at 24
    shot_frames = max(PREVIEW_FRAMES, round_up_frame_count(math.ceil(60 / BEAT_BPM * cut_fps(name))))
    result = run_film(comfy, tiny_models, name, tmp_path, shot_frames)
    assert_rendered_by_the_variants_model(result, name)
    shots = shot_reports(result)
    assert len(shots) == 8
    cut = next(json.loads(t) for t in texts(result, "PreviewAny") if '"cuts"' in t)
    assert cut["beats"], "beats were detected in the click track"
    assert len(cut["cuts"]) == 7 and all(c["beat"] is not None for c in cut["cuts"])
    clips = handed_cut(result, cut)
    assert [clip.name for clip in clips] == [shot["name"] for shot in shots]
    assert len([p for p in result.files if p.suffix == ".wav"]) == 1, "the track goes to the editor beside the cut"
    video = videos_by_prefix(result)["monkey_music_video"]
    frames, height, width = video_shape(video)
    assert (frames, height, width) == (cut["frames"], PREVIEW_SIZE, PREVIEW_SIZE)
    assert frames <= 8 * shot_frames
    with av.open(str(video)) as container:
        assert container.streams.audio, "the track is laid under the cut"


PLATE_LEVELS = 6.0
"""Mean difference (8-bit levels) allowed between the composite and the plate away from the element: both are
H.264 decodes, measured 4.1; the same composite against the plate played backwards measures 16.8."""
ELEMENT_MARGIN = 12  # pixels round the element's alpha that its contact shadow and edges may touch
MATTE_CENTRE_PX = 5.0  # the alpha's centre against the passer-by's matte's (measured at most 3.3)


def plate_clip(name: str, frames: int) -> np.ndarray:
    """A shipped clip's first frames as the film scales them (centre crop, area) to the preview size, 0..255."""
    with av.open(str(WORKFLOWS_DIR / "inputs" / f"worldkit_{name}.mp4")) as container:
        decoded = [frame.to_ndarray(format="rgb24") for frame in islice(container.decode(video=0), frames)]
    clip = torch.from_numpy(np.stack(decoded).astype(np.float32)).movedim(-1, 1)
    side = min(clip.shape[2:])
    left, top = (clip.shape[3] - side) // 2, (clip.shape[2] - side) // 2
    square = clip[:, :, top : top + side, left : left + side]
    return F.interpolate(square, size=(PREVIEW_SIZE, PREVIEW_SIZE), mode="area").movedim(1, -1).numpy()


def away_from(alpha: np.ndarray, margin: int) -> np.ndarray:
    """Pixels further than ``margin`` from any trace of the element, per frame."""
    return np.stack([~ndimage.binary_dilation(frame > 0.02, iterations=margin) for frame in alpha])


@pytest.mark.parametrize("name", ["street_performer", "street_performer_fast"])
def test_street_performer_dances_the_clip_and_takes_the_passer_bys_place_composited_with_alpha(
    comfy, tiny_models, tmp_path, name
):
    result = run_film(comfy, tiny_models, name, tmp_path)
    (dance,) = shot_reports(result)
    assert dance["name"] == "the dance" and dance["family"] == "animate"
    assert dance["animate"]["mode"] == "animation" and dance["animate"]["character"] == "performer"
    videos = videos_by_prefix(result)
    assert video_shape(videos["street_performer_dance"]) == (PREVIEW_FRAMES, PREVIEW_SIZE, PREVIEW_SIZE)
    assert video_shape(videos["street_performer_street"]) == (PREVIEW_FRAMES, PREVIEW_SIZE, PREVIEW_SIZE)
    layer = alpha_frames(result, "street_performer_performer_alpha")
    assert len(layer) == PREVIEW_FRAMES
    assert_real_alpha(layer)
    # The element's alpha is the passer-by's place in the plate: it covers the shipped matte and is centred on it.
    alpha = np.stack(layer)[..., 3] / 255.0
    passer_by = plate_clip("nyc_street_walker_matte", PREVIEW_FRAMES)[..., 0] > 127
    for frame, matte in zip(alpha, passer_by, strict=True):
        assert (frame[matte] > 0.5).mean() > 0.95
        centres = np.argwhere(frame > 0.5).mean(axis=0), np.argwhere(matte).mean(axis=0)
        assert np.abs(centres[0] - centres[1]).max() < MATTE_CENTRE_PX
    # The composite is the plate wherever the element is not.
    with av.open(str(videos["street_performer_street"])) as container:
        composite = np.stack([frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]).astype(float)
    plate = plate_clip("nyc_street_walker_moving", PREVIEW_FRAMES)
    away = away_from(alpha, ELEMENT_MARGIN)
    assert away.mean() > 0.2 and np.abs(composite - plate)[away].mean() < PLATE_LEVELS
    assert np.abs(composite - plate)[alpha > 0.98].mean() > PLATE_LEVELS, "the rendered performer is over the plate"
