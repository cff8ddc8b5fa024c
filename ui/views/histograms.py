"""Parts of the histogram views (activations, weights and gradients): a slider that looks back in time over the
layer statistics of a run, and small histogram plots drawn as pyqtgraph's ``histogram`` example does
(``stepMode="center"`` with the bin edges)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QSlider, QWidget

from dllab.trainer import LayerStatistics
from ui.views.base import set_title, style_plot

#: Title size of the small plots.
SMALL_TITLE = "8.5pt"


class HistorySlider(QWidget):
    """Picks one of the recorded snapshots; at the right end it follows the run live."""

    position_changed = Signal(int)
    """The index of the snapshot to show (the newest is ``count - 1``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setRange(0, 0)
        self.slider.setToolTip(
            "Look back in time: drag left to see earlier statistics; at the right end it is live."
        )
        self.slider.valueChanged.connect(self._on_slider_value_changed)
        self.label = QLabel("", self)
        self.label.setObjectName("hint")
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(QLabel("Time", self))
        layout.addWidget(self.slider, 2)
        layout.addWidget(self.label, 3)

    @property
    def live(self) -> bool:
        """Whether the newest snapshot is shown (and new ones will be)."""
        return self.slider.value() == self.slider.maximum()

    @property
    def position(self) -> int:
        """Index of the chosen snapshot."""
        return self.slider.value()

    def set_count(self, count: int) -> None:
        """There are ``count`` snapshots now; a live slider moves to the newest."""
        live = self.live
        with QSignalBlocker(self.slider):
            self.slider.setMaximum(max(count - 1, 0))
            if live:
                self.slider.setValue(self.slider.maximum())

    def set_position(self, index: int) -> None:
        """Show snapshot ``index``."""
        self.slider.setValue(index)

    def describe(self, statistics: LayerStatistics | None) -> None:
        """Say which iteration the chosen snapshot is from."""
        if statistics is None:
            self.label.setText("")
            return
        live = " · live" if self.live else ""
        self.label.setText(f"iteration {statistics.step:,} (epoch {statistics.epoch}){live}")

    def _on_slider_value_changed(self, value: int) -> None:
        self.position_changed.emit(value)


def histogram_item(plot: pg.PlotItem, color: QColor) -> pg.PlotDataItem:
    """A filled step histogram in ``plot``."""
    fill = QColor(color)
    fill.setAlpha(110)
    return plot.plot(
        [0.0, 1.0],
        [0.0],
        stepMode="center",
        fillLevel=0,
        fillOutline=True,
        brush=pg.mkBrush(fill),
        pen=pg.mkPen(color, width=1.2),
    )


def set_histogram(item: pg.PlotDataItem, counts: np.ndarray, edges: np.ndarray) -> None:
    """Show ``counts`` over ``edges`` as the share of values in each bin (%)."""
    total = max(int(np.sum(counts)), 1)
    item.setData(np.asarray(edges, dtype=np.float64), np.asarray(counts, dtype=np.float64) * (100.0 / total))


def set_x_range(plot: pg.PlotItem, edges: np.ndarray) -> None:
    """Show the bins ``edges`` cover, only when they changed (a range change redraws the axis)."""
    span = (float(edges[0]), float(edges[-1]))
    if getattr(plot, "_shown_span", None) != span:
        plot._shown_span = span  # type: ignore[attr-defined]
        plot.setXRange(*span, padding=0.02)


def small_plot(
    canvas: pg.GraphicsLayoutWidget, row: int, col: int, *, title: str, left: str = ""
) -> pg.PlotItem:
    """A compact plot for one histogram."""
    plot: pg.PlotItem = canvas.addPlot(row=row, col=col, enableMenu=False)
    plot.setMouseEnabled(x=False, y=False)
    plot.hideButtons()
    for name in ("left", "bottom"):
        plot.getAxis(name).enableAutoSIPrefix(False)
    plot.getAxis("left").setWidth(34)
    style_plot(plot, left=left)
    set_title(plot, title, SMALL_TITLE)
    return plot
