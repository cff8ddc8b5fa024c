"""Mini-batches: a fresh shuffle every epoch from the run's Generator, optionally dropping the last one."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from dllab.data.dataset import DatasetError


def num_batches(n: int, batch_size: int, drop_last: bool = False) -> int:
    """Number of mini-batches `iterate_batches` yields for ``n`` samples.

    Parameters
    ----------
    n : int
        Number of samples.
    batch_size : int
        Samples per batch (at least 1).
    drop_last : bool
        Leave out the last batch when it is smaller than ``batch_size``.

    Returns
    -------
    int
    """
    if batch_size < 1:
        raise DatasetError(f"the batch size must be at least 1, got {batch_size}")
    return n // batch_size if drop_last else -(-n // batch_size)


def iterate_batches(
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    rng: np.random.Generator | None = None,
    *,
    shuffle: bool = True,
    drop_last: bool = False,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(x_batch, y_batch)`` covering the samples once (one epoch).

    Parameters
    ----------
    x, y : numpy.ndarray
        Samples and labels, the same length along axis 0.
    batch_size : int
        Samples per batch.
    rng : numpy.random.Generator, optional
        Draws the epoch's order; required when ``shuffle`` is True.
    shuffle : bool
        Visit the samples in a new random order (one permutation per call); otherwise in order.
    drop_last : bool
        Skip a final batch smaller than ``batch_size``.

    Yields
    ------
    x_batch, y_batch : numpy.ndarray
        Copies when shuffled, views of ``x`` and ``y`` in order otherwise.
    """
    n = len(x)
    if len(y) != n:
        raise DatasetError(f"{n} samples but {len(y)} labels")
    count = num_batches(n, batch_size, drop_last)
    if shuffle:
        if rng is None:
            raise DatasetError("shuffled batches need a numpy.random.Generator")
        order = rng.permutation(n)
        for b in range(count):
            index = order[b * batch_size : (b + 1) * batch_size]
            yield x[index], y[index]
    else:
        for b in range(count):
            yield x[b * batch_size : (b + 1) * batch_size], y[b * batch_size : (b + 1) * batch_size]
