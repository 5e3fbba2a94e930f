"""Every parser of user text or files, fuzzed: whatever arrives, only the pack's documented errors escape.

The documented errors are the ValueError subclasses each format names (TrajectoryError, WorldLibraryError,
ShotError, ConversionError, OverrideError, TextInputError) and ValueError for shot lengths; anything else
(KeyError, TypeError, RecursionError, OverflowError…) reaching a user is a bug.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from worldkit.headless.convert import ConversionError, ui_to_api
from worldkit.headless.overrides import OverrideError, apply_overrides, parse_override
from worldkit.models.motion.formats import (
    ATI_TICKS,
    ati_json,
    ati_times,
    dump_state,
    parse_state,
    specs_from_ati,
    specs_from_kjnodes,
    tracks_from_state,
    trackset_from_ati,
)
from worldkit.models.motion.path import TrajectoryError
from worldkit.models.motion.tracks import TrackSet
from worldkit.models.sampling.cut import parse_shot_lengths
from worldkit.models.sampling.search import parse_search
from worldkit.models.sampling.selection import SelectionError, parse_selection
from worldkit.models.shared.text import MAX_JSON_DEPTH, TextInputError, load_json_text, quote
from worldkit.models.shots.shot import (
    RESOLUTION_PRESETS,
    ROLES,
    Shot,
    ShotError,
    parse_entities,
    split_names,
)
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


STATE_ERROR = re.compile(r"^(The trajectory state|The tracks follow|Track )")
"""How every parse_state refusal starts: it names the state, the tracks or the one track at fault."""


def assert_state_error(error: TrajectoryError) -> None:
    assert STATE_ERROR.match(str(error)), error
    quote(str(error)).encode("utf-8")


DRAWN_STATE = {
    "version": 1,
    "tracks": [
        {
            "name": "fox",
            "subject": "spread",
            "points": 3,
            "spread": 0.1,
            "keypoints": [
                {"x": 0.1, "y": 0.2, "frame": 0, "hold": 2, "easing": "ease_in_out"},
                {"x": 0.4, "y": 0.9, "frame": 5, "visible": False, "in": [0.1, 0], "out": [0, 0.1]},
                {"x": 1.0, "y": 0.5, "frame": 8},
            ],
        },
        {
            "name": "owl",
            "subject": "cluster",
            "points": 4,
            "interpolation": "linear",
            "keypoints": [{"x": 0.9, "y": 0}],
        },
    ],
}
"""A state as the editor saves it, every field set: the fuzz's control, with points leaving the frame."""


@FUZZ
@given(STATE)
@example(DRAWN_STATE)
def test_editor_state_fuzz(state):
    text = json.dumps(state)
    try:
        specs = parse_state(text)
    except TrajectoryError as error:
        assert_state_error(error)
        return
    assert parse_state(dump_state(specs)) == specs
    try:
        tracks = tracks_from_state(text, 64, 48, 9)
    except TrajectoryError as error:
        named = [repr(spec.path.name) for spec in specs] or ["no tracks were drawn"]
        assert any(name in str(error) for name in named), error  # the track at fault
        return
    assert tracks.num_frames == 9
    assert [group.name for group in tracks.groups] == [spec.path.name for spec in specs]
    for group, spec in zip(tracks.groups, specs, strict=True):
        assert group.stop - group.start == (1 if spec.subject == "point" else spec.num_points)
    points, visible = tracks.points.double(), tracks.visible
    inside = (points[..., 0] >= 0) & (points[..., 0] < 64) & (points[..., 1] >= 0) & (points[..., 1] < 48)
    assert not (visible & ~inside).any(), "a point outside the frame is marked visible"
    at_ticks = tracks_from_state(text, 64, 48, 9, times=ati_times(9))
    try:
        text = ati_json(at_ticks)
    except TrajectoryError as error:
        assert "not finite" in str(error)
        return
    exported = json.loads(text, parse_constant=lambda c: pytest.fail(f"ATI JSON holds {c}"))
    assert len(exported) == at_ticks.num_points and all(len(track) == ATI_TICKS for track in exported)
    values = np.array([[[p["x"], p["y"]] for p in track] for track in exported]).reshape(-1, ATI_TICKS, 2)
    np.testing.assert_allclose(values, at_ticks.points.double().numpy().transpose(1, 0, 2), atol=0.0051)


VALID_STATE = json.dumps(
    {
        "version": 1,
        "tracks": [{"name": "a", "keypoints": [{"x": 0.1, "y": 0.2, "frame": 0}, {"x": 0.5, "y": 1, "frame": 4}]}],
    }
)


@FUZZ
@given(st.text(max_size=200), st.integers(), TEXT_MUTATIONS)
def test_editor_state_text_fuzz(text, cut, insert):
    for candidate in (text, mutate(VALID_STATE, cut, insert)):
        try:
            specs = parse_state(candidate)
        except TrajectoryError as error:
            assert candidate != VALID_STATE, "the unedited state was refused"
            assert_state_error(error)
            continue
        assert parse_state(dump_state(specs)) == specs
        if candidate == VALID_STATE:
            [spec] = specs
            assert spec.path.name == "a"
            assert [(kp.x, kp.y, kp.frame) for kp in spec.path.keypoints] == [(0.1, 0.2, 0), (0.5, 1, 4)]


POINT_READERS = {
    "ati": (specs_from_ati, "The ATI track JSON"),
    "kjnodes": (specs_from_kjnodes, "The KJNodes coordinates"),
    "bind": (trackset_from_ati, "The ATI track JSON"),
}


def read_points(reader: str, text: str) -> list[np.ndarray]:
    """The pixel positions a point-list reader took from ``text``, one [P, 2] array a track; a refusal must be
    a TrajectoryError naming the format it read."""
    result = POINT_READERS[reader][0](text, 64, 48, 9)
    if reader == "ati":
        result, _ = result  # the specs, without the cut warnings
    if isinstance(result, TrackSet):
        assert np.array_equal(result.times, ati_times(9))
        counts = result.visible.sum(dim=0).tolist()
        assert all(result.visible[:count, n].all() for n, count in enumerate(counts)), "hidden only after the end"
        return [result.points[:count, n].numpy() for n, count in enumerate(counts)]
    tracks = []
    for spec in result:
        shown = [kp for kp in spec.path.keypoints if kp.visible]
        assert spec.path.interpolation == "linear" and len(spec.path.keypoints) - len(shown) <= 1
        if reader == "kjnodes":  # spread evenly over the clip
            np.testing.assert_allclose([kp.frame for kp in shown], np.linspace(0, 8, len(shown)))
        tracks.append(np.array([[kp.x * 64, kp.y * 48] for kp in shown]))
    return tracks


def assert_point_error(reader: str, error: TrajectoryError) -> None:
    assert str(error).startswith(POINT_READERS[reader][1]), error
    quote(str(error)).encode("utf-8")


def assert_inside_the_frame(tracks: list[np.ndarray], reader: str) -> None:
    assert tracks and all(len(track) for track in tracks)
    assert all(((track >= 0) & (track <= [64, 48])).all() for track in tracks), "a point outside the frame was read"
    if reader != "kjnodes":
        assert all(len(track) <= ATI_TICKS for track in tracks)


@FUZZ
@given(POINT_LISTS, st.sampled_from(sorted(POINT_READERS)))
@example([[{"x": 1, "y": 2}, {"x": 63.5, "y": 0}], [{"x": 0, "y": 48}]], "ati")
@example([{"x": 1, "y": 2}, {"x": 3, "y": 4}, {"x": 5, "y": 6}], "kjnodes")
@example([[{"x": 1.25, "y": 2}], [{"x": 3, "y": 4, "z": 0}]], "bind")
@example([[{"x": 64.5, "y": 2}]], "kjnodes")  # outside the frame: refused, never clamped
@example([{"x": 3, "y": -0.5}], "ati")
def test_point_list_formats_fuzz(data, reader):
    try:
        tracks = read_points(reader, json.dumps(data))
    except TrajectoryError as error:
        assert_point_error(reader, error)
        return
    drawn = [data] if all(isinstance(point, dict) for point in data) else data
    assert len(tracks) == len(drawn)
    for track, points in zip(tracks, drawn, strict=True):
        np.testing.assert_allclose(track, [[point["x"], point["y"]] for point in points], atol=1e-9)
    assert_inside_the_frame(tracks, reader)


VALID_POINTS = json.dumps([[{"x": 1, "y": 2}, {"x": 3, "y": 4}]])


@FUZZ
@given(st.text(max_size=120), st.integers(), TEXT_MUTATIONS)
def test_point_list_text_fuzz(text, cut, insert):
    for candidate in (text, mutate(VALID_POINTS, cut, insert), mutate(VALID_POINTS.replace('"', "'"), cut, insert)):
        for reader in POINT_READERS:
            try:
                tracks = read_points(reader, candidate)
            except TrajectoryError as error:
                assert candidate not in (VALID_POINTS, VALID_POINTS.replace('"', "'")), (
                    "the unedited tracks were refused"
                )
                assert_point_error(reader, error)
                continue
            assert_inside_the_frame(tracks, reader)
            if candidate in (VALID_POINTS, VALID_POINTS.replace('"', "'")):
                np.testing.assert_allclose(tracks[0], [[1, 2], [3, 4]])


def nesting(value) -> int:
    """Arrays and objects nested inside each other, as load_json_text counts them."""
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
    return 0 if children is None else 1 + max(map(nesting, children), default=0)


@FUZZ
@given(st.text(max_size=120), JSON)
def test_json_text_fuzz(text, data):
    dumped = json.dumps(data)
    for candidate in (text, dumped):
        try:
            value = load_json_text(candidate, "the input")
        except TextInputError as error:
            assert str(error).startswith("the input"), error
            assert candidate != dumped or nesting(data) > MAX_JSON_DEPTH, f"valid JSON refused: {error}"
            continue
        assert value == json.loads(candidate)
        assert candidate != dumped or value == data


@FUZZ
@given(st.text(max_size=200), st.dictionaries(st.sampled_from(["name", "kind"]), st.text(max_size=8), max_size=2))
@example("skunk\nowl: prop; forest: Location, # a note", {})
@example("forest, a:b: style", {"forest": "location"})
def test_shot_entity_lists_fuzz(text, kinds):
    try:
        entities = parse_entities(text, kinds or None)
    except ShotError as error:
        assert str(error).startswith(("Entity line", "A shot entity needs a name")), error
        return
    items = [item for item in split_names(text) if not item.startswith("#")]
    assert len(entities) == len(items) and all(entity.role in ROLES for entity in entities)
    for entity, item in zip(entities, items, strict=True):
        assert entity.name.strip() == entity.name and entity.name in item
        written = item.rpartition(":")[2].strip().lower() if ":" in item else ""
        assert entity.role == written or not written, f"{item!r} read as {entity}"
    assert parse_entities("\n".join(f"{e.name}: {e.role}" for e in entities)) == entities
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
    except ShotError as error:
        assert str(error).split()[:2] in [["Shot", name] for name in fields], error  # the field at fault
        return
    assert shot.frame_count >= 1 and shot.frame_count % 4 == 1
    assert all(size % 16 == 0 and size > 0 for size in shot.size)
    custom = shot.resolution == "custom"
    assert shot.size == ((shot.width, shot.height) if custom else RESOLUTION_PRESETS[shot.resolution][shot.aspect])
    assert all(getattr(shot, name) == value for name, value in fields.items())
    assert Shot.from_dict(shot.to_dict()) == shot


BOUNDARIES = '[{"start": 0, "end": 4}, {"start": 4, "end": 9}]'
COUNTS = "[ ,]*[0-9]+([ ,]+[0-9]+)*[ ,]*"
"""Frame counts written "81, 81, 49" or "81 81 49"."""


@FUZZ
@given(st.text(max_size=80), st.integers(1, 400), TEXT_MUTATIONS, st.integers())
@example(text="81, 81, 49", total=211, insert="", cut=0)  # the controls: plain counts and unedited boundaries
@example(text="81 81 0", total=162, insert="", cut=0)
@example(text="", total=9, insert="", cut=0)
def test_shot_lengths_fuzz(text, total, insert, cut):
    for candidate in (text, mutate(BOUNDARIES, cut, insert)):
        written = [int(n) for n in re.findall("[0-9]+", candidate)] if re.fullmatch(COUNTS, candidate) else None
        try:
            lengths = parse_shot_lengths(candidate, total)
        except ValueError as error:
            assert (candidate, total) != (BOUNDARIES, 9), "the unedited boundaries were refused"
            assert not written or min(written) < 1 or sum(written) != total, f"{candidate!r} refused: {error}"
            assert type(error) in (ValueError, TextInputError), type(error)
            assert re.search("shot_lengths|shot boundary", str(error)), error
            quote(str(error)).encode("utf-8")
            continue
        assert sum(lengths) == total and all(length >= 1 for length in lengths)
        assert written is None or lengths == written
        assert (candidate, total) != (BOUNDARIES, 9) or lengths == [4, 5]
        assert parse_shot_lengths(", ".join(map(str, lengths)), total) == lengths
        assert parse_shot_lengths(json.dumps(lengths), None) == lengths


@pytest.fixture(scope="module")
def saved_world(tmp_path_factory):
    root = tmp_path_factory.mktemp("worlds")
    views = torch.rand(1, 16, 16, 3)
    world = World({"fox": Reference("fox", "character", "a fox", views, torch.ones(1, 16, 16), "h", {})})
    folder = save_world(world, root, "fox_world", overwrite=True)
    return root, folder, (folder / MANIFEST_NAME).read_text(), views


def replace_at(value, path: list, new):
    """A copy of a JSON value with the element at ``path`` (keys/indices taken modulo their count) replaced."""
    if not path or not isinstance(value, (dict, list)) or not value:
        return new
    keys = list(value) if isinstance(value, dict) else list(range(len(value)))
    key = keys[path[0] % len(keys)]
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[key] = replace_at(value[key], path[1:], new)
    return copy


def load_edited_world(saved_world, manifest_text: str, unedited: bool) -> None:
    """Load the saved world with its manifest replaced: it loads with the saved pixels or is refused with a
    WorldLibraryError; the unedited manifest (the control) always loads."""
    root, folder, original, views = saved_world
    try:
        (folder / MANIFEST_NAME).write_text(manifest_text, errors="surrogatepass")
        try:
            world = load_world(root, "fox_world")
        except WorldLibraryError as error:
            assert not unedited, f"the unedited world was refused: {error}"
            quote(str(error)).encode("utf-8")
            return
        [reference] = world.references.values()
        assert torch.equal(reference.views, views) and torch.equal(reference.masks, torch.ones(1, 16, 16))
        assert not unedited or list(world.references) == ["fox"]
    finally:
        (folder / MANIFEST_NAME).write_text(original)


@FUZZ
@given(st.lists(st.integers(0, 50), max_size=5), JSON)
@example(path=[7, 0, 5, 0], new=[])  # an entity's views key made a list: unhashable, once a raw TypeError
@example(path=[0], new="worldkit-world")  # the control: the format replaced by itself
@example(path=[1], new=True)  # schema_version made true: equal to 1 in Python, still an edit
def test_world_manifest_fuzz(saved_world, path, new):
    original = json.loads(saved_world[2])
    edited = json.dumps(replace_at(original, path, new))
    # compared as text: True == 1 in Python, yet a manifest whose schema_version is true is an edit
    load_edited_world(saved_world, edited, unedited=edited == json.dumps(original))


@FUZZ
@given(st.integers(), TEXT_MUTATIONS)
def test_world_manifest_text_fuzz(saved_world, cut, insert):
    original = saved_world[2]
    edited = mutate(original, cut, insert)
    load_edited_world(saved_world, edited, unedited=edited == original)


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


WIDGET_POSITIONS = {"KSampler": {"seed": 0, "steps": 2, "sampler_name": 3}, "UNETLoader": {"unet_name": 0}}
"""Where the editor saves each widget of OBJECT_INFO's nodes in widgets_values (the seed's control follows it)."""


VIRTUAL = ("Reroute", "Note", "MarkdownNote", "PrimitiveNode")


def runnable_types(workflow: dict) -> dict[str, str]:
    """Node id -> type of the nodes a conversion must keep: the last node of each id, unless virtual or
    muted/bypassed."""
    nodes = {str(node["id"]): node for node in workflow["nodes"]}
    return {
        node_id: node["type"]
        for node_id, node in nodes.items()
        if node["type"] not in VIRTUAL and node.get("mode", 0) not in (2, 4)
    }


@FUZZ
@given(UI_GRAPH)
@example({"nodes": [{"id": 1, "type": "UNETLoader", "widgets_values": ["a.safetensors"]}]})
@example(
    {
        "nodes": [
            {"id": 1, "type": "UNETLoader", "widgets_values": ["a.safetensors"], "outputs": [{"links": [1]}]},
            {
                "id": 2,
                "type": "KSampler",
                "widgets_values": [5, "fixed", 20, "euler"],
                "inputs": [{"name": "model", "link": 1}],
            },
        ],
        "links": [[1, 1, 0, 2, 0, "MODEL"]],
    }
)
@example(
    {
        "nodes": [
            {"id": 1, "type": "Note", "outputs": [{"links": [1]}]},
            {"id": 2, "type": "KSampler", "widgets_values": [5, "fixed", 20, "euler"]},
            {
                "id": 3,
                "type": "KSampler",
                "widgets_values": [6, "fixed", 8, "uni_pc"],
                "inputs": [{"name": "model", "link": 1}],
            },
            {"id": 4, "type": "UNETLoader", "mode": 4, "widgets_values": ["a.safetensors"]},
            {"id": 5, "type": "UNETLoader", "mode": 2, "widgets_values": ["a.safetensors"]},
        ],
        "links": [[1, 1, 0, 3, 0, "MODEL"]],
    }
)
def test_ui_to_api_conversion_fuzz(workflow):
    unchanged = json.dumps(workflow)
    try:
        prompt = ui_to_api(workflow, OBJECT_INFO)
    except ConversionError as error:
        assert re.search("node|link|workflow", str(error)), error
        return
    finally:
        assert json.dumps(workflow) == unchanged, "the conversion edited its input"
    kept = runnable_types(workflow)
    assert {node_id: entry["class_type"] for node_id, entry in prompt.items()} == kept
    nodes = {str(node["id"]): node for node in workflow["nodes"]}
    for node_id, entry in prompt.items():
        values = nodes[node_id].get("widgets_values") or []
        values = list(values.values()) if isinstance(values, dict) else values
        for value in entry["inputs"].values():
            if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str) and value[0] in prompt:
                continue  # a link, to a node the prompt holds
            assert value in values, f"node {node_id}: {value!r} is neither a link nor one of its widget values"
        values = nodes[node_id].get("widgets_values")
        if isinstance(values, list) and not nodes[node_id].get("inputs"):  # widgets only: placed by the layout
            positions = WIDGET_POSITIONS[entry["class_type"]].items()
            assert entry["inputs"] == {name: values[at] for name, at in positions if values[at] is not None}


API_PROMPT = {
    "3": {"class_type": "KSampler", "inputs": {"seed": 1, "steps": 20, "model": ["4", 0]}, "_meta": {"title": "Render"}}
}
OVERRIDE_TEXT = st.builds(
    "{}.{}={}".format,
    st.sampled_from(["3", "KSampler", "Render", " 3 ", "4", "UNETLoader"]),
    st.sampled_from(["seed", "steps", "model", "sampler_name", " seed", "nope", ""]),
    st.text(max_size=10) | JSON.map(json.dumps),
)


@FUZZ
@given(st.text(max_size=60) | OVERRIDE_TEXT)
@example("KSampler.steps=4")
@example("Render.seed=[1, 2]")
@example("3.nope=1")
def test_set_overrides_fuzz(text):
    try:
        override = parse_override(text)
    except OverrideError as error:
        assert str(error).startswith(f"--set {text!r}"), error
        return
    again = parse_override(f"{override.node}.{override.input}={json.dumps(override.value)}")
    assert (again.node, again.input, json.dumps(again.value)) == (
        override.node,
        override.input,
        json.dumps(override.value),
    )
    before = json.dumps(API_PROMPT)
    try:
        result = apply_overrides(API_PROMPT, [override], OBJECT_INFO)
    except OverrideError as error:
        assert repr(override.node) in str(error) or repr(override.input) in str(error), error
        return
    finally:
        assert json.dumps(API_PROMPT) == before, "the override edited the prompt it was given"
    assert json.dumps(result["3"]["inputs"][override.input]) == json.dumps(override.value)
    untouched = {name: value for name, value in result["3"]["inputs"].items() if name != override.input}
    assert untouched == {name: value for name, value in API_PROMPT["3"]["inputs"].items() if name != override.input}


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
