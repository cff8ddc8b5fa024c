"""The playground's gradient check: the analytic gradient of the test function against the book's numerical
one (:meth:`dllab.testfns.Function2D.numerical_gradient`) at one point, with their difference and relative
error (:func:`dllab.numerical.relative_error`, as a gradient check of a network measures it)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from dllab.numerical import relative_error
from dllab.testfns import Function2D
from ui.common.widgets import RIGHT_ALIGNED, hint_label

ROWS = ("Analytic", "Numerical", "Difference")


def exact_text(value: float) -> str:
    """A number with all the digits a float64 holds (as the book prints them): where two estimates part."""
    return f"{value:.16g}"


def difference_text(value: float) -> str:
    """A difference or an error, two significant digits (``0`` when exact)."""
    return "0" if value == 0 else f"{value:.2g}"


class GradientCheck(QWidget):
    """A small table: ∂f/∂x and ∂f/∂y, analytic, numerical, and the difference, then the relative error.

    Attributes
    ----------
    analytic, numerical : tuple[float, float]
        The gradients shown.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.analytic = (0.0, 0.0)
        self.numerical = (0.0, 0.0)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(4)
        self.where_label = hint_label("", self)
        column.addWidget(self.where_label)
        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(2)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(2, 1)
        for col, text in enumerate(("∂f/∂x", "∂f/∂y"), start=1):
            header = QLabel(text, self)
            header.setObjectName("hint")
            header.setAlignment(RIGHT_ALIGNED)
            grid.addWidget(header, 0, col)
        self.cells: dict[str, tuple[QLabel, QLabel]] = {}
        for row, name in enumerate(ROWS, start=1):
            grid.addWidget(QLabel(name, self), row, 0)
            pair = (QLabel(self), QLabel(self))
            for col, label in enumerate(pair, start=1):
                label.setAlignment(RIGHT_ALIGNED)
                label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                grid.addWidget(label, row, col)
            self.cells[name] = pair
        column.addLayout(grid)
        self.error_label = QLabel(self)
        self.error_label.setToolTip(
            "‖analytic − numerical‖ / (‖analytic‖ + ‖numerical‖): around 1e-7 or less, the two agree as well "
            "as a centred difference can tell."
        )
        column.addWidget(self.error_label)

    def show_point(self, fn: Function2D, x: float, y: float, h: float) -> None:
        """Compare the two gradients of ``fn`` at ``(x, y)``, the numerical one with step ``h``."""
        with np.errstate(over="ignore", invalid="ignore"):
            self.analytic = tuple(float(g) for g in fn.gradient(x, y))
            self.numerical = fn.numerical_gradient(x, y, h)
            difference = np.abs(np.subtract(self.analytic, self.numerical))
            error = relative_error(self.analytic, self.numerical)
        self.where_label.setText(f"At the start point ({x:.4g}, {y:.4g}), with h = {h:g}:")
        for name, values in (("Analytic", self.analytic), ("Numerical", self.numerical)):
            for label, value in zip(self.cells[name], values, strict=True):
                label.setText(exact_text(value))
        for label, value in zip(self.cells["Difference"], difference, strict=True):
            label.setText(difference_text(float(value)))
        self.error_label.setText(f"Relative error  {difference_text(error)}")
