"""The optimizer playground's plots: a 2D function as a shaded contour map with its minima, a start point,
optimizer trajectories revealed step by step, and on request its gradient field.

:class:`FunctionPlot` draws into one ``pg.PlotItem``: the overlay is one, and :class:`SmallMultiples` holds one
per optimizer (the book's figure 6-8). Each optimizer has a fixed colour from a colour-blind-safe palette; the
same optimizer at further learning rates takes darker and lighter shades of it, with dashed and dotted lines.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QPen, QResizeEvent
from PySide6.QtWidgets import QGraphicsItem, QWidget

from dllab.testfns import Function2D
from ui.common import theme
from ui.common.plotting import pg
from ui.playground.contours import ContourField, field_for_view, reference_field
from ui.playground.gradient_field import GradientField
from ui.playground.runs import Run

#: One colour per optimizer, from the Okabe-Ito palette (distinguishable with every common colour-vision
#: deficiency); its yellow is darkened a little to show on the light plot background, and its black stands
#: for "the text colour", so that it stays visible on a dark theme.
OPTIMIZER_COLORS: dict[str, str] = {
    "sgd": "#D55E00",
    "momentum": "#0072B2",
    "nesterov": "#56B4E9",
    "adagrad": "#009E73",
    "rmsprop": "#CC79A7",
    "adadelta": "#E6C700",
    "adam": "#E69F00",
    "adamw": "#000000",
}

#: Points farther out than this many plot windows are pulled in before drawing (a diverging run reaches
#: 1e300, which Qt cannot paint); the data inside the box is drawn exactly.
_DRAW_BOX = 50.0
#: Trajectories longer than this many shown points are drawn without a symbol on every point.
_SYMBOL_LIMIT = 300


def optimizer_color(name: str) -> QColor:
    """The colour of an optimizer's trajectory, legend entry and results row."""
    color = OPTIMIZER_COLORS.get(name, "#7f7f7f")
    if color == "#000000":
        return QColor(theme.colors().text)
    return QColor(color)


#: Lines of an optimizer's further learning rates (variants 1, 2, ...; the first run is solid).
_VARIANT_LINES = (Qt.PenStyle.DashLine, Qt.PenStyle.DotLine, Qt.PenStyle.DashDotLine)


def run_color(run: Run) -> QColor:
    """The colour of a run: its optimizer's, or for a further learning rate a shade of it, mixed with the
    text colour (variants 1, 3, ...: more contrast) or with the plot's background (2, 4, ...)."""
    color = optimizer_color(run.name)
    if run.variant == 0:
        return color
    colors = theme.colors()
    toward = colors.text if run.variant % 2 else colors.plot_background
    mix = min(0.3 + 0.15 * ((run.variant - 1) // 2), 0.6)
    ours, theirs = color.getRgbF()[:3], QColor(toward).getRgbF()[:3]
    return QColor.fromRgbF(*(a + (b - a) * mix for a, b in zip(ours, theirs, strict=True)))


def run_pen(run: Run, width: float = 2.2) -> QPen:
    """The line of a run's trajectory: solid, or dashed / dotted for an optimizer's further learning rates."""
    pen = pg.mkPen(run_color(run), width=width)
    if run.variant:
        pen.setStyle(_VARIANT_LINES[(run.variant - 1) % len(_VARIANT_LINES)])
    return pen


def _shade_colormap(dark: bool) -> pg.ColorMap:
    """A quiet two-tone ramp (low = light) that leaves the bright trajectory colours to stand out."""
    if dark:
        stops = ["#1d2126", "#283039", "#36414e", "#465567"]
    else:
        stops = ["#fdfdfe", "#eef1f6", "#dbe1ea", "#c3ccd9"]
    return pg.ColorMap(np.linspace(0.0, 1.0, len(stops)), [QColor(s) for s in stops])


def _draw_positions(points: np.ndarray, rect: QRectF) -> np.ndarray:
    """``points`` with those far outside ``rect`` pulled in towards its centre, each along its own direction
    from the centre, so that a path that flies off along a line is still drawn along that line (for painting
    only)."""
    centre = np.array([rect.center().x(), rect.center().y()])
    half = np.array([(0.5 + _DRAW_BOX) * rect.width(), (0.5 + _DRAW_BOX) * rect.height()])
    offset = points - centre
    ratio = np.max(np.abs(offset) / half, axis=1)
    if np.all(ratio <= 1.0):
        return points
    return centre + offset / np.maximum(ratio, 1.0)[:, None]


# ----------------------------------------------------------------------------------------------------------
# The plot
# ----------------------------------------------------------------------------------------------------------


class FunctionPlot:
    """A function's contour map with minima, start point and trajectories, inside one ``pg.PlotItem``.

    Parameters
    ----------
    plot : pyqtgraph.PlotItem
        The plot to draw into (from a ``PlotWidget`` or a ``GraphicsLayoutWidget``).
    legend : bool
        Whether to show a legend (the overlay has one; small multiples use titles).
    """

    def __init__(self, plot: pg.PlotItem, *, legend: bool) -> None:
        self.plot = plot
        self.function: Function2D | None = None
        self.field: ContourField | None = None
        self._shown_field: ContourField | None = None
        self.runs: list[Run] = []
        self.curves: dict[str, pg.PlotDataItem] = {}
        self._frame = 0
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setAspectLocked(True, ratio=1.0)
        plot.getViewBox().disableAutoRange()
        plot.setLabel("bottom", "x")
        plot.setLabel("left", "y")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setZValue(-20)
        self.contours = pg.PlotCurveItem(connect="pairs", antialias=True)
        self.contours.setZValue(-10)
        # Tens of thousands of segments: paint them once into a pixmap, not again for every animation frame.
        self.contours.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.minima = pg.ScatterPlotItem(symbol="star", size=15)
        self.minima.setZValue(20)
        self.start = pg.ScatterPlotItem(symbol="o", size=11)
        self.start.setZValue(21)
        self.heads = pg.ScatterPlotItem()
        self.heads.setZValue(15)
        for item in (self.image, self.contours, self.heads, self.start, self.minima):
            plot.addItem(item)
        self.gradient_field = GradientField(plot)
        self.legend = plot.addLegend(offset=(-8, 8), labelTextSize="9pt", verSpacing=-4) if legend else None
        self._minima_label = ""
        self._resample_timer = QTimer(plot)
        self._resample_timer.setSingleShot(True)
        self._resample_timer.setInterval(60)
        self._resample_timer.timeout.connect(self._on_resample_timer_timeout)
        plot.getViewBox().sigRangeChanged.connect(self._on_view_range_changed)
        self.restyle()

    # -- content -------------------------------------------------------------------------------------------

    def set_function(self, fn: Function2D) -> None:
        """Show ``fn``'s contour map and minima and frame its plotting window."""
        self.function = fn
        self.field = reference_field(fn.name)
        self.reset_view()
        self._show_field(self.field)
        self.gradient_field.update(fn)
        self.request_resample()
        mx = [m[0] for m in fn.minima]
        my = [m[1] for m in fn.minima]
        self.minima.setData(mx, my)
        self._minima_label = "" if not fn.minima else "Minimum" if len(fn.minima) == 1 else "Minima"
        self._fill_legend()

    def reset_view(self) -> None:
        """Frame the function's plotting window."""
        if self.field is not None:
            self.plot.getViewBox().setRange(rect=self.field.rect, padding=0.0)

    def _show_field(self, field: ContourField) -> None:
        self._shown_field = field
        self.image.setImage(field.shade, autoLevels=False, levels=field.shade_limits)
        self.image.setRect(field.rect)
        self._show_lines()

    def _show_lines(self) -> None:
        """The contour segments of the shown field that touch the visible window (plus a margin): fewer to
        paint, and a cached picture no larger than the plot."""
        lines = self._shown_field.lines if self._shown_field is not None else np.empty((0, 2))
        view = self.plot.getViewBox().viewRect()
        mx, my = 0.05 * view.width(), 0.05 * view.height()
        pairs = lines.reshape(-1, 2, 2)
        inside = (
            (pairs[:, :, 0] >= view.left() - mx)
            & (pairs[:, :, 0] <= view.right() + mx)
            & (pairs[:, :, 1] >= view.top() - my)
            & (pairs[:, :, 1] <= view.bottom() + my)
        ).any(axis=1)
        visible = pairs[inside].reshape(-1, 2)
        self.contours.setData(visible[:, 0], visible[:, 1])

    def _on_view_range_changed(self) -> None:
        self.request_resample()

    def request_resample(self) -> None:
        """Fit the contour map to the visible window soon (after pans and zooms settle)."""
        self._resample_timer.start()

    def _on_resample_timer_timeout(self) -> None:
        scene = self.plot.scene()
        on_screen = scene is not None and any(view.isVisible() for view in scene.views())
        if self.function is None or not on_screen:
            return
        field = field_for_view(self.function.name, self.plot.getViewBox().viewRect())
        if field is not self._shown_field:
            self._show_field(field)
        else:
            self._show_lines()
        self.gradient_field.update(self.function)

    def set_gradient_field(self, on: bool) -> None:
        """Draw the arrows of −∇f over the contours, or not."""
        self.gradient_field.set_shown(on, self.function)

    def set_start(self, x: float, y: float) -> None:
        """Move the start marker."""
        self.start.setData([x], [y])

    def set_runs(self, runs: list[Run]) -> None:
        """Replace the trajectories (each in its optimizer's colour); shows the frame set last."""
        for curve in self.curves.values():
            self.plot.removeItem(curve)
        self.curves = {}
        self.runs = list(runs)
        for z, run in enumerate(self.runs):
            color = run_color(run)
            curve = pg.PlotDataItem(
                pen=run_pen(run),
                symbol="o",
                symbolSize=6,
                symbolBrush=color,
                symbolPen=pg.mkPen(color.darker(150), width=0.8),
                antialias=True,
            )
            curve.setZValue(z)
            self.plot.addItem(curve)
            self.curves[run.key] = curve
        self._fill_legend()
        self.show_frame(self._frame)

    def _fill_legend(self) -> None:
        """Optimizers in run order, then the start point and the minima."""
        if self.legend is None:
            return
        self.legend.clear()
        for run in self.runs:
            self.legend.addItem(self.curves[run.key], run.title)
        self.legend.addItem(self.start, "Start")
        if self._minima_label:
            self.legend.addItem(self.minima, self._minima_label)

    def show_frame(self, frame: int) -> None:
        """Show every trajectory up to step ``frame`` (or its last point when it ended earlier)."""
        self._frame = frame
        rect = self.field.rect if self.field is not None else QRectF(-1, -1, 2, 2)
        spots = []
        for run in self.runs:
            positions = run.trajectory.positions
            shown = positions[: min(frame, run.trajectory.steps_taken) + 1]
            drawn = _draw_positions(shown, rect)
            curve = self.curves[run.key]
            curve.setData(drawn[:, 0], drawn[:, 1])
            curve.setSymbol("o" if len(shown) <= _SYMBOL_LIMIT else None)
            color = run_color(run)
            ended = run.trajectory.diverged and frame >= run.trajectory.steps_taken + 1
            spots.append(
                {
                    "pos": tuple(drawn[-1]),
                    "symbol": "x" if ended else "o",
                    "size": 16 if ended else 11,
                    "brush": pg.mkBrush(color),
                    "pen": pg.mkPen(theme.colors().plot_background, width=1.6),
                }
            )
        self.heads.setData(spots)

    # -- look ----------------------------------------------------------------------------------------------

    def restyle(self) -> None:
        """Take the colours of the current palette (light or dark)."""
        colors = theme.colors()
        background = colors.plot_background
        for name in ("left", "bottom", "top", "right"):
            axis = self.plot.getAxis(name)
            axis.setPen(pg.mkPen(colors.card_border))
            axis.setTextPen(pg.mkPen(colors.secondary_text))
        self.plot.getAxis("left").setLabel("y", color=colors.secondary_text.name())
        self.plot.getAxis("bottom").setLabel("x", color=colors.secondary_text.name())
        self.image.setColorMap(_shade_colormap(colors.dark))
        line = QColor(colors.text)
        line.setAlphaF(0.22 if colors.dark else 0.18)
        self.contours.setPen(pg.mkPen(line, width=1.0))
        text = colors.text
        self.minima.setBrush(pg.mkBrush(background))
        self.minima.setPen(pg.mkPen(text, width=1.6))
        self.start.setBrush(pg.mkBrush(text))
        self.start.setPen(pg.mkPen(background, width=2.0))
        if self.legend is not None:
            fill = QColor(background)
            fill.setAlphaF(0.88)
            self.legend.setBrush(pg.mkBrush(fill))
            self.legend.setPen(pg.mkPen(colors.card_border))
            self.legend.setLabelTextColor(colors.text)
        for run in self.runs:
            color = run_color(run)
            curve = self.curves[run.key]
            curve.setPen(run_pen(run))
            curve.setSymbolBrush(color)
            curve.setSymbolPen(pg.mkPen(color.darker(150), width=0.8))
        self.gradient_field.restyle()
        self.show_frame(self._frame)


class SmallMultiples(pg.GraphicsLayoutWidget):
    """One :class:`FunctionPlot` per run, titled with the optimizer and its learning rate, in as many columns
    as give the function's window the largest panels; panning or zooming one panel moves them all.

    A panel is created the first time its optimizer is shown and then kept, so switching optimizers on and
    off moves panels in and out of the grid instead of rebuilding them.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ci.setSpacing(10)
        self.function: Function2D | None = None
        self.start_point = (0.0, 0.0)
        self.gradient_field = False
        self.panels: dict[str, FunctionPlot] = {}
        self.shown: list[FunctionPlot] = []
        self._names: list[str] = []
        self._columns = 1

    def set_function(self, fn: Function2D) -> None:
        """Show ``fn`` in every panel."""
        self.function = fn
        for panel in self.panels.values():
            panel.set_function(fn)

    def set_start(self, x: float, y: float) -> None:
        """Move the start marker of every panel."""
        self.start_point = (x, y)
        for panel in self.panels.values():
            panel.set_start(x, y)

    def set_gradient_field(self, on: bool) -> None:
        """Draw the arrows of −∇f in every panel, or not."""
        self.gradient_field = on
        for panel in self.panels.values():
            panel.set_gradient_field(on)

    def set_runs(self, runs: list[Run]) -> None:
        """One panel per run, in the runs' order."""
        names = [run.key for run in runs]
        if names != self._names:
            self.shown = [self._panel(name) for name in names]
            self._names = names
            self._arrange()
        for panel, run in zip(self.shown, runs, strict=True):
            panel.set_runs([run])
            lr = run.setting.hyperparameters.get("lr")
            title = run.setting.title + (f"  (lr {lr:g})" if lr is not None else "")
            panel.plot.setTitle(title, color=run_color(run).name(), size="10pt", bold=True)

    def columns(self) -> int:
        """The number of columns that gives the function's window the largest panels at the current size."""
        n = len(self.shown)
        if n == 0:
            return 1
        if self.function is None:
            return math.ceil(math.sqrt(n))
        (x0, x1), (y0, y1) = self.function.x_range, self.function.y_range
        aspect = (x1 - x0) / (y1 - y0)
        width, height = max(self.width(), 1), max(self.height(), 1)

        def scale(columns: int) -> float:
            rows = math.ceil(n / columns)
            return min(width / columns / aspect, height / rows)

        return max(range(1, n + 1), key=lambda c: (scale(c), -c))

    def _arrange(self) -> None:
        for item in list(self.ci.items):
            self.ci.removeItem(item)
        self._columns = columns = self.columns()
        for k, panel in enumerate(self.shown):
            self.ci.addItem(panel.plot, row=k // columns, col=k % columns)
            panel.reset_view()

    def resizeEvent(self, event: QResizeEvent | None) -> None:
        super().resizeEvent(event)
        # pyqtgraph calls this from the base constructor, before the panels exist.
        if getattr(self, "shown", None) and self.columns() != self._columns:
            self._arrange()

    def restyle(self) -> None:
        """Take the colours of the current palette."""
        self.setBackground(theme.colors().plot_background)
        for panel in self.panels.values():
            panel.restyle()
        for panel in self.shown:
            run = panel.runs[0]
            title = panel.plot.titleLabel.text
            panel.plot.setTitle(title, color=run_color(run).name(), size="10pt", bold=True)

    def _panel(self, name: str) -> FunctionPlot:
        panel = self.panels.get(name)
        if panel is None:
            panel = FunctionPlot(pg.PlotItem(), legend=False)
            if self.function is not None:
                panel.set_function(self.function)
            panel.set_start(*self.start_point)
            panel.set_gradient_field(self.gradient_field)
            box = panel.plot.getViewBox()
            # Not setXLink/setYLink: linked axes with locked aspect ratios negotiate a range that no longer
            # frames the function's window.
            box.sigRangeChangedManually.connect(lambda _mask, box=box: self._on_panel_range_changed(box))
            self.panels[name] = panel
        return panel

    def _on_panel_range_changed(self, source: pg.ViewBox) -> None:
        rect = source.viewRect()
        for panel in self.shown:
            box = panel.plot.getViewBox()
            if box is not source:
                box.setRange(rect=rect, padding=0.0)
