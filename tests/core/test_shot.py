"""Shot data: durations as 4k+1 frames, resolution presets, entity parsing, validation messages."""

import pytest

from worldkit.models.shared.wan import WAN_2_1, WAN_2_2_5B, frames_for_seconds
from worldkit.models.shots.shot import (
    RESOLUTION_PRESETS,
    Shot,
    ShotEntity,
    ShotError,
    parse_entities,
    resolution_size,
    shot_for_model,
    shots_for_model,
    split_names,
    timing_report,
)


@pytest.mark.parametrize(
    ("duration", "fps", "frames"), [("5 s", 16, 81), ("10 s", 16, 161), ("5 s", 24, 121), ("10 s", 24, 241)]
)
def test_durations_become_wan_frame_counts(duration, fps, frames):
    shot = Shot(duration=duration, fps=fps)
    assert shot.frame_count == frames
    assert shot.latent_frame_count == (frames - 1) // 4 + 1


def test_frames_duration_uses_frames_and_rejects_non_4k_plus_1():
    assert Shot(duration="frames", frames=33).frame_count == 33
    with pytest.raises(ShotError, match="use 77 or 81"):
        Shot(duration="frames", frames=80)


@pytest.mark.parametrize(("frames", "nearest"), [(79, "use 77 or 81"), (83, "use 81 or 85")])
def test_odd_frame_counts_that_are_not_4k_plus_1_are_refused(frames, nearest):
    """Odd counts off the 4k+1 grid: a rule loosened to odd counts (2k+1) would take them."""
    with pytest.raises(ShotError, match=nearest):
        Shot(duration="frames", frames=frames)


def test_frames_for_seconds_rounds_to_nearest_4k_plus_1():
    assert frames_for_seconds(2, 16) == 33
    assert frames_for_seconds(3, 24) == 73


def test_presets_match_wan_sizes_and_are_multiples_of_16():
    assert resolution_size("480p", "16:9") == (832, 480)
    assert resolution_size("720p", "16:9") == (1280, 720)
    assert resolution_size("720p", "9:16") == (720, 1280)
    for sizes in RESOLUTION_PRESETS.values():
        for aspect, (width, height) in sizes.items():
            assert width % 16 == 0 and height % 16 == 0
            aw, ah = map(int, aspect.split(":"))
            assert abs((width / height) / (aw / ah) - 1) < 0.03  # 832x480 is Wan's own "16:9"


def test_custom_resolution_must_be_multiple_of_16():
    assert Shot(resolution="custom", width=64, height=48).size == (64, 48)
    with pytest.raises(ShotError, match="multiple of 16"):
        Shot(resolution="custom", width=70, height=48)


@pytest.mark.parametrize(("width", "height", "label"), [(840, 480, "width is 840"), (832, 488, "height is 488")])
def test_sizes_that_are_multiples_of_8_but_not_16_are_refused(width, height, label):
    """840 and 488 are whole latent pixels (x8) but not whole DiT patches (x16)."""
    with pytest.raises(ShotError, match=f"{label}, but Wan needs a positive multiple of 16"):
        Shot(resolution="custom", width=width, height=height)


@pytest.mark.parametrize(
    ("field", "value", "listed"),
    [
        ("shot_size", "mega wide", "extreme wide"),
        ("angle", "worm", "overhead"),
        ("camera_move", "zoom", "dolly in"),
        ("lighting", "disco", "golden hour"),
        ("continuity", "jump", "continue"),
    ],
)
def test_unknown_vocabulary_lists_what_works(field, value, listed):
    with pytest.raises(ShotError, match=listed):
        Shot(**{field: value})


def test_lens_range():
    assert Shot(lens_mm=14).lens_mm == 14
    with pytest.raises(ShotError, match="14–135"):
        Shot(lens_mm=200)


def test_parse_entities_roles_and_defaults_from_kinds():
    kinds = {"skunk": "character", "forest": "location", "toy": "object", "ink": "style"}
    parsed = parse_entities("skunk\nforest\n toy : prop ; ink", kinds)
    assert parsed == (
        ShotEntity("skunk", "subject"),
        ShotEntity("forest", "location"),
        ShotEntity("toy", "prop"),
        ShotEntity("ink", "style"),
    )
    assert parse_entities("a, b: location") == (ShotEntity("a", "subject"), ShotEntity("b", "location"))


def test_parse_entities_rejects_unknown_role():
    with pytest.raises(ShotError, match="subject, location, prop"):
        parse_entities("skunk: hero")


def test_duplicate_entity_is_an_error():
    with pytest.raises(ShotError, match="skunk more than once"):
        Shot(entities=(ShotEntity("skunk"), ShotEntity("skunk", "prop")))


def test_dict_round_trip_and_unknown_fields():
    shot = Shot(
        prompt="p",
        entities=(ShotEntity("a"), ShotEntity("b", "location")),
        lens_mm=50,
        seed=7,
        negative_prompt="",
        name="1A",
    )
    assert Shot.from_dict(shot.to_dict()) == shot
    with pytest.raises(ShotError, match="Unknown shot fields colour"):
        Shot.from_dict({"colour": "red"})


def test_split_names():
    assert split_names(" man, cow\nlantern ;owl,, ") == ["man", "cow", "lantern", "owl"]


@pytest.mark.parametrize(
    ("shot", "fps", "frames"),
    [
        (Shot(duration="5 s", fps=16), 24, 121),  # 5 s at 16 fps is 5 s at the 5B's 24 fps
        (Shot(duration="10 s", fps=16), 24, 241),
        (Shot(duration="frames", frames=81, fps=16), 24, 121),
        (Shot(duration="5 s", fps=24), 24, 121),  # already at the model's rate
    ],
)
def test_a_shot_slower_than_the_5b_is_rendered_at_its_rate_for_the_same_duration(shot, fps, frames):
    rendered = shot_for_model(shot, WAN_2_2_5B)
    assert (rendered.fps, rendered.frame_count) == (fps, frames)
    timing = timing_report(shot, rendered, WAN_2_2_5B)
    assert timing["asked"] == {"fps": shot.fps, "frames": shot.frame_count}
    assert timing["rendered"] == {"fps": fps, "frames": frames}
    assert ("note" in timing) == (shot.fps != fps)


def test_wan_2_1_renders_shots_as_written():
    for shot in (Shot(duration="5 s", fps=16), Shot(duration="5 s", fps=24)):
        assert shot_for_model(shot, WAN_2_1) is shot
    assert "note" not in timing_report(Shot(), Shot(), WAN_2_1)


def test_a_shot_list_is_refused_whole_when_one_size_does_not_fit_the_model():
    shots = [Shot(), Shot(resolution="720p")]  # 832x480 fits the 5B, 1280x720 does not (x32)
    assert [shot.size for shot in shots_for_model(shots, WAN_2_1)] == [(832, 480), (1280, 720)]
    with pytest.raises(
        ShotError, match=r"^shot 2's frame height is 720, .* nearest size it takes is 1280x704; presets"
    ):
        shots_for_model(shots, WAN_2_2_5B)
