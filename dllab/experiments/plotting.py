"""What the engine's static figures share: colours, the accuracy axis, a figure style and a PNG writer.

The command line's figures (a comparison's curves and small multiples, :mod:`dllab.experiments.comparison_figures`; a
search's ranking, :func:`dllab.experiments.search.render_search`) are matplotlib figures drawn on its Agg backend, without
pyplot (no global state, no GUI backend). matplotlib is imported only inside the functions that make a figure,
so ``import dllab`` stays fast and loads no plotting library.

>>> with figure_style():                                          # doctest: +SKIP
...     fig = new_figure(8, 4)
...     fig.subplots().plot([1, 2, 3], color=COLORS[0])
>>> write_figure("curve.png", fig)                                # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from dllab.files import atomic_write

if TYPE_CHECKING:  # matplotlib is imported only where a figure is drawn
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Line colours (the "tab10" palette), one per run or setting.
COLORS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
#: The colour of what is shown for context only (e.g. the trials of a search outside the best few).
GREY = "#a0a7b0"
#: Pixels per inch of the written figures: a figure of 12 x 5.2 inches is a PNG of 1200 x 520 pixels.
DPI = 100
#: A series longer than this gets a marker on every k-th point only.
MAX_MARKERS = 30
#: Height in inches of a row of legend entries at the legend's font size.
LEGEND_ROW = 0.22

_STYLE = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.titlelocation": "left",
    "axes.labelsize": 10,
    "axes.labelcolor": "#404040",
    "axes.edgecolor": "#606060",
    "axes.grid": True,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "grid.color": "#e4e4e4",
    "grid.linewidth": 0.8,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "xtick.color": "#404040",
    "ytick.color": "#404040",
    "legend.fontsize": 9,
    "legend.frameon": False,
    "lines.linewidth": 1.8,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
}


def accuracy_range(values: np.ndarray) -> tuple[float, float]:
    """An accuracy axis: from a round tenth below the lowest finite value (at most 0.9; 0 without any) to 1."""
    values = np.asarray(values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    low = math.floor(float(finite.min()) * 10) / 10 if finite.size else 0.0
    return min(max(low, 0.0), 0.9), 1.0


def padded(low: float, high: float, *, below: float = 0.02, above: float = 0.02) -> tuple[float, float]:
    """An axis range widened by fractions of its span, so that markers on its ends are drawn whole."""
    span = high - low
    return low - below * span, high + above * span


def marker_every(count: int, max_markers: int = MAX_MARKERS) -> list[int]:
    """The indices of a series of ``count`` points that get a marker: about ``max_markers``, always the last."""
    every = max(1, math.ceil(count / max_markers))
    return sorted(range(count - 1, -1, -every))


@contextlib.contextmanager
def figure_style() -> Iterator[None]:
    """The engine's figure style (fonts, grid, spines), for the figures made and drawn within.

    matplotlib reads its settings when an artist is made, so a figure keeps its style after the block; the
    global settings are restored, so nothing leaks into other users of matplotlib in the same process.
    """
    import matplotlib

    with matplotlib.rc_context(_STYLE):
        yield


def new_figure(width: float, height: float) -> Figure:
    """A matplotlib figure of ``width`` x ``height`` inches (:data:`DPI` pixels each) on an Agg canvas.

    The figure lays itself out (constrained layout), so titles, tick labels and legends outside the axes
    neither overlap nor get cut off.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def legend_columns(labels: list[str], width: float, *, max_columns: int | None = None) -> int:
    """How many columns of ``labels`` fit across ``width`` inches of a legend (at least 1).

    Estimated from the longest label at the legend's font size (about 0.062 inches a character, plus the
    line sample and the gap between columns).
    """
    if not labels:
        return 1
    column = 0.6 + 0.062 * max(len(label) for label in labels)
    columns = max(1, min(len(labels), int(width // column)))
    return columns if max_columns is None else max(1, min(columns, max_columns))


def note_empty(axes: Axes, text: str) -> None:
    """Write ``text`` in grey in the middle of empty axes (e.g. "no epoch finished yet")."""
    axes.text(0.5, 0.5, text, transform=axes.transAxes, ha="center", va="center", color="#808080")


def write_figure(path: str | os.PathLike[str], figure: Figure) -> Path:
    """Write a figure as a PNG file (atomically: readers see the old file or the whole new one).

    Parameters
    ----------
    path
        The file to write.
    figure
        A matplotlib figure, written at its own size and :data:`DPI`.

    Returns
    -------
    Path
    """
    return atomic_write(path, lambda file: figure.savefig(file, format="png", dpi=DPI))
