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
overlaid curves. The PNG is drawn here with numpy and written with zlib, so no plotting library is needed.

>>> comparison = Comparison(spec, prepared, TrainingConfig(batch_size=128, max_steps=2000),
...                         {"optimizer": ["sgd", "momentum", "adagrad", "adam"]}, out="runs/opt")
>>> for tagged in comparison.run():          # doctest: +SKIP
...     print(tagged.label, tagged.event)
"""

from __future__ import annotations

import csv
import dataclasses
import itertools
import math
import os
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dllab.data import PreparedData
from dllab.initializers import validate_init
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
class VariantEvent:
    """A trainer event of one variant."""

    index: int
    label: str
    event: Event


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
    folder : Path or None
        The run folder, when the comparison writes files.
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

    def record(self, event: Event) -> None:
        """Take one trainer event into account."""
        if isinstance(event, RunStarted):
            self.status = "running"
            self.batches_per_epoch = event.batches_per_epoch
        elif isinstance(event, BatchEnded):
            self.steps.append(event.step)
            self.losses.append(event.loss)
            self.lrs.append(event.lr)
        elif isinstance(event, EpochEnded):
            self.epochs.append(event)
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
        """Per-epoch metrics as columns (:data:`dllab.runs.METRIC_COLUMNS`)."""
        return {c: np.array([getattr(e, c) for e in self.epochs], dtype=np.float64) for c in METRIC_COLUMNS}

    @property
    def final_val_accuracy(self) -> float:
        return self.epochs[-1].val_accuracy if self.epochs else math.nan


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
    ) -> None:
        self.data = data
        self.config = config
        self.seed = seed
        self.out = None if out is None else Path(out)
        self.data_settings = data_settings
        self.factors = {name: list(values) for name, values in factors.items()}
        self.variants = make_variants(spec, config, factors, keep_lr=keep_lr)
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
        CSVs and the PNG are written at the end (also after a stop).
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
            finally:
                self._trainer = None
        if self.out is not None:
            self.outputs = self.write_outputs(self.out)
        return self.results

    def write_outputs(self, folder: str | os.PathLike[str]) -> dict[str, Path]:
        """Write the combined CSVs and the PNG of the results so far.

        Returns
        -------
        dict
            ``"epochs_csv"``: ``comparison.csv`` (variant, epoch, step, losses, accuracies, lr, elapsed);
            ``"steps_csv"``: ``comparison_steps.csv`` (variant, step, loss, smoothed loss, lr);
            ``"png"``: ``comparison.png``.
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        epochs_path, steps_path, png_path = (
            folder / "comparison.csv",
            folder / "comparison_steps.csv",
            folder / "comparison.png",
        )
        with epochs_path.open("w", encoding="utf-8", newline="") as file:
            writer = csv.writer(file, lineterminator="\n")
            writer.writerow(("variant", *METRIC_COLUMNS))
            for result in self.results:
                for e in result.epochs:
                    writer.writerow((result.label, *(_cell(getattr(e, c)) for c in METRIC_COLUMNS)))
        with steps_path.open("w", encoding="utf-8", newline="") as file:
            writer = csv.writer(file, lineterminator="\n")
            writer.writerow(("variant", "step", "loss", "smoothed_loss", "lr"))
            for result in self.results:
                smoothed = result.smoothed_losses()
                for step, loss, sm, lr in zip(result.steps, result.losses, smoothed, result.lrs, strict=True):
                    writer.writerow((result.label, step, _cell(loss), _cell(sm), _cell(lr)))
        write_png(png_path, render_comparison(self.results))
        return {"epochs_csv": epochs_path, "steps_csv": steps_path, "png": png_path}


def _cell(value: float) -> str | int:
    return value if isinstance(value, int) else repr(float(value))


def render_comparison(
    results: Sequence[VariantResult], *, width: int = 1200, height: int = 520, scale: int = 2
) -> np.ndarray:
    """Draw the overlaid curves of a comparison as an RGB image.

    The left panel shows every variant's training loss per step (smoothed), the right one its validation
    accuracy per epoch (fractional epochs for runs that stop mid-epoch; training accuracy when there is no
    validation set), with a legend of colour swatches and labels.

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
    y_hi = max(starts, default=1.0) * 1.1 if starts else 1.0
    if all_finite.size and all_finite.max() < y_hi / 1.1 * 0.5:
        y_hi = float(all_finite.max()) * 1.2
    y_hi = y_hi if math.isfinite(y_hi) and y_hi > 0 else 1.0
    loss_panel = Panel(
        margin_left, top, margin_left + panel_width, bottom, (0.0, max(max_step, 1.0)), (0.0, y_hi)
    )
    draw_axes(image, loss_panel, "training loss (smoothed)", "step", scale)
    for r, steps, values in curves:
        color = COLORS[r.index % len(COLORS)]
        draw_polyline(image, loss_panel.px(steps), loss_panel.py(values), color, loss_panel.clip)
    # Right: validation accuracy per epoch.
    use_val = any(np.isfinite(e.val_accuracy) for r in results for e in r.epochs)
    key = "val_accuracy" if use_val else "train_accuracy"
    series = []
    for r in results:
        per_epoch = max(r.batches_per_epoch, 1)
        xs = np.array([e.step / per_epoch for e in r.epochs], dtype=np.float64)
        ys = np.array([getattr(e, key) for e in r.epochs], dtype=np.float64)
        series.append((r, xs, ys))
    acc_values = np.concatenate([ys[np.isfinite(ys)] for _, _, ys in series] or [np.zeros(0)])
    acc_lo = math.floor(float(acc_values.min()) * 10) / 10 if acc_values.size else 0.0
    acc_lo = min(max(acc_lo, 0.0), 0.9)
    max_epoch = max((float(xs[-1]) for _, xs, _ in series if len(xs)), default=1.0)
    acc_left = margin_left + panel_width + gap
    acc_panel = Panel(
        acc_left, top, acc_left + panel_width, bottom, (0.0, max(max_epoch, 1.0)), (acc_lo, 1.0)
    )
    title = "validation accuracy" if use_val else "training accuracy"
    draw_axes(image, acc_panel, title, "epoch", scale)
    for r, xs, ys in series:
        color = COLORS[r.index % len(COLORS)]
        px, py = acc_panel.px(xs), acc_panel.py(ys)
        draw_polyline(image, px, py, color, acc_panel.clip)
        for x, y in zip(px, py, strict=True):
            if math.isfinite(x) and math.isfinite(y):
                xi, yi = round(float(x)), round(float(y))
                y0, y1 = max(yi - 3, acc_panel.top), min(yi + 4, acc_panel.bottom + 1)
                x0, x1 = max(xi - 3, acc_panel.left), min(xi + 4, acc_panel.right + 1)
                image[y0:y1, x0:x1] = color
    # Legend, top right of the loss panel.
    if results:
        row = ch + 8
        labels = [
            r.label + ("" if r.status in ("finished", "running", "pending") else f" ({r.status})")
            for r in results
        ]
        box_w = 40 + max(text_width(label, scale) for label in labels)
        box_h = 10 + row * len(results)
        x0 = loss_panel.right - box_w - 8
        y0 = loss_panel.top + 8
        image[y0 : y0 + box_h, x0 : x0 + box_w] = 255
        image[[y0, y0 + box_h], x0 : x0 + box_w + 1] = GREY
        image[y0 : y0 + box_h + 1, [x0, x0 + box_w]] = GREY
        for k, (r, label) in enumerate(zip(results, labels, strict=True)):
            color = COLORS[r.index % len(COLORS)]
            ty = y0 + 6 + k * row
            image[ty + ch // 2 - 2 : ty + ch // 2 + 2, x0 + 8 : x0 + 30] = color
            draw_text(image, x0 + 36, ty, label, BLACK, scale)
    return image
