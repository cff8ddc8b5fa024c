"""Bounded buffers of the live views: decimating curves and the history of snapshots."""

from __future__ import annotations

import numpy as np
import pytest

from ui.common.series import DecimatingSeries, History


def test_a_series_of_100_000_points_stays_bounded_and_evenly_spaced():
    series = DecimatingSeries(columns=2, capacity=2_000)
    steps = np.arange(1, 100_001)
    for start in range(0, len(steps), 337):  # uneven batches, as the worker delivers them
        chunk = steps[start : start + 337]
        series.append(chunk, np.column_stack([chunk * 2.0, -chunk]))
    assert series.seen == 100_000
    assert len(series) <= 2_000 and series.stride == 64
    assert np.all(np.diff(series.x) == series.stride)  # old and new parts have the same spacing
    assert series.x[0] == 1 and series.x[-1] > 100_000 - series.stride
    np.testing.assert_array_equal(series.column(0), series.x * 2)
    np.testing.assert_array_equal(series.column(1), -series.x)
    series.clear()
    assert len(series) == 0 and series.stride == 1


def test_a_single_large_append_is_decimated_too():
    series = DecimatingSeries(capacity=100)
    series.append(np.arange(1000), np.arange(1000))
    assert len(series) <= 100 and np.all(series.x % series.stride == 0)
    with pytest.raises(ValueError, match="even number"):
        DecimatingSeries(capacity=5)
    with pytest.raises(ValueError, match="columns"):
        series.append([1.0], [[1.0, 2.0]])


def test_history_keeps_the_newest_and_a_bounded_number_of_older_snapshots():
    history: History[int] = History(capacity=16)
    for i in range(1000):
        history.append(i)
        assert history[len(history) - 1] == i == history.latest
    items = list(history)
    assert len(items) <= 17 and items[0] == 0 and items == sorted(items)
    history.clear()
    assert len(history) == 0 and history.latest is None
