"""Previews of a dataset: a grid of images with their class names, or a scatter plot of 2D points, and a
grid of augmented versions of a few images (what the network will see while training), and under a dev shift
the first test images as the dev and test sets hold them."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QEvent, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QStackedWidget, QVBoxLayout, QWidget

from dllab.data import Augmenter, Dataset, shift_images
from ui.common import theme
from ui.common.lazy_view import LazyView
from ui.common.widgets import hint_label

if TYPE_CHECKING:  # pyqtgraph, slow to import, waits until a scatter is shown
    from ui.data.scatter_preview import ScatterPreview


def to_qimage(sample: np.ndarray) -> QImage:
    """One sample ``(C, H, W)`` or ``(H, W)`` as a QImage: grey for one channel, RGB for three; float
    samples are stretched to their own range."""
    array = np.asarray(sample)
    if array.ndim == 3:
        array = array[:3] if array.shape[0] >= 3 else array[0]
    if array.dtype != np.uint8:
        low, high = float(np.min(array)), float(np.max(array))
        scale = 255.0 / (high - low) if high > low else 0.0
        array = np.clip((array - low) * scale, 0, 255).astype(np.uint8)
    if array.ndim == 3:
        rgb = np.ascontiguousarray(array.transpose(1, 2, 0))
        h, w, _ = rgb.shape
        return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
    grey = np.ascontiguousarray(array)
    h, w = grey.shape
    return QImage(grey.data, w, h, w, QImage.Format.Format_Grayscale8).copy()


class ImageGrid(QWidget):
    """Images in a grid of fixed column count, scaled without smoothing, each with a caption under it."""

    GAP = 4

    def __init__(self, columns: int = 8, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._columns = columns
        self._images: list[QImage] = []
        self._captions: list[str] = []
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)

    @property
    def count(self) -> int:
        """Number of images shown."""
        return len(self._images)

    @property
    def captions(self) -> list[str]:
        """The captions shown under the images."""
        return list(self._captions)

    def set_images(self, samples: np.ndarray, captions: list[str] | None = None) -> None:
        """Show ``samples`` (``(N, C, H, W)`` or ``(N, H, W)``) with optional captions."""
        self._images = [to_qimage(s) for s in samples]
        self._captions = list(captions or [])
        self.updateGeometry()
        self.update()

    def _caption_height(self) -> int:
        return self.fontMetrics().height() if self._captions else 0

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        if not self._images:
            return 0
        cell = max(8, (width - (self._columns - 1) * self.GAP) / self._columns)
        rows = math.ceil(len(self._images) / self._columns)
        return int(rows * (cell + self._caption_height()) + (rows - 1) * self.GAP)

    def sizeHint(self) -> QSize:
        return QSize(320, self.heightForWidth(320))

    def minimumSizeHint(self) -> QSize:
        return QSize(120, self.heightForWidth(120))

    def paintEvent(self, event: QPaintEvent) -> None:
        if not self._images:
            return
        colors = theme.colors()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        cell = (self.width() - (self._columns - 1) * self.GAP) / self._columns
        caption_h = self._caption_height()
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 0.85)
        painter.setFont(font)
        for i, image in enumerate(self._images):
            row, col = divmod(i, self._columns)
            x = col * (cell + self.GAP)
            y = row * (cell + caption_h + self.GAP)
            target = QRectF(x, y, cell, cell)
            painter.drawImage(target, image)
            painter.setPen(QColor(colors.card_border))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(target.adjusted(0, 0, -0.5, -0.5))
            if i < len(self._captions):
                painter.setPen(colors.secondary_text)
                text = painter.fontMetrics().elidedText(
                    self._captions[i], Qt.TextElideMode.ElideRight, int(cell)
                )
                painter.drawText(
                    QRect(int(x), int(y + cell), int(cell), caption_h), Qt.AlignmentFlag.AlignCenter, text
                )
        painter.end()


class SamplePreview(QWidget):
    """The preview of a dataset: samples (grid or scatter) and, for images, augmented samples."""

    def __init__(self, *, columns: int = 8, rows: int = 4, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._columns, self._rows = columns, rows
        self._shown: tuple[Dataset | None, Augmenter | None] = (None, None)
        self._dev_shift = "none"
        self.samples_title = QLabel("Samples", self)
        self.samples_title.setObjectName("subTitle")
        self.stack = QStackedWidget(self)
        self.grid = ImageGrid(columns, self)
        #: The scatter plot of 2D points, built the first time it is shown or asked for (:attr:`scatter`).
        self._scatter = LazyView(self._build_scatter, "scatter", self.stack)
        self._points: tuple[np.ndarray, np.ndarray, list[str], str] | None = None
        self.empty = QLabel("No dataset loaded.", self)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setObjectName("hint")
        for widget in (self.grid, self._scatter, self.empty):
            self.stack.addWidget(widget)
        self.augmented_title = QLabel("Augmented samples", self)
        self.augmented_title.setObjectName("subTitle")
        self.augmented = ImageGrid(columns, self)
        self.augmented_hint = hint_label("", self)
        self.shifted_title = QLabel("Dev and test samples", self)
        self.shifted_title.setObjectName("subTitle")
        self.shifted = ImageGrid(columns, self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.samples_title)
        layout.addWidget(self.stack)
        layout.addWidget(self.augmented_title)
        layout.addWidget(self.augmented)
        layout.addWidget(self.augmented_hint)
        layout.addWidget(self.shifted_title)
        layout.addWidget(self.shifted)
        self.show_dataset(None, None)

    @property
    def scatter(self) -> ScatterPreview:
        """The scatter plot of 2D points (built now if it is not yet)."""
        return self._scatter.view()

    def _scatter_page(self) -> QWidget:
        """The scatter plot's page of the stack: the plot, or its stand-in while it is not built."""
        scatter = self._scatter.built_view()
        return self._scatter if scatter is None else scatter

    def _build_scatter(self, parent: QWidget) -> ScatterPreview:
        from ui.data.scatter_preview import ScatterPreview

        scatter = ScatterPreview(parent)
        if self._points is not None:
            scatter.set_points(*self._points)
        return scatter

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "stack"):
            self.show_dataset(*self._shown, dev_shift=self._dev_shift)  # the plot's colours follow the theme

    def show_dataset(
        self, dataset: Dataset | None, augmenter: Augmenter | None, *, dev_shift: str = "none"
    ) -> None:
        """Show the first samples of ``dataset``, when ``augmenter`` is on augmented copies, and under a
        ``dev_shift`` (:data:`dllab.data.SHIFTS`) the first test samples as the shift draws them."""
        self._shown, self._dev_shift = (dataset, augmenter), dev_shift
        self._show_shifted(dataset, dev_shift)
        if dataset is None:
            self.stack.setCurrentWidget(self.empty)
            self.stack.setFixedHeight(80)
            self._show_augmented(None, None, "", title=False)
            return
        if dataset.is_image:
            n = self._columns * self._rows
            x, y = dataset.x_train[:n], dataset.y_train[:n]
            captions = self._captions(dataset, y)
            self.grid.set_images(x, captions)
            self.stack.setCurrentWidget(self.grid)
            self.stack.setMinimumHeight(0)
            self.stack.setMaximumHeight(16_777_215)
            self.stack.setSizePolicy(self.grid.sizePolicy())
            if augmenter is not None and augmenter.enabled:
                self._show_augmented(
                    dataset, augmenter, "Each row: one sample, transformed anew in every batch."
                )
            else:
                self._show_augmented(
                    None, None, "Augmentation is off: switch on shift, rotation, flip or noise to preview it."
                )
        elif dataset.x_train.ndim == 2 and dataset.x_train.shape[1] == 2:
            self._points = (dataset.x_train, dataset.y_train, dataset.class_names, dataset.task)
            scatter = self._scatter.built_view()
            if scatter is not None:  # else drawn when it is built
                scatter.set_points(*self._points)
            self.stack.setCurrentWidget(self._scatter_page())
            self.stack.setMinimumHeight(0)
            self.stack.setFixedHeight(max(180, self.width()))
            self._show_augmented(None, None, "Augmentation applies to images only.", title=False)
        else:
            self.empty.setText(f"{len(dataset.x_train):,} samples of {dataset.x_train.shape[1]} values.")
            self.stack.setCurrentWidget(self.empty)
            self.stack.setFixedHeight(80)
            self._show_augmented(None, None, "Augmentation applies to images only.", title=False)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.stack.currentWidget() is self._scatter_page():
            self.stack.setFixedHeight(max(180, min(self.width(), 520)))

    def _captions(self, dataset: Dataset, y: np.ndarray) -> list[str]:
        if dataset.task != "classification":
            return []
        return [dataset.class_names[int(k)] if int(k) < len(dataset.class_names) else str(k) for k in y]

    def _show_shifted(self, dataset: Dataset | None, dev_shift: str) -> None:
        shown = dataset is not None and dataset.is_image and dev_shift != "none"
        self.shifted_title.setVisible(shown)
        self.shifted.setVisible(shown)
        if not shown:
            return
        x = shift_images(dataset.x_test[: self._columns], dev_shift, np.random.default_rng(0))
        self.shifted_title.setText(f"Dev and test samples ({dev_shift})")
        self.shifted.set_images(x, self._captions(dataset, dataset.y_test[: self._columns]))

    def _show_augmented(
        self, dataset: Dataset | None, augmenter: Augmenter | None, hint: str, *, title: bool = True
    ) -> None:
        self.augmented_title.setVisible(title)
        self.augmented_hint.setText(hint)
        self.augmented_hint.setVisible(bool(hint))
        if dataset is None or augmenter is None:
            self.augmented.set_images(np.zeros((0, 1, 1, 1), np.uint8))
            self.augmented.hide()
            return
        picks = dataset.x_train[: max(1, self._rows // 2)]
        versions = augmenter.preview(picks, n=self._columns, rng=np.random.default_rng(0))
        # (versions, picks, C, H, W) -> one row per picked sample
        self.augmented.set_images(np.swapaxes(versions, 0, 1).reshape((-1, *picks.shape[1:])))
        self.augmented.show()
