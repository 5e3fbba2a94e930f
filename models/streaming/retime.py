"""Frame-rate conform over lazy clips: each output frame made from the two source frames around its position."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import torch

from ..compositing.checks import check_choice
from ..compositing.conform import METHODS, conform_frame, pair_flows, source_positions
from .clips import Clip, FrameReader, Frames, Producer
from .ops import clip_length, sizes_match


def matte_fits(matte: Clip, image: Clip) -> None:
    """The element's matte is retimed with it, so it must have its size, and its frames or one."""
    sizes_match(("element_mask", matte, "element", image))
    clip_length(element=image, element_mask=matte)
    if matte.frames > image.frames:
        raise ValueError(
            f"element_mask has {matte.frames} frames but element has {image.frames}; give the matte the element's "
            "frames (or a single frame for all of them)."
        )


class Conformed(Producer):
    """A clip and its alpha (None: opaque) retimed from fps_in to fps_out; output frame j shows source position
    j * fps_in / fps_out. Reading back at most two source frames, it keeps a lookback of 2."""

    lookback = 2

    def __init__(self, image: Clip, alpha: Clip | None, fps_in: float, fps_out: float, method: str) -> None:
        self.image, self.alpha, self.method = image, alpha, check_choice("method", method, METHODS)
        if alpha is not None:
            matte_fits(alpha, image)
        self.positions = source_positions(image.frames, fps_in, fps_out)
        self.frames = len(self.positions)
        self.fps = Fraction(fps_out).limit_denominator(1001)
        self.flows: tuple[int, tuple[np.ndarray, np.ndarray]] | None = None

    def inputs(self) -> list[Clip]:
        return [clip for clip in (self.image, self.alpha) if clip is not None]

    def clips(self) -> list[Clip]:
        return [Clip(self, 0, self.image.frame_shape, self.fps), Clip(self, 1, self.image.frame_shape[:2], self.fps)]

    def _flows_for(self, index: int, pair: torch.Tensor):
        """The flows between source frames index and index + 1, kept for the next output frames between them; asked
        only for a frame between the two (weight above 0), so `pair` holds both."""
        if self.method != "motion":
            return None
        if self.flows is None or self.flows[0] != index:
            self.flows = index, pair_flows(pair[0], pair[1])
        return self.flows[1]

    def produce(self, reader: FrameReader, start: int, stop: int) -> Frames:
        positions = self.positions[start:stop]
        first = int(positions[0])
        last = min(self.image.frames, int(positions[-1]) + 2)
        source = reader.read(self.image, first, last)
        alpha = torch.ones(source.shape[:3]) if self.alpha is None else reader.read(self.alpha, first, last)
        images, alphas = [], []
        for position in positions:
            index = int(position)
            pair, pair_alpha = source[index - first : index - first + 2], alpha[index - first : index - first + 2]
            weight = float(position - index)
            flows = self._flows_for(index, pair) if weight >= 1e-4 else None
            image, matte = conform_frame(pair, pair_alpha, weight, self.method, flows)
            images.append(image)
            alphas.append(matte)
        return torch.stack(images), torch.stack(alphas)
