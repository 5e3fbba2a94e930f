"""Identity scores of frames against references: CLIP-I with a CLIP-vision model, else features and colour.

See scoring.py's docstring for the definitions; this module holds the image preparation (mask crops,
square padding, thumbnails) and both identity methods.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import cv2
import numpy as np
import torch
from scipy.ndimage import gaussian_filter

from ..world.entities import Reference

FEATURE_DETECTORS = ("sift", "orb")

FEATURE_SIDE = 512  # longest side, pixels, for keypoint matching

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


def clip_identity(
    frames: torch.Tensor, references: Sequence[Reference], clip_vision: ClipVisionEncoder
) -> list[ReferenceScore]:
    frame_embeds = _embed(clip_vision, frames)
    scores = []
    for reference in references:
        cosine = frame_embeds @ reference_embeddings(clip_vision, reference).T  # [F, V]
        per_frame = cosine.max(dim=1).values.clamp(0.0, 1.0)
        scores.append(ReferenceScore(reference.name, float(per_frame.mean()), per_frame.tolist()))
    return scores


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


def classical_identity(
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
