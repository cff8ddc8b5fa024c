"""Local data files: ``.npz`` archives with ``x``/``y`` arrays and CSV tables with a label column.

Samples are arranged like every other data set: images ``(N, C, H, W)``, feature vectors ``(N, D)``. Rows of
a CSV file (or 2-dimensional ``x`` arrays) whose length is a square number of at least 64 and whose values
are non-negative integers are read as square one-channel images (784 values: 1 x 28 x 28); 8-bit pixel
values (integers up to 255, some at least 128) are stored as uint8. Labels that are integers (or one-hot
rows, or text) make a classification set; other numbers make a regression set. Without a separate test set
(``x_test``/``y_test`` in the archive, or a ``...test...csv`` beside a ``...train...csv``), a seeded,
stratified 20% of the samples becomes the test set.

Every file is opened only when it is a regular file, an archive is read within the limits of
`dllab.files.read_npz`, and every value is checked (finite, within the float32 range, labels within the
number of classes dllab handles) before the data set is built. Each problem raises `DatasetError` naming the
file, the array or line, and what is wrong.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dllab.data.dataset import (
    MAX_CLASSES,
    Dataset,
    DatasetError,
    check_values,
    describe_value,
    from_damaged,
    numbered_class_names,
    open_data_file,
    unusable_value,
)
from dllab.data.split import stratified_split
from dllab.errors import DamagedFileError, quote
from dllab.files import read_npz

LOCAL_TEST_FRACTION = 0.2
LABEL_COLUMNS = ("label", "labels", "class", "target", "y")
TASK_NAMES = ("classification", "regression")
#: The most columns a CSV file may have (a 500 x 500 image is 250,000).
MAX_CSV_COLUMNS = 250_000
_NPY_MAGIC = b"\x93NUMPY"


@dataclass
class _Part:
    """Samples and labels as read from one file, with the names that messages give them."""

    x: np.ndarray
    y: np.ndarray
    owner: str  # the file
    x_name: str  # e.g. "array 'x'"
    y_name: str


def _as_samples(x: np.ndarray, owner: str, name: str) -> np.ndarray:
    """Arrange samples as ``(N, C, H, W)`` images or ``(N, D)`` features; uint8 or float32."""
    if x.dtype.kind not in "biuf":
        raise DatasetError(f"{owner}: {name} must hold numbers, not {x.dtype}")
    if x.ndim == 0:
        raise DatasetError(f"{owner}: {name} is a single value, not samples")
    if not len(x):
        raise DatasetError(f"{owner}: {name} holds no samples (shape {x.shape})")
    if not x[0].size:
        raise DatasetError(f"{owner}: {name} of shape {x.shape} holds no features")
    check_values(x, owner, name)
    if x.ndim == 2:
        side = math.isqrt(x.shape[1])
        integral = x.min() >= 0 and (x.dtype.kind in "biu" or np.all(x == np.round(x)))
        if side >= 8 and side * side == x.shape[1] and integral:
            x = x.reshape(len(x), 1, side, side)
    elif x.ndim == 1 or x.ndim == 3:
        x = x[:, None]
    elif x.ndim == 4 and x.shape[1] not in (1, 3, 4) and x.shape[3] in (1, 3, 4):
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    elif x.ndim != 4:
        raise DatasetError(
            f"{owner}: cannot tell the layout of {name} with shape {x.shape}; expected (N, D), (N, H, W), "
            "(N, C, H, W) or (N, H, W, C)"
        )
    if x.dtype == np.uint8:
        return x
    if x.ndim == 4 and 128 <= x.max() <= 255 and x.min() >= 0 and np.all(x == np.round(x)):
        return x.astype(np.uint8)  # 8-bit pixels
    return x.astype(np.float32)


def _check_ascii(array: np.ndarray, owner: str, name: str, unit: str = "sample") -> None:
    """Refuse byte strings (dtype ``S``) that are not ASCII text, naming the first ``unit`` that holds one."""
    if array.dtype.kind != "S" or not array.size or not array.dtype.itemsize:
        return
    codes = np.ascontiguousarray(array).view(np.uint8).reshape(len(array), -1)
    bad = (codes >= 0x80).any(axis=1)
    if bad.any():
        raise DatasetError(
            f"{owner}: {name} holds bytes that are not ASCII text at {unit} {int(np.argmax(bad))}"
        )


def _unique_text(y: np.ndarray, owner: str, name: str) -> tuple[np.ndarray, np.ndarray]:
    """The distinct labels of ``y`` (1-D) as an object array of sorted ``str``, and each sample's index."""
    _check_ascii(y, owner, name)
    names, inverse = np.unique(y, return_inverse=True)
    return names.astype(str).astype(object) if names.dtype != object else names, inverse.ravel()


def _one_per_sample(y: np.ndarray, owner: str, name: str) -> np.ndarray:
    if y.ndim == 2 and y.shape[1] == 1:
        return y[:, 0]
    if y.ndim != 1:
        raise DatasetError(f"{owner}: class labels must be one per sample, {name} has shape {y.shape}")
    return y


def _text_labels(
    parts: list[_Part], path: Path, class_names: list[str] | None
) -> tuple[list[np.ndarray], list[str]]:
    """Text labels of every part as class indices: into ``class_names``, or into their sorted values."""
    found = [_unique_text(_one_per_sample(p.y, p.owner, p.y_name), p.owner, p.y_name) for p in parts]
    names = np.unique(np.concatenate([n for n, _ in found]))
    if class_names is None:
        if len(names) > MAX_CLASSES:
            raise DatasetError(
                f"{path}: {len(names):,} different labels are more than the {MAX_CLASSES:,} classes dllab handles"
            )
        class_names = names.tolist()
    position = {n: i for i, n in enumerate(class_names)}
    mapping = np.array([position.get(n, -1) for n in names.tolist()], dtype=np.int64)
    if np.any(mapping < 0):
        raise DatasetError(
            f"{path}: labels {quote(names[mapping < 0][:5].tolist())} are not among the class names"
        )
    return [mapping[np.searchsorted(names, n)][inverse] for n, inverse in found], class_names


def _labels(
    parts: list[_Part], path: Path, class_names: list[str] | None, task: str | None
) -> tuple[list[np.ndarray], list[str], str]:
    """Turn the raw labels of each part into class indices or float targets, checking them first."""
    ys = [p.y for p in parts]
    for p in parts:
        if p.y.dtype.kind not in "biufUSO":
            raise DatasetError(f"{p.owner}: {p.y_name} must hold numbers or text, not {p.y.dtype}")
        check_values(p.y, p.owner, p.y_name)
    if any(y.dtype.kind in "USO" for y in ys):
        if task == "regression":
            raise DatasetError(f"{path}: text labels are classes, not regression targets")
        indices, class_names = _text_labels(parts, path, class_names)
        return indices, class_names, "classification"
    one_hot = all(
        y.ndim == 2 and y.shape[1] > 1 and np.all((y == 0) | (y == 1)) and np.all(y.sum(axis=1) == 1)
        for y in ys
    )
    integral = all(y.dtype.kind in "biu" or np.all(y == np.round(y)) for y in ys)
    if task is None:
        task = "classification" if one_hot or (integral and all(y.ndim == 1 for y in ys)) else "regression"
    if task == "regression":
        return [y.astype(np.float32).reshape(len(y), -1) for y in ys], [], task
    if not integral:
        raise DatasetError(f"{path}: class labels must be whole numbers")
    indices = [
        np.argmax(p.y, axis=1) if one_hot else _one_per_sample(p.y.reshape(len(p.y), -1), p.owner, p.y_name)
        for p in parts
    ]
    for p, y in zip(parts, indices, strict=True):
        low = y.min().item()
        if low < 0:
            raise DatasetError(
                f"{p.owner}: label {quote(low)} is out of range (class labels must be at least 0) "
                f"in {p.y_name}"
            )
    top, where = max((y.max().item(), p.owner) for p, y in zip(parts, indices, strict=True))
    if class_names is None:
        class_names = numbered_class_names(top, where)
    elif top >= len(class_names):
        raise DatasetError(f"{where}: label {quote(top)} is out of range ({len(class_names)} class names)")
    return [y.astype(np.int64) for y in indices], class_names, task


def _build(
    path: Path,
    name: str | None,
    parts: list[_Part],
    *,
    class_names: list[str] | None,
    task: str | None,
    seed: int,
    test_fraction: float,
) -> Dataset:
    """A `Dataset` from a training part and, optionally, a test part; without one, a test set is split off."""
    if len(parts) == 1 and not (isinstance(test_fraction, int | float) and 0 < test_fraction < 1):
        raise DatasetError(f"the test fraction must lie between 0 and 1, not {quote(test_fraction)}")
    for p in parts:
        if p.y.ndim == 0:
            raise DatasetError(f"{p.owner}: {p.y_name} is a single value, not one label per sample")
        if p.x.ndim and len(p.x) != len(p.y):
            kind = "test " if p is not parts[0] else ""
            raise DatasetError(f"{p.owner}: {len(p.x)} {kind}samples but {len(p.y)} {kind}labels")
        p.x = _as_samples(p.x, p.owner, p.x_name)
    labels, class_names, task = _labels(parts, path, class_names, task)
    x_train, y_train = parts[0].x, labels[0]
    if len(parts) == 1:
        try:
            rng = np.random.default_rng(seed)
        except (ValueError, TypeError):
            raise DatasetError(f"the seed must be a whole number of at least 0, not {quote(seed)}") from None
        keep, held = stratified_split(y_train, test_fraction, rng)
        if not len(keep) or not len(held):
            raise DatasetError(
                f"{path}: too few samples ({len(y_train)}) to hold out {test_fraction:.0%} of them as a test "
                "set; add samples or a separate test set"
            )
        x_train, x_test, y_train, y_test = x_train[keep], x_train[held], y_train[keep], y_train[held]
    else:
        x_test, y_test = parts[1].x, labels[1]
    if x_train.shape[1:] != x_test.shape[1:]:
        raise DatasetError(
            f"{path}: training samples have shape {x_train.shape[1:]} but test samples {x_test.shape[1:]}"
        )
    return Dataset(
        name=name or path.name.split(".")[0],
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        class_names=list(class_names),
        task=task,
        source=str(path),
    )


def _read_archive(path: Path) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` archive (`dllab.files.read_npz`), or a `DatasetError` naming the file."""
    with open_data_file(path) as file:
        if file.read(len(_NPY_MAGIC)) == _NPY_MAGIC:
            raise DatasetError(f"{path}: holds a single array, not an .npz archive with x and y")
    try:
        return read_npz(path)
    except DamagedFileError as exc:
        raise from_damaged(exc) from None


def _text_of(array: np.ndarray, path: Path, key: str) -> list[str]:
    """The strings of a text (or number) array such as ``class_names``, in their order."""
    name = f"array {quote(key)}"
    if array.dtype.kind not in "USbiuf":
        raise DatasetError(f"{path}: {name} must hold text, not {array.dtype}")
    if array.size > MAX_CLASSES:
        raise DatasetError(
            f"{path}: {name} holds {array.size:,} names, more than the {MAX_CLASSES:,} dllab handles"
        )
    flat = array.reshape(-1)
    _check_ascii(flat, str(path), name, "position")
    return flat.astype(str).tolist()


def load_npz(
    path: Path | str, *, name: str | None = None, seed: int = 0, test_fraction: float = LOCAL_TEST_FRACTION
) -> Dataset:
    """Load a NumPy ``.npz`` archive (never unpickling anything, within `dllab.files.read_npz`'s limits).

    Parameters
    ----------
    path : pathlib.Path or str
        Archive with ``x`` and ``y`` (optionally ``x_test`` and ``y_test``), or ``x_train``, ``y_train``,
        ``x_test``, ``y_test`` (the layout of Keras' ``mnist.npz``). Optional: ``class_names`` (strings) and
        ``task`` (``"classification"`` or ``"regression"``).
    name : str, optional
        Dataset name; the file's stem when None.
    seed : int
        Seed of the test split when the archive has no test set.
    test_fraction : float
        Share held out as the test set when the archive has none.

    Returns
    -------
    Dataset
        The archive's samples: its own test set, or ``test_fraction`` of them held out as one.

    Raises
    ------
    DatasetError
        The file is not a readable archive, lacks arrays, or holds values that cannot be used (NaN,
        infinity, labels out of range, ...); the message names the file and the array.
    """
    path = Path(path)
    arrays = _read_archive(path)
    if {"x_train", "y_train"} <= arrays.keys():
        train_keys = ("x_train", "y_train")
    elif {"x", "y"} <= arrays.keys():
        train_keys = ("x", "y")
    else:
        found = ", ".join(quote(k, 20) for k in sorted(arrays)[:8])
        raise DatasetError(
            f"{path}: needs arrays 'x' and 'y' (or 'x_train', 'y_train'), found {f'[{found}]' if found else 'none'}"
        )
    if ("x_test" in arrays) != ("y_test" in arrays):
        raise DatasetError(f"{path}: has only one of 'x_test' and 'y_test'")
    task = None
    if "task" in arrays:
        given = _text_of(arrays["task"], path, "task")
        if len(given) != 1 or given[0] not in TASK_NAMES:
            raise DatasetError(
                f"{path}: 'task' must be 'classification' or 'regression', not {quote(' '.join(given))}"
            )
        task = given[0]
    names = arrays.get("class_names")
    owner = str(path)
    parts = [
        _Part(arrays[train_keys[0]], arrays[train_keys[1]], owner, *(f"array {quote(k)}" for k in train_keys))
    ]
    if "x_test" in arrays:
        parts.append(_Part(arrays["x_test"], arrays["y_test"], owner, "array 'x_test'", "array 'y_test'"))
    return _build(
        path,
        name,
        parts,
        class_names=None if names is None else _text_of(names, path, "class_names"),
        task=task,
        seed=seed,
        test_fraction=test_fraction,
    )


@dataclass
class _Table:
    """One CSV file as read: its bytes, float64 features, the labels when they are all numbers, the header
    and the line of each row."""

    path: Path
    raw: bytes
    x: np.ndarray
    numbers: np.ndarray | None  # float64 labels, None when some label is not a number
    header: list[str]
    lines: np.ndarray  # 1-based line number of each row
    label_column: int
    options: dict[str, object]

    def text_labels(self) -> np.ndarray:
        """The label column as an object array of ``str`` (one object per row, so only for text labels)."""
        try:
            return np.loadtxt(
                _text(self.raw), usecols=[self.label_column], dtype=object, ndmin=1, **self.options
            )
        except ValueError as exc:
            raise DatasetError(f"{self.path}: {exc}") from None


def _data_lines(raw: bytes, columns: int, path: Path, header: bool) -> np.ndarray:
    """The 1-based numbers of the data lines, each checked to hold ``columns`` fields (vectorised)."""
    data = np.frombuffer(raw, dtype=np.uint8)
    starts = np.concatenate([[0], np.flatnonzero(data == ord("\n")) + 1])
    starts = starts[starts < len(data)]
    commas = np.add.reduceat(data == ord(","), starts, dtype=np.int64)
    visible = np.add.reduceat(data > ord(" "), starts, dtype=np.int64)
    lines = np.flatnonzero(visible)[1 if header else 0 :]
    if not len(lines):
        raise DatasetError(f"{path}: has no data rows")
    bad = lines[commas[lines] != columns - 1]
    if len(bad):
        raise DatasetError(
            f"{path}: line {bad[0] + 1} has {commas[bad[0]] + 1} columns, the first line has {columns}"
        )
    return lines + 1


def _column(header: list[str], index: int) -> str:
    return quote(header[index]) if header else str(index + 1)


def _text(raw: bytes) -> io.TextIOWrapper:
    """The bytes of a CSV file as text, decoded as it is read (the bytes are not copied)."""
    return io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8-sig")


def _read_csv(path: Path, label_column: str | int | None) -> _Table:
    """One CSV file, read once through `open_data_file` and parsed from memory."""
    with open_data_file(path) as file:
        try:
            raw = file.read()
        except OSError as exc:
            raise DatasetError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    end = raw.find(b"\n")
    try:
        first = raw[: end if end >= 0 else len(raw)].decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DatasetError(f"{path}: cannot be read as text (it is not UTF-8)") from None
    if not first.strip():
        raise DatasetError(f"{path}: the file is empty or starts with a blank line")
    if first.count(",") >= MAX_CSV_COLUMNS:
        raise DatasetError(
            f"{path}: the first line has {first.count(',') + 1:,} columns, more than the {MAX_CSV_COLUMNS:,} "
            "dllab reads"
        )
    fields = [c.strip().strip('"') for c in first.rstrip("\r").split(",")]
    try:
        [float(c) for c in fields]
        header: list[str] = []
    except ValueError:
        header = fields
    if len(fields) < 2:
        raise DatasetError(f"{path}: needs a label column and at least one feature column")
    lines = _data_lines(raw, len(fields), path, bool(header))
    if isinstance(label_column, int):
        col = label_column
    elif label_column is not None:
        if label_column not in header:
            known = ", ".join(quote(h, 20) for h in header[:8])
            raise DatasetError(f"{path}: no column named {quote(label_column)} (columns: {known or 'none'})")
        col = header.index(label_column)
    else:
        lowered = [h.lower() for h in header]
        col = next((lowered.index(c) for c in LABEL_COLUMNS if c in lowered), 0)
    if not -len(fields) <= col < len(fields):
        raise DatasetError(f"{path}: label column {col} does not exist ({len(fields)} columns)")
    col %= len(fields)
    features = [i for i in range(len(fields)) if i != col]
    options = {"delimiter": ",", "skiprows": 1 if header else 0, "quotechar": '"', "comments": None}
    try:
        x = np.loadtxt(_text(raw), usecols=features, dtype=np.float64, ndmin=2, **options)
    except UnicodeDecodeError:
        raise DatasetError(f"{path}: cannot be read as text (it is not UTF-8)") from None
    except ValueError as exc:
        raise DatasetError(f"{path}: {exc}") from None
    try:
        numbers = np.loadtxt(_text(raw), usecols=[col], dtype=np.float64, ndmin=1, **options)
    except ValueError:  # text labels: read as text when the data set is built
        numbers = None
    if len(x) != len(lines) or (numbers is not None and len(numbers) != len(lines)):
        raise DatasetError(f"{path}: has quoted line breaks or carriage returns inside a row")
    found = unusable_value(x)
    if found is not None:
        row, position, value = found
        raise DatasetError(
            f"{path}: line {lines[row]} holds {describe_value(value)} in column "
            f"{_column(header, features[position])}"
        )
    return _Table(path, raw, x, numbers, header, lines, col, options)


def _csv_labels(tables: list[_Table]) -> list[np.ndarray]:
    """The label columns of the tables: float64 when every label is a number, else their text.

    Numbers must be finite and within the float32 range: ``nan`` or ``inf`` in a label column is refused,
    naming its line, so that it neither turns a classification set into a regression set nor becomes a
    class index.
    """
    if any(t.numbers is None for t in tables):
        return [t.text_labels() for t in tables]
    for table in tables:
        found = unusable_value(table.numbers)
        if found is not None:
            row, _, value = found
            raise DatasetError(
                f"{table.path}: the label on line {table.lines[row]} is not a usable number "
                f"({describe_value(value)})"
            )
    return [t.numbers for t in tables]


def load_csv(
    path: Path | str,
    *,
    label_column: str | int | None = None,
    name: str | None = None,
    seed: int = 0,
    test_fraction: float = LOCAL_TEST_FRACTION,
) -> Dataset:
    """Load a CSV table with one row per sample and a label column.

    Parameters
    ----------
    path : pathlib.Path or str
        Comma-separated file, with or without a header row. When its name contains ``train`` and a file
        with ``test`` in its place exists beside it (``mnist_train.csv`` / ``mnist_test.csv``), that file
        is the test set.
    label_column : str or int, optional
        Name or index of the label column; by default the first column named label, labels, class,
        target or y (any case), else the first column.
    name : str, optional
        Dataset name; the file's stem when None.
    seed : int
        Seed of the test split when there is no test file.
    test_fraction : float
        Share held out as the test set when there is no test file.

    Returns
    -------
    Dataset
        The table's rows as samples: the test file's rows as the test set, or ``test_fraction`` held out.

    Raises
    ------
    DatasetError
        The file cannot be read, its rows differ in length, or a value cannot be used (text among the
        features, NaN, infinity, ...); the message names the file and the line.
    """
    path = Path(path)
    tables = [_read_csv(path, label_column)]
    if "train" in path.name:
        test_path = path.with_name(path.name.replace("train", "test"))
        if test_path.is_file():
            test = _read_csv(test_path, label_column)
            if test.header != tables[0].header or test.x.shape[1] != tables[0].x.shape[1]:
                raise DatasetError(f"{test_path}: its columns differ from those of {path.name}")
            tables.append(test)
    labels = _csv_labels(tables)
    parts = [
        _Part(t.x, y, str(t.path), "the features", "the labels") for t, y in zip(tables, labels, strict=True)
    ]
    return _build(path, name, parts, class_names=None, task=None, seed=seed, test_fraction=test_fraction)
