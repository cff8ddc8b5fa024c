"""AppState: edits, dirty tracking, the network following the dataset, and why training cannot start."""

from __future__ import annotations

import numpy as np
import pytest

from dllab.data import Dataset, make_toy
from ui.state import DEFAULT_SPEC, AppState, default_layer, fit_spec_to_dataset

CNN = {
    "input_shape": [1, 28, 28],
    "layers": [
        {"type": "Conv2D", "filters": 8, "kernel_size": 3},
        {"type": "ReLU"},
        {"type": "Flatten"},
        {"type": "Dense", "units": 10},
    ],
    "loss": "softmax_cross_entropy",
}


def images(n_classes: int = 10, n: int = 40) -> Dataset:
    rng = np.random.default_rng(0)
    return Dataset(
        name="mnist",
        x_train=rng.integers(0, 255, (n, 1, 28, 28), dtype=np.uint8),
        y_train=np.arange(n) % n_classes,
        x_test=rng.integers(0, 255, (10, 1, 28, 28), dtype=np.uint8),
        y_test=np.arange(10) % n_classes,
        class_names=[str(i) for i in range(n_classes)],
    )


def test_default_layer_writes_every_setting():
    assert default_layer("Conv2D") == {
        "type": "Conv2D",
        "filters": 16,
        "kernel_size": 3,
        "stride": 1,
        "padding": 0,
        "init": "he",
    }
    assert default_layer("ReLU") == {"type": "ReLU"}


def test_edits_reanalyse_and_emit(qtbot):
    state = AppState()
    assert state.analysis.ok
    with qtbot.waitSignal(state.network_changed):
        state.insert_layer(0, default_layer("Flatten"))
    assert [layer["type"] for layer in state.layers][:2] == ["Flatten", "Dense"]
    assert state.analysis.layers[0].output_shape == (2,)
    state.move_layer(0, 4)
    assert state.layers[4]["type"] == "Flatten"
    state.set_layer_option(0, "units", 7)
    assert state.analysis.layers[0].output_shape == (7,)
    state.set_layer_option(0, "units", None)
    assert "units" not in state.layers[0] and state.analysis.layers[0].output_shape == (100,)
    removed = state.remove_layer(4)
    assert removed == {"type": "Flatten"}
    state.set_network_option("input_shape", [5])
    assert state.analysis.input_shape == (5,)
    with pytest.raises(KeyError):
        state.set_network_option("layers", [])


def test_dirty_follows_the_undo_stack_and_saving(qtbot, tmp_path):
    from ui.commands import InsertLayerCommand

    state = AppState()
    assert not state.is_dirty
    with qtbot.waitSignal(state.dirty_changed):
        state.undo_stack.push(InsertLayerCommand(state, 0, {"type": "Flatten"}))
    assert state.is_dirty
    state.undo_stack.undo()
    assert not state.is_dirty
    state.undo_stack.redo()
    state.mark_saved(tmp_path / "n.json")
    assert not state.is_dirty and state.document_name == "n.json"
    state.load_network(DEFAULT_SPEC, dirty=True)
    assert state.is_dirty and state.undo_stack.count() == 0


def test_fit_keeps_a_flat_input_for_an_mlp_on_images():
    spec = {**DEFAULT_SPEC, "input_shape": [784]}
    new, changes = fit_spec_to_dataset(spec, images())
    assert new["input_shape"] == [784]
    assert new["layers"][-1]["units"] == 10
    assert changes == ["last Dense layer 10 units"]


def test_fit_keeps_the_image_shape_for_a_cnn():
    new, changes = fit_spec_to_dataset(CNN, images())
    assert new["input_shape"] == [1, 28, 28] and changes == []


def test_fit_flattens_images_for_an_mlp_and_sets_points_for_the_spiral():
    new, changes = fit_spec_to_dataset(DEFAULT_SPEC, images())
    assert new["input_shape"] == [784] and new["layers"][-1]["units"] == 10
    assert "input shape 784" in changes
    back, _ = fit_spec_to_dataset(new, make_toy("spiral"))
    assert back["input_shape"] == [2] and back["layers"][-1]["units"] == 3
    cnn_on_points, _ = fit_spec_to_dataset(CNN, make_toy("moons"))
    assert cnn_on_points["input_shape"] == [2]


def test_fit_uses_the_last_dense_layer_and_mse_for_regression():
    spec = {
        "input_shape": [2],
        "layers": [{"type": "Dense", "units": 4}, {"type": "Dense", "units": 9}, {"type": "Dropout"}],
    }
    new, changes = fit_spec_to_dataset(spec, make_toy("regression"))
    assert new["layers"][1]["units"] == 1 and new["layers"][0]["units"] == 4
    assert new["loss"] == "mse" and "mean squared error loss" in changes
    binary = {**DEFAULT_SPEC, "loss": "sigmoid_binary_cross_entropy"}
    new, _ = fit_spec_to_dataset(binary, make_toy("moons"))
    assert new["layers"][-1]["units"] == 1


def test_fit_network_to_dataset_is_one_undo_step_and_says_so(qtbot):
    state = AppState()
    state.set_dataset(images())
    with qtbot.waitSignal(state.message_posted) as message:
        changes = state.fit_network_to_dataset()
    assert changes and "MNIST" in message.args[0] and "Undo" in message.args[0]
    assert state.spec["input_shape"] == [784] and state.undo_stack.count() == 1
    state.undo_stack.undo()
    assert state.spec["input_shape"] == [2] and state.layers[-1]["units"] == 3


def test_training_blocker_explains_each_problem():
    state = AppState()
    assert state.training_blocker() == "Load a dataset in the Data panel first."
    state.set_dataset_loading(True)
    assert state.training_blocker() == "The dataset is still loading."
    state.set_dataset_loading(False)
    state.set_dataset(make_toy("spiral"))
    assert state.training_blocker() is None and state.can_train
    state.set_layer_option(4, "units", 5)
    assert "3 classes" in state.training_blocker() and "3 units" in state.training_blocker()
    state.set_layer_option(4, "units", 3)
    state.set_network_option("input_shape", [3])
    assert "2" in state.training_blocker() and "input shape" in state.training_blocker()
    state.set_network_option("input_shape", [1, 28, 28])
    reason = state.training_blocker()
    assert reason.startswith("Dense (row 1): ") and "Flatten" in reason
    state.set_network_option("input_shape", [2])
    state.set_dataset(make_toy("regression"))
    assert "mean squared error" in state.training_blocker()


def test_request_training_emits_only_when_ready(qtbot):
    state = AppState()
    with qtbot.assertNotEmitted(state.train_requested):
        assert not state.request_training()
    state.set_dataset(make_toy("spiral"))
    with qtbot.waitSignal(state.train_requested):
        assert state.request_training()
    state.set_training_active(True)
    assert state.training_blocker() is None and not state.can_train
    with qtbot.waitSignal(state.stop_requested):
        state.request_stop()


def test_seams_for_the_trainer():
    state = AppState()
    state.set_dataset(make_toy("spiral"))
    state.set_data_settings(val_fraction=0.25, normalization="standardize")
    prepared = state.prepare_data()
    assert prepared.input_shape == (2,) and len(prepared.x_val) == 120
    assert state.make_augmenter() is None
    optimizer = state.make_optimizer()
    assert type(optimizer).__name__ == "Adam" and optimizer.lr == pytest.approx(0.01)
    state.set_training_settings(optimizer="sgd")
    state.set_hyperparameter("lr", 0.5)
    assert state.make_optimizer().lr == 0.5
    state.set_training_settings(optimizer="adam")
    assert state.training.lr == pytest.approx(0.01)  # remembered per optimizer
    assert state.make_schedule().name == "constant"
    assert state.training.to_dict()["optimizer"]["type"] == "adam"
    state.set_dataset(images())
    state.set_data_settings(shift=2)
    augmenter = state.make_augmenter()
    assert augmenter is not None and augmenter.image_shape == (1, 28, 28)
    with pytest.raises(KeyError):
        state.set_data_settings(colour="red")
