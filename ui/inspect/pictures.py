"""Small painted pictures of arrays: grayscale tiles (an input image, feature maps, a layer's activations) with an
optional highlighted rectangle, and a model's class probabilities as labelled bars."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from ui.common import theme


def gray_image(values: np.ndarray, lo: float | None = None, hi: float | None = None) -> QImage:
    """A 2D array as an 8-bit grayscale image, ``lo`` black and ``hi`` white (default: its own range)."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 1:
        array = array[None]
    finite = array[np.isfinite(array)]
    lo = float(finite.min()) if lo is None and finite.size else (lo or 0.0)
    hi = float(finite.max()) if hi is None and finite.size else (hi if hi is not None else 1.0)
    scaled = (array - lo) / (hi - lo) if hi > lo else np.zeros_like(array)
    pixels = np.ascontiguousarray(np.clip(np.nan_to_num(scaled) * 255 + 0.5, 0, 255).astype(np.uint8))
    image = QImage(
        pixels.data, pixels.shape[1], pixels.shape[0], pixels.strides[0], QImage.Format.Format_Grayscale8
    )
    return image.copy()  # owns its pixels


class TileGrid(QWidget):
    """Arrays painted as grayscale tiles in a grid, pixels kept square and sharp.

    Each tile is scaled to its own range unless :meth:`set_tiles` gets a shared one. ``highlight`` is a
    rectangle ``(top, bottom, left, right)`` in the first tile's pixels (bottom, right exclusive), outlined in the
    accent colour (a convolution's receptive field).
    """

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        tile_size: int = 56,
        columns: int | None = None,
        min_tile_height: float = 0.0,
    ) -> None:
        super().__init__(parent)
        self.tile_size = tile_size
        self.min_tile_height = min_tile_height
        self.columns = columns
        self.tiles: list[np.ndarray] = []
        self.captions: list[str] = []
        self.highlight: tuple[int, int, int, int] | None = None
        self._images: list[QImage] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def set_tiles(
        self,
        tiles: Sequence[np.ndarray],
        captions: Sequence[str] = (),
        value_range: tuple[float, float] | None = None,
        highlight: tuple[int, int, int, int] | None = None,
    ) -> None:
        self.tiles = [np.asarray(t) for t in tiles]
        self.captions = list(captions)
        self.highlight = highlight
        lo, hi = value_range if value_range is not None else (None, None)
        self._images = [gray_image(t, lo, hi) for t in self.tiles]
        self.updateGeometry()
        self.update()

    def _grid(self, width: int | None = None) -> tuple[int, int, float, float]:
        """Columns, rows, tile width and height in widget pixels, for the widget's width (or ``width``)."""
        count = len(self._images)
        if not count:
            return 0, 0, 0.0, 0.0
        h, w = self.tiles[0].shape[-2:] if self.tiles[0].ndim >= 2 else (1, self.tiles[0].shape[-1])
        aspect = h / w
        width = max(self.width() if width is None else width, 1)
        tile_w = float(self.tile_size) if aspect <= 1 else self.tile_size / aspect
        columns = self.columns or max(1, int((width + 4) // (tile_w + 4)))
        columns = min(columns, count)
        if self.columns:
            tile_w = min((width - 4 * (columns - 1)) / columns, 4.0 * self.tile_size)
        rows = -(-count // columns)
        return columns, rows, tile_w, max(tile_w * aspect, self.min_tile_height)

    def caption_height(self) -> int:
        return self.fontMetrics().height() + 2 if any(self.captions) else 0

    def sizeHint(self) -> QSize:
        columns, rows, tile_w, tile_h = self._grid()
        return QSize(int(columns * (tile_w + 4)), int(rows * (tile_h + 4 + self.caption_height())) + 2)

    def minimumSizeHint(self) -> QSize:
        return QSize(min(self.tile_size, 40), 0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        _, rows, _, tile_h = self._grid(width)
        return int(rows * (tile_h + 4 + self.caption_height())) + 2

    def tile_rect(self, index: int) -> QRectF:
        """Where tile ``index`` is painted, in widget pixels."""
        columns, _, tile_w, tile_h = self._grid()
        row, col = divmod(index, max(columns, 1))
        return QRectF(col * (tile_w + 4), row * (tile_h + 4 + self.caption_height()), tile_w, tile_h)

    def paintEvent(self, event: QPaintEvent) -> None:
        colors = theme.colors()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        for k, image in enumerate(self._images):
            rect = self.tile_rect(k)
            painter.drawImage(rect, image)
            painter.setPen(QPen(colors.card_border, 1))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(rect.adjusted(-0.5, -0.5, 0.5, 0.5))
            if k < len(self.captions) and self.captions[k]:
                painter.setPen(colors.secondary_text)
                painter.drawText(
                    QRectF(rect.left(), rect.bottom() + 1, rect.width() + 40, self.caption_height()),
                    Qt.AlignmentFlag.AlignLeft,
                    self.captions[k],
                )
        if self.highlight is not None and self._images:
            top, bottom, left, right = self.highlight
            rect = self.tile_rect(0)
            sx, sy = rect.width() / self._images[0].width(), rect.height() / self._images[0].height()
            painter.setPen(QPen(QColor("#ff9f1c"), 2))
            painter.drawRect(
                QRectF(
                    rect.left() + left * sx, rect.top() + top * sy, (right - left) * sx, (bottom - top) * sy
                )
            )
        painter.end()


class ProbabilityBars(QWidget):
    """A model's class probabilities as one labelled bar per class (the most probable in the accent colour)."""

    #: Classes shown at the most (the most probable ones when there are more).
    LIMIT = 12

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.probabilities = np.zeros(0)
        self.names: list[str] = []
        self.setMinimumHeight(120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def set_probabilities(self, probabilities: np.ndarray, names: Sequence[str]) -> None:
        self.probabilities = np.asarray(probabilities, dtype=np.float64)
        self.names = list(names) or [str(k) for k in range(len(self.probabilities))]
        self.updateGeometry()
        self.update()

    def shown(self) -> list[int]:
        """The classes drawn, in class order (the most probable :data:`LIMIT` when there are more)."""
        order = np.argsort(-self.probabilities, kind="stable")[: self.LIMIT]
        return sorted(int(k) for k in order)

    def sizeHint(self) -> QSize:
        return QSize(260, 22 * max(len(self.shown()), 5) + 8)

    def paintEvent(self, event: QPaintEvent) -> None:
        colors = theme.colors()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        classes = self.shown()
        if not classes:
            painter.end()
            return
        metrics = self.fontMetrics()
        row_h = min(26.0, (self.height() - 4) / len(classes))
        name_w = max(metrics.horizontalAdvance(self.names[k]) for k in classes) + 10
        value_w = metrics.horizontalAdvance("100.0 %") + 10
        bar_w = max(self.width() - name_w - value_w, 20)
        best = int(np.argmax(self.probabilities))
        for row, k in enumerate(classes):
            y = 2 + row * row_h
            p = float(self.probabilities[k])
            painter.setPen(colors.text)
            text_rect = QRectF(0, y, name_w - 8, row_h)
            painter.drawText(
                text_rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, self.names[k]
            )
            track = QRectF(name_w, y + row_h * 0.18, bar_w, row_h * 0.64)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colors.card_border)
            painter.drawRoundedRect(track, 3, 3)
            fill = QColor(colors.accent if k == best else colors.secondary_text)
            painter.setBrush(fill)
            painter.drawRoundedRect(QRectF(track.left(), track.top(), bar_w * p, track.height()), 3, 3)
            painter.setPen(colors.text if k == best else colors.secondary_text)
            painter.drawText(
                QRectF(name_w + bar_w + 6, y, value_w, row_h),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                f"{100 * p:.1f} %",
            )
        painter.end()
