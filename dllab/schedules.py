"""Learning-rate schedules: the learning rate as a function of the base rate and the epoch.

A schedule is a small callable object, ``schedule(base_lr, epoch) -> lr``, with no state: the trainer calls it
at the start of every epoch (or with a fractional epoch between batches) and assigns the result to the
optimizer's ``lr``. ``epoch`` counts completed epochs, so ``epoch=0`` (the first epoch) always gives
``base_lr`` (``min_lr`` aside). Schedules round-trip through plain dicts (``get_config`` / ``from_config``) and
are found by name in ``SCHEDULES``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

from dllab.optimizers import Hyperparameter, check_number, make_from_config, make_from_registry

__all__ = [
    "SCHEDULES",
    "Constant",
    "CosineDecay",
    "ExponentialDecay",
    "InverseTimeDecay",
    "Schedule",
    "StepDecay",
    "from_config",
    "get",
]


class Schedule:
    """Base class of learning-rate schedules.

    Subclasses set ``name``, ``DESCRIPTION``, ``HYPERPARAMETERS`` (attributes of the same names hold the
    values) and implement :meth:`_rate`.
    """

    name: ClassVar[str] = ""
    DESCRIPTION: ClassVar[str] = ""
    HYPERPARAMETERS: ClassVar[tuple[Hyperparameter, ...]] = ()

    def __call__(self, base_lr: float, epoch: float) -> float:
        """Learning rate for ``epoch``.

        Parameters
        ----------
        base_lr : float
            The learning rate the user chose (rate at epoch 0), ``>= 0``.
        epoch : float
            Completed epochs, ``>= 0``; fractional values give per-batch schedules.

        Returns
        -------
        float
            The learning rate.

        Raises
        ------
        SettingsError
            For a negative or non-finite ``base_lr`` or ``epoch``.
        """
        owner = type(self).__name__
        base = check_number(owner, "base_lr", base_lr, minimum=0.0)
        when = check_number(owner, "epoch", epoch, minimum=0.0)
        return float(self._rate(base, when))

    def get_config(self) -> dict[str, Any]:
        """Return the configuration as a plain dict: ``{"type": <registry name>, <hyperparameter>: value}``.

        Returns
        -------
        dict[str, Any]
            Input for :func:`from_config`.
        """
        config: dict[str, Any] = {"type": self.name}
        for hyper in self.HYPERPARAMETERS:
            config[hyper.name] = getattr(self, hyper.name)
        return config

    def __repr__(self) -> str:
        args = ", ".join(f"{h.name}={getattr(self, h.name)!r}" for h in self.HYPERPARAMETERS)
        return f"{type(self).__name__}({args})"

    def _rate(self, base_lr: float, epoch: float) -> float:
        raise NotImplementedError


class Constant(Schedule):
    """The learning rate never changes: ``lr = base_lr``."""

    name = "constant"
    DESCRIPTION = "Keeps the learning rate fixed."
    HYPERPARAMETERS = ()

    def _rate(self, base_lr: float, epoch: float) -> float:
        return base_lr


class StepDecay(Schedule):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs: ``base_lr * gamma ** floor(epoch / step_size)``.

    Parameters
    ----------
    step_size : float
        Epochs between drops, ``> 0``.
    gamma : float
        Factor applied at each drop, in ``(0, 1]``.
    """

    name = "step"
    DESCRIPTION = "Drops the learning rate by a factor every few epochs (a staircase)."
    HYPERPARAMETERS = (
        Hyperparameter("step_size", 10, 1, 100, False, "Epochs between drops.", integer=True),
        Hyperparameter(
            "gamma", 0.5, 0.01, 1.0, False, "Factor the learning rate is multiplied by at each drop."
        ),
    )

    def __init__(self, step_size: float = 10, gamma: float = 0.5) -> None:
        owner = type(self).__name__
        self.step_size = check_number(owner, "step_size", step_size, minimum=0.0, min_inclusive=False)
        self.gamma = check_number(owner, "gamma", gamma, minimum=0.0, maximum=1.0, min_inclusive=False)

    def _rate(self, base_lr: float, epoch: float) -> float:
        drops = epoch / self.step_size  # infinite for a tiny step_size: the rate is then gamma**inf
        return base_lr * self.gamma ** (math.floor(drops) if math.isfinite(drops) else drops)


class ExponentialDecay(Schedule):
    """Smooth exponential decay: ``base_lr * gamma ** epoch``.

    Parameters
    ----------
    gamma : float
        Factor per epoch, in ``(0, 1]``.
    """

    name = "exponential"
    DESCRIPTION = "Multiplies the learning rate by the same factor every epoch."
    HYPERPARAMETERS = (
        Hyperparameter(
            "gamma", 0.95, 0.5, 1.0, False, "Factor the learning rate is multiplied by per epoch."
        ),
    )

    def __init__(self, gamma: float = 0.95) -> None:
        self.gamma = check_number(
            type(self).__name__, "gamma", gamma, minimum=0.0, maximum=1.0, min_inclusive=False
        )

    def _rate(self, base_lr: float, epoch: float) -> float:
        return base_lr * self.gamma**epoch


class InverseTimeDecay(Schedule):
    """Inverse-time decay: ``base_lr / (1 + decay * epoch)``.

    Parameters
    ----------
    decay : float
        Decay coefficient per epoch, ``>= 0``.
    """

    name = "inverse_time"
    DESCRIPTION = "Divides the learning rate by 1 + decay·epoch, decaying quickly at first, then slowly."
    HYPERPARAMETERS = (Hyperparameter("decay", 0.1, 1e-4, 10.0, True, "How fast the learning rate falls."),)

    def __init__(self, decay: float = 0.1) -> None:
        self.decay = check_number(type(self).__name__, "decay", decay, minimum=0.0)

    def _rate(self, base_lr: float, epoch: float) -> float:
        return base_lr / (1.0 + self.decay * epoch)


class CosineDecay(Schedule):
    """Cosine annealing from ``base_lr`` to ``min_lr`` over ``total_epochs``, then ``min_lr``.

    ``min_lr + (base_lr - min_lr) * (1 + cos(pi * epoch / total_epochs)) / 2`` for ``epoch < total_epochs``.

    Parameters
    ----------
    total_epochs : float
        Length of the annealing, ``> 0``.
    min_lr : float
        Rate reached at ``total_epochs``, ``>= 0``. A ``min_lr`` above ``base_lr`` makes the rate rise instead.
    """

    name = "cosine"
    DESCRIPTION = "Lowers the learning rate along half a cosine wave, ending at a minimum rate."
    HYPERPARAMETERS = (
        Hyperparameter("total_epochs", 50, 1, 1000, False, "Epochs over which the rate falls.", integer=True),
        Hyperparameter("min_lr", 0.0, 0.0, 0.1, False, "Learning rate at the end of the schedule."),
    )

    def __init__(self, total_epochs: float = 50, min_lr: float = 0.0) -> None:
        owner = type(self).__name__
        self.total_epochs = check_number(
            owner, "total_epochs", total_epochs, minimum=0.0, min_inclusive=False
        )
        self.min_lr = check_number(owner, "min_lr", min_lr, minimum=0.0)

    def _rate(self, base_lr: float, epoch: float) -> float:
        if epoch >= self.total_epochs:
            return self.min_lr
        cosine = 0.5 * (1.0 + math.cos(math.pi * epoch / self.total_epochs))
        return self.min_lr + (base_lr - self.min_lr) * cosine


SCHEDULES: dict[str, type[Schedule]] = {
    cls.name: cls for cls in (Constant, StepDecay, ExponentialDecay, InverseTimeDecay, CosineDecay)
}


def get(name: str, **kwargs: Any) -> Schedule:
    """Create a schedule by its registry name.

    Parameters
    ----------
    name : str
        One of ``SCHEDULES`` (case-insensitive): constant, step, exponential, inverse_time, cosine.
    **kwargs
        Hyperparameters; the rest keep their defaults.

    Returns
    -------
    Schedule
        The new schedule.

    Raises
    ------
    SettingsError
        For an unknown name, an unknown hyperparameter or an invalid value.
    """
    return make_from_registry(SCHEDULES, "schedule", name, kwargs)


def from_config(config: Mapping[str, Any]) -> Schedule:
    """Rebuild a schedule from :meth:`Schedule.get_config` output.

    Parameters
    ----------
    config : Mapping[str, Any]
        ``{"type": name, **hyperparameters}``; not modified.

    Returns
    -------
    Schedule
        The new schedule.

    Raises
    ------
    SettingsError
        If ``config`` is not a mapping with a ``"type"``, or for anything :func:`get` rejects.
    """
    return make_from_config(SCHEDULES, "schedule", config)
