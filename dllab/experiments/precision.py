"""One trained model evaluated in float64, float32 and float16: accuracy, time and memory (the book's section
8.3.4, "bit precision").

The book converts its DeepConvNet to float16 and finds the same 99.35 % accuracy on the MNIST test set: deep
learning does not need 64 or even 32 bits. Here the model is copied into each precision
(:func:`dllab.precision.at_precision`) and the same samples go through every copy. For each precision the
result gives

- accuracy and loss on the samples, and how many predictions differ from those of the first (widest) precision;
- the seconds the forward passes took (measured around them alone, one after another on this machine);
- parameter bytes: the weights as stored (8, 4 or 2 bytes a value);
- activation bytes: the most that one layer's input and output take together, as stored between layers, for
  one batch;
- peak bytes: the most memory numpy allocated during one batch's forward pass (:mod:`tracemalloc`), working
  copies inside the layers included (the blocks of patches a convolution gathers, and for float16 the float32
  values each layer computes in).

How float16 is computed is :data:`dllab.precision.FLOAT16_METHOD`: stored in float16, each layer's arithmetic in
float32. So float16 shows the accuracy of float16 storage and the activation bytes of float16 storage, while
its time and peak memory are those of float32 arithmetic plus the rounding (numpy's own float16 arithmetic,
without BLAS, is about ten times slower than float32).

>>> results = compare_precisions(model, x_test, y_test)                  # doctest: +SKIP
>>> print(precision_table(results))                                      # doctest: +SKIP
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from dllab.errors import SettingsError
from dllab.metrics import accuracy, predicted_classes
from dllab.model import Sequential
from dllab.precision import PRECISIONS, PrecisionModel, at_precision, precision_dtype
from dllab.text import format_bytes

#: Samples per forward pass unless asked otherwise.
BATCH_SIZE = 1000


@dataclass(frozen=True)
class PrecisionResult:
    """A model's evaluation in one precision.

    Attributes
    ----------
    precision : str
        ``"float64"``, ``"float32"`` or ``"float16"``.
    accuracy, loss : float
        On the samples (accuracy NaN when the task is not classification).
    changed : int
        Predicted classes that differ from those of the first precision evaluated.
    samples : int
    seconds : float
        Time of the forward passes over all samples.
    parameter_bytes : int
        The weights as stored.
    activation_bytes : int
        The largest input plus output of one layer as stored, for one batch of ``batch_size`` samples.
    peak_bytes : int
        The most memory numpy allocated during the forward pass of one such batch.
    batch_size : int
    """

    precision: str
    accuracy: float
    loss: float
    changed: int
    samples: int
    seconds: float
    parameter_bytes: int
    activation_bytes: int
    peak_bytes: int
    batch_size: int


@dataclass(frozen=True)
class PrecisionProgress:
    """How far the evaluation is: ``done`` of ``total`` forward passes over all precisions."""

    precision: str
    done: int
    total: int


def _memory(model: PrecisionModel, x: np.ndarray) -> tuple[int, int]:
    """For one forward pass of ``x``: the largest input plus output of one layer as stored between layers, and
    the most memory numpy allocated (beyond what was held before, :mod:`tracemalloc`)."""
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        largest, previous = 0, x.size * model.storage_dtype.itemsize  # the input, as stored
        for out in model.layer_outputs(x):
            largest = max(largest, previous + out.nbytes)
            previous = out.nbytes
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if started:
            tracemalloc.stop()
    return largest, max(peak - before, 0)


def precision_steps(
    model: Sequential,
    x: np.ndarray,
    y: np.ndarray,
    precisions: Sequence[str] = PRECISIONS,
    *,
    batch_size: int = BATCH_SIZE,
) -> Iterator[PrecisionProgress | PrecisionResult]:
    """Evaluate ``model`` in each precision, yielding progress after every batch and each result when done.

    Parameters
    ----------
    model
        A trained model (any precision; it is copied, never changed).
    x, y
        Samples as the network takes them (preprocessed, in the network's input shape) and their labels.
    precisions
        Names from :data:`dllab.precision.PRECISIONS`, each once; ``changed`` counts against the first.
    batch_size
        Samples per forward pass; the memory figures are for one batch of this size.

    Yields
    ------
    PrecisionProgress or PrecisionResult
        A :class:`PrecisionProgress` after every forward pass, a :class:`PrecisionResult` after each
        precision's last one (so a caller may stop between batches).

    Raises
    ------
    SettingsError
        For an unknown or repeated precision, a batch size below 1, or no samples (at once, before the first
        step).
    """
    names = [precision_dtype(p).name for p in precisions]
    if not names or len(set(names)) != len(names):
        raise SettingsError(f"name each precision once, got {', '.join(map(str, precisions)) or 'none'}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise SettingsError(f"the batch size must be a whole number of at least 1, got {batch_size!r}")
    if len(x) == 0 or len(x) != len(y):
        raise SettingsError(f"evaluating precisions needs samples with labels, got {len(x)} and {len(y)}")
    return _steps(model, x, y, names, batch_size)


def _steps(
    model: Sequential, x: np.ndarray, y: np.ndarray, names: list[str], batch_size: int
) -> Iterator[PrecisionProgress | PrecisionResult]:
    starts = range(0, len(x), batch_size)
    total, done = len(names) * len(starts), 0
    reference: np.ndarray | None = None
    for name in names:
        copy = at_precision(model, name)
        scores, seconds = [], 0.0
        for start in starts:
            batch = x[start : start + batch_size]
            began = time.perf_counter()
            scores.append(copy.forward(batch))
            seconds += time.perf_counter() - began
            done += 1
            yield PrecisionProgress(name, done, total)
        out = np.concatenate(scores)
        with np.errstate(all="ignore"):  # a precision that overflows gives an infinite loss, not a warning
            loss = float(copy.loss.forward(out, y))
            outputs = copy.loss.output(out)
        predicted = predicted_classes(outputs)
        reference = predicted if reference is None else reference
        activation_bytes, peak_bytes = _memory(copy, x[:batch_size])
        yield PrecisionResult(
            precision=name,
            accuracy=accuracy(outputs, y) if copy.loss.name != "mse" else float("nan"),
            loss=loss,
            changed=int(np.count_nonzero(predicted != reference)),
            samples=len(x),
            seconds=seconds,
            parameter_bytes=copy.parameter_bytes,
            activation_bytes=activation_bytes,
            peak_bytes=peak_bytes,
            batch_size=min(batch_size, len(x)),
        )


def compare_precisions(
    model: Sequential,
    x: np.ndarray,
    y: np.ndarray,
    precisions: Sequence[str] = PRECISIONS,
    *,
    batch_size: int = BATCH_SIZE,
) -> list[PrecisionResult]:
    """:func:`precision_steps` run to the end: one :class:`PrecisionResult` per precision, in order."""
    return [
        step
        for step in precision_steps(model, x, y, precisions, batch_size=batch_size)
        if isinstance(step, PrecisionResult)
    ]


#: What the columns of :func:`precision_rows` mean.
PRECISION_COLUMNS = (
    "Changed: predictions that differ from the first precision's. Time: the forward passes over all samples. "
    "Parameters: the weights as stored. Activations: the largest input plus output of a layer as stored, for one "
    "batch. Peak: the most memory numpy allocated during one batch's forward pass."
)


def seconds_text(seconds: float) -> str:
    """A short time: milliseconds under a second (``"84 ms"``), else seconds (``"2.31 s"``)."""
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def precision_rows(results: Sequence[PrecisionResult]) -> list[tuple[str, ...]]:
    """The results as text cells: a header row, then one row per precision.

    The time is also given relative to the first precision's (``"0.27x"``).
    """
    first = results[0].precision if results else ""
    rows = [("precision", "accuracy", "changed", "time", f"vs {first}", "parameters", "activations", "peak")]
    for r in results:
        base = results[0].seconds
        rows.append(
            (
                r.precision,
                f"{r.accuracy:.2%}" if np.isfinite(r.accuracy) else "-",
                f"{r.changed:,}",
                seconds_text(r.seconds),
                f"{r.seconds / base:.2f}x" if base > 0 else "-",
                format_bytes(r.parameter_bytes),
                format_bytes(r.activation_bytes),
                format_bytes(r.peak_bytes),
            )
        )
    return rows
