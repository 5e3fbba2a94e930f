"""Constructed scenes with known foreground, alpha and plate, shared by the compositing tests, and checks of them."""

from __future__ import annotations

import numpy as np
import torch

HEIGHT, WIDTH = 96, 128


def soft_disc(
    frames: int = 2, centre_x: float = 64.0, step_x: float = 0.0, radius: float = 28.0, edge: float = 2.0
) -> torch.Tensor:
    """True alpha [frames, H, W]: a disc with a linear soft edge `edge` pixels wide, moving `step_x` pixels a frame."""
    ys, xs = torch.meshgrid(
        torch.arange(HEIGHT, dtype=torch.float32), torch.arange(WIDTH, dtype=torch.float32), indexing="ij"
    )
    discs = []
    for index in range(frames):
        distance = torch.sqrt((xs - centre_x - step_x * index) ** 2 + (ys - HEIGHT / 2) ** 2)
        discs.append(((radius - distance) / edge + 0.5).clamp(0.0, 1.0))
    return torch.stack(discs)


def textured(
    frames: int, base: tuple[float, float, float], amplitude: float, seed: int, size: tuple[int, int] = (HEIGHT, WIDTH)
) -> torch.Tensor:
    """A smooth colour field with mild low-frequency texture [frames, *size, 3]."""
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.rand(frames, 3, size[0] // 16, size[1] // 16, generator=generator)
    texture = torch.nn.functional.interpolate(coarse, size=size, mode="bilinear", align_corners=False)
    return (
        (torch.tensor(base)[None, :, None, None] + amplitude * (texture - 0.5))
        .clamp(0, 1)
        .permute(0, 2, 3, 1)
        .contiguous()
    )


def composite(foreground: torch.Tensor, background: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """The image a camera would see: foreground over background with the true alpha."""
    return foreground * alpha[..., None] + background * (1.0 - alpha[..., None])


def rough_mask(alpha: torch.Tensor, grow: int = 4, blur: float = 3.0) -> torch.Tensor:
    """A segmentation-style blob: the true matte thresholded, grown and blurred."""
    import cv2

    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1))
    frames = [cv2.GaussianBlur(cv2.dilate((a.numpy() > 0.5).astype(np.float32), kernel), (0, 0), blur) for a in alpha]
    return torch.from_numpy(np.stack(frames))


def drifting_screen_shot(frames: int = 40) -> tuple[torch.Tensor, torch.Tensor]:
    """(image, true alpha) of a subject over a grainy green screen whose hue drifts towards yellow over the clip,
    fastest at its end: long enough that the engine's sample of the screen (about 8 spread frames) skips frames."""
    alpha = soft_disc(1, edge=3.0).expand(frames, HEIGHT, WIDTH)
    subject = textured(1, (0.7, 0.45, 0.35), 0.1, seed=3).expand(frames, HEIGHT, WIDTH, 3)
    red = 0.1 + 0.4 * torch.linspace(0, 1, frames) ** 2
    screen = torch.stack([red, torch.full((frames,), 0.8), torch.full((frames,), 0.15)], -1)[:, None, None, :]
    grain = torch.randn(frames, HEIGHT, WIDTH, 3, generator=torch.Generator().manual_seed(0)) * 0.02
    return (composite(subject, screen.expand(frames, HEIGHT, WIDTH, 3), alpha) + grain).clamp(0, 1), alpha


def test_soft_disc_has_the_requested_edge_and_motion():
    alpha = soft_disc(2, step_x=5.0, radius=20.0, edge=4.0)
    row = alpha[0, HEIGHT // 2]
    assert float(row[64]) == 1.0 and float(row[0]) == 0.0
    ramp = row[(row > 0) & (row < 1)]
    assert 6 <= ramp.numel() <= 10  # two edges of about 4 px each
    assert torch.equal(alpha[1, :, 5:], alpha[0, :, :-5])


def test_composite_and_rough_mask_behave_as_described():
    alpha = soft_disc(1)
    front, back = textured(1, (0.8, 0.2, 0.2), 0.1, seed=1), textured(1, (0.2, 0.2, 0.8), 0.1, seed=2)
    image = composite(front, back, alpha)
    assert torch.equal(image[alpha == 1], front[alpha == 1]) and torch.equal(image[alpha == 0], back[alpha == 0])
    rough = rough_mask(alpha, grow=4, blur=2.0)
    assert float(rough[alpha == 1].min()) > 0.98 and float((rough - alpha).abs().sum()) > 100
