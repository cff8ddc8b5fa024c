"""The `Dataset` container every loader returns, and the error a user's data can cause."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dllab.errors import DllabError

TASKS = ("classification", "regression")


class DatasetError(DllabError, ValueError):
    """A dataset could not be found, read, downloaded or prepared; the message says which file and why."""


@dataclass(repr=False, eq=False)
class Dataset:
    """A training and a test set with their labels, as loaded (raw values, not yet normalised).

    Attributes
    ----------
    name : str
        Short name, e.g. ``"mnist"``, ``"spiral"`` or the stem of a loaded file.
    x_train, x_test : numpy.ndarray
        Samples, first axis the sample index. Images are ``(N, C, H, W)`` (uint8 or float), 2D points
        ``(N, 2)`` float32, other feature vectors ``(N, D)``.
    y_train, y_test : numpy.ndarray
        Class indices as int64 ``(N,)`` for classification, float32 ``(N, K)`` targets for regression.
    class_names : list of str
        One name per class (empty for regression).
    task : str
        ``"classification"`` or ``"regression"``.
    source : str
        Where the data came from (a folder, a file, ``"generated"``), for display.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str] = field(default_factory=list)
    task: str = "classification"
    source: str = ""

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise DatasetError(f"dataset {self.name!r}: task must be one of {TASKS}, not {self.task!r}")
        for part, x, y in (("training", self.x_train, self.y_train), ("test", self.x_test, self.y_test)):
            if x.ndim < 2:
                raise DatasetError(
                    f"dataset {self.name!r}: {part} samples need a sample axis and at least one feature "
                    f"axis, got shape {x.shape}"
                )
            if len(x) != len(y):
                raise DatasetError(
                    f"dataset {self.name!r}: {len(x)} {part} samples but {len(y)} {part} labels"
                )
        if self.x_train.shape[1:] != self.x_test.shape[1:]:
            raise DatasetError(
                f"dataset {self.name!r}: training samples have shape {self.x_train.shape[1:]} but test "
                f"samples {self.x_test.shape[1:]}"
            )
        if self.task == "classification":
            self.y_train = np.asarray(self.y_train, dtype=np.int64)
            self.y_test = np.asarray(self.y_test, dtype=np.int64)
            for part, y in (("training", self.y_train), ("test", self.y_test)):
                if y.ndim != 1:
                    raise DatasetError(
                        f"dataset {self.name!r}: {part} labels must be class indices of shape (N,), "
                        f"got {y.shape}"
                    )
                if y.size and (y.min() < 0 or y.max() >= len(self.class_names)):
                    raise DatasetError(
                        f"dataset {self.name!r}: {part} labels range from {y.min()} to {y.max()} but "
                        f"there are {len(self.class_names)} classes"
                    )
        else:
            self.y_train = _as_targets(self.y_train)
            self.y_test = _as_targets(self.y_test)
            if self.y_train.shape[1:] != self.y_test.shape[1:]:
                raise DatasetError(
                    f"dataset {self.name!r}: training targets have shape {self.y_train.shape[1:]} but test "
                    f"targets {self.y_test.shape[1:]}"
                )

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one sample, e.g. ``(1, 28, 28)`` or ``(2,)``."""
        return tuple(int(d) for d in self.x_train.shape[1:])

    @property
    def num_classes(self) -> int:
        """Number of classes (0 for regression)."""
        return len(self.class_names) if self.task == "classification" else 0

    @property
    def num_outputs(self) -> int:
        """Units the network's last layer needs: the number of classes, or of regression targets."""
        return self.num_classes if self.task == "classification" else int(self.y_train.shape[1])

    @property
    def is_image(self) -> bool:
        """True for image data, ``(N, C, H, W)``."""
        return self.x_train.ndim == 4

    def __repr__(self) -> str:
        return (
            f"Dataset({self.name!r}, task={self.task!r}, train={len(self.x_train)}, test={len(self.x_test)}, "
            f"input_shape={self.input_shape}, dtype={self.x_train.dtype}, classes={self.num_classes})"
        )


def _as_targets(y: np.ndarray) -> np.ndarray:
    """Regression targets as float32 ``(N, K)``."""
    y = np.asarray(y, dtype=np.float32)
    return y.reshape(len(y), -1)
