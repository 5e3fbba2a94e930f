"""Chosen takes and the shot cache: a cut of takes rendered earlier renders nothing new, and a key that differs
in anything the frames depend on renders again. Also the search's live events (what the storyboard shows live)."""

import gc

import pytest
import torch
from test_multishot import FakeModel, make_shot
from test_search import FakeModel as SearchModel

from worldkit.models.sampling.multishot import render_shot_list, total_steps
from worldkit.models.sampling.selection import parse_selection
from worldkit.models.sampling.shot_cache import CacheContext, ShotCache, ShotReuse
from worldkit.models.sampling.takes import NO_TAKES, Take, TakesError, parse_takes


class Loaded:
    """A stand-in for a loaded model: known to the cache by identity only."""


def reuse(cache: ShotCache, *objects, settings=("uni_pc", 20)) -> ShotReuse:
    return ShotReuse(cache, CacheContext.of(settings, objects))


def two_shots(**second) -> list:
    return [make_shot(seed=0), make_shot(seed=5, **second)]


def test_takes_parse_and_print():
    takes = parse_takes(" shot=2:seed=24 , shot=3:seed=30:candidate=1,")
    assert takes.get(2) == Take(2, 24) and takes.get(3) == Take(3, 30, 1) and takes.get(1) is None
    assert takes.to_text() == "shot=2:seed=24,shot=3:seed=30:candidate=1"
    assert parse_takes("") == NO_TAKES and parse_takes(takes.to_text()) == takes
    assert takes.run_seed(2, 7) == 24 and takes.run_seed(1, 7) == 7
    assert takes.selection(3, parse_selection("")).candidates == frozenset({1})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("shot=2", "needs a shot and a seed"),
        ("shot=2:seed=x", "seed='x'"),
        ("shot=2;seed=1", "must be a whole number"),
        ("shot=2:seed=1,shot=2:seed=3", "shot 2 is given twice"),
        ("shot=0:seed=1", "count from 1"),
        ("shot=1:seed=1:take=2", "cannot read"),
    ],
)
def test_bad_takes_are_refused_with_the_fix(text, message):
    with pytest.raises(TakesError, match=message):
        parse_takes(text)


def test_a_take_names_a_shot_and_candidate_that_exist():
    with pytest.raises(TakesError, match="shot 3 does not exist"):
        render_shot_list(FakeModel().pipeline(), two_shots(), 10, 2, takes=parse_takes("shot=3:seed=1"))
    with pytest.raises(TakesError, match="candidate 3"):
        render_shot_list(FakeModel().pipeline(), two_shots(), 10, 2, takes=parse_takes("shot=1:seed=1:candidate=3"))


def test_a_take_renders_its_shot_as_the_run_with_its_seed_did():
    model = FakeModel()
    takes = parse_takes("shot=2:seed=40")
    results = render_shot_list(model.pipeline(), two_shots(), 10, 2, takes=takes)
    assert results[0].report["seeds"] == [10, 11] and results[1].report["seeds"] == [45, 46]
    alone = render_shot_list(FakeModel().pipeline(), two_shots(), 40, 2, selection=parse_selection("shot=2"))[0]
    assert torch.equal(results[1].frames, alone.frames)
    one = render_shot_list(FakeModel().pipeline(), two_shots(), 10, 2, takes=parse_takes("shot=2:seed=40:candidate=2"))
    assert [c["seed"] for c in one[1].report["candidates"]] == [46]
    steps = total_steps(two_shots(), 2, 4, 81, 9, takes=parse_takes("shot=2:seed=40:candidate=2"))
    assert steps == 2 * 4 + 1 * 4


def test_a_cut_of_takes_rendered_before_samples_nothing():
    cache, loaded = ShotCache(), Loaded()
    first = FakeModel()
    full = render_shot_list(first.pipeline(), two_shots(), 10, 2, reuse=reuse(cache, loaded))
    assert [result.report["cached"] for result in full] == [False, False]
    retake = render_shot_list(
        FakeModel().pipeline(), two_shots(), 40, 2, selection=parse_selection("shot=2"), reuse=reuse(cache, loaded)
    )
    cut_model = FakeModel()
    cut = render_shot_list(
        cut_model.pipeline(), two_shots(), 10, 2, takes=parse_takes("shot=2:seed=40"), reuse=reuse(cache, loaded)
    )
    assert cut_model.sampled_seeds == [] and cut_model.bind_calls == [], "every shot came from the cache"
    assert [result.report["cached"] for result in cut] == [True, True]
    assert torch.equal(cut[0].frames, full[0].frames) and torch.equal(cut[1].frames, retake[0].frames)
    assert cut[1].report["shot"] == 1 and retake[0].report["shot"] == 1
    assert not torch.equal(cut[1].frames, full[1].frames), "the chosen take, not the first one"


def key_changes() -> dict:
    """Each a run that differs from the baseline in one thing the frames depend on."""
    return {
        "prompt": {"shots": [make_shot(seed=0), make_shot(seed=5, mood="rain")]},
        "seed": {"seed": 11},
        "candidates": {"candidates": 3},
        "candidate selected": {"selection": parse_selection("candidate=1")},
        "native frames": {"pipeline": {"native_frames": 33}},
        "overlap": {"pipeline": {"overlap": 2}},
        "colour continuity": {"pipeline": {"color_strength": 0.5}},
        "lone candidate scored": {"pipeline": {"score_single_candidate": True}},
        "host settings": {"settings": ("euler", 20)},
        "another model": {"objects": "new"},
    }


@pytest.mark.parametrize("change", list(key_changes()))
def test_a_key_that_differs_in_anything_renders_again(change):
    cache, loaded = ShotCache(), Loaded()
    render_shot_list(FakeModel().pipeline(), two_shots(), 10, 2, reuse=reuse(cache, loaded))
    spec = key_changes()[change]
    model = FakeModel()
    objects = (Loaded(),) if spec.get("objects") == "new" else (loaded,)
    results = render_shot_list(
        model.pipeline(**spec.get("pipeline", {})),
        spec.get("shots", two_shots()),
        spec.get("seed", 10),
        spec.get("candidates", 2),
        selection=spec.get("selection", parse_selection("")),
        reuse=reuse(cache, *objects, settings=spec.get("settings", ("uni_pc", 20))),
    )
    changed = [result.report["cached"] for result in results]
    assert changed[-1] is False and model.sampled_seeds, f"{change}: the shot was rendered again"


def test_a_continued_shot_renders_again_when_the_shot_before_it_changed():
    cache, loaded = ShotCache(), Loaded()
    shots = [make_shot(seed=0), make_shot(continuity="continue")]
    render_shot_list(FakeModel().pipeline(), shots, 10, 1, reuse=reuse(cache, loaded))
    model = FakeModel()
    results = render_shot_list(
        model.pipeline(), shots, 10, 1, takes=parse_takes("shot=1:seed=3"), reuse=reuse(cache, loaded)
    )
    assert [result.report["cached"] for result in results] == [False, False], "its first frame is another"
    same = render_shot_list(
        FakeModel().pipeline(), shots, 10, 1, takes=parse_takes("shot=1:seed=3"), reuse=reuse(cache, loaded)
    )
    assert [result.report["cached"] for result in same] == [True, True]


def test_the_search_schedule_is_part_of_the_key():
    cache, loaded = ShotCache(), Loaded()
    render_shot_list(SearchModel().pipeline("2@0.2>1@0.4"), [make_shot()], 10, 4, reuse=reuse(cache, loaded))
    model = SearchModel()
    results = render_shot_list(model.pipeline("1@0.2"), [make_shot()], 10, 4, reuse=reuse(cache, loaded))
    assert results[0].report["cached"] is False and model.stepping is not None


def test_an_entry_whose_model_was_freed_never_matches_and_holds_no_model():
    cache = ShotCache()
    loaded = Loaded()
    render_shot_list(FakeModel().pipeline(), [make_shot()], 10, 1, reuse=reuse(cache, loaded))
    context = reuse(cache, loaded).context
    (key,) = cache.entries
    del loaded, context
    gc.collect()
    assert cache.get(key, CacheContext.of(("uni_pc", 20), (Loaded(),))) is None and not cache.entries


def test_the_cache_keeps_the_most_recent_shots_within_its_size():
    frames_bytes = 9 * 16 * 16 * 3 * 4
    cache, loaded = ShotCache(max_bytes=2 * frames_bytes), Loaded()
    for seed in (1, 2, 3):
        render_shot_list(FakeModel().pipeline(), [make_shot()], seed, 1, reuse=reuse(cache, loaded))
    assert len(cache.entries) == 2 and cache.size == 2 * frames_bytes
    model = FakeModel()
    oldest = render_shot_list(model.pipeline(), [make_shot()], 1, 1, reuse=reuse(cache, loaded))
    assert oldest[0].report["cached"] is False and model.sampled_seeds == [1]


def test_a_cached_report_is_a_copy():
    cache, loaded = ShotCache(), Loaded()
    render_shot_list(FakeModel().pipeline(), [make_shot()], 10, 1, reuse=reuse(cache, loaded))
    first = render_shot_list(FakeModel().pipeline(), [make_shot()], 10, 1, reuse=reuse(cache, loaded))[0]
    first.report["candidates"][0]["seed"] = -1
    again = render_shot_list(FakeModel().pipeline(), [make_shot()], 10, 1, reuse=reuse(cache, loaded))[0]
    assert again.report["candidates"][0]["seed"] == 10


def test_live_events_show_each_check_with_the_judged_candidates_previews_and_the_survivors():
    events = []
    model = SearchModel()
    pipeline = model.pipeline()
    pipeline.live = lambda event, previews: events.append((event, {k: v.shape for k, v in previews.items()}))
    result = render_shot_list(pipeline, [make_shot(), make_shot(seed=4)], seed=10, candidates=4)
    for number in (1, 2):
        shown = [(event, previews) for event, previews in events if event.get("shot", number) == number]
        kinds = [event["event"] for event, _ in events]
        assert kinds == ["shot", "check", "check", "done"] * 2
        assert shown
    checks = [(event, previews) for event, previews in events if event["event"] == "check"]
    report_checks = [check for shot in result for check in shot.report["search"]["checks"]]
    for (event, previews), check in zip(checks, report_checks, strict=True):
        assert event["survivors"] == check["survivors"] and event["early_scores"] == check["early_scores"]
        judged = [index for index, score in enumerate(check["early_scores"]) if score is not None]
        assert sorted(previews) == judged and event["steps"] == 10
    starts = [event for event, _ in events if event["event"] == "shot"]
    assert [(event["shot"], event["seeds"]) for event in starts] == [(1, [10, 11, 12, 13]), (2, [14, 15, 16, 17])]
    done = [(event, previews) for event, previews in events if event["event"] == "done"]
    assert [(event["shot"], event["chosen"], list(previews)) for event, previews in done] == [
        (shot.report["shot"] + 1, shot.report["chosen"], [shot.report["chosen"]]) for shot in result
    ]


def test_a_run_that_does_not_read_the_cache_renders_and_stores():
    cache, loaded = ShotCache(), Loaded()
    storing = ShotReuse(cache, CacheContext.of(("uni_pc", 20), (loaded,)), read=False)
    render_shot_list(FakeModel().pipeline(), [make_shot()], 10, 1, reuse=storing)
    model = FakeModel()
    again = render_shot_list(model.pipeline(), [make_shot()], 10, 1, reuse=storing)
    assert again[0].report["cached"] is False and model.sampled_seeds == [10]
    assert render_shot_list(FakeModel().pipeline(), [make_shot()], 10, 1, reuse=reuse(cache, loaded))[0].report[
        "cached"
    ]
