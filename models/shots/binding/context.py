"""What every family's binder shares: options, the binding context, results and the common steps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import torch

from ...motion.tracks import TrackSet
from ...shared.wan import WAN_2_1, ModelRules, latent_frame_count
from ...world.encoding import default_fit, encode_reference
from ...world.entities import Reference, World
from ...world.preprocess import fit_frames
from ..shot import Shot
from ..start_frame import compose_start_frame, cutout
from .performance import Performance

NEUTRAL_GREY = 0.5

Conditioning = list


class BindingError(ValueError):
    """A shot that cannot be bound as asked; the message says what would work."""


class TrackMaths(Protocol):
    """ComfyUI's track conditioning maths (comfy_extras.nodes_wan / nodes_wanmove), passed in from nodes/."""

    def ati(
        self,
        points: np.ndarray,
        start_latent: torch.Tensor,
        width: int,
        height: int,
        length: int,
        temperature: float,
        topk: int,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(motion mask, motion-patched latent) from ATI samples [N, 121, 1, 3] over a model-scaled start latent."""
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
        """The start latent with track features moved along per-frame TRACKS (Wan-Move)."""
        ...


@dataclass(frozen=True)
class BindOptions:
    """How to bind, beyond the shot itself. `length` overrides the shot's frame count (for segments);
    `video_frame_offset` is WanAnimateToVideo's: the performance frame the clip's new frames start at (the frames
    it continues from, a start image, are read back before it)."""

    location_as: str = "auto"
    views_per_entity: int = 1
    vace_strength: float = 1.0
    track_strength: float = 1.0
    ati_temperature: float = 220.0
    ati_topk: int = 2
    clip_vision_crop: bool = False
    length: int | None = None
    video_frame_offset: int = 0


@dataclass(frozen=True)
class BindInputs:
    """What the graph connected besides shot and world: tracks, CLIP vision, start and end frames, a performance,
    and the shot's latent so far (its segments before this one, sampled and concatenated), which a family that
    continues from latents rather than frames reads (S2V)."""

    tracks: TrackSet | None = None
    clip_vision: Any = None
    start_image: torch.Tensor | None = None
    end_image: torch.Tensor | None = None
    track_maths: TrackMaths | None = None
    performance: Performance | None = None
    video_latent: torch.Tensor | None = None


@dataclass
class FamilyBinding:
    """One family's answer: conditioning, latent, leading reference frames to trim, and what the clip starts from."""

    positive: Conditioning
    negative: Conditioning
    latent: dict[str, torch.Tensor]
    trim: int = 0
    reference_names: tuple[str, ...] = ()
    first: torch.Tensor | None = None
    negative_text: Conditioning | None = None
    notes: dict[str, Any] = field(default_factory=dict)  # what the report adds for this family (a camera path)
    lead_latent: torch.Tensor | None = None  # latent frames so far decoded before the sampled ones (S2V's overlap)


@dataclass
class BindContext:
    """One shot being bound: its world, the loaded model and VAE, its size, and the options."""

    shot: Shot
    world: World
    model: Any
    vae: Any
    width: int
    height: int
    length: int
    options: BindOptions
    location_as: str
    inputs: BindInputs
    rules: ModelRules = WAN_2_1

    @property
    def latent_length(self) -> int:
        return latent_frame_count(self.length)

    @property
    def latent_hw(self) -> tuple[int, int]:
        return self.height // self.rules.spatial_stride, self.width // self.rules.spatial_stride

    @property
    def latent_format(self) -> Any:
        return getattr(self.model, "model", self.model).latent_format

    def empty_latent(self, frames: int) -> torch.Tensor:
        return torch.zeros([1, self.rules.latent_channels, frames, *self.latent_hw])

    @property
    def clip_start(self) -> int:
        """The shot frame the clip's first frame is: ``video_frame_offset`` less the frames it continues from
        (a long shot's later segment reads its performance, voice or driving clip, from there)."""
        continued = self.inputs.start_image
        return max(0, self.options.video_frame_offset - (0 if continued is None else continued.shape[0]))


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
    """[V, C, 1, h, w]: the first `views` views of a reference, fitted to the frame and VAE-encoded one by one.

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


def neutral_video(ctx: BindContext, first_frames: torch.Tensor | None) -> torch.Tensor:
    """[length, H, W, 3] grey frames, the leading ones replaced by `first_frames` (as ComfyUI's nodes do)."""
    dtype = first_frames.dtype if first_frames is not None else torch.float32
    video = torch.ones((ctx.length, ctx.height, ctx.width, 3), dtype=dtype) * NEUTRAL_GREY
    if first_frames is not None:
        video[: first_frames.shape[0]] = first_frames[..., :3]
    return video


def bound_names(shot: Shot, location_as: str) -> list[str]:
    """Entities that become reference images, in role order: subjects, props, then a location reference."""
    names = [*shot.names_with_role("subject"), *shot.names_with_role("prop")]
    if location_as == "reference":
        names += shot.names_with_role("location")
    return names


def reference_stack(ctx: BindContext) -> tuple[list[torch.Tensor], tuple[str, ...]]:
    """One [1, C, 1, h, w] latent per bound view, and the entity name of each."""
    latents, labels = [], []
    for name in bound_names(ctx.shot, ctx.location_as):
        encoded = reference_latents(
            ctx.world.references[name], ctx.vae, ctx.width, ctx.height, ctx.options.views_per_entity
        )
        for view_latent in encoded:
            latents.append(view_latent[None])
            labels.append(name)
    return latents, tuple(labels)


def sole_subject(ctx: BindContext, family: str) -> tuple[str, torch.Tensor]:
    """The shot's one subject and its first view [1, H, W, 3], for a family that animates one character."""
    subjects = ctx.shot.names_with_role("subject")
    if len(subjects) != 1:
        raise BindingError(
            f"{family} animates one character, but the shot has {len(subjects)} subjects "
            f"({', '.join(subjects) or 'none'}); give it exactly one subject (others can be props or words)."
        )
    return subjects[0], ctx.world.references[subjects[0]].views[:1, ..., :3]


def _location_plate(ctx: BindContext) -> torch.Tensor | None:
    locations = ctx.shot.names_with_role("location")
    if ctx.location_as != "first frame" or not locations:
        return None
    return fitted_view(ctx.world.references[locations[0]], ctx.width, ctx.height)


def first_frames(ctx: BindContext, compose: bool) -> torch.Tensor | None:
    """Frames the clip must start from: the given start image (resized), else the location plate,
    with the shot's subjects and props placed on it when `compose`."""
    start_image = ctx.inputs.start_image
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


def in_context_latent(ctx: BindContext, references: Sequence[torch.Tensor], first: torch.Tensor | None) -> dict:
    """References then the clip's first frames lead the latent, held fixed by a noise_mask of 0 there."""
    trim = len(references)
    samples = ctx.empty_latent(trim + ctx.latent_length)
    held = trim
    if references:
        samples[:, :, :trim] = torch.cat(list(references), dim=2)
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


def start_mask(ctx: BindContext, first: torch.Tensor) -> torch.Tensor:
    """concat_mask [1, 1, T, h, w]: 0 over the latent frames the start frames fill."""
    mask = torch.ones((1, 1, ctx.latent_length, *ctx.latent_hw), dtype=first.dtype)
    mask[:, :, : latent_frame_count(first.shape[0])] = 0.0
    return mask
