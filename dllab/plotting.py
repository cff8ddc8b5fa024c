"""Plots without a plotting library: a 5x7 bitmap font, lines, ticks and axes on a numpy RGB canvas, and a
PNG writer (zlib + struct). The engine draws its figures (e.g. a comparison's overlaid curves) with these, so
it needs neither Qt nor matplotlib.
"""

from __future__ import annotations

import math
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dllab.io import atomic_write

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


def draw_polyline(
    image: np.ndarray,
    xs: np.ndarray,
    ys: np.ndarray,
    color: tuple[int, int, int],
    clip: tuple[int, int, int, int],
    width: int = 2,
) -> None:
    """Draw connected line segments through pixel coordinates (NaN breaks the line), clipped to a box.

    ``clip`` is ``(left, top, right, bottom)``, inclusive.
    """
    xs, ys = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
    ok = np.isfinite(xs) & np.isfinite(ys)
    segments = ok[:-1] & ok[1:]
    points_x, points_y = [], []
    for i in np.flatnonzero(segments):
        n = math.ceil(max(abs(xs[i + 1] - xs[i]), abs(ys[i + 1] - ys[i]))) + 1
        n = min(n, 4 * (image.shape[0] + image.shape[1]))
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
