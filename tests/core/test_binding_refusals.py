"""Bind Shot's refusals: each input that would be ignored or cannot be bound is named, with what to connect or load
instead, before anything is encoded."""

from __future__ import annotations

import pytest
import torch
from test_binding_bind import FRAMES, SHOT, H, W, bind, make_world
from test_binding_humo import voice

from worldkit.models.motion.tracks import TrackSet
from worldkit.models.shared.pixels import PixelError
from worldkit.models.shots.binding import BindingError, BindOptions
from worldkit.models.shots.binding.performance import Performance
from worldkit.models.shots.shot import ShotEntity
from worldkit.models.world.entities import MissingEntityError


def refusal(**kwargs) -> str:
    with pytest.raises(BindingError) as caught:
        bind(**kwargs)
    return str(caught.value)


def test_an_unknown_location_mode_lists_the_modes():
    assert refusal(options=BindOptions(location_as="backdrop")) == (
        "location_as 'backdrop' is not one of auto, first frame, reference, text only."
    )


def test_no_views_per_entity_is_refused_with_the_least_that_works():
    assert refusal(options=BindOptions(views_per_entity=0)) == "views_per_entity is 0; use 1 or more."
    bind(options=BindOptions(views_per_entity=1))  # control


@pytest.mark.parametrize("what", ["start_image", "end_image"])
def test_a_start_or_end_image_with_nan_is_refused_naming_it(what):
    image = torch.full((1, H, W, 3), 0.5)
    image[0, 1, 2, 0] = float("nan")
    with pytest.raises(PixelError, match=f"^{what} holds 1 NaN or infinite values"):
        bind(kind="i2v", family="flf", **{what: image})


def test_an_end_image_for_a_family_without_an_end_frame_is_refused():
    assert refusal(kind="i2v", end_image=torch.full((1, H, W, 3), 0.5)) == (
        "end_image is connected but the shot binds as i2v, which has no end frame, so it would be ignored; load a "
        "first-last-frame (FLF) model, or disconnect end_image."
    )


def test_tracks_for_a_family_without_a_track_input_are_refused():
    tracks = TrackSet.from_tracks_dict({"track_path": torch.rand(FRAMES, 1, 2) * 40}, W, H)
    assert refusal(kind="vace", tracks=tracks) == (
        "Tracks are connected but the shot binds as vace, which has no track input, so they would be ignored; load "
        "an ATI or Wan-Move (image-to-video) model, or disconnect the tracks."
    )


@pytest.mark.parametrize(
    "views",
    [torch.zeros(0, H, W, 3), torch.zeros(1, H, W), torch.zeros(1, H, W, 1), torch.zeros(1, H, W, 2)],
    ids=["none", "3d", "grey", "two channels"],
)
def test_an_entity_whose_views_are_not_images_is_named_with_their_shape(views):
    world = make_world()
    world.references["owl"].views = views
    assert refusal(world=world) == (
        f"Entity 'owl' has views of shape {tuple(views.shape)}; expected [views, height, width, 3] images. Rebuild "
        "the reference from an IMAGE."
    )


def test_a_missing_entity_is_named_with_the_shot_that_names_it():
    shot = SHOT.replace(entities=(ShotEntity("fox"),))
    with pytest.raises(MissingEntityError) as caught:
        bind(shot=shot)
    assert str(caught.value).startswith("Shot 'they meet': the world has no entity named 'fox'.")


def test_a_length_off_the_wan_grid_names_the_shots_frame_count():
    assert refusal(options=BindOptions(length=10)) == (
        "The shot's frame count is 10, but Wan clips have 4k+1 frames; use 9 or 13."
    )


def test_the_report_of_a_binding_says_what_was_bound():
    bound = bind()
    assert bound.report() == {
        "family": "vace",
        "location_as": "reference",
        "reference_frames": ["skunk", "owl", "toy", "forest"],
        "trim_latent_frames": bound.trim_latent_frames,
        "compiled_prompt": bound.prompt,
        "compiled_negative_prompt": "blurry",
    }
    assert bound.trim_latent_frames == 4 and "They meet." in bound.prompt


def test_a_performance_part_the_family_would_not_read_is_named_with_the_families_that_read_it():
    assert refusal(kind="t2v", performance=Performance(audio=voice())) == (
        "The performance's audio would be ignored: the shot binds as t2v, which does not read it; load a humo or s2v "
        "model, or disconnect it from Shot Performance."
    )


def test_two_unread_performance_parts_are_named_together():
    performance = Performance(audio=voice(), pose_video=torch.full((FRAMES, H, W, 3), 0.5))
    assert refusal(kind="t2v", performance=performance) == (
        "The performance's audio, pose_video would be ignored: the shot binds as t2v, which does not read them; load a "
        "animate or humo or s2v model, or disconnect them from Shot Performance."
    )


def test_a_location_mode_the_family_cannot_take_lists_those_it_can():
    start = torch.full((1, H, W, 3), 0.5)
    assert refusal(kind="i2v", start_image=start, options=BindOptions(location_as="reference")) == (
        "A i2v model cannot take the location 'forest' as a reference; it can take it as: first frame, text only."
    )


def test_a_video_latent_for_a_family_that_continues_from_frames_is_refused():
    assert refusal(kind="t2v", video_latent=torch.zeros(1, 16, 3, H // 8, W // 8)) == (
        "video_latent is connected but the shot binds as t2v, which continues from frames, not latents, so it would be "
        "ignored; load a Wan S2V model, or disconnect video_latent."
    )


def test_an_entity_with_infinite_pixels_is_named():
    world = make_world()
    world.references["owl"].views[0, 0, 0, 0] = float("inf")
    assert refusal(world=world) == "Entity 'owl' has NaN or infinite pixels; rebuild the reference."


@pytest.mark.parametrize(
    ("name", "prompt", "label"),
    [
        ("meeting", "they meet", "Shot 'meeting'"),
        (
            "",
            "a very long prompt that goes on for more than forty characters",
            "Shot 'a very long prompt that goes on for more'",
        ),
    ],
    ids=["named", "unnamed"],
)
def test_a_missing_entity_names_the_shot_or_the_start_of_its_prompt(name, prompt, label):
    with pytest.raises(MissingEntityError) as caught:
        bind(shot=SHOT.replace(name=name, prompt=prompt, entities=(ShotEntity("fox"),)))
    assert str(caught.value).startswith(f"{label}: the world has no entity named 'fox'.")
