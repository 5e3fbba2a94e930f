"""Which Wan family a loaded model belongs to, read from its weights (duck-typed ComfyUI ModelPatcher).

The weights tell VACE (vace_patch_embedding), first-last-frame (img_emb.emb_pos), image-to-video
(img_emb or a 36-channel patch embedding) and text-to-video apart. Phantom (a text-to-video
finetune) and ATI / Wan-Move (image-to-video finetunes) have the same weights as their bases, so
they are chosen by the user or, in "auto", from whether tracks are connected.
"""

from __future__ import annotations

from typing import Any

FAMILIES = ("auto", "vace", "phantom", "i2v", "flf", "ati", "wan_move", "t2v")
WEIGHT_KINDS = ("vace", "t2v", "i2v", "flf")
# Families each kind of weights can run.
COMPATIBLE = {
    "vace": ("vace",),
    "t2v": ("t2v", "phantom"),
    "i2v": ("i2v", "flf", "ati", "wan_move"),
    "flf": ("flf", "i2v", "ati", "wan_move"),
}
IMAGE_TO_VIDEO_IN_CHANNELS = 36
TEXT_TO_VIDEO_IN_CHANNELS = 16
UNSUPPORTED_PARTS = {
    "control_adapter": "Wan Fun Camera",
    "casual_audio_encoder": "Wan S2V",
    "audio_proj": "HuMo",
    "face_adapter": "Wan Animate",
    "ref_conv": "Wan Fun Control / Wan 2.2 Fun",
}


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
    for part, label in UNSUPPORTED_PARTS.items():
        if getattr(dit, part, None) is not None:
            raise FamilyError(
                f"The loaded model ({name}) is {label}, which Bind Shot does not drive; "
                "load a Wan 2.1 VACE, Phantom, I2V, FLF, ATI, Wan-Move or T2V model."
            )
    if getattr(dit, "vace_patch_embedding", None) is not None:
        return "vace"
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
        "model Bind Shot knows; load a Wan VACE, Phantom, I2V, FLF, ATI, Wan-Move or T2V model."
    )


def resolve_family(model: Any, requested: str = "auto", track_format: str | None = None) -> str:
    """The family to bind for: `requested`, checked against the weights, or picked by "auto".

    `track_format` is "json" (ATI track JSON), "tracks" (a TRACKS dict) or None. In "auto",
    image-to-video weights with ATI JSON bind as ATI, with TRACKS as Wan-Move, without as I2V.
    """
    if requested not in FAMILIES:
        raise FamilyError(f"Unknown family {requested!r}; choose one of {', '.join(FAMILIES)}.")
    kind = weight_kind(model)
    if requested == "auto":
        if kind in ("i2v", "flf") and track_format is not None:
            return "ati" if track_format == "json" else "wan_move"
        return kind
    if requested not in COMPATIBLE[kind]:
        raise FamilyError(
            f"Family {requested!r} cannot run on the loaded weights, which are Wan {kind}; "
            f"choose one of: auto, {', '.join(COMPATIBLE[kind])}."
        )
    return requested
