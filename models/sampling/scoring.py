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
from typing import Any, Protocol

import cv2
import numpy as np
import torch
from scipy.ndimage import gaussian_filter

from ..world.entities import Reference, World

METHOD_CLIP = "clip"
METHOD_CLASSICAL = "classical"
FEATURE_DETECTORS = ("sift", "orb")

DEFAULT_TEMPORAL_WEIGHT = 0.25
DEFAULT_FEATURE_WEIGHT = 0.5
DEFAULT_MAX_FRAMES = 16
TEMPORAL_ERROR_SCALE = 0.05  # mean warped error giving stability 1/e
FEATURE_SIDE = 512  # longest side, pixels, for keypoint matching
FLOW_SIDE = 256  # longest side, pixels, for optical flow
MIN_REFERENCE_KEYPOINTS = 32
RATIO_TEST = 0.75
RANSAC_THRESHOLD_PX = 8.0
HISTOGRAM_BINS = (8, 16, 16)  # L, a, b
HISTOGRAM_RANGES = (0.0, 100.0, -128.0, 128.0, -128.0, 128.0)
HISTOGRAM_SMOOTHING_BINS = 1.0
MASK_THRESHOLD = 0.5
CROP_MARGIN = 0.05  # fraction of the mask's bounding box added on each side
CLIP_BATCH = 16
PAD_GREY = 0.5


class ClipVisionEncoder(Protocol):
    """What scoring needs of a CLIP-vision model (ComfyUI's CLIP_VISION satisfies it)."""

    def encode_image(self, image: torch.Tensor, crop: bool = True) -> Any: ...


@dataclass
class ReferenceScore:
    """Identity of one reference across the scored frames; feature/color are set by the classical method only."""

    name: str
    identity: float
    per_frame: list[float]
    feature: float | None = None
    color: float | None = None


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


# ---------------------------------------------------------------- image preparation


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


def _mask_bbox(mask: torch.Tensor) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) of the mask's subject with a small margin, or None for an empty mask."""
    ys, xs = torch.nonzero(mask > MASK_THRESHOLD, as_tuple=True)
    if ys.numel() == 0:
        return None
    top, bottom, left, right = int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1
    margin_y = round((bottom - top) * CROP_MARGIN)
    margin_x = round((right - left) * CROP_MARGIN)
    height, width = mask.shape
    return max(0, top - margin_y), min(height, bottom + margin_y), max(0, left - margin_x), min(width, right + margin_x)


def reference_crops(reference: Reference) -> list[tuple[torch.Tensor, torch.Tensor | None]]:
    """Each view as (image [h, w, 3], mask [h, w] or None), cropped to its mask's bounding box where it has one."""
    crops = []
    for index in range(reference.views.shape[0]):
        view = reference.views[index, ..., :3].float().cpu()
        mask = None if reference.masks is None else reference.masks[index].float().cpu()
        bbox = None if mask is None else _mask_bbox(mask)
        if mask is not None and bbox is None:
            raise ValueError(
                f"reference '{reference.name}' view {index} has an empty mask; "
                "paint the subject in the mask or remove the mask."
            )
        if bbox is not None:
            top, bottom, left, right = bbox
            view, mask = view[top:bottom, left:right], mask[top:bottom, left:right]
        crops.append((view, mask))
    return crops


def _pad_to_square(image: torch.Tensor) -> torch.Tensor:
    """[B, H, W, 3] padded with mid grey to [B, S, S, 3], centred."""
    height, width = image.shape[1:3]
    side = max(height, width)
    if height == width:
        return image
    top, left = (side - height) // 2, (side - width) // 2
    padded = image.new_full((image.shape[0], side, side, 3), PAD_GREY)
    padded[:, top : top + height, left : left + width] = image[..., :3]
    return padded


def downscaled_uint8(images: torch.Tensor, side: int) -> list[np.ndarray]:
    """[B, H, W, 3] float images as uint8 RGB arrays whose longest side is at most ``side`` (area-averaged).

    Shrinking happens in torch before the conversion, so a long 720p clip costs little more than its thumbnails.
    """
    height, width = images.shape[1:3]
    scale = min(1.0, side / max(height, width))
    size = (max(1, round(height * scale)), max(1, round(width * scale)))
    arrays = []
    for chunk in images.split(CLIP_BATCH):
        chunk = chunk[..., :3].float()
        if scale < 1.0:
            chunk = torch.nn.functional.interpolate(chunk.movedim(-1, 1), size=size, mode="area").movedim(1, -1)
        arrays.extend((chunk.clamp(0, 1) * 255.0).round().to(torch.uint8).cpu().numpy())
    return arrays


# ---------------------------------------------------------------- CLIP-I


def _embed(clip_vision: ClipVisionEncoder, images: torch.Tensor) -> torch.Tensor:
    """L2-normalised image embeddings [B, D] of [B, H, W, 3] images, in batches."""
    embeds = []
    for batch in images.split(CLIP_BATCH):
        output = clip_vision.encode_image(_pad_to_square(batch), crop=True)
        embeds.append(output.image_embeds.float().cpu())
    return torch.nn.functional.normalize(torch.cat(embeds), dim=-1)


def reference_embeddings(clip_vision: ClipVisionEncoder, reference: Reference) -> torch.Tensor:
    """Embeddings [V, D] of a reference's views; masked views are cropped and their background greyed out."""
    embeds = []
    for view, mask in reference_crops(reference):
        if mask is not None:
            view = view * mask[..., None] + PAD_GREY * (1.0 - mask[..., None])
        embeds.append(_embed(clip_vision, view[None]))
    return torch.cat(embeds)


def _clip_identity(
    frames: torch.Tensor, references: Sequence[Reference], clip_vision: ClipVisionEncoder
) -> list[ReferenceScore]:
    frame_embeds = _embed(clip_vision, frames)
    scores = []
    for reference in references:
        cosine = frame_embeds @ reference_embeddings(clip_vision, reference).T  # [F, V]
        per_frame = cosine.max(dim=1).values.clamp(0.0, 1.0)
        scores.append(ReferenceScore(reference.name, float(per_frame.mean()), per_frame.tolist()))
    return scores


# ---------------------------------------------------------------- classical: features + colour


@dataclass
class _ViewFeatures:
    keypoints: np.ndarray  # [K, 2] pixel positions
    descriptors: np.ndarray | None
    histogram: np.ndarray


def _detector(kind: str) -> Any:
    if kind == "sift":
        return cv2.SIFT_create(nfeatures=1000)
    if kind == "orb":
        return cv2.ORB_create(nfeatures=1000)
    raise ValueError(f"features must be one of {FEATURE_DETECTORS}; got '{kind}'.")


def lab_histogram(rgb: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Normalised, smoothed 3-D LAB histogram (``HISTOGRAM_BINS``) of a uint8 RGB image, inside ``mask`` if given."""
    lab = cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    cv_mask = None if mask is None else (mask > 0).astype(np.uint8)
    histogram = cv2.calcHist([lab], [0, 1, 2], cv_mask, list(HISTOGRAM_BINS), list(HISTOGRAM_RANGES))
    histogram = gaussian_filter(histogram.astype(np.float64), HISTOGRAM_SMOOTHING_BINS, mode="constant")
    total = histogram.sum()
    return (histogram / total).astype(np.float32) if total > 0 else histogram.astype(np.float32)


def color_similarity(histogram_a: np.ndarray, histogram_b: np.ndarray) -> float:
    """1 − Bhattacharyya distance of two histograms: 1 for equal colour distributions, 0 for disjoint ones."""
    distance = cv2.compareHist(histogram_a, histogram_b, cv2.HISTCMP_BHATTACHARYYA)
    return float(np.clip(1.0 - distance, 0.0, 1.0))


def _view_features(detector: Any, rgb: np.ndarray, mask: np.ndarray | None) -> _ViewFeatures:
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    keypoints, descriptors = detector.detectAndCompute(gray, mask)
    points = np.array([kp.pt for kp in keypoints], dtype=np.float32).reshape(-1, 2)
    return _ViewFeatures(points, descriptors, lab_histogram(rgb, mask))


def _matcher(kind: str) -> cv2.BFMatcher:
    return cv2.BFMatcher(cv2.NORM_HAMMING if kind == "orb" else cv2.NORM_L2)


def verified_matches(matcher: cv2.BFMatcher, reference: _ViewFeatures, frame: _ViewFeatures) -> int:
    """Reference keypoints found in the frame: ratio-test matches that are RANSAC homography inliers."""
    if reference.descriptors is None or frame.descriptors is None or len(frame.keypoints) < 2:
        return 0
    pairs = matcher.knnMatch(reference.descriptors, frame.descriptors, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < RATIO_TEST * p[1].distance]
    if len(good) < 4:
        return 0
    source = reference.keypoints[[m.queryIdx for m in good]]
    target = frame.keypoints[[m.trainIdx for m in good]]
    homography, inliers = cv2.findHomography(source, target, cv2.RANSAC, RANSAC_THRESHOLD_PX)
    return 0 if homography is None else int(inliers.sum())


def feature_similarity(matcher: cv2.BFMatcher, reference: _ViewFeatures, frame: _ViewFeatures) -> float:
    """Fraction of the reference's keypoints (at least ``MIN_REFERENCE_KEYPOINTS``) found again in the frame."""
    denominator = max(len(reference.keypoints), MIN_REFERENCE_KEYPOINTS)
    return min(1.0, verified_matches(matcher, reference, frame) / denominator)


def _classical_views(detector: Any, reference: Reference) -> list[_ViewFeatures]:
    views = []
    for view, mask in reference_crops(reference):
        rgb = downscaled_uint8(view[None], FEATURE_SIDE)[0]
        cv_mask = None
        if mask is not None:
            cv_mask = cv2.resize(
                ((mask > MASK_THRESHOLD).numpy() * 255).astype(np.uint8),
                (rgb.shape[1], rgb.shape[0]),
                interpolation=cv2.INTER_NEAREST,
            )
        views.append(_view_features(detector, rgb, cv_mask))
    return views


def _classical_identity(
    frames: torch.Tensor, references: Sequence[Reference], features: str, feature_weight: float
) -> list[ReferenceScore]:
    detector, matcher = _detector(features), _matcher(features)
    frame_features = [_view_features(detector, rgb, None) for rgb in downscaled_uint8(frames, FEATURE_SIDE)]
    scores = []
    for reference in references:
        views = _classical_views(detector, reference)
        per_frame, best_features, best_colors = [], [], []
        for frame in frame_features:
            candidates = []
            for view in views:
                feature = feature_similarity(matcher, view, frame)
                color = color_similarity(view.histogram, frame.histogram)
                candidates.append((feature_weight * feature + (1.0 - feature_weight) * color, feature, color))
            combined, feature, color = max(candidates)
            per_frame.append(combined)
            best_features.append(feature)
            best_colors.append(color)
        scores.append(
            ReferenceScore(
                reference.name,
                float(np.mean(per_frame)),
                per_frame,
                float(np.mean(best_features)),
                float(np.mean(best_colors)),
            )
        )
    return scores


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
        method, reference_scores = METHOD_CLIP, _clip_identity(sampled, references, clip_vision)
    else:
        method = METHOD_CLASSICAL
        reference_scores = _classical_identity(sampled, references, features, feature_weight)
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
