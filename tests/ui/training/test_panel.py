"""Training from the window, for real: the spiral and a small MNIST subset from the Train button to every view,
stop, pause, step, closing mid-run, divergence, a failure inside training, the locked design, the run folder
and the settings saved with the design."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

import dllab
from dllab.data import load_dataset
from dllab.runs import list_runs, open_run
from ui.commands import InsertLayerCommand, SetLayerOptionCommand
from ui.state import LOCKED_REASON

TINY_CNN = {
    "format": "dllab.network/1",
    "name": "TinyCNN",
    "input_shape": [1, 28, 28],
    "layers": [
        {"type": "Conv2D", "filters": 6, "kernel_size": 5, "init": "he"},
        {"type": "ReLU"},
        {"type": "MaxPool2D", "pool_size": 2, "stride": 2},
        {"type": "Flatten"},
        {"type": "Dense", "units": 10, "init": "xavier"},
    ],
    "loss": "softmax_cross_entropy",
}


def train(window, qtbot, timeout: int = 60_000) -> tuple[str, str]:
    """Press Train and wait until the run has ended; returns its status and message."""
    with qtbot.waitSignal(window.training.run_ended, timeout=timeout) as ended:
        window.training_panel.train_button.click()
    return ended.args[0], ended.args[1]


def start(window, qtbot, epochs: int = 10_000) -> None:
    """Start a long run and wait until some batches were trained."""
    window.state.set_training_settings(epochs=epochs)
    window.training_panel.train_button.click()
    qtbot.waitUntil(lambda: window.training.progress.step >= 3, timeout=20_000)


def test_a_spiral_run_from_the_train_button_fills_every_view(window, qtbot, fake_dialogs):
    window.state.set_training_settings(epochs=20)
    status, message = train(window, qtbot)
    assert status == "finished" and "test accuracy" in message and not fake_dialogs.errors()
    curves, activations, weights = window.curves_view, window.activations_view, window.weights_view
    filters, boundary, evaluation = window.filters_view, window.boundary_view, window.evaluation_view
    for view in window.training_views:
        view.flush()
    assert len(curves.iterations) == curves.iterations.seen == 20 * 14  # 432 samples in batches of 32
    assert len(curves.raw_curve.getData()[0]) == 280 and len(curves.val_acc_curve.getData()[0]) == 20
    assert activations.shown == ["relu_1", "relu_2"] and len(activations.history) >= 1
    for name in activations.shown:
        assert activations._items[name].getData()[1].sum() == pytest.approx(100.0)
    assert weights.keys == ["dense_1.W", "dense_2.W", "dense_3.W"] and len(weights.norms) >= 1
    assert not filters.applicable and "no Conv2D layer" in filters.placeholder.text()
    assert boundary.image.image.shape == (140, 140, 4) and boundary.snapshot.step == 280
    assert evaluation.confusion.sum() == len(window.state.dataset.x_test)
    # The run is kept, listed and opened as the current model.
    model = window.state.model
    assert model is not None and model.preprocessing["kind"] == "scale" and model.class_names[0] == "arm 0"
    runs = list_runs()
    assert [r.status for r in runs] == ["finished"] and window.runs_panel.runs[0].name == runs[0].name
    run = open_run(runs[0].path)
    assert run.config["training"]["epochs"] == 20 and run.config["training"]["optimizer"] == "adam"
    assert run.summary["test_accuracy"] == pytest.approx(evaluation.evaluation.accuracy)
    assert (
        window.training_panel.progress_label.text() == message
        and window.training_panel.progress_bar.value() == 1000
    )
    assert not window.state.training_active and window.network_panel.view.isEnabled()


@pytest.fixture(scope="module")
def mnist(mnist_dir: Path):
    return load_dataset(mnist_dir)


def test_a_small_mnist_run_shows_filters_feature_maps_and_the_confusion_matrix(
    window, qtbot, mnist, mnist_dir
):
    window.state.load_network(TINY_CNN)
    window.state.set_data_settings(source=str(mnist_dir), subset=500, val_fraction=0.1, normalization="scale")
    window.state.set_dataset(mnist)
    window.state.set_training_settings(epochs=1, batch_size=50)
    window.state.set_hyperparameter("lr", 0.005)
    status, _ = train(window, qtbot)
    assert status == "finished"
    filters, evaluation = window.filters_view, window.evaluation_view
    filters.flush()
    assert filters.applicable and filters.before.weights.shape == filters.now.weights.shape == (6, 1, 5, 5)
    assert filters.before.step == 0 and filters.now.step == 9
    assert filters.now_box.item.image.shape == (2 * 6 - 1, 4 * 6 - 1, 4)  # 6 filters of 5x5 in 2 rows of 4
    assert filters.maps.maps["conv2d_1"].shape == (6, 24, 24)
    assert [filters.layer_combo.itemData(i) for i in range(filters.layer_combo.count())] == [
        "conv2d_1",
        "relu_1",
        "maxpool2d_1",
    ]
    filters.sample_spin.setValue(7)  # after the run the trained model computes the maps itself
    filters.flush()
    assert filters.maps.sample == 7 and "Test sample 7" in filters.input_box.label.text
    evaluation.flush()
    assert evaluation.confusion.shape == (10, 10) and evaluation.confusion.sum() == 10_000
    assert 0 < evaluation.gallery.count() <= 60 and not evaluation.gallery.item(0).icon().isNull()
    assert not window.boundary_view.applicable


MNIST_MLP = {
    "format": "dllab.network/1",
    "name": "MnistMLP",
    "input_shape": [784],
    "layers": [
        {"type": "Dense", "units": 64, "init": "he"},
        {"type": "ReLU"},
        {"type": "Dense", "units": 10},
    ],
    "loss": "softmax_cross_entropy",
}


def test_a_shifted_dev_set_shows_data_mismatch_in_the_four_way_reading(
    window, qtbot, mnist, mnist_dir, fake_dialogs, tmp_path
):
    window.state.load_network(MNIST_MLP)
    window.state.set_data_settings(source=str(mnist_dir), subset=1500, val_fraction=0.2)
    window.state.set_dataset(mnist)
    data_panel, training_panel = window.data_panel, window.training_panel
    data_panel.train_dev_spin.setValue(20)
    assert data_panel.mismatch_host.isEnabled() and not data_panel.shift_mix_spin.isEnabled()
    shift = data_panel.dev_shift_combo.findData("invert")
    data_panel.dev_shift_combo.setCurrentIndex(shift)
    data_panel.dev_shift_combo.activated.emit(shift)
    assert data_panel.shift_mix_spin.isEnabled() and data_panel.val_spin.maximum() == 75
    training_panel.human_error_spin.setValue(1.5)
    settings = window.state.data_settings
    assert (settings.train_dev_fraction, settings.dev_shift, settings.shift_mix) == (0.2, "invert", 0.0)
    assert window.state.training_config().human_error == 0.015
    window.state.set_training_settings(epochs=3, batch_size=50)
    status, _ = train(window, qtbot)
    assert status == "finished" and not fake_dialogs.errors()
    curves = window.curves_view
    curves.flush()
    assert len(curves.train_dev_acc_curve.getData()[0]) == 3
    text = curves.status_label.text()
    assert "Fit at the end" in text and "human-level 1.5%" in text and "train-dev" in text and "test" in text
    for gap in ("avoidable bias", "variance", "overfitting to dev"):
        assert gap in text
    assert "<b>data mismatch +" in text and "make the training data more like the dev data" in text
    fit = curves.fit
    assert fit.dev_error > fit.train_dev_error + 0.3 and fit.largest == "data mismatch"
    window.grab().save(str(tmp_path / "mismatch.png"))
    run = open_run(list_runs()[0].path)
    assert run.config["data"]["dev_shift"] == "invert" and run.config["training"]["human_error"] == 0.015
    assert run.summary["fit"]["largest"] == "data mismatch"
    assert np.isfinite(run.metrics["train_dev_accuracy"]).all()


def test_stop_ends_the_run_and_keeps_its_folder(window, qtbot):
    start(window, qtbot)
    with qtbot.waitSignal(window.training.run_ended, timeout=10_000) as ended:
        window.training_panel.train_button.click()  # reads Stop
    assert ended.args[0] == "stopped" and ended.args[1].startswith("Stopped at iteration ")
    assert open_run(list_runs()[0].path).status == "stopped"


def test_stop_trains_no_further_batch(window, qtbot):
    panel = window.training_panel
    start(window, qtbot)
    panel.pause_button.click()
    qtbot.waitUntil(lambda: window.training.paused, timeout=10_000)
    paused_at = window.training.progress.step
    with qtbot.waitSignal(window.training.run_ended, timeout=10_000) as ended:
        panel.train_button.click()  # reads Stop
    assert ended.args[0] == "stopped" and ended.args[1].startswith(f"Stopped at iteration {paused_at:,} ")
    assert window.training.progress.step == paused_at


#: A network whose evaluation of the 10,000 test images takes about 2 s on an idle machine (7.5 million
#: multiply-adds a sample): long enough to watch its progress and skip it, however fast inference gets.
HEAVY_CNN = {
    **TINY_CNN,
    "name": "HeavyCNN",
    "layers": [
        {"type": "Conv2D", "filters": 32, "kernel_size": 3, "padding": 1, "init": "he"},
        {"type": "ReLU"},
        {"type": "Conv2D", "filters": 32, "kernel_size": 3, "padding": 1, "init": "he"},
        *TINY_CNN["layers"][1:],
    ],
}


def test_stop_answers_at_once_then_evaluates_the_test_set_which_skip_ends(window, qtbot, mnist, mnist_dir):
    panel, status = window.training_panel, window.readiness_label
    window.state.load_network(HEAVY_CNN)
    window.state.set_data_settings(
        source=str(mnist_dir), subset=2000, val_fraction=0.1, normalization="scale"
    )
    window.state.set_dataset(mnist)
    window.state.set_training_settings(batch_size=50)
    start(window, qtbot, epochs=100)
    assert "Epoch" in panel.progress_label.text() and "Training" in status.text()
    panel.train_button.click()  # reads Stop
    qtbot.waitUntil(lambda: "Stopping" in panel.progress_label.text(), timeout=300)
    assert "Stopping" in status.text() and panel.train_button.text() == "Skip"
    assert not panel.pause_button.isEnabled()
    # The 10,000 test images are evaluated as a step of their own, with progress, while the window answers.
    qtbot.waitUntil(lambda: "Evaluating on the test set" in panel.progress_label.text(), timeout=20_000)
    qtbot.waitUntil(lambda: panel.progress_bar.value() > 0, timeout=20_000)  # the test set's share now
    assert "Evaluating on the test set" in panel.progress_label.text() and window.training.running
    assert "/10,000" in panel.progress_label.text() and "Evaluating on the test set" in status.text()
    with qtbot.waitSignal(window.training.run_ended, timeout=2_000) as ended:
        panel.train_button.click()  # reads Skip
    assert ended.args[0] == "stopped" and "the test set was not evaluated" in ended.args[1]
    assert open_run(list_runs()[0].path).summary["test_accuracy"] is None
    assert panel.train_button.text() == "Train"


def test_a_run_that_finishes_evaluates_the_test_set_as_a_step_that_skip_ends(window, qtbot, mnist, mnist_dir):
    panel, status = window.training_panel, window.readiness_label
    window.state.load_network(HEAVY_CNN)
    window.state.set_data_settings(source=str(mnist_dir), subset=500, val_fraction=0.1, normalization="scale")
    window.state.set_dataset(mnist)
    window.state.set_training_settings(batch_size=50, epochs=1)
    window.training_panel.train_button.click()
    # Training is over: the 10,000 test images are the run's last step, with their progress, not "Training"
    # at 100 %.
    qtbot.waitUntil(lambda: "Evaluating on the test set" in panel.progress_label.text(), timeout=30_000)
    assert panel.progress_label.text().startswith("Trained for ")
    assert "/10,000" in panel.progress_label.text() and "Evaluating on the test set" in status.text()
    assert panel.train_button.text() == "Skip" and not panel.pause_button.isEnabled()
    with qtbot.waitSignal(window.training.run_ended, timeout=2_000) as ended:
        panel.train_button.click()  # reads Skip
    assert ended.args[0] == "finished" and "the test set was not evaluated" in ended.args[1]
    assert open_run(list_runs()[0].path).summary["test_accuracy"] is None
    assert panel.train_button.text() == "Train"


def test_pause_step_and_resume(window, qtbot):
    panel = window.training_panel
    start(window, qtbot)
    assert panel.pause_button.isEnabled() and not panel.step_button.isEnabled()
    panel.pause_button.click()
    qtbot.waitUntil(lambda: window.training.paused, timeout=10_000)
    assert panel.pause_button.text() == "Resume" and panel.step_button.isEnabled()
    assert "paused" in panel.progress_label.text()
    paused_at = window.training.progress.step
    qtbot.wait(150)
    assert window.training.progress.step == paused_at
    panel.step_button.click()
    qtbot.waitUntil(lambda: window.training.progress.step == paused_at + 1, timeout=10_000)
    qtbot.waitUntil(lambda: window.training.paused, timeout=10_000)
    qtbot.wait(100)
    assert window.training.progress.step == paused_at + 1  # exactly one batch
    panel.pause_button.click()  # Resume
    qtbot.waitUntil(lambda: window.training.progress.step > paused_at + 3, timeout=10_000)
    assert panel.pause_button.text() == "Pause" and not panel.step_button.isEnabled()
    with qtbot.waitSignal(window.training.run_ended, timeout=10_000):
        panel.train_button.click()


def test_every_live_view_shows_the_iteration_a_paused_run_is_at(window, qtbot):
    panel = window.training_panel
    window.state.set_training_settings(batch_size=8)  # many batches between statistics by count (every 50)
    start(window, qtbot)
    qtbot.waitUntil(lambda: window.training.progress.step >= 60, timeout=20_000)
    panel.pause_button.click()
    qtbot.waitUntil(lambda: window.training.paused, timeout=10_000)
    paused_at = window.training.progress.step
    shown = {
        window.activations_view: lambda: window.activations_view.status_label.text(),
        window.weights_view: lambda: window.weights_view.status_label.text(),
        window.boundary_view: lambda: window.boundary_view.plot.titleLabel.text,
    }
    for view, text in shown.items():  # as a user looks at them, tab after tab
        window.views.setCurrentWidget(view)
        qtbot.waitUntil(lambda text=text: f"teration {paused_at:,}" in text(), timeout=5_000)
    with qtbot.waitSignal(window.training.run_ended, timeout=10_000):
        panel.train_button.click()


def test_views_of_the_last_run_s_model_clear_when_the_network_or_data_change(window, qtbot):
    window.state.set_training_settings(epochs=2)
    assert train(window, qtbot)[0] == "finished"
    boundary, curves = window.boundary_view, window.curves_view
    boundary.flush()
    assert boundary.stack.currentWidget() is boundary.content
    window.state.undo_stack.push(InsertLayerCommand(window.state, 1, {"type": "Dense", "units": 8}))
    assert boundary.stack.currentWidget() is boundary.placeholder
    assert "changed since the last run" in boundary.placeholder.text()
    assert window.activations_view.stack.currentWidget() is window.activations_view.placeholder
    assert curves.stack.currentWidget() is curves.content  # the run's history stays


def test_closing_the_window_during_training_stops_within_two_seconds(window, qtbot):
    start(window, qtbot)
    began = time.monotonic()
    window.close()
    assert time.monotonic() - began < 2.0
    assert not window.isVisible() and not window.state.training_active and window.training.worker is None
    run = open_run(list_runs()[0].path)
    assert run.status == "stopped" and run.model_final is not None  # the run folder is kept


def test_a_diverging_learning_rate_shows_the_divergence(window, qtbot, fake_dialogs):
    window.state.set_training_settings(optimizer="sgd", epochs=5)
    window.state.set_hyperparameter("lr", 1e6)
    status, message = train(window, qtbot)
    assert status == "diverged" and "learning rate" in message
    (title, text) = fake_dialogs.errors()[-1]
    assert title == "Training diverged" and "too high" in text and "last finite weights are kept" in text
    assert window.curves_view.diverged_at is not None
    model = window.state.model
    assert model is not None and all(np.isfinite(v).all() for v in model.params.values())
    assert open_run(list_runs()[0].path).status == "diverged"


def test_an_exception_inside_training_is_explained_and_the_app_keeps_working(window, qtbot, fake_dialogs):
    panel = window.training_panel
    start(window, qtbot)
    panel.pause_button.click()
    qtbot.waitUntil(lambda: window.training.paused, timeout=10_000)
    folder = window.training.started.folder
    shutil.rmtree(folder)  # where the run writes at the end of each epoch
    with qtbot.waitSignal(window.training.run_ended, timeout=20_000) as ended:
        panel.pause_button.click()  # Resume
    status, message = ended.args
    assert status == "failed" and "No such file or directory" in message and folder.name in message
    (title, text) = fake_dialogs.errors()[-1]
    assert title == "Training failed" and "No such file or directory" in text
    assert not window.state.training_active and panel.train_button.isEnabled()
    assert "No test results" in window.evaluation_view.placeholder.text()
    window.state.set_training_settings(epochs=3)
    status, _ = train(window, qtbot)
    assert status == "finished"


def test_editing_the_network_during_a_run_is_refused_with_the_reason(window, qtbot):
    layers = window.state.spec_copy()["layers"]
    start(window, qtbot)
    window.state.undo_stack.push(InsertLayerCommand(window.state, 0, {"type": "ReLU"}))
    assert window.statusBar().currentMessage() == LOCKED_REASON
    window._on_palette_layer_activated("Dropout")
    assert not window.documents.new_network() and not window.documents.open_network()
    assert window.state.spec["layers"] == layers and window.state.undo_stack.count() == 0
    banner = window.network_panel.locked_banner
    assert banner.isVisibleTo(window) and banner.text() == LOCKED_REASON
    assert (
        not window.training_panel.epochs_spin.isEnabled()
        and window.training_panel.locked_label.isVisibleTo(window)
    )
    with qtbot.waitSignal(window.training.run_ended, timeout=10_000):
        window.training_panel.train_button.click()
    assert not banner.isVisibleTo(window) and window.training_panel.epochs_spin.isEnabled()
    window.state.undo_stack.push(InsertLayerCommand(window.state, 0, {"type": "ReLU"}))
    assert window.state.layers[0] == {"type": "ReLU"}


def test_the_settings_are_saved_with_the_design_and_the_cli_trains_it(window, fake_dialogs, tmp_path):
    state = window.state
    state.set_training_settings(optimizer="momentum", epochs=7, batch_size=16, seed=3)
    state.set_hyperparameter("momentum", 0.8)
    state.set_data_settings(val_fraction=0.25, normalization="standardize")
    assert state.is_dirty  # the settings are part of the design
    fake_dialogs.save_paths.append(tmp_path / "design.json")
    assert window.documents.save() and not state.is_dirty
    document = json.loads((tmp_path / "design.json").read_text())
    assert document["format"] == "dllab.design/1" and document["network"] == state.spec
    assert document["training"]["optimizer"] == "momentum" and document["training"]["epochs"] == 7
    assert document["data"]["val_fraction"] == 0.25 and document["data"]["source"] == "spiral"
    assert dllab.build(tmp_path / "design.json").name == "SpiralMLP"
    from dllab.cli import main as cli

    out = tmp_path / "cli-run"
    assert (
        cli.main(
            ["train", str(tmp_path / "design.json"), "--data", "spiral", "--epochs", "1", "--out", str(out)]
        )
        == 0
    )
    assert open_run(out).status == "finished"
    state.set_training_settings(optimizer="adam", epochs=2)
    state.set_data_settings(val_fraction=0.1)
    assert window.documents.open_network_file(tmp_path / "design.json", ask=False)
    t = state.training
    assert (t.optimizer, t.epochs, t.batch_size, t.seed) == ("momentum", 7, 16, 3)
    assert t.hyperparameters["momentum"] == 0.8 and state.data_settings.val_fraction == 0.25
    assert window.training_panel.epochs_spin.value() == 7 and not state.is_dirty


def test_the_learning_rate_has_a_log_slider_and_an_exact_field(window):
    panel = window.training_panel
    editor = panel.parameter_editors["lr"]
    editor.slider.setValue(editor.slider_position(0.003))
    assert window.state.training.lr == 0.003 and editor.spin.value() == 0.003
    editor.slider.setValue(editor.slider.value() + 1)
    assert window.state.training.lr == 0.004
    editor.spin.setValue(0.00437)
    assert window.state.training.lr == 0.00437 and editor.slider_value(editor.slider.value()) == 0.004
    window.state.set_training_settings(optimizer="rmsprop")
    assert set(panel.parameter_editors) == {"lr", "rho", "eps", "weight_decay", "clip_norm"}
    window.state.set_training_settings(optimizer="adam")
    assert {"beta1", "beta2", "eps"} <= set(panel.parameter_editors)
    config = window.state.training_config()
    assert config.optimizer == "adam" and config.lr == 0.00437 and config.optimizer_options["beta1"] == 0.9


def test_hyperparameters_have_the_engines_labels_and_one_off_convention(window, qtbot):
    panel = window.training_panel
    window.state.set_training_settings(optimizer="adam")
    form = panel.optimizer_form
    labels = [form.itemAt(row, form.ItemRole.LabelRole).widget().text() for row in range(form.rowCount())]
    assert labels == ["Learning rate", "β₁", "β₂", "ε", "Weight decay", "Clip norm"]
    clip = panel.parameter_editors["clip_norm"]
    assert clip.check is not None and not clip.check.isChecked() and not clip.spin.isEnabled()
    clip.check.setChecked(True)  # on: the number shown becomes the value
    assert window.state.training.hyperparameters["clip_norm"] == clip.spin.value() == 1.0
    clip.spin.setValue(5.0)
    assert window.state.training.hyperparameters["clip_norm"] == 5.0
    clip.check.setChecked(False)  # off is None, as in the engine
    assert window.state.training.hyperparameters["clip_norm"] is None and clip.spin.value() == 5.0
    assert window.state.training_config().clip_norm is None


def test_a_refused_hyperparameter_shows_the_engines_reason_and_is_not_kept(window, qtbot):
    panel = window.training_panel
    window.state.set_training_settings(optimizer="adam")
    beta1 = panel.parameter_editors["beta1"]
    edit = beta1.spin.lineEdit()
    edit.selectAll()
    qtbot.keyClicks(edit, "1")
    assert (
        panel.optimizer_error.isVisible() and panel.optimizer_error.text() == "Beta1 must be below 1, got 1.0"
    )
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert window.state.training.hyperparameters["beta1"] == 0.9 and beta1.spin.property("invalid") is True
    edit.selectAll()
    qtbot.keyClicks(edit, "0.8")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert window.state.training.hyperparameters["beta1"] == 0.8 and not panel.optimizer_error.isVisible()
    window.state.set_hyperparameter("eps", 0.0)  # e.g. from a design file: the engine's reason is shown
    assert panel.optimizer_error.text() == "Adam: eps must be above 0, got 0.0"
    assert panel.parameter_editors["eps"].spin.value() == 0.0


def test_schedule_settings_step_by_whole_epochs(window, qtbot):
    panel = window.training_panel
    window.state.set_training_settings(schedule="step")
    assert panel.schedule_form_host.isVisibleTo(panel)
    step = panel.schedule_editors["step_size"]
    step.spin.stepUp()
    assert window.state.training.schedule_params["step"]["step_size"] == 11.0
    gamma = panel.schedule_editors["gamma"]
    form = panel.schedule_form
    assert form.itemAt(1, form.ItemRole.LabelRole).widget().text() == "γ"
    gamma.spin.setValue(0.0)
    assert panel.schedule_error.text() == "Gamma must be above 0, got 0.0"
    assert window.state.make_schedule().gamma == 0.5
    window.state.set_training_settings(schedule="constant")
    assert not panel.schedule_form_host.isVisibleTo(panel) and not panel.schedule_error.isVisible()


def test_the_learning_rate_changed_while_training_reaches_the_run_and_marks_the_curve(
    window, qtbot, fake_dialogs
):
    panel, training, curves = window.training_panel, window.training, window.curves_view
    window.state.set_training_settings(optimizer="adam")
    design_lr = window.state.training.lr
    start(window, qtbot)
    editor = panel.parameter_editors["lr"]
    assert editor.spin.isEnabledTo(window) and not panel.optimizer_combo.isEnabled()
    panel.pause_button.click()
    qtbot.waitUntil(lambda: training.paused, timeout=10_000)
    paused_at = training.progress.step
    with qtbot.waitSignal(training.settings_changed, timeout=10_000) as changed:
        editor.spin.setValue(0.003)
    first = changed.args[0]
    assert (first.step, first.values, first.previous) == (paused_at, {"lr": 0.003}, {"lr": design_lr})
    assert window.state.training.lr == design_lr  # the run's, not the design's
    # A refused change says why in one sentence and the run goes on.
    with qtbot.waitSignal(training.change_refused, timeout=10_000) as refused:
        training.change_settings({"lr": -1})
    assert refused.args[0] == f"the change at step {paused_at}: lr must be at least 0, got -1"
    assert panel.optimizer_error.isVisible() and panel.optimizer_error.text().startswith("The change at step")
    panel.pause_button.click()  # Resume
    qtbot.waitUntil(lambda: training.progress.step > paused_at + 3, timeout=10_000)
    with qtbot.waitSignal(training.settings_changed, timeout=10_000) as changed:
        editor.spin.setValue(0.002)  # while it trains
    second = changed.args[0]
    assert second.step > paused_at and second.previous == {"lr": 0.003}
    qtbot.waitUntil(lambda: training.progress.step > second.step + 2, timeout=10_000)
    curves.flush()
    assert [c.text() for c in curves.changes] == [f"lr {design_lr:g} → 0.003", "lr 0.003 → 0.002"]
    loss_lines = [line for plot, line in curves.change_lines if plot is curves.loss_plot]
    assert [line.value() for line in loss_lines] == [paused_at + 0.5, second.step + 0.5]
    assert loss_lines[0].label.toPlainText() == f"lr {design_lr:g} → 0.003" and loss_lines[0].isVisible()
    steps, lrs = curves.iterations.x, curves.iterations.column(2)
    assert set(lrs[steps <= paused_at]) == {design_lr} and lrs[steps == paused_at + 1][0] == 0.003
    with qtbot.waitSignal(training.run_ended, timeout=10_000):
        panel.train_button.click()
    run = open_run(list_runs()[0].path)
    assert run.config["training"]["changes"] == [
        {"step": paused_at, "lr": 0.003},
        {"step": second.step, "lr": 0.002},
    ]
    assert editor.spin.value() == design_lr and not fake_dialogs.errors()  # the design's value is back


def test_a_run_started_from_a_saved_model_copies_its_matching_layers(window, qtbot, fake_dialogs, tmp_path):
    state, panel = window.state, window.training_panel
    source = dllab.build(state.spec_copy(), seed=7)
    saved = dllab.save(source, tmp_path / "source.dllab.npz")
    # The output layer gets a name of its own (a new head), and the first Dense layer is frozen.
    dense = [i for i, layer in enumerate(state.layers) if layer["type"] == "Dense"]
    state.undo_stack.push(SetLayerOptionCommand(state, dense[-1], "name", "head"))
    window.network_panel.freeze_action(dense[0]).trigger()
    fake_dialogs.open_paths.append(saved)
    panel.init_button.click()
    assert state.training.init_from == str(saved.resolve())
    assert panel.init_label.text().startswith("From SpiralMLP (source.dllab.npz)")
    assert panel.init_clear_button.isEnabled() and not fake_dialogs.errors()
    messages: list[str] = []
    state.message_posted.connect(messages.append)
    state.set_training_settings(epochs=3)
    status, _ = train(window, qtbot)
    assert status == "finished" and not fake_dialogs.errors()
    report = "copied: dense_1, dense_2; frozen: dense_1; new: head"
    assert panel.init_report.isVisible() and panel.init_report.text() == f"This run: {report}."
    assert f"Started from source.dllab.npz: {report}." in messages
    trained = window.training.ended.model
    # The frozen layer started from the saved weights and kept them; the copied one learned on from them.
    for key in ("dense_1.W", "dense_1.b"):
        assert np.array_equal(trained.params[key], source.params[key])
    fresh = dllab.build(state.spec_copy(), seed=state.training.seed)
    assert not np.array_equal(fresh.params["dense_1.W"], source.params["dense_1.W"])
    assert not np.array_equal(trained.params["dense_2.W"], source.params["dense_2.W"])
    config = json.loads((window.training.ended.folder / "config.json").read_text())
    assert config["training"]["init_from"] == str(saved.resolve())
    panel.init_clear_button.click()
    assert state.training.init_from is None and panel.init_label.text().startswith("Fresh weights")
    assert not panel.init_clear_button.isEnabled() and not panel.init_report.isVisible()


def test_a_file_that_is_no_model_is_refused_in_one_sentence(window, fake_dialogs, tmp_path):
    bogus = tmp_path / "bogus.dllab.npz"
    bogus.write_bytes(b"not a model")
    fake_dialogs.open_paths.append(bogus)
    window.training_panel.init_button.click()
    ((title, message),) = fake_dialogs.errors()
    assert title == "Cannot start from this model" and "bogus.dllab.npz" in message
    assert window.state.training.init_from is None
