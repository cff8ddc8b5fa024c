"""Changes of the optimizer's settings while a run trains: babysitting one model.

A change is a step and the optimizer settings it sets, e.g. ``{"step": 500, "lr": 0.003}``: once ``step``
mini-batches are done, the learning rate is 0.003 from the next mini-batch on. A run's changes are one list,
steps increasing, kept in its training config (:attr:`dllab.trainer.TrainingConfig.changes`), so a run's
``config.json`` replays the changes made by hand at the same steps; ``dllab train --changes FILE`` reads such a
list from a file. Any setting of the run's optimizer may change (``lr``, ``momentum``, ``weight_decay``,
``clip_norm``, ...); each value is checked against the optimizer's own :class:`~dllab.settings.Setting`.

A change of the learning rate and a learning-rate schedule: the schedule sets the learning rate at the start of
every epoch until a change sets it; from then on the learning rate is the one set, and the schedule changes it
no more (a change replaces the schedule rather than rescaling it, so ``lr`` 0 freezes the weights for good).

>>> check_changes([{"step": 500, "lr": 0.003}, {"step": 900, "momentum": 0.5}], "momentum")
[{'step': 500, 'lr': 0.003}, {'step': 900, 'momentum': 0.5}]
>>> check_change({"lr": -1}, "sgd", step=500)
Traceback (most recent call last):
...
dllab.errors.SettingsError: the change at step 500: lr must be at least 0, got -1
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dllab import optimizers
from dllab.errors import SettingsError, quote
from dllab.settings import check_names

__all__ = ["apply_change", "change_text", "check_change", "check_changes", "merge_change"]


def _owner(step: int | None) -> str:
    return "the change" if step is None else f"the change at step {step}"


def check_change(values: Any, optimizer: str, *, step: int | None = None) -> dict[str, Any]:
    """The settings one change sets, validated for the optimizer called ``optimizer``.

    Parameters
    ----------
    values : Mapping[str, Any]
        Setting names and their new values, e.g. ``{"lr": 0.003}``.
    optimizer : str
        The run's optimizer, by its registry name (``"sgd"``, ``"adam"``, ...).
    step : int, optional
        Where the change happens, named in an error message.

    Returns
    -------
    dict[str, Any]
        The values in canonical form, in the order given.

    Raises
    ------
    SettingsError
        One sentence: the change sets nothing, names a setting the optimizer does not have, or gives a value
        its setting refuses.
    """
    owner = _owner(step)
    if not isinstance(values, Mapping) or not all(isinstance(name, str) for name in values):
        raise SettingsError(f"{owner} must map optimizer settings to values, got {quote(values)}")
    if not values:
        raise SettingsError(f'{owner} sets nothing; give at least one optimizer setting, e.g. "lr": 0.003')
    settings = {s.name: s for s in optimizers.OPTIMIZERS.lookup(optimizer).SETTINGS}
    check_names(tuple(settings.values()), values, f"{owner} ({optimizer})")
    return {name: settings[name].validate(value, owner) for name, value in values.items()}


def check_changes(changes: Any, optimizer: str) -> list[dict[str, Any]]:
    """A run's list of changes, validated: each a ``step`` (a whole number, at least 0, increasing from one
    change to the next) and the settings it sets (see :func:`check_change`).

    Returns
    -------
    list of dict
        ``{"step": int, <setting>: value, ...}`` per change, values in canonical form.

    Raises
    ------
    SettingsError
        One sentence for the first problem found.
    """
    if not isinstance(changes, list | tuple):
        raise SettingsError(
            f'changes must be a list of changes such as {{"step": 500, "lr": 0.003}}, got {quote(changes)}'
        )
    checked: list[dict[str, Any]] = []
    for index, change in enumerate(changes, start=1):
        if not isinstance(change, Mapping):
            raise SettingsError(
                f'change {index} must be an object such as {{"step": 500, "lr": 0.003}}, got {quote(change)}'
            )
        step = change.get("step")
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise SettingsError(
                f"change {index} must have a step, a whole number of at least 0, got {quote(step)}"
            )
        if checked and step <= checked[-1]["step"]:
            raise SettingsError(
                f"the steps of the changes must increase, but change {index} at step {step} follows one at step "
                f"{checked[-1]['step']}"
            )
        values = check_change({k: v for k, v in change.items() if k != "step"}, optimizer, step=step)
        checked.append({"step": step, **values})
    return checked


def apply_change(optimizer: optimizers.Optimizer, values: Mapping[str, Any]) -> dict[str, Any]:
    """Set the (validated) ``values`` on ``optimizer``; its next update uses them.

    Returns
    -------
    dict[str, Any]
        The values they replace, by name.
    """
    previous = {name: getattr(optimizer, name) for name in values}
    for name, value in values.items():
        setattr(optimizer, name, value)
    return previous


def merge_change(changes: list[dict[str, Any]], step: int, values: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``changes`` with ``values`` set at ``step``: added to the change already at that step (later values win,
    as they were applied later) or inserted in step order."""
    merged = [dict(change) for change in changes]
    for change in merged:
        if change["step"] == step:
            change.update(values)
            return merged
    merged.append({"step": step, **values})
    merged.sort(key=lambda change: change["step"])
    return merged


def change_text(values: Mapping[str, Any], previous: Mapping[str, Any] | None = None) -> str:
    """A change in a few words: ``"lr 0.01 → 0.003"`` (``"lr 0.003"`` without ``previous``); None reads
    ``off``."""

    def shown(value: Any) -> str:
        return "off" if value is None else f"{value:g}" if isinstance(value, float) else str(value)

    parts = []
    for name, value in values.items():
        before = f"{shown(previous[name])} → " if previous is not None and name in previous else ""
        parts.append(f"{name} {before}{shown(value)}")
    return ", ".join(parts)
