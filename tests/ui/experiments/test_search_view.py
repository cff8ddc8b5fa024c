"""The search view: a study of the design run here and read back live, seeded draws that reproduce, the scatter
on log axes, the best trials' curves, parallel coordinates and importances, the trials table, Stop and resume,
exports, the reasons Run is unavailable, and trials that another process writes into a watched study."""

from __future__ import annotations

import csv
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pytest
from PySide6.QtGui import QImage

from dllab.data import load_dataset
from dllab.experiment import DataSettings, Experiment
from dllab.experiments import study as studies
from dllab.experiments.search import BOOK_RANGES, SearchDefinition, book_space
from dllab.spec import read_spec
from dllab.trainer import TrainingConfig
from ui.experiments.search_job import StudyPlace
from ui.experiments.search_view import SearchView
from ui.state import AppState

RUN_TIMEOUT_MS = 90_000
ROOT = Path(__file__).resolve().parents[3]


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
    """Press Run, wait for the worker's thread to end and the study to be read; returns how it ended."""
    with qtbot.waitSignal(view.run_finished, timeout=RUN_TIMEOUT_MS) as finished:
        view.run_button.click()
    view.watcher.wait_idle()
    view.flush()
    return finished.args[0]


def seeded_draws(search: SearchDefinition, count: int) -> list[dict]:
    study = optuna.create_study(direction="maximize", sampler=studies.make_sampler(search))
    params = []
    for _ in range(count):
        trial = study.ask()
        params.append(studies.suggest(trial, search))
        study.tell(trial, 0.5)
    return params


def test_a_search_runs_here_and_the_view_reads_the_study_back(qtbot, view, fake_dialogs) -> None:
    assert run(qtbot, view) == "finished"

    snapshot = view.snapshot
    assert snapshot is not None and snapshot.done == 4 and snapshot.complete
    assert all(r.status == "finished" and len(r.epochs) == 2 for r in view.results)
    assert view.trial_params == seeded_draws(snapshot.definition, 4)  # trial n draws what the seed gives it
    for params in view.trial_params:
        assert 1e-6 <= params["lr"] <= 1e-2 and 1e-8 <= params["weight_decay"] <= 1e-4
    # The study lives in an SQLite file in a new folder of the runs folder, with the outputs and trial folders.
    folder = view.place.folder
    assert (folder / "study.db").is_file() and (folder / "search.png").is_file()
    assert sorted(p.name for p in folder.glob("trial-*")) == [f"trial-{n:04d}" for n in range(4)]
    assert "optuna-dashboard sqlite:///" in view.study_label.text()
    assert view.progress_label.text().startswith("Done") and fake_dialogs.errors() == []


@pytest.mark.slow
def test_a_seeded_search_draws_the_same_trials_again(qtbot, view) -> None:
    assert run(qtbot, view) == "finished"
    first, place = view.trial_params, view.place
    accuracies = [r.best_val_accuracy for r in view.results]

    assert run(qtbot, view) == "finished"  # the last study is complete: a new one, the same draws

    assert view.place != place and view.trial_params == first
    assert [r.best_val_accuracy for r in view.results] == accuracies  # same weights, same mini-batches
    view.seed_spin.setValue(4)
    assert run(qtbot, view) == "finished"
    assert view.trial_params != first


def test_the_scatter_shows_every_trial_on_log_axes_and_the_table_ranks_them(qtbot, view) -> None:
    assert run(qtbot, view) == "finished"

    assert list(view.plots.scatter_plots) == ["lr", "weight_decay"]
    for name, plot in view.plots.scatter_plots.items():
        assert plot.getAxis("bottom").logMode
        xs, ys = view.plots.scatter_items[name].getData()
        # Stored as log10 of the values drawn.
        np.testing.assert_allclose(sorted(10.0**xs), sorted(p[name] for p in view.trial_params), rtol=1e-9)
        assert len(ys) == 4 and ((ys >= 0) & (ys <= 100)).all()
    ranked = view.ranked()
    best = [r.best_val_accuracy for r in ranked]
    assert best == sorted(best, reverse=True) and len(ranked) == 4
    legend = [label.text for _, label in view.plots.curves_legend.items if label.text]
    assert len(legend) == 4  # the best 5 of 4 trials: all of them, best first
    assert legend[0].startswith(f"1. {ranked[0].best_val_accuracy * 100:.1f} %, trial {ranked[0].index}")
    table = view.table
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert headers[:5] == ["Rank", "Trial", "State", "Learning rate", "Weight decay"]
    assert headers[-2:] == ["Duration", "Worker"]
    assert table.rowCount() == 4
    assert [table.item(0, c).text() for c in range(3)] == ["1", str(ranked[0].index), "complete"]
    assert table.item(0, len(headers) - 1).text().startswith(studies.worker_host())
    # Every trial a line through the parallel coordinates; the best ones in colour.
    assert (
        sum(item.getData()[0] is not None and len(item.getData()[0]) > 0 for item in view.plots.parallel_best)
        == 4
    )


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


def test_more_settings_searched_get_their_own_axes_columns_and_importances(qtbot, view) -> None:
    view.trials_spin.setValue(6)
    view.extra_checks["optimizer"].setChecked(True)
    view.extra_edits["optimizer"].setText("sgd,adam")
    view.extra_checks["batch_size"].setChecked(True)
    view.extra_edits["batch_size"].setText("16..128")
    assert run(qtbot, view) == "finished"

    assert list(view.plots.scatter_plots) == ["lr", "weight_decay", "batch_size", "optimizer"]
    optimizer = view.plots.scatter_plots["optimizer"]
    assert not optimizer.getAxis("bottom").logMode
    assert [label for _, label in optimizer.getAxis("bottom")._tickLevels[0]] == ["sgd", "adam"]
    assert view.plots.scatter_plots["batch_size"].getAxis("bottom").logMode
    for params in view.trial_params:
        assert params["optimizer"] in ("sgd", "adam") and 16 <= params["batch_size"] <= 128
    headers = [view.table.horizontalHeaderItem(c).text() for c in range(view.table.columnCount())]
    assert "Batch size" in headers and "Optimizer" in headers
    importances = view.snapshot.importances
    assert importances is not None and set(importances) <= {"lr", "weight_decay", "batch_size", "optimizer"}
    assert sum(importances.values()) == pytest.approx(1.0)
    assert len(view.plots.importance_bars.opts["width"]) == len(importances)


@pytest.mark.slow
def test_stop_fails_this_machines_trial_and_run_resumes_the_study(qtbot, view) -> None:
    view.trials_spin.setValue(3)
    view.epochs_spin.setValue(500)
    with qtbot.waitSignal(view.run_finished, timeout=RUN_TIMEOUT_MS) as finished:
        view.run_button.click()
        qtbot.waitUntil(lambda: any(len(r.epochs) >= 1 for r in view.training()), timeout=60_000)
        view.run_button.click()
    view.watcher.wait_idle()
    qtbot.waitUntil(lambda: bool(view.results) and view.results[0].status == "stopped", timeout=20_000)

    assert finished.args[0] == "stopped"
    assert [r.status for r in view.results] == ["stopped"]
    assert view.table.item(0, 2).text() == "failed (stopped)"
    place = view.place
    # Run again: the same search, with trials left, is resumed.
    with qtbot.waitSignal(view.run_finished, timeout=RUN_TIMEOUT_MS):
        view.run_button.click()
        qtbot.waitUntil(lambda: view.planned is not None, timeout=30_000)
        view.run_button.click()
    assert view.place == place and not view.planned.created


def test_exports_write_the_ranking(qtbot, view, fake_dialogs, tmp_path: Path) -> None:
    run(qtbot, view)
    fake_dialogs.save_paths = [tmp_path / "search.png", tmp_path / "search.csv"]

    view.png_button.click()
    view.csv_button.click()

    assert not QImage(str(tmp_path / "search.png")).isNull()
    with (tmp_path / "search.csv").open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert [int(row["rank"]) for row in rows] == [1, 2, 3, 4]
    assert {int(row["trial"]) for row in rows} == {0, 1, 2, 3}
    values = [float(row["best_val_accuracy"]) for row in rows]
    assert values == sorted(values, reverse=True)
    assert {float(row["lr"]) for row in rows} == {p["lr"] for p in view.trial_params}


def test_only_the_learning_rate_can_be_searched(qtbot, view) -> None:
    view.range_checks["weight_decay"].setChecked(False)
    view.range_editors["lr"].set_bounds(1e-3, 1e-1)

    assert run(qtbot, view) == "finished"

    assert list(view.plots.scatter_plots) == ["lr"]
    assert all(set(p) == {"lr"} and 1e-3 <= p["lr"] <= 1e-1 for p in view.trial_params)
    assert view.table.horizontalHeaderItem(3).text() == "Learning rate"
    assert view.table.horizontalHeaderItem(4).text() == "Best val. acc."


def test_run_is_unavailable_with_a_reason(view, state) -> None:
    assert view.run_button.isEnabled()
    view.range_editors["lr"].set_bounds(1e-2, 1e-4)
    assert not view.run_button.isEnabled()
    assert "lower one first" in view.blocker_label.text()
    view.range_editors["lr"].set_bounds(1e-4, 1e-2)
    for check in view.range_checks.values():
        check.setChecked(False)
    assert "at least one setting" in view.blocker_label.text()
    view.range_checks["lr"].setChecked(True)
    view.extra_checks["dropout"].setChecked(True)
    view.extra_edits["dropout"].setText("0..1.5")
    assert "[0, 1)" in view.blocker_label.text()
    view.extra_checks["dropout"].setChecked(False)
    view.storage_edit.setText("sqlite:///elsewhere.db")
    assert "Name the study" in view.blocker_label.text()
    view.study_edit.setText("s1")
    assert view.run_button.isEnabled()
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


@pytest.mark.slow
def test_workers_in_two_processes_score_as_one_worker(qtbot, view, fake_dialogs) -> None:
    assert run(qtbot, view) == "finished"
    in_turn = {r.index: r.best_val_accuracy for r in view.results}
    view.processes_spin.setValue(2)
    assert run(qtbot, view) == "finished"
    # Trial n draws the same values whichever worker runs it; the spiral's matrix products are too small for
    # BLAS threads to change the sums: the same scores.
    assert {r.index: r.best_val_accuracy for r in view.results} == in_turn
    assert all(r.status == "finished" for r in view.results) and fake_dialogs.errors() == []
    assert view.progress_label.text().startswith("Done")


# --- watching a study ------------------------------------------------------------------------------------


def spiral_search(trials: int, epochs: int, **options) -> SearchDefinition:
    experiment = Experiment(
        read_spec(ROOT / "assets" / "networks" / "spiral_mlp.json"),
        DataSettings("spiral", val_fraction=0.2),
        TrainingConfig(batch_size=50, epochs=epochs, stats_every=0),
        0,
    )
    return SearchDefinition(
        experiment, options.pop("space", book_space({"lr": (1e-3, 1.0)})), trials=trials, **options
    )


@pytest.mark.slow
def test_the_view_shows_the_trials_another_process_writes(qtbot, view, tmp_path: Path) -> None:
    url = studies.folder_storage(tmp_path / "search")
    search = studies.create_or_join(spiral_search(3, 4), "elsewhere", url, heartbeat=1)
    studies.save_definition(tmp_path / "search", search)
    search.close()
    view.storage_edit.setText(str(tmp_path / "search"))  # a search's folder names its study
    view.watch_button.click()
    qtbot.waitUntil(lambda: view.snapshot is not None, timeout=20_000)
    assert view.snapshot.trials == () and view.place.name == "elsewhere"

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    worker = subprocess.Popen(
        [sys.executable, "-m", "dllab", "search-worker", "--study", "elsewhere", "--storage", url, "--out",
         str(tmp_path / "worker")],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        qtbot.waitUntil(lambda: view.snapshot.done == 3, timeout=RUN_TIMEOUT_MS)
    finally:
        _, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err
    view.flush()
    assert [r.status for r in view.results] == ["finished"] * 3
    assert view.table.rowCount() == 3
    worker_column = view.table.columnCount() - 1
    assert {view.table.item(row, worker_column).text() for row in range(3)} == {
        f"{studies.worker_host()} (pid {worker.pid})"
    }
    assert not view.running and not view.watcher.watching  # complete: no more reading


def test_a_pruned_trial_says_so_in_the_view(qtbot, view, tmp_path: Path) -> None:
    url = studies.folder_storage(tmp_path)
    search = studies.create_or_join(
        spiral_search(6, 5, space=book_space({"lr": (1e-7, 2e-7)}), pruner="median"), "p", url, heartbeat=1
    )
    distributions = {"lr": optuna.distributions.FloatDistribution(1e-7, 2e-7, log=True)}
    for _ in range(5):
        search.study.add_trial(
            optuna.trial.create_trial(
                params={"lr": 1.5e-7},
                distributions=distributions,
                value=0.95,
                intermediate_values={epoch: 0.95 for epoch in range(1, 6)},
            )
        )
    search.close()
    list(studies.SearchWorker("p", url, max_trials=1).events())

    assert view.watch(StudyPlace("p", url))
    qtbot.waitUntil(lambda: view.snapshot is not None, timeout=20_000)
    view.flush()
    pruned = [r for r in view.results if r.status == "pruned"]
    assert len(pruned) == 1 and len(pruned[0].epochs) == 3
    rows = [view.table.item(row, 2).text() for row in range(view.table.rowCount())]
    assert rows.count("pruned") == 1
    assert "pruned after epoch 3" in next(
        view.table.item(row, 2).toolTip() for row in range(view.table.rowCount()) if rows[row] == "pruned"
    )


def test_watching_needs_a_study_to_watch(view, fake_dialogs, tmp_path: Path) -> None:
    assert not view.watch()
    assert "Give the storage" in fake_dialogs.errors()[-1][1]
    view.storage_edit.setText(str(tmp_path))
    assert not view.watch()
    assert "holds no search" in fake_dialogs.errors()[-1][1]
