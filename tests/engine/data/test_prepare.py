"""prepare(): subset, validation and train-dev splits, normalisation from the training part only, shapes for MLP
and CNN."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dllab.data import Dataset, DatasetError, Normalizer, load_dataset, model_inputs, prepare, reshape_for


def _images(n_train: int = 200, n_test: int = 50, channels: int = 1, seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    return Dataset(
        name="imgs",
        x_train=rng.integers(0, 256, (n_train, channels, 28, 28), dtype=np.uint8),
        y_train=np.arange(n_train) % 10,
        x_test=rng.integers(0, 256, (n_test, channels, 28, 28), dtype=np.uint8),
        y_test=np.arange(n_test) % 10,
        class_names=[str(i) for i in range(10)],
    )


def test_shapes_follow_the_network() -> None:
    ds = _images()
    mlp = prepare(ds, input_shape=(784,))
    cnn = prepare(ds, input_shape=[1, 28, 28])
    assert mlp.x_train.shape == (180, 784) and mlp.x_val.shape == (20, 784) and mlp.x_test.shape == (50, 784)
    assert cnn.x_train.shape == (180, 1, 28, 28) and cnn.input_shape == (1, 28, 28)
    assert mlp.image_shape == (1, 28, 28) == cnn.image_shape
    np.testing.assert_array_equal(mlp.x_train, cnn.x_train.reshape(180, -1))
    assert mlp.x_train.dtype == np.float32
    assert prepare(ds, dtype=np.float64).x_train.dtype == np.float64
    assert prepare(ds).input_shape == (1, 28, 28)  # the data's own shape by default


def test_shape_mismatch_names_both_shapes() -> None:
    with pytest.raises(DatasetError, match=r"\(1, 28, 28\) \(784 values\).*\(100,\) \(100 values\)"):
        prepare(_images(), input_shape=(100,))
    with pytest.raises(DatasetError, match=r"\(2,\) \(2 values\).*\(1, 28, 28\)"):
        reshape_for(np.zeros((3, 2)), (1, 28, 28))
    x = np.zeros((3, 784))
    assert reshape_for(x, (784,)) is x
    assert np.shares_memory(reshape_for(x, (1, 28, 28)), x)


def test_validation_split_is_stratified_seeded_and_disjoint() -> None:
    ds = _images(n_train=500)
    a, b = prepare(ds, seed=1), prepare(ds, seed=1)
    c = prepare(ds, seed=2)
    assert np.bincount(a.y_val).tolist() == [5] * 10
    np.testing.assert_array_equal(a.x_val, b.x_val)
    assert not np.array_equal(a.x_val, c.x_val)
    train_rows = {r.tobytes() for r in a.x_train}
    assert not any(r.tobytes() in train_rows for r in a.x_val)
    assert len(a.x_train) + len(a.x_val) == 500


def _row_ids(x: np.ndarray) -> set[int]:
    """The sample numbers of rows made by :func:`_numbered` (every value of a row is its number)."""
    return {int(v) for v in x.reshape(len(x), -1)[:, 0]}


def _numbered(n: int) -> Dataset:
    """Images whose every pixel holds the sample's number, so a prepared row says where it came from."""
    x = np.broadcast_to(np.arange(n, dtype=np.float32)[:, None, None, None], (n, 1, 4, 4)).copy()
    return Dataset(
        name="numbered",
        x_train=x,
        y_train=np.arange(n) % 5,
        x_test=x[:10].copy(),
        y_test=np.arange(10) % 5,
        class_names=[str(i) for i in range(5)],
    )


def test_train_dev_split_holds_out_of_training_only_disjoint_from_train_and_dev() -> None:
    p = prepare(_numbered(1000), val_fraction=0.1, train_dev_fraction=0.2, normalization="none", seed=3)
    train, train_dev, dev = _row_ids(p.x_train), _row_ids(p.x_train_dev), _row_ids(p.x_val)
    assert (len(train), len(train_dev), len(dev)) == (700, 200, 100)
    assert not (train & train_dev) and not (train_dev & dev) and not (train & dev)
    assert train | train_dev | dev == set(range(1000))
    np.testing.assert_array_equal(p.y_train_dev, np.array(sorted(train_dev)) % 5)
    assert np.bincount(p.y_train_dev).tolist() == [40] * 5  # stratified
    without = prepare(_numbered(1000), val_fraction=0.1, normalization="none", seed=3)
    assert _row_ids(without.x_val) == dev  # the validation split does not move
    assert len(without.x_train_dev) == 0 and without.x_train_dev.shape[1:] == without.x_val.shape[1:]


def test_the_normalisation_is_fitted_without_the_train_dev_set() -> None:
    p = prepare(_numbered(100), val_fraction=0.0, train_dev_fraction=0.5, normalization="standardize", seed=0)
    mean = np.mean(
        sorted(
            _row_ids(
                prepare(
                    _numbered(100), val_fraction=0.0, train_dev_fraction=0.5, normalization="none", seed=0
                ).x_train
            )
        )
    )
    assert p.normalizer.offset[0] == pytest.approx(mean)


@pytest.mark.parametrize(("val", "train_dev"), [(0.5, 0.5), (0.0, 1.0), (0.2, -0.1)])
def test_a_train_dev_fraction_that_leaves_no_training_is_refused(val: float, train_dev: float) -> None:
    with pytest.raises(DatasetError, match="train-dev fraction"):
        prepare(_numbered(100), val_fraction=val, train_dev_fraction=train_dev)


def test_test_set_is_never_touched() -> None:
    ds = _images()
    for kwargs in ({"seed": 0}, {"seed": 9, "subset": 50, "subset_mode": "random"}, {"val_fraction": 0.3}):
        p = prepare(ds, **kwargs)
        np.testing.assert_array_equal(p.y_test, ds.y_test)
        np.testing.assert_allclose(p.x_test, ds.x_test / np.float32(255))


def test_val_fraction_zero_gives_empty_validation_arrays() -> None:
    p = prepare(_images(), val_fraction=0.0, input_shape=(784,))
    assert p.x_val.shape == (0, 784) and p.y_val.shape == (0,) and len(p.x_train) == 200


def test_subsets() -> None:
    ds = _images(n_train=1000)
    first = prepare(ds, subset=300, val_fraction=0.0)
    np.testing.assert_allclose(first.x_train, ds.x_train[:300] / np.float32(255))
    random = prepare(ds, subset=300, subset_mode="random", val_fraction=0.0, seed=4)
    assert len(random.x_train) == 300 and not np.array_equal(random.x_train, first.x_train)
    split = prepare(ds, subset=300, val_fraction=0.2)
    assert len(split.x_train) == 240 and len(split.x_val) == 60
    with pytest.raises(DatasetError, match="has 1000"):
        prepare(ds, subset=5000)


def test_statistics_come_from_the_training_split_only() -> None:
    n = 400
    rng = np.random.default_rng(0)
    x = np.stack([np.arange(n), rng.normal(5.0, 2.0, n)], axis=1).astype(np.float32)  # column 0: sample id
    y = np.arange(n) % 4
    ds = Dataset("ids", x, y, x[:10], y[:10], ["a", "b", "c", "d"])
    probe = prepare(ds, val_fraction=0.25, seed=3, normalization="none")
    is_val = np.isin(np.arange(n), probe.x_val[:, 0].astype(int))
    assert is_val.sum() == 100
    x[is_val, 1] = 1000.0  # extreme validation samples must not move the statistics
    p = prepare(
        Dataset("ids", x, y, x[:10], y[:10], ds.class_names),
        val_fraction=0.25,
        seed=3,
        normalization="standardize",
    )
    expected = x[~is_val, 1].astype(np.float64)
    assert p.normalizer.offset[1] == pytest.approx(expected.mean(), rel=1e-6)
    assert p.normalizer.scale[1] == pytest.approx(expected.std(), rel=1e-6)
    np.testing.assert_allclose(p.x_train.mean(axis=0), 0, atol=1e-4)
    assert float(p.x_val[:, 1].min()) > 100  # the extreme validation samples stay extreme


def test_scale_and_standardize_values() -> None:
    ds = _images()
    scaled = prepare(ds, normalization="scale", val_fraction=0)
    np.testing.assert_allclose(scaled.x_train, ds.x_train / 255.0, rtol=1e-6)
    none = prepare(ds, normalization="none", val_fraction=0)
    np.testing.assert_array_equal(none.x_train, ds.x_train.astype(np.float32))
    points = load_dataset("blobs")
    p = prepare(points, normalization="scale", val_fraction=0)
    np.testing.assert_allclose(p.x_train.min(axis=0), [0, 0], atol=1e-6)
    np.testing.assert_allclose(p.x_train.max(axis=0), [1, 1], atol=1e-6)
    s = prepare(points, normalization="standardize", val_fraction=0)
    np.testing.assert_allclose(s.x_train.mean(axis=0), [0, 0], atol=1e-5)
    np.testing.assert_allclose(s.x_train.std(axis=0), [1, 1], atol=1e-4)


def test_per_channel_statistics() -> None:
    ds = _images(channels=3)
    ds.x_train[:, 1] //= 4  # channel 1 darker
    p = prepare(ds, normalization="standardize", val_fraction=0)
    assert len(p.normalizer.offset) == 3
    assert p.normalizer.offset[1] < p.normalizer.offset[0] / 2
    np.testing.assert_allclose(p.x_train.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(p.x_train.std(axis=(0, 2, 3)), 1, atol=1e-4)


@pytest.mark.parametrize("kind", ["none", "scale", "standardize"])
def test_saved_normalizer_predicts_on_raw_inputs(kind: str) -> None:
    ds = _images(channels=3)
    p = prepare(ds, normalization=kind, input_shape=(3 * 784,), val_fraction=0)
    stored = json.loads(json.dumps(p.normalizer.to_dict()))  # what a model file keeps
    restored = Normalizer.from_dict(stored)
    raw = ds.x_test
    expected = p.x_test
    np.testing.assert_allclose(restored.transform(raw).reshape(len(raw), -1), expected, rtol=1e-6, atol=1e-6)
    flat = raw.reshape(len(raw), -1)  # raw but already flattened: the statistics still go per channel
    np.testing.assert_allclose(restored.transform(flat), expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(restored.inverse_transform(restored.transform(raw)), raw, atol=1e-3)
    assert repr(restored).startswith("Normalizer(")


def test_normalizer_errors_and_immutability() -> None:
    with pytest.raises(DatasetError, match="normalization must be one of"):
        Normalizer("minmax")
    with pytest.raises(DatasetError, match="not been fitted"):
        Normalizer("scale").transform(np.zeros((2, 2)))
    with pytest.raises(DatasetError, match="invalid normalisation"):
        Normalizer.from_dict({"kind": "standardize", "input_shape": [3, 2, 2], "mean": [0.0], "std": [1.0]})
    with pytest.raises(DatasetError, match="invalid normalisation"):
        Normalizer.from_dict({"mean": [0.0]})
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    before = x.copy()
    norm = Normalizer("standardize").fit(x)
    out = norm.transform(x)
    np.testing.assert_array_equal(x, before)  # the input is never modified
    assert not np.shares_memory(out, x)
    constant = Normalizer("standardize").fit(np.ones((5, 2)))
    assert np.all(np.isfinite(constant.transform(np.ones((2, 2)))))


def test_regression_prepare() -> None:
    p = prepare(load_dataset("regression"), val_fraction=0.2)
    assert p.task == "regression" and p.y_train.shape[1] == 1 and len(p.y_val) == 80
    assert p.num_classes == 0 and p.image_shape is None
    assert "PreparedData('regression'" in repr(p)


def test_a_one_sample_training_set_is_refused_when_validation_takes_it() -> None:
    ds = Dataset("one", np.ones((1, 2)), np.array([0]), np.ones((1, 2)), np.array([0]), class_names=["a"])
    assert len(prepare(ds, val_fraction=0.1).x_train) == 1
    with pytest.raises(DatasetError, match="'one': no training samples are left after the validation split"):
        prepare(ds, val_fraction=0.9)


@pytest.mark.parametrize("shape", [(-1, -784), (0,), (784, 0)])
def test_input_shapes_with_dimensions_below_one_are_refused(shape: tuple[int, ...]) -> None:
    with pytest.raises(DatasetError, match="do not fit the network's input shape"):
        reshape_for(np.zeros((3, 784)), shape)


def test_model_inputs_apply_a_models_stored_preprocessing_and_shape() -> None:
    raw = np.arange(2 * 16, dtype=np.uint8).reshape(2, 1, 4, 4) * 8
    scale = {"kind": "scale", "input_shape": [1, 4, 4], "low": [0.0], "high": [255.0]}
    x = model_inputs(raw, scale, (16,))
    assert x.shape == (2, 16) and x.dtype == np.float32
    np.testing.assert_allclose(x, raw.reshape(2, 16) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(model_inputs(raw, {}, [1, 4, 4]), raw.astype(np.float32))
    with pytest.raises(DatasetError, match="do not fit the network's input shape"):
        model_inputs(raw, {}, (15,))
