"""The desktop app's training run in a process of its own, so that training and drawing never wait for each other.

A thread that trains inside the GUI's process shares Python's global interpreter lock with the window: while the
window lays out its plots, the trainer's Python between two numpy calls waits, and while the trainer holds the
lock, the window's events wait. :class:`TrainingProcess` runs the same :class:`ui.training.session.
TrainingSession` in a spawned child (with the helpers of :mod:`dllab.experiments.parallel_runs`) and offers the controller
the session's interface:

- :meth:`TrainingProcess.events` starts the child (the request is pickled to it then, so iterate it in a worker
  thread) and yields the session's items in order as they arrive; the child sends them in small batches
  (:func:`dllab.experiments.parallel_runs.send_events`). The data set's arrays go after the start, as raw
  bytes through a pipe of their own (:func:`send_arrays`): pickled with the request, MNIST's 55 MB were
  copied holding Python's global interpreter lock, and the window froze when Train was pressed (another
  thread's longest wait while a child started: 39-58 ms, 4.5-7.3 ms now); written from the arrays' memory,
  the pipe takes them with the lock released.
- The child computes on every core in threads of its own, each with one BLAS thread (:mod:`dllab.cores`), at
  a lower priority than the window (:data:`NICENESS`), so the window draws the moment it needs to and training
  takes all the rest. A network too small to split trains on one core, the other left to the window: on two
  BLAS threads, its products waited for the core the window drew on (the MLP 784-100x4-10 with the window
  drawing trained at 50,400-75,300 samples/s in six runs, 69,200-79,900 in twelve on one BLAS thread).
- The run's :class:`~dllab.run_control.RunControl` is made by the caller with the ``"spawn"`` context of
  :mod:`multiprocessing` and handed to the child when it starts: stop, pause, resume and step set it in the
  window's process and the child's trainer reads it before every batch. Nothing here adds to it.
- The feature-map sample and "the views are ready" are commands through a second pipe, obeyed at once by a
  thread of the child (its main thread is training, or waiting in a pause).
- The test samples of :class:`~ui.training.session.SessionStarted` are not sent back: the parent has them.
- An exception in training is raised by :meth:`~TrainingProcess.events` with the same type and message; a
  child that dies raises :class:`dllab.experiments.parallel_runs.RunProcessError` naming the network. A child whose parent
  goes away (its end of the command pipe closes) stops training at once, as when the window closes.

Plain Python, no Qt: the child imports only numpy and the engine.
"""

from __future__ import annotations

import contextlib
import copy
import multiprocessing
import os
import signal
import threading
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from dllab.experiments.parallel_runs import end_child, receive, send_events, start_child
from dllab.run_control import RunControl
from ui.training.session import SessionStarted, TrainingRequest, TrainingSession

#: How much lower than the window's the training process's scheduling priority is (Unix ``nice``): the window
#: gets a core the moment it has something to draw, and training every cycle the window leaves.
NICENESS = 10


def training_threads() -> int:
    """Threads the training process computes on: one per core (it runs at a lower priority than the window)."""
    return os.cpu_count() or 1


#: The arrays of the request's data set that travel apart from it (:func:`send_arrays`).
DATA_ARRAYS = ("x_train", "y_train", "x_test", "y_test")


def send_arrays(arrays: Sequence[np.ndarray], connection: Any) -> None:
    """Send ``arrays`` through ``connection`` as their dtype and shape, then their bytes as they lie in memory
    (no copy, the global interpreter lock released while the pipe takes them); :func:`receive_arrays` reads
    them."""
    for array in arrays:
        array = np.ascontiguousarray(array)
        connection.send((array.dtype.str, array.shape))
        connection.send_bytes(memoryview(array.reshape(-1).view(np.uint8)))


def receive_arrays(count: int, connection: Any) -> list[np.ndarray]:
    """The ``count`` arrays that :func:`send_arrays` sends through ``connection``."""
    arrays = []
    for _ in range(count):
        dtype, shape = connection.recv()
        array = np.empty(shape, dtype=np.dtype(dtype))
        connection.recv_bytes_into(memoryview(array.reshape(-1).view(np.uint8)))
        arrays.append(array)
    return arrays


def lower_priority(niceness: int) -> None:
    """Lower the scheduling priority of every thread of this process by ``niceness`` (Unix ``nice``).

    On Linux a thread's niceness is its own: ``os.nice`` would leave the BLAS threads that numpy started when it
    was imported at the window's priority while the thread that gives them work waits below it, and once
    other programs take the cores, the BLAS threads spin waiting for it (training at a tenth of its speed on a
    busy machine). Threads started later inherit the niceness of the thread that starts them.
    """
    tasks = Path("/proc/self/task")
    if hasattr(os, "setpriority") and tasks.is_dir():
        for task in tasks.iterdir():
            with contextlib.suppress(OSError):  # a thread that has ended meanwhile
                tid = int(task.name)
                os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + niceness)
    elif hasattr(os, "nice"):  # elsewhere the niceness is the process's
        os.nice(niceness)


class TrainingProcess:
    """One run of :class:`TrainingSession` in a child process.

    Parameters
    ----------
    request
        The run (pickled to the child when :meth:`events` starts it).
    control
        The run's control, made with ``multiprocessing.get_context("spawn")`` (handed to the child when
        :meth:`events` starts it; set it from any thread, before or during the run).
    wait_for_views
        The first batch waits until :meth:`views_are_ready` is called (up to
        ``ui.training.session.VIEWS_READY_TIMEOUT_S``), so the window builds its plots for the run's layers
        before training competes with it for the cores.

    Attributes
    ----------
    folder : Path or None
        The run folder, once the child has created it.
    """

    def __init__(
        self, request: TrainingRequest, control: RunControl, *, wait_for_views: bool = False
    ) -> None:
        self.request = request
        self.control = control
        self.wait_for_views = wait_for_views
        self.folder: Path | None = None
        self._feature_sample = 0
        self._lock = threading.Lock()
        # Commands sent before the child has started wait in the pipe.
        self._commands_in, self._commands = multiprocessing.get_context("spawn").Pipe(duplex=False)

    # --- the views (any thread) ------------------------------------------------------------------------------

    def views_are_ready(self) -> None:
        """Let the first batch start (see ``wait_for_views``)."""
        self._send("views_ready")

    @property
    def feature_sample(self) -> int:
        """Index of the test sample whose feature maps the child sends."""
        return self._feature_sample

    @feature_sample.setter
    def feature_sample(self, index: int) -> None:
        self._feature_sample = int(index)
        self._send("feature_sample", int(index))

    def _send(self, *command: Any) -> None:
        # OSError: the child has ended, nothing is left to control.
        with self._lock, contextlib.suppress(OSError):
            self._commands.send(command)

    # --- the worker thread ---------------------------------------------------------------------------------

    def events(self) -> Iterator[Any]:
        """Start the child and yield the session's items as they arrive (see the module's description).

        Raises
        ------
        Exception
            What training raised in the child, with the same type and message.
        dllab.experiments.parallel_runs.RunProcessError
            When the child ended without finishing the run.
        """
        name = str(self.request.spec.get("name") or "the network")
        dataset = self.request.dataset
        bare = copy.copy(dataset)  # the request without its arrays, which follow it
        for field in DATA_ARRAYS:
            setattr(bare, field, None)
        data_in, data = multiprocessing.get_context("spawn").Pipe(duplex=False)
        try:
            process, connection = start_child(
                _serve,
                (
                    replace(self.request, dataset=bare),
                    self.control,
                    self._commands_in,
                    data_in,
                    self.wait_for_views,
                ),
                name=f"dllab training {name}",
                threads=training_threads(),
                blas_threads=1,
            )
        except BaseException:
            data.close()
            raise
        finally:
            data_in.close()  # the child holds the only reading ends now
            self._commands_in.close()
        done = False
        try:
            with contextlib.suppress(OSError), data:  # OSError: the child has ended; receive() says why
                send_arrays([getattr(dataset, field) for field in DATA_ARRAYS], data)
            while (items := receive(connection, process, name)) is not None:
                for item in items:
                    if isinstance(item, SessionStarted):
                        self.folder = item.folder
                        item = replace(item, test_inputs=dataset.x_test, test_labels=dataset.y_test)
                    yield item
            done = True
        finally:
            end_child(process, connection, terminate=not done)


# --- in the child --------------------------------------------------------------------------------------------


def _serve(
    request: TrainingRequest,
    control: RunControl,
    commands: Any,
    data: Any,
    wait_for_views: bool,
    connection: Any,
) -> None:
    """The child's main function: take the data set's arrays, run the session, sending its items; a thread
    obeys the commands."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the window, which stops the run
    lower_priority(NICENESS)
    with data:
        for field, array in zip(DATA_ARRAYS, receive_arrays(len(DATA_ARRAYS), data), strict=True):
            setattr(request.dataset, field, array)
    session = TrainingSession(request, control)
    if wait_for_views:
        session.views_ready = threading.Event()
    threading.Thread(target=_obey, args=(session, commands), name="commands", daemon=True).start()

    def items() -> Iterator[Any]:
        for item in session.events():
            if isinstance(item, SessionStarted):  # the parent has the test samples
                item = replace(item, test_inputs=item.test_inputs[:0], test_labels=item.test_labels[:0])
            yield item

    send_events(items, connection)


def _obey(session: TrainingSession, commands: Any) -> None:
    """Carry out the parent's commands until its end of the pipe closes (then stop: nobody is watching)."""
    while True:
        try:
            command, *args = commands.recv()
        except (EOFError, OSError):
            session.control.stop(closing=True)
            return
        if command == "feature_sample":
            session.feature_sample = int(args[0])
        elif command == "views_ready" and session.views_ready is not None:
            session.views_ready.set()
