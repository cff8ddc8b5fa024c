"""Decision boundary: for data with two features (the 2D sets), the class the network predicts at every point of
the plane, paler where it is less sure, with the training points on top, redrawn while it trains.

The grid is predicted in the training process from the live model (:func:`ui.training.session.boundary_grid`),
a few times a second at most; this view only colours it.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QVBoxLayout, QWidget

from ui.common import theme
from ui.common.formatting import shape_text
from ui.common.plotting import pg
from ui.common.view import TrainingView, class_color, plot_widget_background, set_title, style_plot
from ui.training.session import BoundarySnapshot, SessionStarted

#: How strongly a region is tinted at the lowest and the highest confidence.
TINT_RANGE = (0.12, 0.62)
MAX_POINTS = 3000


def class_colors_rgb(count: int) -> np.ndarray:
    """``(count, 3)`` RGB colours of the classes."""
    return np.array([class_color(i).getRgb()[:3] for i in range(count)], dtype=np.float32)


def class_legend(names: Sequence[str]) -> str:
    """Rich text naming each class in its colour: ``■ arm 0  ■ arm 1 ...``."""
    return " &nbsp;".join(
        f"<span style='color:{class_color(i).name()}'>■</span> {html.escape(name)}"
        for i, name in enumerate(names)
    )


def boundary_image(
    classes: np.ndarray, confidence: np.ndarray, colors: np.ndarray, background: tuple[int, int, int]
) -> np.ndarray:
    """An RGBA image of the predicted classes, tinted more strongly where the prediction is surer."""
    k = max(len(colors), 2)
    sure = np.clip((confidence - 1.0 / k) / (1.0 - 1.0 / k), 0.0, 1.0)
    lo, hi = TINT_RANGE
    mix = (lo + (hi - lo) * sure)[..., None]
    tint = colors[np.clip(classes, 0, len(colors) - 1)]
    bg = np.asarray(background, dtype=np.float32)
    rgb = bg * (1 - mix) + tint * mix
    image = np.empty((*classes.shape, 4), dtype=np.uint8)
    image[..., :3] = np.clip(rgb + 0.5, 0, 255)
    image[..., 3] = 255
    return image


class BoundaryView(TrainingView):
    """Class regions over the plane with the data points, live."""

    title = "Decision boundary"
    tab_title = "Boundary"
    export_stem = "boundary"
    hint = (
        "The class the network predicts at every point of the plane, paler where it is less sure, with the "
        "training points. Watch the regions bend to follow the data."
    )
    empty_text = (
        "No run yet: train on a 2D set (spiral, moons, circles, XOR, blobs) to watch the decision boundary "
        "form."
    )
    max_fps = 15.0

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.snapshot: BoundarySnapshot | None = None
        self.started: SessionStarted | None = None
        host = QWidget(self)
        self.graphics = self.canvas(host)
        self.plot: pg.PlotItem = self.graphics.addPlot()
        self.plot.setMenuEnabled(False)
        self.plot.setAspectLocked(True)
        self.plot.hideButtons()
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.points = pg.ScatterPlotItem(size=6, pxMode=True)
        self.points.setZValue(10)
        self.plot.addItem(self.points)
        box = QVBoxLayout(host)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.graphics)
        self.set_content(host)
        self.restyle()

    def reason_not_applicable(self, started: SessionStarted) -> str | None:
        if started.extent is None:
            features = shape_text(started.input_shape)
            if started.task != "classification":
                return "the decision boundary is drawn for classification; this run fits a regression."
            return (
                "the decision boundary is drawn over the plane, for data with two input features (the 2D sets: "
                f"spiral, moons, circles, XOR, blobs); this network takes inputs of {features}."
            )
        return None

    def begin_run(self, started: SessionStarted) -> None:
        self.started = started
        self.snapshot = None
        self.image.clear()
        if started.points is not None and started.point_labels is not None:
            points, labels = started.points, started.point_labels.astype(int)
            if len(points) > MAX_POINTS:
                keep = np.random.default_rng(0).choice(len(points), MAX_POINTS, replace=False)
                points, labels = points[keep], labels[keep]
            brushes = [pg.mkBrush(class_color(i)) for i in range(len(started.class_names))]
            self.points.setData(
                x=points[:, 0],
                y=points[:, 1],
                brush=[brushes[label % len(brushes)] for label in labels],
                pen=pg.mkPen(theme.colors().plot_background, width=0.8),
            )
            x0, x1, y0, y1 = started.extent or (0, 1, 0, 1)
            self.plot.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        else:
            self.points.clear()
        super().begin_run(started)

    def handle_items(self, items: Sequence[Any]) -> None:
        for item in items:
            if isinstance(item, BoundarySnapshot):
                self.snapshot = item
        if self.snapshot is not None and any(isinstance(item, BoundarySnapshot) for item in items):
            self.request_redraw()

    def redraw(self) -> None:
        snapshot, started = self.snapshot, self.started
        if snapshot is None or started is None:
            return
        c = theme.colors().plot_background
        colors = class_colors_rgb(max(len(started.class_names), 2))
        self.image.setImage(
            boundary_image(snapshot.classes, snapshot.confidence, colors, (c.red(), c.green(), c.blue())),
            autoLevels=False,
            levels=(0, 255),
        )
        x0, x1, y0, y1 = snapshot.extent
        self.image.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        when = (
            "before training"
            if snapshot.step == 0
            else f"iteration {snapshot.step:,}, epoch {snapshot.epoch}"
        )
        set_title(self.plot, f"Predicted classes ({when})")
        points = len(started.points) if started.points is not None else 0
        self.set_status(
            f"{class_legend(started.class_names)} &nbsp; {points:,} training points; the regions are predicted "
            f"on a {snapshot.classes.shape[1]}×{snapshot.classes.shape[0]} grid."
        )

    def restyle(self) -> None:
        plot_widget_background(self.graphics)
        style_plot(self.plot, left="x₂", bottom="x₁")
        if self.snapshot is not None:
            self.request_redraw()

    def csv_table(self) -> tuple[list[str], list[list[Any]]]:
        header = ["x1", "x2", "predicted_class", "confidence"]
        snapshot = self.snapshot
        if snapshot is None:
            return header, []
        x0, x1, y0, y1 = snapshot.extent
        ny, nx = snapshot.classes.shape
        xs, ys = np.linspace(x0, x1, nx), np.linspace(y0, y1, ny)
        rows = [
            [float(xs[j]), float(ys[i]), int(snapshot.classes[i, j]), float(snapshot.confidence[i, j])]
            for i in range(ny)
            for j in range(nx)
        ]
        return header, rows
