"""Losses: how wrong the network's raw outputs (scores) are, and the gradient that starts backprop.

Each loss is averaged over the batch and has an *output function* that turns scores into predictions
(``predict``): softmax for softmax cross-entropy, sigmoid for binary cross-entropy, identity for MSE.
Labels may be class indices or one-hot rows. Losses are found by their spec name in :data:`LOSSES`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import numpy as np

from dllab.activations import sigmoid
from dllab.errors import SettingsError
from dllab.registry import Registry


class Loss:
    """Base class: ``forward(scores, t) -> float`` keeps what ``backward() -> dscores`` needs."""

    name: ClassVar[str] = ""
    output_name: ClassVar[str] = ""
    summary: ClassVar[str] = ""

    def output(self, scores: np.ndarray) -> np.ndarray:
        """Predictions from raw scores: the output function named by ``output_name``."""
        return _OUTPUT_FUNCTIONS[self.output_name](scores)

    def forward(self, scores: np.ndarray, t: np.ndarray) -> float:
        """Mean loss of the batch."""
        raise NotImplementedError

    def backward(self) -> np.ndarray:
        """dLoss/dScores for the last :meth:`forward`."""
        raise NotImplementedError

    def check_output_shape(self, shape: tuple[int, ...]) -> None:
        """Raise ``ValueError`` if a network with per-sample output ``shape`` cannot use this loss."""
        if len(shape) != 1:
            raise ValueError(
                f"the {self.name} loss needs a flat output (units,), got {shape}; end with Dense"
            )


def _class_indices(t: np.ndarray, classes: int) -> np.ndarray:
    """1-D labels as class indices, checked to lie in ``0..classes - 1``.

    Raises
    ------
    SettingsError
        When they do not: the data has more classes than the network has outputs.
    """
    idx = t.astype(np.intp, copy=False)
    if idx.size and (idx.min() < 0 or idx.max() >= classes):
        raise SettingsError(f"labels must be class indices in 0..{classes - 1}, got {idx.min()}..{idx.max()}")
    return idx


def one_hot_like(t: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Labels as an array shaped like ``scores``: class indices become one-hot rows.

    Raises
    ------
    SettingsError
        When the labels do not fit the outputs (a data set and a network that do not go together).
    """
    t = np.asarray(t)
    if t.shape == scores.shape:
        return t.astype(scores.dtype, copy=False)
    if t.ndim == 1 and scores.ndim == 2 and t.shape[0] == scores.shape[0]:
        if scores.shape[1] == 1:
            return t.astype(scores.dtype).reshape(-1, 1)
        idx = _class_indices(t, scores.shape[1])
        onehot = np.zeros_like(scores)
        onehot[np.arange(t.shape[0]), idx] = 1
        return onehot
    raise SettingsError(f"labels of shape {t.shape} do not match outputs of shape {scores.shape}")


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by the row maximum so that exp never overflows."""
    shifted = scores - scores.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def _identity(scores: np.ndarray) -> np.ndarray:
    return scores


#: The output functions by the ``output_name`` of the losses that use them.
_OUTPUT_FUNCTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "softmax": softmax,
    "sigmoid": sigmoid,
    "identity": _identity,
}


class SoftmaxCrossEntropy(Loss):
    name = "softmax_cross_entropy"
    output_name = "softmax"
    summary = "Softmax turns scores into class probabilities; the loss is −log p(true class)."

    def forward(self, scores: np.ndarray, t: np.ndarray) -> float:
        t = np.asarray(t)
        shifted = scores - scores.max(axis=1, keepdims=True)
        log_z = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        log_p = shifted - log_z
        n = scores.shape[0]
        if t.ndim == 1 and scores.shape[1] > 1:
            idx = _class_indices(t, scores.shape[1])
            loss = -log_p[np.arange(n), idx].sum() / n
            self._t = idx
        else:
            onehot = one_hot_like(t, scores)
            loss = -(onehot * log_p).sum() / n
            self._t = onehot
        self._y = np.exp(log_p)
        return float(loss)

    def backward(self) -> np.ndarray:
        y = self._y
        n = y.shape[0]
        d = y.copy()
        if self._t.ndim == 1:
            d[np.arange(n), self._t] -= 1
        else:
            d -= self._t
        d /= n
        return d

    def check_output_shape(self, shape: tuple[int, ...]) -> None:
        super().check_output_shape(shape)
        if shape[0] < 2:
            raise ValueError("softmax cross-entropy needs at least 2 output units (one per class)")


class SigmoidBinaryCrossEntropy(Loss):
    name = "sigmoid_binary_cross_entropy"
    output_name = "sigmoid"
    summary = "Sigmoid gives an independent probability per output; the loss is binary cross-entropy."

    def forward(self, scores: np.ndarray, t: np.ndarray) -> float:
        t = one_hot_like(t, scores)
        # log(1 + e^-|s|) + max(s, 0) - s t  is  -t log σ(s) - (1 - t) log(1 - σ(s)), without overflow.
        loss = np.maximum(scores, 0) - scores * t + np.log1p(np.exp(-np.abs(scores)))
        self._y, self._t = sigmoid(scores), t
        return float(loss.sum() / scores.shape[0])

    def backward(self) -> np.ndarray:
        return (self._y - self._t) / self._y.shape[0]


class MeanSquaredError(Loss):
    name = "mse"
    output_name = "identity"
    summary = "Half the squared error, ½·Σ(y − t)², per sample: for regression."

    def forward(self, scores: np.ndarray, t: np.ndarray) -> float:
        t = one_hot_like(t, scores)
        self._diff = scores - t
        return float(0.5 * np.sum(self._diff * self._diff) / scores.shape[0])

    def backward(self) -> np.ndarray:
        return self._diff / self._diff.shape[0]


#: Every loss by its spec name.
LOSSES: Registry[Loss] = Registry("loss", (SoftmaxCrossEntropy, SigmoidBinaryCrossEntropy, MeanSquaredError))


#: A new loss object by its spec name (:meth:`dllab.registry.Registry.create`).
get = LOSSES.create
