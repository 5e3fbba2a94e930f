"""The streamed frame-rate conform (Conformed): what it refuses, what it gives without a matte, and that it reads each
source frame once and computes each pair's flows once, whatever the block size."""

from __future__ import annotations

from fractions import Fraction

import pytest
import torch
from test_streaming import HEIGHT, WIDTH, CountingSource, scene

from worldkit.models.compositing import conform as batch_conform
from worldkit.models.compositing.conform import conform
from worldkit.models.streaming import retime
from worldkit.models.streaming.clips import Clip, batch_clip
from worldkit.models.streaming.reader import Reader, materialize_all
from worldkit.models.streaming.retime import Conformed


def lazy(frames: int, shape: tuple[int, ...] = (HEIGHT, WIDTH, 3)) -> tuple[CountingSource, Clip]:
    source = CountingSource(frames)
    return source, Clip(source, 0, shape, None)


def test_a_matte_of_another_size_is_refused_naming_both_sizes():
    _, screen = scene(frames=8)
    with pytest.raises(ValueError, match=f"element_mask is {WIDTH // 2}x{HEIGHT // 2} but element is {WIDTH}x{HEIGHT}"):
        Conformed(batch_clip(screen), batch_clip(torch.ones(8, HEIGHT // 2, WIDTH // 2)), 16.0, 24.0, "motion")


def test_a_matte_batch_of_neither_the_elements_frames_nor_one_is_refused():
    _, screen = scene(frames=8)
    with pytest.raises(ValueError, match="element_mask has 3 frames but element has 8"):
        Conformed(batch_clip(screen), batch_clip(torch.ones(3, HEIGHT, WIDTH)), 16.0, 24.0, "motion")


def test_a_streamed_matte_longer_than_the_element_is_refused():
    (_, element), (_, matte) = lazy(8), lazy(12, (HEIGHT, WIDTH))
    with pytest.raises(ValueError, match="element_mask has 12 frames but element has 8; give the matte the element's"):
        Conformed(element, matte, 16.0, 24.0, "motion")


def test_an_unknown_method_is_refused_naming_the_input():
    _, screen = scene(frames=8)
    with pytest.raises(ValueError, match="method must be one of 'motion', 'blend'; got 'warp'"):
        Conformed(batch_clip(screen), None, 16.0, 24.0, "warp")


def test_without_a_matte_the_retimed_element_is_opaque_and_is_the_batch_conform():
    _, screen = scene(frames=8)
    image, matte = materialize_all(Conformed(batch_clip(screen), None, 16.0, 24.0, "blend").clips(), block=5)
    assert torch.equal(image, conform(screen, None, 16.0, 24.0, "blend")[0])
    assert matte.shape == (12, HEIGHT, WIDTH) and torch.equal(matte, torch.ones(12, HEIGHT, WIDTH))


@pytest.mark.parametrize("block", [1, 2, 3])
def test_every_block_size_streams_as_the_batch_conform(block):
    _, screen = scene(frames=8)
    alpha = (screen[..., 0] > 0.5).float()
    image, matte = materialize_all(Conformed(batch_clip(screen), batch_clip(alpha), 16.0, 24.0, "blend").clips(), block)
    batch_image, batch_matte = conform(screen, alpha, 16.0, 24.0, "blend")
    assert torch.equal(image, batch_image) and torch.equal(matte, batch_matte)


@pytest.mark.parametrize(("method", "flows"), [("motion", 7), ("blend", 0)])
def test_the_flows_of_a_source_pair_are_computed_once_across_blocks(monkeypatch, method, flows):
    """At 8 -> 24 fps two output frames lie between each of the 7 source pairs, some in different blocks."""
    _, screen = scene(frames=8)
    computed = []
    pair_flows = batch_conform.pair_flows

    def counted(first: torch.Tensor, second: torch.Tensor):
        computed.append((first, second))
        return pair_flows(first, second)

    monkeypatch.setattr(retime, "pair_flows", counted)
    monkeypatch.setattr(batch_conform, "pair_flows", counted)
    materialize_all(Conformed(batch_clip(screen), None, 8.0, 24.0, method).clips(), block=4)
    assert len(computed) == flows


def test_a_streamed_source_is_made_once_when_output_frames_come_one_at_a_time():
    """Output frames 3 and 4 (16 -> 24 fps) both read source frame 2: the reader must still hold it."""
    source, element = lazy(8)
    materialize_all(Conformed(element, None, 16.0, 24.0, "blend").clips(), block=1)
    assert source.made == 8


def test_a_block_makes_only_the_source_frames_it_lies_between():
    source, element = lazy(100)
    retimed = Conformed(element, None, 16.0, 24.0, "blend").clips()
    reader = Reader(retimed)
    frames = reader.read(retimed[0], 0, 3)  # source positions 0, 2/3, 4/3
    assert frames.shape == (3, HEIGHT, WIDTH, 3) and source.made == 3


def test_a_conform_to_ntsc_film_rate_keeps_its_exact_rate():
    _, screen = scene(frames=8)
    retimed = Conformed(batch_clip(screen), None, 16.0, float(Fraction(24000, 1001)), "blend").clips()
    assert [clip.fps for clip in retimed] == [Fraction(24000, 1001)] * 2
