"""Two experts (Wan 2.2 A14B): where the high-noise expert hands over to the low-noise one, and the two
KSamplerAdvanced calls that sample a clip across the switch.

Wan 2.2's reference code runs the high-noise expert while a step's timestep is at or above
``boundary × 1000`` and the low-noise expert from the first step below it; the boundary is 0.875 for
text-to-video (and Fun VACE 2.2, built on it) and 0.9 for image-to-video. The timesteps are those of
the schedule ComfyUI really samples (scheduler, shift, sampler and denoise included), so the rule's
step is the one a user would read off ComfyUI's own sigmas.

With denoise below 1, KSampler samples the last ``steps`` steps of a longer schedule; the switch step
counts within those ``steps`` (as KSamplerAdvanced's start and end steps would with the same denoise),
and the rule reads the timesteps of those steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

AUTO_SWITCH = 0  # switch_step 0: Wan 2.2's rule picks the step
TRAIN_TIMESTEPS = 1000  # Wan's timesteps run 0..1000 (sigma × 1000 for its flow schedule)
# Wan 2.2's expert boundaries (its A14B configs' `boundary`), by the weight kind of the loaded experts.
EXPERT_BOUNDARIES = {"t2v": 0.875, "vace": 0.875, "i2v": 0.9, "flf": 0.9}
HIGH, LOW = "high", "low"


@dataclass(frozen=True)
class ExpertSwitch:
    """The step at which the low-noise expert takes over, and why there."""

    step: int  # steps 0 .. step-1 run on the high-noise expert, step .. steps-1 on the low-noise one
    steps: int
    source: str  # "rule" (Wan 2.2's boundary) or "user" (switch_step)
    boundary: float | None = None
    timestep: float | None = None  # the first low-noise step's timestep, under the rule

    def report(self) -> dict[str, Any]:
        found = {"switch_step": self.step, "steps": self.steps, "switched_by": self.source}
        if self.source == "rule":
            found["boundary"] = self.boundary
            found["boundary_timestep"] = round(self.boundary * TRAIN_TIMESTEPS, 6)
            found["first_low_noise_timestep"] = None if self.timestep is None else round(self.timestep, 6)
        return found


@dataclass(frozen=True)
class ExpertCall:
    """One KSamplerAdvanced call: which expert, whether it adds noise, its steps, whether it returns leftover noise."""

    expert: str
    add_noise: bool
    start_step: int | None
    last_step: int | None
    force_full_denoise: bool


def switch_step_problem(switch_step: int, steps: int) -> str | None:
    """Why ``switch_step`` cannot split ``steps`` steps between two experts, or None."""
    if switch_step == AUTO_SWITCH or 1 <= switch_step < steps:
        return None
    return (
        f"switch_step is {switch_step} but the sampler runs {steps} steps, so one expert would run them all; "
        f"use 1 to {steps - 1} (the step the low-noise expert starts at), or 0 for Wan 2.2's rule."
        if steps > 1
        else f"switch_step is {switch_step} but the sampler runs 1 step; set switch_step to 0 (Wan 2.2's rule)."
    )


def boundary_for(kind: str) -> float:
    """Wan 2.2's boundary for experts of weight kind ``kind``."""
    if kind not in EXPERT_BOUNDARIES:
        raise ValueError(
            f"Wan 2.2 has no expert boundary for {kind} models; set switch_step to the step the low-noise "
            "expert should start at."
        )
    return EXPERT_BOUNDARIES[kind]


def boundaries_in_words() -> str:
    """The boundaries for tooltips: "0.875 for T2V, VACE; 0.9 for I2V, FLF"."""
    kinds: dict[float, list[str]] = {}
    for kind, boundary in EXPERT_BOUNDARIES.items():
        kinds.setdefault(boundary, []).append(kind.upper())
    return "; ".join(f"{boundary} for {', '.join(names)}" for boundary, names in kinds.items())


def rule_switch_step(timesteps: Sequence[float], boundary: float) -> int:
    """The first step whose timestep is below ``boundary × 1000`` (``len(timesteps)`` when none is)."""
    limit = boundary * TRAIN_TIMESTEPS
    return next((step for step, timestep in enumerate(timesteps) if timestep < limit), len(timesteps))


def choose_switch(switch_step: int, timesteps: Sequence[float], boundary: float | None) -> ExpertSwitch:
    """The user's ``switch_step``, or under AUTO_SWITCH Wan 2.2's rule over the steps' ``timesteps``."""
    steps = len(timesteps)
    problem = switch_step_problem(switch_step, steps)
    if problem:
        raise ValueError(problem)
    if switch_step != AUTO_SWITCH:
        return ExpertSwitch(switch_step, steps, "user")
    step = rule_switch_step(timesteps, boundary)
    return ExpertSwitch(step, steps, "rule", boundary, float(timesteps[step]) if step < steps else None)


def expert_calls(switch: int, steps: int) -> list[ExpertCall]:
    """ComfyUI's two-expert template as calls: the high expert adds the noise and samples steps 0..switch,
    returning its leftover noise; the low expert adds none and samples switch..end. A switch at 0 (or at the
    end) leaves one expert, sampling as KSampler does."""
    if switch <= 0:
        return [ExpertCall(LOW, True, None, None, False)]
    if switch >= steps:
        return [ExpertCall(HIGH, True, None, None, False)]
    return [ExpertCall(HIGH, True, 0, switch, False), ExpertCall(LOW, False, switch, None, True)]
