"""The random search view: seeded draws that reproduce, a live scatter on log axes, the best trials' curves, the
ranking, stop, exports and the reasons Run is unavailable."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtGui import QImage

from dllab.data import load_dataset
from dllab.experiments.search import BOOK_RANGES, sample_log_uniform
from ui.experiments.search_view import SearchView
from ui.state import AppState

RUN_TIMEOUT_MS = 60_000


@pytest.fixture
def state() -> AppState:
    """The default design (a small MLP) on the 2D spiral, 10 % held out for validation."""
    state = AppState()
    state.set_dataset(load_dataset("spiral"))
    state.set_training_settings(batch_size=64)
    return state


@pytest.fixture
def view(qtbot: Any, state: AppState) -> SearchView:
    view = SearchView(state)
    qtbot.addWidget(view)
    view.resize(1400, 900)
    view.show()
    view.trials_spin.setValue(4)
    view.epochs_spin.setValue(2)
    view.seed_spin.setValue(3)
    yield view
    view.shutdown()


def run(qtbot: Any, view: SearchView) -> str:
    """Press Run and wait for the worker's thread to end; returns how it ended."""
    with qtbot.waitSignal(view.run_finished, timeout=RUN_TIMEOUT_MS) as finished:
        view.run_button.click()
    view.flush()
    return finished.args[0]


def test_a_seeded_search_draws_the_same_trials_again(qtbot, view, fake_dialogs) -> None:
    assert run(qtbot, view) == "finished"
    first = view.trial_params
    accuracies = [r.best_val_accuracy for r in view.results]

    assert run(qtbot, view) == "finished"

    assert view.trial_params == first
    assert first == sample_log_uniform(BOOK_RANGES, 4, seed=3)
    for params in first:
        assert 1e-6 <= params["lr"] <= 1e-2 and 1e-8 <= params["weight_decay"] <= 1e-4
    # Same draws, same initial weights, same mini-batches: the same scores.
    assert [r.best_val_accuracy for r in view.results] == accuracies
    view.seed_spin.setValue(4)
    assert run(qtbot, view) == "finished"
    assert view.trial_params != first
    assert fake_dialogs.errors() == []


def test_the_scatter_shows_every_trial_on_log_axes(qtbot, view) -> None:
    assert run(qtbot, view) == "finished"

    assert all(r.status == "finished" and len(r.epochs) == 2 for r in view.results)
    for name, plot in view.plots.scatter_plots.items():
        assert plot.getAxis("bottom").logMode
        xs, ys = view.plots.scatter_items[name].getData()
        # Stored as log10 of the values drawn, in trial order reversed by rank.
        drawn = sorted(p[name] for p in view.trial_params)
        np.testing.assert_allclose(sorted(10.0**xs), drawn, rtol=1e-9)
        assert len(ys) == 4 and ((ys >= 0) & (ys <= 100)).all()
    ranked = view.ranked()
    best = [r.best_val_accuracy for r in ranked]
    assert best == sorted(best, reverse=True) and len(ranked) == 4
    legend = [label.text for _, label in view.plots.curves_legend.items if label.text]
    assert len(legend) == 4  # the best 5 of 4 trials: all of them, best first
    assert legend[0].startswith(f"1. {ranked[0].best_val_accuracy * 100:.1f} %")
    assert view.table.rowCount() == 4
    assert view.table.item(0, 0).text() == "1"
    assert view.table.item(0, 1).text() == str(ranked[0].index + 1)


def test_trials_can_be_ranked_by_the_last_epoch_as_the_book_does(qtbot, view) -> None:
    view.epochs_spin.setValue(3)
    view.rank_combo.setCurrentIndex(view.rank_combo.findData("last"))
    assert run(qtbot, view) == "finished"

    ranked = view.ranked()
    last = [r.final_val_accuracy for r in ranked]
    assert last == sorted(last, reverse=True) and len(ranked) == 4
    _, ys = view.plots.scatter_items["lr"].getData()
    np.testing.assert_allclose(sorted(ys), sorted(a * 100 for a in last))
    legend = [label.text for _, label in view.plots.curves_legend.items if label.text]
    assert legend[0].startswith(f"1. {ranked[0].final_val_accuracy * 100:.1f} %")
    assert "last epoch's validation accuracy" in view.plots.scatter_title.text


def test_stop_ends_the_search_before_the_next_mini_batch(qtbot, view) -> None:
    view.trials_spin.setValue(6)
    view.epochs_spin.setValue(500)
    with qtbot.waitSignal(view.run_finished, timeout=RUN_TIMEOUT_MS) as finished:
        view.run_button.click()
        qtbot.waitUntil(lambda: len(view.results) == 6 and len(view.results[0].steps) >= 2, timeout=30_000)
        view.run_button.click()

    assert finished.args[0] == "stopped"
    assert view.results[0].status == "stopped"
    assert [r.status for r in view.results[1:]] == ["not run"] * 5
    assert len(view.results[0].steps) < 500 * 5


def test_exports_write_the_ranking(qtbot, view, fake_dialogs, tmp_path: Path) -> None:
    run(qtbot, view)
    fake_dialogs.save_paths = [tmp_path / "search.png", tmp_path / "search.csv"]

    view.png_button.click()
    view.csv_button.click()

    assert not QImage(str(tmp_path / "search.png")).isNull()
    with (tmp_path / "search.csv").open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert [int(row["rank"]) for row in rows] == [1, 2, 3, 4]
    assert {int(row["trial"]) for row in rows} == {1, 2, 3, 4}
    values = [float(row["best_val_accuracy"]) for row in rows]
    assert values == sorted(values, reverse=True)
    assert {float(row["lr"]) for row in rows} == {p["lr"] for p in view.trial_params}


def test_only_the_learning_rate_can_be_searched(qtbot, view) -> None:
    view.range_checks["weight_decay"].setChecked(False)
    view.range_editors["lr"].set_bounds(1e-3, 1e-1)

    assert run(qtbot, view) == "finished"

    assert view.trial_params == sample_log_uniform({"lr": (1e-3, 1e-1)}, 4, seed=3)
    assert not view.plots.scatter_plots["weight_decay"].isVisible()
    assert view.table.item(0, 3).text() == "—"


def test_run_is_unavailable_with_a_reason(view, state) -> None:
    assert view.run_button.isEnabled()
    view.range_editors["lr"].set_bounds(1e-2, 1e-4)
    assert not view.run_button.isEnabled()
    assert "lower one first" in view.blocker_label.text()
    view.range_editors["lr"].set_bounds(1e-4, 1e-2)
    for check in view.range_checks.values():
        check.setChecked(False)
    assert "at least one range" in view.blocker_label.text()
    view.range_checks["lr"].setChecked(True)
    state.set_data_settings(val_fraction=0.0)
    assert not view.run_button.isEnabled()
    assert "validation" in view.blocker_label.text()


def test_the_log_range_editor_steps_by_half_a_decade(view) -> None:
    editor = view.range_editors["lr"]
    assert editor.bounds() == BOOK_RANGES["lr"]
    editor.high_spin.stepBy(-1)
    assert math.isclose(editor.bounds()[1], 10**-2.5, rel_tol=1e-5)
    editor.low_spin.lineEdit().setText("3e-5")
    editor.low_spin.interpretText()
    assert math.isclose(editor.bounds()[0], 3e-5, rel_tol=1e-5)
    assert "decades" in editor.span_label.text()


def test_trials_in_two_processes_score_as_in_turn(qtbot, view, fake_dialogs) -> None:
    assert run(qtbot, view) == "finished"
    in_turn = [r.best_val_accuracy for r in view.results]
    view.processes_spin.setValue(2)
    assert run(qtbot, view) == "finished"
    # The spiral's matrix products are too small for BLAS threads to change the sums: the same scores.
    assert [r.best_val_accuracy for r in view.results] == in_turn
    assert all(r.status == "finished" for r in view.results) and fake_dialogs.errors() == []
    assert view.progress_label.text().startswith("Done")
