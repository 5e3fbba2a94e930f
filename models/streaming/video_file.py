"""A video file as a lazy clip: PyAV decodes it in order in a thread of its own, a couple of blocks ahead."""

from __future__ import annotations

import contextlib
import io
import queue
import threading
import time
from fractions import Fraction

import av
import cv2
import numpy as np
import torch

from .clips import Clip, FrameReader, Frames, Producer, block_frames_for

Source = str | io.BytesIO
AHEAD_BLOCKS = 3
SKIP_WITHOUT_SEEK = 48
"""The most frames a decoder reads through rather than seeking (a seek reopens the file at the keyframe before the
frame asked for and decodes on from there), while the file's keyframe interval is unknown or longer."""
ALPHA_FORMATS = ("yuva", "rgba", "bgra", "argb", "abgr", "gbrap", "ya", "pal8")


def _open(source: Source) -> av.container.InputContainer:
    if isinstance(source, io.BytesIO):
        source = io.BytesIO(source.getvalue())  # each decoder its own cursor
    return av.open(source, mode="r")


BYTE_VALUES = (torch.arange(256, dtype=torch.uint8) / 255.0).numpy()
"""Every 8-bit value as core Load Video gives it (x / 255 in float32)."""


def _to_float(picture: np.ndarray) -> torch.Tensor:
    """8-bit frames [n, h, w, c] as core Load Video gives them, through a lookup table (several times faster than
    dividing, the same values)."""
    frames, height = picture.shape[:2]
    out = np.empty(picture.shape, np.float32)
    for index in range(frames):
        cv2.LUT(picture[index].reshape(height, -1), BYTE_VALUES, dst=out[index].reshape(height, -1))
    return torch.from_numpy(out)


class Decoder:
    """Frames from `start` on, decoded by a daemon thread into a bounded queue (PyAV and numpy release the GIL)."""

    def __init__(self, video: VideoFile, start: int) -> None:
        self.video, self.position = video, start
        self.queue: queue.Queue = queue.Queue(maxsize=AHEAD_BLOCKS * video.block_frames)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(start,), daemon=True, name="worldkit-decode")
        self.thread.start()

    def _run(self, start: int) -> None:
        try:
            with _open(self.video.source) as container:
                stream = container.streams.video[0]
                stream.thread_type = "AUTO"
                seeked = self._seek(container, stream, start)
                keyframe = None
                for count, frame in enumerate(container.decode(stream)):
                    if self.stopping.is_set():
                        return
                    index = self._index(frame, stream) if seeked else count
                    keyframe = self.video.learn_keyframes(index, frame.key_frame, keyframe)
                    if index >= start:
                        self._put(frame.to_ndarray(format=self.video.pixel_format))
        except Exception as error:  # handed to the reader, which raises it
            self._put(error)
        self._put(None)

    def _seek(self, container, stream, start: int) -> bool:
        """Stand at the keyframe before frame `start` when it is far in; False when decoding from the start."""
        if start <= self.video.read_through() or not stream.time_base:
            return False
        target = (stream.start_time or 0) + int(start / self.video.fps / stream.time_base)
        container.seek(target, stream=stream, backward=True)
        return True

    def _index(self, frame: av.VideoFrame, stream) -> int:
        return round(float((frame.pts - (stream.start_time or 0)) * stream.time_base * self.video.fps))

    def _put(self, item) -> None:
        while not self.stopping.is_set():
            try:
                self.queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def take(self, count: int) -> list[Frames | None]:
        """The next `count` frames (None past the end of the file)."""
        taken = []
        for _ in range(count):
            item = self.queue.get() if self.thread.is_alive() or not self.queue.empty() else None
            if isinstance(item, Exception):
                raise item
            if item is None:  # the end: the file holds fewer frames than its header said
                self.queue.put(None)
            taken.append(item)
            self.position += 1
        return taken

    def close(self) -> None:
        """Stop the thread; emptying the queue wakes it at once if it waits to put a frame."""
        self.stopping.set()
        deadline = time.monotonic() + 5
        while self.thread.is_alive() and time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                self.queue.get(timeout=0.01)


class VideoFile(Producer):
    """The first video stream of a file (path or bytes): RGB, and its alpha where the pixel format has one."""

    def __init__(self, source: Source) -> None:
        self.source = source
        with _open(source) as container:
            stream = container.streams.video[0]
            first = next(container.decode(stream))
            self.fps = Fraction(stream.average_rate or stream.guessed_rate or 24)
            self.has_alpha = first.format.name.startswith(ALPHA_FORMATS)
            self.size = (first.height, first.width)
            counted = stream.frames
        self.frames = counted or self._count()
        self.block_frames = block_frames_for(*self.size)
        self.keyframe_interval: int | None = None

    def learn_keyframes(self, index: int, is_keyframe: bool, last_keyframe: int | None) -> int | None:
        """Note a decoded frame: the longest run from one keyframe to the next (or to this frame, if none has come
        since) is the keyframe interval. Returns the last keyframe's index."""
        if last_keyframe is not None:
            self.keyframe_interval = max(self.keyframe_interval or 0, index - last_keyframe)
        return index if is_keyframe else last_keyframe

    def read_through(self) -> int:
        """How many frames ahead a decoder reads on rather than seeking: a seek pays once the gap is longer than the
        keyframe interval seen so far (one frame in an intra-frame plate such as ProRes)."""
        interval = self.keyframe_interval
        return SKIP_WITHOUT_SEEK if interval is None else min(SKIP_WITHOUT_SEEK, interval)

    def _count(self) -> int:
        with _open(self.source) as container:
            return sum(1 for packet in container.demux(video=0) if packet.size)

    def clips(self) -> tuple[Clip, Clip | None]:
        """(RGB clip, alpha clip or None)."""
        image = Clip(self, 0, (*self.size, 3), self.fps)
        return image, Clip(self, 1, self.size, self.fps) if self.has_alpha else None

    @property
    def pixel_format(self) -> str:
        """What the decoder thread hands over: 8-bit pixels, a quarter of the float frames' size."""
        return "rgba" if self.has_alpha else "rgb24"

    def produce(self, reader: FrameReader, start: int, stop: int) -> Frames:
        decoder = reader.state.get(id(self))
        if decoder is None or not (decoder.position <= start <= decoder.position + self.read_through()):
            if decoder is not None:
                decoder.close()
            decoder = reader.state[id(self)] = Decoder(self, start)
        decoder.take(start - decoder.position)
        frames = decoder.take(stop - start)
        last = next((frame for frame in reversed(frames) if frame is not None), None)
        if last is None:
            raise ValueError(f"the video holds fewer than {start + 1} frames.")
        pixels = _to_float(np.stack([frame if frame is not None else last for frame in frames]))
        return (pixels[..., :3], pixels[..., 3]) if self.has_alpha else (pixels,)
