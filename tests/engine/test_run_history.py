"""The run history: titles and tags beside a run's record, filters, the trash and back, a run's curves."""

from __future__ import annotations

import json
import os
import platform
import shutil
from pathlib import Path

import numpy as np
import pytest

import dllab
from dllab.run_history import (
    LABELS_FILE,
    TRASH_FOLDER,
    RunFilter,
    RunLabels,
    describe_run,
    filter_runs,
    is_running,
    networks_and_data,
    parse_tags,
    read_labels,
    rename_run,
    restore_run,
    result_seconds,
    run_history,
    run_label,
    run_result,
    step_seconds,
    tag_run,
    trash_run,
    trashed_runs,
    write_labels,
)
from dllab.runs import CLAIM_FILE, SUMMARY_FILE, DataSettings, RunError, RunRecorder, open_run
from dllab.trainer import Trainer, TrainingConfig

SPEC = {
    "name": "TinySpiral",
    "input_shape": [2],
    "layers": [{"type": "Dense", "units": 8}, {"type": "ReLU"}, {"type": "Dense", "units": 3}],
}


def record(folder: Path, dataset: str = "spiral", name: str = "TinySpiral", epochs: int = 2) -> Path:
    """A real short run recorded into ``folder``."""
    settings = DataSettings(dataset, val_fraction=0.2, subset=300)
    layers = [*SPEC["layers"][:-1], {"type": "Dense", "units": 2 if dataset == "moons" else 3}]
    model = dllab.build({**SPEC, "name": name, "layers": layers}, seed=1)
    prepared = settings.prepare(model.input_shape, seed=1)
    config = TrainingConfig(optimizer="adam", lr=0.02, batch_size=32, epochs=epochs, seed=1)
    recorder = RunRecorder(folder, model, data=prepared, config=config, data_settings=settings, seed=1)
    for event in Trainer(model, prepared, config).run():
        recorder.handle(event)
    return folder


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("history") / "runs"
    record(root / "20250101-100000-TinySpiral")
    record(root / "20250101-110000-TinyMoons", dataset="moons", name="TinyMoons", epochs=3)
    return root


@pytest.fixture
def root(runs: Path, tmp_path: Path) -> Path:
    """A copy of the recorded runs that a test may change."""
    copy = tmp_path / "runs"
    shutil.copytree(runs, copy)
    return copy


def test_a_title_and_tags_are_kept_beside_the_record_and_read_back(root: Path) -> None:
    folder = root / "20250101-100000-TinySpiral"
    config_before = (folder / "config.json").read_bytes()
    assert read_labels(folder) == RunLabels()
    before = rename_run(folder, "  Adam   on the spiral ")
    assert before == RunLabels()
    before = tag_run(folder, "baseline, adam,, Baseline ")
    assert before == RunLabels("Adam on the spiral")
    assert read_labels(folder) == RunLabels("Adam on the spiral", ("baseline", "adam"))
    document = json.loads((folder / LABELS_FILE).read_text(encoding="utf-8"))
    assert document == {
        "format": "dllab.run-labels/1",
        "title": "Adam on the spiral",
        "tags": ["baseline", "adam"],
    }
    assert (folder / "config.json").read_bytes() == config_before  # the record is never rewritten
    entry = next(e for e in run_history(root) if e.path == folder)
    assert entry.title == "Adam on the spiral" and entry.labels.tags == ("baseline", "adam")
    rename_run(folder, "")
    assert next(e for e in run_history(root) if e.path == folder).title == folder.name


def test_labels_that_are_too_long_or_damaged_give_one_sentence(root: Path) -> None:
    folder = root / "20250101-100000-TinySpiral"
    with pytest.raises(RunError, match="longer than 120 characters"):
        rename_run(folder, "x" * 121)
    with pytest.raises(RunError, match="at most 20 tags"):
        parse_tags([f"t{i}" for i in range(21)])
    with pytest.raises(RunError, match="not a run folder"):
        write_labels(root, RunLabels("x"))
    (folder / LABELS_FILE).write_text('{"format": "dllab.run-labels/1", "title": 3}', encoding="utf-8")
    with pytest.raises(RunError, match=r"labels\.json: damaged"):
        read_labels(folder)
    entry = next(e for e in run_history(root) if e.path == folder)  # still listed, with the reason
    assert entry.labels == RunLabels() and "damaged" in (entry.info.error or "")
    (folder / LABELS_FILE).write_text("[1, 2", encoding="utf-8")
    with pytest.raises(RunError, match="not a JSON document"):
        read_labels(folder)
    (folder / LABELS_FILE).write_text(" " * 70_000 + "{}", encoding="utf-8")
    with pytest.raises(RunError, match="larger than the 65,536 bytes"):
        read_labels(folder)


def test_history_is_newest_first_and_filters_by_network_data_metric_and_words(root: Path) -> None:
    entries = run_history(root)
    assert [e.info.name for e in entries] == ["20250101-110000-TinyMoons", "20250101-100000-TinySpiral"]
    assert networks_and_data(entries) == (["TinyMoons", "TinySpiral"], ["moons", "spiral"])
    spiral = root / "20250101-100000-TinySpiral"
    tag_run(spiral, "keep")
    entries = run_history(root)
    assert [e.path for e in filter_runs(entries, RunFilter(network="TinySpiral"))] == [spiral]
    assert [e.info.dataset for e in filter_runs(entries, RunFilter(dataset="moons"))] == ["moons"]
    assert [e.path for e in filter_runs(entries, RunFilter(text="KEEP"))] == [spiral]
    assert filter_runs(entries, RunFilter(text="keep moons")) == []
    accuracies = {e.path: e.metric("test_accuracy") for e in entries}
    assert all(0 <= a <= 1 for a in accuracies.values() if a is not None)
    low = min(a for a in accuracies.values() if a is not None)
    high = max(a for a in accuracies.values() if a is not None)
    kept = filter_runs(entries, RunFilter(metric="test_accuracy", minimum=high))
    assert {e.path for e in kept} == {p for p, a in accuracies.items() if a == high}
    assert len(filter_runs(entries, RunFilter(metric="test_accuracy", minimum=low))) == 2
    assert filter_runs(entries, RunFilter(metric="best_val_accuracy", minimum=1.01)) == []
    with pytest.raises(ValueError, match="unknown metric"):
        entries[0].metric("speed")


def test_a_deleted_run_goes_to_the_trash_and_comes_back_whole(root: Path) -> None:
    folder = root / "20250101-100000-TinySpiral"
    files = sorted(p.name for p in folder.iterdir())
    trashed = trash_run(folder, root)
    assert trashed == root / TRASH_FOLDER / folder.name and not folder.exists()
    assert [e.info.name for e in run_history(root)] == ["20250101-110000-TinyMoons"]
    assert trashed_runs(root) == [trashed]
    assert restore_run(trashed, root) == folder
    assert sorted(p.name for p in folder.iterdir()) == files and trashed_runs(root) == []
    assert len(run_history(root)) == 2


def test_the_trash_keeps_two_runs_of_one_name_and_restore_never_overwrites(root: Path) -> None:
    folder = root / "20250101-100000-TinySpiral"
    first = trash_run(folder, root)
    shutil.copytree(first, folder)  # a run of the same name again
    second = trash_run(folder, root)
    assert second == root / TRASH_FOLDER / f"{folder.name}-2" and first.is_dir()
    assert restore_run(second, root, name=folder.name) == folder
    with pytest.raises(RunError, match="exists already"):
        restore_run(first, root)
    assert first.is_dir() and folder.is_dir()  # nothing was lost
    with pytest.raises(RunError, match="is not a run in the trash"):
        restore_run(folder, root)


def test_a_running_run_or_a_foreign_folder_is_never_moved(root: Path, tmp_path: Path) -> None:
    folder = root / "20250101-100000-TinySpiral"
    (folder / SUMMARY_FILE).unlink()
    claim = {"pid": os.getpid(), "host": platform.node()}
    (folder / CLAIM_FILE).write_text(json.dumps(claim), encoding="utf-8")
    assert is_running(folder)
    with pytest.raises(RunError, match="still training"):
        trash_run(folder, root)
    claim["host"] = platform.node() + "-elsewhere"
    (folder / CLAIM_FILE).write_text(json.dumps(claim), encoding="utf-8")
    assert not is_running(folder)
    other = tmp_path / "other"
    shutil.copytree(root / "20250101-110000-TinyMoons", other / "run")
    with pytest.raises(RunError, match="is not a run of"):
        trash_run(other / "run", root)
    with pytest.raises(RunError, match="not a run folder"):
        trash_run(root, root)
    assert (other / "run").is_dir()


def test_a_recorded_run_becomes_the_result_that_comparison_plots_draw(runs: Path) -> None:
    run = open_run(runs / "20250101-110000-TinyMoons")
    result = run_result(run, index=4, label="moons")
    assert result.index == 4 and result.label == "moons" and result.status == "finished"
    assert [e.epoch for e in result.epochs] == [1, 2, 3]
    np.testing.assert_array_equal(result.epoch_metrics()["val_accuracy"], run.metrics["val_accuracy"])
    assert result.steps == list(run.steps["step"]) and result.losses == list(run.steps["loss"])
    assert result.batches_per_epoch == run.metrics["step"][0]
    assert result.test_accuracy == run.summary["test_accuracy"]
    seconds, epoch_seconds = result_seconds(result)
    np.testing.assert_array_equal(epoch_seconds, run.metrics["elapsed"])
    assert np.all(np.diff(seconds) >= 0) and seconds[-1] == pytest.approx(epoch_seconds[-1])


def test_a_run_is_called_by_its_title_or_its_settings_and_start(runs: Path) -> None:
    run = open_run(runs / "20250101-100000-TinySpiral")
    assert run_label(run, RunLabels("Mine")) == "Mine"
    started = run.config["started"].split("T")[1][:8]
    assert run_label(run, RunLabels()) == f"TinySpiral · adam, lr 0.02 · {started}"


def test_step_seconds_interpolates_between_epoch_ends() -> None:
    seconds = step_seconds([5, 10, 15, 25], [10, 20], [2.0, 6.0])
    np.testing.assert_allclose(seconds, [1.0, 2.0, 4.0, 8.0])
    assert np.isnan(step_seconds([1, 2], [], [])).all()


def test_a_run_is_described_in_lines_for_people(runs: Path) -> None:
    lines = dict(describe_run(open_run(runs / "20250101-100000-TinySpiral")))
    assert lines["Network"] == "TinySpiral: Dense → ReLU → Dense"
    assert lines["Data"].startswith("spiral (") and "test)" in lines["Data"]
    assert lines["Optimizer"] == "adam" and lines["Learning rate"] == "0.02" and lines["Batch size"] == "32"
    assert lines["Ended"].startswith("finished")
