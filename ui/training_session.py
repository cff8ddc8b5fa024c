"""One training run of the desktop app, as it happens in the training process: plain Python, no Qt.

:class:`TrainingSession` turns a :class:`TrainingRequest` (captured on the GUI thread: the network, the raw data
set, the settings) into a generator of items, which :class:`ui.training_process.TrainingProcess` iterates in a
child process and sends to the window:

1. :class:`SessionStarted`: the data are prepared, the model built and a run folder created (so everything
   heavy happens off the GUI thread); it describes what the views need (layers, classes, test images, 2D
   points);
2. the trainer's own events (:mod:`dllab.trainer`), each recorded by a :class:`dllab.runs.RunRecorder` first;
3. snapshots of the live model, computed here, right when the trainer's generator is suspended at a
   ``LayerStatistics`` or ``EpochEnded`` event (so the weights are consistent) and rate-limited so they cost a
   few percent of the training time at most: :class:`FilterSnapshot`, :class:`FeatureMapSnapshot`,
   :class:`BoundarySnapshot`. Every array in them is a copy: the GUI thread never sees a live array;
4. at the end :class:`FinalEvaluation` and :class:`SessionEnded`, which hands the trained model over (training is
   over, nothing changes it any more).

The session's :class:`~dllab.run_control.RunControl`, made by whoever starts the run, goes to the trainer as it
is: stop, pause, resume and step reach it from any thread (or the window's process) directly. A stop with
``closing`` also skips the final test evaluation and snapshots: nobody is left to look at them.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import dllab
from dllab.data import Dataset, Normalizer, PreparedData, prepare
from dllab.metrics import Evaluation, predicted_classes
from dllab.model import Sequential
from dllab.run_control import RunControl
from dllab.runs import DataSettings, RunRecorder, new_run_folder
from dllab.trainer import (
    Diverged,
    EpochEnded,
    Finished,
    LayerStatistics,
    Paused,
    Resumed,
    RunStarted,
    Stopped,
    Trainer,
    TrainingConfig,
)

#: Points per side of the decision-boundary grid.
BOUNDARY_RESOLUTION = 140
#: Share of the run's time that snapshots of the live model may take at most.
SNAPSHOT_BUDGET = 0.03
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
class SessionEnded:
    """The last item: how the run ended, and the trained model (no longer trained, so safe to hand over)."""

    status: str
    message: str
    folder: Path | None
    model: Sequential | None = field(default=None, repr=False)


def is_urgent(item: Any) -> bool:
    """Items the GUI should see at once: starts, pauses and the end of a run."""
    return isinstance(
        item, SessionStarted | RunStarted | Paused | Resumed | Finished | Stopped | Diverged | SessionEnded
    )


# --- snapshots of a live model (plain functions, tested on their own) -------------------------------------


def first_conv_filters(model: Sequential) -> tuple[str, np.ndarray] | None:
    """The first Conv2D layer's name and a copy of its weights, or None."""
    for layer in model.layers:
        if layer.type_name == "Conv2D":
            return layer.name, layer.params["W"].copy()
    return None


def feature_map_layers(model: Sequential) -> tuple[str, ...]:
    """Names of the layers whose outputs are feature maps (channels, height, width)."""
    return tuple(layer.name for layer in model.layers if len(layer.output_shape or ()) == 3)


def feature_maps(model: Sequential, sample: np.ndarray) -> dict[str, np.ndarray]:
    """Each feature-map layer's output for one (prepared) sample, as copies."""
    outputs = model.activations(sample[None])
    return {
        layer.name: np.array(out[0], dtype=np.float32)
        for layer, out in zip(model.layers, outputs, strict=True)
        if out.ndim == 4
    }


def plane_extent(points: np.ndarray, margin: float = 0.12) -> tuple[float, float, float, float]:
    """``(x0, x1, y0, y1)`` around 2D points with a margin (a share of each side's range)."""
    lo, hi = points.min(axis=0).astype(float), points.max(axis=0).astype(float)
    span = np.maximum(hi - lo, 1e-6)
    lo, hi = lo - margin * span, hi + margin * span
    return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])


def boundary_grid(
    model: Sequential,
    normalizer: Normalizer,
    extent: tuple[float, float, float, float],
    resolution: int = BOUNDARY_RESOLUTION,
) -> tuple[np.ndarray, np.ndarray]:
    """Predicted class and its probability at ``resolution`` x ``resolution`` points of the plane.

    The grid is in raw data coordinates and is normalised as the training data were. Returns two
    ``(resolution, resolution)`` arrays, rows along y (bottom first), columns along x.
    """
    x0, x1, y0, y1 = extent
    xs = np.linspace(x0, x1, resolution)
    ys = np.linspace(y0, y1, resolution)
    gx, gy = np.meshgrid(xs, ys)
    raw = np.column_stack([gx.ravel(), gy.ravel()])
    with np.errstate(all="ignore"):
        probs = model.predict(normalizer.transform(raw))
    classes = predicted_classes(probs)
    if probs.shape[1] == 1:
        confidence = np.where(classes == 1, probs[:, 0], 1 - probs[:, 0])
    else:
        confidence = probs[np.arange(len(probs)), classes]
    shape = (resolution, resolution)
    return classes.reshape(shape).astype(np.int16), np.nan_to_num(confidence).reshape(shape).astype(
        np.float32
    )


class Throttle:
    """Allows a costly task at most every ``interval`` seconds and within ``budget`` of the elapsed time."""

    def __init__(self, interval: float, budget: float = SNAPSHOT_BUDGET) -> None:
        self.interval = interval
        self.budget = budget
        self.start = time.perf_counter()
        self.last = -math.inf
        self.spent = 0.0

    def due(self) -> bool:
        """Whether the task may run now."""
        now = time.perf_counter()
        return now - self.last >= self.interval and self.spent <= self.budget * (now - self.start)

    def run(self, task: Callable[[], Any]) -> Any:
        """Run ``task`` now, counting its time."""
        t0 = time.perf_counter()
        try:
            return task()
        finally:
            self.last = time.perf_counter()
            self.spent += self.last - t0


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

    # --- iterating ------------------------------------------------------------------------------------------

    def events(self) -> Iterator[Any]:
        """Prepare, build, train and record, yielding what the views show (see the module's description)."""
        r, control = self.request, self.control
        ds = r.data_settings
        prepared = prepare(
            r.dataset,
            input_shape=tuple(r.spec["input_shape"]),
            val_fraction=ds.val_fraction,
            subset=ds.subset,
            subset_mode=ds.subset_mode,
            normalization=ds.normalization,
            seed=r.data_seed,
        )
        model = dllab.build(r.spec, seed=r.seed)
        trainer = Trainer(model, prepared, r.config, control)
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
        snapshots = _Snapshots(model, prepared, started, self)
        yield from snapshots.take(0, 0, force=True)
        ready = self.views_ready
        if ready is not None:
            deadline = time.monotonic() + VIEWS_READY_TIMEOUT_S
            while not ready.wait(0.05) and not control.stopped and time.monotonic() < deadline:
                pass

        last: Any = None
        epoch = 0
        for event in trainer.run():
            if isinstance(event, Stopped):
                recorder.evaluate_on_stop = not control.closing
            recorder.handle(event)
            yield event
            if isinstance(event, LayerStatistics | EpochEnded):
                epoch = event.epoch
                yield from snapshots.take(event.step, event.epoch)
            last = event

        if not control.closing:
            yield from snapshots.take(getattr(last, "step", 0), epoch, force=True)
            test = recorder.test
            if test is not None:
                yield FinalEvaluation(_status(last), test)
        yield SessionEnded(_status(last), _message(last), self.folder, model)

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
            test_inputs=raw.x_test,
            test_labels=raw.y_test,
            first_conv=None if conv is None else conv[0],
            feature_layers=feature_map_layers(model),
            points=points,
            point_labels=labels,
            extent=extent,
        )


class _Snapshots:
    """Takes the snapshots of the live model that the views want, each throttled on its own."""

    def __init__(
        self, model: Sequential, prepared: PreparedData, started: SessionStarted, session: TrainingSession
    ) -> None:
        self.model = model
        self.prepared = prepared
        self.started = started
        self.session = session
        self.filters = Throttle(0.25) if started.first_conv else None
        self.maps = Throttle(0.25) if started.feature_layers and len(prepared.x_test) else None
        self.boundary = Throttle(0.1) if started.extent is not None else None

    def take(self, step: int, epoch: int, *, force: bool = False) -> Iterator[Any]:
        model, started = self.model, self.started
        if self.filters is not None and (force or self.filters.due()):
            found = self.filters.run(lambda: first_conv_filters(model))
            if found is not None:
                yield FilterSnapshot(step, found[0], found[1])
        if self.maps is not None and (force or self.maps.due()):
            sample = min(max(int(self.session.feature_sample), 0), len(self.prepared.x_test) - 1)
            maps = self.maps.run(lambda: feature_maps(model, self.prepared.x_test[sample]))
            yield FeatureMapSnapshot(step, sample, maps)
        if self.boundary is not None and started.extent is not None and (force or self.boundary.due()):
            extent = started.extent
            classes, confidence = self.boundary.run(
                lambda: boundary_grid(model, self.prepared.normalizer, extent)
            )
            yield BoundarySnapshot(step, epoch, extent, classes, confidence)


def _status(event: Any) -> str:
    if isinstance(event, Finished):
        return "finished"
    if isinstance(event, Diverged):
        return "diverged"
    return "stopped"


def _message(event: Any) -> str:
    if isinstance(event, Finished):
        accuracy = event.test_accuracy
        result = (
            f"test accuracy {accuracy:.1%}" if math.isfinite(accuracy) else f"test loss {event.test_loss:.4g}"
        )
        return f"Finished ({event.reason}) after {event.epochs} epochs, {event.step:,} iterations: {result}."
    if isinstance(event, Diverged):
        return event.message
    if isinstance(event, Stopped):
        return (
            f"Stopped at iteration {event.step:,} (epoch {event.epoch}); the run folder keeps what was done."
        )
    return "The run ended."
