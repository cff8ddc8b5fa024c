"""The built-in 2D sets: shapes, balance, seeds, noise, and the geometry each one promises."""

from __future__ import annotations

import numpy as np
import pytest

from dllab.data import DatasetError, load_dataset, make_toy
from dllab.data.toy import TOY_SETS, blobs, circles, moons, spiral, xor

CLASSIFICATION = ["spiral", "moons", "circles", "xor", "blobs"]


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_classification_sets(name: str) -> None:
    ds = load_dataset(name, n_samples=400, seed=3)
    assert ds.task == "classification"
    assert ds.x_train.dtype == np.float32 and ds.x_train.shape[1:] == (2,)
    assert len(ds.x_train) + len(ds.x_test) == 400
    assert len(ds.x_test) == pytest.approx(80, abs=3)
    assert ds.input_shape == (2,)
    counts = np.bincount(np.concatenate([ds.y_train, ds.y_test]), minlength=ds.num_classes)
    assert counts.max() - counts.min() <= 1  # balanced
    assert len(ds.class_names) == ds.num_classes == (TOY_SETS[name].n_classes or 2)
    assert np.abs(ds.x_train).max() < 2.0


@pytest.mark.parametrize("name", [*CLASSIFICATION, "regression"])
def test_seeded(name: str) -> None:
    a, b, c = (load_dataset(name, seed=s) for s in (1, 1, 2))
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.x_train, c.x_train)


def test_regression_set() -> None:
    ds = load_dataset("regression", n_samples=300, noise=0.0)
    assert ds.task == "regression" and ds.num_classes == 0 and ds.num_outputs == 1
    assert ds.y_train.shape == (240, 1) and ds.y_train.dtype == np.float32
    x = ds.x_train
    np.testing.assert_allclose(
        ds.y_train[:, 0], np.sin(np.pi * x[:, 0]) * np.cos(np.pi * x[:, 1] / 2), atol=1e-6
    )
    noisy = load_dataset("regression", n_samples=2000, noise=0.1)
    residual = noisy.y_train[:, 0] - np.sin(np.pi * noisy.x_train[:, 0]) * np.cos(
        np.pi * noisy.x_train[:, 1] / 2
    )
    assert residual.std() == pytest.approx(0.1, rel=0.1)


def test_noise_free_geometry() -> None:
    rng = np.random.default_rng(0)
    x, y = circles(500, 0.0, rng)
    r = np.hypot(x[:, 0], x[:, 1])
    assert r[y == 1].max() <= 0.5 + 1e-6 and r[y == 0].min() >= 0.7 - 1e-6
    x, y = xor(500, 0.0, rng)
    np.testing.assert_array_equal(y, (x[:, 0] * x[:, 1] < 0).astype(np.int64))
    assert np.abs(x).min() > 0.04  # the gap along the axes
    x, y = spiral(600, 0.0, rng, n_classes=3)
    radius, angle = np.hypot(x[:, 0], x[:, 1]), np.arctan2(x[:, 1], x[:, 0])
    # each arm is the curve angle = 2π (r + k/3): the residual angle is a multiple of 2π
    phase = (angle - 2 * np.pi * (radius + y / 3)) / (2 * np.pi)
    np.testing.assert_allclose(phase, np.round(phase), atol=1e-4)
    x, y = moons(400, 0.0, rng)
    upper, lower = x[y == 0] + [0.45, 0.225], x[y == 1] + [0.45, 0.225]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 0.9, atol=1e-5)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 0.9, lower[:, 1] - 0.45), 0.9, atol=1e-5)


def test_noise_spreads_points() -> None:
    rng = np.random.default_rng(0)
    x, y = blobs(3000, 0.2, rng, n_classes=4)
    assert np.bincount(y).tolist() == [750] * 4
    for k in range(4):
        assert x[y == k].std(axis=0) == pytest.approx([0.2, 0.2], rel=0.1)
    tight, _ = circles(1000, 0.0, np.random.default_rng(1))
    loose, _ = circles(1000, 0.3, np.random.default_rng(1))
    assert np.abs(loose - tight).mean() > 0.15


def test_blobs_are_separable_with_small_noise() -> None:
    ds = load_dataset("blobs", n_classes=5, noise=0.05)
    centres = np.stack([ds.x_train[ds.y_train == k].mean(axis=0) for k in range(5)])
    nearest = np.argmin(((ds.x_test[:, None] - centres) ** 2).sum(-1), axis=1)
    assert (nearest == ds.y_test).mean() == 1.0


def test_variable_number_of_classes() -> None:
    assert load_dataset("spiral", n_classes=5).num_classes == 5
    assert load_dataset("blobs", n_classes=2).class_names == ["blob 0", "blob 1"]


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"name": "spiral", "n_classes": 1}, "2 to 10 classes"),
        ({"name": "moons", "n_classes": 3}, "fixed number of classes"),
        ({"name": "regression", "n_classes": 3}, "has no classes"),
        ({"name": "xor", "n_samples": 3}, "at least 10 samples"),
        ({"name": "circles", "noise": -0.1}, "noise must be"),
        ({"name": "torus"}, "unknown 2D data set 'torus'"),
    ],
)
def test_bad_arguments(kwargs: dict, pattern: str) -> None:
    with pytest.raises(DatasetError, match=pattern):
        make_toy(**kwargs)
