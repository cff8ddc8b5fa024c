"""What the engine's figures share: the accuracy axis, markers, legends, the style and the PNG writer."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pytest

from dllab.experiments.plotting import (
    DPI,
    accuracy_range,
    figure_style,
    legend_columns,
    marker_every,
    new_figure,
    padded,
    write_figure,
)
from tests.engine.png import decode_png


def test_accuracy_range() -> None:
    assert accuracy_range(np.array([0.43, 0.91, np.nan])) == (0.4, 1.0)
    assert accuracy_range(np.array([0.97])) == (0.9, 1.0)  # at most 0.9
    assert accuracy_range(np.array([np.nan, np.inf])) == (0.0, 1.0)
    assert accuracy_range(np.zeros(0)) == (0.0, 1.0)


def test_marker_every_keeps_the_last_point() -> None:
    assert marker_every(5) == [0, 1, 2, 3, 4]
    chosen = marker_every(1000, 30)
    assert chosen[-1] == 999 and len(chosen) <= 31
    assert marker_every(0) == []


def test_padded_and_legend_columns() -> None:
    assert padded(0.0, 10.0, below=0.0) == pytest.approx((0.0, 10.2))
    assert legend_columns([], 10.0) == 1
    assert legend_columns(["sgd", "adam"], 10.0) == 2
    many = [f"a rather long label number {i}" for i in range(20)]
    assert 1 < legend_columns(many, 12.0) < 20
    assert legend_columns(many, 12.0, max_columns=2) == 2
    assert legend_columns(["x" * 500], 12.0) == 1


def test_write_figure_writes_a_png_of_the_figure_size(tmp_path: Path) -> None:
    with figure_style():
        figure = new_figure(4.0, 3.0)
        axes = figure.subplots()
        axes.plot([0, 1, 2], [1.0, 0.5, 0.2])
        axes.set_title("a title")
    path = write_figure(tmp_path / "figure.png", figure)
    assert path == tmp_path / "figure.png"
    assert decode_png(path.read_bytes()).shape == (3 * DPI, 4 * DPI, 3)
    assert [p.name for p in tmp_path.iterdir()] == ["figure.png"]  # no temporary file left


def test_a_figure_that_fails_to_save_leaves_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "figure.png"
    path.write_bytes(b"old")
    figure = new_figure(2.0, 2.0)
    figure.subplots().set_title("$\\unknowncommand$")  # mathtext that cannot be drawn
    with pytest.raises(ValueError):
        write_figure(path, figure)
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["figure.png"]


def test_the_figure_style_does_not_leak() -> None:
    before = dict(matplotlib.rcParams)
    with figure_style():
        figure = new_figure(3.0, 2.0)
        axes = figure.subplots()
    assert not axes.spines["top"].get_visible()  # the style holds for what was made within
    assert dict(matplotlib.rcParams) == before
