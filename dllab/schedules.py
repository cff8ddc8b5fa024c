"""Learning-rate schedules: the learning rate as a function of the base rate and the epoch.

A schedule is a small callable object, ``schedule(base_lr, epoch) -> lr``, with no state: the trainer calls it
at the start of every epoch (or with a fractional epoch between batches) and assigns the result to the
optimizer's ``lr``. ``epoch`` counts completed epochs, so ``epoch=0`` (the first epoch) always gives
``base_lr`` (``min_lr`` aside). A schedule describes its hyperparameters in ``SETTINGS`` (and validates them from
there), round-trips through plain dicts (``get_config`` / ``from_config``) and is found by name in
:data:`SCHEDULES`.
"""

from __future__ import annotations

import math
from typing import ClassVar

from dllab.registry import Registry
from dllab.settings import Configurable, Setting, check_number

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


def _epochs(name: str, default: float, help: str, label: str, editor_range: tuple[float, float]) -> Setting:
    """A number of epochs (``> 0``; fractions work, since schedules take fractional epochs)."""
    return Setting(
        name,
        "float",
        default,
        help,
        label,
        minimum=0.0,
        exclusive_minimum=True,
        editor_range=editor_range,
        step=1.0,
    )


def _factor(default: float, help: str, *, low: float) -> Setting:
    """A factor in (0, 1] the learning rate is multiplied by."""
    return Setting(
        "gamma",
        "float",
        default,
        help,
        "γ",
        minimum=0.0,
        maximum=1.0,
        exclusive_minimum=True,
        editor_range=(low, 1.0),
    )


class Schedule(Configurable):
    """Base class of learning-rate schedules.

    Subclasses set ``name``, ``DESCRIPTION`` and ``SETTINGS``, pass their hyperparameters to this constructor
    by keyword (attributes of the same names then hold the values) and implement :meth:`_rate`.
    """

    DESCRIPTION: ClassVar[str] = ""

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

    def _rate(self, base_lr: float, epoch: float) -> float:
        raise NotImplementedError


class Constant(Schedule):
    """The learning rate never changes: ``lr = base_lr``."""

    name = "constant"
    DESCRIPTION = "Keeps the learning rate fixed."

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
    SETTINGS = (
        _epochs("step_size", 10, "Epochs between drops.", "Step size", (1, 100)),
        _factor(0.5, "Factor the learning rate is multiplied by at each drop.", low=0.01),
    )
    step_size: float
    gamma: float

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
    SETTINGS = (_factor(0.95, "Factor the learning rate is multiplied by per epoch.", low=0.5),)
    gamma: float

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
    SETTINGS = (
        Setting(
            "decay",
            "float",
            0.1,
            "How fast the learning rate falls.",
            minimum=0.0,
            editor_range=(1e-4, 10.0),
            log_scale=True,
        ),
    )
    decay: float

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
    SETTINGS = (
        _epochs("total_epochs", 50, "Epochs over which the rate falls.", "Total epochs", (1, 1000)),
        Setting(
            "min_lr",
            "float",
            0.0,
            "Learning rate at the end of the schedule.",
            "Minimum rate",
            minimum=0.0,
            editor_range=(0.0, 0.1),
        ),
    )
    total_epochs: float
    min_lr: float

    def _rate(self, base_lr: float, epoch: float) -> float:
        if epoch >= self.total_epochs:
            return self.min_lr
        cosine = 0.5 * (1.0 + math.cos(math.pi * epoch / self.total_epochs))
        return self.min_lr + (base_lr - self.min_lr) * cosine


#: Every schedule by its name (``get`` and ``from_config`` accept the names in any case).
SCHEDULES: Registry[Schedule] = Registry(
    "schedule", (Constant, StepDecay, ExponentialDecay, InverseTimeDecay, CosineDecay), ignore_case=True
)


#: A schedule from a name and hyperparameters, a config or a schedule: ``get("step", gamma=0.1)``
#: (:meth:`dllab.registry.Registry.create`).
get = SCHEDULES.create
#: A schedule from ``get_config()`` output (:meth:`dllab.registry.Registry.from_config`).
from_config = SCHEDULES.from_config
