"""Activations: values against their formulas and known numbers, defaults, dtype, and gradients against
centred numerical differences in float64 (alone and inside a network)."""

import math

import numpy as np
import pytest

import dllab
from dllab.activations import ELU, GELU, LeakyReLU, Step, sigmoid
from tests.engine.numerical import layer_gradient_errors, make_layer

ACTIVATIONS = ["ReLU", "LeakyReLU", "Sigmoid", "Tanh", "ELU", "GELU", "Step"]

POINTS = [-3.0, -1.0, -0.5, -0.01, 0.01, 0.5, 1.0, 2.5]


def reference(name, v, alpha=None):
    """Each activation on one Python float, straight from its definition."""
    if name == "ReLU":
        return max(v, 0.0)
    if name == "LeakyReLU":
        return v if v > 0 else (0.01 if alpha is None else alpha) * v
    if name == "Sigmoid":
        return 1 / (1 + math.exp(-v))
    if name == "Tanh":
        return math.tanh(v)
    if name == "ELU":
        return v if v > 0 else (1.0 if alpha is None else alpha) * (math.exp(v) - 1)
    if name == "GELU":
        return 0.5 * v * (1 + math.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v**3)))
    if name == "Step":
        return 1.0 if v > 0 else 0.0
    raise AssertionError(name)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_values_follow_the_definition(name):
    layer = make_layer(name, (len(POINTS),))
    out = layer.forward(np.array([POINTS]))
    np.testing.assert_allclose(out[0], [reference(name, v) for v in POINTS], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_elementwise_and_shape_preserving_on_images(name):
    layer = make_layer(name, (2, 3, 3))
    assert layer.output_shape == (2, 3, 3)
    assert layer.param_count == 0
    x = np.random.default_rng(0).normal(size=(2, 2, 3, 3))
    out = layer.forward(x)
    assert out.shape == x.shape
    np.testing.assert_allclose(
        out.reshape(-1), [reference(name, v) for v in x.reshape(-1)], rtol=1e-12, atol=1e-15
    )


def test_defaults_are_the_design_notes():
    assert LeakyReLU().options == {"alpha": 0.01}
    assert ELU().options == {"alpha": 1.0}
    np.testing.assert_allclose(LeakyReLU().function(np.array([-2.0, 3.0])), [-0.02, 3.0])
    np.testing.assert_allclose(ELU().function(np.array([-1.0])), [math.exp(-1) - 1])


def test_alpha_settings_are_used():
    x = np.array([-2.0, -0.5, 1.5])
    np.testing.assert_allclose(LeakyReLU(alpha=0.2).function(x), [reference("LeakyReLU", v, 0.2) for v in x])
    np.testing.assert_allclose(ELU(alpha=0.5).function(x), [reference("ELU", v, 0.5) for v in x])
    np.testing.assert_allclose(ELU(alpha=0.5).function(np.array([-50.0])), [-0.5])
    with pytest.raises(ValueError, match="alpha must be at least 0"):
        LeakyReLU(alpha=-1)


def test_gelu_uses_the_tanh_approximation():
    gelu = GELU().function(np.array([-2.0, -1.0, 0.0, 1.0, 2.0]))
    # Published values of the tanh approximation 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
    np.testing.assert_allclose(gelu, [-0.04540231, -0.15880801, 0.0, 0.84119199, 1.95459769], atol=1e-8)
    # ... which is close to, but not, the exact x·Φ(x).
    exact = [v * 0.5 * (1 + math.erf(v / math.sqrt(2))) for v in (-2.0, -1.0, 0.0, 1.0, 2.0)]
    np.testing.assert_allclose(gelu, exact, atol=1e-3)
    assert abs(gelu[3] - exact[3]) > 1e-5


def test_sigmoid_is_stable_for_huge_inputs():
    x = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])  # warnings are errors: no overflow allowed
    np.testing.assert_allclose(sigmoid(x), [0.0, math.exp(-50), 0.5, 1.0, 1.0], rtol=1e-12)
    np.testing.assert_allclose(sigmoid(x.astype(np.float32)), [0.0, 0.0, 0.5, 1.0, 1.0], atol=1e-7)


def test_step_passes_no_gradient_at_all():
    layer = Step()
    layer.setup((5,))
    x = np.random.default_rng(0).normal(size=(4, 5))
    out = layer.forward(x, training=True)
    np.testing.assert_array_equal(out, (x > 0).astype(float))
    dx = layer.backward(np.random.default_rng(1).normal(size=(4, 5)))
    assert dx.shape == x.shape
    assert not dx.any()  # exactly zero, not merely small


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_backward_matches_numerical_gradient(name):
    layer = make_layer(name, (3, 4), **({"alpha": 0.3} if name in ("LeakyReLU", "ELU") else {}))
    # Random float64 inputs keep away from the kinks of ReLU, LeakyReLU and Step (ties have measure zero).
    x = np.random.default_rng(4).normal(scale=2.0, size=(5, 3, 4))
    assert np.abs(x).min() > 1e-4
    errors = layer_gradient_errors(layer, x)
    assert errors["x"] < 1e-6, errors


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_gradient_check_inside_a_network(name):
    spec = {
        "input_shape": [4],
        "layers": [{"type": "Dense", "units": 6}, {"type": name}, {"type": "Dense", "units": 3}],
    }
    result = dllab.gradcheck(spec, batch_size=5, max_checks=None)
    assert result.passed(1e-6), result.report()
    if name == "Step":
        # Nothing reaches the first layer: both gradients are exactly zero.
        model = dllab.build(spec, dtype=np.float64)
        x = np.random.default_rng(0).normal(size=(5, 4))
        _, grads = model.loss_and_grads(x, np.array([0, 1, 2, 0, 1]))
        assert not grads["dense_1.W"].any()
        assert not grads["dense_1.b"].any()
        assert grads["dense_2.W"].any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_outputs_and_gradients_keep_the_dtype(name, dtype):
    layer = make_layer(name, (6,), dtype=dtype)
    x = np.linspace(-3, 3, 12, dtype=dtype).reshape(2, 6)
    out = layer.forward(x, training=True)
    assert out.dtype == dtype
    assert layer.backward(np.ones_like(out)).dtype == dtype
