"""A film split into farm prompts (units, world, cut), the manifest's resume rule and the picks."""

import copy
import json

import pytest

from worldkit.headless.farm.driver import picks
from worldkit.headless.farm.film import SAVE_NODE, WORLD_NODE, Film, FilmError
from worldkit.headless.farm.manifest import Manifest, store_output
from worldkit.headless.outputs import OutputPathError

OUTPUT_NODES = {"SaveVideo": {"output_node": True}, "WorldKitSaveShotFrames": {"output_node": True}}


def film_prompt(shots=3, candidates=2, continuity="cut"):
    prompt = {
        "1": {"class_type": "UNETLoader", "inputs": {"unet_name": "m.safetensors", "weight_dtype": "default"}},
        "2": {"class_type": "VAELoader", "inputs": {"vae_name": "v.safetensors"}},
        "3": {"class_type": "CLIPLoader", "inputs": {"clip_name": "c.safetensors", "type": "wan"}},
        "4": {"class_type": "LoadImage", "inputs": {"image": "toy.png"}},
        "5": {"class_type": "WorldKitReference", "inputs": {"image": ["4", 0], "name": "toy"}},
        "6": {"class_type": "WorldKitEncodeReferences", "inputs": {"references": ["5", 0], "vae": ["2", 0]}},
        "20": {"class_type": "WorldKitShotList", "inputs": {}},
        "30": {
            "class_type": "WorldKitWorldShotSampler",
            "inputs": {"model": ["1", 0], "vae": ["2", 0], "clip": ["3", 0], "world": ["6", 0]}
            | {"shots": ["20", 0], "seed": 5, "candidates": candidates},
        },
        "31": {"class_type": "LoadAudio", "inputs": {"audio": "beat.flac"}},
        "32": {"class_type": "WorldKitAssembleCut", "inputs": {"frames": ["30", 0], "audio": ["31", 0]}},
        "33": {"class_type": "SaveVideo", "inputs": {"video": ["32", 0]}},
    }
    for index in range(shots):
        node = str(10 + index)
        kind = continuity if index else "cut"
        prompt[node] = {"class_type": "WorldKitShot", "inputs": {"seed": index, "continuity": kind, "world": ["6", 0]}}
        prompt["20"]["inputs"][f"shot_{index + 1}"] = [node, 0]
    return prompt


def test_units_are_one_per_shot_and_candidate_with_the_world_from_the_library():
    film = Film.read(film_prompt(), OUTPUT_NODES)
    units = film.units()
    assert [(u.shot, u.candidate) for u in units] == [(s, c) for s in (1, 2, 3) for c in (1, 2)]
    assert len({u.key for u in units}) == 6
    for unit in units:
        prompt = unit.prompt
        assert prompt["30"]["inputs"]["select"] == f"shot={unit.shot};candidate={unit.candidate}"
        assert prompt["30"]["inputs"]["world"] == [WORLD_NODE, 0] and prompt["10"]["inputs"]["world"] == [WORLD_NODE, 0]
        assert prompt[WORLD_NODE]["inputs"]["world_name"] == film.world_name
        assert prompt[SAVE_NODE]["inputs"]["name"].endswith(unit.key)
        assert not {"4", "5", "6", "31", "32", "33"} & set(prompt), "no encoding, no cut in a unit"
    assert film.units()[0].key == units[0].key, "a unit's key is stable"


def test_the_world_prompt_encodes_and_saves_only_the_world():
    prompt = Film.read(film_prompt(), OUTPUT_NODES).world_prompt()
    assert set(prompt) == {"2", "4", "5", "6", SAVE_NODE}
    assert prompt[SAVE_NODE]["class_type"] == "WorldKitSaveWorld"


def test_the_cut_prompt_loads_the_chosen_frames_where_the_sampler_was():
    prompt = Film.read(film_prompt(), OUTPUT_NODES).cut_prompt(
        ["worldkit_farm/a.safetensors", "worldkit_farm/b.safetensors"]
    )
    assert set(prompt) == {"30", "31", "32", "33"}
    assert prompt["30"]["class_type"] == "WorldKitLoadShotFrames"
    assert prompt["30"]["inputs"]["files"].splitlines() == [
        "worldkit_farm/a.safetensors",
        "worldkit_farm/b.safetensors",
    ]


def test_another_seed_changes_every_unit_key():
    first = Film.read(film_prompt(), OUTPUT_NODES)
    changed = copy.deepcopy(film_prompt())
    changed["30"]["inputs"]["seed"] = 6
    second = Film.read(changed, OUTPUT_NODES)
    assert not {u.key for u in first.units()} & {u.key for u in second.units()}


def test_continued_shots_and_two_samplers_are_refused_with_the_way_out():
    with pytest.raises(FilmError, match=r"shot 2 .*continues.*'cut'"):
        Film.read(film_prompt(continuity="continue"), OUTPUT_NODES)
    two = film_prompt()
    two["40"] = copy.deepcopy(two["30"])
    with pytest.raises(FilmError, match="--sampler"):
        Film.read(two, OUTPUT_NODES)
    assert Film.read(two, OUTPUT_NODES, sampler="40").sampler == "40"


def test_a_unit_is_done_only_while_its_outputs_have_their_hashes(tmp_path):
    manifest = Manifest.open(tmp_path, "film")
    output = store_output(tmp_path, "units", "x.safetensors", b"frames")
    manifest.units["k"] = {"outputs": [output]}
    manifest.save()
    reopened = Manifest.open(tmp_path, "film")
    assert reopened.done("k") and not reopened.done("other")
    (tmp_path / output["path"]).write_bytes(b"changed")
    assert not reopened.done("k")
    with pytest.raises(ValueError, match="different film"):
        Manifest.open(tmp_path, "another film")
    assert json.loads((tmp_path / "manifest.json").read_text())["units"]["k"]["outputs"] == [output]


def test_picks_take_the_best_score_and_ties_go_to_the_earlier_candidate(tmp_path):
    manifest = Manifest.open(tmp_path, "film")
    scores = {(1, 1): 0.5, (1, 2): 0.7, (2, 1): 0.4, (2, 2): 0.4}
    manifest.units = {f"{s}-{c}": {"shot": s, "candidate": c, "score": v} for (s, c), v in scores.items()}
    assert picks(manifest, 2) == {"1": "1-2", "2": "2-1"}


def test_the_cuts_files_keep_their_names_so_a_timeline_finds_its_media(tmp_path):
    """The cut's outputs name each other (a timeline and its shot files), so they are stored by name."""
    timeline = store_output(tmp_path, "cut", "cut_00001.otio", b'{"target_url": "cut_00001_shot_001.mov"}', True)
    media = store_output(tmp_path, "cut", "cut_00001_shot_001.mov", b"prores", True)
    assert (tmp_path / timeline["path"]).parent == (tmp_path / media["path"]).parent
    assert (tmp_path / media["path"]).name == "cut_00001_shot_001.mov"
    assert (tmp_path / media["path"]).read_bytes() == b"prores"
    with pytest.raises(OutputPathError):
        store_output(tmp_path, "cut", "../escape.mov", b"x", True)
