"""Settings: the one description of a value a user sets, and the checks every setting goes through.

A :class:`Setting` describes one keyword of a layer, an optimizer, a schedule or an initialiser: its kind, its
default, the bounds a value must keep (the constructor refuses anything else), the range and scale an editor
offers, whether ``None`` switches it off, a label with proper symbols (``β₁``) and a one-line help. The classes
that take settings list them in ``SETTINGS`` and validate from them (:func:`configure`), so a value is refused
the same way, with the same sentence, whether it comes from a script, a file, the command line or the app.

The plain checks of arguments that are not settings (a number of steps, a seed) live here too:
:func:`finite_number`, :func:`check_number` and :func:`check_whole_number`.
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from dllab.errors import SettingsError, quote

__all__ = [
    "KINDS",
    "MAX_INIT_STD",
    "MAX_INTEGER",
    "Configurable",
    "Setting",
    "check_names",
    "check_number",
    "check_whole_number",
    "configure",
    "finite_number",
    "shown",
]

#: The largest value an integer setting (units, filters, kernel size, stride, padding) may have.
MAX_INTEGER = 10**9

#: The largest standard deviation an initialiser may draw with: weights stay far inside float16's range (a normal
#: draw rarely passes 6 standard deviations), and no activation uses anything wider.
MAX_INIT_STD = 1000.0

#: What a setting holds: a whole number, a real number, one of a few names, a size (an int or a pair of ints),
#: padding (an int, ``"same"`` or ``"valid"``) or an initialiser (one of ``choices`` or a standard deviation).
KINDS = ("int", "float", "choice", "size", "padding", "init")


def finite_number(value: Any) -> float | None:
    """``value`` as a finite Python float, or None when it cannot be one.

    Parameters
    ----------
    value : Any
        The value received.

    Returns
    -------
    float or None
        ``float(value)`` for a real number (int, float, NumPy scalar, fraction) whose float is finite; None
        for booleans, strings, None and other objects, for NaN and infinities, and for integers too large
        for a float.

    Examples
    --------
    >>> finite_number(3), finite_number(True), finite_number("3"), finite_number(10**400)
    (3.0, None, None, None)
    """
    if not isinstance(value, numbers.Real) or isinstance(value, bool | np.bool_):
        return None
    try:
        number = float(value)
    except (OverflowError, TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def shown(value: Any) -> str:
    """``value`` as an error message quotes it (:func:`dllab.errors.quote`), also when it cannot be printed.

    An integer of thousands of digits cannot be turned into text (Python refuses), and neither can a value
    nested deeper than the interpreter recurses; such a value is only described, so that composing the
    message about a bad value never fails itself.

    Examples
    --------
    >>> shown("dense")
    "'dense'"
    >>> "too" in shown(10**5000)
    True
    """
    try:
        return quote(value)
    except (ValueError, RecursionError):
        return "an integer too large to show" if isinstance(value, int) else "a value too large to show"


def _prefix(owner: str | None) -> str:
    return f"{owner}: " if owner else ""


@dataclass(frozen=True)
class Setting:
    """One setting: what it holds, its default, the values it accepts and how an editor shows it.

    Parameters
    ----------
    name : str
        The keyword (and key in a spec or a config).
    kind : str
        One of :data:`KINDS`.
    default : Any
        The value when none is given; ``None`` means "off" (only when ``optional``).
    help : str
        One-line explanation, for a tooltip.
    label : str
        What a form shows, with proper symbols (``"β₁"``, ``"Learning rate"``); by default the name with
        spaces (``"kernel_size"`` -> ``"Kernel size"``).
    minimum, maximum : float, optional
        Bounds a value must keep; ``None`` means unbounded on that side. Integers are never above
        :data:`MAX_INTEGER`.
    exclusive_minimum, exclusive_maximum : bool
        Whether the bound itself is refused (``eps > 0``, ``momentum < 1``).
    optional : bool
        Whether ``None`` is accepted, meaning "off" (``clip_norm``).
    choices : tuple of str
        The names a ``"choice"`` or ``"init"`` setting accepts (case-insensitive).
    editor_range : tuple of float, optional
        The range an editor suggests (a slider's ends); not a limit, any valid value may be typed.
    log_scale : bool
        Whether an editor moves on a logarithmic scale (learning rates, epsilons).
    step : float, optional
        An editor's arrow step (1 for a number of epochs); ``None`` steps to round numbers (1, 2, 5, 10, ...
        on a log scale).
    """

    name: str
    kind: str
    default: Any
    help: str = ""
    label: str = ""
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    exclusive_maximum: bool = False
    optional: bool = False
    choices: tuple[str, ...] = ()
    editor_range: tuple[float, float] | None = None
    log_scale: bool = False
    step: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(
                f"setting {self.name!r}: kind must be one of {', '.join(KINDS)}, got {self.kind!r}"
            )
        if not self.label:
            object.__setattr__(self, "label", self.name.replace("_", " ").capitalize())
        self.validate(self.default)  # a description that refuses its own default is a bug

    @property
    def is_integer(self) -> bool:
        """Whether the value is a whole number (or numbers): ``int``, ``size`` and ``padding``."""
        return self.kind in ("int", "size", "padding")

    def validate(self, value: Any, owner: str | None = None) -> Any:
        """``value`` in canonical form, or :class:`~dllab.errors.SettingsError` with one sentence saying why not.

        Parameters
        ----------
        value : Any
            The value received.
        owner : str, optional
            What the setting belongs to, put before the message (``"Adam: lr must be at least 0, got -1"``).
            A layer gives none: the spec's error names the layer.

        Returns
        -------
        Any
            An ``int`` or ``float``; a name in lower case; a size as an int or a pair ``[h, w]`` of different
            ints; ``None`` for "off".

        Examples
        --------
        >>> Setting("rate", "float", 0.5, minimum=0.0, maximum=1.0, exclusive_maximum=True).validate(1)
        Traceback (most recent call last):
        ...
        dllab.errors.SettingsError: rate must be below 1, got 1
        """
        if value is None and self.optional:
            return None
        if self.kind == "init":
            return self._init(value, owner)
        if self.kind == "choice":
            if isinstance(value, str) and value.strip().lower() in self.choices:
                return value.strip().lower()
            raise self._refuse(f"one of {', '.join(self.choices)}", value, owner)
        if self.kind == "padding" and isinstance(value, str):
            if value.lower() in ("same", "valid"):
                return value.lower()
            raise self._refuse('an int, "same" or "valid"', value, owner)
        if self.kind == "size" and isinstance(value, list | tuple):
            if len(value) != 2:
                raise self._refuse("an int or a pair of ints", value, owner)
            first, second = (self._number(v, owner) for v in value)
            return first if first == second else [first, second]
        return self._number(value, owner)

    def _refuse(self, requirement: str, value: Any, owner: str | None) -> SettingsError:
        return SettingsError(f"{_prefix(owner)}{self.name} must be {requirement}, got {shown(value)}")

    def _number(self, value: Any, owner: str | None) -> int | float:
        integer = self.is_integer
        kind = "an integer" if integer else "a finite number"
        if self.optional:
            kind += " or None (off)"
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise self._refuse(kind, value, owner)
        if integer and isinstance(value, numbers.Integral):  # exact, of any size: never through a float
            number: int | float = int(value)
        else:
            real = finite_number(value)  # None for NaN, infinities and integers too large for a float
            if real is None or (integer and not real.is_integer()):
                raise self._refuse(kind, value, owner)
            number = int(real) if integer else real
        if self.minimum is not None:
            low = number <= self.minimum if self.exclusive_minimum else number < self.minimum
            if low:
                bound = "above" if self.exclusive_minimum else "at least"
                raise self._refuse(f"{bound} {self._bound_text(self.minimum)}", value, owner)
        maximum = self.maximum
        if integer and (maximum is None or maximum > MAX_INTEGER):
            maximum = MAX_INTEGER
        if maximum is not None:
            high = number >= maximum if self.exclusive_maximum else number > maximum
            if high:
                bound = "below" if self.exclusive_maximum else "at most"
                raise self._refuse(f"{bound} {self._bound_text(maximum)}", value, owner)
        return number

    def _bound_text(self, bound: float) -> str:
        return f"{int(bound):,}" if self.is_integer else f"{bound:g}"

    def _init(self, value: Any, owner: str | None) -> str | float:
        std = value
        if isinstance(value, str):
            key = value.strip().lower()
            if key in self.choices:
                return key
            try:
                std = float(key)
            except ValueError:
                names = ", ".join(f'"{n}"' for n in self.choices)
                raise self._refuse(f"one of {names} or a standard deviation", value, owner) from None
        elif isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise self._refuse("a name or a standard deviation", value, owner)
        number = finite_number(std)
        if number is None or number <= 0:
            raise SettingsError(
                f"{_prefix(owner)}{self.name} standard deviation must be a positive number, got {shown(value)}"
            )
        if number > MAX_INIT_STD:
            raise SettingsError(
                f"{_prefix(owner)}{self.name} standard deviation must be at most {MAX_INIT_STD:g}, got {shown(value)}"
            )
        return number


def check_names(
    settings: Sequence[Setting], names: Iterable[Any], owner: str | None = None, *, extra: Iterable[str] = ()
) -> None:
    """Refuse the first of ``names`` that is none of the ``settings`` (nor one of ``extra``).

    Raises
    ------
    SettingsError
        ``"unknown setting 'size' (allowed: units, init)"``, after ``owner`` when given.
    """
    allowed = [s.name for s in settings]
    known = {*allowed, *extra}
    unknown = [name for name in names if name not in known]
    if unknown:
        listed = ", ".join(allowed) or "no settings"
        raise SettingsError(f"{_prefix(owner)}unknown setting {shown(unknown[0])} (allowed: {listed})")


def configure(
    settings: Sequence[Setting], values: Mapping[str, Any], owner: str | None = None
) -> dict[str, Any]:
    """Every setting's value, validated, in the order of ``settings``; defaults for the ones not given.

    Raises
    ------
    SettingsError
        For a name that is none of the settings, or a value its setting refuses.
    """
    check_names(settings, values, owner)
    return {s.name: s.validate(values.get(s.name, s.default), owner) for s in settings}


class Configurable:
    """Base of objects made from settings and found by ``name`` in a :class:`~dllab.registry.Registry`:
    optimizers, schedules, initialisers.

    Subclasses list their :class:`Setting` s in ``SETTINGS``; the constructor validates the values from them
    and keeps each as an attribute of the same name. ``get_config()`` and ``Registry.create`` round-trip.

    The settings are the one place a default is written: each subclass's signature is made from them, in
    their order, with the names in ``KEYWORD_ONLY`` after a ``*`` (``Momentum(lr=0.01, momentum=0.9, *,
    weight_decay=0.0, clip_norm=None)``), so ``help()`` and ``inspect.signature`` show the real defaults and a
    value may be passed by position or by name.
    """

    name: ClassVar[str] = ""
    SETTINGS: ClassVar[tuple[Setting, ...]] = ()
    KEYWORD_ONLY: ClassVar[frozenset[str]] = frozenset()
    __signature__: ClassVar[inspect.Signature]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        ordered = sorted(cls.SETTINGS, key=lambda s: s.name in cls.KEYWORD_ONLY)  # stable: keeps the order
        cls.__signature__ = inspect.Signature(
            [
                inspect.Parameter(
                    s.name,
                    inspect.Parameter.KEYWORD_ONLY
                    if s.name in cls.KEYWORD_ONLY
                    else inspect.Parameter.POSITIONAL_OR_KEYWORD,
                    default=s.default,
                )
                for s in ordered
            ]
        )

    def __init__(self, *args: Any, **values: Any) -> None:
        owner = type(self).__name__
        positional = [s.name for s in self.SETTINGS if s.name not in self.KEYWORD_ONLY]
        if len(args) > len(positional):
            raise SettingsError(
                f"{owner} takes at most {len(positional)} values by position ({', '.join(positional)}), "
                f"got {len(args)}"
            )
        for name, value in zip(positional, args, strict=False):
            if name in values:
                raise SettingsError(f"{owner}: {name} is given twice, by position and by name")
            values[name] = value
        for key, value in configure(self.SETTINGS, values, owner).items():
            setattr(self, key, value)

    def get_config(self) -> dict[str, Any]:
        """The configuration as a plain, JSON-serialisable dict: ``{"type": <registry name>, <setting>: value}``.

        Returns
        -------
        dict[str, Any]
            Input for the registry's ``from_config``.
        """
        return {"type": self.name, **{s.name: getattr(self, s.name) for s in self.SETTINGS}}

    def __repr__(self) -> str:
        args = ", ".join(f"{s.name}={getattr(self, s.name)!r}" for s in self.SETTINGS)
        return f"{type(self).__name__}({args})"


def check_number(
    owner: str,
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    min_inclusive: bool = True,
    max_inclusive: bool = True,
    allow_none: bool = False,
) -> float | None:
    """Validate a numeric argument that is not a described :class:`Setting` (a tolerance, an epoch).

    Parameters
    ----------
    owner : str
        Name of the function or object, used in the message (e.g. ``"gradcheck"``).
    name : str
        Name of the argument, used in the message.
    value : Any
        The value received.
    minimum, maximum : float, optional
        Bounds; ``None`` means unbounded on that side.
    min_inclusive, max_inclusive : bool
        Whether the bounds themselves are allowed.
    allow_none : bool
        Whether ``None`` is accepted (and returned unchanged).

    Returns
    -------
    float or None
        ``float(value)``, or ``None`` when ``value`` is ``None`` and ``allow_none`` is true.

    Raises
    ------
    SettingsError
        One sentence naming the owner, the argument, the constraint and the value received, when the value is
        not a finite real number within the bounds (see :func:`finite_number`).
    """
    if value is None and allow_none:
        return None
    number = finite_number(value)
    ok = number is not None
    if ok and minimum is not None:
        ok = number >= minimum if min_inclusive else number > minimum
    if ok and maximum is not None:
        ok = number <= maximum if max_inclusive else number < maximum
    if not ok:
        parts = []
        if minimum is not None:
            parts.append(f"{'>=' if min_inclusive else '>'} {minimum:g}")
        if maximum is not None:
            parts.append(f"{'<=' if max_inclusive else '<'} {maximum:g}")
        constraint = "a finite number" + (" " + " and ".join(parts) if parts else "")
        if allow_none:
            constraint += " or None"
        raise SettingsError(f"{owner}: {name} must be {constraint}, got {quote(value)}.")
    return number


def check_whole_number(name: str, value: Any, *, minimum: int = 1, maximum: int | None = None) -> int:
    """Validate a count (steps, processes, a batch size, a seed) and return it as a Python int.

    Parameters
    ----------
    name : str
        What the value is, used in the message (e.g. ``"batch_size"``).
    value : Any
        The value received: an int or NumPy integer (booleans are rejected).
    minimum : int
        The smallest value allowed.
    maximum : int, optional
        The largest value allowed; ``None`` means unbounded.

    Returns
    -------
    int
        ``int(value)``.

    Raises
    ------
    SettingsError
        One sentence naming the value, the range and what was received, otherwise.

    Examples
    --------
    >>> check_whole_number("steps", 0, minimum=0)
    0
    """
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_)
    if ok:
        number = int(value)
        ok = number >= minimum and (maximum is None or number <= maximum)
    if not ok:
        limits = f"from {minimum} to {maximum}" if maximum is not None else f"of at least {minimum}"
        raise SettingsError(f"{name} must be a whole number {limits}, got {quote(value)}")
    return number
