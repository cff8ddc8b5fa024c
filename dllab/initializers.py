"""Weight initialisers: how the starting weights are drawn, and why it matters.

The book's experiments (chapter 6) compare a normal distribution with a fixed standard deviation (0.01 or
1.0) against scales that follow the number of inputs ``n`` of a unit (its *fan in*):

* ``"xavier"``: normal with standard deviation ``sqrt(1 / n)``; keeps sigmoid and tanh activations spread out.
* ``"he"``: normal with standard deviation ``sqrt(2 / n)``; makes up for ReLU zeroing half of its inputs.
* ``"xavier_uniform"`` / ``"he_uniform"``: uniform on ``[-a, a]`` with the same variance
  (``a = sqrt(3 / n)`` and ``sqrt(6 / n)``).
* a positive number: normal with that standard deviation (the book's ``weight_init_std``).

Biases always start at zero.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from dllab.errors import SettingsError, quote
from dllab.optimizers import finite_number

NAMED_INITIALIZERS: dict[str, str] = {
    "he": "He normal: std sqrt(2 / fan_in), made for ReLU, which zeroes half of its inputs.",
    "xavier": "Xavier normal: std sqrt(1 / fan_in), keeps sigmoid and tanh activations spread out.",
    "he_uniform": "He uniform: the same variance as He, drawn from a uniform distribution.",
    "xavier_uniform": "Xavier uniform: the same variance as Xavier, drawn from a uniform distribution.",
}


def validate_init(value: object) -> str | float:
    """Return ``value`` as a valid initialiser setting, or raise ``SettingsError`` saying why it is not one.

    Parameters
    ----------
    value
        One of ``"he"``, ``"xavier"``, ``"he_uniform"``, ``"xavier_uniform"`` (any case), or a positive
        number, also as text (the standard deviation of a normal distribution).

    Returns
    -------
    str or float
        The name in lower case, or the standard deviation as a float.

    Raises
    ------
    SettingsError
        For an unknown name, a value that is neither a name nor a number, or a standard deviation that is
        not a finite positive number.
    """
    std = value
    if isinstance(value, str):
        key = value.strip().lower()
        if key in NAMED_INITIALIZERS:
            return key
        try:
            std = float(key)
        except ValueError:
            names = ", ".join(f'"{n}"' for n in NAMED_INITIALIZERS)
            raise SettingsError(
                f"init must be one of {names} or a standard deviation, got {quote(value)}"
            ) from None
    elif isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise SettingsError(f"init must be a name or a standard deviation, got {quote(value)}")
    number = finite_number(std)
    if number is None or number <= 0:
        raise SettingsError(f"init standard deviation must be a positive number, got {quote(value)}")
    return number


def init_std(init: str | float, fan_in: int) -> float:
    """Standard deviation of the weights that ``init`` draws for a unit with ``fan_in`` inputs."""
    init = validate_init(init)
    if isinstance(init, float):
        return init
    gain = 2.0 if init.startswith("he") else 1.0
    return math.sqrt(gain / fan_in)


def initialize(
    init: str | float,
    shape: tuple[int, ...],
    fan_in: int,
    rng: np.random.Generator,
    dtype: np.dtype | type = np.float32,
) -> np.ndarray:
    """Draw a weight array of ``shape`` for units with ``fan_in`` inputs.

    Parameters
    ----------
    init
        Initialiser name or standard deviation (see the module docstring).
    shape
        Shape of the weight array.
    fan_in
        Number of inputs of one unit: ``in_features`` for Dense, ``in_channels * kh * kw`` for Conv2D.
    rng
        The generator every random draw comes from.
    dtype
        Floating point type of the result.
    """
    init = validate_init(init)
    std = init_std(init, fan_in)
    if isinstance(init, str) and init.endswith("_uniform"):
        limit = math.sqrt(3.0) * std
        weights = rng.uniform(-limit, limit, size=shape)
    else:
        weights = rng.normal(0.0, std, size=shape)
    return weights.astype(dtype, copy=False)
