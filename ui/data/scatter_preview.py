"""The scatter plot of a dataset of 2D points (:class:`ui.data.sample_preview.SamplePreview` builds it when it is
first shown: pyqtgraph waits until then)."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from ui.common import theme
from ui.common.plotting import pg


class ScatterPreview(pg.PlotWidget):
    """2D points coloured by class (or by target value for regression), with a legend."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMenuEnabled(False)
        self.setMouseEnabled(False, False)
        self.hideButtons()
        self.setAspectLocked(True)
        self.getPlotItem().showGrid(x=True, y=True, alpha=0.15)
        self.legend = self.getPlotItem().addLegend(offset=(6, 6), labelTextSize="8pt")
        self.setMinimumHeight(160)
        self.point_count = 0

    def set_points(self, x: np.ndarray, y: np.ndarray, class_names: list[str], task: str) -> None:
        """Draw ``x`` ``(N, 2)`` coloured by ``y``."""
        colors = theme.colors()
        self.setBackground(colors.plot_background)
        for axis in ("left", "bottom"):
            ax = self.getPlotItem().getAxis(axis)
            ax.setPen(pg.mkPen(colors.card_border))
            ax.setTextPen(pg.mkPen(colors.secondary_text))
        self.getPlotItem().clear()
        self.legend.clear()
        self.legend.setLabelTextColor(colors.text)
        self.legend.setBrush(pg.mkBrush(colors.plot_background))
        self.point_count = len(x)
        if task == "classification":
            for k, name in enumerate(class_names):
                pts = x[y == k]
                color = QColor(theme.CLASS_COLORS[k % len(theme.CLASS_COLORS)])
                item = pg.ScatterPlotItem(
                    pts[:, 0],
                    pts[:, 1],
                    size=6,
                    pen=pg.mkPen(color.darker(130), width=0.6),
                    brush=pg.mkBrush(color),
                    name=name,
                )
                self.getPlotItem().addItem(item)
                self.legend.addItem(item, name)
        else:
            values = np.asarray(y, dtype=float).reshape(len(y), -1)[:, 0]
            lut = pg.colormap.get("viridis").getLookupTable(nPts=256)
            span = float(values.max() - values.min()) or 1.0
            idx = ((values - values.min()) / span * 255).astype(int)
            brushes = [pg.mkBrush(*lut[i]) for i in idx]
            self.getPlotItem().addItem(pg.ScatterPlotItem(x[:, 0], x[:, 1], size=6, pen=None, brush=brushes))
        self.getPlotItem().autoRange()
