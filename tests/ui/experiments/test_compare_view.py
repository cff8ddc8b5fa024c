"""The comparison view: runs of the design from identical starting points, live curves, stop, the book's presets
on real MNIST, two-factor small multiples, exports and the reasons Run is unavailable."""

from __future__ import annotations

import csv
import multiprocessing
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtGui import QImage

from dllab.data import Dataset, load_dataset
from dllab.experiments.compare import VariantEvent
from dllab.experiments.presets import PRESETS, QUICK_STEPS, book_mlp
from dllab.experiments.variants import check_factor_values
from dllab.trainer import BatchEnded, RunStarted, Stopped
from ui.experiments.compare_view import CompareView
from ui.experiments.jobs import ComparisonPlanned
from ui.state import AppState

RUN_TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def mnist(mnist_dir: Path) -> Dataset:
    """Real MNIST, loaded once for the module."""
    return load_dataset(mnist_dir)


@pytest.fixture
def state(mnist: Dataset, mnist_dir: Path) -> AppState:
    """A small MLP for MNIST on 500 training samples, 10 % of them for validation."""
    state = AppState(spec=book_mlp(2, units=50))
    state.set_dataset(mnist)
    state.set_data_settings(source=str(mnist_dir), subset=500, val_fraction=0.1, normalization="scale")
    return state


@pytest.fixture
def view(qtbot: Any, state: AppState, mnist_dir: Path) -> CompareView:
    view = CompareView(state, mnist_dir=mnist_dir)
    qtbot.addWidget(view)
    view.resize(1400, 900)
    view.show()
    yield view
    view.shutdown()


def run(qtbot: Any, view: CompareView) -> str:
    """Press Run and wait for the worker's thread to end; returns how it ended."""
    with qtbot.waitSignal(view.run_finished, timeout=RUN_TIMEOUT_MS) as finished:
        view.run_button.click()
    view.flush()
    return finished.args[0]


def compare_optimizers(view: CompareView, names: tuple[str, ...], steps: int) -> None:
    view.choose_experiment(None)
    view.first_editor.set_setting("optimizer", names)
    view.second_editor.set_setting(None)
    view.steps_spin.setValue(steps)


def test_two_optimizers_start_from_the_same_weights_and_draw_two_curves(qtbot, view, fake_dialogs) -> None:
    compare_optimizers(view, ("sgd", "adam"), 20)

    assert run(qtbot, view) == "finished"

    assert [r.label for r in view.results] == ["sgd", "adam"]
    assert [r.status for r in view.results] == ["finished", "finished"]
    assert [len(r.steps) for r in view.results] == [20, 20]
    # The same initial weights and the same first mini-batch: the first loss is identical, bit for bit.
    assert view.results[0].losses[0] == view.results[1].losses[0]
    assert view.results[0].losses[-1] != view.results[1].losses[-1]
    comparison = view.job.comparison
    sgd, adam = (comparison.build_model(v) for v in comparison.variants)
    assert sgd.params.keys() == adam.params.keys()
    for key in sgd.params:
        np.testing.assert_array_equal(sgd.params[key], adam.params[key])
    # Two loss curves with 20 points each, two accuracy curves, and a row per run.
    for curve in view.plots.loss_curves:
        xs, ys = curve.getData()
        assert len(xs) == 20 and np.isfinite(ys).all()
    assert all(len(items.line.getData()[0]) >= 1 for items in view.plots.accuracy_items)
    assert view.table.rowCount() == 2
    # Both runs named in the legend over the plots, which covers no curve.
    plots = view.plots
    assert [label.text for _, label in plots.legend.items] == ["sgd", "adam"]
    legend = plots.legend.sceneBoundingRect()
    for plot in (plots.loss_plot, plots.accuracy_plot):
        assert not legend.intersects(plot.vb.sceneBoundingRect())
    assert view.table.item(1, 0).text() == "adam"
    assert view.table.item(0, 1).text() == "finished (step limit)"
    assert view.has_data and view.stack.currentWidget() is view.content
    assert fake_dialogs.errors() == []


def test_stop_ends_the_running_variant_and_skips_the_rest(qtbot, view) -> None:
    compare_optimizers(view, ("sgd", "momentum", "adam"), 0)
    view.epochs_spin.setValue(200)
    with qtbot.waitSignal(view.run_finished, timeout=RUN_TIMEOUT_MS) as finished:
        view.run_button.click()
        assert view.running and view.run_button.text() == "Stop"
        qtbot.waitUntil(lambda: len(view.results) == 3 and len(view.results[0].steps) >= 3, timeout=30_000)
        clicked = time.monotonic()
        view.run_button.click()
    stopped_in = time.monotonic() - clicked

    assert finished.args[0] == "stopped"
    assert stopped_in < 10  # the trainer stops before its next mini-batch, not at the end of the run
    assert [r.status for r in view.results] == ["stopped", "not run", "not run"]
    assert 3 <= len(view.results[0].steps) < 200 * 15
    assert view.results[1].steps == [] and view.results[2].steps == []
    assert not view.running and view.run_button.text() == "Run"
    assert view.table.item(2, 1).text() == "not run"


@pytest.mark.parametrize("name", list(PRESETS))
def test_choosing_a_preset_fills_its_settings_and_description(view, name: str) -> None:
    preset = PRESETS[name]

    view.choose_experiment(name)

    assert view.preset_name == name
    assert preset.title in view.description_label.text()
    assert preset.figure in view.description_label.text()
    factors = list(preset.comparison_factors().items())
    assert view.first_editor.factor == factors[0][0]
    assert view.first_editor.values() == check_factor_values(*factors[0])
    if len(factors) == 2:
        assert view.second_editor.factor == factors[1][0]
        assert view.second_editor.values() == check_factor_values(*factors[1])
    else:
        assert view.second_editor.factor is None
    assert view.factors() == {k: check_factor_values(k, v) for k, v in factors}
    assert view.epochs_spin.value() == preset.training_config().epochs
    assert view.quick_check.isVisibleTo(view) and not view.book_lr_check.isVisibleTo(view)
    view.quick_check.setChecked(True)
    assert view.steps_spin.value() == QUICK_STEPS
    assert view.run_blocker() is None and view.run_button.isEnabled()


def test_the_optimizers_preset_runs_quickly_on_mnist(qtbot, view, fake_dialogs) -> None:
    view.choose_experiment("optimizers")
    view.quick_check.setChecked(True)

    assert run(qtbot, view) == "finished"

    assert [r.label for r in view.results] == ["sgd", "momentum", "adagrad", "adam"]
    assert all(r.status == "finished" and len(r.steps) == QUICK_STEPS for r in view.results)
    assert len({r.losses[0] for r in view.results}) == 1
    # The book trains on every training image: no validation split, the training accuracy is drawn.
    assert view.plan is not None and "500 training, 0 validation" in view.plan.data
    assert "training accuracy" in view.plots.accuracy_plot.getAxis("left").labelText
    assert fake_dialogs.errors() == []


def test_an_overfitting_preset_draws_training_against_test_accuracy(qtbot, view) -> None:
    view.choose_experiment("weight_decay")
    view.quick_check.setChecked(True)

    assert run(qtbot, view) == "finished"

    assert [r.label for r in view.results] == ["weight decay 0", "weight decay 0.1"]
    assert all(r.test_curve for r in view.results)
    assert "test" in view.plots.accuracy_plot.getAxis("left").labelText
    for items in view.plots.accuracy_items:
        assert len(items.marked.getData()[0]) == len(items.line.getData()[0]) > 0


def test_two_factors_give_small_multiples(qtbot, view) -> None:
    view.choose_experiment(None)
    view.first_editor.set_setting("batchnorm", (True, False))
    view.second_editor.set_setting("optimizer", ("sgd", "adam"))
    view.steps_spin.setValue(8)

    assert run(qtbot, view) == "finished"

    assert [r.label for r in view.results] == [
        "batchnorm on, sgd",
        "batchnorm on, adam",
        "batchnorm off, sgd",
        "batchnorm off, adam",
    ]
    assert view.plots.small_multiples and view.plots.grid_button.isEnabled()
    assert [p.titleLabel.text for p in view.plots.grid_plots] == ["batchnorm on", "batchnorm off"]
    assert sorted(view.plots.grid_items) == [0, 1, 2, 3]
    # BatchNorm draws nothing when built: the Dense weights start the same with and without it.
    assert view.results[0].losses[0] == view.results[1].losses[0]
    assert view.results[2].losses[0] == view.results[3].losses[0]


def test_exports_write_the_plots_and_every_mini_batch(qtbot, view, fake_dialogs, tmp_path: Path) -> None:
    compare_optimizers(view, ("sgd", "adam"), 20)
    run(qtbot, view)
    fake_dialogs.save_paths = [tmp_path / "comparison.png", tmp_path / "comparison"]

    view.png_button.click()
    view.csv_button.click()

    image = QImage(str(tmp_path / "comparison.png"))
    assert not image.isNull() and image.width() > 800
    with (tmp_path / "comparison.csv").open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 40
    assert {row["variant"] for row in rows} == {"sgd", "adam"}
    epoch_rows = [row for row in rows if row["epoch"]]
    assert epoch_rows and all(0 <= float(row["val_accuracy"]) <= 1 for row in epoch_rows)
    assert fake_dialogs.errors() == []


def test_run_is_unavailable_with_a_reason(qtbot, state, view) -> None:
    view.choose_experiment(None)
    view.first_editor.set_setting("optimizer", ("sgd", "adam"))
    view.second_editor.set_setting("optimizer", ("sgd",))
    assert not view.run_button.isEnabled()
    assert "two different settings" in view.blocker_label.text()

    view.second_editor.set_setting("weight_decay", (0.0,))
    view.second_editor.edits["weight_decay"].setText("0, much")
    view.second_editor.edits["weight_decay"].textEdited.emit("0, much")
    assert not view.run_button.isEnabled()
    assert "weight decay values must be numbers" in view.blocker_label.text().lower()
    assert view.second_editor.error_label.isVisibleTo(view)

    view.second_editor.set_setting(None)
    assert view.run_button.isEnabled()
    state.set_dataset(None)
    assert not view.run_button.isEnabled()
    assert "Load a dataset" in view.blocker_label.text()


def test_without_a_state_only_the_presets_are_offered(qtbot) -> None:
    view = CompareView()
    qtbot.addWidget(view)
    assert view.experiment_combo.count() == len(PRESETS)
    assert view.preset_name == "optimizers"
    assert view.stack.currentWidget() is view.placeholder
    assert not view.png_button.isEnabled()


def test_a_preset_without_its_data_fails_with_the_reason(qtbot, fake_dialogs, tmp_path: Path) -> None:
    view = CompareView(mnist_dir=tmp_path)  # an empty folder: no MNIST files in it
    qtbot.addWidget(view)
    view.show()
    view.quick_check.setChecked(True)

    assert run(qtbot, view) == "failed"

    [(title, message)] = fake_dialogs.errors()
    assert "failed" in title and tmp_path.name in message
    assert view.progress_label.text().startswith("Failed:")
    assert view.run_button.text() == "Run" and view.run_button.isEnabled()


def test_processes_train_two_runs_at_once_and_draw_both(qtbot, view, fake_dialogs) -> None:
    compare_optimizers(view, ("sgd", "adam"), 150)
    view.processes_spin.setValue(2)
    assert view.processes_spin.minimum() == 1 and view.processes_spin.maximum() == (os.cpu_count() or 1)
    assert "one per core" in view.processes_spin.toolTip()

    assert run(qtbot, view) == "finished"

    assert view.job.comparison.processes == min(2, os.cpu_count() or 1)
    assert [r.status for r in view.results] == ["finished", "finished"]
    assert [len(r.steps) for r in view.results] == [150, 150]
    assert view.results[0].losses[0] == view.results[1].losses[0]
    for curve in view.plots.loss_curves:
        xs, ys = curve.getData()
        assert len(xs) == 150 and np.isfinite(ys).all()
    assert all(len(items.line.getData()[0]) >= 1 for items in view.plots.accuracy_items)
    assert [view.table.item(row, 1).text() for row in range(2)] == ["finished (step limit)"] * 2
    assert multiprocessing.active_children() == []
    assert fake_dialogs.errors() == []


def test_interleaved_events_of_runs_training_at_once_are_drawn_and_counted(view) -> None:
    plan = ComparisonPlanned(
        labels=("sgd", "adam", "momentum"),
        settings=({"optimizer": "sgd"}, {"optimizer": "adam"}, {"optimizer": "momentum"}),
        factors={"optimizer": ["sgd", "adam", "momentum"]},
        test_curve=False,
        data="mnist: 450 training, 50 validation, 10,000 test samples",
        max_steps=10,
        processes=2,
    )
    started = RunStarted(epochs=2, batches_per_epoch=5, total_steps=10, train_samples=450, val_samples=50,
                         test_samples=10_000)  # fmt: skip

    def batch(step: int) -> BatchEnded:
        return BatchEnded(step, 1 + (step - 1) // 5, 1 + (step - 1) % 5, 2.3 - 0.1 * step, 0.01, 1000.0)

    view.begin_job(None)
    view.handle_items([plan, VariantEvent(0, "sgd", started), VariantEvent(1, "adam", started)])
    for step in range(1, 5):
        view.handle_items([VariantEvent(1, "adam", batch(step)), VariantEvent(0, "sgd", batch(step))])
    view.handle_items([VariantEvent(0, "sgd", batch(5))])
    view.flush()

    assert view.progress_label.text() == (
        "2 runs training at once (0 of 3 done) · mini-batches: sgd 5 of 10, adam 4 of 10"
    )
    assert "3 runs</b>, 2 at a time" in view.status_label.text()
    points = [curve.getData()[0] for curve in view.plots.loss_curves]
    assert [0 if xs is None else len(xs) for xs in points] == [5, 4, 0]  # each run's own mini-batches
    assert [view.table.item(row, 1).text() for row in range(3)] == ["running", "running", "pending"]

    view.handle_items([VariantEvent(0, "sgd", Stopped(5, 1)), VariantEvent(2, "momentum", started)])
    view.flush()

    assert view.progress_label.text().startswith("2 runs training at once (1 of 3 done)")
    assert [view.table.item(row, 1).text() for row in range(3)] == ["stopped", "running", "running"]


def test_the_views_embed_in_the_main_window_and_stop_when_it_closes(qtbot, window) -> None:
    compare = window.compare_view
    for view in (window.compare_view, window.search_view, window.distributions_view):
        assert window.views.indexOf(view) >= 0
    window.views.setCurrentWidget(compare)
    compare.choose_experiment(None)
    compare.first_editor.set_setting("optimizer", ("sgd", "adam"))
    compare.epochs_spin.setValue(5000)
    compare.processes_spin.setValue(2)  # closing the window ends the worker processes too
    assert "SpiralMLP" in compare.description_label.text()

    compare.run_button.click()
    qtbot.waitUntil(lambda: bool(compare.results) and len(compare.results[0].steps) >= 2, timeout=30_000)
    window.close()

    assert not compare.running  # the worker's thread has ended
    assert compare.job is not None and compare.job.stop_requested
    assert multiprocessing.active_children() == []


def test_the_job_module_does_not_import_qt() -> None:
    import subprocess
    import sys

    code = "import sys, ui.experiments.jobs; print(any(m.startswith('PySide6') for m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
