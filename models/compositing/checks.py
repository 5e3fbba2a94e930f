"""Input checks for the compositing engine: shapes, frame counts and finite values, with messages that say how to fix them."""

from __future__ import annotations

import weakref

import torch

from .chunking import chunk_slices

_FINITE: dict[int, tuple[weakref.ref, int]] = {}
"""Tensors known to hold only finite values (by id, with a weak reference and their version counter when checked)."""


def _version(tensor: torch.Tensor) -> int | None:
    """The tensor's in-place edit counter; None for inference tensors (made under torch.inference_mode), which have none."""
    return None if tensor.is_inference() else tensor._version


def mark_finite(*tensors: torch.Tensor) -> None:
    """Record tensors the engine produced (finite by construction) so the next node in a graph need not re-scan them.

    Inference tensors cannot be tracked for later in-place edits, so they are always scanned.
    """
    for tensor in tensors:
        version = _version(tensor)
        if version is None:
            continue
        key = id(tensor)
        if key not in _FINITE:
            weakref.finalize(tensor, _FINITE.pop, key, None)
        _FINITE[key] = (weakref.ref(tensor), version)


def _known_finite(tensor: torch.Tensor) -> bool:
    """True when this very tensor was checked or produced by the engine and not modified in place since."""
    entry = _FINITE.get(id(tensor))
    return entry is not None and entry[0]() is tensor and entry[1] == _version(tensor)


def new_frames(*shape: int) -> torch.Tensor:
    """An uninitialised float32 output batch that is a normal tensor even under inference mode.

    Its in-place edit counter lets `mark_finite` vouch for it, so the next step of a graph need not re-scan it.
    """
    with torch.inference_mode(False):
        return torch.empty(*shape)


def mark_finite_all(*tensors: torch.Tensor) -> tuple[torch.Tensor, ...] | torch.Tensor:
    """`mark_finite` for an engine function's results, returned as they came (a single one unwrapped)."""
    mark_finite(*tensors)
    return tensors[0] if len(tensors) == 1 else tensors


def ensure_finite(name: str, x: torch.Tensor) -> None:
    """Raise if `x` holds NaN or infinity, naming the first bad frame.

    A frame's sum is finite exactly when its values are (for values of image range), so one read pass per chunk suffices;
    a tensor already checked, and not modified since, is not scanned again.
    """
    if _known_finite(x):
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
    mark_finite(x)


def as_image(name: str, x: torch.Tensor) -> torch.Tensor:
    """An IMAGE batch as contiguous float32 CPU [frames, height, width, 3]; an alpha channel, if any, is dropped."""
    if not isinstance(x, torch.Tensor) or x.ndim != 4 or x.shape[-1] not in (3, 4):
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{name} must be an IMAGE batch [frames, height, width, 3]; got {shape}.")
    if x.shape[0] == 0:
        raise ValueError(f"{name} has no frames.")
    ensure_finite(name, x)
    return x[..., :3].detach().to("cpu", torch.float32).contiguous()


def as_mask(name: str, m: torch.Tensor) -> torch.Tensor:
    """A MASK batch as contiguous float32 CPU [frames, height, width]; a single [height, width] mask becomes one frame."""
    if not isinstance(m, torch.Tensor) or m.ndim not in (2, 3):
        shape = tuple(m.shape) if isinstance(m, torch.Tensor) else type(m).__name__
        raise ValueError(f"{name} must be a MASK [frames, height, width]; got {shape}.")
    ensure_finite(name, m)
    return (m[None] if m.ndim == 2 else m).detach().to("cpu", torch.float32).contiguous()


def same_size(name: str, x: torch.Tensor, other_name: str, other: torch.Tensor) -> None:
    """Raise unless two frame batches have the same height and width."""
    if tuple(x.shape[1:3]) != tuple(other.shape[1:3]):
        raise ValueError(
            f"{name} is {x.shape[2]}x{x.shape[1]} but {other_name} is {other.shape[2]}x{other.shape[1]}; "
            f"scale one of them (e.g. with an Upscale Image node) so the sizes match."
        )


def fit_frames(name: str, x: torch.Tensor, frames: int) -> torch.Tensor:
    """`x` with `frames` frames: unchanged when it already has them, a single frame repeated (as a view) otherwise."""
    if x.shape[0] == frames:
        return x
    if x.shape[0] == 1:
        return x.expand(frames, *x.shape[1:])
    raise ValueError(
        f"{name} has {x.shape[0]} frames but {frames} are needed; give it the same number of frames or a single frame."
    )


def optional_mask(name: str, mask: torch.Tensor | None, image_name: str, image: torch.Tensor) -> torch.Tensor | None:
    """An optional MASK checked against the IMAGE it selects pixels of (same size, same frames or one frame)."""
    if mask is None:
        return None
    mask = fit_frames(name, as_mask(name, mask), image.shape[0])
    same_size(name, mask, image_name, image)
    return mask
