"""Losses: the book's example values, numerical stability, label forms, and gradients against centred
numerical differences in float64 (alone and through a network)."""

import math

import numpy as np
import pytest

import dllab
from dllab import losses
from dllab.errors import SettingsError
from tests.engine.numerical import numerical_gradient, relative_error
from tests.engine.user_errors import LONG, assert_settings_error

# The book's example outputs for one image of a "2" (chapter 4).
BOOK_T = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0])
BOOK_Y_GOOD = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
BOOK_Y_BAD = np.array([0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0])


def scores_for(probabilities):
    """Scores whose softmax is ``probabilities`` (zeros become a score far below the rest)."""
    return np.where(probabilities > 0, np.log(np.maximum(probabilities, 1e-300)), -1000.0)


def test_softmax_of_the_books_example():
    np.testing.assert_allclose(
        losses.softmax(np.array([0.3, 2.9, 4.0])), [0.01821127, 0.24519181, 0.73659691], atol=1e-8
    )


def test_softmax_is_stable_for_huge_scores():
    # exp(1010) overflows; warnings are errors, so any overflow fails the test.
    p = losses.softmax(np.array([[1010.0, 1000.0, 990.0], [1e4, 0.0, -1e4]]))
    assert np.isfinite(p).all()
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_allclose(p[0], losses.softmax(np.array([20.0, 10.0, 0.0])), rtol=1e-12)
    np.testing.assert_allclose(p[1], [1.0, 0.0, 0.0])


def test_cross_entropy_of_the_books_examples():
    loss = losses.SoftmaxCrossEntropy()
    scores = np.stack([scores_for(BOOK_Y_GOOD), scores_for(BOOK_Y_BAD)])
    # The book prints 0.510825457... and 2.302584092... (it adds 1e-7 inside the log).
    assert loss.forward(scores[:1], np.array([2])) == pytest.approx(0.510825457, abs=1e-6)
    assert loss.forward(scores[1:], np.array([2])) == pytest.approx(2.302584093, abs=1e-6)
    assert loss.forward(scores, np.array([2, 2])) == pytest.approx((-math.log(0.6) - math.log(0.1)) / 2)
    assert loss.forward(scores, np.stack([BOOK_T, BOOK_T])) == pytest.approx(
        (-math.log(0.6) - math.log(0.1)) / 2
    )


def test_mse_of_the_books_examples():
    loss = losses.MeanSquaredError()
    assert loss.forward(BOOK_Y_GOOD[None], BOOK_T[None]) == pytest.approx(0.0975)
    assert loss.forward(BOOK_Y_BAD[None], BOOK_T[None]) == pytest.approx(0.5975)
    # Class indices become one-hot rows; the batch loss is the mean of the per-sample losses.
    assert loss.forward(np.stack([BOOK_Y_GOOD, BOOK_Y_BAD]), np.array([2, 2])) == pytest.approx(
        (0.0975 + 0.5975) / 2
    )


def test_softmax_cross_entropy_is_finite_for_huge_scores():
    loss = losses.SoftmaxCrossEntropy()
    scores = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4 + 1.0]])
    value = loss.forward(scores, np.array([2, 0]))
    assert math.isfinite(value)
    assert value == pytest.approx((2e4 + 1e4 + 1.0 + math.log1p(math.exp(-1.0))) / 2, rel=1e-12)
    grad = loss.backward()
    assert np.isfinite(grad).all()
    np.testing.assert_allclose(grad.sum(axis=1), 0.0, atol=1e-12)
    assert loss.forward(scores, np.eye(3)[[0, 2]]) == pytest.approx(0.5 * math.log1p(math.exp(-1.0)))


def test_sigmoid_cross_entropy_matches_its_formula_and_is_stable():
    loss = losses.SigmoidBinaryCrossEntropy()
    rng = np.random.default_rng(0)
    s = rng.normal(scale=3, size=(4, 3))
    t = (rng.random((4, 3)) < 0.5).astype(float)
    y = 1 / (1 + np.exp(-s))
    expected = -np.sum(t * np.log(y) + (1 - t) * np.log(1 - y)) / 4
    assert loss.forward(s, t) == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(loss.output(s), y, rtol=1e-12)
    huge = np.array([[1e4, -1e4, 1e4]])
    assert loss.forward(huge, np.array([[0.0, 1.0, 1.0]])) == pytest.approx(2e4)
    assert np.isfinite(loss.backward()).all()


def test_one_output_labels_may_be_a_vector():
    loss = losses.SigmoidBinaryCrossEntropy()
    s = np.array([[0.3], [-1.2]])
    assert loss.forward(s, np.array([1, 0])) == pytest.approx(loss.forward(s, np.array([[1.0], [0.0]])))


def test_index_and_one_hot_labels_give_the_same_loss_and_gradient():
    loss = losses.SoftmaxCrossEntropy()
    s = np.random.default_rng(1).normal(size=(5, 4))
    idx = np.array([3, 0, 1, 1, 2])
    a = loss.forward(s, idx)
    ga = loss.backward()
    b = loss.forward(s, np.eye(4)[idx])
    gb = loss.backward()
    assert a == pytest.approx(b, rel=1e-14)
    np.testing.assert_allclose(ga, gb, rtol=1e-14)
    np.testing.assert_allclose(ga, (losses.softmax(s) - np.eye(4)[idx]) / 5, rtol=1e-12)


LABEL_CASES = [
    ("softmax_cross_entropy", "index"),
    ("softmax_cross_entropy", "one_hot"),
    ("sigmoid_binary_cross_entropy", "binary"),
    ("mse", "real"),
    ("mse", "index"),
]


def labels(kind, n, units, rng):
    if kind == "index":
        return rng.integers(0, units, size=n)
    if kind == "one_hot":
        return np.eye(units)[rng.integers(0, units, size=n)]
    if kind == "binary":
        return (rng.random((n, units)) < 0.5).astype(float)
    return rng.normal(size=(n, units))


@pytest.mark.parametrize(("name", "kind"), LABEL_CASES)
def test_backward_matches_numerical_gradient_of_the_scores(name, kind):
    loss = losses.get(name)
    rng = np.random.default_rng(2)
    s = rng.normal(scale=2, size=(6, 4))
    t = labels(kind, 6, 4, rng)
    loss.forward(s, t)
    analytic = loss.backward()
    numeric = numerical_gradient(lambda: loss.forward(s, t), s)
    assert relative_error(analytic, numeric) < 1e-8


@pytest.mark.parametrize(("name", "kind"), LABEL_CASES)
def test_gradient_check_through_a_network(name, kind):
    model = dllab.build(
        {
            "input_shape": [5],
            "layers": [{"type": "Dense", "units": 6}, {"type": "Tanh"}, {"type": "Dense", "units": 4}],
            "loss": name,
        },
        dtype=np.float64,
    )
    rng = np.random.default_rng(3)
    x = rng.normal(size=(6, 5))
    result = dllab.gradcheck(model, x, labels(kind, 6, 4, rng), max_checks=None)
    assert result.passed(1e-6), result.report()


@pytest.mark.parametrize("name", list(losses.LOSSES))
def test_loss_gradient_keeps_float32(name):
    loss = losses.get(name)
    s = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    loss.forward(s, np.array([0, 1, 3]))
    assert loss.backward().dtype == np.float32
    assert loss.output(s).dtype == np.float32


def test_output_functions():
    s = np.random.default_rng(0).normal(size=(3, 4))
    np.testing.assert_allclose(losses.get("softmax_cross_entropy").output(s).sum(axis=1), 1.0)
    np.testing.assert_allclose(losses.get("sigmoid_binary_cross_entropy").output(s), 1 / (1 + np.exp(-s)))
    np.testing.assert_array_equal(losses.get("mse").output(s), s)
    assert [losses.get(n).output_name for n in losses.LOSSES] == ["softmax", "sigmoid", "identity"]


def test_bad_labels_are_clear_errors():
    # Data and a network that do not go together (a regression target of the wrong width, more classes than
    # outputs under MSE) reach the loss: a user's mistake, so a SettingsError.
    s = np.zeros((3, 4))
    with pytest.raises(SettingsError, match=r"class indices in 0\.\.3, got 0\.\.4"):
        losses.SoftmaxCrossEntropy().forward(s, np.array([0, 4, 1]))
    with pytest.raises(SettingsError, match=r"class indices in 0\.\.3, got -1\.\.2"):
        losses.MeanSquaredError().forward(s, np.array([-1, 2, 1]))
    with pytest.raises(
        SettingsError, match=r"labels of shape \(3, 3\) do not match outputs of shape \(3, 4\)"
    ):
        losses.SoftmaxCrossEntropy().forward(s, np.zeros((3, 3)))


def test_get_names_the_known_losses():
    assert list(losses.LOSSES) == ["softmax_cross_entropy", "sigmoid_binary_cross_entropy", "mse"]
    with pytest.raises(ValueError, match=r"unknown loss 'hinge' \(known: softmax_cross_entropy, .*, mse\)"):
        losses.get("hinge")


def test_output_shape_checks():
    with pytest.raises(ValueError, match="at least 2 output units"):
        losses.get("softmax_cross_entropy").check_output_shape((1,))
    with pytest.raises(ValueError, match="needs a flat output"):
        losses.get("mse").check_output_shape((2, 3, 3))
    losses.get("sigmoid_binary_cross_entropy").check_output_shape((1,))


@pytest.mark.parametrize(
    ("name", "shown"),
    [(LONG, "unknown loss 'xxx"), (["mse"], "unknown loss ['mse'] (known: "), (None, "unknown loss None")],
)
def test_unknown_losses_raise_settings_error(name, shown):
    assert_settings_error(lambda: losses.get(name), shown)
