"""The demo inputs are drawn by code: deterministic, small, cut-outs with real alpha, a beat track with beats.

The shipped files are compared with a regeneration by what holds on every machine: decoded pixels and samples
(lossless PNG and FLAC: equal), and for the H.264 plates the hash of the frames handed to the encoder, which the
plate records, plus every decoded frame within PLATE_PSNR_DB of the regenerated one. The encoder's bytes are
compared only between two regenerations on one machine.
"""

from __future__ import annotations

import io

import av
import numpy as np
import pytest
from PIL import Image

from worldkit.tools.authoring.clips import CLIP_FPS, DANCE_FRAMES, WALK_FRAMES, walker_matte_frames
from worldkit.tools.authoring.inputs import (
    BEAT_BPM,
    BEAT_SAMPLE_RATE,
    BEAT_TRACK,
    CLIPS,
    INPUTS_DIR,
    MOVING_PLATES,
    PICTURES,
    PREFIX,
    SIZE,
    _rng,
    draw_street,
    input_files,
    moving_plate_frames,
)
from worldkit.tools.authoring.plates import (
    PLATE_FPS,
    PLATE_FRAMES,
    decoded_frames,
    filmed,
    frames_hash,
    recorded_frames_hash,
)

CUTOUTS = {"skunk.png", "young_man.png", "pigeon.png", "dog.png", "cat.png", "monkey.png", "performer.png"}
MAX_BYTES = 210_000
PLATE_PSNR_DB = 36.0
"""Each decoded plate frame against the frame it was encoded from. At CRF 24 the worst frame measures 39.9 dB
(street) and 44.0 dB (field), and another x264 build lands near that; the plates played backwards measure 20.4
and 27.0 dB."""
STALE = "{} is stale: run `python -m worldkit.tools.authoring.inputs`"


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    return input_files()


def test_inputs_regenerate_byte_for_byte_on_one_machine_and_are_small(files):
    assert input_files() == files
    assert set(files) == {PREFIX + name for name in [*PICTURES, *MOVING_PLATES, *CLIPS, BEAT_TRACK]}
    for name, data in files.items():
        assert len(data) < MAX_BYTES, name


def decoded_image(data: bytes) -> tuple[str, np.ndarray]:
    image = Image.open(io.BytesIO(data))
    return image.mode, np.asarray(image)


def decoded_audio(data: bytes) -> np.ndarray:
    with av.open(io.BytesIO(data)) as container:
        return np.concatenate([frame.to_ndarray().reshape(-1) for frame in container.decode(audio=0)])


def worst_psnr(decoded: list[np.ndarray], sources: list[np.ndarray]) -> float:
    errors = [
        np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2) for a, b in zip(decoded, sources, strict=True)
    ]
    return 10 * np.log10(255.0**2 / max(max(errors), 1e-12))


def test_the_shipped_pictures_and_beat_track_decode_to_what_the_code_draws(files):
    for name in PICTURES:
        shipped = (INPUTS_DIR / (PREFIX + name)).read_bytes()
        (mode, pixels), (expected_mode, expected) = decoded_image(shipped), decoded_image(files[PREFIX + name])
        assert mode == expected_mode and np.array_equal(pixels, expected), STALE.format(name)
    shipped = decoded_audio((INPUTS_DIR / (PREFIX + BEAT_TRACK)).read_bytes())
    assert np.array_equal(shipped, decoded_audio(files[PREFIX + BEAT_TRACK])), STALE.format(BEAT_TRACK)


def test_the_shipped_plates_are_encodes_of_the_frames_the_code_makes():
    for name in MOVING_PLATES:
        frames = moving_plate_frames(name)
        shipped = (INPUTS_DIR / (PREFIX + name)).read_bytes()
        assert recorded_frames_hash(shipped) == frames_hash(frames), f"{STALE.format(name)}: its frames differ"
        decoded = decoded_frames(shipped)
        assert len(decoded) == len(frames) == PLATE_FRAMES, name
        assert worst_psnr(decoded, frames) >= PLATE_PSNR_DB, f"{name} does not decode to the frames it records"
        # Negative control: the bound tells the plate from itself played backwards.
        assert worst_psnr(decoded[::-1], frames) < PLATE_PSNR_DB


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


def test_the_shipped_clips_are_encodes_of_the_frames_the_code_draws():
    lengths = {"dance_pose.mp4": DANCE_FRAMES, "dance_face.mp4": DANCE_FRAMES}
    for name, draw in CLIPS.items():
        frames = draw()
        shipped = (INPUTS_DIR / (PREFIX + name)).read_bytes()
        assert recorded_frames_hash(shipped) == frames_hash(frames), f"{STALE.format(name)}: its frames differ"
        decoded = decoded_frames(shipped)
        assert len(decoded) == len(frames) == lengths.get(name, WALK_FRAMES), name
        assert worst_psnr(decoded, frames) >= PLATE_PSNR_DB, f"{name} does not decode to the frames it records"
        with av.open(io.BytesIO(shipped)) as container:
            assert container.streams.video[0].average_rate == CLIP_FPS, name


def luma(frame: np.ndarray) -> np.ndarray:
    return frame[: frame.shape[0] * 2 // 3].astype(np.int64)


def test_the_walker_matte_covers_the_passer_by_the_plate_shows_as_the_camera_moves():
    """Everything that differs between the walker plate and the same street filmed with the same camera and
    grain lies inside the matte, and the matte crosses the frame."""
    plate = CLIPS["nyc_street_walker_moving.mp4"]()
    street = filmed(lambda _index: draw_street("nyc_street_plate"), WALK_FRAMES, _rng("walker"))
    matte = walker_matte_frames(SIZE)
    centres = []
    for index in (0, WALK_FRAMES // 2, WALK_FRAMES - 1):
        inside = luma(matte[index]) > 126
        walker = np.abs(luma(plate[index]) - luma(street[index])) > 24
        assert 0.01 < inside.mean() < 0.1
        assert walker.sum() > 0.5 * inside.sum() and (walker & ~inside).sum() < 0.02 * walker.sum()
        centres.append(np.argwhere(inside)[:, 1].mean())
    assert centres[0] < centres[1] < centres[2] and centres[2] - centres[0] > 0.3 * SIZE[0]
