"""A Wan DiT's structure read from its weight shapes, and the expert pairs that are refused."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from worldkit.models.shots.binding import FamilyError
from worldkit.models.shots.binding.structure import ModelStructure, expert_pair_problem, model_structure


def patcher(width=16, in_dim=16, out_dim=16, blocks=2, vace_blocks=0, seed=0, dtype=torch.float32):
    weights = torch.Generator().manual_seed(seed)
    dit = SimpleNamespace(
        patch_embedding=SimpleNamespace(weight=torch.randn(width, in_dim, 1, 2, 2, generator=weights).to(dtype)),
        head=SimpleNamespace(head=SimpleNamespace(weight=torch.zeros(out_dim * 4, width))),
        blocks=[object()] * blocks,
    )
    if vace_blocks:
        dit.vace_patch_embedding = object()
        dit.vace_blocks = [object()] * vace_blocks
    return SimpleNamespace(model=SimpleNamespace(diffusion_model=dit))


def test_the_structure_is_read_from_the_weights():
    assert model_structure(patcher(width=5120, blocks=40)) == ModelStructure("t2v", 5120, 16, 16, 40, 0)
    assert model_structure(patcher(in_dim=36)).kind == "i2v"
    assert model_structure(patcher(vace_blocks=1)).vace_blocks == 1
    with pytest.raises(FamilyError, match="not a Wan video model"):
        model_structure(SimpleNamespace(model=SimpleNamespace(diffusion_model=SimpleNamespace())))


def test_two_files_of_one_structure_are_a_pair():
    assert expert_pair_problem(patcher(seed=1), patcher(seed=2)) is None


@pytest.mark.parametrize(
    ("low", "found"),
    [
        (patcher(width=32, seed=2), "differ in width"),  # a 5B beside a 14B
        (patcher(in_dim=36, seed=2), "differ in kind, in_channels"),  # I2V beside T2V
        (patcher(vace_blocks=1, seed=2), "differ in kind, vace_blocks"),  # Fun VACE beside plain
        (patcher(blocks=3, seed=2), "differ in blocks"),
    ],
)
def test_experts_of_different_structure_are_refused_naming_both(low, found):
    problem = expert_pair_problem(patcher(seed=1), low)
    assert found in problem
    assert problem.startswith("model is Wan t2v, width 16, 2 blocks, 16 input / 16 output channels but low_noise_model")
    assert "connect the high-noise file to model and the low-noise file" in problem


def test_one_model_connected_twice_is_refused():
    high = patcher(seed=1)
    clone = SimpleNamespace(model=high.model)  # a patched clone (a LoRA) shares the loaded weights
    for low in (high, clone):
        assert expert_pair_problem(high, low).startswith("model and low_noise_model are the same loaded model")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float8_e4m3fn])
def test_one_file_loaded_twice_is_refused(dtype):
    problem = expert_pair_problem(patcher(seed=1, dtype=dtype), patcher(seed=1, dtype=dtype))
    assert problem.startswith("model and low_noise_model hold the same weights (one file loaded twice)")
