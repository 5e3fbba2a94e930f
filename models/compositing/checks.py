"""Input checks for the compositing engine, run at every entry on every call: types, shapes, frame counts, finite
values and scalar ranges, with messages that name the input and say how to fix it.

Frame counts follow one rule in every operation: each IMAGE/MASK batch an operation takes has either the clip's
frame count N or a single frame, which stands for every frame; the result has N frames (`clip_frames`).
"""

from __future__ import annotations

import contextlib
import contextvars
import math
from collections.abc import Iterator, Sequence

import numpy as np
import torch

from .chunking import chunk_slices

INTEGER_SCALE = {torch.uint8: 255.0}
"""Integer pixel types accepted, with the value that means 1.0 (8-bit images as PIL and OpenCV load them)."""


def new_frames(*shape: int) -> torch.Tensor:
    """An uninitialised float32 output batch (a normal tensor even under inference mode, so callers may edit it).

    numpy allocates it: numpy asks Linux for huge pages on large buffers, which makes the first write to each output
    frame several times cheaper than on torch's 4 KiB pages (about 10 ms a 720p RGB frame on a virtual machine)."""
    with torch.inference_mode(False):
        return torch.from_numpy(np.empty(shape, np.float32))


_SOURCES_CHECKED: contextvars.ContextVar[bool] = contextvars.ContextVar("sources_checked", default=False)


@contextlib.contextmanager
def sources_checked() -> Iterator[None]:
    """Within it `ensure_finite` passes without scanning: for engine calls on frames a streaming step computes
    from sources checked when they were recorded (IMAGE and MASK batches) or decoded from 8-bit video, through
    engine steps whose results are finite, which no other code can edit in between."""
    token = _SOURCES_CHECKED.set(True)
    try:
        yield
    finally:
        _SOURCES_CHECKED.reset(token)


def ensure_finite(name: str, x: torch.Tensor) -> None:
    """Raise if `x` holds NaN or infinity, naming the first bad frame.

    A frame's sum is finite exactly when its values are (for values of image range), so one read pass per chunk
    suffices.
    Every call scans (outside `sources_checked`): a tensor's provenance says nothing about what a later in-place edit
    or a NaN-producing node did.
    """
    if _SOURCES_CHECKED.get():
        return
    for frames in chunk_slices(x.shape[0], 8):
        sums = x[frames].reshape(frames.stop - frames.start, -1).sum(dim=1)
        bad = ~torch.isfinite(sums)
        if bad.any():
            first = frames.start + int(bad.nonzero()[0])
            raise ValueError(
                f"{name} contains NaN or infinite values (first at frame {first}). "
                "Fix or clamp the node that produced it before compositing."
            )


def _as_float(name: str, x: torch.Tensor, device: torch.device | None) -> torch.Tensor:
    """Float32 pixels: 8-bit integers scaled to 0..1, other integer or boolean types refused. On the CPU, unless a
    step computes on a `device` and the pixels already lie on one (a block a streamed chain keeps there)."""
    x = x.detach()
    where = x.device if device is not None and x.device.type != "cpu" else "cpu"
    if x.dtype in INTEGER_SCALE:
        return x.to(where, torch.float32) / INTEGER_SCALE[x.dtype]
    if not x.dtype.is_floating_point:
        raise ValueError(f"{name} has {x.dtype} pixels; give float values in 0..1 (or 8-bit 0..255).")
    ensure_finite(name, x)
    return x.to(where, torch.float32)


def as_image(name: str, x: torch.Tensor, device: torch.device | None = None) -> torch.Tensor:
    """An IMAGE batch as contiguous float32 [frames, height, width, 3] on the CPU (or on the device it lies on, when
    the step computes on `device`: see `_as_float`); an alpha channel, if any, is dropped."""
    if not isinstance(x, torch.Tensor) or x.ndim != 4 or x.shape[-1] not in (3, 4):
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{name} must be an IMAGE batch [frames, height, width, 3]; got {shape}.")
    if x.shape[0] == 0:
        raise ValueError(f"{name} has no frames.")
    return _as_float(name, x[..., :3], device).contiguous()


def as_mask(name: str, m: torch.Tensor, device: torch.device | None = None) -> torch.Tensor:
    """A MASK batch as contiguous float32 [frames, height, width] clamped to 0..1, placed as `as_image` places
    frames; [height, width] becomes one frame.

    Coverage outside 0..1 has no meaning, and letting it through turns later blends negative or above white.
    """
    if not isinstance(m, torch.Tensor) or m.ndim not in (2, 3):
        shape = tuple(m.shape) if isinstance(m, torch.Tensor) else type(m).__name__
        raise ValueError(f"{name} must be a MASK [frames, height, width]; got {shape}.")
    if m.numel() == 0:
        raise ValueError(f"{name} has no frames.")
    m = _as_float(name, m[None] if m.ndim == 2 else m, device)
    low, high = torch.aminmax(m)
    if low < 0.0 or high > 1.0:  # copied only when needed: a clip's mask can be gigabytes
        m = m.clamp(0.0, 1.0)
    return m.contiguous()


def check_number(
    name: str, value: float, low: float | None = None, high: float | None = None, *, above: float | None = None
) -> float:
    """`value` as a float, raising unless it is finite, at least `low`, at most `high` and strictly above `above`."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number; got {value!r}.") from None
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number; got {number}.")
    too_low = (low is not None and number < low) or (above is not None and number <= above)
    if too_low or (high is not None and number > high):
        lower = f"above {above}" if above is not None else f"at least {low}" if low is not None else ""
        upper = f"at most {high}" if high is not None else ""
        raise ValueError(f"{name} must be {' and '.join(part for part in (lower, upper) if part)}; got {number}.")
    return number


def check_choice(name: str, value: str, options: Sequence[str]) -> str:
    """Raise unless `value` is one of `options`."""
    if value not in options:
        raise ValueError(f"{name} must be one of {', '.join(repr(o) for o in options)}; got {value!r}.")
    return value


def same_size(name: str, x: torch.Tensor, other_name: str, other: torch.Tensor) -> None:
    """Raise unless two frame batches have the same height and width."""
    same_frame_size(name, tuple(x.shape[1:3]), other_name, tuple(other.shape[1:3]))


def same_frame_size(name: str, size: tuple[int, int], other_name: str, other: tuple[int, int]) -> None:
    """`same_size` on (height, width) pairs, for inputs whose frames are not at hand yet (lazy clips)."""
    if tuple(size) != tuple(other):
        raise ValueError(
            f"{name} is {size[1]}x{size[0]} but {other_name} is {other[1]}x{other[0]}; "
            f"scale one of them (e.g. with an Upscale Image node) so the sizes match."
        )


def clip_frames(**batches: torch.Tensor | None) -> int:
    """The clip's frame count N: the largest of the batches' (None ones skipped), each of which must have N or 1."""
    return frame_count(**{name: None if batch is None else batch.shape[0] for name, batch in batches.items()})


def frame_count(**counts: int | None) -> int:
    """`clip_frames` on the inputs' frame counts, for inputs whose frames are not at hand yet (lazy clips)."""
    given = {name: count for name, count in counts.items() if count is not None}
    frames = max(given.values())
    for name, count in given.items():
        if count not in (1, frames):
            biggest = max(given, key=given.get)
            raise ValueError(
                f"{name} has {count} frames but {biggest} has {frames}; give every input the same number of frames "
                "or a single frame (which is used for every frame)."
            )
    return frames


def fit_frames(name: str, x: torch.Tensor, frames: int) -> torch.Tensor:
    """`x` with `frames` frames: unchanged when it already has them, a single frame repeated (as a view) otherwise."""
    if x.shape[0] == frames:
        return x
    if x.shape[0] == 1:
        return x.expand(frames, *x.shape[1:])
    raise ValueError(
        f"{name} has {x.shape[0]} frames but {frames} are needed; give it the same number of frames or a single frame."
    )


def optional_mask(
    name: str, mask: torch.Tensor | None, image_name: str, image: torch.Tensor, device: torch.device | None = None
) -> torch.Tensor | None:
    """An optional MASK checked against the IMAGE it selects pixels of (same size, same frames or one frame)."""
    if mask is None:
        return None
    mask = fit_frames(name, as_mask(name, mask, device), image.shape[0])
    same_size(name, mask, image_name, image)
    return mask


def element_over_plate(
    element: torch.Tensor,
    plate: torch.Tensor,
    element_mask: torch.Tensor | None,
    plate_region: torch.Tensor | None,
    device: torch.device | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    """An element and the plate it is matched to, with their optional masks: checked, placed as `as_image` places
    frames for a step computing on `device`, and brought to one frame count by the engine's rule (a single frame
    serves every frame)."""
    element, plate = as_image("element", element, device), as_image("plate", plate, device)
    element_mask = None if element_mask is None else as_mask("element_mask", element_mask, device)
    plate_region = None if plate_region is None else as_mask("plate_region", plate_region, device)
    frames = clip_frames(element=element, plate=plate, element_mask=element_mask, plate_region=plate_region)
    element, plate = fit_frames("element", element, frames), fit_frames("plate", plate, frames)
    element_mask = optional_mask("element_mask", element_mask, "element", element, device)
    plate_region = optional_mask("plate_region", plate_region, "plate", plate, device)
    return element, plate, element_mask, plate_region
