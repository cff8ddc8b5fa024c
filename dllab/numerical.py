"""Numerical differentiation, as in chapter 4 of "Deep Learning from Scratch".

The derivative of a function is estimated by the centred difference ``(f(x + h) − f(x − h)) / 2h``: its
error shrinks with ``h²``, where the forward difference ``(f(x + h) − f(x)) / h`` only shrinks with ``h``.
``h`` cannot be made arbitrarily small, though: below about 1e-4 the two values of ``f`` agree in more and
more of their digits and rounding takes over (``h = 1e-50`` gives a derivative of 0), which is why the book
uses ``h = 1e-4``.

:func:`numerical_diff` differentiates a function of one number, :func:`numerical_gradient` a function of an
array of any shape, one element at a time, and :func:`gradient_descent` walks down a function with the
numerical gradient. :func:`central_differences` is the loop they share with the gradient check
(:func:`dllab.gradcheck.gradcheck`): one implementation of the difference quotient in the project; and
:func:`relative_error` is how a gradient check compares two gradients.

Examples
--------
>>> import numpy as np
>>> round(numerical_diff(lambda x: 0.01 * x**2 + 0.1 * x, 5.0), 9)
0.2
>>> numerical_gradient(lambda x: x[0] ** 2 + x[1] ** 2, np.array([3.0, 4.0])).round(6)
array([6., 8.])
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from dllab.errors import SettingsError, quote
from dllab.settings import check_number, check_whole_number

__all__ = [
    "DEFAULT_H",
    "central_differences",
    "gradient_descent",
    "numerical_diff",
    "numerical_gradient",
    "relative_error",
    "tangent_line",
]

#: The book's step: small enough for a good estimate, large enough that rounding does not take over.
DEFAULT_H = 1e-4


def central_differences(
    evaluate: Callable[[], float], array: np.ndarray, h: float, indices: Iterable[int] | None = None
) -> np.ndarray:
    """Centred differences of ``evaluate()`` with respect to elements of ``array``, perturbed in place.

    For each element, ``array`` is set to ``a + h`` and ``a − h`` in turn, ``evaluate()`` is called each
    time, and the element is put back exactly, also when ``evaluate`` raises. ``evaluate`` takes no
    arguments: it reads ``array`` (or something that shares its memory, such as a model's parameters).

    Parameters
    ----------
    evaluate : callable
        Returns the function's value as a number for the current contents of ``array``.
    array : numpy.ndarray
        A writeable floating-point array of any shape and strides; unchanged on return.
    h : float
        The step, a finite number > 0 (not checked here: the public functions check it).
    indices : iterable of int, optional
        Flat (C-order) indices of the elements to differentiate; every element when None.

    Returns
    -------
    numpy.ndarray
        ``(f(a + h) − f(a − h)) / 2h`` for each chosen element, float64, in the order of ``indices``
        (flat, C order, for all elements).
    """
    flat = np.arange(array.size) if indices is None else np.asarray(list(indices), dtype=np.intp)
    if array.ndim == 0:
        where: Iterable[tuple[Any, ...]] = [()] * len(flat)
    else:
        where = zip(*np.unravel_index(flat, array.shape), strict=True)
    out = np.empty(len(flat), dtype=np.float64)
    for j, index in enumerate(where):
        original = array[index]  # a scalar copy, written back bit for bit
        try:
            array[index] = original + h
            plus = evaluate()
            array[index] = original - h
            minus = evaluate()
        finally:
            array[index] = original
        out[j] = (plus - minus) / (2 * h)
    return out


def relative_error(a: Any, b: Any) -> float:
    """How far two gradients differ for their size: ``‖a − b‖ / (‖a‖ + ‖b‖)`` in Euclidean norms.

    The measure of a gradient check: around 1e-7 or less means the two agree as well as a centred difference
    can tell; it is 0 when both are zero and at most 1.

    Parameters
    ----------
    a, b : array_like
        Two gradients of the same shape (e.g. backpropagation's and the numerical one).

    Returns
    -------
    float
        The relative error.

    Examples
    --------
    >>> relative_error([6.0, 8.0], [6.0, 8.0]), relative_error([1.0, 0.0], [-1.0, 0.0])
    (0.0, 1.0)
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if scale == 0 else float(np.linalg.norm(a - b) / scale)


def _check_h(owner: str, h: Any) -> float:
    return check_number(owner, "h", h, minimum=0.0, min_inclusive=False)


def _scalar(owner: str, value: Any) -> float:
    """``value`` as a float when it is one real number (a 0-d array counts); a SettingsError otherwise."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_):
        return float(value)
    if isinstance(value, np.ndarray):
        shown = f"an array of shape {value.shape}" if value.dtype.kind in "biuf" else f"a {value.dtype} array"
        raise SettingsError(f"{owner}: f must return one number (e.g. np.sum(x**2)), got {shown}.")
    raise SettingsError(f"{owner}: f must return one number, got {quote(value)}.")


def _point(owner: str, name: str, x: Any) -> np.ndarray:
    """``x`` as a float64 array: a writeable float64 array itself (to be perturbed in place), anything else
    a new array; integer and lower-precision arrays are refused rather than silently rounded."""
    if isinstance(x, np.ndarray):
        if x.dtype.kind in "biu":
            raise SettingsError(
                f"{owner}: {name} holds integers ({x.dtype}), so x + h would be rounded back to a whole "
                f"number; use floats (np.array([3.0, 4.0])) or convert a copy ({name}.astype(float))."
            )
        if x.dtype != np.float64:
            raise SettingsError(
                f"{owner}: {name} must hold float64 numbers, got {x.dtype} (a step of h is lost to rounding "
                f"in lower precision); convert a copy with {name}.astype(np.float64)."
            )
        if not x.flags.writeable:
            raise SettingsError(f"{owner}: {name} is read-only; pass a writeable copy ({name}.copy()).")
        return x
    return _float_copy(owner, name, x)


def _float_copy(owner: str, name: str, value: Any) -> np.ndarray:
    """``value`` copied into a new float64 array; a SettingsError when it is not numbers."""
    try:
        return np.array(value, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        pass
    raise SettingsError(f"{owner}: {name} must be a number or an array of numbers, got {quote(value)}.")


def numerical_diff(f: Callable[[float], Any], x: float, h: float = DEFAULT_H) -> float:
    """The derivative of a function of one number by the centred difference, as the book's ``numerical_diff``.

    Parameters
    ----------
    f : callable
        ``f(x) -> number``.
    x : float
        Where to differentiate.
    h : float
        The step, a finite number > 0 (the book's 1e-4 by default).

    Returns
    -------
    float
        ``(f(x + h) − f(x − h)) / 2h``.

    Raises
    ------
    SettingsError
        For an ``x`` that is not one finite number, a bad ``h``, or an ``f`` that does not return one number.

    Examples
    --------
    >>> numerical_diff(lambda x: 0.01 * x**2 + 0.1 * x, 10.0)  # exactly 0.3
    0.2999999999986347
    """
    h = _check_h("numerical_diff", h)
    if isinstance(x, np.ndarray) and x.size != 1:
        raise SettingsError(
            f"numerical_diff: x must be one number, got an array of shape {x.shape} (use numerical_gradient)."
        )
    x = check_number("numerical_diff", "x", x.item() if isinstance(x, np.ndarray) else x)
    return (_scalar("numerical_diff", f(x + h)) - _scalar("numerical_diff", f(x - h))) / (2 * h)


def tangent_line(f: Callable[[float], Any], x: float, h: float = DEFAULT_H) -> tuple[float, float]:
    """The tangent of ``f`` at ``x`` with the numerical derivative as slope, as the book's ``tangent_line``.

    Parameters
    ----------
    f : callable
        ``f(x) -> number``.
    x : float
        The point of contact.
    h : float
        The step of :func:`numerical_diff`.

    Returns
    -------
    tuple[float, float]
        ``(slope, intercept)``: the line ``t ↦ slope · t + intercept`` touches ``f`` at ``x``.

    Raises
    ------
    SettingsError
        As :func:`numerical_diff`.
    """
    slope = numerical_diff(f, x, h)
    x = float(x)
    return slope, _scalar("tangent_line", f(x)) - slope * x


def numerical_gradient(f: Callable[[np.ndarray], Any], x: Any, h: float = DEFAULT_H) -> np.ndarray:
    """The gradient of ``f`` at ``x`` by centred differences, one element at a time, for any shape of ``x``.

    As the book's ``numerical_gradient``, ``f`` is called with ``x`` itself while one element is moved by
    ``±h``; the element is put back afterwards, so ``x`` is unchanged on return, also when ``f`` raises.

    Parameters
    ----------
    f : callable
        ``f(x) -> number``, e.g. ``lambda x: np.sum(x**2)``.
    x : numpy.ndarray or array_like
        A float64 array of any shape (used in place), or numbers (a list, a scalar) that are copied into one.
    h : float
        The step, a finite number > 0 (the book's 1e-4 by default).

    Returns
    -------
    numpy.ndarray
        ``df/dx``, float64, shaped like ``x``.

    Raises
    ------
    SettingsError
        For a bad ``h``; an integer ``x`` (the book's pitfall: ``x + h`` would be rounded back to a whole
        number), a float32 or read-only array; or an ``f`` that does not return one number.

    Examples
    --------
    >>> numerical_gradient(lambda x: np.sum(x**2), np.array([[0.0, 2.0], [3.0, 0.0]])).round(6)
    array([[0., 4.],
           [6., 0.]])
    """
    h = _check_h("numerical_gradient", h)
    x = _point("numerical_gradient", "x", x)
    differences = central_differences(lambda: _scalar("numerical_gradient", f(x)), x, h)
    return differences.reshape(x.shape)


def gradient_descent(
    f: Callable[[np.ndarray], Any],
    init_x: Any,
    lr: float = 0.01,
    step_num: int = 100,
    *,
    h: float = DEFAULT_H,
) -> tuple[np.ndarray, np.ndarray]:
    """Walk down ``f`` along its numerical gradient: ``x ← x − lr · ∇f(x)``, as the book's ``gradient_descent``.

    Parameters
    ----------
    f : callable
        ``f(x) -> number``.
    init_x : array_like
        The start, numbers of any shape; it is copied (as float64), never changed.
    lr : float
        The learning rate, a finite number > 0.
    step_num : int
        The number of steps, ``>= 0``.
    h : float
        The step of :func:`numerical_gradient`.

    Returns
    -------
    x : numpy.ndarray
        The final point.
    path : numpy.ndarray
        ``(step_num + 1, *x.shape)``: the start, then the point after each step (the book's ``x_history``
        with the final point added).

    Raises
    ------
    SettingsError
        For an ``init_x`` that is not numbers, a bad ``lr``, ``step_num`` or ``h``, or an ``f`` that does
        not return one number.

    Notes
    -----
    Too large a learning rate makes ``x`` explode, but not to infinity: once ``|x|`` is about 1e12 or more,
    ``x ± h`` rounds back to ``x`` in float64, the numerical gradient is 0 and the walk stops where it is
    (the book's lr = 10 ends near -2.6e13).

    Examples
    --------
    >>> x, path = gradient_descent(lambda x: x[0] ** 2 + x[1] ** 2, [-3.0, 4.0], lr=0.1, step_num=100)
    >>> bool(np.all(np.abs(x) < 1e-9)), path.shape
    (True, (101, 2))
    """
    lr = check_number("gradient_descent", "lr", lr, minimum=0.0, min_inclusive=False)
    step_num = check_whole_number("step_num", step_num, minimum=0)
    h = _check_h("gradient_descent", h)
    x = _float_copy("gradient_descent", "init_x", init_x)
    path = np.empty((step_num + 1, *x.shape))
    path[0] = x
    for step in range(1, step_num + 1):
        x -= lr * numerical_gradient(f, x, h)
        path[step] = x
    return x, path
