"""The farm's dispatch loop with a stand-in for Ray: lost workers, node errors, every unit stored once."""

import io
from types import SimpleNamespace

import pytest

from worldkit.headless.client import NodeFailed
from worldkit.headless.farm.dispatch import MAX_LOSSES, Dispatcher, FarmFailed, Slot
from worldkit.headless.farm.display import FarmDisplay
from worldkit.headless.farm.film import Unit
from worldkit.headless.farm.worker import ServerLost


class TaskError(Exception):
    def __init__(self, cause):
        super().__init__(str(cause))
        self.cause = cause


class ActorDied(Exception):
    pass


class FakeRay:
    """ray.wait / ray.get over refs whose outcome was decided when the unit was submitted."""

    exceptions = SimpleNamespace(RayTaskError=TaskError, RayActorError=ActorDied)

    def wait(self, refs, num_returns, timeout):
        return refs[:num_returns], refs[num_returns:]

    def get(self, ref, timeout=None):
        if isinstance(ref, list):
            return [self.get(item) for item in ref]
        if isinstance(ref.outcome, BaseException):
            raise ref.outcome
        return ref.outcome


class Ref:
    def __init__(self, outcome):
        self.outcome = outcome


class Actor:
    """Renders units by a script: ``fails(name, unit, attempt)`` returns an exception to raise, or None."""

    def __init__(self, name, fails):
        self.name, self.fails, self.calls = name, fails, []
        self.status = SimpleNamespace(remote=lambda: Ref((0, 0)))

    def render(self, unit):
        self.calls.append(unit.key)
        problem = self.fails(self.name, unit, self.calls.count(unit.key))
        return Ref(problem or {"worker": self.name, "key": unit.key})


def units(count):
    return [Unit(shot, 1, f"unit{shot}", {}) for shot in range(1, count + 1)]


def dispatch(fails, count=4, workers=2, retries=1):
    actors = [Actor(f"worker-{i + 1}", fails) for i in range(workers)]
    stored = []
    dispatcher = Dispatcher(
        FakeRay(),
        [Slot(actor, actor.name) for actor in actors],
        FarmDisplay(count, io.StringIO()),
        lambda actor, unit: actor.render(unit),
        lambda unit, result, started: stored.append((unit.key, result["worker"])),
        retries,
    )
    return dispatcher.run(units(count)), stored, actors


def test_every_unit_is_stored_once_across_workers():
    outcome, stored, _actors = dispatch(lambda *args: None)
    assert sorted(key for key, _ in stored) == ["unit1", "unit2", "unit3", "unit4"]
    assert {worker for _, worker in stored} == {"worker-1", "worker-2"} and not outcome.failed


def test_a_lost_server_sends_its_unit_to_another_worker_and_leaves_the_farm():
    def fails(name, unit, attempt):
        return TaskError(ServerLost("gone")) if name == "worker-2" else None

    _outcome, stored, actors = dispatch(fails)
    assert sorted(key for key, _ in stored) == ["unit1", "unit2", "unit3", "unit4"]
    assert {worker for _, worker in stored} == {"worker-1"}
    assert len(actors[1].calls) == 1, "a worker whose attached server died gets no more units"


def test_a_dead_actor_is_restarted_by_ray_and_used_again():
    def fails(name, unit, attempt):
        return ActorDied() if (name, unit.key, attempt) == ("worker-2", "unit2", 1) else None

    outcome, stored, actors = dispatch(fails)
    assert sorted(key for key, _ in stored) == ["unit1", "unit2", "unit3", "unit4"]
    assert len(actors[1].calls) > 1 and not outcome.failed


@pytest.mark.parametrize("retries", [0, 2])
def test_a_node_error_is_retried_a_bounded_number_of_times_then_reported(retries):
    def fails(name, unit, attempt):
        return TaskError(NodeFailed("7", "KSampler", "boom")) if unit.key == "unit3" else None

    outcome, stored, actors = dispatch(fails, retries=retries)
    assert sorted(key for key, _ in stored) == ["unit1", "unit2", "unit4"]
    assert sum(actor.calls.count("unit3") for actor in actors) == retries + 1
    assert outcome.failed["unit3"]["attempts"] == retries + 1
    assert "KSampler" in outcome.failed["unit3"]["error"] and "boom" in outcome.failed["unit3"]["error"]


def test_a_unit_that_kills_every_worker_it_meets_is_reported_not_retried_forever():
    def fails(name, unit, attempt):
        return ActorDied() if unit.key == "unit1" else None

    outcome, stored, actors = dispatch(fails, workers=3)
    assert sum(actor.calls.count("unit1") for actor in actors) == MAX_LOSSES
    assert "unit1" in outcome.failed and len(stored) == 3


def test_no_worker_left_is_an_error_naming_what_is_not_rendered():
    with pytest.raises(FarmFailed, match="not rendered"):
        dispatch(lambda name, unit, attempt: TaskError(ServerLost("gone")))
