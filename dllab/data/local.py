"""Local data files: ``.npz`` archives with ``x``/``y`` arrays and CSV tables with a label column.

Samples are arranged like every other data set: images ``(N, C, H, W)``, feature vectors ``(N, D)``. Rows of
a CSV file (or 2-dimensional ``x`` arrays) whose length is a square number of at least 64 and whose values
are non-negative integers are read as square one-channel images (784 values: 1 x 28 x 28); 8-bit pixel
values (integers up to 255, some at least 128) are stored as uint8. Labels that are integers (or one-hot
rows, or text) make a classification set; other numbers make a regression set. Without a separate test set
(``x_test``/``y_test`` in the archive, or a ``...test...csv`` beside a ``...train...csv``), a seeded,
stratified 20% of the samples becomes the test set.
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import numpy as np

from dllab.data.dataset import Dataset, DatasetError
from dllab.data.split import stratified_split

LOCAL_TEST_FRACTION = 0.2
LABEL_COLUMNS = ("label", "labels", "class", "target", "y")


def _as_samples(x: np.ndarray, path: Path, key: str) -> np.ndarray:
    """Arrange samples as ``(N, C, H, W)`` images or ``(N, D)`` features; uint8 or float32."""
    if x.dtype.kind not in "biuf":
        raise DatasetError(f"{path}: {key!r} must hold numbers, not {x.dtype}")
    if x.ndim == 2:
        side = math.isqrt(x.shape[1])
        integral = x.size and x.min() >= 0 and (x.dtype.kind in "biu" or np.all(x == np.round(x)))
        if side >= 8 and side * side == x.shape[1] and integral:
            x = x.reshape(len(x), 1, side, side)
    elif x.ndim == 1 or x.ndim == 3:
        x = x[:, None]
    elif x.ndim == 4 and x.shape[1] not in (1, 3, 4) and x.shape[3] in (1, 3, 4):
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    elif x.ndim != 4:
        raise DatasetError(
            f"{path}: cannot tell the layout of {key!r} with shape {x.shape}; expected (N, D), (N, H, W), "
            "(N, C, H, W) or (N, H, W, C)"
        )
    if x.dtype == np.uint8:
        return x
    if x.ndim == 4 and x.size and 128 <= x.max() <= 255 and x.min() >= 0 and np.all(x == np.round(x)):
        return x.astype(np.uint8)  # 8-bit pixels
    return x.astype(np.float32)


def _labels(
    ys: list[np.ndarray], path: Path, class_names: list[str] | None, task: str | None
) -> tuple[list[np.ndarray], list[str], str]:
    """Turn raw label arrays (training, test) into class indices or float targets."""
    if any(y.dtype.kind in "US" for y in ys):
        names, inverse = np.unique(np.concatenate([y.ravel().astype(str) for y in ys]), return_inverse=True)
        if class_names is None:
            class_names = names.tolist()
        position = {n: i for i, n in enumerate(class_names)}
        mapping = np.array([position.get(n, -1) for n in names.tolist()], dtype=np.int64)
        if np.any(mapping < 0):
            raise DatasetError(
                f"{path}: labels {names[mapping < 0][:5].tolist()} are not among the class names"
            )
        indices = np.split(mapping[inverse.ravel()], np.cumsum([y.size for y in ys])[:-1])
        return indices, class_names, task or "classification"
    if any(y.dtype.kind not in "biuf" for y in ys):
        raise DatasetError(f"{path}: labels must be numbers or text, not {ys[0].dtype}")
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
    indices = [np.argmax(y, axis=1) if one_hot else y.reshape(len(y), -1) for y in ys]
    if any(y.ndim != 1 and y.shape[1] != 1 for y in indices):
        raise DatasetError(f"{path}: class labels must be one per sample, got shape {ys[0].shape}")
    indices = [y.ravel().astype(np.int64) for y in indices]
    low = min((int(y.min()) for y in indices if y.size), default=0)
    if low < 0:
        raise DatasetError(f"{path}: label {low} is out of range (class labels must be at least 0)")
    top = max((int(y.max()) for y in indices if y.size), default=0)
    if class_names is None:
        class_names = [str(i) for i in range(top + 1)]
    elif top >= len(class_names):
        raise DatasetError(f"{path}: label {top} is out of range ({len(class_names)} class names)")
    return indices, class_names, task


def _build(
    path: Path,
    name: str | None,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray | None,
    y_test: np.ndarray | None,
    *,
    class_names: list[str] | None,
    task: str | None,
    seed: int,
    test_fraction: float,
    keys: tuple[str, str] = ("x", "y"),
) -> Dataset:
    x_train = _as_samples(x_train, path, keys[0])
    if len(x_train) != len(y_train):
        raise DatasetError(f"{path}: {len(x_train)} samples but {len(y_train)} labels")
    if x_test is None or y_test is None:
        (y_train,), class_names, task = _labels([y_train], path, class_names, task)
        keep, held = stratified_split(y_train, test_fraction, np.random.default_rng(seed))
        x_train, x_test, y_train, y_test = x_train[keep], x_train[held], y_train[keep], y_train[held]
    else:
        x_test = _as_samples(x_test, path, "x_test")
        if len(x_test) != len(y_test):
            raise DatasetError(f"{path}: {len(x_test)} test samples but {len(y_test)} test labels")
        (y_train, y_test), class_names, task = _labels([y_train, y_test], path, class_names, task)
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


def load_npz(
    path: Path | str, *, name: str | None = None, seed: int = 0, test_fraction: float = LOCAL_TEST_FRACTION
) -> Dataset:
    """Load a NumPy ``.npz`` archive (never unpickling anything).

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
    """
    path = Path(path)
    try:
        # Opened here so that the file is closed even when numpy cannot parse it.
        with path.open("rb") as f:
            archive = np.load(f, allow_pickle=False)
            if not isinstance(archive, np.lib.npyio.NpzFile):
                raise DatasetError(f"{path}: holds a single array, not an .npz archive with x and y")
            with archive:
                arrays = {key: archive[key] for key in archive.files}
    except FileNotFoundError:
        raise DatasetError(f"{path}: file not found") from None
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise DatasetError(f"{path}: not a readable .npz archive ({exc})") from None
    if {"x_train", "y_train"} <= arrays.keys():
        train_keys = ("x_train", "y_train")
    elif {"x", "y"} <= arrays.keys():
        train_keys = ("x", "y")
    else:
        raise DatasetError(
            f"{path}: needs arrays 'x' and 'y' (or 'x_train', 'y_train'), found {sorted(arrays) or 'none'}"
        )
    if ("x_test" in arrays) != ("y_test" in arrays):
        raise DatasetError(f"{path}: has only one of 'x_test' and 'y_test'")
    names = arrays.get("class_names")
    task = str(arrays["task"]) if "task" in arrays else None
    if task is not None and task not in ("classification", "regression"):
        raise DatasetError(f"{path}: 'task' must be 'classification' or 'regression', not {task!r}")
    return _build(
        path,
        name,
        arrays[train_keys[0]],
        arrays[train_keys[1]],
        arrays.get("x_test"),
        arrays.get("y_test"),
        class_names=None if names is None else [str(n) for n in names.ravel()],
        task=task,
        seed=seed,
        test_fraction=test_fraction,
        keys=train_keys,
    )


def _check_rows(raw: bytes, columns: int, path: Path, header: bool) -> None:
    """Every non-blank line has ``columns`` fields (counted by commas, vectorised over the whole file)."""
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


def _read_csv(path: Path, label_column: str | int | None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Features (float64) and labels (strings) of one CSV file, and its header (empty when it has none)."""
    try:
        raw = path.read_bytes()
        first = raw.split(b"\n", 1)[0].decode("utf-8-sig")
    except FileNotFoundError:
        raise DatasetError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: cannot be read as text ({exc})") from None
    if not first.strip():
        raise DatasetError(f"{path}: the file is empty or starts with a blank line")
    fields = [c.strip().strip('"') for c in first.rstrip("\r").split(",")]
    try:
        [float(c) for c in fields]
        header: list[str] = []
    except ValueError:
        header = fields
    if len(fields) < 2:
        raise DatasetError(f"{path}: needs a label column and at least one feature column")
    _check_rows(raw, len(fields), path, bool(header))
    if isinstance(label_column, int):
        col = label_column
    elif label_column is not None:
        if label_column not in header:
            raise DatasetError(f"{path}: no column named {label_column!r} (columns: {', '.join(header[:8])})")
        col = header.index(label_column)
    else:
        lowered = [h.lower() for h in header]
        col = next((lowered.index(c) for c in LABEL_COLUMNS if c in lowered), 0)
    if not -len(fields) <= col < len(fields):
        raise DatasetError(f"{path}: label column {col} does not exist ({len(fields)} columns)")
    col %= len(fields)
    features = [i for i in range(len(fields)) if i != col]
    options = {"delimiter": ",", "skiprows": 1 if header else 0, "encoding": "utf-8-sig", "quotechar": '"'}
    try:
        x = np.loadtxt(path, usecols=features, dtype=np.float64, ndmin=2, **options)
        y = np.loadtxt(path, usecols=[col], dtype=str, ndmin=1, **options)
    except ValueError as exc:
        raise DatasetError(f"{path}: {exc}") from None
    if not np.all(np.isfinite(x)):
        raise DatasetError(f"{path}: contains missing or infinite values")
    return x, np.char.strip(y, '"'), header


def _parse_labels(y: np.ndarray) -> np.ndarray:
    """CSV labels as numbers when they all are, else as text."""
    try:
        values = y.astype(np.float64)
    except ValueError:
        return y
    return values.astype(np.int64) if np.all(values == np.round(values)) else values


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
    """
    path = Path(path)
    x, y, header = _read_csv(path, label_column)
    x_test = y_test = None
    if "train" in path.name:
        test_path = path.with_name(path.name.replace("train", "test"))
        if test_path.is_file():
            x_test, y_test, test_header = _read_csv(test_path, label_column)
            if test_header != header or x_test.shape[1] != x.shape[1]:
                raise DatasetError(f"{test_path}: its columns differ from those of {path.name}")
            y_test = _parse_labels(y_test)
    y = _parse_labels(y)
    if y_test is not None and (y.dtype.kind == "U") != (y_test.dtype.kind == "U"):
        y, y_test = y.astype(str), y_test.astype(str)
    return _build(
        path, name, x, y, x_test, y_test, class_names=None, task=None, seed=seed, test_fraction=test_fraction
    )
