"""frame_ops' helpers that stand in for numpy idioms where those are slow: the same values, exactly."""

from __future__ import annotations

import numpy as np
import pytest

from worldkit.models.compositing import frame_ops


@pytest.mark.parametrize("channels", [1, 3, 9, 24])
def test_a_plane_per_channel_is_the_plane_repeated_along_the_last_axis(channels):
    plane = np.random.default_rng(channels).uniform(0, 1, (7, 11)).astype(np.float32)
    repeated = frame_ops.per_channel(plane, channels)
    assert repeated.shape == (7, 11, channels) and repeated.dtype == np.float32
    assert np.array_equal(repeated, np.repeat(plane[..., None], channels, -1))
    mask = plane > 0.5
    repeated_mask = frame_ops.per_channel(mask, channels)
    assert repeated_mask.dtype == bool
    assert np.array_equal(repeated_mask, np.repeat(mask[..., None], channels, -1))
