"""Grain: measure a plate's grain where the picture is flat (or from its temporal residual on video), per channel
with its cross-channel correlation, in a fine and a coarse band (its size), and add to an element the grain it lacks.

Grain is modelled as two independent Gaussian fields, each with its own 3x3 colour covariance: a fine one (white at
pixel scale) and a coarse one (white at half size, bilinearly enlarged). Measurement takes the covariance of a
high-pass residual at full and half size over the flattest blocks of the frame (chosen by a smoothed copy, where grain
has all but gone and only the picture's texture is left; the median over them, so the textured few do not count), so
texture is not read as grain; on video the same is taken of each frame's difference from its motion-compensated
successor (`grain_measure`). A calibration on synthetic fields of each band maps the measured covariances back to the
two bands', so measuring and synthesising agree by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np
import torch

from . import device as gpu
from . import frame_ops
from .checks import check_number, element_over_plate, new_frames
from .chunking import Progress, chunk_slices, each_frame, frame_threads, map_frames, report, started
from .color_match import psd_sqrt
from .grain_measure import band_covariances, temporal_residual

BANDS = ("fine", "coarse")
FIELD_MARGIN = 64
OFFSET_STEP = 4
MEASURED_FRAMES = 8
DEVICE_FRAME_PLANES = 9  # float32 planes a frame takes on the device: the element, its grain, the result


@dataclass(frozen=True)
class GrainProfile:
    """Grain colour covariance per band, covariance[band] [3, 3] (image units squared)."""

    covariance: np.ndarray

    @property
    def sigma(self) -> np.ndarray:
        """Standard deviation per band and channel [band, channel]."""
        return np.sqrt(np.clip(np.diagonal(self.covariance, axis1=1, axis2=2), 0.0, None))


def band_noise(band: int, height: int, width: int, generator: torch.Generator) -> np.ndarray:
    """A unit-strength, channel-independent noise field of one band, [height, width, 3]."""
    if band == 0:
        return torch.randn(height, width, 3, generator=generator).numpy()
    small = torch.randn(height // 2 + 1, width // 2 + 1, 3, generator=generator).numpy()
    return frame_ops.resize(small, width, height)


@cache
def _calibration() -> np.ndarray:
    """Measured variance of unit noise of each band: matrix[measurement band, noise band]."""
    generator = torch.Generator().manual_seed(1234)
    columns = []
    for band in range(len(BANDS)):
        measured = band_covariances(band_noise(band, 512, 512, generator))
        columns.append(np.diagonal(measured, axis1=1, axis2=2).mean(axis=1))
    return np.stack(columns, axis=1)


def _nearest_psd(matrix: np.ndarray) -> np.ndarray:
    """The nearest positive semi-definite matrix (negative eigenvalues set to 0)."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.clip(values, 0.0, None)) @ vectors.T


def profile_from_measurement(measured: np.ndarray) -> GrainProfile:
    """Band covariances whose measurement matches `measured` [2, 3, 3]: the calibration inverted entry by entry
    (measuring is linear in the covariance), each band then made a valid covariance."""
    solved = np.einsum("bm,mcd->bcd", np.linalg.inv(_calibration()), measured)
    if np.trace(solved[1]) < 0 or np.trace(solved[0]) < 0:  # one band explains it alone: the one that fits best
        fits = [np.trace(measured[0]) / _calibration()[0, b] for b in range(2)]
        errors = [
            np.sum((_calibration()[:, b] * fits[b] - np.trace(measured, axis1=1, axis2=2)) ** 2) for b in range(2)
        ]
        best = int(np.argmin(errors))
        solved = np.zeros_like(measured)
        solved[best] = measured[0] / _calibration()[0, best]
    return GrainProfile(np.stack([_nearest_psd(band) for band in solved]))


def measure_picks(count: int, max_frames: int = MEASURED_FRAMES) -> list[int]:
    """The evenly spaced frames (or first frames of pairs) a clip of `count` is measured at."""
    return [int(i) for i in np.unique(np.linspace(0, count - 1, min(count, max_frames)).round().astype(int))]


def spatial_frame(frame: torch.Tensor, mask: torch.Tensor | None) -> np.ndarray:
    """One frame's flat blocks' band covariances [2, 3, 3], where the mask is solid."""
    return band_covariances(frame_ops.view(frame), None if mask is None else frame_ops.view(mask) > 0.99)


def temporal_pair(frames: torch.Tensor, masks: torch.Tensor | None) -> np.ndarray | None:
    """Band covariances [2, 3, 3] of two consecutive frames' temporal residual, where both masks are solid; None
    when the frames are the same (a still)."""
    if torch.equal(frames[0], frames[1]):
        return None
    residual, keep = temporal_residual(frame_ops.view(frames[0]), frame_ops.view(frames[1]))
    if masks is not None:
        keep &= (frame_ops.view(masks[0]) > 0.99) & (frame_ops.view(masks[1]) > 0.99)
    return band_covariances(residual, keep)


def profile_of(spatial: list[np.ndarray], temporal: list[np.ndarray | None]) -> GrainProfile:
    """A clip's grain profile from its frames' measurements: the median of each kind, the smaller kept (texture and
    motion the compensation misses can only add to either)."""
    measured = np.median(np.stack(spatial), axis=0)
    pairs = [pair for pair in temporal if pair is not None]
    if pairs:
        moving = np.median(np.stack(pairs), axis=0)
        if np.trace(moving.sum(0)) < np.trace(measured.sum(0)):
            measured = moving
    return profile_from_measurement(measured)


def measure_grain(
    frames: torch.Tensor, mask: torch.Tensor | None = None, max_frames: int = MEASURED_FRAMES
) -> GrainProfile:
    """The grain profile of a clip from up to `max_frames` evenly spaced frames (grain is steady in time).

    Grain is read where the picture is flat and, on video, also from the temporal residual (each frame against its
    motion-compensated successor), which holds grain alone wherever the motion is found, however busy the picture.
    """
    return measure_grains([(frames, mask)], max_frames)[0]


def measure_grains(
    clips: list[tuple[torch.Tensor, torch.Tensor | None]], max_frames: int = MEASURED_FRAMES
) -> list[GrainProfile]:
    """`measure_grain` of each (frames, mask), every clip's measurements spread over the cores as one batch, the
    pairs (the longer) first: no core waits at the end of one clip's few frames before the next clip starts."""
    pairs = [measure_picks(frames.shape[0] - 1, max_frames) if frames.shape[0] > 1 else [] for frames, _ in clips]
    singles = [measure_picks(frames.shape[0], max_frames) for frames, _ in clips]

    def measure(job: int) -> np.ndarray | None:
        clip, paired, index = jobs[job]
        frames, mask = clips[clip]
        if paired:
            return temporal_pair(frames[index : index + 2], None if mask is None else mask[index : index + 2])
        return spatial_frame(frames[index], None if mask is None else mask[index])

    jobs = [(clip, True, index) for clip, starts in enumerate(pairs) for index in starts]
    jobs += [(clip, False, index) for clip, picks in enumerate(singles) for index in picks]
    results = dict(zip(jobs, map_frames(measure, range(len(jobs))), strict=True))
    return [
        profile_of([results[clip, False, i] for i in singles[clip]], [results[clip, True, i] for i in pairs[clip]])
        for clip in range(len(clips))
    ]


def unit_noise(height: int, width: int, seed: int) -> list[np.ndarray]:
    """Each band's unit noise for the grain field of height x width frames (FIELD_MARGIN larger), drawn in band
    order from one generator: it does not depend on the grain, so it can be drawn while the grain is measured."""
    generator = torch.Generator().manual_seed(int(seed))
    return [band_noise(band, height + FIELD_MARGIN, width + FIELD_MARGIN, generator) for band in range(len(BANDS))]


def grain_field(profile: GrainProfile, noise: list[np.ndarray]) -> torch.Tensor:
    """A grain field larger than the frame by FIELD_MARGIN, to be read at a different offset for each frame: each
    band's independent unit noise (`unit_noise`) mixed across channels by the square root of its covariance."""
    field = np.zeros(noise[0].shape, np.float32)
    for band, unit in enumerate(noise):
        if profile.covariance[band].any():
            field += cv2.transform(unit, psd_sqrt(profile.covariance[band]).astype(np.float32))
    return torch.from_numpy(field)


def frame_offsets(frames: int, seed: int) -> list[tuple[int, int]]:
    """Distinct field offsets (a grid OFFSET_STEP apart) in a shuffled order, repeating only after all are used."""
    grid = [(y, x) for y in range(0, FIELD_MARGIN, OFFSET_STEP) for x in range(0, FIELD_MARGIN, OFFSET_STEP)]
    order = np.random.default_rng(seed).permutation(len(grid))
    return [grid[order[i % len(grid)]] for i in range(frames)]


def missing_grain(target: GrainProfile, present: GrainProfile) -> GrainProfile:
    """Grain to add: each band's covariance shortfall, scaled down so that the element reads no grainier than the
    target at full size. Bands are independent fields, so variances add within a band, never across; the cap is
    taken where a picture's texture barely reaches (its residual rises toward coarse scales and reads as coarse
    grain), so an element's texture cannot stand in for fine grain it lacks, while an element already grainier
    gets nothing for a shortfall that the bands' cross-talk makes up."""
    shortfall = np.stack([_nearest_psd(t - p) for t, p in zip(target.covariance, present.covariance, strict=True)])
    room = np.trace(_nearest_psd(_full_size_reading(target.covariance) - _full_size_reading(present.covariance)))
    wanted = np.trace(_full_size_reading(shortfall))
    return GrainProfile(shortfall * (min(1.0, room / wanted) if wanted > 0 else 0.0))


def _full_size_reading(covariance: np.ndarray) -> np.ndarray:
    """The residual covariance [3, 3] that grain of band covariances [2, 3, 3] gives when measured at full size."""
    return np.einsum("b,bcd->cd", _calibration()[0], covariance)


def grain_to_add(plate: GrainProfile, element: GrainProfile, strength: float, noise: list[np.ndarray]) -> torch.Tensor:
    """The grain field (see `grain_field`) an element with `element`'s grain lacks over a plate with `plate`'s."""
    strength = check_number("strength", strength, 0.0, 4.0)
    missing = missing_grain(plate, element)
    return grain_field(GrainProfile(missing.covariance * strength**2), noise)


@frame_threads
def match_grain(
    element: torch.Tensor,
    plate: torch.Tensor,
    strength: float = 1.0,
    element_mask: torch.Tensor | None = None,
    plate_region: torch.Tensor | None = None,
    seed: int = 0,
    progress: Progress | None = None,
    field: torch.Tensor | None = None,
    first_frame: int = 0,
    device: torch.device | None = None,
) -> torch.Tensor:
    """Add to the element the grain the plate has and it lacks, band by band, with the plate's channel correlation.

    Frames follow the engine's rule: a single-frame element over an N-frame plate gets N frames, each its own grain.
    When the frames are one block of a longer clip, `field` is `grain_to_add` of the whole clip and `first_frame`
    the block's first frame (each frame reads the field at its own offset). On a `device` (a GPU) the grain is added
    there, the field moved once (none if it is already there); the frames stay where they came from (device.py).
    """
    strength = check_number("strength", strength, 0.0, 4.0)
    element, plate, element_mask, plate_region = element_over_plate(element, plate, element_mask, plate_region, device)
    frames = element.shape[0]
    _, height, width, _ = element.shape
    if field is None:
        noise = started(lambda: unit_noise(height, width, seed))
        profiles = measure_grains([(plate, plate_region), (element, element_mask)])
        field = grain_to_add(*profiles, strength, noise.result())
    offsets = frame_offsets(first_frame + frames, seed)[first_frame:]
    if device is not None:
        out = _add_on_device(element, field.to(torch.device(device)), offsets)
        report(progress, slice(0, frames))
        return out
    out = new_frames(frames, height, width, 3)

    def add_grain(index: int) -> None:
        top, left = offsets[index]
        grain = field[top : top + height, left : left + width].numpy()
        cv2.add(element[index].numpy(), grain, dst=out[index].numpy())
        out[index].clamp_(0.0, 1.0)

    for part in chunk_slices(frames, 8):
        each_frame(add_grain, part)
        report(progress, part)
    return out


def _add_on_device(element: torch.Tensor, field: torch.Tensor, offsets: list[tuple[int, int]]) -> torch.Tensor:
    """The grain added on the field's device, part by part: each frame plus the field at its offset, clamped."""
    frames, height, width, _ = element.shape

    def compute(part: slice) -> tuple[torch.Tensor]:
        grains = torch.stack([field[top : top + height, left : left + width] for top, left in offsets[part]])
        return (torch.add(gpu.moved(element, field.device, part), grains).clamp_(0.0, 1.0),)

    frame_bytes = height * width * DEVICE_FRAME_PLANES * 4
    return gpu.by_parts(field.device, frames, frame_bytes, compute, element.device)[0]
