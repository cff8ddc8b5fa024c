"""The figures of a comparison: overlaid loss and accuracy curves, and small multiples for two factors.

Drawn with :mod:`dllab.plotting` on a numpy canvas, so no plotting library is needed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from dllab.plotting import (
    COLORS,
    GREY,
    Panel,
    accuracy_range,
    draw_axes,
    draw_curve,
    draw_legend,
    draw_legend_entry,
    draw_markers,
    draw_text,
    text_width,
)
from dllab.variants import check_factor_values, describe_setting

if TYPE_CHECKING:  # dllab.compare draws its figures with this module
    from dllab.compare import VariantResult


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

    def draw(
        self, image: np.ndarray, panel: Panel, result: VariantResult, color: tuple[int, int, int]
    ) -> None:
        """Draw one run's curve (and its test curve) in a panel."""
        xs, line, marked = self.series(result)
        draw_curve(image, panel, xs, line, color)
        if self.marked != self.line:
            draw_curve(image, panel, xs, marked, color, width=1)
        draw_markers(image, panel, xs, marked, color)


def _status_label(result: VariantResult) -> str:
    suffix = "" if result.status in ("finished", "running", "pending") else f" ({result.status})"
    return result.label + suffix


def render_comparison(
    results: Sequence[VariantResult], *, width: int = 1200, height: int = 520, scale: int = 2
) -> np.ndarray:
    """Draw the overlaid curves of a comparison as an RGB image.

    The left panel shows every variant's training loss per step (smoothed), the right one its validation
    accuracy per epoch (fractional epochs for runs that stop mid-epoch; training accuracy when there is no
    validation set), with a legend of colour swatches and labels. When the runs measured the test set per
    epoch (``test_curve``), the right panel shows training accuracy (thick line) against test accuracy
    (thin line with squares), as the book's overfitting figures do.

    Returns
    -------
    numpy.ndarray
        ``(height, width, 3)`` uint8.
    """
    image = np.full((height, width, 3), 255, dtype=np.uint8)
    ch = 7 * scale
    margin_left, gap, margin_right = 30 + 5 * scale * 6, 30 + 6 * scale * 6, 20 + 2 * scale * 6
    top, bottom = 20 + ch + 14, height - (2 * ch + 34)
    panel_width = (width - margin_left - gap - margin_right) // 2
    # Left: loss per step.
    curves = [(r, np.asarray(r.steps, dtype=np.float64), r.smoothed_losses()) for r in results]
    max_step = max((float(s[-1]) for _, s, _ in curves if len(s)), default=1.0)
    starts = [float(v[np.isfinite(v)][0]) for _, _, v in curves if np.isfinite(v).any()]
    all_finite = np.concatenate([v[np.isfinite(v)] for _, _, v in curves] or [np.zeros(0)])
    # Up to the highest starting loss, leaving out runs that start orders of magnitude above the rest.
    typical = float(np.median(starts)) if starts else 1.0
    y_hi = max((s for s in starts if s <= 20 * typical), default=1.0) * 1.1
    if all_finite.size and all_finite.max() < y_hi / 1.1 * 0.5:
        y_hi = float(all_finite.max()) * 1.2
    y_hi = y_hi if math.isfinite(y_hi) and y_hi > 0 else 1.0
    loss_panel = Panel(
        margin_left, top, margin_left + panel_width, bottom, (0.0, max(max_step, 1.0)), (0.0, y_hi)
    )
    draw_axes(image, loss_panel, "training loss (smoothed)", "step", scale)
    for r, steps, values in curves:
        draw_curve(image, loss_panel, steps, values, COLORS[r.index % len(COLORS)])
    # Right: validation accuracy per epoch, or training against test accuracy (overfitting comparisons).
    accuracy = AccuracyCurves.choose(results)
    acc_left = margin_left + panel_width + gap
    acc_panel = Panel(
        acc_left,
        top,
        acc_left + panel_width,
        bottom,
        accuracy.epoch_range(results),
        accuracy.value_range(results),
    )
    draw_axes(image, acc_panel, accuracy.title, "epoch", scale)
    for r in results:
        accuracy.draw(image, acc_panel, r, COLORS[r.index % len(COLORS)])
    draw_legend(
        image, [(_status_label(r), COLORS[r.index % len(COLORS)]) for r in results], loss_panel.clip, scale
    )
    return image


def render_comparison_grid(
    results: Sequence[VariantResult],
    factors: Mapping[str, Sequence[Any]],
    *,
    cell_width: int = 420,
    cell_height: int = 300,
    scale: int = 2,
) -> np.ndarray:
    """Draw a two-factor comparison as small multiples, like the book's figure 6-18.

    One panel per value of the first factor, each with one accuracy curve per value of the second factor
    (the same colour for the same value in every panel), and a legend of the second factor on top.

    Parameters
    ----------
    results
        The runs; each one's ``settings`` holds a value of both factors.
    factors
        The two factors and their values, in the order of :func:`~dllab.variants.make_variants`.

    Returns
    -------
    numpy.ndarray
        An RGB image, as many panels across as fit a square-ish grid.
    """
    if len(factors) != 2:
        raise ValueError(f"small multiples need two factors, got {len(factors)}")
    (outer, outer_values), (inner, inner_values) = (
        (name, check_factor_values(name, values)) for name, values in factors.items()
    )
    columns = math.ceil(math.sqrt(len(outer_values)))
    rows = math.ceil(len(outer_values) / columns)
    ch = 7 * scale
    legend_h = ch + 24
    width, height = columns * cell_width, legend_h + rows * cell_height
    image = np.full((height, width, 3), 255, dtype=np.uint8)
    accuracy = AccuracyCurves.choose(results)
    epoch_range, value_range = accuracy.epoch_range(results), accuracy.value_range(results)
    inner_colors = {i: COLORS[i % len(COLORS)] for i in range(len(inner_values))}
    x = 10
    for i, value in enumerate(inner_values):
        x += draw_legend_entry(image, x, 10, describe_setting(inner, value), inner_colors[i], scale) + 30
    draw_text(image, max(x, width - text_width(accuracy.title, scale) - 10), 10, accuracy.title, GREY, scale)
    for k, value in enumerate(outer_values):
        left = (k % columns) * cell_width + 30 + 3 * scale * 6
        top = legend_h + (k // columns) * cell_height + ch + 14
        panel = Panel(
            left,
            top,
            (k % columns + 1) * cell_width - 20,
            legend_h + (k // columns + 1) * cell_height - (2 * ch + 34),
            epoch_range,
            value_range,
        )
        draw_axes(image, panel, describe_setting(outer, value), "epoch", scale)
        for r in results:
            if r.settings.get(outer) == value and r.settings.get(inner) in inner_values:
                accuracy.draw(image, panel, r, inner_colors[inner_values.index(r.settings[inner])])
    return image
