"""Coverage: the six standard set-ups from a location and subjects."""

import pytest

from worldkit.models.shots.coverage import SETUPS, coverage
from worldkit.models.shots.prompt import compile_prompt
from worldkit.models.shots.shot import Shot, ShotEntity, ShotError

TEMPLATE = Shot(duration="10 s", fps=24, resolution="720p", lighting="moonlight", mood="tense", seed=100)


def roles(shot):
    return [(e.name, e.role) for e in shot.entities]


def test_six_setups_in_order_with_template_settings():
    shots = coverage("field", ["man", "cow"], TEMPLATE, props=["lantern"], action="the herd stirs")
    assert [s.name for s in shots] == list(SETUPS)
    assert [s.shot_size for s in shots] == [
        "extreme wide",
        "medium",
        "close-up",
        "over-the-shoulder",
        "over-the-shoulder",
        "insert",
    ]
    assert [s.seed for s in shots] == [100, 101, 102, 103, 104, 105]
    for shot in shots:
        assert (shot.frame_count, shot.size, shot.lighting, shot.mood) == (241, (1280, 720), "moonlight", "tense")
        assert ("field", "location") in roles(shot)


def test_entities_per_setup_two_subjects():
    wide, medium, close, ots, reverse, insert = coverage("field", ["man", "cow"], TEMPLATE, props=["lantern"])
    assert roles(wide) == [("man", "subject"), ("cow", "subject"), ("lantern", "prop"), ("field", "location")]
    assert roles(close) == [("man", "subject"), ("field", "location")]
    assert roles(ots)[:2] == [("man", "subject"), ("cow", "subject")]
    assert roles(reverse)[:2] == [("cow", "subject"), ("man", "subject")]
    assert "over man's shoulder onto cow" in compile_prompt(ots)
    assert "over cow's shoulder onto man" in compile_prompt(reverse)
    assert roles(insert) == [("lantern", "prop"), ("field", "location")]
    assert compile_prompt(insert).startswith("Insert shot of lantern")
    assert wide.angle == "high" and close.lens_mm > medium.lens_mm > wide.lens_mm


def test_one_subject_no_props():
    shots = coverage("forest", ["skunk"], Shot())
    assert len(shots) == 6
    reverse, insert = shots[4], shots[5]
    assert reverse.shot_size == "medium close-up" and "Reverse angle facing skunk" in reverse.prompt
    assert roles(insert) == [("skunk", "subject"), ("forest", "location")]
    assert "Detail of skunk" in insert.prompt


def test_chosen_setups_only():
    shots = coverage("forest", ["skunk"], Shot(), setups=["close-up", "establishing wide"])
    assert [s.name for s in shots] == ["establishing wide", "close-up"]


@pytest.mark.parametrize(
    ("location", "subjects", "setups", "message"),
    [
        ("", ["a"], SETUPS, "needs a location"),
        ("l", [], SETUPS, "at least one subject"),
        ("l", ["a"], ["dolly zoom"], "Unknown coverage set-ups dolly zoom"),
    ],
)
def test_bad_coverage_requests(location, subjects, setups, message):
    with pytest.raises(ShotError, match=message):
        coverage(location, subjects, Shot(), setups=setups)


def test_coverage_shots_are_editable_shots():
    shot = coverage("forest", ["skunk"], Shot())[2].replace(lighting="firelight", entities=(ShotEntity("skunk"),))
    assert shot.lighting == "firelight" and shot.shot_size == "close-up"
