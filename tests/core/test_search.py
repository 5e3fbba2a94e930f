"""The consistency search engine: schedule, survivors, stepping, and the shot renderer built on them."""

import json

import pytest
import torch
from test_multishot import SIZE, SKUNK, make_shot

from worldkit.models.sampling.long_shot import segment_seed
from worldkit.models.sampling.multishot import render_shot_list
from worldkit.models.sampling.search import (
    SEARCH_CHOICES,
    Check,
    SearchHooks,
    check_steps,
    early_frames_at_size,
    early_latent_frames,
    parse_search,
    parse_search_choice,
    require_schedule_candidates,
    run_search,
    search_steps,
    survivors,
)
from worldkit.models.sampling.shot_pipeline import ShotPipeline

STEPS = 10


def test_schedules_parse_print_and_switch_off():
    schedule = parse_search("4>2@0.2>1@0.4")
    assert schedule.candidates == 4
    assert schedule.checks == (Check(0.2, 2), Check(0.4, 1))
    assert str(schedule) == "4>2@0.2>1@0.4"
    assert str(parse_search(" 2 @ .25 > 1@0.5 ")) == "2@0.25>1@0.5"
    assert parse_search("off") is None and parse_search("OFF") is None and parse_search("") is None


def test_presets_parse_to_the_schedules_they_name():
    assert SEARCH_CHOICES == ("careful", "fast", "off", "custom")
    careful = parse_search_choice("careful", "ignored")
    assert careful.checks == (Check(0.2, 2), Check(0.4, 1)) and careful.candidates is None
    fast = parse_search_choice("fast", "ignored")
    assert fast.checks == (Check(0.15, 1),)
    assert fast.checks[0].fraction < careful.checks[0].fraction  # earlier, and straight to one
    assert parse_search_choice("off", "2@0.2") is None


def test_custom_takes_the_text_and_a_schedule_saved_in_search_still_reads():
    assert str(parse_search_choice("custom", "3@0.1>1@0.3")) == "3@0.1>1@0.3"
    assert parse_search_choice("custom", "off") is None
    assert str(parse_search_choice("4>2@0.2>1@0.5", "")) == "4>2@0.2>1@0.5"  # a graph saved before the presets


def test_a_bad_custom_schedule_names_search_custom():
    with pytest.raises(ValueError, match=r"^search_custom: search check '2-0.2' is not 'keep@fraction'"):
        parse_search_choice("custom", "2-0.2")
    with pytest.raises(ValueError, match=r"^search check 'banana'"):
        parse_search_choice("banana", "")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2@0.2>2@0.4", "keep fewer"),
        ("2@0.4>1@0.2", "come later"),
        ("2@1.5", "between 0 and 1"),
        ("0@0.5", "at least 1"),
        ("2-0.2", "keep@fraction"),
        ("4>4@0.2", "must keep fewer"),
        ("x>1@0.2", "'x' is not 'keep@fraction'"),
        ("0>1@0.2", "must keep fewer"),
        ("4", "no check"),
    ],
)
def test_bad_schedules_are_refused_with_the_fix(text, message):
    with pytest.raises(ValueError, match=message):
        parse_search(text)


def test_a_leading_count_must_match_the_candidates():
    require_schedule_candidates(parse_search("4>2@0.2"), 4)
    require_schedule_candidates(parse_search("2@0.2"), 7)
    require_schedule_candidates(None, 3)
    with pytest.raises(ValueError, match="set candidates to 4"):
        require_schedule_candidates(parse_search("4>2@0.2"), 3)


def test_fractions_land_on_steps_and_checks_that_prune_nothing_are_skipped():
    schedule = parse_search("2@0.2>1@0.4")
    assert check_steps(schedule, 10, 4) == [(2, 2), (4, 1)]
    assert check_steps(schedule, 10, 2) == [(4, 1)]  # keeping 2 of 2 judges nothing
    assert check_steps(schedule, 2, 4) == [(1, 1)]  # both land on step 1: the smaller keep wins
    assert check_steps(schedule, 1, 4) == []  # one step: nothing before the end to judge
    assert check_steps(parse_search("1@0.99"), 10, 3) == [(9, 1)]  # never at the last step


def test_step_counts_of_a_searched_shot():
    checks = [(2, 2), (4, 1)]
    assert search_steps(checks, 4, 10) == 4 * 2 + 2 * 2 + 1 * 6
    assert search_steps(checks, 4, 10, segments=3) == 18 + 2 * 10
    assert search_steps([], 3, 10, segments=2) == 3 * 10 * 2  # search off: every candidate, every step


def test_survivors_are_the_best_in_candidate_order_and_ties_go_to_the_earlier():
    assert survivors({0: 0.1, 1: 0.9, 2: 0.5, 3: 0.9}, 2) == [1, 3]
    assert survivors({0: 0.5, 1: 0.5, 2: 0.5}, 1) == [0]
    with pytest.raises(ValueError, match="NaN"):
        survivors({0: float("nan"), 1: 0.2}, 1)


def test_early_frames_are_few_and_small():
    latent = torch.arange(21.0).view(1, 1, 21, 1, 1).expand(1, 2, 21, 3, 5)
    assert early_latent_frames(latent)[0, 0, :, 0, 0].tolist() == [0, 7, 13, 20]
    assert early_latent_frames(latent[:, :, :3]).shape[2] == 3
    assert early_frames_at_size(torch.rand(4, 60, 104, 3)).shape == (4, 148, 256, 3)


class FakeStepping:
    """Candidates whose x0 at step k is a flat level known from the seed; counts every model call (step)."""

    def __init__(self, seeds, levels, latents):
        self.seeds, self.levels, self.latents = list(seeds), levels, latents
        self.steps = [0] * len(self.seeds)
        self.stopped, self.closed = set(), False

    def _take(self, index, steps):
        assert index not in self.stopped, "a stopped candidate was stepped again"
        self.steps[index] = max(self.steps[index], steps)

    def advance(self, index, steps):
        self._take(index, steps)
        return torch.full((1, 3, 3, SIZE, SIZE), self.levels(self.seeds[index]))

    def finish(self, index):
        self._take(index, STEPS)
        return self.latents(self.seeds[index])

    def stop(self, index):
        self.stopped.add(index)

    def close(self):
        self.closed = True


def test_run_search_stops_the_weak_and_finishes_the_survivors():
    levels = {0: 0.3, 1: 0.9, 2: 0.5, 3: 0.7}
    stepping = FakeStepping(range(4), levels.get, lambda seed: torch.full((1,), float(seed)))
    outcome = run_search(stepping, 4, [(2, 2), (4, 1)], lambda x0: float(x0.mean()))
    assert sorted(outcome.finished) == [1] and float(outcome.finished[1]) == 1.0
    assert stepping.steps == [2, STEPS, 2, 4]  # pruned candidates took no step after their check
    assert outcome.pruned_at == {0: 2, 2: 2, 3: 4}
    assert [check["survivors"] for check in outcome.checks] == [[1, 3], [1]]
    assert outcome.checks[1]["early_scores"] == [None, pytest.approx(0.9), None, pytest.approx(0.7)]
    assert stepping.closed


def test_run_search_closes_every_candidate_when_interrupted():
    stepping = FakeStepping(range(3), lambda seed: 0.5, lambda seed: torch.zeros(1))
    judged = []

    def judge(x0):
        judged.append(1)
        if len(judged) == 2:
            raise InterruptedError("cancelled")
        return 0.5

    with pytest.raises(InterruptedError):
        run_search(stepping, 3, [(2, 1)], judge)
    assert stepping.closed and stepping.steps == [2, 2, 0]


# ---------------------------------------------------------------- the shot renderer with the search


class Bound:
    trim_latent_frames = 0
    reference_names = ()
    lead_latent = None

    def __init__(self, context, frames):
        self.context, self.frames = context, frames


def level(seed: int) -> float:
    return 0.2 + 0.1 * ((seed * 5) % 7)


class FakeModel:
    """Latents are pixels [1, 3, T, H, W] at a level known from the seed; the early x0 has the same level."""

    def __init__(self) -> None:
        self.sampled_seeds: list[int] = []
        self.stepping: FakeStepping | None = None

    def latent(self, seed: int, frames: int, context=None) -> torch.Tensor:
        generator = torch.Generator().manual_seed(seed)
        content = level(seed) + 0.01 * torch.rand(frames, SIZE, SIZE, 3, generator=generator)
        if context is not None:
            content[: context.shape[0]] = context
        return content.permute(3, 0, 1, 2).unsqueeze(0)

    def sample(self, shot, bound, seed):
        self.sampled_seeds.append(seed)
        return self.latent(seed, bound.frames, bound.context)

    def start(self, shot, bound, seeds):
        self.stepping = FakeStepping(seeds, level, lambda seed: self.latent(seed, bound.frames, bound.context))
        return self.stepping

    def pipeline(self, search: str | None = "2@0.2>1@0.4", **options) -> ShotPipeline:
        def mean_score(frames, refs):
            return float(frames.mean())

        hooks = None
        if search is not None:
            preview = lambda latent: latent[0].permute(1, 2, 3, 0)  # noqa: E731
            hooks = SearchHooks(parse_search(search), STEPS, self.start, preview, mean_score)
        return ShotPipeline(
            bind=lambda shot, context, frames, new_from, latent_so_far: Bound(context, frames),
            sample=self.sample,
            decode=lambda latent: latent[0].permute(1, 2, 3, 0),
            references=lambda shot: [SKUNK],
            score=mean_score,
            search=hooks,
            **options,
        )


def test_the_search_keeps_the_best_early_candidate_and_its_frames_equal_a_lone_render():
    model = FakeModel()
    result = render_shot_list(model.pipeline(), [make_shot()], seed=10, candidates=4)[0]
    seeds = [10, 11, 12, 13]
    ranked = sorted(range(4), key=lambda index: -level(seeds[index]))
    report = result.report
    assert report["chosen"] == ranked[0] and report["chosen_seed"] == seeds[ranked[0]]
    checks = report["search"]["checks"]
    assert [check["step"] for check in checks] == [2, 4]
    assert checks[0]["survivors"] == sorted(ranked[:2]) and checks[1]["survivors"] == [ranked[0]]
    assert checks[0]["early_scores"] == [pytest.approx(level(seed), abs=1e-6) for seed in seeds]
    assert model.stepping.steps == [STEPS if i == ranked[0] else 4 if i == ranked[1] else 2 for i in range(4)]
    pruned = [candidate for candidate in report["candidates"] if "pruned_at_step" in candidate]
    assert len(pruned) == 3 and all(candidate["score"] is None for candidate in pruned)
    assert report["scores"][ranked[0]] is None  # a lone finisher has nothing to beat
    assert model.sampled_seeds == []  # the first segment came from the search, not from a second sampling
    lone = render_shot_list(FakeModel().pipeline(search=None), [make_shot()], seed=seeds[ranked[0]], candidates=1)
    assert torch.equal(result.frames, lone[0].frames)
    json.dumps(report)


def test_search_off_or_one_candidate_renders_as_before():
    model = FakeModel()
    off = render_shot_list(model.pipeline(search=None), [make_shot()], seed=10, candidates=4)[0]
    assert "search" not in off.report and len(model.sampled_seeds) == 4
    assert all(isinstance(score, float) for score in off.report["scores"])
    single_model = FakeModel()
    single = render_shot_list(single_model.pipeline(), [make_shot()], seed=10, candidates=1)[0]
    assert single_model.stepping is None and single_model.sampled_seeds == [10]
    assert "search" not in single.report


def test_survivors_to_the_end_are_scored_in_full_and_the_best_kept():
    model = FakeModel()
    result = render_shot_list(model.pipeline(search="2@0.3"), [make_shot()], seed=10, candidates=4)[0]
    finished = [i for i, c in enumerate(result.report["candidates"]) if "pruned_at_step" not in c]
    assert len(finished) == 2
    assert all(isinstance(result.report["scores"][i], float) for i in finished)
    assert result.report["chosen"] == max(finished, key=lambda i: result.report["scores"][i])


def test_a_long_shot_is_searched_on_its_first_segment_and_only_the_winner_continues():
    model = FakeModel()
    pipeline = model.pipeline(native_frames=81, overlap=9)
    result = render_shot_list(pipeline, [make_shot(frames=161)], seed=10, candidates=4)[0]
    winner = result.report["chosen_seed"]
    assert model.sampled_seeds == [segment_seed(winner, 1), segment_seed(winner, 2)]
    assert result.frames.shape[0] == 161
    lone_model = FakeModel()
    lone = render_shot_list(lone_model.pipeline(search=None, native_frames=81, overlap=9), [make_shot(161)], winner, 1)
    assert torch.equal(result.frames, lone[0].frames)
