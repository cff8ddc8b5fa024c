"""The derivative of a function of one variable: its curve, its tangent at a chosen x (the book's figure 4-7),
and the numerical derivative against the analytic one.

The slope is the book's centred difference (:func:`dllab.numerical.tangent_line`); beside it are the exact
derivative, their difference, and the forward difference ``(f(x + h) − f(x)) / h`` the book warns against.
``h`` goes down to 1e-60, so that the book's other warning can be tried: at ``h = 1e-50``, ``x ± h`` rounds to
``x`` and the numerical derivative is 0. Click the plot to move the point of contact.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from dllab import testfns
from dllab.numerical import DEFAULT_H, tangent_line
from dllab.testfns import Function1D
from ui.common import theme
from ui.common.flow_layout import FlowLayout
from ui.common.plotting import pg
from ui.common.widgets import FloatSpinBox, hint_label
from ui.playground.gradient_check import exact_text

#: Samples of the curve across the plotting window.
SAMPLES = 400
#: The smallest step offered: small enough to show rounding wipe out the difference quotient.
SMALLEST_H = 1e-60
#: The colour of the tangent (the playground's SGD vermillion).
TANGENT_COLOR = "#D55E00"


class TangentView(QWidget):
    """A function of one variable with its tangent at ``x``, and its derivative estimated three ways.

    Signals
    -------
    changed()
        The function, ``x`` or ``h`` changed and the tangent was redrawn.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.slope = 0.0
        self.intercept = 0.0
        self.function_combo = QComboBox(self)
        for fn in testfns.FUNCTIONS_1D.values():
            self.function_combo.addItem(fn.title, fn.name)
        self.function_combo.currentIndexChanged.connect(self._on_function_combo_changed)
        self.x_spin = QDoubleSpinBox(self)
        self.x_spin.setDecimals(4)
        self.x_spin.setSingleStep(0.5)
        self.x_spin.setKeyboardTracking(False)
        self.x_spin.setToolTip("Where the tangent touches the curve (or click the plot)")
        self.x_spin.valueChanged.connect(self._redraw)
        self.h_spin = FloatSpinBox(log_scale=True, parent=self)
        self.h_spin.setDecimals(70)  # keep steps down to 1e-60 (the spin box rounds to its decimals)
        self.h_spin.setRange(SMALLEST_H, 1.0)
        self.h_spin.setValue(DEFAULT_H)
        self.h_spin.setToolTip("The step of the difference quotients; the book uses 1e-4 (try 1e-50)")
        self.h_spin.valueChanged.connect(self._redraw)
        # Each label stays with its field; in a narrow view the fields wrap onto a second line.
        controls = FlowLayout(spacing=6, line_spacing=4)
        self.function_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.function_combo.setMinimumContentsLength(18)
        for label, widget in (("Function", self.function_combo), ("x", self.x_spin), ("h", self.h_spin)):
            caption = QLabel(label, self)
            caption.setProperty("keepWithNext", True)
            controls.addWidget(caption)
            controls.addWidget(widget)
        self.description = hint_label("", self)

        self.plot_widget = pg.PlotWidget(self)
        self.plot = self.plot_widget.getPlotItem()
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.plot.setLabel("bottom", "x")
        self.plot.setLabel("left", "f(x)")
        self.legend = self.plot.addLegend(offset=(8, 8), labelTextSize="9pt", verSpacing=-4)
        self.curve = pg.PlotDataItem(antialias=True)
        self.tangent = pg.PlotDataItem(antialias=True)
        self.point = pg.ScatterPlotItem(symbol="o", size=10)
        for item in (self.curve, self.tangent, self.point):
            self.plot.addItem(item)
        self.plot_widget.scene().sigMouseClicked.connect(self._on_scene_clicked)

        self.readout: dict[str, QLabel] = {}
        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(2)
        rows = (
            ("value", "f(x)"),
            ("numerical", "Numerical f′(x), (f(x + h) − f(x − h)) / 2h"),
            ("analytic", "Analytic f′(x)"),
            ("difference", "Numerical − analytic"),
            ("forward", "Forward difference (f(x + h) − f(x)) / h, its error"),
        )
        for row, (key, text) in enumerate(rows):
            name = QLabel(text, self)
            name.setWordWrap(True)  # a narrow view wraps the long names rather than widening
            grid.addWidget(name, row, 0)
            value = QLabel(self)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(value, row, 1)
            self.readout[key] = value
        grid.setColumnStretch(2, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(controls)
        layout.addWidget(self.description)
        layout.addWidget(self.plot_widget, 1)
        layout.addLayout(grid)
        self.restyle()
        self.set_function(next(iter(testfns.FUNCTIONS_1D)))

    # -- public API ----------------------------------------------------------------------------------------

    @property
    def function(self) -> Function1D:
        """The function shown."""
        return testfns.get_1d(self.function_combo.currentData())

    @property
    def x(self) -> float:
        """The point of contact."""
        return self.x_spin.value()

    @property
    def h(self) -> float:
        """The step of the difference quotients."""
        return self.h_spin.value()

    def set_function(self, name: str) -> None:
        """Show the function ``name`` of :data:`dllab.testfns.FUNCTIONS_1D` with its tangent at its default x."""
        fn = testfns.get_1d(name)
        with QSignalBlocker(self.function_combo), QSignalBlocker(self.x_spin):
            self.function_combo.setCurrentIndex(self.function_combo.findData(fn.name))
            self.x_spin.setRange(*fn.x_range)
            self.x_spin.setValue(fn.default_x)
        self.description.setText(fn.description)
        xs = np.linspace(*fn.x_range, SAMPLES)
        ys = fn.value(xs)
        self.curve.setData(xs, ys)
        (x0, x1), (y0, y1) = fn.x_range, (float(ys.min()), float(ys.max()))
        pad_x, pad_y = 0.02 * (x1 - x0), 0.08 * (y1 - y0 or 1.0)
        self.plot.getViewBox().setRange(
            xRange=(x0 - pad_x, x1 + pad_x), yRange=(y0 - pad_y, y1 + pad_y), padding=0.0
        )
        self._redraw()

    def set_x(self, x: float) -> None:
        """Move the point of contact to ``x`` (kept inside the function's window)."""
        self.x_spin.setValue(x)

    def set_h(self, h: float) -> None:
        """Use the step ``h``."""
        self.h_spin.setValue(h)

    # -- drawing -------------------------------------------------------------------------------------------

    def _redraw(self) -> None:
        fn, x, h = self.function, self.x, self.h
        self.slope, self.intercept = tangent_line(fn.value, x, h)
        ends = np.array(fn.x_range)
        self.tangent.setData(ends, self.slope * ends + self.intercept)
        value = float(fn.value(x))
        self.point.setData([x], [value])
        self.legend.clear()
        self.legend.addItem(self.curve, fn.title)
        self.legend.addItem(self.tangent, f"Tangent at x = {x:g} (slope {self.slope:.6g})")
        analytic = float(fn.derivative(x))
        forward = (float(fn.value(x + h)) - value) / h
        texts = {
            "value": exact_text(value),
            "numerical": exact_text(self.slope),
            "analytic": exact_text(analytic),
            "difference": f"{self.slope - analytic:.2g}",
            "forward": f"{exact_text(forward)}   ({forward - analytic:+.2g})",
        }
        for key, text in texts.items():
            self.readout[key].setText(text)
        self.changed.emit()

    def _on_function_combo_changed(self, index: int) -> None:
        self.set_function(self.function_combo.itemData(index))

    def _on_scene_clicked(self, event: object) -> None:
        """Move the point of contact to a left click (``event``: pyqtgraph's ``MouseClickEvent``)."""
        if event.button() != Qt.MouseButton.LeftButton:
            return
        box = self.plot.getViewBox()
        if not box.sceneBoundingRect().contains(event.scenePos()):
            return
        event.accept()
        self.set_x(box.mapSceneToView(event.scenePos()).x())

    def restyle(self) -> None:
        """Take the colours of the current palette."""
        colors = theme.colors()
        self.plot_widget.setBackground(QColor(colors.plot_background))
        for name in ("left", "bottom"):
            axis = self.plot.getAxis(name)
            axis.setPen(pg.mkPen(colors.card_border))
            axis.setTextPen(pg.mkPen(colors.secondary_text))
        self.curve.setPen(pg.mkPen(colors.text, width=2.0))
        self.tangent.setPen(pg.mkPen(TANGENT_COLOR, width=1.8, style=Qt.PenStyle.DashLine))
        self.point.setBrush(pg.mkBrush(TANGENT_COLOR))
        self.point.setPen(pg.mkPen(colors.plot_background, width=1.5))
        fill = QColor(colors.plot_background)
        fill.setAlphaF(0.88)
        self.legend.setBrush(pg.mkBrush(fill))
        self.legend.setPen(pg.mkPen(colors.card_border))
        self.legend.setLabelTextColor(colors.text)
