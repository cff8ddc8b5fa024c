"""Gradient checks of whole networks (float64, centred differences, relative error below 1e-6) for every
parametric and structural layer in context, strided and padded convolution, pooling and deep stacks; the
input gradient through a whole network; and the behaviour of ``dllab.gradcheck`` itself, including that it
catches wrong gradients."""

import numpy as np
import pytest

import dllab
from dllab.gradcheck import MAX_BATCH_SIZE, GradcheckResult
from dllab.spec import read_spec
from tests.conftest import PROJECT_ROOT
from tests.engine.numerical import numerical_gradient, relative_error
from tests.engine.user_errors import LONG, assert_settings_error

TOL = 1e-6


def conv(filters=3, kernel_size=3, **options):
    return {"type": "Conv2D", "filters": filters, "kernel_size": kernel_size, **options}


def dense(units, **options):
    return {"type": "Dense", "units": units, **options}


def image_net(*layers, input_shape=(2, 7, 7), loss="softmax_cross_entropy", units=3):
    return {
        "input_shape": list(input_shape),
        "layers": [*layers, {"type": "Flatten"}, dense(units)],
        "loss": loss,
    }


def assert_gradcheck(spec, **kwargs):
    result = dllab.gradcheck(spec, **kwargs)
    model = dllab.build(spec)
    assert set(result.errors) == set(model.params)
    assert result.passed(TOL), result.report()
    return result


# --- every layer type in context (its input gradient feeds a parametric layer before it) ----------------------

CONTEXT_CASES = {
    "Dense": {
        "input_shape": [5],
        "layers": [dense(6), {"type": "Tanh"}, dense(4), {"type": "Tanh"}, dense(3)],
    },
    "Conv2D": image_net(conv(2, padding=1), {"type": "Tanh"}, conv(3)),
    "MaxPool2D": image_net(conv(3, padding=1), {"type": "MaxPool2D"}),
    "AvgPool2D": image_net(conv(3, padding=1), {"type": "AvgPool2D"}),
    "Flatten": image_net(conv(2)),
    "BatchNorm after Dense": {
        "input_shape": [5],
        "layers": [dense(6), {"type": "BatchNorm"}, {"type": "Tanh"}, dense(3)],
    },
    "BatchNorm after Conv2D": image_net(conv(3), {"type": "BatchNorm"}, {"type": "ReLU"}),
    "Dropout": {"input_shape": [5], "layers": [dense(8), {"type": "Dropout", "rate": 0.5}, dense(3)]},
    "Dropout on images": image_net(conv(2), {"type": "Dropout", "rate": 0.3}, conv(2)),
}


@pytest.mark.parametrize("spec", CONTEXT_CASES.values(), ids=CONTEXT_CASES.keys())
def test_every_layer_in_a_network(spec):
    assert_gradcheck(spec, batch_size=4, max_checks=30)


def test_bias_before_batchnorm_has_zero_gradient_and_counts_as_exact():
    spec = CONTEXT_CASES["BatchNorm after Dense"]
    result = assert_gradcheck(spec, batch_size=4, max_checks=None)
    assert result.errors["dense_1.b"] == 0.0
    model = dllab.build(spec, dtype=np.float64)
    _, grads = model.loss_and_grads(np.random.default_rng(0).normal(size=(4, 5)), np.array([0, 1, 2, 0]))
    assert np.abs(grads["dense_1.b"]).max() < 1e-15


# --- convolution and pooling geometry -------------------------------------------------------------------------

CONV_CASES = {
    "same odd kernel": conv(3, 3, padding="same"),
    "same even kernel": conv(3, 4, padding="same"),
    "same even kernel stride 2": conv(2, 2, stride=2, padding="same"),
    "stride 2": conv(3, 3, stride=2),
    "stride 2 same": conv(3, 3, stride=2, padding="same"),
    "padding 2": conv(2, 3, padding=2),
    "kernel 3x2 stride 2x1": conv(3, [3, 2], stride=[2, 1], padding=1),
    "kernel 2x3 stride 1x2": conv(2, [2, 3], stride=[1, 2]),
    "stride larger than kernel": conv(2, 2, stride=3),
    "1x1 kernel": conv(3, 1),
    "kernel as large as the input": conv(2, 7),
}


@pytest.mark.parametrize("layer", CONV_CASES.values(), ids=CONV_CASES.keys())
def test_strided_and_padded_convolution(layer):
    # A convolution before the one under test checks its input gradient as well.
    assert_gradcheck(
        image_net(conv(2, 2, padding="same"), layer, {"type": "Tanh"}), batch_size=3, max_checks=25
    )


@pytest.mark.parametrize("block_bytes", [1, 500])  # one window position a block; a few
def test_convolution_in_small_blocks(monkeypatch, block_bytes):
    # The blocks of patches (dllab.convolution.BLOCK_BYTES) split rows and gather several rows at a time, as
    # the book's networks do at full size, here on small images.
    from dllab import convolution

    monkeypatch.setattr(convolution, "BLOCK_BYTES", block_bytes)
    assert_gradcheck(
        image_net(conv(2, 2, padding="same"), conv(3, 3, padding=1), {"type": "Tanh"}, conv(2, 3, padding=2)),
        batch_size=3,
        max_checks=25,
    )


POOL_CASES = {
    "2x2 stride 2": {"pool_size": 2, "stride": 2},
    "overlapping 3 stride 2": {"pool_size": 3, "stride": 2},
    "overlapping padded": {"pool_size": 3, "stride": 2, "padding": 1},
    "stride 1 padded": {"pool_size": 2, "stride": 1, "padding": 1},
    "same": {"pool_size": 2, "stride": 2, "padding": "same"},
    "non-square": {"pool_size": [3, 2], "stride": [2, 1]},
}


@pytest.mark.parametrize("pool_type", ["MaxPool2D", "AvgPool2D"])
@pytest.mark.parametrize("options", POOL_CASES.values(), ids=POOL_CASES.keys())
def test_pooling(pool_type, options):
    assert_gradcheck(
        image_net(conv(3, 3, padding=1), {"type": pool_type, **options}), batch_size=3, max_checks=25
    )


# --- deep stacks ----------------------------------------------------------------------------------------------

DEEP_CONV = {
    "input_shape": [2, 9, 9],
    "layers": [
        conv(4, 3, padding="same"),
        {"type": "ReLU"},
        conv(4, 3, stride=2, padding=1),
        {"type": "BatchNorm"},
        {"type": "LeakyReLU"},
        {"type": "MaxPool2D", "pool_size": 3, "stride": 2, "padding": 1},
        conv(5, [2, 3], stride=[1, 2], padding=1),
        {"type": "ELU"},
        conv(4, 2, padding="same"),
        {"type": "GELU"},
        conv(4, 3, padding=1),
        {"type": "AvgPool2D", "pool_size": 2, "stride": 1},
        conv(3, 1),
        {"type": "Tanh"},
        {"type": "Flatten"},
        dense(8),
        {"type": "Sigmoid"},
        {"type": "Dropout", "rate": 0.25},
        dense(4),
    ],
}

DEEP_MLP = {
    "input_shape": [6],
    "layers": [
        layer
        for i, activation in enumerate(["ReLU", "Tanh", "ELU", "GELU", "LeakyReLU", "Sigmoid", "ReLU"])
        for layer in (dense(7 + i % 3), {"type": "BatchNorm"}, {"type": activation})
    ]
    + [dense(3)],
}


def test_six_convolution_network():
    model = dllab.build(DEEP_CONV)
    assert sum(layer.type_name == "Conv2D" for layer in model.layers) == 6
    assert len(model.layers) == 19
    assert_gradcheck(DEEP_CONV, batch_size=3, max_checks=15)


def test_eight_layer_mlp_with_batchnorm():
    model = dllab.build(DEEP_MLP)
    assert sum(layer.type_name == "Dense" for layer in model.layers) == 8
    assert sum(layer.type_name == "BatchNorm" for layer in model.layers) == 7
    assert_gradcheck(DEEP_MLP, batch_size=5, max_checks=20)


@pytest.mark.parametrize("loss", ["sigmoid_binary_cross_entropy", "mse"])
def test_deep_network_with_other_losses(loss):
    assert_gradcheck(dict(DEEP_MLP, loss=loss), batch_size=4, max_checks=10)


def test_the_example_networks_with_batchnorm_and_dropout():
    assert_gradcheck(
        PROJECT_ROOT / "assets" / "networks" / "multi_layer_net_extend.json", batch_size=3, max_checks=8
    )


# --- the input gradient through a whole network ------------------------------------------------------------


def input_gradient_error(spec, x, t):
    """Backpropagate all the way to the input and compare with numerical differences of the loss in x."""
    model = dllab.build(spec, seed=1, dtype=np.float64)
    for layer in model.layers:  # the model skips input gradients before its first learning layer
        layer.needs_input_grad = True
    rng_state = model.rng.bit_generator.state
    model.loss.forward(model.forward(x, training=True), t)
    dx = model.loss.backward()
    for layer in reversed(model.layers):
        dx = layer.backward(dx)

    def loss() -> float:
        model.rng.bit_generator.state = rng_state
        return model.loss.forward(model.forward(x, training=True), t)

    return relative_error(dx.reshape(x.shape), numerical_gradient(loss, x))


INPUT_CASES = {
    "conv net": (DEEP_CONV, (3, 2, 9, 9)),
    "mlp with batchnorm": (DEEP_MLP, (5, 6)),
    "leading activation": (
        {"input_shape": [4], "layers": [{"type": "Tanh"}, dense(5), {"type": "ReLU"}, dense(3)]},
        (4, 4),
    ),
    "leading flatten": (
        {
            "input_shape": [1, 3, 3],
            "layers": [{"type": "Flatten"}, dense(5), {"type": "BatchNorm"}, dense(3)],
        },
        (4, 1, 3, 3),
    ),
    "leading pooling": (
        image_net({"type": "MaxPool2D", "pool_size": 3, "stride": 2}, conv(2, 2)),
        (2, 2, 7, 7),
    ),
    "leading dropout": ({"input_shape": [6], "layers": [{"type": "Dropout"}, dense(3)]}, (4, 6)),
}


@pytest.mark.parametrize(("spec", "shape"), INPUT_CASES.values(), ids=INPUT_CASES.keys())
def test_input_gradient_of_a_whole_network(spec, shape):
    rng = np.random.default_rng(2)
    x = rng.normal(size=shape)
    t = rng.integers(0, 3, size=shape[0])
    assert input_gradient_error(spec, x, t) < TOL


# --- dllab.gradcheck itself ---------------------------------------------------------------------------------

SMALL = {"input_shape": [4], "layers": [dense(5), {"type": "ReLU"}, dense(3)]}


def test_gradcheck_needs_a_float64_model():
    with pytest.raises(ValueError, match=r"gradient checks need a float64 model .* got float32"):
        dllab.gradcheck(dllab.build(SMALL))


def test_gradcheck_leaves_the_model_as_it_was():
    model = dllab.build(DEEP_CONV, dtype=np.float64)
    weights = model.get_weights()
    rng_state = model.rng.bit_generator.state
    dllab.gradcheck(model, batch_size=2, max_checks=3)
    for key, value in model.get_weights().items():
        np.testing.assert_array_equal(value, weights[key])
    assert model.rng.bit_generator.state == rng_state


def test_gradcheck_samples_at_most_max_checks_elements():
    result = dllab.gradcheck(SMALL, max_checks=7)
    assert result.checked == {"dense_1.W": 7, "dense_1.b": 5, "dense_2.W": 7, "dense_2.b": 3}
    full = dllab.gradcheck(SMALL, max_checks=None)
    assert full.checked == {"dense_1.W": 20, "dense_1.b": 5, "dense_2.W": 15, "dense_2.b": 3}


def test_gradcheck_uses_given_inputs_and_is_reproducible():
    model = dllab.build(SMALL, dtype=np.float64)
    x = np.random.default_rng(0).normal(size=(6, 4))
    t = np.eye(3)[[0, 1, 2, 0, 1, 2]]
    a = dllab.gradcheck(model, x, t, max_checks=5, seed=3)
    b = dllab.gradcheck(model, x, t, max_checks=5, seed=3)
    assert a.errors == b.errors
    assert a.passed()


def test_gradcheck_report_and_result():
    result = GradcheckResult({"dense_1.W": 2e-9, "dense_1.b": 3e-6}, {"dense_1.W": 40, "dense_1.b": 5})
    assert result.max_error == 3e-6
    assert not result.passed()
    assert result.passed(1e-5)
    lines = result.report().splitlines()
    assert lines[0].split() == ["parameter", "checked", "relative", "error", "at", "kinks"]
    assert lines[1].split() == ["dense_1.W", "40", "2.00e-09", "0"]
    assert lines[2].split() == ["dense_1.b", "5", "3.00e-06", "0"]
    assert GradcheckResult({}, {}).max_error == 0.0


def test_elements_at_a_kink_are_left_out_and_a_wrong_backward_pass_is_still_caught():
    # The book's SimpleConvNet starts with weights of std 0.01: many pooled values lie within h of each other,
    # and a centred difference across a max-pooling switch measures the kink, not the gradient.
    spec = read_spec(PROJECT_ROOT / "assets" / "networks" / "simple_conv_net.json")
    result = dllab.gradcheck(spec)
    assert result.kinks["conv2d_1.W"] > 0 and result.checked["conv2d_1.W"] + result.kinks["conv2d_1.W"] == 40
    assert result.passed(), result.report()
    model = dllab.build(spec, dtype=np.float64)
    broken(model, 0, lambda layer, dx: (layer.grads.__setitem__("W", layer.grads["W"] * 1.01), dx)[1])
    wrong = dllab.gradcheck(model)
    assert wrong.errors["conv2d_1.W"] > 1e-3 and not wrong.passed()


def broken(model, index, change):
    """Wrap one layer's backward pass with ``change(layer, dx)``."""
    layer = model.layers[index]
    original = layer.backward

    def backward(dout):
        return change(layer, original(dout))

    layer.backward = backward


def test_gradcheck_catches_a_slightly_wrong_input_gradient():
    model = dllab.build(SMALL, dtype=np.float64)
    broken(model, 1, lambda layer, dx: dx * 1.001)  # ReLU's gradient 0.1 % too large
    result = dllab.gradcheck(model)
    assert not result.passed()
    assert result.errors["dense_1.W"] > 1e-4
    assert result.errors["dense_2.W"] < TOL


def test_gradcheck_catches_a_missing_gradient():
    model = dllab.build(SMALL, dtype=np.float64)
    broken(model, 1, lambda layer, dx: np.zeros_like(dx))
    result = dllab.gradcheck(model)
    assert result.errors["dense_1.W"] == pytest.approx(1.0)
    assert result.errors["dense_1.b"] == pytest.approx(1.0)


def test_gradcheck_catches_a_small_wrong_gradient_where_the_true_one_is_zero():
    model = dllab.build(CONTEXT_CASES["BatchNorm after Dense"], dtype=np.float64)

    def add_to_bias(layer, dx):
        layer.grads["b"] = layer.grads["b"] + 1e-6
        return dx

    broken(model, 0, add_to_bias)
    result = dllab.gradcheck(model, max_checks=None)
    assert result.errors["dense_1.b"] > 0.99
    assert not result.passed()


def test_gradcheck_catches_a_wrong_parameter_gradient():
    model = dllab.build(DEEP_CONV, dtype=np.float64)

    def transpose_kernel(layer, dx):
        layer.grads["W"] = layer.grads["W"].transpose(0, 1, 3, 2).copy()
        return dx

    broken(model, 8, transpose_kernel)  # the 2x2 convolution
    result = dllab.gradcheck(model, batch_size=2, max_checks=10)
    assert result.errors["conv2d_4.W"] > 1e-2


@pytest.mark.parametrize(
    ("options", "shown"),
    [
        ({"batch_size": 0}, f"batch_size must be a whole number from 1 to {MAX_BATCH_SIZE}, got 0"),
        ({"batch_size": MAX_BATCH_SIZE + 1}, "batch_size must be a whole number from 1 to"),
        ({"batch_size": LONG}, "got 'xxx"),
        ({"max_checks": 0}, "max_checks must be a whole number of at least 1, got 0"),
        ({"max_checks": 2.5}, "max_checks must be a whole number of at least 1, got 2.5"),
        ({"seed": -1}, "seed must be a whole number of at least 0, got -1"),
        ({"h": 0.0}, "gradcheck: h must be a finite number > 0, got 0.0."),
        ({"h": float("nan")}, "gradcheck: h must be a finite number > 0, got nan."),
    ],
)
def test_gradcheck_refuses_settings_that_would_check_nothing(options, shown):
    assert_settings_error(lambda: dllab.gradcheck(SMALL, **options), shown)


def test_gradcheck_refuses_a_network_without_parameters():
    spec = {"name": "bare", "input_shape": [4], "layers": [{"type": "ReLU"}], "loss": "mse"}
    assert_settings_error(lambda: dllab.gradcheck(spec), "the network 'bare' has no parameters to check")
