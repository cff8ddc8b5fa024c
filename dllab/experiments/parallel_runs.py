"""Training runs in worker processes, several at once: the process machinery behind ``Comparison(processes=N)``.

numpy trains one network on one core well only up to a point: a small network's matrix products are too small
to keep several BLAS threads busy. Several runs of a comparison can instead train side by side, one per
process, each process with a share of the cores for its BLAS threads. :class:`ParallelRuns` does that for any
list of *tasks*: picklable objects with ``events()`` (a generator of picklable events, run in the child) and
``stop()`` (end ``events()`` soon, called in the child). :class:`dllab.experiments.compare.Comparison` gives it one task
per variant (:class:`dllab.experiments.compare.VariantTraining`), so a child builds the variant's model, trains it and
writes its run folder exactly as the sequential path does.

- Processes start with the ``"spawn"`` method (never ``fork``: the desktop app has threads), at most
  ``processes`` at a time, the next task starting when one ends. Each child starts with
  ``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` and ``MKL_NUM_THREADS`` set to :func:`blas_threads` (the
  parent's environment is restored at once) and ignores Ctrl-C: the parent decides when to stop.
- Events come back through a pipe per child as they happen. A child sends them in small batches, at most
  :data:`FLUSH_SECONDS` apart; anything but a :class:`~dllab.trainer.BatchEnded` goes at once, with what was
  waiting (sending every mini-batch's event on its own costs more than a small network's mini-batch).
- :meth:`ParallelRuns.stop` (any thread) sets a shared flag that each child checks after every event: its
  task stops before its next mini-batch, and no further task starts.
- An exception in a child is raised in the parent with the same type and message (its traceback in a
  note); a child that dies without finishing raises :class:`RunProcessError` naming its task, or, with
  ``keep_going`` (the workers of a search, whose trials another worker takes over), is reported as a
  :class:`ProcessDied` event while the others go on. Closing the generator of :meth:`ParallelRuns.events` (or
  any error) terminates and joins every child.

The two sides of one child (:func:`start_child`, :func:`receive` and :func:`end_child` in the parent,
:func:`send_events` in the child) serve any single run in a process of its own too: the desktop app trains that
way, so that drawing and training never wait for each other.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.connection
import os
import pickle
import signal
import threading
import time
import traceback
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from dllab.cores import BLAS_VARIABLES, THREADS_VARIABLE
from dllab.optimizers import check_whole_number
from dllab.trainer import BatchEnded

#: The longest a child keeps mini-batch events before sending them (seconds).
FLUSH_SECONDS = 0.05
#: The environment variables that set the BLAS libraries' thread counts.
_JOIN_SECONDS = 5.0
# Starting a child changes the process's environment for a moment: one start at a time.
_START_LOCK = threading.Lock()


class RunTask(Protocol):
    """What :class:`ParallelRuns` runs in a child process (picklable, with importable classes)."""

    def events(self) -> Iterator[Any]:
        """The run's events (picklable), in order."""
        ...

    def stop(self) -> None:
        """Make :meth:`events` end soon (called in the child, between two events)."""
        ...


class RunProcessError(RuntimeError):
    """A worker process ended without finishing its run (killed, crashed, out of memory)."""


@dataclass(frozen=True)
class ProcessDied:
    """The event of a task whose process ended without finishing it (with ``keep_going``): why, in a sentence."""

    message: str


def check_processes(processes: int) -> int:
    """``processes`` when it is a whole number of at least 1.

    Raises
    ------
    SettingsError
        Saying what it got otherwise.
    """
    return check_whole_number("processes", processes)


def blas_threads(processes: int) -> int:
    """BLAS threads per process when ``processes`` train at once: ``max(1, cpu_count // processes)``."""
    return max(1, (os.cpu_count() or 1) // processes)


class ParallelRuns:
    """Run tasks in worker processes, at most ``processes`` at a time, streaming their events.

    Parameters
    ----------
    tasks
        The runs (see :class:`RunTask`), started in order.
    processes
        How many run at once (at least 1; no more processes start than there are tasks).
    names
        A name per task for error messages, e.g. the variant's label.
    keep_going
        When a child dies without finishing its task, yield a :class:`ProcessDied` event for it and go on with
        the others (the default raises :class:`RunProcessError` and ends them all).

    Attributes
    ----------
    started : list of int
        The tasks started so far, in order (the others were skipped by a stop).
    """

    def __init__(
        self, tasks: Sequence[RunTask], processes: int, names: Sequence[str], *, keep_going: bool = False
    ) -> None:
        check_processes(processes)
        self.keep_going = keep_going
        if len(names) != len(tasks):
            raise ValueError(f"{len(tasks)} tasks but {len(names)} names")
        self.tasks = list(tasks)
        self.names = list(names)
        self.processes = max(1, min(processes, len(self.tasks)))
        self.started: list[int] = []
        self._stop = multiprocessing.get_context("spawn").Event()

    def stop(self) -> None:
        """Stop the running tasks before their next event and start no more (any thread)."""
        self._stop.set()

    def events(self) -> Generator[tuple[int, Any], None, None]:
        """Run the tasks; yields ``(task index, event)`` as the children send them (interleaved).

        Raises
        ------
        Exception
            What a task raised in its child, with the same type and message.
        RunProcessError
            When a child ends without finishing its task (without ``keep_going``).
        """
        waiting = list(range(len(self.tasks)))
        running: dict[int, tuple[multiprocessing.process.BaseProcess, Any]] = {}
        try:
            while waiting or running:
                while waiting and len(running) < self.processes and not self._stop.is_set():
                    index = waiting.pop(0)
                    running[index] = start_child(
                        _run_task,
                        (self.tasks[index], self._stop),
                        name=f"dllab run {index + 1}: {self.names[index]}",
                        threads=blas_threads(self.processes),
                    )
                    self.started.append(index)
                if not running:
                    break
                readers = {connection: index for index, (_, connection) in running.items()}
                for connection in multiprocessing.connection.wait(list(readers)):
                    index = readers[connection]
                    try:
                        events = receive(connection, running[index][0], self.names[index])
                    except RunProcessError as exc:
                        if not self.keep_going:
                            raise
                        end_child(*running.pop(index))
                        yield index, ProcessDied(str(exc))
                        continue
                    if events is None:
                        end_child(*running.pop(index))
                    else:
                        for event in events:
                            yield index, event
        finally:
            for process, connection in running.values():
                end_child(process, connection, terminate=True)


# --- the parent's side of one child ------------------------------------------------------------------------


def start_child(
    target: Callable[..., None],
    args: tuple[Any, ...],
    *,
    name: str,
    threads: int,
    blas_threads: int | None = None,
) -> tuple[multiprocessing.process.BaseProcess, Any]:
    """Start ``target(*args, connection)`` in a spawned child computing on ``threads`` threads
    (:mod:`dllab.cores`) and ``blas_threads`` BLAS threads (by default as many); returns the process and the
    reading end of ``connection``, for :func:`receive`.

    The arguments are pickled to the child before this returns: with a large data set, call it off the GUI
    thread.
    """
    context = multiprocessing.get_context("spawn")
    reader, writer = context.Pipe(duplex=False)
    # A daemon: ended with the parent, whatever happens to it.
    process = context.Process(target=target, args=(*args, writer), name=name, daemon=True)
    try:
        with _child_environment(threads, threads if blas_threads is None else blas_threads):
            process.start()
    except BaseException:
        reader.close()
        raise
    finally:
        writer.close()  # the child holds the only writing end: its end of file says it has ended
    return process, reader


def receive(connection: Any, process: multiprocessing.process.BaseProcess, name: str) -> list[Any] | None:
    """The next batch of events from a child started by :func:`start_child`; None once its run is done.

    Raises
    ------
    Exception
        What the child's run raised, with the same type and message.
    RunProcessError
        When the child ended without finishing its run (``name`` names the run in the message).
    """
    try:
        kind, payload = connection.recv()
    except EOFError:
        raise RunProcessError(_death(process, name)) from None
    if kind == "events":
        return payload
    if kind == "failed":
        raise _rebuild_exception(*payload, name=name)
    return None


def end_child(
    process: multiprocessing.process.BaseProcess, connection: Any, *, terminate: bool = False
) -> None:
    """Wait for a child to end (terminated first with ``terminate``, killed if it does not end) and close it."""
    if terminate and process.is_alive():
        process.terminate()
    process.join(_JOIN_SECONDS)
    if process.is_alive():
        process.kill()
        process.join()
    connection.close()
    process.close()


def _death(process: multiprocessing.process.BaseProcess, name: str) -> str:
    process.join(_JOIN_SECONDS)
    code = process.exitcode
    if code is None:
        how = "closed its connection"
    elif code < 0:
        try:
            how = f"was killed by signal {signal.Signals(-code).name}"
        except ValueError:
            how = f"was killed by signal {-code}"
    else:
        how = f"exited with status {code}"
    return f"the process training {name!r} {how} before its run ended"


@contextlib.contextmanager
def _child_environment(threads: int, blas_threads: int) -> Iterator[None]:
    """While a child starts: its dllab and BLAS thread counts in the environment (:mod:`dllab.cores`), and
    Ctrl-C ignored (inherited)."""
    with _START_LOCK:
        saved = {name: os.environ.get(name) for name in (*BLAS_VARIABLES, THREADS_VARIABLE)}
        main = threading.current_thread() is threading.main_thread()
        handler = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
        os.environ.update(
            dict.fromkeys(BLAS_VARIABLES, str(blas_threads)), **{THREADS_VARIABLE: str(threads)}
        )
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            if handler is not None:  # None: a handler not set from Python, left as it is
                signal.signal(signal.SIGINT, handler)


# --- in the child ----------------------------------------------------------------------------------------


def send_events(
    source: Callable[[], Iterable[Any]], connection: Any, after_each: Callable[[], None] | None = None
) -> None:
    """A child's side of :func:`receive`: iterate ``source()``, send its events, then ``"done"``.

    Events go in small batches: a :class:`~dllab.trainer.BatchEnded` waits up to :data:`FLUSH_SECONDS`, any
    other event goes at once with those waiting. ``after_each``, if given, is called after every event. An
    exception is sent as what rebuilds it in the parent. Closes ``connection``.
    """
    try:
        waiting: list[Any] = []
        sent = -float("inf")
        for event in source():
            waiting.append(event)
            if after_each is not None:
                after_each()
            now = time.monotonic()
            if not isinstance(event, BatchEnded) or now - sent >= FLUSH_SECONDS:
                connection.send(("events", waiting))
                waiting, sent = [], now
        if waiting:
            connection.send(("events", waiting))
        connection.send(("done", None))
    except Exception as exc:
        connection.send(("failed", _exception_recipe(exc)))
    finally:
        connection.close()


def _run_task(task: RunTask, stop: Any, connection: Any) -> None:
    """A child's main function: run ``task``, stopping it once ``stop`` is set."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which stops the runs

    def check_stop() -> None:
        if stop.is_set():
            task.stop()

    def source() -> Iterator[Any]:
        check_stop()
        return task.events()

    send_events(source, connection, check_stop)


def _exception_recipe(
    exc: Exception,
) -> tuple[type[BaseException], tuple[Any, ...], dict[str, Any], str, str]:
    """What rebuilds ``exc`` in the parent: its class, arguments, attributes, message and traceback.

    The class is rebuilt without calling its ``__init__`` (which may format its arguments again), so the
    message stays the same; what cannot be pickled becomes a RuntimeError with the same message.
    """
    message = str(exc)
    text = "".join(traceback.format_exception(exc))
    recipe = (type(exc), exc.args, dict(getattr(exc, "__dict__", {})), message, text)
    try:
        pickle.dumps(recipe)
    except Exception:
        recipe = (RuntimeError, (message,), {}, message, text)
    return recipe


def _rebuild_exception(
    cls: type[BaseException],
    args: tuple[Any, ...],
    state: dict[str, Any],
    message: str,
    text: str,
    *,
    name: str,
) -> BaseException:
    try:
        exc = cls.__new__(cls, *args)
        exc.args = args
        exc.__dict__.update(state)
        if str(exc) != message:
            raise ValueError
    except Exception:
        exc = RuntimeError(message)
    exc.add_note(f"(raised in the process training {name!r}: {text.rstrip()})")
    return exc
