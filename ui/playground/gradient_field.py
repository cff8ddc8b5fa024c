"""The gradient field of a test function: arrows of −∇f on a grid over a plot, as in the book's figure 4-9.

Every arrow points the way the function falls fastest, which is where gradient descent steps. Arrows are
normalised so that the field reads everywhere: the direction is exact, the length grows with the logarithm of
``|∇f|`` over three decades below the largest gradient in view (so arrows still shrink towards a minimum),
and none is so short that its direction is lost. The whole field is one ``PlotCurveItem`` of line segments
(a shaft and two barbs per arrow), cheap to redraw after every pan or zoom.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor

from dllab.testfns import Function2D
from ui.common import theme
from ui.common.plotting import pg

#: Arrows across the width of the visible window.
COLUMNS = 21
#: Decades of ``|∇f|`` below the largest in view that still change an arrow's length.
DECADES = 3.0
#: The shortest and the longest arrow, as fractions of a grid cell.
SHORTEST, LONGEST = 0.22, 0.86
#: The barbs of the head: their length as a fraction of a grid cell, and their angle to the shaft.
HEAD = 0.24
HEAD_ANGLE = np.deg2rad(28.0)


def grid_points(rect: QRectF, columns: int = COLUMNS) -> np.ndarray:
    """The centres of a grid of square cells, ``columns`` across ``rect``, as ``(n, 2)`` points."""
    cell = rect.width() / columns
    rows = max(1, int(rect.height() // cell))
    xs = rect.left() + (np.arange(columns) + 0.5) * cell
    ys = rect.top() + (rect.height() - rows * cell) / 2 + (np.arange(rows) + 0.5) * cell
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack([gx.ravel(), gy.ravel()])


def arrow_segments(fn: Function2D, rect: QRectF, columns: int = COLUMNS) -> np.ndarray:
    """Arrows of −∇f over ``rect``: ``(n, 3, 2, 2)``, for each arrow its shaft (tail → tip) and two barbs
    (tip → end), centred on the grid points of :func:`grid_points`. Points where the gradient is zero or not
    finite get no arrow."""
    points = grid_points(rect, columns)
    cell = rect.width() / columns
    with np.errstate(over="ignore", invalid="ignore"):
        gx, gy = fn.gradient(points[:, 0], points[:, 1])
        downhill = -np.column_stack([gx, gy])
        size = np.hypot(downhill[:, 0], downhill[:, 1])
    keep = np.isfinite(size) & (size > 0)
    points, downhill, size = points[keep], downhill[keep], size[keep]
    if not len(points):
        return np.empty((0, 3, 2, 2))
    unit = downhill / size[:, None]
    level = np.clip(1.0 + np.log10(size / size.max()) / DECADES, 0.0, 1.0)
    length = cell * (SHORTEST + (LONGEST - SHORTEST) * level)
    tail = points - unit * (length / 2)[:, None]
    tip = points + unit * (length / 2)[:, None]
    head = cell * HEAD * (0.6 + 0.4 * level)
    cos, sin = np.cos(HEAD_ANGLE), np.sin(HEAD_ANGLE)
    back = -unit
    segments = np.empty((len(points), 3, 2, 2))
    segments[:, 0, 0], segments[:, 0, 1] = tail, tip
    for k, turn in enumerate((sin, -sin), start=1):
        barb = np.column_stack([back[:, 0] * cos - back[:, 1] * turn, back[:, 0] * turn + back[:, 1] * cos])
        segments[:, k, 0] = tip
        segments[:, k, 1] = tip + barb * head[:, None]
    return segments


class GradientField:
    """The arrows of :func:`arrow_segments` inside one ``pg.PlotItem``, hidden until switched on.

    Parameters
    ----------
    plot : pyqtgraph.PlotItem
        The plot (its aspect ratio locked, so that angles in data are angles on screen).
    """

    def __init__(self, plot: pg.PlotItem) -> None:
        self.plot = plot
        self.curve = pg.PlotCurveItem(connect="pairs", antialias=True)
        self.curve.setZValue(-5)  # above the contours, below the trajectories
        self.curve.setVisible(False)
        plot.addItem(self.curve)
        self.segments = np.empty((0, 3, 2, 2))
        self.restyle()

    @property
    def shown(self) -> bool:
        """Whether the arrows are drawn."""
        return self.curve.isVisible()

    def set_shown(self, on: bool, fn: Function2D | None) -> None:
        """Draw the field of ``fn`` over the visible window, or hide it."""
        self.curve.setVisible(on)
        self.update(fn)

    def update(self, fn: Function2D | None) -> None:
        """Redraw the arrows for ``fn`` and the visible window (nothing while hidden)."""
        if not self.shown or fn is None:
            return
        self.segments = arrow_segments(fn, self.plot.getViewBox().viewRect())
        points = self.segments.reshape(-1, 2)
        self.curve.setData(points[:, 0], points[:, 1])

    def restyle(self) -> None:
        """Take the colours of the current palette."""
        colors = theme.colors()
        color = QColor(colors.text)
        color.setAlphaF(0.5 if colors.dark else 0.55)
        self.curve.setPen(pg.mkPen(color, width=1.3))
