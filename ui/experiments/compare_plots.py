"""The comparison view's drawing: every run's curves overlaid in one pair of plots, small multiples for two
factors (the book's figure 6-18), and the results table.

The curves are the engine's: :meth:`dllab.experiments.compare.VariantResult.smoothed_losses` for the loss per mini-batch
and :class:`dllab.experiments.comparison_figures.AccuracyCurves` for the accuracy per epoch, which decides, as the PNG of
``dllab compare`` does, whether the plot shows validation accuracy, training accuracy (no validation split) or
training against test accuracy (the overfitting comparisons, squares for the test set).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QHBoxLayout,
    QSizePolicy,
    QStackedWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dllab.experiments.compare import VariantResult
from dllab.experiments.comparison_figures import AccuracyCurves
from dllab.experiments.variants import describe_setting
from dllab.run_history import result_seconds
from ui.common import theme
from ui.common.formatting import duration_text
from ui.common.plotting import pg
from ui.common.view import PlotCanvas, TrainingView, series_color, style_plot
from ui.common.widgets import RIGHT_ALIGNED, ResultsTable, swatch_pixmap, tool_button

#: More epochs than this are drawn without markers.
MARKER_LIMIT = 60


def percent_text(value: float) -> str:
    """``"93.1 %"``, or a dash when unknown."""
    return f"{value * 100:.1f} %" if math.isfinite(value) else "—"


def final_loss(result: VariantResult) -> float:
    """The last finite value of a run's smoothed loss (NaN before the first mini-batch)."""
    smoothed = result.smoothed_losses()
    finite = smoothed[np.isfinite(smoothed)]
    return float(finite[-1]) if finite.size else math.nan


def status_text(result: VariantResult) -> str:
    """``"finished (step limit)"``, ``"stopped"``, ``"diverged"``, ``"not run"``, ...; the rest in a tooltip."""
    if result.status == "finished" and result.reason not in ("", "completed"):
        return f"finished ({result.reason})"
    return result.status


def grid_shape(count: int) -> tuple[int, int]:
    """Rows and columns of a square-ish grid of ``count`` panels (as the engine's PNG lays them out)."""
    columns = max(1, math.ceil(math.sqrt(count)))
    return math.ceil(count / columns), columns


#: Runs named on one row of the legend over the plots at the most.
LEGEND_COLUMNS = 4


def _plot(canvas: PlotCanvas, row: int, col: int) -> pg.PlotItem:
    plot: pg.PlotItem = canvas.addPlot(row=row, col=col)
    plot.showGrid(x=True, y=True, alpha=0.12)
    plot.setMenuEnabled(False)
    for name in ("left", "bottom"):
        plot.getAxis(name).enableAutoSIPrefix(False)
    return plot


class AccuracyItems:
    """A run's accuracy in one plot: a line per epoch and, for the test set, a thinner line with squares."""

    def __init__(self, plot: pg.PlotItem, color: QColor, name: str | None) -> None:
        self.color = color
        self.line = plot.plot([], [], pen=pg.mkPen(color, width=2.2), name=name, connect="finite")
        self.marked = plot.plot([], [], pen=None, connect="finite")

    def show(self, curves: AccuracyCurves, result: VariantResult, xs: np.ndarray | None = None) -> None:
        """Draw ``result`` as ``curves`` decides (accuracy in %), against its epochs or the x values ``xs``
        given, one per epoch."""
        epochs, line, marked = curves.series(result)
        xs = epochs if xs is None else xs
        many = len(xs) > MARKER_LIMIT
        self.line.setData(
            xs,
            line * 100,
            symbol=None if many else "o",
            symbolSize=5,
            symbolBrush=pg.mkBrush(self.color),
            symbolPen=pg.mkPen(self.color),
        )
        if curves.marked == curves.line:
            self.marked.setData([], [])
            return
        faint = QColor(self.color)
        faint.setAlpha(200)
        self.marked.setData(
            xs,
            marked * 100,
            pen=pg.mkPen(faint, width=1.2, style=Qt.PenStyle.DashLine),
            symbol="s",
            symbolSize=4 if many else 6,
            symbolBrush=pg.mkBrush(theme.colors().plot_background),
            symbolPen=pg.mkPen(self.color, width=1.4),
        )


class ComparisonPlots(QWidget):
    """The loss and accuracy of every run overlaid, or small multiples of the accuracy for two factors.

    Parameters
    ----------
    view
        The view whose drawing cost the canvases count towards.
    time_option
        Offer "Against time" (the runs' curves against the seconds since each started).
    """

    def __init__(
        self, view: TrainingView, parent: QWidget | None = None, *, time_option: bool = False
    ) -> None:
        super().__init__(parent)
        self._view = view
        self.overlay = view.canvas(self)
        # The runs named in a row over both plots, as wide as their names and never over a curve (inside the loss
        # plot, the legend hid the part of a curve behind it).
        self.legend = pg.LegendItem(labelTextSize="8.5pt")
        self.legend.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Maximum)
        self.overlay.addItem(self.legend, row=0, col=0, colspan=2)
        self.overlay.ci.layout.setAlignment(self.legend, Qt.AlignmentFlag.AlignLeft)
        self.loss_plot = _plot(self.overlay, 1, 0)
        self.accuracy_plot = _plot(self.overlay, 1, 1)
        self.accuracy_plot.setXRange(0, 1)
        self.loss_plot.legend = self.legend  # the loss curves are named in it as they are added
        self.grid = view.canvas(self)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.overlay)
        self.stack.addWidget(self.grid)

        self.overlay_button = tool_button("Overlay", self)
        self.overlay_button.setToolTip("Every run's loss and accuracy in one pair of plots")
        self.grid_button = tool_button("Small multiples", self)
        self.grid_button.setToolTip(
            "For two settings: one accuracy panel per value of the first, a curve per value of the second "
            "(the book's figure 6-18)"
        )
        self.view_group = QButtonGroup(self)
        for button in (self.overlay_button, self.grid_button):
            button.setCheckable(True)
            self.view_group.addButton(button)
        self.overlay_button.setChecked(True)
        self.grid_button.setEnabled(False)
        self.grid_button.toggled.connect(self._on_grid_button_toggled)
        self.log_check = QCheckBox("Log-scale loss", self)
        self.log_check.setToolTip("Show the loss on a logarithmic axis (runs far apart become comparable).")
        self.log_check.toggled.connect(self._on_log_check_toggled)
        self.time_check = QCheckBox("Against time", self)
        self.time_check.setToolTip(
            "Draw the curves against the seconds since each run started instead of mini-batches and epochs "
            "(fewer steps are not always less time)."
        )
        self.time_check.toggled.connect(self._on_time_check_toggled)
        self.time_check.setVisible(time_option)
        bar = QHBoxLayout()
        bar.setContentsMargins(12, 0, 12, 0)
        bar.setSpacing(4)
        bar.addWidget(self.overlay_button)
        bar.addWidget(self.grid_button)
        bar.addSpacing(12)
        bar.addWidget(self.log_check)
        bar.addWidget(self.time_check)
        bar.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(bar)
        layout.addWidget(self.stack, 1)

        self.loss_curves: list[pg.PlotDataItem] = []
        self.accuracy_items: list[AccuracyItems] = []
        self.grid_plots: list[pg.PlotItem] = []
        self.grid_items: dict[int, AccuracyItems] = {}
        self.restyle()

    def run_color(self, index: int) -> QColor:
        """The colour run ``index`` has in the plots shown (small multiples colour by the second factor)."""
        items = self.grid_items.get(index) if self.small_multiples else None
        return items.color if items is not None else series_color(index)

    @property
    def small_multiples(self) -> bool:
        """Whether the small multiples are shown."""
        return self.grid_button.isChecked()

    # --- a new comparison -----------------------------------------------------------------------------------

    def clear_runs(self) -> None:
        """Remove every curve and panel (call it before a worker thread starts, see :func:`collect_garbage`)."""
        for curve in self.loss_curves:
            self.loss_plot.removeItem(curve)
        for items in self.accuracy_items:
            self.accuracy_plot.removeItem(items.line)
            self.accuracy_plot.removeItem(items.marked)
        self.legend.clear()
        self.loss_curves, self.accuracy_items = [], []
        self.grid.clear()
        self.grid_plots, self.grid_items = [], {}

    def set_runs(self, results: Sequence[VariantResult], factors: Mapping[str, Sequence[Any]]) -> None:
        """Lay out the curves of ``results``, the runs of a comparison of ``factors`` (after :meth:`clear_runs`:
        this only adds items, so it may run while a worker thread does)."""
        if self.loss_curves or self.grid_plots:
            self.clear_runs()
        self.legend.setColumnCount(max(1, min(len(results), LEGEND_COLUMNS)))
        for r in results:
            color = series_color(r.index)
            curve = self.loss_plot.plot([], [], pen=pg.mkPen(color, width=2), name=r.label, connect="finite")
            curve.setClipToView(True)
            curve.setDownsampling(auto=True, method="peak")
            self.loss_curves.append(curve)
            self.accuracy_items.append(AccuracyItems(self.accuracy_plot, color, None))
        self._make_grid(results, factors)

    def _make_grid(self, results: Sequence[VariantResult], factors: Mapping[str, Sequence[Any]]) -> None:
        two = len(factors) == 2
        self.grid_button.setEnabled(two)
        if not two:
            self.overlay_button.setChecked(True)
            return
        (outer, outer_values), (inner, inner_values) = ((k, list(v)) for k, v in factors.items())
        _, columns = grid_shape(len(outer_values))
        for k, value in enumerate(outer_values):
            plot = _plot(self.grid, k // columns, k % columns)
            style_plot(plot, title=describe_setting(outer, value), bottom="epoch")
            if k:
                plot.setXLink(self.grid_plots[0])
                plot.setYLink(self.grid_plots[0])
            else:
                legend = plot.addLegend(offset=(-10, 8), labelTextSize="8pt")
                legend.setLabelTextColor(theme.colors().text)
                legend.setBrush(pg.mkBrush(theme.colors().plot_background))
            self.grid_plots.append(plot)
        for r in results:
            k = outer_values.index(r.settings[outer])
            j = inner_values.index(r.settings[inner])
            name = describe_setting(inner, r.settings[inner]) if k == 0 else None
            self.grid_items[r.index] = AccuracyItems(self.grid_plots[k], series_color(j), name)
        self.grid_button.setChecked(True)

    # --- drawing --------------------------------------------------------------------------------------------

    def redraw(self, results: Sequence[VariantResult]) -> None:
        """Draw the runs' curves as they are now."""
        curves = AccuracyCurves.choose(results)
        timed = self.time_check.isChecked()
        last_second = 0.0
        for r, curve, items in zip(results, self.loss_curves, self.accuracy_items, strict=False):
            if timed:
                step_x, epoch_x = result_seconds(r)
                finite = epoch_x[np.isfinite(epoch_x)]
                last_second = max(last_second, float(finite.max()) if finite.size else 0.0)
            else:
                step_x, epoch_x = np.asarray(r.steps, dtype=np.float64), None
            curve.setData(step_x, r.smoothed_losses())
            items.show(curves, r, epoch_x)
            grid = self.grid_items.get(r.index)
            if grid is not None:
                grid.show(curves, r)
        low, high = curves.value_range(results)
        x_low, x_high = curves.epoch_range(results)
        for plot in [self.accuracy_plot, *self.grid_plots[:1]]:
            plot.setYRange(low * 100, high * 100, padding=0.02)
            plot.setXRange(x_low, x_high, padding=0.02)
        if timed:  # the seconds of the longest run, in both plots
            for plot in (self.loss_plot, self.accuracy_plot):
                plot.setXRange(0.0, last_second or 1.0, padding=0.02)
        else:
            self.loss_plot.enableAutoRange(x=True)
        style_plot(
            self.loss_plot, left="training loss (smoothed)", bottom="seconds" if timed else "mini-batch"
        )
        style_plot(self.accuracy_plot, left=f"{curves.title} (%)", bottom="seconds" if timed else "epoch")
        for plot in self.grid_plots:
            plot.setLabel("left", f"{curves.title.split(' (')[0]} (%)")

    def restyle(self) -> None:
        """Axis colours for the current theme."""
        style_plot(self.loss_plot, left="training loss (smoothed)", bottom="mini-batch")
        style_plot(self.accuracy_plot, left="accuracy (%)", bottom="epoch")
        colors = theme.colors()
        self.legend.setLabelTextColor(colors.text)
        for canvas in (self.overlay, self.grid):
            canvas.setBackground(colors.plot_background)

    def _on_grid_button_toggled(self, checked: bool) -> None:
        self.stack.setCurrentWidget(self.grid if checked else self.overlay)

    def _on_log_check_toggled(self, checked: bool) -> None:
        self.loss_plot.setLogMode(x=False, y=checked)

    def _on_time_check_toggled(self, _checked: bool) -> None:
        self._view.request_redraw()


#: The results table's columns.
COLUMNS = (
    "Run",
    "Status",
    "Final loss",
    "Train acc.",
    "Val. acc.",
    "Best val. acc.",
    "Test acc.",
    "Mini-batches",
    "Time",
)


class ComparisonTable(ResultsTable):
    """One row per run: how it ended, its final and best metrics and how long it took."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(COLUMNS, numeric=range(2, len(COLUMNS)), stretch=0, parent=parent)

    @staticmethod
    def row_cells(result: VariantResult, seconds: float) -> tuple[str, ...]:
        """The texts of one run's row."""
        return (
            result.label,
            status_text(result),
            f"{loss:.4g}" if math.isfinite(loss := final_loss(result)) else "—",
            percent_text(result.final_train_accuracy),
            percent_text(result.final_val_accuracy),
            percent_text(result.best_val_accuracy),
            percent_text(result.test_accuracy),
            f"{len(result.steps):,}",
            duration_text(seconds) if math.isfinite(seconds) else "—",
        )

    def show_results(
        self,
        results: Sequence[VariantResult],
        seconds: Sequence[float],
        color: Callable[[int], QColor] = series_color,
    ) -> None:
        """Fill the table; ``seconds`` is how long each run has trained (NaN: not started), ``color`` gives the
        colour of each run's swatch by its index."""
        colors = theme.colors()
        self.setRowCount(len(results))
        for row, (result, took) in enumerate(zip(results, seconds, strict=True)):
            for column, text in enumerate(self.row_cells(result, took)):
                item = self.item(row, column)
                if item is None:
                    item = QTableWidgetItem()
                    self.setItem(row, column, item)
                item.setText(text)
                if column == 0:
                    item.setIcon(QIcon(swatch_pixmap(color(result.index))))
                elif column >= 2:
                    item.setTextAlignment(RIGHT_ALIGNED)
                elif result.status == "diverged":
                    item.setForeground(colors.error)
                elif result.status in ("stopped", "not run"):
                    item.setForeground(colors.secondary_text)
                else:
                    item.setForeground(colors.text)
                if column == 1:
                    item.setToolTip(result.reason)
        self.fit_rows()
