"""How the initial weights shape the activations of a deep network: the book's section 6.2.2 (figures 6-10 to
6-14), computed instantly, with no training.

A batch of standard normal inputs goes through five layers of 100 units (a Dense layer, biases zero, then the
activation); each histogram shows one activation layer's outputs. The grid has a row per activation and a column
per initialiser, and in each panel the layers side by side, first to last, with each layer's standard deviation
(σ) above it. What to look for: sigmoid with std 1 piles its outputs up at 0 and 1, where the gradient vanishes;
std 0.01 squeezes them all near 0.5; Xavier keeps a broad spread for sigmoid and tanh, He for ReLU.

The numbers come from :func:`dllab.experiments.distributions.distribution_grid`: real dllab models built from a spec and run
forward, on the GUI thread (it takes milliseconds).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtGui import QFont, QShowEvent
from PySide6.QtWidgets import QWidget

from dllab.experiments.distributions import (
    ACTIVATIONS,
    BOOK_ACTIVATIONS,
    BOOK_INITS,
    DEFAULT_RANGES,
    LayerDistribution,
    distribution_grid,
)
from ui.common import theme
from ui.common.histogram_plots import histogram_item, set_histogram
from ui.common.plotting import pg
from ui.common.view import series_color, static_plot, style_plot
from ui.common.widgets import hint_label
from ui.experiments.compare_controls import CHOICES, ChoiceList, choice_text
from ui.experiments.runner import SidebarView, collect_garbage, spin_box
from ui.state import AppState

#: Share of each layer's slot left empty on either side, so neighbouring histograms stand apart.
GAP = 0.07
#: The initialisers offered.
INITS: tuple[str | float, ...] = CHOICES["init"]
#: Histogram bins.
BINS = 30
#: Size of the σ labels above the layers.
SIGMA_POINT_SIZE = 8.0

Key = tuple[str, str | float]


def slot_edges(edges: np.ndarray, layer: int, low: float, high: float) -> np.ndarray:
    """Bin edges over ``[low, high]`` mapped into layer ``layer``'s slot ``[layer + GAP, layer + 1 - GAP]``."""
    return layer + GAP + (np.asarray(edges, dtype=np.float64) - low) / (high - low) * (1 - 2 * GAP)


def sigma_text(std: float) -> str:
    """A standard deviation in at most about five characters: ``"0.46"``, ``"0.0039"``, ``"3e2"``, ``"2e-5"``."""
    if not np.isfinite(std):
        return "∞" if std > 0 else "?"
    if std == 0 or 1e-3 <= std < 100:
        return f"{std:.2g}"
    mantissa, exponent = f"{std:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def activation_title(name: str) -> str:
    """The layer type of an activation name: ``"sigmoid"`` → ``"Sigmoid"``."""
    return ACTIVATIONS[name]


class DistributionsView(SidebarView):
    """A grid of activation histograms over activation × initialiser, recomputed as the settings change.

    Parameters
    ----------
    state
        Accepted for symmetry with the other views; the experiment needs no data.
    """

    title = "Activation distributions by initial weights"
    tab_title = "Init"
    export_stem = "activation_distributions"
    hint = (
        "No training: 1,000 standard normal inputs go through deep layers of Dense + activation; each histogram "
        "is one layer's outputs (σ: their standard deviation). The initial weights decide whether the signal "
        "saturates, collapses or keeps its spread (book section 6.2.2)."
    )
    empty_text = "Choose at least one activation and one initialiser in the settings."

    def __init__(self, state: AppState | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.grid: dict[Key, list[LayerDistribution]] = {}
        self.histograms: dict[Key, list[pg.PlotDataItem]] = {}
        self.plots: dict[Key, pg.PlotItem] = {}
        self.sigma_labels: dict[Key, list[pg.TextItem]] = {}
        body = self.sidebar_body

        self.add_section("Activations")
        self.activation_list = ChoiceList(body)
        for name in dict.fromkeys([*BOOK_ACTIVATIONS, *ACTIVATIONS]):  # the book's first, in its order
            self.activation_list.add_choice(name, activation_title(name), name in BOOK_ACTIVATIONS)
        self.sidebar.addWidget(self.activation_list)
        self.add_section("Initial weights")
        self.init_list = ChoiceList(body)
        for init in INITS:
            self.init_list.add_choice(init, choice_text("init", init), init in BOOK_INITS)
        self.sidebar.addWidget(self.init_list)
        self.sidebar.addWidget(
            hint_label(
                "std s: normal with standard deviation s. Xavier: √(1/n), He: √(2/n) for n inputs.", body
            )
        )
        form = self.add_section("Network and inputs")
        self.layers_spin = spin_box(1, 12, 5, "Hidden layers (Dense + activation) in the stack.", body)
        form.addRow("Layers", self.layers_spin)
        self.units_spin = spin_box(2, 2000, 100, "Units per layer; the input has as many features.", body)
        form.addRow("Units", self.units_spin)
        self.samples_spin = spin_box(10, 20_000, 1000, "Standard normal input samples.", body)
        form.addRow("Samples", self.samples_spin)
        self.seed_spin = spin_box(0, 2**31 - 1, 0, "Seeds the inputs and the weights.", body)
        form.addRow("Seed", self.seed_spin)
        self.sidebar.addWidget(
            hint_label(
                "The book: 5 layers of 100 units on 1,000 samples. Every combination sees the same inputs and "
                "the same underlying random weights, only scaled differently.",
                body,
            )
        )
        self.finish_sidebar()

        self.graphics = self.canvas(self)
        self.set_content(self.graphics)
        self._recompute_timer = QTimer(self)
        self._recompute_timer.setSingleShot(True)
        self._recompute_timer.setInterval(0)
        self._recompute_timer.timeout.connect(self._on_recompute_timer_timeout)
        for choices in (self.activation_list, self.init_list):
            choices.changed.connect(self._on_settings_changed)
        for spin in (self.layers_spin, self.units_spin, self.samples_spin, self.seed_spin):
            spin.valueChanged.connect(self._on_settings_changed)
        # Computed when first shown, not with the window: the book's grid takes longer than the window's start.
        self._computed = False

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._computed:
            self.recompute()

    # --- computing ------------------------------------------------------------------------------------------

    def recompute(self) -> None:
        """Compute the grid for the current settings and draw it (at once)."""
        self._computed = True
        activations, inits = self.activation_list.checked(), self.init_list.checked()
        if not activations or not inits:
            self.grid = {}
            self._rebuild()
            self.show_placeholder(self.empty_text)
            self.set_status("")
            return
        self.grid = distribution_grid(
            activations,
            inits,
            layers=self.layers_spin.value(),
            units=self.units_spin.value(),
            samples=self.samples_spin.value(),
            seed=self.seed_spin.value(),
            bins=BINS,
        )
        self._rebuild()
        self.show_content()
        self.set_status(
            f"<b>{len(activations)} × {len(inits)}</b> networks of {self.layers_spin.value()} layers × "
            f"{self.units_spin.value()} units, {self.samples_spin.value():,} standard normal samples each"
        )

    def _rebuild(self) -> None:
        """Draw the grid: new plots when the panels or layers changed, else new data in the same plots."""
        shape = {key: len(layers) for key, layers in self.grid.items()}
        if shape != {key: len(items) for key, items in self.histograms.items()}:
            self._layout_panels()
        for key, layers in self.grid.items():
            low, high = DEFAULT_RANGES[activation_title(key[0])]
            top = max(float(layer.fractions.max()) * 100 for layer in layers) or 1.0
            for k, (layer, item, label) in enumerate(
                zip(layers, self.histograms[key], self.sigma_labels[key], strict=True)
            ):
                set_histogram(item, layer.counts, slot_edges(layer.edges, k, low, high))
                label.setText(f"{'σ ' if k == 0 else ''}{sigma_text(layer.std)}")
                # Two rows, every other layer in the lower one: side by side, the labels of narrow panels overlap.
                label.setPos(k + 0.5, top * (1.36 if k % 2 == 0 else 1.2))
            self.plots[key].setYRange(0, top * 1.4, padding=0)

    def _layout_panels(self) -> None:
        self.graphics.clear()
        collect_garbage()  # the old panels, now, in the GUI thread (a training may be running meanwhile)
        self.plots, self.histograms, self.sigma_labels = {}, {}, {}
        activations = list(dict.fromkeys(a for a, _ in self.grid))
        inits = list(dict.fromkeys(i for _, i in self.grid))
        colors = theme.colors()
        for (activation, init), layers in self.grid.items():
            row, col = activations.index(activation), inits.index(init)
            plot = static_plot(self.graphics, row, col)
            plot.getAxis("left").setWidth(36)
            low, high = DEFAULT_RANGES[activation_title(activation)]
            style_plot(
                plot,
                title=f"{activation_title(activation)} · {choice_text('init', init)}",
                left="share (%)" if col == 0 else "",
                bottom=f"layer (each {low:g} to {high:g})",
            )
            plot.getAxis("bottom").setTicks([[(k + 0.5, str(k + 1)) for k in range(len(layers))], []])
            for k in range(1, len(layers)):
                plot.addItem(
                    pg.InfiniteLine(k, angle=90, pen=pg.mkPen(colors.card_border, width=1)), ignoreBounds=True
                )
            color = series_color(row)
            self.histograms[activation, init] = [histogram_item(plot, color) for _ in layers]
            labels = []
            font = QFont()
            font.setPointSizeF(SIGMA_POINT_SIZE)
            for _ in layers:
                label = pg.TextItem("", color=colors.secondary_text, anchor=(0.5, 0))
                label.setFont(font)
                plot.addItem(label)
                labels.append(label)
            self.sigma_labels[activation, init] = labels
            plot.setXRange(0, len(layers), padding=0.01)
            self.plots[activation, init] = plot

    def restyle(self) -> None:
        self.graphics.setBackground(theme.colors().plot_background)
        if self.grid:
            # New panels in the new colours, once the palette change has gone through every widget: deleting
            # plot items while Qt is still delivering it crashes.
            QTimer.singleShot(0, self._redraw_panels)

    def _redraw_panels(self) -> None:
        self.histograms = {}
        self._rebuild()

    # --- slots ----------------------------------------------------------------------------------------------

    def _on_settings_changed(self, *args: Any) -> None:
        self._recompute_timer.start()

    def _on_recompute_timer_timeout(self) -> None:
        self.recompute()

    # --- export ---------------------------------------------------------------------------------------------

    def csv_table(self) -> tuple[list[str], list[list[Any]]]:
        """Every histogram bin: activation, initialiser, layer, bin edges, count, share, and the layer's mean
        and standard deviation."""
        header = [
            "activation",
            "init",
            "layer",
            "bin_low",
            "bin_high",
            "count",
            "share",
            "layer_mean",
            "layer_std",
        ]
        rows: list[list[Any]] = []
        for (activation, init), layers in self.grid.items():
            for layer in layers:
                for low, high, count, share in zip(
                    layer.edges[:-1], layer.edges[1:], layer.counts, layer.fractions, strict=True
                ):
                    rows.append(
                        [
                            activation_title(activation),
                            init,
                            layer.layer,
                            float(low),
                            float(high),
                            int(count),
                            float(share),
                            layer.mean,
                            layer.std,
                        ]
                    )
        return header, rows
