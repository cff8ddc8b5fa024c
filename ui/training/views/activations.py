"""Activations: one histogram per layer, side by side, of the layer's outputs on a fixed probe batch (the book's
figure of five sigmoid layers, chapter 6.2), updated while the network trains, with a slider to look back in
time, and the share of dead ReLUs or saturated sigmoids per layer over the run.

The trainer measures these (``LayerStatistics``) every few dozen batches with bin edges fixed for the whole
run, so the histograms of different moments compare directly.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Iterator
from typing import Any

import numpy as np
from PySide6.QtWidgets import QComboBox, QLabel, QWidget

from dllab.spec import LAYER_TYPES
from dllab.trainer import LayerStatistics, LayerStats
from ui.common.histogram_plots import (
    SMALL_TITLE,
    HistogramGridView,
    histogram_item,
    reveal,
    set_histogram,
    set_iterations,
    set_x_range,
    small_plot,
)
from ui.common.plotting import pg
from ui.common.series import DecimatingSeries
from ui.common.view import colour_key, series_color, set_title, static_plot, style_plot
from ui.training.session import LayerInfo, SessionStarted


def is_activation(type_name: str) -> bool:
    """Whether layers of this type are activation functions (their outputs are "the activations")."""
    cls = LAYER_TYPES.get(type_name)
    return cls is not None and cls.category == "Activation"


class ActivationsView(HistogramGridView):
    """Histograms of every layer's outputs, and dead or saturated units over time."""

    title = "Activations"
    export_stem = "activations"
    hint = (
        "Distribution of each layer's outputs on a fixed batch of training samples (share of values per bin). "
        "Piled at 0 and 1 after a sigmoid: saturated, gradients vanish. All at 0 after a ReLU: dead units."
    )
    empty_text = (
        "No run yet: press Train (F5) to see the distribution of every layer's activations, as in the book's "
        "figure of five sigmoid layers."
    )

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.layers: tuple[LayerInfo, ...] = ()
        self.shown: list[str] = []
        self.fractions = DecimatingSeries(columns=1)
        self._fraction_layers: list[str] = []
        self._plots: dict[str, pg.PlotItem] = {}
        self._items: dict[str, pg.PlotDataItem] = {}
        self._fraction_curves: dict[str, pg.PlotDataItem] = {}
        self._fraction_plot: pg.PlotItem | None = None

        self.filter_combo = QComboBox(self)
        self.filter_combo.addItem("Activation layers", "activations")
        self.filter_combo.addItem("Every layer", "all")
        self.filter_combo.setToolTip("The outputs of the activation functions only, or of every layer.")
        self.filter_combo.activated.connect(self._on_filter_combo_activated)
        self.set_grid_content(QLabel("Show", self), self.filter_combo)

    # --- the run ---------------------------------------------------------------------------------------

    def begin_run(self, started: SessionStarted) -> None:
        self.layers = started.layers
        self._fraction_layers = [
            layer.name for layer in started.layers if layer.type_name in ("ReLU", "Step", "Sigmoid", "Tanh")
        ]
        self.fractions = DecimatingSeries(columns=max(len(self._fraction_layers), 1))
        self.shown = [layer.name for layer in self._shown_layers()]
        self.begin_history()
        super().begin_run(started)
        self.start_building()

    def _shown_layers(self) -> list[LayerInfo]:
        if self.filter_combo.currentData() == "all":
            return list(self.layers)
        chosen = [layer for layer in self.layers if is_activation(layer.type_name)]
        return chosen or list(self.layers)

    def plot_count(self) -> int:
        return len(self.shown) if self.layers else 0

    def layout_key(self) -> Hashable:
        return tuple(self.shown), tuple(self._fraction_layers)

    def histogram_items(self) -> Iterable[pg.PlotDataItem]:
        return self._items.values()

    def build_plots(self) -> Iterator[None]:
        """Create one histogram per shown layer and the dead/saturated plot, yielding after each plot."""
        self.graphics = self.fresh_canvas(self.graphics)
        self._plots.clear()
        self._items.clear()
        self._fraction_curves.clear()
        self._fraction_plot = None
        shown = self._shown_layers()
        self.shown = [layer.name for layer in shown]
        columns = self.columns = self.fitting_columns(len(shown))
        for i, layer in enumerate(shown):
            row, col = divmod(i, columns)
            plot = small_plot(
                self.graphics, row, col, title=f"{layer.name}", left="share of values (%)" if col == 0 else ""
            )
            self._plots[layer.name] = plot
            self._items[layer.name] = histogram_item(plot, series_color(i))
            yield
        rows = -(-len(shown) // columns) if shown else 0
        if self._fraction_layers:
            plot = self._fraction_plot = static_plot(self.graphics, rows, 0, colspan=columns)
            style_plot(
                plot,
                left="units (%)",
                bottom="iteration",
                # Said in short in one column: a title wider than the view would cut the plots off.
                title="Dead ReLU units and saturated sigmoid/tanh outputs"
                if columns > 1
                else "Dead or saturated units",
            )
            plot.setYRange(0, 100, padding=0.02)
            for j, name in enumerate(self._fraction_layers):
                index = self.shown.index(name) if name in self.shown else j
                self._fraction_curves[name] = plot.plot(
                    [], [], pen=pg.mkPen(series_color(index), width=2), connect="finite"
                )
            self.graphics.ci.layout.setRowStretchFactor(rows, 2)
            for r in range(rows):
                self.graphics.ci.layout.setRowStretchFactor(r, 3)

    def record(self, statistics: LayerStatistics) -> None:
        by_name = {s.name: s for s in statistics.layers}
        values = [_unit_fraction(by_name.get(name)) * 100 for name in self._fraction_layers]
        if values:
            self.fractions.append([statistics.step], [values])

    # --- drawing -------------------------------------------------------------------------------------------

    def draw(self, statistics: LayerStatistics) -> Iterator[None]:
        worst = _worst(statistics)
        key = colour_key(self.shown) if self._fraction_layers else ""
        self.set_status(f"{worst}<br>{key}" if worst and key else worst or key)
        yield  # a status of another height lays the plots out anew: painted on its own
        for stats in statistics.layers:
            item = self._items.get(stats.name)
            if item is None:
                continue
            set_histogram(item, stats.counts, stats.edges)
            plot = self._plots[stats.name]
            reveal(plot)
            set_x_range(plot, stats.edges)
            set_title(plot, _layer_title(stats), SMALL_TITLE)
            yield
        for plot in self._plots.values():  # layers without statistics show their empty plot
            reveal(plot)
        x = self.fractions.x
        if self._fraction_plot is not None:
            reveal(self._fraction_plot)
            if len(x):
                set_iterations(self._fraction_plot, float(x[-1]))
        for j, name in enumerate(self._fraction_layers):
            self._fraction_curves[name].setData(x, self.fractions.column(j))

    def _on_filter_combo_activated(self, row: int) -> None:
        if self.layers:
            self.shown = [layer.name for layer in self._shown_layers()]
            self.rebuild()

    # --- export ----------------------------------------------------------------------------------------------

    def csv_table(self) -> tuple[list[str], list[list[Any]]]:
        header = [
            "step",
            "epoch",
            "layer",
            "type",
            "bin_low",
            "bin_high",
            "count",
            "mean",
            "std",
            "dead_fraction",
            "saturated_fraction",
        ]
        statistics = self.selected()
        rows: list[list[Any]] = []
        if statistics is None:
            return header, rows
        for stats in statistics.layers:
            for low, high, count in zip(stats.edges[:-1], stats.edges[1:], stats.counts, strict=True):
                rows.append(
                    [
                        statistics.step,
                        statistics.epoch,
                        stats.name,
                        stats.type_name,
                        float(low),
                        float(high),
                        int(count),
                        stats.mean,
                        stats.std,
                        stats.dead_fraction,
                        stats.saturated_fraction,
                    ]
                )
        return header, rows


def _unit_fraction(stats: LayerStats | None) -> float:
    if stats is None:
        return math.nan
    if math.isfinite(stats.dead_fraction):
        return stats.dead_fraction
    return stats.saturated_fraction


def _layer_title(stats: LayerStats) -> str:
    extra = ""
    if math.isfinite(stats.dead_fraction):
        extra = f" · dead {stats.dead_fraction:.0%}"
    elif math.isfinite(stats.saturated_fraction):
        extra = f" · saturated {stats.saturated_fraction:.0%}"
    return f"{stats.name}{extra}"


def _worst(statistics: LayerStatistics) -> str:
    dead = [(s.dead_fraction, s.name) for s in statistics.layers if math.isfinite(s.dead_fraction)]
    saturated = [
        (s.saturated_fraction, s.name) for s in statistics.layers if math.isfinite(s.saturated_fraction)
    ]
    parts = []
    if dead:
        value, name = max(dead)
        parts.append(f"most dead ReLU units: <b>{value:.0%}</b> in {name}")
    if saturated:
        value, name = max(saturated)
        parts.append(f"most saturated outputs: <b>{value:.0%}</b> in {name}")
    mean = np.mean([s.std for s in statistics.layers]) if statistics.layers else math.nan
    if not parts and math.isfinite(mean):
        parts.append(f"mean spread (std) of the outputs: {mean:.3g}")
    shown = f"Iteration {statistics.step:,}"  # always: which iteration the plots show
    return f"{shown}: {'; '.join(parts)}" if parts else shown
