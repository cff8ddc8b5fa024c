"""The search view's drawing: a scatter per hyperparameter (each trial's best validation accuracy against the
value it drew, on a log axis), the validation curves of the best trials (the book's figure 6-24) and the ranking
table.

The items are made once and updated in place while a search runs (only :meth:`SearchPlots.set_top_k`, called
while none runs, replaces them): Qt objects dropped while a worker thread runs could be destroyed by that
thread's garbage collection (see :func:`ui.experiments.runner.collect_garbage`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon
from PySide6.QtWidgets import QTableWidgetItem, QWidget

from dllab.experiments.compare import VariantResult
from dllab.experiments.plotting import accuracy_range
from dllab.experiments.search import RANK_BY, SEARCHABLE, best_epoch, describe_params, trial_score
from ui.common import theme
from ui.common.view import TrainingView, series_color, style_plot
from ui.common.widgets import RIGHT_ALIGNED, ResultsTable, swatch_pixmap
from ui.experiments.compare_plots import MARKER_LIMIT, percent_text

#: The results table's columns.
COLUMNS = (
    "Rank",
    "Trial",
    "Learning rate",
    "Weight decay",
    "Best val. acc.",
    "at epoch",
    "Final val. acc.",
    "Train acc.",
    "Status",
)
#: The trials not among the best K in the scatter.
OTHER_COLOR = "#a0a7b0"


def _plot(layout: pg.GraphicsLayout, col: int) -> pg.PlotItem:
    plot: pg.PlotItem = layout.addPlot(row=0, col=col)
    plot.showGrid(x=True, y=True, alpha=0.12)
    plot.setMenuEnabled(False)
    plot.getAxis("left").enableAutoSIPrefix(False)
    return plot


class SearchPlots:
    """The scatters and the best trials' curves, on one canvas of ``view`` (which counts its drawing cost).

    Parameters
    ----------
    view
        The view that owns the canvas.
    top_k
        How many of the best trials get colours and curves.
    """

    def __init__(self, view: TrainingView, top_k: int, parent: QWidget | None = None) -> None:
        self.graphics = view.canvas(parent)
        self.scatter_plots: dict[str, pg.PlotItem] = {}
        self.scatter_items: dict[str, pg.PlotDataItem] = {}
        self.scatter_title = self.graphics.addLabel("", row=0, col=0)
        scatter_row = self.graphics.addLayout(row=1, col=0)
        for col, name in enumerate(SEARCHABLE):
            plot = _plot(scatter_row, col)
            plot.setLogMode(x=True, y=False)
            plot.getAxis("bottom").enableAutoSIPrefix(False)
            self.scatter_plots[name] = plot
            self.scatter_items[name] = plot.plot([], [], pen=None, symbol="o")
        curves_row = self.graphics.addLayout(row=2, col=0)
        self.curves_plot = _plot(curves_row, 0)
        self.curves_legend = pg.LegendItem(labelTextSize="8.5pt", verSpacing=-4)
        curves_row.addItem(self.curves_legend, row=0, col=1)
        curves_row.layout.setColumnStretchFactor(0, 3)
        curves_row.layout.setColumnStretchFactor(1, 1)
        self.best_curves: list[tuple[pg.PlotDataItem, pg.PlotDataItem]] = []
        self.running_curve: pg.PlotDataItem | None = None
        self.set_top_k(top_k)
        self.restyle()

    def set_top_k(self, top_k: int) -> None:
        """One validation and one training curve for each of the best ``top_k`` trials, and one for the
        running trial, each with its legend entry. Only while no search runs: the old items become garbage
        that must be collected in the GUI thread."""
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

    def set_ranges(self, ranges: Mapping[str, tuple[float, float]]) -> None:
        """Show a scatter for each searched hyperparameter, over its range (with a margin)."""
        for name, plot in self.scatter_plots.items():
            plot.setVisible(name in ranges)
            if name in ranges:
                low, high = ranges[name]
                pad = max(0.05 * (math.log10(high) - math.log10(low)), 0.25)
                plot.setXRange(math.log10(low) - pad, math.log10(high) + pad, padding=0)

    def redraw(
        self,
        ranked: Sequence[VariantResult],
        running: VariantResult | None,
        searched: Sequence[str],
        rank_by: str = "best",
    ) -> None:
        """Draw the trials that have a score (``ranked``, best first, by ``rank_by``) and the running one."""
        best = list(ranked[: len(self.best_curves)])
        colors = {r.index: series_color(k) for k, r in enumerate(best)}
        other = QColor(OTHER_COLOR)
        low, high = accuracy_range(np.array([trial_score(r, rank_by) for r in ranked], dtype=np.float64))
        # Scatter: the best drawn last, on top; the running trial hollow.
        shown = [*reversed(ranked)]
        if (
            running is not None
            and running.index not in colors
            and math.isfinite(trial_score(running, rank_by))
        ):
            shown.append(running)
        for name, item in self.scatter_items.items():
            if name not in searched:
                item.setData([], [])
                continue
            brushes = [
                pg.mkBrush(theme.colors().plot_background)
                if r is running and r.index not in colors
                else pg.mkBrush(colors.get(r.index, other))
                for r in shown
            ]
            item.setData(
                [r.settings[name] for r in shown],
                [trial_score(r, rank_by) * 100 for r in shown],
                symbolBrush=brushes,
                symbolPen=[pg.mkPen(colors.get(r.index, other).darker(130), width=1.2) for r in shown],
                symbolSize=[11 if r.index in colors else 8 for r in shown],
            )
            self.scatter_plots[name].setYRange(low * 100, high * 100, padding=0.04)
        self.scatter_title.setText(
            f"Every trial's {RANK_BY[rank_by]} against the values it drew; the best {len(best)} in colour",
            color=theme.colors().text.name(),
            size="9.5pt",
        )
        self._draw_curves(best, colors, running, rank_by)
        self.curves_plot.setYRange(low * 100, high * 100, padding=0.02)

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
            self._set_legend_entry(
                k,
                f"{k + 1}. {trial_score(r, rank_by) * 100:.1f} %<br>&nbsp;&nbsp;&nbsp;{describe_params(r.settings)}",
            )
        shown_running = running is not None and running.index not in colors and bool(running.epochs)
        if running is not None and shown_running:
            self.running_curve.setData(
                np.array([e.epoch for e in running.epochs], dtype=np.float64),
                np.array([e.val_accuracy for e in running.epochs], dtype=np.float64) * 100,
            )
            self._set_legend_entry(len(self.best_curves), f"trial {running.index + 1}, running")
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

    def restyle(self) -> None:
        """Axis colours for the current theme."""
        colors = theme.colors()
        for name, plot in self.scatter_plots.items():
            style_plot(plot, left="best validation accuracy (%)", bottom=f"{SEARCHABLE[name]} (log scale)")
        style_plot(self.curves_plot, left="accuracy (%)", bottom="epoch")
        self.curves_legend.setLabelTextColor(colors.text)
        self.curves_legend.setBrush(pg.mkBrush(colors.plot_background))
        self.graphics.setBackground(colors.plot_background)


class SearchTable(ResultsTable):
    """The trials ranked by best validation accuracy, then those without one (not run yet, or stopped early)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(COLUMNS, numeric=range(len(COLUMNS) - 1), stretch=len(COLUMNS) - 1, parent=parent)

    def show_trials(
        self, ranked: Sequence[VariantResult], results: Sequence[VariantResult], top_k: int
    ) -> None:
        """Fill the table: ``ranked`` (best first, the best ``top_k`` with their colours), then the rest of
        ``results``."""
        ranked_ids = {r.index for r in ranked}
        rest = [r for r in results if r.index not in ranked_ids]
        rows = [(k + 1, r) for k, r in enumerate(ranked)] + [(None, r) for r in rest]
        colors = theme.colors()
        self.setRowCount(len(rows))
        for row, (rank, r) in enumerate(rows):
            epoch = best_epoch(r)
            cells = (
                "—" if rank is None else str(rank),
                str(r.index + 1),
                f"{r.settings['lr']:.3e}" if "lr" in r.settings else "—",
                f"{r.settings['weight_decay']:.3e}" if "weight_decay" in r.settings else "—",
                percent_text(r.best_val_accuracy),
                "—" if epoch is None else str(epoch),
                percent_text(r.final_val_accuracy),
                percent_text(r.final_train_accuracy),
                r.status,
            )
            for column, text in enumerate(cells):
                item = self.item(row, column)
                if item is None:
                    item = QTableWidgetItem()
                    self.setItem(row, column, item)
                item.setText(text)
                item.setIcon(
                    QIcon(swatch_pixmap(series_color(rank - 1)))
                    if column == 0 and rank is not None and rank <= top_k
                    else QIcon()
                )
                if column < len(COLUMNS) - 1:
                    item.setTextAlignment(RIGHT_ALIGNED)
                muted = r.status in ("pending", "not run", "stopped")
                item.setForeground(
                    colors.error
                    if r.status == "diverged"
                    else colors.secondary_text
                    if muted
                    else colors.text
                )
