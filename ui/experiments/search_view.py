"""Hyperparameter search (the book's section 6.5, figure 6-24) as an Optuna study, live.

The settings on the left make a search of the app's current network and data
(:class:`~dllab.experiments.search.SearchDefinition`): the learning rate and the weight decay drawn
log-uniformly (the book's ``10 ** uniform(-6, -2)`` and ``10 ** uniform(-8, -4)`` by default), and any other
setting ticked under "More settings to search" (batch size, optimizer, initialiser, dropout rate, hidden units,
BatchNorm) as a range or a list of choices; random draws (the book's method) or TPE; the median or
successive-halving pruner. Every trial trains from the same initial weights on the same mini-batches and is
scored on the VALIDATION split; the test set is never used. The same seed draws the same values for every trial.

Run creates the study (an SQLite file in a new folder under the runs folder, or the named study in the storage
given: a database URL or a journal file that other machines reach too) or resumes the last one, and runs this
machine's workers (:mod:`ui.experiments.search_job`); Stop stops them, and workers elsewhere go on. Watch
follows a study without training here.

What the view shows is read from the study itself by :class:`StudyWatcher`, off the GUI thread, every moment
while trials run, so the trials of other processes and machines appear as they come: a scatter of the scores
against each searched setting (log axes for the log-uniform ones), the curves of the best K trials, a
parallel-coordinates plot, the importances Optuna computes, and a table of every trial with its state, values,
duration and worker (:mod:`ui.experiments.search_plots`). ``optuna-dashboard`` opens the same storage.
"""

from __future__ import annotations

import concurrent.futures
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QLineEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from dllab.errors import SettingsError, error_sentence
from dllab.experiments.compare import VariantResult
from dllab.experiments.presets import SearchPreset
from dllab.experiments.search import (
    BOOK_RANGES,
    PRUNERS,
    SAMPLERS,
    SEARCHABLE,
    Dimension,
    check_dimension,
    check_space,
    dimension_from_text,
    rank,
    ranking_table,
    trial_score,
)
from dllab.first_run import search_trial_epochs
from ui.common import dialogs
from ui.common.widgets import ValidatedLineEdit, hint_label
from ui.experiments.compare_controls import LogRangeEditor
from ui.experiments.jobs import ExperimentJob, capture_design
from ui.experiments.runner import ExperimentView, collect_garbage, processes_spin_box, spin_box
from ui.experiments.search_job import SearchJob, SearchPlanned, SearchSaved, StudyPlace, WorkerUpdate
from ui.experiments.search_plots import SearchPlots, SearchTable
from ui.state import AppState

if TYPE_CHECKING:
    from dllab.experiments.study import StudyReader, StudySnapshot

#: The settings searched besides the learning rate and weight decay, with what the view proposes for each.
EXTRA_DEFAULTS: dict[str, str] = {
    "batch_size": "32..256",
    "optimizer": "sgd,momentum,adam",
    "init": "he,xavier",
    "dropout": "0..0.5",
    "hidden_units": "32..256",
    "batchnorm": "on,off",
}
#: Seconds between two reads of the study while this machine's workers run, and while only watching.
FAST_READ_S, SLOW_READ_S = 0.5, 2.0
#: Watching stops after this many seconds without a running trial anywhere (Watch reads the study again).
QUIET_S = 60.0


class StudyWatcher(QObject):
    """Reads a study again and again in a thread of its own and hands each snapshot to the GUI thread.

    A read runs in a single background thread (the storage may be a database across the network); the GUI
    thread starts one when the last has ended and its interval has passed. As with a job's worker thread, the
    garbage is collected when watching starts, and the view drops no Qt object while it watches (but when it
    lays out another search space, collecting at once), so that the reading thread never collects Qt objects
    (see :func:`ui.experiments.runner.collect_garbage`).
    Watching stops by itself once the study has all its trials and none runs, or none has run for
    :data:`QUIET_S`, unless :attr:`fast` (this machine's workers run).

    Signals
    -------
    snapshot_read(object)
        A :class:`~dllab.experiments.study.StudySnapshot`.
    failed(str)
        The study could not be read: why, in a sentence.
    """

    snapshot_read = Signal(object)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.place: StudyPlace | None = None
        self.fast = False
        self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="dllab study reader")
        self._reader: StudyReader | None = None
        self._reader_of: tuple[str, str] | None = None
        self._closed = False
        self._future: concurrent.futures.Future | None = None
        self._generation = 0
        self._next_read = 0.0
        self._quiet_since = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(100)
        self._timer.timeout.connect(self._on_timer_timeout)

    @property
    def watching(self) -> bool:
        return self._timer.isActive()

    def watch(self, place: StudyPlace, *, fast: bool = False) -> None:
        """Follow the study at ``place`` (reading it at once)."""
        if self._closed:
            return
        if self.place != place:
            self._generation += 1
        if not self._timer.isActive():
            collect_garbage()  # as before a job starts: nothing of Qt's left for the reading thread to collect
        self._quiet_since = time.monotonic()
        self.place = place
        self.fast = fast
        self._next_read = 0.0
        self._timer.start()

    def read_soon(self) -> None:
        """Read again as soon as the read under way (if any) has ended."""
        self._next_read = 0.0
        if self.place is not None and not self._timer.isActive() and not self._closed:
            collect_garbage()
            self._quiet_since = time.monotonic()
            self._timer.start()

    def stop(self) -> None:
        """Stop following the study (a read under way is dropped)."""
        self._timer.stop()
        self._generation += 1
        self.fast = False

    def shutdown(self) -> None:
        """Stop, close the storage and end the thread (the window is closing)."""
        self.stop()
        if self._closed:
            return
        self._closed = True
        self._executor.submit(self._close_reader)
        self._executor.shutdown(wait=True, cancel_futures=True)

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Wait for the read under way (tests)."""
        future = self._future
        if future is not None:
            concurrent.futures.wait([future], timeout=timeout)

    # --- in the reading thread ------------------------------------------------------------------------------------

    def _close_reader(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def _read(self, place: StudyPlace) -> StudySnapshot:
        from dllab.experiments.study import StudyReader

        if self._reader is None or self._reader_of != (place.name, place.url):
            self._close_reader()
            self._reader = StudyReader(place.name, place.url)
            self._reader_of = (place.name, place.url)
        return self._reader.read()

    # --- in the GUI thread -------------------------------------------------------------------------------------

    def _on_timer_timeout(self) -> None:
        future = self._future
        if future is not None:
            if not future.done():
                return
            self._future = None
            generation = getattr(future, "generation", None)
            if generation == self._generation:
                try:
                    snapshot = future.result()
                except Exception as exc:
                    self.failed.emit(error_sentence(exc))
                    if not self.fast:
                        self._timer.stop()
                    self._next_read = time.monotonic() + SLOW_READ_S
                    return
                now = time.monotonic()
                self._next_read = now + (FAST_READ_S if self.fast else SLOW_READ_S)
                if snapshot.running or self.fast:
                    self._quiet_since = now
                self.snapshot_read.emit(snapshot)
                if not self.fast and (snapshot.complete or now - self._quiet_since > QUIET_S):
                    self._timer.stop()  # nothing runs anywhere: Watch reads it again
                    return
        if self.place is None or self._closed or time.monotonic() < self._next_read:
            return
        place = self.place
        future = self._executor.submit(self._read, place)
        future.generation = self._generation  # type: ignore[attr-defined]
        self._future = future


class SearchView(ExperimentView):
    """A hyperparameter search of the app's design as an Optuna study: run here, or watched from anywhere.

    Parameters
    ----------
    state
        The app state (:class:`ui.state.AppState`) whose network, data and training settings each trial uses.
    """

    title = "Hyperparameter search"
    tab_title = "Search"
    export_stem = "search"
    worker_name = "search"
    run_tip = (
        "Create the study (or resume the last one) and run its trials here; each is scored on the validation "
        "split. Stop stops this machine's workers."
    )
    hint = (
        "Random search on a log scale (book section 6.5) as an Optuna study: every trial draws its settings, trains "
        "the design from the same initial weights and is scored on the validation split, never the test set. "
        "Workers on other machines can join the study."
    )
    empty_text = (
        "Set what to search in the settings and press Run: each trial's score appears against the values it drew, "
        "with the curves of the best trials, as this machine's workers and any others add them. Watch follows a "
        "study without training here."
    )

    def __init__(self, state: AppState | None = None, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self.results: list[VariantResult] = []
        self.snapshot: StudySnapshot | None = None
        self.place: StudyPlace | None = None
        self.last_place: StudyPlace | None = None
        self.planned: SearchPlanned | None = None
        self.saved: SearchSaved | None = None
        self.watch_error: str | None = None
        self._epochs_here: dict[int, int] = {}
        body = self.sidebar_body

        form = self.add_section("Network and data")
        self.design_label = hint_label("", body)
        self.design_label.setTextFormat(Qt.TextFormat.RichText)
        form.addRow(self.design_label)

        form = self.add_section("Learning rate and weight decay, log-uniform")
        self.range_checks: dict[str, QCheckBox] = {}
        self.range_editors: dict[str, LogRangeEditor] = {}
        for name, (low, high) in BOOK_RANGES.items():
            check = QCheckBox(f"Search the {SEARCHABLE[name]}", body)
            check.setChecked(True)
            check.setToolTip(f"Unticked, every trial trains with the design's {SEARCHABLE[name]}.")
            check.toggled.connect(self._on_range_check_toggled)
            editor = LogRangeEditor(low, high, body)
            editor.changed.connect(self._on_range_editor_changed)
            self.range_checks[name], self.range_editors[name] = check, editor
            form.addRow(check)
            form.addRow(editor)
        self.book_button = QPushButton("Book's ranges", body)
        self.book_button.setToolTip(
            "Learning rate 1e-6 to 1e-2 and weight decay 1e-8 to 1e-4, as in figure 6-24."
        )
        self.book_button.clicked.connect(self._on_book_button_clicked)
        form.addRow(self.book_button)

        form = self.add_section("More settings to search")
        self.extra_checks: dict[str, QCheckBox] = {}
        self.extra_edits: dict[str, ValidatedLineEdit] = {}
        for name, text in EXTRA_DEFAULTS.items():
            check = QCheckBox(SEARCHABLE[name][:1].upper() + SEARCHABLE[name][1:], body)
            edit = ValidatedLineEdit(lambda t, n=name: dimension_from_text(n, t), body)
            edit.set_value(None, text)
            edit.set_help(
                "A range LOW..HIGH (drawn log-uniformly for batch size and hidden units, uniformly for the "
                "dropout rate) or choices A,B,C."
            )
            edit.setEnabled(False)
            edit.textChanged.connect(self._on_extra_text_changed)
            check.toggled.connect(self._on_extra_check_toggled)
            self.extra_checks[name], self.extra_edits[name] = check, edit
            form.addRow(check, edit)

        form = self.add_section("Trials")
        self.trials_spin = spin_box(
            1, 10_000, 20, "How many trials the study finishes, all workers together.", body
        )
        form.addRow("Trials", self.trials_spin)
        self.epochs_spin = spin_box(1, 10_000, 10, "Epochs of every trial.", body)
        form.addRow("Epochs", self.epochs_spin)
        self.seed_spin = spin_box(
            0,
            2**31 - 1,
            0,
            "Seeds the draws, the initial weights and the mini-batch order: the same seed draws the same values "
            "for every trial.",
            body,
        )
        form.addRow("Seed", self.seed_spin)
        self.sampler_combo = QComboBox(body)
        for key, text in SAMPLERS.items():
            self.sampler_combo.addItem(text.capitalize(), key)
        self.sampler_combo.setToolTip(
            "Random: every trial draws independently, the book's method. TPE: after ten random trials, draws "
            "more where the trials so far did well."
        )
        form.addRow("Sampler", self.sampler_combo)
        self.pruner_combo = QComboBox(body)
        for key, text in PRUNERS.items():
            self.pruner_combo.addItem(text.split(":")[0].capitalize(), key)
            self.pruner_combo.setItemData(self.pruner_combo.count() - 1, text, Qt.ItemDataRole.ToolTipRole)
        self.pruner_combo.setToolTip("Stop hopeless trials early, judging each epoch's validation accuracy.")
        form.addRow("Pruner", self.pruner_combo)
        self.top_spin = spin_box(1, 20, 5, "How many of the best trials get colours and curves.", body)
        self.top_spin.valueChanged.connect(self._on_top_spin_value_changed)
        form.addRow("Best shown", self.top_spin)
        self.rank_combo = QComboBox(body)
        self.rank_combo.addItem("Best epoch", "best")
        self.rank_combo.addItem("Last epoch (the book's)", "last")
        self.rank_combo.setToolTip(
            "What scores a trial: its best validation accuracy of any epoch, or the last epoch's, as the book "
            "ranks them."
        )
        form.addRow("Rank by", self.rank_combo)
        self.processes_spin = processes_spin_box("trials", body)
        self.processes_spin.setToolTip(
            f"Workers on this computer, each training one trial at a time in a process of its own. "
            f"{self.processes_spin.toolTip()}"
        )
        form.addRow("Workers here", self.processes_spin)

        form = self.add_section("Study")
        self.study_edit = QLineEdit(body)
        self.study_edit.setPlaceholderText("named after its folder")
        self.study_edit.setToolTip("The study's name: created, or resumed when the storage holds it.")
        self.study_edit.textChanged.connect(self._on_study_text_changed)
        form.addRow("Name", self.study_edit)
        self.storage_edit = QLineEdit(body)
        self.storage_edit.setPlaceholderText("an SQLite file in a new folder")
        self.storage_edit.setToolTip(
            "Where the study lives: empty for an SQLite file in a new folder under the runs folder; a database "
            "URL (postgresql://user:password@host/db) or a journal file (journal:/shared/disk/study.log) that "
            "workers on other machines reach with dllab search-worker --study NAME --storage URL."
        )
        self.storage_edit.textChanged.connect(self._on_study_text_changed)
        form.addRow("Storage", self.storage_edit)
        self.watch_button = QPushButton("Watch", body)
        self.watch_button.setToolTip(
            "Follow the study named here as workers anywhere add trials, without training here."
        )
        self.watch_button.clicked.connect(self._on_watch_button_clicked)
        form.addRow(self.watch_button)
        self.study_label = hint_label("", body)
        self.study_label.setTextFormat(Qt.TextFormat.RichText)
        self.study_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(self.study_label)
        self.finish_sidebar()

        host = QWidget(self)
        self.plots = SearchPlots(self, self.top_spin.value(), host)
        self.table = SearchTable(host)
        splitter = QSplitter(Qt.Orientation.Vertical, host)
        splitter.addWidget(self.plots.tabs)
        splitter.addWidget(self.table)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([640, 260])
        box = QVBoxLayout(host)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(splitter)
        self.set_content(host)
        self.show_placeholder(self.empty_text)

        #: Whether the epochs follow the design and the trials (sized for a CPU), until set by hand or a preset.
        self.epochs_sized = state is not None
        self.epochs_spin.valueChanged.connect(self._on_epochs_spin_value_changed)
        self.trials_spin.valueChanged.connect(self._size_epochs_for_the_cpu)
        self.watcher = StudyWatcher(self)
        self.watcher.snapshot_read.connect(self._on_watcher_snapshot_read)
        self.watcher.failed.connect(self._on_watcher_failed)
        if state is not None:
            self.follow_design()
        self._size_epochs_for_the_cpu()
        self._describe_design()
        self._enable_editors()

    # --- the settings ---------------------------------------------------------------------------------------

    def ranges(self) -> dict[str, tuple[float, float]]:
        """The learning rate and weight decay ranges ticked (checked by the engine: ``ValueError``)."""
        return {
            name: (float(d.low), float(d.high))
            for name, d in ((d.name, d) for d in self.space() if d.name in BOOK_RANGES)
        }

    def space(self) -> tuple[Dimension, ...]:
        """What the trials draw, checked by the engine (``ValueError`` with the reason)."""
        dimensions = [
            check_dimension(name, *editor.bounds())
            for name, editor in self.range_editors.items()
            if self.range_checks[name].isChecked()
        ]
        for name, check in self.extra_checks.items():
            if check.isChecked():
                dimensions.append(dimension_from_text(name, self.extra_edits[name].text()))
        return check_space(dimensions)

    def study_request(self) -> tuple[str, str] | None:
        """The study named in the sidebar with its storage (None: a new one in a new folder)."""
        name, storage = self.study_edit.text().strip(), self.storage_edit.text().strip()
        if not storage:
            return None
        if not name:
            raise SettingsError("Name the study, so that workers elsewhere can join it.")
        from dllab.experiments.study import storage_url

        return name, storage_url(storage)

    def run_blocker(self) -> str | None:
        if self.state is None:
            return "A search trains the app's design; there is none here."
        reason = self.state.training_blocker()
        if reason is not None:
            return reason
        if self.state.data_settings.val_fraction <= 0:
            return (
                "A search scores its trials on the validation split: set a validation fraction above 0 in the "
                "Data panel (the test set is never used for choosing)."
            )
        try:
            self.space()
            self.study_request()
        except ValueError as exc:
            return error_sentence(exc)
        return None

    def make_job(self) -> SearchJob:
        study = self.study_request()
        return SearchJob(
            capture_design(self.state),
            self.space(),
            trials=self.trials_spin.value(),
            seed=self.seed_spin.value(),
            top_k=self.top_spin.value(),
            sampler=self.sampler_combo.currentData(),
            pruner=self.pruner_combo.currentData(),
            rank_by=self.rank_combo.currentData(),
            processes=self.processes_spin.value(),
            changes={"epochs": self.epochs_spin.value()},
            study=study,
            resume=None if study is not None else self.last_place,
        )

    def _describe_design(self) -> None:
        state = self.state
        if state is None:
            self.design_label.setText("No design: a search needs the app's network and data.")
            return
        name = state.spec.get("name") or "The network"
        data = state.dataset_title() if state.dataset is not None else "no data loaded yet"
        fraction = state.data_settings.val_fraction
        try:
            config = state.training_config()
            base = f"{config.optimizer}, batch {config.batch_size}"
        except ValueError as exc:
            base = f"invalid settings: {exc}"
        self.design_label.setText(
            f"<b>{name}</b> on <b>{data}</b> ({base}), as designed in the app; {fraction:.0%} of the training "
            "data held out for validation scores the trials."
        )

    # --- slots ----------------------------------------------------------------------------------------------

    def _enable_editors(self) -> None:
        for name, check in self.range_checks.items():
            self.range_editors[name].setEnabled(check.isChecked() and not self.running)
        for name, check in self.extra_checks.items():
            self.extra_edits[name].setEnabled(check.isChecked() and not self.running)

    def _on_range_check_toggled(self, checked: bool) -> None:
        self._enable_editors()
        self.update_run_button()

    def _on_range_editor_changed(self) -> None:
        self.update_run_button()

    def _on_extra_check_toggled(self, checked: bool) -> None:
        self._enable_editors()
        self.update_run_button()

    def _on_extra_text_changed(self, text: str) -> None:
        self.update_run_button()

    def _on_study_text_changed(self, text: str) -> None:
        self.update_run_button()

    def _on_book_button_clicked(self) -> None:
        self._set_ranges(BOOK_RANGES)

    def _set_ranges(self, ranges: dict[str, tuple[float, float]]) -> None:
        for name, check in self.range_checks.items():
            check.setChecked(name in ranges)
            if name in ranges:
                self.range_editors[name].set_bounds(*ranges[name])

    def use_preset(self, preset: SearchPreset) -> None:
        """Take the search settings of ``preset`` (the book's search of figure 6-24): its ranges (and nothing
        else searched), number of trials, epochs and ranking, random draws without pruning; the network, data and
        training settings are the design's to take."""
        self._set_ranges(preset.ranges)
        for check in self.extra_checks.values():
            check.setChecked(False)
        self.trials_spin.setValue(preset.trials)
        self.epochs_spin.setValue(preset.training_config().epochs)
        self.epochs_sized = False
        self.rank_combo.setCurrentIndex(self.rank_combo.findData(preset.rank_by))
        self.sampler_combo.setCurrentIndex(self.sampler_combo.findData("random"))
        self.pruner_combo.setCurrentIndex(self.pruner_combo.findData("none"))

    def _on_top_spin_value_changed(self, value: int) -> None:
        if not self.running:  # (the settings cannot change while a search runs)
            self.watcher.wait_idle()  # the items replaced are collected here, not in the reading thread
            self.plots.set_top_k(value)
        if self.results:
            self.request_redraw()

    def design_changed(self) -> None:
        if not self.running:
            self._size_epochs_for_the_cpu()
            self._describe_design()
        self.update_run_button()

    def _size_epochs_for_the_cpu(self) -> None:
        """While :attr:`epochs_sized`, give every trial the epochs that fit the whole search in a few minutes on
        this data and network (:func:`dllab.first_run.search_trial_epochs`)."""
        state = self.state
        if not self.epochs_sized or state is None or state.dataset is None or not state.analysis.ok:
            return
        epochs = search_trial_epochs(state.analysis, state.training_sample_count(), self.trials_spin.value())
        with QSignalBlocker(self.epochs_spin):
            self.epochs_spin.setValue(epochs)

    def _on_epochs_spin_value_changed(self, _: int) -> None:
        self.epochs_sized = False  # set by hand: it stays

    def _on_watch_button_clicked(self) -> None:
        self.watch()

    def watch(self, place: StudyPlace | None = None) -> bool:
        """Follow a study without training here: ``place``, or the one named in the sidebar (a storage URL or
        file, or a search's folder, whose ``search.json`` names its study). False (the reason in a dialog) when
        the sidebar names none."""
        if place is None:
            try:
                place = self._named_place()
            except ValueError as exc:
                dialogs.show_error(self, "Cannot watch the study", error_sentence(exc))
                return False
        self.place = place
        self.watch_error = None
        self.watcher.watch(place, fast=self.running)
        self.set_status(f"Reading the study <b>{place.name}</b>…")
        return True

    def _named_place(self) -> StudyPlace:
        from dllab.experiments.study import folder_storage, read_folder_record, storage_url

        name, storage = self.study_edit.text().strip(), self.storage_edit.text().strip()
        if not storage:
            raise SettingsError(
                "Give the storage of the study to watch (a database URL, a file or a search's folder)."
            )
        folder = Path(storage).expanduser()
        if "://" not in storage and folder.is_dir():
            record = read_folder_record(folder)
            if record is None:
                raise SettingsError(f"The folder {folder} holds no search (no search.json).")
            return StudyPlace(name or str(record.get("study", "search")), folder_storage(folder), folder)
        if not name:
            raise SettingsError("Name the study to watch.")
        return StudyPlace(name, storage_url(storage))

    # --- the job ------------------------------------------------------------------------------------------------

    @property
    def trial_params(self) -> list[dict[str, Any]]:
        """The values every trial of the study shown drew, in trial order."""
        return [dict(t.params) for t in self.snapshot.trials] if self.snapshot is not None else []

    def begin_job(self, job: ExperimentJob) -> None:
        self.watcher.stop()
        self.watcher.wait_idle()  # the plots replaced below are collected here, not in the reading thread
        self.results = []
        self.snapshot = None
        self.planned = None
        self.saved = None
        self._epochs_here = {}
        if isinstance(job, SearchJob):  # laid out now: the worker's thread starts right after
            self.plots.set_space(job.space)
            self.table.set_space(job.space)
        self.table.setRowCount(0)

    def handle_items(self, items: Sequence[Any]) -> None:
        from dllab.experiments.study import StaleTrialsFailed, TrialEnded, TrialEpoch, TrialStarted

        for item in items:
            if isinstance(item, SearchPlanned):
                self.planned = item
                self.place = self.last_place = item.place
                self.watcher.watch(item.place, fast=True)
                verb = "Created" if item.created else f"Resumed ({item.done} trials done)"
                self.set_status(
                    f"{verb} the study <b>{item.place.name}</b> in {item.shown_storage} · {item.data}"
                )
                self._describe_study(item.place, item.shown_storage)
            elif isinstance(item, WorkerUpdate):
                event = item.event
                if isinstance(event, TrialEpoch):
                    self._epochs_here[event.trial] = event.epoch.epoch
                elif isinstance(event, TrialStarted):
                    self._epochs_here[event.trial] = 0
                if isinstance(event, TrialEnded):
                    self._epochs_here.pop(event.trial, None)
                if isinstance(event, TrialStarted | TrialEnded | StaleTrialsFailed):
                    self.watcher.read_soon()
                self._show_progress()
            elif isinstance(item, SearchSaved):
                self.saved = item
                self.show_snapshot(item.snapshot)

    def _describe_study(self, place: StudyPlace, shown: str) -> None:
        from dllab.experiments.study import dashboard_command

        self.study_label.setText(
            f"Study <b>{place.name}</b> in <code>{shown}</code>. More workers: <code>dllab search-worker --study "
            f"{place.name} --storage {shown}</code>. In a browser: <code>{dashboard_command(place.url)}</code>."
            + (f" Trial folders here: <code>{place.folder}</code>." if place.folder else "")
        )

    def _show_progress(self) -> None:
        snapshot = self.snapshot
        done = snapshot.done if snapshot is not None else 0
        target = snapshot.target if snapshot is not None else self.trials_spin.value()
        epochs = (
            self.planned.definition.experiment.training.epochs if self.planned else self.epochs_spin.value()
        )
        here = ", ".join(f"trial {n} at epoch {e} of {epochs}" for n, e in sorted(self._epochs_here.items()))
        text = f"{done} of {target} trials done" + (f"; here: {here}" if here else "")
        partial = sum(e / max(epochs, 1) for e in self._epochs_here.values())
        if self.running:
            self.set_progress(min(1.0, (done + partial) / max(target, 1)), text)

    def end_job(self, status: str) -> None:
        self._enable_editors()
        self.watcher.fast = False
        if self.place is not None:
            self.watcher.read_soon()
        if self.results:
            self.request_redraw()

    # --- the study read ---------------------------------------------------------------------------------------

    def _on_watcher_snapshot_read(self, snapshot: StudySnapshot) -> None:
        self.show_snapshot(snapshot)

    def _on_watcher_failed(self, reason: str) -> None:
        self.watch_error = reason
        self.set_status(f"Cannot read the study: {reason}")
        if not self.running and not self.results:
            self.show_placeholder(f"Cannot read the study: {reason}")

    def show_snapshot(self, snapshot: StudySnapshot) -> None:
        """Show the study as ``snapshot`` has it."""
        self.snapshot = snapshot
        self.watch_error = None
        space = snapshot.definition.space
        if space != self.plots.space and not self.running:
            self.plots.set_space(space)
        if [d.name for d in space] != self.table.names and not self.running:
            self.table.set_space(space)
        self.results = snapshot.results()
        definition = snapshot.definition
        running = len(snapshot.running)
        self.set_status(
            f"<b>Study {snapshot.name}</b> in {snapshot.storage} · {snapshot.summary()} · {definition.describe()}"
            + ("" if running or not snapshot.complete else " · complete")
        )
        if self.place is not None:
            self._describe_study(self.place, snapshot.storage)
        self._show_progress()
        self.request_redraw()

    @property
    def rank_by(self) -> str:
        """What ranks the trials of the study shown: ``"best"`` or ``"last"``."""
        if self.snapshot is not None:
            return self.snapshot.definition.rank_by
        return self.rank_combo.currentData()

    def ranked(self) -> list[VariantResult]:
        """The trials that have a score, best first (running ones aside)."""
        rank_by = self.rank_by
        return [
            r
            for r in rank(self.results, rank_by)
            if r.status != "running" and math.isfinite(trial_score(r, rank_by))
        ]

    def training(self) -> list[VariantResult]:
        """The trials training now, here or elsewhere."""
        return [r for r in self.results if r.status == "running"]

    # --- drawing --------------------------------------------------------------------------------------------

    def redraw(self) -> None:
        if not self.results and self.snapshot is None:
            return
        ranked = self.ranked()
        importances = self.snapshot.importances if self.snapshot is not None else None
        self.plots.redraw(ranked, self.training(), self.rank_by, importances)
        trials = {t.number: t for t in self.snapshot.trials} if self.snapshot is not None else {}
        self.table.show_trials(
            ranked,
            self.results,
            self.top_spin.value(),
            {n: t.duration for n, t in trials.items()},
            {n: t.host for n, t in trials.items()},
        )
        self.show_content()

    def restyle(self) -> None:
        self.plots.restyle()
        if self.results:
            self.request_redraw()

    def shutdown(self) -> None:
        super().shutdown()
        self.watcher.shutdown()

    # --- export ---------------------------------------------------------------------------------------------

    def csv_table(self) -> tuple[list[str], list[list[Any]]]:
        """One row per trial, best first, as ``dllab search`` writes ``search.csv``."""
        names = self.table.names or [d.name for d in self.plots.space]
        ranked = self.ranked()
        ranked_ids = {r.index for r in ranked}
        return ranking_table(ranked, names, [r for r in self.results if r.index not in ranked_ids])
