"""The activation-distribution view: the book's grid at once, its qualitative results in the histograms drawn,
the controls, and the exports."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtGui import QImage

from dllab.experiments.distributions import BOOK_ACTIVATIONS, BOOK_INITS, activation_distributions
from ui.experiments.distributions_view import DistributionsView


@pytest.fixture
def view(qtbot: Any) -> DistributionsView:
    view = DistributionsView()
    qtbot.addWidget(view)
    view.resize(1400, 900)
    view.show()
    return view


def drawn_shares(view: DistributionsView, key: tuple[str, str | float]) -> list[np.ndarray]:
    """The share (%) of each bin as drawn, per layer."""
    return [np.asarray(item.getData()[1]) for item in view.histograms[key]]


def test_the_books_grid_is_drawn_at_once(view) -> None:
    assert list(view.grid) == [(a, i) for a in BOOK_ACTIVATIONS for i in BOOK_INITS]
    assert view.stack.currentWidget() is view.content
    assert all(len(items) == 5 for items in view.histograms.values())
    assert "3 × 4" in view.status_label.text()


def test_sigmoid_with_std_1_piles_up_at_0_and_1(view) -> None:
    for shares in drawn_shares(view, ("sigmoid", 1.0)):
        assert shares.sum() == pytest.approx(100.0)
        ends = shares[0] + shares[-1]
        assert ends > 50  # most outputs in the two end bins, where the sigmoid is flat
        assert shares[1:-1].max() < min(shares[0], shares[-1]) / 3
    # std 0.01 squeezes everything near 0.5 instead; Xavier keeps a spread.
    for layer in view.grid["sigmoid", 0.01]:
        assert abs(layer.mean - 0.5) < 0.02 and layer.std < 0.03
    for layer in view.grid["sigmoid", "xavier"]:
        assert layer.std > 0.1
    engine = activation_distributions("sigmoid", 1.0, bins=30)
    for mine, theirs in zip(view.grid["sigmoid", 1.0], engine, strict=True):
        np.testing.assert_array_equal(mine.counts, theirs.counts)


def test_relu_keeps_its_spread_with_he_and_loses_it_with_std_001(view) -> None:
    he = [layer.std for layer in view.grid["relu", "he"]]
    small = [layer.std for layer in view.grid["relu", 0.01]]
    assert max(he) / min(he) < 1.5
    assert small[-1] < small[0] / 100
    labels = [label.toPlainText() for label in view.sigma_labels["relu", "he"]]
    assert labels[0].startswith("σ ") and len(labels) == 5


def test_the_controls_recompute_the_grid(qtbot, view) -> None:
    view.layers_spin.setValue(3)
    qtbot.waitUntil(lambda: all(len(layers) == 3 for layers in view.grid.values()))
    assert all(len(items) == 3 for items in view.histograms.values())

    view.activation_list.set_checked(["tanh"])
    view.init_list.set_checked(["xavier"])
    qtbot.waitUntil(lambda: list(view.grid) == [("tanh", "xavier")])
    assert list(view.plots) == [("tanh", "xavier")]

    view.init_list.set_checked([])
    qtbot.waitUntil(lambda: view.stack.currentWidget() is view.placeholder)
    assert view.grid == {} and not view.png_button.isEnabled()


def test_exports_write_the_grid_and_every_bin(view, fake_dialogs, tmp_path: Path) -> None:
    fake_dialogs.save_paths = [tmp_path / "grid.png", tmp_path / "grid.csv"]

    view.png_button.click()
    view.csv_button.click()

    image = QImage(str(tmp_path / "grid.png"))
    assert not image.isNull() and image.width() > 800
    with (tmp_path / "grid.csv").open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 3 * 4 * 5 * 30
    sigmoid_1 = [r for r in rows if r["activation"] == "Sigmoid" and r["init"] == "1.0" and r["layer"] == "1"]
    assert sum(int(r["count"]) for r in sigmoid_1) == 1000 * 100
    assert sum(float(r["share"]) for r in sigmoid_1) == pytest.approx(1.0)


def test_the_grid_is_computed_when_the_view_is_first_shown_not_when_it_is_built(qtbot) -> None:
    view = DistributionsView()
    qtbot.addWidget(view)
    assert view.grid == {} and view.histograms == {}  # the window's start does not wait for it
    view.show()
    assert list(view.grid) == [(a, i) for a in BOOK_ACTIVATIONS for i in BOOK_INITS]
    grid = view.grid
    view.hide()
    view.show()
    assert view.grid is grid  # once
