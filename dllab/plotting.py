"""Plots without a plotting library: a 5x7 bitmap font, lines, curves, markers, legends, ticks and axes on a
numpy RGB canvas, and a PNG writer (zlib + struct). The engine draws its figures (e.g. a comparison's overlaid
curves) with these, so it needs neither Qt nor matplotlib.
"""

from __future__ import annotations

import math
import os
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dllab.files import atomic_write

# A 5x7 bitmap font: for each character of _FONT_CHARS, 7 rows of 5 bits as two hex digits each. The letters
# of _DESCENDERS are drawn two rows lower (their data starts at the x-height).
_FONT_CHARS = "0123456789abcdefghijklmnopqrstuvwxyz.,-=+:()/%_?"
_DESCENDERS = "gpqy"
_FONT_DATA = (
    "0e11131519110e040c040404040e0e11010204081f1f02040201110e02060a121f02021f101e0101110e0608101e11110e"
    "1f0102040808080e11110e11110e0e11110f01020c00000e010f110f1010161911111e00000e1010110e01010d1311110f"
    "00000e111f100e0609081c0808080f1111110f010e1010161911111104000c0404040e0200060202120c10101214181412"
    "0c04040404040e00001a151511110000161911111100000e1111110e1e1111111e10100f1111110f010100001619101010"
    "00000e100e011e08081c080809060000111111130d00001111110a040000111115150a0000110a040a11111111110f010e"
    "00001f0204081f00000000000c0c000000000c04080000001f00000000001f001f00000004041f040400000c0c000c0c00"
    "020408080804020804020202040800010204081000181902040813030000000000001f0e110102040004"
)
_GLYPHS = {
    ch: np.array(
        [
            [(int(_FONT_DATA[14 * i + 2 * r : 14 * i + 2 * r + 2], 16) >> (4 - c)) & 1 for c in range(5)]
            for r in range(7)
        ],
        dtype=bool,
    )
    for i, ch in enumerate(_FONT_CHARS)
}
#: Line colours (the "tab10" palette).
COLORS = (
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
)
BLACK, GREY, _LIGHT = (30, 30, 30), (120, 120, 120), (228, 228, 228)


def text_width(text: str, scale: int = 1) -> int:
    """Width in pixels of ``text`` drawn by :func:`draw_text`."""
    return max(len(text) * 6 - 1, 0) * scale


def draw_text(
    image: np.ndarray, x: int, y: int, text: str, color: tuple[int, int, int], scale: int = 1
) -> None:
    """Draw ``text`` with the built-in 5x7 font, top-left corner at ``(x, y)`` (upper case drawn as lower)."""
    for k, ch in enumerate(text.lower()):
        if ch == " ":
            continue
        glyph = _GLYPHS.get(ch, _GLYPHS["?"])
        if scale > 1:
            glyph = glyph.repeat(scale, axis=0).repeat(scale, axis=1)
        gx = x + k * 6 * scale
        gy = y + (2 * scale if ch in _DESCENDERS else 0)
        h, w = glyph.shape
        y0, y1, x0, x1 = max(gy, 0), min(gy + h, image.shape[0]), max(gx, 0), min(gx + w, image.shape[1])
        if y0 < y1 and x0 < x1:
            region = glyph[y0 - gy : y1 - gy, x0 - gx : x1 - gx]
            image[y0:y1, x0:x1][region] = color


def clip_polyline(
    xs: np.ndarray, ys: np.ndarray, box: tuple[int, int, int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """The parts of a polyline inside a box, as NaN-separated segments (Liang-Barsky clipping).

    A diverging loss gives pixel coordinates far outside any canvas (1e32 and more); clipping each segment
    to the box first keeps the visible part exact and every coordinate small. Each end of a visible part is
    computed from the nearer end of its segment, so a huge coordinate at the other end costs no precision.

    Parameters
    ----------
    xs, ys
        Pixel coordinates; a non-finite point breaks the line.
    box
        ``(left, top, right, bottom)``.

    Returns
    -------
    tuple of numpy.ndarray
        Each visible segment as two points followed by NaN, then each isolated visible point followed by
        NaN (what :func:`draw_polyline` draws).
    """
    xs, ys = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
    left, top, right, bottom = box
    finite = np.isfinite(xs) & np.isfinite(ys)
    x0, y0, x1, y1 = xs[:-1], ys[:-1], xs[1:], ys[1:]
    segment = finite[:-1] & finite[1:]
    with np.errstate(all="ignore"):
        dx, dy = x1 - x0, y1 - y0
        # The visible part runs from t0 to t1 along the segment; u0 = 1 - t0 and u1 = 1 - t1 are measured
        # from its end, each computed directly: next to a huge coordinate, 1 - t would round to nothing.
        t0, t1 = np.zeros(len(x0)), np.ones(len(x0))
        u0, u1 = np.ones(len(x0)), np.zeros(len(x0))
        for p, q, r in (
            (-dx, x0 - left, left - x1),
            (dx, right - x0, x1 - right),
            (-dy, y0 - top, top - y1),
            (dy, bottom - y0, y1 - bottom),
        ):
            segment &= ~((p == 0) & (q < 0))
            t0, u0 = np.where(p < 0, np.maximum(t0, q / p), t0), np.where(p < 0, np.minimum(u0, r / p), u0)
            t1, u1 = np.where(p > 0, np.minimum(t1, q / p), t1), np.where(p > 0, np.maximum(u1, r / p), u1)
        segment &= t0 <= t1
        k = np.flatnonzero(segment)
        x0, y0, x1, y1, dx, dy = x0[k], y0[k], x1[k], y1[k], dx[k], dy[k]
        t0, t1, u0, u1 = t0[k], t1[k], u0[k], u1[k]
        # Each end of the visible part from the end of the segment it is nearer to.
        near_start, near_end = t0 <= 0.5, u1 <= 0.5
        parts = np.full((len(k), 3, 2), np.nan)
        parts[:, 0, 0] = np.where(near_start, x0 + t0 * dx, x1 - u0 * dx)
        parts[:, 0, 1] = np.where(near_start, y0 + t0 * dy, y1 - u0 * dy)
        parts[:, 1, 0] = np.where(near_end, x1 - u1 * dx, x0 + t1 * dx)
        parts[:, 1, 1] = np.where(near_end, y1 - u1 * dy, y0 + t1 * dy)
    has_segment = finite[:-1] & finite[1:]
    alone = finite & ~np.concatenate([[False], has_segment]) & ~np.concatenate([has_segment, [False]])
    alone &= (xs >= left) & (xs <= right) & (ys >= top) & (ys <= bottom)
    points = np.full((int(alone.sum()), 2, 2), np.nan)
    points[:, 0, 0], points[:, 0, 1] = xs[alone], ys[alone]
    out = np.concatenate([parts.reshape(-1, 2), points.reshape(-1, 2)])
    return out[:, 0], out[:, 1]


def draw_polyline(
    image: np.ndarray,
    xs: np.ndarray,
    ys: np.ndarray,
    color: tuple[int, int, int],
    clip: tuple[int, int, int, int],
    width: int = 2,
) -> None:
    """Draw connected line segments through pixel coordinates (NaN breaks the line), clipped to a box.

    ``clip`` is ``(left, top, right, bottom)``, inclusive. The line is cut to the box before it is drawn
    (:func:`clip_polyline`), so coordinates far outside any canvas, such as a diverging loss's, are safe.
    """
    xs, ys = clip_polyline(xs, ys, clip)
    ok = np.isfinite(xs) & np.isfinite(ys)
    segments = ok[:-1] & ok[1:]
    points_x, points_y = [], []
    for i in np.flatnonzero(segments):
        n = math.ceil(max(abs(xs[i + 1] - xs[i]), abs(ys[i + 1] - ys[i]))) + 1
        points_x.append(np.linspace(xs[i], xs[i + 1], n))
        points_y.append(np.linspace(ys[i], ys[i + 1], n))
    single = ok & ~np.concatenate([[False], segments]) & ~np.concatenate([segments, [False]])
    points_x.append(xs[single])
    points_y.append(ys[single])
    px = np.round(np.concatenate(points_x)).astype(np.int64)
    py = np.round(np.concatenate(points_y)).astype(np.int64)
    left, top, right, bottom = clip
    offsets = range(-(width // 2), width - width // 2)
    for dx in offsets:
        for dy in offsets:
            qx, qy = px + dx, py + dy
            keep = (qx >= left) & (qx <= right) & (qy >= top) & (qy <= bottom)
            image[qy[keep], qx[keep]] = color


def nice_ticks(lo: float, hi: float, count: int = 5) -> np.ndarray:
    """About ``count`` round tick values (1, 2 or 5 times a power of ten apart) covering ``[lo, hi]``."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return np.array([lo])
    raw = (hi - lo) / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks = np.arange(first, hi + step * 1e-6, step)
    return np.round(ticks / step) * step


def _tick_label(value: float, step: float) -> str:
    decimals = max(0, -math.floor(math.log10(step))) if step > 0 else 0
    return f"{value:.{decimals}f}"


@dataclass
class Panel:
    """A plot area of a canvas: its pixel box (inclusive) and the data ranges it maps onto it."""

    left: int
    top: int
    right: int
    bottom: int
    x_range: tuple[float, float]
    y_range: tuple[float, float]

    def px(self, x: np.ndarray) -> np.ndarray:
        lo, hi = self.x_range
        return self.left + (np.asarray(x, dtype=np.float64) - lo) / (hi - lo) * (self.right - self.left)

    def py(self, y: np.ndarray) -> np.ndarray:
        lo, hi = self.y_range
        return self.bottom - (np.asarray(y, dtype=np.float64) - lo) / (hi - lo) * (self.bottom - self.top)

    @property
    def clip(self) -> tuple[int, int, int, int]:
        return (self.left, self.top, self.right, self.bottom)


def draw_axes(image: np.ndarray, panel: Panel, title: str, x_label: str, scale: int) -> None:
    """Draw a panel's frame, grid, tick labels, title (above) and x label (below)."""
    ch = 7 * scale
    x_ticks = nice_ticks(*panel.x_range, count=5)
    y_ticks = nice_ticks(*panel.y_range, count=5)
    x_step = float(x_ticks[1] - x_ticks[0]) if len(x_ticks) > 1 else 1.0
    y_step = float(y_ticks[1] - y_ticks[0]) if len(y_ticks) > 1 else 1.0
    for t in x_ticks:
        x = round(float(panel.px(t)))
        if panel.left <= x <= panel.right:
            image[panel.top : panel.bottom, x] = _LIGHT
            image[panel.bottom : panel.bottom + 5, x] = BLACK
            label = _tick_label(float(t), x_step)
            draw_text(image, x - text_width(label, scale) // 2, panel.bottom + 8, label, BLACK, scale)
    for t in y_ticks:
        y = round(float(panel.py(t)))
        if panel.top <= y <= panel.bottom:
            image[y, panel.left : panel.right] = _LIGHT
            image[y, panel.left - 5 : panel.left] = BLACK
            label = _tick_label(float(t), y_step)
            draw_text(image, panel.left - 9 - text_width(label, scale), y - ch // 2, label, BLACK, scale)
    image[panel.top : panel.bottom + 1, [panel.left, panel.right]] = BLACK
    image[[panel.top, panel.bottom], panel.left : panel.right + 1] = BLACK
    draw_text(image, panel.left, panel.top - ch - 10, title, BLACK, scale)
    width = text_width(x_label, scale)
    draw_text(image, (panel.left + panel.right - width) // 2, panel.bottom + 14 + ch, x_label, GREY, scale)


def accuracy_range(values: np.ndarray) -> tuple[float, float]:
    """An accuracy axis: from a round tenth below the lowest finite value (at most 0.9; 0 without any) to 1."""
    values = np.asarray(values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    low = math.floor(float(finite.min()) * 10) / 10 if finite.size else 0.0
    return min(max(low, 0.0), 0.9), 1.0


def draw_curve(
    image: np.ndarray,
    panel: Panel,
    xs: np.ndarray,
    ys: np.ndarray,
    color: tuple[int, int, int],
    *,
    width: int = 2,
) -> None:
    """Draw a curve of data coordinates in a panel, clipped to it (see :func:`draw_polyline`)."""
    draw_polyline(image, panel.px(xs), panel.py(ys), color, panel.clip, width)


def draw_markers(
    image: np.ndarray,
    panel: Panel,
    xs: np.ndarray,
    ys: np.ndarray,
    color: tuple[int, int, int],
    *,
    size: int = 7,
    max_markers: int = 30,
) -> None:
    """Draw square markers at data points inside a panel (about ``max_markers`` of a long series).

    Parameters
    ----------
    image
        The RGB canvas.
    panel
        Maps data to pixels and clips.
    xs, ys
        Data coordinates; non-finite points are skipped.
    color
        RGB.
    size
        Side of a square in pixels.
    max_markers
        A longer series gets a marker on every k-th point only (always on the last one).
    """
    xs, ys = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
    every = max(1, math.ceil(len(xs) / max_markers))
    chosen = sorted({*range(len(xs) - 1, -1, -every)})
    half = size // 2
    for x, y in zip(panel.px(xs[chosen]), panel.py(ys[chosen]), strict=True):
        if math.isfinite(x) and math.isfinite(y):
            xi, yi = round(float(x)), round(float(y))
            y0, y1 = max(yi - half, panel.top), min(yi + size - half, panel.bottom + 1)
            x0, x1 = max(xi - half, panel.left), min(xi + size - half, panel.right + 1)
            if y0 < y1 and x0 < x1:
                image[y0:y1, x0:x1] = color


def draw_legend(
    image: np.ndarray,
    entries: Sequence[tuple[str, tuple[int, int, int]]],
    box: tuple[int, int, int, int],
    scale: int,
) -> None:
    """Draw a legend of colour swatches and labels in the top right corner of a box.

    Entries that do not fit in one column go into more columns, leftwards, and then into smaller text;
    whatever still does not fit is left out with a last entry saying how many.

    Parameters
    ----------
    image
        The RGB canvas.
    entries
        ``(label, colour)`` pairs.
    box
        ``(left, top, right, bottom)`` the legend must stay inside.
    scale
        Text scale to try first.
    """
    if not entries:
        return
    left, top, right, bottom = box
    height, width = bottom - top - 16, right - left - 16
    for s in dict.fromkeys((scale, 1)):
        row = 7 * s + 8
        per_column = max(1, (height - 10) // row)
        columns = -(-len(entries) // per_column)
        column_w = 44 + max(text_width(label, s) for label, _ in entries)
        if columns * column_w <= width:
            break
    columns = max(1, min(columns, width // max(column_w, 1)))
    shown = list(entries)
    if len(shown) > columns * per_column:
        hidden = len(shown) - (columns * per_column - 1)
        shown = [*shown[: columns * per_column - 1], (f"... {hidden} more", GREY)]
    rows = min(len(shown), per_column)
    box_w, box_h = columns * column_w, 10 + row * rows
    x0, y0 = max(right - box_w - 8, 0), top + 8
    x1, y1 = min(x0 + box_w, image.shape[1] - 1), min(y0 + box_h, image.shape[0] - 1)
    image[y0:y1, x0:x1] = 255
    image[[y0, y1], x0 : x1 + 1] = GREY
    image[y0 : y1 + 1, [x0, x1]] = GREY
    for k, (label, color) in enumerate(shown):
        tx, ty = x0 + (k // per_column) * column_w, y0 + 6 + (k % per_column) * row
        draw_legend_entry(image, tx + 8, ty, label, color, s)


def draw_legend_entry(
    image: np.ndarray, x: int, y: int, label: str, color: tuple[int, int, int], scale: int
) -> int:
    """Draw a colour swatch and its label, top-left corner at ``(x, y)``; returns the width drawn."""
    ch = 7 * scale
    image[y + ch // 2 - 2 : y + ch // 2 + 2, x : x + 22] = color
    draw_text(image, x + 28, y, label, BLACK, scale)
    return 28 + text_width(label, scale)


def png_bytes(image: np.ndarray) -> bytes:
    """Encode an ``(height, width, 3)`` uint8 RGB image as PNG."""
    image = np.ascontiguousarray(image, dtype=np.uint8)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an RGB image of shape (height, width, 3), got {image.shape}")
    height, width = image.shape[:2]

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (
            struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
        )

    rows = np.concatenate([np.zeros((height, 1), dtype=np.uint8), image.reshape(height, width * 3)], axis=1)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
        + chunk(b"IEND", b"")
    )


def write_png(path: str | os.PathLike[str], image: np.ndarray) -> Path:
    """Write an RGB image as a PNG file (atomically).

    Parameters
    ----------
    path
        The file to write.
    image
        ``(height, width, 3)`` uint8.

    Returns
    -------
    Path
    """
    data = png_bytes(image)
    return atomic_write(path, lambda file: file.write(data))
