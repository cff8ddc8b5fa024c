"""What the histogram views (activations, weights and gradients) share: :class:`HistogramGridView`, their base,
which keeps the run's layer statistics and a slider that looks back in time over them, and builds a grid of
small histogram plots when due; and the small plots, drawn as pyqtgraph's ``histogram`` example does
(``stepMode="center"`` with the bin edges), with axes that keep steady round ranges."""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np
from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QColor, QResizeEvent, QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QSlider, QVBoxLayout, QWidget

from dllab.trainer import LayerStatistics
from ui.common.plotting import pg
from ui.common.series import History
from ui.common.view import TrainingView, set_title, static_plot, style_plot

#: Title size of the small plots.
SMALL_TITLE = "8.5pt"


#: The longest text of the slider's label that it must show whole.
LABEL_TEMPLATE = "iteration 000,000 · live"


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
        # Wide enough for any step it names, once: the slider gives way, the text is never cut off, and a
        # longer number does not lay the row out again.
        self.label.ensurePolished()
        self.label.setMinimumWidth(self.label.fontMetrics().horizontalAdvance(LABEL_TEMPLATE) + 4)
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
        self.label.setText(f"iteration {statistics.step:,}{live}")
        self.label.setToolTip(f"Iteration {statistics.step:,}, epoch {statistics.epoch}")

    def _on_slider_value_changed(self, value: int) -> None:
        self.position_changed.emit(value)


#: The edges and counts of a histogram with nothing to show yet.
EMPTY_HISTOGRAM = ([0.0, 1.0], [0.0])


def histogram_item(plot: pg.PlotItem, color: QColor) -> pg.PlotDataItem:
    """A filled step histogram in ``plot``, without antialiasing (its edges are horizontal and vertical, and
    painting is a third cheaper)."""
    fill = QColor(color)
    fill.setAlpha(110)
    return plot.plot(
        *EMPTY_HISTOGRAM,
        stepMode="center",
        fillLevel=0,
        fillOutline=True,
        brush=pg.mkBrush(fill),
        pen=pg.mkPen(color, width=1.2),
        antialias=False,
    )


def set_histogram(item: pg.PlotDataItem, counts: np.ndarray, edges: np.ndarray) -> None:
    """Show ``counts`` over ``edges`` as the share of values in each bin (%), under a steady top of the y axis
    (:func:`set_y_top`)."""
    total = max(int(np.sum(counts)), 1)
    shares = np.asarray(counts, dtype=np.float64) * (100.0 / total)
    item.setData(np.asarray(edges, dtype=np.float64), shares)
    view = item.getViewBox()
    if view is not None:
        set_y_top(view, float(shares.max()) if shares.size else 0.0)


#: The round values (times a power of ten) that the top of a histogram's y axis takes.
ROUND_STEPS = (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)


def nice_ceiling(value: float) -> float:
    """The smallest round value (:data:`ROUND_STEPS` times a power of ten) at least ``value``; 1 for nothing."""
    if not math.isfinite(value) or value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    return next(m * power for m in ROUND_STEPS if m * power >= value * (1 - 1e-9))


def set_y_top(view: pg.ViewBox, peak: float) -> None:
    """Let the y axis run from 0 to a round value above ``peak``, changed only when the peak outgrows it or
    falls below 40 % of it: axes whose range changes are laid out and painted anew, the costliest part of
    drawing a histogram, and a steady axis reads better while the bars move."""
    top = getattr(view, "_shown_top", None)
    if top is None or peak > top or peak < 0.4 * top:
        top = min(nice_ceiling(peak * 1.1), 100.0) if peak <= 100.0 else nice_ceiling(peak)  # shares in %
        view._shown_top = top  # type: ignore[attr-defined]
        view.setYRange(0.0, top, padding=0.0)


def round_span(low: float, high: float) -> tuple[float, float]:
    """A steady, round x range around ``low`` to ``high``: symmetric about 0 (``±`` a :func:`nice_ceiling`)
    when the values have both signs, as weights and gradients do; else from 0 to a round bound."""
    if low < 0.0 < high:
        bound = nice_ceiling(max(-low, high))
        return -bound, bound
    if low >= 0.0:
        return 0.0, nice_ceiling(high)
    return -nice_ceiling(-low), 0.0


def set_x_range(plot: pg.PlotItem, edges: np.ndarray) -> None:
    """Show the bins ``edges`` cover within a :func:`round_span`, changed only when they leave the range shown
    or the round span they need is less than half as wide (a range change lays out and paints the axis
    anew)."""
    low, high = float(edges[0]), float(edges[-1])
    target = round_span(low, high)
    shown = getattr(plot, "_shown_span", None)
    if (
        shown is not None
        and shown[0] <= low
        and high <= shown[1]
        and target[1] - target[0] >= 0.5 * (shown[1] - shown[0])
    ):
        return
    plot._shown_span = target  # type: ignore[attr-defined]
    plot.setXRange(*target, padding=0.0)


def decade_span(logs: np.ndarray) -> tuple[int, int] | None:
    """The whole decades (powers of ten) that log10 values span, at least one; None for no finite value."""
    finite = logs[np.isfinite(logs)]
    if not finite.size:
        return None
    first, last = math.floor(float(finite.min())), math.ceil(float(finite.max()))
    return first, max(last, first + 1)


def set_iterations(plot: pg.PlotItem, last: float) -> None:
    """Let the x axis run from 0 to a round number of iterations at least ``last`` (changed only when the run
    outgrows it)."""
    top = nice_ceiling(last)
    if getattr(plot, "_shown_iterations", None) != top:
        plot._shown_iterations = top  # type: ignore[attr-defined]
        plot.setXRange(0.0, top, padding=0)


def hide_plots(layout: pg.GraphicsLayout) -> None:
    """Hide every plot of ``layout`` and of the layouts in it; they keep their place in the grid, so showing
    one lays nothing out again."""
    for item in list(layout.items):
        if isinstance(item, pg.GraphicsLayout):
            hide_plots(item)
        elif isinstance(item, pg.PlotItem):
            policy = item.sizePolicy()
            policy.setRetainSizeWhenHidden(True)
            item.setSizePolicy(policy)
            item.hide()


def reveal(plot: pg.PlotItem) -> None:
    """Show ``plot`` if :func:`hide_plots` hid it."""
    if not plot.isVisible():
        plot.show()


def small_plot(
    canvas: pg.GraphicsLayoutWidget, row: int, col: int, *, title: str, left: str = ""
) -> pg.PlotItem:
    """A compact plot for one histogram."""
    plot = static_plot(canvas, row, col)
    plot.getAxis("left").setWidth(34)
    style_plot(plot, left=left)
    set_title(plot, title, SMALL_TITLE)
    return plot


class HistogramGridView(TrainingView):
    """Base of the views that draw a grid of small histograms from the run's layer statistics.

    It keeps every :class:`~dllab.trainer.LayerStatistics` of the run (:attr:`history`, bounded), draws the one
    the :attr:`slider` points at (the newest while it is live), and builds the plots anew, a few at a time,
    when they are due: for a new run of other layers, when the view's width fits another number of columns,
    after a theme change (a new run of the same layers draws on the plots it has, which the run's first
    statistics show again). Subclasses make their content with :meth:`set_grid_content`, and say how many small
    plots there are (:meth:`plot_count`) and for what (:meth:`layout_key`), how to build them
    (:meth:`build_plots`, yielding after each), which of them are histograms (:meth:`histogram_items`) and how
    to draw a snapshot (:meth:`draw`).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.history: History[LayerStatistics] = History()
        self.slider: HistorySlider | None = None
        #: The columns of the grid built last.
        self.columns = 0
        self._needs_build = False
        #: The :meth:`layout_key` of the plots built last (None: none built).
        self._built_for: Hashable | None = None

    def set_grid_content(self, *controls: QWidget) -> None:
        """Make the view's content: a row of ``controls``, the slider over the history (:attr:`slider`) below
        them, and one plot canvas for the grid (:attr:`graphics`)."""
        host = QWidget(self)
        rows = QVBoxLayout()
        rows.setContentsMargins(12, 0, 12, 0)
        rows.setSpacing(4)
        if controls:  # the controls on a row of their own: the slider below gets the whole width
            row = QHBoxLayout()
            row.setSpacing(8)
            for widget in controls:
                row.addWidget(widget)
            row.addStretch(1)
            rows.addLayout(row)
        self.slider = HistorySlider(host)
        self.slider.position_changed.connect(self._on_slider_position_changed)
        rows.addWidget(self.slider)
        self.graphics = self.canvas(host)
        self.set_content_below(rows, self.graphics, host)

    # --- to implement ---------------------------------------------------------------------------------------

    def plot_count(self) -> int:
        """How many small plots the grid has (0: nothing to build)."""
        raise NotImplementedError

    def layout_key(self) -> Hashable:
        """What the plots are built for (the layers shown): a new run with the same key keeps them."""
        raise NotImplementedError

    def build_plots(self) -> Iterator[None]:
        """Create the plots, yielding after each (see :meth:`TrainingView.build_in_steps`)."""
        raise NotImplementedError

    def histogram_items(self) -> Iterable[pg.PlotDataItem]:
        """The histograms of the plots built (emptied when a new run keeps the plots)."""
        raise NotImplementedError

    def draw(self, statistics: LayerStatistics) -> Iterator[None]:
        """Show ``statistics`` (the snapshot the slider points at), yielding after each plot (see
        :meth:`TrainingView.redraw`)."""
        raise NotImplementedError

    def record(self, statistics: LayerStatistics) -> None:
        """Add what a new snapshot brings to the view's series over time (the snapshot itself is already in
        :attr:`history`); nothing by default."""

    # --- the run ------------------------------------------------------------------------------------------------

    def handle_items(self, items: Sequence[Any]) -> None:
        """Keep every snapshot of layer statistics (see :meth:`record`) and redraw if one came."""
        changed = False
        for item in items:
            if isinstance(item, LayerStatistics):
                self.history.append(item)
                self.record(item)
                changed = True
        if changed:
            self.request_redraw()

    # --- building and drawing ---------------------------------------------------------------------------------

    def begin_history(self) -> None:
        """A new run (its layers set): forget the statistics. The plots built for the same layers stay, empty
        and hidden until the run's first statistics draw them (building them took the window 0.2-0.4 s, in slices
        of one plot, each 8-40 ms); for other layers they are built when the view shows."""
        self.history.clear()
        if self.slider is not None:
            self.slider.set_count(0)
        if self._needs_build or self._built_for is None or self.layout_key() != self._built_for:
            self._needs_build = True
            return
        for item in self.histogram_items():
            item.setData(*EMPTY_HISTOGRAM)
        hide_plots(self.graphics.ci)

    def rebuild(self) -> None:
        """Build the plots anew (soon, a few at a time) if there are any."""
        if self.plot_count():
            self._needs_build = True
            self.request_redraw()

    def selected(self) -> LayerStatistics | None:
        """The snapshot the slider points at."""
        if not len(self.history):
            return None
        position = self.slider.position if self.slider is not None else len(self.history) - 1
        return self.history[min(position, len(self.history) - 1)]

    def start_building(self) -> bool:
        """Build the plots for this run now (a few at a time) if they are due and the view is visible."""
        if self._needs_build and (self.isVisible() or self.flushing):
            self._needs_build = False
            self._built_for = self.layout_key()
            self.build_in_steps(self._build_hidden())
            return True
        return False

    def _build_hidden(self) -> Iterator[None]:
        """Build the plots hidden: :meth:`draw` shows each as it first draws it (with :func:`reveal`), so
        their first paints, the costliest (every axis is laid out), spread over several turns of the event
        loop instead of all at once."""
        yield from self.build_plots()
        hide_plots(self.graphics.ci)

    def redraw(self) -> Iterator[None] | None:
        if self._needs_build:
            self.start_building()
            return None
        if self.slider is not None:
            self.slider.set_count(len(self.history))  # here, not per snapshot: a slider repaint is not free
        statistics = self.selected()  # the newest when the slider is live (it just moved there)
        if self.slider is not None:
            self.slider.describe(statistics)
        return self.draw(statistics) if statistics is not None else None

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.start_building()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        count = self.plot_count()
        if count and self.fitting_columns(count) != self.columns:
            self.rebuild()

    def restyle(self) -> None:
        self.rebuild()

    def _on_slider_position_changed(self, index: int) -> None:
        self.request_redraw()
