"""Contour maps of the playground's test functions: a function sampled on a grid, shaded by log height, and
contour lines found by marching squares.

Heights are ``log10(f − f_min + eps)``, so the levels are log-spaced in ``f − f_min`` and the narrow valleys
near a minimum get lines too (the saddle, which has no minimum, and Rastrigin are shaded by ``f`` itself). The
reference field covers a function's plotting window; a zoomed or panned plot gets a field for its own window
that continues the reference's levels and colours (:func:`field_for_view`). Fields are cached.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PySide6.QtCore import QRectF

from dllab import testfns
from dllab.testfns import Function2D

CONTOUR_LEVELS = 14
GRID_RESOLUTION = 301
#: Functions shaded by f itself rather than by log height.
LINEAR_SHADING = frozenset({"rastrigin"})
#: At most this many contour lines in a zoomed-out window (every k-th level is kept).
_MAX_LEVELS = 40


def contour_segments(x: np.ndarray, y: np.ndarray, z: np.ndarray, levels: Sequence[float]) -> np.ndarray:
    """Marching squares, vectorised: the line segments where ``z`` crosses each of ``levels``.

    Parameters
    ----------
    x : numpy.ndarray
        ``(nx,)`` increasing grid coordinates along columns.
    y : numpy.ndarray
        ``(ny,)`` increasing grid coordinates along rows.
    z : numpy.ndarray
        ``(ny, nx)`` values, ``z[i, j]`` at ``(x[j], y[i])``.
    levels : sequence of float
        The contour levels.

    Returns
    -------
    numpy.ndarray
        ``(2 * n, 2)`` points: segment ``k`` runs from row ``2k`` to row ``2k + 1`` (for
        ``connect="pairs"``).
    """
    columns = z.shape[1] - 1
    # The corners of every cell, flattened: bottom-left, bottom-right, top-right, top-left.
    a, b = z[:-1, :-1].ravel(), z[:-1, 1:].ravel()
    c, d = z[1:, 1:].ravel(), z[1:, :-1].ravel()
    low = np.minimum(np.minimum(a, b), np.minimum(c, d))
    high = np.maximum(np.maximum(a, b), np.maximum(c, d))
    pieces = []
    for level in np.atleast_1d(levels):
        cells = np.flatnonzero((low < level) & (high >= level))  # some corner below, some not
        if cells.size == 0:
            continue
        rows, cols = np.divmod(cells, columns)
        ca, cb, cc, cd = a[cells], b[cells], c[cells], d[cells]
        x0, x1, y0, y1 = x[cols], x[cols + 1], y[rows], y[rows + 1]

        def crossing(p: np.ndarray, q: np.ndarray, level: float = level) -> tuple[np.ndarray, np.ndarray]:
            hit = (p >= level) != (q >= level)
            with np.errstate(divide="ignore", invalid="ignore"):
                return hit, np.where(hit, (level - p) / (q - p), 0.0)

        # Edges bottom, right, top, left: whether the level crosses each, and where.
        (hb, tb), (hr, tr), (ht, tt), (hl, tl) = (
            crossing(ca, cb),
            crossing(cb, cc),
            crossing(cd, cc),
            crossing(ca, cd),
        )
        hits = np.stack([hb, hr, ht, hl])
        ex = np.stack([x0 + tb * (x1 - x0), x1, x0 + tt * (x1 - x0), x0])
        ey = np.stack([y0, y0 + tr * (y1 - y0), y1, y0 + tl * (y1 - y0)])
        count = hits.sum(axis=0)
        index = np.arange(cells.size)

        two = np.flatnonzero(count == 2)
        first = np.argmax(hits[:, two], axis=0)
        second = 3 - np.argmax(hits[::-1, two], axis=0)
        pieces.append((ex[first, two], ey[first, two], ex[second, two], ey[second, two]))

        four = index[count == 4]
        if four.size:
            # Saddle cells: the centre decides which pair of opposite corners is cut off.
            centre_above = (ca + cb + cc + cd)[four] / 4.0 >= level
            cut_b_d = centre_above == (ca[four] >= level)  # a and c are joined through the centre
            for (f_bd, s_bd), (f_ac, s_ac) in (((0, 1), (0, 3)), ((2, 3), (1, 2))):
                f = np.where(cut_b_d, f_bd, f_ac)
                s = np.where(cut_b_d, s_bd, s_ac)
                pieces.append((ex[f, four], ey[f, four], ex[s, four], ey[s, four]))
    if not pieces:
        return np.empty((0, 2))
    px0, py0, px1, py1 = (np.concatenate(parts) for parts in zip(*pieces, strict=True))
    out = np.empty((2 * len(px0), 2))
    out[0::2, 0], out[0::2, 1] = px0, py0
    out[1::2, 0], out[1::2, 1] = px1, py1
    return out


@dataclass(frozen=True, eq=False)
class ContourField:
    """A function sampled on a grid, shaded by ``log10(f − base + eps)``, with contour lines.

    With ``eps == 0`` (the saddle, Rastrigin) the shade is ``f`` itself, with evenly spaced levels.

    The reference field covers the function's plotting window and fixes ``base``, ``eps`` and the spacing
    of the levels; fields for other windows (after zooming or panning) reuse them, so the lines stay put and
    simply continue.

    Attributes
    ----------
    x, y : numpy.ndarray
        Grid coordinates, ``(nx,)`` and ``(ny,)``.
    shade : numpy.ndarray
        ``(ny, nx)`` log heights for the image.
    shade_limits : tuple[float, float]
        The heights mapped to the two ends of the colour map.
    levels : numpy.ndarray
        Contour levels in the same log units (log-spaced in ``f − base``).
    lines : numpy.ndarray
        ``(2n, 2)`` contour segments in data coordinates, for ``connect="pairs"``.
    base, eps, level_step : float
        ``f − base + eps`` is what is shaded; ``level_step`` is the distance between levels.
    """

    x: np.ndarray
    y: np.ndarray
    shade: np.ndarray
    shade_limits: tuple[float, float]
    levels: np.ndarray
    lines: np.ndarray
    base: float
    eps: float
    level_step: float

    @classmethod
    def sample(
        cls,
        fn: Function2D,
        x_range: tuple[float, float] | None = None,
        y_range: tuple[float, float] | None = None,
        reference: ContourField | None = None,
        resolution: int = GRID_RESOLUTION,
    ) -> ContourField:
        """Sample ``fn`` over a window (its plotting window by default).

        Without ``reference`` the result is a reference field: ``CONTOUR_LEVELS`` levels evenly spaced in
        log height between the 1st and 99.5th percentile. With one, levels continue the reference's.
        """
        x = np.linspace(*(x_range or fn.x_range), resolution)
        y = np.linspace(*(y_range or fn.y_range), resolution)
        with np.errstate(over="ignore", invalid="ignore"):
            values = fn.value(x[None, :], y[:, None])
        big = np.finfo(float).max / 4
        values = np.clip(np.nan_to_num(values, nan=big, posinf=big, neginf=-big), -big, big)
        if reference is None:
            # A function without a minimum (the saddle) has no floor to measure heights from, and Rastrigin's
            # hundreds of local minima would each get a nest of rings: shade f itself (eps = 0).
            base = float(values.min()) if fn.min_value is None else min(fn.min_value, float(values.min()))
            log = fn.min_value is not None and fn.name not in LINEAR_SHADING
            eps = (float(values.max()) - base or 1.0) * 1e-6 if log else 0.0
        else:
            base, eps = reference.base, reference.eps
        shade = np.log10(np.maximum(values - base, 0.0) + eps) if eps > 0 else values
        if reference is None:
            # The lowest few percent (a valley floor narrower than a grid cell, which would show as dots)
            # share the lightest colour and get no lines of their own.
            floor, low, high = np.quantile(shade, [0.05, 0.02, 0.995])
            levels = np.linspace(low, high, CONTOUR_LEVELS + 2)[1:-1]
            step = float(levels[1] - levels[0])
            limits = (float(floor), float(shade.max()))
        else:
            step, origin = reference.level_step, float(reference.levels[0])
            first = max(0, math.ceil((float(shade.min()) - origin) / step))  # none below the reference's
            last = math.floor((float(shade.max()) - origin) / step)
            stride = max(1, math.ceil((last - first + 1) / _MAX_LEVELS))
            ks = np.arange(first, last + 1)
            levels = origin + step * ks[ks % stride == 0]
            limits = reference.shade_limits  # the same colours everywhere; higher ground saturates
        segments = contour_segments(x, y, shade, levels)
        return cls(x, y, shade, limits, levels, segments, base, eps, step)

    @property
    def rect(self) -> QRectF:
        """The grid's extent in data coordinates."""
        return QRectF(self.x[0], self.y[0], self.x[-1] - self.x[0], self.y[-1] - self.y[0])


@lru_cache(maxsize=16)
def reference_field(name: str) -> ContourField:
    """The field of the test function ``name`` over its plotting window (cached)."""
    return ContourField.sample(testfns.get(name))


@lru_cache(maxsize=16)
def _window_field(name: str, x0: float, x1: float, y0: float, y1: float, detail: float) -> ContourField:
    resolution = round(GRID_RESOLUTION * detail)  # up to twice as many samples for a wider window
    return ContourField.sample(testfns.get(name), (x0, x1), (y0, y1), reference_field(name), resolution)


def field_for_view(name: str, view: QRectF) -> ContourField:
    """A field that covers ``view`` (a plot's visible data rectangle) at a useful resolution.

    The reference field when it covers the view and the view is not deeply zoomed in; otherwise a field over
    the reference window scaled by a power of two and moved by quarter windows, so that small pans, small
    zooms and the panels of the small multiples all share one cached field.
    """
    reference = reference_field(name)
    rect = reference.rect
    if rect.contains(view) and view.width() * 3 >= rect.width():
        return reference
    ratio = max(view.width() / rect.width(), view.height() / rect.height())
    scale = 2.0 ** math.ceil(math.log2(ratio * 1.5))  # the view is at most 2/3 of the window
    width, height = rect.width() * scale, rect.height() * scale
    centre = rect.center()
    cx = centre.x() + round((view.center().x() - centre.x()) / (width / 4)) * (width / 4)
    cy = centre.y() + round((view.center().y() - centre.y()) / (height / 4)) * (height / 4)
    return _window_field(
        name, cx - width / 2, cx + width / 2, cy - height / 2, cy + height / 2, min(max(scale, 1.0), 2.0)
    )
