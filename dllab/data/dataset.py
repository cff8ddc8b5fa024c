"""The `Dataset` container every loader returns, the error a user's data can cause, and the checks of values
and class counts that every loader shares."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np

from dllab.errors import DamagedFileError, DllabError, quote
from dllab.files import open_regular

TASKS = ("classification", "regression")
#: The most classes a data set may have; labels are class indices below it.
MAX_CLASSES = 100_000
#: Samples and targets must be finite and fit the 32-bit floats networks train in.
FLOAT32_MAX = float(np.finfo(np.float32).max)


class DatasetError(DllabError, ValueError):
    """A dataset could not be found, read, downloaded or prepared; the message says which file and why."""


class LoadCancelled(DatasetError):
    """The user cancelled a load (a download, the reading of an image folder); nothing partial was kept."""


@contextlib.contextmanager
def open_data_file(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Open a data file for binary reading when it is a regular file (`dllab.files.open_regular`).

    Raises
    ------
    DatasetError
        The file does not exist, is a folder, a pipe or a device, or cannot be opened; the message names it.
    """
    try:
        file = open_regular(path)
    except DamagedFileError as exc:
        raise from_damaged(exc) from None
    with file:
        yield file


def from_damaged(exc: DamagedFileError) -> DatasetError:
    """The `DatasetError` that says what `dllab.files` found wrong with a data file."""
    return DatasetError(f"{exc.path}: {exc.problem}")


def unusable_value(array: np.ndarray) -> tuple[int, int, float] | None:
    """The first value of ``array`` that is NaN, infinite or beyond the float32 range, or None.

    Parameters
    ----------
    array : numpy.ndarray
        Samples or targets with the sample index first (at least one axis).

    Returns
    -------
    tuple of (int, int, float) or None
        The sample, the position of the value in the flattened sample, and the value. Clean arrays cost one
        ``min`` and one ``max``; nothing is allocated unless a bad value is there.
    """
    if array.dtype.kind != "f" or not array.size:
        return None
    low, high = float(array.min()), float(array.max())  # NaN propagates to both
    if low >= -FLOAT32_MAX and high <= FLOAT32_MAX:
        return None
    flat = array.reshape(len(array), -1)
    # float16 and float32 hold nothing beyond the range but infinity (and the limit would not fit float16).
    bad = ~np.isfinite(flat) if flat.dtype.itemsize <= 4 else ~(np.abs(flat) <= FLOAT32_MAX)
    sample = int(np.argmax(bad.any(axis=1)))
    position = int(np.argmax(bad[sample]))
    return sample, position, float(flat[sample, position])


def describe_value(value: float) -> str:
    """How an unusable value reads in a message: ``"NaN"``, ``"infinity"`` or the number and why."""
    if np.isnan(value):
        return "NaN"
    if np.isinf(value):
        return "infinity" if value > 0 else "-infinity"
    return f"{value:.4g}, beyond the range of 32-bit floats"


def check_values(array: np.ndarray, owner: str, name: str) -> None:
    """Refuse NaN, infinite and out-of-range values, naming the first sample that holds one.

    Parameters
    ----------
    array : numpy.ndarray
        Samples or targets, sample index first.
    owner : str
        The file or data set, first in the message.
    name : str
        The array, e.g. ``"array 'x'"``.

    Raises
    ------
    DatasetError
        E.g. ``"data.npz: array 'x' holds NaN at sample 17"``.
    """
    found = unusable_value(array)
    if found is not None:
        sample, _, value = found
        raise DatasetError(f"{owner}: {name} holds {describe_value(value)} at sample {sample}")


def numbered_class_names(top: float, owner: str) -> list[str]:
    """Class names ``"0"`` to ``str(top)`` for labels whose largest value is ``top``.

    Raises
    ------
    DatasetError
        ``top`` would make more than `MAX_CLASSES` classes; nothing is allocated.
    """
    top = np.asarray(top).item()
    if top >= MAX_CLASSES:
        shown = int(top) if float(top).is_integer() else top
        raise DatasetError(
            f"{owner}: the label {quote(shown)} would make more than the {MAX_CLASSES:,} classes dllab handles"
        )
    return [str(i) for i in range(int(top) + 1)]


@dataclass(repr=False, eq=False)
class Dataset:
    """A training and a test set with their labels, as loaded (raw values, not yet normalised).

    Everything is checked when it is made: both sets hold samples with at least one feature, samples and
    regression targets are finite numbers within the float32 range, class labels are whole numbers in the range
    of the class names. Errors name the data set and its source (the file a loader read).

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
    notes : tuple of str
        What the loader wants the user to know, one sentence each: e.g. the files of an image folder that
        were skipped because they are not readable images.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str] = field(default_factory=list)
    task: str = "classification"
    source: str = ""
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        owner = f"dataset {quote(self.name)}" + (f" ({self.source})" if self.source else "")
        if not isinstance(self.task, str) or self.task not in TASKS:
            raise DatasetError(f"{owner}: task must be one of {TASKS}, not {quote(self.task)}")
        try:
            self.class_names = list(self.class_names)
        except TypeError:
            raise DatasetError(
                f"{owner}: class names must be a list, not {quote(self.class_names)}"
            ) from None
        if len(self.class_names) > MAX_CLASSES:
            raise DatasetError(
                f"{owner}: {len(self.class_names):,} class names are more than the {MAX_CLASSES:,} dllab handles"
            )
        for part, key in (("training", "train"), ("test", "test")):
            x = _numbers(getattr(self, f"x_{key}"), owner, f"x_{key}")
            y = _numbers(getattr(self, f"y_{key}"), owner, f"y_{key}")
            if x.ndim < 2:
                raise DatasetError(
                    f"{owner}: {part} samples need a sample axis and at least one feature axis, got shape "
                    f"{x.shape}"
                )
            if not len(x):
                raise DatasetError(f"{owner}: the {part} set holds no samples")
            if not x[0].size:
                raise DatasetError(f"{owner}: {part} samples of shape {x.shape[1:]} hold no features")
            if y.ndim < 1:
                raise DatasetError(f"{owner}: {part} labels must be one per sample, not a single value")
            if len(x) != len(y):
                raise DatasetError(f"{owner}: {len(x)} {part} samples but {len(y)} {part} labels")
            check_values(x, owner, f"x_{key}")
            setattr(self, f"x_{key}", x)
            setattr(self, f"y_{key}", y)
        if self.x_train.shape[1:] != self.x_test.shape[1:]:
            raise DatasetError(
                f"{owner}: training samples have shape {self.x_train.shape[1:]} but test "
                f"samples {self.x_test.shape[1:]}"
            )
        if self.task == "classification":
            self.y_train = _class_indices(self.y_train, len(self.class_names), owner, "training")
            self.y_test = _class_indices(self.y_test, len(self.class_names), owner, "test")
        else:
            self.y_train = _as_targets(self.y_train, owner, "y_train")
            self.y_test = _as_targets(self.y_test, owner, "y_test")
            if self.y_train.shape[1:] != self.y_test.shape[1:]:
                raise DatasetError(
                    f"{owner}: training targets have shape {self.y_train.shape[1:]} but test "
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

    def select_classes(self, classes: list[int] | tuple[int, ...]) -> Dataset:
        """The samples of some classes only, their labels renumbered ``0..k-1`` in the order given.

        The class names go with them: selecting ``[5, 6, 7, 8, 9]`` of MNIST gives a five-class data set whose
        class 0 is named ``"5"``. Training and test sets are both filtered; the name says which classes.

        Parameters
        ----------
        classes
            Class indices of this data set, each at most once, at least one.

        Returns
        -------
        Dataset
            A new data set named after this one and the classes kept (this one is left as it is).

        Raises
        ------
        DatasetError
            For a regression data set, an empty selection, a repeated class or one that is not a class index.
        """
        owner = f"dataset {quote(self.name)}"
        if self.task != "classification":
            raise DatasetError(f"{owner}: only a classification data set has classes to select")
        chosen = list(classes)
        if not chosen:
            raise DatasetError(f"{owner}: select at least one class")
        for value in chosen:
            if isinstance(value, bool) or not isinstance(value, int | np.integer):
                raise DatasetError(f"{owner}: classes are class indices, got {quote(value)}")
            if not 0 <= value < self.num_classes:
                raise DatasetError(
                    f"{owner}: has classes 0 to {self.num_classes - 1}, so there is no class {quote(value)}"
                )
        if len(set(chosen)) != len(chosen):
            raise DatasetError(f"{owner}: a class is selected twice in {quote(chosen)}")
        new_label = np.full(self.num_classes, -1, dtype=np.int64)
        new_label[chosen] = np.arange(len(chosen))

        def part(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            keep = new_label[y] >= 0
            return x[keep], new_label[y[keep]]

        x_train, y_train = part(self.x_train, self.y_train)
        x_test, y_test = part(self.x_test, self.y_test)
        return Dataset(
            name=f"{self.name}[{','.join(str(int(c)) for c in chosen)}]",
            x_train=x_train,
            y_train=y_train,
            x_test=x_test,
            y_test=y_test,
            class_names=[self.class_names[c] for c in chosen],
            task=self.task,
            source=self.source,
            notes=self.notes,
        )

    def __repr__(self) -> str:
        return (
            f"Dataset({self.name!r}, task={self.task!r}, train={len(self.x_train)}, test={len(self.x_test)}, "
            f"input_shape={self.input_shape}, dtype={self.x_train.dtype}, classes={self.num_classes})"
        )


def _numbers(value: object, owner: str, name: str) -> np.ndarray:
    """``value`` as an array of numbers (bool, integer or float)."""
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise DatasetError(f"{owner}: {name} is not an array of numbers ({exc})") from None
    if array.dtype.kind not in "biuf":
        raise DatasetError(f"{owner}: {name} must hold numbers, not {array.dtype}")
    return array


def _class_indices(y: np.ndarray, num_classes: int, owner: str, part: str) -> np.ndarray:
    """Labels as int64 class indices ``(N,)`` in ``[0, num_classes)``, checked before they are converted."""
    if y.ndim != 1:
        raise DatasetError(f"{owner}: {part} labels must be class indices of shape (N,), got {y.shape}")
    if y.dtype.kind == "f":
        whole = np.isfinite(y) & (y == np.round(y))
        if not whole.all():
            sample = int(np.argmin(whole))
            raise DatasetError(
                f"{owner}: the {part} label {quote(float(y[sample]))} at sample {sample} is not a class index"
            )
    low, high = y.min().item(), y.max().item()
    if low < 0 or high >= num_classes:
        raise DatasetError(
            f"{owner}: {part} labels range from {quote(low)} to {quote(high)} but there are {num_classes} classes"
        )
    return y.astype(np.int64)


def _as_targets(y: np.ndarray, owner: str, name: str) -> np.ndarray:
    """Regression targets as float32 ``(N, K)``, K at least 1."""
    if not y[:1].size:
        raise DatasetError(f"{owner}: {name} holds no targets (shape {y.shape})")
    check_values(y, owner, name)
    return y.astype(np.float32).reshape(len(y), -1)
