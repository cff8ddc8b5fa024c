"""One unit for one sample: A = XW + B with the real numbers, and the gradient that flows back to it, checked
against numerical differences of the loss."""

from __future__ import annotations

import numpy as np
import pytest

import dllab
from dllab.numerical import numerical_diff
from dllab.unit_inspection import design_problem, inspect_unit, receptive_field, unit_layers, unit_problem

CONV = {
    "input_shape": [1, 12, 12],
    "layers": [
        {"type": "Conv2D", "filters": 3, "kernel_size": 3, "padding": 1},
        {"type": "BatchNorm"},
        {"type": "Tanh"},
        {"type": "MaxPool2D"},
        {"type": "Conv2D", "filters": 2, "kernel_size": 3, "stride": 2},
        {"type": "ReLU"},
        {"type": "Flatten"},
        {"type": "Dense", "units": 6},
        {"type": "Sigmoid"},
        {"type": "Dropout", "rate": 0.3, "scaling": "book"},
        {"type": "Dense", "units": 4},
    ],
}


@pytest.fixture
def model() -> dllab.Sequential:
    model = dllab.build(CONV, seed=3, dtype=np.float64)
    rng = np.random.default_rng(0)
    for value in model.params.values():  # weights that make every unit do something
        value[...] = rng.normal(0, 0.6, value.shape)
    model.state["batchnorm_1.mean"][...] = rng.normal(0, 0.2, 3)
    model.state["batchnorm_1.var"][...] = rng.uniform(0.5, 2.0, 3)
    return model


@pytest.fixture
def sample() -> np.ndarray:
    return np.random.default_rng(1).normal(0, 1, (1, 1, 12, 12))


def _loss_with_output(
    model: dllab.Sequential, x: np.ndarray, label: int, index: int, unit, change: float
) -> float:
    """The loss of ``x`` when layer ``index``'s output at ``unit`` is moved by ``change``: an independent forward
    pass, layer by layer, in inference mode."""
    h = x
    for k, layer in enumerate(model.layers):
        h = layer.forward(h, False)
        if k == index:
            h = h.copy()
            h[(0, *unit)] += change
    return model.loss.forward(h, np.array([label]))


def test_a_dense_unit_is_its_weighted_sum_and_the_book_scaled_dropout_after_it(model, sample) -> None:
    found = inspect_unit(model, sample, 2, 7, (4,))
    layer_input = model.activations(sample)[6][0]
    np.testing.assert_allclose(found.inputs, layer_input)
    np.testing.assert_allclose(found.weights, model.params["dense_1.W"][:, 4])
    assert found.bias == model.params["dense_1.b"][4]
    assert found.weighted_sum == pytest.approx(found.inputs @ found.weights + found.bias, rel=1e-12)
    assert found.terms().sum() + found.bias == pytest.approx(found.weighted_sum, rel=1e-12)
    assert [step.type_name for step in found.after] == ["Sigmoid", "Dropout"]
    sigmoid = 1 / (1 + np.exp(-found.weighted_sum))
    assert found.after[0].value == pytest.approx(sigmoid)
    assert found.output == pytest.approx(0.7 * sigmoid)  # the book's dropout scales at inference
    assert found.receptive_field is None and found.label == 2
    assert found.probabilities.sum() == pytest.approx(1.0)


def test_the_gradient_to_a_dense_unit_and_its_weights_matches_numerical_differences(model, sample) -> None:
    found = inspect_unit(model, sample, 2, 7, (4,))
    numeric = numerical_diff(lambda c: _loss_with_output(model, sample, 2, 7, (4,), c), 0.0, 1e-6)
    assert found.sum_gradient == pytest.approx(numeric, rel=1e-6, abs=1e-10)
    assert found.sum_gradient != 0
    w = model.params["dense_1.W"]
    for i in (0, 5, 7):

        def loss_with_weight(c: float, i: int = i) -> float:
            original = w[i, 4]
            w[i, 4] = original + c
            try:
                return model.evaluate_loss(sample, np.array([2]))
            finally:
                w[i, 4] = original

        assert found.weight_gradients[i] == pytest.approx(
            numerical_diff(loss_with_weight, 0.0, 1e-6), rel=1e-5
        )
    numeric = numerical_diff(lambda c: _loss_with_output(model, sample, 2, 8, (4,), c), 0.0, 1e-6)
    assert found.after[0].gradient == pytest.approx(numeric, rel=1e-6)  # after the sigmoid


@pytest.mark.parametrize(("index", "unit"), [(0, (1, 0, 5)), (0, (2, 11, 11)), (4, (1, 1, 0))])
def test_a_convolution_unit_is_its_window_and_its_gradient_matches_numerical_differences(
    model, sample, index, unit
) -> None:
    found = inspect_unit(model, sample, 1, index, unit)
    assert found.inputs.shape == found.weights.shape == model.layers[index].params["W"].shape[1:]
    assert found.terms().sum() + found.bias == pytest.approx(found.weighted_sum, rel=1e-10)
    assert found.weighted_sum == pytest.approx(model.activations(sample)[index][(0, *unit)], rel=1e-10)
    numeric = numerical_diff(lambda c: _loss_with_output(model, sample, 1, index, unit, c), 0.0, 1e-6)
    assert found.sum_gradient == pytest.approx(numeric, rel=1e-5, abs=1e-10)
    last = index + len(found.after)
    numeric = numerical_diff(lambda c: _loss_with_output(model, sample, 1, last, unit, c), 0.0, 1e-6)
    assert found.output_gradient == pytest.approx(numeric, rel=1e-5, abs=1e-10)
    np.testing.assert_allclose(found.weight_gradients, found.inputs * found.sum_gradient)


def test_padding_reaches_a_corner_units_window_as_zeros(model, sample) -> None:
    found = inspect_unit(model, sample, 1, 0, (0, 0, 0))
    assert found.window == (-1, -1)
    assert not found.inputs[0, 0, :].any() and not found.inputs[0, :, 0].any()
    np.testing.assert_allclose(found.inputs[0, 1:, 1:], sample[0, 0, :2, :2])
    assert found.receptive_field == (0, 2, 0, 2)


def test_the_receptive_field_is_the_part_of_the_input_the_unit_depends_on(model, sample) -> None:
    index, unit = 4, (0, 1, 1)
    field = receptive_field(model, index, 1, 1)
    assert field == (3, 11, 3, 11)  # conv 3 stride 2 (rows 2-4), pool 2 (4-9), conv 3 pad 1: rows 3-10
    top, bottom, left, right = field
    base = model.activations(sample)[index][(0, *unit)]
    outside = sample.copy()
    outside[0, 0, :top] += 5
    outside[0, 0, bottom:] *= -3
    outside[0, 0, :, :left] -= 5
    assert model.activations(outside)[index][(0, *unit)] == pytest.approx(base, rel=1e-12)
    inside = sample.copy()
    inside[0, 0, top:bottom, left:right] += 5
    assert model.activations(inside)[index][(0, *unit)] != pytest.approx(base)
    assert inspect_unit(model, sample, 0, index, unit).receptive_field == field


def test_without_a_label_the_predicted_class_is_the_target(model, sample) -> None:
    found = inspect_unit(model, sample, None, 10, (0,))
    assert found.label == int(np.argmax(model.predict(sample)[0]))
    assert found.loss == pytest.approx(-np.log(found.probabilities[found.label]))


def test_what_cannot_be_inspected_is_said_in_one_sentence(model) -> None:
    assert unit_layers(model) == [0, 4, 7, 10]
    assert "train the network or open a model" in unit_problem(None, 0, (0,))
    assert "no weights of its own" in unit_problem(model, 2, (0, 0, 0))
    assert "no unit" in unit_problem(model, 7, (6,))
    assert unit_problem(model, 7, (5,)) is None
    with pytest.raises(ValueError, match="no unit"):
        inspect_unit(model, np.zeros((1, 1, 12, 12)), 0, 0, (3, 0, 0))
    assert design_problem(model, model.spec) is None
    changed = {**CONV, "layers": [*CONV["layers"][:-1], {"type": "Dense", "units": 5}]}
    assert "not the model's" in design_problem(model, changed)


def test_the_model_is_left_as_it_was(model, sample) -> None:
    before = model.get_weights()
    inspect_unit(model, sample, 1, 0, (0, 3, 3))
    for key, value in model.get_weights().items():
        np.testing.assert_array_equal(value, before[key])


@pytest.mark.parametrize(
    ("loss", "label"), [("mse", np.array([0.3, -1.2])), ("sigmoid_binary_cross_entropy", 1)]
)
def test_other_losses_give_the_gradient_of_their_own_loss(loss, label) -> None:
    spec = {
        "input_shape": [3],
        "layers": [
            {"type": "Dense", "units": 4},
            {"type": "ELU"},
            {"type": "Dense", "units": 2 if loss == "mse" else 1},
        ],
        "loss": loss,
    }
    model = dllab.build(spec, seed=5, dtype=np.float64)
    x = np.array([[0.4, -1.0, 2.0]])
    found = inspect_unit(model, x, label, 0, (2,))
    target = label[None] if loss == "mse" else np.array([label])

    def loss_with_output(c: float) -> float:
        h = model.layers[0].forward(x, False).copy()
        h[0, 2] += c
        for layer in model.layers[1:]:
            h = layer.forward(h, False)
        return model.loss.forward(h, target)

    assert found.sum_gradient == pytest.approx(numerical_diff(loss_with_output, 0.0, 1e-6), rel=1e-6)
    assert found.sum_gradient != 0
    if loss == "mse":
        with pytest.raises(ValueError, match="needs its target"):
            inspect_unit(model, x, None, 0, (2,))
