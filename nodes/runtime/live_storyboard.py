"""The storyboard's live view while World Shot Sampler renders, sent over ComfyUI's own websocket.

The engine reports each shot it starts, each search check (every judged candidate's early x0 decode, the
survivors) and each shot done (its kept frames); this module turns those into small JPEG thumbnails and sends
them with the progress of the whole list as ``worldkit.storyboard.live`` messages to the client that queued the
prompt, as ComfyUI sends its own ``progress`` (``PromptServer.send_sync``). Checks are few per shot, and the step
ticks between them are sent at most every ``PROGRESS_INTERVAL_S``, so the view costs little.
"""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Callable
from typing import Any

import torch
from comfy_execution.utils import get_executing_context
from PIL import Image
from server import PromptServer

from ...models.sampling.search import early_frames_at_size
from .progress import NodeProgress

LIVE_EVENT = "worldkit.storyboard.live"
THUMBNAIL_SIDE = 96  # longest side, pixels, of a live candidate preview
JPEG_QUALITY = 70
PROGRESS_INTERVAL_S = 0.5

Send = Callable[[str, dict[str, Any]], None]


def send_to_client(event: str, data: dict[str, Any]) -> None:
    """To the client that queued the running prompt (everyone when it named none), as ComfyUI's progress goes;
    nowhere when the node runs without ComfyUI's server (a benchmark calling it directly)."""
    server = getattr(PromptServer, "instance", None)
    if server is not None:
        server.send_sync(event, data, server.client_id)


def jpeg_thumbnail(frames: torch.Tensor) -> str:
    """The middle frame of IMAGE frames ``[F, H, W, 3]`` as a small JPEG data URL."""
    frame = early_frames_at_size(frames[frames.shape[0] // 2 :][:1].float().cpu(), THUMBNAIL_SIDE)[0]
    pixels = (frame.clamp(0.0, 1.0) * 255.0).round().to(torch.uint8).numpy()
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


class LiveProgress(NodeProgress):
    """The node's progress bar, and the storyboard's live view of the same render. ``shot_steps``: each shot's
    sampler steps by number; a shot taken from the shot cache advances the bar by its steps at once."""

    def __init__(
        self, shot_steps: dict[int, int], send: Send = send_to_client, clock: Callable[[], float] = time.monotonic
    ) -> None:
        total = sum(shot_steps.values())
        super().__init__(total)
        context = get_executing_context()
        self.shot_steps = shot_steps
        self.total = max(int(total), 1)
        self.node = None if context is None else context.node_id
        self.prompt_id = None if context is None else context.prompt_id
        self.send, self.clock = send, clock
        self.shot: int | None = None
        self.last_sent = -float("inf")

    def __call__(self, count: int = 1, preview: Any = None) -> None:
        super().__call__(count, preview)
        if self.clock() - self.last_sent >= PROGRESS_INTERVAL_S:
            self.emit({"event": "progress"})

    def live(self, event: dict[str, Any], previews: dict[int, torch.Tensor]) -> None:
        """The engine's ``ShotPipeline.live``: one message per shot started, check made and shot done."""
        if "shot" in event:
            self.shot = event["shot"]
        if event["event"] == "done" and event["cached"]:
            super().__call__(self.shot_steps.get(self.shot, 0))
        thumbnails = {str(index): jpeg_thumbnail(frames) for index, frames in previews.items()}
        self.emit({**event, "previews": thumbnails})

    def emit(self, event: dict[str, Any]) -> None:
        self.last_sent = self.clock()
        progress = {"done": self.done, "total": self.total}
        self.send(
            LIVE_EVENT,
            {"node": self.node, "prompt_id": self.prompt_id, "shot": self.shot, **event, "progress": progress},
        )
