"""Shot-frames files (Save Shot Frames / Load Shot Frames): a file read back equals what was saved, and a
truncated, edited or foreign file is refused whole with a ShotFramesError naming it, never half read."""

from __future__ import annotations

import json
import re

import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from worldkit.models.sampling.shot_frames import ShotFramesError, content_digest, pack_shot_frames, unpack_shot_frames

NAME = "'shot_1.safetensors'"
FRAMES = torch.rand(9, 8, 12, 3, generator=torch.Generator().manual_seed(3))
REPORT = {"fps": 16, "boundaries": [{"shot": 0, "start": 0, "end": 4}, {"shot": 1, "start": 4, "end": 9}]} | {
    "shots": [{"seed": 1}, {"seed": 2}]
}
DATA = pack_shot_frames(FRAMES, REPORT)
HEADER_END = 8 + int.from_bytes(DATA[:8], "little")


def with_header(edit) -> bytes:
    """DATA with its JSON header edited by ``edit`` (the tensor bytes untouched)."""
    header = json.loads(DATA[8:HEADER_END])
    edit(header)
    text = json.dumps(header).encode()
    return len(text).to_bytes(8, "little") + text + DATA[HEADER_END:]


def with_report(signed: bool = True, **changes) -> bytes:
    """DATA with its report changed, and its hash made to match unless ``signed`` is False."""

    def edit(header):
        text = header["__metadata__"]["report"] = json.dumps(REPORT | changes)
        if signed:
            header["__metadata__"]["sha256"] = content_digest(FRAMES, text)

    return with_header(edit)


def flipped(position: int) -> bytes:
    return DATA[:position] + bytes([DATA[position] ^ 0xFF]) + DATA[position + 1 :]


def test_a_file_reads_back_exactly():
    frames, report = unpack_shot_frames(DATA, NAME)
    assert torch.equal(frames, FRAMES) and report == REPORT
    resigned = unpack_shot_frames(with_report(shots=[{"seed": 1}, {"seed": 3}]), NAME)[1]  # control for the hash
    assert resigned["shots"][1] == {"seed": 3}


BROKEN = {
    "empty": (b"", "not a readable"),
    "truncated in the header": (DATA[: HEADER_END - 10], "not a readable"),
    "truncated in the frames": (DATA[:-100], "truncated or edited"),
    "one byte short": (DATA[:-1], "truncated or edited"),
    "a frame byte edited": (flipped(len(DATA) - 5), "do not match the hash"),
    "a huge header length": ((10**12).to_bytes(8, "little") + DATA[8:], "not a readable"),
    "not safetensors": (b"PK\x03\x04 a zip file", "not a readable"),
    "no hash": (with_header(lambda h: h["__metadata__"].pop("sha256")), "no hash"),
    "another format": (with_header(lambda h: h["__metadata__"].update(format="x")), "not a WorldKit shot-frames"),
    "report not JSON": (with_header(lambda h: h["__metadata__"].update(report="{")), "not a readable"),
    "frames of another shape": (with_header(lambda h: h["frames"].update(shape=[9, 8, 36, 1])), "not [F, H, W, 3]"),
    "frames past the data": (with_header(lambda h: h["frames"].update(data_offsets=[0, 10**9])), "truncated or edited"),
    "report edited": (with_report(signed=False, shots=[{"seed": 1}, {"seed": 3}]), "do not match the hash"),
    "boundaries past the frames": (with_report(boundaries=[{"start": 0, "end": 4}, {"start": 4, "end": 90}]), "span"),
    "boundaries with a gap": (with_report(boundaries=[{"start": 0, "end": 4}, {"start": 5, "end": 9}]), "consecutive"),
    "a shot without a boundary": (with_report(shots=[{}]), "one boundary per shot"),
    "no frame rate": (with_report(fps="16"), "frame rate"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_file_is_refused_naming_it(case):
    data, reason = BROKEN[case]
    with pytest.raises(ShotFramesError, match=re.escape(reason)) as refused:
        unpack_shot_frames(data, NAME)
    assert str(refused.value).startswith(NAME)


def test_a_report_that_does_not_cover_the_frames_is_not_saved():
    with pytest.raises(ShotFramesError, match="report's shots span 9 frames, but there are 5"):
        pack_shot_frames(FRAMES[:5], REPORT)


@settings(max_examples=80, deadline=None)
@given(st.integers(0, len(DATA) - 1), st.integers(0, 255), st.integers(0, len(DATA)))
@example(position=0, mask=0, length=len(DATA))  # the control: the file as saved
def test_any_edit_or_truncation_reads_back_exactly_or_is_refused(position, mask, length):
    edited = bytearray(DATA[:length])
    if position < length:
        edited[position] ^= mask
    try:
        frames, report = unpack_shot_frames(bytes(edited), NAME)
    except ShotFramesError as refused:
        assert bytes(edited) != DATA, "the file as saved was refused"
        assert str(refused).startswith(NAME)
        return
    assert torch.equal(frames, FRAMES) and report == REPORT  # only an edit the format ignores (header spacing)
