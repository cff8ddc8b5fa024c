"""Activation functions as layers: elementwise, shape-preserving, no parameters.

``Step`` is here to show why a network of step functions cannot learn: its derivative is zero everywhere
(and undefined at 0), so backpropagation passes no gradient at all.
"""

from __future__ import annotations

import math

import numpy as np

from dllab.layers import Layer
from dllab.settings import Setting


class Activation(Layer):
    """Base of elementwise activations."""

    category = "Activation"

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        out = self.function(x)
        if training:
            self._x, self._out = x, out
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        return dout * self.derivative(self._x, self._out)

    def function(self, x: np.ndarray) -> np.ndarray:
        """The activation applied to ``x``."""
        raise NotImplementedError

    def derivative(self, x: np.ndarray, out: np.ndarray) -> np.ndarray:
        """d out / d x, given the input and the output."""
        raise NotImplementedError


class ReLU(Activation):
    type_name = "ReLU"
    summary = "max(0, x): passes positives, zeroes negatives."
    explanation = (
        "The rectified linear unit passes positive inputs unchanged and outputs zero otherwise. Its gradient "
        "is 1 or 0, so it does not shrink gradients the way sigmoid does; a unit whose input stays negative "
        "never recovers (a 'dead' ReLU). Pair it with He initialisation."
    )

    def function(self, x: np.ndarray) -> np.ndarray:
        return np.maximum(x, 0)

    fresh_output = True

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        if not training:
            return np.maximum(x, 0)
        self._mask = x > 0
        # In a model's training pass, in place when the input is the previous layer's fresh output, and the
        # gradient in place too: no 7 MB arrays to allocate and first touch after the book's convolution
        # (backward 0.85 to 0.6 ms a mini-batch of 100, one core).
        return np.maximum(x, 0, out=x if self.may_overwrite else None)

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        return np.multiply(dout, self._mask, out=dout if self.may_overwrite else None)


class _AlphaActivation(Activation):
    """An activation with one ``alpha`` setting (declared by the subclass), shown by :meth:`describe`."""

    def describe(self) -> str:
        return f"alpha {self.options['alpha']:g}"

    def _alpha(self, x: np.ndarray) -> np.generic:
        """``alpha`` as a scalar of ``x``'s dtype, so results keep that dtype."""
        return x.dtype.type(self.options["alpha"])


class LeakyReLU(_AlphaActivation):
    type_name = "LeakyReLU"
    summary = "Like ReLU, but negatives keep a small slope alpha."
    explanation = (
        "Leaky ReLU lets a little gradient (alpha) through for negative inputs, so units cannot die."
    )
    SETTINGS = (Setting("alpha", "float", 0.01, "Slope for negative inputs.", "α", minimum=0.0),)

    def function(self, x: np.ndarray) -> np.ndarray:
        return np.where(x > 0, x, x * self._alpha(x))

    def derivative(self, x: np.ndarray, out: np.ndarray) -> np.ndarray:
        return np.where(x > 0, x.dtype.type(1), self._alpha(x))


class Sigmoid(Activation):
    type_name = "Sigmoid"
    summary = "1 / (1 + e^-x): squashes to (0, 1)."
    explanation = (
        "The logistic sigmoid squashes any input into (0, 1). Its gradient is at most 0.25 and vanishes for "
        "large |x|, so deep sigmoid stacks saturate and learn slowly unless initialised with Xavier."
    )

    def function(self, x: np.ndarray) -> np.ndarray:
        return sigmoid(x)

    def derivative(self, x: np.ndarray, out: np.ndarray) -> np.ndarray:
        return out * (1 - out)


class Tanh(Activation):
    type_name = "Tanh"
    summary = "tanh(x): squashes to (-1, 1), centred on zero."
    explanation = "The hyperbolic tangent is a zero-centred sigmoid; it saturates for large |x| like sigmoid."

    def function(self, x: np.ndarray) -> np.ndarray:
        return np.tanh(x)

    def derivative(self, x: np.ndarray, out: np.ndarray) -> np.ndarray:
        return 1 - out * out


class ELU(_AlphaActivation):
    type_name = "ELU"
    summary = "x for x > 0, alpha·(e^x − 1) below: smooth, negative outputs."
    explanation = "The exponential linear unit is smooth at zero and saturates to -alpha for negative inputs."
    SETTINGS = (
        Setting(
            "alpha", "float", 1.0, "Value approached for very negative inputs (negated).", "α", minimum=0.0
        ),
    )

    def function(self, x: np.ndarray) -> np.ndarray:
        return np.where(x > 0, x, self._alpha(x) * np.expm1(np.minimum(x, 0)))

    def derivative(self, x: np.ndarray, out: np.ndarray) -> np.ndarray:
        return np.where(x > 0, x.dtype.type(1), out + self._alpha(x))


class GELU(Activation):
    type_name = "GELU"
    summary = "x·Φ(x) (tanh approximation): a smooth ReLU used by transformers."
    explanation = (
        "The Gaussian error linear unit weighs each input by the probability that a standard normal is "
        "below it; computed with the tanh approximation 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))."
    )
    _C = math.sqrt(2.0 / math.pi)

    def function(self, x: np.ndarray) -> np.ndarray:
        inner = self._C * (x + 0.044715 * x**3)
        return 0.5 * x * (1 + np.tanh(inner))

    def derivative(self, x: np.ndarray, out: np.ndarray) -> np.ndarray:
        t = np.tanh(self._C * (x + 0.044715 * x**3))
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * self._C * (1 + 3 * 0.044715 * x * x)


class Step(Activation):
    type_name = "Step"
    summary = "1 if x > 0 else 0: the perceptron's activation; its gradient is zero."
    explanation = (
        "The step function of the perceptron. Its derivative is zero everywhere it exists, so "
        "backpropagation passes no gradient and a network of steps cannot learn: try it and watch the loss."
    )

    def function(self, x: np.ndarray) -> np.ndarray:
        return (x > 0).astype(x.dtype)

    def derivative(self, x: np.ndarray, out: np.ndarray) -> np.ndarray:
        return np.zeros_like(x)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Numerically stable logistic function (no overflow for large negative inputs)."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))
