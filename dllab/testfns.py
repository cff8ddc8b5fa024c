"""Test functions for the optimizer playground, with analytic derivatives, and a driver that runs an optimizer.

Each :class:`Function2D` is vectorised (``value`` and ``gradient`` take scalars or arrays, e.g. a contour grid)
and knows its minima and a plotting window; its :meth:`~Function2D.numerical_gradient` is the book's centred
difference (:func:`dllab.numerical_gradient`). :func:`run_optimizer` moves a point across a function with any
optimizer from :mod:`dllab.optimizers`, through the same ``update(params, grads)`` call that trains networks,
as the book's ``ch06/optimizer_compare_naive.py`` does, with the analytic or the numerical gradient.
:class:`Function1D` is a function of one variable with its derivative, for tangents (the book's figure 4-7).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from dllab.errors import SettingsError, quote
from dllab.numerical import DEFAULT_H, numerical_gradient
from dllab.optimizers import Optimizer, check_number, check_whole_number

__all__ = [
    "FUNCTIONS",
    "FUNCTIONS_1D",
    "Function1D",
    "Function2D",
    "Trajectory",
    "get",
    "get_1d",
    "run_optimizer",
]

ArrayLike = float | np.ndarray
_Pair = tuple[float, float]


@dataclass(frozen=True, eq=False)
class Function2D:
    """A function of two variables with its analytic gradient.

    Attributes
    ----------
    name : str
        Registry key (``"rosenbrock"``).
    title : str
        Display name with the formula.
    description : str
        One line saying what the function shows about optimizers.
    minima : list[tuple[float, float]]
        Global minima (empty when the function is unbounded below).
    min_value : float or None
        Value at the global minima, or None when there is none.
    default_start : tuple[float, float]
        A starting point that makes a good demonstration.
    x_range, y_range : tuple[float, float]
        Plotting window.
    """

    name: str
    title: str
    description: str
    _value: Callable[[np.ndarray, np.ndarray], np.ndarray]
    _gradient: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
    minima: list[_Pair]
    min_value: float | None
    default_start: _Pair
    x_range: _Pair
    y_range: _Pair

    def value(self, x: ArrayLike, y: ArrayLike) -> np.ndarray:
        """Evaluate the function in float64, broadcasting ``x`` against ``y``.

        Parameters
        ----------
        x, y : float or numpy.ndarray
            Coordinates (e.g. the two arrays of ``numpy.meshgrid``).

        Returns
        -------
        numpy.ndarray
            Values with the broadcast shape (a 0-d array for scalar input).
        """
        xa, ya = _as_float_pair(x, y)
        return np.asarray(self._value(xa, ya), dtype=np.float64)

    def gradient(self, x: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """Evaluate the analytic gradient in float64, broadcasting ``x`` against ``y``.

        Parameters
        ----------
        x, y : float or numpy.ndarray
            Coordinates.

        Returns
        -------
        tuple[numpy.ndarray, numpy.ndarray]
            ``(df/dx, df/dy)``, each with the broadcast shape.
        """
        xa, ya = _as_float_pair(x, y)
        gx, gy = self._gradient(xa, ya)
        shape = xa.shape
        return np.broadcast_to(gx, shape).astype(np.float64), np.broadcast_to(gy, shape).astype(np.float64)

    def numerical_gradient(self, x: float, y: float, h: float = DEFAULT_H) -> tuple[float, float]:
        """The gradient at one point by the book's centred difference (:func:`dllab.numerical_gradient`).

        Parameters
        ----------
        x, y : float
            The point.
        h : float
            The step, a finite number > 0.

        Returns
        -------
        tuple[float, float]
            ``(df/dx, df/dy)`` estimated from four values of the function.

        Raises
        ------
        SettingsError
            For a bad ``h`` or a point that is not two numbers.
        """
        gx, gy = numerical_gradient(self._value_at, [x, y], h)
        return float(gx), float(gy)

    def _value_at(self, point: np.ndarray) -> np.ndarray:
        return self.value(point[0], point[1])

    def __repr__(self) -> str:
        return f"Function2D({self.name!r})"


def _as_float_pair(x: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    xa, ya = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    return xa, ya


# ----------------------------------------------------------------------------------------------------------
# The functions
# ----------------------------------------------------------------------------------------------------------


def _book(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return x**2 / 20.0 + y**2


def _book_grad(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return x / 10.0, 2.0 * y


def _sphere(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return x**2 + y**2


def _sphere_grad(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return 2.0 * x, 2.0 * y


def _rosenbrock(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (1.0 - x) ** 2 + 100.0 * (y - x**2) ** 2


def _rosenbrock_grad(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r = y - x**2
    return -2.0 * (1.0 - x) - 400.0 * x * r, 200.0 * r


def _beale_terms(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return 1.5 - x + x * y, 2.25 - x + x * y**2, 2.625 - x + x * y**3


def _beale(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    a, b, c = _beale_terms(x, y)
    return a**2 + b**2 + c**2


def _beale_grad(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b, c = _beale_terms(x, y)
    gx = 2.0 * (a * (y - 1.0) + b * (y**2 - 1.0) + c * (y**3 - 1.0))
    gy = 2.0 * x * (a + 2.0 * b * y + 3.0 * c * y**2)
    return gx, gy


def _himmelblau(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (x**2 + y - 11.0) ** 2 + (x + y**2 - 7.0) ** 2


def _himmelblau_grad(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = x**2 + y - 11.0
    b = x + y**2 - 7.0
    return 4.0 * x * a + 2.0 * b, 2.0 * a + 4.0 * y * b


def _saddle(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return x**2 - y**2


def _saddle_grad(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return 2.0 * x, -2.0 * y


def _rastrigin(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    two_pi = 2.0 * np.pi
    return 20.0 + x**2 - 10.0 * np.cos(two_pi * x) + y**2 - 10.0 * np.cos(two_pi * y)


def _rastrigin_grad(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    two_pi = 2.0 * np.pi
    return 2.0 * x + 10.0 * two_pi * np.sin(two_pi * x), 2.0 * y + 10.0 * two_pi * np.sin(two_pi * y)


def _booth(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (x + 2.0 * y - 7.0) ** 2 + (2.0 * x + y - 5.0) ** 2


def _booth_grad(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = x + 2.0 * y - 7.0
    b = 2.0 * x + y - 5.0
    return 2.0 * a + 4.0 * b, 4.0 * a + 2.0 * b


# Himmelblau's three irrational minima, refined by Newton's method to full double precision.
_HIMMELBLAU_MINIMA: list[_Pair] = [
    (3.0, 2.0),
    (-2.805118086952745, 3.131312518250573),
    (-3.779310253377747, -3.283185991286169),
    (3.5844283403304917, -1.8481265269644036),
]

_ALL = (
    Function2D(
        "book",
        "x²/20 + y² (the book's function)",
        "An elongated bowl: steep in y, almost flat in x, so plain SGD zig-zags.",
        _book,
        _book_grad,
        [(0.0, 0.0)],
        0.0,
        (-7.0, 2.0),
        (-10.0, 10.0),
        (-5.0, 5.0),
    ),
    Function2D(
        "sphere",
        "x² + y² (the book's function_2)",
        "The book's round bowl of chapter 4: every −∇f points straight at the minimum and shrinks near it.",
        _sphere,
        _sphere_grad,
        [(0.0, 0.0)],
        0.0,
        (-3.0, 4.0),
        (-5.0, 5.0),
        (-5.0, 5.0),
    ),
    Function2D(
        "rosenbrock",
        "Rosenbrock (1 − x)² + 100(y − x²)²",
        "A curved, narrow valley: finding it is easy, following it to (1, 1) is slow.",
        _rosenbrock,
        _rosenbrock_grad,
        [(1.0, 1.0)],
        0.0,
        (-1.5, 2.0),
        (-2.0, 2.0),
        (-1.0, 3.0),
    ),
    Function2D(
        "beale",
        "Beale",
        "Flat plateaus and sharp ridges around a minimum at (3, 0.5): step sizes matter.",
        _beale,
        _beale_grad,
        [(3.0, 0.5)],
        0.0,
        (1.0, 1.5),
        (-4.5, 4.5),
        (-4.5, 4.5),
    ),
    Function2D(
        "himmelblau",
        "Himmelblau (x² + y − 11)² + (x + y² − 7)²",
        "Four equal minima: which one an optimizer finds depends on where it starts.",
        _himmelblau,
        _himmelblau_grad,
        list(_HIMMELBLAU_MINIMA),
        0.0,
        (0.0, 0.0),
        (-5.0, 5.0),
        (-5.0, 5.0),
    ),
    Function2D(
        "saddle",
        "Saddle x² − y²",
        "A saddle point at the origin and no minimum: can the optimizer escape along y?",
        _saddle,
        _saddle_grad,
        [],
        None,
        (-4.0, 0.01),
        (-5.0, 5.0),
        (-5.0, 5.0),
    ),
    Function2D(
        "rastrigin",
        "Rastrigin 20 + Σ (v² − 10 cos 2πv)",
        "Many regular local minima around the global one at the origin: momentum can roll through them.",
        _rastrigin,
        _rastrigin_grad,
        [(0.0, 0.0)],
        0.0,
        (3.2, 2.4),
        (-5.12, 5.12),
        (-5.12, 5.12),
    ),
    Function2D(
        "booth",
        "Booth (x + 2y − 7)² + (2x + y − 5)²",
        "A tilted quadratic bowl with its minimum at (1, 3): every optimizer should get there.",
        _booth,
        _booth_grad,
        [(1.0, 3.0)],
        0.0,
        (-8.0, 7.0),
        (-10.0, 10.0),
        (-10.0, 10.0),
    ),
)

FUNCTIONS: dict[str, Function2D] = {fn.name: fn for fn in _ALL}


def get(name: str) -> Function2D:
    """Return a test function by name.

    Parameters
    ----------
    name : str
        One of ``FUNCTIONS`` (case-insensitive): book, sphere, rosenbrock, beale, himmelblau, saddle, rastrigin,
        booth.

    Returns
    -------
    Function2D
        The function.

    Raises
    ------
    SettingsError
        For an unknown name.
    """
    return _lookup(FUNCTIONS, name, "test function")


def _lookup(functions: dict[str, Any], name: Any, kind: str) -> Any:
    if not isinstance(name, str) or name.lower() not in functions:
        raise SettingsError(f"Unknown {kind} {quote(name)}; expected one of: {', '.join(functions)}.")
    return functions[name.lower()]


# ----------------------------------------------------------------------------------------------------------
# Functions of one variable
# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Function1D:
    """A function of one variable with its analytic derivative, for tangents and numerical derivatives.

    Attributes
    ----------
    name : str
        Registry key (``"book"``).
    title : str
        Display name with the formula.
    description : str
        One line saying what the function shows.
    default_x : float
        Where a tangent makes a good first demonstration.
    x_range : tuple[float, float]
        Plotting window.
    """

    name: str
    title: str
    description: str
    _value: Callable[[np.ndarray], np.ndarray]
    _derivative: Callable[[np.ndarray], np.ndarray]
    default_x: float
    x_range: _Pair

    def value(self, x: ArrayLike) -> np.ndarray:
        """Evaluate the function in float64 (elementwise for an array)."""
        return np.asarray(self._value(np.asarray(x, dtype=np.float64)), dtype=np.float64)

    def derivative(self, x: ArrayLike) -> np.ndarray:
        """Evaluate the analytic derivative in float64 (elementwise for an array)."""
        xa = np.asarray(x, dtype=np.float64)
        return np.broadcast_to(self._derivative(xa), xa.shape).astype(np.float64)

    def __repr__(self) -> str:
        return f"Function1D({self.name!r})"


_ALL_1D = (
    Function1D(
        "book",
        "0.01x² + 0.1x (the book's function_1)",
        "The book's figure 4-7: its derivative 0.02x + 0.1 is 0.2 at x = 5 and 0.3 at x = 10.",
        lambda x: 0.01 * x**2 + 0.1 * x,
        lambda x: 0.02 * x + 0.1,
        5.0,
        (0.0, 20.0),
    ),
    Function1D(
        "sine",
        "sin x",
        "The slope swings between 1 and −1 and is 0 at every peak and trough.",
        np.sin,
        np.cos,
        1.0,
        (-2.0 * np.pi, 2.0 * np.pi),
    ),
    Function1D(
        "cubic",
        "x³ − 3x",
        "A local maximum at x = −1 and a minimum at x = 1, where the tangent is flat.",
        lambda x: x**3 - 3.0 * x,
        lambda x: 3.0 * x**2 - 3.0,
        1.5,
        (-2.5, 2.5),
    ),
)

FUNCTIONS_1D: dict[str, Function1D] = {fn.name: fn for fn in _ALL_1D}


def get_1d(name: str) -> Function1D:
    """Return a function of one variable by name.

    Parameters
    ----------
    name : str
        One of ``FUNCTIONS_1D`` (case-insensitive): book, sine, cubic.

    Returns
    -------
    Function1D
        The function.

    Raises
    ------
    SettingsError
        For an unknown name.
    """
    return _lookup(FUNCTIONS_1D, name, "function of one variable")


# ----------------------------------------------------------------------------------------------------------
# Running an optimizer
# ----------------------------------------------------------------------------------------------------------


def _start_point(start: Any) -> np.ndarray:
    """``start`` as a float64 array of two finite numbers (a new array: the run moves it)."""
    try:
        point = np.array(start, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        point = None
    if point is None or point.shape != (2,) or not np.all(np.isfinite(point)):
        raise SettingsError(f"start must be two finite numbers (x, y), got {quote(start)}.")
    return point


@dataclass(frozen=True, eq=False)
class Trajectory:
    """The path of one optimizer over a test function.

    Attributes
    ----------
    positions : numpy.ndarray
        ``(steps_taken + 1, 2)`` float64 points, starting with the start point. ``steps_taken`` equals the
        requested ``steps`` unless the run diverged, in which case the path stops at the last finite point.
    values : numpy.ndarray
        ``(steps_taken + 1,)`` function values at ``positions``.
    steps_to_tol : int or None
        The first step after which ``value - min_value <= tol`` (0 if the start already is), or None when no
        ``tol`` was given, the function has no minimum, or the tolerance was never reached.
    diverged : bool
        Whether the point, its value or its gradient became infinite or NaN.
    diverged_at : int or None
        The step whose update produced the non-finite number (the path holds the points before it).
    """

    positions: np.ndarray
    values: np.ndarray
    steps_to_tol: int | None
    diverged: bool
    diverged_at: int | None

    @property
    def steps_taken(self) -> int:
        """Number of updates whose result is in ``positions``."""
        return len(self.positions) - 1


def run_optimizer(
    fn: Function2D,
    optimizer: Optimizer,
    start: Sequence[float] | np.ndarray | None = None,
    steps: int = 100,
    tol: float | None = None,
    h: float | None = None,
) -> Trajectory:
    """Move a point across ``fn`` with ``optimizer`` and record where it goes.

    The optimizer is :meth:`~dllab.optimizers.Optimizer.reset` first and then driven exactly like network
    training: ``optimizer.update({"xy": p}, {"xy": grad})`` with ``p`` a float64 array of shape (2,).
    Overflow inside the run is not warned about; it ends the run and is reported as divergence.

    Parameters
    ----------
    fn : Function2D
        The function.
    optimizer : Optimizer
        Any optimizer from :mod:`dllab.optimizers` (its state is reset).
    start : sequence of two floats, optional
        Starting point; ``fn.default_start`` when None.
    steps : int
        Number of updates, ``>= 0``.
    tol : float, optional
        Tolerance on ``value - fn.min_value`` for ``steps_to_tol``.
    h : float, optional
        None follows the analytic gradient; a step ``h > 0`` follows the book's numerical gradient
        (:meth:`Function2D.numerical_gradient`) instead, rounding and all: far from the origin, where
        ``x ± h`` rounds to ``x``, it is 0 and the point stops (the book's lr = 10 lesson of chapter 4).

    Returns
    -------
    Trajectory
        The path, its values, when it reached the tolerance, and whether it diverged.

    Raises
    ------
    SettingsError
        For a start that is not two finite numbers, a negative ``steps``, a ``tol`` that is not a finite
        number ``>= 0`` or an ``h`` that is not a finite number ``> 0``.
    """
    point = _start_point(fn.default_start if start is None else start)
    steps = check_whole_number("steps", steps, minimum=0)
    tol = check_number("run_optimizer", "tol", tol, minimum=0.0, allow_none=True)
    h = check_number("run_optimizer", "h", h, minimum=0.0, min_inclusive=False, allow_none=True)

    optimizer.reset()
    positions = np.empty((steps + 1, 2))
    values = np.empty(steps + 1)
    positions[0] = point
    values[0] = fn.value(point[0], point[1])
    params = {"xy": point}
    grad = np.empty(2)
    taken = steps
    diverged_at: int | None = None
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        for step in range(1, steps + 1):
            if h is None:
                grad[0], grad[1] = fn.gradient(point[0], point[1])
            else:
                grad[0], grad[1] = fn.numerical_gradient(point[0], point[1], h)
            if not np.all(np.isfinite(grad)):
                diverged_at, taken = step, step - 1
                break
            optimizer.update(params, {"xy": grad})
            value = fn.value(point[0], point[1])
            if not (np.all(np.isfinite(point)) and np.isfinite(value)):
                diverged_at, taken = step, step - 1
                break
            positions[step] = point
            values[step] = value

    positions = positions[: taken + 1].copy()
    values = values[: taken + 1].copy()
    steps_to_tol = None
    if tol is not None and fn.min_value is not None:
        reached = np.flatnonzero(values - fn.min_value <= tol)
        if reached.size:
            steps_to_tol = int(reached[0])
    return Trajectory(positions, values, steps_to_tol, diverged_at is not None, diverged_at)
