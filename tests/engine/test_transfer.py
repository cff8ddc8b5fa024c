"""Frozen layers and starting a network from a trained model (dllab.transfer)."""

from __future__ import annotations

import numpy as np
import pytest

import dllab
from dllab.data import load_dataset, prepare
from dllab.errors import SettingsError
from dllab.gradcheck import gradcheck
from dllab.spec import SpecError, analyze
from dllab.trainer import Finished, Trainer, TrainingConfig
from dllab.transfer import build_started, freeze_layers, init_from

CONV = {
    "input_shape": [1, 8, 8],
    "layers": [
        {"type": "Conv2D", "filters": 3, "kernel_size": 3},
        {"type": "BatchNorm"},
        {"type": "ReLU"},
        {"type": "Conv2D", "filters": 2, "kernel_size": 3},
        {"type": "Flatten"},
        {"type": "Dense", "units": 6},
        {"type": "BatchNorm"},
        {"type": "Tanh"},
        {"type": "Dense", "units": 3},
    ],
}

MLP = {
    "input_shape": [2],
    "layers": [
        {"type": "Dense", "units": 16},
        {"type": "BatchNorm"},
        {"type": "ReLU"},
        {"type": "Dense", "units": 16},
        {"type": "ReLU"},
        {"type": "Dense", "units": 3, "name": "head"},
    ],
}


def _train(model: dllab.Sequential, epochs: int = 3) -> Finished:
    data = prepare(load_dataset("spiral", n_samples=300), val_fraction=0.0)
    config = TrainingConfig(optimizer="adam", lr=0.01, batch_size=30, epochs=epochs, stats_every=0)
    last = None
    for event in Trainer(model, data, config).run():
        last = event
    assert isinstance(last, Finished)
    return last


def test_frozen_layers_are_bit_identical_after_training_while_the_others_change() -> None:
    model = dllab.build(freeze_layers(MLP, ["dense_1", "batchnorm_1"]), seed=0)
    before = model.get_weights()
    _train(model)
    after = model.get_weights()
    for key in ("dense_1.W", "dense_1.b", "batchnorm_1.gamma", "batchnorm_1.beta"):
        assert np.array_equal(before[key], after[key]), key
    for key in ("dense_2.W", "dense_2.b", "head.W", "head.b"):
        assert not np.array_equal(before[key], after[key]), key


def test_a_frozen_batchnorm_keeps_and_uses_its_running_statistics() -> None:
    model = dllab.build(freeze_layers(MLP, ["batchnorm_1"]), seed=0)
    bn = model.layers[1]
    bn.state["mean"][...] = 0.5
    bn.state["var"][...] = 2.0
    _train(model, epochs=2)
    assert np.all(bn.state["mean"] == np.float32(0.5)) and np.all(bn.state["var"] == np.float32(2.0))
    x = np.random.default_rng(0).normal(size=(5, 16)).astype(np.float32)
    assert np.array_equal(bn.forward(x, training=True), bn.forward(x, training=False))
    # Unfrozen, the same layer learns its statistics from the batches.
    trainable = dllab.build(MLP, seed=0)
    trainable.layers[1].state["mean"][...] = 0.5
    _train(trainable, epochs=1)
    assert not np.all(trainable.layers[1].state["mean"] == np.float32(0.5))


def test_frozen_parameters_are_absent_from_the_gradients_and_the_backward_pass_ends_early() -> None:
    model = dllab.build(freeze_layers(CONV, ["conv2d_1", "batchnorm_1"]), seed=0, dtype=np.float64)
    x = np.random.default_rng(1).normal(size=(4, 1, 8, 8))
    _, grads = model.loss_and_grads(x, np.array([0, 1, 2, 0]))
    assert set(grads) == set(model.trainable_params)
    assert not any(key.startswith(("conv2d_1.", "batchnorm_1.")) for key in grads)
    # Nothing before conv2d_2 (the first learning layer) computes an input gradient, conv2d_2 neither.
    assert [layer.needs_input_grad for layer in model.layers[:4]] == [False] * 4
    assert all(layer.needs_input_grad for layer in model.layers[4:])


@pytest.mark.parametrize("frozen", [["conv2d_1"], ["batchnorm_1", "dense_1"], ["conv2d_2", "batchnorm_2"]])
def test_gradients_pass_the_check_with_frozen_layers(frozen: list[str]) -> None:
    """Frozen parameters are not checked (they have no gradient); the gradient flowing through a frozen layer
    (a frozen BatchNorm or Dense between learning layers) to the layers before it is."""
    model = dllab.build(freeze_layers(CONV, frozen), seed=0, dtype=np.float64)
    result = gradcheck(model, max_checks=None, batch_size=5)
    assert set(result.errors) == set(model.trainable_params)
    assert max(result.errors.values()) < 1e-6, result.errors


def test_a_network_of_frozen_layers_only_has_nothing_to_check() -> None:
    model = dllab.build(freeze_layers(MLP, ["dense_1", "batchnorm_1", "dense_2", "head"]), dtype=np.float64)
    with pytest.raises(SettingsError, match="no trainable parameters"):
        gradcheck(model)


def test_trainable_is_a_layer_setting_of_the_spec() -> None:
    spec = freeze_layers(MLP, ["dense_2"])
    assert spec["layers"][3]["trainable"] is False and "trainable" not in spec["layers"][0]
    assert dllab.build(spec).spec == spec  # the canonical spec keeps it
    assert freeze_layers(spec, ["dense_2"], trainable=True)["layers"][3].get("trainable", True) is True
    analysis = analyze(spec)
    assert [info.trainable for info in analysis.layers] == [True, True, True, False, True, True]
    assert analysis.frozen_param_count == 16 * 16 + 16
    with pytest.raises(SpecError, match="trainable must be true or false"):
        dllab.build({**MLP, "layers": [{"type": "Dense", "units": 3, "trainable": "no"}]})
    with pytest.raises(SpecError, match="no parameters to freeze"):
        dllab.build({**MLP, "layers": [{"type": "Dense", "units": 3}, {"type": "ReLU", "trainable": False}]})
    with pytest.raises(SettingsError, match=r"'dense_9'.*no layer of that name"):
        freeze_layers(MLP, ["dense_9"])
    with pytest.raises(SettingsError, match="ReLU layer has no weights"):
        freeze_layers(MLP, ["relu_1"])


def test_the_summary_shows_trainable_and_frozen_counts() -> None:
    model = dllab.build(freeze_layers(MLP, ["dense_2"]))
    summary = model.summary()
    assert "272 frozen" in summary
    frozen = 16 * 16 + 16
    assert f"Trainable: {model.param_count - frozen:,}  Frozen: {frozen:,}" in summary
    assert "Frozen" not in dllab.build(MLP).summary()


def test_init_from_copies_exactly_the_layers_of_matching_names_and_shapes(tmp_path) -> None:
    source = dllab.build(MLP, seed=1)
    source.layers[1].state["mean"][...] = 0.25  # running statistics travel with the layer
    path = dllab.save(source, tmp_path / "source")
    target_spec = {
        **MLP,
        "layers": [
            *MLP["layers"][:3],
            {"type": "Dense", "units": 8},  # dense_2: same name, another shape
            {"type": "ReLU"},
            {"type": "Dense", "units": 5, "name": "head"},  # another number of classes
        ],
    }
    fresh = dllab.build(target_spec, seed=2)
    model, report = build_started(freeze_layers(target_spec, ["dense_1"]), seed=2, source=path)
    assert report is not None
    assert report.copied == ["dense_1", "batchnorm_1"]
    assert report.new == ["dense_2", "head"]
    assert report.frozen == ["dense_1"]
    assert report.lines() == ["copied: dense_1, batchnorm_1", "frozen: dense_1", "new: dense_2, head"]
    weights, original, start = model.get_weights(), source.get_weights(), fresh.get_weights()
    for key in ("dense_1.W", "dense_1.b", "batchnorm_1.gamma", "batchnorm_1.mean", "batchnorm_1.var"):
        assert np.array_equal(weights[key], original[key]), key
    for key in ("dense_2.W", "head.W", "head.b"):
        assert np.array_equal(weights[key], start[key]), key  # reinitialised as a fresh build would
    assert np.all(weights["batchnorm_1.mean"] == 0.25)


def test_init_from_a_model_of_another_dtype_converts_the_values() -> None:
    source = dllab.build(MLP, seed=3, dtype=np.float64)
    model = dllab.build(MLP, seed=4)
    report = init_from(model, source)
    assert report.new == [] and len(report.copied) == 4
    assert model.params["dense_1.W"].dtype == np.float32
    np.testing.assert_allclose(model.params["dense_1.W"], source.params["dense_1.W"], rtol=1e-6)
