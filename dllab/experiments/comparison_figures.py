"""The figures of a comparison: overlaid loss and accuracy curves, and small multiples for two factors.

Each ``render_*`` function returns a matplotlib figure (Agg, no pyplot; see :mod:`dllab.experiments.plotting`), which
:func:`dllab.experiments.plotting.write_figure` writes as a PNG. matplotlib is imported when a figure is drawn, not with
this module: :class:`AccuracyCurves`, which the GUI's live plots share, needs none.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from dllab.experiments.comparison_results import VariantResult
from dllab.experiments.plotting import (
    COLORS,
    LEGEND_ROW,
    accuracy_range,
    figure_style,
    legend_columns,
    marker_every,
    new_figure,
    note_empty,
    padded,
)
from dllab.experiments.variants import check_factor_values, describe_setting

if TYPE_CHECKING:  # matplotlib is imported only where a figure is drawn
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D


@dataclass(frozen=True)
class AccuracyCurves:
    """What the accuracy plot of a comparison shows, decided once for all its runs.

    Attributes
    ----------
    title : str
        ``"validation accuracy"``; ``"training accuracy"`` when no run has a validation split; or training
        against test accuracy when the runs measured the test set per epoch.
    line : str
        The :data:`dllab.runs.METRIC_COLUMNS` column drawn as a line per run.
    marked : str
        The column drawn with square markers (the same column, or ``"test_accuracy"``).
    """

    title: str
    line: str
    marked: str

    @classmethod
    def choose(cls, results: Sequence[VariantResult]) -> AccuracyCurves:
        """Validation accuracy where there is any, training against test accuracy with test curves."""
        if any(r.test_curve for r in results):
            return cls("train (line) and test (squares) accuracy", "train_accuracy", "test_accuracy")
        if any(math.isfinite(e.val_accuracy) for r in results for e in r.epochs):
            return cls("validation accuracy", "val_accuracy", "val_accuracy")
        return cls("training accuracy", "train_accuracy", "train_accuracy")

    def series(self, result: VariantResult) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Epochs (fractional for a run that stopped mid-epoch), line values and marked values."""
        metrics = result.epoch_metrics()
        epochs = metrics["step"] / max(result.batches_per_epoch, 1)
        return epochs, metrics[self.line], metrics[self.marked]

    def epoch_range(self, results: Sequence[VariantResult]) -> tuple[float, float]:
        """An epoch axis from 0 to the last (fractional) epoch of any run, at least 1."""
        max_epoch = max((float(self.series(r)[0][-1]) for r in results if r.epochs), default=1.0)
        return 0.0, max(max_epoch, 1.0)

    def value_range(self, results: Sequence[VariantResult]) -> tuple[float, float]:
        """An accuracy axis from a round value below the lowest point (at most 0.9) to 1."""
        return accuracy_range(
            np.concatenate([v for r in results for v in self.series(r)[1:]] or [np.zeros(0)])
        )

    def draw(self, axes: Axes, result: VariantResult, color: str) -> list[Line2D]:
        """Draw one run's accuracy in matplotlib ``axes``: a line with round markers, or a line for training
        and a thin dashed line with hollow squares for the test set.

        Returns
        -------
        list of matplotlib.lines.Line2D
            The line, then the test set's line when there is one.
        """
        xs, line, marked = self.series(result)
        every = marker_every(len(xs))
        if self.marked == self.line:
            return axes.plot(xs, line, color=color, marker="o", markersize=4, markevery=every)
        lines = axes.plot(xs, line, color=color)
        lines += axes.plot(
            xs,
            marked,
            color=color,
            linewidth=1.0,
            linestyle="--",
            marker="s",
            markersize=5,
            markerfacecolor="white",
            markevery=every,
        )
        return lines


def _legend_label(result: VariantResult) -> str:
    """A run's label, its status when it did not finish and its final test accuracy when measured."""
    label = result.label
    if result.status not in ("finished", "running", "pending"):
        label += f" ({result.status})"
    if math.isfinite(result.test_accuracy):
        label += f", test accuracy {result.test_accuracy:.3f}"
    return label


def loss_limit(results: Sequence[VariantResult]) -> float:
    """The top of a comparison's loss axis: a little above the highest starting loss.

    A run's starting loss is its first finite one (measured before any update, so the same for runs from
    the same weights). Runs that start orders of magnitude above the rest (more than 20 times the median
    start) are left out, and a diverging run is cut off at the top, so that the others stay readable; when
    every smoothed curve stays below half of that, the axis ends a little above its highest point instead.
    """
    starts = []
    for r in results:
        losses = np.asarray(r.losses, dtype=np.float64)
        finite = losses[np.isfinite(losses)]
        starts += [float(finite[0])] if finite.size else []
    curves = [r.smoothed_losses() for r in results]
    finite = np.concatenate([v[np.isfinite(v)] for v in curves] or [np.zeros(0)])
    typical = float(np.median(starts)) if starts else 1.0
    top = max((s for s in starts if s <= 20 * typical), default=1.0) * 1.1
    if finite.size and finite.max() < top / 1.1 * 0.5:
        top = float(finite.max()) * 1.2
    return top if math.isfinite(top) and top > 0 else 1.0


def _draw_losses(axes: Axes, results: Sequence[VariantResult]) -> list[Line2D]:
    """Draw every run's loss per step, raw (faint) and smoothed; returns the smoothed lines, one per run."""
    from matplotlib.ticker import MaxNLocator

    handles, lowest, smoothing = [], 0.0, False
    for r in results:
        color = COLORS[r.index % len(COLORS)]
        steps, smoothed = np.asarray(r.steps, dtype=np.float64), r.smoothed_losses()
        if len(steps) > 1:
            axes.plot(steps, r.losses, color=color, linewidth=0.8, alpha=0.3)
        (line,) = axes.plot(steps, smoothed, color=color, marker="o" if len(steps) == 1 else "")
        handles.append(line)
        finite = smoothed[np.isfinite(smoothed)]
        lowest = min(lowest, float(finite.min())) if finite.size else lowest
        smoothing = smoothing or not np.array_equal(smoothed, r.losses, equal_nan=True)
    max_step = max((float(r.steps[-1]) for r in results if r.steps), default=1.0)
    top = loss_limit(results)
    axes.set(
        xlim=padded(0.0, max(max_step, 1.0), below=0.0),
        ylim=(lowest, top if top > lowest else lowest + 1.0),
        xlabel="step",
        ylabel="loss",
    )
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title("training loss per step" + (": raw (faint) and smoothed" if smoothing else ""))
    if not any(r.steps for r in results):
        note_empty(axes, "no mini-batch trained yet")
    return handles


def render_comparison(
    results: Sequence[VariantResult], *, width: float = 12.0, height: float = 5.2
) -> Figure:
    """Draw the overlaid curves of a comparison.

    The left panel shows every variant's training loss per step, raw (faint) and smoothed (see
    :meth:`~dllab.experiments.comparison_results.VariantResult.smoothed_losses`); the right one its validation accuracy
    per epoch (fractional epochs for runs that stop mid-epoch; training accuracy when there is no validation
    set). When the runs measured the test set per epoch (``test_curve``), the right panel shows training
    accuracy (line) against test accuracy (dashed, squares), as the book's overfitting figures do. A legend
    below the panels names each variant's colour, with its status when it did not finish (``diverged``,
    ``stopped``, ``not run``) and its final test accuracy when it was measured.

    Parameters
    ----------
    results
        The runs, in the order of their colours (:data:`dllab.experiments.plotting.COLORS` by ``index``).
    width, height
        Size in inches (100 pixels each); the figure grows taller for a legend of more than one row.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes (loss, accuracy) and one figure legend with an entry per run.
    """
    from matplotlib.ticker import MaxNLocator

    labels = [_legend_label(r) for r in results]
    columns = legend_columns(labels, width - 0.5)
    rows = math.ceil(len(labels) / columns)
    with figure_style():
        figure = new_figure(width, height + LEGEND_ROW * max(rows - 1, 0))
        loss_axes, accuracy_axes = figure.subplots(1, 2)
        handles = _draw_losses(loss_axes, results)
        # Validation accuracy per epoch, or training against test accuracy (overfitting comparisons).
        accuracy = AccuracyCurves.choose(results)
        for r in results:
            accuracy.draw(accuracy_axes, r, COLORS[r.index % len(COLORS)])
        accuracy_axes.set(
            xlim=padded(*accuracy.epoch_range(results), below=0.0),
            ylim=padded(*accuracy.value_range(results)),
            xlabel="epoch",
            ylabel="accuracy",
        )
        accuracy_axes.set_title(accuracy.title)
        if not any(r.epochs for r in results):
            note_empty(accuracy_axes, "no epoch finished yet")
        accuracy_axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        if handles:
            figure.legend(handles, labels, loc="outside lower center", ncols=columns)
    return figure


def render_comparison_grid(
    results: Sequence[VariantResult],
    factors: Mapping[str, Sequence[Any]],
    *,
    cell_width: float = 4.2,
    cell_height: float = 3.0,
) -> Figure:
    """Draw a two-factor comparison as small multiples, like the book's figure 6-18.

    One panel per value of the first factor, each with one accuracy curve per value of the second factor
    (the same colour for the same value in every panel, the same axes in every panel), a title saying what is
    shown and a legend of the second factor below.

    Parameters
    ----------
    results
        The runs; each one's ``settings`` holds a value of both factors.
    factors
        The two factors and their values, in the order of :func:`~dllab.experiments.variants.make_variants`.
    cell_width, cell_height
        Size of one panel in inches (100 pixels each).

    Returns
    -------
    matplotlib.figure.Figure
        As many panels across as fit a square-ish grid, one axes each, and a figure legend with an entry per
        value of the second factor.

    Raises
    ------
    ValueError
        Unless there are exactly two factors.
    """
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    if len(factors) != 2:
        raise ValueError(f"small multiples need two factors, got {len(factors)}")
    (outer, outer_values), (inner, inner_values) = (
        (name, check_factor_values(name, values)) for name, values in factors.items()
    )
    columns = math.ceil(math.sqrt(len(outer_values)))
    rows = math.ceil(len(outer_values) / columns)
    labels = [describe_setting(inner, value) for value in inner_values]
    width = columns * cell_width
    legend_ncols = legend_columns(labels, width - 0.5)
    legend_rows = math.ceil(len(labels) / legend_ncols)
    accuracy = AccuracyCurves.choose(results)
    epoch_range = padded(*accuracy.epoch_range(results), below=0.0)
    value_range = padded(*accuracy.value_range(results))
    colors = [COLORS[i % len(COLORS)] for i in range(len(inner_values))]
    with figure_style():
        figure = new_figure(width, rows * cell_height + 0.25 + LEGEND_ROW * legend_rows)
        grid = figure.subplots(rows, columns, squeeze=False).ravel()
        for axes in grid[len(outer_values) :]:
            axes.remove()
        for k, value in enumerate(outer_values):
            axes = grid[k]
            for r in results:
                if r.settings.get(outer) == value and r.settings.get(inner) in inner_values:
                    accuracy.draw(axes, r, colors[inner_values.index(r.settings[inner])])
            axes.set(xlim=epoch_range, ylim=value_range)
            axes.set_title(describe_setting(outer, value))
            axes.xaxis.set_major_locator(MaxNLocator(integer=True))
            if k + columns >= len(outer_values):  # no panel below
                axes.set_xlabel("epoch")
            if k % columns == 0:
                axes.set_ylabel("accuracy")
        figure.suptitle(
            f"{accuracy.title}: a panel per {outer.replace('_', ' ')}, a line per {inner.replace('_', ' ')}",
            fontsize=11,
        )
        handles = [Line2D([], [], color=color, marker="o", markersize=4) for color in colors]
        figure.legend(handles, labels, loc="outside lower center", ncols=legend_ncols)
    return figure
