"""The precision view: the current model in float64, float32 and float16 evaluated in the worker thread, a table
and bar charts of accuracy, time and memory, the reasons Run is unavailable, and the exports."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import dllab
from dllab.data import load_dataset
from dllab.experiments.precision import PrecisionResult
from dllab.precision import FLOAT16_METHOD, at_precision
from ui.experiments.jobs import ExperimentPreparing
from ui.experiments.precision_view import PrecisionJob, PrecisionView
from ui.state import AppState

RUN_TIMEOUT_MS = 60_000
SPIRAL_MLP = Path(__file__).resolve().parents[3] / "assets" / "networks" / "spiral_mlp.json"


@pytest.fixture
def state() -> AppState:
    """A spiral network (untrained weights are a model too) and the spiral data."""
    state = AppState()
    state.set_dataset(load_dataset("spiral"))
    state.set_model(dllab.build(SPIRAL_MLP, seed=0))
    return state


@pytest.fixture
def view(qtbot: Any, state: AppState) -> PrecisionView:
    view = PrecisionView(state)
    qtbot.addWidget(view)
    view.resize(1300, 760)
    view.show()
    view.batch_spin.setValue(50)
    yield view
    view.shutdown()


def run(qtbot: Any, view: PrecisionView) -> str:
    """Press Run and wait for the worker's thread to end; returns how it ended."""
    with qtbot.waitSignal(view.run_finished, timeout=RUN_TIMEOUT_MS) as finished:
        view.run_button.click()
        assert view.running  # the evaluation goes on in the worker thread, not in the click
    view.flush()
    return finished.args[0]


def test_run_shows_every_precision_in_the_table_and_the_charts(qtbot, view, state, fake_dialogs) -> None:
    assert run(qtbot, view) == "finished", fake_dialogs.errors()
    assert [r.precision for r in view.results] == ["float64", "float32", "float16"]
    x = state.dataset.x_test.astype(np.float32)
    for r in view.results:
        assert r.samples == len(x) and r.batch_size == 50
        expected = at_precision(state.model, r.precision).predict(x).argmax(axis=1)
        assert r.accuracy == pytest.approx(np.mean(expected == state.dataset.y_test))
    table = view.table
    assert table.rowCount() == 3
    assert [table.item(row, 0).text() for row in range(3)] == ["float64", "float32", "float16"]
    assert table.horizontalHeaderItem(4).text() == "Vs float64"
    assert table.item(0, 4).text() == "1.00x"
    assert [len(bars) for bars in view.bars] == [3, 3, 3, 3]
    heights = [float(bar.opts["height"][0]) for bar in view.bars[2]]  # the weights, in MB
    assert heights[0] == pytest.approx(2 * heights[1]) == pytest.approx(4 * heights[2])
    assert view.stack.currentWidget() is view.content
    assert FLOAT16_METHOD in view.note.text()
    assert "Done in" in view.progress_label.text()
    assert not view.grab().isNull()


def test_only_the_samples_asked_for_are_evaluated(qtbot, view) -> None:
    view.samples_spin.setValue(30)
    assert run(qtbot, view) == "finished"
    assert {r.samples for r in view.results} == {30}
    assert "30 test samples" in view.status_label.text()


def test_run_says_why_it_cannot_start(qtbot, view, state) -> None:
    assert view.run_blocker() is None and view.run_button.isEnabled()
    state.set_model(dllab.build({"input_shape": [3], "layers": [{"type": "Dense", "units": 3}]}))
    assert "takes inputs of 3 but the data set's samples are 2" in view.run_blocker()
    assert not view.run_button.isEnabled() and view.blocker_label.text() == view.run_blocker()
    state.set_model(None)
    assert "Train the network or open a model first" in view.run_blocker()
    assert view.model_label.text() == "No model yet."
    state.set_dataset(None)
    state.set_model(dllab.build(SPIRAL_MLP))
    assert "Load the data set the model was trained on" in view.run_blocker()
    assert view.data_label.text() == "No data set loaded."


def test_the_job_prepares_the_samples_as_the_model_stores_and_stops_between_batches(state) -> None:
    model = state.model
    model.preprocessing = {"kind": "standardize", "input_shape": [2], "mean": [1.0, -1.0], "std": [2.0, 4.0]}
    raw, labels = state.dataset.x_test[:40], state.dataset.y_test[:40]
    job = PrecisionJob(model, raw, labels, batch_size=10)
    items = list(job.events())
    assert isinstance(items[0], ExperimentPreparing)
    results = [item for item in items if isinstance(item, PrecisionResult)]
    x = (raw - np.array([1.0, -1.0])) / np.array([2.0, 4.0])
    expected = at_precision(model, "float64").predict(x).argmax(axis=1)
    assert results[0].accuracy == pytest.approx(np.mean(expected == labels))
    stopped = PrecisionJob(model, raw, labels, batch_size=10)
    stopped.stop()
    assert [type(item) for item in stopped.events()] == [ExperimentPreparing]


def test_the_csv_export_has_a_row_per_precision(qtbot, view, fake_dialogs, tmp_path) -> None:
    assert run(qtbot, view) == "finished"
    fake_dialogs.save_paths.append(tmp_path / "precision.csv")
    view.csv_button.click()
    with open(tmp_path / "precision.csv", newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert [row["precision"] for row in rows] == ["float64", "float32", "float16"]
    assert [int(row["parameter_bytes"]) for row in rows] == [r.parameter_bytes for r in view.results]


def test_the_window_has_the_view_as_a_tab_that_follows_the_model(window) -> None:
    index = window.views.indexOf(window.precision_view)
    assert index >= 0 and window.views.tabText(index) == "Precision"
    window.state.set_model(dllab.build(window.state.spec_copy(), seed=0))
    assert window.state.spec["name"] in window.precision_view.model_label.text()
    assert window.precision_view.run_blocker() is None
