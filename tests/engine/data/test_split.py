"""Stratified, seeded splits and subsets."""

from __future__ import annotations

import numpy as np
import pytest

from dllab.data import DatasetError, stratified_split, subset_indices


def test_stratified_split_keeps_class_proportions() -> None:
    y = np.repeat(np.arange(4), [100, 200, 50, 650])
    rng = np.random.default_rng(0)
    keep, held = stratified_split(y, 0.1, rng)
    assert np.bincount(y[held]).tolist() == [10, 20, 5, 65]
    assert np.bincount(y[keep]).tolist() == [90, 180, 45, 585]
    assert np.array_equal(np.sort(np.concatenate([keep, held])), np.arange(len(y)))
    assert np.all(np.diff(keep) > 0) and np.all(np.diff(held) > 0)


def test_split_is_seeded_and_random() -> None:
    y = np.arange(1000) % 10
    a = stratified_split(y, 0.2, np.random.default_rng(7))[1]
    b = stratified_split(y, 0.2, np.random.default_rng(7))[1]
    c = stratified_split(y, 0.2, np.random.default_rng(8))[1]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.max() > 900 and a.min() < 100  # drawn from everywhere, not the tail


def test_zero_fraction_and_regression_targets() -> None:
    keep, held = stratified_split(np.arange(10) % 2, 0.0, np.random.default_rng(0))
    assert len(held) == 0 and len(keep) == 10
    targets = np.linspace(0, 1, 50, dtype=np.float32)[:, None]
    keep, held = stratified_split(targets, 0.2, np.random.default_rng(0))
    assert len(held) == 10 and len(keep) == 40
    with pytest.raises(DatasetError, match="at least 0 and below 1"):
        stratified_split(targets, 1.0, np.random.default_rng(0))


def test_subsets() -> None:
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(subset_indices(1000, 300, "first", rng), np.arange(300))
    r = subset_indices(1000, 300, "random", rng)
    assert len(np.unique(r)) == 300 and np.all(np.diff(r) > 0) and r.max() > 500
    np.testing.assert_array_equal(r, subset_indices(1000, 300, "random", np.random.default_rng(0)))
    assert len(subset_indices(5, None, "first", rng)) == 5
    with pytest.raises(
        DatasetError, match="subset of 2000 samples was requested but the training set has 1000"
    ):
        subset_indices(1000, 2000, "first", rng)
    with pytest.raises(DatasetError, match="subset mode"):
        subset_indices(1000, 10, "last", rng)


def test_the_held_out_total_is_exact_whatever_the_class_sizes():
    # Per-class rounding alone would hold out 5999 of MNIST's 60000 training samples.
    y = np.repeat(np.arange(10), [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
    keep, held = stratified_split(y, 0.1, np.random.default_rng(0))
    assert (len(keep), len(held)) == (54000, 6000)
    assert np.all(np.abs(np.bincount(y[held]) - 0.1 * np.bincount(y)) < 1)


@pytest.mark.parametrize("size", [2.5, "10", True])
def test_a_subset_size_must_be_a_whole_number(size: object) -> None:
    with pytest.raises(DatasetError, match=r"a subset of .* samples was requested"):
        subset_indices(100, size, "first", np.random.default_rng(0))


@pytest.mark.parametrize("fraction", [float("nan"), "0.1", None])
def test_a_fraction_must_be_a_number_in_range(fraction: object) -> None:
    with pytest.raises(DatasetError, match="at least 0 and below 1"):
        stratified_split(np.arange(10) % 2, fraction, np.random.default_rng(0))
