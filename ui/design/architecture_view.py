"""The Architecture view: the network as a diagram of the tensors that flow through it.

Each layer that changes the shape produces a new tensor, drawn to scale on a log axis: images as blocks
(height from the image size, depth from the channels), vectors as bars. Layers that keep the shape
(activations, batch normalisation, dropout) are small labels on the arrow between tensors. Shapes come from
the engine's analysis; the diagram stops, in red, at a layer the engine cannot build.

A click on a Dense or Conv2D block emits :attr:`ArchitectureView.unit_clicked` with the layer's index and the unit
under the mouse (``(j,)`` along a Dense bar, ``(0, row, column)`` on a convolution's face), so the window can show
what that unit computes for one sample.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from PySide6.QtCore import QPointF, QRectF, QSize, QSizeF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QPolygonF,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from ui.common import theme
from ui.common.formatting import compact_count, shape_text, spec_error_text
from ui.common.icons import category_color
from ui.state import AppState

_GAP = 26
_MARGIN = 28
_MAX_SCALE = 1.15
_MIN_SCALE = 0.3
_READABLE_SCALE = 0.85
_GLYPH_SCALES = (1.0, 0.8, 0.65, 0.5, 0.4)


@dataclass
class _Tensor:
    shape: tuple[int, ...]
    producer: str  # layer type that made it, "" for the input
    params: int = 0
    passes: list[str] = field(default_factory=list)  # shape-keeping layers applied after it
    glyph: float = 1.0  # drawing scale of the block (text keeps its size)
    layer: int = -1  # index of the layer that made it, -1 for the input

    def size(self, vertical: bool = False) -> tuple[float, float, float]:
        """Width of the front face, its height, and the depth of the block (0 for a vector).

        A vector is a bar across the flow: upright when the diagram runs left to right, lying when it runs
        top to bottom.
        """
        g = self.glyph
        if len(self.shape) == 3:
            c, h, w = self.shape
            height = g * min(120.0, 14 + 3.2 * h)
            width = g * min(120.0, 14 + 3.2 * w)
            depth = g * min(64.0, 6 + 9 * math.log2(max(c, 1)))
            return width, height, depth
        length = g * min(190.0, 18 + 15 * math.log2(max(math.prod(self.shape), 1)))
        thickness = max(8.0, 14.0 * g)
        return (length, thickness, 0.0) if vertical else (max(8.0, 16.0 * g), length, 0.0)


#: The blocks whose units a click can open: layers with weights and a bias per unit.
UNIT_PRODUCERS = ("Dense", "Conv2D")


class ArchitectureView(QWidget):
    """Draws the state's network; repaints when it changes."""

    unit_clicked = Signal(int, object)
    """A unit's block was clicked: the layer's index and the unit, ``(j,)`` or ``(channel, row, column)``."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self.setObjectName("architectureView")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(QSize(240, 200))
        self.orientation = "horizontal"
        """How the last paint laid the diagram out: ``"horizontal"`` or ``"vertical"`` (whichever is larger)."""
        # The last paint's layout, scale and offset, for finding the block under the mouse.
        self._placed: tuple[_Layout, float, float, float] | None = None
        self.setToolTip("Click a Dense or Conv2D block to look inside one of its units for one sample")
        self.setMouseTracking(True)
        state.network_changed.connect(self.update)

    def tensors(self) -> list[_Tensor]:
        """The tensors of the analysed part of the network, each with the shape-keeping layers after it."""
        analysis = self._state.analysis
        if analysis.input_shape is None:
            return []
        tensors = [_Tensor(tuple(analysis.input_shape), "")]
        for index, info in enumerate(analysis.layers):
            previous = tensors[-1]
            learned_map = info.type_name in ("Dense", "Conv2D")  # a new tensor even when the shape stays
            keeps_shape = tuple(info.output_shape or ()) == previous.shape and not learned_map
            if keeps_shape:
                previous.passes.append(info.type_name)
                previous.params += info.param_count  # BatchNorm's gamma and beta
            else:
                tensors.append(
                    _Tensor(tuple(info.output_shape or ()), info.type_name, info.param_count, layer=index)
                )
        return tensors

    def unit_at(self, position: QPointF) -> tuple[int, tuple[int, ...]] | None:
        """The layer and unit under ``position`` (widget pixels) in the last painted diagram, or None."""
        if self._placed is None:
            return None
        layout, scale, dx, dy = self._placed
        x, y = (position.x() - dx) / scale, (position.y() - dy) / scale
        for item in layout.items:
            tensor, front = item.tensor, item.front
            if tensor.producer not in UNIT_PRODUCERS or tensor.layer < 0:
                continue
            if not front.adjusted(-3, -3, 3, 3).contains(QPointF(x, y)):
                continue
            fx = min(max((x - front.left()) / max(front.width(), 1e-9), 0.0), 0.999999)
            fy = min(max((y - front.top()) / max(front.height(), 1e-9), 0.0), 0.999999)
            if len(tensor.shape) == 3:
                return tensor.layer, (0, int(fy * tensor.shape[1]), int(fx * tensor.shape[2]))
            units = math.prod(tensor.shape)
            along = fx if layout.vertical else fy
            return tensor.layer, (int(along * units),)
        return None

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        over_unit = self.unit_at(event.position()) is not None
        self.setCursor(Qt.CursorShape.PointingHandCursor if over_unit else Qt.CursorShape.ArrowCursor)
        super().mouseMoveEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            found = self.unit_at(event.position())
            if found is not None:
                self.unit_clicked.emit(*found)
                return
        super().mousePressEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        colors = theme.colors()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), colors.plot_background)
        tensors = self.tensors()
        error = self._state.analysis.error
        error_text = spec_error_text(error) if error is not None else ""
        fonts = _Fonts(self.font())
        # Shrink the blocks before the text: try smaller glyphs until the text keeps a readable size.
        chosen: tuple[float, _Layout, float] | None = None
        for glyph in _GLYPH_SCALES:
            for tensor in tensors:
                tensor.glyph = glyph
            layouts = [_layout(tensors, error_text, fonts, vertical) for vertical in (False, True)]
            scales = [
                min(_MAX_SCALE, self.width() / lay.width, self.height() / lay.height) for lay in layouts
            ]
            best = 0 if scales[0] >= scales[1] * 0.9 else 1
            if chosen is None or scales[best] > chosen[2]:
                chosen = (glyph, layouts[best], scales[best])
            if scales[best] >= _READABLE_SCALE:
                break
        assert chosen is not None
        for tensor in tensors:
            tensor.glyph = chosen[0]
        layout, scale = chosen[1], max(chosen[2], _MIN_SCALE)
        self.orientation = "vertical" if layout.vertical else "horizontal"
        dx = max(0.0, (self.width() - layout.width * scale) / 2)
        dy = max(0.0, (self.height() - layout.height * scale) / 2)
        self._placed = (layout, scale, dx, dy)
        painter.translate(dx, dy)
        painter.scale(scale, scale)
        painter.setFont(fonts.normal)
        painter.setPen(colors.secondary_text)
        painter.drawText(QPointF(_MARGIN, _MARGIN), str(self._state.spec.get("name", "")))
        for item in layout.items:
            self._draw_item(painter, item, layout.vertical, fonts, colors)
        if layout.error_rect is not None:
            painter.setPen(QPen(colors.error, 1.5))
            painter.setBrush(colors.error_background)
            painter.drawRoundedRect(layout.error_rect, 8, 8)
            painter.setFont(fonts.small)
            painter.drawText(
                layout.error_rect.adjusted(10, 6, -10, -6),
                Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextWordWrap,
                error_text,
            )
        painter.end()

    def _draw_item(
        self, painter: QPainter, item: _Item, vertical: bool, fonts: _Fonts, colors: theme.ThemeColors
    ) -> None:
        tensor = item.tensor
        d = tensor.size(vertical)[2]
        color = category_color(tensor.producer) if tensor.producer else QColor(colors.accent)
        self._draw_tensor(painter, item.front, d, color, colors.dark)
        title = tensor.producer or "Input"
        params = f"{compact_count(tensor.params)} params" if tensor.params else ""
        if vertical:  # one line beside the block: "30×24×24 · 780 params"
            lines = [" · ".join(filter(None, [shape_text(tensor.shape), params]))]
        else:
            lines = [shape_text(tensor.shape)] + ([params] if params else [])
        line_h = fonts.small_metrics.height()
        if vertical:
            x = item.front.left() + item.column_width + 14
            top = item.front.center().y() - (fonts.metrics.height() + line_h * len(lines)) / 2
            painter.setFont(fonts.bold)
            painter.setPen(colors.text)
            painter.drawText(QRectF(x, top, 400, fonts.metrics.height()), Qt.AlignmentFlag.AlignLeft, title)
            painter.setFont(fonts.small)
            painter.setPen(colors.secondary_text)
            for k, text in enumerate(lines):
                y = top + fonts.metrics.height() + k * line_h
                painter.drawText(QRectF(x, y, 400, line_h), Qt.AlignmentFlag.AlignLeft, text)
        else:
            centre = item.slot.center().x()
            painter.setFont(fonts.bold)
            painter.setPen(colors.text)
            top = item.front.top() - d * 0.6 - fonts.metrics.height() - 8
            painter.drawText(
                QRectF(centre - 100, top, 200, fonts.metrics.height()), Qt.AlignmentFlag.AlignCenter, title
            )
            painter.setFont(fonts.small)
            painter.setPen(colors.secondary_text)
            for k, text in enumerate(lines):
                rect = QRectF(centre - 100, item.front.bottom() + 8 + k * line_h, 200, line_h)
                painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
        if item.arrow is None:
            return
        start, end = item.arrow
        self._draw_arrow(painter, start, end, colors.secondary_text)
        painter.setFont(fonts.small)
        for name, rect in item.pills:
            pill = category_color(name)
            painter.setPen(QPen(pill, 1.2))
            painter.setBrush(colors.plot_background)
            painter.drawRoundedRect(rect, rect.height() / 2, rect.height() / 2)
            painter.setPen(pill.lighter(130) if colors.dark else pill.darker(115))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, name)

    @staticmethod
    def _draw_tensor(painter: QPainter, front: QRectF, depth: float, color: QColor, dark: bool) -> None:
        fill = QColor(color)
        fill.setAlphaF(0.32 if dark else 0.22)
        edge = color.lighter(120) if dark else color.darker(120)
        painter.setPen(QPen(edge, 1.2))
        if depth > 0:
            dx, dy = depth * 0.6, -depth * 0.6
            top = QPolygonF(
                [
                    front.topLeft(),
                    front.topLeft() + QPointF(dx, dy),
                    front.topRight() + QPointF(dx, dy),
                    front.topRight(),
                ]
            )
            side = QPolygonF(
                [
                    front.topRight(),
                    front.topRight() + QPointF(dx, dy),
                    front.bottomRight() + QPointF(dx, dy),
                    front.bottomRight(),
                ]
            )
            side_fill = QColor(fill)
            side_fill.setAlphaF(min(1.0, fill.alphaF() * 1.8))
            painter.setBrush(side_fill)
            painter.drawPolygon(side)
            top_fill = QColor(fill)
            top_fill.setAlphaF(min(1.0, fill.alphaF() * 1.3))
            painter.setBrush(top_fill)
            painter.drawPolygon(top)
        painter.setBrush(fill)
        painter.drawRect(front)

    @staticmethod
    def _draw_arrow(painter: QPainter, start: QPointF, end: QPointF, color: QColor) -> None:
        length = math.hypot(end.x() - start.x(), end.y() - start.y())
        if length < 8:
            return
        ux, uy = (end.x() - start.x()) / length, (end.y() - start.y()) / length
        painter.setPen(QPen(color, 1.3))
        painter.drawLine(start, end)
        head = QPainterPath(end)
        head.lineTo(end.x() - 7 * ux - 4 * uy, end.y() - 7 * uy + 4 * ux)
        head.lineTo(end.x() - 7 * ux + 4 * uy, end.y() - 7 * uy - 4 * ux)
        head.closeSubpath()
        painter.setBrush(color)
        painter.drawPath(head)


class _Fonts:
    """The diagram's fonts and their metrics."""

    def __init__(self, base: QFont) -> None:
        self.normal = QFont(base)
        self.bold = QFont(base)
        self.bold.setBold(True)
        self.small = QFont(base)
        self.small.setPointSizeF(base.pointSizeF() * 0.88)
        self.metrics = QFontMetricsF(self.bold)
        self.small_metrics = QFontMetricsF(self.small)


@dataclass
class _Item:
    """One tensor placed on the canvas, with the arrow to the next one and the labels on that arrow."""

    tensor: _Tensor
    slot: QRectF
    front: QRectF
    column_width: float = 0.0
    arrow: tuple[QPointF, QPointF] | None = None
    pills: list[tuple[str, QRectF]] = field(default_factory=list)


@dataclass
class _Layout:
    items: list[_Item]
    width: float
    height: float
    vertical: bool
    error_rect: QRectF | None


def _pill_size(name: str, fonts: _Fonts) -> tuple[float, float]:
    return fonts.small_metrics.horizontalAdvance(name) + 14, fonts.small_metrics.height() + 4


def _layout(tensors: list[_Tensor], error_text: str, fonts: _Fonts, vertical: bool) -> _Layout:
    """Place the tensors left to right (or top to bottom), on a canvas in unscaled pixels."""
    items: list[_Item] = []
    title_h = fonts.metrics.height() + 12
    error_size = (
        QSizeF(min(260.0, fonts.small_metrics.horizontalAdvance(error_text) / 3 + 40), 84)
        if error_text
        else None
    )
    if not vertical:
        label_h = fonts.metrics.height() + 8
        tallest = max((t.size()[1] + t.size()[2] * 0.6 for t in tensors), default=60.0)
        mid_y = _MARGIN + title_h + label_h + tallest / 2
        x = float(_MARGIN)
        for tensor in tensors:
            w, h, d = tensor.size()
            labels = [
                tensor.producer or "Input",
                shape_text(tensor.shape),
                f"{compact_count(tensor.params)} params",
            ]
            slot_w = max(w + d * 0.6, max(fonts.metrics.horizontalAdvance(t) for t in labels))
            front = QRectF(x + (slot_w - w - d * 0.6) / 2, mid_y - h / 2 + d * 0.3, w, h)
            items.append(_Item(tensor, QRectF(x, mid_y - tallest / 2, slot_w, tallest), front))
            pill_w = max((_pill_size(p, fonts)[0] for p in tensor.passes), default=0.0)
            x += slot_w + max(_GAP * 1.6, pill_w + 24)
        for i, item in enumerate(items):
            has_next = i + 1 < len(items)
            if not has_next and not error_text:
                continue
            start = QPointF(item.slot.right() + 6, mid_y)
            end = QPointF(
                (items[i + 1].slot.left() if has_next else item.slot.right() + _GAP * 1.6) - 6, mid_y
            )
            item.arrow = (start, end)
            heights = [_pill_size(p, fonts)[1] + 6 for p in item.tensor.passes]
            y = mid_y - sum(heights) / 2
            for name, step in zip(item.tensor.passes, heights, strict=True):
                pw, ph = _pill_size(name, fonts)
                item.pills.append((name, QRectF((start.x() + end.x()) / 2 - pw / 2, y, pw, ph)))
                y += step
        width = (items[-1].slot.right() if items else x) + _MARGIN
        error_rect = None
        if error_size is not None:
            left = items[-1].arrow[1].x() + 8 if items and items[-1].arrow else float(_MARGIN)
            error_rect = QRectF(
                left, mid_y - error_size.height() / 2, error_size.width(), error_size.height()
            )
            width = error_rect.right() + _MARGIN
        height = mid_y + tallest / 2 + 2 * fonts.small_metrics.height() + 16 + _MARGIN
        return _Layout(items, width, height, False, error_rect)

    column = max((t.size(True)[0] + t.size(True)[2] * 0.6 for t in tensors), default=40.0)
    label_w = max(
        (
            max(
                fonts.metrics.horizontalAdvance(t.producer or "Input"),
                fonts.small_metrics.horizontalAdvance(
                    f"{shape_text(t.shape)} · {compact_count(t.params)} params"
                ),
            )
            for t in tensors
        ),
        default=60.0,
    )
    axis_x = _MARGIN + column / 2
    y = _MARGIN + title_h
    widest = _MARGIN + column + 14 + label_w
    for tensor in tensors:
        w, h, d = tensor.size(True)
        slot_h = max(h + d * 0.6, fonts.metrics.height() + fonts.small_metrics.height())
        front = QRectF(axis_x - (w + d * 0.6) / 2, y + (slot_h - h - d * 0.6) / 2 + d * 0.6, w, h)
        item = _Item(
            tensor, QRectF(_MARGIN, y, column, slot_h), front, column_width=column - (front.left() - _MARGIN)
        )
        items.append(item)
        y += slot_h + _GAP * 1.1
    for i, item in enumerate(items):
        has_next = i + 1 < len(items)
        if not has_next and not error_text:
            continue
        start = QPointF(axis_x, item.slot.bottom() + 6)
        end = QPointF(axis_x, (items[i + 1].slot.top() if has_next else item.slot.bottom() + _GAP * 1.1) - 4)
        item.arrow = (start, end)
        x = axis_x + 12
        for name in item.tensor.passes:
            pw, ph = _pill_size(name, fonts)
            item.pills.append((name, QRectF(x, (start.y() + end.y()) / 2 - ph / 2, pw, ph)))
            x += pw + 6
        widest = max(widest, x)
    height = (items[-1].slot.bottom() if items else y) + _MARGIN
    error_rect = None
    if error_size is not None:
        top = items[-1].arrow[1].y() + 6 if items and items[-1].arrow else y
        error_rect = QRectF(_MARGIN, top, max(error_size.width(), 220.0), error_size.height())
        height = error_rect.bottom() + _MARGIN
        widest = max(widest, error_rect.right())
    return _Layout(items, widest + _MARGIN, height, True, error_rect)
