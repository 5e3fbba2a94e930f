"""KSampler and Wan 2.2's two-KSamplerAdvanced template, as ComfyUI's own nodes run them.

Sampling follows ComfyUI's common_ksampler exactly (fix_empty_latent_channels, prepare_noise, noise_mask,
comfy.sample.sample), so model patches and LoRAs apply and strength-0 output equals KSampler's bit for bit; with
two experts, each runs as a KSamplerAdvanced of the template (models/sampling/experts.py holds its calls and the
switch rule).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import comfy.sample
import comfy.samplers
import torch

from ...models.sampling.experts import (
    AUTO_SWITCH,
    HIGH,
    LOW,
    ExpertCall,
    ExpertSwitch,
    boundary_for,
    choose_switch,
    expert_calls,
)
from ...models.shots.binding import BoundShot, weight_kind
from ...models.shots.binding.structure import expert_pair_problem


@dataclass(frozen=True)
class SamplerSettings:
    """KSampler's settings, as the World Shot Sampler takes them."""

    sampler_name: str
    scheduler: str
    steps: int
    cfg: float
    denoise: float


def sample_latent(
    model: Any,
    latent: dict[str, torch.Tensor],
    positive: list,
    negative: list,
    seed: int,
    settings: SamplerSettings,
    callback: Callable | None = None,
    call: ExpertCall | None = None,
) -> torch.Tensor:
    """What ComfyUI's KSampler node does with these inputs (nodes.common_ksampler), returning the samples;
    with ``call``, what KSamplerAdvanced does (its noise, start and end steps, leftover noise)."""
    call = call or ExpertCall(HIGH, True, None, None, False)
    latent_image = comfy.sample.fix_empty_latent_channels(model, latent["samples"])
    if call.add_noise:
        noise = comfy.sample.prepare_noise(latent_image, seed, latent.get("batch_index"))
    else:
        noise = torch.zeros(latent_image.size(), dtype=latent_image.dtype, layout=latent_image.layout, device="cpu")
    return comfy.sample.sample(
        model,
        noise,
        settings.steps,
        settings.cfg,
        settings.sampler_name,
        settings.scheduler,
        positive,
        negative,
        latent_image,
        denoise=settings.denoise,
        disable_noise=not call.add_noise,
        start_step=call.start_step,
        last_step=call.last_step,
        force_full_denoise=call.force_full_denoise,
        noise_mask=latent.get("noise_mask"),
        callback=callback,
        disable_pbar=True,
        seed=seed,
    )


@dataclass(frozen=True)
class Experts:
    """The model a clip is sampled with, or Wan 2.2's high- and low-noise experts and the step they switch at."""

    high: Any
    low: Any = None
    switch: ExpertSwitch | None = None

    def models(self) -> list[Any]:
        return [model for model in (self.high, self.low) if model is not None]

    def barriers(self) -> tuple[int, ...]:
        """The step count at which a candidate moves to the other expert, when both run."""
        if self.low is None or not 0 < self.switch.step < self.switch.steps:
            return ()
        return (self.switch.step,)

    def sample(
        self, bound: BoundShot, seed: int, settings: SamplerSettings, callback: Callable | None = None
    ) -> torch.Tensor:
        """KSampler on the bound shot with one model; with two, ComfyUI's template: KSamplerAdvanced on each expert
        in turn, the second taking the first's LATENT (its noise mask and batch index kept) and adding no noise."""
        conditioning = (bound.positive, bound.negative)
        if self.low is None:
            return sample_latent(self.high, bound.latent, *conditioning, seed, settings, callback)
        experts, current, samples = {HIGH: self.high, LOW: self.low}, bound.latent, None
        for call in expert_calls(self.switch.step, settings.steps):
            samples = sample_latent(experts[call.expert], current, *conditioning, seed, settings, callback, call)
            current = {**bound.latent, "samples": samples}
        return samples


def step_timesteps(model: Any, settings: SamplerSettings) -> list[float]:
    """The timestep of each step KSampler takes with these settings (its own sigmas: scheduler, shift, the
    sampler's discarded penultimate sigma and denoise included)."""
    sigmas = comfy.samplers.KSampler(
        model, settings.steps, "cpu", settings.sampler_name, settings.scheduler, settings.denoise
    ).sigmas
    return [float(t) for t in model.get_model_object("model_sampling").timestep(sigmas[:-1])]


def expert_switch(model: Any, settings: SamplerSettings, switch_step: int) -> ExpertSwitch:
    """The user's switch step, or Wan 2.2's rule on the high-noise expert's schedule."""
    boundary = boundary_for(weight_kind(model)) if switch_step == AUTO_SWITCH else None
    return choose_switch(switch_step, step_timesteps(model, settings), boundary)


def shot_experts(model: Any, low_noise_model: Any, settings: SamplerSettings, switch_step: int) -> Experts:
    """One model, or Wan 2.2's two experts checked as a pair, with the step they switch at."""
    if low_noise_model is None:
        if switch_step != AUTO_SWITCH:
            raise ValueError(
                f"switch_step is {switch_step} but no low_noise_model is connected; connect Wan 2.2's low-noise "
                "expert to low_noise_model, or set switch_step to 0."
            )
        return Experts(model)
    problem = expert_pair_problem(model, low_noise_model)
    if problem:
        raise ValueError(problem)
    return Experts(model, low_noise_model, expert_switch(model, settings, switch_step))
