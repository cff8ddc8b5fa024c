"""Filters: the first convolution layer's filters as a grid of small images, before training and now (the book's
figure 7-24, where random noise turns into edge and blob detectors), and the feature maps that any convolution
(or pooling, or activation after one) layer produces for a chosen test sample.

The filters and feature maps are copied from the live model in the training process (see
:mod:`ui.training.session`); after the run, the trained model computes the feature maps of any other sample
directly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from dllab.data import Normalizer
from dllab.model import Sequential
from ui.common import theme
from ui.common.plotting import pg
from ui.common.view import TrainingView, plot_widget_background
from ui.common.widgets import StackingSplitter
from ui.training.session import FeatureMapSnapshot, FilterSnapshot, SessionStarted, feature_maps

GAP = 1
#: The view's least width, in pixels, for the filters beside the feature maps; narrower, the filters go above
#: them (before and now side by side) and the maps below, each the whole width.
SIDE_BY_SIDE_WIDTH = 720


def _unit_range(tiles: np.ndarray) -> np.ndarray:
    """Each tile (first axis) scaled to [0, 1] on its own; a constant tile becomes 0.5."""
    tiles = np.asarray(tiles, dtype=np.float32)
    flat = tiles.reshape(len(tiles), -1)
    lo = np.nanmin(flat, axis=1) if flat.size else np.zeros(len(tiles))
    hi = np.nanmax(flat, axis=1) if flat.size else np.ones(len(tiles))
    span = hi - lo
    shape = (len(tiles),) + (1,) * (tiles.ndim - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        scaled = (tiles - lo.reshape(shape)) / np.where(span > 0, span, 1).reshape(shape)
    scaled[np.broadcast_to((span <= 0).reshape(shape), scaled.shape)] = 0.5
    return np.nan_to_num(scaled, nan=0.5)


def grid_columns(count: int, aspect: float = 1.0) -> int:
    """Columns for ``count`` tiles so that the grid is about ``aspect`` times as wide as high."""
    return max(1, min(count, math.ceil(math.sqrt(count * aspect))))


def mosaic(tiles: np.ndarray, columns: int, background: tuple[int, int, int]) -> np.ndarray:
    """Tiles ``(n, h, w)`` (grey) or ``(n, h, w, 3)`` (colour) in [0, 1] as one RGBA image, row-major.

    Tiles are laid out left to right, top to bottom, with a one-pixel gap in the background colour.
    """
    n, h, w = tiles.shape[:3]
    rows = max(1, -(-n // columns))
    image = np.empty((rows * (h + GAP) - GAP, columns * (w + GAP) - GAP, 4), dtype=np.uint8)
    image[..., :3] = background
    image[..., 3] = 255
    values = np.clip(tiles * 255.0 + 0.5, 0, 255).astype(np.uint8)
    for i in range(n):
        r, c = divmod(i, columns)
        y, x = r * (h + GAP), c * (w + GAP)
        image[y : y + h, x : x + w, :3] = values[i][..., None] if values.ndim == 3 else values[i]
    return image


def filter_tiles(weights: np.ndarray) -> tuple[np.ndarray, str]:
    """Conv2D weights ``(filters, channels, kh, kw)`` as tiles to show, and what they show.

    One channel: grey tiles; three: colour tiles (RGB); otherwise the mean over the channels.
    """
    c = weights.shape[1]
    if c == 1:
        return _unit_range(
            weights[:, 0]
        ), "grey: dark for the lowest weights of each filter, light for the highest"
    if c == 3:
        return _unit_range(np.transpose(weights, (0, 2, 3, 1))), "colour: each filter's three input channels"
    return _unit_range(weights.mean(axis=1)), f"the mean over the {c} input channels"


def image_tiles(sample: np.ndarray) -> np.ndarray:
    """A raw image sample ``(C, H, W)`` as one tile in [0, 1] (grey, or colour for three channels)."""
    sample = np.asarray(sample, dtype=np.float32)
    if sample.ndim == 2:
        sample = sample[None]
    if sample.shape[0] == 3:
        return _unit_range(np.transpose(sample, (1, 2, 0))[None])
    return _unit_range(sample[:1])


class ImageBox:
    """A title and an image in a plot canvas, with square pixels and no axes."""

    def __init__(self, canvas: pg.GraphicsLayoutWidget, row: int, col: int, title: str) -> None:
        self.label = canvas.addLabel(title, row=row, col=col)
        # No context menu, made or not: a ViewBox builds its menu's widgets otherwise (3.5 ms of CPU a box
        # instead of 1.2 ms).
        self.view: pg.ViewBox = canvas.addViewBox(
            row=row + 1, col=col, lockAspect=True, invertY=True, enableMenu=False
        )
        self.view.setDefaultPadding(0.02)
        self.view.setMouseEnabled(x=False, y=False)
        self.item = pg.ImageItem(axisOrder="row-major")
        self.view.addItem(self.item)
        self.shape: tuple[int, ...] = ()

    def set_title(self, text: str) -> None:
        self.label.setText(text, color=theme.colors().text.name(), size="9.5pt")

    def set_image(self, rgba: np.ndarray) -> None:
        self.item.setImage(rgba, autoLevels=False, levels=(0, 255))
        if rgba.shape != self.shape:
            self.shape = rgba.shape
            self.view.enableAutoRange()  # and fitted again whenever the box changes size: never cut off

    def clear(self) -> None:
        self.item.clear()
        self.shape = ()


class FiltersView(TrainingView):
    """The first Conv2D layer's filters before and during training, and feature maps of a test sample."""

    title = "Filters"
    export_stem = "filters"
    hint = (
        "The first convolution layer's filters, each scaled to its own range (random at the start, edge and "
        "blob detectors once trained), and what a layer makes of one test image (its feature maps)."
    )
    empty_text = (
        "No run yet: train a network with a Conv2D layer (Examples ▸ SimpleConvNet, on MNIST) to see its "
        "filters form."
    )
    max_fps = 10.0

    sample_changed = Signal(int)
    """The user chose another test sample for the feature maps."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.before: FilterSnapshot | None = None
        self.now: FilterSnapshot | None = None
        self.maps: FeatureMapSnapshot | None = None
        self.started: SessionStarted | None = None
        self.model: Sequential | None = None
        self._normalizer: Normalizer | None = None

        host = QWidget(self)
        self.splitter = splitter = StackingSplitter(SIDE_BY_SIDE_WIDTH, beside=0.4, above=0.45, parent=host)
        self.filter_canvas = self.canvas(splitter)
        self.before_box, self.now_box = self._filter_boxes(stacked=False)
        right = QWidget(splitter)
        controls = QHBoxLayout()
        controls.setContentsMargins(12, 0, 12, 0)
        controls.setSpacing(8)
        controls.addStretch(1)
        controls.addWidget(QLabel("Feature maps of", right))
        self.layer_combo = QComboBox(right)
        self.layer_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.layer_combo.setMinimumContentsLength(14)  # elided beyond; the list shows whole names
        self.layer_combo.setToolTip("The layer whose outputs (one image per channel) are shown.")
        self.layer_combo.activated.connect(self._on_layer_combo_activated)
        controls.addWidget(self.layer_combo)
        controls.addWidget(QLabel("sample", right))
        self.sample_spin = QSpinBox(right)
        self.sample_spin.setRange(0, 0)
        self.sample_spin.setKeyboardTracking(False)
        self.sample_spin.setToolTip("Index of the test image fed through the network.")
        self.sample_spin.valueChanged.connect(self._on_sample_spin_value_changed)
        controls.addWidget(self.sample_spin)
        self.map_canvas = self.canvas(right)
        self.input_box = ImageBox(self.map_canvas, 0, 0, "Input")
        self.maps_box = ImageBox(self.map_canvas, 0, 1, "Feature maps")
        layout = self.map_canvas.ci.layout
        layout.setColumnStretchFactor(0, 1)
        layout.setColumnStretchFactor(1, 5)
        box = QVBoxLayout(right)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.map_canvas, 1)
        splitter.addWidget(self.filter_canvas)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.arrangement_changed.connect(self._on_splitter_arrangement_changed)
        self.set_content_below(controls, splitter, host)

    # --- the layout ------------------------------------------------------------------------------------------

    @property
    def stacked(self) -> bool:
        """Whether the filters are above the feature maps (a narrow view) rather than left of them."""
        return self.splitter.stacked

    def _filter_boxes(self, *, stacked: bool) -> tuple[ImageBox, ImageBox]:
        """The boxes of the filters before training and now: one above the other beside the feature maps, side
        by side above them."""
        before = ImageBox(self.filter_canvas, 0, 0, "Before training")
        now = (
            ImageBox(self.filter_canvas, 0, 1, "Now")
            if stacked
            else ImageBox(self.filter_canvas, 2, 0, "Now")
        )
        return before, now

    def _on_splitter_arrangement_changed(self, stacked: bool) -> None:
        """The filter boxes anew, side by side above the feature maps or one above the other beside them."""
        self.filter_canvas = self.fresh_canvas(self.filter_canvas)
        self.splitter.insertWidget(0, self.filter_canvas)
        plot_widget_background(self.filter_canvas)
        self.before_box, self.now_box = self._filter_boxes(stacked=stacked)
        if self.now is not None:
            self.request_redraw()

    # --- the run ---------------------------------------------------------------------------------------

    def reason_not_applicable(self, started: SessionStarted) -> str | None:
        if started.first_conv is None:
            return (
                "the network has no Conv2D layer, so it has no filters or feature maps (an MLP sees its input "
                "as a flat vector). Try Examples ▸ SimpleConvNet on MNIST."
            )
        return None

    def begin_run(self, started: SessionStarted) -> None:
        self.started = started
        self.before = self.now = self.maps = None
        self.model = None
        self._normalizer = None
        for box in (self.before_box, self.now_box, self.input_box, self.maps_box):
            box.clear()
        with QSignalBlocker(self.layer_combo):
            self.layer_combo.clear()
            for name in started.feature_layers:
                info = next(layer for layer in started.layers if layer.name == name)
                self.layer_combo.addItem(f"{name} ({info.type_name}, {info.output_shape[0]} channels)", name)
        with QSignalBlocker(self.sample_spin):
            self.sample_spin.setRange(0, max(started.test_samples - 1, 0))
        super().begin_run(started)

    def handle_items(self, items: Sequence[Any]) -> None:
        changed = False
        for item in items:
            if isinstance(item, FilterSnapshot):
                if self.before is None:
                    self.before = item
                self.now = item
                changed = True
            elif isinstance(item, FeatureMapSnapshot):
                self.maps = item
                changed = True
        if changed:
            self.request_redraw()

    def set_model(self, model: Sequential | None) -> None:
        """The trained model, after the run: it computes the feature maps of other samples directly."""
        self.model = model
        self._normalizer = None
        if model is not None and model.preprocessing:
            self._normalizer = Normalizer.from_dict(model.preprocessing)

    # --- drawing -------------------------------------------------------------------------------------------

    def _background(self) -> tuple[int, int, int]:
        c = theme.colors().plot_background
        return c.red(), c.green(), c.blue()

    def redraw(self) -> None:
        background = self._background()
        if self.before is not None and self.now is not None:
            tiles, meaning = filter_tiles(self.before.weights)
            columns = grid_columns(len(tiles), aspect=1.6)
            self.before_box.set_image(mosaic(tiles, columns, background))
            self.now_box.set_image(mosaic(filter_tiles(self.now.weights)[0], columns, background))
            f, c, kh, kw = self.now.weights.shape
            self.before_box.set_title("Before training")
            self.now_box.set_title(f"Now (iteration {self.now.step:,})")
            self.set_status(f"{self.now.layer}: {f} filters of {c}×{kh}×{kw}, in {meaning}.")
        self._draw_maps(background)

    def _draw_maps(self, background: tuple[int, int, int]) -> None:
        snapshot, started = self.maps, self.started
        name = self.layer_combo.currentData()
        if snapshot is None or started is None or name not in snapshot.maps:
            return
        sample = snapshot.sample
        raw = started.test_inputs[sample] if sample < len(started.test_inputs) else None
        if raw is not None and started.image_shape is not None:
            image = np.asarray(raw).reshape(started.image_shape)
            self.input_box.set_image(mosaic(image_tiles(image), 1, background))
            label = ""
            if started.class_names and sample < len(started.test_labels):
                label = f" (label {started.class_names[int(started.test_labels[sample])]})"
            # Narrow, a title of two lines: titles wider than the view would cut the images off.
            self.input_box.set_title(f"Test sample {sample}{'<br>' if self.stacked else ''}{label}")
        maps = snapshot.maps[name]
        columns = grid_columns(len(maps), aspect=1.4)
        self.maps_box.set_image(mosaic(_unit_range(maps), columns, background))
        self.maps_box.set_title(
            f"{len(maps)} maps of {maps.shape[1]}×{maps.shape[2]}{'<br>' if self.stacked else ' '}"
            f"(iteration {snapshot.step:,})"
        )

    def _on_layer_combo_activated(self, row: int) -> None:
        self.request_redraw()

    def _on_sample_spin_value_changed(self, value: int) -> None:
        self.sample_changed.emit(value)
        if self.model is not None and self.started is not None:
            self.show_sample(value)

    def show_sample(self, index: int) -> None:
        """Compute the feature maps of test sample ``index`` with the trained model (after the run)."""
        started, model = self.started, self.model
        if started is None or model is None or not len(started.test_inputs):
            return
        index = min(max(index, 0), len(started.test_inputs) - 1)
        raw = np.asarray(started.test_inputs[index : index + 1], dtype=np.float32)
        x = self._normalizer.transform(raw) if self._normalizer is not None else raw
        maps = feature_maps(model, x.reshape(len(x), *model.input_shape)[0])
        step = self.maps.step if self.maps is not None else 0
        self.maps = FeatureMapSnapshot(step, index, maps)
        self.request_redraw()

    def restyle(self) -> None:
        plot_widget_background(self.filter_canvas)
        plot_widget_background(self.map_canvas)
        if self.now is not None:
            self.request_redraw()

    # --- export ----------------------------------------------------------------------------------------------

    def csv_table(self) -> tuple[list[str], list[list[Any]]]:
        header = ["layer", "filter", "channel", "row", "col", "before", "now"]
        rows: list[list[Any]] = []
        if self.before is None or self.now is None:
            return header, rows
        before, now = self.before.weights, self.now.weights
        for index in np.ndindex(*now.shape):
            rows.append([self.now.layer, *index, float(before[index]), float(now[index])])
        return header, rows
