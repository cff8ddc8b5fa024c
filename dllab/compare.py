"""Compare training runs that differ in one or two settings: optimizer, initialisation, batch norm, ...

The book's comparisons (chapter 6) train the same network on the same data under each setting and overlay
the loss curves. :class:`Comparison` does that: every variant starts from the same initial weights where the
architecture allows (all models are built with the same seed; BatchNorm and Dropout draw nothing when
built, so inserting them leaves the Dense and Conv2D weights unchanged) and sees the same mini-batches in the
same order (the same trainer seed). One factor gives one run per value, two factors a grid.

Factors (:data:`FACTORS`) and their values:

- ``optimizer``: names such as ``"sgd"`` or ``"adam"``; each trains with its book learning rate
  (:data:`BOOK_LEARNING_RATES`) unless the learning rate is kept (``keep_lr``) or is a factor too;
- ``init``: ``"he"``, ``"xavier"``, ``"he_uniform"``, ``"xavier_uniform"`` or a standard deviation such as
  ``0.01``, applied to every Dense and Conv2D layer;
- ``batchnorm``: True inserts a BatchNorm after every Dense and Conv2D but the last, False removes them;
- ``dropout``: a rate inserts a Dropout after the activation of every hidden Dense layer (0 removes them);
- ``weight_decay``, ``batch_size``, ``lr``: training settings.

:meth:`Comparison.run` yields every trainer event tagged with its variant (a GUI draws live curves from
them) and returns the per-run results; it writes a run folder per variant, a combined CSV and a PNG of the
overlaid curves (and small multiples for two factors). The PNGs are drawn here with numpy and written with
zlib, so no plotting library is needed. With ``test_curve`` the test set is also measured after every epoch,
for the book's training-against-test figures; it is displayed, never used to choose anything.

The book's own comparisons are data in :data:`PRESETS` (optimizers, initializers, batchnorm, weight_decay,
dropout); :func:`comparison_from_preset` turns one into a ready :class:`Comparison` on MNIST.

>>> comparison = Comparison(spec, prepared, TrainingConfig(batch_size=128, max_steps=2000),
...                         {"optimizer": ["sgd", "momentum", "adagrad", "adam"]}, out="runs/opt")
>>> for tagged in comparison.run():          # doctest: +SKIP
...     print(tagged.label, tagged.event)
>>> comparison = comparison_from_preset("weight_decay", data_dir="data/mnist")   # doctest: +SKIP
"""

from __future__ import annotations

import csv
import dataclasses
import itertools
import math
import os
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dllab.data import Dataset, PreparedData
from dllab.data.download import ProgressCallback
from dllab.initializers import validate_init
from dllab.metrics import evaluate
from dllab.model import Sequential, build
from dllab.optimizers import OPTIMIZERS
from dllab.plotting import (
    BLACK,
    COLORS,
    GREY,
    Panel,
    draw_axes,
    draw_polyline,
    draw_text,
    text_width,
    write_png,
)
from dllab.runs import METRIC_COLUMNS, DataSettings, RunRecorder, safe_name
from dllab.spec import LAYER_TYPES, read_spec
from dllab.trainer import (
    BatchEnded,
    Diverged,
    EpochEnded,
    Event,
    Finished,
    RunStarted,
    Stopped,
    Trainer,
    TrainingConfig,
)

#: The settings a comparison can vary.
FACTORS = ("optimizer", "init", "batchnorm", "dropout", "weight_decay", "batch_size", "lr")
#: The learning rate each optimizer trains with in a comparison unless one is given.
BOOK_LEARNING_RATES: dict[str, float] = {
    "sgd": 0.01,
    "momentum": 0.01,
    "nesterov": 0.01,
    "adagrad": 0.01,
    "rmsprop": 0.001,
    "adadelta": 1.0,
    "adam": 0.001,
    "adamw": 0.001,
}
#: At most this many factors vary at once (two make a grid).
MAX_FACTORS = 2
#: The per-epoch test columns of a comparison that measures the test set after every epoch (for display).
TEST_COLUMNS = ("test_loss", "test_accuracy")

_WEIGHTED = ("Dense", "Conv2D")


# --- network variants ------------------------------------------------------------------------------------


def _is_activation(layer: Any) -> bool:
    cls = LAYER_TYPES.get(layer.get("type")) if isinstance(layer, dict) else None
    return cls is not None and cls.category == "Activation"


def _layers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    layers = spec.get("layers")
    if not isinstance(layers, list):
        raise ValueError("the network spec has no list of layers")
    return [dict(layer) if isinstance(layer, dict) else layer for layer in layers]


def with_init(spec: dict[str, Any] | str | os.PathLike[str], init: str | float) -> dict[str, Any]:
    """The spec with ``init`` set on every Dense and Conv2D layer.

    Parameters
    ----------
    spec
        A network spec (dict or ``.json`` path); not modified.
    init
        ``"he"``, ``"xavier"``, ``"he_uniform"``, ``"xavier_uniform"`` or a standard deviation.

    Returns
    -------
    dict
        A new spec.
    """
    init = validate_init(init)
    result = read_spec(spec)
    layers = _layers(result)
    for layer in layers:
        if isinstance(layer, dict) and layer.get("type") in _WEIGHTED:
            layer["init"] = init
    result["layers"] = layers
    return result


def with_batchnorm(spec: dict[str, Any] | str | os.PathLike[str], on: bool) -> dict[str, Any]:
    """The spec with a BatchNorm after every Dense and Conv2D but the last one (``on``), or with none.

    Existing BatchNorm layers are removed first, so the result has exactly one BatchNorm per hidden weighted
    layer when ``on`` and none when not.
    """
    result = read_spec(spec)
    layers = [
        layer
        for layer in _layers(result)
        if not (isinstance(layer, dict) and layer.get("type") == "BatchNorm")
    ]
    if on:
        weighted = [
            i for i, layer in enumerate(layers) if isinstance(layer, dict) and layer.get("type") in _WEIGHTED
        ]
        hidden = set(weighted[:-1])
        out: list[Any] = []
        for i, layer in enumerate(layers):
            out.append(layer)
            if i in hidden:
                out.append({"type": "BatchNorm"})
        layers = out
    result["layers"] = layers
    return result


def with_dropout(spec: dict[str, Any] | str | os.PathLike[str], rate: float) -> dict[str, Any]:
    """The spec with a Dropout of ``rate`` after the activation of every hidden Dense layer (0: none).

    Existing Dropout layers are removed first. A hidden Dense layer is one followed by another Dense layer;
    the Dropout goes after the BatchNorm and activation layers that follow it.

    Raises
    ------
    ValueError
        For a rate outside [0, 1), or a positive rate for a network without a hidden Dense layer.
    """
    if isinstance(rate, bool) or not (0.0 <= float(rate) < 1.0):
        raise ValueError(f"a dropout rate must be at least 0 and below 1, got {rate!r}")
    result = read_spec(spec)
    layers = [
        layer for layer in _layers(result) if not (isinstance(layer, dict) and layer.get("type") == "Dropout")
    ]
    if rate > 0:
        dense = [
            i for i, layer in enumerate(layers) if isinstance(layer, dict) and layer.get("type") == "Dense"
        ]
        if len(dense) < 2:
            raise ValueError("dropout needs a hidden Dense layer to follow, and this network has none")
        insert_after = []
        for i in dense[:-1]:
            j = i
            while j + 1 < len(layers) and (
                _is_activation(layers[j + 1])
                or (isinstance(layers[j + 1], dict) and layers[j + 1].get("type") == "BatchNorm")
            ):
                j += 1
            insert_after.append(j)
        out: list[Any] = []
        for i, layer in enumerate(layers):
            out.append(layer)
            if i in insert_after:
                out.append({"type": "Dropout", "rate": float(rate)})
        layers = out
    result["layers"] = layers
    return result


# --- factors and variants --------------------------------------------------------------------------------


def _parse_bool(text: str) -> bool:
    key = text.strip().lower()
    if key in ("on", "true", "yes", "1"):
        return True
    if key in ("off", "false", "no", "0"):
        return False
    raise ValueError(f"batchnorm takes on or off, got {text!r}")


def _parse_number(factor: str, text: str, *, integer: bool = False) -> float | int:
    try:
        value: float | int = int(text) if integer else float(text)
    except ValueError:
        kind = "whole numbers" if integer else "numbers"
        raise ValueError(f"{factor.replace('_', ' ')} values must be {kind}, got {text!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"{factor.replace('_', ' ')} values must be finite, got {text!r}")
    return value


def parse_init(text: str | float) -> str | float:
    """An initialiser setting from text: a name, a standard deviation, or ``"std 0.01"``."""
    if isinstance(text, str) and text.strip().lower().startswith("std"):
        text = text.strip()[3:].strip(" =:")
    return validate_init(text)


def check_factor_values(factor: str, values: Sequence[Any]) -> list[Any]:
    """Validate and normalise the values of one factor (text or Python values).

    Parameters
    ----------
    factor
        One of :data:`FACTORS`.
    values
        Its values, e.g. ``["sgd", "adam"]``, ``["on", "off"]``, ``[0.0, 0.1]`` or text like ``"0.1"``.

    Returns
    -------
    list
        Optimizer names in lower case, inits as names or floats, booleans for batchnorm, floats or ints for
        the others.

    Raises
    ------
    ValueError
        For an unknown factor, an empty or repeated value list, or a value that is not valid.
    """
    if factor not in FACTORS:
        raise ValueError(f"unknown comparison factor {factor!r}; known: {', '.join(FACTORS)}")
    if not values:
        raise ValueError(f"give at least one {factor.replace('_', ' ')} value to compare")
    checked: list[Any] = []
    for raw in values:
        text = raw.strip() if isinstance(raw, str) else raw
        if factor == "optimizer":
            name = str(text).lower()
            if name not in OPTIMIZERS:
                raise ValueError(f"unknown optimizer {text!r}; known: {', '.join(OPTIMIZERS)}")
            value: Any = name
        elif factor == "init":
            value = parse_init(text)
        elif factor == "batchnorm":
            value = _parse_bool(text) if isinstance(text, str) else bool(text)
        elif factor == "batch_size":
            value = _parse_number(factor, text, integer=True) if isinstance(text, str) else text
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"batch sizes must be whole numbers of at least 1, got {raw!r}")
        else:
            value = float(_parse_number(factor, text) if isinstance(text, str) else text)
            if factor == "lr" and value <= 0:
                raise ValueError(f"learning rates must be positive, got {raw!r}")
            if factor == "weight_decay" and value < 0:
                raise ValueError(f"weight decay must be at least 0, got {raw!r}")
            if factor == "dropout" and not 0 <= value < 1:
                raise ValueError(f"a dropout rate must be at least 0 and below 1, got {raw!r}")
        if value in checked:
            raise ValueError(f"the {factor.replace('_', ' ')} value {raw!r} is given twice")
        checked.append(value)
    return checked


def describe_setting(factor: str, value: Any) -> str:
    """A short label for one setting, e.g. ``"adam"``, ``"init std 0.01"``, ``"batchnorm on"``."""
    if factor == "optimizer":
        return str(value)
    if factor == "init":
        return f"init std {value:g}" if isinstance(value, float) else f"init {value}"
    if factor == "batchnorm":
        return f"batchnorm {'on' if value else 'off'}"
    if factor == "batch_size":
        return f"batch {value}"
    if factor == "weight_decay":
        return f"weight decay {value:g}"
    return f"{factor} {value:g}"


@dataclass(frozen=True)
class Variant:
    """One run of a comparison: its settings, network spec and training config."""

    label: str
    settings: dict[str, Any]
    spec: dict[str, Any]
    config: TrainingConfig


def make_variants(
    spec: dict[str, Any] | str | os.PathLike[str],
    config: TrainingConfig,
    factors: Mapping[str, Sequence[Any]],
    *,
    keep_lr: bool = False,
) -> list[Variant]:
    """Every combination of the factors' values as a variant of ``spec`` and ``config``.

    Parameters
    ----------
    spec
        The base network spec (dict or ``.json`` path).
    config
        The base training config.
    factors
        One or two factors of :data:`FACTORS` with their values; with two, every pair (a grid, the first
        factor varying slowest).
    keep_lr
        Keep ``config.lr`` for every optimizer instead of each one's book learning rate.

    Returns
    -------
    list of Variant

    Raises
    ------
    ValueError
        For no or more than two factors, or invalid values. SpecError when a variant's network cannot be
        built.
    """
    if not factors:
        raise ValueError("choose a setting to compare, e.g. optimizers")
    if len(factors) > MAX_FACTORS:
        raise ValueError(
            f"compare at most {MAX_FACTORS} settings at once, got {len(factors)}: {', '.join(factors)}"
        )
    names = list(factors)
    values = [check_factor_values(name, factors[name]) for name in names]
    base = read_spec(spec)
    variants = []
    for combination in itertools.product(*values):
        settings = dict(zip(names, combination, strict=True))
        variant_spec = base
        changes: dict[str, Any] = {}
        for factor, value in settings.items():
            if factor == "init":
                variant_spec = with_init(variant_spec, value)
            elif factor == "batchnorm":
                variant_spec = with_batchnorm(variant_spec, value)
            elif factor == "dropout":
                variant_spec = with_dropout(variant_spec, value)
            elif factor == "optimizer":
                changes["optimizer"] = value
                changes["optimizer_options"] = {}
                if not keep_lr and "lr" not in settings:
                    changes["lr"] = BOOK_LEARNING_RATES.get(value, config.lr)
            else:
                changes[factor] = value
        label = ", ".join(describe_setting(f, v) for f, v in settings.items())
        variant_config = dataclasses.replace(config, **changes)
        variants.append(Variant(label, settings, read_spec(variant_spec), variant_config))
    return variants


# --- running ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TestEvaluated:
    """The test set's loss and accuracy after an epoch, measured for display only.

    The book's overfitting figures (6-20 to 6-23) draw training and test accuracy per epoch; a comparison
    made with ``test_curve=True`` measures them the same way. Nothing is chosen by these values (no early
    stopping, no best model): model selection uses the validation split.
    """

    __test__ = False  # not a pytest test class

    epoch: int
    step: int
    loss: float
    accuracy: float


@dataclass(frozen=True)
class VariantEvent:
    """A trainer event of one variant, or its :class:`TestEvaluated` after an epoch."""

    index: int
    label: str
    event: Event | TestEvaluated


@dataclass
class VariantResult:
    """What one variant's run produced: its per-step losses and per-epoch metrics.

    Attributes
    ----------
    status : str
        ``"pending"``, ``"running"``, ``"finished"``, ``"stopped"``, ``"diverged"`` or ``"not run"`` (the
        comparison was stopped before it).
    reason : str
        Why the run ended (the trainer's reason or message).
    batches_per_epoch : int
    steps, losses, lrs : list
        Per mini-batch.
    epochs : list of EpochEnded
    test_loss, test_accuracy : float
        On the test set at the end of the run (NaN until it finished).
    folder : Path or None
        The run folder, when the comparison writes files.
    test_curve : list of TestEvaluated
        The test set after each epoch, for display (empty unless the comparison measures it).
    """

    index: int
    label: str
    settings: dict[str, Any]
    status: str = "pending"
    reason: str = ""
    batches_per_epoch: int = 0
    steps: list[int] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    lrs: list[float] = field(default_factory=list)
    epochs: list[EpochEnded] = field(default_factory=list)
    test_loss: float = math.nan
    test_accuracy: float = math.nan
    folder: Path | None = None
    test_curve: list[TestEvaluated] = field(default_factory=list)

    def record(self, event: Event | TestEvaluated) -> None:
        """Take one trainer event (or a per-epoch test evaluation) into account."""
        if isinstance(event, RunStarted):
            self.status = "running"
            self.batches_per_epoch = event.batches_per_epoch
        elif isinstance(event, BatchEnded):
            self.steps.append(event.step)
            self.losses.append(event.loss)
            self.lrs.append(event.lr)
        elif isinstance(event, EpochEnded):
            self.epochs.append(event)
        elif isinstance(event, TestEvaluated):
            self.test_curve.append(event)
        elif isinstance(event, Finished):
            self.status, self.reason = "finished", event.reason
            self.test_loss, self.test_accuracy = event.test_loss, event.test_accuracy
        elif isinstance(event, Stopped):
            self.status, self.reason = "stopped", event.reason
        elif isinstance(event, Diverged):
            self.status, self.reason = "diverged", event.message

    def smoothed_losses(self, window: int | None = None) -> np.ndarray:
        """The per-step losses smoothed by a centred moving average (see :func:`smooth`)."""
        return smooth(np.asarray(self.losses, dtype=np.float64), window)

    def epoch_metrics(self) -> dict[str, np.ndarray]:
        """Per-epoch metrics as columns: :data:`dllab.runs.METRIC_COLUMNS` and :data:`TEST_COLUMNS`.

        The test columns line up with the epochs: the test set's loss and accuracy after that epoch where it
        was measured (``test_curve``), NaN elsewhere. A plot of training against test accuracy per epoch
        (the book's figures 6-20 to 6-23) draws ``train_accuracy`` and ``test_accuracy`` over ``epoch``.
        """
        columns = {
            c: np.array([getattr(e, c) for e in self.epochs], dtype=np.float64) for c in METRIC_COLUMNS
        }
        tested = {t.epoch: t for t in self.test_curve}
        for column, attribute in zip(TEST_COLUMNS, ("loss", "accuracy"), strict=True):
            columns[column] = np.array(
                [getattr(tested[e.epoch], attribute) if e.epoch in tested else math.nan for e in self.epochs],
                dtype=np.float64,
            )
        return columns

    @property
    def final_val_accuracy(self) -> float:
        """The validation accuracy after the last epoch (NaN before the first, or without validation)."""
        return self.epochs[-1].val_accuracy if self.epochs else math.nan

    @property
    def final_train_accuracy(self) -> float:
        """The training accuracy after the last epoch (NaN before the first)."""
        return self.epochs[-1].train_accuracy if self.epochs else math.nan

    @property
    def best_val_accuracy(self) -> float:
        """The highest validation accuracy after any epoch (NaN when none was measured)."""
        values = [e.val_accuracy for e in self.epochs if math.isfinite(e.val_accuracy)]
        return max(values) if values else math.nan


def smooth(values: np.ndarray, window: int | None = None) -> np.ndarray:
    """Centred moving average of a curve, the same length (shorter windows at the ends).

    Parameters
    ----------
    values
        The curve.
    window
        Points averaged; by default about 1/50 of the curve, between 1 and 25. Non-finite values are left out
        of the averages.

    Returns
    -------
    numpy.ndarray
    """
    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    if window is None:
        window = int(np.clip(n // 50, 1, 25))
    if n == 0 or window <= 1:
        return values.copy()
    finite = np.isfinite(values)
    sums = np.concatenate([[0.0], np.cumsum(np.where(finite, values, 0.0))])
    counts = np.concatenate([[0], np.cumsum(finite)])
    half = window // 2
    lo = np.clip(np.arange(n) - half, 0, n)
    hi = np.clip(np.arange(n) + half + 1, 0, n)
    count = counts[hi] - counts[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, (sums[hi] - sums[lo]) / np.maximum(count, 1), np.nan)


class Comparison:
    """Train one network under several settings from identical starting points.

    Parameters
    ----------
    spec
        The base network spec (dict or ``.json`` path).
    data
        The prepared data every variant trains on.
    config
        The base training config; its ``seed`` fixes the mini-batch order of every variant.
    factors
        One or two of :data:`FACTORS` with their values (see :func:`make_variants`).
    keep_lr
        Keep ``config.lr`` for every optimizer instead of each one's book learning rate.
    seed
        The seed every variant's network is built with.
    out
        Folder for the outputs (a run folder per variant, the combined CSVs and the PNG); None writes
        nothing.
    data_settings
        How the data was made, stored in each run's ``config.json``.
    test_curve
        Also measure the test set after every epoch (at most ``config.eval_samples`` samples) and yield it
        as :class:`TestEvaluated`, for the book's training-against-test plots. For display only: nothing is
        chosen by it.

    Raises
    ------
    ValueError, SpecError
        For invalid factors, a variant network that cannot be built, or data that does not fit it.
    """

    def __init__(
        self,
        spec: dict[str, Any] | str | os.PathLike[str],
        data: PreparedData,
        config: TrainingConfig,
        factors: Mapping[str, Sequence[Any]],
        *,
        keep_lr: bool = False,
        seed: int = 0,
        out: str | os.PathLike[str] | None = None,
        data_settings: DataSettings | None = None,
        test_curve: bool = False,
    ) -> None:
        self.config = config
        self.factors = {name: list(values) for name, values in factors.items()}
        self._setup(make_variants(spec, config, factors, keep_lr=keep_lr), data, seed, out, data_settings)
        self.test_curve = test_curve

    @classmethod
    def from_variants(
        cls,
        variants: Sequence[Variant],
        data: PreparedData,
        *,
        seed: int = 0,
        out: str | os.PathLike[str] | None = None,
        data_settings: DataSettings | None = None,
        test_curve: bool = False,
    ) -> Comparison:
        """A comparison of variants made elsewhere (e.g. the trials of a random search).

        Parameters
        ----------
        variants
            At least one; each with its own label, settings, spec and training config.
        data, seed, out, data_settings, test_curve
            As for the constructor.
        """
        if not variants:
            raise ValueError("a comparison needs at least one variant")
        comparison = cls.__new__(cls)
        comparison.config = variants[0].config
        comparison.factors = {}
        comparison._setup(list(variants), data, seed, out, data_settings)
        comparison.test_curve = test_curve
        return comparison

    def _setup(
        self,
        variants: list[Variant],
        data: PreparedData,
        seed: int,
        out: str | os.PathLike[str] | None,
        data_settings: DataSettings | None,
    ) -> None:
        self.data = data
        self.seed = seed
        self.out = None if out is None else Path(out)
        self.data_settings = data_settings
        self.variants = variants
        for variant in self.variants:  # fail now, not after the first runs
            Trainer(self.build_model(variant), data, variant.config)
        self.results: list[VariantResult] = [
            VariantResult(i, v.label, v.settings) for i, v in enumerate(self.variants)
        ]
        self.outputs: dict[str, Path] = {}
        self._trainer: Trainer | None = None
        self._stopped = False

    def build_model(self, variant: Variant) -> Sequential:
        """A fresh model of the variant's network with the comparison's initial weights."""
        return build(variant.spec, seed=self.seed)

    def stop(self) -> None:
        """Stop the running variant before its next batch and skip the rest (any thread)."""
        self._stopped = True
        trainer = self._trainer
        if trainer is not None:
            trainer.stop()

    def run(self) -> Generator[VariantEvent, None, list[VariantResult]]:
        """Train every variant in turn, yielding their events; returns the results.

        When ``out`` is set, each variant gets a run folder ``out/NN-label`` as it runs, and the combined
        CSVs and the PNG are written at the end (also after a stop). With ``test_curve``, every
        :class:`~dllab.trainer.EpochEnded` is followed by the variant's :class:`TestEvaluated`.
        """
        if self.out is not None:
            self.out.mkdir(parents=True, exist_ok=True)
        for variant, result in zip(self.variants, self.results, strict=True):
            if self._stopped:
                result.status = "not run"
                continue
            model = self.build_model(variant)
            trainer = Trainer(model, self.data, variant.config)
            recorder = None
            if self.out is not None:
                result.folder = (
                    self.out / f"{result.index + 1:02d}-{safe_name(variant.label.replace(', ', '-'))}"
                )
                recorder = RunRecorder(
                    result.folder,
                    model,
                    data=self.data,
                    config=variant.config,
                    data_settings=self.data_settings,
                    seed=self.seed,
                    extra={"comparison": {"label": variant.label, "settings": variant.settings}},
                )
            self._trainer = trainer
            if self._stopped:
                trainer.stop()
            try:
                for event in trainer.run():
                    result.record(event)
                    if recorder is not None:
                        recorder.handle(event)
                    yield VariantEvent(result.index, variant.label, event)
                    if self.test_curve and isinstance(event, EpochEnded):
                        tested = self._evaluate_test(model, event, variant.config.eval_samples)
                        result.record(tested)
                        yield VariantEvent(result.index, variant.label, tested)
            finally:
                self._trainer = None
        if self.out is not None:
            self.outputs = self.write_outputs(self.out)
        return self.results

    def _evaluate_test(self, model: Sequential, epoch: EpochEnded, limit: int | None) -> TestEvaluated:
        x, y = self.data.x_test[:limit], self.data.y_test[:limit]
        with np.errstate(all="ignore"):
            test = evaluate(model, x, y)
        return TestEvaluated(epoch.epoch, epoch.step, test.loss, test.accuracy)

    def write_outputs(self, folder: str | os.PathLike[str]) -> dict[str, Path]:
        """Write the combined CSVs and the PNG of the results so far.

        Returns
        -------
        dict
            ``"epochs_csv"``: ``comparison.csv`` (variant, epoch, step, losses, accuracies, lr, elapsed, and
            the test loss and accuracy when measured per epoch); ``"steps_csv"``: ``comparison_steps.csv``
            (variant, step, loss, smoothed loss, lr); ``"png"``: ``comparison.png``; for two factors also
            ``"grid_png"``: ``comparison_grid.png``, small multiples (:func:`render_comparison_grid`).
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        epochs_path, steps_path, png_path = (
            folder / "comparison.csv",
            folder / "comparison_steps.csv",
            folder / "comparison.png",
        )
        write_epochs_csv(epochs_path, self.results)
        with steps_path.open("w", encoding="utf-8", newline="") as file:
            writer = csv.writer(file, lineterminator="\n")
            writer.writerow(("variant", "step", "loss", "smoothed_loss", "lr"))
            for result in self.results:
                smoothed = result.smoothed_losses()
                for step, loss, sm, lr in zip(result.steps, result.losses, smoothed, result.lrs, strict=True):
                    writer.writerow((result.label, step, _cell(loss), _cell(sm), _cell(lr)))
        write_png(png_path, render_comparison(self.results))
        outputs = {"epochs_csv": epochs_path, "steps_csv": steps_path, "png": png_path}
        if len(self.factors) == 2:
            outputs["grid_png"] = write_png(
                folder / "comparison_grid.png", render_comparison_grid(self.results, self.factors)
            )
        return outputs


def write_epochs_csv(
    path: str | os.PathLike[str],
    results: Sequence[VariantResult],
    *,
    key: tuple[str, Callable[[VariantResult], Any]] = ("variant", lambda r: r.label),
) -> Path:
    """Write the per-epoch metrics of several runs as one CSV table.

    Parameters
    ----------
    path
        The file to write.
    results
        The runs, in the order their rows are written.
    key
        The name of the first column and what it holds for each run (the variant's label by default).

    Returns
    -------
    Path
        The file, with :data:`dllab.runs.METRIC_COLUMNS` after the key, and :data:`TEST_COLUMNS` when any
        run measured the test set per epoch.
    """
    path = Path(path)
    column, value = key
    with_test = any(r.test_curve for r in results)
    columns = METRIC_COLUMNS + (TEST_COLUMNS if with_test else ())
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow((column, *columns))
        for result in results:
            metrics = result.epoch_metrics()
            for i, e in enumerate(result.epochs):
                cells = [_cell(getattr(e, c)) for c in METRIC_COLUMNS]
                cells += [_cell(float(metrics[c][i])) for c in TEST_COLUMNS] if with_test else []
                writer.writerow((value(result), *cells))
    return path


def _cell(value: float) -> str | int:
    return value if isinstance(value, int) else repr(float(value))


def clip_polyline(
    xs: np.ndarray, ys: np.ndarray, box: tuple[int, int, int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """The parts of a polyline inside a box, as NaN-separated segments (Liang-Barsky clipping).

    A diverging loss gives pixel coordinates far outside any canvas (1e32 and more); clipping each segment
    to the box first keeps the visible part exact and every coordinate small.

    Parameters
    ----------
    xs, ys
        Pixel coordinates; a non-finite point breaks the line.
    box
        ``(left, top, right, bottom)``.

    Returns
    -------
    tuple of numpy.ndarray
        Coordinates for :func:`dllab.plotting.draw_polyline`: each visible segment as two points followed
        by NaN, then each isolated visible point followed by NaN.
    """
    xs, ys = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
    left, top, right, bottom = box
    finite = np.isfinite(xs) & np.isfinite(ys)
    x0, y0, x1, y1 = xs[:-1], ys[:-1], xs[1:], ys[1:]
    segment = finite[:-1] & finite[1:]
    with np.errstate(all="ignore"):
        dx, dy = x1 - x0, y1 - y0
        t0, t1 = np.zeros(len(x0)), np.ones(len(x0))
        for p, q in ((-dx, x0 - left), (dx, right - x0), (-dy, y0 - top), (dy, bottom - y0)):
            ratio = q / p
            segment &= ~((p == 0) & (q < 0))
            t0 = np.where(p < 0, np.maximum(t0, ratio), t0)
            t1 = np.where(p > 0, np.minimum(t1, ratio), t1)
        segment &= t0 <= t1
        parts = np.full((int(segment.sum()), 3, 2), np.nan)
        k = np.flatnonzero(segment)
        parts[:, 0, 0], parts[:, 0, 1] = x0[k] + t0[k] * dx[k], y0[k] + t0[k] * dy[k]
        parts[:, 1, 0], parts[:, 1, 1] = x0[k] + t1[k] * dx[k], y0[k] + t1[k] * dy[k]
    has_segment = finite[:-1] & finite[1:]
    alone = finite & ~np.concatenate([[False], has_segment]) & ~np.concatenate([has_segment, [False]])
    alone &= (xs >= left) & (xs <= right) & (ys >= top) & (ys <= bottom)
    points = np.full((int(alone.sum()), 2, 2), np.nan)
    points[:, 0, 0], points[:, 0, 1] = xs[alone], ys[alone]
    out = np.concatenate([parts.reshape(-1, 2), points.reshape(-1, 2)])
    return out[:, 0], out[:, 1]


def draw_curve(
    image: np.ndarray,
    panel: Panel,
    xs: np.ndarray,
    ys: np.ndarray,
    color: tuple[int, int, int],
    *,
    width: int = 2,
) -> None:
    """Draw a curve of data coordinates in a panel, clipped to it (see :func:`clip_polyline`)."""
    px, py = clip_polyline(panel.px(xs), panel.py(ys), panel.clip)
    draw_polyline(image, px, py, color, panel.clip, width)


def draw_markers(
    image: np.ndarray,
    panel: Panel,
    xs: np.ndarray,
    ys: np.ndarray,
    color: tuple[int, int, int],
    *,
    size: int = 7,
    max_markers: int = 30,
) -> None:
    """Draw square markers at data points inside a panel (about ``max_markers`` of a long series).

    Parameters
    ----------
    image
        The RGB canvas.
    panel
        Maps data to pixels and clips.
    xs, ys
        Data coordinates; non-finite points are skipped.
    color
        RGB.
    size
        Side of a square in pixels.
    max_markers
        A longer series gets a marker on every k-th point only (always on the last one).
    """
    xs, ys = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
    every = max(1, math.ceil(len(xs) / max_markers))
    chosen = sorted({*range(len(xs) - 1, -1, -every)})
    half = size // 2
    for x, y in zip(panel.px(xs[chosen]), panel.py(ys[chosen]), strict=True):
        if math.isfinite(x) and math.isfinite(y):
            xi, yi = round(float(x)), round(float(y))
            y0, y1 = max(yi - half, panel.top), min(yi + size - half, panel.bottom + 1)
            x0, x1 = max(xi - half, panel.left), min(xi + size - half, panel.right + 1)
            if y0 < y1 and x0 < x1:
                image[y0:y1, x0:x1] = color


@dataclass(frozen=True)
class AccuracyCurves:
    """What the accuracy plot of a comparison shows, decided once for all its runs.

    Attributes
    ----------
    title : str
        ``"validation accuracy"``; ``"training accuracy"`` when no run has a validation split; or training
        against test accuracy when the runs measured the test set per epoch.
    line : str
        The :data:`dllab.runs.METRIC_COLUMNS` column drawn as a line per run.
    marked : str
        The column drawn with square markers (the same column, or ``"test_accuracy"``).
    """

    title: str
    line: str
    marked: str

    @classmethod
    def choose(cls, results: Sequence[VariantResult]) -> AccuracyCurves:
        """Validation accuracy where there is any, training against test accuracy with test curves."""
        if any(r.test_curve for r in results):
            return cls("train (line) and test (squares) accuracy", "train_accuracy", "test_accuracy")
        if any(math.isfinite(e.val_accuracy) for r in results for e in r.epochs):
            return cls("validation accuracy", "val_accuracy", "val_accuracy")
        return cls("training accuracy", "train_accuracy", "train_accuracy")

    def series(self, result: VariantResult) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Epochs (fractional for a run that stopped mid-epoch), line values and marked values."""
        metrics = result.epoch_metrics()
        epochs = metrics["step"] / max(result.batches_per_epoch, 1)
        return epochs, metrics[self.line], metrics[self.marked]

    def value_range(self, results: Sequence[VariantResult]) -> tuple[float, float]:
        """An accuracy axis from a round value below the lowest point (at most 0.9) to 1."""
        values = np.concatenate(
            [v[np.isfinite(v)] for r in results for v in self.series(r)[1:]] or [np.zeros(0)]
        )
        low = math.floor(float(values.min()) * 10) / 10 if values.size else 0.0
        return min(max(low, 0.0), 0.9), 1.0

    def draw(
        self, image: np.ndarray, panel: Panel, result: VariantResult, color: tuple[int, int, int]
    ) -> None:
        """Draw one run's curve (and its test curve) in a panel."""
        xs, line, marked = self.series(result)
        draw_curve(image, panel, xs, line, color)
        if self.marked != self.line:
            draw_curve(image, panel, xs, marked, color, width=1)
        draw_markers(image, panel, xs, marked, color)


def draw_legend(
    image: np.ndarray,
    entries: Sequence[tuple[str, tuple[int, int, int]]],
    box: tuple[int, int, int, int],
    scale: int,
) -> None:
    """Draw a legend of colour swatches and labels in the top right corner of a box.

    Entries that do not fit in one column go into more columns, leftwards, and then into smaller text;
    whatever still does not fit is left out with a last entry saying how many.

    Parameters
    ----------
    image
        The RGB canvas.
    entries
        ``(label, colour)`` pairs.
    box
        ``(left, top, right, bottom)`` the legend must stay inside.
    scale
        Text scale to try first.
    """
    if not entries:
        return
    left, top, right, bottom = box
    height, width = bottom - top - 16, right - left - 16
    for s in dict.fromkeys((scale, 1)):
        row = 7 * s + 8
        per_column = max(1, (height - 10) // row)
        columns = -(-len(entries) // per_column)
        column_w = 44 + max(text_width(label, s) for label, _ in entries)
        if columns * column_w <= width:
            break
    columns = max(1, min(columns, width // max(column_w, 1)))
    shown = list(entries)
    if len(shown) > columns * per_column:
        hidden = len(shown) - (columns * per_column - 1)
        shown = [*shown[: columns * per_column - 1], (f"... {hidden} more", GREY)]
    rows = min(len(shown), per_column)
    box_w, box_h = columns * column_w, 10 + row * rows
    x0, y0 = max(right - box_w - 8, 0), top + 8
    x1, y1 = min(x0 + box_w, image.shape[1] - 1), min(y0 + box_h, image.shape[0] - 1)
    image[y0:y1, x0:x1] = 255
    image[[y0, y1], x0 : x1 + 1] = GREY
    image[y0 : y1 + 1, [x0, x1]] = GREY
    ch = 7 * s
    for k, (label, color) in enumerate(shown):
        tx, ty = x0 + (k // per_column) * column_w, y0 + 6 + (k % per_column) * row
        image[ty + ch // 2 - 2 : ty + ch // 2 + 2, tx + 8 : tx + 30] = color
        draw_text(image, tx + 36, ty, label, BLACK, s)


def _status_label(result: VariantResult) -> str:
    suffix = "" if result.status in ("finished", "running", "pending") else f" ({result.status})"
    return result.label + suffix


def render_comparison(
    results: Sequence[VariantResult], *, width: int = 1200, height: int = 520, scale: int = 2
) -> np.ndarray:
    """Draw the overlaid curves of a comparison as an RGB image.

    The left panel shows every variant's training loss per step (smoothed), the right one its validation
    accuracy per epoch (fractional epochs for runs that stop mid-epoch; training accuracy when there is no
    validation set), with a legend of colour swatches and labels. When the runs measured the test set per
    epoch (``test_curve``), the right panel shows training accuracy (thick line) against test accuracy
    (thin line with squares), as the book's overfitting figures do.

    Returns
    -------
    numpy.ndarray
        ``(height, width, 3)`` uint8.
    """
    image = np.full((height, width, 3), 255, dtype=np.uint8)
    ch = 7 * scale
    margin_left, gap, margin_right = 30 + 5 * scale * 6, 30 + 6 * scale * 6, 20 + 2 * scale * 6
    top, bottom = 20 + ch + 14, height - (2 * ch + 34)
    panel_width = (width - margin_left - gap - margin_right) // 2
    # Left: loss per step.
    curves = [(r, np.asarray(r.steps, dtype=np.float64), r.smoothed_losses()) for r in results]
    max_step = max((float(s[-1]) for _, s, _ in curves if len(s)), default=1.0)
    starts = [float(v[np.isfinite(v)][0]) for _, _, v in curves if np.isfinite(v).any()]
    all_finite = np.concatenate([v[np.isfinite(v)] for _, _, v in curves] or [np.zeros(0)])
    # Up to the highest starting loss, leaving out runs that start orders of magnitude above the rest.
    typical = float(np.median(starts)) if starts else 1.0
    y_hi = max((s for s in starts if s <= 20 * typical), default=1.0) * 1.1
    if all_finite.size and all_finite.max() < y_hi / 1.1 * 0.5:
        y_hi = float(all_finite.max()) * 1.2
    y_hi = y_hi if math.isfinite(y_hi) and y_hi > 0 else 1.0
    loss_panel = Panel(
        margin_left, top, margin_left + panel_width, bottom, (0.0, max(max_step, 1.0)), (0.0, y_hi)
    )
    draw_axes(image, loss_panel, "training loss (smoothed)", "step", scale)
    for r, steps, values in curves:
        draw_curve(image, loss_panel, steps, values, COLORS[r.index % len(COLORS)])
    # Right: validation accuracy per epoch, or training against test accuracy (overfitting comparisons).
    accuracy = AccuracyCurves.choose(results)
    max_epoch = max((float(accuracy.series(r)[0][-1]) for r in results if r.epochs), default=1.0)
    acc_left = margin_left + panel_width + gap
    acc_panel = Panel(
        acc_left,
        top,
        acc_left + panel_width,
        bottom,
        (0.0, max(max_epoch, 1.0)),
        accuracy.value_range(results),
    )
    draw_axes(image, acc_panel, accuracy.title, "epoch", scale)
    for r in results:
        accuracy.draw(image, acc_panel, r, COLORS[r.index % len(COLORS)])
    draw_legend(
        image, [(_status_label(r), COLORS[r.index % len(COLORS)]) for r in results], loss_panel.clip, scale
    )
    return image


def render_comparison_grid(
    results: Sequence[VariantResult],
    factors: Mapping[str, Sequence[Any]],
    *,
    cell_width: int = 420,
    cell_height: int = 300,
    scale: int = 2,
) -> np.ndarray:
    """Draw a two-factor comparison as small multiples, like the book's figure 6-18.

    One panel per value of the first factor, each with one accuracy curve per value of the second factor
    (the same colour for the same value in every panel), and a legend of the second factor on top.

    Parameters
    ----------
    results
        The runs; each one's ``settings`` holds a value of both factors.
    factors
        The two factors and their values, in the order of :func:`make_variants`.

    Returns
    -------
    numpy.ndarray
        An RGB image, as many panels across as fit a square-ish grid.
    """
    if len(factors) != 2:
        raise ValueError(f"small multiples need two factors, got {len(factors)}")
    (outer, outer_values), (inner, inner_values) = (
        (name, check_factor_values(name, values)) for name, values in factors.items()
    )
    columns = math.ceil(math.sqrt(len(outer_values)))
    rows = math.ceil(len(outer_values) / columns)
    ch = 7 * scale
    legend_h = ch + 24
    width, height = columns * cell_width, legend_h + rows * cell_height
    image = np.full((height, width, 3), 255, dtype=np.uint8)
    accuracy = AccuracyCurves.choose(results)
    value_range = accuracy.value_range(results)
    max_epoch = max((float(accuracy.series(r)[0][-1]) for r in results if r.epochs), default=1.0)
    inner_colors = {i: COLORS[i % len(COLORS)] for i in range(len(inner_values))}
    x = 10
    for i, value in enumerate(inner_values):
        label = describe_setting(inner, value)
        image[10 + ch // 2 - 2 : 10 + ch // 2 + 2, x : x + 22] = inner_colors[i]
        draw_text(image, x + 28, 10, label, BLACK, scale)
        x += 28 + text_width(label, scale) + 30
    draw_text(image, max(x, width - text_width(accuracy.title, scale) - 10), 10, accuracy.title, GREY, scale)
    for k, value in enumerate(outer_values):
        left = (k % columns) * cell_width + 30 + 3 * scale * 6
        top = legend_h + (k // columns) * cell_height + ch + 14
        panel = Panel(
            left,
            top,
            (k % columns + 1) * cell_width - 20,
            legend_h + (k // columns + 1) * cell_height - (2 * ch + 34),
            (0.0, max(max_epoch, 1.0)),
            value_range,
        )
        draw_axes(image, panel, describe_setting(outer, value), "epoch", scale)
        for r in results:
            if r.settings.get(outer) == value and r.settings.get(inner) in inner_values:
                accuracy.draw(image, panel, r, inner_colors[inner_values.index(r.settings[inner])])
    return image


# --- the book's comparisons ------------------------------------------------------------------------------

#: What a ``quick`` preset trains on: at most this many training samples, mini-batches and evaluated samples.
QUICK_SUBSET, QUICK_STEPS, QUICK_EVAL_SAMPLES = 500, 20, 500


def book_mlp(hidden_layers: int, *, name: str = "MultiLayerNet", units: int = 100) -> dict[str, Any]:
    """The book's ``MultiLayerNet`` for MNIST: 784 inputs, ``hidden_layers`` x ``units`` ReLU, 10 outputs.

    Every Dense layer, the output layer too, starts with He initialisation, as the book's
    ``weight_init_std="relu"`` does.
    """
    layers: list[dict[str, Any]] = []
    for _ in range(hidden_layers):
        layers += [{"type": "Dense", "units": units, "init": "he"}, {"type": "ReLU"}]
    layers.append({"type": "Dense", "units": 10, "init": "he"})
    return {
        "format": "dllab.network/1",
        "name": name,
        "description": f"784-{units}x{hidden_layers}-10 ReLU (the book's MultiLayerNet, chapter 6)",
        "input_shape": [784],
        "layers": layers,
        "loss": "softmax_cross_entropy",
    }


@dataclass(frozen=True)
class ComparisonPreset:
    """One of the book's comparisons as data: network, data, training settings and what varies.

    Attributes
    ----------
    name : str
        The key in :data:`PRESETS` (``dllab compare --preset NAME``).
    title, figure : str
        A short title and the book's figure numbers.
    description : str
        What the comparison shows and what to look for.
    network : dict
        The base network spec.
    data : dict
        :class:`~dllab.runs.DataSettings` options besides the data set (always MNIST).
    config : dict
        :class:`~dllab.trainer.TrainingConfig` options.
    factors : dict
        One or two of :data:`FACTORS` with their values (see :func:`make_variants`).
    test_curve : bool
        Measure the test set after every epoch for display (the overfitting figures).
    book : dict
        What the book's own run changes, where the default is shorter: ``TrainingConfig`` options, and
        ``"factors"`` for a bigger grid. Empty when the default is the book's run.
    """

    name: str
    title: str
    figure: str
    description: str
    network: dict[str, Any]
    data: dict[str, Any]
    config: dict[str, Any]
    factors: dict[str, tuple[Any, ...]]
    test_curve: bool = False
    book: dict[str, Any] = field(default_factory=dict)

    def spec(self) -> dict[str, Any]:
        """A copy of the base network spec."""
        return read_spec(self.network)

    def data_settings(
        self, data_dir: str | os.PathLike[str] | None = None, *, quick: bool = False
    ) -> DataSettings:
        """How to load and prepare the data.

        Parameters
        ----------
        data_dir
            A folder holding the MNIST IDX files; None uses the ``"mnist"`` data set (the cache folder,
            downloading on first use).
        quick
            Use at most :data:`QUICK_SUBSET` training samples.
        """
        options = dict(self.data)
        if quick:
            options["subset"] = min(options.get("subset") or QUICK_SUBSET, QUICK_SUBSET)
        return DataSettings(dataset="mnist" if data_dir is None else str(data_dir), **options)

    def training_config(self, *, quick: bool = False, book: bool = False) -> TrainingConfig:
        """The base training config: the default run, the book's full run (``book``) or a few steps (``quick``)."""
        _check_scale(quick, book)
        options = dict(self.config)
        if book:
            options.update({k: v for k, v in self.book.items() if k != "factors"})
        config = TrainingConfig(**options)
        if quick:
            config = dataclasses.replace(
                config,
                max_steps=min(config.max_steps or QUICK_STEPS, QUICK_STEPS),
                eval_samples=min(config.eval_samples or QUICK_EVAL_SAMPLES, QUICK_EVAL_SAMPLES),
            )
        return config

    def comparison_factors(self, *, book: bool = False) -> dict[str, list[Any]]:
        """The settings to compare: the default values, or the book's full grid (``book``)."""
        factors = self.book.get("factors", self.factors) if book else self.factors
        return {name: list(values) for name, values in factors.items()}

    def describe(self) -> str:
        """Title, figure and description as a few lines of text."""
        return f"{self.title} ({self.figure})\n{self.description}"


def _check_scale(quick: bool, book: bool) -> None:
    if quick and book:
        raise ValueError("choose either the quick run or the book's full run, not both")


_OVERFIT_DATA = {"subset": 300, "val_fraction": 0.0, "normalization": "scale"}
_OVERFIT_CONFIG = {"optimizer": "sgd", "lr": 0.01, "batch_size": 100}

#: The book's comparisons (chapter 6), by name.
PRESETS: dict[str, ComparisonPreset] = {
    preset.name: preset
    for preset in (
        ComparisonPreset(
            name="optimizers",
            title="SGD, Momentum, AdaGrad and Adam on MNIST",
            figure="figure 6-9",
            description=(
                "The same 784-100x4-10 ReLU network trains on MNIST for 2000 mini-batches of 128 with each "
                "optimizer at its book learning rate (SGD, Momentum and AdaGrad 0.01, Adam 0.001). SGD is "
                "clearly the slowest; Momentum, AdaGrad and Adam bring the loss down much faster."
            ),
            network=book_mlp(4),
            data={"val_fraction": 0.1, "normalization": "scale"},
            config={"batch_size": 128, "epochs": 5, "max_steps": 2000},
            factors={"optimizer": ("sgd", "momentum", "adagrad", "adam")},
        ),
        ComparisonPreset(
            name="initializers",
            title="Weight initialisation: std 0.01, Xavier and He",
            figure="figure 6-15",
            description=(
                "784-100x4-10 ReLU on MNIST, SGD with learning rate 0.01, 2000 mini-batches of 128, "
                "starting from weights of standard deviation 0.01, Xavier or He. With std 0.01 the signal "
                "fades layer by layer and the loss barely moves; He, made for ReLU, learns fastest."
            ),
            network=book_mlp(4),
            data={"val_fraction": 0.1, "normalization": "scale"},
            config={"optimizer": "sgd", "lr": 0.01, "batch_size": 128, "epochs": 5, "max_steps": 2000},
            factors={"init": (0.01, "xavier", "he")},
        ),
        ComparisonPreset(
            name="batchnorm",
            title="Batch normalisation at different weight scales",
            figure="figure 6-18",
            description=(
                "784-100x5-10 ReLU trained on 1000 MNIST samples (SGD, learning rate 0.01, batch 100, 20 "
                "epochs) with and without batch normalisation, for initial weights of standard deviation "
                "1, 0.1, 0.01 and 0.001 (the book: 16 scales from 1 to 0.0001, run with the book option). "
                "With BatchNorm the network learns at almost every scale; without it, hardly at all. The "
                "accuracy shown is the training accuracy, as in the book."
            ),
            network=book_mlp(5),
            data={"subset": 1000, "val_fraction": 0.0, "normalization": "scale"},
            config={"optimizer": "sgd", "lr": 0.01, "batch_size": 100, "epochs": 20},
            factors={"init": (1.0, 0.1, 0.01, 0.001), "batchnorm": (True, False)},
            book={
                "factors": {
                    "init": tuple(float(f"{v:.4g}") for v in np.logspace(0, -4, 16)),
                    "batchnorm": (True, False),
                }
            },
        ),
        ComparisonPreset(
            name="weight_decay",
            title="Overfitting and weight decay",
            figure="figures 6-20 and 6-21",
            description=(
                "784-100x6-10 ReLU trained on only 300 MNIST samples for 200 epochs (SGD, learning rate "
                "0.01, batch 100), without and with weight decay 0.1. Without it the training accuracy "
                "reaches 100% while the test accuracy stays far below: overfitting. Weight decay narrows "
                "the gap. The test accuracy after each epoch is shown for display only, as in the book; "
                "nothing is chosen by it."
            ),
            network=book_mlp(6),
            data=_OVERFIT_DATA,
            config={**_OVERFIT_CONFIG, "epochs": 200},
            factors={"weight_decay": (0.0, 0.1)},
            test_curve=True,
            book={"epochs": 201},
        ),
        ComparisonPreset(
            name="dropout",
            title="Overfitting and dropout",
            figure="figures 6-20 and 6-23",
            description=(
                "784-100x6-10 ReLU trained on only 300 MNIST samples for 300 epochs (SGD, learning rate "
                "0.01, batch 100), without dropout and with dropout 0.2 after every hidden layer. Dropout "
                "keeps the training accuracy from racing to 100% and narrows the gap to the test "
                "accuracy, which is shown after each epoch for display only, as in the book."
            ),
            network=book_mlp(6),
            data=_OVERFIT_DATA,
            config={**_OVERFIT_CONFIG, "epochs": 300},
            factors={"dropout": (0.0, 0.2)},
            test_curve=True,
            book={"epochs": 301},
        ),
    )
}


def get_preset(name: str) -> ComparisonPreset:
    """The preset of that name (``-`` and ``_`` alike, any case); ValueError naming the known ones."""
    key = name.strip().lower().replace("-", "_")
    if key not in PRESETS:
        raise ValueError(f"unknown comparison preset {name!r}; known: {', '.join(PRESETS)}")
    return PRESETS[key]


def comparison_from_preset(
    name: str,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    quick: bool = False,
    book: bool = False,
    seed: int = 0,
    changes: Mapping[str, Any] | None = None,
    out: str | os.PathLike[str] | None = None,
    dataset: Dataset | None = None,
    progress: ProgressCallback | None = None,
) -> Comparison:
    """A ready-to-run :class:`Comparison` of one of the book's comparisons (:data:`PRESETS`).

    Parameters
    ----------
    name
        A key of :data:`PRESETS`: ``"optimizers"``, ``"initializers"``, ``"batchnorm"``,
        ``"weight_decay"`` or ``"dropout"``.
    data_dir
        A folder holding the MNIST IDX files; None uses the ``"mnist"`` data set (the cache folder,
        downloading on first use).
    quick
        A few steps on a small subset (:data:`QUICK_SUBSET` samples, :data:`QUICK_STEPS` mini-batches per
        variant), to try the comparison out or test it.
    book
        The book's full run where the default is shorter (more epochs, the batchnorm preset's 16 scales).
    seed
        Seeds the initial weights, the data split and the mini-batch order.
    changes
        :class:`~dllab.trainer.TrainingConfig` options that replace the preset's, e.g. ``{"epochs": 50}``.
    out
        Folder for the outputs (see :class:`Comparison`); None writes nothing.
    dataset
        MNIST already loaded (skips loading; ``data_dir`` then only names it in the run records).
    progress
        Download progress callback, ``progress(done, total, message)``.

    Returns
    -------
    Comparison
        With ``data_settings`` and ``test_curve`` set from the preset; call :meth:`Comparison.run`.

    Raises
    ------
    ValueError
        For an unknown preset or both ``quick`` and ``book``; DatasetError when MNIST cannot be loaded.
    """
    preset = get_preset(name)
    _check_scale(quick, book)
    settings = preset.data_settings(data_dir, quick=quick)
    spec = preset.spec()
    prepared = settings.prepare(tuple(spec["input_shape"]), seed=seed, dataset=dataset, progress=progress)
    config = dataclasses.replace(preset.training_config(quick=quick, book=book), **(changes or {}), seed=seed)
    return Comparison(
        spec,
        prepared,
        config,
        preset.comparison_factors(book=book),
        seed=seed,
        out=out,
        data_settings=settings,
        test_curve=preset.test_curve,
    )
