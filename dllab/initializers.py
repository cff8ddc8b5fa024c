"""Weight initialisers: how the starting weights are drawn, and why it matters.

The book's experiments (chapter 6) compare a normal distribution with a fixed standard deviation (0.01 or
1.0) against scales that follow the number of inputs ``n`` of a unit (its *fan in*):

* ``"xavier"``: normal with standard deviation ``sqrt(1 / n)``; keeps sigmoid and tanh activations spread out.
* ``"he"``: normal with standard deviation ``sqrt(2 / n)``; makes up for ReLU zeroing half of its inputs.
* ``"xavier_uniform"`` / ``"he_uniform"``: uniform on ``[-a, a]`` with the same variance
  (``a = sqrt(3 / n)`` and ``sqrt(6 / n)``).
* a positive number: normal with that standard deviation (the book's ``weight_init_std``).

Biases always start at zero. The named initialisers are classes in the :data:`INITIALIZERS` registry; a
number stands for :class:`Normal`. :data:`INIT` is the ``init`` setting of the layers with weights.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from dllab.registry import Registry
from dllab.settings import MAX_INIT_STD, Configurable, Setting

__all__ = [
    "INIT",
    "INITIALIZERS",
    "NAMED_INITIALIZERS",
    "HeNormal",
    "HeUniform",
    "Initializer",
    "Normal",
    "XavierNormal",
    "XavierUniform",
    "describe_init",
    "init_std",
    "initialize",
    "resolve",
    "validate_init",
]


class Initializer(Configurable):
    """Base of initialisers: draws a weight array for units with ``fan_in`` inputs.

    Named initialisers scale with the fan in: a normal (or, with ``uniform``, a uniform) distribution of
    variance ``gain / fan_in``. Subclasses set ``name``, ``title`` (the short label, ``"He"``), ``summary``
    (one line: what it is for), ``gain`` and ``uniform``.
    """

    title: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    gain: ClassVar[float] = 1.0
    uniform: ClassVar[bool] = False

    def standard_deviation(self, fan_in: int) -> float:
        """Standard deviation of the weights drawn for a unit with ``fan_in`` inputs."""
        return math.sqrt(self.gain / fan_in)

    def __call__(
        self,
        shape: tuple[int, ...],
        fan_in: int,
        rng: np.random.Generator,
        dtype: np.dtype | type = np.float32,
    ) -> np.ndarray:
        """Draw a weight array of ``shape`` from ``rng``, in ``dtype``."""
        std = self.standard_deviation(fan_in)
        if self.uniform:
            limit = math.sqrt(3.0) * std
            weights = rng.uniform(-limit, limit, size=shape)
        else:
            weights = rng.normal(0.0, std, size=shape)
        return weights.astype(dtype, copy=False)


class HeNormal(Initializer):
    name = "he"
    title = "He"
    summary = "He normal: std sqrt(2 / fan_in), made for ReLU, which zeroes half of its inputs."
    gain = 2.0


class XavierNormal(Initializer):
    name = "xavier"
    title = "Xavier"
    summary = "Xavier normal: std sqrt(1 / fan_in), keeps sigmoid and tanh activations spread out."


class HeUniform(Initializer):
    name = "he_uniform"
    title = "He uniform"
    summary = "He uniform: the same variance as He, drawn from a uniform distribution."
    gain = 2.0
    uniform = True


class XavierUniform(Initializer):
    name = "xavier_uniform"
    title = "Xavier uniform"
    summary = "Xavier uniform: the same variance as Xavier, drawn from a uniform distribution."
    uniform = True


class Normal(Initializer):
    """A normal distribution with a fixed standard deviation, whatever the fan in (the book's
    ``weight_init_std``); a number given as ``init`` means this."""

    name = "normal"
    title = "Normal"
    summary = "Normal with a fixed standard deviation, whatever the layer's size."
    SETTINGS = (
        Setting(
            "std",
            "float",
            0.01,
            "Standard deviation of the weights.",
            "σ",
            minimum=0.0,
            exclusive_minimum=True,
            maximum=MAX_INIT_STD,
        ),
    )
    std: float

    def standard_deviation(self, fan_in: int) -> float:
        return self.std


#: The initialisers a spec names (``"init": "he"``); a number instead means :class:`Normal` with that std.
INITIALIZERS: Registry[Initializer] = Registry(
    "initializer", (HeNormal, XavierNormal, HeUniform, XavierUniform), ignore_case=True
)

#: Every named initialiser with its one-line summary.
NAMED_INITIALIZERS: dict[str, str] = {name: cls.summary for name, cls in INITIALIZERS.items()}

#: The ``init`` setting of the layers that have weights.
INIT = Setting(
    "init",
    "init",
    "he",
    "How the weights start: " + "; ".join(f"{k}: {v}" for k, v in NAMED_INITIALIZERS.items()),
    choices=tuple(INITIALIZERS),
)


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
    return INIT.validate(value)


def resolve(init: str | float) -> Initializer:
    """The initialiser that ``init`` (a name or a standard deviation) stands for."""
    init = validate_init(init)
    return Normal(init) if isinstance(init, float) else INITIALIZERS.create(init)


def describe_init(init: str | float) -> str:
    """Short label of an initialiser: ``"He"``, ``"Xavier uniform"``, ``"std 0.01"``."""
    init = validate_init(init)
    return f"std {init:g}" if isinstance(init, float) else INITIALIZERS[init].title


def init_std(init: str | float, fan_in: int) -> float:
    """Standard deviation of the weights that ``init`` draws for a unit with ``fan_in`` inputs."""
    return resolve(init).standard_deviation(fan_in)


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
    return resolve(init)(shape, fan_in, rng, dtype)
