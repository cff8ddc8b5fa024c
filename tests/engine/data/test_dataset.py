"""The Dataset container checks what it is given."""

from __future__ import annotations

import numpy as np
import pytest

from dllab.data import Dataset, DatasetError


def _ds(**changes) -> Dataset:
    fields = {
        "name": "t",
        "x_train": np.zeros((6, 2), np.float32),
        "y_train": np.array([0, 1, 2, 0, 1, 2]),
        "x_test": np.zeros((3, 2), np.float32),
        "y_test": np.array([0, 1, 2]),
        "class_names": ["a", "b", "c"],
    }
    fields.update(changes)
    return Dataset(**fields)


def test_properties() -> None:
    ds = _ds()
    assert ds.input_shape == (2,) and ds.num_classes == 3 and ds.num_outputs == 3 and not ds.is_image
    assert ds.y_train.dtype == np.int64
    assert repr(ds) == (
        "Dataset('t', task='classification', train=6, test=3, input_shape=(2,), dtype=float32, classes=3)"
    )
    reg = _ds(y_train=np.zeros(6), y_test=np.zeros(3), class_names=[], task="regression")
    assert reg.y_train.shape == (6, 1) and reg.num_classes == 0 and reg.num_outputs == 1


@pytest.mark.parametrize(
    ("changes", "pattern"),
    [
        ({"y_train": np.zeros(5, int)}, "6 training samples but 5 training labels"),
        ({"x_test": np.zeros((3, 4))}, r"training samples have shape \(2,\) but test samples \(4,\)"),
        ({"y_test": np.array([0, 1, 3])}, "test labels range from 0 to 3 but there are 3 classes"),
        ({"y_train": np.zeros((6, 3))}, "class indices of shape"),
        ({"x_train": np.zeros(6)}, "need a sample axis"),
        ({"task": "ranking"}, "task must be one of"),
    ],
)
def test_inconsistent_data_is_rejected(changes: dict, pattern: str) -> None:
    with pytest.raises(DatasetError, match=pattern):
        _ds(**changes)


@pytest.mark.parametrize(
    ("changes", "pattern"),
    [
        ({"x_train": np.array([[0, 1]] * 5 + [[np.nan, 0]])}, "dataset 't': x_train holds NaN at sample 5"),
        ({"x_test": np.array([[0, 1], [0, np.inf], [0, 0]])}, "x_test holds infinity at sample 1"),
        ({"x_test": np.array([[0, 1], [0, 1e300], [0, 0]])}, r"x_test holds 1e\+300, beyond the range"),
        (
            {"y_train": np.array([0, 1, 2, 0, 1.5, 2])},
            "the training label 1.5 at sample 4 is not a class index",
        ),
        ({"y_test": np.array([0, np.nan, 2])}, "the test label nan at sample 1 is not a class index"),
        ({"y_train": np.array("a")}, "y_train must hold numbers, not <U1"),
        ({"y_train": np.zeros(())}, "training labels must be one per sample, not a single value"),
        ({"y_train": np.array([["a", "b"]] * 6)}, "y_train must hold numbers"),
        ({"x_train": np.zeros((0, 2)), "y_train": np.zeros(0)}, "the training set holds no samples"),
        ({"x_test": np.zeros((0, 2)), "y_test": np.zeros(0)}, "the test set holds no samples"),
        (
            {"x_train": np.zeros((6, 0)), "x_test": np.zeros((3, 0))},
            r"training samples of shape \(0,\) hold no",
        ),
        ({"x_train": np.array([["a", "b"]] * 6)}, "x_train must hold numbers"),
        ({"x_train": [[0, 1], [2]]}, "x_train is not an array of numbers"),
        ({"class_names": [str(i) for i in range(100_001)]}, "100,001 class names are more than the 100,000"),
        (
            {"y_train": np.array([0.5] * 5 + [np.nan]), "y_test": np.zeros(3), "task": "regression"},
            "y_train holds NaN at sample 5",
        ),
        ({"y_train": np.zeros((6, 0)), "y_test": np.zeros((3, 0)), "task": "regression"}, "holds no targets"),
    ],
)
def test_unusable_values_are_refused_naming_the_array_and_sample(changes: dict, pattern: str) -> None:
    with pytest.raises(DatasetError, match=pattern):
        _ds(**changes)


def test_the_source_is_named_in_errors() -> None:
    with pytest.raises(DatasetError, match=r"^dataset 't' \(/data/t\.npz\): x_train holds NaN at sample 0$"):
        _ds(x_train=np.full((6, 2), np.nan), source="/data/t.npz")


def test_unsigned_and_float_labels_become_class_indices() -> None:
    ds = _ds(y_train=np.array([0, 1, 2, 0, 1, 2], np.uint64), y_test=np.array([0.0, 1.0, 2.0]))
    assert ds.y_train.dtype == ds.y_test.dtype == np.int64 and ds.y_test.tolist() == [0, 1, 2]
    with pytest.raises(DatasetError, match="labels range from 0 to 18446744073709551615 but there are 3"):
        _ds(y_train=np.array([0, 1, 2, 0, 1, 2**64 - 1], np.uint64))


def test_select_classes_keeps_their_samples_renumbers_labels_and_keeps_names() -> None:
    rng = np.random.default_rng(0)
    full = Dataset(
        "digits",
        rng.random((40, 3)),
        np.arange(40) % 4,
        rng.random((20, 3)),
        np.arange(20) % 4,
        class_names=["a", "b", "c", "d"],
    )
    part = full.select_classes([3, 1])
    assert part.class_names == ["d", "b"] and part.name == "digits[3,1]"
    assert np.array_equal(part.x_train, full.x_train[np.isin(full.y_train, [1, 3])])
    assert np.array_equal(part.y_train, np.where(full.y_train[np.isin(full.y_train, [1, 3])] == 3, 0, 1))
    assert len(part.x_test) == 10 and set(part.y_test) == {0, 1}
    for bad, reason in (([], "at least one class"), ([4], "no class 4"), ([1, 1], "selected twice")):
        with pytest.raises(DatasetError, match=reason):
            full.select_classes(bad)
