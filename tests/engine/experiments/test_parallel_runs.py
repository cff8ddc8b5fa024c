"""Runs in worker processes: events in order, BLAS threads per child, stop, errors and dead children.

The tasks are defined here, at module level, so the spawned children can import them.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from dllab.experiments.parallel_runs import (
    BLAS_VARIABLES,
    ParallelRuns,
    ProcessDied,
    RunProcessError,
    blas_threads,
    check_processes,
)
from tests.engine.user_errors import LONG, assert_settings_error


@dataclass
class Counting:
    """Counts to ``n``; with ``die_at`` the process kills itself there, with ``fail_at`` the task raises."""

    n: int
    die_at: int | None = None
    fail_at: int | None = None
    unpicklable: bool = False

    def __post_init__(self) -> None:
        self.stopped = False

    def events(self) -> Iterator[Any]:
        yield {name: os.environ.get(name) for name in BLAS_VARIABLES}
        for i in range(self.n):
            if self.stopped:
                yield "stopped"
                return
            if i == self.die_at:
                os.kill(os.getpid(), signal.SIGKILL)
            if i == self.fail_at:
                raise Unpicklable("count went wrong") if self.unpicklable else KeyError(f"no {i}")
            yield i

    def stop(self) -> None:
        self.stopped = True


class Unpicklable(Exception):
    """An exception carrying something that cannot be pickled."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.lock = threading.Lock()


def collect(runs: ParallelRuns) -> dict[int, list[Any]]:
    events: dict[int, list[Any]] = {}
    for index, event in runs.events():
        events.setdefault(index, []).append(event)
    return events


def test_each_task_runs_in_a_child_with_its_share_of_blas_threads() -> None:
    before = {name: os.environ.get(name) for name in BLAS_VARIABLES}
    runs = ParallelRuns([Counting(300), Counting(5), Counting(40)], 2, ["a", "b", "c"])

    events = collect(runs)

    threads = str(blas_threads(2))
    assert events == {
        0: [dict.fromkeys(BLAS_VARIABLES, threads), *range(300)],
        1: [dict.fromkeys(BLAS_VARIABLES, threads), *range(5)],
        2: [dict.fromkeys(BLAS_VARIABLES, threads), *range(40)],
    }
    assert runs.started == [0, 1, 2]
    assert {name: os.environ.get(name) for name in BLAS_VARIABLES} == before
    assert multiprocessing.active_children() == []


def test_blas_threads_share_the_cores() -> None:
    cores = os.cpu_count() or 1
    assert blas_threads(1) == cores
    assert blas_threads(cores) == 1
    assert blas_threads(4 * cores) == 1


def test_stop_ends_the_running_tasks_and_starts_no_more() -> None:
    runs = ParallelRuns([Counting(10**9), Counting(10**9), Counting(3)], 2, ["a", "b", "c"])
    events: dict[int, list[Any]] = {}
    for index, event in runs.events():
        events.setdefault(index, []).append(event)
        if event == 10:
            runs.stop()
    assert sorted(events) == [0, 1]
    assert all(e[-1] == "stopped" for e in events.values())
    assert runs.started == [0, 1]
    assert multiprocessing.active_children() == []


def test_a_child_that_dies_is_an_error_naming_its_task() -> None:
    runs = ParallelRuns([Counting(10**9), Counting(10, die_at=3)], 2, ["long", "short-lived"])

    with pytest.raises(
        RunProcessError, match=r"'short-lived' was killed by signal SIGKILL before its run ended"
    ):
        collect(runs)

    assert multiprocessing.active_children() == []


def test_with_keep_going_a_dead_child_is_an_event_and_the_others_go_on() -> None:
    runs = ParallelRuns(
        [Counting(5, die_at=2), Counting(20), Counting(5)], 2, ["dies", "long", "last"], keep_going=True
    )

    events = collect(runs)

    (died,) = [e for e in events[0] if isinstance(e, ProcessDied)]
    assert "'dies' was killed by signal SIGKILL before its run ended" in died.message
    assert events[1][1:] == list(range(20)) and events[2][1:] == list(range(5))
    assert multiprocessing.active_children() == []


def test_errors_keep_their_type_and_message() -> None:
    with pytest.raises(KeyError) as raised:
        collect(ParallelRuns([Counting(10, fail_at=4)], 1, ["a"]))
    assert str(raised.value) == str(KeyError("no 4"))
    assert "raised in the process training 'a'" in raised.value.__notes__[0]
    # What cannot be pickled comes back as a RuntimeError with the same message.
    with pytest.raises(RuntimeError) as raised:
        collect(ParallelRuns([Counting(10, fail_at=4, unpicklable=True)], 1, ["a"]))
    assert str(raised.value) == "count went wrong"
    assert multiprocessing.active_children() == []


def test_invalid_settings() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ParallelRuns([Counting(1)], 0, ["a"])
    with pytest.raises(ValueError, match="1 tasks but 2 names"):
        ParallelRuns([Counting(1)], 1, ["a", "b"])


@pytest.mark.parametrize("processes", [0, -3, True, 1.5, "2", None, LONG])
def test_bad_process_counts_raise_settings_error(processes: Any) -> None:
    assert_settings_error(
        lambda: check_processes(processes), "processes must be a whole number of at least 1, got "
    )
