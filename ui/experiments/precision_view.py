"""Precision: the current model evaluated in float64, float32 and float16 side by side (the book's section 8.3.4).

The model is the one trained last or opened (File ▸ Open Model…, File ▸ Import Book Weights…); the samples are
the test split of the data set loaded in the Data panel, preprocessed as the model stores. Run copies the model
into each precision and evaluates it in the worker thread (:func:`dllab.experiments.precision.precision_steps`
through :class:`ui.common.worker.GeneratorWorker`), so the window stays free; Stop ends it before the next
batch. A table and four bar charts show accuracy, time and memory; between them, how float16 is computed
(:data:`dllab.precision.FLOAT16_METHOD`).
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from PySide6.QtGui import QColor, QIcon
from PySide6.QtWidgets import QLabel, QTableWidgetItem, QVBoxLayout, QWidget

from dllab.data import model_inputs
from dllab.experiments.precision import (
    BATCH_SIZE,
    PRECISION_COLUMNS,
    PrecisionProgress,
    PrecisionResult,
    precision_rows,
    precision_steps,
)
from dllab.precision import FLOAT16_METHOD, PRECISIONS
from ui.common import theme
from ui.common.formatting import shape_text
from ui.common.plotting import pg
from ui.common.view import series_color, static_plot, style_plot
from ui.common.widgets import RIGHT_ALIGNED, ResultsTable, hint_label, swatch_pixmap
from ui.experiments.jobs import ExperimentJob, ExperimentPreparing
from ui.experiments.runner import ExperimentView, spin_box
from ui.state import AppState

#: The bar charts' titles.
CHARTS = ("Accuracy (%)", "Time for all samples (s)", "Weights (MB)", "Activations of a batch (MB)")
_MB = 2**20


class PrecisionJob(ExperimentJob):
    """The evaluation in each precision, for the worker thread.

    Parameters
    ----------
    model
        The model to evaluate (copied into each precision, never changed).
    x, y
        Raw test samples and labels as the data set holds them; preprocessed for the model in the worker thread.
    batch_size
        Samples per forward pass.
    """

    def __init__(self, model: Any, x: np.ndarray, y: np.ndarray, batch_size: int) -> None:
        super().__init__()
        self.model, self.x, self.y, self.batch_size = model, x, y, batch_size

    def events(self) -> Iterator[Any]:
        yield ExperimentPreparing(f"Preparing {len(self.x):,} test samples…")
        x = model_inputs(self.x, self.model.preprocessing, self.model.input_shape)
        for step in precision_steps(self.model, x, self.y, batch_size=self.batch_size):
            if self.stop_requested:
                return
            yield step


class PrecisionTable(ResultsTable):
    """A row per precision: accuracy, changed predictions, time, speed against the first, and memory."""

    def __init__(self, parent: QWidget | None = None) -> None:
        columns = [name.capitalize() for name in precision_rows([])[0]]
        columns[-1] = "Peak memory"
        super().__init__(columns, numeric=range(1, len(columns)), stretch=0, parent=parent)
        self.setObjectName("precisionTable")

    def show_results(self, results: Sequence[PrecisionResult]) -> None:
        """Fill the table with ``results``, in order (the speed column is against the first)."""
        rows = precision_rows(results)
        self.horizontalHeaderItem(4).setText(rows[0][4].capitalize())
        self.setRowCount(len(results))
        for row, cells in enumerate(rows[1:]):
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 0:
                    item.setIcon(QIcon(swatch_pixmap(precision_color(text))))
                else:
                    item.setTextAlignment(RIGHT_ALIGNED)
                self.setItem(row, column, item)
        self.fit_rows()


def precision_color(precision: str) -> QColor:
    """The colour of a precision in the table and the charts (float64, float32, float16 in the series order)."""
    return series_color(PRECISIONS.index(precision) if precision in PRECISIONS else 0)


def _bar(x: float, height: float, color: QColor) -> pg.BarGraphItem:
    return pg.BarGraphItem(x=[x], height=[height], width=0.6, brush=color, pen=pg.mkPen(None))


class PrecisionView(ExperimentView):
    """The current model in float64, float32 and float16: accuracy, time and memory side by side."""

    title = "Precision: float64, float32, float16"
    tab_title = "Precision"
    export_stem = "precision"
    hint = (
        "The current model evaluated on the test set in float64, float32 and float16 (book section 8.3.4): "
        "does deep learning need 64 or even 32 bits?"
    )
    empty_text = (
        "Train a network or open a model (File ▸ Open Model…, File ▸ Import Book Weights…), load its data set, "
        "then press Run to evaluate it in every precision."
    )
    worker_name = "precision"
    run_tip = "Evaluate the model on the test set in float64, float32 and float16, one after another."

    def __init__(self, state: AppState | None = None, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self.results: list[PrecisionResult] = []
        body = self.sidebar_body
        self.add_section("Model")
        self.model_label = QLabel(body)
        self.model_label.setWordWrap(True)
        self.sidebar.addWidget(self.model_label)
        form = self.add_section("Test data")
        self.data_label = QLabel(body)
        self.data_label.setWordWrap(True)
        form.addRow(self.data_label)
        self.samples_spin = spin_box(
            0, 10_000_000, 0, "Test samples evaluated (the first ones); all of them by default.", body,
            special="all",
        )  # fmt: skip
        form.addRow("Samples", self.samples_spin)
        self.batch_spin = spin_box(
            1, 100_000, BATCH_SIZE, "Samples per forward pass; the memory figures are for one batch.", body
        )
        form.addRow("Batch size", self.batch_spin)
        self.sidebar.addWidget(
            hint_label("The same samples go through every precision, one after another.", body)
        )
        self.finish_sidebar()

        host = QWidget(self)
        self.table = PrecisionTable(host)
        self.note = QLabel(f"{FLOAT16_METHOD}.<br>{PRECISION_COLUMNS}", host)
        self.note.setObjectName("hint")
        self.note.setWordWrap(True)
        self.graphics = self.canvas(host)
        self.plots = [static_plot(self.graphics, 0, column) for column in range(len(CHARTS))]
        #: The bars drawn in each chart.
        self.bars: list[list[pg.BarGraphItem]] = [[] for _ in CHARTS]
        box = QVBoxLayout(host)
        box.setContentsMargins(12, 0, 12, 8)
        box.setSpacing(6)
        box.addWidget(self.table)
        box.addWidget(self.note)
        box.addWidget(self.graphics, 1)
        self.set_content(host)
        self._style_plots()

        self.follow_design()
        if state is not None:
            state.model_changed.connect(self.design_changed)
        self.design_changed()
        self.show_placeholder(self.empty_text)

    # --- the design -----------------------------------------------------------------------------------------

    def design_changed(self) -> None:
        """Describe the current model and data again and say whether Run can start."""
        model = self.state.model if self.state is not None else None
        if model is None:
            self.model_label.setText("No model yet.")
        else:
            dtype = getattr(getattr(model, "dtype", None), "name", "?")
            self.model_label.setText(
                f"<b>{html.escape(str(model.name))}</b><br>{model.param_count:,} parameters, stored in {dtype}"
            )
        dataset = self.state.dataset if self.state is not None else None
        if dataset is None:
            self.data_label.setText("No data set loaded.")
        else:
            self.data_label.setText(
                f"{html.escape(self.state.dataset_title())}: {len(dataset.x_test):,} test samples"
            )
        super().design_changed()

    def run_blocker(self) -> str | None:
        state = self.state
        model = state.model if state is not None else None
        if model is None or not hasattr(model, "layers"):
            return "Train the network or open a model first (File ▸ Open Model… or Import Book Weights…)."
        if state.dataset_loading:
            return "Wait until the data set has loaded."
        dataset = state.dataset
        if dataset is None:
            return "Load the data set the model was trained on in the Data panel."
        if len(dataset.x_test) == 0:
            return "The data set has no test samples to evaluate."
        sample = tuple(dataset.x_test.shape[1:])
        if math.prod(sample) != math.prod(model.input_shape):
            return (
                f"The model takes inputs of {shape_text(model.input_shape)} but the data set's samples are "
                f"{shape_text(sample)}: load the data set the model was trained on."
            )
        outputs = model.output_shape[0] if model.output_shape else 0
        if (
            dataset.task == "classification"
            and model.loss.name != "mse"
            and dataset.num_classes > max(outputs, 2)
        ):
            return f"The data set has {dataset.num_classes} classes but the model only {outputs} outputs."
        return None

    def make_job(self) -> PrecisionJob:
        state = self.state
        dataset = state.dataset
        count = self.samples_spin.value() or len(dataset.x_test)
        return PrecisionJob(
            state.model, dataset.x_test[:count], dataset.y_test[:count], self.batch_spin.value()
        )

    def begin_job(self, job: ExperimentJob) -> None:
        self.results = []
        self.has_data = False
        self.show_placeholder("Evaluating in float64 first…")
        self.set_status(
            f"<b>{html.escape(str(job.model.name))}</b> on {len(job.x):,} test samples of "
            f"{html.escape(self.state.dataset_title())}, batches of {job.batch_size:,}"
        )

    # --- results --------------------------------------------------------------------------------------------

    def handle_items(self, items: Sequence[Any]) -> None:
        for item in items:
            if isinstance(item, PrecisionProgress):
                self.set_progress(
                    item.done / item.total, f"{item.precision}: batch {item.done} of {item.total}"
                )
            elif isinstance(item, PrecisionResult):
                self.results.append(item)
                self.has_data = True
                self.request_redraw()

    def end_job(self, status: str) -> None:
        if not self.results:
            self.show_placeholder(self.empty_text)

    def redraw(self) -> None:
        if not self.results:
            return
        self.show_content()
        self.table.show_results(self.results)
        for plot, bars in zip(self.plots, self.bars, strict=True):
            for item in bars:
                plot.removeItem(item)
            bars.clear()
        accuracy, time, weights, activations = self.bars
        for i, r in enumerate(self.results):
            color = precision_color(r.precision)
            accuracy.append(_bar(i, 100 * r.accuracy if np.isfinite(r.accuracy) else 0.0, color))
            time.append(_bar(i, r.seconds, color))
            weights.append(_bar(i, r.parameter_bytes / _MB, color))
            activations.append(_bar(i, r.activation_bytes / _MB, color))
        ticks = [[(i, r.precision) for i, r in enumerate(self.results)]]
        for plot, bars in zip(self.plots, self.bars, strict=True):
            for item in bars:
                plot.addItem(item)
            plot.getAxis("bottom").setTicks(ticks)
            plot.setXRange(-0.6, len(self.results) - 0.4, padding=0)
        shown = [100 * r.accuracy for r in self.results if np.isfinite(r.accuracy)]
        if shown:  # precisions differ by a fraction of a point: show the top of the scale
            low = max(0.0, min(shown) - max(0.5, 2 * (max(shown) - min(shown))))
            self.plots[0].setYRange(low, min(100.0, max(shown) + 0.2), padding=0)

    def _style_plots(self) -> None:
        for plot, title in zip(self.plots, CHARTS, strict=True):
            style_plot(plot, title=title)
        self.graphics.setBackground(theme.colors().plot_background)

    def restyle(self) -> None:
        self._style_plots()
        if self.results:
            self.request_redraw()

    def csv_table(self) -> tuple[list[str], list[list[Any]]]:
        """A row per precision with every measurement."""
        header = [
            "precision", "accuracy", "loss", "changed", "samples", "seconds", "parameter_bytes",
            "activation_bytes", "peak_bytes", "batch_size",
        ]  # fmt: skip
        rows = [[getattr(r, name) for name in header] for r in self.results]
        return header, rows
