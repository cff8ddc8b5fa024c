"""Mini-batches: every sample once per epoch, a new order each epoch from the Generator, drop_last."""

from __future__ import annotations

import numpy as np
import pytest

from dllab.data import DatasetError, iterate_batches, num_batches


def test_num_batches() -> None:
    assert num_batches(100, 10) == 10 and num_batches(101, 10) == 11
    assert num_batches(101, 10, drop_last=True) == 10
    assert num_batches(5, 10, True) == 0 and num_batches(0, 10) == 0
    with pytest.raises(DatasetError, match="batch size must be at least 1"):
        num_batches(10, 0)


def test_each_epoch_visits_every_sample_once_in_a_new_order() -> None:
    x = np.arange(103, dtype=np.float32)[:, None] * np.ones((1, 3), np.float32)
    y = np.arange(103)
    rng = np.random.default_rng(0)
    orders = []
    for _ in range(2):
        batches = list(iterate_batches(x, y, 10, rng))
        assert [len(b[1]) for b in batches] == [10] * 10 + [3]
        for xb, yb in batches:
            np.testing.assert_array_equal(xb[:, 0], yb)  # samples stay with their labels
        order = np.concatenate([yb for _, yb in batches])
        assert sorted(order.tolist()) == list(range(103))
        orders.append(order)
    assert not np.array_equal(orders[0], orders[1])
    assert not np.array_equal(orders[0], np.arange(103))
    again = np.concatenate([yb for _, yb in iterate_batches(x, y, 10, np.random.default_rng(0))])
    np.testing.assert_array_equal(again, orders[0])  # reproducible from the seed


def test_drop_last_and_no_shuffle() -> None:
    x, y = np.arange(25)[:, None], np.arange(25)
    dropped = list(iterate_batches(x, y, 10, np.random.default_rng(1), drop_last=True))
    assert [len(yb) for _, yb in dropped] == [10, 10]
    ordered = list(iterate_batches(x, y, 10, shuffle=False))
    np.testing.assert_array_equal(np.concatenate([yb for _, yb in ordered]), np.arange(25))
    assert len(list(iterate_batches(x, y, 100, np.random.default_rng(1), drop_last=True))) == 0


def test_errors() -> None:
    with pytest.raises(DatasetError, match="3 samples but 2 labels"):
        list(iterate_batches(np.zeros((3, 1)), np.zeros(2), 2, np.random.default_rng(0)))
    with pytest.raises(DatasetError, match=r"need a numpy\.random\.Generator"):
        list(iterate_batches(np.zeros((3, 1)), np.zeros(3), 2))
