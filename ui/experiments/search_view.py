"""Hyperparameter random search on a log scale (the book's section 6.5, figure 6-24), live.

Each trial draws a learning rate and a weight decay log-uniformly from the ranges set on the left
(:func:`dllab.experiments.search.sample_log_uniform`: the book's ``10 ** uniform(-6, -2)`` and ``10 ** uniform(-8, -4)``),
trains the app's current network on its data and is scored on the VALIDATION split; the test set is never
used (:class:`dllab.experiments.search.RandomSearch` trains on a copy of the data without it). Every trial starts from the
same initial weights and sees the same mini-batches, so the hyperparameters are all that differs, and the same
seed draws the same trials again.

As the trials run, a scatter per hyperparameter shows each trial's best validation accuracy against the value
it drew, on a log axis (the best trials in colour), the validation curves of the best K trials are drawn
beside them (the book's figure 6-24, with the training accuracy dashed), and a table ranks the trials. The
drawing is in :mod:`ui.experiments.search_plots`; the worker, Run and Stop are shared with the comparison view
(:mod:`ui.experiments.runner`, :mod:`ui.experiments.jobs`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from dllab.errors import error_sentence
from dllab.experiments.compare import VariantResult
from dllab.experiments.presets import SearchPreset
from dllab.experiments.search import (
    BOOK_RANGES,
    SEARCHABLE,
    TrialEvent,
    check_ranges,
    describe_params,
    ranking_table,
    trial_score,
)
from dllab.first_run import search_trial_epochs
from dllab.trainer import RunStarted
from ui.common.widgets import hint_label
from ui.experiments.compare_controls import LogRangeEditor
from ui.experiments.jobs import ExperimentJob, SearchJob, SearchPlanned, SearchRanked, capture_design
from ui.experiments.runner import ExperimentView, processes_spin_box, share_done, spin_box
from ui.experiments.search_plots import SearchPlots, SearchTable
from ui.state import AppState


class SearchView(ExperimentView):
    """Random search of the learning rate and weight decay of the app's design, scored on validation data.

    Parameters
    ----------
    state
        The app state (:class:`ui.state.AppState`) whose network, data and training settings each trial uses.
    """

    title = "Hyperparameter search"
    tab_title = "Search"
    export_stem = "search"
    worker_name = "search"
    run_tip = "Train the trials one after another; each is scored on the validation split."
    hint = (
        "Random search on a log scale (book section 6.5): every trial draws a learning rate and a weight decay, "
        "trains the design from the same initial weights and is scored on the validation split, never the test "
        "set."
    )
    empty_text = (
        "Set the ranges in the settings and press Run: each trial's best validation accuracy appears against the "
        "values it drew, with the curves of the best trials beside them."
    )

    def __init__(self, state: AppState | None = None, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self.results: list[VariantResult] = []
        self.plan: SearchPlanned | None = None
        self.order: list[int] = []
        self._total_steps: dict[int, int] = {}
        body = self.sidebar_body

        form = self.add_section("Network and data")
        self.design_label = hint_label("", body)
        self.design_label.setTextFormat(Qt.TextFormat.RichText)
        form.addRow(self.design_label)

        form = self.add_section("Ranges, drawn log-uniformly")
        self.range_checks: dict[str, QCheckBox] = {}
        self.range_editors: dict[str, LogRangeEditor] = {}
        for name, (low, high) in BOOK_RANGES.items():
            check = QCheckBox(f"Search the {SEARCHABLE[name]}", body)
            check.setChecked(True)
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

        form = self.add_section("Trials")
        self.trials_spin = spin_box(1, 1000, 20, "How many sets of hyperparameters to draw and train.", body)
        form.addRow("Trials", self.trials_spin)
        self.epochs_spin = spin_box(1, 10_000, 10, "Epochs of every trial.", body)
        form.addRow("Epochs", self.epochs_spin)
        self.seed_spin = spin_box(
            0,
            2**31 - 1,
            0,
            "Seeds the draws and the initial weights: the same seed draws the same trials.",
            body,
        )
        form.addRow("Seed", self.seed_spin)
        self.top_spin = spin_box(1, 20, 5, "How many of the best trials get colours and curves.", body)
        self.top_spin.valueChanged.connect(self._on_top_spin_value_changed)
        form.addRow("Best shown", self.top_spin)
        self.rank_combo = QComboBox(body)
        self.rank_combo.addItem("Best epoch", "best")
        self.rank_combo.addItem("Last epoch (the book's)", "last")
        self.rank_combo.setToolTip(
            "What ranks a trial: its best validation accuracy of any epoch, or the last epoch's, as the book "
            "ranks them."
        )
        form.addRow("Rank by", self.rank_combo)
        self.processes_spin = processes_spin_box("trials", body)
        form.addRow("Processes", self.processes_spin)
        self.finish_sidebar()

        host = QWidget(self)
        self.plots = SearchPlots(self, self.top_spin.value(), host)
        self.table = SearchTable(host)
        splitter = QSplitter(Qt.Orientation.Vertical, host)
        splitter.addWidget(self.plots.graphics)
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
        if state is not None:
            self.follow_design()
        self._size_epochs_for_the_cpu()
        self._describe_design()

    # --- the settings ---------------------------------------------------------------------------------------

    def ranges(self) -> dict[str, tuple[float, float]]:
        """The ranges to search, checked by the engine (``ValueError`` with the reason)."""
        chosen = {
            name: editor.bounds()
            for name, editor in self.range_editors.items()
            if self.range_checks[name].isChecked()
        }
        return check_ranges(chosen)

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
            self.ranges()
        except ValueError as exc:
            return error_sentence(exc)
        return None

    def make_job(self) -> SearchJob:
        return SearchJob(
            capture_design(self.state),
            self.ranges(),
            trials=self.trials_spin.value(),
            seed=self.seed_spin.value(),
            top_k=self.top_spin.value(),
            rank_by=self.rank_combo.currentData(),
            processes=self.processes_spin.value(),
            changes={"epochs": self.epochs_spin.value()},
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

    def _enable_range_editors(self) -> None:
        for name, check in self.range_checks.items():
            self.range_editors[name].setEnabled(check.isChecked() and not self.running)

    def _on_range_check_toggled(self, checked: bool) -> None:
        self._enable_range_editors()
        self.update_run_button()

    def _on_range_editor_changed(self) -> None:
        self.update_run_button()

    def _on_book_button_clicked(self) -> None:
        self._set_ranges(BOOK_RANGES)

    def _set_ranges(self, ranges: dict[str, tuple[float, float]]) -> None:
        for name, check in self.range_checks.items():
            check.setChecked(name in ranges)
            if name in ranges:
                self.range_editors[name].set_bounds(*ranges[name])

    def use_preset(self, preset: SearchPreset) -> None:
        """Take the search settings of ``preset`` (the book's search of figure 6-24): its ranges, number of
        trials, epochs and ranking; the network, data and training settings are the design's to take."""
        self._set_ranges(preset.ranges)
        self.trials_spin.setValue(preset.trials)
        self.epochs_spin.setValue(preset.training_config().epochs)
        self.epochs_sized = False
        self.rank_combo.setCurrentIndex(self.rank_combo.findData(preset.rank_by))

    def _on_top_spin_value_changed(self, value: int) -> None:
        if not self.running:  # (the settings cannot change while a search runs)
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

    # --- the trials -----------------------------------------------------------------------------------------

    @property
    def trial_params(self) -> list[dict[str, float]]:
        """The hyperparameters every trial of the last search drew, in trial order."""
        return [dict(p) for p in self.plan.trial_params] if self.plan is not None else []

    def begin_job(self, job: ExperimentJob) -> None:
        self.table.setRowCount(0)
        self.results = []
        self.plan = None
        self.order = []
        self._total_steps = {}

    def handle_items(self, items: Sequence[Any]) -> None:
        changed = False
        for item in items:
            if isinstance(item, SearchPlanned):
                self.plan = item
                self.results = [
                    VariantResult(i, label, dict(params))
                    for i, (label, params) in enumerate(zip(item.labels, item.trial_params, strict=True))
                ]
                self.order = []
                drawn = "; ".join(f"{SEARCHABLE[n]} {lo:g} to {hi:g}" for n, (lo, hi) in item.ranges.items())
                self.set_status(f"<b>{len(item.labels)} trials</b>, log-uniform {drawn} · {item.data}")
                self.plots.set_ranges(item.ranges)
                changed = True
            elif isinstance(item, TrialEvent) and item.trial < len(self.results):
                self.results[item.trial].record(item.event)
                if isinstance(item.event, RunStarted):
                    self._total_steps[item.trial] = item.event.total_steps
                changed = True
            elif isinstance(item, SearchRanked):
                self.order = list(item.order)
                changed = True
        if changed:
            self._show_progress()
            self.request_redraw()

    def training(self) -> list[VariantResult]:
        """The trials training now (several when they train in processes at once)."""
        return [r for r in self.results if r.status == "running"]

    def _show_progress(self) -> None:
        training = self.training()
        if not training:
            return
        count = len(self.results)
        if len(training) == 1:
            (r,) = training
            epoch = r.epochs[-1].epoch if r.epochs else 0
            text = (
                f"Trial {r.index + 1} of {count}: {describe_params(r.settings)} · epoch {epoch} of "
                f"{self.epochs_spin.value()}"
            )
        else:
            ended = sum(r.status not in ("pending", "running") for r in self.results)
            trials = ", ".join(str(r.index + 1) for r in training)
            text = f"Trials {trials} of {count} training at once ({ended} done)"
        self.set_progress(share_done(self.results, self._total_steps), text)

    def ranked(self) -> list[VariantResult]:
        """The trials that have a score, best first (the engine's ranking)."""
        by_index = {r.index: r for r in self.results}
        order = self.order or [r.index for r in self.results]
        rank_by = self.rank_by
        return [
            by_index[i] for i in order if i in by_index and math.isfinite(trial_score(by_index[i], rank_by))
        ]

    @property
    def rank_by(self) -> str:
        """What ranks the trials of the search shown: ``"best"`` or ``"last"``."""
        return self.plan.rank_by if self.plan is not None else self.rank_combo.currentData()

    def end_job(self, status: str) -> None:
        self._enable_range_editors()
        job = self.job
        if isinstance(job, SearchJob):
            final = job.final_results()
            if final is not None and len(final) == len(self.results):
                self.results = final
                self.order = list(job.final_ranking())
        if self.results:
            self.request_redraw()

    # --- drawing --------------------------------------------------------------------------------------------

    def redraw(self) -> None:
        ranked = self.ranked()
        training = self.training()
        running = training[-1] if training else None  # the newest, as a hollow dot and a dashed curve
        searched = list(self.plan.ranges) if self.plan is not None else []
        self.plots.redraw(ranked, running, searched, self.rank_by)
        self.table.show_trials(ranked, self.results, self.top_spin.value())

    def restyle(self) -> None:
        self.plots.restyle()
        if self.results:
            self.request_redraw()

    # --- export ---------------------------------------------------------------------------------------------

    def csv_table(self) -> tuple[list[str], list[list[Any]]]:
        """One row per trial, best first, as ``dllab search`` writes ``search.csv``."""
        names = list(self.plan.ranges) if self.plan is not None else list(SEARCHABLE)
        ranked = self.ranked()
        ranked_ids = {r.index for r in ranked}
        return ranking_table(ranked, names, [r for r in self.results if r.index not in ranked_ids])
