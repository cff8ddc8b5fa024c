"""Metrics and error analysis: accuracy, confusion matrix, per-class accuracy, misclassified samples (the gaps
between the errors of the sets are read in :mod:`dllab.fit_reading`)."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from dllab.model import Sequential


def class_indices(y: np.ndarray) -> np.ndarray:
    """Labels as class indices: one-hot rows become their argmax."""
    y = np.asarray(y)
    return y.argmax(axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(len(y)).astype(np.int64)


def predicted_classes(outputs: np.ndarray) -> np.ndarray:
    """Predicted class per row: the argmax, or ``output > 0.5`` for a single sigmoid output."""
    outputs = np.asarray(outputs)
    if outputs.ndim == 2 and outputs.shape[1] == 1:
        return (outputs[:, 0] > 0.5).astype(np.int64)
    return outputs.argmax(axis=1)


def accuracy(outputs: np.ndarray, y: np.ndarray) -> float:
    """Share of rows whose predicted class equals the label."""
    if len(y) == 0:
        return float("nan")
    return float(np.mean(predicted_classes(outputs) == class_indices(y)))


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """``m[i, j]`` = number of samples of class ``i`` predicted as ``j``."""
    return np.bincount(
        class_indices(y_true) * num_classes + np.asarray(y_pred, dtype=np.int64), minlength=num_classes**2
    ).reshape(num_classes, num_classes)


def per_class_accuracy(confusion: np.ndarray) -> np.ndarray:
    """Recall of each class (NaN for a class with no samples)."""
    totals = confusion.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(confusion) / np.maximum(totals, 1), np.nan)


#: The smallest probability a per-sample loss takes the logarithm of (a certain mistake costs about 27.6).
PROBABILITY_FLOOR = 1e-12


class Mistake(NamedTuple):
    """One misclassified sample of an evaluation.

    Attributes
    ----------
    index : int
        The sample's row in the evaluated set.
    true, predicted : int
        Its label and the predicted class.
    loss : float
        The cross-entropy of the true class, ``-log p(true)``.
    confidence : float
        The probability of the predicted class.
    """

    index: int
    true: int
    predicted: int
    loss: float
    confidence: float


@dataclass
class Evaluation:
    """A model's results on one labelled set."""

    loss: float
    accuracy: float
    outputs: np.ndarray = field(repr=False)
    labels: np.ndarray = field(repr=False)
    confusion: np.ndarray | None = field(default=None, repr=False)

    @property
    def predicted(self) -> np.ndarray:
        return predicted_classes(self.outputs)

    @property
    def per_class_accuracy(self) -> np.ndarray | None:
        return None if self.confusion is None else per_class_accuracy(self.confusion)

    @property
    def true_probabilities(self) -> np.ndarray:
        """The probability each sample's output gives its true class (``p`` or ``1 - p`` for one sigmoid
        output; outputs that are not probabilities, as a regression loss's, are clipped into [0, 1])."""
        truth = class_indices(self.labels)
        if self.outputs.shape[1] == 1:
            p = self.outputs[:, 0]
            chosen = np.where(truth == 1, p, 1 - p)
        else:
            chosen = self.outputs[np.arange(len(truth)), truth]
        return np.clip(np.asarray(chosen, dtype=np.float64), 0.0, 1.0)

    @property
    def sample_losses(self) -> np.ndarray:
        """Each sample's cross-entropy of its true class, ``-log p(true)`` (at most ``-log``
        :data:`PROBABILITY_FLOOR`): how badly the model missed it, the measure to sort mistakes by."""
        return -np.log(np.maximum(self.true_probabilities, PROBABILITY_FLOOR))

    def misclassified(self, limit: int | None = None) -> list[Mistake]:
        """The wrong predictions, highest loss first (ties: the lower index first)."""
        truth, predicted = class_indices(self.labels), self.predicted
        wrong = np.flatnonzero(truth != predicted)
        if self.outputs.shape[1] == 1:
            p = self.outputs[wrong, 0]
            confidence = np.where(predicted[wrong] == 1, p, 1 - p)
        else:
            confidence = self.outputs[wrong, predicted[wrong]]
        losses = self.sample_losses[wrong]
        order = np.argsort(-losses, kind="stable")[:limit]
        return [
            Mistake(
                int(wrong[i]),
                int(truth[wrong[i]]),
                int(predicted[wrong[i]]),
                float(losses[i]),
                float(confidence[i]),
            )
            for i in order
        ]

    def confusion_pairs(self) -> list[tuple[int, int, int]]:
        """``(true class, predicted class, count)`` of every kind of mistake made, most frequent first (ties:
        in the order of the confusion matrix's rows)."""
        if self.confusion is None:
            return []
        off = self.confusion.copy()
        np.fill_diagonal(off, 0)
        rows, cols = np.nonzero(off)
        counts = off[rows, cols]
        order = np.argsort(-counts, kind="stable")
        return [(int(rows[i]), int(cols[i]), int(counts[i])) for i in order]


def evaluate(model: Sequential, x: np.ndarray, y: np.ndarray, *, batch_size: int = 1000) -> Evaluation:
    """Loss (inference mode), outputs and, for classification, accuracy and the confusion matrix."""
    steps = evaluation_steps(model, x, y, batch_size=batch_size)
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value


def evaluation_steps(
    model: Sequential, x: np.ndarray, y: np.ndarray, *, batch_size: int = 1000
) -> Generator[int, None, Evaluation]:
    """:func:`evaluate` a batch at a time: yields the samples done after each batch and returns the
    :class:`Evaluation` (``yield from`` it; a caller that stops iterating has skipped the evaluation)."""
    losses, outputs = [], []
    for start in range(0, len(x), batch_size):
        scores = model.forward(x[start : start + batch_size])
        losses.append(model.loss.forward(scores, y[start : start + batch_size]) * len(scores))
        outputs.append(model.loss.output(scores))
        yield start + len(scores)
    if not outputs:
        return Evaluation(float("nan"), float("nan"), np.zeros((0, *model.output_shape)), np.asarray(y))
    out = np.concatenate(outputs)
    loss = float(np.sum(losses) / len(x))
    if model.loss.name == "mse" and not _looks_like_classes(y, out):
        return Evaluation(loss, float("nan"), out, np.asarray(y))
    num_classes = max(out.shape[1], 2)
    confusion = confusion_matrix(y, predicted_classes(out), num_classes)
    return Evaluation(loss, accuracy(out, y), out, np.asarray(y), confusion)


def _looks_like_classes(y: np.ndarray, outputs: np.ndarray) -> bool:
    y = np.asarray(y)
    return y.ndim == 1 and np.issubdtype(y.dtype, np.integer) and outputs.shape[1] > 1
