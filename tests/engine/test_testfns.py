"""Tests for dllab.testfns: analytic gradients, minima, and the optimizer driver."""

import math

import numpy as np
import pytest

from dllab import testfns
from dllab.optimizers import SGD, AdaDelta, AdaGrad, Adam, AdamW, Momentum, Nesterov, RMSprop
from dllab.testfns import FUNCTIONS, run_optimizer
from tests.engine.user_errors import LONG, assert_settings_error

NAMES = list(FUNCTIONS)


def test_registry():
    assert NAMES == ["book", "sphere", "rosenbrock", "beale", "himmelblau", "saddle", "rastrigin", "booth"]
    assert testfns.get("Rosenbrock") is FUNCTIONS["rosenbrock"]
    with pytest.raises(ValueError, match="'ackley'"):
        testfns.get("ackley")


@pytest.mark.parametrize(
    ("name", "x", "y", "expected"),
    [
        ("book", -7.0, 2.0, 6.45),  # 49 / 20 + 4
        ("sphere", 3.0, 4.0, 25.0),
        ("rosenbrock", 0.0, 0.0, 1.0),
        ("rosenbrock", -1.0, 2.0, 104.0),  # 4 + 100 * 1
        ("beale", 0.0, 0.0, 14.203125),  # 1.5**2 + 2.25**2 + 2.625**2
        ("himmelblau", 0.0, 0.0, 170.0),  # 121 + 49
        ("saddle", 1.0, 2.0, -3.0),
        ("rastrigin", 1.0, 1.0, 2.0),  # 20 + 1 - 10 + 1 - 10
        ("rastrigin", 0.5, 0.0, 20.25),  # 20 + 0.25 + 10 - 10
        ("booth", 0.0, 0.0, 74.0),  # 49 + 25
    ],
)
def test_known_values(name, x, y, expected):
    assert float(FUNCTIONS[name].value(x, y)) == pytest.approx(expected, rel=1e-14, abs=1e-13)


@pytest.mark.parametrize("name", NAMES)
def test_gradient_matches_centred_differences(name):
    fn = FUNCTIONS[name]
    xs = np.linspace(*fn.x_range, 11)
    ys = np.linspace(*fn.y_range, 11)
    gx_grid, gy_grid = np.meshgrid(xs, ys)
    rng = np.random.default_rng(3)
    x = np.concatenate([gx_grid.ravel(), rng.uniform(*fn.x_range, 50)])
    y = np.concatenate([gy_grid.ravel(), rng.uniform(*fn.y_range, 50)])
    h = 1e-6
    numeric_x = (fn.value(x + h, y) - fn.value(x - h, y)) / (2 * h)
    numeric_y = (fn.value(x, y + h) - fn.value(x, y - h)) / (2 * h)
    gx, gy = fn.gradient(x, y)
    # Rounding in the difference quotient grows with |f|, so the absolute tolerance follows it.
    atol = 1e-9 * (1.0 + np.abs(fn.value(x, y))) / h
    assert np.all(np.abs(gx - numeric_x) <= atol + 1e-6 * np.abs(gx))
    assert np.all(np.abs(gy - numeric_y) <= atol + 1e-6 * np.abs(gy))
    assert gx.dtype == gy.dtype == np.float64


@pytest.mark.parametrize("name", NAMES)
def test_minima_have_the_minimum_value_and_zero_gradient(name):
    fn = FUNCTIONS[name]
    for mx, my in fn.minima:
        assert float(fn.value(mx, my)) == pytest.approx(fn.min_value, abs=1e-12)
        gx, gy = fn.gradient(mx, my)
        assert abs(float(gx)) < 1e-9 and abs(float(gy)) < 1e-9
    if fn.min_value is not None:
        # Nothing on a fine grid over the plotting window lies below the minimum.
        xg, yg = np.meshgrid(np.linspace(*fn.x_range, 301), np.linspace(*fn.y_range, 301))
        assert fn.value(xg, yg).min() >= fn.min_value - 1e-12


@pytest.mark.parametrize("name", NAMES)
def test_numerical_gradient_agrees_with_the_analytic_one(name):
    fn = FUNCTIONS[name]
    rng = np.random.default_rng(5)
    for x, y in zip(rng.uniform(*fn.x_range, 8), rng.uniform(*fn.y_range, 8), strict=True):
        numeric = np.array(fn.numerical_gradient(x, y))
        analytic = np.array([float(g) for g in fn.gradient(x, y)])
        # The centred difference's error: h² times the third derivatives, and rounding of eps·|f| / h.
        tolerance = 1e-6 * (1.0 + np.abs(analytic)) + 1e-11 * (1.0 + abs(float(fn.value(x, y))))
        assert np.all(np.abs(numeric - analytic) <= tolerance)


def test_the_books_function_2_gradients():
    fn = FUNCTIONS["sphere"]
    for point, book in (((3.0, 4.0), (6.0, 8.0)), ((0.0, 2.0), (0.0, 4.0)), ((3.0, 0.0), (6.0, 0.0))):
        np.testing.assert_allclose(fn.numerical_gradient(*point), book, atol=1e-9)
        np.testing.assert_array_equal([float(g) for g in fn.gradient(*point)], book)
    assert fn.default_start == (-3.0, 4.0)


def test_himmelblau_has_four_distinct_minima():
    fn = FUNCTIONS["himmelblau"]
    assert len(fn.minima) == 4
    assert len({(round(x, 3), round(y, 3)) for x, y in fn.minima}) == 4
    assert (3.0, 2.0) in fn.minima


def test_saddle_has_no_minimum_but_a_stationary_origin():
    fn = FUNCTIONS["saddle"]
    assert fn.minima == [] and fn.min_value is None
    assert [float(g) for g in fn.gradient(0.0, 0.0)] == [0.0, 0.0]
    assert fn.value(0.0, 1.0) < fn.value(0.0, 0.0) < fn.value(1.0, 0.0)


@pytest.mark.parametrize("name", NAMES)
def test_metadata(name):
    fn = FUNCTIONS[name]
    assert fn.name == name
    assert fn.title and fn.description and "\n" not in fn.description
    assert fn.x_range[0] < fn.x_range[1] and fn.y_range[0] < fn.y_range[1]
    assert fn.x_range[0] <= fn.default_start[0] <= fn.x_range[1]
    assert fn.y_range[0] <= fn.default_start[1] <= fn.y_range[1]
    for mx, my in fn.minima:
        assert fn.x_range[0] <= mx <= fn.x_range[1] and fn.y_range[0] <= my <= fn.y_range[1]
    assert FUNCTIONS["book"].default_start == (-7.0, 2.0)


@pytest.mark.parametrize("name", NAMES)
def test_vectorised_over_grids_and_broadcasting(name):
    fn = FUNCTIONS[name]
    xs = np.linspace(*fn.x_range, 7)
    ys = np.linspace(*fn.y_range, 5)
    xg, yg = np.meshgrid(xs, ys)
    values = fn.value(xg, yg)
    gx, gy = fn.gradient(xg, yg)
    assert values.shape == gx.shape == gy.shape == (5, 7)
    # Broadcasting a row against a column gives the same grid.
    np.testing.assert_array_equal(fn.value(xs[None, :], ys[:, None]), values)
    bx, by = fn.gradient(xs[None, :], ys[:, None])
    np.testing.assert_array_equal(bx, gx)
    np.testing.assert_array_equal(by, gy)
    # Point by point equals the grid.
    assert float(fn.value(xs[2], ys[3])) == values[3, 2]


# ----------------------------------------------------------------------------------------------------------
# run_optimizer
# ----------------------------------------------------------------------------------------------------------


OPTIMIZER_FACTORIES = [
    lambda: SGD(lr=0.005),
    lambda: Momentum(lr=0.002),
    lambda: Nesterov(lr=0.002),
    lambda: AdaGrad(lr=0.5),
    lambda: RMSprop(lr=0.05),
    lambda: AdaDelta(),
    lambda: Adam(lr=0.1),
    lambda: AdamW(lr=0.1),
]


@pytest.mark.parametrize("make", OPTIMIZER_FACTORIES, ids=lambda make: type(make()).__name__)
@pytest.mark.parametrize("name", ["book", "himmelblau", "beale"])
def test_run_optimizer_equals_manual_stepping(name, make):
    fn = FUNCTIONS[name]
    trajectory = run_optimizer(fn, make(), steps=40)

    opt = make()
    p = np.array(fn.default_start, dtype=np.float64)
    manual = [p.copy()]
    for _ in range(40):
        gx, gy = fn.gradient(p[0], p[1])
        opt.update({"xy": p}, {"xy": np.array([float(gx), float(gy)])})
        manual.append(p.copy())
    manual = np.array(manual)

    assert trajectory.positions.shape == (41, 2)
    assert not trajectory.diverged and trajectory.diverged_at is None
    assert trajectory.steps_taken == 40
    np.testing.assert_array_equal(trajectory.positions, manual)
    np.testing.assert_allclose(trajectory.values, fn.value(manual[:, 0], manual[:, 1]), rtol=1e-14)
    assert not np.array_equal(manual[-1], manual[0])


def test_run_optimizer_sgd_on_the_book_function_matches_a_scalar_loop():
    # SGD with lr 0.95 multiplies x by (1 - 0.095) and y by (1 - 1.9) each step.
    trajectory = run_optimizer(FUNCTIONS["book"], SGD(lr=0.95), start=(-7.0, 2.0), steps=30)
    x, y = -7.0, 2.0
    for _ in range(30):
        x, y = x - 0.95 * (x / 10.0), y - 0.95 * (2.0 * y)
    np.testing.assert_allclose(trajectory.positions[-1], [x, y], rtol=0, atol=1e-12)
    assert trajectory.positions[-1][0] == pytest.approx(-7.0 * 0.905**30, rel=1e-12)


@pytest.mark.parametrize(
    ("lr", "book"),
    [
        (0.1, (-6.11110793e-10, 8.14814391e-10)),
        (10.0, (-2.58983747e13, -1.29524862e12)),
        (1e-10, (-2.99999994, 3.99999992)),
    ],
)
def test_run_optimizer_with_the_numerical_gradient_is_the_books_gradient_descent(lr, book):
    trajectory = run_optimizer(FUNCTIONS["sphere"], SGD(lr=lr), start=(-3.0, 4.0), steps=100, h=1e-4)
    np.testing.assert_allclose(trajectory.positions[-1], book, rtol=1e-6)
    assert not trajectory.diverged and trajectory.steps_taken == 100


def test_the_analytic_gradient_does_not_stall_where_the_numerical_one_does():
    # With lr 10 every SGD step multiplies the point by 1 - 2·10 = -19: the analytic gradient never rounds
    # to 0, so the point flies on to about 3·19¹⁰⁰, where the book's numerical gradient stopped it at 2.6e13.
    trajectory = run_optimizer(FUNCTIONS["sphere"], SGD(lr=10.0), start=(-3.0, 4.0), steps=100)
    assert trajectory.positions[-1][0] == pytest.approx(-3.0 * 19.0**100, rel=1e-9)


def test_run_optimizer_resets_the_optimizer_so_runs_repeat():
    opt = Adam(lr=0.2)
    first = run_optimizer(FUNCTIONS["rosenbrock"], opt, steps=25)
    second = run_optimizer(FUNCTIONS["rosenbrock"], opt, steps=25)
    np.testing.assert_array_equal(first.positions, second.positions)


def test_steps_to_tolerance():
    fn = FUNCTIONS["booth"]
    trajectory = run_optimizer(fn, Momentum(lr=0.01), steps=300, tol=1e-6)
    k = trajectory.steps_to_tol
    assert k is not None and 0 < k <= 300
    assert trajectory.values[k] <= 1e-6
    assert np.all(trajectory.values[:k] > 1e-6)
    assert run_optimizer(fn, Momentum(lr=0.01), steps=300).steps_to_tol is None
    # Already at the minimum: zero steps.
    assert run_optimizer(fn, SGD(), start=(1.0, 3.0), steps=3, tol=0.0).steps_to_tol == 0
    # Too few steps: never reached.
    assert run_optimizer(fn, SGD(lr=1e-4), steps=5, tol=1e-6).steps_to_tol is None
    # No minimum: no tolerance to reach.
    assert run_optimizer(FUNCTIONS["saddle"], SGD(), steps=5, tol=1.0).steps_to_tol is None


def test_divergence_is_flagged_and_the_path_stops_at_the_last_finite_point():
    # SGD with lr 25 on the book's function multiplies y by (1 - 50) = -49 each step: y_n = 2 * (-49)**n.
    # The value y**2 overflows at the first n with 4 * 49**(2n) above the largest double.
    largest = int(np.finfo(np.float64).max)
    n = next(n for n in range(1, 1000) if 4 * 49 ** (2 * n) > largest)
    trajectory = run_optimizer(FUNCTIONS["book"], SGD(lr=25.0), steps=500)
    assert trajectory.diverged
    assert trajectory.diverged_at == n
    assert trajectory.steps_taken == n - 1
    assert trajectory.positions.shape == (n, 2) and trajectory.values.shape == (n,)
    assert np.all(np.isfinite(trajectory.positions)) and np.all(np.isfinite(trajectory.values))
    assert trajectory.positions[-1][1] == pytest.approx(2.0 * (-49.0) ** (n - 1), rel=1e-12)


def test_zero_steps_and_bad_arguments():
    fn = FUNCTIONS["himmelblau"]
    trajectory = run_optimizer(fn, SGD(), start=[1.0, 1.0], steps=0)
    assert trajectory.positions.tolist() == [[1.0, 1.0]]
    assert trajectory.values.tolist() == [float(fn.value(1.0, 1.0))]
    assert not trajectory.diverged
    with pytest.raises(ValueError, match="start"):
        run_optimizer(fn, SGD(), start=(1.0, 2.0, 3.0), steps=5)
    with pytest.raises(ValueError, match="start"):
        run_optimizer(fn, SGD(), start=(math.nan, 2.0), steps=5)
    with pytest.raises(ValueError, match="-1"):
        run_optimizer(fn, SGD(), steps=-1)
    with pytest.raises(ValueError, match="tol"):
        run_optimizer(fn, SGD(), steps=1, tol=-1.0)


def test_start_array_is_not_modified():
    start = np.array([-7.0, 2.0])
    run_optimizer(FUNCTIONS["book"], SGD(lr=0.5), start=start, steps=10)
    np.testing.assert_array_equal(start, [-7.0, 2.0])


@pytest.mark.parametrize(
    ("make", "shown"),
    [
        (lambda: testfns.get(LONG), "Unknown test function 'xxx"),
        (lambda: testfns.get(None), "Unknown test function None;"),
        (
            lambda: run_optimizer(FUNCTIONS["book"], SGD(), start=["a", "b"]),
            "start must be two finite numbers",
        ),
        (
            lambda: run_optimizer(FUNCTIONS["book"], SGD(), start=[10**400, 0]),
            "start must be two finite numbers",
        ),
        (lambda: run_optimizer(FUNCTIONS["book"], SGD(), start=LONG), "(x, y), got 'xxx"),
        (
            lambda: run_optimizer(FUNCTIONS["book"], SGD(), start=[[1, 2], [3]]),
            "start must be two finite numbers",
        ),
        (
            lambda: run_optimizer(FUNCTIONS["book"], SGD(), steps=1.5),
            "steps must be a whole number of at least 0",
        ),
        (lambda: run_optimizer(FUNCTIONS["book"], SGD(), steps=True), "steps must be a whole number"),
        (
            lambda: run_optimizer(FUNCTIONS["book"], SGD(), tol="x"),
            "tol must be a finite number >= 0 or None",
        ),
        (lambda: run_optimizer(FUNCTIONS["book"], SGD(), tol=math.nan), "tol must be a finite number"),
        (
            lambda: run_optimizer(FUNCTIONS["book"], SGD(), h=0.0),
            "run_optimizer: h must be a finite number > 0",
        ),
        (lambda: FUNCTIONS["book"].numerical_gradient(1.0, 2.0, h=-1.0), "h must be a finite number > 0"),
        (
            lambda: testfns.get_1d("sphere"),
            "Unknown function of one variable 'sphere'; expected one of: book,",
        ),
        (lambda: testfns.get_1d(LONG), "Unknown function of one variable 'xxx"),
    ],
)
def test_bad_settings_raise_settings_error(make, shown):
    assert_settings_error(make, shown)


# ----------------------------------------------------------------------------------------------------------
# Functions of one variable
# ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(testfns.FUNCTIONS_1D))
def test_one_variable_functions_have_their_derivative(name):
    fn = testfns.get_1d(name)
    assert fn.name == name and fn.title and "\n" not in fn.description
    assert fn.x_range[0] <= fn.default_x <= fn.x_range[1]
    x = np.linspace(*fn.x_range, 41)
    h = 1e-6
    numeric = (fn.value(x + h) - fn.value(x - h)) / (2 * h)
    np.testing.assert_allclose(fn.derivative(x), numeric, rtol=1e-6, atol=1e-7)
    assert fn.value(x).shape == fn.derivative(x).shape == (41,)
    assert fn.derivative(2.0).shape == ()


def test_the_books_function_1():
    fn = testfns.get_1d("Book")
    assert float(fn.value(5.0)) == pytest.approx(0.75)
    assert float(fn.derivative(5.0)) == pytest.approx(0.2)
    assert float(fn.derivative(10.0)) == pytest.approx(0.3)
    assert fn.default_x == 5.0 and fn.x_range == (0.0, 20.0)
