"""References for the engine tests: centred numerical differences in float64 (the engine's own
:func:`dllab.numerical_gradient`, itself tested against the book's values), and a harness that checks one
layer's backward pass (input gradient and parameter gradients) against them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import dllab
from dllab.layers import Layer
from dllab.numerical import relative_error
from dllab.spec import LAYER_TYPES

__all__ = ["H", "layer_gradient_errors", "make_layer", "numerical_gradient", "relative_error"]

H = 1e-5


def numerical_gradient(f: Callable[[], float], array: np.ndarray, h: float = H) -> np.ndarray:
    """d f / d array by the engine's centred differences (:func:`dllab.numerical_gradient`), perturbing
    ``array`` (float64) in place and restoring it; ``f`` takes no arguments and reads ``array``."""
    return dllab.numerical_gradient(lambda _array: f(), array, h)


def make_layer(
    type_name: str, input_shape: tuple[int, ...], *, seed: int = 0, dtype: Any = np.float64, **options: Any
) -> Layer:
    """A standalone layer, set up for ``input_shape`` with parameters drawn from ``seed``."""
    layer = LAYER_TYPES[type_name](name="layer", **options)
    layer.setup(input_shape)
    layer.init_params(np.random.default_rng(seed), dtype)
    if type_name == "Dropout":
        layer.rng = np.random.default_rng(seed + 1)
    return layer


def layer_gradient_errors(layer: Layer, x: np.ndarray, *, seed: int = 1) -> dict[str, float]:
    """Relative errors of ``layer.backward`` against numerical differences of ``sum(forward(x) * r)``.

    ``r`` is a fixed random array shaped like the output, so every output element matters with its own
    weight. Keys: ``"x"`` for the input gradient, then each parameter's name. Training mode; a dropout layer
    replays the same mask in every evaluation.
    """
    x = np.array(x, dtype=np.float64)  # contiguous copy, perturbed in place
    rng = getattr(layer, "rng", None)
    rng_state = rng.bit_generator.state if rng is not None else None

    def forward() -> np.ndarray:
        if rng is not None:
            rng.bit_generator.state = rng_state
        return layer.forward(x, training=True)

    out = forward()
    r = np.random.default_rng(seed).normal(size=out.shape)
    dx = layer.backward(r.copy())
    analytic = {"x": dx, **{k: g.copy() for k, g in layer.grads.items()}}
    assert set(analytic) == {"x", *layer.params}

    def f() -> float:
        return float(np.sum(forward() * r))

    errors = {"x": relative_error(analytic["x"], numerical_gradient(f, x))}
    for key, param in layer.params.items():
        errors[key] = relative_error(analytic[key], numerical_gradient(f, param))
    return errors
