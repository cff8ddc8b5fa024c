"""The Evaluation view's error analysis on a real MNIST model: the gallery by loss and its filters, the counts
per kind of mistake, tagging and marking a sample through the widgets, the tags kept in the run folder and read
again by a new view, the CSV export, and a damaged error-analysis file."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

import dllab
from dllab.data import load_dataset
from dllab.error_analysis import ERROR_ANALYSIS_FILE, likely_mislabelled
from dllab.experiment import DataSettings
from dllab.metrics import Evaluation, confusion_matrix, evaluate, predicted_classes
from dllab.trainer import Trainer, TrainingConfig
from ui.training.session import FinalEvaluation, SessionStarted
from ui.training.views import EvaluationView

CLASSES = tuple(str(k) for k in range(10))


@pytest.fixture(scope="module")
def mnist_results(mnist_dir: Path) -> tuple[np.ndarray, np.ndarray, Evaluation]:
    """A softmax regression trained one epoch on 2,000 real digits, evaluated on the 10,000 test digits."""
    raw = load_dataset(mnist_dir)
    settings = DataSettings(str(mnist_dir), val_fraction=0.0, subset=2000, normalization="scale")
    model = dllab.build({"input_shape": [784], "layers": [{"type": "Dense", "units": 10}]}, seed=0)
    prepared = settings.prepare(model.input_shape, seed=0, dataset=raw)
    for _ in Trainer(
        model, prepared, TrainingConfig(optimizer="adam", lr=0.01, batch_size=100, epochs=1)
    ).run():
        pass
    return raw.x_test, raw.y_test, evaluate(model, prepared.x_test, prepared.y_test)


def run_view(qtbot, folder: Path, results) -> EvaluationView:
    x_test, y_test, evaluation = results
    view = EvaluationView()
    qtbot.addWidget(view)
    view.resize(1200, 800)
    view.show()
    qtbot.waitExposed(view)
    view.begin_run(
        SessionStarted(
            folder=folder,
            network="Softmax",
            layers=(),
            parameters=7850,
            task="classification",
            class_names=CLASSES,
            input_shape=(784,),
            image_shape=(1, 28, 28),
            train_samples=2000,
            val_samples=0,
            test_samples=len(x_test),
            batch_size=100,
            test_inputs=x_test,
            test_labels=y_test,
        )
    )
    view.handle_items([FinalEvaluation("finished", evaluation)])
    view.flush()
    return view


def test_the_gallery_shows_mistakes_by_loss_and_the_pairs_filter_it(qtbot, tmp_path, mnist_results) -> None:
    evaluation = mnist_results[2]
    view = run_view(qtbot, tmp_path, mnist_results)
    losses = evaluation.sample_losses
    shown = [losses[i] for i in view.gallery_indices]
    assert len(shown) == 60 and shown == sorted(shown, reverse=True)
    assert shown[0] == pytest.approx(max(losses[m.index] for m in evaluation.misclassified()))
    assert f"{len(view.mistakes):,}" in view.gallery_title.text()

    pairs = evaluation.confusion_pairs()
    assert view.panel.pairs.rowCount() == len(pairs)
    assert view.panel.pairs.item(0, 0).text() == f"{pairs[0][0]} → {pairs[0][1]}"
    assert view.panel.pairs.item(0, 1).text() == f"{pairs[0][2]:,}"
    view.panel.pairs.cellClicked.emit(0, 0)
    true_class, predicted, count = pairs[0]
    assert view.selected_cell == (true_class, predicted)
    assert view.gallery.count() == min(count, 60)
    assert all(int(mnist_results[1][i]) == true_class for i in view.gallery_indices)

    assert view.set_filter("likely")
    expected = [m.index for m in likely_mislabelled(view.mistakes)][:60]
    assert view.selected_cell is None and view.gallery_indices == expected and expected


def test_a_sample_is_tagged_and_marked_through_the_widgets_and_kept_in_the_run(
    qtbot, tmp_path, mnist_results, fake_dialogs
) -> None:
    view = run_view(qtbot, tmp_path, mnist_results)
    panel = view.panel
    assert not panel.add_button.isEnabled()  # no sample chosen yet
    first, second = view.gallery_indices[:2]
    rect = view.gallery.visualItemRect(view.gallery.item(0))
    qtbot.mouseClick(view.gallery.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert panel.sample is not None and panel.sample.index == first
    assert panel.add_button.isEnabled() and f"Test sample {first}" in panel.sample_label.text()
    qtbot.keyClicks(panel.tag_box.lineEdit(), "blurry")
    qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(panel.tag_box.lineEdit(), "looks like 7")
    qtbot.keyClick(panel.tag_box.lineEdit(), Qt.Key.Key_Return)
    assert [panel.tag_list.item(i).text() for i in range(panel.tag_list.count())] == [
        "blurry",
        "looks like 7",
    ]
    panel.mislabelled_box.click()
    view.choose_sample(second)
    assert panel.tag_list.count() == 0 and not panel.mislabelled_box.isChecked()
    panel.tag_box.setEditText("blurry")
    qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)

    document = json.loads((tmp_path / ERROR_ANALYSIS_FILE).read_text(encoding="utf-8"))
    assert document["samples"] == [
        {
            "index": min(first, second),
            "tags": ["blurry", "looks like 7"] if first < second else ["blurry"],
            "mislabelled": first < second,
        },
        {
            "index": max(first, second),
            "tags": ["blurry"] if first < second else ["blurry", "looks like 7"],
            "mislabelled": first > second,
        },
    ]
    errors = len(view.mistakes)
    shares = {
        panel.shares.item(r, 0).text(): panel.shares.item(r, 2).text() for r in range(panel.shares.rowCount())
    }
    assert shares["blurry"] == f"{2 / errors:.1%}" and shares["looks like 7"] == f"{1 / errors:.1%}"
    assert "⚑" in view.gallery.item(0).text()
    assert view.filter.findData("tag:looks like 7") >= 0

    # A new view of the same run (the app reopened) reads the tags and marks back.
    again = run_view(qtbot, tmp_path, mnist_results)
    assert again.panel.analysis == panel.analysis
    assert again.set_filter("tag:blurry") and sorted(again.gallery_indices) == sorted([first, second])
    assert again.set_filter("marked") and again.gallery_indices == [first]
    again.choose_sample(first)
    assert again.panel.mislabelled_box.isChecked() and again.panel.tag_list.count() == 2

    fake_dialogs.save_paths.append(tmp_path / "errors.csv")
    again.panel.export_button.click()
    with (tmp_path / "errors.csv").open(newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["index", "true", "predicted", "loss", "confidence", "tags", "mislabelled"]
    assert len(rows) == 1 + errors
    by_index = {row[0]: row for row in rows[1:]}
    assert by_index[str(first)][5:] == ["blurry; looks like 7", "True"]
    assert by_index[str(second)][5:] == ["blurry", "False"]
    assert [float(row[3]) for row in rows[1:]] == sorted((float(row[3]) for row in rows[1:]), reverse=True)


def test_a_damaged_file_is_said_once_and_left_as_it_is(qtbot, tmp_path, mnist_results) -> None:
    damaged = b'{"format": "dllab.error_analysis/1", "test_samples": 10000, "samples": [{"index": -4}]}'
    (tmp_path / ERROR_ANALYSIS_FILE).write_bytes(damaged)
    view = run_view(qtbot, tmp_path, mnist_results)
    assert view.panel.problem.isVisibleTo(view) and "is damaged" in view.panel.problem.text()
    assert view.gallery.count() == 60 and view.confusion.sum() == 10_000  # the evaluation itself shows
    view.choose_sample(view.gallery_indices[0])
    assert not view.panel.add_button.isEnabled() and not view.panel.mislabelled_box.isEnabled()
    assert (tmp_path / ERROR_ANALYSIS_FILE).read_bytes() == damaged


def test_the_marked_samples_are_left_out_of_the_next_runs_test(qtbot, tmp_path, mnist_results) -> None:
    view = run_view(qtbot, tmp_path, mnist_results)
    assert not view.panel.exclude_button.isEnabled()
    marked = sorted(view.gallery_indices[:3])
    for index in marked:
        view.choose_sample(index)
        view.panel.mislabelled_box.click()
    assert view.panel.exclude_button.text() == "Retrain without the 3 marked…"
    with qtbot.waitSignal(view.exclusion_requested) as signal:
        view.panel.exclude_button.click()
    assert signal.args == [tuple(marked)]

    # A retrain's indices count the rows it kept: its own marks map back to the data set's rows.
    x_test, y_test, evaluation = mnist_results
    keep = np.setdiff1d(np.arange(len(x_test)), marked)
    outputs, labels = evaluation.outputs[keep], y_test[keep]
    retrained = Evaluation(
        0.0, 0.0, outputs, labels, confusion_matrix(labels, predicted_classes(outputs), 10)
    )
    (tmp_path / "retrain").mkdir()
    again = EvaluationView()
    qtbot.addWidget(again)
    again.begin_run(
        replace(
            view.started,
            folder=tmp_path / "retrain",
            excluded_test=tuple(marked),
            test_inputs=x_test[keep],
            test_labels=labels,
        )
    )
    again.handle_items([FinalEvaluation("finished", retrained)])
    again.flush()
    assert "Evaluated without the 3 test samples marked mislabelled" in again.status_label.text()
    new = again.mistakes[0].index
    again.choose_sample(new)
    again.panel.mislabelled_box.click()
    assert again.panel.excluded_rows() == tuple(sorted({*marked, int(keep[new])}))
