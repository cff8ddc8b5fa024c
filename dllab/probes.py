"""Probes of a live model: what a person sees of a network while it trains, and the one time budget they share.

- :class:`LayerProbe`: activation histograms on a fixed probe batch, weight and gradient histograms and norms,
  dead and saturated units, as the trainer's :class:`LayerStatistics` events.
- Snapshots for the desktop app's views: the first convolution's filters (:func:`first_conv_filters`), the
  feature maps of one sample (:func:`feature_maps`), the decision boundary over the plane
  (:func:`boundary_grid`).
- What they and the untrained-network experiment (:mod:`dllab.experiments.distributions`, the book's figures 6-10 to
  6-14) share: every layer's outputs (:func:`layer_outputs`) and a histogram with the mean and spread of the
  finite values (:func:`summarize`). Values that are NaN or infinite never raise: they are counted.
- :class:`ProbeBudget`: probes take at most a share of the training time, whoever runs them.

Every array a probe returns is a copy: nothing here hands out a live array of the model.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from dllab.data import Normalizer
from dllab.layers import Layer
from dllab.metrics import predicted_classes
from dllab.model import Sequential

T = TypeVar("T")

#: The range of a bounded activation's outputs: the fixed histogram range of its layer.
OUTPUT_RANGES: dict[str, tuple[float, float]] = {
    "Sigmoid": (0.0, 1.0),
    "Tanh": (-1.0, 1.0),
    "Step": (0.0, 1.0),
}
#: Activations whose units can die (never fire), and the flat tails of the saturating ones.
_RELU_LIKE = ("ReLU", "Step")
_SATURATED = {"Sigmoid": (0.01, 0.99), "Tanh": (-0.99, 0.99)}


# --- the budget -------------------------------------------------------------------------------------------


class ProbeBudget:
    """Probes of a run take at most ``share`` of its training time, or :attr:`ALLOWANCE_S` in all if that is
    more: the one rule for every probe of a run.

    The trainer counts each batch's time (:meth:`count_training`); a probe runs when :meth:`allows` says so,
    through :meth:`spend`, which counts its time. A probe that must come (the last statistics of a run, the
    snapshots before the first batch) is spent without asking; later ones then wait until training has caught
    up.

    Parameters
    ----------
    share
        The largest share of the training time that probes take, in (0, 1].
    clock
        Seconds, for timing probes and batches (:func:`time.perf_counter`; a test gives a fake one).

    Attributes
    ----------
    trained, spent : float
        Seconds of training, and of probes, so far.
    """

    #: Seconds of probes that a run may take whatever its length: a short run shows how it went too (the spiral
    #: example, half a second of training, had its statistics taken once, at its end, when the first snapshots
    #: of its decision boundary had used its share).
    ALLOWANCE_S = 0.1

    def __init__(self, share: float, clock: Callable[[], float] = time.perf_counter) -> None:
        self.share = share
        self.clock = clock
        self.trained = 0.0
        self.spent = 0.0

    def count_training(self, seconds: float) -> None:
        """Add ``seconds`` of training."""
        self.trained += seconds

    def allows(self) -> bool:
        """Whether another probe may run now: probes so far took at most ``share`` of the training time (or
        the allowance)."""
        return self.spent <= max(self.share * self.trained, self.ALLOWANCE_S)

    def spend(self, probe: Callable[[], T]) -> T:
        """Run ``probe`` now, counting its time; returns what it returns."""
        started = self.clock()
        try:
            return probe()
        finally:
            self.spent += self.clock() - started


# --- values -------------------------------------------------------------------------------------------------


#: Values a histogram bins at a time: in parts that stay in the processor's caches, the 1.7 million outputs of
#: SimpleConvNet's convolution on the probe batch are counted in 5.1 ms instead of 6.4 (one core).
_HISTOGRAM_PART = 1 << 16


def histogram(values: np.ndarray, lo: float, hi: float, bins: int) -> np.ndarray:
    """Counts of ``values`` in ``bins`` equal bins over [lo, hi]; values outside go to the end bins, NaN and
    infinities to none (:func:`nonfinite_count` reports them)."""
    flat = np.ravel(values, order="K")
    counts = np.zeros(bins, dtype=np.intp)
    scale = bins / (hi - lo)
    for start in range(0, flat.size, _HISTOGRAM_PART):
        part = flat[start : start + _HISTOGRAM_PART]
        with np.errstate(all="ignore"):
            index = np.subtract(part, lo, dtype=np.result_type(part, np.float32))
            index *= scale
            # A NaN or an infinity makes the sum one (so do finite values whose sum overflows: counted then).
            every_value_finite = math.isfinite(part.sum())
        if not every_value_finite:
            index = index[np.isfinite(part)]
        np.clip(index, 0, bins - 1, out=index)
        counts += np.bincount(index.astype(np.intp), minlength=bins)
    return counts


def nonfinite_count(values: np.ndarray) -> int:
    """How many of ``values`` are NaN or infinite."""
    return int(values.size - np.count_nonzero(np.isfinite(values)))


@dataclass(frozen=True)
class Summary:
    """A histogram of some values with their mean and spread (see :func:`summarize`)."""

    #: Values per bin (values outside the edges in the end bins).
    counts: np.ndarray
    #: Of the finite values; NaN when there are none.
    mean: float
    std: float
    #: Values that are NaN or infinite, in no bin.
    nonfinite: int


def summarize(values: np.ndarray, edges: np.ndarray) -> Summary:
    """The histogram of ``values`` over equal bins between ``edges[0]`` and ``edges[-1]``, the mean and standard
    deviation of their finite ones, and how many are not finite."""
    finite = values if np.isfinite(values).all() else values[np.isfinite(values)]
    with np.errstate(over="ignore", invalid="ignore"):  # finite values whose squares overflow
        mean = float(finite.mean()) if finite.size else float("nan")
        std = float(finite.std()) if finite.size else float("nan")
    counts = histogram(finite, float(edges[0]), float(edges[-1]), len(edges) - 1)
    return Summary(counts, mean, std, int(values.size - finite.size))


def layer_outputs(model: Sequential, x: np.ndarray) -> list[np.ndarray]:
    """Every layer's output for ``x`` in inference mode (outputs that overflow stay, as infinities or NaN)."""
    with np.errstate(all="ignore"):
        return model.activations(x)


# --- layer statistics -------------------------------------------------------------------------------------------


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
    #: Of the finite outputs.
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


class LayerProbe:
    """Activation, weight and gradient statistics of a live model, the activations on a fixed probe batch.

    The histogram edges of a layer's outputs and of a parameter are fixed the first time they are seen, so the
    histograms of one run line up: a bounded activation's output range (:data:`OUTPUT_RANGES`), else the range
    of the first values with a quarter of it added on each side (from 0 for values that are never negative).
    Gradient histograms are symmetric around 0 and as wide as the largest gradient of the moment.

    Parameters
    ----------
    model
        The live model (read, never changed).
    batch
        The probe batch.
    bins
        Bins of every histogram.
    """

    def __init__(self, model: Sequential, batch: np.ndarray, bins: int) -> None:
        self.model = model
        self.batch = batch
        self.bins = bins
        self._edges: dict[str, np.ndarray] = {}

    def __call__(
        self, step: int, epoch: int, grads: dict[str, np.ndarray], before: dict[str, np.ndarray]
    ) -> LayerStatistics:
        """The statistics now, after ``step``.

        Parameters
        ----------
        step, epoch
            Where the run is.
        grads
            The last batch's gradients (a parameter without one counts as zero).
        before
            Every parameter before the last update (for the update's size).
        """
        outputs = layer_outputs(self.model, self.batch)
        with np.errstate(all="ignore"):  # a run on its way to diverging still gets its statistics
            layers = tuple(
                self._layer(layer, out, grads, before)
                for layer, out in zip(self.model.layers, outputs, strict=True)
            )
        return LayerStatistics(step, epoch, layers)

    def _layer(
        self, layer: Layer, out: np.ndarray, grads: dict[str, np.ndarray], before: dict[str, np.ndarray]
    ) -> LayerStats:
        values = np.ravel(out, order="K")  # a view in the output's memory order (Conv2D's is batch last)
        edges = self._fixed_edges(f"act:{layer.name}", values, OUTPUT_RANGES.get(layer.type_name))
        summary = summarize(values, edges)
        dead = saturated = float("nan")
        if layer.type_name in _RELU_LIKE:
            units = out.reshape(len(out), out.shape[1], -1) if out.ndim == 4 else out[:, :, None]
            dead = float(np.mean(~np.any(units > 0, axis=(0, 2))))
        elif layer.type_name in _SATURATED:
            lo, hi = _SATURATED[layer.type_name]
            saturated = float(np.mean((values < lo) | (values > hi)))
        params = tuple(
            self._param(f"{layer.name}.{name}", value, grads.get(f"{layer.name}.{name}"), before)
            for name, value in layer.params.items()
        )
        return LayerStats(
            layer.name,
            layer.type_name,
            summary.counts,
            edges.copy(),
            summary.mean,
            summary.std,
            dead,
            saturated,
            params,
            summary.nonfinite,
        )

    def _param(
        self, key: str, value: np.ndarray, grad: np.ndarray | None, before: dict[str, np.ndarray]
    ) -> ParamStats:
        previous = before[key]
        w = value.reshape(-1)
        g = np.zeros_like(w) if grad is None else grad.reshape(-1)
        w_edges = self._fixed_edges(f"w:{key}", w, None)
        finite_g = np.abs(g[np.isfinite(g)])
        g_max = float(finite_g.max()) + 1e-12 if finite_g.size else 1e-12
        g_edges = np.linspace(-g_max, g_max, self.bins + 1)
        update = float(np.linalg.norm(w - previous.reshape(-1)))
        previous_norm = float(np.linalg.norm(previous))
        return ParamStats(
            key,
            float(np.linalg.norm(w)),
            float(np.linalg.norm(g)),
            update / previous_norm if previous_norm > 0 else float("nan"),
            histogram(w, w_edges[0], w_edges[-1], self.bins),
            w_edges.copy(),
            histogram(g, -g_max, g_max, self.bins),
            g_edges,
            nonfinite_count(w) + nonfinite_count(g),
        )

    def _fixed_edges(self, key: str, values: np.ndarray, bounds: tuple[float, float] | None) -> np.ndarray:
        edges = self._edges.get(key)
        if edges is None:
            if bounds is None:
                finite = values[np.isfinite(values)]
                lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (-1.0, 1.0)
                span = max(hi - lo, 1e-6)
                lo, hi = lo - 0.25 * span, hi + 0.25 * span
                if values.min() >= 0:
                    lo = 0.0
                bounds = lo, hi
            edges = self._edges[key] = np.linspace(*bounds, self.bins + 1)
        return edges


# --- snapshots for the views ------------------------------------------------------------------------------------


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
    outputs = layer_outputs(model, sample[None])
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
    model: Sequential, normalizer: Normalizer, extent: tuple[float, float, float, float], resolution: int
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
