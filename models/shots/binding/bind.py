"""`bind_shot`: check a shot against its world and the loaded model, pick the family, and run its binder."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import torch

from ...shared.pixels import require_pixels
from ...shared.wan import WAN_2_1, ModelRules, require_vae_channels, require_wan_frame_count, require_wan_size
from ...world.entities import Reference, World
from ..prompt import compile_prompt, negative_prompt, world_descriptions
from ..shot import Shot, preset_list, shot_for_model
from .context import BindContext, BindingError, BindInputs, BindOptions, Conditioning, encode_text
from .families import FAMILIES, require_generation, resolve_family
from .performance import Performance, require_voice

LOCATION_MODES = ("auto", "first frame", "reference", "text only")


@dataclass
class BoundShot:
    """What a sampler needs for one shot: conditioning, latent, and how to trim and decode the result.

    `trim_latent_frames` leading latent frames are references to cut after sampling (as
    TrimVideoLatent does); what remains decodes to `frame_count` frames at width x height.
    `negative_text` is Phantom's negative prompt with the subject images (WanPhantomSubjectToVideo's
    negative_text, for a guider that weighs text and subjects apart); other families have one negative.
    """

    positive: Conditioning
    negative: Conditioning
    negative_text: Conditioning
    latent: dict[str, torch.Tensor]
    trim_latent_frames: int
    family: str
    width: int
    height: int
    frame_count: int
    fps: int
    prompt: str
    negative_prompt: str
    reference_names: tuple[str, ...] = ()
    start_frame: torch.Tensor | None = None
    location_as: str = "text only"
    notes: dict[str, Any] = field(default_factory=dict)
    lead_latent: torch.Tensor | None = None  # a long shot's latent frames so far, decoded before the sampled ones

    def report(self) -> dict[str, Any]:
        """What was bound, under the keys every report of a binding uses (Bind Shot's info, the sampler's shots)."""
        return {
            "family": self.family,
            "location_as": self.location_as,
            "reference_frames": list(self.reference_names),
            "trim_latent_frames": self.trim_latent_frames,
            "compiled_prompt": self.prompt,
            "compiled_negative_prompt": self.negative_prompt,
            **self.notes,
        }


def check_entities(shot: Shot, world: World) -> None:
    """Every entity the shot names is in the world and has image views with finite pixels."""
    for reference in world.require(
        [entity.name for entity in shot.entities], f"Shot {shot.name or shot.prompt[:40]!r}"
    ):
        views = reference.views
        if views.ndim != 4 or views.shape[0] == 0 or views.shape[-1] < 3:
            raise BindingError(
                f"Entity {reference.name!r} has views of shape {tuple(views.shape)}; expected "
                "[views, height, width, 3] images. Rebuild the reference from an IMAGE."
            )
        if not torch.isfinite(views).all():
            raise BindingError(f"Entity {reference.name!r} has NaN or infinite pixels; rebuild the reference.")


def check_resolution(vae: Any, width: int, height: int, length: int, rules: ModelRules) -> None:
    require_wan_size(width, height, "The shot's frame", preset_list(rules), BindingError, rules)
    require_vae_channels(rules, getattr(vae, "latent_channels", rules.latent_channels), BindingError)
    require_wan_frame_count(length, "The shot's frame count", BindingError)


def check_performance(family: str, performance: Performance | None, fps: int) -> None:
    """A performance part the family would not read is an error, not silently dropped; a voice must be one the family
    can hear in a shot at ``fps`` (require_voice)."""
    if performance is None:
        return
    unread = [
        part.name
        for part in fields(performance)
        if getattr(performance, part.name) is not None and part.name not in FAMILIES[family].performance
    ]
    if unread:
        readers = ", ".join(sorted({name for name, f in FAMILIES.items() if set(unread) & set(f.performance)}))
        them = "it" if len(unread) == 1 else "them"
        raise BindingError(
            f"The performance's {', '.join(unread)} would be ignored: the shot binds as {family}, which does not "
            f"read {them}; load a model of a family that does ({readers}), or disconnect {them} from Shot Performance."
        )
    if performance.audio is not None:
        require_voice(performance.audio, FAMILIES[family].voice, family, fps)


def resolve_location_mode(family: str, requested: str, shot: Shot) -> str:
    if requested not in LOCATION_MODES:
        raise BindingError(f"location_as {requested!r} is not one of {', '.join(LOCATION_MODES)}.")
    allowed = FAMILIES[family].location_modes
    mode = allowed[0] if requested == "auto" else requested
    if mode not in allowed and shot.names_with_role("location"):
        raise BindingError(
            f"A {family} model cannot take the location {shot.names_with_role('location')[0]!r} as a "
            f"{mode}; it can take it as: {', '.join(allowed)}."
        )
    return mode


def shot_references(shot: Shot, world: World) -> list[Reference]:
    """The references a shot shows (subjects, props, locations), for scoring what was rendered."""
    return [world.references[e.name] for e in shot.entities if e.role in ("subject", "prop", "location")]


def bind_shot(
    shot: Shot,
    world: World,
    model: Any,
    vae: Any,
    clip: Any,
    *,
    family: str = "auto",
    inputs: BindInputs | None = None,
    options: BindOptions | None = None,
    rules: ModelRules = WAN_2_1,
) -> BoundShot:
    """Compile `shot` against `world` into conditioning and a latent for the loaded model.

    With one reference the result equals ComfyUI's own node for the family (WanVaceToVideo,
    WanPhantomSubjectToVideo, WanImageToVideo, WanFirstLastFrameToVideo, WanTrackToVideo,
    WanMoveTrackToVideo); beyond that every entity of the shot is bound. ComfyUI objects are
    duck-typed: CLIP (tokenize, encode_from_tokens_scheduled), VAE (encode), CLIP vision
    (encode_image), the model (its weights and latent_format). `rules` are the loaded model's and VAE's (read by
    the caller from them); a shot slower than the model's rate is bound at that rate (shot_for_model).
    """
    options, inputs = options or BindOptions(), inputs or BindInputs()
    shot = shot_for_model(shot, rules)
    for image, what in ((inputs.start_image, "start_image"), (inputs.end_image, "end_image")):
        if image is not None:
            require_pixels(image, what)
    width, height = shot.size
    length = options.length or shot.frame_count
    check_resolution(vae, width, height, length, rules)
    check_entities(shot, world)
    if options.views_per_entity < 1:
        raise BindingError(f"views_per_entity is {options.views_per_entity}; use 1 or more.")
    chosen = resolve_family(model, family, None if inputs.tracks is None else inputs.tracks.source)
    require_generation(chosen, rules, BindingError)
    if inputs.end_image is not None and chosen != "flf":
        raise BindingError(
            f"end_image is connected but the shot binds as {chosen}, which has no end frame, so it would be "
            "ignored; load a first-last-frame (FLF) model, or disconnect end_image."
        )
    if inputs.tracks is not None and FAMILIES[chosen].picked_by_tracks is None:
        raise BindingError(
            f"Tracks are connected but the shot binds as {chosen}, which has no track input, so they would be "
            "ignored; load an ATI or Wan-Move (image-to-video) model, or disconnect the tracks."
        )
    if inputs.video_latent is not None and not FAMILIES[chosen].latent_motion:
        raise BindingError(
            f"video_latent is connected but the shot binds as {chosen}, which continues from frames, not latents, "
            "so it would be ignored; load a Wan S2V model, or disconnect video_latent."
        )
    check_performance(chosen, inputs.performance, shot.fps)
    location_as = resolve_location_mode(chosen, options.location_as, shot)
    ctx = BindContext(shot, world, model, vae, width, height, length, options, location_as, inputs, rules)

    prompt, negative_text = compile_prompt(shot, world_descriptions(world)), negative_prompt(shot)
    bound = FAMILIES[chosen].bind(ctx, encode_text(clip, prompt), encode_text(clip, negative_text))
    return BoundShot(
        positive=bound.positive,
        negative=bound.negative,
        negative_text=bound.negative if bound.negative_text is None else bound.negative_text,
        latent=bound.latent,
        trim_latent_frames=bound.trim,
        family=chosen,
        width=width,
        height=height,
        frame_count=length,
        fps=shot.fps,
        prompt=prompt,
        negative_prompt=negative_text,
        reference_names=bound.reference_names,
        start_frame=bound.first,
        location_as=location_as,
        notes=bound.notes,
        lead_latent=bound.lead_latent,
    )
