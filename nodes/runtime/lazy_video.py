"""ComfyUI's VIDEO type over the engine's lazy clips: frames are computed only when something writes or unpacks them.

A `LazyVideo` is what GVFX nodes give when fed a VIDEO. Core Save Video calls `save_to`, which streams the whole
chain from the plates' decoders to the encoder in one pass; Get Video Components (or anything else asking for
the components) gets the frames as an IMAGE batch. It may carry an alpha (a matte) beside its RGB.
"""

from __future__ import annotations

import json
import tempfile
from fractions import Fraction
from pathlib import Path

from comfy_api.latest import Input, Types

from ...models.streaming.clips import Clip
from ...models.streaming.ops import mapped
from ...models.streaming.passes import run_pass
from ...models.streaming.reader import materialize
from ...models.streaming.sinks import VideoSink
from .progress import NodeProgress

H264 = "mp4 (H.264)"
DEFAULT_FPS = Fraction(24)


class LazyVideo(Input.Video):
    """RGB frames and an optional alpha, both engine clips, at a frame rate."""

    def __init__(self, image: Clip, alpha: Clip | None = None, fps: Fraction | None = None) -> None:
        self.image, self.alpha = image, alpha
        self.fps = Fraction(fps or image.fps or DEFAULT_FPS)

    def get_components(self) -> Types.VideoComponents:
        return Types.VideoComponents(images=materialize(self.image), frame_rate=self.fps)

    def save_to(self, path, format=Types.VideoContainer.AUTO, codec=Types.VideoCodec.AUTO, metadata=None) -> None:
        """An H.264 MP4 as core Save Video writes it, streamed; a file path is written atomically."""
        if format not in (Types.VideoContainer.AUTO, Types.VideoContainer.MP4, "auto", "mp4"):
            raise ValueError("Only MP4 format is supported for now")
        tags = {key: json.dumps(value) for key, value in (metadata or {}).items()}
        if isinstance(path, (str, Path)):
            self._encode(Path(path), tags)
            return
        with tempfile.TemporaryDirectory() as folder:
            target = Path(folder) / "video.mp4"
            self._encode(target, tags)
            path.write(target.read_bytes())

    def _encode(self, path: Path, tags: dict[str, str]) -> None:
        sink = VideoSink(path, H264, float(self.fps), (self.image.height, self.image.width), tags)
        run_pass(self.image, None, [sink], progress=NodeProgress(self.image.frames))

    def get_dimensions(self) -> tuple[int, int]:
        return self.image.width, self.image.height

    def get_frame_count(self) -> int:
        return self.image.frames

    def get_frame_rate(self) -> Fraction:
        return self.fps

    def get_duration(self) -> float:
        return float(self.image.frames / self.fps)

    def get_container_format(self) -> str:
        return "mp4"


STREAMED_MATTE = (
    "this MASK holds a streamed matte (a VIDEO, because the GVFX node that made it was fed VIDEO frames), which "
    "GVFX nodes and Save With Alpha read but core mask nodes cannot. Feed that GVFX node IMAGE batches instead "
    "(Get Video Components before it), or connect this output to a GVFX node or Save With Alpha."
)


class MatteVideo(LazyVideo):
    """A streaming node's MASK output. The socket is typed MASK, so a core mask node may be handed it: the first
    tensor attribute that node asks for raises an error saying what the output holds and what to do."""

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        raise AttributeError(f"'{name}' asked of a MASK output: {STREAMED_MATTE}")


def matte_video(matte: Clip, fps: Fraction | None) -> MatteVideo:
    """A matte as a VIDEO: grey RGB showing it, and itself as the alpha."""
    grey = mapped(matte, lambda block: block[..., None].expand(*block.shape, 3), (*matte.frame_shape, 3))
    return MatteVideo(grey, matte, fps)
