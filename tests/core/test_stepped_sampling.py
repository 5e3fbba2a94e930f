"""Candidates sampled step-interleaved: each runs only while advanced and ends exactly as a lone run."""

from __future__ import annotations

import contextvars
import threading

import pytest
import torch

from worldkit.models.sampling.search import run_search
from worldkit.models.sampling.stepped_sampling import InterleavedSampling

STEPS = 4
TAG: contextvars.ContextVar[str] = contextvars.ContextVar("TAG", default="unset")


def sampler(seed: int, log: list, steps: int = STEPS, fail_at: int | None = None, cleanup_error: bool = False):
    """A multistep sampler loop: each step is a model call (logged) whose result depends on the previous ones,
    reported through the step callback as KSampler's is; its clean-up always runs and is logged too."""

    def run(callback) -> torch.Tensor:
        x, history = torch.full((2,), float(seed)), torch.zeros(2)
        try:
            for step in range(steps):
                log.append((seed, step))
                if step == fail_at:
                    raise RuntimeError(f"sampler {seed} failed at step {step}")
                x, history = x * 0.5 + history * 0.25 + step, x
                callback(step, x + 100.0, x, steps)
            return x
        finally:
            log.append((seed, "cleanup"))
            if cleanup_error:
                raise OSError(f"sampler {seed} clean-up failed")

    return run


def lone(seed: int, steps: int = STEPS) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """The sampler run alone: its result and its x0 at every step."""
    denoised = []
    result = sampler(seed, [], steps)(lambda step, x0, x, total: denoised.append(x0))
    return result, denoised


def test_a_candidate_runs_only_while_advanced_and_ends_bit_identical_to_a_lone_run():
    log, seen = [], []
    caller = threading.current_thread()

    def on_step(step, x0, x, total):
        seen.append((step, total, threading.current_thread() is caller))

    sampling = InterleavedSampling([sampler(1, log), sampler(2, log), sampler(3, log)], on_step)
    try:
        assert log == [], "no candidate samples before it is advanced"
        x0 = sampling.advance(0, 2)
        assert log == [(1, 0), (1, 1)]
        assert torch.equal(x0, lone(1)[1][1])
        assert torch.equal(sampling.advance(1, 1), lone(2)[1][0])
        assert log == [(1, 0), (1, 1), (2, 0)]
        assert torch.equal(sampling.advance(0, 2), x0) and len(log) == 3, "a candidate already there is not stepped"
        assert torch.equal(sampling.finish(0), lone(1)[0])
        assert log[3:] == [(1, 2), (1, 3), (1, "cleanup")]
        assert torch.equal(sampling.finish(1), lone(2)[0])
        assert seen == [(0, STEPS, True), (1, STEPS, True), (0, STEPS, True)] + [
            (step, STEPS, True) for step in (2, 3, 1, 2, 3)
        ]
    finally:
        sampling.close()
    assert not any(seed == 3 for seed, _ in log), "a candidate never advanced made no model call"
    assert not any(thread.thread.is_alive() for thread in sampling.threads)


def test_a_stopped_candidate_makes_no_more_model_calls_and_cleans_up():
    log = []
    sampling = InterleavedSampling([sampler(1, log), sampler(2, log)], lambda *step: None)
    sampling.advance(0, 1)
    sampling.advance(1, 1)
    sampling.stop(0)
    assert log == [(1, 0), (2, 0), (1, "cleanup")]
    assert not sampling.threads[0].thread.is_alive()
    assert sampling.advance(0, 3) is None and log[-1] == (1, "cleanup")
    assert torch.equal(sampling.finish(1), lone(2)[0]), "the survivor is unchanged by the other's stop"
    sampling.close()
    assert log.count((1, "cleanup")) == 1 and log.count((2, "cleanup")) == 1


def test_advance_past_the_samplers_last_step_gives_none_and_keeps_the_result():
    log = []
    sampling = InterleavedSampling([sampler(5, log, steps=2)], lambda *step: None)
    assert sampling.advance(0, 3) is None
    assert log == [(5, 0), (5, 1), (5, "cleanup")]
    assert torch.equal(sampling.finish(0), lone(5, steps=2)[0])
    sampling.close()


def test_before_resume_runs_before_every_resume():
    log = []
    sampling = InterleavedSampling([sampler(1, log, steps=2)], lambda *step: None, lambda: log.append("restore"))
    sampling.finish(0)
    assert log == ["restore", (1, 0), "restore", (1, 1), "restore", (1, "cleanup")]


def test_a_samplers_error_reaches_the_caller_and_close_still_stops_the_rest():
    log = []
    sampling = InterleavedSampling([sampler(1, log), sampler(2, log, fail_at=1)], lambda *step: None)
    sampling.advance(0, 1)
    with pytest.raises(RuntimeError, match="sampler 2 failed at step 1"):
        sampling.advance(1, 2)
    sampling.close()
    assert log == [(1, 0), (2, 0), (2, 1), (2, "cleanup"), (1, "cleanup")]


def test_a_clean_up_error_is_raised_by_stop_and_swallowed_by_close():
    log = []
    sampling = InterleavedSampling([sampler(1, log, cleanup_error=True)] * 2, lambda *step: None)
    sampling.advance(0, 1)
    sampling.advance(1, 1)
    with pytest.raises(OSError, match="sampler 1 clean-up failed"):
        sampling.stop(0)
    sampling.close()
    assert log == [(1, 0), (1, 0), (1, "cleanup"), (1, "cleanup")]


def test_a_candidate_samples_in_the_callers_torch_modes_and_context():
    seen = []

    def run(callback):
        seen.append((torch.is_inference_mode_enabled(), torch.is_grad_enabled(), TAG.get()))
        return torch.zeros(1)

    TAG.set("caller's")
    with torch.inference_mode():
        InterleavedSampling([run], lambda *step: None).finish(0)
    with torch.no_grad():
        InterleavedSampling([run], lambda *step: None).finish(0)
    assert seen == [(True, False, "caller's"), (False, False, "caller's")]


def test_the_search_over_interleaved_candidates_keeps_lone_results_and_stops_the_pruned():
    log, seeds = [], [3, 1, 2]
    sampling = InterleavedSampling([sampler(seed, log) for seed in seeds], lambda *step: None)
    outcome = run_search(sampling, 3, [(1, 2), (2, 1)], lambda x0: float(x0.mean()))
    assert sorted(outcome.finished) == [0] and torch.equal(outcome.finished[0], lone(3)[0])
    assert outcome.pruned_at == {1: 1, 2: 2}
    assert [step for seed, step in log if seed == 1] == [0, "cleanup"]
    assert [step for seed, step in log if seed == 2] == [0, 1, "cleanup"]


def expert_sampler(seed: int, log: list, switch: int, steps: int = STEPS):
    """A sampler whose steps before ``switch`` call one model and the rest another, as two experts do."""
    run = sampler(seed, [], steps)

    def logged(callback):
        def on_step(step, x0, x, total):
            log.append((seed, "high" if step < switch else "low"))
            callback(step, x0, x, total)

        return run(on_step)

    return logged


@pytest.mark.parametrize(("checks", "switch"), [([(1, 2)], 2), ([(3, 2)], 2), ([(1, 2), (3, 1)], 2), ([], 1)])
def test_with_a_barrier_no_candidate_returns_to_the_first_model_once_one_has_left_it(checks, switch):
    """Checks before and after the switch: every running candidate reaches the barrier before any passes it,
    the results stay those of lone runs, and no step is added."""
    log = []
    runs = [expert_sampler(seed, log, switch) for seed in (1, 2, 3)]
    sampling = InterleavedSampling(runs, lambda *step: None, barriers=(switch,))
    outcome = run_search(sampling, 3, checks, lambda x0: float(x0.sum()))
    phases = [phase for _, phase in log]
    assert "high" not in phases[phases.index("low") :]
    for index, result in outcome.finished.items():
        assert torch.equal(result, lone(index + 1)[0])
    unbarred = []
    run_search(
        InterleavedSampling([expert_sampler(s, unbarred, switch) for s in (1, 2, 3)], lambda *step: None),
        3,
        checks,
        lambda x0: float(x0.sum()),
    )
    assert sorted(log) == sorted(unbarred)  # the same steps, reordered
