"""The real MNIST beside the project (../shared/data/mnist) loads; skipped cleanly when it is absent."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dllab.data import CHECKSUMS, load_dataset, prepare
from dllab.data.download import sha256_of


@pytest.fixture(scope="module")
def mnist(mnist_dir: Path):
    return load_dataset(mnist_dir)


def test_real_mnist_loads(mnist) -> None:
    assert mnist.x_train.shape == (60000, 1, 28, 28)
    assert mnist.x_test.shape == (10000, 1, 28, 28)
    assert mnist.x_train.dtype == np.uint8
    assert mnist.y_train[:5].tolist() == [5, 0, 4, 1, 9]
    assert mnist.y_test[:5].tolist() == [7, 2, 1, 0, 4]
    assert mnist.class_names == [str(i) for i in range(10)]
    assert mnist.x_train.max() == 255 and mnist.x_train.min() == 0
    assert np.bincount(mnist.y_train).tolist()[:3] == [5923, 6742, 5958]


def test_checksums_in_the_code_match_the_real_files(mnist_dir: Path) -> None:
    for filename, digest in CHECKSUMS["mnist"].items():
        assert sha256_of(mnist_dir / filename) == digest, filename


def test_mnist_by_name_from_the_cache_without_network(mnist_dir: Path, tmp_path: Path, monkeypatch) -> None:
    # Links, not copies: the cache folder holds the real files; any download attempt would fail loudly.
    cache = tmp_path / "cache"
    (cache / "mnist").mkdir(parents=True)
    for filename in CHECKSUMS["mnist"]:
        (cache / "mnist" / filename).symlink_to(mnist_dir / filename)
    monkeypatch.setattr("dllab.data.download.MIRRORS", {"mnist": []})
    ds = load_dataset("mnist", cache_dir=cache)
    assert len(ds.x_train) == 60000 and ds.y_test[:5].tolist() == [7, 2, 1, 0, 4]


def test_prepare_real_mnist_for_mlp_and_cnn(mnist) -> None:
    mlp = prepare(mnist, input_shape=(784,), subset=1000, val_fraction=0.1)
    cnn = prepare(mnist, input_shape=(1, 28, 28), subset=1000, val_fraction=0.1)
    assert mlp.x_train.shape == (900, 784) and cnn.x_train.shape == (900, 1, 28, 28)
    np.testing.assert_array_equal(mlp.x_train, cnn.x_train.reshape(900, 784))
    assert mlp.x_test.shape == (10000, 784)
    assert mlp.x_train.min() >= 0.0 and mlp.x_train.max() <= 1.0
    assert np.bincount(mlp.y_val, minlength=10).min() >= 8  # stratified: every digit in validation
