"""Training runs: epochs of shuffled mini-batches that yield plain events (no Qt, no printing).

>>> trainer = Trainer(model, prepared_data, TrainingConfig(optimizer="adam", lr=0.001, epochs=5))
>>> for event in trainer.run():                      # doctest: +SKIP
...     if isinstance(event, EpochEnded):
...         print(event.epoch, event.val_accuracy)

Consumers (the command line, the desktop app's worker thread, a run recorder) read the events; every array in
an event is a copy. The run's :class:`~dllab.run_control.RunControl` (given to the trainer, or its own) stops,
pauses, resumes and single-steps it from any thread, or from another process, between batches. A loss that is
NaN or infinite stops the run in the batch where it happens and restores the last weights that gave a finite
loss. Layer statistics come from :mod:`dllab.probes`, within the run's one probe budget
(:attr:`Trainer.probe_budget`).

The optimizer's settings may change while the run trains (:mod:`dllab.setting_changes`): the config's
``changes`` at their steps, and what the control asks for (:meth:`~dllab.run_control.RunControl.change`) before
the next batch, or at once while paused. Each applied change is a :class:`SettingsChanged` event; a change the
optimizer refuses is a :class:`ChangeRefused` event, and the run goes on unchanged. Once a change sets the
learning rate, the schedule no longer does.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Generator, Iterator
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, ClassVar

import numpy as np

from dllab import optimizers, parameter_block, schedules, setting_changes
from dllab.data import Augmenter, PreparedData, iterate_batches, num_batches
from dllab.errors import SettingsError, quote
from dllab.fit import check_fit
from dllab.fit_reading import FitReading, check_human_error, read_accuracies
from dllab.metrics import Evaluation, evaluate
from dllab.model import Sequential
from dllab.probes import LayerProbe, LayerStatistics, ProbeBudget

# The parts of a LayerStatistics event, importable with the events as before.
from dllab.probes import LayerStats as LayerStats
from dllab.probes import ParamStats as ParamStats
from dllab.run_control import RunControl

#: The most bins a layer statistic's histogram may have (a config asking for more is refused unallocated).
MAX_HISTOGRAM_BINS = 10_000


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
    #: Samples used to measure training and validation loss and accuracy after each epoch (None: all). The
    #: training loss and accuracy are measured on a fixed, seeded sample of the training set no larger than
    #: the validation set (as the validation figures, at a validation set's cost), unless this is None.
    eval_samples: int | None = 10000
    #: Stop when the validation loss has not improved for this many epochs (None: never).
    early_stopping: int | None = None
    #: Stop after this many mini-batches in total (None: run all epochs).
    max_steps: int | None = None
    #: Mini-batches between layer statistics (0: only at the end of each epoch).
    stats_every: int = 50
    #: Seconds of the run after which layer statistics come again whatever ``stats_every`` says (None: by count
    #: only): a live view of a slow network keeps up with it. Within ``stats_budget`` all the same.
    stats_seconds: float | None = None
    #: Largest share of the training time that probes of the live model may take (the statistics, and what a
    #: consumer such as the desktop app probes at the run's events); more are skipped (the last epoch's
    #: statistics always come). See :class:`dllab.probes.ProbeBudget`.
    stats_budget: float = 0.05
    #: Samples in the fixed probe batch whose activations are recorded.
    probe_size: int = 100
    histogram_bins: int = 40
    #: Changes of the optimizer's settings at given steps, e.g. ``[{"step": 500, "lr": 0.003}]``: after that
    #: many mini-batches the settings change for the next ones (see :mod:`dllab.setting_changes`). A run
    #: records here the changes made by hand while it trained, so its config replays them.
    changes: list[dict[str, Any]] = field(default_factory=list)
    #: The model file whose matching layers (names and shapes) give the starting weights (None: fresh ones);
    #: see :func:`dllab.transfer.init_from`. Frozen layers are part of the network (``"trainable": false``).
    init_from: str | None = None
    #: The human-level (Bayes) error estimate the fit is read against, a share (0.01 is 1 %).
    human_error: float = 0.0

    def __post_init__(self) -> None:
        def positive_int(name: str, value: Any, allow_none: bool = False, minimum: int = 1) -> None:
            if value is None and allow_none:
                return
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise SettingsError(f"{name} must be an integer of at least {minimum}, got {quote(value)}")

        for name in ("optimizer", "schedule"):
            if not isinstance(getattr(self, name), str):
                raise SettingsError(f"{name} must be a name, got {quote(getattr(self, name))}")
        for name in ("optimizer_options", "schedule_options"):
            options = getattr(self, name)
            if not isinstance(options, dict) or not all(isinstance(key, str) for key in options):
                raise SettingsError(f"{name} must map setting names to values, got {quote(options)}")
        if self.augment is not None and not isinstance(self.augment, dict):
            raise SettingsError(f"augment must be augmentation settings or None, got {quote(self.augment)}")
        if self.init_from is not None and (not isinstance(self.init_from, str) or not self.init_from):
            raise SettingsError(
                f"init_from must be the path of a model file or None, got {quote(self.init_from)}"
            )
        if not isinstance(self.drop_last, bool):
            raise SettingsError(f"drop_last must be true or false, got {quote(self.drop_last)}")
        positive_int("seed", self.seed, minimum=0)
        positive_int("batch_size", self.batch_size)
        positive_int("epochs", self.epochs)
        positive_int("eval_samples", self.eval_samples, allow_none=True)
        positive_int("early_stopping", self.early_stopping, allow_none=True)
        positive_int("max_steps", self.max_steps, allow_none=True)
        positive_int("stats_every", self.stats_every, minimum=0)
        positive_int("probe_size", self.probe_size)
        positive_int("histogram_bins", self.histogram_bins, minimum=2)
        if self.histogram_bins > MAX_HISTOGRAM_BINS:
            raise SettingsError(
                f"histogram_bins must be at most {MAX_HISTOGRAM_BINS}, got {self.histogram_bins}"
            )
        if self.stats_seconds is not None and (
            isinstance(self.stats_seconds, bool)
            or not isinstance(self.stats_seconds, int | float)
            or not 0 < self.stats_seconds < math.inf
        ):
            raise SettingsError(
                f"stats_seconds must be a positive number of seconds, got {quote(self.stats_seconds)}"
            )
        if not isinstance(self.stats_budget, int | float) or not 0 < self.stats_budget <= 1:
            raise SettingsError(f"stats_budget must be a share in (0, 1], got {self.stats_budget!r}")
        self.human_error = check_human_error(self.human_error)
        self.make_optimizer()
        self.make_schedule()
        self.changes = setting_changes.check_changes(self.changes, self.optimizer)
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

    def unwatched(self) -> TrainingConfig:
        """This config for a run whose layer statistics no view shows (the command line, the runs of a
        comparison or a search): statistics at the end of each epoch only, within 1 % of the training time.
        What is trained is the same; a command-line run of SimpleConvNet spent 5 % of its time on statistics
        it never showed."""
        return replace(self, stats_every=0, stats_seconds=None, stats_budget=0.01)

    def to_dict(self) -> dict[str, Any]:
        """Plain settings; ``human_error`` (added after the first version) only when set, so a document
        without it reads the same in every dllab."""
        values = asdict(self)
        if not values["human_error"]:
            del values["human_error"]
        return values

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
    train_dev_samples: int = 0


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
    #: The fit read as the course reads it (:attr:`fit`'s sentence).
    reading: str
    #: Loss and accuracy on the train-dev set (NaN without one).
    train_dev_loss: float = math.nan
    train_dev_accuracy: float = math.nan
    #: The errors of the sets and the gaps between them (:func:`dllab.fit_reading.read_fit`), test not yet.
    fit: FitReading | None = None

    #: The measures an epoch is recorded with and read back from (a run's metrics, a study's epoch records).
    RECORDED: ClassVar[tuple[str, ...]] = (
        "train_loss",
        "train_accuracy",
        "val_loss",
        "val_accuracy",
        "lr",
        "elapsed",
        "samples_per_second",
        "train_dev_loss",
        "train_dev_accuracy",
    )

    @classmethod
    def recorded(
        cls, epoch: int, step: int, value: Callable[[str], float], improved: bool = False
    ) -> EpochEnded:
        """An epoch read back from its record: ``value(name)`` gives each of :attr:`RECORDED` (NaN when
        missing); the fit reading is not kept in a record."""
        return cls(
            epoch=epoch,
            step=step,
            improved=improved,
            reading="",
            **{name: value(name) for name in cls.RECORDED},
        )


@dataclass(frozen=True)
class Paused:
    step: int


@dataclass(frozen=True)
class Resumed:
    step: int


@dataclass(frozen=True)
class SettingsChanged:
    """Optimizer settings changed after ``step`` mini-batches: the next ones use ``values``."""

    step: int
    epoch: int
    #: The new values, by setting name.
    values: dict[str, Any]
    #: The values they replace.
    previous: dict[str, Any]
    #: Asked for while the run trained (through the control), not one of the config's ``changes``.
    manual: bool

    def text(self) -> str:
        """The change in a few words, e.g. ``"lr 0.01 → 0.003"``."""
        return setting_changes.change_text(self.values, self.previous)


@dataclass(frozen=True)
class ChangeRefused:
    """A change asked for through the control was refused (``message``, one sentence); nothing changed."""

    step: int
    values: dict[str, Any]
    message: str


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
    #: None when the user skipped the evaluation (see :attr:`Trainer.test_evaluation`).
    test: Evaluation | None = field(repr=False)
    #: The last epoch's fit reading with the test error: all four gaps.
    fit: FitReading | None = None


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
    RunStarted
    | BatchEnded
    | EpochEnded
    | LayerStatistics
    | Paused
    | Resumed
    | SettingsChanged
    | ChangeRefused
    | Finished
    | Stopped
    | Diverged
)

#: Seconds between two looks at a paused run's control (a stop or resume wakes it at once anyway).
_PAUSE_POLL_S = 0.1


def best_measure(data: PreparedData) -> str:
    """What picks a run's best epoch (and early stopping): the lowest ``"validation loss"``, or the lowest
    ``"training loss"`` (on the evaluation sample) when the data has no validation split."""
    return "validation loss" if len(data.x_val) else "training loss"


def first_nonfinite(arrays: dict[str, np.ndarray]) -> str | None:
    """The key of the first array holding NaN or an infinity, or None when all are finite."""
    # The sum of squares is finite exactly when every value is, unless squares overflow (then the values are
    # looked at one by one): a single pass with no temporary, 4x faster than isfinite(...).all() on
    # SimpleConvNet's largest gradient (47 against 202 us).
    with np.errstate(over="ignore", invalid="ignore"):
        for key, value in arrays.items():
            flat = value.reshape(-1)
            if not math.isfinite(np.dot(flat, flat)) and not np.isfinite(value).all():
                return key
    return None


#: The key of a model's parameter block among the arrays a run copies (a parameter's key has a dot).
_PARAMETERS = "parameters"


def _copies(model: Sequential) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """What a run copies before each update (the model's parameters as their one block when they are one, then
    its running statistics), copies of them, and the copies keyed like the model's parameters and statistics."""
    params, state = model.params, model.state
    block = parameter_block.block_of(tuple(params.values()))
    if block is None:
        watched = {**params, **state}
        saved = {key: value.copy() for key, value in watched.items()}
        return watched, saved, saved
    watched = {_PARAMETERS: block, **state}
    saved = {key: value.copy() for key, value in watched.items()}
    snapshot = {
        **parameter_block.parts_like(saved[_PARAMETERS], params),
        **{key: saved[key] for key in state},
    }
    return watched, saved, snapshot


@dataclass
class _Run:
    """Where one run of :meth:`Trainer.run` is: what its steps share."""

    per_epoch: int
    total: int
    rng_batches: np.random.Generator
    rng_augment: np.random.Generator
    #: Training samples measured at each epoch's end.
    eval_train: np.ndarray
    base_lr: float
    #: The model's parameters and running statistics, live.
    live: dict[str, np.ndarray]
    #: The same values as arrays to copy and check a call each: the parameters as their one block when they
    #: are one (:mod:`dllab.parameter_block`; the MLP 784-100x4-10's ten arrays are copied and checked in 29 us
    #: one by one, in 17 as one), then the running statistics.
    watched: dict[str, np.ndarray]
    #: Copies of ``watched`` before the last update.
    saved: dict[str, np.ndarray]
    #: ``saved`` keyed like ``live`` (views): the last finite weights.
    snapshot: dict[str, np.ndarray]
    #: The parameters the optimizer updates, live (the model's ``trainable_params``, asked once a run).
    trainable: dict[str, np.ndarray]
    start_time: float
    step: int = 0
    epoch: int = 0
    #: The last batch's gradients.
    grads: dict[str, np.ndarray] = field(default_factory=dict)
    best_val: float = math.inf
    best_epoch: int | None = None
    since_best: int = 0
    statistics_step: int = -1
    #: When the last layer statistics were taken (``time.perf_counter``).
    statistics_time: float = -math.inf
    #: The config's changes not applied yet, the next first.
    planned: deque[dict[str, Any]] = field(default_factory=deque)
    #: Whether a change has set the learning rate (the schedule then sets it no more).
    lr_set: bool = False
    #: (seconds, samples) of the last batches, for the training speed.
    recent: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=20))


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
    probe_budget : ProbeBudget
        The share of the training time that probes of the run may take (``config.stats_budget``): the layer
        statistics here, and whatever else a consumer probes while the run is suspended at an event.
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
        # What the fit rule (dllab.fit.fit_network, applied before the model was built) guarantees.
        check_fit(model.input_shape, math.prod(model.output_shape), model.loss.name, data)
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
        self.probe_budget = ProbeBudget(self.config.stats_budget)
        #: How a finished run's test set is evaluated: None, at once with :func:`evaluate`; else a generator
        #: function of ``(model, x_test, y_test)`` whose items :meth:`run` passes on (the app's progress) and
        #: which returns the evaluation, or None when the user skipped it.
        self.test_evaluation: Callable[..., Generator[Any, None, Evaluation | None]] | None = None
        self._layer_probe = LayerProbe(
            model, data.x_train[: self.config.probe_size], self.config.histogram_bins
        )

    def stop(self) -> None:
        """Stop before the next batch: ``control.stop()``, for callers that hold only the trainer."""
        self.control.stop()

    # --- the run --------------------------------------------------------------------------------------

    def run(self) -> Iterator[Event]:
        """Train, yielding events; ends with Finished, Stopped or Diverged (before Finished, the items of
        :attr:`test_evaluation` when it is set)."""
        cfg, data = self.config, self.data
        run = self._begin()
        yield RunStarted(
            cfg.epochs,
            run.per_epoch,
            run.total,
            len(data.x_train),
            len(data.x_val),
            len(data.x_test),
            len(data.x_train_dev),
        )
        reason = "completed"
        for epoch in range(1, cfg.epochs + 1):
            run.epoch = epoch
            if not run.lr_set:
                self.optimizer.lr = self.schedule(run.base_lr, epoch - 1)
            batches = iterate_batches(
                data.x_train, data.y_train, cfg.batch_size, run.rng_batches, drop_last=cfg.drop_last
            )
            for batch, (xb, yb) in enumerate(batches, start=1):
                if not (yield from self._wait_for_batch(run)):
                    yield Stopped(run.step, epoch)
                    return
                yield from self._changes(run)
                outcome = self._train_batch(run, batch, xb, yb)
                yield outcome
                if isinstance(outcome, Diverged):
                    return
                if self._statistics_due(run, epoch_end=False):
                    yield self._statistics(run)
                if run.step >= run.total:
                    break
            result = self._end_epoch(run)
            self.history.append(result)
            if not (math.isfinite(result.train_loss) and math.isfinite(self._monitored(result))):
                # Weights that are finite yet so large that the measured loss overflows.
                yield result
                yield self._diverged_when_measured(run, result)
                return
            self._keep_if_best(run, result)
            if self._statistics_due(run, epoch_end=True):
                yield self._statistics(run)
            yield result
            ending = self._ending(run)
            if ending is not None:
                reason = ending
                break
        yield (yield from self._finished(run, reason))

    # --- the steps of a run ---------------------------------------------------------------------------------

    def _begin(self) -> _Run:
        """A run's starting point: its random streams, its length, the evaluation sample, the first weights."""
        cfg, data = self.config, self.data
        rng_batches, rng_augment, rng_eval = np.random.default_rng(cfg.seed).spawn(3)
        per_epoch = num_batches(len(data.x_train), cfg.batch_size, cfg.drop_last)
        if per_epoch == 0:
            raise SettingsError(
                f"{len(data.x_train)} training samples make no full batch of {cfg.batch_size}"
            )
        total = (
            per_epoch * cfg.epochs if cfg.max_steps is None else min(per_epoch * cfg.epochs, cfg.max_steps)
        )
        live = {**self.model.params, **self.model.state}
        watched, saved, snapshot = _copies(self.model)
        return _Run(
            per_epoch=per_epoch,
            total=total,
            rng_batches=rng_batches,
            rng_augment=rng_augment,
            eval_train=self._eval_indices(len(data.x_train), rng_eval),
            base_lr=self.optimizer.lr,
            live=live,
            watched=watched,
            saved=saved,
            snapshot=snapshot,
            trainable=self.model.trainable_params,
            start_time=time.perf_counter(),
            planned=deque(cfg.changes),
        )

    def _wait_for_batch(self, run: _Run) -> Generator[Event, None, bool]:
        """Let the next batch run, first waiting while the run is paused (announced by the layer statistics of
        the step paused at, then Paused, and by Resumed when it goes on, not after a single step); False when
        the run is stopped. A pause is no training time."""
        control = self.control
        if control.next_batch(timeout=0):
            return True
        if control.stopped:
            return False
        paused_at = time.perf_counter()
        if run.step and run.statistics_step != run.step:  # what a paused run shows is where it paused
            yield self._statistics(run)
        yield Paused(run.step)
        while not control.next_batch(timeout=_PAUSE_POLL_S):
            if control.stopped:
                return False
            yield from self._changes(run)
        run.start_time += time.perf_counter() - paused_at
        run.recent.clear()
        if not control.paused:
            yield Resumed(run.step)
        return True

    def _changes(self, run: _Run) -> Iterator[SettingsChanged | ChangeRefused]:
        """Apply the config's changes due after ``run.step`` batches, then those the control asks for."""
        while run.planned and run.planned[0]["step"] <= run.step:
            values = {k: v for k, v in run.planned.popleft().items() if k != "step"}
            yield self._apply(run, values, manual=False)
        yield from self._manual_changes(run)

    def _manual_changes(self, run: _Run) -> Iterator[SettingsChanged | ChangeRefused]:
        """Apply what the control asks for, or refuse it with the reason."""
        for values in self.control.take_changes():
            try:
                checked = setting_changes.check_change(values, self.optimizer.name, step=run.step)
            except SettingsError as exc:
                yield ChangeRefused(run.step, dict(values), str(exc))
            else:
                yield self._apply(run, checked, manual=True)

    def _apply(self, run: _Run, values: dict[str, Any], *, manual: bool) -> SettingsChanged:
        previous = setting_changes.apply_change(self.optimizer, values)
        run.lr_set = run.lr_set or "lr" in values
        return SettingsChanged(run.step, run.epoch, values, previous, manual)

    def _train_batch(self, run: _Run, batch: int, xb: np.ndarray, yb: np.ndarray) -> BatchEnded | Diverged:
        """One mini-batch: forward, backward, update. Diverged, with the last finite weights put back, when the
        loss before the update or the weights after it are not finite."""
        clock = self.probe_budget.clock
        started = clock()
        if self.augmenter is not None and self.augmenter.enabled:
            xb = self.augmenter(xb, run.rng_augment)
        with np.errstate(all="ignore"):
            loss, grads = self.model.loss_and_grads(xb, yb)
        if not math.isfinite(loss):
            return self._diverged(run, loss)
        for key, value in run.watched.items():
            np.copyto(run.saved[key], value)
        with np.errstate(all="ignore"):
            self.optimizer.update(run.trainable, grads)
        bad = first_nonfinite(run.watched) and first_nonfinite(run.live)
        if bad is not None:  # the update itself overflowed, the last one of a run included
            return self._diverged(run, loss, bad)
        run.step += 1
        run.grads = grads
        duration = clock() - started
        self.probe_budget.count_training(duration)
        run.recent.append((duration, len(xb)))
        rate = sum(n for _, n in run.recent) / max(sum(t for t, _ in run.recent), 1e-9)
        return BatchEnded(run.step, run.epoch, batch, loss, self.optimizer.lr, rate)

    def _statistics_due(self, run: _Run, *, epoch_end: bool) -> bool:
        """Whether layer statistics come now: every ``stats_every`` batches (or ``stats_seconds`` seconds) and at
        the end of each epoch, while the probe budget allows; at the end of the last epoch always."""
        cfg = self.config
        if epoch_end:
            last_epoch = run.epoch == cfg.epochs or run.step >= run.total
            return run.statistics_step != run.step and (last_epoch or self.probe_budget.allows())
        by_count = bool(cfg.stats_every) and run.step % cfg.stats_every == 0
        by_time = (
            cfg.stats_seconds is not None and time.perf_counter() - run.statistics_time >= cfg.stats_seconds
        )
        return (by_count or by_time) and self.probe_budget.allows()

    def _statistics(self, run: _Run) -> LayerStatistics:
        run.statistics_step = run.step
        run.statistics_time = time.perf_counter()
        return self.probe_budget.spend(
            lambda: self._layer_probe(run.step, run.epoch, run.grads, run.snapshot)
        )

    def _end_epoch(self, run: _Run) -> EpochEnded:
        """The epoch's training and validation loss and accuracy, measured now."""
        data, limit = self.data, self.config.eval_samples
        with np.errstate(all="ignore"):
            train = evaluate(self.model, data.x_train[run.eval_train], data.y_train[run.eval_train])
            val = evaluate(self.model, data.x_val[:limit], data.y_val[:limit])
            train_dev = evaluate(self.model, data.x_train_dev[:limit], data.y_train_dev[:limit])
        elapsed = time.perf_counter() - run.start_time
        monitored = val.loss if best_measure(data) == "validation loss" else train.loss
        fit = read_accuracies(
            train.accuracy, val.accuracy, train_dev=train_dev.accuracy, human_error=self.config.human_error
        )
        return EpochEnded(
            epoch=run.epoch,
            step=run.step,
            train_loss=train.loss,
            train_accuracy=train.accuracy,
            val_loss=val.loss,
            val_accuracy=val.accuracy,
            lr=self.optimizer.lr,
            elapsed=elapsed,
            samples_per_second=run.step * self.config.batch_size / max(elapsed, 1e-9),
            improved=bool(monitored < run.best_val),
            reading=fit.sentence,
            train_dev_loss=train_dev.loss,
            train_dev_accuracy=train_dev.accuracy,
            fit=fit,
        )

    def _keep_if_best(self, run: _Run, result: EpochEnded) -> None:
        """Keep the weights of the best epoch so far (by :func:`best_measure`)."""
        if result.improved:
            run.best_val, run.best_epoch, run.since_best = self._monitored(result), run.epoch, 0
            self.best_weights = self.model.get_weights()
        else:
            run.since_best += 1

    def _ending(self, run: _Run) -> str | None:
        """Why the run ends after this epoch (a finish reason), or None when it goes on. Early stopping puts
        the best weights back."""
        cfg = self.config
        if cfg.early_stopping and run.since_best >= cfg.early_stopping:
            if self.best_weights is not None:
                self.model.set_weights(self.best_weights)
            return "early stopping"
        if run.step >= run.total:
            return "step limit" if run.step < run.per_epoch * cfg.epochs else "completed"
        return None

    def _finished(self, run: _Run, reason: str) -> Generator[Any, None, Finished]:
        """The end of a run that was neither stopped nor diverged, with the test set's evaluation (by
        :attr:`test_evaluation`, whose items are passed on)."""
        test: Evaluation | None
        if self.test_evaluation is None:
            with np.errstate(all="ignore"):
                test = evaluate(self.model, self.data.x_test, self.data.y_test)
        else:
            test = yield from self.test_evaluation(self.model, self.data.x_test, self.data.y_test)
        return Finished(
            reason,
            run.step,
            run.epoch,
            math.nan if test is None else test.loss,
            math.nan if test is None else test.accuracy,
            run.best_epoch,
            run.best_val,
            time.perf_counter() - run.start_time,
            test,
            self._final_fit(
                math.nan if test is None else test.accuracy,
                run.best_epoch if reason == "early stopping" else None,
            ),
        )

    def _final_fit(self, test_accuracy: float, epoch: int | None) -> FitReading | None:
        """The reading of the epoch whose weights the model holds (the last, or ``epoch`` when early stopping
        put its weights back) with the test error in it; None before any epoch."""
        if not self.history:
            return None
        last = self.history[-1] if epoch is None else self.history[epoch - 1]
        return read_accuracies(
            last.train_accuracy,
            last.val_accuracy,
            train_dev=last.train_dev_accuracy,
            test=test_accuracy,
            human_error=self.config.human_error,
        )

    # --- divergence ---------------------------------------------------------------------------------------

    def _diverged(self, run: _Run, loss: float, bad: str | None = None) -> Diverged:
        """The batch after ``run.step`` diverged (``bad``: the parameter its update made not finite): the last
        finite weights are put back."""
        self.model.set_weights(run.snapshot)
        return Diverged(run.step + 1, run.epoch, loss, self._divergence(loss, run.step, run.epoch, bad))

    def _diverged_when_measured(self, run: _Run, result: EpochEnded) -> Diverged:
        """The loss measured at the epoch's end is not finite: the weights before the last update are put back."""
        self.model.set_weights(run.snapshot)
        loss = result.train_loss if not math.isfinite(result.train_loss) else result.val_loss
        return Diverged(run.step, run.epoch, loss, self._divergence(loss, run.step, run.epoch, measured=True))

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

    # --- measures -----------------------------------------------------------------------------------------

    def _monitored(self, event: EpochEnded) -> float:
        """The loss that picks the best epoch and early stopping (see :func:`best_measure`)."""
        return event.val_loss if best_measure(self.data) == "validation loss" else event.train_loss

    def _eval_indices(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """The training samples measured at each epoch's end: ``eval_samples`` of them, and no more than the
        validation set has: the training figures are then as precise as the validation ones, at the same cost."""
        limit = self.config.eval_samples
        if limit is not None and len(self.data.x_val):
            limit = min(limit, len(self.data.x_val))
        if limit is None or n <= limit:
            return np.arange(n)
        return np.sort(rng.choice(n, size=limit, replace=False))
