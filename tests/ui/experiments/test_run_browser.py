"""The Runs view: real past runs overlaid, a run's settings and evaluation, rename, tag and delete with undo,
filters, and from the main window: double-clicking a run in the Runs panel, restoring its design and data."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

import dllab
from dllab.run_history import LABELS_FILE, TRASH_FOLDER, read_labels, result_seconds
from dllab.runs import CLAIM_FILE, DataSettings, RunRecorder, new_run_folder, open_run, runs_root
from dllab.trainer import Trainer, TrainingConfig
from ui.experiments.run_browser import RunBrowserView


def record(dataset: str, optimizer: str, name: str, epochs: int) -> Path:
    """A real short run recorded in the runs folder."""
    classes = 2 if dataset == "moons" else 3
    spec = {
        "name": name,
        "input_shape": [2],
        "layers": [{"type": "Dense", "units": 16}, {"type": "ReLU"}, {"type": "Dense", "units": classes}],
    }
    model = dllab.build(spec, seed=0)
    settings = DataSettings(dataset, val_fraction=0.2, subset=400)
    prepared = settings.prepare(model.input_shape, seed=0)
    config = TrainingConfig(optimizer=optimizer, lr=0.02, batch_size=32, epochs=epochs, seed=0)
    recorder = RunRecorder(new_run_folder(name), model, data=prepared, config=config, data_settings=settings)
    for event in Trainer(model, prepared, config).run():
        recorder.handle(event)
    return recorder.folder


@pytest.fixture
def runs() -> list[Path]:
    """Two runs: SGD on the moons (older), Adam on the spiral (newer; in the same second, its name sorts
    after)."""
    return [record("moons", "sgd", "MoonsNet", 2), record("spiral", "adam", "SpiralNet", 3)]


@pytest.fixture
def view(qtbot, runs: list[Path]) -> RunBrowserView:
    widget = RunBrowserView()
    qtbot.addWidget(widget)
    widget.resize(1000, 760)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def click_row(qtbot, view: RunBrowserView, row: int, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    rect = view.table.visualItemRect(view.table.item(row, 0))
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())


def titles(view: RunBrowserView) -> list[str]:
    return [view.table.item(row, 0).text() for row in range(view.table.rowCount())]


def test_two_real_runs_overlay_in_one_plot_against_steps_or_time(qtbot, view: RunBrowserView, runs) -> None:
    moons, spiral = runs
    assert titles(view) == [spiral.name, moons.name]  # newest first
    assert view.stack.currentWidget() is view.content
    click_row(qtbot, view, 0)
    click_row(qtbot, view, 1, Qt.KeyboardModifier.ControlModifier)
    view.flush()
    assert [r.folder for r in view.results] == [spiral, moons]
    assert len(view.plots.loss_curves) == 2 and len(view.plots.accuracy_items) == 2
    for result, curve, items in zip(
        view.results, view.plots.loss_curves, view.plots.accuracy_items, strict=True
    ):
        run = open_run(result.folder)
        x, y = curve.getData()
        np.testing.assert_array_equal(x, run.steps["step"])
        assert len(y) == len(run.steps["loss"]) and np.isfinite(y).all()
        ex, ey = items.line.getData()
        np.testing.assert_array_equal(ey, run.metrics["val_accuracy"] * 100)
        np.testing.assert_allclose(ex, run.metrics["epoch"])  # whole epochs
    legend = [label.text for _, label in view.plots.legend.items]
    assert legend[0].startswith("SpiralNet · adam, lr 0.02 · ") and legend[1].startswith(
        "MoonsNet · sgd, lr 0.02"
    )
    assert "2 runs overlaid" in view.status_label.text()

    view.plots.time_check.setChecked(True)
    view.flush()
    for result, curve, items in zip(
        view.results, view.plots.loss_curves, view.plots.accuracy_items, strict=True
    ):
        seconds, epoch_seconds = result_seconds(result)
        np.testing.assert_allclose(curve.getData()[0], seconds)
        np.testing.assert_allclose(items.line.getData()[0], epoch_seconds)
    assert view.plots.loss_plot.getAxis("bottom").labelText == "seconds"

    click_row(qtbot, view, 1)  # one run alone: its own curves
    view.flush()
    assert [r.folder for r in view.results] == [moons] and len(view.plots.loss_curves) == 1


def test_a_run_shows_its_settings_evaluation_and_confusion_matrix(qtbot, view: RunBrowserView, runs) -> None:
    spiral = runs[1]
    click_row(qtbot, view, 0)
    settings = view.settings_table.values()
    assert settings["Network"] == "SpiralNet: Dense → ReLU → Dense"
    assert settings["Optimizer"] == "adam" and settings["Epochs"] == "3"
    summary = open_run(spiral).summary
    assert f"{summary['test_accuracy'] * 100:.1f} %" in view.evaluation.label.text()
    table = view.evaluation.confusion_table
    assert table.rowCount() == 3 and table.columnCount() == 5
    counts = [[int(table.item(i, j + 1).text().replace(",", "")) for j in range(3)] for i in range(3)]
    assert counts == summary["confusion_matrix"]
    assert table.horizontalHeaderItem(1).text() == summary["class_names"][0]


def test_rename_tag_and_delete_are_undone_and_redone(qtbot, view: RunBrowserView, runs) -> None:
    moons, spiral = runs
    assert view.rename(view.shown[0], "Adam baseline")
    assert titles(view) == ["Adam baseline", moons.name]
    assert read_labels(spiral).title == "Adam baseline"
    assert view.set_tags(view.shown[0], "baseline, adam")
    assert view.table.item(0, 1).text() == "baseline, adam"
    assert view.undo_stack.count() == 2
    assert view.undo_button.isEnabled() and not view.redo_button.isEnabled()
    assert view.undo_button.toolTip() == "Undo: Tag run Adam baseline"

    click_row(qtbot, view, 0)
    qtbot.keyClick(view.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # the tags go
    assert view.table.item(0, 1).text() == "" and read_labels(spiral).title == "Adam baseline"
    qtbot.mouseClick(view.undo_button, Qt.MouseButton.LeftButton)  # the title goes
    assert titles(view) == [spiral.name, moons.name] and read_labels(spiral).title == ""

    click_row(qtbot, view, 1)
    qtbot.keyClick(view.table, Qt.Key.Key_Delete)
    trashed = runs_root() / TRASH_FOLDER / moons.name
    assert not moons.exists() and (trashed / "config.json").is_file()
    assert titles(view) == [spiral.name] and "Undo brings it back" in view.status_label.text()
    qtbot.keyClick(view.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert (moons / "model_final.dllab.npz").is_file() and not trashed.exists()
    assert titles(view) == [spiral.name, moons.name]
    qtbot.mouseClick(view.redo_button, Qt.MouseButton.LeftButton)
    assert not moons.exists() and trashed.is_dir()

    view.undo_stack.clear()  # as after quitting: the trash still has the run
    assert view.restore(trashed)
    assert moons.is_dir() and [e.path for e in view.selected_entries()] == [moons]
    view.undo_stack.undo()
    assert not moons.exists() and trashed.is_dir()


def test_a_failed_edit_changes_nothing_and_says_why(qtbot, view: RunBrowserView, runs, fake_dialogs) -> None:
    assert not view.rename(view.shown[0], "x" * 200)
    assert "longer than 120 characters" in fake_dialogs.errors()[-1][1]
    assert not (runs[1] / LABELS_FILE).exists() and view.undo_stack.count() == 0
    click_row(qtbot, view, 0)
    (runs[1] / "summary.json").unlink()  # the run looks unfinished ...
    claim = {"pid": os.getpid(), "host": platform.node()}
    (runs[1] / CLAIM_FILE).write_text(json.dumps(claim), encoding="utf-8")  # ... and held by a live process
    assert view.delete_selected() == 0
    assert "still training" in fake_dialogs.errors()[-1][1] and runs[1].is_dir()
    assert view.undo_stack.count() == 0


def test_runs_are_filtered_by_words_network_data_and_metric(qtbot, view: RunBrowserView, runs) -> None:
    moons, spiral = runs
    view.set_tags(view.shown[0], "keep")
    view.search_edit.setText("KEEP")
    assert titles(view) == [spiral.name] and view.count_label.text() == "1 of 2 runs"
    view.search_edit.clear()
    view.network_combo.setCurrentIndex(view.network_combo.findText("MoonsNet"))
    assert titles(view) == [moons.name]
    view.network_combo.setCurrentIndex(0)
    view.data_combo.setCurrentIndex(view.data_combo.findText("spiral"))
    assert titles(view) == [spiral.name]
    view.data_combo.setCurrentIndex(0)
    accuracies = {p: open_run(p).summary["test_accuracy"] for p in runs}
    best = max(accuracies, key=accuracies.get)
    assert accuracies[best] > min(accuracies.values())
    view.metric_combo.setCurrentIndex(view.metric_combo.findData("test_accuracy"))
    assert view.minimum_spin.isEnabled()
    view.minimum_spin.setValue(accuracies[best] * 100 - 0.05)
    assert titles(view) == [best.name]
    view.minimum_spin.setValue(100.0)
    assert titles(view) == [] and view.count_label.text() == "0 of 2 runs"
    assert view.show_run(spiral)  # showing a run clears a filter that hides it
    assert titles(view) == [spiral.name, moons.name] and view.selected_entries()[0].path == spiral


def test_a_run_that_ends_is_read_alone_and_listed_as_the_whole_folder_lists_it(
    qtbot, view: RunBrowserView, runs
) -> None:
    moons, spiral = runs
    view.search_edit.setText("Net")  # a filter and a selection that stay
    view.select_runs([moons])
    newest = record("moons", "adam", "ThirdNet", 1)
    view.refresh_run(newest)
    assert titles(view) == [newest.name, spiral.name, moons.name]
    assert [entry.path for entry in view.selected_entries()] == [moons]
    assert view.network_combo.findText("ThirdNet") > 0 and view.search_edit.text() == "Net"
    rows = [[view.table.item(r, c).text() for c in range(view.table.columnCount())] for r in range(3)]
    view.refresh()
    assert [[view.table.item(r, c).text() for c in range(view.table.columnCount())] for r in range(3)] == rows


def test_the_runs_panel_opens_a_run_in_the_view_and_its_design_comes_back(qtbot, window) -> None:
    moons = record("moons", "sgd", "MoonsNet", 2)
    window.runs_panel.refresh()
    panel = window.runs_panel
    panel.list.itemActivated.emit(panel.list.item(0))
    browser = window.run_browser
    assert window.views.currentWidget() is browser
    assert [e.path for e in browser.selected_entries()] == [moons]
    assert window.state.spec["name"] != "MoonsNet"
    qtbot.mouseClick(browser.open_design_button, Qt.MouseButton.LeftButton)
    assert window.state.spec["name"] == "MoonsNet"
    assert window.state.data_settings.dataset == "moons" and window.state.data_settings.subset == 400
    qtbot.waitUntil(lambda: window.state.dataset is not None and window.state.dataset.name == "moons")
    browser.rename(browser.shown[0], "Moons with SGD")
    assert panel.list.item(0).text().startswith("Moons with SGD\n")  # the panel follows


def test_in_the_window_the_run_table_takes_delete_and_undo_from_the_design(qtbot, window) -> None:
    moons = record("moons", "sgd", "MoonsNet", 2)
    window.palette_panel.layer_activated.emit("ReLU")  # a design edit on the design's undo stack
    layers = len(window.state.layers)
    assert window.state.undo_stack.canUndo()
    browser = window.run_browser
    assert browser.show_run(moons)
    window.views.setCurrentWidget(browser)
    browser.table.setFocus()
    qtbot.waitUntil(browser.table.hasFocus)
    qtbot.keyClick(browser.table, Qt.Key.Key_Delete)  # not the window's Delete Layer
    assert not moons.exists() and len(window.state.layers) == layers
    assert window.runs_panel.stack.currentWidget() is window.runs_panel.empty  # the panel follows
    qtbot.keyClick(browser.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # not the design's Undo
    assert moons.is_dir() and len(window.state.layers) == layers and window.state.undo_stack.canUndo()
    assert len(window.runs_panel.runs) == 1
