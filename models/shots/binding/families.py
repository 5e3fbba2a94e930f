"""The Wan families a shot can be bound for, and which one a loaded model belongs to, read from its weights.

Adding a family is one binder module beside this one and one entry in FAMILIES.

The weights tell VACE (vace_patch_embedding), first-last-frame (img_emb.emb_pos), image-to-video
(img_emb or a 36-channel patch embedding), Wan 2.2 TI2V-5B (48-channel latents out) and text-to-video
apart. Phantom (a text-to-video finetune) and ATI / Wan-Move (image-to-video finetunes) have the same
weights as their bases, so they are chosen by the user or, in "auto", from whether tracks are connected.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ...shared.wan import WAN_2_1, WAN_2_2_5B, ModelRules
from . import animate, camera, humo, image_to_video, phantom, s2v, t2v, ti2v, vace
from .context import BindContext, FamilyBinding
from .performance import WAV2VEC2, WHISPER, Listening


@dataclass(frozen=True)
class Family:
    """How one family binds, where it can put a location, which weights run it, and which tracks pick it."""

    bind: Callable[[BindContext, list, list], FamilyBinding]
    location_modes: tuple[str, ...]  # the first is what "auto" picks
    weights: tuple[str, ...]  # the weight kinds that can run it (WEIGHT_KINDS)
    picked_by_tracks: str | None = None  # in "auto", the track source ("ati" JSON or "tracks") that selects it
    generation: ModelRules = WAN_2_1  # the model generation whose latents it binds
    performance: tuple[str, ...] = ()  # the parts of a Performance it reads (audio, pose_video, ...)
    voice: Listening | None = None  # with audio among them, how it hears a voice (encoder, frame rate)
    latent_motion: bool = False  # a long shot's later segments continue from the latent so far, not from frames


WEIGHT_KINDS = ("vace", "t2v", "i2v", "flf", "ti2v", "camera", "humo", "animate", "s2v")
IMAGE_WEIGHTS = ("i2v", "flf")
ANIMATE_PARTS = ("pose_video", "face_video", "background_video", "character_mask")
FAMILIES: dict[str, Family] = {
    "vace": Family(vace.bind, vace.LOCATION_MODES, ("vace",)),
    "phantom": Family(phantom.bind, phantom.LOCATION_MODES, ("t2v",)),
    "i2v": Family(image_to_video.bind_i2v, image_to_video.LOCATION_MODES, IMAGE_WEIGHTS),
    "flf": Family(image_to_video.bind_flf, image_to_video.LOCATION_MODES, IMAGE_WEIGHTS),
    "ati": Family(image_to_video.bind_ati, image_to_video.LOCATION_MODES, IMAGE_WEIGHTS, "ati"),
    "wan_move": Family(image_to_video.bind_wan_move, image_to_video.LOCATION_MODES, IMAGE_WEIGHTS, "tracks"),
    "t2v": Family(t2v.bind, t2v.LOCATION_MODES, ("t2v",)),
    "ti2v": Family(ti2v.bind, ti2v.LOCATION_MODES, ("ti2v",), generation=WAN_2_2_5B),
    "camera": Family(camera.bind, camera.LOCATION_MODES, ("camera",)),
    "humo": Family(
        humo.bind, humo.LOCATION_MODES, ("humo",), performance=("audio",), voice=Listening(WHISPER, humo.VIDEO_FPS)
    ),
    "animate": Family(animate.bind, animate.LOCATION_MODES, ("animate",), performance=ANIMATE_PARTS),
    "s2v": Family(
        s2v.bind,
        s2v.LOCATION_MODES,
        ("s2v",),
        performance=("audio", "pose_video"),
        voice=Listening(WAV2VEC2, s2v.FPS),
        latent_motion=True,
    ),
}
FAMILY_CHOICES = ("auto", *FAMILIES)
# Shots in a shot list carry no tracks, so the sampler offers the families that need none.
TRACKLESS_FAMILY_CHOICES = ("auto", *(name for name, family in FAMILIES.items() if family.picked_by_tracks is None))
IMAGE_TO_VIDEO_IN_CHANNELS = 36
TEXT_TO_VIDEO_IN_CHANNELS = 16
# A part of the weights only one family's models have (as ComfyUI's model detection reads them), checked first.
FAMILY_PARTS = {
    "control_adapter": "camera",
    "casual_audio_encoder": "s2v",
    "audio_proj": "humo",
    "face_adapter": "animate",
}
UNSUPPORTED_PARTS = {"ref_conv": "Wan Fun Control / Wan 2.2 Fun"}


class FamilyError(ValueError):
    """A model that WorldKit cannot bind shots for, or a family the loaded weights cannot run."""


def diffusion_model(model: Any) -> Any:
    """The DiT inside a ModelPatcher (model.model.diffusion_model), a BaseModel, or the DiT itself."""
    inner = getattr(model, "model", model)
    return getattr(inner, "diffusion_model", inner)


def _in_channels(dit: Any) -> int | None:
    weight = getattr(getattr(dit, "patch_embedding", None), "weight", None)
    return None if weight is None else int(weight.shape[1])


def weight_kind(model: Any) -> str:
    """One of WEIGHT_KINDS, or FamilyError naming what was found."""
    dit = diffusion_model(model)
    name = type(dit).__name__
    for part, kind in FAMILY_PARTS.items():
        if getattr(dit, part, None) is not None:
            return kind
    for part, label in UNSUPPORTED_PARTS.items():
        if getattr(dit, part, None) is not None:
            raise FamilyError(
                f"The loaded model ({name}) is {label}, which Bind Shot does not drive; "
                "load a Wan 2.1 VACE, Phantom, I2V, FLF, ATI, Wan-Move, T2V, Fun Camera or HuMo model, "
                "or Wan 2.2 TI2V-5B, Animate or S2V."
            )
    if getattr(dit, "vace_patch_embedding", None) is not None:
        return "vace"
    if getattr(dit, "out_dim", None) == WAN_2_2_5B.latent_channels:
        return "ti2v"
    img_emb = getattr(dit, "img_emb", None)
    if img_emb is not None and getattr(img_emb, "emb_pos", None) is not None:
        return "flf"
    in_channels = _in_channels(dit)
    if img_emb is not None or in_channels == IMAGE_TO_VIDEO_IN_CHANNELS:
        return "i2v"
    if in_channels == TEXT_TO_VIDEO_IN_CHANNELS:
        return "t2v"
    raise FamilyError(
        f"The loaded model ({name}, {in_channels} input channels) is not a Wan 2.1-family video "
        "model Bind Shot knows; load a Wan VACE, Phantom, I2V, FLF, ATI, Wan-Move, T2V, TI2V-5B, Fun Camera, HuMo, "
        "Animate or S2V model."
    )


def resolve_family(model: Any, requested: str = "auto", track_source: str | None = None) -> str:
    """The family to bind for: `requested`, checked against the weights, or picked by "auto".

    `track_source` is "ati" (ATI track JSON), "tracks" (TRACKS) or None. In "auto", image-to-video
    weights with ATI JSON bind as ATI, with TRACKS as Wan-Move, without as I2V.
    """
    if requested not in FAMILY_CHOICES:
        raise FamilyError(f"Unknown family {requested!r}; choose one of {', '.join(FAMILY_CHOICES)}.")
    kind = weight_kind(model)
    runnable = sorted((name for name, family in FAMILIES.items() if kind in family.weights), key=lambda n: n != kind)
    if requested == "auto":
        by_tracks = [name for name in runnable if track_source and FAMILIES[name].picked_by_tracks == track_source]
        return by_tracks[0] if by_tracks else kind
    if requested not in runnable:
        raise FamilyError(
            f"Family {requested!r} cannot run on the loaded weights, which are Wan {kind}; "
            f"choose one of: auto, {', '.join(runnable)}."
        )
    return requested


def continues_from_latents(model: Any, requested: str = "auto") -> bool:
    """Whether the family the loaded model binds as continues a long shot from its latent so far (S2V)."""
    return FAMILIES[resolve_family(model, requested)].latent_motion


def require_generation(family: str, rules: ModelRules, error: type[ValueError] = FamilyError) -> None:
    """Raise `error` unless the loaded model and VAE are of the generation `family` binds for."""
    generation = FAMILIES[family].generation
    if rules.latent_channels != generation.latent_channels:
        raise error(
            f"The shot binds as {family} ({generation.name}, {generation.latent_channels}-channel latents), but the "
            f"model and VAE were read as {rules.name} ({rules.latent_channels}-channel latents); load the VAE made "
            f"for the model ({generation.vae_file} for {generation.name})."
        )
