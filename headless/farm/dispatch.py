"""Units onto workers with Ray: each free worker takes the next unit; lost units go back to the queue.

Ray runs the work and restarts dead workers; this loop only hands units to free actors (``ray.wait``) and
decides what a failure means. A lost worker (its server died or hung, or the actor died) sends its unit back
to the queue, so another worker renders it; a node error is retried at most ``retries`` times, then the unit
is reported failed with the error. A unit reaches the manifest only once, when its outputs are stored.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..client import NodeFailed, PromptRejected
from .display import FarmDisplay
from .film import Unit
from .worker import ServerLost

MAX_LOSSES = 3  # a unit whose worker is lost this often is reported failed (it is probably what kills it)
POLL_S = 0.25
RESTART_WAIT_S = 600.0  # how long a restarting worker (Ray restarts the actor, it starts ComfyUI) is waited for


class FarmFailed(RuntimeError):
    """No worker is left to render the remaining units."""


@dataclass
class Slot:
    actor: Any
    name: str
    failures: int = 0


@dataclass
class Outcome:
    """What became of the units: rendered ones by key, failed ones with their error."""

    rendered: dict[str, dict] = field(default_factory=dict)
    failed: dict[str, dict] = field(default_factory=dict)


@dataclass
class Dispatcher:
    ray: Any
    slots: list[Slot]
    display: FarmDisplay
    submit: Callable[[Any, Unit], Any]  # (actor, unit) -> ObjectRef of the unit's result
    on_result: Callable[[Unit, dict, float], None]  # stores outputs and writes the manifest
    retries: int = 1
    inflight: dict[Any, tuple[Slot, Unit, float]] = field(default_factory=dict)

    def run(self, units: list[Unit]) -> Outcome:
        pending, idle, outcome = deque(units), list(self.slots), Outcome()
        errors, losses = Counter(), Counter()
        restarting: list[tuple[Slot, float]] = []
        while pending or self.inflight:
            idle.extend(self._restarted(restarting))
            while pending and idle:
                slot, unit = idle.pop(0), pending.popleft()
                self.inflight[self.submit(slot.actor, unit)] = (slot, unit, time.perf_counter())
            if not self.inflight:  # only restarting workers: wait for them
                time.sleep(POLL_S)
            ready = self.ray.wait(list(self.inflight), num_returns=1, timeout=POLL_S)[0] if self.inflight else []
            for ref in ready:
                slot, unit, started = self.inflight.pop(ref)
                problem = self._collect(ref, unit, started, outcome)
                if problem is None:
                    slot.failures = 0
                    idle.append(slot)
                elif isinstance(problem, NodeFailed):
                    errors[unit.key] += 1
                    idle.append(slot)
                    if errors[unit.key] <= self.retries:
                        self.display.event(f"{unit.label} failed on {slot.name} ({problem}); trying again")
                        pending.append(unit)
                    else:
                        outcome.failed[unit.key] = self._failure(unit, problem, errors[unit.key])
                        self.display.event(f"{unit.label} FAILED: {problem}")
                else:
                    losses[unit.key] += 1
                    self._lost(slot, problem, restarting)
                    if losses[unit.key] < MAX_LOSSES:
                        self.display.event(f"{unit.label}: {slot.name} lost ({problem}); queued again")
                        pending.appendleft(unit)
                    else:
                        outcome.failed[unit.key] = self._failure(unit, problem, losses[unit.key])
            if pending and not idle and not self.inflight and not restarting:
                raise FarmFailed(f"every worker is lost; {len(pending)} unit(s) not rendered. See the errors above.")
            self.display.status(self._running())
        return outcome

    def cancel(self) -> list[str]:
        """Stop the prompts in flight on every worker (Ctrl-C); returns the cancelled units' labels."""
        slots = {id(slot): slot for slot, _, _ in self.inflight.values()}
        with contextlib.suppress(Exception):  # a worker that cannot be reached has nothing to cancel any more
            self.ray.get([slot.actor.cancel.remote() for slot in slots.values()], timeout=30)
        return [unit.label for _, unit, _ in self.inflight.values()]

    def _collect(self, ref: Any, unit: Unit, started: float, outcome: Outcome) -> BaseException | None:
        """The unit's result stored (None), or why it has none: NodeFailed, or a lost worker."""
        exceptions = self.ray.exceptions
        try:
            result = self.ray.get(ref)
        except exceptions.RayTaskError as error:
            cause = error.cause
            if isinstance(cause, NodeFailed | PromptRejected):
                return cause if isinstance(cause, NodeFailed) else NodeFailed("?", "prompt", str(cause))
            if isinstance(cause, ServerLost):
                return cause
            raise
        except exceptions.RayActorError as error:
            return error
        self.on_result(unit, result, started)
        outcome.rendered[unit.key] = result
        return None

    def _lost(self, slot: Slot, problem: BaseException, restarting: list[tuple[Slot, float]]) -> None:
        """An attached server that died is not used again; a worker Ray restarts is, once it answers again,
        unless it keeps dying."""
        slot.failures += 1
        if isinstance(problem, ServerLost) or slot.failures > MAX_LOSSES:
            self.display.event(f"{slot.name} is out of the farm: {problem}")
            return
        restarting.append((slot, time.monotonic()))

    def _restarted(self, restarting: list[tuple[Slot, float]]) -> list[Slot]:
        """The restarting workers that answer again (their new server is up); those past the wait leave."""
        back = []
        for slot, since in list(restarting):
            try:
                self.ray.get(slot.actor.status.remote(), timeout=POLL_S)
            except Exception:  # still restarting (unavailable, or its server still starting)
                if time.monotonic() - since > RESTART_WAIT_S:
                    restarting.remove((slot, since))
                    self.display.event(
                        f"{slot.name} is out of the farm: it did not come back in {RESTART_WAIT_S:.0f} s"
                    )
                continue
            restarting.remove((slot, since))
            self.display.event(f"{slot.name} is back")
            back.append(slot)
        return back

    @staticmethod
    def _failure(unit: Unit, problem: BaseException, attempts: int) -> dict:
        return {"shot": unit.shot, "candidate": unit.candidate, "attempts": attempts, "error": str(problem)}

    def _running(self) -> dict[str, tuple[str, int, int]]:
        if not self.display.interactive or not self.inflight:
            return {}
        busy = list(self.inflight.values())
        try:
            steps = self.ray.get([slot.actor.status.remote() for slot, _, _ in busy], timeout=POLL_S)
        except Exception:  # progress is best effort; a restarting worker answers later
            return {}
        return {slot.name: (unit.label, *step) for (slot, unit, _), step in zip(busy, steps, strict=True)}
