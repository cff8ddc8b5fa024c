"""Weights and gradients: per-layer histograms of the weights and of their gradients, and the norms of both over
the run, so vanishing gradients (the first layers' gradient norms falling decades below the last ones') and
exploding gradients (norms shooting up) show. The update-to-weight ratio (about 1e-3 is healthy) tells whether
the learning rate is too small or too large.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Iterator
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QWidget

from dllab.trainer import LayerStatistics, ParamStats
from ui.common import theme
from ui.common.histogram_plots import (
    HistogramGridView,
    decade_span,
    histogram_item,
    reveal,
    set_histogram,
    set_iterations,
    set_x_range,
    small_plot,
)
from ui.common.plotting import pg
from ui.common.series import DecimatingSeries
from ui.common.view import colour_key, series_color, static_plot, style_plot
from ui.training.session import SessionStarted

#: The parameters drawn: weight matrices and kernels (biases and BatchNorm's scale have no such story).
WEIGHT_NAMES = ("W",)
HEALTHY_UPDATE_RATIO = 1e-3
#: Width of the norm plots' left axes, in pixels (label and decade ticks such as ``1e-05``).
NORM_AXIS_WIDTH = 54
#: The least width of a norm plot, in pixels: narrower, the three wrap onto two rows.
NORM_PLOT_WIDTH = 200
#: The norm plots' titles (in a row of three; two to a row) and left axes.
NORM_TITLES = (
    ("weight norm ‖W‖", "weight norm", "norm"),
    ("gradient norm ‖∂L/∂W‖", "gradient norm", "norm"),
    ("update / weight ratio (≈1e-3 is healthy)", "update / weight ratio (≈1e-3 is healthy)", "ratio"),
)
#: Room above and below the decades shown (in decades).
DECADE_MARGIN = 0.08
#: The status until the first statistics arrive.
WAITING_READING = (
    "Waiting for the first statistics: the gradient norms of the first and the last layer show here, and "
    "whether the gradients reach every layer, vanish or explode."
)


class WeightsView(HistogramGridView):
    """Histograms of weights and gradients per layer, and their norms over time."""

    title = "Weights & gradients"
    tab_title = "Weights"
    export_stem = "weights"
    hint = (
        "Top: each layer's weights and their gradients on the last batch. Bottom: norms over time on a log "
        "scale: gradients shrinking layer by layer towards the input vanish; shooting up, they explode."
    )
    empty_text = (
        "No run yet: press Train (F5) to see each layer's weights and gradients, and whether the gradients "
        "vanish or explode."
    )

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.keys: list[str] = []
        #: Columns: norm, gradient norm and update ratio of each key, side by side.
        self.norms = DecimatingSeries(columns=3)
        self._weight_items: dict[str, pg.PlotDataItem] = {}
        self._grad_items: dict[str, pg.PlotDataItem] = {}
        self._weight_plots: dict[str, pg.PlotItem] = {}
        self._grad_plots: dict[str, pg.PlotItem] = {}
        self._norm_curves: dict[tuple[int, str], pg.PlotDataItem] = {}
        self._norm_plots: list[pg.PlotItem] = []
        #: The norm plots' columns in the grid built last.
        self._norm_columns = 0

        self.set_grid_content()

    # --- the run ---------------------------------------------------------------------------------------

    def begin_run(self, started: SessionStarted) -> None:
        self.keys = [
            key
            for layer in started.layers
            for key in layer.param_keys
            if key.rsplit(".", 1)[-1] in WEIGHT_NAMES
        ]
        self.begin_history()
        self.norms = DecimatingSeries(columns=max(3 * len(self.keys), 1))
        super().begin_run(started)
        if self.applicable:
            # As long as a reading, so the first one does not lay the plots out again.
            self.set_status(f"{WAITING_READING}<br>{colour_key(self.keys)}")
            self.start_building()

    def reason_not_applicable(self, started: SessionStarted) -> str | None:
        if not self.keys:
            return "the network has no Dense or Conv2D layer, so it has no weights to show."
        return None

    def plot_count(self) -> int:
        return len(self.keys)

    def layout_key(self) -> Hashable:
        return tuple(self.keys)

    def histogram_items(self) -> Iterable[pg.PlotDataItem]:
        return [*self._weight_items.values(), *self._grad_items.values()]

    def build_plots(self) -> Iterator[None]:
        """Create the histograms and the norm plots, yielding after each plot."""
        self.graphics = g = self.fresh_canvas(self.graphics)
        self._weight_items.clear()
        self._grad_items.clear()
        self._weight_plots.clear()
        self._grad_plots.clear()
        self._norm_curves.clear()
        self._norm_plots.clear()
        if not self.keys:
            return
        columns = self.columns = self.fitting_columns(len(self.keys))
        # Narrow (one column of layers): each layer's weights and gradients side by side on one row, rather
        # than two rows of plots too flat to read.
        paired = columns == 1
        rows = -(-len(self.keys) // columns)
        for i, key in enumerate(self.keys):
            block, col = divmod(i, columns)
            color = series_color(i)
            if paired:
                wplot = small_plot(g, block, 0, title=f"{key} weights", left="%")
            else:
                wplot = small_plot(g, 2 * block, col, title=f"{key}", left="weights (%)" if col == 0 else "")
            yield
            if paired:
                gplot = small_plot(g, block, 1, title="its gradients", left="%")
            else:
                gplot = small_plot(
                    g, 2 * block + 1, col, title="gradient", left="gradients (%)" if col == 0 else ""
                )
            self._weight_plots[key], self._grad_plots[key] = wplot, gplot
            self._weight_items[key] = histogram_item(wplot, color)
            self._grad_items[key] = histogram_item(gplot, color)
            yield
        histogram_rows = rows if paired else 2 * rows
        # The three norm plots in a row when they have the room, else the norms side by side and the update
        # ratio under them, the whole width.
        norm_columns = self._norm_columns = self.fitting_columns(3, NORM_PLOT_WIDTH)
        norms = g.addLayout(row=histogram_rows, col=0, colspan=2 if paired else columns)
        for k, (wide_title, narrow_title, left) in enumerate(NORM_TITLES):
            row, col = divmod(k, norm_columns)
            title = wide_title if norm_columns == 3 else narrow_title
            plot = static_plot(norms, row, col, colspan=norm_columns if k == 2 and row else 1)
            self._norm_plots.append(plot)
            # A fixed width: tick labels of another width would shift the grid's columns, and every plot whose
            # size changes is laid out and painted anew.
            plot.getAxis("left").setWidth(NORM_AXIS_WIDTH)
            style_plot(plot, left=left, bottom="iteration", title=title)
            if k == 2:
                line = pg.InfiniteLine(
                    pos=math.log10(HEALTHY_UPDATE_RATIO),
                    angle=0,
                    pen=pg.mkPen(theme.colors().secondary_text, style=Qt.PenStyle.DashLine),
                )
                plot.addItem(line, ignoreBounds=True)
            for i, key in enumerate(self.keys):
                self._norm_curves[(k, key)] = plot.plot(
                    [],
                    [],
                    pen=pg.mkPen(series_color(i), width=1.8),
                    connect="finite",
                )
            yield
        layout = g.ci.layout
        for r in range(histogram_rows):
            layout.setRowStretchFactor(r, 3 if paired else 2)
        layout.setRowStretchFactor(histogram_rows, 4 * -(-3 // norm_columns))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.keys and self.fitting_columns(3, NORM_PLOT_WIDTH) != self._norm_columns:
            self.rebuild()

    def record(self, statistics: LayerStatistics) -> None:
        params = _params_by_key(statistics)
        row = []
        for key in self.keys:
            p = params.get(key)
            row += [math.nan] * 3 if p is None else [p.norm, p.grad_norm, p.update_ratio]
        if row:
            self.norms.append([statistics.step], [row])

    # --- drawing -------------------------------------------------------------------------------------------

    def draw(self, statistics: LayerStatistics) -> Iterator[None]:
        self.set_status(f"{_gradient_reading(statistics, self.keys)}<br>{colour_key(self.keys)}")
        yield  # a status of another height lays the plots out anew: painted on its own
        params = _params_by_key(statistics)
        for key in self.keys:
            p = params.get(key)
            reveal(self._weight_plots[key])
            reveal(self._grad_plots[key])
            if p is None:
                continue
            set_histogram(self._weight_items[key], p.counts, p.edges)
            set_x_range(self._weight_plots[key], p.edges)
            yield
            set_histogram(self._grad_items[key], p.grad_counts, p.grad_edges)
            set_x_range(self._grad_plots[key], p.grad_edges)
            yield
        x = self.norms.x
        y = self.norms.y
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.log10(np.where(y > 0, y, np.nan))  # drawn in decades, labelled as numbers
        for k, plot in enumerate(self._norm_plots):
            reveal(plot)
            columns = logs[:, k::3]
            for i, key in enumerate(self.keys):
                self._norm_curves[(k, key)].setData(x, columns[:, i])
            set_decades(plot, columns, include=math.log10(HEALTHY_UPDATE_RATIO) if k == 2 else None)
            if len(x):
                set_iterations(plot, float(x[-1]))
            yield

    # --- export ----------------------------------------------------------------------------------------------

    def csv_table(self) -> tuple[list[str], list[list[Any]]]:
        header = ["step", "parameter", "norm", "grad_norm", "update_ratio"]
        rows: list[list[Any]] = []
        y = self.norms.y
        for r, step in enumerate(self.norms.x):
            for i, key in enumerate(self.keys):
                rows.append([int(step), key, *(float(v) for v in y[r, 3 * i : 3 * i + 3])])
        return header, rows


def set_decades(plot: pg.PlotItem, logs: np.ndarray, include: float | None = None) -> None:
    """Show log10 values on ``plot`` over the whole decades they span, with a tick at each labelled 0.001,
    0.01, ... (or 1e-05); the range changes only when the values enter or leave a decade (an axis whose range
    changes is laid out and painted anew)."""
    finite = logs[np.isfinite(logs)]
    if not finite.size:
        return
    span = decade_span(finite if include is None else np.append(finite, include))
    if getattr(plot, "_shown_decades", None) == span:
        return
    first, last = span
    plot._shown_decades = (first, last)  # type: ignore[attr-defined]
    plot.setYRange(first - DECADE_MARGIN, last + DECADE_MARGIN, padding=0)
    ticks = [(float(d), f"{10.0**d:g}") for d in range(first, last + 1)]
    plot.getAxis("left").setTicks([ticks, []])


def _params_by_key(statistics: LayerStatistics) -> dict[str, ParamStats]:
    return {p.key: p for layer in statistics.layers for p in layer.params}


def _gradient_reading(statistics: LayerStatistics, keys: list[str]) -> str:
    """One sentence on the gradient norms from the first to the last layer."""
    params = _params_by_key(statistics)
    norms = [(key, params[key].grad_norm) for key in keys if key in params and params[key].grad_norm > 0]
    if len(norms) < 2:
        return f"Iteration {statistics.step:,}"
    (first_key, first), (last_key, last) = norms[0], norms[-1]
    ratio = first / last
    if ratio < 1e-2:
        verdict = "the gradients <b>vanish</b> towards the input"
    elif ratio > 1e2:
        verdict = "the gradients <b>grow</b> towards the input (exploding)"
    else:
        verdict = "the gradients reach every layer"
    return (
        f"Iteration {statistics.step:,}: gradient norm {first:.2g} in {first_key} and {last:.2g} in {last_key} "
        f"(ratio {ratio:.2g}): {verdict}."
    )
