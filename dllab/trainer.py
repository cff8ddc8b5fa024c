"""Training runs: epochs of shuffled mini-batches that yield plain events (no Qt, no printing).

>>> trainer = Trainer(model, prepared_data, TrainingConfig(optimizer="adam", lr=0.001, epochs=5))
>>> for event in trainer.run():                      # doctest: +SKIP
...     if isinstance(event, EpochEnded):
...         print(event.epoch, event.val_accuracy)

Consumers (the command line, the desktop app's worker thread, a run recorder) read the events; every array in
an event is a copy. The run's :class:`~dllab.run_control.RunControl` (given to the trainer, or its own) stops,
pauses, resumes and single-steps it from any thread, or from another process, between batches. A loss that is
NaN or infinite stops the run in the batch where it happens and restores the last weights that gave a finite
loss.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Generator, Iterator
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from dllab import optimizers, schedules
from dllab.data import Augmenter, PreparedData, iterate_batches, num_batches
from dllab.errors import SettingsError
from dllab.metrics import Evaluation, evaluate, fit_reading
from dllab.model import Sequential
from dllab.run_control import RunControl


@dataclass
class TrainingConfig:
    """Everything that decides how a network is trained (the data decides what on)."""

    optimizer: str = "sgd"
    lr: float = 0.01
    #: Further hyperparameters of the optimizer, e.g. ``{"momentum": 0.9}`` or ``{"beta1": 0.9}``.
    optimizer_options: dict[str, Any] = field(default_factory=dict)
    weight_decay: float = 0.0
    clip_norm: float | None = None
    schedule: str = "constant"
    schedule_options: dict[str, Any] = field(default_factory=dict)
    batch_size: int = 100
    epochs: int = 10
    #: Seeds the mini-batch order, augmentation and the evaluation sample.
    seed: int = 0
    drop_last: bool = False
    #: Augmentation settings (``Augmenter.to_dict()``), or None for none.
    augment: dict[str, Any] | None = None
    #: Samples used to measure training and validation loss and accuracy after each epoch (None: all).
    eval_samples: int | None = 10000
    #: Stop when the validation loss has not improved for this many epochs (None: never).
    early_stopping: int | None = None
    #: Stop after this many mini-batches in total (None: run all epochs).
    max_steps: int | None = None
    #: Mini-batches between layer statistics (0: only at the end of each epoch).
    stats_every: int = 50
    #: Largest share of the training time that statistics may take; more are skipped (the last epoch's
    #: statistics always come).
    stats_budget: float = 0.05
    #: Samples in the fixed probe batch whose activations are recorded.
    probe_size: int = 100
    histogram_bins: int = 40

    def __post_init__(self) -> None:
        def positive_int(name: str, value: Any, allow_none: bool = False, minimum: int = 1) -> None:
            if value is None and allow_none:
                return
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise SettingsError(f"{name} must be an integer of at least {minimum}, got {value!r}")

        positive_int("batch_size", self.batch_size)
        positive_int("epochs", self.epochs)
        positive_int("eval_samples", self.eval_samples, allow_none=True)
        positive_int("early_stopping", self.early_stopping, allow_none=True)
        positive_int("max_steps", self.max_steps, allow_none=True)
        positive_int("stats_every", self.stats_every, minimum=0)
        positive_int("probe_size", self.probe_size)
        positive_int("histogram_bins", self.histogram_bins, minimum=2)
        if not isinstance(self.stats_budget, int | float) or not 0 < self.stats_budget <= 1:
            raise SettingsError(f"stats_budget must be a share in (0, 1], got {self.stats_budget!r}")
        self.make_optimizer()
        self.make_schedule()
        if self.augment is not None:
            Augmenter.from_dict(self.augment)

    def make_optimizer(self) -> optimizers.Optimizer:
        """A fresh optimizer with these settings (ValueError with the reason when they are invalid)."""
        return optimizers.get(
            self.optimizer,
            lr=self.lr,
            weight_decay=self.weight_decay,
            clip_norm=self.clip_norm,
            **self.optimizer_options,
        )

    def make_schedule(self) -> schedules.Schedule:
        return schedules.get(self.schedule, **self.schedule_options)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainingConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise SettingsError(f"unknown training setting {unknown[0]!r}")
        return cls(**values)


# --- events ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunStarted:
    epochs: int
    batches_per_epoch: int
    total_steps: int
    train_samples: int
    val_samples: int
    test_samples: int


@dataclass(frozen=True)
class BatchEnded:
    step: int  # mini-batches done so far, 1-based
    epoch: int  # 1-based
    batch: int  # within the epoch, 1-based
    loss: float
    lr: float
    samples_per_second: float


@dataclass(frozen=True)
class EpochEnded:
    epoch: int
    step: int
    train_loss: float
    train_accuracy: float
    val_loss: float
    val_accuracy: float
    lr: float
    elapsed: float
    samples_per_second: float
    #: Whether this epoch is the best so far by :func:`best_measure` (the best model is this one).
    improved: bool
    #: The train/validation gap read as bias or variance.
    reading: str


@dataclass(frozen=True)
class ParamStats:
    key: str
    norm: float
    grad_norm: float
    #: ||update|| / ||weights|| of the last step (about 1e-3 is healthy).
    update_ratio: float
    counts: np.ndarray
    edges: np.ndarray
    grad_counts: np.ndarray
    grad_edges: np.ndarray
    #: Weights and gradients that are NaN or infinite (left out of the histograms).
    nonfinite: int = 0


@dataclass(frozen=True)
class LayerStats:
    name: str
    type_name: str
    #: Histogram of the layer's outputs on the probe batch; edges stay fixed for the whole run.
    counts: np.ndarray
    edges: np.ndarray
    mean: float
    std: float
    #: Share of units that never fire on the probe batch (ReLU-like layers), else NaN.
    dead_fraction: float
    #: Share of outputs in the flat tails (sigmoid, tanh), else NaN.
    saturated_fraction: float
    params: tuple[ParamStats, ...]
    #: Outputs that are NaN or infinite (left out of the histogram).
    nonfinite: int = 0


@dataclass(frozen=True)
class LayerStatistics:
    step: int
    epoch: int
    layers: tuple[LayerStats, ...]


@dataclass(frozen=True)
class Paused:
    step: int


@dataclass(frozen=True)
class Resumed:
    step: int


@dataclass(frozen=True)
class Finished:
    #: "completed", "early stopping" or "step limit".
    reason: str
    step: int
    epochs: int
    test_loss: float
    test_accuracy: float
    best_epoch: int | None
    best_val_loss: float
    elapsed: float
    test: Evaluation = field(repr=False)


@dataclass(frozen=True)
class Stopped:
    step: int
    epoch: int
    reason: str = "stopped by the user"


@dataclass(frozen=True)
class Diverged:
    step: int
    epoch: int
    loss: float
    message: str


Event = (
    RunStarted | BatchEnded | EpochEnded | LayerStatistics | Paused | Resumed | Finished | Stopped | Diverged
)

_RELU_LIKE = ("ReLU", "Step")
#: Seconds between two looks at a paused run's control (a stop or resume wakes it at once anyway).
_PAUSE_POLL_S = 0.1


def best_measure(data: PreparedData) -> str:
    """What picks a run's best epoch (and early stopping): the lowest ``"validation loss"``, or the lowest
    ``"training loss"`` (on the evaluation sample) when the data has no validation split."""
    return "validation loss" if len(data.x_val) else "training loss"


def first_nonfinite(arrays: dict[str, np.ndarray]) -> str | None:
    """The key of the first array holding NaN or an infinity, or None when all are finite."""
    for key, value in arrays.items():
        if not np.isfinite(value).all():
            return key
    return None


def histogram(values: np.ndarray, lo: float, hi: float, bins: int) -> np.ndarray:
    """Counts of ``values`` in ``bins`` equal bins over [lo, hi]; values outside go to the end bins, NaN to
    none (:func:`nonfinite_count` reports them)."""
    with np.errstate(all="ignore"):
        index = (values - lo) * (bins / (hi - lo))
    index = index[np.isfinite(values)]
    np.clip(index, 0, bins - 1, out=index)
    return np.bincount(index.astype(np.intp), minlength=bins)


def nonfinite_count(values: np.ndarray) -> int:
    """How many of ``values`` are NaN or infinite."""
    return int(values.size - np.count_nonzero(np.isfinite(values)))


_SATURATING = {"Sigmoid": (0.01, 0.99), "Tanh": (-0.99, 0.99)}
_FIXED_RANGES = {"Sigmoid": (0.0, 1.0), "Tanh": (-1.0, 1.0), "Step": (-0.05, 1.05)}


class Trainer:
    """Trains ``model`` on ``data`` with ``config``; :meth:`run` yields the events of one run.

    Parameters
    ----------
    model, data, config
        What is trained, on what, how.
    control
        Stops, pauses and single-steps the run between batches (made by whoever starts the run; a control
        of its own when None).

    Attributes
    ----------
    control : RunControl
    history : list of EpochEnded
        The epochs so far.
    best_weights : dict or None
        Copies of the weights with the lowest validation loss so far.
    """

    def __init__(
        self,
        model: Sequential,
        data: PreparedData,
        config: TrainingConfig | None = None,
        control: RunControl | None = None,
    ) -> None:
        self.model = model
        self.data = data
        self.config = config or TrainingConfig()
        if tuple(data.input_shape) != tuple(model.input_shape):
            raise SettingsError(
                f"the data's samples are {data.input_shape} but the network expects {model.input_shape}"
            )
        outputs = model.output_shape[0]
        if data.task == "classification":
            classes = data.num_classes
            if classes > outputs and not (classes == 2 and outputs == 1):
                raise SettingsError(
                    f"the data has {classes} classes but the network has only {outputs} outputs"
                )
        else:
            targets = int(np.prod(data.y_train.shape[1:], dtype=np.int64))
            if targets != outputs:
                raise SettingsError(
                    f"the data has {targets} regression targets per sample but the network has {outputs} outputs"
                )
        self.optimizer = self.config.make_optimizer()
        self.schedule = self.config.make_schedule()
        self.augmenter = Augmenter.from_dict(self.config.augment) if self.config.augment else None
        if self.augmenter is not None and self.augmenter.geometric and not data.image_shape:
            raise SettingsError(
                f"shifts, rotations and flips need images, but the {data.name} samples have shape {data.input_shape}"
            )
        if self.augmenter is not None and self.augmenter.image_shape is None and data.image_shape:
            self.augmenter.image_shape = tuple(data.image_shape)
        self.history: list[EpochEnded] = []
        self.best_weights: dict[str, np.ndarray] | None = None
        self.control = control if control is not None else RunControl()
        self._edges: dict[str, np.ndarray] = {}

    def stop(self) -> None:
        """Stop before the next batch: ``control.stop()``, for callers that hold only the trainer."""
        self.control.stop()

    # --- the run --------------------------------------------------------------------------------------

    def run(self) -> Iterator[Event]:
        """Train, yielding events; ends with Finished, Stopped or Diverged."""
        cfg, data, model = self.config, self.data, self.model
        rng_batches, rng_augment, rng_eval = np.random.default_rng(cfg.seed).spawn(3)
        per_epoch = num_batches(len(data.x_train), cfg.batch_size, cfg.drop_last)
        if per_epoch == 0:
            raise SettingsError(
                f"{len(data.x_train)} training samples make no full batch of {cfg.batch_size}"
            )
        total = (
            per_epoch * cfg.epochs if cfg.max_steps is None else min(per_epoch * cfg.epochs, cfg.max_steps)
        )
        eval_train = self._eval_indices(len(data.x_train), rng_eval)
        probe = data.x_train[: cfg.probe_size]
        params = model.params
        live = {**params, **model.state}
        snapshot = {k: v.copy() for k, v in live.items()}
        base_lr = self.optimizer.lr
        best_val, best_epoch, since_best = math.inf, None, 0
        start_time, step, epoch = time.perf_counter(), 0, 0
        recent: deque[tuple[float, int]] = deque(maxlen=20)
        train_time = stats_time = 0.0
        stats_step = -1
        yield RunStarted(cfg.epochs, per_epoch, total, len(data.x_train), len(data.x_val), len(data.x_test))
        finish_reason = "completed"
        for epoch in range(1, cfg.epochs + 1):
            self.optimizer.lr = self.schedule(base_lr, epoch - 1)
            batches = iterate_batches(
                data.x_train, data.y_train, cfg.batch_size, rng_batches, drop_last=cfg.drop_last
            )
            for batch_index, (xb, yb) in enumerate(batches, start=1):
                if not self.control.next_batch(timeout=0):
                    paused_at = time.perf_counter()
                    going = yield from self._wait_while_paused(step)
                    start_time += time.perf_counter() - paused_at
                    recent.clear()
                    if not going:
                        yield Stopped(step, epoch)
                        return
                t0 = time.perf_counter()
                if self.augmenter is not None and self.augmenter.enabled:
                    xb = self.augmenter(xb, rng_augment)
                with np.errstate(all="ignore"):
                    loss, grads = model.loss_and_grads(xb, yb)
                if not math.isfinite(loss):
                    self._restore(snapshot)
                    yield Diverged(step + 1, epoch, loss, self._divergence(loss, step, epoch))
                    return
                for key, value in live.items():
                    np.copyto(snapshot[key], value)
                with np.errstate(all="ignore"):
                    self.optimizer.update(params, grads)
                bad = first_nonfinite(live)
                if bad is not None:  # the update itself overflowed, the last one of a run included
                    self._restore(snapshot)
                    yield Diverged(step + 1, epoch, loss, self._divergence(loss, step, epoch, bad))
                    return
                step += 1
                duration = time.perf_counter() - t0
                train_time += duration
                recent.append((duration, len(xb)))
                rate = sum(n for _, n in recent) / max(sum(t for t, _ in recent), 1e-9)
                yield BatchEnded(step, epoch, batch_index, loss, self.optimizer.lr, rate)
                due = cfg.stats_every and step % cfg.stats_every == 0
                if due and stats_time <= cfg.stats_budget * train_time:
                    t0 = time.perf_counter()
                    statistics = self._layer_statistics(step, epoch, probe, grads, snapshot)
                    stats_time += time.perf_counter() - t0
                    stats_step = step
                    yield statistics
                if step >= total:
                    break
            result = self._end_epoch(epoch, step, eval_train, start_time, best_val)
            if not (math.isfinite(result.train_loss) and math.isfinite(self._monitored(result))):
                # Weights that are finite yet so large that the measured loss overflows.
                self.history.append(result)
                yield result
                self._restore(snapshot)
                loss = result.train_loss if not math.isfinite(result.train_loss) else result.val_loss
                yield Diverged(step, epoch, loss, self._divergence(loss, step, epoch, measured=True))
                return
            if result.improved:
                best_val, best_epoch, since_best = self._monitored(result), epoch, 0
                self.best_weights = model.get_weights()
            else:
                since_best += 1
            self.history.append(result)
            last_epoch = epoch == cfg.epochs or step >= total
            if stats_step != step and (last_epoch or stats_time <= cfg.stats_budget * train_time):
                t0 = time.perf_counter()
                statistics = self._layer_statistics(step, epoch, probe, grads, snapshot)
                stats_time += time.perf_counter() - t0
                stats_step = step
                yield statistics
            yield result
            if cfg.early_stopping and since_best >= cfg.early_stopping:
                finish_reason = "early stopping"
                if self.best_weights is not None:
                    model.set_weights(self.best_weights)
                break
            if step >= total:
                if step < per_epoch * cfg.epochs:
                    finish_reason = "step limit"
                break
        with np.errstate(all="ignore"):
            test = evaluate(model, data.x_test, data.y_test)
        yield Finished(
            finish_reason,
            step,
            epoch,
            test.loss,
            test.accuracy,
            best_epoch,
            best_val,
            time.perf_counter() - start_time,
            test,
        )

    def _restore(self, snapshot: dict[str, np.ndarray]) -> None:
        """Put back the weights (and running statistics) of ``snapshot``, the last finite ones."""
        self.model.set_weights(snapshot)

    def _divergence(
        self, loss: float, step: int, epoch: int, bad: str | None = None, *, measured: bool = False
    ) -> str:
        """One sentence saying where the run diverged and why, for :class:`Diverged`."""
        lr = f"the learning rate {self.optimizer.lr:g} is probably too high"
        if measured:
            return (
                f"the loss measured after step {step} (epoch {epoch}) is {loss}; {lr}, and the weights before "
                "the last update are kept."
            )
        if bad is not None:
            return (
                f"the update of step {step + 1} (epoch {epoch}) made {bad} not finite; {lr}, and the last "
                "finite weights are kept."
            )
        if step == 0:
            return (
                f"the loss is {loss} at the first step, before any update, so the data or the initial "
                "weights give a non-finite loss (not the learning rate)."
            )
        return f"the loss became {loss} at step {step + 1} (epoch {epoch}); {lr}, and the last finite weights are kept."

    def _wait_while_paused(self, step: int) -> Generator[Event, None, bool]:
        """Wait while the run is paused (announced by Paused, and by Resumed when it goes on); False when it is
        stopped, True when the next batch may run (resumed, or one batch allowed by a single step)."""
        control = self.control
        if control.stopped:
            return False
        yield Paused(step)
        while not control.next_batch(timeout=_PAUSE_POLL_S):
            if control.stopped:
                return False
        if not control.paused:
            yield Resumed(step)
        return True

    def _monitored(self, event: EpochEnded) -> float:
        """The loss that picks the best epoch and early stopping (see :func:`best_measure`)."""
        return event.val_loss if best_measure(self.data) == "validation loss" else event.train_loss

    def _eval_indices(self, n: int, rng: np.random.Generator) -> np.ndarray:
        limit = self.config.eval_samples
        if limit is None or n <= limit:
            return np.arange(n)
        return np.sort(rng.choice(n, size=limit, replace=False))

    def _end_epoch(
        self, epoch: int, step: int, eval_train: np.ndarray, start_time: float, best_val: float
    ) -> EpochEnded:
        data, limit = self.data, self.config.eval_samples
        with np.errstate(all="ignore"):
            train = evaluate(self.model, data.x_train[eval_train], data.y_train[eval_train])
            val = evaluate(self.model, data.x_val[:limit], data.y_val[:limit])
        elapsed = time.perf_counter() - start_time
        monitored = val.loss if best_measure(data) == "validation loss" else train.loss
        return EpochEnded(
            epoch=epoch,
            step=step,
            train_loss=train.loss,
            train_accuracy=train.accuracy,
            val_loss=val.loss,
            val_accuracy=val.accuracy,
            lr=self.optimizer.lr,
            elapsed=elapsed,
            samples_per_second=step * self.config.batch_size / max(elapsed, 1e-9),
            improved=bool(monitored < best_val),
            reading=fit_reading(train.accuracy, val.accuracy),
        )

    # --- statistics -----------------------------------------------------------------------------------

    def _histogram(
        self, key: str, values: np.ndarray, fixed: tuple[float, float] | None
    ) -> tuple[np.ndarray, np.ndarray]:
        edges = self._edges.get(key)
        if edges is None:
            if fixed is not None:
                lo, hi = fixed
            else:
                finite = values[np.isfinite(values)]
                lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (-1.0, 1.0)
                span = max(hi - lo, 1e-6)
                lo, hi = lo - 0.25 * span, hi + 0.25 * span
                if values.min() >= 0:
                    lo = 0.0
            edges = np.linspace(lo, hi, self.config.histogram_bins + 1)
            self._edges[key] = edges
        return histogram(values, edges[0], edges[-1], len(edges) - 1), edges.copy()

    def _layer_statistics(
        self,
        step: int,
        epoch: int,
        probe: np.ndarray,
        grads: dict[str, np.ndarray],
        before: dict[str, np.ndarray],
    ) -> LayerStatistics:
        with np.errstate(all="ignore"):  # a run on its way to diverging still gets its statistics
            return self._collect_statistics(step, epoch, probe, grads, before)

    def _collect_statistics(
        self,
        step: int,
        epoch: int,
        probe: np.ndarray,
        grads: dict[str, np.ndarray],
        before: dict[str, np.ndarray],
    ) -> LayerStatistics:
        stats = []
        outputs = self.model.activations(probe)
        for layer, out in zip(self.model.layers, outputs, strict=True):
            values = out.reshape(-1)
            counts, edges = self._histogram(f"act:{layer.name}", values, _FIXED_RANGES.get(layer.type_name))
            dead = saturated = float("nan")
            if layer.type_name in _RELU_LIKE:
                units = out.reshape(len(out), out.shape[1], -1) if out.ndim == 4 else out[:, :, None]
                dead = float(np.mean(~np.any(units > 0, axis=(0, 2))))
            elif layer.type_name in _SATURATING:
                lo, hi = _SATURATING[layer.type_name]
                saturated = float(np.mean((values < lo) | (values > hi)))
            param_stats = []
            for name, value in layer.params.items():
                key = f"{layer.name}.{name}"
                grad = grads.get(key)
                w = value.reshape(-1)
                g = np.zeros_like(w) if grad is None else grad.reshape(-1)
                w_counts, w_edges = self._histogram(f"w:{key}", w, None)
                finite_g = np.abs(g[np.isfinite(g)])
                g_max = float(finite_g.max()) + 1e-12 if finite_g.size else 1e-12
                g_edges = np.linspace(-g_max, g_max, self.config.histogram_bins + 1)
                g_counts = histogram(g, -g_max, g_max, self.config.histogram_bins)
                norm = float(np.linalg.norm(w))
                previous = before[key]
                update = float(np.linalg.norm(w - previous.reshape(-1)))
                prev_norm = float(np.linalg.norm(previous))
                param_stats.append(
                    ParamStats(
                        key,
                        norm,
                        float(np.linalg.norm(g)),
                        update / prev_norm if prev_norm > 0 else float("nan"),
                        w_counts,
                        w_edges,
                        g_counts,
                        g_edges,
                        nonfinite_count(w) + nonfinite_count(g),
                    )
                )
            stats.append(
                LayerStats(
                    layer.name,
                    layer.type_name,
                    counts,
                    edges,
                    float(values.mean()),
                    float(values.std()),
                    dead,
                    saturated,
                    tuple(param_stats),
                    nonfinite_count(values),
                )
            )
        return LayerStatistics(step, epoch, tuple(stats))
