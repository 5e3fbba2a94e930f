"""World-consistency scores: how well frames keep their references, and how steady they are in time.

Every score is a float in [0, 1]; higher is better.

Identity (per reference, averaged over the scored frames):
- With a CLIP-vision model ("clip" method, CLIP-I): the cosine similarity between each frame's image
  embedding and each reference view's embedding, clipped to [0, 1] (CLIP image embeddings of natural
  images practically never have negative cosine, so this is the usual CLIP-I value). Where a reference
  has a mask, the view is cropped to the mask's bounding box and everything outside the mask is set to
  mid grey before embedding, so the reference's background does not count; frames are embedded whole,
  because a reference mask says nothing about where the entity appears in a new frame. Frames and crops
  are padded to a square with mid grey rather than centre-cropped, so nothing at the frame's sides is lost.
- Without one ("classical" method): ``feature_weight`` × feature score + (1 − ``feature_weight``) × colour
  score. The feature score is the number of SIFT (or ORB) matches between the reference view (inside its
  mask) and the frame that pass Lowe's ratio test and a RANSAC homography, divided by the reference's
  keypoint count (at least ``MIN_REFERENCE_KEYPOINTS``): the fraction of the reference found again, in a
  geometrically consistent place. The colour score is 1 − Bhattacharyya distance between smoothed LAB
  histograms of the reference (inside its mask) and the whole frame.
For every frame and reference the best-matching view counts (views show different angles).

Temporal stability: exp(−e / ``TEMPORAL_ERROR_SCALE``), where e is the mean absolute RGB error between
each frame and the previous frame warped onto it by optical flow (DIS), averaged over steps.
Motion is compensated, so flicker and popping lower it while smooth movement does not. A single frame
scores 1.

Overall: (1 − ``temporal_weight``) × identity + ``temporal_weight`` × temporal stability; identity is the
mean over references. With no references, overall is the temporal stability.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import cv2
import numpy as np
import torch

from ..world.entities import Reference, World
from .identity import ClipVisionEncoder, ReferenceScore, classical_identity, clip_identity, downscaled_uint8

METHOD_CLIP = "clip"
METHOD_CLASSICAL = "classical"

DEFAULT_TEMPORAL_WEIGHT = 0.25
DEFAULT_FEATURE_WEIGHT = 0.5
DEFAULT_MAX_FRAMES = 16
TEMPORAL_ERROR_SCALE = 0.05  # mean warped error giving stability 1/e
FLOW_SIDE = 256  # longest side, pixels, for optical flow


@dataclass
class ScoreReport:
    """Scores of one candidate (a still or a clip) against its references; see the module docstring for ranges."""

    method: str
    overall: float
    identity: float | None
    temporal_stability: float
    references: list[ReferenceScore] = field(default_factory=list)
    scored_frames: list[int] = field(default_factory=list)
    frame_steps_error: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


MIN_SCORED_SIZE = 16


def _check_frames(frames: torch.Tensor) -> None:
    if frames.ndim != 4 or frames.shape[-1] < 3 or frames.shape[0] == 0:
        raise ValueError(
            f"frames must be an IMAGE batch [frames, height, width, 3] with at least one frame; "
            f"got shape {tuple(frames.shape)}."
        )
    if min(frames.shape[1:3]) < MIN_SCORED_SIZE:
        raise ValueError(
            f"frames are {frames.shape[2]}x{frames.shape[1]} pixels; scoring needs at least "
            f"{MIN_SCORED_SIZE}x{MIN_SCORED_SIZE} (features and optical flow need room). Score the frames before "
            "shrinking them."
        )
    if not math.isfinite(float(frames.sum())):  # one pass: any NaN or inf makes the sum non-finite
        raise ValueError("frames contain NaN or infinite values; check the node that produced them.")


def sample_frame_indices(count: int, max_frames: int) -> list[int]:
    """Evenly spaced frame indices, first and last included, at most ``max_frames`` of them."""
    if count <= max_frames:
        return list(range(count))
    if max_frames == 1:
        return [0]
    return sorted({round(i * (count - 1) / (max_frames - 1)) for i in range(max_frames)})


# ---------------------------------------------------------------- temporal stability


def frame_step_errors(frames: torch.Tensor) -> np.ndarray:
    """Mean absolute RGB error between each frame and its predecessor warped onto it by optical flow: [T − 1]."""
    _check_frames(frames)
    images = downscaled_uint8(frames, FLOW_SIDE)
    grays = [cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) for image in images]
    height, width = grays[0].shape
    grid_x, grid_y = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    flow_estimator = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    errors = []
    for index in range(1, len(images)):
        flow = flow_estimator.calc(grays[index], grays[index - 1], None)
        warped = cv2.remap(
            images[index - 1],
            grid_x + flow[..., 0],
            grid_y + flow[..., 1],
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
        difference = np.abs(images[index].astype(np.float32) - warped.astype(np.float32))
        errors.append(float(difference.mean() / 255.0))
    return np.asarray(errors, dtype=np.float64)


def stability_from_errors(errors: np.ndarray) -> float:
    """exp(−mean warped step error / ``TEMPORAL_ERROR_SCALE``) in (0, 1]; 1 when there are no steps."""
    return 1.0 if errors.size == 0 else math.exp(-float(errors.mean()) / TEMPORAL_ERROR_SCALE)


def temporal_stability(frames: torch.Tensor) -> float:
    """Temporal stability of a clip in (0, 1]; 1 for a single frame."""
    return stability_from_errors(frame_step_errors(frames))


# ---------------------------------------------------------------- public API


def select_references(source: World | Reference, names: Sequence[str]) -> list[Reference]:
    """The references to score against: the named entities of a world (all of them when no names are given),
    or a single reference (whose name must match when names are given)."""
    if isinstance(source, Reference):
        if names and list(names) != [source.name]:
            raise ValueError(
                f"the reference connected is '{source.name}' but entities {list(names)} were asked for; "
                "clear the entities field or connect a world that holds them."
            )
        return [source]
    if not isinstance(source, World):
        raise ValueError(f"references must be a WORLD or a REFERENCE; got {type(source).__name__}.")
    if not names:
        return list(source.references.values())
    return [source.get(name) for name in names]


def score_candidate(
    frames: torch.Tensor,
    references: Sequence[Reference],
    clip_vision: ClipVisionEncoder | None = None,
    temporal_weight: float = DEFAULT_TEMPORAL_WEIGHT,
    feature_weight: float = DEFAULT_FEATURE_WEIGHT,
    features: str = "sift",
    max_frames: int = DEFAULT_MAX_FRAMES,
) -> ScoreReport:
    """Score a candidate (IMAGE [T, H, W, 3], a still when T = 1) against its references.

    Identity is measured on at most ``max_frames`` evenly spaced frames; temporal stability on all of them.
    Uses CLIP-I when ``clip_vision`` is given, else the classical feature + colour score (module docstring).
    """
    _check_frames(frames)
    for name, weight in (("temporal_weight", temporal_weight), ("feature_weight", feature_weight)):
        if not 0.0 <= weight <= 1.0:
            raise ValueError(f"{name} must be within 0..1; got {weight}.")
    if max_frames < 1:
        raise ValueError(f"max_frames must be at least 1; got {max_frames}.")
    frames = frames[..., :3].float().cpu()
    indices = sample_frame_indices(frames.shape[0], max_frames)
    sampled = frames[indices]
    if clip_vision is not None:
        method, reference_scores = METHOD_CLIP, clip_identity(sampled, references, clip_vision)
    else:
        method = METHOD_CLASSICAL
        reference_scores = classical_identity(sampled, references, features, feature_weight)
    step_errors = frame_step_errors(frames)
    stability = stability_from_errors(step_errors)
    identity = float(np.mean([score.identity for score in reference_scores])) if reference_scores else None
    overall = stability if identity is None else (1.0 - temporal_weight) * identity + temporal_weight * stability
    return ScoreReport(method, overall, identity, stability, reference_scores, indices, step_errors.tolist())


def score_candidates(
    candidates: Sequence[torch.Tensor],
    references: Sequence[Reference],
    clip_vision: ClipVisionEncoder | None = None,
    on_candidate: Callable[[int], None] | None = None,
    **options: Any,
) -> list[ScoreReport]:
    """Score each candidate with the same settings; ``on_candidate(i)`` runs after each (progress, interrupts)."""
    reports = []
    for index, candidate in enumerate(candidates):
        reports.append(score_candidate(candidate, references, clip_vision, **options))
        if on_candidate is not None:
            on_candidate(index)
    return reports


def pick_best(scores: Sequence[float | ScoreReport]) -> int:
    """Index of the highest score (a ScoreReport counts by ``overall``); ties go to the lowest index."""
    values = [score.overall if isinstance(score, ScoreReport) else float(score) for score in scores]
    if not values:
        raise ValueError("pick_best needs at least one score; no candidates were given.")
    if any(math.isnan(value) for value in values):
        raise ValueError(f"pick_best got a NaN score among {values}; the candidate or its references contain NaNs.")
    return max(range(len(values)), key=lambda index: (values[index], -index))
