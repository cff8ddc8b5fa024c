"""What a comparison's runs produced: per-step losses, per-epoch metrics, the test set per epoch.

:class:`VariantResult` is one run's record, filled from its trainer events (:meth:`VariantResult.record`) by
:class:`dllab.experiments.compare.Comparison`, by the GUI's views, and read by the figures
(:mod:`dllab.experiments.comparison_figures`, :func:`dllab.experiments.search.render_search`). It lives apart from
:mod:`dllab.experiments.compare`, which trains the runs and draws their figures, so that the figures need not import the
module that uses them. :mod:`dllab.experiments.compare` re-exports every name of this module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dllab.runs import METRIC_COLUMNS
from dllab.trainer import BatchEnded, Diverged, EpochEnded, Event, Finished, RunStarted, Stopped

#: The per-epoch test columns of a comparison that measures the test set after every epoch (for display).
TEST_COLUMNS = ("test_loss", "test_accuracy")


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


def smoothing_window(points: int) -> int:
    """The points :func:`smooth` averages by default for a curve of ``points``: about 1/50, between 1 and 25."""
    return int(np.clip(points // 50, 1, 25))


def smooth(values: np.ndarray, window: int | None = None) -> np.ndarray:
    """Centred moving average of a curve, the same length (shorter windows at the ends).

    The loss curves of Compare and of the Curves view are smoothed by it, so a run looks the same in both.

    Parameters
    ----------
    values
        The curve.
    window
        Points averaged; by default :func:`smoothing_window` of the curve's length. Non-finite values are left
        out of the averages.

    Returns
    -------
    numpy.ndarray
    """
    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    if window is None:
        window = smoothing_window(n)
    if n == 0 or window <= 1:
        return values.copy()
    # Each window summed on its own, offset by offset: a running sum (cumsum) would subtract huge values of
    # a diverging run from each other, and lose every later point to rounding.
    finite = np.isfinite(values)
    filled = np.where(finite, values, 0.0)
    sums, count = np.zeros(n), np.zeros(n, dtype=np.int64)
    half = window // 2
    with np.errstate(over="ignore", invalid="ignore"):
        for offset in range(-half, half + 1):
            lo, hi = max(0, -offset), min(n, n - offset)
            sums[lo:hi] += filled[lo + offset : hi + offset]
            count[lo:hi] += finite[lo + offset : hi + offset]
        return np.where(count > 0, sums / np.maximum(count, 1), np.nan)
