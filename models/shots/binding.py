"""Bind a shot to a world: exactly the conditioning and latent the loaded Wan family understands.

`bind_shot` is the one entry point (Bind Shot node and the multi-shot sampler both call it). With
one reference it produces what ComfyUI's own node for that family produces for the same inputs
(WanVaceToVideo, WanPhantomSubjectToVideo, WanImageToVideo, WanFirstLastFrameToVideo,
WanTrackToVideo, WanMoveTrackToVideo); beyond that it binds every entity of the shot:

- VACE: every subject and prop view is a reference frame, in role order (subjects, props, then the
  location when bound as a reference); a start frame or the location plate can be the first frame
  of the control video. Reference frames lead the latent and are trimmed after sampling.
- Phantom: subject and prop views are Phantom subject images (the model drops them itself); a start
  frame (or the location plate as first frame) is held fixed by the noise_mask, as for T2V.
- I2V / FLF / ATI / Wan-Move: a start frame composed from the location plate with the subjects
  placed on it (or a given start frame), CLIP-vision conditioning, and tracks for ATI / Wan-Move.
- T2V: reference latents lead the latent as in-context frames, held fixed by the latent's
  noise_mask and trimmed after sampling; a start frame is held fixed the same way, but kept.

ComfyUI objects are duck-typed: CLIP (tokenize, encode_from_tokens_scheduled), VAE (encode),
CLIP vision (encode_image), the model (its weights and latent_format). The ATI and Wan-Move track
maths are ComfyUI's own, passed in as a TrackMaths.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch
import torch.nn.functional as F

from ..motion.formats import ati_times, parse_point_lists
from ..world.encoding import default_fit, encode_reference
from ..world.entities import Reference, World
from ..world.preprocess import fit_frames
from .families import resolve_family
from .prompt import compile_prompt, negative_prompt, world_descriptions
from .shot import Shot, is_wan_frame_count, nearest_wan_frame_counts, preset_list
from .start_frame import compose_start_frame, cutout

LATENT_CHANNELS = 16
SPATIAL_STRIDE = 8
TEMPORAL_STRIDE = 4
NEUTRAL_GREY = 0.5

LOCATION_MODES = ("auto", "first frame", "reference", "text only")
# Location modes each family can take; the first is what "auto" picks.
LOCATION_MODES_BY_FAMILY = {
    "vace": ("reference", "first frame", "text only"),
    "t2v": ("reference", "first frame", "text only"),
    "phantom": ("text only", "first frame"),
    "i2v": ("first frame", "text only"),
    "flf": ("first frame", "text only"),
    "ati": ("first frame", "text only"),
    "wan_move": ("first frame", "text only"),
}

Conditioning = list


class BindingError(ValueError):
    """A shot that cannot be bound as asked; the message says what would work."""


class TrackMaths(Protocol):
    """ComfyUI's track conditioning maths (comfy_extras.nodes_wan / nodes_wanmove), passed in from nodes/."""

    def ati(
        self,
        tracks_json: str,
        start_latent: torch.Tensor,
        width: int,
        height: int,
        length: int,
        temperature: float,
        topk: int,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(motion mask, motion-patched latent) from ATI tracks over a model-scaled start latent."""
        ...

    def wan_move(
        self,
        tracks: Mapping[str, torch.Tensor],
        start_latent: torch.Tensor,
        width: int,
        height: int,
        length: int,
        strength: float,
    ) -> torch.Tensor:
        """The start latent with track features moved along the tracks (Wan-Move)."""
        ...


@dataclass(frozen=True)
class BindOptions:
    """How to bind, beyond the shot itself. `length` overrides the shot's frame count (for segments)."""

    location_as: str = "auto"
    views_per_entity: int = 1
    vace_strength: float = 1.0
    track_strength: float = 1.0
    ati_temperature: float = 220.0
    ati_topk: int = 2
    clip_vision_crop: bool = False
    length: int | None = None


@dataclass
class BoundShot:
    """What a sampler needs for one shot: conditioning, latent, and how to trim and decode the result.

    `trim_latent_frames` leading latent frames are references to cut after sampling (as
    TrimVideoLatent does); what remains decodes to `frame_count` frames at width x height.
    """

    positive: Conditioning
    negative: Conditioning
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
    negative_text: Conditioning | None = None
    location_as: str = "text only"


@dataclass
class _Context:
    shot: Shot
    world: World
    model: Any
    vae: Any
    width: int
    height: int
    length: int
    options: BindOptions
    location_as: str

    @property
    def latent_length(self) -> int:
        return (self.length - 1) // TEMPORAL_STRIDE + 1

    @property
    def latent_hw(self) -> tuple[int, int]:
        return self.height // SPATIAL_STRIDE, self.width // SPATIAL_STRIDE

    @property
    def latent_format(self) -> Any:
        return getattr(self.model, "model", self.model).latent_format


def set_values(conditioning: Conditioning, values: Mapping[str, Any], append: bool = False) -> Conditioning:
    """Copy of a conditioning list with `values` set on every entry (appended to lists when `append`)."""
    result = []
    for tensor, options in conditioning:
        options = dict(options)
        for key, value in values.items():
            if append and options.get(key) is not None:
                value = options[key] + value
            options[key] = value
        result.append([tensor, options])
    return result


def encode_text(clip: Any, text: str) -> Conditioning:
    return clip.encode_from_tokens_scheduled(clip.tokenize(text))


def reference_latents(reference: Reference, vae: Any, width: int, height: int, views: int) -> torch.Tensor:
    """[V, 16, 1, h, w]: the first `views` views of a reference, fitted to the frame and VAE-encoded one by one.

    Encodings come from the shared content-hash cache (or the reference itself), so an unchanged world is
    never re-encoded. Subjects are padded to the frame, never cropped; at the shot's aspect that is the same
    resize ComfyUI's Wan nodes apply.
    """
    return encode_reference(reference, vae, width, height).latents[:views]


def fitted_view(reference: Reference, width: int, height: int) -> torch.Tensor:
    """[1, height, width, 3]: a reference's first view fitted to the frame as its kind is (plates by their fit)."""
    return fit_frames(reference.views[:1, ..., :3], width, height, default_fit(reference), reference.background)


def cover_frames(images: torch.Tensor, width: int, height: int) -> torch.Tensor:
    """Given frames resized as ComfyUI's Wan nodes resize theirs (centre crop, bilinear)."""
    return fit_frames(images, width, height, "cover")


def _neutral_video(length: int, height: int, width: int, first_frames: torch.Tensor | None) -> torch.Tensor:
    """[length, H, W, 3] grey frames, the leading ones replaced by `first_frames` (as ComfyUI's nodes do)."""
    dtype = first_frames.dtype if first_frames is not None else torch.float32
    video = torch.ones((length, height, width, 3), dtype=dtype) * NEUTRAL_GREY
    if first_frames is not None:
        video[: first_frames.shape[0]] = first_frames[..., :3]
    return video


# ---------------------------------------------------------------- checks


def check_entities(shot: Shot, world: World) -> None:
    missing = [entity.name for entity in shot.entities if entity.name not in world.references]
    if missing:
        known = ", ".join(f"{name} ({ref.kind})" for name, ref in world.references.items()) or "no entities"
        raise BindingError(
            f"Shot {shot.name or shot.prompt[:40]!r} names {', '.join(map(repr, missing))}, "
            f"which the world does not have. The world has: {known}."
        )
    for entity in shot.entities:
        views = world.references[entity.name].views
        if views.ndim != 4 or views.shape[0] == 0 or views.shape[-1] < 3:
            raise BindingError(
                f"Entity {entity.name!r} has views of shape {tuple(views.shape)}; expected "
                "[views, height, width, 3] images. Rebuild the reference from an IMAGE."
            )
        if not torch.isfinite(views).all():
            raise BindingError(f"Entity {entity.name!r} has NaN or infinite pixels; rebuild the reference.")


def check_resolution(vae: Any, width: int, height: int, length: int) -> None:
    multiple = SPATIAL_STRIDE * 2
    if width % multiple or height % multiple or width < multiple or height < multiple:
        raise BindingError(
            f"Wan models need width and height in multiples of {multiple}; {width}x{height} is not. "
            f"Presets that work: {preset_list()}."
        )
    channels = getattr(vae, "latent_channels", LATENT_CHANNELS)
    if channels != LATENT_CHANNELS:
        raise BindingError(
            f"The VAE makes {channels}-channel latents; Wan 2.1-family models (VACE, Phantom, "
            "I2V, FLF, ATI, Wan-Move, T2V) need the 16-channel Wan 2.1 VAE (wan_2.1_vae.safetensors)."
        )
    if not is_wan_frame_count(length):
        below, above = nearest_wan_frame_counts(length)
        raise BindingError(f"Wan clips have 4k+1 frames; {length} is not. Use {below} or {above}.")


def resolve_location_mode(family: str, requested: str, shot: Shot) -> str:
    if requested not in LOCATION_MODES:
        raise BindingError(f"location_as {requested!r} is not one of {', '.join(LOCATION_MODES)}.")
    allowed = LOCATION_MODES_BY_FAMILY[family]
    mode = allowed[0] if requested == "auto" else requested
    if mode not in allowed and shot.names_with_role("location"):
        raise BindingError(
            f"A {family} model cannot take the location {shot.names_with_role('location')[0]!r} as a "
            f"{mode}; it can take it as: {', '.join(allowed)}."
        )
    return mode


def track_format(tracks: str | Mapping[str, torch.Tensor] | None) -> str | None:
    """ "json" for ATI track JSON, "tracks" for a TRACKS dict, None when nothing is connected."""
    if tracks is None or (isinstance(tracks, str) and tracks.strip() in ("", "[]")):
        return None
    return "json" if isinstance(tracks, str) else "tracks"


def tracks_as_json(tracks: str | Mapping[str, torch.Tensor], width: int, height: int, length: int) -> str:
    """ATI track JSON: checked JSON as given, or a TRACKS dict resampled to ATI's 121 ticks over the clip."""
    if isinstance(tracks, str):
        parse_point_lists(tracks, width, height, "The ATI track JSON")
        return tracks
    path = tracks["track_path"].detach().double().cpu().numpy()  # [T, N, 2]
    if path.ndim != 3 or path.shape[-1] != 2 or not np.isfinite(path).all():
        raise BindingError(f"TRACKS track_path must be finite [frames, tracks, 2]; got shape {tuple(path.shape)}.")
    frames = np.arange(path.shape[0], dtype=np.float64)
    ticks = np.clip(ati_times(length), 0, path.shape[0] - 1)
    resampled = [
        [
            {"x": float(np.interp(t, frames, path[:, n, 0])), "y": float(np.interp(t, frames, path[:, n, 1]))}
            for t in ticks
        ]
        for n in range(path.shape[1])
    ]
    return json.dumps(resampled)


def tracks_as_dict(tracks: str | Mapping[str, torch.Tensor], width: int, height: int) -> Mapping[str, torch.Tensor]:
    """A TRACKS dict: as given, or built from point-per-frame JSON (as WanMoveTracksFromCoords reads it)."""
    if not isinstance(tracks, str):
        path = tracks["track_path"]
        if path.ndim != 3 or path.shape[-1] != 2 or not torch.isfinite(path).all():
            raise BindingError(f"TRACKS track_path must be finite [frames, tracks, 2]; got {tuple(path.shape)}.")
        return tracks
    point_lists = parse_point_lists(tracks, width, height, "The track JSON")
    lengths = sorted({len(points) for points in point_lists})
    if len(lengths) > 1:
        raise BindingError(f"Every track needs one point per frame; these tracks have {lengths} points.")
    path = torch.tensor(np.stack(point_lists, axis=1), dtype=torch.float32)
    return {"track_path": path, "track_visibility": torch.ones(path.shape[:2], dtype=torch.bool)}


# ---------------------------------------------------------------- reference gathering


def shot_references(shot: Shot, world: World) -> list[Reference]:
    """The references a shot shows (subjects, props, locations), for scoring what was rendered."""
    return [world.references[e.name] for e in shot.entities if e.role in ("subject", "prop", "location")]


def _bound_names(shot: Shot, location_as: str) -> list[str]:
    """Entities that become reference images, in role order: subjects, props, then a location reference."""
    names = [*shot.names_with_role("subject"), *shot.names_with_role("prop")]
    if location_as == "reference":
        names += shot.names_with_role("location")
    return names


def _reference_stack(ctx: _Context, names: Sequence[str]) -> tuple[list[torch.Tensor], tuple[str, ...]]:
    """One [1, 16, 1, h, w] latent per bound view, and the entity name of each."""
    latents, labels = [], []
    for name in names:
        encoded = reference_latents(
            ctx.world.references[name], ctx.vae, ctx.width, ctx.height, ctx.options.views_per_entity
        )
        for view_latent in encoded:
            latents.append(view_latent[None])
            labels.append(name)
    return latents, tuple(labels)


def _location_plate(ctx: _Context) -> torch.Tensor | None:
    locations = ctx.shot.names_with_role("location")
    if ctx.location_as != "first frame" or not locations:
        return None
    return fitted_view(ctx.world.references[locations[0]], ctx.width, ctx.height)


def _first_frames(ctx: _Context, start_image: torch.Tensor | None, compose: bool) -> torch.Tensor | None:
    """Frames the clip must start from: the given start image (resized), else the location plate,
    with the shot's subjects and props placed on it when `compose`."""
    if start_image is not None:
        return cover_frames(start_image[: ctx.length], ctx.width, ctx.height)
    plate = _location_plate(ctx)
    if not compose:
        return plate
    placed = [
        cutout(e.name, ref.views[0], None if ref.masks is None else ref.masks[0], e.role == "prop")
        for e in ctx.shot.entities
        if e.role in ("subject", "prop")
        for ref in (ctx.world.references[e.name],)
    ]
    if plate is None and not placed:
        return None
    return compose_start_frame(plate, placed, ctx.width, ctx.height, ctx.shot.shot_size)


# ---------------------------------------------------------------- families


def _empty_latent(ctx: _Context, frames: int) -> torch.Tensor:
    return torch.zeros([1, LATENT_CHANNELS, frames, *ctx.latent_hw])


def _bind_vace(ctx: _Context, positive, negative, start_image):
    references, labels = _reference_stack(ctx, _bound_names(ctx.shot, ctx.location_as))
    first = _first_frames(ctx, start_image, compose=False)
    control = _neutral_video(ctx.length, ctx.height, ctx.width, first)
    mask = torch.ones((ctx.length, ctx.height, ctx.width, 1))
    if first is not None:
        mask[: first.shape[0]] = 0.0

    control = control - NEUTRAL_GREY
    inactive = ctx.vae.encode(((control * (1 - mask)) + NEUTRAL_GREY)[..., :3])
    reactive = ctx.vae.encode(((control * mask) + NEUTRAL_GREY)[..., :3])
    frames = torch.cat((inactive, reactive), dim=1)
    trim = len(references)
    if references:
        stacked = torch.cat(references, dim=2)
        stacked = torch.cat([stacked, ctx.latent_format.process_out(torch.zeros_like(stacked))], dim=1)
        frames = torch.cat((stacked, frames), dim=2)

    h, w = ctx.latent_hw
    mask = mask.view(ctx.length, h, SPATIAL_STRIDE, w, SPATIAL_STRIDE).permute(2, 4, 0, 1, 3)
    mask = mask.reshape(SPATIAL_STRIDE * SPATIAL_STRIDE, ctx.length, h, w)
    mask = F.interpolate(mask[None], size=(ctx.latent_length, h, w), mode="nearest-exact")[0]
    if trim:
        mask = torch.cat((mask.new_zeros((mask.shape[0], trim, *mask.shape[2:])), mask), dim=1)
    values = {"vace_frames": [frames], "vace_mask": [mask[None]], "vace_strength": [ctx.options.vace_strength]}
    return (
        set_values(positive, values, append=True),
        set_values(negative, values, append=True),
        {"samples": _empty_latent(ctx, ctx.latent_length + trim)},
        trim,
        labels,
        first,
        {},
    )


def _bind_phantom(ctx: _Context, positive, negative, start_image):
    references, labels = _reference_stack(ctx, _bound_names(ctx.shot, ctx.location_as))
    negative_text = negative
    if references:
        subjects = torch.cat(references, dim=2)
        positive = set_values(positive, {"time_dim_concat": subjects})
        negative_text = set_values(negative, {"time_dim_concat": subjects})
        blank = ctx.latent_format.process_out(torch.zeros_like(subjects))
        negative = set_values(negative, {"time_dim_concat": blank})
    first = _first_frames(ctx, start_image, compose=False)
    return (positive, negative, _in_context_latent(ctx, [], first), 0, labels, first, {"negative_text": negative_text})


def _clip_vision(ctx: _Context, clip_vision: Any, image: torch.Tensor) -> Any:
    return clip_vision.encode_image(image, crop=ctx.options.clip_vision_crop)


def _start_mask(ctx: _Context, first: torch.Tensor) -> torch.Tensor:
    mask = torch.ones((1, 1, ctx.latent_length, *ctx.latent_hw), dtype=first.dtype)
    mask[:, :, : (first.shape[0] - 1) // TEMPORAL_STRIDE + 1] = 0.0
    return mask


def _require_start(ctx: _Context, first: torch.Tensor | None, family: str) -> torch.Tensor:
    if first is None:
        raise BindingError(
            f"A {family} model needs a start frame: connect a start IMAGE, or bind a location "
            "(role 'location', location_as 'first frame') or subjects to compose one from."
        )
    return first


def _bind_i2v(ctx: _Context, positive, negative, start_image, clip_vision):
    first = _require_start(ctx, _first_frames(ctx, start_image, compose=True), "i2v")
    concat = ctx.vae.encode(_neutral_video(ctx.length, ctx.height, ctx.width, first))
    values = {"concat_latent_image": concat, "concat_mask": _start_mask(ctx, first)}
    positive, negative = set_values(positive, values), set_values(negative, values)
    return positive, negative, first, _clip_values(ctx, clip_vision, first[:1])


def _clip_values(ctx: _Context, clip_vision: Any, image: torch.Tensor) -> dict[str, Any]:
    return {} if clip_vision is None else {"clip_vision_output": _clip_vision(ctx, clip_vision, image)}


def _bind_flf(ctx: _Context, positive, negative, start_image, end_image, clip_vision):
    first = _require_start(ctx, _first_frames(ctx, start_image, compose=True), "flf")
    image = _neutral_video(ctx.length, ctx.height, ctx.width, None)
    mask = torch.ones((1, 1, ctx.latent_length * TEMPORAL_STRIDE, *ctx.latent_hw))
    image[: first.shape[0]] = first[..., :3]
    mask[:, :, : first.shape[0] + 3] = 0.0
    last = None
    if end_image is not None:
        last = cover_frames(end_image[-ctx.length :], ctx.width, ctx.height)
        image[-last.shape[0] :] = last[..., :3]
        mask[:, :, -last.shape[0] :] = 0.0
    concat = ctx.vae.encode(image)
    mask = mask.view(1, ctx.latent_length, TEMPORAL_STRIDE, *ctx.latent_hw).transpose(1, 2)
    values = {"concat_latent_image": concat, "concat_mask": mask}
    positive, negative = set_values(positive, values), set_values(negative, values)
    clip = _clip_values(ctx, clip_vision, first[:1])
    if clip and last is not None:
        start_output, end_output = clip["clip_vision_output"], _clip_vision(ctx, clip_vision, last[-1:])
        combined = type(start_output)()
        combined.penultimate_hidden_states = torch.cat(
            [start_output.penultimate_hidden_states, end_output.penultimate_hidden_states], dim=-2
        )
        clip = {"clip_vision_output": combined}
    return positive, negative, first, clip


def _bind_ati(ctx: _Context, positive, negative, start_image, clip_vision, tracks_json: str, maths: TrackMaths):
    first = _require_start(ctx, _first_frames(ctx, start_image, compose=True), "ati")
    video = _neutral_video(ctx.length, ctx.height, ctx.width, first[:1])
    start_latent = ctx.latent_format.process_in(ctx.vae.encode(video))
    mask, patched = maths.ati(
        tracks_json, start_latent, ctx.width, ctx.height, ctx.length, ctx.options.ati_temperature, ctx.options.ati_topk
    )
    values = {"concat_mask": -mask + 1.0, "concat_latent_image": ctx.latent_format.process_out(patched)}
    positive, negative = set_values(positive, values), set_values(negative, values)
    return positive, negative, first, _clip_values(ctx, clip_vision, first[:1])


def _bind_wan_move(ctx: _Context, positive, negative, start_image, clip_vision, tracks, maths: TrackMaths):
    first = _require_start(ctx, _first_frames(ctx, start_image, compose=True), "wan_move")
    concat = ctx.vae.encode(_neutral_video(ctx.length, ctx.height, ctx.width, first))
    mask = _start_mask(ctx, first)
    moved = concat
    if ctx.options.track_strength > 0.0:
        # Like WanMoveTrackToVideo, the negative keeps the same latent object the track maths patched.
        moved = maths.wan_move(tracks, concat, ctx.width, ctx.height, ctx.length, ctx.options.track_strength)
    positive = set_values(positive, {"concat_latent_image": moved, "concat_mask": mask})
    negative = set_values(negative, {"concat_latent_image": concat, "concat_mask": mask})
    return positive, negative, first, _clip_values(ctx, clip_vision, first[:1])


def _in_context_latent(ctx: _Context, references: list[torch.Tensor], first: torch.Tensor | None) -> dict:
    """References then the clip's first frames lead the latent, held fixed by a noise_mask of 0 there."""
    trim = len(references)
    samples = _empty_latent(ctx, trim + ctx.latent_length)
    held = trim
    if references:
        samples[:, :, :trim] = torch.cat(references, dim=2)
    if first is not None:
        first_latent = ctx.vae.encode(first[..., :3])
        held += first_latent.shape[2]
        samples[:, :, trim:held] = first_latent
    latent = {"samples": samples}
    if held:
        noise_mask = torch.ones((1, 1, samples.shape[2], *ctx.latent_hw))
        noise_mask[:, :, :held] = 0.0
        latent["noise_mask"] = noise_mask
    return latent


def _bind_t2v(ctx: _Context, positive, negative, start_image):
    references, labels = _reference_stack(ctx, _bound_names(ctx.shot, ctx.location_as))
    first = _first_frames(ctx, start_image, compose=False)
    return positive, negative, _in_context_latent(ctx, references, first), len(references), labels, first, {}


def bind_shot(
    shot: Shot,
    world: World,
    model: Any,
    vae: Any,
    clip: Any,
    *,
    family: str = "auto",
    tracks: str | Mapping[str, torch.Tensor] | None = None,
    clip_vision: Any = None,
    start_image: torch.Tensor | None = None,
    end_image: torch.Tensor | None = None,
    options: BindOptions | None = None,
    track_maths: TrackMaths | None = None,
) -> BoundShot:
    """Compile `shot` against `world` into conditioning and a latent for the loaded model; see module doc."""
    options = options or BindOptions()
    width, height = shot.size
    length = options.length or shot.frame_count
    check_resolution(vae, width, height, length)
    check_entities(shot, world)
    if options.views_per_entity < 1:
        raise BindingError(f"views_per_entity is {options.views_per_entity}; use 1 or more.")
    formats = track_format(tracks)
    chosen = resolve_family(model, family, formats)
    if chosen in ("ati", "wan_move") and formats is None:
        raise BindingError(f"An {chosen} shot needs tracks: connect TRACKS or ATI track JSON, or bind as i2v.")
    if chosen in ("ati", "wan_move") and track_maths is None:
        raise BindingError(f"Binding {chosen} needs ComfyUI's track maths (track_maths); Bind Shot passes it.")
    ctx = _Context(
        shot,
        world,
        model,
        vae,
        width,
        height,
        length,
        options,
        resolve_location_mode(chosen, options.location_as, shot),
    )

    prompt, negative_text = compile_prompt(shot, world_descriptions(world)), negative_prompt(shot)
    positive, negative = encode_text(clip, prompt), encode_text(clip, negative_text)
    extras: dict[str, Any] = {}
    if chosen == "vace":
        positive, negative, latent, trim, labels, first, extras = _bind_vace(ctx, positive, negative, start_image)
    elif chosen == "phantom":
        positive, negative, latent, trim, labels, first, extras = _bind_phantom(ctx, positive, negative, start_image)
    elif chosen == "t2v":
        positive, negative, latent, trim, labels, first, extras = _bind_t2v(ctx, positive, negative, start_image)
    else:
        if chosen == "i2v":
            positive, negative, first, clip_values = _bind_i2v(ctx, positive, negative, start_image, clip_vision)
        elif chosen == "flf":
            positive, negative, first, clip_values = _bind_flf(
                ctx, positive, negative, start_image, end_image, clip_vision
            )
        elif chosen == "ati":
            positive, negative, first, clip_values = _bind_ati(
                ctx,
                positive,
                negative,
                start_image,
                clip_vision,
                tracks_as_json(tracks, width, height, length),
                track_maths,
            )
        else:
            positive, negative, first, clip_values = _bind_wan_move(
                ctx, positive, negative, start_image, clip_vision, tracks_as_dict(tracks, width, height), track_maths
            )
        positive, negative = set_values(positive, clip_values), set_values(negative, clip_values)
        latent, trim, labels = {"samples": _empty_latent(ctx, ctx.latent_length)}, 0, ()

    return BoundShot(
        positive=positive,
        negative=negative,
        latent=latent,
        trim_latent_frames=trim,
        family=chosen,
        width=width,
        height=height,
        frame_count=length,
        fps=shot.fps,
        prompt=prompt,
        negative_prompt=negative_text,
        reference_names=labels,
        start_frame=first,
        negative_text=extras.get("negative_text"),
        location_as=ctx.location_as,
    )
