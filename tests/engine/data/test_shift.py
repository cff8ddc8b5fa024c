"""Distribution shift: the shifted images, the dev and test sets drawn from them, the shift mix in training, and
on real MNIST the data mismatch it makes and the remedy that narrows it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import dllab
from dllab.data import Dataset, DatasetError, load_dataset, prepare, shift_images
from dllab.experiment import DataSettings
from dllab.trainer import Finished, Trainer, TrainingConfig


def _blank(n_train: int = 400, n_test: int = 40) -> Dataset:
    """Black uint8 images: an inverted one is all white, so each row says whether it was shifted."""
    return Dataset(
        name="blank",
        x_train=np.zeros((n_train, 1, 8, 8), np.uint8),
        y_train=np.arange(n_train) % 4,
        x_test=np.zeros((n_test, 1, 8, 8), np.uint8),
        y_test=np.arange(n_test) % 4,
        class_names=list("abcd"),
    )


def _shifted_rows(x: np.ndarray) -> int:
    return int(np.sum(x.reshape(len(x), -1).min(axis=1) > 0.5))


def test_invert_swaps_light_and_dark_exactly() -> None:
    x = np.arange(256, dtype=np.uint8).reshape(1, 1, 16, 16)
    out = shift_images(x, "invert", np.random.default_rng(0))
    np.testing.assert_array_equal(out, 255 - x)
    floats = np.array([[[[0.0, 0.25], [0.5, 1.0]]]], np.float32)
    np.testing.assert_allclose(shift_images(floats, "invert", np.random.default_rng(0)), 1.0 - floats)


@pytest.mark.parametrize("name", ["noise", "rotation"])
def test_noise_and_rotation_are_seeded_and_keep_shape_and_type(name: str) -> None:
    x = np.zeros((5, 1, 28, 28), np.uint8)
    x[:, :, 4:24, 12:16] = 255  # a bar, which a rotation moves
    a = shift_images(x, name, np.random.default_rng(1))
    b = shift_images(x, name, np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)
    assert a.shape == x.shape and a.dtype == np.uint8
    assert np.mean(a != x) > 0.05
    flat = shift_images(x.reshape(5, -1), name, np.random.default_rng(1), image_shape=(1, 28, 28))
    np.testing.assert_array_equal(flat, a.reshape(5, -1))


def test_an_unknown_shift_is_one_sentence() -> None:
    with pytest.raises(DatasetError, match="the dev shift must be one of none, noise, rotation, invert"):
        shift_images(np.zeros((1, 1, 2, 2)), "blur", np.random.default_rng(0))


def test_dev_and_test_are_shifted_and_training_only_by_the_mix() -> None:
    clean = prepare(
        _blank(), val_fraction=0.1, train_dev_fraction=0.1, normalization="none", dev_shift="invert"
    )
    assert _shifted_rows(clean.x_val) == len(clean.x_val) == 40
    assert _shifted_rows(clean.x_test) == len(clean.x_test)
    assert _shifted_rows(clean.x_train) == 0 and _shifted_rows(clean.x_train_dev) == 0
    assert clean.dev_shift == "invert"
    mixed = prepare(
        _blank(),
        val_fraction=0.1,
        train_dev_fraction=0.1,
        normalization="none",
        dev_shift="invert",
        shift_mix=0.25,
    )
    assert _shifted_rows(mixed.x_train) == round(0.25 * 320)
    assert _shifted_rows(mixed.x_train_dev) == 10  # the train-dev set keeps the training distribution


def test_a_shift_needs_images() -> None:
    points = Dataset(
        "points", np.zeros((20, 2)), np.arange(20) % 2, np.zeros((4, 2)), np.arange(4) % 2, ["a", "b"]
    )
    with pytest.raises(DatasetError, match="works on images"):
        prepare(points, dev_shift="noise")


def _mismatch_run(mnist: Dataset, shift_mix: float):
    settings = DataSettings(
        "mnist",
        subset=6000,
        subset_mode="random",
        val_fraction=0.2,
        train_dev_fraction=0.2,
        dev_shift="noise",
        shift_mix=shift_mix,
    )
    prepared = settings.prepare((784,), seed=0, dataset=mnist)
    network = {
        "input_shape": [784],
        "layers": [{"type": "Dense", "units": 100}, {"type": "ReLU"}, {"type": "Dense", "units": 10}],
    }
    config = TrainingConfig(optimizer="adam", lr=0.001, batch_size=100, epochs=5, stats_every=0)
    finished = list(Trainer(dllab.build(network, seed=0), prepared, config).run())[-1]
    assert isinstance(finished, Finished)
    return finished.fit


@pytest.mark.slow
def test_noisy_dev_data_shows_data_mismatch_and_the_shift_mix_narrows_it(mnist_dir: Path) -> None:
    mnist = load_dataset(mnist_dir)
    without, remedied = _mismatch_run(mnist, 0.0), _mismatch_run(mnist, 0.3)
    assert without.dev_error > without.train_dev_error + 0.10
    assert without.largest == "data mismatch"
    assert remedied.gaps["data mismatch"] < without.gaps["data mismatch"] - 0.08
    assert remedied.dev_error < without.dev_error - 0.05
