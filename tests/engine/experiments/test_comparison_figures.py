"""The figures of a comparison: overlaid curves, many variants and diverged ones, small multiples."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dllab.experiments.compare import Comparison, TestEvaluated, VariantResult
from dllab.experiments.comparison_figures import (
    AccuracyCurves,
    loss_limit,
    render_comparison,
    render_comparison_grid,
)
from dllab.experiments.comparison_results import smooth
from dllab.experiments.plotting import COLORS, DPI, write_figure
from dllab.runs import DataSettings
from dllab.trainer import EpochEnded, TrainingConfig
from tests.engine.png import decode_png

NETWORKS = Path(__file__).resolve().parents[3] / "assets" / "networks"


def _legend(figure) -> list[str]:
    (legend,) = figure.legends
    return [text.get_text() for text in legend.get_texts()]


def _epoch(epoch: int, train: float, val: float = float("nan")) -> EpochEnded:
    return EpochEnded(
        epoch=epoch,
        step=10 * epoch,
        train_loss=1.0,
        val_loss=1.0,
        train_accuracy=train,
        val_accuracy=val,
        lr=0.1,
        elapsed=0.0,
        samples_per_second=0.0,
        improved=False,
        reading="",
    )


def test_an_empty_figure(tmp_path: Path) -> None:
    figure = render_comparison([VariantResult(0, "nothing yet", {})], width=6.0, height=4.0)
    loss, accuracy = figure.axes
    assert _legend(figure) == ["nothing yet"]
    assert "no epoch finished yet" in [t.get_text() for t in accuracy.texts]
    assert "no mini-batch trained yet" in [t.get_text() for t in loss.texts]
    image = decode_png(write_figure(tmp_path / "empty.png", figure).read_bytes())
    assert image.shape == (4 * DPI, 6 * DPI, 3)


def test_the_loss_panel_draws_raw_and_smoothed_curves_and_the_accuracy_panel_one_per_run() -> None:
    results = []
    for i, label in enumerate(("sgd", "adam")):
        r = VariantResult(i, label, {}, status="finished", batches_per_epoch=100)
        r.steps = list(range(1, 301))
        r.losses = list(2.0 * np.exp(-np.arange(300) / (100 + 50 * i)) + 0.1 * np.sin(np.arange(300)))
        r.lrs = [0.1] * 300
        r.epochs = [_epoch(e, 0.5 + 0.1 * e, 0.4 + 0.1 * e) for e in (1, 2, 3)]
        r.test_accuracy = 0.8 + 0.1 * i
        results.append(r)
    figure = render_comparison(results)
    loss, accuracy = figure.axes
    assert len(loss.lines) == 4  # raw and smoothed per run
    assert [line.get_color() for line in loss.lines] == [COLORS[0]] * 2 + [COLORS[1]] * 2
    raw, smoothed = loss.lines[:2]
    np.testing.assert_array_equal(raw.get_ydata(), results[0].losses)
    np.testing.assert_allclose(smoothed.get_ydata(), results[0].smoothed_losses())
    assert "smoothed" in loss.get_title("left")
    assert accuracy.get_title("left") == "validation accuracy"
    assert len(accuracy.lines) == 2
    np.testing.assert_allclose(accuracy.lines[1].get_ydata(), [0.5, 0.6, 0.7])
    assert accuracy.get_ylim()[0] < 0.5 < 1.0 < accuracy.get_ylim()[1]
    assert _legend(figure) == ["sgd, test accuracy 0.800", "adam, test accuracy 0.900"]


def test_many_variants_and_a_diverged_one_still_draw(tmp_path: Path) -> None:
    results = []
    for i in range(32):
        r = VariantResult(i, f"init std {10 ** (-i / 8):.4g}, batchnorm {'on' if i % 2 else 'off'}", {})
        r.steps, r.losses, r.lrs = [1, 2, 3], [2.3, 1e30 if i == 5 else 2.0, 1.0], [0.01] * 3
        r.status = "diverged" if i == 5 else "finished"
        results.append(r)
    figure = render_comparison(results)
    labels = _legend(figure)
    assert len(labels) == 32 and labels[5].endswith("(diverged)")
    loss = figure.axes[0]
    assert loss.get_ylim()[1] == pytest.approx(2.3 * 1.1)  # the diverged run is cut off, not the scale
    assert figure.get_size_inches()[1] > 5.2  # a taller figure for a legend of many rows
    image = decode_png(write_figure(tmp_path / "many.png", figure).read_bytes())
    assert image.shape[1] == 1200 and (image != 255).any(axis=2).mean() > 0.02


def test_smoothing_keeps_the_points_after_a_huge_loss() -> None:
    losses = np.array([1.5, 2e2, 9e4, 5e11, 7e21, 5e15, *np.full(200, 3.0)])
    smoothed = smooth(losses)
    assert smoothed[-1] == pytest.approx(3.0)  # not lost to rounding next to 7e21
    diverging = VariantResult(0, "diverging", {}, losses=list(losses))
    falling = VariantResult(1, "falling", {}, losses=list(np.linspace(1.5, 0.9, 206)))
    # The axis ends above the starting loss: the diverging run is cut off, the other one stays readable.
    assert loss_limit([diverging]) == loss_limit([diverging, falling]) == pytest.approx(1.5 * 1.1)


def test_training_against_test_accuracy_draws_two_lines_per_run() -> None:
    r = VariantResult(0, "weight decay 0.1", {}, status="finished", batches_per_epoch=10)
    r.epochs = [_epoch(e, 0.6 + 0.1 * e) for e in (1, 2, 3)]
    r.test_curve = [TestEvaluated(e, 10 * e, 1.0, 0.5 + 0.05 * e) for e in (1, 2, 3)]
    curves = AccuracyCurves.choose([r])
    assert (curves.line, curves.marked) == ("train_accuracy", "test_accuracy")
    accuracy = render_comparison([r]).axes[1]
    assert accuracy.get_title("left") == curves.title
    train, test = accuracy.lines
    np.testing.assert_allclose(train.get_ydata(), [0.7, 0.8, 0.9])
    np.testing.assert_allclose(test.get_ydata(), [0.55, 0.6, 0.65])
    assert test.get_marker() == "s" and test.get_linestyle() == "--"


def test_a_two_factor_comparison_also_draws_small_multiples(tmp_path: Path) -> None:
    prepared = DataSettings("spiral").prepare((2,))
    config = TrainingConfig(epochs=2, batch_size=100)
    comparison = Comparison(
        NETWORKS / "spiral_mlp.json",
        prepared,
        config,
        {"init": ["std 0.1", "he", "xavier"], "batchnorm": ["on", "off"]},
        out=tmp_path,
    )
    list(comparison.run())
    grid = decode_png(comparison.outputs["grid_png"].read_bytes())
    assert grid.shape[:2] == (647, 840)  # three panels in a 2 x 2 grid, a title and a legend
    figure = render_comparison_grid(
        comparison.results, {"init": [0.1, "he", "xavier"], "batchnorm": [True, False]}
    )
    assert [axes.get_title("left") for axes in figure.axes] == ["init std 0.1", "init he", "init xavier"]
    for axes in figure.axes:  # batchnorm on and off in every panel, the same colours, the same scales
        assert [line.get_color() for line in axes.lines] == list(COLORS[:2])
        assert axes.get_ylim() == figure.axes[0].get_ylim()
    assert _legend(figure) == ["batchnorm on", "batchnorm off"]
    assert "validation accuracy" in figure.get_suptitle()
    with pytest.raises(ValueError, match="two factors"):
        render_comparison_grid(comparison.results, {"init": [0.1]})
