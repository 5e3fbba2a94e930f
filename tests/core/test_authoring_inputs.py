"""The demo inputs are drawn by code: deterministic, small, cut-outs with real alpha, a beat track with beats."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest
from PIL import Image

from worldkit.tools.authoring.inputs import (
    BEAT_BPM,
    BEAT_SAMPLE_RATE,
    BEAT_TRACK,
    INPUTS_DIR,
    MOVING_PLATES,
    PICTURES,
    PREFIX,
    input_files,
)
from worldkit.tools.authoring.plates import PLATE_FPS, PLATE_FRAMES

CUTOUTS = {"skunk.png", "young_man.png", "pigeon.png", "dog.png", "cat.png", "monkey.png"}
MAX_BYTES = 210_000


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    return input_files()


def test_inputs_are_deterministic_small_and_match_the_shipped_files(files):
    first, second = files, input_files()
    assert first == second
    assert set(first) == {PREFIX + name for name in [*PICTURES, *MOVING_PLATES, BEAT_TRACK]}
    for name, data in first.items():
        assert len(data) < MAX_BYTES, name
        assert (INPUTS_DIR / name).read_bytes() == data, (
            f"{name} is stale: run `python -m worldkit.tools.authoring.inputs`"
        )


def test_cutouts_carry_alpha_and_plates_are_opaque(files):
    for name in PICTURES:
        image = Image.open(io.BytesIO(files[PREFIX + name]))
        assert image.size == (640, 360)
        if name in CUTOUTS:
            alpha = np.asarray(image.getchannel("A"))
            covered = (alpha > 127).mean()
            assert 0.03 < covered < 0.6, f"{name}: the subject covers {covered:.0%} of the frame"
        else:
            assert "A" not in image.getbands(), name


def test_beat_track_hits_land_on_the_beat_grid(files):
    with av.open(io.BytesIO(files[PREFIX + BEAT_TRACK])) as container:
        stream = container.streams.audio[0]
        samples = np.concatenate([frame.to_ndarray().reshape(-1) for frame in container.decode(stream)])
        assert stream.rate == BEAT_SAMPLE_RATE
    envelope = np.abs(samples.astype(np.float64))
    onsets = np.flatnonzero((envelope[1:] > 0.2 * envelope.max()) & (envelope[:-1] <= 0.2 * envelope.max()))
    hits = onsets[np.insert(np.diff(onsets) > BEAT_SAMPLE_RATE // 10, 0, True)] / BEAT_SAMPLE_RATE
    beat = 60.0 / BEAT_BPM
    assert len(hits) == round(len(samples) / BEAT_SAMPLE_RATE / beat)
    assert np.allclose(hits, np.round(hits / beat) * beat, atol=0.01)


def test_moving_plates_move_and_carry_grain(files):
    for name in MOVING_PLATES:
        with av.open(io.BytesIO(files[PREFIX + name])) as container:
            assert container.streams.video[0].average_rate == PLATE_FPS
            frames = [frame.to_ndarray(format="rgb24").astype(float) for frame in container.decode(video=0)]
        assert len(frames) == PLATE_FRAMES and frames[0].shape == (360, 640, 3)
        assert np.abs(frames[-1] - frames[0]).mean() > 5  # the camera moved
        assert np.abs(frames[1] - frames[0]).mean() > 0.5  # neighbouring frames: fresh grain on a small move
