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
