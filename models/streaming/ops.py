"""The compositing engine's operations over lazy clips: each records its engine call block by block.

Clip-wide measurements (a screen's purity, colour statistics, grain, softness, a tracked path) are taken when the
operation is recorded, from the same evenly spaced frames the engine would pick over the whole clip, so a clip
computed block by block equals the engine's result on the whole batch. Batches whose frame counts break the
engine's rule (N frames or one) raise as the engine does; a streamed input shorter than the others holds its last
frame.

Given a `device`, a step computes there: it reads there the inputs it computes with, and its outputs stay there for
the next step (reader.py moves each block once); inputs it only measures or checks, or that its CPU part uses (the
shadow's cast, the light wrap's small maps, a placement), it reads on the CPU.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import TypeVar

import numpy as np
import torch

from ..compositing import chroma_key as keying
from ..compositing import color_match, defocus, grain, grain_measure, matte, motion_blur, track_attach, unmix
from ..compositing import device as gpu
from ..compositing.checks import check_choice, frame_count, same_frame_size
from ..compositing.composite import Placement, composite_over, place_element, placement_span
from ..compositing.light_wrap import light_wrap
from ..compositing.shadow import contact_shadow
from .clips import Batch, Clip, sample_picks, step_clips
from .reader import Reader

Result = TypeVar("Result")


def clip_length(**clips: Clip | None) -> int:
    """The frames of a step over these clips: batches must follow the engine's rule (N or one), as it checks."""
    batches = {name: clip for name, clip in clips.items() if clip is not None and isinstance(clip.producer, Batch)}
    if batches:
        frame_count(**{name: clip.frames for name, clip in batches.items()})
    return max(clip.frames for clip in clips.values() if clip is not None)


def sizes_match(*pairs: tuple[str, Clip | None, str, Clip | None]) -> None:
    """The engine's frame-size rule on the clips, when the step is recorded: a streamed node then reports a size
    mismatch when it runs, not when a sink pulls its frames."""
    for name, clip, other_name, other in pairs:
        if clip is not None and other is not None:
            same_frame_size(name, (clip.height, clip.width), other_name, (other.height, other.width))


def measured(
    clips: Sequence[Clip | None], picks: Sequence[int], measure: Callable[..., Result], span: int = 1
) -> list[Result]:
    """measure(*frames) at each picked frame index: one frame of each clip (None for a clip left out), or with
    `span` > 1 that many frames from it, at a time; one reader serves all the clips, so what they share upstream
    is computed once."""
    reader = Reader([clip for clip in clips if clip is not None])
    results = []
    try:
        for index in picks:
            blocks = [None if clip is None else reader.read(clip, index, index + span) for clip in clips]
            results.append(measure(*[block if span > 1 or block is None else block[0] for block in blocks]))
            reader.trim()
    finally:
        reader.close()
    return results


def sampled(clip: Clip | None, frames: int, count: int) -> torch.Tensor | None:
    """The frames the engine would measure of a `frames`-long clip (count spread frames), or None."""
    if clip is None:
        return None
    return torch.stack(measured([clip], sample_picks(frames, count), lambda frame: frame.clone()))


def _numpy(frame: torch.Tensor | None):
    return None if frame is None else frame.numpy()


def mask_shape(clip: Clip) -> tuple[int, int]:
    return clip.frame_shape[:2]


def keyed(
    image: Clip,
    clean_plate: Clip | None,
    screen: str,
    balance: float,
    device: torch.device | None = None,
    **levels: float,
) -> list[Clip]:
    """Chroma Key: (despilled image, matte), keyed on `device` when one is given; `levels` are clip_black, clip_white
    and spill."""
    frames = clip_length(image=image, clean_plate=clean_plate)
    sizes_match(("clean_plate", clean_plate, "image", image))
    source = clean_plate or image
    channel = keying.SCREEN_CHANNEL[check_choice("screen", screen, tuple(keying.SCREEN_CHANNEL))]
    picks = list(range(frames))[keying.purity_frames(frames)]
    sample = np.stack(measured([source], picks, lambda frame: frame[::4, ::4].numpy().copy()))
    purity = keying.purity_of(sample, channel, balance)

    def work(span: slice, block: torch.Tensor, plate: torch.Tensor | None, host: torch.Tensor | None):
        return keying.chroma_key(
            block, screen, balance, clean_plate=plate, purity=purity, device=device, host_image=host, **levels
        )

    # Without a clean plate the image twice: on the device for the key, on the CPU for the screen model's grid.
    modelled = image if device is not None and clean_plate is None else None
    inputs, shapes, places = [image, clean_plate, modelled], [image.frame_shape, mask_shape(image)], [device] * 2
    return step_clips(work, inputs, shapes, frames=frames, reads=[device, device, None], places=places)


def refined(image: Clip, mask: Clip, settings: matte.MatteSettings, device: torch.device | None = None) -> list[Clip]:
    """Matte Refine: (despilled image, matte, un-mixed foreground), refined on `device` when one is given; one frame
    of context either side for the temporal smoothing."""
    frames = clip_length(image=image, mask=mask)
    sizes_match(("mask", mask, "image", image))
    context = 1 if settings.temporal > 0 else 0

    def work(span: slice, block: torch.Tensor, rough: torch.Tensor):
        out, alpha = matte.refine_matte(block, rough, settings, device=device)
        return out, alpha, unmix.unmix_foreground(out, alpha, settings.radius, device=device)

    shapes, places = [image.frame_shape, mask_shape(image), image.frame_shape], [device] * 3
    return step_clips(
        work, [image, mask], shapes, frames=frames, before=context, after=context, reads=[device] * 2, places=places
    )


def region_around(mask: Clip, pixels: int) -> Clip:
    """The plate region around where the element lands (see color_match.region_around)."""
    return step_clips(lambda span, block: color_match.region_around(block, pixels), [mask], [mask.frame_shape])[0]


def color_matched(
    element: Clip,
    plate: Clip,
    method: str,
    strength: float,
    element_mask: Clip | None,
    plate_region: Clip | None,
    device: torch.device | None = None,
) -> Clip:
    """Color Match: the graded element, graded on `device` when one is given."""
    frames = clip_length(element=element, plate=plate, element_mask=element_mask, plate_region=plate_region)
    sizes_match(("element_mask", element_mask, "element", element), ("plate_region", plate_region, "plate", plate))
    check_choice("method", method, color_match.METHODS)
    lab = method == "reinhard_lab"
    picks = sample_picks(frames, color_match.SAMPLE_FRAMES)

    def pixels(frame: torch.Tensor, weight: torch.Tensor | None) -> np.ndarray:
        return color_match.frame_pixels(frame.numpy(), _numpy(weight), lab)

    # One reader for both sides: a plate region drawn around the element's matte shares the element's frames.
    both = measured([element, element_mask, plate, plate_region], picks, lambda *f: (pixels(*f[:2]), pixels(*f[2:])))
    source, target = (color_match.joined_pixels(list(side)) for side in zip(*both, strict=True))
    transform = color_match.transform_from_pixels(source, target, method)

    def work(span: slice, block, plate_block, mask_block, region_block) -> torch.Tensor:
        return color_match.match_colors(
            block, plate_block, method, strength, mask_block, region_block, transform=transform, device=device
        )

    inputs, places = [element, plate, element_mask, plate_region], [device, None, None, None]
    return step_clips(work, inputs, [element.frame_shape], frames=frames, reads=places, places=[device])[0]


def grain_matched(
    element: Clip,
    plate: Clip,
    strength: float,
    seed: int,
    element_mask: Clip | None,
    plate_region: Clip | None,
    device: torch.device | None = None,
) -> Clip:
    """Grain Match: the element with the grain it lacks, added on `device` when one is given (the field moved
    there once for the whole clip)."""
    frames = clip_length(element=element, plate=plate, element_mask=element_mask, plate_region=plate_region)
    sizes_match(("element_mask", element_mask, "element", element), ("plate_region", plate_region, "plate", plate))
    for name, clip in (("element", element), ("plate", plate)):
        grain_measure.require_measurable(name, clip.height, clip.width)
    picks, pairs = grain.measure_picks(frames), grain.measure_picks(frames - 1) if frames > 1 else []

    # A frame measured alone that lies in a measured pair is read with the pair (the picks spread alike, so usually
    # all are): one reader computes each frame once.
    owner = {pick: next((i for i, first in enumerate(pairs) if first <= pick <= first + 1), None) for pick in picks}
    inside = [[pick - first for pick in picks if owner[pick] == i] for i, first in enumerate(pairs)]
    alone = [pick for pick in picks if owner[pick] is None]

    def profile(clip: Clip, mask: Clip | None) -> grain.GrainProfile:
        offsets = iter(inside)

        def pair_and_frames(frames: torch.Tensor, masks: torch.Tensor | None):
            chosen = [(frames[k], None if masks is None else masks[k]) for k in next(offsets)]
            return grain.temporal_pair(frames, masks), [grain.spatial_frame(*frame) for frame in chosen]

        together = measured([clip, mask], pairs, pair_and_frames, span=2)
        spatial = [frame for _, frames in together for frame in frames] + measured(
            [clip, mask], alone, grain.spatial_frame
        )
        return grain.profile_of(spatial, [temporal for temporal, _ in together])

    profiles = profile(plate, plate_region), profile(element, element_mask)
    field = grain.grain_to_add(*profiles, strength, grain.unit_noise(element.height, element.width, seed))
    field = field if device is None else gpu.upload(field, device)

    def work(span: slice, block, plate_block, mask_block, region_block) -> torch.Tensor:
        return grain.match_grain(
            block,
            plate_block,
            strength,
            mask_block,
            region_block,
            seed,
            field=field,
            first_frame=span.start,
            device=device,
        )

    inputs, places = [element, plate, element_mask, plate_region], [device, None, None, None]
    return step_clips(work, inputs, [element.frame_shape], frames=frames, reads=places, places=[device])[0]


def light_wrapped(
    element: Clip, alpha: Clip, plate: Clip, radius: float, strength: float, device: torch.device | None = None
) -> Clip:
    """Light Wrap: the element with the plate's light over its edges, wrapped on `device` when one is given."""
    frames = clip_length(element=element, matte=alpha, plate=plate)
    sizes_match(("matte", alpha, "element", element), ("plate", plate, "element", element))

    def work(span: slice, block, matte_block, plate_block, host_matte) -> torch.Tensor:
        return light_wrap(block, matte_block, plate_block, radius, strength, device=device, host_matte=host_matte)

    # The matte twice: on the device for the wrap, on the CPU for the small maps (made there, with the plate's).
    inputs, places = [element, alpha, plate, alpha if device is not None else None], [device, device, None, None]
    return step_clips(work, inputs, [element.frame_shape], frames=frames, reads=places, places=[device])[0]


def defocus_sigma(element: Clip, element_mask: Clip, plate: Clip, plate_region: Clip | None) -> float:
    """The blur (pixels) that matches the element's softness to the plate's, measured as the engine does."""
    frames = clip_length(element=element, element_mask=element_mask, plate=plate, plate_region=plate_region)
    sizes_match(("element_mask", element_mask, "element", element), ("plate_region", plate_region, "plate", plate))
    count = defocus.MEASURED_FRAMES
    return defocus.estimate_defocus(
        sampled(element, frames, count),
        sampled(plate, frames, count),
        sampled(element_mask, frames, count),
        sampled(plate_region, frames, count),
    )


def defocused(
    element: Clip, element_mask: Clip, sigma: float, shape: str, device: torch.device | None = None
) -> list[Clip]:
    """Defocus Match: (softened element, softened matte), blurred on `device` when one is given."""
    frames = clip_length(element=element, element_mask=element_mask)
    sizes_match(("element_mask", element_mask, "element", element))

    def work(span: slice, block, mask_block):
        return defocus.defocus(block, mask_block, sigma, shape, device=device)

    shapes = [element.frame_shape, mask_shape(element)]
    places = [device, device]
    return step_clips(work, [element, element_mask], shapes, frames=frames, reads=places, places=places)


def shadowed(
    plate: Clip, alpha: Clip, *settings: float, ground_line: float | None = None, device: torch.device | None = None
) -> list[Clip]:
    """Contact Shadow: (shadowed plate, shadow); `settings` are direction, distance, softness and opacity; the plate
    darkened on `device` when one is given."""
    frames = clip_length(plate=plate, matte=alpha)
    sizes_match(("matte", alpha, "plate", plate))

    def work(span: slice, plate_block, matte_block):
        return contact_shadow(plate_block, matte_block, *settings, ground_line, device=device)

    shapes, places = [plate.frame_shape, mask_shape(plate)], [device, None]  # the shadow is cast on the CPU
    return step_clips(work, [plate, alpha], shapes, frames=frames, reads=places, places=places)


def motion_blurred(
    element: Clip,
    element_mask: Clip,
    velocity: torch.Tensor | None,
    shutter: float,
    device: torch.device | None = None,
) -> list[Clip]:
    """Motion Blur: (blurred element, blurred matte), blurred on `device` when one is given. Without a velocity it
    comes from the matte's movement, by central differences: one frame of context either side."""
    frames = clip_length(element=element, element_mask=element_mask)
    sizes_match(("element_mask", element_mask, "element", element))
    context = 1 if velocity is None else 0
    per_frame = velocity is not None and velocity.reshape(-1, 2).shape[0] == frames > 1

    def work(span: slice, block, mask_block):
        moving = velocity.reshape(-1, 2)[span] if per_frame else velocity
        return motion_blur.motion_blur(block, mask_block, moving, shutter, device=device)

    shapes, places = [element.frame_shape, mask_shape(element)], [device, device]
    return step_clips(
        work, [element, element_mask], shapes, frames=frames, before=context, after=context, reads=places, places=places
    )


def placed(
    element: Clip,
    element_mask: Clip,
    placement: Placement,
    frames: int,
    size: tuple[int, int],
    fps: Fraction | None = None,
) -> list[Clip]:
    """Track Attach's placing: (element, matte) at plate size, frame by frame along the placement."""
    height, width = size
    sizes_match(("element_mask", element_mask, "element", element))

    def work(span: slice, block, mask_block):
        return place_element(block, mask_block, placement_span(placement, span, frames), height, width)

    shapes = [(height, width, 3), (height, width)]
    return step_clips(work, [element, element_mask], shapes, fps=fps, frames=frames)


def tracked_point(plate: Clip, x: float, y: float) -> torch.Tensor:
    """The plate point's path [frames, 2], the plate read once in order."""
    reader = Reader([plate])

    def frames():
        for index in range(plate.frames):
            yield reader.read(plate, index, index + 1)[0]
            reader.trim()

    try:
        return track_attach.track_point(frames(), plate.frames, plate.height, plate.width, x, y)
    finally:
        reader.close()


def composited(
    plate: Clip,
    element: Clip,
    element_mask: Clip,
    plate_mask: Clip | None,
    placement: Placement | None,
    device: torch.device | None = None,
) -> list[Clip]:
    """Composite Over: (composite, combined alpha), composited on `device` when one is given."""
    frames = clip_length(plate=plate, element=element, element_mask=element_mask, plate_mask=plate_mask)
    unplaced = [("element", element, "plate", plate)] if placement is None else []
    sizes_match(
        ("element_mask", element_mask, "element", element), ("plate_mask", plate_mask, "plate", plate), *unplaced
    )

    def work(span: slice, plate_block, block, mask_block, plate_mask_block):
        where = None if placement is None else placement_span(placement, span, frames)
        return composite_over(plate_block, block, mask_block, plate_mask_block, where, device=device)

    shapes, placed_on = [plate.frame_shape, mask_shape(plate)], None if placement is not None else device
    reads = [device, placed_on, placed_on, device]  # a placement is made on the CPU
    return step_clips(
        work, [plate, element, element_mask, plate_mask], shapes, frames=frames, reads=reads, places=[device, device]
    )


def mapped(clip: Clip, function: Callable[[torch.Tensor], torch.Tensor], shape: tuple[int, ...]) -> Clip:
    """A frame-by-frame function of a clip (an inverted mask, a grey picture of a matte)."""
    return step_clips(lambda span, block: function(block), [clip], [shape])[0]
