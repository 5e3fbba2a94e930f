"""The World Shot Sampler's selection: one unit (shot, candidate) renders exactly its frames of a full run."""

import pytest
import torch
from test_multishot import FakeModel, make_shot

from worldkit.models.sampling.multishot import render_shot_list
from worldkit.models.sampling.selection import EVERYTHING, Selection, SelectionError, parse_selection

SHOTS = [make_shot(seed=0), make_shot(seed=7), make_shot(seed=2, frames=5)]
CANDIDATES = 3


def test_parse_selection_reads_shots_and_candidates_and_round_trips():
    assert parse_selection("") == EVERYTHING
    selection = parse_selection(" shot=3 ; candidate=1,2 ")
    assert selection == Selection(frozenset({3}), frozenset({1, 2}))
    assert parse_selection(selection.to_text()) == selection
    assert parse_selection("candidate=2") == Selection(None, frozenset({2}))


@pytest.mark.parametrize("text", ["shot", "shot=x", "shot=0", "take=1", "shot=1;shot=2", "shot=1;candidate="])
def test_parse_selection_refuses_unreadable_text(text):
    with pytest.raises(SelectionError, match="select"):
        parse_selection(text)


def test_each_selected_unit_renders_the_frames_and_score_of_the_full_run():
    model = FakeModel()
    full = render_shot_list(model.pipeline(), SHOTS, seed=11, candidates=CANDIDATES)
    full_seeds = list(model.sampled_seeds)
    unit_seeds = []
    for shot_number, shot_result in enumerate(full, start=1):
        kept = []
        for candidate in range(1, CANDIDATES + 1):
            unit_model = FakeModel()
            units = render_shot_list(
                unit_model.pipeline(),
                SHOTS,
                11,
                CANDIDATES,
                Selection(frozenset({shot_number}), frozenset({candidate})),
            )
            assert len(units) == 1 and len(unit_model.sampled_seeds) == 1
            unit_seeds += unit_model.sampled_seeds
            report = units[0].report
            assert report["shot"] == shot_number - 1 and report["chosen"] == candidate - 1
            full_candidate = shot_result.report["candidates"][candidate - 1]
            assert report["chosen_seed"] == full_candidate["seed"]
            assert report["scores"] == [full_candidate["score"]] and full_candidate["score"] is not None
            kept.append(units[0].frames)
        chosen = shot_result.report["chosen"]
        assert torch.equal(kept[chosen], shot_result.frames)
        others = [frames for index, frames in enumerate(kept) if index != chosen]
        assert all(not torch.equal(frames, shot_result.frames) for frames in others)  # candidates differ
    assert sorted(unit_seeds) == sorted(full_seeds)


def test_selecting_a_continued_shot_without_the_shot_before_is_refused():
    shots = [make_shot(), make_shot(continuity="continue")]
    with pytest.raises(ValueError, match="continues shot 1"):
        render_shot_list(FakeModel().pipeline(), shots, 0, 1, Selection(frozenset({2})))
    assert len(render_shot_list(FakeModel().pipeline(), shots, 0, 1, Selection(frozenset({1, 2})))) == 2


def test_a_selection_past_the_list_names_the_limit():
    with pytest.raises(SelectionError, match="shot 4 does not exist"):
        render_shot_list(FakeModel().pipeline(), SHOTS, 0, 2, Selection(frozenset({4})))
