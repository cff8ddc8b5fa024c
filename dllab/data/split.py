"""Seeded index selection: stratified splits and subsets of a training set."""

from __future__ import annotations

import numpy as np

from dllab.data.dataset import DatasetError
from dllab.errors import quote

SUBSET_MODES = ("first", "random")


def stratified_split(
    y: np.ndarray, fraction: float, rng: np.random.Generator, *, stratify: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Split sample indices into a kept part and a held-out part of about ``fraction`` of the samples.

    Parameters
    ----------
    y : numpy.ndarray
        Labels, class indices ``(N,)`` (stratified) or regression targets ``(N, ...)`` (plain random split).
    fraction : float
        Share of samples held out, in ``[0, 1)``: exactly ``round(fraction * N)`` samples, each class giving
        its share (rounded by largest remainder).
    rng : numpy.random.Generator
        Source of randomness; the same state gives the same split.
    stratify : bool
        Keep the class proportions in both parts (ignored for regression targets).

    Returns
    -------
    keep, held_out : numpy.ndarray
        Sorted int64 index arrays that partition ``range(len(y))``.
    """
    if not (isinstance(fraction, int | float) and 0.0 <= fraction < 1.0):
        raise DatasetError(f"the validation fraction must be at least 0 and below 1, got {quote(fraction)}")
    n = len(y)
    perm = rng.permutation(n)
    if stratify and y.ndim == 1 and np.issubdtype(y.dtype, np.integer) and n:
        order = perm[np.argsort(y[perm], kind="stable")]
        classes, starts, counts = np.unique(y[order], return_index=True, return_counts=True)
        # Largest remainders: every class gives its share, and the total is exactly round(n * fraction).
        exact = counts * fraction
        take = np.floor(exact).astype(np.int64)
        extra = round(n * fraction) - int(take.sum())
        take[np.argsort(-(exact - take), kind="stable")[:extra]] += 1
        slot = np.searchsorted(classes, y[order])
        rank = np.arange(n) - starts[slot]
        held = rank < take[slot]
        held_out, keep = order[held], order[~held]
    else:
        k = round(n * fraction)
        held_out, keep = perm[:k], perm[k:]
    return np.sort(keep).astype(np.int64), np.sort(held_out).astype(np.int64)


def subset_indices(n: int, size: int | None, mode: str, rng: np.random.Generator) -> np.ndarray:
    """Indices of a subset of ``n`` samples: the first ``size`` or a seeded random ``size``.

    Parameters
    ----------
    n : int
        Number of samples available.
    size : int or None
        Subset size; None keeps all samples.
    mode : {"first", "random"}
        ``"first"`` takes ``range(size)`` (the book's ``x_train[:300]``); ``"random"`` draws ``size``
        distinct samples, returned in their original order.
    rng : numpy.random.Generator
        Used by ``"random"``.

    Returns
    -------
    numpy.ndarray
        Sorted int64 indices.
    """
    if mode not in SUBSET_MODES:
        raise DatasetError(f"subset mode must be one of {SUBSET_MODES}, not {mode!r}")
    if size is None:
        return np.arange(n, dtype=np.int64)
    if isinstance(size, bool) or not isinstance(size, int | np.integer) or not 1 <= size <= n:
        raise DatasetError(f"a subset of {quote(size)} samples was requested but the training set has {n}")
    if mode == "first":
        return np.arange(size, dtype=np.int64)
    return np.sort(rng.choice(n, size=size, replace=False)).astype(np.int64)
