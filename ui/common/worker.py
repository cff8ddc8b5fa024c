"""Iterating a generator of events on a ``QThread`` and handing what it yields to the GUI thread in batches.

The work is a plain generator that knows nothing of Qt (the trainer's events wrapped by
:mod:`ui.training.session`, or a comparison's ``VariantEvent`` items); :class:`GeneratorWorker` iterates it in a
thread of its own and emits the items as lists through :attr:`GeneratorWorker.events_ready`, at most about 30
times a second, and at once for the items its ``urgent`` predicate picks (the end of a run, a pause). This is the
pattern of superqt's ``GeneratorWorker`` and Orange's ``concurrent`` helpers, rate-limited so that the GUI thread
receives a few large batches instead of thousands of small signals.

Control never goes through the worker thread's event queue, which is busy iterating: stop, pause and step set the
run's :class:`~dllab.run_control.RunControl`, which whoever started the run handed to the trainer (the worker
knows nothing of it), and :meth:`abort` sets a flag that is checked between items. An exception raised by the generator becomes :attr:`failed` with its reason
in one line; :attr:`finished` always comes last.

>>> worker = GeneratorWorker(lambda: trainer.run(), urgent=is_terminal)     # doctest: +SKIP
>>> worker.events_ready.connect(view.handle_events)                       # doctest: +SKIP
>>> worker.start()                                                        # doctest: +SKIP
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, Signal, Slot

#: Seconds between two batches of items at the most (about 30 a second).
EMIT_INTERVAL_S = 1 / 30

#: Workers with their threads, kept until the thread has finished: a worker dropped while it runs must not
#: take its QThread with it ("QThread: Destroyed while thread is still running" aborts the process). Pruned
#: in the GUI thread whenever a worker starts.
_STARTED: list[tuple[GeneratorWorker, QThread]] = []


def one_line(exc: BaseException) -> str:
    """An exception's message as one line, with its type when the message alone would say too little."""
    text = " ".join(str(exc).split())
    if not text:
        return type(exc).__name__
    if isinstance(exc, ValueError | OSError | KeyError) or type(exc).__module__.startswith("dllab"):
        return text
    return f"{type(exc).__name__}: {text}"


def _never(item: Any) -> bool:
    return False


class GeneratorWorker(QObject):
    """Iterates ``source()`` in its own thread and emits the items in rate-limited batches.

    Parameters
    ----------
    source
        Called in the worker thread to create the iterable (usually a generator function), so the work it does
        before its first item also runs off the GUI thread.
    urgent
        Items for which the batch is emitted at once instead of waiting for the interval.
    interval
        Seconds between two batches at the most.
    name
        The thread's name (for debuggers and profilers).
    """

    events_ready = Signal(object)
    """A ``list`` of the items yielded since the last batch, in order."""
    failed = Signal(str)
    """The generator raised; the exception's reason in one line (the items before it were emitted)."""
    finished = Signal()
    """The generator is exhausted, failed or was aborted; always the last signal."""

    def __init__(
        self,
        source: Callable[[], Iterable[Any]],
        *,
        urgent: Callable[[Any], bool] = _never,
        interval: float = EMIT_INTERVAL_S,
        name: str = "generator-worker",
    ) -> None:
        super().__init__()
        self._source = source
        self._urgent = urgent
        self._interval = interval
        self._abort = threading.Event()
        self._done = threading.Event()
        self._thread: QThread | None = None
        self._name = name
        self.batches_emitted = 0

    # --- control (GUI thread) ----------------------------------------------------------------------------

    def start(self) -> None:
        """Move to a new thread and start iterating there."""
        if self._thread is not None:
            raise RuntimeError("a GeneratorWorker runs once")
        thread = QThread()
        thread.setObjectName(self._name)
        self.moveToThread(thread)
        thread.started.connect(self.run)
        # Direct: the thread must end even while the GUI thread is blocked waiting for it (closing).
        self.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        self._thread = thread
        _STARTED[:] = [(worker, started) for worker, started in _STARTED if not started.isFinished()]
        _STARTED.append((self, thread))
        thread.start()

    def abort(self) -> None:
        """Stop iterating before the next item (any thread); the generator is closed."""
        self._abort.set()

    @property
    def is_running(self) -> bool:
        """Whether the generator is still being iterated."""
        return self._thread is not None and not self._done.is_set()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until the thread has ended (or ``timeout_s`` passed); True when it has ended."""
        thread = self._thread
        if thread is None:
            return True
        if timeout_s is None:
            return bool(thread.wait())
        return bool(thread.wait(max(0, round(timeout_s * 1000))))

    # --- the worker thread ----------------------------------------------------------------------------------

    @Slot()
    def run(self) -> None:
        """Iterate the source, emitting batches; called in the worker thread."""
        batch: list[Any] = []
        last_emit = time.monotonic()
        iterator: Any = None
        try:
            iterator = iter(self._source())
            for item in iterator:
                batch.append(item)
                now = time.monotonic()
                if self._urgent(item) or now - last_emit >= self._interval:
                    self._emit(batch)
                    batch = []
                    last_emit = now
                if self._abort.is_set():
                    break
        except Exception as exc:  # the reason goes to the GUI; the app keeps running
            self._emit(batch)
            batch = []
            self.failed.emit(one_line(exc))
        finally:
            self._emit(batch)
            close = getattr(iterator, "close", None)
            if callable(close):
                try:
                    close()
                except Exception as exc:  # a generator failing in its own clean-up
                    self.failed.emit(one_line(exc))
            app = QCoreApplication.instance()
            if app is not None:
                # Back to the GUI thread, so the worker is deleted there once this thread has ended.
                self.moveToThread(app.thread())
            self._done.set()
            self.finished.emit()

    def _emit(self, batch: list[Any]) -> None:
        if batch:
            self.batches_emitted += 1
            self.events_ready.emit(batch)
