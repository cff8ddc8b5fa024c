"""Bounded storage for what the live views plot: growing curves and a history of snapshots.

A run of 100 000 iterations must not grow the plots without bound. :class:`DecimatingSeries` keeps at most
``capacity`` points: when it is full it drops every other point and from then on keeps only every second (then
fourth, ...) new point, so old and new parts of a curve always have the same spacing. :class:`History` does the
same for snapshots (layer statistics) behind a "look back in time" slider, always keeping the newest one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Generic, TypeVar

import numpy as np

T = TypeVar("T")

#: Points per curve at the most.
DEFAULT_CAPACITY = 20_000


class DecimatingSeries:
    """x values and one or more y columns of a growing curve, in at most ``capacity`` points.

    Parameters
    ----------
    columns
        Number of y columns.
    capacity
        Points kept at the most (an even number of at least 4).
    """

    def __init__(self, columns: int = 1, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 4 or capacity % 2:
            raise ValueError(f"capacity must be an even number of at least 4, got {capacity}")
        self.capacity = capacity
        self._x = np.empty(capacity, dtype=np.float64)
        self._y = np.empty((capacity, columns), dtype=np.float64)
        self._size = 0
        self._seen = 0  # points offered so far
        #: Only points whose index (0-based, among all offered) is a multiple of ``stride`` are kept.
        self.stride = 1

    def __len__(self) -> int:
        return self._size

    @property
    def columns(self) -> int:
        """Number of y columns."""
        return self._y.shape[1]

    @property
    def seen(self) -> int:
        """Points offered so far, kept or not."""
        return self._seen

    @property
    def x(self) -> np.ndarray:
        """The kept x values (a view: copy it to keep it)."""
        return self._x[: self._size]

    @property
    def y(self) -> np.ndarray:
        """The kept y values, ``(points, columns)`` (a view)."""
        return self._y[: self._size]

    def column(self, index: int) -> np.ndarray:
        """One y column of the kept points (a view)."""
        return self._y[: self._size, index]

    def clear(self) -> None:
        """Forget every point."""
        self._size = self._seen = 0
        self.stride = 1

    def append(self, x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> None:
        """Offer points: ``x`` of shape ``(n,)`` and ``y`` of shape ``(n,)`` or ``(n, columns)``."""
        x = np.asarray(x, dtype=np.float64).reshape(-1)
        y = np.asarray(y, dtype=np.float64).reshape(len(x), -1)
        if y.shape[1] != self.columns:
            raise ValueError(f"expected {self.columns} y columns, got {y.shape[1]}")
        # Invariant: the buffer holds, in order, exactly the points whose index is a multiple of the stride.
        index = self._seen + np.arange(len(x))
        self._seen += len(x)
        keep = index % self.stride == 0
        x, y, index = x[keep], y[keep], index[keep]
        while self._size + len(x) > self.capacity:
            self._decimate()
            keep = index % self.stride == 0
            x, y, index = x[keep], y[keep], index[keep]
        self._x[self._size : self._size + len(x)] = x
        self._y[self._size : self._size + len(x)] = y
        self._size += len(x)

    def _decimate(self) -> None:
        """Keep every other point (the multiples of twice the stride) and double the stride."""
        half = (self._size + 1) // 2
        self._x[:half] = self._x[: self._size : 2]
        self._y[:half] = self._y[: self._size : 2]
        self._size = half
        self.stride *= 2


class History(Generic[T]):
    """Snapshots over a run in bounded memory: every ``stride``-th one, at most ``capacity``, and the newest.

    When more than ``capacity`` are kept, every other one is dropped and the stride doubles, as in
    :class:`DecimatingSeries`; the newest snapshot is always the last item, so a view can follow the run live.
    """

    def __init__(self, capacity: int = 240) -> None:
        if capacity < 4:
            raise ValueError(f"capacity must be at least 4, got {capacity}")
        self.capacity = capacity
        self.stride = 1
        self._kept: list[T] = []
        self._latest: T | None = None
        self._latest_kept = False
        self._offered = 0

    @property
    def _items(self) -> list[T]:
        if self._latest is None or self._latest_kept:
            return self._kept
        return [*self._kept, self._latest]

    def __len__(self) -> int:
        return len(self._kept) + (0 if self._latest is None or self._latest_kept else 1)

    def __getitem__(self, index: int) -> T:
        return self._items[index]

    def __iter__(self) -> Iterator[T]:
        return iter(self._items)

    @property
    def latest(self) -> T | None:
        """The newest snapshot, or None."""
        return self._latest

    def clear(self) -> None:
        """Forget every snapshot."""
        self._kept.clear()
        self._latest = None
        self._latest_kept = False
        self.stride = 1
        self._offered = 0

    def append(self, item: T) -> None:
        """Add the newest snapshot."""
        self._latest = item
        self._latest_kept = self._offered % self.stride == 0
        if self._latest_kept:
            self._kept.append(item)
        self._offered += 1
        if len(self._kept) > self.capacity:
            self._kept = self._kept[::2]
            self.stride *= 2
            self._latest_kept = self._kept[-1] is item
