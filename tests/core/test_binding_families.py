"""Model family detection from duck-typed ModelPatcher-like objects."""

from types import SimpleNamespace

import pytest
import torch

from worldkit.models.shared.wan import WAN_2_1, WAN_2_2_5B
from worldkit.models.shots.binding import FamilyError, resolve_family, weight_kind
from worldkit.models.shots.binding.families import (
    FAMILIES,
    TRACKLESS_FAMILY_CHOICES,
    WEIGHT_KINDS,
    continues_from_latents,
    require_generation,
)


def patcher(in_dim=16, vace=False, img_emb=False, emb_pos=False, **parts):
    dit = SimpleNamespace(patch_embedding=SimpleNamespace(weight=torch.zeros(8, in_dim, 1, 2, 2)), **parts)
    if vace:
        dit.vace_patch_embedding = object()
    if img_emb:
        dit.img_emb = SimpleNamespace(emb_pos=torch.zeros(1, 514, 8) if emb_pos else None)
    return SimpleNamespace(model=SimpleNamespace(diffusion_model=dit))


@pytest.mark.parametrize(
    ("model", "kind"),
    [
        (patcher(vace=True), "vace"),
        (patcher(in_dim=36, img_emb=True, emb_pos=True), "flf"),
        (patcher(in_dim=36, img_emb=True), "i2v"),
        (patcher(in_dim=36), "i2v"),  # Wan 2.2 I2V: no CLIP-vision embedding, 36 input channels
        (patcher(), "t2v"),
        (patcher(in_dim=32, img_emb=True, control_adapter=object()), "camera"),  # Fun Camera 2.1
        (patcher(in_dim=36, control_adapter=object(), ref_conv=object()), "camera"),  # read before other parts
        (patcher(audio_proj=object()), "humo"),
        (patcher(in_dim=36, img_emb=True, face_adapter=object()), "animate"),
        (patcher(casual_audio_encoder=object()), "s2v"),  # Wan 2.2 S2V: a text-to-video layout with audio
    ],
)
def test_weight_kinds(model, kind):
    assert weight_kind(model) == kind


@pytest.mark.parametrize(
    ("model", "tracks", "family"),
    [
        (patcher(vace=True), None, "vace"),
        (patcher(), None, "t2v"),
        (patcher(in_dim=36, img_emb=True), None, "i2v"),
        (patcher(in_dim=36, img_emb=True), "ati", "ati"),
        (patcher(in_dim=36, img_emb=True), "tracks", "wan_move"),
        (patcher(in_dim=36, img_emb=True, emb_pos=True), None, "flf"),
    ],
)
def test_auto(model, tracks, family):
    assert resolve_family(model, "auto", tracks) == family


def test_explicit_families_that_share_weights():
    assert resolve_family(patcher(), "phantom") == "phantom"
    assert resolve_family(patcher(in_dim=36, img_emb=True), "wan_move") == "wan_move"
    assert resolve_family(patcher(in_dim=36, img_emb=True), "flf") == "flf"


def test_incompatible_family_lists_what_works():
    with pytest.raises(FamilyError, match="choose one of: auto, t2v, phantom"):
        resolve_family(patcher(), "vace")
    with pytest.raises(FamilyError, match="auto, vace"):
        resolve_family(patcher(vace=True), "i2v")
    with pytest.raises(FamilyError, match="Unknown family 'sora'"):
        resolve_family(patcher(), "sora")


def test_unsupported_models_say_what_they_are():
    with pytest.raises(FamilyError, match="Wan Fun Control"):
        weight_kind(patcher(in_dim=36, ref_conv=object()))
    with pytest.raises(FamilyError, match="48 input channels"):
        weight_kind(patcher(in_dim=48))


def test_accepts_base_model_or_bare_dit():
    dit = patcher(vace=True).model.diffusion_model
    assert weight_kind(SimpleNamespace(diffusion_model=dit)) == "vace"
    assert weight_kind(dit) == "vace"


@pytest.mark.parametrize(
    "dit",
    [SimpleNamespace(), SimpleNamespace(patch_embedding=SimpleNamespace())],
    ids=["no patch embedding", "no weight"],
)
def test_a_model_without_a_patch_embedding_weight_is_a_family_error_naming_it(dit):
    with pytest.raises(FamilyError) as caught:
        weight_kind(dit)
    assert str(caught.value).startswith(
        "The loaded model (SimpleNamespace, None input channels) is not a Wan 2.1-family"
    )


def test_a_5b_model_binds_as_ti2v_by_its_48_channel_output():
    """TI2V-5B has 48 input channels like no Wan 2.1 model; its 48-channel output (out_dim) names it."""
    five_b = patcher(in_dim=48, out_dim=48)
    assert weight_kind(five_b) == "ti2v"
    assert resolve_family(five_b, "auto") == "ti2v"
    with pytest.raises(FamilyError, match="choose one of: auto, ti2v"):
        resolve_family(five_b, "t2v")
    with pytest.raises(FamilyError, match="auto, t2v, phantom"):
        resolve_family(patcher(), "ti2v")


def test_every_weight_kind_is_run_by_the_family_of_its_name():
    """In "auto" without tracks the weight kind is the family bound, so each kind must name a family that runs it."""
    assert all(kind in FAMILIES[kind].weights for kind in WEIGHT_KINDS)
    assert {kind for family in FAMILIES.values() for kind in family.weights} == set(WEIGHT_KINDS)


@pytest.mark.parametrize(
    ("model", "continues"),
    [
        (patcher(casual_audio_encoder=object()), True),
        (patcher(), False),
        (patcher(in_dim=36, img_emb=True), False),
        (patcher(audio_proj=object()), False),
    ],
    ids=["s2v", "t2v", "i2v", "humo"],
)
def test_only_s2v_continues_a_long_shot_from_its_latent_so_far(model, continues):
    assert continues_from_latents(model) is continues


def test_the_shot_samplers_family_choices_are_auto_and_every_family_that_needs_no_tracks():
    assert TRACKLESS_FAMILY_CHOICES[0] == "auto"
    assert set(TRACKLESS_FAMILY_CHOICES[1:]) == set(FAMILIES) - {"ati", "wan_move"}


def test_without_a_requested_family_the_weights_pick_it():
    assert resolve_family(patcher(vace=True)) == "vace"
    assert resolve_family(patcher(in_dim=36, img_emb=True), track_source="tracks") == "wan_move"


def family_error(call, *args) -> str:
    with pytest.raises(FamilyError) as caught:
        call(*args)
    return str(caught.value)


def test_the_family_refusals_read_in_full():
    """What the user reads: the model or family named, then every choice that would work."""
    assert family_error(weight_kind, patcher(in_dim=36, ref_conv=object())) == (
        "The loaded model (SimpleNamespace) is Wan Fun Control / Wan 2.2 Fun, which Bind Shot does not drive; load a "
        "Wan 2.1 VACE, Phantom, I2V, FLF, ATI, Wan-Move, T2V, Fun Camera or HuMo model, or Wan 2.2 TI2V-5B, Animate "
        "or S2V."
    )
    assert family_error(resolve_family, patcher(), "sora") == (
        "Unknown family 'sora'; choose one of auto, vace, phantom, i2v, flf, ati, wan_move, t2v, ti2v, camera, humo, "
        "animate, s2v."
    )
    assert family_error(resolve_family, patcher(), "vace") == (
        "Family 'vace' cannot run on the loaded weights, which are Wan t2v; choose one of: auto, t2v, phantom."
    )


def test_a_family_of_another_generation_than_the_vae_names_the_vae_to_load():
    assert family_error(require_generation, "ti2v", WAN_2_1) == (
        "The shot binds as ti2v (Wan 2.2 TI2V-5B, 48-channel latents), but the model and VAE were read as Wan 2.1 / "
        "2.2 A14B (16-channel latents); load the VAE made for the model (wan2.2_vae.safetensors for Wan 2.2 TI2V-5B)."
    )
    require_generation("ti2v", WAN_2_2_5B)  # control: the 5B's own VAE
