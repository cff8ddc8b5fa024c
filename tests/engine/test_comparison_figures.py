"""The figures of a comparison: overlaid curves, many variants and diverged ones, small multiples."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dllab.compare import Comparison, VariantResult
from dllab.comparison_figures import render_comparison, render_comparison_grid
from dllab.plotting import COLORS
from dllab.runs import DataSettings
from dllab.trainer import TrainingConfig
from tests.engine.png import decode_png

NETWORKS = Path(__file__).resolve().parents[2] / "assets" / "networks"


def test_an_empty_figure() -> None:
    empty = render_comparison([VariantResult(0, "nothing yet", {})], width=300, height=200, scale=1)
    assert empty.shape == (200, 300, 3)


def test_many_variants_and_a_diverged_one_still_draw(tmp_path: Path) -> None:
    results = []
    for i in range(32):
        r = VariantResult(i, f"init std {10 ** (-i / 8):.4g}, batchnorm {'on' if i % 2 else 'off'}", {})
        r.steps, r.losses, r.lrs = [1, 2, 3], [2.3, 1e30 if i == 5 else 2.0, 1.0], [0.01] * 3
        results.append(r)
    image = render_comparison(results)
    assert image.shape == (520, 1200, 3)
    assert (image == np.array(COLORS[5], dtype=np.uint8)).all(axis=2).any()


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
    assert grid.shape == (2 * 300 + 38, 2 * 420, 3)  # three panels in a 2 x 2 grid, a legend on top
    for color in COLORS[:2]:  # batchnorm on and off in every panel
        assert np.all(grid == color, axis=2).sum() > 200
    rendered = render_comparison_grid(
        comparison.results, {"init": [0.1, "he", "xavier"], "batchnorm": [True, False]}
    )
    np.testing.assert_array_equal(rendered, grid)
    with pytest.raises(ValueError, match="two factors"):
        render_comparison_grid(comparison.results, {"init": [0.1]})
