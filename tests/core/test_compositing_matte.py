"""Matte Refine and Chroma Key on constructed ground truth: known foreground, alpha and background."""

from __future__ import annotations

import pytest
import torch
from test_compositing_scenes import composite, rough_mask, soft_disc, textured

from worldkit.models.compositing.chroma_key import chroma_key
from worldkit.models.compositing.matte import MatteSettings, despill, refine_matte, temporal_smooth


def sad(estimate: torch.Tensor, truth: torch.Tensor) -> float:
    return float((estimate - truth).abs().sum())


def gradient_error(estimate: torch.Tensor, truth: torch.Tensor) -> float:
    """Rhemann et al.'s gradient error: squared difference of gradient magnitudes."""
    ey, ex = torch.gradient(estimate, dim=(1, 2))
    ty, tx = torch.gradient(truth, dim=(1, 2))
    return float(((torch.sqrt(ex**2 + ey**2) - torch.sqrt(tx**2 + ty**2)) ** 2).sum())


@pytest.fixture
def scene():
    alpha = soft_disc(3, edge=2.0)
    image = composite(textured(3, (0.8, 0.3, 0.2), 0.2, seed=1), textured(3, (0.2, 0.4, 0.7), 0.2, seed=2), alpha)
    return image, alpha


@pytest.mark.parametrize(("grow", "blur"), [(2, 1.5), (4, 3.0)])
def test_refine_lowers_sad_and_gradient_error(scene, grow, blur):
    image, truth = scene
    rough = rough_mask(truth, grow=grow, blur=blur)
    _, refined = refine_matte(image, rough)
    assert refined.shape == truth.shape
    assert sad(refined, truth) < 0.7 * sad(rough, truth)
    assert gradient_error(refined, truth) < 0.2 * gradient_error(rough, truth)


def test_refined_matte_has_clean_core_and_background(scene):
    image, truth = scene
    _, refined = refine_matte(image, rough_mask(truth, grow=2, blur=1.5))
    core = soft_disc(3, radius=24.0) == 1.0  # 4 px inside the true edge
    far = soft_disc(3, radius=56.0) == 0.0  # beyond the band the edge can move in
    assert float((refined[core] == 1.0).float().mean()) > 0.97
    assert torch.all(refined[far] == 0.0)


def test_choke_shrinks_and_negative_choke_grows(scene):
    image, truth = scene
    rough = rough_mask(truth, grow=2, blur=1.5)
    base = refine_matte(image, rough, MatteSettings(temporal=0.0))[1].sum()
    choked = refine_matte(image, rough, MatteSettings(temporal=0.0, choke=3))[1].sum()
    grown = refine_matte(image, rough, MatteSettings(temporal=0.0, choke=-3))[1].sum()
    assert choked < base < grown


def test_temporal_smoothing_keeps_moving_edges_and_steadies_flicker():
    still = torch.zeros(3, 8, 8)
    still[1] = 0.55
    still[[0, 2]] = 0.5
    steadied = temporal_smooth(still[0], still[1], still[2], strength=1.0, motion_threshold=0.2)
    assert torch.allclose(steadied, torch.full((8, 8), 0.5 + 0.05 / 3 * (1.0 + 0.0)), atol=0.02)
    assert float((steadied - 0.5).abs().max()) < 0.05
    moving = torch.stack([torch.zeros(8, 8), torch.ones(8, 8), torch.ones(8, 8)])  # an edge arrives at frame 1
    assert torch.equal(temporal_smooth(moving[0], moving[1], moving[2], 1.0, 0.2), torch.ones(8, 8))


def test_despill_limits_green_to_the_other_channels():
    spilled = torch.tensor([[[[0.5, 0.9, 0.3]]]])
    cleaned = despill(spilled, "green", 1.0)
    assert torch.allclose(cleaned, torch.tensor([[[[0.5, 0.4, 0.3]]]]))
    assert torch.equal(despill(torch.tensor([[[[0.5, 0.2, 0.3]]]]), "green", 1.0), torch.tensor([[[[0.5, 0.2, 0.3]]]]))


def test_chroma_key_recovers_alpha_of_a_green_screen_shot():
    alpha = soft_disc(2, edge=3.0)
    subject = textured(2, (0.7, 0.45, 0.35), 0.1, seed=3)
    screen = torch.tensor([0.1, 0.8, 0.15]).expand_as(subject)
    image, matte = chroma_key(composite(subject, screen, alpha), "green", clip_black=0.0, clip_white=1.0)
    assert float((matte - alpha).abs().mean()) < 0.02
    assert torch.all(matte[alpha == 1.0] > 0.97) and torch.all(matte[alpha == 0.0] < 0.03)
    edge = (alpha > 0.2) & (alpha < 0.8)
    green_excess = image[..., 1] - 0.5 * (image[..., 0] + image[..., 2])
    assert float(green_excess[edge].max()) <= 1e-6


def test_mismatched_sizes_frames_and_nans_are_reported(scene):
    image, truth = scene
    with pytest.raises(ValueError, match="mask is 64x48 but image is 128x96"):
        refine_matte(image, truth[:, :48, :64])
    with pytest.raises(ValueError, match="mask has 2 frames but 3 are needed"):
        refine_matte(image, truth[:2])
    broken = image.clone()
    broken[1, 5, 5, 0] = float("nan")
    with pytest.raises(ValueError, match="image contains NaN or infinite values \\(first at frame 1\\)"):
        refine_matte(broken, truth)
    checked = image.clone()
    refine_matte(checked, truth)
    checked[2, 0, 0, 2] = float("nan")  # edited in place after a successful check: scanned again
    with pytest.raises(ValueError, match="first at frame 2"):
        refine_matte(checked, truth)
    with pytest.raises(ValueError, match="must be an IMAGE batch"):
        refine_matte(image[0], truth)
    with pytest.raises(ValueError, match="clip_black"):
        refine_matte(image, truth, MatteSettings(clip_black=0.9, clip_white=0.5))
