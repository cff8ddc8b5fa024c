"""Comparing training runs: one network trained under several settings, the curves overlaid as they come in.

Choose one or two settings to vary (optimizer, initialisation, batch normalisation, dropout, weight decay,
batch size, learning rate) and their values; everything else stays identical, including the initial weights
and the order of the mini-batches (the engine's :class:`dllab.experiments.compare.Comparison` guarantees both, as for
``dllab compare``). The network and the data are the app's current design, or one of the book's comparisons
(:data:`dllab.experiments.presets.PRESETS`: optimizers, figure 6-9; initialisers, 6-15; batch normalisation, 6-18;
weight decay, 6-20/21; dropout, 6-23) on MNIST, each with a quick version.

The runs train one after another in a worker thread (:class:`ui.common.worker.GeneratorWorker`), or, with
Processes above 1, that many at once, each in a worker process of its own with a share of the cores for its
BLAS threads (the engine's ``Comparison(processes=N)``, :mod:`dllab.experiments.parallel_runs`; one per core at most is
useful). Each run appears live as a curve of the loss per mini-batch (smoothed) and of the accuracy per epoch,
with a results table below; runs training at once draw their curves side by side as their events come in,
interleaved. Two settings also give small multiples (one accuracy panel per value of the first). Stop takes
effect before the next mini-batch of every run training, and skips the runs not started.

The parts: :mod:`ui.experiments.compare_controls` (what varies), :mod:`ui.experiments.jobs` (the work in the worker thread,
no Qt), :mod:`ui.experiments.runner` (settings column, Run / Stop, the worker), :mod:`ui.experiments.compare_plots` (curves
and table).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QVBoxLayout, QWidget

from dllab.data import Dataset
from dllab.errors import error_sentence
from dllab.experiments.compare import TEST_COLUMNS, VariantEvent, VariantResult
from dllab.experiments.presets import PRESETS, QUICK_STEPS, QUICK_SUBSET, get_preset
from dllab.trainer import Diverged, Finished, RunStarted, Stopped, TrainingConfig
from ui.common.widgets import hint_label, vertical_splitter
from ui.experiments.compare_controls import FACTOR_TITLES, FactorEditor
from ui.experiments.compare_plots import ComparisonPlots, ComparisonTable
from ui.experiments.jobs import ComparisonJob, ComparisonPlanned, ExperimentJob, capture_design
from ui.experiments.runner import ExperimentView, processes_spin_box, share_done, spin_box
from ui.state import AppState

#: The experiment combo's entry for the app's own network and data.
DESIGN = ""
#: The per-epoch columns of the CSV export (after variant, step, loss, smoothed_loss, lr).
EPOCH_CSV_COLUMNS = ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", *TEST_COLUMNS)


def config_text(config: TrainingConfig) -> str:
    """The training settings every run shares, in a line: ``"sgd, lr 0.01, batch 128, 5 epochs"``."""
    parts = [config.optimizer, f"lr {config.lr:g}", f"batch {config.batch_size}"]
    if config.weight_decay:
        parts.append(f"weight decay {config.weight_decay:g}")
    parts.append(f"{config.epochs} epoch{'s' if config.epochs != 1 else ''}")
    if config.max_steps:
        parts.append(f"at most {config.max_steps:,} mini-batches")
    return ", ".join(parts)


def is_mnist(dataset: Dataset | None) -> bool:
    """Whether ``dataset`` is MNIST as the presets use it (so a preset need not load it again)."""
    return (
        dataset is not None
        and dataset.name == "mnist"
        and tuple(dataset.input_shape) == (1, 28, 28)
        and dataset.num_classes == 10
    )


class CompareView(ExperimentView):
    """Train one network under several settings from identical starting points and overlay the curves.

    Parameters
    ----------
    state
        The app state (:class:`ui.state.AppState`): the "current design" experiment trains its network on its
        data. None offers only the book's presets.
    mnist_dir
        A folder holding the MNIST IDX files for the presets; None uses the app's download cache (or the
        state's data set, when it is MNIST).
    """

    title = "Compare runs"
    tab_title = "Compare"
    export_stem = "comparison"
    worker_name = "comparison"
    run_tip = (
        "Train every setting (in turn, or several at once with Processes), from the same initial weights on the "
        "same mini-batches."
    )
    hint = (
        "One network trained under several settings, everything else identical: the same initial weights and "
        "the same mini-batches in the same order. Loss per mini-batch (smoothed) and accuracy per epoch."
    )
    empty_text = (
        "Choose what varies (or one of the book's comparisons) and press Run: the settings train "
        "one after another (or several at once, see Processes) and each run's curves appear here as it trains."
    )

    def __init__(
        self,
        state: AppState | None = None,
        *,
        mnist_dir: str | Path | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(state, parent)
        self.mnist_dir = mnist_dir
        self.results: list[VariantResult] = []
        self.plan: ComparisonPlanned | None = None
        self._run_clock: dict[int, list[float]] = {}
        self._total_steps: dict[int, int] = {}
        body = self.sidebar_body

        form = self.add_section("Experiment")
        self.experiment_combo = QComboBox(body)
        if state is not None:
            self.experiment_combo.addItem("Current design (network and data)", DESIGN)
        for preset in PRESETS.values():
            self.experiment_combo.addItem(
                f"Book: {preset.name.replace('_', ' ')} ({preset.figure})", preset.name
            )
            index = self.experiment_combo.count() - 1
            self.experiment_combo.setItemData(index, preset.describe(), Qt.ItemDataRole.ToolTipRole)
        self.experiment_combo.currentIndexChanged.connect(self._on_experiment_combo_current_index_changed)
        form.addRow(self.experiment_combo)
        self.description_label = hint_label("", body)
        self.description_label.setTextFormat(Qt.TextFormat.RichText)
        form.addRow(self.description_label)
        self.quick_check = QCheckBox("Quick run", body)
        self.quick_check.setToolTip(
            f"A fast version of the book's comparison: at most {QUICK_SUBSET} training samples and "
            f"{QUICK_STEPS} mini-batches per run."
        )
        self.quick_check.toggled.connect(self._on_quick_check_toggled)
        form.addRow(self.quick_check)

        self.add_section("What varies")
        self.first_editor = FactorEditor(parent=body)
        self.second_editor = FactorEditor(optional=True, parent=body)
        for editor in (self.first_editor, self.second_editor):
            editor.changed.connect(self._on_editor_changed)
        self.sidebar.addWidget(self.first_editor)
        self.sidebar.addWidget(hint_label("and, for a grid of runs:", body))
        self.sidebar.addWidget(self.second_editor)

        form = self.add_section("Every run")
        self.epochs_spin = spin_box(1, 10_000, 5, "Epochs of every run.", body)
        form.addRow("Epochs", self.epochs_spin)
        self.steps_spin = spin_box(
            0,
            10_000_000,
            0,
            "Stop every run after this many mini-batches (0: train all the epochs).",
            body,
            special="all epochs",
        )
        form.addRow("Mini-batches", self.steps_spin)
        self.seed_spin = spin_box(
            0, 2**31 - 1, 0, "Seeds the initial weights and the mini-batch order.", body
        )
        form.addRow("Seed", self.seed_spin)
        self.processes_spin = processes_spin_box("runs", body)
        form.addRow("Processes", self.processes_spin)
        self.book_lr_check = QCheckBox("Each optimizer at its book learning rate", body)
        self.book_lr_check.setChecked(True)
        self.book_lr_check.setToolTip(
            "When optimizers are compared: SGD, Momentum and AdaGrad at 0.01, Adam and RMSprop at 0.001, as "
            "in the book. Off: every optimizer uses the design's learning rate."
        )
        form.addRow(self.book_lr_check)
        for spin in (self.epochs_spin, self.steps_spin):
            spin.valueChanged.connect(self._on_run_length_changed)
        self.base_label = hint_label("", body)
        form.addRow(self.base_label)
        self.finish_sidebar()

        self.plots = ComparisonPlots(self, self)
        self.plots.grid_button.toggled.connect(self._on_plots_mode_toggled)
        self.table = ComparisonTable(self)
        splitter = vertical_splitter(self.plots, self.table, self, stretch=(3, 1))
        host = QWidget(self)
        box = QVBoxLayout(host)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(splitter)
        self.set_content(host)
        self.show_placeholder(self.empty_text)

        self.follow_design()
        self._on_experiment_combo_current_index_changed(self.experiment_combo.currentIndex())

    # --- the settings ---------------------------------------------------------------------------------------

    @property
    def preset_name(self) -> str | None:
        """The book's comparison chosen (None: the current design)."""
        return self.experiment_combo.currentData() or None

    def choose_experiment(self, name: str | None) -> None:
        """Choose one of the book's comparisons by its key in :data:`~dllab.experiments.presets.PRESETS` (None: the design)."""
        index = self.experiment_combo.findData(name or DESIGN)
        if index < 0:
            raise ValueError(f"no experiment {name!r} here")
        self.experiment_combo.setCurrentIndex(index)

    def factors(self) -> dict[str, list[Any]]:
        """What varies, checked by the engine (``ValueError`` with the reason when it is not valid)."""
        first, second = self.first_editor.factor, self.second_editor.factor
        if first is None:
            raise ValueError("choose a setting to compare")
        factors = {first: self.first_editor.values()}
        if second is not None:
            if second == first:
                raise ValueError("choose two different settings to vary, or nothing as the second")
            factors[second] = self.second_editor.values()
        return factors

    def changes(self) -> dict[str, Any]:
        """The run length chosen: ``epochs`` and ``max_steps``."""
        return {"epochs": self.epochs_spin.value(), "max_steps": self.steps_spin.value() or None}

    def run_blocker(self) -> str | None:
        if self.preset_name is None:
            if self.state is None:
                return "There is no design to compare: choose one of the book's comparisons."
            reason = self.state.training_blocker()
            if reason is not None:
                return reason
        try:
            self.factors()
        except ValueError as exc:
            return error_sentence(exc)
        return None

    def make_job(self) -> ComparisonJob:
        factors = self.factors()
        name = self.preset_name
        if name is None:
            return ComparisonJob.of_design(
                capture_design(self.state),
                factors,
                changes=self.changes(),
                keep_lr=not self.book_lr_check.isChecked(),
                seed=self.seed_spin.value(),
                processes=self.processes_spin.value(),
            )
        dataset = self.state.dataset if self.state is not None else None
        return ComparisonJob.of_preset(
            name,
            quick=self.quick_check.isChecked(),
            seed=self.seed_spin.value(),
            changes=self.changes(),
            factors=factors,
            data_dir=self.mnist_dir,
            dataset=dataset if is_mnist(dataset) else None,
            processes=self.processes_spin.value(),
        )

    def _describe_design(self) -> None:
        state = self.state
        if state is None:
            return
        spec = state.spec
        name = spec.get("name") or "The network"
        data = state.dataset_title() if state.dataset is not None else "no data loaded yet"
        try:
            base = config_text(state.training_config())
        except ValueError as exc:
            base = f"invalid settings: {exc}"
        self.description_label.setText(
            f"<b>{name}</b> on <b>{data}</b>, as designed in the app. Every run trains this network on these "
            f"data; only what varies below changes.<br>Training settings: {base}."
        )
        self.base_label.setText(
            "All runs start from the same initial weights and see the same mini-batches in the same order."
        )

    def _describe_preset(self) -> None:
        preset = get_preset(self.preset_name or "")
        config = preset.training_config(quick=self.quick_check.isChecked())
        self.description_label.setText(
            f"<b>{preset.title}</b> ({preset.figure})<br>{preset.description}<br>"
            f"Network: {preset.network['description']}."
        )
        config = dataclasses.replace(config, **self.changes())
        self.base_label.setText(
            f"Every run: {config_text(config)}; the same initial weights and mini-batch order."
        )

    def _fill_run_length(self) -> None:
        name = self.preset_name
        if name is None:
            if self.state is not None:
                self.epochs_spin.setValue(self.state.training.epochs)
                self.seed_spin.setValue(self.state.training.seed)
            self.steps_spin.setValue(0)
            return
        config = get_preset(name).training_config(quick=self.quick_check.isChecked())
        self.epochs_spin.setValue(config.epochs)
        self.steps_spin.setValue(config.max_steps or 0)

    # --- slots ----------------------------------------------------------------------------------------------

    def _on_experiment_combo_current_index_changed(self, index: int) -> None:
        name = self.preset_name
        design = name is None
        self.quick_check.setVisible(not design)
        self.book_lr_check.setVisible(design)
        if design:
            if self.first_editor.factor is None or self.first_editor.error():
                self.first_editor.set_setting("optimizer", ("sgd", "momentum", "adagrad", "adam"))
        else:
            factors = list(get_preset(name).comparison_factors().items())
            self.first_editor.set_setting(*factors[0])
            self.second_editor.set_setting(*(factors[1] if len(factors) > 1 else (None, ())))
        self._fill_run_length()
        if design:
            self._describe_design()
        else:
            self._describe_preset()
        self.update_run_button()

    def _on_quick_check_toggled(self, checked: bool) -> None:
        if self.preset_name is not None:
            self._fill_run_length()
            self._describe_preset()

    def _on_plots_mode_toggled(self, small_multiples: bool) -> None:
        if self.results:
            self.request_redraw()  # the table's swatches follow the plots' colours

    def _on_run_length_changed(self, value: int) -> None:
        if self.preset_name is not None:
            self._describe_preset()

    def _on_editor_changed(self) -> None:
        self.update_run_button()

    def design_changed(self) -> None:
        if self.preset_name is None and not self.running:
            self._describe_design()
        self.update_run_button()

    # --- the runs -------------------------------------------------------------------------------------------

    def begin_job(self, job: ExperimentJob) -> None:
        self.plots.clear_runs()
        self.table.setRowCount(0)
        self.results, self._run_clock, self._total_steps = [], {}, {}
        self.plan = None

    def handle_items(self, items: Sequence[Any]) -> None:
        now = time.monotonic()
        changed = False
        for item in items:
            if isinstance(item, ComparisonPlanned):
                self._plan(item)
                changed = True
            elif isinstance(item, VariantEvent) and item.index < len(self.results):
                self.results[item.index].record(item.event)
                event = item.event
                if isinstance(event, RunStarted):
                    self._run_clock[item.index] = [now, math.nan]
                    self._total_steps[item.index] = event.total_steps
                elif isinstance(event, Finished | Stopped | Diverged):
                    self._run_clock.setdefault(item.index, [now, now])[1] = now
                changed = True
        if changed:
            self._show_progress()
            self.request_redraw()

    def _plan(self, plan: ComparisonPlanned) -> None:
        self.plan = plan
        self.results = [
            VariantResult(i, label, dict(settings))
            for i, (label, settings) in enumerate(zip(plan.labels, plan.settings, strict=True))
        ]
        self._run_clock = {}
        self.plots.set_runs(self.results, plan.factors)
        varied = " × ".join(FACTOR_TITLES[f].lower() for f in plan.factors)
        at_once = f", {plan.processes} at a time" if plan.processes > 1 else ""
        self.set_status(f"<b>{len(plan.labels)} runs</b>{at_once}, varying {varied} · {plan.data}")

    def _show_progress(self) -> None:
        """The share of all mini-batches done, and which runs are training (several at once in processes)."""
        if not self._total_steps:
            return
        count = len(self.results)
        training = [r for r in self.results if r.status == "running"]
        if len(training) == 1:
            (r,) = training
            text = (
                f"Run {r.index + 1} of {count}: {r.label} · mini-batch {len(r.steps):,} of "
                f"{self._total_steps[r.index]:,}"
            )
        elif training:
            ended = sum(r.status not in ("pending", "running") for r in self.results)
            runs = ", ".join(
                f"{r.label} {len(r.steps):,} of {self._total_steps[r.index]:,}" for r in training
            )
            text = f"{len(training)} runs training at once ({ended} of {count} done) · mini-batches: {runs}"
        else:
            return
        self.set_progress(share_done(self.results, self._total_steps), text)

    def run_seconds(self) -> list[float]:
        """How long each run trained (the running one: so far; NaN: not started)."""
        now = time.monotonic()
        seconds = []
        for r in self.results:
            start, end = self._run_clock.get(r.index, [math.nan, math.nan])
            seconds.append((end if math.isfinite(end) else now) - start if math.isfinite(start) else math.nan)
        return seconds

    def end_job(self, status: str) -> None:
        job = self.job
        final = job.final_results() if isinstance(job, ComparisonJob) else None
        if final is not None and len(final) == len(self.results):
            self.results = final  # the engine's own, with "not run" for the runs a stop skipped
        if self.results:
            self.request_redraw()

    def redraw(self) -> None:
        self.plots.redraw(self.results)
        self.table.show_results(self.results, self.run_seconds(), self.plots.run_color)

    def restyle(self) -> None:
        self.plots.restyle()

    # --- export ---------------------------------------------------------------------------------------------

    def csv_table(self) -> tuple[list[str], list[list[Any]]]:
        """Every run's loss per mini-batch, and its metrics after each epoch on the epoch's last mini-batch."""
        header = ["variant", "step", "loss", "smoothed_loss", "lr", *EPOCH_CSV_COLUMNS]
        rows: list[list[Any]] = []
        for r in self.results:
            metrics = r.epoch_metrics()
            by_step = {int(step): i for i, step in enumerate(metrics["step"])}
            for step, loss, smooth, lr in zip(r.steps, r.losses, r.smoothed_losses(), r.lrs, strict=True):
                i = by_step.get(step)
                cells = [math.nan if i is None else metrics[c][i] for c in EPOCH_CSV_COLUMNS]
                if i is not None:
                    cells[0] = int(cells[0])
                rows.append([r.label, step, loss, smooth, lr, *cells])
        return header, rows
