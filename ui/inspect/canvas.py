"""A square canvas to draw on with the mouse: strokes kept as points in fractions of its side, which is what the
engine renders (:func:`dllab.digit_input.render_strokes`); the canvas only paints them, with the same pen."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from dllab.digit_input import PEN_WIDTH
from ui.common import theme

#: A new point is kept when the mouse moved this share of the side since the last one.
MIN_STEP = 0.006


class DrawingCanvas(QWidget):
    """White ink on black, as MNIST's digits are; Clear and Undo stroke are :meth:`clear` and :meth:`undo_stroke`."""

    strokes_changed = Signal()
    """A stroke began, grew, was undone or everything was cleared."""
    stroke_finished = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("drawingCanvas")
        self.strokes: list[list[tuple[float, float]]] = []
        self._drawing = False
        self.setMinimumSize(QSize(100, 100))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip("Draw with the left mouse button")

    def sizeHint(self) -> QSize:
        return QSize(300, 300)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return width

    def square(self) -> QRectF:
        """The drawing area: the largest square at the top left."""
        side = min(self.width(), self.height()) - 2
        return QRectF(1, 1, side, side)

    def to_canvas(self, point: QPointF) -> tuple[float, float]:
        """A widget position as fractions of the square, clamped to it."""
        square = self.square()
        x = (point.x() - square.left()) / square.width()
        y = (point.y() - square.top()) / square.height()
        return min(max(x, 0.0), 1.0), min(max(y, 0.0), 1.0)

    def to_widget(self, x: float, y: float) -> QPointF:
        square = self.square()
        return QPointF(square.left() + x * square.width(), square.top() + y * square.height())

    # --- editing -----------------------------------------------------------------------------------------------

    def clear(self) -> None:
        if self.strokes:
            self.strokes = []
            self.update()
            self.strokes_changed.emit()

    def undo_stroke(self) -> None:
        if self.strokes:
            self.strokes.pop()
            self.update()
            self.strokes_changed.emit()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        self._drawing = True
        self.strokes.append([self.to_canvas(event.position())])
        self.update()
        self.strokes_changed.emit()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if not self._drawing or not self.strokes:
            return
        point = self.to_canvas(event.position())
        last = self.strokes[-1][-1]
        if math.hypot(point[0] - last[0], point[1] - last[1]) >= MIN_STEP:
            self.strokes[-1].append(point)
            self.update()
            self.strokes_changed.emit()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._drawing and event.button() == Qt.MouseButton.LeftButton:
            self._drawing = False
            self.stroke_finished.emit()

    def paintEvent(self, event: QPaintEvent) -> None:
        colors = theme.colors()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        square = self.square()
        painter.fillRect(square, QColor("black"))
        painter.setPen(QPen(colors.card_border, 1))
        painter.drawRect(square)
        if not self.strokes:
            painter.setPen(QColor(150, 150, 150))
            painter.drawText(square, Qt.AlignmentFlag.AlignCenter, "Draw a digit here")
        pen = QPen(QColor("white"), PEN_WIDTH * square.width())
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        for stroke in self.strokes:
            path = QPainterPath(self.to_widget(*stroke[0]))
            if len(stroke) == 1:
                painter.drawPoint(self.to_widget(*stroke[0]))
                continue
            for x, y in stroke[1:]:
                path.lineTo(self.to_widget(x, y))
            painter.drawPath(path)
        painter.end()
