"""One training run of the desktop app, as it happens in the training process: plain Python, no Qt.

:class:`TrainingSession` turns a :class:`TrainingRequest` (captured on the GUI thread: the network, the raw data
set, the settings) into a generator of items, which :class:`ui.training.process.TrainingProcess` iterates in a
child process and sends to the window:

1. :class:`SessionStarted`: the data are prepared, the model built (from the model file of the config's
   ``init_from`` when it names one, :func:`dllab.transfer.build_started`) and a run folder created (so
   everything heavy happens off the GUI thread); it describes what the views need (layers, classes, test
   images, 2D points) and what the start from a saved model copied;
2. the trainer's own events (:mod:`dllab.trainer`), each recorded by a :class:`dllab.runs.RunRecorder` first;
3. snapshots of the live model (:mod:`dllab.probes`), taken right when the trainer's generator is suspended at
   a ``BatchEnded``, ``LayerStatistics`` or ``EpochEnded`` event (so the weights are consistent), no more often than the views
   can show them, and within the trainer's probe budget (:attr:`dllab.trainer.Trainer.probe_budget`: the
   statistics and the snapshots together take a share of the training time at most): :class:`FilterSnapshot`,
   :class:`FeatureMapSnapshot`, :class:`BoundarySnapshot`. Every array in them is a copy: the GUI thread never
   sees a live array;
4. when the run is stopped or diverges, the trainer's ``Stopped`` or ``Diverged`` at once (the window says so
   without waiting), then the test set's evaluation as a step of its own: :class:`EvaluatingTestSet` items
   a batch at a time, until it is done or the control's :meth:`~dllab.run_control.RunControl.skip_evaluation`
   ends it (the run's summary then has no test results). A run that finishes on its own has the same step
   (with ``finished`` set), the trainer's :attr:`~dllab.trainer.Trainer.test_evaluation` before ``Finished``;
5. at the end :class:`FinalEvaluation` and :class:`SessionEnded`, which hands the trained model over (training is
   over, nothing changes it any more).

The session's :class:`~dllab.run_control.RunControl`, made by whoever starts the run, goes to the trainer as it
is: stop, pause, resume and step reach it from any thread (or the window's process) directly. A stop with
``closing`` also skips the final test evaluation and snapshots: nobody is left to look at them.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dllab.data import Dataset, PreparedData
from dllab.experiment import DataSettings
from dllab.fit import fit_network
from dllab.metrics import Evaluation, evaluation_steps
from dllab.model import Sequential
from dllab.probes import (
    ProbeBudget,
    boundary_grid,
    feature_map_layers,
    feature_maps,
    first_conv_filters,
    plane_extent,
)
from dllab.run_control import RunControl
from dllab.runs import RunRecorder, new_run_folder
from dllab.text import counted
from dllab.trainer import (
    BatchEnded,
    ChangeRefused,
    Diverged,
    EpochEnded,
    Finished,
    LayerStatistics,
    Paused,
    Resumed,
    RunStarted,
    SettingsChanged,
    Stopped,
    Trainer,
    TrainingConfig,
)
from dllab.transfer import TransferReport, build_started

#: Points per side of the decision-boundary grid.
BOUNDARY_RESOLUTION = 140
#: Seconds between two snapshots of one kind at the least: the views cannot show them any faster.
SNAPSHOT_INTERVALS_S = {"filters": 0.25, "feature maps": 0.25, "boundary": 0.1}
#: Test samples evaluated between two looks at the control when a stopped run is evaluated: small enough that
#: skipping answers within a fraction of a second, large enough that BLAS stays efficient.
TEST_EVALUATION_BATCH = 250
#: Seconds the first batch waits at most for the views to be ready (see ``TrainingSession.views_ready``).
VIEWS_READY_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class TrainingRequest:
    """Everything a run needs, captured on the GUI thread when Train is pressed.

    Attributes
    ----------
    spec : dict
        The network spec (a copy).
    dataset : Dataset
        The raw data set as loaded (never changed by training).
    data_settings : DataSettings
        How the data are split and normalised (also written to the run's ``config.json``).
    config : TrainingConfig
    seed : int
        Seeds the initial weights.
    data_seed : int
        Seeds the subset and the validation split.
    runs_root : Path or None
        Where run folders go (:func:`dllab.runs.runs_root` when None).
    extra : dict
        More entries for the run's ``config.json``.
    """

    spec: dict[str, Any]
    dataset: Dataset
    data_settings: DataSettings
    config: TrainingConfig
    seed: int = 0
    data_seed: int = 0
    runs_root: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LayerInfo:
    """One layer as the views show it."""

    name: str
    type_name: str
    output_shape: tuple[int, ...]
    param_keys: tuple[str, ...]


@dataclass(frozen=True)
class SessionStarted:
    """The run is set up: data prepared, model built, run folder created."""

    folder: Path
    network: str
    layers: tuple[LayerInfo, ...]
    parameters: int
    task: str
    class_names: tuple[str, ...]
    input_shape: tuple[int, ...]
    image_shape: tuple[int, ...] | None
    train_samples: int
    val_samples: int
    test_samples: int
    batch_size: int
    #: Raw test samples, for galleries and the feature-map input (the data set's own array, never written).
    test_inputs: np.ndarray = field(repr=False)
    test_labels: np.ndarray = field(repr=False)
    #: The first Conv2D layer's name, or None.
    first_conv: str | None = None
    #: Layers whose outputs are feature maps (channels x height x width).
    feature_layers: tuple[str, ...] = ()
    #: For data with two features: the raw training points and labels, and the plotted extent.
    points: np.ndarray | None = field(default=None, repr=False)
    point_labels: np.ndarray | None = field(default=None, repr=False)
    extent: tuple[float, float, float, float] | None = None
    #: Rows of the data set's test set left out of this run's (``DataSettings.excluded_test``); the test
    #: inputs, labels and evaluation are those of the rows kept, in order.
    excluded_test: tuple[int, ...] = ()
    #: The model file the run started from (the config's ``init_from``) and what was copied, frozen and new;
    #: None for fresh weights.
    init_from: str | None = None
    transfer: TransferReport | None = None


@dataclass(frozen=True)
class FilterSnapshot:
    """The first Conv2D layer's weights, ``(filters, channels, kh, kw)``, a copy."""

    step: int
    layer: str
    weights: np.ndarray = field(repr=False)


@dataclass(frozen=True)
class FeatureMapSnapshot:
    """Every feature-map layer's output for one test sample, ``{layer: (channels, h, w)}``, copies."""

    step: int
    sample: int
    maps: dict[str, np.ndarray] = field(repr=False)


@dataclass(frozen=True)
class BoundarySnapshot:
    """The predicted class and its probability over a grid of the plane (rows are y, columns x)."""

    step: int
    epoch: int
    extent: tuple[float, float, float, float]
    classes: np.ndarray = field(repr=False)
    confidence: np.ndarray = field(repr=False)


@dataclass(frozen=True)
class FinalEvaluation:
    """The test set's evaluation when the run ended (outputs, labels, confusion matrix)."""

    status: str
    evaluation: Evaluation = field(repr=False)


@dataclass(frozen=True)
class EvaluatingTestSet:
    """The test set of a run is being evaluated: ``done`` of ``total`` samples so far."""

    done: int
    total: int
    #: The run finished on its own (else it was stopped or diverged).
    finished: bool = False


@dataclass(frozen=True)
class SessionEnded:
    """The last item: how the run ended, and the trained model (no longer trained, so safe to hand over)."""

    status: str
    message: str
    folder: Path | None
    model: Sequential | None = field(default=None, repr=False)


#: What :func:`is_urgent` answers True for.
_URGENT = (
    SessionStarted,
    RunStarted,
    Paused,
    Resumed,
    SettingsChanged,
    ChangeRefused,
    Finished,
    Stopped,
    Diverged,
    EvaluatingTestSet,
    SessionEnded,
)


def is_urgent(item: Any) -> bool:
    """Items the GUI should see at once: starts, pauses, changes of the optimizer's settings, the end of a run
    and the progress of its test evaluation (a few a second)."""
    return isinstance(item, _URGENT)


# --- the session ---------------------------------------------------------------------------------------------


class TrainingSession:
    """One run: :meth:`events` is the generator the worker iterates.

    Parameters
    ----------
    request
        The run.
    control
        Stops, pauses and single-steps the run from any thread (a control of its own when None).

    Attributes
    ----------
    control : RunControl
    feature_sample : int
        Index of the test sample whose feature maps are sent (any thread may set it).
    folder : Path or None
        The run folder, once created.
    views_ready : threading.Event or None
        When set to an event, the first batch waits (up to ``VIEWS_READY_TIMEOUT_S``) until it is set: the
        window builds its plots for the run's layers before training competes with it for the cores.
    """

    def __init__(self, request: TrainingRequest, control: RunControl | None = None) -> None:
        self.request = request
        self.control = control if control is not None else RunControl()
        self.feature_sample = 0
        self.folder: Path | None = None
        self.views_ready: threading.Event | None = None
        self._transfer: TransferReport | None = None

    # --- iterating ------------------------------------------------------------------------------------------

    def events(self) -> Iterator[Any]:
        """Prepare, build, train and record, yielding what the views show (see the module's description)."""
        r, control = self.request, self.control
        ds = r.data_settings
        # The engine's fit rule and its one data preparation, as the command line runs them (the app has fitted
        # the design already, so the rule only asserts here).
        spec, _ = fit_network(r.spec, r.dataset)
        prepared = ds.prepare(spec["input_shape"], r.data_seed, dataset=r.dataset)
        model, self._transfer = build_started(spec, seed=r.seed, source=r.config.init_from)
        trainer = Trainer(model, prepared, r.config, control)
        trainer.test_evaluation = self._finished_run_evaluation  # a step of its own too, with progress
        if control.stopped:
            yield SessionEnded("stopped", "Stopped before the first batch.", None)
            return
        self.folder = new_run_folder(model.name, r.runs_root)
        recorder = RunRecorder(
            self.folder,
            model,
            data=prepared,
            config=r.config,
            data_settings=ds,
            seed=r.seed,
            extra=r.extra or None,
        )

        started = self._describe(model, prepared)
        yield started
        snapshots = _Snapshots(model, prepared, started, self, trainer.probe_budget)
        yield from snapshots.take(0, 0, force=True)
        ready = self.views_ready
        if ready is not None:
            deadline = time.monotonic() + VIEWS_READY_TIMEOUT_S
            while not ready.wait(0.05) and not control.stopped and time.monotonic() < deadline:
                pass

        last: Any = None
        epoch = 0
        recorder.evaluate_on_stop = False  # a stopped run's evaluation is a step of its own, below
        for event in trainer.run():
            if isinstance(event, Stopped | Diverged):
                yield event  # the window says so at once, before the test set is evaluated
                test = yield from self._test_evaluation(model, prepared.x_test, prepared.y_test)
                recorder.handle(event, test=test)
                last = event
                continue
            recorder.handle(event)
            if isinstance(event, Paused):  # every view shows the step paused at (Paused, urgent, sends them)
                yield from snapshots.take(event.step, epoch, force=True)
            yield event
            if isinstance(event, BatchEnded | LayerStatistics | EpochEnded):
                epoch = event.epoch
                yield from snapshots.take(event.step, event.epoch)
            last = event

        if not control.closing:
            yield from snapshots.take(getattr(last, "step", 0), epoch, force=True)
            test = recorder.test
            if test is not None:
                yield FinalEvaluation(_status(last), test)
        yield SessionEnded(_status(last), _message(last, recorder.test), self.folder, model)

    def _finished_run_evaluation(
        self, model: Sequential, x: np.ndarray, y: np.ndarray
    ) -> Generator[EvaluatingTestSet, None, Evaluation | None]:
        """The trainer's evaluation of a run that finished on its own: the stopped run's step, with progress."""
        return self._test_evaluation(model, x, y, finished=True)

    def _test_evaluation(
        self, model: Sequential, x: np.ndarray, y: np.ndarray, *, finished: bool = False
    ) -> Generator[EvaluatingTestSet, None, Evaluation | None]:
        """Evaluate the test set ``x``, ``y`` a batch at a time with its progress; None when it is skipped (or
        empty)."""
        control, total = self.control, len(x)
        if control.evaluation_skipped or not total:
            return None
        yield EvaluatingTestSet(0, total, finished)
        steps = evaluation_steps(model, x, y, batch_size=TEST_EVALUATION_BATCH)
        while True:
            try:
                with np.errstate(all="ignore"):
                    done = next(steps)
            except StopIteration as finished:
                return finished.value
            if control.evaluation_skipped:
                return None
            yield EvaluatingTestSet(done, total, finished)

    def _describe(self, model: Sequential, prepared: PreparedData) -> SessionStarted:
        r = self.request
        params_by_layer = {
            layer.name: tuple(f"{layer.name}.{k}" for k in layer.params) for layer in model.layers
        }
        layers = tuple(
            LayerInfo(
                layer.name, layer.type_name, tuple(layer.output_shape or ()), params_by_layer[layer.name]
            )
            for layer in model.layers
        )
        points = labels = extent = None
        raw = r.dataset
        if (
            prepared.task == "classification"
            and tuple(model.input_shape) == (2,)
            and raw.x_train.ndim == 2
            and raw.x_train.shape[1] == 2
        ):
            points = np.asarray(raw.x_train, dtype=np.float32)
            labels = np.asarray(raw.y_train)
            extent = plane_extent(points)
        conv = first_conv_filters(model)
        kept = r.data_settings.kept_test(len(raw.x_test)) if r.data_settings.excluded_test else slice(None)
        return SessionStarted(
            folder=self.folder or Path(),
            network=model.name,
            layers=layers,
            parameters=model.param_count,
            task=prepared.task,
            class_names=tuple(prepared.class_names),
            input_shape=tuple(model.input_shape),
            image_shape=prepared.image_shape,
            train_samples=len(prepared.x_train),
            val_samples=len(prepared.x_val),
            test_samples=len(prepared.x_test),
            batch_size=r.config.batch_size,
            test_inputs=raw.x_test[kept],
            test_labels=raw.y_test[kept],
            first_conv=None if conv is None else conv[0],
            feature_layers=feature_map_layers(model),
            points=points,
            point_labels=labels,
            extent=extent,
            excluded_test=r.data_settings.excluded_test,
            init_from=r.config.init_from,
            transfer=self._transfer,
        )


class _Snapshots:
    """Takes the snapshots of the live model that the views want, at most every :data:`SNAPSHOT_INTERVALS_S`
    and while the run's probe budget allows (``force``: now, whatever the interval and the budget say)."""

    def __init__(
        self,
        model: Sequential,
        prepared: PreparedData,
        started: SessionStarted,
        session: TrainingSession,
        budget: ProbeBudget,
    ) -> None:
        self.model = model
        self.prepared = prepared
        self.started = started
        self.session = session
        self.budget = budget
        self.taken = dict.fromkeys(SNAPSHOT_INTERVALS_S, -math.inf)

    def take(self, step: int, epoch: int, *, force: bool = False) -> Iterator[Any]:
        model, started, prepared = self.model, self.started, self.prepared
        if started.first_conv and self._due("filters", force):
            found = self.budget.spend(lambda: first_conv_filters(model))
            if found is not None:
                yield FilterSnapshot(step, found[0], found[1])
        if started.feature_layers and len(prepared.x_test) and self._due("feature maps", force):
            sample = min(max(int(self.session.feature_sample), 0), len(prepared.x_test) - 1)
            maps = self.budget.spend(lambda: feature_maps(model, prepared.x_test[sample]))
            yield FeatureMapSnapshot(step, sample, maps)
        extent = started.extent
        if extent is not None and self._due("boundary", force):
            classes, confidence = self.budget.spend(
                lambda: boundary_grid(model, prepared.normalizer, extent, BOUNDARY_RESOLUTION)
            )
            yield BoundarySnapshot(step, epoch, extent, classes, confidence)

    def _due(self, kind: str, force: bool) -> bool:
        """Whether the snapshot of ``kind`` is taken now (and if so, note the time)."""
        now = time.monotonic()
        if not force and (now - self.taken[kind] < SNAPSHOT_INTERVALS_S[kind] or not self.budget.allows()):
            return False
        self.taken[kind] = now
        return True


def _status(event: Any) -> str:
    if isinstance(event, Finished):
        return "finished"
    if isinstance(event, Diverged):
        return "diverged"
    return "stopped"


def _message(event: Any, test: Evaluation | None = None) -> str:
    if isinstance(event, Finished):
        accuracy = event.test_accuracy
        if event.test is None:
            result = "the test set was not evaluated"
        elif math.isfinite(accuracy):
            result = f"test accuracy {accuracy:.1%}"
        else:
            result = f"test loss {event.test_loss:.4g}"
        done = f"{counted(event.epochs, 'epoch')}, {counted(event.step, 'iteration')}"
        return f"Finished ({event.reason}) after {done}: {result}."
    if isinstance(event, Diverged):
        return event.message
    if isinstance(event, Stopped):
        if test is None:
            result = "the test set was not evaluated"
        elif math.isfinite(test.accuracy):
            result = f"test accuracy {test.accuracy:.1%}"
        else:
            result = f"test loss {test.loss:.4g}"
        return (
            f"Stopped at iteration {event.step:,} (epoch {event.epoch}), {result}; the run folder keeps it."
        )
    return "The run ended."
