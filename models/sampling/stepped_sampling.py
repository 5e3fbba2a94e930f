"""Candidates sampled side by side, step-interleaved, each exactly as it would be sampled alone.

Why not one batch: a batch of candidates changes the numbers (the DiT's matrix products and attention over
a batch of 2 differ from two lone calls by ~3e-7 on a CPU, and samplers draw their step noise for the
whole batch), and a running sampler cannot drop part of its batch. Why not stop and resume: cutting a
sampler's sigmas at the check step and starting again loses multistep history (dpmpp_2m, uni_pc, …).

So every candidate runs the host's own sampling (under ComfyUI, ``sample_latent`` in
nodes/runtime/ksampling.py, i.e. KSampler's path) in a thread of its own, and its step callback hands
control back: exactly one thread runs at a time, the others wait inside their callback with their whole
sampler state untouched. Resuming a candidate continues the very same loop, so a survivor's latent is
bit-identical to a lone render for every sampler; stopping one raises inside its callback, so it makes no
further model calls. Progress, previews and the interrupt check run on the calling thread. Memory: the
waiting candidates hold only their sampler state (a few latents each); model activations exist for the
running one only.
"""

from __future__ import annotations

import contextvars
import math
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any

import torch

_GO, _STOP = "go", "stop"


class _Stopped(Exception):
    """Raised inside a candidate's step callback to end its sampling."""


class CandidateThread:
    """One candidate's sampling in a thread that runs only while the caller waits for its next step."""

    def __init__(self, run: Callable[[Callable], torch.Tensor]) -> None:
        self.commands: queue.Queue[str] = queue.Queue()
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.steps = 0
        self.denoised: torch.Tensor | None = None
        self.result: torch.Tensor | None = None
        self.running = True
        inference, grad = torch.is_inference_mode_enabled(), torch.is_grad_enabled()

        def body() -> None:
            if self.commands.get() == _STOP:
                self.events.put(("stopped", None))
                return
            try:
                with torch.inference_mode(inference), torch.set_grad_enabled(grad):
                    self.events.put(("done", run(self._callback)))
            except _Stopped:
                self.events.put(("stopped", None))
            except BaseException as error:  # handed to the caller, which raises it
                self.events.put(("error", error))

        self.thread = threading.Thread(target=contextvars.copy_context().run, args=(body,), daemon=True)
        self.thread.start()

    def _callback(self, step: int, denoised: torch.Tensor, x: torch.Tensor, total_steps: int) -> None:
        self.events.put(("step", (step, denoised, x, total_steps)))
        if self.commands.get() == _STOP:
            raise _Stopped

    def resume(self) -> tuple[str, Any]:
        """Let the candidate run to its next step (or its end); what happened."""
        self.commands.put(_GO)
        kind, payload = self.events.get()
        if kind == "error":
            self.running = False
            raise payload
        if kind == "done":
            self.running, self.result = False, payload
            self.thread.join()
        return kind, payload

    def stop(self) -> BaseException | None:
        """End the candidate's sampling (its clean-up runs); the error its clean-up raised, if any."""
        if not self.running:
            return None
        self.running = False
        self.commands.put(_STOP)
        kind, payload = self.events.get()
        self.thread.join()
        return payload if kind == "error" else None


class InterleavedSampling:
    """``SteppedSampling`` over candidate threads (see the module docstring).

    ``runs[i](callback)`` samples candidate i; ``on_step(step, denoised, x, total)`` is the usual KSampler
    callback (progress, preview, interrupt), run here for every step of every candidate; ``before_resume``
    restores what a finished candidate's clean-up cleared on the shared model (ModelPatcher.cleanup resets
    ``current_patcher``, which the others still use).

    ``barriers`` are step counts no candidate passes before every running one has reached them: where a run
    changes models (two experts), so the candidates never alternate between models that need not both fit in
    memory. It only reorders steps every running candidate takes anyway.
    """

    def __init__(
        self,
        runs: list[Callable[[Callable], torch.Tensor]],
        on_step: Callable[..., None],
        before_resume: Callable[[], None] = lambda: None,
        barriers: Sequence[int] = (),
    ) -> None:
        self.threads = [CandidateThread(run) for run in runs]
        self.on_step = on_step
        self.before_resume = before_resume
        self.barriers = sorted(barriers)

    def _step(self, thread: CandidateThread) -> None:
        self.before_resume()
        kind, payload = thread.resume()
        if kind == "step":
            thread.steps += 1
            thread.denoised = payload[1]
            self.on_step(*payload)

    def _run_to(self, thread: CandidateThread, steps: float) -> None:
        while thread.running and thread.steps < steps:
            self._step(thread)

    def _reach_barriers(self, steps: float) -> None:
        """Every running candidate at each barrier below ``steps``, before any goes past it."""
        for barrier in self.barriers:
            if barrier < steps:
                for thread in self.threads:
                    self._run_to(thread, barrier)

    def advance(self, index: int, steps: int) -> torch.Tensor | None:
        thread = self.threads[index]
        self._reach_barriers(steps)
        self._run_to(thread, steps)
        return thread.denoised if thread.running else None

    def finish(self, index: int) -> torch.Tensor:
        thread = self.threads[index]
        self._reach_barriers(math.inf)
        self._run_to(thread, math.inf)
        thread.denoised = None
        return thread.result

    def stop(self, index: int) -> None:
        self.threads[index].denoised = None
        error = self.threads[index].stop()
        if error is not None:
            raise error

    def close(self) -> None:
        """Stop every candidate still sampling; runs after an error too, so it raises nothing of its own."""
        for thread in self.threads:
            thread.denoised = None
            thread.stop()
