"""The torch twins of frame_ops (the device paths' frame operations) against OpenCV on the same frames, here on the
CPU device: blurs and resampling within 1e-5 (sums in another order), padding and grow exactly (copies and maxima)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from worldkit.models.compositing import frame_ops, tensor_ops

BOUND = 1e-5


def frames(count: int, height: int, width: int, channels: int, seed: int) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(seed).uniform(0, 1, (count, height, width, channels)).astype("f4"))


@pytest.mark.parametrize("reach", [1, 3, 5])
def test_padding_repeats_the_edge_pixel_as_opencvs_reflect(reach):
    planes = torch.arange(2 * 5 * 7, dtype=torch.float32).reshape(1, 2, 5, 7)
    padded = tensor_ops.symmetric_pad(planes, reach).numpy()
    assert np.array_equal(padded, np.pad(planes.numpy(), ((0, 0), (0, 0), (reach, reach), (reach, reach)), "symmetric"))


@pytest.mark.parametrize("channels, sigma", [(3, 1.5), (1, 0.8), (4, 3.0)])
def test_gaussian_blur_is_opencvs(channels, sigma):
    batch = frames(2, 24, 30, channels, seed=1)
    blurred = tensor_ops.gaussian_blur(batch, sigma).numpy()
    for frame, got in zip(batch.numpy(), blurred, strict=True):
        expected = frame_ops.gaussian_blur(frame, sigma).reshape(got.shape)
        assert np.abs(got - expected).max() <= BOUND


@pytest.mark.parametrize("size", [(13, 10), (30, 24), (45, 17), (30, 7)])
@pytest.mark.parametrize("interpolation", [None, cv2.INTER_NEAREST])
def test_resize_is_opencvs_shrinking_growing_or_as_asked(size, interpolation):
    """From 30x24 (colour frames and masks) to a smaller, the same, a larger and a mixed size."""
    width, height = size
    for batch in (frames(2, 24, 30, 3, seed=2), frames(2, 24, 30, 1, seed=3)[..., 0]):
        got = tensor_ops.resize(batch, width, height, interpolation).numpy()
        for frame, result in zip(batch.numpy(), got, strict=True):
            if interpolation is None:
                expected = frame_ops.resize(frame, width, height)
            else:
                expected = cv2.resize(frame, (width, height), interpolation=interpolation)
            assert result.shape == expected.shape and np.abs(result - expected).max() <= BOUND


@pytest.mark.parametrize("pixels", [-4, -1, 0, 1, 3])
def test_grow_is_opencvs_round_dilate_and_erode(pixels):
    rng = np.random.default_rng(4)
    masks = (rng.uniform(0, 1, (2, 20, 26)) > 0.7).astype(np.float32)
    masks[1] = cv2.GaussianBlur(masks[1], (0, 0), 1.0)  # soft values too
    got = tensor_ops.grow(torch.from_numpy(masks), pixels).numpy()
    for mask, result in zip(masks, got, strict=True):
        assert np.array_equal(result, frame_ops.grow(mask, pixels))


@pytest.mark.parametrize("reflect", [True, False])
def test_premultiplied_blur_is_frame_ops_for_an_element_clear_of_the_borders(reflect):
    """A soft disc in the middle: its colour blurred into transparency and un-mixed, its own colour where no
    coverage reaches."""
    colour = frames(2, 40, 40, 3, seed=5)
    yy, xx = np.mgrid[:40, :40]
    alpha = np.clip(8.0 - np.hypot(yy - 20, xx - 20), 0.0, 1.0).astype(np.float32)
    kernel = np.outer(frame_ops.gaussian_kernel(1.5), frame_ops.gaussian_kernel(1.5))
    reach = kernel.shape[0] // 2
    blurred, covered = tensor_ops.blur_premultiplied(colour, torch.from_numpy(alpha).expand(2, -1, -1), kernel, reflect)
    for frame, got, got_coverage in zip(colour.numpy(), blurred.numpy(), covered.numpy(), strict=True):
        out, coverage = np.empty_like(frame), np.empty_like(alpha)
        blur = lambda rgba: cv2.filter2D(rgba, -1, kernel, borderType=cv2.BORDER_REFLECT)  # noqa: E731
        frame_ops.blur_premultiplied(frame, alpha, blur, reach, out, coverage)
        assert np.abs(got_coverage - coverage).max() <= BOUND
        assert np.abs(got - out).max() <= BOUND
    corners = covered[:, 0, 0] == 0  # beyond the blur's reach: no coverage, the element's own colour
    assert corners.all() and torch.equal(blurred[:, 0, 0], colour[:, 0, 0])
