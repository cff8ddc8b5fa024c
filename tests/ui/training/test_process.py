"""The session in a process of its own: the same items as in a thread, the run control made in this process
obeyed by the child's trainer, and a failure or a dead child told in one line."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dllab.data import Normalizer
from dllab.experiments.parallel_runs import RunProcessError
from dllab.run_control import RunControl
from dllab.runs import open_run
from dllab.trainer import BatchEnded, Paused, Stopped
from tests.ui.training.test_session import SPIRAL_MLP, spiral_request
from ui.training.process import (
    NICENESS,
    TrainingProcess,
    receive_arrays,
    send_arrays,
    training_threads,
)
from ui.training.session import FinalEvaluation, SessionEnded, SessionStarted


def spawn_control() -> RunControl:
    """A run control that a spawned child can be given."""
    return RunControl(multiprocessing.get_context("spawn"))


def until(items: Iterator[Any], kind: type, seen: list[Any]) -> Any:
    """Collect items into ``seen`` up to and including the first of ``kind``; returns it."""
    for item in items:
        seen.append(item)
        if isinstance(item, kind):
            return item
    raise AssertionError(f"the run ended without a {kind.__name__}")


def test_the_process_module_needs_no_qt():
    code = "import sys, ui.training.process; print(any(m.startswith('PySide6') for m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_a_run_in_a_process_yields_what_the_session_yields(tmp_path):
    request = spiral_request(tmp_path)
    process = TrainingProcess(request, spawn_control())
    items = list(process.events())
    started = items[0]
    assert isinstance(started, SessionStarted) and started.network == "SpiralMLP"
    assert started.test_inputs is request.dataset.x_test  # the parent's own samples, not sent back
    assert process.folder == started.folder and started.folder.parent == tmp_path
    batches = [i for i in items if isinstance(i, BatchEnded)]
    assert [b.step for b in batches] == list(range(1, len(batches) + 1))
    evaluation = next(i for i in items if isinstance(i, FinalEvaluation)).evaluation
    ended = items[-1]
    assert isinstance(ended, SessionEnded) and ended.status == "finished"
    # The trained model came back: it predicts the test set as the run's evaluation says.
    normalizer = Normalizer.from_dict(ended.model.preprocessing)
    predicted = ended.model.predict(normalizer.transform(request.dataset.x_test)).argmax(axis=1)
    assert evaluation.accuracy > 0.5
    assert np.mean(predicted == request.dataset.y_test) == pytest.approx(evaluation.accuracy)
    assert open_run(started.folder).status == "finished"


def test_pause_step_and_stop_reach_the_child_at_once(tmp_path):
    control = spawn_control()
    process = TrainingProcess(spiral_request(tmp_path, epochs=10_000), control)
    control.pause()  # before the child has started: the child is handed the paused control
    items = process.events()
    seen: list[Any] = []
    first = until(items, Paused, seen)
    assert not any(isinstance(i, BatchEnded) for i in seen)
    control.step()
    second = until(items, Paused, seen)
    assert [i.step for i in seen if isinstance(i, BatchEnded)] == [1] and second.step == first.step + 1
    control.resume()
    while sum(isinstance(i, BatchEnded) for i in seen) < 30:
        seen.append(next(items))
    control.pause()
    paused = until(items, Paused, seen)
    control.stop()
    stopped = until(items, Stopped, seen)
    assert stopped.step == paused.step  # no batch after the stop
    rest = list(items)
    assert isinstance(rest[-1], SessionEnded) and rest[-1].status == "stopped"
    assert any(isinstance(i, FinalEvaluation) for i in rest)  # a plain stop still evaluates the test set


def test_a_stop_closing_skips_the_test_evaluation_in_the_child(tmp_path):
    control = spawn_control()
    process = TrainingProcess(spiral_request(tmp_path, epochs=10_000), control)
    items = process.events()
    until(items, BatchEnded, [])
    control.stop(closing=True)
    rest = list(items)
    assert isinstance(rest[-1], SessionEnded) and rest[-1].status == "stopped"
    assert not any(isinstance(i, FinalEvaluation) for i in rest)
    assert open_run(rest[-1].folder).summary["test_accuracy"] is None


def test_the_first_batch_waits_until_the_views_are_ready(tmp_path):
    process = TrainingProcess(spiral_request(tmp_path), spawn_control(), wait_for_views=True)
    items = process.events()
    until(items, SessionStarted, [])
    ready = threading.Event()

    def views_are_ready() -> None:
        ready.set()
        process.views_are_ready()

    threading.Timer(0.3, views_are_ready).start()  # the spiral trains its first batch in far less
    until(items, BatchEnded, [])
    assert ready.is_set()
    items.close()


def test_an_exception_in_the_child_is_raised_with_its_type_and_message(tmp_path):
    spec = {**SPIRAL_MLP, "layers": [{"type": "Dense", "units": 0}]}
    request = spiral_request(tmp_path)
    process = TrainingProcess(type(request)(**{**request.__dict__, "spec": spec}), spawn_control())
    with pytest.raises(ValueError) as raised:
        list(process.events())
    assert "units" in str(raised.value)
    assert any("raised in the process training 'SpiralMLP'" in note for note in raised.value.__notes__)


def test_a_killed_child_is_named_in_one_line(tmp_path):
    process = TrainingProcess(spiral_request(tmp_path, epochs=10_000), spawn_control())
    items = process.events()
    until(items, BatchEnded, [])
    (child,) = multiprocessing.active_children()
    os.kill(child.pid, signal.SIGKILL)
    with pytest.raises(
        RunProcessError, match=r"^the process training 'SpiralMLP' was killed by signal SIGKILL"
    ):
        list(items)


def test_a_child_whose_parent_goes_away_stops(tmp_path):
    process = TrainingProcess(spiral_request(tmp_path, epochs=10_000), spawn_control())
    items = process.events()
    until(items, BatchEnded, [])
    process._commands.close()  # as when the window's process ends: the child's command pipe ends
    rest = list(items)
    assert isinstance(rest[-1], SessionEnded) and rest[-1].status == "stopped"
    assert not any(isinstance(i, FinalEvaluation) for i in rest)  # nobody is left to read it
    assert open_run(rest[-1].folder).status == "stopped"


def test_closing_the_items_early_ends_the_child(tmp_path: Path):
    process = TrainingProcess(spiral_request(tmp_path, epochs=10_000), spawn_control())
    items = process.events()
    until(items, BatchEnded, [])
    items.close()
    assert multiprocessing.active_children() == []


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="Unix scheduling priorities")
def test_the_child_trains_on_every_core_in_threads_of_one_blas_thread_below_the_window_s_priority(tmp_path):
    process = TrainingProcess(spiral_request(tmp_path, epochs=10_000), spawn_control())
    items = process.events()
    until(items, BatchEnded, [])
    (child,) = multiprocessing.active_children()
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    assert os.getpriority(os.PRIO_PROCESS, child.pid) == min(ours + NICENESS, 19)
    tasks = Path(f"/proc/{child.pid}/task")
    if tasks.is_dir():  # Linux: each thread has its own niceness, the BLAS threads' included
        threads = [int(task.name) for task in tasks.iterdir()]
        assert len(threads) > 1
        assert {os.getpriority(os.PRIO_PROCESS, tid) for tid in threads} == {min(ours + NICENESS, 19)}
    environ = Path(f"/proc/{child.pid}/environ")
    if environ.exists():
        variables = dict(v.split("=", 1) for v in environ.read_text().split("\0") if "=" in v)
        assert variables["DLLAB_THREADS"] == str(training_threads()) == str(os.cpu_count())
        assert variables["OPENBLAS_NUM_THREADS"] == variables["OMP_NUM_THREADS"] == "1"
    items.close()


def test_arrays_cross_a_pipe_raw_with_their_dtypes_shapes_and_values():
    rng = np.random.default_rng(0)
    arrays = [
        rng.integers(0, 255, (3, 1, 4, 4), dtype=np.uint8),
        np.arange(12, dtype=np.int64).reshape(3, 4)[:, ::2],  # not contiguous
        rng.standard_normal((2, 5)).astype(np.float32),
        np.zeros((0, 2), dtype=np.float64),
    ]
    reading, writing = multiprocessing.get_context("spawn").Pipe(duplex=False)
    with reading, writing:
        send_arrays(arrays, writing)  # small: the pipe holds them all
        received = receive_arrays(len(arrays), reading)
    for sent, got in zip(arrays, received, strict=True):
        assert got.dtype == sent.dtype and got.shape == sent.shape and got.flags.writeable
        np.testing.assert_array_equal(got, sent)
