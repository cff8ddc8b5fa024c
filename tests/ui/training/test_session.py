"""A GUI training run without any GUI: the session's generator, its snapshots of the live model, and control
from another thread."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import numpy as np

import dllab
from dllab.data import load_dataset, make_shapes, prepare
from dllab.probes import ProbeBudget
from dllab.run_control import RunControl
from dllab.runs import DataSettings, open_run
from dllab.trainer import (
    BatchEnded,
    EpochEnded,
    Finished,
    LayerStatistics,
    Paused,
    RunStarted,
    Stopped,
    TrainingConfig,
)
from ui.training import session as session_module
from ui.training.session import (
    BoundarySnapshot,
    EvaluatingTestSet,
    FeatureMapSnapshot,
    FilterSnapshot,
    FinalEvaluation,
    SessionEnded,
    SessionStarted,
    TrainingRequest,
    TrainingSession,
    _Snapshots,
    is_urgent,
)

SPIRAL_MLP = {
    "name": "SpiralMLP",
    "input_shape": [2],
    "layers": [
        {"type": "Dense", "units": 16, "init": "he"},
        {"type": "ReLU"},
        {"type": "Dense", "units": 3, "init": "xavier"},
    ],
}
TINY_CNN = {
    "name": "TinyCNN",
    "input_shape": [1, 28, 28],
    "layers": [
        {"type": "Conv2D", "filters": 4, "kernel_size": 5, "init": "he"},
        {"type": "ReLU"},
        {"type": "MaxPool2D", "pool_size": 2, "stride": 2},
        {"type": "Flatten"},
        {"type": "Dense", "units": 10, "init": "xavier"},
    ],
}


def spiral_request(tmp_path: Path, **config: object) -> TrainingRequest:
    settings = {"optimizer": "adam", "lr": 0.02, "batch_size": 32, "epochs": 3, **config}
    return TrainingRequest(
        spec=SPIRAL_MLP,
        dataset=load_dataset("spiral"),
        data_settings=DataSettings("spiral", val_fraction=0.2),
        config=TrainingConfig(**settings),  # type: ignore[arg-type]
        runs_root=tmp_path,
    )


def test_the_session_module_needs_no_qt():
    import subprocess

    code = "import sys, ui.training.session; print(any(m.startswith('PySide6') for m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_a_spiral_run_yields_setup_events_snapshots_results_and_the_model(tmp_path):
    items = list(TrainingSession(spiral_request(tmp_path)).events())
    started, ended = items[0], items[-1]
    assert isinstance(started, SessionStarted) and isinstance(ended, SessionEnded)
    assert started.points is not None and started.points.shape[1] == 2 and started.extent is not None
    assert started.first_conv is None and started.feature_layers == ()
    assert [layer.name for layer in started.layers] == ["dense_1", "relu_1", "dense_2"]
    assert any(isinstance(i, RunStarted) for i in items) and any(
        isinstance(i, LayerStatistics) for i in items
    )
    assert sum(isinstance(i, EpochEnded) for i in items) == 3
    boundaries = [i for i in items if isinstance(i, BoundarySnapshot)]
    assert boundaries[0].step == 0 and boundaries[-1].classes.shape == boundaries[-1].confidence.shape
    assert set(np.unique(boundaries[-1].classes)) <= {0, 1, 2}
    results = next(i for i in items if isinstance(i, FinalEvaluation))
    assert results.evaluation.confusion.sum() == started.test_samples
    assert ended.status == "finished" and "test accuracy" in ended.message
    assert ended.model is not None and ended.model.preprocessing and ended.model.class_names
    run = open_run(ended.folder)
    assert run.status == "finished" and run.config["training"]["epochs"] == 3
    assert is_urgent(ended) and is_urgent(started) and not is_urgent(boundaries[0])


def test_a_conv_run_sends_filters_before_and_after_and_feature_maps(tmp_path):
    shapes = make_shapes(n_samples=240, seed=0)
    request = TrainingRequest(
        spec={**TINY_CNN, "input_shape": list(shapes.input_shape)},
        dataset=shapes,
        data_settings=DataSettings("shapes", val_fraction=0.1),
        config=TrainingConfig(optimizer="adam", lr=0.01, batch_size=32, epochs=1),
        runs_root=tmp_path,
    )
    session = TrainingSession(request)
    session.feature_sample = 3
    items = list(session.events())
    filters = [i for i in items if isinstance(i, FilterSnapshot)]
    assert filters[0].step == 0 and filters[-1].step > 0
    assert filters[0].weights.shape == (4, shapes.input_shape[0], 5, 5)
    assert not np.allclose(filters[0].weights, filters[-1].weights)  # it learned, and the first is a copy
    maps = [i for i in items if isinstance(i, FeatureMapSnapshot)]
    assert maps and maps[-1].sample == 3 and set(maps[-1].maps) == {"conv2d_1", "relu_1", "maxpool2d_1"}
    assert maps[-1].maps["conv2d_1"].shape[0] == 4
    assert not any(isinstance(i, BoundarySnapshot) for i in items)


def test_snapshots_wait_for_the_run_s_probe_budget_unless_forced(tmp_path):
    session = TrainingSession(spiral_request(tmp_path))
    items = session.events()
    started = next(items)  # prepared and described; no batch is trained
    items.close()
    model = dllab.build(SPIRAL_MLP, seed=0)
    budget = ProbeBudget(0.05)
    budget.spent = 1.0  # probes took a second, training nothing yet
    prepared = prepare(load_dataset("spiral"), input_shape=(2,), val_fraction=0.2)
    snapshots = _Snapshots(model, prepared, started, session, budget)
    assert list(snapshots.take(5, 1)) == []  # over the budget
    (boundary,) = snapshots.take(5, 1, force=True)  # the first and last come whatever the budget says
    assert isinstance(boundary, BoundarySnapshot) and boundary.step == 5 and budget.spent > 1.0
    budget.count_training(1e6)
    assert list(snapshots.take(6, 1)) == []  # too soon after the last for the views
    snapshots.taken["boundary"] = -np.inf
    assert [type(item) for item in snapshots.take(7, 1)] == [BoundarySnapshot]


def test_stop_before_the_first_batch_ends_without_a_run_folder(tmp_path):
    session = TrainingSession(spiral_request(tmp_path))
    session.control.stop()
    items = list(session.events())
    assert len(items) == 1 and isinstance(items[0], SessionEnded) and items[0].folder is None
    assert list(tmp_path.iterdir()) == []


def test_pause_step_and_stop_from_another_thread(tmp_path):
    control = RunControl()
    session = TrainingSession(spiral_request(tmp_path, epochs=500), control)
    control.pause()  # before the trainer exists: it reads the same control
    seen: list[object] = []
    done = threading.Event()

    def consume() -> None:
        for item in session.events():
            seen.append(item)
        done.set()

    thread = threading.Thread(target=consume)
    thread.start()
    try:
        for _ in range(200):
            if any(isinstance(i, Paused) for i in seen):
                break
            threading.Event().wait(0.01)
        assert not any(isinstance(i, BatchEnded) for i in seen)
        control.step()
        for _ in range(200):
            if sum(isinstance(i, Paused) for i in seen) == 2:
                break
            threading.Event().wait(0.01)
        assert [i.step for i in seen if isinstance(i, BatchEnded)] == [1]
        control.stop(closing=True)
        assert done.wait(5)
    finally:
        control.stop()
        thread.join(5)
    ended = seen[-1]
    assert isinstance(ended, SessionEnded) and ended.status == "stopped"
    assert not any(isinstance(i, FinalEvaluation) for i in seen)  # closing skips the test evaluation
    run = open_run(ended.folder)
    assert run.status == "stopped" and run.summary["test_accuracy"] is None


def test_a_finished_run_evaluates_its_test_set_in_the_same_steps_which_can_be_skipped(tmp_path, monkeypatch):
    monkeypatch.setattr(session_module, "TEST_EVALUATION_BATCH", 10)
    total = len(load_dataset("spiral").x_test)
    for skip in (False, True):
        control = RunControl()
        items: list[object] = []
        for item in TrainingSession(spiral_request(tmp_path, epochs=2), control).events():
            items.append(item)
            if skip and isinstance(item, EvaluatingTestSet) and item.done == 20:
                control.skip_evaluation()
        last_epoch = max(i for i, item in enumerate(items) if isinstance(item, EpochEnded))
        finished = next(i for i, item in enumerate(items) if isinstance(item, Finished))
        progress = [(i, item) for i, item in enumerate(items) if isinstance(item, EvaluatingTestSet)]
        assert all(last_epoch < i < finished and item.finished for i, item in progress)
        ended = items[-1]
        assert isinstance(ended, SessionEnded) and ended.status == "finished"
        summary = open_run(ended.folder).summary
        if skip:
            assert [item.done for _, item in progress] == [0, 10, 20]
            assert items[finished].test is None and summary["test_accuracy"] is None
            assert "the test set was not evaluated" in ended.message
        else:
            assert [item.done for _, item in progress] == [0, *range(10, total, 10), total]
            assert summary["test_accuracy"] == items[finished].test_accuracy
            assert f"test accuracy {items[finished].test_accuracy:.1%}" in ended.message


def test_a_stopped_run_says_so_before_its_test_evaluation_which_comes_in_steps_and_can_be_skipped(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(session_module, "TEST_EVALUATION_BATCH", 10)
    total = len(load_dataset("spiral").x_test)
    for skip in (False, True):
        control = RunControl()
        items: list[object] = []
        for item in TrainingSession(spiral_request(tmp_path, epochs=500), control).events():
            items.append(item)
            if isinstance(item, BatchEnded) and item.step == 5:
                control.stop()
            if skip and isinstance(item, EvaluatingTestSet) and item.done == 20:
                control.skip_evaluation()
        stopped = next(i for i, item in enumerate(items) if isinstance(item, Stopped))
        progress = [(i, item.done) for i, item in enumerate(items) if isinstance(item, EvaluatingTestSet)]
        assert progress and all(i > stopped for i, _ in progress)  # the window hears of the stop first
        assert all(is_urgent(items[i]) for i, _ in progress)
        ended = items[-1]
        assert isinstance(ended, SessionEnded) and ended.status == "stopped"
        summary = open_run(ended.folder).summary
        finals = [item for item in items if isinstance(item, FinalEvaluation)]
        if skip:
            assert [done for _, done in progress] == [0, 10, 20]
            assert not finals and summary["test_accuracy"] is None
            assert "the test set was not evaluated" in ended.message
        else:
            assert [done for _, done in progress] == [0, *range(10, total, 10), total]
            assert len(finals) == 1 and summary["test_accuracy"] == finals[0].evaluation.accuracy
            assert f"test accuracy {finals[0].evaluation.accuracy:.1%}" in ended.message
