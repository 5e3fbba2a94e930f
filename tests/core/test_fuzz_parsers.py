"""Every parser of user text or files, fuzzed: whatever arrives, only the pack's documented errors escape.

The documented errors are the ValueError subclasses each format names (TrajectoryError, WorldLibraryError,
ShotError, ConversionError, OverrideError, TextInputError) and ValueError for shot lengths; anything else
(KeyError, TypeError, RecursionError, OverflowError…) reaching a user is a bug.
"""

from __future__ import annotations

import contextlib
import json
import math

import pytest
import torch
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from worldkit.headless.convert import ConversionError, ui_to_api
from worldkit.headless.overrides import OverrideError, apply_overrides, parse_override
from worldkit.models.motion.formats import (
    ati_json,
    ati_times,
    parse_state,
    specs_from_ati,
    specs_from_kjnodes,
    tracks_from_state,
    trackset_from_ati,
)
from worldkit.models.motion.path import TrajectoryError
from worldkit.models.sampling.cut import parse_shot_lengths
from worldkit.models.sampling.search import parse_search
from worldkit.models.sampling.selection import SelectionError, parse_selection
from worldkit.models.shared.text import TextInputError, load_json_text, quote
from worldkit.models.shots.shot import Shot, ShotError, parse_entities, split_names
from worldkit.models.world.entities import Reference, World
from worldkit.models.world.library import MANIFEST_NAME, WorldLibraryError, load_world, save_world

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# JSON-like values: what a user, an editor or a damaged file could hand over.
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1e300, -1e300, 0.5, 0, 1, -1, 120, 121, 1024, 4096]),
    st.text(max_size=12),
    st.sampled_from(["\ud800", "linear", "ease_in_out", "catmull_rom", "point", "mask", "x", "y"]),
)
JSON = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=30,
)
KEYPOINT_KEYS = st.sampled_from(["x", "y", "frame", "hold", "easing", "visible", "in", "out"])
TRACK_KEYS = st.sampled_from(["name", "subject", "points", "spread", "interpolation", "anchor", "keypoints", "color"])
KEYPOINT = st.dictionaries(KEYPOINT_KEYS, JSON | st.lists(SCALARS, min_size=2, max_size=2), max_size=8)
TRACK = st.dictionaries(TRACK_KEYS, JSON | st.lists(KEYPOINT, min_size=1, max_size=4), max_size=8)
STATE = st.fixed_dictionaries({"version": st.sampled_from([1, 1, 1, 2, "1", None])}, optional={"tracks": JSON}) | (
    st.fixed_dictionaries({"version": st.just(1), "tracks": st.lists(TRACK, max_size=3)})
)
POINT = st.dictionaries(st.sampled_from(["x", "y", "z"]), SCALARS, max_size=3)
POINT_LISTS = st.lists(st.lists(POINT, max_size=6), max_size=3) | st.lists(POINT, max_size=6) | JSON
TEXT_MUTATIONS = st.sampled_from(["", "[", "[" * 5000, "]]", "'", "\ud800", "9" * 5000, "NaN", "1e999", '{"a":'])


def mutate(text: str, cut: int, insert: str) -> str:
    at = cut % (len(text) + 1)
    return text[:at] + insert + text[at:]


@FUZZ
@given(STATE)
def test_editor_state_fuzz(state):
    try:
        specs = parse_state(json.dumps(state))
    except TrajectoryError:
        return
    try:
        tracks = tracks_from_state(json.dumps(state), 64, 48, 9)
    except TrajectoryError:
        return
    assert tracks.num_frames == 9 and len(specs) >= 0
    try:
        text = ati_json(tracks_from_state(json.dumps(state), 64, 48, 9, times=ati_times(9)))
    except TrajectoryError:
        return
    json.loads(text, parse_constant=lambda c: pytest.fail(f"ATI JSON holds {c}"))


@FUZZ
@given(st.text(max_size=200), st.integers(), TEXT_MUTATIONS)
def test_editor_state_text_fuzz(text, cut, insert):
    valid = json.dumps({"version": 1, "tracks": [{"name": "a", "keypoints": [{"x": 0.1, "y": 0.2, "frame": 0}]}]})
    for candidate in (text, mutate(valid, cut, insert)):
        with contextlib.suppress(TrajectoryError):
            parse_state(candidate)


@FUZZ
@given(POINT_LISTS, st.sampled_from(["ati", "kjnodes", "bind"]))
def test_point_list_formats_fuzz(data, reader):
    text = json.dumps(data)
    read = {"ati": specs_from_ati, "kjnodes": specs_from_kjnodes, "bind": trackset_from_ati}[reader]
    with contextlib.suppress(TrajectoryError):
        read(text, 64, 48, 9)


@FUZZ
@given(st.text(max_size=120), st.integers(), TEXT_MUTATIONS)
def test_point_list_text_fuzz(text, cut, insert):
    valid = json.dumps([[{"x": 1, "y": 2}, {"x": 3, "y": 4}]])
    for candidate in (text, mutate(valid, cut, insert), mutate(valid.replace('"', "'"), cut, insert)):
        for read in (specs_from_ati, specs_from_kjnodes, trackset_from_ati):
            with contextlib.suppress(TrajectoryError):
                read(candidate, 64, 48, 9)


@FUZZ
@given(st.text(max_size=120), JSON)
def test_json_text_fuzz(text, data):
    for candidate in (text, json.dumps(data)):
        try:
            load_json_text(candidate, "the input")
        except TextInputError as error:
            assert "the input" in str(error)


@FUZZ
@given(st.text(max_size=200), st.dictionaries(st.sampled_from(["name", "kind"]), st.text(max_size=8), max_size=2))
def test_shot_entity_lists_fuzz(text, kinds):
    try:
        entities = parse_entities(text, kinds or None)
    except ShotError:
        return
    assert all(entity.name.strip() == entity.name for entity in entities)
    assert all(name for name in split_names(text))


SHOT_FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "shot_size": st.sampled_from(["medium", "close-up", "nope", ""]),
        "angle": st.sampled_from(["eye level", "sideways"]),
        "camera_move": st.sampled_from(["static", "dolly in", "warp"]),
        "lens_mm": st.integers(-5, 2000),
        "lighting": st.sampled_from(["day", "moonlight", "strobe"]),
        "duration": st.sampled_from(["5 s", "10 s", "frames", "1 h"]),
        "frames": st.integers(-3, 5000),
        "fps": st.integers(-1, 500),
        "resolution": st.sampled_from(["480p", "720p", "custom", "8k"]),
        "aspect": st.sampled_from(["16:9", "9:16", "1:1", "3:1"]),
        "width": st.integers(-16, 9000),
        "height": st.integers(-16, 9000),
        "seed": st.integers(-1, 2**70),
        "mood": st.text(max_size=10),
        "name": st.text(max_size=10),
        "continuity": st.sampled_from(["cut", "continue", "jump"]),
    },
)


@FUZZ
@given(SHOT_FIELDS)
def test_shot_vocabulary_fuzz(fields):
    try:
        shot = Shot(prompt="a fox", **fields)
    except ShotError:
        return
    assert shot.frame_count >= 1 and all(size % 16 == 0 for size in shot.size)


@FUZZ
@given(st.text(max_size=80), st.integers(1, 400), TEXT_MUTATIONS, st.integers())
def test_shot_lengths_fuzz(text, total, insert, cut):
    for candidate in (text, mutate('[{"start": 0, "end": 4}, {"start": 4, "end": 9}]', cut, insert)):
        try:
            lengths = parse_shot_lengths(candidate, total)
        except ValueError as error:
            assert type(error) in (ValueError, TextInputError), type(error)
            quote(str(error)).encode("utf-8")
            continue
        assert sum(lengths) == total and all(length >= 1 for length in lengths)


@pytest.fixture(scope="module")
def saved_world(tmp_path_factory):
    root = tmp_path_factory.mktemp("worlds")
    views = torch.rand(1, 16, 16, 3)
    world = World({"fox": Reference("fox", "character", "a fox", views, torch.ones(1, 16, 16), "h", {})})
    folder = save_world(world, root, "fox_world", overwrite=True)
    return root, folder, (folder / MANIFEST_NAME).read_text()


def replace_at(value, path: list, new):
    """A copy of a JSON value with the element at ``path`` (keys/indices taken modulo their count) replaced."""
    if not path or not isinstance(value, (dict, list)) or not value:
        return new
    keys = list(value) if isinstance(value, dict) else list(range(len(value)))
    key = keys[path[0] % len(keys)]
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[key] = replace_at(value[key], path[1:], new)
    return copy


@FUZZ
@given(st.lists(st.integers(0, 50), max_size=5), JSON)
@example(path=[7, 0, 5, 0], new=[])  # an entity's views key made a list: unhashable, once a raw TypeError
def test_world_manifest_fuzz(saved_world, path, new):
    root, folder, original = saved_world
    manifest = replace_at(json.loads(original), path, new)
    try:
        (folder / MANIFEST_NAME).write_text(json.dumps(manifest))
        try:
            world = load_world(root, "fox_world")
        except WorldLibraryError:
            return
        assert all(math.isfinite(float(r.views.sum())) for r in world.references.values())
    finally:
        (folder / MANIFEST_NAME).write_text(original)


@FUZZ
@given(st.integers(), TEXT_MUTATIONS)
def test_world_manifest_text_fuzz(saved_world, cut, insert):
    root, folder, original = saved_world
    try:
        (folder / MANIFEST_NAME).write_text(mutate(original, cut, insert), errors="surrogatepass")
        with contextlib.suppress(WorldLibraryError):
            load_world(root, "fox_world")
    finally:
        (folder / MANIFEST_NAME).write_text(original)


OBJECT_INFO = {
    "KSampler": {
        "input": {
            "required": {
                "model": ["MODEL"],
                "seed": ["INT", {"default": 0, "control_after_generate": True}],
                "steps": ["INT", {"default": 20}],
                "sampler_name": [["euler", "uni_pc"]],
            }
        },
        "output": ["LATENT"],
    },
    "UNETLoader": {"input": {"required": {"unet_name": [["a.safetensors"]]}}, "output": ["MODEL"]},
}
UI_NODE = st.fixed_dictionaries(
    {
        "id": st.integers(-2, 6) | st.text(max_size=3),
        "type": st.sampled_from(["KSampler", "UNETLoader", "Reroute", "X"]),
    },
    optional={
        "mode": st.integers(-1, 5) | SCALARS,
        "widgets_values": JSON,
        "inputs": st.lists(st.dictionaries(st.sampled_from(["name", "link", "type", "widget"]), JSON, max_size=4))
        | JSON,
        "outputs": st.lists(st.dictionaries(st.sampled_from(["name", "links", "type"]), JSON, max_size=3)) | JSON,
        "title": SCALARS,
    },
)
UI_GRAPH = st.fixed_dictionaries(
    {"nodes": st.lists(UI_NODE, max_size=4) | JSON},
    optional={"links": st.lists(st.lists(st.integers(-1, 6) | SCALARS, max_size=6), max_size=4) | JSON},
)


@FUZZ
@given(UI_GRAPH)
def test_ui_to_api_conversion_fuzz(workflow):
    try:
        prompt = ui_to_api(workflow, OBJECT_INFO)
    except ConversionError:
        return
    assert isinstance(prompt, dict)


API_PROMPT = {
    "3": {"class_type": "KSampler", "inputs": {"seed": 1, "steps": 20, "model": ["4", 0]}, "_meta": {"title": "Render"}}
}


@FUZZ
@given(st.text(max_size=60))
def test_set_overrides_fuzz(text):
    try:
        override = parse_override(text)
    except OverrideError:
        return
    with contextlib.suppress(OverrideError):
        apply_overrides(API_PROMPT, [override], OBJECT_INFO)


SCHEDULE_TEXT = st.text(alphabet="0123456789@.>;=, shotcandieof²٣\ud800", max_size=40)


@FUZZ
@given(st.one_of(SCHEDULE_TEXT, st.text(max_size=40)))
@example("²>1@0.2")  # a digit int() cannot read
def test_search_and_select_fuzz(text):
    try:
        schedule = parse_search(text)
    except ValueError as error:
        assert type(error) is ValueError and str(error).startswith("search"), error
        quote(str(error)).encode("utf-8")
    else:
        again = parse_search(str(schedule)) if schedule else None
        assert again is None or [c.keep for c in again.checks] == [c.keep for c in schedule.checks]
    try:
        selection = parse_selection(text)
    except SelectionError as error:
        assert str(error).startswith("select") and quote(str(error)).encode("utf-8")
    else:
        assert parse_selection(selection.to_text()) == selection
