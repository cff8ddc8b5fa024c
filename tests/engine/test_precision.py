"""A model in another precision: float64 and float32 computed in their own type, float16 stored in float16 and
computed layer by layer in float32."""

from __future__ import annotations

import numpy as np
import pytest

import dllab
from dllab.errors import SettingsError
from dllab.precision import PRECISIONS, PrecisionModel, at_precision, precision_dtype

SPEC = {
    "input_shape": [1, 6, 6],
    "layers": [
        {"type": "Conv2D", "filters": 3, "kernel_size": 3, "padding": 1},
        {"type": "ReLU"},
        {"type": "MaxPool2D", "pool_size": 2, "stride": 2},
        {"type": "Flatten"},
        {"type": "Dense", "units": 8},
        {"type": "Sigmoid"},
        {"type": "BatchNorm"},
        {"type": "Dropout", "rate": 0.5},
        {"type": "Dense", "units": 4},
    ],
}


@pytest.fixture
def model() -> dllab.Sequential:
    model = dllab.build(SPEC, seed=3, dtype=np.float64)
    model.state["batchnorm_1.mean"][:] = 0.3
    model.state["batchnorm_1.var"][:] = 0.7
    model.preprocessing = {"kind": "scale", "input_shape": [1, 6, 6], "low": [0.0], "high": [255.0]}
    model.class_names = ["a", "b", "c", "d"]
    return model


@pytest.fixture
def x() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(7, 1, 6, 6))


def test_each_precision_stores_its_weights_in_its_type(model: dllab.Sequential) -> None:
    count = model.param_count + sum(v.size for v in model.state.values())
    for precision, size in zip(PRECISIONS, (8, 4, 2), strict=True):
        copy = at_precision(model, precision)
        assert copy.precision == precision
        assert {v.dtype for v in copy.stored_weights.values()} == {np.dtype(precision)}
        assert copy.parameter_bytes == size * count
        assert copy.class_names == model.class_names and copy.preprocessing == model.preprocessing
    assert at_precision(model, "float16").dtype == np.float32  # the arithmetic
    assert at_precision(model, "float32").dtype == np.float32 and not at_precision(model, "float32").rounds


def test_float64_and_float32_compute_as_a_model_of_that_type(model: dllab.Sequential, x: np.ndarray) -> None:
    np.testing.assert_array_equal(at_precision(model, "float64").forward(x), model.forward(x))
    plain32 = dllab.build(SPEC, seed=3, dtype=np.float32)
    plain32.set_weights(model.get_weights())
    np.testing.assert_array_equal(at_precision(model, "float32").forward(x), plain32.forward(x))


def test_float16_rounds_every_stored_value_and_computes_each_layer_in_float32(
    model: dllab.Sequential, x: np.ndarray
) -> None:
    half = at_precision(model, "float16")
    # By hand: every weight rounded to float16, and each layer fed float16 values, computing in float32 and
    # its output rounded to float16.
    reference = dllab.build(SPEC, seed=3, dtype=np.float32)
    reference.set_weights({k: v.astype(np.float16) for k, v in model.get_weights().items()})
    out = x.astype(np.float16)
    expected = []
    for layer in reference.layers:
        out = layer.forward(out.astype(np.float32), False).astype(np.float16)
        expected.append(out)
    outputs = half.activations(x)
    assert [o.dtype for o in outputs] == [np.dtype(np.float16)] * len(SPEC["layers"])
    for got, want in zip(outputs, expected, strict=True):
        np.testing.assert_array_equal(got, want)
    scores = half.forward(x)
    assert scores.dtype == np.float32
    np.testing.assert_array_equal(scores, expected[-1].astype(np.float32))
    # float16 is close to float64 but not equal to it: the rounding is real.
    assert not np.array_equal(scores, model.forward(x).astype(np.float32))
    np.testing.assert_allclose(scores, model.forward(x), rtol=0, atol=0.02)
    np.testing.assert_allclose(half.predict(x).sum(axis=1), 1.0, rtol=1e-6)


def test_the_copied_model_is_left_as_it_was(model: dllab.Sequential, x: np.ndarray) -> None:
    before = model.get_weights()
    at_precision(model, "float16").forward(x)
    for key, value in model.get_weights().items():
        np.testing.assert_array_equal(value, before[key])
        assert value.dtype == np.float64


def test_values_beyond_float16_become_infinite_without_a_warning(x: np.ndarray) -> None:
    big = dllab.build({"input_shape": [36], "layers": [{"type": "Dense", "units": 2}]}, dtype=np.float64)
    big.params["dense_1.W"][:] = 1e4
    scores = at_precision(big, "float16").forward(x.reshape(7, 36) ** 2)  # sums far above 65,504
    assert np.isinf(scores).all()


def test_float16_only_predicts_and_float32_still_trains(model: dllab.Sequential, x: np.ndarray) -> None:
    t = np.arange(7) % 4
    with pytest.raises(SettingsError, match="a float16 model only predicts here"):
        at_precision(model, "float16").loss_and_grads(x, t)
    loss, grads = at_precision(model, "float32").loss_and_grads(x, t)
    assert np.isfinite(loss) and set(grads) == set(model.params)


@pytest.mark.parametrize("bad", ["float8", "int32", "", None, 16])
def test_an_unknown_precision_is_refused(model: dllab.Sequential, bad: object) -> None:
    with pytest.raises(SettingsError, match="precision must be one of float64, float32, float16"):
        at_precision(model, bad)  # type: ignore[arg-type]


def test_precision_names_are_read_loosely() -> None:
    assert precision_dtype(" Float16 ") == np.float16
    assert isinstance(at_precision(dllab.build(SPEC), "float64"), PrecisionModel)
