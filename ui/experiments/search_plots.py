"""The search view's drawing, from a study's trials: a scatter per searched setting (each trial's score against
the value it drew, on a log axis for the log-uniform ones), the curves of the best trials (the book's figure
6-24), a parallel-coordinates plot of every trial, the settings' importances as Optuna computes them, and the
trials table (state, values, duration, worker).

The plots of one search space are made once (:meth:`SearchPlots.set_space`, on fresh canvases, while no job's
thread runs or right before one starts) and updated in place afterwards: Qt objects dropped while another
thread runs Python could be destroyed by that thread's garbage collection (see
:func:`ui.experiments.runner.collect_garbage`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon
from PySide6.QtWidgets import QTableWidgetItem, QTabWidget, QVBoxLayout, QWidget

from dllab.experiments.compare import VariantResult
from dllab.experiments.plotting import accuracy_range
from dllab.experiments.search import (
    RANK_BY,
    Dimension,
    axis_value,
    best_epoch,
    describe_params,
    format_value,
    trial_score,
)
from ui.common import theme
from ui.common.formatting import duration_text
from ui.common.plotting import pg
from ui.common.view import PlotCanvas, TrainingView, series_color, style_plot
from ui.common.widgets import RIGHT_ALIGNED, ResultsTable, swatch_pixmap
from ui.experiments.compare_plots import MARKER_LIMIT, percent_text
from ui.experiments.runner import collect_garbage

#: The trials not among the best K.
OTHER_COLOR = "#a0a7b0"
#: Scatter plots in a row at the most.
SCATTER_COLUMNS = 4
#: The table's columns before and after the searched settings'.
LEADING_COLUMNS = ("Rank", "Trial", "State")
TRAILING_COLUMNS = ("Best val. acc.", "at epoch", "Final val. acc.", "Train acc.", "Duration", "Worker")
#: What the table says of each status.
STATUS_TEXT = {
    "finished": "complete",
    "diverged": "complete (diverged)",
    "pruned": "pruned",
    "stopped": "failed (stopped)",
    "failed": "failed",
    "running": "running",
    "waiting": "waiting",
}


def _plot(layout: pg.GraphicsLayout, row: int, col: int) -> pg.PlotItem:
    plot: pg.PlotItem = layout.addPlot(row=row, col=col)
    plot.showGrid(x=True, y=True, alpha=0.12)
    plot.setMenuEnabled(False)
    plot.getAxis("left").enableAutoSIPrefix(False)
    plot.getAxis("bottom").enableAutoSIPrefix(False)
    return plot


def axis_label(dimension: Dimension) -> str:
    if dimension.choices:
        return dimension.label
    return f"{dimension.label} (log scale)" if dimension.log else dimension.label


def log_ticks(low: float, high: float) -> list[tuple[float, str]]:
    """Ticks of a log axis from ``low`` to ``high`` (positions in log10): the powers of ten, or 1, 2 and 5
    times them for a range of less than two decades; at most seven."""
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    powers = [10.0**k for k in range(first, last + 1) if low * (1 - 1e-9) <= 10.0**k <= high * (1 + 1e-9)]
    values = powers
    if len(powers) < 2:
        values = [
            m * 10.0**k
            for k in range(first, last + 1)
            for m in (1, 2, 5)
            if low * (1 - 1e-9) <= m * 10.0**k <= high * (1 + 1e-9)
        ] or [low, high]
    while len(values) > 7:
        values = values[::2]
    return [(math.log10(v), f"{v:g}") for v in values]


def unit_position(dimension: Dimension, value: object) -> float:
    """Where a drawn value sits on its axis of the parallel coordinates, from 0 (low) to 1 (high)."""
    x = axis_value(dimension, value)
    if not math.isfinite(x):
        return math.nan
    if dimension.choices:
        count = len(dimension.choices)
        return 0.5 if count == 1 else x / (count - 1)
    low, high = float(dimension.low), float(dimension.high)
    if dimension.log:
        low, high, x = math.log10(low), math.log10(high), math.log10(max(x, 1e-300))
    return 0.5 if high <= low else (x - low) / (high - low)


class SearchPlots:
    """The search's plots in tabs: the trials (scatters and the best curves), parallel coordinates and the
    importances; each canvas counts towards ``view``'s drawing cost.

    Parameters
    ----------
    view
        The view that owns the canvases.
    top_k
        How many of the best trials get colours and curves.
    """

    def __init__(self, view: TrainingView, top_k: int, parent: QWidget | None = None) -> None:
        self.view = view
        self.tabs = QTabWidget(parent)
        self.tabs.setDocumentMode(True)
        self.scatter_canvas, self.curves_canvas = self._add_canvas_tab(
            "Trials",
            "Each trial's score against each value it drew; the best trials' curves",
            stretches=(5, 4),
        )
        (self.parallel_canvas,) = self._add_canvas_tab(
            "Parallel coordinates", "Every trial as a line through the values it drew, ending at its score"
        )
        (self.importance_canvas,) = self._add_canvas_tab(
            "Importance", "How much each searched setting explains the scores (Optuna's PED-ANOVA)"
        )

        self.space: tuple[Dimension, ...] = ()
        self.scatter_plots: dict[str, pg.PlotItem] = {}
        self.scatter_items: dict[str, pg.PlotDataItem] = {}
        self.scatter_title = self.scatter_canvas.addLabel("", row=0, col=0)
        self.curves_plot = _plot(self.curves_canvas.ci, 0, 0)
        self.curves_legend = pg.LegendItem(labelTextSize="8.5pt", verSpacing=-4)
        self.curves_canvas.ci.addItem(self.curves_legend, row=0, col=1)
        self.curves_canvas.ci.layout.setColumnStretchFactor(0, 3)
        self.curves_canvas.ci.layout.setColumnStretchFactor(1, 1)
        self.best_curves: list[tuple[pg.PlotDataItem, pg.PlotDataItem]] = []
        self.running_curve: pg.PlotDataItem | None = None
        self.parallel_plot: pg.PlotItem | None = None
        self.parallel_others: pg.PlotDataItem | None = None
        self.parallel_best: list[pg.PlotDataItem] = []
        self.importance_plot: pg.PlotItem | None = None
        self.importance_bars: pg.BarGraphItem | None = None
        self.importance_note: pg.TextItem | None = None
        self.importances: dict[str, float] | None = None
        self.set_top_k(top_k)
        self._build_parallel()
        self._build_importance()
        self.restyle()

    # --- building ----------------------------------------------------------------------------------------------

    def _add_canvas_tab(self, title: str, tip: str, stretches: tuple[int, ...] = (1,)) -> list[PlotCanvas]:
        """A tab of canvases one above the other, sharing its height by ``stretches``."""
        page = QWidget(self.tabs)
        box = QVBoxLayout(page)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        canvases = [self.view.canvas(page) for _ in stretches]
        for canvas, stretch in zip(canvases, stretches, strict=True):
            box.addWidget(canvas, stretch)
        self.tabs.setTabToolTip(self.tabs.addTab(page, title), tip)
        return canvases

    def set_top_k(self, top_k: int) -> None:
        """One validation and one training curve for each of the best ``top_k`` trials, one for a running
        trial, and a line each in the parallel coordinates. Only while no job runs (the old items become
        garbage, collected here)."""
        for val, train in self.best_curves:
            self.curves_plot.removeItem(val)
            self.curves_plot.removeItem(train)
        if self.running_curve is not None:
            self.curves_plot.removeItem(self.running_curve)
        self.curves_legend.clear()
        self.best_curves = []
        for _ in range(top_k):
            train = self.curves_plot.plot([], [])
            val = self.curves_plot.plot([], [])
            self.curves_legend.addItem(val, "")
            self.best_curves.append((val, train))
        self.running_curve = self.curves_plot.plot(
            [], [], pen=pg.mkPen(OTHER_COLOR, width=1.6, style=Qt.PenStyle.DotLine)
        )
        self.curves_legend.addItem(self.running_curve, "")
        if self.parallel_plot is not None:
            self._build_parallel()
        collect_garbage()

    def set_space(self, space: Sequence[Dimension]) -> None:
        """Make the scatters and the parallel coordinates of a search space (fresh canvases; only while no
        other thread runs Python, or right before a job starts)."""
        space = tuple(space)
        if space == self.space:
            return
        self.space = space
        self.scatter_canvas = self.view.fresh_canvas(self.scatter_canvas)
        self.scatter_plots, self.scatter_items = {}, {}
        self.scatter_title = self.scatter_canvas.addLabel("", row=0, col=0)
        grid = self.scatter_canvas.addLayout(row=1, col=0)
        for k, dimension in enumerate(space):
            plot = _plot(grid, k // SCATTER_COLUMNS, k % SCATTER_COLUMNS)
            if dimension.choices:
                count = len(dimension.choices)
                ticks = [(float(i), format_value(dimension.name, c)) for i, c in enumerate(dimension.choices)]
                plot.getAxis("bottom").setTicks([ticks])
                plot.setXRange(-0.6, count - 0.4, padding=0)
            elif dimension.log:
                plot.setLogMode(x=True, y=False)
                low, high = math.log10(float(dimension.low)), math.log10(float(dimension.high))
                pad = max(0.05 * (high - low), 0.25)
                plot.setXRange(low - pad, high + pad, padding=0)
                plot.getAxis("bottom").setTicks([log_ticks(float(dimension.low), float(dimension.high)), []])
            else:
                low, high = float(dimension.low), float(dimension.high)
                pad = max(0.05 * (high - low), 0.5 if high == low else 0.0)
                plot.setXRange(low - pad, high + pad, padding=0)
            self.scatter_plots[dimension.name] = plot
            self.scatter_items[dimension.name] = plot.plot([], [], pen=None, symbol="o")
        self._build_parallel()
        self.restyle()
        collect_garbage()

    def _build_parallel(self) -> None:
        self.parallel_canvas = self.view.fresh_canvas(self.parallel_canvas)
        plot = _plot(self.parallel_canvas.ci, 0, 0)
        plot.showGrid(x=False, y=False)
        plot.hideAxis("left")
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        axes = len(self.space) + 1
        ticks = [(float(i), d.label) for i, d in enumerate(self.space)] + [(float(len(self.space)), "score")]
        plot.getAxis("bottom").setTicks([ticks])
        plot.setXRange(-0.3, axes - 0.7, padding=0)
        plot.setYRange(-0.08, 1.08, padding=0)
        xs = np.repeat(np.arange(axes, dtype=np.float64), 2)
        ys = np.tile([0.0, 1.0], axes)
        plot.plot(xs, ys, connect="pairs", pen=pg.mkPen(theme.colors().card_border, width=1.2))
        for i, dimension in enumerate(self.space):
            for y, text in (
                (0.0, _bound_text(dimension, low=True)),
                (1.0, _bound_text(dimension, low=False)),
            ):
                label = pg.TextItem(
                    text, color=theme.colors().secondary_text, anchor=(0.5, 0 if y == 0 else 1)
                )
                label.setPos(float(i), -0.01 if y == 0 else 1.01)
                plot.addItem(label)
        self.parallel_score_labels = []
        for y in (0.0, 1.0):
            label = pg.TextItem("", color=theme.colors().secondary_text, anchor=(0.5, 0 if y == 0 else 1))
            label.setPos(float(len(self.space)), -0.01 if y == 0 else 1.01)
            plot.addItem(label)
            self.parallel_score_labels.append(label)
        self.parallel_others = plot.plot([], [], connect="finite", pen=pg.mkPen(OTHER_COLOR, width=1.0))
        self.parallel_best = [plot.plot([], []) for _ in self.best_curves]
        plot.setTitle("")
        self.parallel_plot = plot

    def _build_importance(self) -> None:
        plot = _plot(self.importance_canvas.ci, 0, 0)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        plot.setXRange(0, 1, padding=0.02)
        self.importance_bars = pg.BarGraphItem(x0=[], y=[], height=0.6, width=[], brush=series_color(0))
        plot.addItem(self.importance_bars)
        self.importance_note = pg.TextItem("", color=theme.colors().secondary_text, anchor=(0.5, 0.5))
        self.importance_note.setPos(0.5, 0.5)
        plot.addItem(self.importance_note)
        self.importance_plot = plot

    # --- drawing -----------------------------------------------------------------------------------------------

    def redraw(
        self,
        ranked: Sequence[VariantResult],
        running: Sequence[VariantResult],
        rank_by: str = "best",
        importances: Mapping[str, float] | None = None,
    ) -> None:
        """Draw the trials that have a score (``ranked``, best first, by ``rank_by``), the ``running`` ones,
        and the importances."""
        best = list(ranked[: len(self.best_curves)])
        colors = {r.index: series_color(k) for k, r in enumerate(best)}
        other = QColor(OTHER_COLOR)
        low, high = accuracy_range(np.array([trial_score(r, rank_by) for r in ranked], dtype=np.float64))
        newest = running[-1] if running else None
        shown = [*reversed(ranked)]  # the best drawn last, on top; the running ones hollow
        shown += [r for r in running if math.isfinite(trial_score(r, rank_by))]
        running_ids = {r.index for r in running}
        for dimension in self.space:
            item = self.scatter_items.get(dimension.name)
            if item is None:
                continue
            points = [(r, axis_value(dimension, r.settings.get(dimension.name))) for r in shown]
            points = [(r, x) for r, x in points if math.isfinite(x)]
            item.setData(
                [x for _, x in points],
                [trial_score(r, rank_by) * 100 for r, _ in points],
                symbolBrush=[
                    pg.mkBrush(theme.colors().plot_background)
                    if r.index in running_ids
                    else pg.mkBrush(colors.get(r.index, other))
                    for r, _ in points
                ],
                symbolPen=[pg.mkPen(colors.get(r.index, other).darker(130), width=1.2) for r, _ in points],
                symbolSize=[11 if r.index in colors else 8 for r, _ in points],
            )
            self.scatter_plots[dimension.name].setYRange(low * 100, high * 100, padding=0.04)
        self.scatter_title.setText(
            f"Every trial's {RANK_BY[rank_by]} against the values it drew; the best {len(best)} in colour",
            color=theme.colors().text.name(),
            size="9.5pt",
        )
        self._draw_curves(best, colors, newest, rank_by)
        self.curves_plot.setYRange(low * 100, high * 100, padding=0.02)
        self._draw_parallel(ranked, best, colors, rank_by)
        self._draw_importances(importances)

    def _set_legend_entry(self, index: int, text: str) -> None:
        sample, label = self.curves_legend.items[index]
        sample.setVisible(bool(text))
        label.setText(text)

    def _draw_curves(
        self,
        best: list[VariantResult],
        colors: dict[int, QColor],
        running: VariantResult | None,
        rank_by: str,
    ) -> None:
        for k, (val_curve, train_curve) in enumerate(self.best_curves):
            if k >= len(best):
                val_curve.setData([], [])
                train_curve.setData([], [])
                self._set_legend_entry(k, "")
                continue
            r = best[k]
            epochs = np.array([e.epoch for e in r.epochs], dtype=np.float64)
            color = colors[r.index]
            faint = QColor(color)
            faint.setAlpha(170)
            train_curve.setData(
                epochs,
                np.array([e.train_accuracy for e in r.epochs], dtype=np.float64) * 100,
                pen=pg.mkPen(faint, width=1.2, style=Qt.PenStyle.DashLine),
            )
            val_curve.setData(
                epochs,
                np.array([e.val_accuracy for e in r.epochs], dtype=np.float64) * 100,
                pen=pg.mkPen(color, width=2.2),
                symbol="o" if len(epochs) <= MARKER_LIMIT else None,
                symbolSize=5,
                symbolBrush=pg.mkBrush(color),
                symbolPen=pg.mkPen(color),
            )
            pruned = ", pruned" if r.status == "pruned" else ""
            self._set_legend_entry(
                k,
                f"{k + 1}. {trial_score(r, rank_by) * 100:.1f} %, trial {r.index}{pruned}<br>"
                f"&nbsp;&nbsp;&nbsp;{describe_params(r.settings)}",
            )
        if running is not None and running.index not in colors and running.epochs:
            self.running_curve.setData(
                np.array([e.epoch for e in running.epochs], dtype=np.float64),
                np.array([e.val_accuracy for e in running.epochs], dtype=np.float64) * 100,
            )
            self._set_legend_entry(len(self.best_curves), f"trial {running.index}, running")
        else:
            self.running_curve.setData([], [])
            self._set_legend_entry(len(self.best_curves), "")
        top = max([len(r.epochs) for r in best] + [len(running.epochs) if running is not None else 0] + [1])
        self.curves_plot.setXRange(0.5, top + 0.5, padding=0)
        style_plot(
            self.curves_plot,
            left="accuracy (%)",
            bottom="epoch",
            title=f"Best {len(best)}: validation (line), training (dashed)",
        )

    def _draw_parallel(
        self,
        ranked: Sequence[VariantResult],
        best: list[VariantResult],
        colors: dict[int, QColor],
        rank_by: str,
    ) -> None:
        if self.parallel_plot is None or self.parallel_others is None:
            return
        scores = np.array([trial_score(r, rank_by) for r in ranked], dtype=np.float64)
        low, high = (float(scores.min()), float(scores.max())) if len(scores) else (0.0, 1.0)
        span = high - low if high > low else 1.0

        def line(r: VariantResult) -> list[float]:
            ys = [unit_position(d, r.settings.get(d.name)) for d in self.space]
            return [*ys, (trial_score(r, rank_by) - low) / span if high > low else 0.5]

        axes = np.arange(len(self.space) + 1, dtype=np.float64)
        others = [r for r in ranked if r.index not in colors]
        xs = np.concatenate([np.append(axes, np.nan) for _ in others]) if others else np.array([])
        ys = np.concatenate([np.append(line(r), np.nan) for r in others]) if others else np.array([])
        self.parallel_others.setData(xs, ys, connect="finite")
        for k, item in enumerate(self.parallel_best):
            if k < len(best):
                item.setData(axes, line(best[k]), pen=pg.mkPen(colors[best[k].index], width=2.4))
            else:
                item.setData([], [])
        if len(scores):
            self.parallel_score_labels[0].setText(f"{low * 100:.1f} %")
            self.parallel_score_labels[1].setText(f"{high * 100:.1f} %")
        self.parallel_plot.setTitle(
            f"Every trial through the values it drew to its {RANK_BY[rank_by]}; the best {len(best)} in colour",
            color=theme.colors().text.name(),
            size="9.5pt",
        )

    def _draw_importances(self, importances: Mapping[str, float] | None) -> None:
        plot, bars = self.importance_plot, self.importance_bars
        if plot is None or bars is None or self.importance_note is None:
            return
        self.importances = dict(importances) if importances else None
        labels = {d.name: d.label for d in self.space}
        if not importances:
            bars.setOpts(x0=[], y=[], width=[], height=0.6)
            plot.getAxis("left").setTicks([[]])
            self.importance_note.setText(
                "Optuna computes the importances once three trials have completed and a setting varies."
            )
            self.importance_note.setPos(0.5, 0.5)
            plot.setYRange(0, 1, padding=0)
            plot.setTitle("")
            return
        names = list(importances)[::-1]  # the most important at the top
        values = [float(importances[n]) for n in names]
        bars.setOpts(x0=[0.0] * len(names), y=list(range(len(names))), width=values, height=0.6)
        plot.getAxis("left").setTicks([[(float(i), labels.get(n, n)) for i, n in enumerate(names)]])
        self.importance_note.setText("")
        plot.setYRange(-0.6, len(names) - 0.4, padding=0)
        plot.setXRange(0, max([*values, 0.05]) * 1.1, padding=0)
        plot.setTitle(
            "How much each setting explains the scores (Optuna's importances, summing to 1)",
            color=theme.colors().text.name(),
            size="9.5pt",
        )

    def restyle(self) -> None:
        """Axis colours for the current theme."""
        colors = theme.colors()
        by_name = {d.name: d for d in self.space}
        for name, plot in self.scatter_plots.items():
            style_plot(plot, left="score (%)", bottom=axis_label(by_name[name]))
        style_plot(self.curves_plot, left="accuracy (%)", bottom="epoch")
        if self.parallel_plot is not None:
            style_plot(self.parallel_plot)
        if self.importance_plot is not None:
            style_plot(self.importance_plot, bottom="importance")
            if self.importance_bars is not None:
                self.importance_bars.setOpts(brush=series_color(0))
        self.curves_legend.setLabelTextColor(colors.text)
        self.curves_legend.setBrush(pg.mkBrush(colors.plot_background))
        for canvas in (self.scatter_canvas, self.curves_canvas, self.parallel_canvas, self.importance_canvas):
            canvas.setBackground(colors.plot_background)


def _bound_text(dimension: Dimension, *, low: bool) -> str:
    if dimension.choices:
        choice = dimension.choices[0] if low else dimension.choices[-1]
        return format_value(dimension.name, choice)
    return f"{(dimension.low if low else dimension.high):g}"


class SearchTable(ResultsTable):
    """The trials ranked by their score, then those without one (running, failed); a column per searched
    setting, the trial's state, duration and worker."""

    def __init__(self, parent: QWidget | None = None) -> None:
        columns = (*LEADING_COLUMNS, *TRAILING_COLUMNS)
        super().__init__(columns, numeric=range(len(columns) - 1), stretch=len(columns) - 1, parent=parent)
        self.names: list[str] = []

    def set_space(self, space: Sequence[Dimension]) -> None:
        """A column per searched setting."""
        self.names = [d.name for d in space]
        headers = [*LEADING_COLUMNS, *(d.label[:1].upper() + d.label[1:] for d in space), *TRAILING_COLUMNS]
        self.setRowCount(0)
        self.setColumnCount(len(headers))
        self.setHorizontalHeaderLabels(headers)
        for column in range(len(headers)):
            if column != 2 and column < len(headers) - 1:
                self.horizontalHeaderItem(column).setTextAlignment(RIGHT_ALIGNED)
        header = self.horizontalHeader()
        for column in range(len(headers)):
            header.setSectionResizeMode(column, header.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(headers) - 1, header.ResizeMode.Stretch)

    def show_trials(
        self,
        ranked: Sequence[VariantResult],
        results: Sequence[VariantResult],
        top_k: int,
        durations: Mapping[int, float],
        workers: Mapping[int, str],
    ) -> None:
        """Fill the table: ``ranked`` (best first, the best ``top_k`` with their colours), then the rest of
        ``results``."""
        ranked_ids = {r.index for r in ranked}
        rest = [r for r in results if r.index not in ranked_ids]
        rows = [(k + 1, r) for k, r in enumerate(ranked)] + [(None, r) for r in rest]
        colors = theme.colors()
        self.setRowCount(len(rows))
        last = self.columnCount() - 1
        for row, (rank, r) in enumerate(rows):
            epoch = best_epoch(r)
            cells = (
                "—" if rank is None else str(rank),
                str(r.index),
                STATUS_TEXT.get(r.status, r.status),
                *(format_value(n, r.settings[n]) if n in r.settings else "—" for n in self.names),
                percent_text(r.best_val_accuracy),
                "—" if epoch is None else str(epoch),
                percent_text(r.final_val_accuracy),
                percent_text(r.final_train_accuracy),
                duration_text(durations.get(r.index, math.nan)),
                workers.get(r.index, ""),
            )
            for column, text in enumerate(cells):
                item = self.item(row, column)
                if item is None:
                    item = QTableWidgetItem()
                    self.setItem(row, column, item)
                item.setText(text)
                item.setToolTip(r.reason if column == 2 and r.reason else "")
                item.setIcon(
                    QIcon(swatch_pixmap(series_color(rank - 1)))
                    if column == 0 and rank is not None and rank <= top_k
                    else QIcon()
                )
                if column != 2 and column < last:
                    item.setTextAlignment(RIGHT_ALIGNED)
                muted = r.status in ("waiting", "stopped", "pruned")
                item.setForeground(
                    colors.error
                    if r.status in ("diverged", "failed")
                    else colors.secondary_text
                    if muted
                    else colors.text
                )
