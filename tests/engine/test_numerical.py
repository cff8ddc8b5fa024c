"""Numerical differentiation against the values printed in chapter 4 of "Deep Learning from Scratch"."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import dllab
from dllab.errors import SettingsError
from dllab.numerical import (
    central_differences,
    gradient_descent,
    numerical_diff,
    numerical_gradient,
    relative_error,
    tangent_line,
)
from tests.engine.user_errors import LONG, assert_settings_error


def function_1(x):
    """The book's 0.01x² + 0.1x."""
    return 0.01 * x**2 + 0.1 * x


def function_2(x):
    """The book's x0² + x1²."""
    return x[0] ** 2 + x[1] ** 2


def test_exported_from_the_package():
    assert dllab.numerical_gradient is numerical_gradient
    assert dllab.numerical_diff is numerical_diff


@pytest.mark.parametrize(("x", "book"), [(5.0, 0.1999999999990898), (10.0, 0.2999999999986347)])
def test_numerical_diff_of_function_1(x, book):
    # The book prints these two numbers; the true derivatives 0.02x + 0.1 are 0.2 and 0.3.
    value = numerical_diff(function_1, x)
    assert value == pytest.approx(book, abs=1e-9)
    assert value == pytest.approx(0.02 * x + 0.1, abs=1e-9)
    assert numerical_diff(function_1, int(x)) == value  # a whole number is fine for a scalar


def test_numerical_diff_rounding_takes_over_for_a_tiny_h():
    # The book's warning: with h = 1e-50, x + h == x - h == x in float64 and the "derivative" is 0.
    assert numerical_diff(function_1, 5.0, h=1e-50) == 0.0
    # The forward difference is worse than the centred one at the same h (error h·f''/2 against none).
    h = 1e-4
    forward = (function_1(5.0 + h) - function_1(5.0)) / h
    assert abs(forward - 0.2) > 100 * abs(numerical_diff(function_1, 5.0, h) - 0.2)


def test_tangent_line_of_function_1_at_5():
    slope, intercept = tangent_line(function_1, 5.0)
    assert slope == pytest.approx(0.2, abs=1e-9)
    # It touches the curve at x = 5: f(5) = 0.75.
    assert slope * 5.0 + intercept == pytest.approx(0.75, abs=1e-12)
    assert intercept == pytest.approx(-0.25, abs=1e-8)


@pytest.mark.parametrize(
    ("point", "book"), [((3.0, 4.0), (6.0, 8.0)), ((0.0, 2.0), (0.0, 4.0)), ((3.0, 0.0), (6.0, 0.0))]
)
def test_numerical_gradient_of_function_2(point, book):
    x = np.array(point)
    grad = numerical_gradient(function_2, x)
    # The book prints 6.00000000000378 and 7.999999999999119 for the first: 1e-4 is close, not exact.
    np.testing.assert_allclose(grad, book, rtol=0, atol=1e-9)
    assert grad.dtype == np.float64 and grad.shape == (2,)
    np.testing.assert_array_equal(x, point)


def test_numerical_gradient_of_a_2x3_array():
    x = np.arange(6.0).reshape(2, 3) - 2.5
    weights = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]])
    before = x.copy()

    def f(a):
        return np.sum(weights * a**3)

    grad = numerical_gradient(f, x)
    assert grad.shape == (2, 3)
    np.testing.assert_allclose(grad, 3 * weights * x**2, rtol=1e-7, atol=1e-8)
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_uses_x_in_place_and_restores_every_element():
    x = np.array([[1.5, -2.25], [0.1, 1e-3]])
    before = x.copy()
    seen = []

    def f(a):
        assert a is x  # the book's way: f sees x itself, one element moved
        seen.append(a.copy())
        return float(np.sum(a))

    numerical_gradient(f, x)
    assert len(seen) == 2 * x.size
    for k, moved in enumerate(seen):
        changed = np.flatnonzero(moved != before)
        assert changed.tolist() == [k // 2]
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_of_a_strided_view_and_a_0d_array():
    base = np.arange(12.0).reshape(3, 4)
    view = base[:, ::2]  # not contiguous: reshape(-1) would copy
    grad = numerical_gradient(lambda a: np.sum(a**2), view)
    np.testing.assert_allclose(grad, 2 * view, atol=1e-6)
    np.testing.assert_array_equal(base, np.arange(12.0).reshape(3, 4))
    scalar = np.array(3.0)
    assert numerical_gradient(lambda a: a**2, scalar) == pytest.approx(6.0, abs=1e-7)
    assert numerical_gradient(lambda a: a**2, 3.0).shape == ()
    # Numbers that are not an array are copied, so whole numbers are fine there.
    np.testing.assert_allclose(numerical_gradient(function_2, [3, 4]), [6.0, 8.0], atol=1e-9)


def test_x_is_restored_when_f_raises():
    x = np.array([1.0, 2.0, 3.0])
    calls = []

    def f(a):
        calls.append(a.copy())
        if len(calls) == 4:  # while the second element is moved down
            raise RuntimeError("boom")
        return float(np.sum(a))

    with pytest.raises(RuntimeError, match="boom"):
        numerical_gradient(f, x)
    assert calls[3][1] == 2.0 - 1e-4
    np.testing.assert_array_equal(x, [1.0, 2.0, 3.0])


def test_central_differences_on_chosen_elements():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    out = central_differences(lambda: float(np.sum(x**2)), x, 1e-5, [3, 0])
    np.testing.assert_allclose(out, [8.0, 2.0], atol=1e-6)
    np.testing.assert_array_equal(x, [[1.0, 2.0], [3.0, 4.0]])


def test_relative_error():
    assert relative_error([6.0, 8.0], [6.0, 8.0]) == 0.0
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error([1.0, 0.0], [-1.0, 0.0]) == 1.0
    # ‖(0, 1e-6)‖ / (‖(3, 4)‖ + ‖(3, 4 + 1e-6)‖)
    assert relative_error([3.0, 4.0], [3.0, 4.0 + 1e-6]) == pytest.approx(1e-7, rel=1e-6)


# ----------------------------------------------------------------------------------------------------------
# Gradient descent (the book's section 4.4.1)
# ----------------------------------------------------------------------------------------------------------


def test_gradient_descent_with_lr_0_1_reaches_the_minimum():
    init = np.array([-3.0, 4.0])
    x, path = gradient_descent(function_2, init, lr=0.1, step_num=100)
    # The book: array([ -6.11110793e-10,   8.14814391e-10]).
    np.testing.assert_allclose(x, [-6.11110793e-10, 8.14814391e-10], rtol=1e-6)
    np.testing.assert_array_equal(init, [-3.0, 4.0])  # the start is not moved
    assert path.shape == (101, 2)
    np.testing.assert_array_equal(path[0], [-3.0, 4.0])
    np.testing.assert_array_equal(path[-1], x)
    # Each step multiplies the point by 1 - 2·lr = 0.8 (up to the difference quotient's rounding).
    np.testing.assert_allclose(path[1], [-2.4, 3.2], rtol=1e-9)


def test_gradient_descent_with_lr_10_diverges_to_a_huge_value():
    x, path = gradient_descent(function_2, np.array([-3.0, 4.0]), lr=10.0, step_num=100)
    # The book: array([ -2.58983747e+13,  -1.29524862e+12]). The walk stalls there: x ± 1e-4 rounds to x.
    np.testing.assert_allclose(x, [-2.58983747e13, -1.29524862e12], rtol=1e-6)
    assert np.all(np.isfinite(path))
    np.testing.assert_array_equal(path[-1], path[-2])


def test_gradient_descent_with_lr_1e_10_barely_moves():
    x, _ = gradient_descent(function_2, np.array([-3.0, 4.0]), lr=1e-10, step_num=100)
    # The book: array([-2.99999994,  3.99999992]).
    np.testing.assert_allclose(x, [-2.99999994, 3.99999992], rtol=1e-8)


def test_gradient_descent_copies_whole_numbers_and_takes_no_steps():
    x, path = gradient_descent(function_2, [-3, 4], lr=0.1, step_num=0)
    assert x.dtype == np.float64 and x.tolist() == [-3.0, 4.0] and path.shape == (1, 2)


# ----------------------------------------------------------------------------------------------------------
# Against analytic gradients
# ----------------------------------------------------------------------------------------------------------


@st.composite
def quadratics(draw):
    """A random ``f(x) = ½ xᵀAx + bᵀx + c`` over ``x`` of 1 to 5 elements, with the point to test at."""
    n = draw(st.integers(1, 5))
    values = st.floats(-10.0, 10.0, allow_nan=False, allow_infinity=False)
    a = draw(hnp.arrays(np.float64, (n, n), elements=values))
    b = draw(hnp.arrays(np.float64, (n,), elements=values))
    c = draw(values)
    x = draw(hnp.arrays(np.float64, (n,), elements=values))
    return a, b, c, x


@settings(max_examples=60, deadline=None)
@given(quadratics())
def test_numerical_gradient_matches_the_gradient_of_random_quadratics(quadratic):
    a, b, c, x = quadratic
    before = x.copy()

    def f(v):
        return 0.5 * v @ a @ v + b @ v + c

    grad = numerical_gradient(f, x)
    analytic = 0.5 * (a + a.T) @ before + b
    # The centred difference of a quadratic is exact but for rounding: about eps·|terms of f| / h.
    scale = 1.0 + 0.5 * np.abs(before) @ np.abs(a) @ np.abs(before) + np.abs(b) @ np.abs(before) + abs(c)
    tolerance = 50 * np.finfo(np.float64).eps * scale / 1e-4
    assert np.all(np.abs(grad - analytic) <= tolerance)
    np.testing.assert_array_equal(x, before)


# ----------------------------------------------------------------------------------------------------------
# Mistakes
# ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("h", [0.0, -1e-4, math.inf, math.nan, "1e-4", None])
def test_a_bad_h_is_refused(h):
    assert_settings_error(lambda: numerical_gradient(function_2, np.array([3.0, 4.0]), h=h), "h must be")
    assert_settings_error(lambda: numerical_diff(function_1, 5.0, h=h), "numerical_diff: h must be")
    assert_settings_error(lambda: gradient_descent(function_2, [1.0, 2.0], h=h), "gradient_descent: h must")


def test_integer_x_is_the_books_pitfall():
    x = np.array([3, 4])
    assert_settings_error(lambda: numerical_gradient(function_2, x), "x holds integers (int64)")
    with pytest.raises(SettingsError, match=r"use floats .* or convert a copy \(x.astype\(float\)\)"):
        numerical_gradient(function_2, x)
    np.testing.assert_array_equal(x, [3, 4])


@pytest.mark.parametrize(
    ("make", "shown"),
    [
        (lambda: numerical_gradient(lambda x: x**2, np.array([3.0, 4.0])), "got an array of shape (2,)"),
        (lambda: numerical_gradient(lambda x: "one", np.array([3.0])), "f must return one number, got 'one'"),
        (lambda: numerical_gradient(lambda x: None, np.array([3.0])), "f must return one number, got None"),
        (lambda: numerical_diff(lambda x: np.array([x, x]), 5.0), "numerical_diff: f must return one number"),
        (lambda: numerical_gradient(function_2, np.array([3.0, 4.0], dtype=np.float32)), "got float32"),
        (lambda: numerical_gradient(function_2, np.array([True, False])), "x holds integers (bool)"),
        (lambda: numerical_gradient(function_2, LONG), "x must be a number or an array of numbers, got 'xxx"),
        (lambda: numerical_diff(function_1, np.array([1.0, 2.0])), "x must be one number, got an array"),
        (lambda: numerical_diff(function_1, "5"), "numerical_diff: x must be a finite number"),
        (lambda: numerical_diff(function_1, math.inf), "numerical_diff: x must be a finite number"),
        (lambda: gradient_descent(function_2, [1.0, 2.0], lr=0.0), "gradient_descent: lr must be"),
        (lambda: gradient_descent(function_2, [1.0, 2.0], lr=math.nan), "gradient_descent: lr must be"),
        (lambda: gradient_descent(function_2, [1.0, 2.0], step_num=-1), "step_num must be a whole number"),
        (lambda: gradient_descent(function_2, [1.0, 2.0], step_num=2.5), "step_num must be a whole number"),
        (
            lambda: gradient_descent(function_2, ["a"]),
            "gradient_descent: init_x must be a number or an array of numbers",
        ),
    ],
)
def test_mistakes_are_one_sentence(make, shown):
    assert_settings_error(make, shown)


def test_a_read_only_x_is_refused():
    x = np.array([3.0, 4.0])
    x.flags.writeable = False
    assert_settings_error(lambda: numerical_gradient(function_2, x), "x is read-only")
