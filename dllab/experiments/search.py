"""Hyperparameter search: what a search draws, what a trial trains, and how the trials are ranked and drawn.

The book's section 6.5 (figure 6-24) draws the learning rate and the weight decay log-uniformly (learning rate
``10 ** uniform(-6, -2)``, weight decay ``10 ** uniform(-8, -4)``), trains the network once per draw and scores
each trial on the VALIDATION split; the test set is never used (the trials train on a copy of the prepared data
whose test arrays are empty, :func:`without_test`, so no result can depend on it).

A search runs as an Optuna study (:mod:`dllab.experiments.study`, which samples, schedules, prunes and keeps the
trials in a storage that many workers share). This module holds what needs no Optuna:

- the search space: a :class:`Dimension` per searched setting of :data:`SEARCHABLE` (learning rate and weight
  decay log-uniform, the book's ranges by default; batch size, optimizer, initialiser, dropout rate, hidden
  units and BatchNorm on/off as ranges or lists of choices), parsed from text by :func:`parse_dimension`;
- :class:`SearchDefinition`: the experiment, the space, the sampler, the pruner, the number of trials, the
  ranking and the seed: what a study stores so that any worker on any machine runs the same trials;
- :func:`apply_params`: the network and training config of one trial's draws;
- the ranking, the table and the figure of the results (:func:`rank`, :func:`ranking_table`,
  :func:`render_search`, :func:`write_outputs`), on :class:`~dllab.experiments.comparison_results.VariantResult`
  records whose ``index`` is the trial's number and ``settings`` its draws.

Every trial starts from the same initial weights and sees the same mini-batches (the experiment's seeds), so
the hyperparameters are all that differs.

>>> space = (check_dimension("lr", 1e-6, 1e-2), check_dimension("optimizer", choices=["sgd", "adam"]))
>>> definition = SearchDefinition(experiment, space, trials=20)          # doctest: +SKIP
>>> spec, config = definition.trial_setup({"lr": 0.003, "optimizer": "adam"})  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import numbers
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dllab.data import PreparedData
from dllab.errors import SettingsError, quote
from dllab.experiment import Experiment
from dllab.experiments.comparison_results import VariantResult
from dllab.experiments.plotting import (
    COLORS,
    GREY,
    LEGEND_ROW,
    accuracy_range,
    figure_style,
    legend_columns,
    marker_every,
    new_figure,
    padded,
    write_figure,
)
from dllab.experiments.variants import (
    BOOK_LEARNING_RATES,
    check_factor_values,
    with_batchnorm,
    with_dropout,
    with_init,
)
from dllab.files import atomic_write
from dllab.io import json_default
from dllab.runs import METRIC_COLUMNS
from dllab.settings import finite_number
from dllab.spec import SpecError, read_spec
from dllab.trainer import TrainingConfig

if TYPE_CHECKING:  # matplotlib is imported only where a figure is drawn
    from matplotlib.figure import Figure

#: The settings a search can draw, with their names in labels and files.
SEARCHABLE: dict[str, str] = {
    "lr": "learning rate",
    "weight_decay": "weight decay",
    "batch_size": "batch size",
    "optimizer": "optimizer",
    "init": "initialiser",
    "dropout": "dropout rate",
    "hidden_units": "hidden units",
    "batchnorm": "BatchNorm",
}
#: Other names accepted for them on the command line.
ALIASES: dict[str, str] = {
    "learning_rate": "lr",
    "wd": "weight_decay",
    "batch": "batch_size",
    "initializer": "init",
    "initialiser": "init",
    "units": "hidden_units",
    "bn": "batchnorm",
}
#: Ranges of these are drawn on a log scale (the others uniformly).
LOG_SCALE = ("lr", "weight_decay", "batch_size", "hidden_units")
#: Ranges of these are whole numbers.
WHOLE = ("batch_size", "hidden_units")
#: These are searched among choices only (no range).
CHOICES_ONLY = ("optimizer", "init", "batchnorm")
#: The book's ranges (figure 6-24).
BOOK_RANGES: dict[str, tuple[float, float]] = {"lr": (1e-6, 1e-2), "weight_decay": (1e-8, 1e-4)}
#: How trials can be ranked: by the best validation accuracy of any epoch, or by the last epoch's, as the
#: book does (``ch06/hyperparameter_optimization.py`` sorts by ``val_acc_list[-1]``).
RANK_BY: dict[str, str] = {"best": "best validation accuracy", "last": "last epoch's validation accuracy"}
#: How the trials' values are drawn: at random (the book's method, the default) or by TPE, which draws more
#: where the trials so far did well.
SAMPLERS: dict[str, str] = {"random": "random (the book's)", "tpe": "TPE (draws where the good trials are)"}
#: How hopeless trials are stopped early, from each epoch's validation accuracy.
PRUNERS: dict[str, str] = {
    "none": "no pruning",
    "median": "median: stop a trial below the median of the others at the same epoch",
    "halving": "successive halving: keep the best part of the trials at each rung of epochs",
}
SEARCH_FORMAT = "dllab.search/2"
#: Seconds between two heartbeats of a training trial, by default (see :mod:`dllab.experiments.study`).
HEARTBEAT_SECONDS = 10
_SHORT = {
    "lr": "lr",
    "weight_decay": "wd",
    "batch_size": "batch",
    "optimizer": "opt",
    "init": "init",
    "dropout": "dropout",
    "hidden_units": "units",
    "batchnorm": "bn",
}


# --- the space ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dimension:
    """One setting a search draws: a range (``low`` to ``high``) or ``choices``.

    Make one with :func:`check_dimension` (or :func:`parse_dimension` from text), which validates it.

    Attributes
    ----------
    name : str
        One of :data:`SEARCHABLE`.
    low, high : float or int or None
        The range's bounds (None with choices); drawn on a log scale for :data:`LOG_SCALE`, whole numbers for
        :data:`WHOLE`.
    choices : tuple
        The values to choose among (empty for a range).
    """

    name: str
    low: float | int | None = None
    high: float | int | None = None
    choices: tuple[Any, ...] = ()

    @property
    def categorical(self) -> bool:
        """Whether the trials choose among :attr:`choices`."""
        return bool(self.choices)

    @property
    def log(self) -> bool:
        """Whether the range is drawn (and drawn on axes) on a log scale."""
        return not self.choices and self.name in LOG_SCALE

    @property
    def whole(self) -> bool:
        """Whether the range holds whole numbers."""
        return not self.choices and self.name in WHOLE

    @property
    def label(self) -> str:
        return SEARCHABLE[self.name]

    def describe(self) -> str:
        """E.g. ``"learning rate 1e-06 to 0.01, log-uniform"`` or ``"optimizer: sgd, adam"``."""
        if self.choices:
            return f"{self.label}: {', '.join(format_value(self.name, c) for c in self.choices)}"
        scale = "log-uniform" if self.log else "uniform"
        return f"{self.label} {self.low:g} to {self.high:g}, {scale}"

    def text(self) -> str:
        """The dimension as :func:`parse_dimension` reads it, e.g. ``"lr=1e-06..0.01"``."""
        if self.choices:
            return f"{self.name}={','.join(format_value(self.name, c) for c in self.choices)}"
        return f"{self.name}={self.low:g}..{self.high:g}"

    def to_dict(self) -> dict[str, Any]:
        if self.choices:
            return {"name": self.name, "choices": list(self.choices)}
        return {"name": self.name, "low": self.low, "high": self.high}

    @classmethod
    def from_dict(cls, values: Any) -> Dimension:
        if not isinstance(values, Mapping) or "name" not in values:
            raise SettingsError(f"a searched setting must be an object with a name, got {quote(values)}")
        if "choices" in values:
            return check_dimension(values["name"], choices=values["choices"])
        return check_dimension(values["name"], values.get("low"), values.get("high"))


def format_value(name: str, value: Any) -> str:
    """A drawn value as a label shows it: ``1.23e-03`` for a learning rate, ``on`` for BatchNorm, ..."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if name == "init" and isinstance(value, float):
        return f"std {value:g}"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return f"{value:.2e}" if name in ("lr", "weight_decay") else f"{value:.3g}"
    return str(value)


def _canonical(name: Any) -> str:
    key = name.strip().lower().replace("-", "_") if isinstance(name, str) else None
    key = ALIASES.get(key, key) if key is not None else None
    if key not in SEARCHABLE:
        raise SettingsError(f"cannot search {quote(name)}; searchable: {', '.join(SEARCHABLE)}")
    return key


def _check_choices(name: str, choices: Sequence[Any]) -> tuple[Any, ...]:
    if isinstance(choices, str | bytes) or not isinstance(choices, Sequence) or not choices:
        raise SettingsError(f"give at least one {SEARCHABLE[name]} to choose from, got {quote(choices)}")
    if name == "hidden_units":
        checked: list[Any] = []
        for raw in choices:
            value = _whole_number(name, raw)
            if value in checked:
                raise SettingsError(f"the hidden units value {quote(raw)} is given twice")
            checked.append(value)
        return tuple(checked)
    if name == "weight_decay":  # 0 is a valid choice, not a valid log bound
        return tuple(check_factor_values("weight_decay", list(choices)))
    return tuple(check_factor_values(name, list(choices)))


def _whole_number(name: str, raw: Any) -> int:
    value = raw
    if isinstance(raw, str):
        try:
            value = int(raw.strip())
        except ValueError:
            value = None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise SettingsError(f"{SEARCHABLE[name]} must be whole numbers of at least 1, got {quote(raw)}")
    return int(value)


def check_dimension(
    name: str, low: Any = None, high: Any = None, *, choices: Sequence[Any] | None = None
) -> Dimension:
    """A valid :class:`Dimension`: a range ``low`` to ``high``, or ``choices``.

    Ranges: the learning rate and weight decay positive (drawn log-uniformly); batch size and hidden units
    whole numbers of at least 1 (log-uniformly); the dropout rate in [0, 1) (uniformly). Choices: optimizer
    names, initialisers (names or standard deviations), BatchNorm on/off, or values of the other settings.

    Raises
    ------
    SettingsError
        For an unknown setting, a range of a setting searched among choices only, bounds that are not numbers,
        the wrong way round or out of the setting's range, or invalid or repeated choices.
    """
    name = _canonical(name)
    label = SEARCHABLE[name]
    if choices is not None:
        return Dimension(name, choices=_check_choices(name, choices))
    if name in CHOICES_ONLY:
        example = {"optimizer": "sgd,adam", "init": "he,xavier,0.01", "batchnorm": "on,off"}[name]
        raise SettingsError(f"the {label} is searched among choices, e.g. {name}={example}")
    if name in WHOLE:
        lo, hi = _whole_number(name, low), _whole_number(name, high)
    else:
        lo, hi = finite_number(_number_or_text(low)), finite_number(_number_or_text(high))
        if lo is None or hi is None:
            raise SettingsError(f"the {label} range must be two numbers, got {quote(low)} and {quote(high)}")
    if lo > hi:
        raise SettingsError(f"the {label} range must have the lower one first, got {lo:g} to {hi:g}")
    if name in LOG_SCALE and lo <= 0:
        raise SettingsError(
            f"the {label} range must be two positive numbers, the lower one first (it is searched on a log "
            f"scale), got {lo:g} to {hi:g}"
        )
    if name == "dropout" and not (lo >= 0 and hi < 1):
        raise SettingsError(f"the dropout rate range must lie in [0, 1), got {lo:g} to {hi:g}")
    return Dimension(name, lo, hi)


def _number_or_text(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return value


def parse_range(text: str, what: str = "range") -> tuple[float, float]:
    """Two numbers from ``"1e-6,1e-2"`` (also ``"1e-6:1e-2"`` and ``"1e-6..1e-2"``)."""
    parts = [p.strip() for p in text.replace("..", ",").replace(":", ",").split(",")]
    if len(parts) != 2:
        raise SettingsError(f"the {what} must be two numbers like 1e-6,1e-2, got {text!r}")
    try:
        return float(parts[0]), float(parts[1])
    except ValueError:
        raise SettingsError(f"the {what} must be two numbers like 1e-6,1e-2, got {text!r}") from None


def dimension_from_text(name: str, text: str) -> Dimension:
    """A dimension from the text after ``NAME=``: ``LOW..HIGH`` for a range, ``A,B,C`` for choices."""
    name = _canonical(name)
    text = text.strip()
    if ".." in text:
        low, _, high = text.partition("..")
        if name in WHOLE:
            return check_dimension(name, low.strip(), high.strip())
        return check_dimension(name, *parse_range(text, f"{SEARCHABLE[name]} range"))
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts:
        raise SettingsError(f"say what to try for the {SEARCHABLE[name]}, e.g. {_example(name)}")
    return check_dimension(name, choices=parts)


def _example(name: str) -> str:
    return {
        "lr": "lr=1e-6..1e-2",
        "weight_decay": "weight_decay=1e-8..1e-4",
        "batch_size": "batch_size=32..512 or batch_size=32,128",
        "optimizer": "optimizer=sgd,momentum,adam",
        "init": "init=he,xavier,0.01",
        "dropout": "dropout=0..0.5",
        "hidden_units": "hidden_units=50..200",
        "batchnorm": "batchnorm=on,off",
    }[name]


def parse_dimension(text: str) -> Dimension:
    """A dimension from ``NAME=LOW..HIGH`` (a range) or ``NAME=A,B,C`` (choices), e.g. ``batch_size=32..512``,
    ``optimizer=sgd,adam``, ``batchnorm=on,off``.

    Raises
    ------
    SettingsError
        For text without ``=``, an unknown setting or invalid values (see :func:`check_dimension`).
    """
    name, sep, rest = text.partition("=")
    if not sep or not name.strip():
        raise SettingsError(
            f"a searched setting is NAME=LOW..HIGH or NAME=A,B,C (e.g. batch_size=32..512), got {text!r}"
        )
    return dimension_from_text(name, rest)


def check_space(space: Sequence[Dimension]) -> tuple[Dimension, ...]:
    """The space as a tuple: at least one dimension, each setting once."""
    space = tuple(space)
    if not space:
        raise SettingsError(f"give at least one setting to search: {', '.join(SEARCHABLE)}")
    names = [d.name for d in space]
    for name in names:
        if names.count(name) > 1:
            raise SettingsError(f"the {SEARCHABLE[name]} is searched twice; give it once")
    return tuple(sorted(space, key=lambda d: list(SEARCHABLE).index(d.name)))


def check_ranges(ranges: Mapping[str, Sequence[float]]) -> dict[str, tuple[float, float]]:
    """Validate log-uniform ranges of the learning rate and weight decay (``{name: (low, high)}``).

    Returns
    -------
    dict
        ``{name: (low, high)}`` as floats, learning rate first.

    Raises
    ------
    SettingsError
        For no ranges, another setting than those two, or bounds that do not make a range on a log scale.
    """
    if not ranges:
        raise SettingsError("give at least one range to search: lr, weight_decay")
    checked: dict[str, tuple[float, float]] = {}
    for name in ranges:
        if _canonical(name) not in BOOK_RANGES:
            raise SettingsError(f"cannot search {name!r} on a log range; searchable: lr, weight_decay")
    for name in BOOK_RANGES:
        if name in ranges:
            bounds = ranges[name]
            try:
                low, high = bounds
            except (TypeError, ValueError):
                raise SettingsError(
                    f"the {SEARCHABLE[name]} range must be two numbers, got {bounds!r}"
                ) from None
            dimension = check_dimension(name, low, high)
            checked[name] = (float(dimension.low), float(dimension.high))
    return checked


def book_space(ranges: Mapping[str, Sequence[float]] = BOOK_RANGES) -> tuple[Dimension, ...]:
    """Log-uniform ranges of the learning rate and weight decay: the book's (figure 6-24) by default."""
    return tuple(check_dimension(name, *bounds) for name, bounds in check_ranges(ranges).items())


def describe_params(params: Mapping[str, Any]) -> str:
    """A short label such as ``"lr 1.23e-03, wd 4.56e-07"``."""
    return ", ".join(
        f"{_SHORT.get(name, name)} {format_value(name, value)}" for name, value in params.items()
    )


def without_test(data: PreparedData) -> PreparedData:
    """A view of ``data`` whose test arrays are empty, so training on it cannot touch the test set."""
    return dataclasses.replace(data, x_test=data.x_test[:0], y_test=data.y_test[:0])


# --- a trial's network and training ------------------------------------------------------------------------


def with_hidden_units(spec: dict[str, Any] | str | os.PathLike[str], units: int) -> dict[str, Any]:
    """The spec with ``units`` outputs in every Dense layer but the last (the hidden ones).

    Raises
    ------
    SettingsError
        For a network without a hidden Dense layer.
    """
    result = read_spec(spec)
    layers = [dict(layer) if isinstance(layer, dict) else layer for layer in result.get("layers", [])]
    dense = [i for i, layer in enumerate(layers) if isinstance(layer, dict) and layer.get("type") == "Dense"]
    if len(dense) < 2:
        raise SettingsError(
            "searching the hidden units needs a hidden Dense layer, and this network has none"
        )
    for i in dense[:-1]:
        layers[i]["units"] = int(units)
    result["layers"] = layers
    return result


def apply_params(
    spec: dict[str, Any],
    config: TrainingConfig,
    params: Mapping[str, Any],
    *,
    inserted: Mapping[str, Mapping[str, Any]] | None = None,
) -> tuple[dict[str, Any], TrainingConfig]:
    """The network and training config of a trial that drew ``params``.

    The learning rate, weight decay and batch size replace the config's; an optimizer drawn without a drawn
    learning rate trains with its book learning rate (:data:`~dllab.experiments.variants.BOOK_LEARNING_RATES`);
    hidden units, BatchNorm, dropout and the initialiser change the network (in that order). ``inserted``
    holds options of the BatchNorm and Dropout layers that are inserted, by layer type.

    Raises
    ------
    SettingsError, SpecError
        When a value does not apply to this network or config.
    """
    result = read_spec(spec)
    changes: dict[str, Any] = {}
    if "hidden_units" in params:
        result = with_hidden_units(result, params["hidden_units"])
    if "batchnorm" in params:
        result = with_batchnorm(result, bool(params["batchnorm"]), (inserted or {}).get("BatchNorm"))
    if "dropout" in params:
        result = with_dropout(result, float(params["dropout"]), (inserted or {}).get("Dropout"))
    if "init" in params:
        result = with_init(result, params["init"])
    if "optimizer" in params:
        changes["optimizer"] = params["optimizer"]
        changes["optimizer_options"] = {}
        if "lr" not in params:
            changes["lr"] = BOOK_LEARNING_RATES.get(params["optimizer"], config.lr)
    for name in ("lr", "weight_decay"):
        if name in params:
            changes[name] = float(params[name])
    if "batch_size" in params:
        changes["batch_size"] = int(params["batch_size"])
    return read_spec(result), dataclasses.replace(config, **changes)


def _extremes(dimension: Dimension) -> list[Any]:
    return list(dimension.choices) if dimension.choices else [dimension.low, dimension.high]


@dataclass(frozen=True)
class SearchDefinition:
    """Everything a search trains and how it draws: what a study stores for its workers.

    Attributes
    ----------
    experiment : Experiment
        The network (fitted to the data), the data settings (with a validation split), the training config
        (the mini-batch order is its ``seed``) and the seed of the initial weights.
    space : tuple of Dimension
        What the trials draw.
    trials : int
        How many trials the study finishes (complete or pruned), all workers together.
    sampler : str
        One of :data:`SAMPLERS`.
    pruner : str
        One of :data:`PRUNERS`.
    rank_by : str
        One of :data:`RANK_BY`: what scores a trial (its value in the study).
    seed : int
        Seeds the draws: trial ``n`` of a random search draws the same values whatever the worker.
    inserted : dict
        Options of the BatchNorm and Dropout layers that a searched setting inserts, by layer type.
    """

    experiment: Experiment
    space: tuple[Dimension, ...]
    trials: int = 20
    sampler: str = "random"
    pruner: str = "none"
    rank_by: str = "best"
    seed: int = 0
    inserted: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "space", check_space(self.space))
        if isinstance(self.trials, bool) or not isinstance(self.trials, numbers.Integral) or self.trials < 1:
            raise SettingsError(
                f"the number of trials must be a whole number of at least 1, got {self.trials!r}"
            )
        object.__setattr__(self, "trials", int(self.trials))
        if self.sampler not in SAMPLERS:
            raise SettingsError(f"the sampler is {' or '.join(SAMPLERS)}, got {quote(self.sampler)}")
        if self.pruner not in PRUNERS:
            raise SettingsError(f"the pruner is one of {', '.join(PRUNERS)}, got {quote(self.pruner)}")
        check_rank_by(self.rank_by)
        if isinstance(self.seed, bool) or not isinstance(self.seed, numbers.Integral) or self.seed < 0:
            raise SettingsError(f"the seed must be a whole number of at least 0, got {self.seed!r}")
        if self.experiment.data.val_fraction <= 0:
            raise SettingsError(
                "a hyperparameter search needs a validation split to score the trials (the test set is "
                "never used for choosing); hold out part of the training set"
            )

    @property
    def names(self) -> list[str]:
        """The searched settings, in :data:`SEARCHABLE` order."""
        return [d.name for d in self.space]

    def dimension(self, name: str) -> Dimension:
        return next(d for d in self.space if d.name == name)

    def trial_setup(self, params: Mapping[str, Any]) -> tuple[dict[str, Any], TrainingConfig]:
        """The network and training config of a trial that drew ``params`` (:func:`apply_params`)."""
        experiment = self.experiment
        return apply_params(experiment.network, experiment.training, params, inserted=self.inserted)

    def check(self) -> None:
        """Apply every dimension's bounds or choices to the network and config, one at a time, and build the
        network: fails now, not in the middle of the search.

        Raises
        ------
        SettingsError, SpecError
            Naming the setting and value that cannot apply.
        """
        from dllab.model import build

        for dimension in self.space:
            for value in _extremes(dimension):
                try:
                    spec, _ = self.trial_setup({dimension.name: value})
                    build(spec, seed=0)
                except (SettingsError, SpecError) as exc:
                    raise type(exc)(
                        f"the searched {dimension.label} {format_value(dimension.name, value)} does not apply: {exc}"
                    ) from None

    def describe(self) -> str:
        """The space and the method in one line."""
        drawn = "; ".join(d.describe() for d in self.space)
        pruning = "" if self.pruner == "none" else f", {self.pruner} pruning"
        return f"{drawn} ({SAMPLERS[self.sampler].split(' (')[0]} sampler{pruning}, seed {self.seed})"

    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-serialisable document (format :data:`SEARCH_FORMAT`)."""
        return {
            "format": SEARCH_FORMAT,
            "experiment": self.experiment.to_dict(),
            "space": [d.to_dict() for d in self.space],
            "trials": self.trials,
            "sampler": self.sampler,
            "pruner": self.pruner,
            "rank_by": self.rank_by,
            "seed": self.seed,
            "inserted": {k: dict(v) for k, v in self.inserted.items()},
        }

    @classmethod
    def from_dict(cls, document: Any, *, where: str = "the search") -> SearchDefinition:
        """Read :meth:`to_dict`'s document.

        Raises
        ------
        SettingsError
            When it is not a search of this format, or holds invalid settings (naming ``where``).
        """
        if not isinstance(document, Mapping) or document.get("format") != SEARCH_FORMAT:
            kind = document.get("format") if isinstance(document, Mapping) else type(document).__name__
            raise SettingsError(f"{where} is not a dllab search of format {SEARCH_FORMAT} ({quote(kind)})")
        try:
            return cls(
                Experiment.from_dict(document.get("experiment"), where=where),
                tuple(Dimension.from_dict(d) for d in document.get("space") or ()),
                trials=document.get("trials", 20),
                sampler=document.get("sampler", "random"),
                pruner=document.get("pruner", "none"),
                rank_by=document.get("rank_by", "best"),
                seed=document.get("seed", 0),
                inserted=dict(document.get("inserted") or {}),
            )
        except SettingsError as exc:
            raise SettingsError(f"{where}: {exc}") from None

    def difference(self, other: SearchDefinition) -> str | None:
        """What makes ``other`` another search than this one (the number of trials aside), in a few words;
        None when it is the same search."""
        mine, theirs = self.to_dict(), other.to_dict()
        words = {
            "experiment": "the network, data or training settings",
            "space": "the searched settings",
            "sampler": "the sampler",
            "pruner": "the pruner",
            "rank_by": "the ranking",
            "seed": "the seed",
            "inserted": "the inserted layers",
        }
        differ = [what for key, what in words.items() if _normal(mine[key]) != _normal(theirs[key])]
        return ", ".join(differ) if differ else None


def _normal(value: Any) -> Any:
    """A value as JSON makes it (tuples become lists), for comparing a document with a stored one."""
    return json.loads(json.dumps(value, default=json_default))


# --- ranking ---------------------------------------------------------------------------------------------


def check_rank_by(rank_by: Any) -> str:
    """``"best"`` or ``"last"`` (:data:`RANK_BY`); SettingsError otherwise."""
    if rank_by not in RANK_BY:
        raise SettingsError(f"trials are ranked by {' or '.join(RANK_BY)} epoch, got {quote(rank_by)}")
    return rank_by


def trial_score(result: VariantResult, rank_by: str = "best") -> float:
    """What ranks a trial: its best validation accuracy (``"best"``) or its last epoch's (``"last"``); NaN
    when it has none."""
    return result.best_val_accuracy if rank_by == "best" else result.final_val_accuracy


def rank(results: Sequence[VariantResult], rank_by: str = "best") -> list[VariantResult]:
    """The trials by their score (:func:`trial_score`), best first; those without one last, in trial order."""

    def key(result: VariantResult) -> tuple[bool, float, int]:
        score = trial_score(result, rank_by)
        return (not math.isfinite(score), -score if math.isfinite(score) else 0.0, result.index)

    return sorted(results, key=key)


def best_epoch(result: VariantResult) -> int | None:
    """The epoch of a trial's best validation accuracy (the first of equals), or None."""
    finite = [e for e in result.epochs if math.isfinite(e.val_accuracy)]
    return max(finite, key=lambda e: (e.val_accuracy, -e.epoch)).epoch if finite else None


def ranking_table(
    ranked: Sequence[VariantResult], names: Sequence[str], others: Sequence[VariantResult] = ()
) -> tuple[list[str], list[list[Any]]]:
    """The ranking as ``search.csv`` holds it: the header, and a row per trial of ``ranked`` (best first, with
    its rank) then of ``others`` (no rank): trial number, the settings ``names`` it drew, best and final
    validation accuracy, best epoch, final training accuracy and status."""
    header = [
        "rank",
        "trial",
        *names,
        "best_val_accuracy",
        "best_epoch",
        "final_val_accuracy",
        "final_train_accuracy",
        "status",
    ]
    rows = [(k, r) for k, r in enumerate(ranked, start=1)] + [("", r) for r in others]
    return header, [
        [
            k,
            r.index,
            *(r.settings.get(name, math.nan) for name in names),
            r.best_val_accuracy,
            best_epoch(r) or "",
            r.final_val_accuracy,
            r.final_train_accuracy,
            r.status,
        ]
        for k, r in rows
    ]


def _csv_text(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([repr(float(v)) if isinstance(v, float | np.floating) else v for v in row])
    return buffer.getvalue()


def _write_text(path: Path, text: str) -> Path:
    return atomic_write(path, lambda file: file.write(text.encode("utf-8")))


def write_outputs(
    folder: str | os.PathLike[str],
    results: Sequence[VariantResult],
    definition: SearchDefinition,
    *,
    top_k: int = 5,
    record: Mapping[str, Any] | None = None,
) -> dict[str, Path]:
    """Write a search's results (each file atomically: several workers may write them at once).

    Parameters
    ----------
    folder
        Where the files go.
    results
        The trials, in any order: ``index`` is the trial's number, ``settings`` its draws.
    definition
        The search.
    top_k
        How many of the best trials the figure draws curves of.
    record
        More entries for ``search.json`` (the study's name and storage).

    Returns
    -------
    dict
        ``"csv"``: ``search.csv``, one row per trial, best first (rank, trial, the drawn settings, best
        and final validation accuracy, best epoch, final training accuracy, status);
        ``"epochs_csv"``: ``search_epochs.csv``, every trial's metrics per epoch;
        ``"png"``: ``search.png`` (see :func:`render_search`);
        ``"json"``: ``search.json``, what reproduces the search (:meth:`SearchDefinition.to_dict`).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ranked = rank(results, definition.rank_by)
    header, rows = ranking_table(ranked, definition.names)
    paths = {
        "csv": _write_text(folder / "search.csv", _csv_text(header, rows)),
        "epochs_csv": _write_text(
            folder / "search_epochs.csv",
            _csv_text(
                ("trial", *METRIC_COLUMNS),
                [
                    (r.index, *(getattr(e, c) for c in METRIC_COLUMNS))
                    for r in sorted(results, key=lambda r: r.index)
                    for e in r.epochs
                ],
            ),
        ),
        "png": write_figure(
            folder / "search.png",
            render_search(ranked, definition.space, top_k=top_k, rank_by=definition.rank_by),
        ),
    }
    paths["json"] = write_definition(folder, definition, record)
    return paths


def write_definition(
    folder: str | os.PathLike[str], definition: SearchDefinition, record: Mapping[str, Any] | None = None
) -> Path:
    """Write ``search.json``: the definition and ``record`` (the study's name and storage)."""
    document = {**definition.to_dict(), **(record or {})}
    text = json.dumps(document, default=json_default, indent=1) + "\n"
    return _write_text(Path(folder) / "search.json", text)


# --- the figure ----------------------------------------------------------------------------------------------


def axis_value(dimension: Dimension, value: Any) -> float:
    """Where a drawn value goes on its axis: the value itself, or the choice's position."""
    if dimension.choices:
        for i, choice in enumerate(dimension.choices):
            if choice == value and type(choice) is type(value):
                return float(i)
        for i, choice in enumerate(dimension.choices):  # 1 and 1.0 alike, after a trip through JSON
            if choice == value:
                return float(i)
        return math.nan
    number = finite_number(value)
    return math.nan if number is None else number


def render_search(
    ranked: Sequence[VariantResult],
    space: Sequence[Dimension],
    *,
    top_k: int = 5,
    rank_by: str = "best",
    width: float = 14.0,
    height: float = 4.8,
) -> Figure:
    """Draw a search's results (the book's figure 6-24).

    One panel per searched setting shows every trial's score (:func:`trial_score`: its best or its last
    validation accuracy) against the value it drew, on a log axis for the log-uniform ones and at the choice
    for the others; the best ``top_k`` trials are coloured, the others grey, and trials without a validation
    accuracy (diverged, failed or not run) are crosses at the bottom. The last, wider panel shows the
    validation accuracy per epoch of the best ``top_k``. A legend below names them: rank, score, trial number
    and drawn values.

    Parameters
    ----------
    ranked
        The trials, best first (:func:`rank`).
    space
        The searched settings (their ranges set the axes).
    top_k
        How many of the best trials are highlighted.
    rank_by
        What ranked them: ``"best"`` or ``"last"`` (:data:`RANK_BY`).
    width, height
        Size in inches (100 pixels each) without the legend, which adds a row per few entries.

    Returns
    -------
    matplotlib.figure.Figure
        An axes per searched setting, the curves' axes last, and one figure legend.
    """
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    space = list(space)
    scored = [r for r in ranked if math.isfinite(trial_score(r, rank_by))]
    best = scored[:top_k]
    colour = {r.index: COLORS[k % len(COLORS)] for k, r in enumerate(best)}
    scores = np.array([trial_score(r, rank_by) for r in ranked], dtype=np.float64)
    curves = [np.array([e.val_accuracy for e in r.epochs], dtype=np.float64) for r in best]
    acc_range = accuracy_range(np.concatenate([scores, *curves]))
    unscored = [r for r in ranked if not math.isfinite(trial_score(r, rank_by))]
    labels = [
        f"{k + 1}. {_score_text(trial_score(r, rank_by))}, trial {r.index}: {describe_params(r.settings)}"
        for k, r in enumerate(best)
    ]
    handles = [Line2D([], [], color=colour[r.index], marker="o", markersize=5) for r in best]
    if len(ranked) > len(best) + len(unscored):
        labels.append("other trials")
        handles.append(Line2D([], [], color=GREY, marker="o", markersize=5, linestyle=""))
    if unscored:
        labels.append("no validation accuracy (diverged, failed or not run)")
        handles.append(Line2D([], [], color=GREY, marker="x", markersize=6, linestyle=""))
    columns = legend_columns(labels, width - 0.5, max_columns=3)
    rows = math.ceil(len(labels) / columns)
    with figure_style():
        figure = new_figure(width, height + LEGEND_ROW * rows)
        grid = figure.subplots(1, len(space) + 1, squeeze=False, width_ratios=[1.0] * len(space) + [1.6])[0]
        for axes, dimension in zip(grid, space, strict=False):
            _scatter_axes(axes, dimension, rank_by)
            for r in reversed(ranked):  # the best drawn last, on top
                x, y = axis_value(dimension, r.settings.get(dimension.name)), trial_score(r, rank_by)
                if not math.isfinite(x):
                    continue
                color, chosen = colour.get(r.index, GREY), r.index in colour
                if math.isfinite(y):
                    axes.plot(
                        [x], [y], "o", color=color, markersize=8 if chosen else 6, zorder=3 if chosen else 2
                    )
                else:  # at the bottom of the panel, whatever its range
                    axes.plot(
                        [x], [0.03], "x", color=color, markersize=7, transform=axes.get_xaxis_transform()
                    )
            axes.set_ylim(padded(*acc_range))
        grid[0].set_ylabel("accuracy")
        axes = grid[-1]
        max_epoch = max((e.epoch for r in best for e in r.epochs), default=1)
        for r, values in zip(best, curves, strict=True):
            epochs = np.array([e.epoch for e in r.epochs], dtype=np.float64)
            axes.plot(
                epochs,
                values,
                color=colour[r.index],
                marker="o",
                markersize=4,
                markevery=marker_every(len(epochs)),
            )
        axes.set(
            xlim=padded(0.0, float(max(max_epoch, 1)), below=0.0), ylim=padded(*acc_range), xlabel="epoch"
        )
        axes.set_title(f"best {len(best)}: validation accuracy per epoch")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        if labels:
            figure.legend(handles, labels, loc="outside lower center", ncols=columns)
    return figure


def _scatter_axes(axes: Any, dimension: Dimension, rank_by: str) -> None:
    """Axes of one searched setting: a log axis over its range, a linear one, or its choices as ticks."""
    if dimension.choices:
        count = len(dimension.choices)
        axes.set_xlim(-0.6, count - 0.4)
        axes.set_xticks(range(count), [format_value(dimension.name, c) for c in dimension.choices])
        axes.set_xlabel(dimension.label)
    elif dimension.log:
        low, high = float(dimension.low), float(dimension.high)
        pad = max(0.03 * math.log10(high / low), 0.5 if high / low < 1 + 1e-9 else 0.0)
        axes.set_xscale("log")
        axes.set(xlim=(low / 10**pad, high * 10**pad), xlabel=f"{dimension.label} (log)")
    else:
        low, high = float(dimension.low), float(dimension.high)
        pad = max(0.03 * (high - low), 0.5 if high == low else 0.0)
        axes.set(xlim=(low - pad, high + pad), xlabel=dimension.label)
    axes.set_title(f"{RANK_BY[rank_by]} by {dimension.label}")


def _score_text(value: float) -> str:
    return f"{value:.3f}" if math.isfinite(value) else "no val. acc."
