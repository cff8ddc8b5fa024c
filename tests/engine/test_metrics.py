"""Per-sample losses, the mistakes sorted by loss and the counts per kind of mistake, on constructed outputs."""

from __future__ import annotations

import numpy as np
import pytest

from dllab.metrics import Evaluation, Mistake, confusion_matrix, predicted_classes


def constructed() -> Evaluation:
    """Six samples of three classes; four mistakes of known probabilities."""
    outputs = np.array(
        [
            [0.90, 0.05, 0.05],  # 0: right
            [0.10, 0.85, 0.05],  # 1: true 0, predicted 1, p(true) 0.10
            [0.01, 0.97, 0.02],  # 2: true 0, predicted 1, p(true) 0.01: the worst
            [0.30, 0.30, 0.40],  # 3: true 1, predicted 2, p(true) 0.30
            [0.05, 0.05, 0.90],  # 4: true 2, right
            [0.45, 0.50, 0.05],  # 5: true 0, predicted 1, p(true) 0.45: the mildest
        ]
    )
    labels = np.array([0, 0, 0, 1, 2, 0])
    return Evaluation(0.0, 0.0, outputs, labels, confusion_matrix(labels, predicted_classes(outputs), 3))


def test_sample_losses_are_the_cross_entropy_of_the_true_class() -> None:
    evaluation = constructed()
    expected = -np.log([0.90, 0.10, 0.01, 0.30, 0.90, 0.45])
    np.testing.assert_allclose(evaluation.sample_losses, expected)


def test_mistakes_come_highest_loss_first_with_their_confidence() -> None:
    mistakes = constructed().misclassified()
    assert [m.index for m in mistakes] == [2, 1, 3, 5]
    assert mistakes[0] == Mistake(2, 0, 1, pytest.approx(-np.log(0.01)), pytest.approx(0.97))
    assert [m.index for m in constructed().misclassified(2)] == [2, 1]
    # Not the same order as by confidence: sample 3 is less confident (0.40) than 5 (0.50) yet costs more.
    assert mistakes[2].confidence < mistakes[3].confidence


def test_a_single_sigmoid_output_takes_p_or_one_minus_p() -> None:
    outputs = np.array([[0.2], [0.9], [0.6]])
    labels = np.array([1, 0, 1])
    evaluation = Evaluation(
        0.0, 0.0, outputs, labels, confusion_matrix(labels, predicted_classes(outputs), 2)
    )
    np.testing.assert_allclose(evaluation.sample_losses, -np.log([0.2, 0.1, 0.6]))
    assert [(m.index, m.confidence) for m in evaluation.misclassified()] == [
        (1, pytest.approx(0.9)),
        (0, pytest.approx(0.8)),
    ]


def test_a_certain_mistake_has_a_finite_loss() -> None:
    evaluation = Evaluation(0.0, 0.0, np.array([[0.0, 1.0]]), np.array([0]))
    assert np.isfinite(evaluation.sample_losses).all() and evaluation.sample_losses[0] > 20


def test_confusion_pairs_count_each_kind_of_mistake_most_frequent_first() -> None:
    assert constructed().confusion_pairs() == [(0, 1, 3), (1, 2, 1)]
    assert Evaluation(0.0, 0.0, np.zeros((0, 3)), np.zeros(0)).confusion_pairs() == []
