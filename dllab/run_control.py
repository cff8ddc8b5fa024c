"""Stop, pause, resume and single steps of one training run, and changes of its optimizer's settings: one object,
made by whoever starts the run and handed down to the trainer, which polls it between batches.

>>> control = RunControl()                                   # doctest: +SKIP
>>> trainer = Trainer(model, data, config, control)          # doctest: +SKIP
>>> threading.Timer(5.0, control.pause).start()              # doctest: +SKIP

The control is built on the synchronisation primitives of a *context*: the threading module's by default, or a
:mod:`multiprocessing` context's, so that the very object made in one process reaches a child started with that
context (as an argument of the child's process) and the child's trainer reads what the parent sets:

>>> context = multiprocessing.get_context("spawn")                       # doctest: +SKIP
>>> control = RunControl(context)                                        # doctest: +SKIP
>>> context.Process(target=train, args=(request, control)).start()       # doctest: +SKIP
>>> control.stop()                                   # no further batch in the child # doctest: +SKIP

This follows Orange's ``run(..., state)``: the computation receives one state object and polls it for
interruption; every layer between the one that makes it and the trainer only hands it on.
"""

from __future__ import annotations

import queue
import threading
from typing import Any, Protocol


class SyncContext(Protocol):
    """What a :class:`RunControl` is built from: a :mod:`multiprocessing` context, or :data:`THREADS`."""

    def Event(self) -> Any: ...

    def Value(self, typecode: str, value: int) -> Any: ...

    def Queue(self) -> Any: ...


class _LockedInt:
    """An integer with its lock, shaped like ``multiprocessing.Value("i")`` (``value`` and ``get_lock()``)."""

    def __init__(self, value: int) -> None:
        self.value = value
        self._lock = threading.Lock()

    def get_lock(self) -> threading.Lock:
        return self._lock


class _Threads:
    """The primitives of :mod:`threading`, under a :mod:`multiprocessing` context's names."""

    def Event(self) -> threading.Event:
        return threading.Event()

    def Value(self, typecode: str, value: int) -> _LockedInt:
        return _LockedInt(value)

    def Queue(self) -> queue.SimpleQueue[Any]:
        return queue.SimpleQueue()


#: Threads of one process: the default context of a :class:`RunControl`.
THREADS: SyncContext = _Threads()


class RunControl:
    """Stop, pause, resume and single steps of one run, and changes of its optimizer's settings, from any thread
    (or process, see the module).

    Every method takes effect between two batches: the trainer asks :meth:`next_batch` before each one, and
    takes the changes asked for (:meth:`take_changes`) before each one and while paused.

    Parameters
    ----------
    context
        Where the primitives come from: :data:`THREADS` (the default) for threads of one process, or a
        :mod:`multiprocessing` context (e.g. ``get_context("spawn")``) for a control handed to a child process
        of that context when it starts.
    """

    def __init__(self, context: SyncContext = THREADS) -> None:
        self._stopped = context.Event()
        self._closing = context.Event()
        self._skip_evaluation = context.Event()
        self._running = context.Event()  # clear while paused
        self._running.set()
        self._steps = context.Value("i", 0)  # batches granted by step() while paused
        self._changes = context.Queue()  # optimizer settings to change, in the order asked

    # --- any thread ---------------------------------------------------------------------------------------

    def stop(self, *, closing: bool = False) -> None:
        """Stop before the next batch (also while paused).

        Parameters
        ----------
        closing
            Nobody will look at the end of the run (the window is closing): whoever ends it skips the work that
            only shows results, such as a final test evaluation.
        """
        if closing:
            self._closing.set()
            self._skip_evaluation.set()
        self._stopped.set()
        self._running.set()  # wakes a paused wait

    def skip_evaluation(self) -> None:
        """Whoever ends the run skips the test set's evaluation (or the rest of it): the run ends now, its
        summary without test results. Set by a stop with ``closing`` too."""
        self._skip_evaluation.set()

    def pause(self) -> None:
        """Pause before the next batch."""
        self._running.clear()

    def resume(self) -> None:
        """Go on after a pause (a single step still pending is dropped)."""
        with self._steps.get_lock():
            self._steps.value = 0
        self._running.set()

    def step(self) -> None:
        """While paused, allow exactly one more batch, then pause again (does nothing while running)."""
        with self._steps.get_lock():
            if self._running.is_set():
                return
            self._steps.value += 1
        self._running.set()

    def change(self, values: dict[str, Any]) -> None:
        """Change optimizer settings (e.g. ``{"lr": 0.003}``) from the next batch on.

        The trainer checks the values against its optimizer's settings when it takes them: a change it refuses
        is announced as a :class:`dllab.trainer.ChangeRefused` event with the reason, and the run goes on.
        """
        self._changes.put(dict(values))

    @property
    def stopped(self) -> bool:
        """Whether :meth:`stop` was called."""
        return self._stopped.is_set()

    @property
    def paused(self) -> bool:
        """Whether the run is paused or pausing (not after a stop)."""
        return not self._running.is_set()

    @property
    def evaluation_skipped(self) -> bool:
        """Whether :meth:`skip_evaluation` was called (or :meth:`stop` with ``closing``)."""
        return self._skip_evaluation.is_set()

    @property
    def closing(self) -> bool:
        """Whether :meth:`stop` was called with ``closing``."""
        return self._closing.is_set()

    # --- the training loop ------------------------------------------------------------------------------------

    def next_batch(self, timeout: float | None = None) -> bool:
        """Wait until another batch may run, at most ``timeout`` seconds (None: as long as it takes).

        Returns
        -------
        bool
            True when the batch may run: the run is going, or :meth:`step` allowed one batch (which is used
            up: the run is paused again). False when the run is stopped, or still paused after ``timeout``.
        """
        if not self._running.wait(timeout) or self._stopped.is_set():
            return False
        with self._steps.get_lock():
            if self._steps.value > 0:
                self._steps.value -= 1
                self._running.clear()
        return True

    def take_changes(self) -> list[dict[str, Any]]:
        """The changes asked for since the last call, oldest first (a change still on its way from another
        process comes at a later call)."""
        taken = []
        while True:
            try:
                taken.append(self._changes.get_nowait())
            except queue.Empty:
                return taken
