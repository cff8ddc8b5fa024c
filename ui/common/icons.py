"""Icons drawn with QPainter at whatever size and pixel ratio they are shown, so they stay crisp on HiDPI.

Each layer type has a glyph on a tile in its category's colour; an activation's glyph is the graph of the
engine's own function. Action icons are line drawings in the palette's text colour, looked up at paint time
so they follow a theme change.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QGuiApplication,
    QIcon,
    QIconEngine,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPixmap,
    QPolygonF,
)

from dllab.spec import LAYER_TYPES
from ui.common.theme import CATEGORY_COLORS

Glyph = Callable[[QPainter, QColor], None]
"""Draws into the unit square [0, 1]² (the painter is already scaled) in the given colour."""


class _GlyphEngine(QIconEngine):
    """An icon engine that paints a glyph at any size and device pixel ratio.

    Each size, mode and palette is drawn once and kept as a pixmap: a panel full of layer icons repaints
    whenever it is enabled, disabled or scrolled, and drawing the glyphs' paths anew each time costs tens of
    milliseconds.
    """

    #: Pixmaps kept per icon at the most (sizes times modes times palettes); the oldest go first.
    CACHE_SIZE = 16

    def __init__(self, draw: Callable[[QPainter, QIcon.Mode], None]) -> None:
        super().__init__()
        self._draw = draw
        self._pixmaps: dict[tuple[Any, ...], QPixmap] = {}

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        device = painter.device()
        scale = device.devicePixelRatioF() if device is not None else 1.0
        painter.drawPixmap(rect, self.scaledPixmap(rect.size(), mode, state, scale))

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        return self.scaledPixmap(size, mode, state, 1.0)

    def scaledPixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State, scale: float) -> QPixmap:
        key = (size.width(), size.height(), mode, round(scale, 3), QGuiApplication.palette().cacheKey())
        pixmap = self._pixmaps.get(key)
        if pixmap is None:
            pixmap = QPixmap(max(1, round(size.width() * scale)), max(1, round(size.height() * scale)))
            pixmap.fill(Qt.GlobalColor.transparent)
            painter = QPainter(pixmap)
            self._render(painter, QRect(0, 0, pixmap.width(), pixmap.height()), mode)
            painter.end()
            pixmap.setDevicePixelRatio(scale)
            if len(self._pixmaps) >= self.CACHE_SIZE:
                del self._pixmaps[next(iter(self._pixmaps))]
            self._pixmaps[key] = pixmap
        return pixmap

    def _render(self, painter: QPainter, rect: QRect, mode: QIcon.Mode) -> None:
        side = min(rect.width(), rect.height())
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.translate(rect.x() + (rect.width() - side) / 2, rect.y() + (rect.height() - side) / 2)
        painter.scale(side, side)
        self._draw(painter, mode)
        painter.restore()

    def clone(self) -> QIconEngine:
        return _GlyphEngine(self._draw)

    def key(self) -> str:
        return "dllab-glyph"


def _polygon(*points: tuple[float, float]) -> QPolygonF:
    """The points ``(x, y)`` of the icon's unit square (y downwards), in order, as a polygon or polyline."""
    return QPolygonF([QPointF(x, y) for x, y in points])


def _pen(color: QColor, width: float = 0.065) -> QPen:
    pen = QPen(color, width)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    return pen


def _with_alpha(color: QColor, alpha: float) -> QColor:
    c = QColor(color)
    c.setAlphaF(alpha)
    return c


# --- layer glyphs ------------------------------------------------------------------------------------------


def _dense(p: QPainter, c: QColor) -> None:
    left = [QPointF(0.3, y) for y in (0.3, 0.5, 0.7)]
    right = [QPointF(0.7, y) for y in (0.38, 0.62)]
    p.setPen(_pen(_with_alpha(c, 0.7), 0.035))
    for a in left:
        for b in right:
            p.drawLine(a, b)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(c)
    for pt in left + right:
        p.drawEllipse(pt, 0.065, 0.065)


def _conv(p: QPainter, c: QColor) -> None:
    p.setBrush(_with_alpha(c, 0.18))
    p.setPen(_pen(c, 0.05))
    for k in (2, 1, 0):
        off = 0.08 * k
        p.drawRoundedRect(QRectF(0.2 + off, 0.2 + off * 0.0 + (0.16 - off), 0.44, 0.44), 0.04, 0.04)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(c)
    p.drawRoundedRect(QRectF(0.24, 0.4, 0.16, 0.16), 0.02, 0.02)


def _pool(p: QPainter, c: QColor, *, average: bool) -> None:
    size, gap, x0, y0 = 0.22, 0.04, 0.26, 0.26
    for i in range(2):
        for j in range(2):
            rect = QRectF(x0 + j * (size + gap), y0 + i * (size + gap), size, size)
            strong = average or (i, j) == (0, 1)
            p.setPen(_pen(c, 0.045))
            p.setBrush(_with_alpha(c, 0.55 if average else (0.95 if strong else 0.12)))
            p.drawRoundedRect(rect, 0.03, 0.03)


def _flatten(p: QPainter, c: QColor) -> None:
    p.setPen(_pen(c, 0.045))
    p.setBrush(_with_alpha(c, 0.25))
    for i in range(2):
        for j in range(2):
            p.drawRect(QRectF(0.17 + j * 0.13, 0.36 + i * 0.13, 0.13, 0.13))
    p.setPen(_pen(c, 0.055))
    p.drawLine(QPointF(0.49, 0.5), QPointF(0.6, 0.5))
    p.drawLine(QPointF(0.56, 0.45), QPointF(0.61, 0.5))
    p.drawLine(QPointF(0.56, 0.55), QPointF(0.61, 0.5))
    p.setPen(_pen(c, 0.045))
    for k in range(4):
        p.drawRect(QRectF(0.68, 0.22 + k * 0.14, 0.13, 0.14))


def _batchnorm(p: QPainter, c: QColor) -> None:
    xs = np.linspace(-2.6, 2.6, 48)
    ys = np.exp(-0.5 * xs**2)
    path = QPainterPath(QPointF(0.18, 0.74))
    for x, y in zip(xs, ys, strict=True):
        path.lineTo(QPointF(0.5 + x * 0.125, 0.74 - y * 0.46))
    path.lineTo(QPointF(0.82, 0.74))
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(_with_alpha(c, 0.22))
    p.drawPath(path)
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.setPen(_pen(c, 0.06))
    p.drawPath(path)
    p.setPen(_pen(_with_alpha(c, 0.6), 0.035))
    p.drawLine(QPointF(0.5, 0.24), QPointF(0.5, 0.78))


def _dropout(p: QPainter, c: QColor) -> None:
    dropped = {(0, 1), (1, 2), (2, 0)}
    for i in range(3):
        for j in range(3):
            centre = QPointF(0.3 + 0.2 * j, 0.3 + 0.2 * i)
            if (i, j) in dropped:
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.setPen(_pen(_with_alpha(c, 0.6), 0.035))
                p.drawEllipse(centre, 0.065, 0.065)
            else:
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(c)
                p.drawEllipse(centre, 0.07, 0.07)


# Settings that make a glyph readable at icon size (a 0.01 leak is invisible at 16 px).
_ICON_OPTIONS: dict[str, dict[str, float]] = {"LeakyReLU": {"alpha": 0.15}}


def _activation(type_name: str) -> Glyph:
    """The graph of the engine's activation function on [-3, 3]."""

    def draw(p: QPainter, c: QColor) -> None:
        layer = LAYER_TYPES[type_name](**_ICON_OPTIONS.get(type_name, {}))
        xs = np.linspace(-3.0, 3.0, 121)
        ys = np.asarray(layer.function(xs), dtype=float)
        low, high = min(float(ys.min()), -0.2), max(float(ys.max()), 1.0)
        span = high - low

        def to_point(x: float, y: float) -> QPointF:
            return QPointF(0.18 + (x + 3.0) / 6.0 * 0.64, 0.8 - (y - low) / span * 0.6)

        p.setPen(_pen(_with_alpha(c, 0.45), 0.03))
        p.drawLine(to_point(-3.0, 0.0), to_point(3.0, 0.0))
        p.drawLine(to_point(0.0, low), to_point(0.0, high))
        path = QPainterPath(to_point(xs[0], ys[0]))
        for x, y in zip(xs[1:], ys[1:], strict=True):
            path.lineTo(to_point(x, y))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(_pen(c, 0.075))
        p.drawPath(path)

    return draw


_LAYER_GLYPHS: dict[str, Glyph] = {
    "Dense": _dense,
    "Conv2D": _conv,
    "MaxPool2D": lambda p, c: _pool(p, c, average=False),
    "AvgPool2D": lambda p, c: _pool(p, c, average=True),
    "Flatten": _flatten,
    "BatchNorm": _batchnorm,
    "Dropout": _dropout,
}


def category_color(type_name: str) -> QColor:
    """The colour of a layer type's category (grey for unknown types)."""
    cls = LAYER_TYPES.get(type_name)
    return QColor(CATEGORY_COLORS.get(cls.category if cls else "", "#8c959f"))


def _draw_generic(p: QPainter, c: QColor) -> None:
    p.setPen(_pen(c, 0.06))
    p.setBrush(_with_alpha(c, 0.2))
    p.drawRoundedRect(QRectF(0.28, 0.28, 0.44, 0.44), 0.08, 0.08)


@cache
def layer_icon(type_name: str) -> QIcon:
    """The icon of a layer type: its glyph on a rounded tile in the category's colour."""
    cls = LAYER_TYPES.get(type_name)
    if cls is not None and cls.category == "Activation":
        glyph = _activation(type_name)
    else:
        glyph = _LAYER_GLYPHS.get(type_name, _draw_generic)
    color = category_color(type_name)

    def draw(p: QPainter, mode: QIcon.Mode) -> None:
        c = QColor(color)
        if mode == QIcon.Mode.Disabled:
            c.setHsv(c.hue(), 0, c.value())
        dark = QGuiApplication.palette().color(QPalette.ColorRole.Window).lightness() < 128
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(_with_alpha(c, 0.26 if dark else 0.14))
        p.drawRoundedRect(QRectF(0.02, 0.02, 0.96, 0.96), 0.22, 0.22)
        glyph(p, c.lighter(125) if dark else c.darker(110))

    return QIcon(_GlyphEngine(draw))


# --- action glyphs -----------------------------------------------------------------------------------------


def _line_icon(glyph: Glyph, color: str | None = None) -> QIcon:
    def draw(p: QPainter, mode: QIcon.Mode) -> None:
        palette = QGuiApplication.palette()
        group = QPalette.ColorGroup.Disabled if mode == QIcon.Mode.Disabled else QPalette.ColorGroup.Active
        c = QColor(color) if color else palette.color(group, QPalette.ColorRole.WindowText)
        if color and mode == QIcon.Mode.Disabled:
            c = palette.color(group, QPalette.ColorRole.WindowText)
        glyph(p, c)

    return QIcon(_GlyphEngine(draw))


def _new(p: QPainter, c: QColor) -> None:
    p.setPen(_pen(c, 0.06))
    p.drawPolygon(_polygon((0.26, 0.12), (0.58, 0.12), (0.76, 0.3), (0.76, 0.88), (0.26, 0.88)))
    p.drawPolyline(_polygon((0.58, 0.12), (0.58, 0.3), (0.76, 0.3)))


def _open(p: QPainter, c: QColor) -> None:
    p.setPen(_pen(c, 0.06))
    p.drawPolyline(_polygon((0.12, 0.8), (0.12, 0.22), (0.38, 0.22), (0.46, 0.32), (0.8, 0.32), (0.8, 0.44)))
    front = _polygon((0.12, 0.8), (0.26, 0.46), (0.92, 0.46), (0.78, 0.8))
    p.drawPolygon(front)


def _save(p: QPainter, c: QColor) -> None:
    """A floppy disk: the body with its cut corner, the shutter at the top, the label below."""
    p.setPen(_pen(c, 0.065))
    p.drawPolygon(_polygon((0.16, 0.14), (0.7, 0.14), (0.86, 0.3), (0.86, 0.86), (0.16, 0.86)))
    p.drawPolyline(_polygon((0.32, 0.14), (0.32, 0.36), (0.64, 0.36), (0.64, 0.14)))
    p.drawRect(QRectF(0.3, 0.56, 0.42, 0.3))


def _export(p: QPainter, c: QColor) -> None:
    """An arrow out of the window into a tray: a file written elsewhere (PNG, CSV, a model)."""
    p.setPen(_pen(c, 0.065))
    p.drawLine(QPointF(0.5, 0.12), QPointF(0.5, 0.6))
    p.drawPolyline(_polygon((0.3, 0.42), (0.5, 0.62), (0.7, 0.42)))
    p.drawPolyline(_polygon((0.16, 0.62), (0.16, 0.86), (0.84, 0.86), (0.84, 0.62)))


def _arrow(p: QPainter, c: QColor, *, mirror: bool) -> None:
    if mirror:
        p.translate(1.0, 0.0)
        p.scale(-1.0, 1.0)
    p.setPen(_pen(c, 0.065))
    path = QPainterPath(QPointF(0.22, 0.42))
    path.cubicTo(QPointF(0.42, 0.22), QPointF(0.86, 0.26), QPointF(0.82, 0.6))
    path.cubicTo(QPointF(0.8, 0.76), QPointF(0.66, 0.82), QPointF(0.52, 0.82))
    p.drawPath(path)
    p.drawPolyline(_polygon((0.22, 0.2), (0.22, 0.42), (0.44, 0.42)))


def _delete(p: QPainter, c: QColor) -> None:
    p.setPen(_pen(c, 0.06))
    p.drawLine(QPointF(0.18, 0.26), QPointF(0.82, 0.26))
    p.drawPolyline(_polygon((0.4, 0.26), (0.42, 0.14), (0.58, 0.14), (0.6, 0.26)))
    p.drawPolyline(_polygon((0.26, 0.26), (0.31, 0.86), (0.69, 0.86), (0.74, 0.26)))
    p.drawLine(QPointF(0.44, 0.42), QPointF(0.45, 0.72))
    p.drawLine(QPointF(0.56, 0.42), QPointF(0.55, 0.72))


def _duplicate(p: QPainter, c: QColor) -> None:
    p.setPen(_pen(c, 0.06))
    p.drawRoundedRect(QRectF(0.14, 0.14, 0.48, 0.48), 0.07, 0.07)
    p.setBrush(QGuiApplication.palette().color(QPalette.ColorRole.Window))
    p.drawRoundedRect(QRectF(0.38, 0.38, 0.48, 0.48), 0.07, 0.07)


def _play(p: QPainter, c: QColor) -> None:
    p.setPen(_pen(c, 0.06))
    p.setBrush(c)
    p.drawPolygon(_polygon((0.3, 0.18), (0.82, 0.5), (0.3, 0.82)))


def _stop(p: QPainter, c: QColor) -> None:
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(c)
    p.drawRoundedRect(QRectF(0.24, 0.24, 0.52, 0.52), 0.06, 0.06)


def _pause(p: QPainter, c: QColor) -> None:
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(c)
    p.drawRoundedRect(QRectF(0.26, 0.2, 0.16, 0.6), 0.04, 0.04)
    p.drawRoundedRect(QRectF(0.58, 0.2, 0.16, 0.6), 0.04, 0.04)


def _step(p: QPainter, c: QColor) -> None:
    p.setPen(_pen(c, 0.06))
    p.setBrush(c)
    p.drawPolygon(_polygon((0.22, 0.2), (0.62, 0.5), (0.22, 0.8)))
    p.setPen(Qt.PenStyle.NoPen)
    p.drawRoundedRect(QRectF(0.66, 0.2, 0.12, 0.6), 0.03, 0.03)


def _refresh(p: QPainter, c: QColor) -> None:
    p.setPen(_pen(c, 0.065))
    p.drawArc(QRectF(0.2, 0.2, 0.6, 0.6), 60 * 16, 280 * 16)
    p.drawPolyline(_polygon((0.6, 0.1), (0.66, 0.25), (0.5, 0.3)))


def _folder(p: QPainter, c: QColor) -> None:
    p.setPen(_pen(c, 0.06))
    p.drawPolygon(
        _polygon((0.12, 0.78), (0.12, 0.24), (0.38, 0.24), (0.46, 0.34), (0.88, 0.34), (0.88, 0.78))
    )


def _network(p: QPainter, c: QColor) -> None:
    columns = [(0.22, (0.32, 0.68)), (0.5, (0.22, 0.5, 0.78)), (0.78, (0.5,))]
    nodes = [[QPointF(x, y) for y in ys] for x, ys in columns]
    p.setPen(_pen(_with_alpha(c, 0.75), 0.04))
    for a_col, b_col in itertools.pairwise(nodes):
        for a in a_col:
            for b in b_col:
                p.drawLine(a, b)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(c)
    for col in nodes:
        for pt in col:
            p.drawEllipse(pt, 0.075, 0.075)


_ACTION_GLYPHS: dict[str, Glyph] = {
    "new": _new,
    "open": _open,
    "save": _save,
    "export": _export,
    "undo": lambda p, c: _arrow(p, c, mirror=False),
    "redo": lambda p, c: _arrow(p, c, mirror=True),
    "delete": _delete,
    "duplicate": _duplicate,
    "refresh": _refresh,
    "folder": _folder,
    "network": _network,
    "pause": _pause,
    "step": _step,
}


@cache
def action_icon(name: str) -> QIcon:
    """A line icon for an action: new, open, save, export, undo, redo, delete, duplicate, refresh, folder, network,
    pause, step, train, stop, or train_on_accent (white, for the green Train button)."""
    if name == "train":
        return _line_icon(_play, "#22a55b")
    if name == "train_on_accent":
        return _line_icon(_play, "#ffffff")
    if name == "stop":
        return _line_icon(_stop, "#cf222e")
    return _line_icon(_ACTION_GLYPHS[name])


@cache
def app_icon() -> QIcon:
    """The application's icon: a small network on an accent-coloured tile."""

    def draw(p: QPainter, mode: QIcon.Mode) -> None:
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QBrush(QColor("#2f6fed")))
        p.drawRoundedRect(QRectF(0.04, 0.04, 0.92, 0.92), 0.22, 0.22)
        p.save()
        p.translate(0.1, 0.1)
        p.scale(0.8, 0.8)
        _network(p, QColor("#ffffff"))
        p.restore()

    return QIcon(_GlyphEngine(draw))
