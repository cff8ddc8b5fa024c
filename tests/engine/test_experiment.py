"""One experiment (network, data settings, training settings, seed) and one fit rule (how a network meets data)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dllab
from dllab.data import Dataset, make_toy
from dllab.errors import DllabError, SettingsError
from dllab.experiment import (
    EXPERIMENT_FORMAT,
    DataSettings,
    Experiment,
    read_experiment,
    read_network_document,
    training_config_from_choices,
)
from dllab.fit import fit_network
from dllab.runs import RunRecorder, open_run
from dllab.spec import DESIGN_FORMAT, SpecError
from dllab.trainer import Trainer, TrainingConfig

ROOT = Path(__file__).resolve().parents[2]
SPIRAL_MLP = json.loads((ROOT / "assets" / "networks" / "spiral_mlp.json").read_text(encoding="utf-8"))


def conv(input_shape: list[int], *first: dict[str, Any]) -> dict[str, Any]:
    return {
        "input_shape": input_shape,
        "layers": [
            *first,
            {"type": "Conv2D", "filters": 4, "kernel_size": 5},
            {"type": "ReLU"},
            {"type": "MaxPool2D"},
            {"type": "Flatten"},
            {"type": "Dense", "units": 10},
        ],
    }


def mlp(input_shape: list[int], outputs: int = 10, loss: str = "softmax_cross_entropy") -> dict[str, Any]:
    return {
        "input_shape": input_shape,
        "layers": [{"type": "Dense", "units": 8}, {"type": "ReLU"}, {"type": "Dense", "units": outputs}],
        "loss": loss,
    }


def images(shape: tuple[int, ...] = (1, 28, 28), classes: int = 10, n: int = 40) -> Dataset:
    rng = np.random.default_rng(0)
    return Dataset(
        name="digits",
        x_train=rng.integers(0, 255, (n, *shape), dtype=np.uint8),
        y_train=np.arange(n) % classes,
        x_test=rng.integers(0, 255, (10, *shape), dtype=np.uint8),
        y_test=np.arange(10) % classes,
        class_names=[str(i) for i in range(classes)],
    )


# --- the fit rule: input --------------------------------------------------------------------------------------


def test_a_conv_net_with_a_flat_input_takes_the_image_shape_and_says_so():
    fitted, note = fit_network(conv([784]), images())
    assert fitted["input_shape"] == [1, 28, 28]
    assert note == "input shape set to 1×28×28 from the data"
    dllab.build(fitted)  # it builds now


def test_a_first_layer_that_takes_any_shape_looks_at_the_next_one():
    fitted, note = fit_network(conv([784], {"type": "ReLU"}, {"type": "BatchNorm"}), images())
    assert fitted["input_shape"] == [1, 28, 28] and note


def test_an_mlp_keeps_its_flat_input_on_images_and_a_cnn_its_image_input():
    spec = mlp([784])
    assert fit_network(spec, images()) == (spec, None)
    assert fit_network(conv([1, 28, 28]), images())[1] is None
    # flat data holding as many values as an image: a CNN reshapes them (a CSV of MNIST)
    flat = Dataset(
        name="table",
        x_train=np.zeros((20, 784), np.float32),
        y_train=np.arange(20) % 10,
        x_test=np.zeros((10, 784), np.float32),
        y_test=np.arange(10) % 10,
        class_names=[str(i) for i in range(10)],
    )
    assert fit_network(conv([1, 28, 28]), flat)[1] is None


def test_a_dense_first_layer_takes_any_data_flattened():
    fitted, note = fit_network(mlp([2]), images())
    assert fitted["input_shape"] == [784] and note == "input shape set to 784 from the data"
    fitted, note = fit_network(mlp([784], outputs=3), make_toy("spiral"))
    assert fitted["input_shape"] == [2] and note == "input shape set to 2 from the data"
    colour = images((3, 8, 8))
    fitted, _ = fit_network(conv([1, 28, 28]), colour)
    assert fitted["input_shape"] == [3, 8, 8]  # an image input takes the data's images


def test_a_first_layer_that_cannot_take_the_data_is_one_spec_error_naming_both():
    with pytest.raises(SpecError) as error:
        fit_network(conv([1, 28, 28]), make_toy("spiral"))
    message = str(error.value)
    assert message.startswith("layer 0 (Conv2D): cannot take the spiral samples of shape 2")
    assert "expects images" in message and "\n" not in message
    # With adapt_outputs (the app), the input stays for the app to show why; the output still follows.
    fitted, note = fit_network(conv([1, 28, 28]), make_toy("spiral"), adapt_outputs=True)
    assert fitted["input_shape"] == [1, 28, 28] and note == "last Dense layer set to 3 units"


def test_a_spec_with_a_problem_of_its_own_is_left_for_the_builder():
    broken = {**mlp([2], outputs=3), "loss": "hinge"}
    fitted, note = fit_network(broken, make_toy("spiral"))
    assert (fitted, note) == (broken, None)
    with pytest.raises(SpecError, match="unknown loss"):
        dllab.build(fitted)
    fitted, note = fit_network({"input_shape": [5], "layers": []}, images())
    assert fitted["input_shape"] == [784]  # nothing to go by: the flat shape, as the spec had


# --- the fit rule: output -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "outputs", "loss", "ok"),
    [
        ("spiral", 3, "softmax_cross_entropy", True),
        ("spiral", 10, "softmax_cross_entropy", False),  # more outputs than classes: refused too
        ("spiral", 2, "softmax_cross_entropy", False),
        ("moons", 1, "sigmoid_binary_cross_entropy", True),  # two classes, one sigmoid output
        ("moons", 2, "sigmoid_binary_cross_entropy", True),
        ("moons", 1, "mse", False),
        ("regression", 1, "mse", True),
        ("regression", 3, "mse", False),
    ],
)
def test_the_outputs_must_match_the_classes_or_targets(data: str, outputs: int, loss: str, ok: bool):
    dataset = make_toy(data)
    spec = mlp([2] if data != "regression" else list(dataset.input_shape), outputs, loss)
    if ok:
        assert fit_network(spec, dataset) == (spec, None)
        return
    with pytest.raises(SpecError) as error:
        fit_network(spec, dataset)
    assert f"{outputs} outputs" in str(error.value)
    needed = dataset.num_outputs
    assert (f"{needed} classes" if data != "regression" else f"{needed} regression targets") in str(
        error.value
    )


def test_adapting_the_outputs_edits_the_last_dense_layer_and_the_loss():
    fitted, note = fit_network(mlp([2], outputs=7), make_toy("spiral"), adapt_outputs=True)
    assert fitted["layers"][-1]["units"] == 3 and note == "last Dense layer set to 3 units"
    fitted, note = fit_network(mlp([2], outputs=4), make_toy("regression"), adapt_outputs=True)
    assert fitted["loss"] == "mse" and fitted["layers"][-1]["units"] == 1
    assert note == "loss set to mean squared error; last Dense layer set to 1 units"
    fitted, _ = fit_network(
        mlp([2], 2, "sigmoid_binary_cross_entropy"), make_toy("moons"), adapt_outputs=True
    )
    assert fitted["layers"][-1]["units"] == 1


def test_prepared_data_is_fitted_by_the_shape_it_was_prepared_for():
    prepared = DataSettings("shapes", n_samples=100).prepare((784,))
    with pytest.raises(SpecError, match="cannot take the shapes samples of shape 784"):
        fit_network(conv([1, 28, 28]), prepared)
    model = dllab.build(conv([1, 28, 28]))
    with pytest.raises(
        SpecError, match="expects samples of shape 1×28×28 but the shapes samples have shape 784"
    ):
        Trainer(model, prepared)


# --- data settings ------------------------------------------------------------------------------------------


def test_data_settings_round_trip_and_know_the_apps_names():
    settings = DataSettings(
        "spiral", val_fraction=0.2, subset=100, n_samples=300, noise=0.1, n_classes=4, split_seed=5,
        augment={"shift": 2},
    )  # fmt: skip
    assert DataSettings.from_dict(json.loads(json.dumps(settings.to_dict()))) == settings
    assert settings.source == "spiral" and settings.shift == 2 and settings.rotation == 0.0
    assert settings.augment == {
        "shift": 2,
        "rotation": 0.0,
        "flip": False,
        "noise": 0.0,
        "image_shape": None,
        "fill": None,
    }
    changed = DataSettings.from_app_settings(
        {"source": "moons", "seed": 3, "flip": True, "augment_noise": 0.5}, settings
    )
    assert (changed.dataset, changed.generator_seed, changed.split_seed) == ("moons", 3, 3)
    assert changed.flip and changed.augment_noise == 0.5 and changed.shift == 2
    off = DataSettings.from_app_settings({"shift": 0, "flip": False, "augment_noise": 0.0}, changed)
    assert off.augment is None and not off.augmentation_enabled
    with pytest.raises(KeyError, match="colour"):
        DataSettings.from_app_settings({"colour": "red"}, settings)


def test_the_train_dev_split_and_the_dev_shift_round_trip_and_stay_out_when_off():
    settings = DataSettings(
        "mnist", val_fraction=0.1, train_dev_fraction=0.1, dev_shift="noise", shift_mix=0.3
    )
    document = json.loads(json.dumps(settings.to_dict()))
    assert (document["train_dev_fraction"], document["dev_shift"], document["shift_mix"]) == (
        0.1,
        "noise",
        0.3,
    )
    assert DataSettings.from_dict(document) == settings
    plain = DataSettings("mnist").to_dict()
    assert not {"train_dev_fraction", "dev_shift", "shift_mix"} & set(plain)  # a first-version document
    assert DataSettings.from_dict(plain) == DataSettings("mnist")


def test_a_run_record_beside_the_data_settings_is_read_past(tmp_path: Path):
    record = {"dataset": "spiral", "train_samples": 3, "class_names": ["a"], "input_shape": [2]}
    assert DataSettings.from_dict(record) == DataSettings("spiral")
    folder = tmp_path / "IDX"
    folder.mkdir()
    assert DataSettings(str(tmp_path / "IDX" / ".." / "IDX")).dataset == str(folder.resolve())


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"dataset": ""}, "data set must be a name or a path"),
        ({"dataset": 3}, "data set must be a name or a path"),
        ({"dataset": "spiral", "val_fraction": 1.0}, "val_fraction"),
        ({"dataset": "spiral", "val_fraction": "0.1"}, "val_fraction"),
        ({"dataset": "spiral", "subset": 0}, "subset"),
        ({"dataset": "spiral", "subset": True}, "subset"),
        ({"dataset": "spiral", "subset_mode": "middle"}, "subset mode"),
        ({"dataset": "spiral", "normalization": "whiten"}, "normalization"),
        ({"dataset": "spiral", "generator_seed": -1}, "generator seed"),
        ({"dataset": "spiral", "noise": math.inf}, "noise"),
        (
            {"dataset": "spiral", "n_samples": 10**12},
            "number of samples must be a whole number from 1 to 100000",
        ),
        ({"dataset": "spiral", "augment": {"zoom": 2}}, "unknown augmentation setting 'zoom'"),
        ({"dataset": "spiral", "augment": {"rotation": 200}}, "rotation"),
        ({"dataset": "spiral", "augment": {"flip": "yes"}}, "flip"),
        ({"dataset": "spiral", "augment": [1]}, "augmentation must be an object"),
        ({"dataset": "spiral", "colour": "red"}, "unknown data setting 'colour'"),
        ({"dataset": "spiral", "train_dev_fraction": -0.1}, "train_dev_fraction"),
        ({"dataset": "spiral", "val_fraction": 0.5, "train_dev_fraction": 0.5}, "leave no training samples"),
        (
            {"dataset": "spiral", "dev_shift": "blur"},
            "dev shift must be one of none, noise, rotation, invert",
        ),
        ({"dataset": "spiral", "shift_mix": 1.5}, "shift_mix"),
        ({"val_fraction": 0.1}, "which data set"),
        ([1], "must be an object"),
    ],
)
def test_bad_data_settings_are_one_settings_error(values: Any, message: str):
    with pytest.raises(SettingsError, match=message) as error:
        DataSettings.from_dict(values)
    assert "\n" not in str(error.value)


# --- the experiment -----------------------------------------------------------------------------------------


def test_an_experiment_round_trips_through_a_plain_dict():
    experiment = Experiment(
        SPIRAL_MLP,
        DataSettings("spiral", val_fraction=0.2),
        TrainingConfig(optimizer="momentum", optimizer_options={"momentum": 0.8}, max_steps=7, clip_norm=1.0),
        seed=4,
    )
    document = json.loads(json.dumps(experiment.to_dict()))
    assert document["format"] == EXPERIMENT_FORMAT == "dllab.experiment/1"
    assert set(document) == {"format", "network", "data", "training", "seed"}
    assert Experiment.from_dict(document) == experiment
    assert experiment.split_seed == 4
    assert Experiment(SPIRAL_MLP, DataSettings("spiral", split_seed=1)).split_seed == 1


def test_the_augmentation_is_one_setting_shared_by_data_and_training():
    from_training = Experiment(SPIRAL_MLP, DataSettings("shapes"), TrainingConfig(augment={"shift": 1}))
    assert from_training.data.shift == 1 and from_training.training.augment == from_training.data.augment
    from_data = Experiment(SPIRAL_MLP, DataSettings("shapes", augment={"rotation": 5}), TrainingConfig())
    assert from_data.training.augment == from_data.data.augment and from_data.data.rotation == 5


def test_prepare_loads_fits_and_prepares_in_one_call():
    experiment = Experiment(conv([784]), DataSettings("shapes", n_samples=200, subset=100), seed=2)
    fitted, prepared, note = experiment.prepare()
    assert note == "input shape set to 1×28×28 from the data"
    assert fitted.network["input_shape"] == [1, 28, 28] and experiment.network["input_shape"] == [784]
    assert prepared.input_shape == (1, 28, 28) and len(prepared.x_train) + len(prepared.x_val) == 100
    Trainer(dllab.build(fitted.network), prepared, fitted.training)  # what the rule guarantees holds
    again = experiment.prepare()[1]
    np.testing.assert_array_equal(again.x_train, prepared.x_train)  # the split follows the seed
    augmented = Experiment(SPIRAL_MLP, DataSettings("spiral", augment={"noise": 0.1}))
    with pytest.raises(SettingsError, match="augmentation works on images"):
        augmented.prepare()


def test_a_run_config_reads_back_as_the_experiment_it_ran(tmp_path: Path):
    experiment = Experiment(
        SPIRAL_MLP,
        DataSettings("spiral", val_fraction=0.25, n_samples=200, normalization="scale"),
        TrainingConfig(optimizer="adam", lr=0.02, batch_size=25, epochs=1),
        seed=6,
    )
    experiment, prepared, _ = experiment.prepare()
    model = dllab.build(experiment.network, seed=experiment.seed)
    recorder = RunRecorder(
        tmp_path / "run",
        model,
        data=prepared,
        config=experiment.training,
        data_settings=experiment.data,
        seed=6,
    )
    for event in Trainer(model, prepared, experiment.training).run():
        recorder.handle(event)
    config = open_run(tmp_path / "run").config
    assert config["format"] == "dllab.run/1"
    back = Experiment.from_dict(config, where="config.json")
    assert (back.data, back.training, back.seed) == (experiment.data, experiment.training, experiment.seed)
    assert back.network == model.spec
    assert read_experiment(tmp_path / "run") == back  # the run folder names its config
    assert read_network_document(tmp_path / "run" / "config.json")[0] == model.spec


def test_a_run_of_an_older_app_keeps_its_generated_set_options_apart():
    config = {
        "format": "dllab.run/1",
        "network": SPIRAL_MLP,
        "data": {
            "dataset": "spiral",
            "val_fraction": 0.1,
            "generator_seed": 0,
            "augment": None,
            "train_samples": 9,
        },
        "training": TrainingConfig().to_dict(),
        "seed": None,
        "data_options": {"n_samples": 300, "noise": 0.2, "n_classes": 3},
        "versions": {"dllab": "0.1.0"},
        "comparison": {"label": "adam"},
    }
    experiment = Experiment.from_dict(config)
    assert (experiment.data.n_samples, experiment.data.noise, experiment.data.n_classes) == (300, 0.2, 3)
    assert experiment.seed == 0


def test_an_older_design_file_of_the_app_reads_as_an_experiment(tmp_path: Path):
    design = {
        "format": DESIGN_FORMAT,
        "network": SPIRAL_MLP,
        "data": {
            "source": "moons",
            "val_fraction": 0.3,
            "subset": "bad",
            "shift": 2,
            "normalization": "scale",
        },
        "training": {
            "optimizer": "momentum",
            "optimizer_params": {
                "momentum": {"lr": 0.05, "momentum": 0.8, "weight_decay": None},
                "adam": {"lr": 1},
            },
            "schedule": "step",
            "schedule_params": {"step": {"step_size": 3, "gamma": None}},
            "batch_size": 16,
            "epochs": 4,
            "seed": 7,
        },
    }
    path = tmp_path / "design.json"
    path.write_text(json.dumps(design), encoding="utf-8")
    experiment = read_experiment(path)
    assert experiment.data.dataset == "moons" and experiment.data.val_fraction == 0.3
    assert experiment.data.subset is None and experiment.data.shift == 2  # what is invalid is left out
    training = experiment.training
    assert (training.optimizer, training.lr, training.optimizer_options) == (
        "momentum",
        0.05,
        {"momentum": 0.8},
    )
    assert (training.schedule, training.schedule_options) == ("step", {"step_size": 3})
    assert (training.batch_size, training.epochs, training.seed, experiment.seed) == (16, 4, 7, 7)


def test_training_settings_from_an_optimizers_hyperparameters():
    config = training_config_from_choices(
        "adam", {"lr": 0.01, "beta1": 0.8, "weight_decay": 0.1, "clip_norm": None}
    )
    assert (config.lr, config.weight_decay, config.clip_norm) == (0.01, 0.1, None)
    assert config.optimizer_options == {"beta1": 0.8}
    assert training_config_from_choices("sgd", {}).lr == dllab.optimizers.get("sgd").lr


@pytest.mark.parametrize(
    ("document", "error", "message"),
    [
        ([1], SettingsError, "must hold a JSON object"),
        ({"format": "dllab.experiment/2", "network": {}}, SettingsError, "newer experiment"),
        ({"format": "dllab.model/1"}, SettingsError, "not a dllab experiment"),
        ({"input_shape": [2], "layers": []}, SettingsError, "is a network, not an experiment"),
        ({"format": EXPERIMENT_FORMAT, "data": {"dataset": "spiral"}}, SpecError, "holds no network"),
        (
            {"format": EXPERIMENT_FORMAT, "network": {}, "data": {"dataset": "spiral"}, "seed": 1.5},
            SettingsError,
            "seed",
        ),
        (
            {"format": EXPERIMENT_FORMAT, "network": {}, "data": {"dataset": "spiral"}, "training": []},
            SettingsError,
            "training settings must be an object",
        ),
        (
            {
                "format": EXPERIMENT_FORMAT,
                "network": {},
                "data": {"dataset": "spiral"},
                "training": {"epochz": 1},
            },
            SettingsError,
            "unknown training setting",
        ),
        (
            {"format": EXPERIMENT_FORMAT, "network": {}, "data": None},
            SettingsError,
            "data settings must be an object",
        ),
    ],
)
def test_a_bad_document_is_one_sentence_naming_it(document: Any, error: type[Exception], message: str):
    with pytest.raises(error, match=message) as raised:
        Experiment.from_dict(document, where="exp.json")
    assert "exp.json" in str(raised.value) and "\n" not in str(raised.value)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
SECTIONS = st.fixed_dictionaries(
    {
        "format": st.sampled_from([EXPERIMENT_FORMAT, "dllab.run/1", DESIGN_FORMAT]),
        "network": st.just(SPIRAL_MLP),
    },
    optional={
        "data": JSON_VALUES
        | st.dictionaries(st.sampled_from(list(DataSettings("x").to_dict())), JSON_VALUES),
        "training": JSON_VALUES
        | st.dictionaries(st.sampled_from(list(TrainingConfig().to_dict())), JSON_VALUES, max_size=4),
        "seed": JSON_VALUES,
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SECTIONS)
def test_any_document_is_an_experiment_or_one_error_of_the_family(document: dict[str, Any]):
    try:
        experiment = Experiment.from_dict(document, where="any.json")
    except DllabError as exc:
        assert "\n" not in str(exc)
        return
    assert Experiment.from_dict(json.loads(json.dumps(experiment.to_dict()))) == experiment


def test_excluded_test_samples_leave_the_test_evaluation_and_round_trip(mnist_dir: Path):
    whole = DataSettings(str(mnist_dir), subset=500, normalization="scale")
    cleaned = DataSettings(str(mnist_dir), subset=500, normalization="scale", excluded_test=[9_999, 3, 3, 0])
    assert cleaned.excluded_test == (0, 3, 9_999)
    assert "excluded_test" not in whole.to_dict()  # older readers see the same document as before
    assert cleaned.to_dict()["excluded_test"] == [0, 3, 9_999]
    assert DataSettings.from_dict(cleaned.to_dict()) == cleaned
    a, b = whole.prepare((784,)), cleaned.prepare((784,))
    assert len(a.x_test) == 10_000 and len(b.x_test) == 9_997
    keep = np.setdiff1d(np.arange(10_000), [0, 3, 9_999])
    np.testing.assert_array_equal(b.x_test, a.x_test[keep])
    np.testing.assert_array_equal(b.y_test, a.y_test[keep])
    np.testing.assert_array_equal(b.x_train, a.x_train)  # training is untouched
    with pytest.raises(SettingsError, match="excluded test sample 10000 is not one of the 10,000"):
        DataSettings(str(mnist_dir), excluded_test=[10_000]).prepare((784,))
    for bad in ("12", [-1], [1.5], 7):
        with pytest.raises(SettingsError, match="excluded test sample"):
            DataSettings("spiral", excluded_test=bad)
