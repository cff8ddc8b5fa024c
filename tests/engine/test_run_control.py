"""The run control: stop, pause, resume and single steps as a training loop sees them, from another thread and
from the parent of a spawned process.

The child's loop is defined here, at module level, so the spawned child can import it.
"""

from __future__ import annotations

import multiprocessing
import threading
from typing import Any

import pytest

from dllab.run_control import THREADS, RunControl

CONTEXTS = [
    pytest.param(THREADS, id="threads"),
    pytest.param(multiprocessing.get_context("spawn"), id="spawn"),
]


def training_loop(control: RunControl, connection: Any) -> None:
    """What a trainer does with its control: one "batch" per :meth:`RunControl.next_batch` allowed, reported
    with whether the control says paused afterwards; "stopped" at the end."""
    while True:
        if control.next_batch(timeout=0.05):
            connection.send(("batch", control.paused))
        elif control.stopped:
            connection.send(("stopped", control.closing))
            return


@pytest.mark.parametrize("context", CONTEXTS)
def test_a_new_control_lets_every_batch_run(context: Any) -> None:
    control = RunControl(context)
    assert control.next_batch(0) and control.next_batch(0)
    assert not control.paused and not control.stopped and not control.closing


@pytest.mark.parametrize("context", CONTEXTS)
def test_pause_holds_the_next_batch_and_a_step_allows_exactly_one(context: Any) -> None:
    control = RunControl(context)
    control.pause()
    assert control.paused and not control.next_batch(0)
    control.step()
    assert not control.paused  # the step is on its way
    assert control.next_batch(0)
    assert control.paused and not control.next_batch(0)  # paused again after the one batch
    control.resume()
    assert not control.paused and control.next_batch(0) and control.next_batch(0)


def test_a_step_while_running_does_nothing_and_resume_drops_a_pending_step() -> None:
    control = RunControl()
    control.step()
    control.pause()
    assert not control.next_batch(0)  # no batch was saved up
    control.step()
    control.resume()
    assert control.next_batch(0) and not control.paused  # running, not paused after one batch


@pytest.mark.parametrize("context", CONTEXTS)
def test_stop_ends_a_pause_and_every_later_batch(context: Any) -> None:
    control = RunControl(context)
    control.pause()
    control.stop()
    assert control.stopped and not control.paused and not control.closing
    assert not control.next_batch(0) and not control.next_batch(None)  # a stop never blocks
    control.stop(closing=True)
    assert control.closing


def test_a_paused_wait_ends_when_another_thread_resumes_it() -> None:
    control = RunControl()
    control.pause()
    threading.Timer(0.05, control.resume).start()
    assert control.next_batch(None)


@pytest.mark.parametrize("closing", [False, True])
def test_a_loop_in_another_thread_obeys_pause_step_resume_and_stop(closing: bool) -> None:
    control = RunControl()
    reader, writer = multiprocessing.Pipe(duplex=False)
    control.pause()
    thread = threading.Thread(target=training_loop, args=(control, writer))
    thread.start()
    try:
        assert_obeyed(control, reader, closing)
    finally:
        control.stop()
        thread.join(5)
    assert not thread.is_alive()


@pytest.mark.parametrize("closing", [False, True])
def test_a_spawned_child_obeys_the_control_its_parent_made(closing: bool) -> None:
    context = multiprocessing.get_context("spawn")
    control = RunControl(context)
    reader, writer = context.Pipe(duplex=False)
    control.pause()  # before the child starts: it is handed a paused control
    child = context.Process(target=training_loop, args=(control, writer), daemon=True)
    child.start()
    writer.close()
    try:
        assert_obeyed(control, reader, closing)
    finally:
        control.stop()
        child.join(10)
        if child.is_alive():
            child.kill()
    assert child.exitcode == 0


def assert_obeyed(control: RunControl, reader: Any, closing: bool) -> None:
    """The loop behind ``reader`` runs no batch while paused, one per step, some after resume, none after stop."""
    assert not reader.poll(0.3)  # paused: nothing comes
    control.step()
    assert reader.recv() == ("batch", True)  # one batch, and the loop sees itself paused again
    assert not reader.poll(0.3)
    control.resume()
    assert reader.recv() == ("batch", False)
    control.pause()
    while reader.poll(0.3):  # the batches allowed before the loop saw the pause
        assert reader.recv()[0] == "batch"
    control.stop(closing=closing)
    assert reader.recv() == ("stopped", closing)  # no batch after a stop while paused


def changes_loop(control: RunControl, connection: Any) -> None:
    """Send back what :meth:`RunControl.take_changes` gives until the control is stopped."""
    while not control.stopped:
        taken = control.take_changes()
        if taken:
            connection.send(taken)
        control.next_batch(timeout=0.02)


@pytest.mark.parametrize("context", CONTEXTS)
def test_changes_reach_the_loop_in_the_order_asked_and_once(context: Any) -> None:
    control = RunControl(context)
    assert control.take_changes() == []
    reader, writer = multiprocessing.get_context("spawn").Pipe(duplex=False)
    control.change({"lr": 0.1})  # before the loop starts, as before a child starts
    if context is THREADS:
        loop = threading.Thread(target=changes_loop, args=(control, writer), daemon=True)
    else:
        loop = context.Process(target=changes_loop, args=(control, writer), daemon=True)
    loop.start()
    try:
        received = []
        control.change({"lr": 0.01, "momentum": 0.5})
        while len(received) < 2:
            assert reader.poll(10)
            received += reader.recv()
        control.change({"lr": 0.0})
        assert reader.poll(10) and reader.recv() == [{"lr": 0.0}]
    finally:
        control.stop()
        loop.join(10)
    assert received == [{"lr": 0.1}, {"lr": 0.01, "momentum": 0.5}]
    assert not reader.poll(0.1)  # each change once
