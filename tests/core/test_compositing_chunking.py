"""The engine's frame pool: frames spread over threads, and a forked child that gets threads of its own."""

from __future__ import annotations

import multiprocessing

from worldkit.models.compositing.chunking import map_frames


def squares_in_child(results: multiprocessing.SimpleQueue) -> None:
    results.put(map_frames(lambda index: index * index, range(6)))


def test_frames_spread_over_the_pool_come_back_in_order():
    assert map_frames(lambda index: index * index, range(6)) == [0, 1, 4, 9, 16, 25]


def test_a_forked_child_runs_frames_on_a_pool_of_its_own():
    """A pool used before a fork has no threads in the child: queued frames would wait there for ever."""
    map_frames(abs, range(4))  # the parent's pool exists and has threads
    context = multiprocessing.get_context("fork")
    results = context.SimpleQueue()
    child = context.Process(target=squares_in_child, args=(results,))
    child.start()
    child.join(120)  # a hang guard only: the child needs well under a second
    hung = child.is_alive()
    if hung:
        child.kill()
    assert not hung and child.exitcode == 0, "the forked child never finished its frames"
    assert results.get() == [0, 1, 4, 9, 16, 25]
