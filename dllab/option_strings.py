"""Option strings of the command line: ``"momentum:momentum=0.95"``, ``"shift=2,rotation=10,flip"``.

A name with ``key=value`` options (an optimizer, a schedule) and the augmentation settings are given as one
string each; these turn such strings into names and Python values.

>>> parse_named_options("step:step_size=5,gamma=0.5", "schedule")
('step', {'step_size': 5, 'gamma': 0.5})
"""

from __future__ import annotations

from typing import Any

from dllab.data import Augmenter, DatasetError
from dllab.errors import SettingsError, quote
from dllab.optimizers import finite_number


def parse_value(text: str) -> Any:
    """``"3"`` -> 3, ``"0.5"`` -> 0.5, ``"true"`` -> True, ``"none"`` -> None, anything else the text."""
    lowered = text.strip().lower()
    if lowered in ("true", "yes", "on"):
        return True
    if lowered in ("false", "no", "off"):
        return False
    if lowered in ("none", "null"):
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text.strip()


def _option_number(value: Any, text: str, subject: str) -> Any:
    """``value`` (parsed from ``text``) unless it is a number that is not finite, e.g. from ``"1e999"``.

    Raises
    ------
    SettingsError
        Naming ``subject`` (the option) and quoting ``text``.
    """
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if is_number and finite_number(value) is None:
        raise SettingsError(f"{subject} must be a finite number, got {quote(text.strip())}")
    return value


def parse_named_options(text: str, what: str) -> tuple[str, dict[str, Any]]:
    """Split ``"name:key=value,key=value"`` into the name and a dict of values.

    Parameters
    ----------
    text
        E.g. ``"momentum:momentum=0.95"``, ``"step:step_size=5,gamma=0.5"`` or just ``"adam"``.
    what
        What is being parsed, for messages (``"optimizer"``, ``"schedule"``).

    Returns
    -------
    tuple
        The lower-case name and the options (numbers parsed).

    Raises
    ------
    SettingsError
        For a missing name, an option that is not ``key=value``, an option given twice, or a number that
        is not finite (``nan``, ``inf``, ``1e999``). Whether the name and options exist is for the
        optimizer or schedule registry to say.
    """
    name, _, rest = text.partition(":")
    if not name.strip():
        raise SettingsError(f"the {what} needs a name, got {quote(text)}")
    options: dict[str, Any] = {}
    for item in rest.split(","):
        if not item.strip():
            continue
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or not key:
            raise SettingsError(f"{what} option {quote(item.strip())} must look like key=value")
        if key in options:
            raise SettingsError(f"{what} option {quote(key)} is given twice")
        options[key] = _option_number(parse_value(value), value, f"{what} option {quote(key)}")
    return name.strip().lower(), options


#: The largest augmentation shift, in pixels (far beyond any image dllab trains on).
MAX_SHIFT = 1000


def parse_augment(text: str | None) -> dict[str, Any] | None:
    """Augmentation settings from ``"shift=2,rotation=10,noise=0.1,flip"`` (``"none"``: None).

    Parameters
    ----------
    text
        Comma-separated settings: ``shift=N`` (whole pixels, 0 to :data:`MAX_SHIFT`), ``rotation=DEGREES``
        (0 to 180), ``noise=STD`` (at least 0) and ``flip`` (or ``flip=on``/``off``); ``"none"``, ``"off"``,
        an empty string or None for no augmentation.

    Returns
    -------
    dict or None
        ``Augmenter.to_dict()`` of the settings, or None for none.

    Raises
    ------
    SettingsError
        For an unknown setting, a setting given twice, a missing or non-numeric value, or a value out of
        range.
    """
    if text is None or text.strip().lower() in ("", "none", "off"):
        return None
    values: dict[str, Any] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        key, eq, value = item.partition("=")
        key = key.strip().lower()
        if key not in ("shift", "rotation", "flip", "noise"):
            raise SettingsError(
                f"unknown augmentation {quote(key)}; use shift, rotation, flip and noise, or none"
            )
        if key in values:
            raise SettingsError(f"augmentation {key} is given twice")
        if not eq and key != "flip":
            raise SettingsError(f"augmentation {key!r} needs a value, e.g. {key}=2")
        values[key] = _augment_value(key, parse_value(value) if eq else True, value)
    try:
        augmenter = Augmenter(**values)
    except DatasetError as exc:  # a value out of the Augmenter's range
        raise SettingsError(str(exc)) from None
    return augmenter.to_dict() if augmenter.enabled else None


def _augment_value(key: str, parsed: Any, text: str) -> Any:
    """The value of augmentation ``key`` parsed from ``text``, checked for its type and the largest shift.

    The other ranges are the :class:`~dllab.data.Augmenter`'s to check.
    """
    if key == "flip":
        if isinstance(parsed, bool) or (isinstance(parsed, int) and parsed in (0, 1)):
            return bool(parsed)
        raise SettingsError(f"augmentation flip must be on or off, got {quote(text.strip())}")
    number = finite_number(parsed)
    if number is None:
        kind = "a number" if isinstance(parsed, str | bool | None) else "a finite number"
        raise SettingsError(f"augmentation {key} must be {kind}, got {quote(text.strip())}")
    if key == "shift" and number > MAX_SHIFT:
        raise SettingsError(
            f"augmentation shift must be at most {MAX_SHIFT} pixels, got {quote(text.strip())}"
        )
    return number
