"""What the comparison and search views share: a column of settings beside the plots, a Run / Stop button with
a progress bar, and one job (:mod:`ui.experiments.jobs`) iterated by the app's
:class:`~ui.common.worker.GeneratorWorker`.

:class:`ExperimentView` is a :class:`~ui.common.view.TrainingView`, so it has the views' header (a hint, Export
PNG and CSV), the placeholder before the first run and the coalesced redraws; it puts a settings column on the
left of the plots. Subclasses fill the column, say why Run is unavailable (:meth:`ExperimentView.run_blocker`),
make the job (:meth:`ExperimentView.make_job`) and take its items (:meth:`TrainingView.handle_items`).

Stop reaches the running trainer directly (the job's thread-safe ``stop``), so it takes effect before the next
mini-batch. :meth:`ExperimentView.shutdown` stops and waits for the thread; the main window calls it when it
closes (``window_closing``).
"""

from __future__ import annotations

import gc
import math
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QCloseEvent, QIcon, QResizeEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from dllab.errors import error_sentence
from dllab.experiments.compare import VariantResult
from ui.common import dialogs
from ui.common.formatting import duration_text
from ui.common.icons import action_icon
from ui.common.view import TrainingView
from ui.common.widgets import ProgressBar, error_label, let_shrink, section_title, style_form
from ui.common.worker import GeneratorWorker
from ui.experiments.jobs import ExperimentJob, ExperimentPreparing, is_urgent
from ui.state import AppState

#: Width of the settings column.
SIDEBAR_WIDTH = 300
#: The plots' least width beside the settings column; in a narrower view the plots go above the settings.
SIDE_BY_SIDE_PLOTS_WIDTH = 420
#: The least height of the plots and of the settings when the plots are above the settings.
STACKED_LEAST_HEIGHT = 150


def collect_garbage() -> None:
    """Collect Python's cyclic garbage now, in the GUI thread.

    Qt objects that end up in reference cycles (pyqtgraph items removed from a plot, a finished worker) are
    destroyed by whichever thread runs Python's garbage collector next; if that is a worker thread, Qt aborts
    (timers stopped from another thread, "pure virtual method called"). So the views drop their Qt objects only
    while no worker of theirs runs, and collect right before starting one; while it runs they only create
    and update items.
    """
    gc.collect()


def spin_box(low: int, high: int, value: int, tip: str, parent: QWidget, *, special: str = "") -> QSpinBox:
    """An integer spin box; ``special`` is shown for the lowest value (e.g. "no limit" for 0)."""
    spin = QSpinBox(parent)
    spin.setRange(low, high)
    spin.setValue(value)
    spin.setToolTip(tip)
    spin.setAccelerated(True)
    spin.setKeyboardTracking(False)
    spin.setGroupSeparatorShown(True)
    if special:
        spin.setSpecialValueText(special)
    return spin


def share_done(results: Sequence[VariantResult], total_steps: Mapping[int, int]) -> float:
    """The share of all runs' mini-batches done: a run that ended counts whole, a running one by its
    mini-batches out of ``total_steps[index]``, one not started as nothing."""
    if not results:
        return 0.0
    done = 0.0
    for r in results:
        if r.status not in ("pending", "running"):
            done += 1.0
        elif total_steps.get(r.index):
            done += len(r.steps) / total_steps[r.index]
    return done / len(results)


def processes_spin_box(what: str, parent: QWidget) -> QSpinBox:
    """How many runs (``what``: "runs", "trials") train at once, each in a process of its own (1 to the cores)."""
    cores = os.cpu_count() or 1
    return spin_box(
        1,
        cores,
        1,
        f"Train this many {what} at once, each in a process of its own: one per core at most is useful (this "
        f"computer has {cores}). Each process uses fewer BLAS threads for its matrix products (the cores "
        f"divided by the processes). 1: the {what} train one after another.",
        parent,
    )


class SidebarView(TrainingView):
    """A view with a column of settings left of its plots (under the views' header with the exports).

    Subclasses add sections (:meth:`add_section`, or widgets on :attr:`sidebar`, parented to
    :attr:`sidebar_body`) and call :meth:`finish_sidebar` at the end.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sidebar_body = QWidget()
        self.sidebar = QVBoxLayout(self.sidebar_body)
        self.sidebar.setContentsMargins(14, 6, 14, 12)
        self.sidebar.setSpacing(6)
        scroll = QScrollArea(self)
        scroll.setWidget(self.sidebar_body)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.sidebar_scroll = scroll
        # The settings column goes left of the plots (the base class put the plots under its header), in a
        # splitter: the column can be made narrower (it scrolls) or folded away to give the plots the width.
        layout = self.layout()
        layout.removeWidget(self.stack)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("sidebarSplitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(scroll)
        self.splitter.addWidget(self.stack)
        self.splitter.setCollapsible(0, True)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([SIDEBAR_WIDTH, 10 * SIDEBAR_WIDTH])
        layout.addWidget(self.splitter, 1)

    @property
    def stacked(self) -> bool:
        """Whether the plots are above the settings (a narrow view) rather than right of them."""
        return self.splitter.orientation() == Qt.Orientation.Vertical

    def _arrange_for_width(self, width: int) -> None:
        """The settings column left of the plots when both have room in ``width``; else the plots above the
        settings, each scrolling in its share of the height, rather than a column squeezed to a sliver."""
        stacked = width < SIDEBAR_WIDTH + SIDE_BY_SIDE_PLOTS_WIDTH
        if stacked == self.stacked:
            return
        self.splitter.setOrientation(Qt.Orientation.Vertical if stacked else Qt.Orientation.Horizontal)
        self.splitter.insertWidget(0, self.stack if stacked else self.sidebar_scroll)
        self.splitter.setCollapsible(0, not stacked)  # the settings column may fold away, the plots never
        self.splitter.setCollapsible(1, stacked)
        self.splitter.setStretchFactor(0, 3 if stacked else 0)  # stacked: three fifths of the height to the
        self.splitter.setStretchFactor(1, 2 if stacked else 1)  # plots, two to the settings
        for part in (
            self.stack,
            self.sidebar_scroll,
        ):  # not what a wrapped text would ask for in a narrow view
            part.setMinimumHeight(STACKED_LEAST_HEIGHT if stacked else 0)
        self.splitter.setSizes([300, 200] if stacked else [SIDEBAR_WIDTH, 10 * SIDEBAR_WIDTH])
        self.sidebar_scroll.setHorizontalScrollBarPolicy(
            Qt.ScrollBarPolicy.ScrollBarAlwaysOff if stacked else Qt.ScrollBarPolicy.ScrollBarAsNeeded
        )

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._arrange_for_width(event.size().width())
        super().resizeEvent(event)

    def shutdown(self) -> None:
        """Stop what runs in the background and wait for it (the window is closing); nothing here."""

    def add_section(self, title: str) -> QFormLayout:
        """A titled group of settings in the column; returns its form."""
        if self.sidebar.count():
            self.sidebar.addSpacing(6)
        self.sidebar.addWidget(section_title(title, self.sidebar_body))
        form = QFormLayout()
        style_form(form)
        self.sidebar.addLayout(form)
        return form

    def finish_sidebar(self) -> None:
        """End the column (what follows is pushed to its top)."""
        self.sidebar.addStretch(1)
        for combo in self.sidebar_body.findChildren(QComboBox):  # long entries must not widen the column
            let_shrink(combo)


class ExperimentView(SidebarView):
    """Base of the views that train several runs (comparison, hyperparameter search).

    Parameters
    ----------
    state
        The app state (an :class:`ui.state.AppState`) whose network and data the runs may use; None for a view
        that only runs its own presets.

    Signals
    -------
    run_started()
        A job started in the worker.
    run_finished(str)
        The worker's thread has ended: ``"finished"``, ``"stopped"`` or ``"failed"``.
    """

    run_started = Signal()
    run_finished = Signal(str)

    #: The worker thread's name.
    worker_name: ClassVar[str] = "experiment"
    #: The Run button's tooltip.
    run_tip: ClassVar[str] = "Train every run in turn."

    def __init__(self, state: AppState | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.job: ExperimentJob | None = None
        self.worker: GeneratorWorker | None = None
        self.failure: str | None = None
        self.last_status = "idle"
        self._started_at = math.nan
        self._finished_worker: GeneratorWorker | None = None

        self.run_button = QPushButton("Run", self)
        self.run_button.setObjectName("trainButton")
        self.run_button.setIconSize(QSize(16, 16))
        self.run_button.setMinimumHeight(36)
        self.run_button.clicked.connect(self._on_run_button_clicked)
        self.blocker_label = error_label(self)
        self.progress_bar = ProgressBar(self)
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setFixedHeight(6)
        self.progress_label = QLabel("", self)
        self.progress_label.setObjectName("hint")
        self.progress_label.setWordWrap(True)

    def follow_design(self) -> None:
        """Call :meth:`design_changed` whenever the app's network, data or settings change (call once the
        widgets it updates exist)."""
        if self.state is None:
            return
        for signal in (
            self.state.network_changed,
            self.state.dataset_changed,
            self.state.data_settings_changed,
            self.state.training_settings_changed,
            self.state.readiness_changed,
        ):
            signal.connect(self.design_changed)

    def design_changed(self) -> None:
        """The app's design changed (subclasses describe it again and update Run)."""
        self.update_run_button()

    def finish_sidebar(self) -> None:
        """Put Run, the reason it is unavailable and the progress at the end of the column."""
        self.sidebar.addSpacing(10)
        self.sidebar.addWidget(self.run_button)
        self.sidebar.addWidget(self.blocker_label)
        self.sidebar.addWidget(self.progress_bar)
        self.sidebar.addWidget(self.progress_label)
        super().finish_sidebar()
        self._show_running(False)

    # --- to implement ---------------------------------------------------------------------------------------

    def run_blocker(self) -> str | None:
        """Why Run cannot start now, in a sentence (None: it can)."""
        return None

    def make_job(self) -> ExperimentJob:
        """The job for the current settings (``ValueError`` with the reason when they are not valid)."""
        raise NotImplementedError

    def begin_job(self, job: ExperimentJob) -> None:
        """A job is about to start: forget the last one."""

    def end_job(self, status: str) -> None:
        """The worker's thread has ended (``"finished"``, ``"stopped"`` or ``"failed"``)."""

    # --- control --------------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether a job is in progress (its thread has not ended)."""
        return self.worker is not None

    def start(self) -> bool:
        """Start the job of the current settings; False (the reason in a dialog) when it cannot."""
        if self.running:
            return False
        blocker = self.run_blocker()
        if blocker is not None:
            dialogs.show_error(self, f"Cannot run the {self.title.lower()}", blocker)
            return False
        try:
            job = self.make_job()
        except ValueError as exc:
            dialogs.show_error(self, f"Cannot run the {self.title.lower()}", error_sentence(exc))
            return False
        self.job = job
        self.failure = None
        self.begin_job(job)
        self._finished_worker = None
        collect_garbage()
        worker = GeneratorWorker(job.events, urgent=is_urgent, name=self.worker_name)
        # Queued explicitly: the slots draw, so they must run in the GUI thread whatever PySide infers.
        queued = Qt.ConnectionType.QueuedConnection
        worker.events_ready.connect(self._on_worker_events_ready, queued)
        worker.failed.connect(self._on_worker_failed, queued)
        worker.finished.connect(self._on_worker_finished, queued)
        self.worker = worker
        self._started_at = time.monotonic()
        self.set_progress(0.0, "Starting…")
        self._show_running(True)
        worker.start()
        self.run_started.emit()
        return True

    def stop(self) -> None:
        """Stop the running trainer before its next mini-batch and skip the runs after it."""
        if self.job is not None and self.running:
            self.job.stop()
            self.set_progress(None, "Stopping after this mini-batch…")

    def shutdown(self) -> None:
        """Stop and wait for the worker's thread (the window is closing)."""
        worker = self.worker
        if worker is None:
            return
        if self.job is not None:
            self.job.stop()
        worker.abort()
        worker.wait()
        for signal in (worker.events_ready, worker.failed, worker.finished):
            signal.disconnect()
        self.worker = None
        self._finished_worker = worker
        self._show_running(False)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    def elapsed(self) -> float:
        """Seconds since the job started."""
        return time.monotonic() - self._started_at if math.isfinite(self._started_at) else math.nan

    def set_progress(self, fraction: float | None, text: str) -> None:
        """Show how far the job is (``fraction`` from 0 to 1; None keeps the bar) and a line about it."""
        if fraction is not None:
            self.progress_bar.setValue(round(min(max(fraction, 0.0), 1.0) * 1000))
        self.progress_label.setText(text)

    def update_run_button(self) -> None:
        """Enable Run when it can start, and say why not when it cannot."""
        if self.running:
            self.run_button.setEnabled(True)
            self.blocker_label.hide()
            return
        blocker = self.run_blocker()
        self.run_button.setEnabled(blocker is None)
        self.run_button.setToolTip(blocker or self.run_tip)
        self.blocker_label.setText(blocker or "")
        self.blocker_label.setVisible(blocker is not None)

    def _show_running(self, running: bool) -> None:
        self.run_button.setText("Stop" if running else "Run")
        self.run_button.setIcon(QIcon() if running else action_icon("train_on_accent"))
        self.run_button.setProperty("running", running)
        self.run_button.style().unpolish(self.run_button)
        self.run_button.style().polish(self.run_button)
        # The settings stay readable but cannot change while the runs train.
        controls = (self.run_button, self.progress_bar, self.progress_label, self.blocker_label)
        for child in self.sidebar_body.findChildren(
            QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly
        ):
            if child not in controls and not isinstance(child, QLabel):
                child.setEnabled(not running)
        self.update_run_button()

    # --- the worker's signals -------------------------------------------------------------------------------

    def _on_run_button_clicked(self) -> None:
        if self.running:
            self.stop()
        else:
            self.start()

    def _on_worker_events_ready(self, items: list[Any]) -> None:
        for item in items:
            if isinstance(item, ExperimentPreparing):
                self.set_progress(0.0, item.message)
        self.handle_items(items)

    def _on_worker_failed(self, reason: str) -> None:
        self.failure = reason

    def _on_worker_finished(self) -> None:
        worker, job = self.worker, self.job
        if worker is not None:
            worker.wait()
        self.worker = None
        self._finished_worker = worker  # dropped (and collected) in the GUI thread when the next job starts
        if self.failure is not None:
            status = "failed"
        elif job is not None and job.stop_requested:
            status = "stopped"
        else:
            status = "finished"
        self.last_status = status
        self._show_running(False)
        self.end_job(status)
        self.flush()
        took = duration_text(self.elapsed())
        if status == "failed":
            self.set_progress(None, f"Failed: {self.failure}")
        elif status == "stopped":
            self.set_progress(None, f"Stopped after {took}.")
        else:
            self.set_progress(1.0, f"Done in {took}.")
        self.run_finished.emit(status)
        if self.failure is not None:
            dialogs.show_error(
                self,
                f"The {self.title.lower()} failed",
                f"It stopped because of an error: {self.failure}\n\nChange the settings and run it again.",
            )
