"""Training from the desktop app: the design's settings become a run in a process of its own whose items feed
the views.

:class:`TrainingController` answers the state's ``train_requested`` and ``stop_requested`` signals. It captures
what a run needs on the GUI thread (:meth:`AppState.training_config`, the loaded data set, the network),
hands it to a :class:`ui.training.process.TrainingProcess` (the session trains in a process of its own) whose
items a :class:`ui.common.worker.GeneratorWorker` thread receives, and passes every batch of items to each
view. It makes the run's :class:`~dllab.run_control.RunControl` (for a child process), hands it down with the
request, and pause, resume, step and stop set it: the trainer in the child reads it before every batch. When the
run trains, :meth:`TrainingController.change_settings` changes its optimizer's settings through the same control
(from the next mini-batch; the design keeps its own values). When the run ends the trained model becomes the state's current model (so File ▸ Export works), the run folder shows in the
Runs panel, a divergence or a failure is explained in a dialog, and the design is unlocked.
"""

from __future__ import annotations

import math
import multiprocessing
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import QWidget

from dllab.run_control import RunControl
from dllab.runs import runs_root
from dllab.trainer import (
    BatchEnded,
    ChangeRefused,
    Diverged,
    EpochEnded,
    Paused,
    Resumed,
    RunStarted,
    SettingsChanged,
    Stopped,
)
from ui.common import dialogs
from ui.common.formatting import duration_text
from ui.common.worker import GeneratorWorker
from ui.state import AppState
from ui.training.process import TrainingProcess
from ui.training.session import (
    EvaluatingTestSet,
    SessionEnded,
    SessionStarted,
    TrainingRequest,
    is_urgent,
)

if TYPE_CHECKING:  # the views are built when they are first needed, pyqtgraph with them
    from ui.common.view import TrainingView

#: Seconds after which closing, still waiting for the stopped run's thread, says so in the status bar (it waits
#: on: a running thread must not be destroyed).
CLOSE_NOTICE_S = 2.0
#: Seconds between two sets of layer statistics at the least, whatever the number of batches (within the run's
#: probe budget): the Activations and Weights views keep up with a slow network.
LIVE_STATISTICS_S = 1.0
#: Seconds between two updates of the progress line at the most (text that changes faster cannot be read).
PROGRESS_INTERVAL_S = 0.2
#: Seconds between two batches of a run's items handed to the views at the most (urgent items go at once): the
#: views redraw a few times a second within their drawing budget and the progress line five times, and items
#: every 50 ms (as the training process sends them) cost the GUI thread twice the handling for nothing (MLP on
#: MNIST, every view open: 0.86-0.95 % of the GUI thread's time while training, 0.62-0.76 % now).
ITEMS_INTERVAL_S = 0.1


class _SpareControl:
    """The next run's :class:`RunControl`, made in a thread of its own ahead of the press of Train.

    A control for a child process holds semaphores, a value in shared memory and a queue: 10-25 ms of making
    (the first one also starts :mod:`multiprocessing`'s resource tracker) that froze the window when Train was
    pressed. Made in a thread, it waits for the press.
    """

    def __init__(self) -> None:
        self._control: RunControl | None = None
        self._thread = threading.Thread(target=self._make, name="run control", daemon=True)
        self._thread.start()

    def _make(self) -> None:
        self._control = RunControl(multiprocessing.get_context("spawn"))

    def take(self) -> RunControl:
        """The control (made here, should its thread have failed)."""
        self._thread.join()
        return self._control or RunControl(multiprocessing.get_context("spawn"))


@dataclass(frozen=True)
class Progress:
    """Where a run is, for the progress bar and its line of text."""

    #: "idle", "preparing", "running", "paused", "stopping" (Stop was pressed, the current batch ends),
    #: "evaluating" (the test set, once training is over), "finished", "stopped", "diverged" or "failed".
    state: str = "idle"
    epoch: int = 0
    epochs: int = 0
    step: int = 0
    total_steps: int = 0
    samples_per_second: float = math.nan
    eta_seconds: float = math.nan
    message: str = ""
    #: Test samples evaluated so far, of ``test_samples``, while ``evaluating``.
    evaluated: int = 0
    test_samples: int = 0
    #: While ``evaluating``: the run finished on its own (else it was stopped or diverged).
    finished_training: bool = False

    @property
    def fraction(self) -> float:
        """Share of the iterations done (of the test samples while evaluating), 0 to 1."""
        if self.state == "evaluating":
            return self.evaluated / self.test_samples if self.test_samples else 0.0
        return self.step / self.total_steps if self.total_steps else 0.0

    @property
    def ending(self) -> bool:
        """Whether the run is stopping or evaluating its test set: it trains no more, Stop skips the rest."""
        return self.state in ("stopping", "evaluating")

    def text(self) -> str:
        """One line: epoch, iteration, samples per second and time left (or how the run ended)."""
        if self.state == "idle":
            return "Ready."
        if self.state == "preparing":
            return "Preparing the data and the network…"
        if self.state == "stopping":
            return f"Stopping after iteration {self.step:,}…"
        if self.state == "evaluating":
            ended = (
                f"Trained for {self.step:,} iterations."
                if self.finished_training
                else f"Stopped at iteration {self.step:,}."
            )
            # Two lines in the Training panel at most: the Skip button beside says how to end it now.
            return f"{ended} Evaluating on the test set… {self.evaluated:,}/{self.test_samples:,}"
        if self.state in ("finished", "stopped", "diverged", "failed"):
            return self.message
        parts = [
            f"Epoch {max(self.epoch, 1)}/{self.epochs}",
            f"iteration {self.step:,}/{self.total_steps:,}",
        ]
        if math.isfinite(self.samples_per_second):
            parts.append(f"{self.samples_per_second:,.0f} samples/s")
        if self.state == "paused":
            parts.append("paused: Step trains one batch")
        else:
            parts.append(f"ETA {duration_text(self.eta_seconds)}")
        return " · ".join(parts)


class TrainingController(QObject):
    """Starts, controls and ends training runs of ``state``'s design, feeding ``views``.

    Parameters
    ----------
    state
        The app state: the design, the data, the settings; it is locked while a run trains.
    views
        The views that receive every item of a run, or a function that returns them, called the first time
        they are needed (at the latest when a run starts, so that they see all of it): the window builds them
        then.
    window
        The parent of dialogs.
    """

    run_started = Signal(object)
    """A run is set up (:class:`ui.training.session.SessionStarted`); its folder exists."""
    progressed = Signal(object)
    """The run's :class:`Progress` changed (at once for a new state, else at most five times a second)."""
    paused_changed = Signal(bool)
    """The run paused (True) or went on (False)."""
    settings_changed = Signal(object)
    """The run's optimizer settings changed (:class:`dllab.trainer.SettingsChanged`)."""
    change_refused = Signal(str)
    """A change of the run's optimizer settings was refused: the reason, one sentence."""
    run_ended = Signal(str, str)
    """The run ended: its status (finished, stopped, diverged, failed) and a sentence about it."""

    def __init__(
        self,
        state: AppState,
        views: Sequence[TrainingView] | Callable[[], Sequence[TrainingView]],
        window: QWidget,
    ) -> None:
        super().__init__(window)
        self._state = state
        self._window = window
        self._make_views = views if callable(views) else lambda: views
        self._views: list[TrainingView] | None = None
        self.session: TrainingProcess | None = None
        self.control: RunControl | None = None
        self.worker: GeneratorWorker | None = None
        self.progress = Progress()
        self._progress_shown_at = -math.inf
        self.started: SessionStarted | None = None
        self.ended: SessionEnded | None = None
        self.failure: str | None = None
        self.divergence: str | None = None
        self.paused = False
        self._run_clock: float | None = None
        self._paused_at: float | None = None
        self._paused_total = 0.0
        self._closing = False
        self._views_pending = False
        self._ready_timer = QTimer(self)
        self._ready_timer.setSingleShot(True)
        self._ready_timer.setInterval(10)
        self._ready_timer.timeout.connect(self._on_ready_timer_timeout)
        self._spare_control: _SpareControl | None = _SpareControl()
        state.network_changed.connect(self._on_state_design_changed)
        state.dataset_changed.connect(self._on_state_design_changed)
        state.train_requested.connect(self._on_state_train_requested)
        state.stop_requested.connect(self._on_state_stop_requested)
        if not callable(views):
            self._build_views()

    @property
    def views(self) -> list[TrainingView]:
        """The views fed by the runs (asked for, and so built, the first time they are needed)."""
        return self._build_views()

    def _build_views(self) -> list[TrainingView]:
        if self._views is None:
            self._views = views = list(self._make_views())
            for view in views:
                sample_changed = getattr(view, "sample_changed", None)
                if sample_changed is not None:
                    sample_changed.connect(self._on_view_sample_changed)
                exclusion_requested = getattr(view, "exclusion_requested", None)
                if exclusion_requested is not None:
                    exclusion_requested.connect(self._on_view_exclusion_requested)
        return self._views

    # --- control ---------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether a run is in progress (its thread has not ended)."""
        return self.worker is not None

    def make_request(self) -> TrainingRequest:
        """What a run of the current design needs, captured now (``ValueError`` for invalid settings)."""
        state = self._state
        dataset = state.dataset
        if dataset is None:
            raise ValueError("no dataset is loaded")
        d = state.data_settings
        return TrainingRequest(
            spec=state.spec_copy(),
            dataset=dataset,
            data_settings=state.run_data_settings(),
            config=replace(state.training_config(), stats_seconds=LIVE_STATISTICS_S),
            seed=state.training.seed,
            data_seed=d.seed,
            runs_root=runs_root(),
            extra={"data_options": {"n_samples": d.n_samples, "noise": d.noise, "n_classes": d.n_classes}},
        )

    def start(self) -> bool:
        """Start training the design; False (with the reason in a dialog) when it cannot."""
        if self.running:
            return False
        try:
            request = self.make_request()
        except ValueError as exc:
            dialogs.show_error(self._window, "Cannot train", f"The settings are not valid: {exc}.")
            return False
        self._build_views()  # now, before the run's first item
        spare, self._spare_control = self._spare_control or _SpareControl(), None
        self.control = spare.take()
        self.session = session = TrainingProcess(request, self.control, wait_for_views=True)
        self._views_pending = True
        self.worker = worker = GeneratorWorker(
            session.events, urgent=is_urgent, interval=ITEMS_INTERVAL_S, name="training"
        )
        # Slots of this object, which lives in the GUI thread: Qt queues the worker thread's signals to it.
        worker.events_ready.connect(self._on_worker_events_ready)
        worker.failed.connect(self._on_worker_failed)
        worker.finished.connect(self._on_worker_finished)
        self.started = self.ended = None
        self.failure = self.divergence = None
        self.paused = False
        self._run_clock = self._paused_at = None
        self._paused_total = 0.0
        self._set_progress(Progress("preparing", epochs=request.config.epochs))
        self._state.set_training_active(True)
        worker.start()
        return True

    def stop(self) -> None:
        """Stop after the current batch (the run folder keeps what was done); the progress says so at once. A
        second stop, while the run is ending, skips its test evaluation (:meth:`skip_evaluation`)."""
        control = self.control
        if control is None:
            return
        if self.progress.ending:
            self.skip_evaluation()
            return
        control.stop()
        if self.progress.state in ("preparing", "running", "paused"):
            self._set_progress(replace(self.progress, state="stopping"))

    def skip_evaluation(self) -> None:
        """End a run that trains no more now, without (the rest of) its test evaluation: its summary has no test results."""
        if self.control is not None:
            self.control.skip_evaluation()

    def toggle_pause(self) -> None:
        """Pause after the current batch, or go on when paused or pausing."""
        control = self.control
        if control is None:
            return
        if control.paused:
            control.resume()
        else:
            control.pause()
        self.paused_changed.emit(control.paused)

    def step(self) -> None:
        """While paused, train exactly one more batch."""
        if self.control is not None and self.paused:
            self.control.step()

    def change_settings(self, values: dict[str, Any]) -> bool:
        """Change the running network's optimizer settings (e.g. ``{"lr": 0.003}``) from its next mini-batch.

        The training process checks the values: a change it refuses comes back as ``change_refused`` with the
        reason, one it applies as ``settings_changed``; the run's ``config.json`` records it. False when no run
        trains.
        """
        if self.control is None or not self.running:
            return False
        self.control.change(values)
        return True

    @property
    def pause_requested(self) -> bool:
        """Whether the run is paused or pausing."""
        return self.control is not None and self.control.paused

    def shutdown(self) -> None:
        """Stop a run and wait for its process and thread (the window is closing); the run folder is kept.

        The stop takes effect after the current batch, so this returns in well under a second for any
        network that trains at a few batches a second; the test evaluation and last snapshots are skipped.
        """
        worker, control = self.worker, self.control
        if worker is None or control is None:
            return
        self._closing = True
        control.stop(closing=True)
        if not worker.wait(CLOSE_NOTICE_S):
            self._state.post_message("Waiting for the training process to finish its batch…")
            worker.wait()
        for signal in (worker.events_ready, worker.failed, worker.finished):
            signal.disconnect()
        self._finish()

    # --- the worker's signals ------------------------------------------------------------------------------

    def _on_state_train_requested(self) -> None:
        self.start()

    def _on_state_stop_requested(self) -> None:
        self.stop()

    def _on_state_design_changed(self) -> None:
        """What the views of the last run's model showed no longer exists: they say so (not while a run
        trains, when the design is locked)."""
        if not self.running:
            for view in self._views or ():  # views not built yet have shown no run
                view.forget_run()

    def _on_view_exclusion_requested(self, rows: tuple[int, ...]) -> None:
        with dialogs.report_user_errors(self._window, "Cannot leave the samples out"):
            self._state.set_data_settings(excluded_test=tuple(rows))
            dialogs.show_info(
                self._window,
                "Retrain without the mislabelled samples",
                f"The next run is evaluated without the {len(rows):,} test samples marked mislabelled "
                "(the data set's files are not changed). Press Train to start it.",
            )

    def _on_view_sample_changed(self, index: int) -> None:
        if self.session is not None:
            self.session.feature_sample = index

    @Slot(object)
    def _on_worker_events_ready(self, items: list[Any]) -> None:
        for item in items:
            if isinstance(item, SessionStarted):
                self.started = item
                for view in self.views:
                    view.begin_run(item)
                self.run_started.emit(item)
                if item.transfer is not None:
                    name = Path(item.init_from or "").name
                    self._state.post_message(f"Started from {name}: {'; '.join(item.transfer.lines())}.")
                self._on_ready_timer_timeout()
        for view in self.views:
            view.handle_items(items)
        self._track(items)

    def _track(self, items: Sequence[Any]) -> None:
        """Update the progress from a batch of items."""
        progress = self.progress
        now = time.monotonic()
        for item in items:
            if isinstance(item, RunStarted):
                self._run_clock = now
                stopping = self.control is not None and self.control.stopped
                progress = replace(
                    progress,
                    state="stopping" if stopping else "running",
                    epochs=item.epochs,
                    total_steps=item.total_steps,
                    epoch=1,
                )
            elif isinstance(item, Paused):
                self.paused = True
                self._paused_at = now
                progress = replace(progress, state="paused")
                self.paused_changed.emit(True)
            elif isinstance(item, Resumed):
                self.paused = False
                if self._paused_at is not None:
                    self._paused_total += now - self._paused_at
                    self._paused_at = None
                progress = replace(progress, state="running")
            elif isinstance(item, SettingsChanged):
                self._state.post_message(f"From iteration {item.step + 1:,}: {item.text()}.")
                self.settings_changed.emit(item)
            elif isinstance(item, ChangeRefused):
                self._state.post_message(f"The change was refused: {item.message}.")
                self.change_refused.emit(item.message)
            elif isinstance(item, Stopped | Diverged):
                if isinstance(item, Diverged):
                    self.divergence = item.message
                progress = replace(progress, state="stopping", step=item.step)
            elif isinstance(item, EvaluatingTestSet):
                progress = replace(
                    progress,
                    state="evaluating",
                    evaluated=item.done,
                    test_samples=item.total,
                    finished_training=item.finished,
                )
            elif isinstance(item, SessionEnded):
                self.ended = item
        last_batch = next((i for i in reversed(items) if type(i) is BatchEnded), None)
        last_epoch = next((i for i in reversed(items) if isinstance(i, EpochEnded)), None)
        if last_batch is not None:
            elapsed = self._elapsed(now)
            remaining = progress.total_steps - last_batch.step
            eta = elapsed / last_batch.step * remaining if last_batch.step else math.nan
            progress = replace(
                progress,
                step=last_batch.step,
                epoch=last_batch.epoch,
                samples_per_second=last_batch.samples_per_second,
                eta_seconds=eta,
            )
            if progress.state == "paused" and not self.paused:
                progress = replace(progress, state="running")
        elif last_epoch is not None:
            progress = replace(progress, epoch=last_epoch.epoch)
        if progress != self.progress:
            self._set_progress(progress)

    def _elapsed(self, now: float) -> float:
        if self._run_clock is None:
            return math.nan
        paused = self._paused_total + (now - self._paused_at if self._paused_at is not None else 0.0)
        return max(now - self._run_clock - paused, 1e-9)

    def _set_progress(self, progress: Progress) -> None:
        """Keep ``progress``; tell the panel at once when the state changes, else a few times a second."""
        changed_state = progress.state != self.progress.state
        self.progress = progress
        now = time.monotonic()
        if changed_state or now - self._progress_shown_at >= PROGRESS_INTERVAL_S:
            self._progress_shown_at = now
            self.progressed.emit(progress)

    def _on_ready_timer_timeout(self) -> None:
        """Let the first batch start once no view is building its plots any more."""
        session = self.session
        if session is None or not self._views_pending:
            return
        if any(getattr(view, "building", False) for view in self.views):
            self._ready_timer.start()
        else:
            self._views_pending = False
            session.views_are_ready()

    @Slot(str)
    def _on_worker_failed(self, reason: str) -> None:
        self.failure = reason

    @Slot()
    def _on_worker_finished(self) -> None:
        worker = self.worker
        if worker is not None:
            worker.wait()
        self._finish()
        if self.failure is not None:
            dialogs.show_error(
                self._window,
                "Training failed",
                f"Training stopped because of an error: {self.failure}\n\nThe design and the app are unchanged; "
                "change the settings and train again.",
            )
        elif self.divergence is not None:
            dialogs.show_error(self._window, "Training diverged", self.divergence)

    def _finish(self) -> None:
        """The thread has ended: unlock the design, hand the model over, tell everyone how it ended."""
        ended, failure = self.ended, self.failure
        if failure is not None:
            status, message = "failed", f"Training failed: {failure}"
        elif ended is not None:
            status, message = ended.status, ended.message
        else:
            status, message = "stopped", "Stopped."
        self.worker = None
        self.session = self.control = None
        self.paused = False
        if not self._closing:
            self._spare_control = _SpareControl()  # for the next run
        for view in self.views:
            view.end_run(status)
        if ended is not None and ended.model is not None:
            for view in self.views:
                view.set_model(ended.model)
            if not self._closing:
                self._state.set_model(ended.model)
        self._state.set_training_active(False)
        self._set_progress(replace(self.progress, state=status, message=message))
        self._state.post_message(message)
        self.run_ended.emit(status, message)
