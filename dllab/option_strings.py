"""Option strings of the command line: ``"momentum:momentum=0.95"``, ``"shift=2,rotation=10,flip"``.

A name with ``key=value`` options (an optimizer, a schedule) and the augmentation settings are given as one
string each; these turn such strings into names and Python values.

>>> parse_named_options("step:step_size=5,gamma=0.5", "schedule")
('step', {'step_size': 5, 'gamma': 0.5})
"""

from __future__ import annotations

from typing import Any

from dllab.data import Augmenter


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
    """
    name, _, rest = text.partition(":")
    if not name.strip():
        raise ValueError(f"the {what} needs a name, got {text!r}")
    options: dict[str, Any] = {}
    for item in rest.split(","):
        if not item.strip():
            continue
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise ValueError(f"{what} option {item.strip()!r} must look like key=value")
        options[key.strip()] = parse_value(value)
    return name.strip().lower(), options


def parse_augment(text: str | None) -> dict[str, Any] | None:
    """Augmentation settings from ``"shift=2,rotation=10,noise=0.1,flip"`` (``"none"``: None).

    Returns
    -------
    dict or None
        ``Augmenter.to_dict()`` of the settings, or None for none.
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
            raise ValueError(f"unknown augmentation {key!r}; use shift, rotation, flip and noise, or none")
        if not eq:
            if key != "flip":
                raise ValueError(f"augmentation {key!r} needs a value, e.g. {key}=2")
            values[key] = True
            continue
        parsed = parse_value(value)
        if isinstance(parsed, str):
            raise ValueError(f"augmentation {key} must be a number, got {value!r}")
        values[key] = parsed
    augmenter = Augmenter(**values)
    return augmenter.to_dict() if augmenter.enabled else None
