"""Wan 2.2's two experts: the switch step (the boundary rule or the user's) and the template's two calls."""

from __future__ import annotations

import pytest

from worldkit.models.sampling.experts import (
    AUTO_SWITCH,
    HIGH,
    LOW,
    ExpertCall,
    boundaries_in_words,
    boundary_for,
    choose_switch,
    expert_calls,
    rule_switch_step,
    switch_step_problem,
)

# KSampler's timesteps for euler/simple, 6 steps, shift 8 (the tiny Wan's schedule): 1000 … 616.
SHIFTED = [1000.0, 975.72, 941.26, 888.89, 800.48, 615.95]


def test_the_boundaries_are_wan_2_2s():
    assert boundary_for("t2v") == boundary_for("vace") == 0.875
    assert boundary_for("i2v") == boundary_for("flf") == 0.9
    assert boundaries_in_words() == "0.875 for T2V, VACE; 0.9 for I2V, FLF"
    with pytest.raises(ValueError, match="no expert boundary for ti2v models; set switch_step"):
        boundary_for("ti2v")


def test_the_rule_switches_at_the_first_step_below_the_boundary():
    assert rule_switch_step(SHIFTED, 0.875) == 4  # 888.89 is still at or above 875
    assert rule_switch_step(SHIFTED, 0.9) == 3
    assert rule_switch_step([1000.0, 875.0, 874.99], 0.875) == 2  # at the boundary is still high noise
    assert rule_switch_step([1000.0, 990.0], 0.875) == 2  # never below: the high-noise expert runs every step
    assert rule_switch_step([800.0, 600.0], 0.875) == 0  # denoise starting below it: the low-noise one runs all


def test_choose_switch_reports_the_rule_or_the_user():
    rule = choose_switch(AUTO_SWITCH, SHIFTED, 0.875)
    assert rule.report() == {
        "switch_step": 4,
        "steps": 6,
        "switched_by": "rule",
        "boundary": 0.875,
        "boundary_timestep": 875.0,
        "first_low_noise_timestep": 800.48,
    }
    assert choose_switch(2, SHIFTED, None).report() == {"switch_step": 2, "steps": 6, "switched_by": "user"}


@pytest.mark.parametrize("step", [6, 7, 100])
def test_a_switch_step_that_leaves_one_expert_everything_is_refused(step):
    message = f"switch_step is {step} but the sampler runs 6 steps, so one expert would run them all; use 1 to 5"
    assert switch_step_problem(step, 6).startswith(message)
    with pytest.raises(ValueError, match="use 1 to 5"):
        choose_switch(step, SHIFTED, None)
    assert "set switch_step to 0" in switch_step_problem(1, 1)
    assert switch_step_problem(AUTO_SWITCH, 1) is None and switch_step_problem(5, 6) is None


def test_the_calls_are_comfyuis_template():
    """High: adds noise, steps 0..k, leftover noise returned. Low: no noise added, k..end, fully denoised."""
    assert expert_calls(2, 6) == [ExpertCall(HIGH, True, 0, 2, False), ExpertCall(LOW, False, 2, None, True)]


def test_a_rule_that_leaves_one_expert_samples_as_ksampler_with_it():
    assert expert_calls(0, 6) == [ExpertCall(LOW, True, None, None, False)]
    assert expert_calls(6, 6) == [ExpertCall(HIGH, True, None, None, False)]
