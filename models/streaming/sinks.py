"""Writers a pass feeds: PNG/EXR sequences, videos (RGBA or H.264), a small animated preview.

Each writes under temporary names and renames into place in `finish`; `abort` removes what it wrote, so a pass
stopped part way leaves nothing under a final name. A pass hands them whole blocks from its writer thread: the
sequences write a block's files and the videos prepare its pictures (quantised, converted to the codec's pixel
format) one frame per core, on the engine's frame pool, and the video encoders run threads on every core.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

import av
import torch
from PIL import Image

from ..compositing import export
from ..compositing.chunking import cores, map_frames
from ..shared.files import commit_staged, discard, new_temporary, write_bytes_atomically

PREVIEW_WIDTH, PREVIEW_FRAMES = 320, 48


def _opaque(frame: torch.Tensor, alpha: torch.Tensor | None) -> torch.Tensor:
    return alpha if alpha is not None else torch.ones(frame.shape[:2])


class Sink:
    """Something a pass writes frames to, one at a time in order; `names` are the files it made."""

    names: list[str]

    def write(self, index: int, frame: torch.Tensor, alpha: torch.Tensor | None) -> None:
        raise NotImplementedError

    def write_block(self, start: int, frames: torch.Tensor, alpha: torch.Tensor | None) -> None:
        """Frames start, start + 1, ... of a block, in order."""
        for offset in range(frames.shape[0]):
            self.write(start + offset, frames[offset], None if alpha is None else alpha[offset])

    def finish(self) -> None:
        """Called once after the last frame."""

    def abort(self) -> None:
        """Called instead of `finish` when the pass stops part way."""


class SequenceSink(Sink):
    """One file per frame, `name(index)` in `folder`: 8/16-bit PNG (text chunks in 8-bit) or half-float EXR."""

    def __init__(
        self, folder: Path, name: Callable[[int], str], kind: str, bits: int = 8, text: dict[str, str] | None = None
    ) -> None:
        self.folder, self.name, self.kind, self.bits, self.text = Path(folder), name, kind, bits, text or {}
        self.names = []

    def write(self, index: int, frame: torch.Tensor, alpha: torch.Tensor | None) -> None:
        self.names.append(self._write_file(index, frame, alpha))

    def write_block(self, start: int, frames: torch.Tensor, alpha: torch.Tensor | None) -> None:
        """The block's files written one frame per core."""

        def write_file(offset: int) -> str:
            return self._write_file(start + offset, frames[offset], None if alpha is None else alpha[offset])

        self.names.extend(map_frames(write_file, range(frames.shape[0])))

    def _write_file(self, index: int, frame: torch.Tensor, alpha: torch.Tensor | None) -> str:
        path = self.folder / self.name(index)
        if self.kind == "png":
            export.write_png(path, frame, _opaque(frame, alpha), self.bits, self.text)
        else:
            write_bytes_atomically(path, export.exr_bytes(frame, _opaque(frame, alpha)))
        return path.name

    def abort(self) -> None:
        for name in self.names:
            with contextlib.suppress(FileNotFoundError):
                (self.folder / name).unlink()


class VideoSink(Sink):
    """A video in one of export.VIDEO_FORMATS or OPAQUE_FORMATS, encoded as frames come, renamed at the end."""

    def __init__(
        self, path: Path, video_format: str, fps: float, size: tuple[int, int], tags: dict[str, str] | None = None
    ) -> None:
        formats = export.VIDEO_FORMATS | export.OPAQUE_FORMATS
        if video_format not in formats:
            raise ValueError(f"video format must be one of {', '.join(formats)}; got {video_format!r}.")
        container_format, _, codec, pixel_format, self.bits = formats[video_format]
        height, width = size
        if pixel_format.endswith("420p") and (height % 2 or width % 2):
            raise ValueError(f"{video_format} needs an even width and height; the frames are {width}x{height}.")
        self.path, self.temporary = Path(path), new_temporary(Path(path))
        self.alpha = pixel_format != "yuv420p"
        options = {"movflags": "use_metadata_tags"} if container_format in ("mov", "mp4") else {}
        self.container = av.open(str(self.temporary), mode="w", format=container_format, options=options)
        for key, value in (tags or {}).items():
            self.container.metadata[key] = value
        self.stream = self.container.add_stream(codec, rate=export.frame_rate(fps))
        self.stream.width, self.stream.height, self.stream.pix_fmt = width, height, pixel_format
        self.stream.thread_type = "AUTO"  # slices and frames, as the codec allows
        self.stream.codec_context.thread_count = cores()
        self.stream.options = export.CODEC_OPTIONS.get(codec, {})
        self.names = [self.path.name]

    def write(self, index: int, frame: torch.Tensor, alpha: torch.Tensor | None) -> None:
        self.container.mux(self.stream.encode(self._picture(frame, alpha)))

    def write_block(self, start: int, frames: torch.Tensor, alpha: torch.Tensor | None) -> None:
        """The block's pictures prepared one frame per core, then encoded in order."""
        pictures = map_frames(
            lambda offset: self._picture(frames[offset], None if alpha is None else alpha[offset]),
            range(frames.shape[0]),
        )
        for picture in pictures:
            self.container.mux(self.stream.encode(picture))

    def _picture(self, frame: torch.Tensor, alpha: torch.Tensor | None) -> av.VideoFrame:
        """One frame as the encoder takes it: quantised and converted to the stream's pixel format."""
        if self.alpha:
            pixels = export.quantise(frame, _opaque(frame, alpha), self.bits)
            picture = av.VideoFrame.from_ndarray(pixels, format="rgba" if self.bits == 8 else "rgba64le")
        else:
            pixels = frame.clamp(0.0, 1.0).mul(255).round().to(torch.uint8).numpy()
            picture = av.VideoFrame.from_ndarray(pixels, format="rgb24")
        return picture.reformat(format=self.stream.pix_fmt)

    def finish(self) -> None:
        self.container.mux(self.stream.encode())
        self.container.close()
        commit_staged(self.temporary, self.path)

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.container.close()
        discard(self.temporary)


class PreviewSink(Sink):
    """A small animated WebP of up to PREVIEW_FRAMES evenly spaced frames, for the node to show."""

    def __init__(self, path: Path, frames: int, fps: float) -> None:
        self.path, self.stride, self.fps = Path(path), max(1, -(-frames // PREVIEW_FRAMES)), fps
        self.pictures: list[Image.Image] = []
        self.names = [self.path.name]

    def write(self, index: int, frame: torch.Tensor, alpha: torch.Tensor | None) -> None:
        if index % self.stride:
            return
        picture = Image.fromarray(export.quantise(frame, _opaque(frame, alpha), 8), "RGBA")
        if picture.width > PREVIEW_WIDTH:
            height = max(1, round(picture.height * PREVIEW_WIDTH / picture.width))
            picture = picture.resize((PREVIEW_WIDTH, height), Image.BILINEAR)
        self.pictures.append(picture)

    def finish(self) -> None:
        duration = max(1, round(1000 * self.stride / self.fps))
        first, rest = self.pictures[0], self.pictures[1:]
        with contextlib.ExitStack() as cleanup:
            temporary = new_temporary(self.path)
            cleanup.callback(discard, temporary)
            first.save(temporary, format="WEBP", save_all=True, append_images=rest, duration=duration, loop=0)
            commit_staged(temporary, self.path)
