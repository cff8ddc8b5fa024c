"""Run folders: a real (short) training run recorded to disk, read back, listed, and damaged."""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dllab
from dllab.data import Dataset, Normalizer, PreparedData, reshape_for
from dllab.experiment import read_experiment
from dllab.run_control import RunControl
from dllab.runs import (
    CLAIM_FILE,
    METRIC_COLUMNS,
    DataSettings,
    RunError,
    RunRecorder,
    check_folder_free,
    claim_folder,
    list_runs,
    new_run_folder,
    open_run,
    runs_root,
)
from dllab.trainer import (
    BatchEnded,
    EpochEnded,
    Event,
    Finished,
    SettingsChanged,
    Trainer,
    TrainingConfig,
)

SPEC = {
    "name": "TinySpiral",
    "input_shape": [2],
    "layers": [
        {"type": "Dense", "units": 16},
        {"type": "ReLU"},
        {"type": "Dense", "units": 3, "init": "xavier"},
    ],
}


@dataclass
class Recorded:
    folder: Path
    model: dllab.Sequential
    trainer: Trainer
    prepared: PreparedData
    raw: Dataset
    events: list[Event]
    config: TrainingConfig


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    """Two epochs of Adam on the spiral set, recorded into a run folder."""
    settings = DataSettings("spiral", val_fraction=0.2, normalization="standardize")
    raw = settings.load()
    model = dllab.build(SPEC, seed=3)
    prepared = settings.prepare(model.input_shape, seed=3, dataset=raw)
    config = TrainingConfig(optimizer="adam", lr=0.01, batch_size=64, epochs=2, seed=3)
    folder = tmp_path_factory.mktemp("runs") / "run-a"
    recorder = RunRecorder(folder, model, data=prepared, config=config, data_settings=settings, seed=3)
    trainer = Trainer(model, prepared, config)
    events = []
    for event in trainer.run():
        recorder.handle(event)
        events.append(event)
    assert recorder.finished
    return Recorded(folder, model, trainer, prepared, raw, events, config)


def test_config_json_holds_network_data_training_seed_and_versions(recorded: Recorded) -> None:
    config = json.loads((recorded.folder / "config.json").read_text(encoding="utf-8"))
    assert config["network"] == recorded.model.spec
    assert config["data"]["dataset"] == "spiral"
    assert config["data"]["val_fraction"] == 0.2
    assert config["data"]["normalization"] == "standardize"
    assert config["data"]["subset"] is None
    assert config["data"]["augment"] is None
    assert config["data"]["train_samples"] == len(recorded.prepared.x_train)
    assert config["training"] == recorded.config.to_dict()
    assert config["seed"] == 3
    assert set(config["versions"]) == {"dllab", "numpy", "python"}
    assert config["versions"]["numpy"] == np.__version__
    assert datetime.fromisoformat(config["started"]).tzinfo is not None


def test_config_json_is_the_experiment_beside_the_runs_record(recorded: Recorded) -> None:
    """A run's config.json reads back as the experiment it ran (``dllab train --config`` repeats it)."""
    from dllab.experiment import DataSettings as ExperimentDataSettings
    from dllab.experiment import Experiment

    assert DataSettings is ExperimentDataSettings  # one description, importable from here as before
    config = open_run(recorded.folder).config
    assert config["format"] == "dllab.run/1"
    for key in ("generator_seed", "split_seed", "n_samples", "noise", "n_classes"):
        assert key in config["data"]
    experiment = Experiment.from_dict(config, where="config.json")
    assert experiment.network == recorded.model.spec and experiment.seed == 3
    assert experiment.data == DataSettings("spiral", val_fraction=0.2, normalization="standardize")
    assert experiment.training == recorded.config
    assert experiment.split_seed == 3  # the seed the data were split with


def test_metrics_csv_has_one_row_per_epoch_matching_the_events(recorded: Recorded) -> None:
    with (recorded.folder / "metrics.csv").open(encoding="utf-8") as file:
        rows = list(csv.reader(file))
    assert tuple(rows[0]) == METRIC_COLUMNS
    epochs = [e for e in recorded.events if isinstance(e, EpochEnded)]
    assert len(rows) == 1 + len(epochs) == 3
    for row, event in zip(rows[1:], epochs, strict=True):
        values = dict(zip(METRIC_COLUMNS, row, strict=True))
        assert int(values["epoch"]) == event.epoch
        assert int(values["step"]) == event.step
        assert float(values["val_loss"]) == event.val_loss
        assert float(values["train_accuracy"]) == event.train_accuracy


def test_steps_csv_has_every_batch_loss(recorded: Recorded) -> None:
    batches = [e for e in recorded.events if isinstance(e, BatchEnded)]
    run = open_run(recorded.folder)
    assert run.steps is not None
    np.testing.assert_array_equal(run.steps["step"], [b.step for b in batches])
    np.testing.assert_array_equal(run.steps["loss"], [b.loss for b in batches])


def _raw_predictions(model: dllab.Sequential, x_raw: np.ndarray) -> np.ndarray:
    x = Normalizer.from_dict(model.preprocessing).transform(x_raw)
    return model.predict(reshape_for(x, model.input_shape))


def test_final_model_predicts_like_the_trained_model_on_raw_inputs(recorded: Recorded) -> None:
    loaded = dllab.load(recorded.folder / "model_final.dllab.npz")
    expected = recorded.model.predict(recorded.prepared.x_test)
    np.testing.assert_allclose(_raw_predictions(loaded, recorded.raw.x_test), expected, rtol=1e-6, atol=1e-7)
    assert loaded.class_names == recorded.prepared.class_names
    assert loaded.preprocessing["kind"] == "standardize"
    finished = recorded.events[-1]
    assert isinstance(finished, Finished)
    assert loaded.training_summary["test_accuracy"] == pytest.approx(finished.test_accuracy)


def test_best_model_holds_the_weights_of_the_best_epoch(recorded: Recorded) -> None:
    best = dllab.load(recorded.folder / "model_best.dllab.npz")
    assert recorded.trainer.best_weights is not None
    for key, value in recorded.trainer.best_weights.items():
        np.testing.assert_array_equal(best.get_weights()[key], value)
    reference = dllab.build(SPEC, seed=0)
    reference.set_weights(recorded.trainer.best_weights)
    np.testing.assert_allclose(
        _raw_predictions(best, recorded.raw.x_test), reference.predict(recorded.prepared.x_test), rtol=1e-6
    )
    improved = [e for e in recorded.events if isinstance(e, EpochEnded) and e.improved]
    assert best.training_summary["epoch"] == improved[-1].epoch


def test_summary_json_reports_the_end(recorded: Recorded) -> None:
    summary = json.loads((recorded.folder / "summary.json").read_text(encoding="utf-8"))
    finished = recorded.events[-1]
    assert isinstance(finished, Finished)
    assert summary["status"] == "finished"
    assert summary["reason"] == "completed"
    assert summary["test_accuracy"] == pytest.approx(finished.test_accuracy)
    assert summary["best_epoch"] == finished.best_epoch
    assert summary["epochs"] == 2
    confusion = np.array(summary["confusion_matrix"])
    assert confusion.shape == (3, 3)
    assert confusion.sum() == len(recorded.prepared.x_test)
    assert np.trace(confusion) / confusion.sum() == pytest.approx(finished.test_accuracy)
    assert len(summary["per_class_accuracy"]) == 3


def test_open_run_and_list_runs(recorded: Recorded) -> None:
    run = open_run(recorded.folder)
    assert run.status == "finished"
    assert run.network_name == "TinySpiral"
    assert run.dataset == "spiral"
    assert run.training_config == recorded.config
    np.testing.assert_array_equal(run.metrics["epoch"], [1, 2])
    assert run.model_final is not None and run.model_final.is_file()
    assert run.model_best is not None and run.model_best.is_file()
    [info] = list_runs(recorded.folder.parent)
    assert (info.name, info.status, info.epochs, info.network) == ("run-a", "finished", 2, "TinySpiral")
    assert info.best_val_accuracy == pytest.approx(np.max(run.metrics["val_accuracy"]))
    assert info.test_accuracy == pytest.approx(run.summary["test_accuracy"])


def test_the_fit_reading_is_in_the_summary_and_train_dev_columns_in_the_metrics(recorded: Recorded) -> None:
    run = open_run(recorded.folder)
    fit = run.summary["fit"]
    finished = recorded.events[-1]
    assert fit == finished.fit.summary()
    assert fit["test_error"] == pytest.approx(1 - run.summary["test_accuracy"])
    assert fit["train_dev_error"] is None and "variance and data mismatch" in fit["gaps"]
    assert np.isnan(run.metrics["train_dev_accuracy"]).all() and len(run.metrics["train_dev_accuracy"]) == 2


def test_metrics_of_a_run_recorded_before_the_train_dev_set_read_as_nan(
    recorded: Recorded, tmp_path: Path
) -> None:
    older = tmp_path / "older"
    shutil.copytree(recorded.folder, older)
    lines = (older / "metrics.csv").read_text().splitlines()
    (older / "metrics.csv").write_text("\n".join(",".join(line.split(",")[:-2]) for line in lines) + "\n")
    run = open_run(older)
    np.testing.assert_array_equal(run.metrics["epoch"], [1, 2])
    assert np.isnan(run.metrics["train_dev_loss"]).all() and len(run.metrics["train_dev_loss"]) == 2


def test_damaged_files_give_errors_naming_them(recorded: Recorded, tmp_path: Path) -> None:
    copy = tmp_path / "runs" / "copy"
    shutil.copytree(recorded.folder, copy)
    (copy / "metrics.csv").write_text("epoch,step\n1,2\n", encoding="utf-8")
    with pytest.raises(RunError, match=r"metrics\.csv.*'train_loss'"):
        open_run(copy)
    shutil.copy(recorded.folder / "metrics.csv", copy / "metrics.csv")
    with (copy / "metrics.csv").open("a", encoding="utf-8") as file:
        file.write("3,oops\n")
    with pytest.raises(RunError, match=r"metrics\.csv.*line 4"):
        open_run(copy)
    shutil.copy(recorded.folder / "metrics.csv", copy / "metrics.csv")
    (copy / "summary.json").write_text('{"status": "fin', encoding="utf-8")
    with pytest.raises(RunError, match=r"summary\.json: damaged \(invalid JSON"):
        open_run(copy)
    [info] = list_runs(tmp_path / "runs")
    assert info.status == "damaged" and "summary.json" in (info.error or "")
    (copy / "config.json").unlink()
    with pytest.raises(RunError, match=r"config\.json: missing"):
        open_run(copy)
    with pytest.raises(RunError, match="no such run folder"):
        open_run(tmp_path / "nowhere")
    with pytest.raises(RunError, match="already holds a run"):
        RunRecorder(recorded.folder, recorded.model, data=recorded.prepared, config=recorded.config)


def test_the_list_of_runs_leaves_the_steps_to_the_opening_of_a_run(
    recorded: Recorded, tmp_path: Path
) -> None:
    copy = tmp_path / "runs" / "copy"
    shutil.copytree(recorded.folder, copy)
    with (copy / "steps.csv").open("a", encoding="utf-8") as file:
        file.write("99,nope,0.1\n")
    [info] = list_runs(tmp_path / "runs")
    assert info.status == "finished" and info.error is None and info.epochs == 2
    assert open_run(copy, steps=False).steps is None
    lines = len((copy / "steps.csv").read_text(encoding="utf-8").splitlines())
    with pytest.raises(
        RunError, match=rf"steps\.csv: damaged \(line {lines} holds a value that is not a number"
    ):
        open_run(copy)
    (copy / "steps.csv").write_text("step,loss,lr\n1,2.5,0.1\n2,2.4\n", encoding="utf-8")
    with pytest.raises(RunError, match=r"steps\.csv: damaged \(line 3 has 2 values, expected 3\)"):
        open_run(copy)
    (copy / "steps.csv").write_text("step,loss,lr\n1, 2.5 ,nan\n", encoding="utf-8")
    steps = open_run(copy).steps
    assert steps is not None and steps["loss"].tolist() == [2.5] and np.isnan(steps["lr"][0])
    assert steps["step"].dtype == np.int64


def test_stopped_run_keeps_what_was_done(tmp_path: Path) -> None:
    settings = DataSettings("spiral")
    model = dllab.build(SPEC, seed=0)
    prepared = settings.prepare(model.input_shape)
    config = TrainingConfig(batch_size=32, epochs=50)
    recorder = RunRecorder(tmp_path / "r", model, data=prepared, config=config, data_settings=settings)
    trainer = Trainer(model, prepared, config)
    for event in trainer.run():
        recorder.handle(event)
        if isinstance(event, EpochEnded) and event.epoch == 1:
            trainer.stop()
    run = open_run(tmp_path / "r")
    assert run.status == "stopped"
    assert run.summary is not None and 0 <= run.summary["test_accuracy"] <= 1
    assert len(run.metrics["epoch"]) == 1
    assert run.steps is not None and len(run.steps["step"]) == run.summary["steps"]
    loaded = dllab.load(run.model_final)
    np.testing.assert_array_equal(loaded.predict(prepared.x_test), model.predict(prepared.x_test))


def test_changes_made_by_hand_are_recorded_and_replayed_to_the_same_weights(tmp_path: Path) -> None:
    settings = DataSettings("spiral", val_fraction=0.2)
    model = dllab.build(SPEC, seed=2)
    prepared = settings.prepare(model.input_shape, seed=2)
    config = TrainingConfig(
        optimizer="momentum", lr=0.05, batch_size=32, epochs=3, seed=2, changes=[{"step": 30, "lr": 0.02}]
    )
    recorder = RunRecorder(
        tmp_path / "r", model, data=prepared, config=config, data_settings=settings, seed=2
    )
    control = RunControl()
    asked = {4: [{"lr": 0.01}, {"momentum": 0.5}], 30: [{"weight_decay": 0.001}], 31: [{"lr": 0.0}]}
    for event in Trainer(model, prepared, config, control).run():
        recorder.handle(event)
        if isinstance(event, BatchEnded):
            for values in asked.get(event.step, []):
                control.change(values)
        if isinstance(event, SettingsChanged):
            written = json.loads((tmp_path / "r" / "config.json").read_text(encoding="utf-8"))
            assert event.step in [c["step"] for c in written["training"]["changes"]]  # at once
    recorded = open_run(tmp_path / "r").config["training"]["changes"]
    assert recorded == [
        {"step": 4, "lr": 0.01, "momentum": 0.5},
        {"step": 30, "lr": 0.02, "weight_decay": 0.001},
        {"step": 31, "lr": 0.0},
    ]
    replay = read_experiment(tmp_path / "r" / "config.json")
    again = dllab.build(replay.network, seed=replay.seed)
    events = list(Trainer(again, replay.prepare()[1], replay.training).run())
    assert isinstance(events[-1], Finished)
    assert [(c.step, c.manual) for c in events if isinstance(c, SettingsChanged)] == [
        (4, False),
        (30, False),
        (31, False),
    ]
    for key, value in model.get_weights().items():
        assert np.array_equal(again.get_weights()[key], value), key  # bit for bit
    # Without the changes the same run ends elsewhere.
    plain = dllab.build(replay.network, seed=replay.seed)
    list(
        Trainer(
            plain, replay.prepare()[1], TrainingConfig.from_dict({**replay.training.to_dict(), "changes": []})
        ).run()
    )
    assert not np.array_equal(plain.get_weights()["dense_1.W"], model.get_weights()["dense_1.W"])


def test_run_folders_are_unique_sortable_and_under_dllab_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DLLAB_HOME", str(tmp_path / "home"))
    assert runs_root() == tmp_path / "home" / "runs"
    first = new_run_folder("My Net/1")
    second = new_run_folder("My Net/1")
    assert first.parent == second.parent == runs_root()
    assert first != second and first.is_dir() and second.is_dir()
    assert first.name.endswith("-My_Net_1")
    assert sorted([second.name, first.name]) == [first.name, second.name]
    assert list_runs() == []  # folders without a config.json are not runs


@pytest.mark.parametrize("evaluate_on_stop", [True, False])
def test_a_stopped_run_ends_with_or_without_the_test_evaluation(
    tmp_path: Path, evaluate_on_stop: bool
) -> None:
    settings = DataSettings("spiral")
    model = dllab.build(SPEC, seed=0)
    prepared = settings.prepare(model.input_shape)
    config = TrainingConfig(batch_size=32, epochs=5)
    recorder = RunRecorder(tmp_path / "r", model, data=prepared, config=config, data_settings=settings)
    recorder.evaluate_on_stop = evaluate_on_stop  # False: the app is closing and must stop quickly
    trainer = Trainer(model, prepared, config)
    for event in trainer.run():
        recorder.handle(event)
        if isinstance(event, BatchEnded) and event.step == 3:
            trainer.stop()
    run = open_run(tmp_path / "r")
    assert run.status == "stopped" and run.summary is not None and run.model_final is not None
    if evaluate_on_stop:
        assert recorder.test is not None and run.summary["test_accuracy"] == pytest.approx(
            recorder.test.accuracy
        )
    else:
        assert recorder.test is None and run.summary["test_accuracy"] is None


def test_claim_folder_takes_a_new_or_empty_folder_and_refuses_any_other(tmp_path: Path) -> None:
    fresh = claim_folder(tmp_path / "a" / "b")
    assert [p.name for p in fresh.iterdir()] == [CLAIM_FILE]
    assert claim_folder(fresh) == fresh  # this process's own claim
    empty = tmp_path / "empty"
    empty.mkdir()
    assert claim_folder(empty) == empty
    for name in ("", "   "):
        with pytest.raises(RunError, match="empty name"):
            claim_folder(name)
    used = tmp_path / "used"
    used.mkdir()
    (used / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(RunError, match=r"'.*used' exists and is not empty"):
        claim_folder(used)
    assert [p.name for p in used.iterdir()] == ["notes.txt"]
    a_file = tmp_path / "file"
    a_file.write_text("x", encoding="utf-8")
    with pytest.raises(RunError, match="not a folder"):
        claim_folder(a_file)
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / CLAIM_FILE).write_text(json.dumps({"pid": 1}), encoding="utf-8")
    with pytest.raises(RunError, match="taken by another run"):
        claim_folder(taken)
    with pytest.raises(RunError, match="taken by another run"):
        check_folder_free(taken)


def _claim_in_a_process(folder: str) -> str:
    try:
        claim_folder(folder)
    except RunError as exc:
        return str(exc)
    return "won"


def test_of_processes_claiming_one_folder_at_once_exactly_one_wins(tmp_path: Path) -> None:
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    for attempt in range(2):
        # One claim per process (a process may take its own claim again).
        with context.Pool(4, maxtasksperchild=1) as pool:
            outcomes = pool.map(_claim_in_a_process, [str(tmp_path / f"race{attempt}")] * 4, chunksize=1)
        assert outcomes.count("won") == 1, outcomes


def test_a_diverged_run_saves_only_finite_models(tmp_path: Path) -> None:
    model = dllab.build(SPEC, seed=0)
    data = DataSettings("spiral").prepare(model.input_shape)
    config = TrainingConfig(optimizer="sgd", lr=1e20, epochs=1, max_steps=1, batch_size=20)
    recorder = RunRecorder(tmp_path / "run", model, data=data, config=config)
    events = list(Trainer(model, data, config).run())
    for event in events:
        recorder.handle(event)
    assert type(events[-1]).__name__ == "Diverged"
    assert recorder.summary is not None and recorder.summary["status"] == "diverged"
    saved = dllab.load(tmp_path / "run" / "model_final.dllab.npz")
    assert all(np.isfinite(v).all() for v in saved.params.values())


_RUN_FILES = ("config.json", "metrics.csv", "steps.csv", "summary.json")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    which=st.sampled_from(_RUN_FILES),
    content=st.one_of(
        st.binary(max_size=300),
        st.recursive(
            st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=20),
            lambda inner: (
                st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
            ),
            max_leaves=20,
        ).map(lambda value: json.dumps(value).encode()),
    ),
    cut=st.integers(min_value=0, max_value=4000),
)
def test_a_run_folder_with_any_damaged_file_reads_or_says_which_file(
    recorded: Recorded, tmp_path: Path, which: str, content: bytes, cut: int
) -> None:
    root = tmp_path / f"runs-{which}-{cut}-{len(content)}"
    copy = root / "run"
    shutil.copytree(recorded.folder, copy, dirs_exist_ok=True)
    original = (recorded.folder / which).read_bytes()
    for damaged in (content, original[:cut], original[:cut] + content + original[cut:]):
        (copy / which).write_bytes(damaged)
        try:
            open_run(copy).info()
        except RunError as exc:
            assert which in str(exc) and "\n" not in str(exc)
        [info] = list_runs(root)  # never fails as a whole
        assert info.name == "run"
