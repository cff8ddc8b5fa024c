"""AppState: edits, dirty tracking, the network following the dataset, and why training cannot start."""

from __future__ import annotations

import numpy as np
import pytest

from dllab.data import Dataset, make_toy
from dllab.errors import DllabError
from dllab.fit import fit_network
from ui.commands import fit_network_to_dataset
from ui.state import DEFAULT_SPEC, AppState, default_layer


def fit_spec_to_dataset(spec, dataset):
    """The engine's fit rule as the app applies it when a data set is loaded (the output layer follows)."""
    return fit_network(spec, dataset, adapt_outputs=True)


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
    new, note = fit_spec_to_dataset(spec, images())
    assert new["input_shape"] == [784]
    assert new["layers"][-1]["units"] == 10
    assert note == "last Dense layer set to 10 units"


def test_fit_keeps_the_image_shape_for_a_cnn():
    new, note = fit_spec_to_dataset(CNN, images())
    assert new["input_shape"] == [1, 28, 28] and note is None
    flat_cnn, note = fit_spec_to_dataset({**CNN, "input_shape": [784]}, images())
    assert flat_cnn["input_shape"] == [1, 28, 28] and note == "input shape set to 1×28×28 from the data"


def test_fit_flattens_images_for_an_mlp_and_sets_points_for_the_spiral():
    new, note = fit_spec_to_dataset(DEFAULT_SPEC, images())
    assert new["input_shape"] == [784] and new["layers"][-1]["units"] == 10
    assert note.startswith("input shape set to 784 from the data")
    back, _ = fit_spec_to_dataset(new, make_toy("spiral"))
    assert back["input_shape"] == [2] and back["layers"][-1]["units"] == 3
    # A CNN cannot take points in any shape: its input stays, and the blocker says why.
    cnn_on_points, _ = fit_spec_to_dataset(CNN, make_toy("moons"))
    assert cnn_on_points["input_shape"] == [1, 28, 28] and cnn_on_points["layers"][-1]["units"] == 2


def test_fit_uses_the_last_dense_layer_and_mse_for_regression():
    spec = {
        "input_shape": [2],
        "layers": [{"type": "Dense", "units": 4}, {"type": "Dense", "units": 9}, {"type": "Dropout"}],
    }
    new, note = fit_spec_to_dataset(spec, make_toy("regression"))
    assert new["layers"][1]["units"] == 1 and new["layers"][0]["units"] == 4
    assert new["loss"] == "mse" and "loss set to mean squared error" in note
    binary = {**DEFAULT_SPEC, "loss": "sigmoid_binary_cross_entropy"}
    new, _ = fit_spec_to_dataset(binary, make_toy("moons"))
    assert new["layers"][-1]["units"] == 1


def test_fit_network_to_dataset_is_one_undo_step_and_says_so(qtbot):
    state = AppState()
    state.set_dataset(images())
    with qtbot.waitSignal(state.message_posted) as message:
        changes = fit_network_to_dataset(state)
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


def test_the_input_follows_the_data_when_the_layers_change(qtbot):
    """File ▸ New on MNIST-like data, then a convolution stack dragged in: the input takes 1×28×28."""
    state = AppState({"input_shape": [784], "layers": [], "loss": "softmax_cross_entropy"})
    state.set_dataset(images())
    with qtbot.waitSignal(state.message_posted) as message:
        state.insert_layer(0, default_layer("Conv2D"))
    assert state.spec["input_shape"] == [1, 28, 28] and state.analysis.layers[0].output_shape == (16, 26, 26)
    assert message.args[0] == "Input shape set to 1×28×28 from the MNIST data."
    for index, name in enumerate(("ReLU", "MaxPool2D", "Flatten", "Dense", "ReLU", "Dense"), start=1):
        state.insert_layer(index, default_layer(name))
    state.set_layer_option(6, "units", 10)
    assert state.training_blocker() is None
    state.remove_layer(0)  # MaxPool2D first still needs images
    assert state.spec["input_shape"] == [1, 28, 28]
    for _ in range(3):
        state.remove_layer(0)  # now a Dense layer is first: the data flattened
    assert state.spec["input_shape"] == [784] and state.training_blocker() is None
    # An input shape the user sets is theirs (the blocker says why it does not fit).
    state.set_network_option("input_shape", [5])
    assert state.spec["input_shape"] == [5] and "input shape" in state.training_blocker()


def test_the_outputs_must_match_the_classes_exactly():
    state = AppState()
    state.set_dataset(make_toy("moons"))
    assert "2 classes" in state.training_blocker()  # 3 outputs for 2 classes: refused
    state.set_layer_option(4, "units", 1)
    state.set_network_option("loss", "mse")
    assert "2 classes" in state.training_blocker()  # 1 output: only under the sigmoid loss
    state.set_network_option("loss", "sigmoid_binary_cross_entropy")
    assert state.training_blocker() is None


def test_the_design_is_the_engines_experiment(qtbot, tmp_path):
    import json

    from dllab.experiment import read_experiment

    state = AppState()
    state.set_dataset(make_toy("spiral"))
    state.set_training_settings(optimizer="momentum", epochs=7, batch_size=16, seed=3)
    state.set_hyperparameter("momentum", 0.8)
    state.set_data_settings(val_fraction=0.25, subset=100, n_samples=300, train_dev_fraction=0.1)
    state.set_training_settings(human_error=0.02)
    experiment = state.experiment()
    assert experiment.network == state.spec and experiment.seed == 3
    assert experiment.training.human_error == 0.02 and experiment.data.train_dev_fraction == 0.1
    assert (experiment.data.dataset, experiment.data.val_fraction, experiment.data.n_samples) == (
        "spiral",
        0.25,
        300,
    )
    assert experiment.training == state.training_config()
    path = tmp_path / "design.json"
    path.write_text(state.design_json(), encoding="utf-8")
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["format"] == "dllab.design/1" and document["data"]["source"] == "spiral"
    assert document["training"]["optimizer_params"]["adam"]["lr"] == 0.01  # remembered, not chosen
    assert read_experiment(path) == experiment  # what `dllab train --config design.json` repeats
    other = AppState()
    other.set_training_settings(optimizer="adam")
    other.apply_document(document, "design.json")
    assert other.experiment() == experiment
    assert other.training.optimizer_params["adam"]["lr"] == 0.01


def test_a_run_config_restores_the_whole_experiment_and_asks_for_its_data(qtbot):
    from dllab.experiment import DataSettings, Experiment
    from dllab.trainer import TrainingConfig

    experiment = Experiment(
        {**CNN, "name": "Net"},
        DataSettings("shapes", val_fraction=0.2, subset=500, n_samples=600, normalization="standardize"),
        TrainingConfig(
            optimizer="rmsprop",
            lr=0.002,
            optimizer_options={"rho": 0.8},
            batch_size=64,
            epochs=3,
            max_steps=40,
            schedule="step",
            schedule_options={"step_size": 2, "gamma": 0.5},
            augment={"shift": 2},
        ),
        seed=5,
    )
    config = {**experiment.to_dict(), "format": "dllab.run/1", "versions": {}, "name": "20250101-Net"}
    config["data"].update(train_samples=400, class_names=["a"])
    state = AppState()
    state.set_dataset(make_toy("spiral"))
    with qtbot.waitSignal(state.data_reload_requested):
        state.apply_document(config, "config.json")
    d, t = state.data_settings, state.training
    assert (d.source, d.subset, d.n_samples, d.normalization, d.shift, d.seed) == (
        "shapes",
        500,
        600,
        "standardize",
        2,
        5,
    )
    assert (t.optimizer, t.lr, t.hyperparameters["rho"], t.batch_size, t.epochs, t.seed) == (
        "rmsprop",
        0.002,
        0.8,
        64,
        3,
        5,
    )
    assert t.schedule == "step" and t.schedule_params["step"] == {"step_size": 2, "gamma": 0.5}
    assert t.engine_settings == {"max_steps": 40}
    state.set_dataset(make_toy("spiral"))  # (the data panel would load the shapes now)
    state.load_network(experiment.network)
    restored = state.experiment()
    assert restored.training.max_steps == 40 and restored.data == experiment.data.__class__(
        **{**experiment.data.to_dict(), "split_seed": 5}
    )
    with pytest.raises(DllabError, match=r"config\.json") as error:
        state.apply_document({**config, "training": {"lr": "fast"}}, "config.json")
    assert "\n" not in str(error.value) and state.training.lr == 0.002  # nothing changed


def test_an_older_design_file_keeps_the_data_source_and_ignores_invalid_values(qtbot):
    state = AppState()
    state.set_dataset(make_toy("spiral"))
    document = {
        "format": "dllab.design/1",
        "network": DEFAULT_SPEC,
        "data": {"source": "mnist", "val_fraction": 0.3, "subset": -1, "shift": 2, "normalization": "whiten"},
        "training": {"optimizer": "sgd", "optimizer_params": {"sgd": {"lr": 0.3}}, "epochs": "many"},
    }
    with qtbot.assertNotEmitted(state.data_reload_requested):
        state.apply_document(document, "old.json")
    d = state.data_settings
    assert (d.source, d.val_fraction, d.subset, d.shift, d.normalization) == ("spiral", 0.3, None, 2, "scale")
    assert state.training.optimizer == "sgd" and state.training.lr == 0.3 and state.training.epochs == 50


def test_the_model_a_run_starts_from_is_a_training_setting_kept_with_the_design() -> None:
    from dllab.trainer import TrainingConfig
    from ui.state import TrainingSettings

    settings = TrainingSettings(init_from="/models/digits.dllab.npz")
    assert TrainingSettings.from_design(settings.to_design()).init_from == "/models/digits.dllab.npz"
    assert TrainingSettings.from_design({"init_from": ""}).init_from is None
    opened = TrainingSettings().with_config(TrainingConfig(init_from="/m.dllab.npz"), seed=1)
    assert opened.init_from == "/m.dllab.npz" and opened.engine_settings == {}
    state = AppState()
    state.set_training_settings(init_from="/m.dllab.npz")
    assert state.training_config().init_from == "/m.dllab.npz"
