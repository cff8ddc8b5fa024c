"""Hyperparameter random search on a log scale: the book's section 6.5 (figure 6-24).

Each trial draws its hyperparameters log-uniformly from ranges the user sets (the book: learning rate
``10 ** uniform(-6, -2)`` and weight decay ``10 ** uniform(-8, -4)``), trains the network on the training
split and is scored on the VALIDATION split. The test set is never used: the trials train on a copy of the
prepared data whose test arrays are empty, so no result can depend on it (keep it for the one final check
of the model you pick).

The trials are the variants of a :class:`~dllab.experiments.compare.Comparison` (one implementation of running several
trainings): every trial starts from the same initial weights and sees the same mini-batches, so the
hyperparameters are all that differs.

>>> search = RandomSearch(spec, prepared, TrainingConfig(epochs=50), {"lr": (1e-6, 1e-2),
...                       "weight_decay": (1e-8, 1e-4)}, trials=20, seed=0, out="runs/search")
>>> for event in search.run():                   # doctest: +SKIP
...     print(event.trial, event.params, event.event)
>>> search.ranking()[0].settings                  # doctest: +SKIP
{'lr': 0.0073..., 'weight_decay': 2.1e-07}
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import os
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dllab.data import PreparedData
from dllab.errors import SettingsError, quote
from dllab.experiments.compare import Comparison, VariantResult, write_epochs_csv
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
from dllab.experiments.variants import Variant
from dllab.io import json_default
from dllab.runs import DataSettings, claim_folder
from dllab.spec import read_spec
from dllab.trainer import Event, TrainingConfig

if TYPE_CHECKING:  # matplotlib is imported only where a figure is drawn
    from matplotlib.figure import Figure

#: The hyperparameters a search can draw, with their names in labels and files.
SEARCHABLE: dict[str, str] = {"lr": "learning rate", "weight_decay": "weight decay"}
#: The book's ranges (figure 6-24).
BOOK_RANGES: dict[str, tuple[float, float]] = {"lr": (1e-6, 1e-2), "weight_decay": (1e-8, 1e-4)}
_SHORT = {"lr": "lr", "weight_decay": "wd"}
#: How trials can be ranked: by the best validation accuracy of any epoch, or by the last epoch's, as the
#: book does (``ch06/hyperparameter_optimization.py`` sorts by ``val_acc_list[-1]``).
RANK_BY: dict[str, str] = {"best": "best validation accuracy", "last": "last epoch's validation accuracy"}
SEARCH_FORMAT = "dllab.experiments.search/1"


def check_ranges(ranges: Mapping[str, Sequence[float]]) -> dict[str, tuple[float, float]]:
    """Validate log-uniform ranges: known names, two finite positive bounds, the low one first.

    Returns
    -------
    dict
        ``{name: (low, high)}`` as floats, in :data:`SEARCHABLE` order.

    Raises
    ------
    ValueError
        For no ranges, an unknown name or bounds that do not make a range on a log scale.
    """
    if not ranges:
        raise SettingsError(f"give at least one range to search: {', '.join(SEARCHABLE)}")
    for name in ranges:
        if name not in SEARCHABLE:
            raise SettingsError(f"cannot search {name!r}; searchable: {', '.join(SEARCHABLE)}")
    checked: dict[str, tuple[float, float]] = {}
    for name in SEARCHABLE:
        if name not in ranges:
            continue
        bounds = ranges[name]
        try:
            low, high = (float(v) for v in bounds)
        except (TypeError, ValueError):
            raise SettingsError(f"the {SEARCHABLE[name]} range must be two numbers, got {bounds!r}") from None
        if not (math.isfinite(low) and math.isfinite(high) and 0 < low <= high):
            raise SettingsError(
                f"the {SEARCHABLE[name]} range must be two positive numbers, the lower one first "
                f"(it is searched on a log scale), got {low:g} to {high:g}"
            )
        checked[name] = (low, high)
    return checked


def parse_range(text: str, what: str = "range") -> tuple[float, float]:
    """Two numbers from ``"1e-6,1e-2"`` (also ``"1e-6:1e-2"``)."""
    parts = [p.strip() for p in text.replace(":", ",").split(",")]
    if len(parts) != 2:
        raise SettingsError(f"the {what} must be two numbers like 1e-6,1e-2, got {text!r}")
    try:
        return float(parts[0]), float(parts[1])
    except ValueError:
        raise SettingsError(f"the {what} must be two numbers like 1e-6,1e-2, got {text!r}") from None


def sample_log_uniform(
    ranges: Mapping[str, Sequence[float]], trials: int, seed: int = 0
) -> list[dict[str, float]]:
    """Draw ``trials`` sets of hyperparameters, each log-uniformly within its range.

    A value is ``10 ** uniform(log10(low), log10(high))``, as in the book. The draws go trial by trial,
    so the same seed gives the same first trials whatever their number.

    Parameters
    ----------
    ranges
        ``{name: (low, high)}`` for names of :data:`SEARCHABLE`.
    trials
        How many sets to draw (at least 1).
    seed
        Seeds the draws: the same seed reproduces the same values exactly.

    Returns
    -------
    list of dict
        ``[{"lr": ..., "weight_decay": ...}, ...]``.
    """
    checked = check_ranges(ranges)
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise SettingsError(f"the number of trials must be a whole number of at least 1, got {trials!r}")
    low = np.log10([lo for lo, _ in checked.values()])
    high = np.log10([hi for _, hi in checked.values()])
    exponents = np.random.default_rng(seed).uniform(low, high, size=(trials, len(checked)))
    return [
        {name: float(10.0**e) for name, e in zip(checked, row, strict=True)} for row in exponents.tolist()
    ]


def check_rank_by(rank_by: Any) -> str:
    """``"best"`` or ``"last"`` (:data:`RANK_BY`); SettingsError otherwise."""
    if rank_by not in RANK_BY:
        raise SettingsError(f"trials are ranked by {' or '.join(RANK_BY)} epoch, got {quote(rank_by)}")
    return rank_by


def trial_score(result: VariantResult, rank_by: str = "best") -> float:
    """What ranks a trial: its best validation accuracy (``"best"``) or its last epoch's (``"last"``); NaN
    when it has none."""
    return result.best_val_accuracy if rank_by == "best" else result.final_val_accuracy


def describe_params(params: Mapping[str, float]) -> str:
    """A short label such as ``"lr 1.23e-03, wd 4.56e-07"``."""
    return ", ".join(f"{_SHORT.get(name, name)} {value:.2e}" for name, value in params.items())


def without_test(data: PreparedData) -> PreparedData:
    """A view of ``data`` whose test arrays are empty, so training on it cannot touch the test set."""
    return dataclasses.replace(data, x_test=data.x_test[:0], y_test=data.y_test[:0])


@dataclass(frozen=True)
class TrialEvent:
    """A trainer event of one trial, with the trial's hyperparameters.

    A trial starts with :class:`~dllab.trainer.RunStarted` and ends with ``Finished``, ``Stopped`` or
    ``Diverged``; its validation curve is in the ``EpochEnded`` events (``val_accuracy``).
    """

    trial: int
    params: dict[str, float]
    event: Event


class RandomSearch:
    """Train one network with hyperparameters drawn at random; rank the trials by validation accuracy.

    Parameters
    ----------
    spec
        The network spec (dict or ``.json`` path).
    data
        The prepared data; it needs a validation split. Its test arrays are never used.
    config
        The base training config; each trial replaces the searched hyperparameters in it.
    ranges
        ``{name: (low, high)}`` of :data:`SEARCHABLE`, e.g. :data:`BOOK_RANGES`.
    trials
        Number of trials.
    seed
        Seeds the hyperparameter draws and the initial weights (the mini-batch order is ``config.seed``).
    out
        Folder for ``search.csv``, ``search_epochs.csv``, ``search.png`` and ``search.json``
        (:meth:`write_outputs`); None writes nothing.
    data_settings
        How the data was made, written to ``search.json``.
    top_k
        How many of the best trials the figure draws curves of.
    rank_by
        ``"best"`` (the default) ranks the trials by their best validation accuracy of any epoch;
        ``"last"`` by the last epoch's, as the book does.
    processes
        How many trials train at once, each in a worker process (see :class:`~dllab.experiments.compare.Comparison`).

    Raises
    ------
    ValueError
        For invalid ranges or counts, or data without a validation split. SpecError when the network
        cannot be built.
    """

    def __init__(
        self,
        spec: dict[str, Any] | str | os.PathLike[str],
        data: PreparedData,
        config: TrainingConfig,
        ranges: Mapping[str, Sequence[float]],
        *,
        trials: int = 20,
        seed: int = 0,
        out: str | os.PathLike[str] | None = None,
        data_settings: DataSettings | None = None,
        top_k: int = 5,
        rank_by: str = "best",
        processes: int = 1,
    ) -> None:
        if not len(data.x_val):
            raise SettingsError(
                "a hyperparameter search needs a validation split to score the trials (the test set is "
                "never used for choosing); hold out part of the training set"
            )
        if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
            raise SettingsError(f"top_k must be a whole number of at least 1, got {top_k!r}")
        self.ranges = check_ranges(ranges)
        self.rank_by = check_rank_by(rank_by)
        #: The hyperparameters of every trial, in trial order.
        self.trial_params = sample_log_uniform(self.ranges, trials, seed)
        self.spec = read_spec(spec)
        self.config = config
        self.seed = seed
        self.top_k = top_k
        self.out = None if out is None else Path(out)
        self.data_settings = data_settings
        variants = [
            Variant(
                f"trial {i + 1}: {describe_params(p)}", dict(p), self.spec, dataclasses.replace(config, **p)
            )
            for i, p in enumerate(self.trial_params)
        ]
        self.data_name = data.name
        self.comparison = Comparison.from_variants(
            variants, without_test(data), seed=seed, processes=processes
        )
        self.outputs: dict[str, Path] = {}

    @property
    def results(self) -> list[VariantResult]:
        """Every trial's result so far, in trial order (``settings`` holds its hyperparameters)."""
        return self.comparison.results

    def ranking(self) -> list[VariantResult]:
        """The trials by their score (:func:`trial_score`), best first (trials without one last, in trial
        order)."""

        def key(result: VariantResult) -> tuple[bool, float, int]:
            score = trial_score(result, self.rank_by)
            return (not math.isfinite(score), -score if math.isfinite(score) else 0.0, result.index)

        return sorted(self.results, key=key)

    def stop(self) -> None:
        """Stop the running trial before its next batch and skip the rest (any thread)."""
        self.comparison.stop()

    def run(self) -> Generator[TrialEvent, None, list[VariantResult]]:
        """Run the trials (in turn, or ``processes`` at a time), yielding their events; returns :meth:`ranking`.

        The outputs are written at the end when ``out`` is set (also after a stop).
        """
        if self.out is not None:
            self.out = claim_folder(self.out)
        for tagged in self.comparison.run():
            yield TrialEvent(tagged.index, dict(self.trial_params[tagged.index]), tagged.event)
        if self.out is not None:
            self.outputs = self.write_outputs(self.out)
        return self.ranking()

    def write_outputs(self, folder: str | os.PathLike[str]) -> dict[str, Path]:
        """Write the results so far.

        Returns
        -------
        dict
            ``"csv"``: ``search.csv``, one row per trial, best first (rank, trial, the hyperparameters, best
            and final validation accuracy, best epoch, final training accuracy, status);
            ``"epochs_csv"``: ``search_epochs.csv``, every trial's metrics per epoch;
            ``"png"``: ``search.png`` (see :func:`render_search`);
            ``"json"``: ``search.json``, what reproduces the search (network, data, training config,
            ranges, trials, seed).
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        csv_path, epochs_path, png_path, json_path = (
            folder / "search.csv",
            folder / "search_epochs.csv",
            folder / "search.png",
            folder / "search.json",
        )
        ranked = self.ranking()
        header, rows = ranking_table(ranked, list(self.ranges))
        with csv_path.open("w", encoding="utf-8", newline="") as file:
            writer = csv.writer(file, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)
        write_epochs_csv(epochs_path, self.results, key=("trial", lambda r: r.index + 1))
        write_figure(png_path, render_search(ranked, self.ranges, top_k=self.top_k, rank_by=self.rank_by))
        record = {
            "format": SEARCH_FORMAT,
            "network": self.spec,
            "data": self.data_settings.to_dict() if self.data_settings else {"dataset": self.data_name},
            "config": self.config.to_dict(),
            "ranges": {name: list(bounds) for name, bounds in self.ranges.items()},
            "trials": len(self.trial_params),
            "seed": self.seed,
            "rank_by": self.rank_by,
        }
        json_path.write_text(json.dumps(record, default=json_default, indent=1) + "\n", encoding="utf-8")
        return {"csv": csv_path, "epochs_csv": epochs_path, "png": png_path, "json": json_path}


def ranking_table(
    ranked: Sequence[VariantResult], names: Sequence[str], others: Sequence[VariantResult] = ()
) -> tuple[list[str], list[list[Any]]]:
    """The ranking as ``search.csv`` holds it: the header, and a row per trial of ``ranked`` (best first, with
    its rank) then of ``others`` (no rank): trial number, the hyperparameters ``names`` it drew, best and final
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
    rows = [(rank, r) for rank, r in enumerate(ranked, start=1)] + [("", r) for r in others]
    return header, [
        [
            rank,
            r.index + 1,
            *(r.settings.get(name, math.nan) for name in names),
            r.best_val_accuracy,
            best_epoch(r) or "",
            r.final_val_accuracy,
            r.final_train_accuracy,
            r.status,
        ]
        for rank, r in rows
    ]


def best_epoch(result: VariantResult) -> int | None:
    """The epoch of a trial's best validation accuracy (the first of equals), or None."""
    finite = [e for e in result.epochs if math.isfinite(e.val_accuracy)]
    return max(finite, key=lambda e: (e.val_accuracy, -e.epoch)).epoch if finite else None


def render_search(
    ranked: Sequence[VariantResult],
    ranges: Mapping[str, tuple[float, float]],
    *,
    top_k: int = 5,
    rank_by: str = "best",
    width: float = 14.0,
    height: float = 4.8,
) -> Figure:
    """Draw a search's results.

    One panel per hyperparameter shows every trial's score (:func:`trial_score`: its best or its last
    validation accuracy) against the value it drew, on a log axis; the best ``top_k`` trials are coloured, the others grey, and trials without a validation
    accuracy (diverged or not run) are crosses at the bottom. The last, wider panel shows the validation
    accuracy per epoch of the best ``top_k``. A legend below names them: rank, score,
    trial number and hyperparameters.

    Parameters
    ----------
    ranked
        The trials, best first (:meth:`RandomSearch.ranking`).
    ranges
        The searched ranges, which set the log axes.
    top_k
        How many of the best trials are highlighted.
    rank_by
        What ranked them: ``"best"`` or ``"last"`` (:data:`RANK_BY`).
    width, height
        Size in inches (100 pixels each) without the legend, which adds a row per few entries.

    Returns
    -------
    matplotlib.figure.Figure
        An axes per hyperparameter, the curves' axes last, and one figure legend.
    """
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    best = list(ranked[:top_k])
    colour = {r.index: COLORS[k % len(COLORS)] for k, r in enumerate(best)}
    scores = np.array([trial_score(r, rank_by) for r in ranked], dtype=np.float64)
    curves = [np.array([e.val_accuracy for e in r.epochs], dtype=np.float64) for r in best]
    acc_range = accuracy_range(np.concatenate([scores, *curves]))
    unscored = [r for r in ranked if not math.isfinite(trial_score(r, rank_by))]
    labels = [
        f"{k + 1}. {_score_text(trial_score(r, rank_by))}, trial {r.index + 1}: {describe_params(r.settings)}"
        for k, r in enumerate(best)
    ]
    handles = [Line2D([], [], color=colour[r.index], marker="o", markersize=5) for r in best]
    if len(ranked) > len(best):
        labels.append("other trials")
        handles.append(Line2D([], [], color=GREY, marker="o", markersize=5, linestyle=""))
    if unscored:
        labels.append("no validation accuracy (diverged or not run)")
        handles.append(Line2D([], [], color=GREY, marker="x", markersize=6, linestyle=""))
    columns = legend_columns(labels, width - 0.5, max_columns=3)
    rows = math.ceil(len(labels) / columns)
    with figure_style():
        figure = new_figure(width, height + LEGEND_ROW * rows)
        grid = figure.subplots(1, len(ranges) + 1, squeeze=False, width_ratios=[1.0] * len(ranges) + [1.6])[0]
        for axes, (name, (low, high)) in zip(grid, ranges.items(), strict=False):
            pad = max(0.03 * math.log10(high / low), 0.5 if high / low < 1 + 1e-9 else 0.0)
            axes.set_xscale("log")
            axes.set(
                xlim=(low / 10**pad, high * 10**pad),
                ylim=padded(*acc_range),
                xlabel=f"{SEARCHABLE[name]} (log)",
            )
            axes.set_title(f"{RANK_BY[rank_by]} by {SEARCHABLE[name]}")
            for r in reversed(ranked):  # the best drawn last, on top
                x, y = r.settings[name], trial_score(r, rank_by)
                color, chosen = colour.get(r.index, GREY), r.index in colour
                if math.isfinite(y):
                    axes.plot(
                        [x], [y], "o", color=color, markersize=8 if chosen else 6, zorder=3 if chosen else 2
                    )
                else:  # at the bottom of the panel, whatever its range
                    axes.plot(
                        [x], [0.03], "x", color=color, markersize=7, transform=axes.get_xaxis_transform()
                    )
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


def _score_text(value: float) -> str:
    return f"{value:.3f}" if math.isfinite(value) else "no val. acc."
