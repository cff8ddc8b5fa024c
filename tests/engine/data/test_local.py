"""Local files: .npz archives and CSV tables, with their layouts, labels and errors."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest

from dllab.data import DatasetError, load_csv, load_dataset, load_npz


def test_npz_with_x_and_y_gets_a_stratified_test_split(tmp_path: Path) -> None:
    x = np.random.default_rng(0).random((100, 5)).astype(np.float64)
    y = np.arange(100) % 4
    np.savez(tmp_path / "table.npz", x=x, y=y)
    ds = load_dataset(tmp_path / "table.npz")
    assert ds.name == "table" and ds.input_shape == (5,) and ds.x_train.dtype == np.float32
    assert len(ds.x_train) == 80 and np.bincount(ds.y_test).tolist() == [5] * 4
    assert ds.class_names == ["0", "1", "2", "3"] and ds.task == "classification"


def test_npz_keras_layout_images_and_class_names(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    np.savez_compressed(
        tmp_path / "mnist.npz",
        x_train=rng.integers(0, 256, (30, 28, 28), dtype=np.uint8),
        y_train=np.arange(30) % 3,
        x_test=rng.integers(0, 256, (9, 28, 28), dtype=np.uint8),
        y_test=np.arange(9) % 3,
        class_names=np.array(["cat", "dog", "fox"]),
    )
    ds = load_npz(tmp_path / "mnist.npz")
    assert ds.x_train.shape == (30, 1, 28, 28) and ds.x_train.dtype == np.uint8 and len(ds.x_test) == 9
    assert ds.class_names == ["cat", "dog", "fox"]


def test_npz_channels_last_one_hot_and_regression(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    nhwc = rng.random((20, 8, 8, 3)).astype(np.float32)
    np.savez(tmp_path / "rgb.npz", x=nhwc, y=np.eye(5)[np.arange(20) % 5])
    ds = load_npz(tmp_path / "rgb.npz", test_fraction=0.25)
    assert ds.input_shape == (3, 8, 8) and ds.num_classes == 5 and len(ds.x_test) == 5
    np.savez(tmp_path / "reg.npz", x=rng.random((40, 2)), y=rng.random(40))
    reg = load_npz(tmp_path / "reg.npz")
    assert reg.task == "regression" and reg.y_train.shape == (32, 1) and reg.y_train.dtype == np.float32
    np.savez(tmp_path / "forced.npz", x=rng.random((40, 2)), y=np.arange(40) % 3, task="regression")
    assert load_npz(tmp_path / "forced.npz").task == "regression"


@pytest.mark.parametrize(
    ("arrays", "pattern"),
    [
        ({"a": np.zeros(3)}, r"needs arrays 'x' and 'y'.*found \['a'\]"),
        ({"x": np.zeros((3, 2)), "y": np.zeros(4)}, "3 samples but 4 labels"),
        ({"x": np.zeros((4, 2)), "y": np.array([0, 1, -1, 0])}, "label -1 is out of range"),
        ({"x": np.zeros((4, 2)), "y": np.zeros(4), "x_test": np.zeros((2, 2))}, "only one of"),
        ({"x": np.zeros((4, 5, 5, 5, 5)), "y": np.zeros(4)}, "cannot tell the layout"),
        (
            {
                "x": np.zeros((4, 2)),
                "y": np.array([0, 1, 0, 1]),
                "class_names": np.array(["a"]),
                "task": "classification",
            },
            r"label 1 is out of range \(1 class names\)",
        ),
        ({"x": np.zeros((4, 2)), "y": np.zeros(4), "task": "clustering"}, "'task' must be"),
    ],
)
def test_npz_errors(tmp_path: Path, arrays: dict, pattern: str) -> None:
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(DatasetError, match=pattern) as info:
        load_npz(path)
    assert "bad.npz" in str(info.value)


def test_npz_text_labels_and_forced_task(tmp_path: Path) -> None:
    x = np.arange(40, dtype=np.float32).reshape(20, 2)
    y = np.array(["b", "a", "c", "a"] * 5)
    np.savez(tmp_path / "t.npz", x=x, y=y, x_test=x[:4], y_test=y[:4], class_names=np.array(["c", "b", "a"]))
    ds = load_npz(tmp_path / "t.npz")
    assert ds.class_names == ["c", "b", "a"] and ds.y_test.tolist() == [1, 2, 0, 2]
    np.savez(tmp_path / "u.npz", x=x, y=y, class_names=np.array(["a", "b"]))
    with pytest.raises(DatasetError, match=r"labels \['c'\] are not among the class names"):
        load_npz(tmp_path / "u.npz")
    np.savez(tmp_path / "f.npz", x=x, y=np.linspace(0, 1, 20), task="classification")
    with pytest.raises(DatasetError, match="whole numbers"):
        load_npz(tmp_path / "f.npz")
    np.save(tmp_path / "single.npy", x)
    (tmp_path / "single.npy").rename(tmp_path / "single.npz")
    with pytest.raises(DatasetError, match="holds a single array"):
        load_npz(tmp_path / "single.npz")


def test_npz_never_unpickles_and_rejects_damage(tmp_path: Path) -> None:
    np.savez(tmp_path / "obj.npz", x=np.array([{"evil": 1}], dtype=object), y=np.zeros(1))
    with pytest.raises(DatasetError, match=r"obj\.npz: holds a pickled object array 'x'"):
        load_npz(tmp_path / "obj.npz")
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DatasetError, match=r"junk\.npz"):
        load_npz(tmp_path / "junk.npz")
    with pytest.raises(DatasetError, match=r"absent\.npz: does not exist"):
        load_npz(tmp_path / "absent.npz")


def _write_csv(path: Path, header: str | None, rows: list[list[object]]) -> Path:
    lines = ([header] if header else []) + [",".join(str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_csv_with_header_and_label_column(tmp_path: Path) -> None:
    rows = [[i * 0.5, i % 3, -i] for i in range(30)]
    ds = load_csv(_write_csv(tmp_path / "points.csv", "a,Label,b", rows))
    assert ds.input_shape == (2,) and ds.num_classes == 3 and len(ds.x_test) == 6
    both = np.concatenate([ds.x_train, ds.x_test])
    assert sorted(both[:, 0].tolist()) == [i * 0.5 for i in range(30)]
    assert set(both[:, 1].tolist()) == {float(-i) for i in range(30)}


def test_csv_mnist_style_train_and_test_files(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    train = [[i % 10, *rng.integers(0, 256, 784)] for i in range(20)]
    test = [[i % 10, *rng.integers(0, 256, 784)] for i in range(10)]
    train[0][5] = 255
    _write_csv(tmp_path / "mnist_test.csv", None, test)
    ds = load_dataset(_write_csv(tmp_path / "mnist_train.csv", None, train))
    assert ds.x_train.shape == (20, 1, 28, 28) and ds.x_train.dtype == np.uint8
    assert ds.x_test.shape == (10, 1, 28, 28)
    np.testing.assert_array_equal(ds.y_train, np.arange(20) % 10)
    np.testing.assert_array_equal(ds.x_test[3].ravel(), test[3][1:])


def test_csv_text_labels_and_regression(tmp_path: Path) -> None:
    rows = [[f"{i / 10}", f"{(i * 7) % 5}", ["setosa", "virginica"][i % 2]] for i in range(20)]
    ds = load_csv(_write_csv(tmp_path / "iris.csv", "x1,x2,species", rows), label_column="species")
    assert ds.class_names == ["setosa", "virginica"] and ds.input_shape == (2,)
    reg = load_csv(_write_csv(tmp_path / "r.csv", "target,u", [[i * 0.37, i] for i in range(20)]))
    assert reg.task == "regression" and reg.y_train.shape == (16, 1)


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        ("", "is empty"),
        ("label\n1\n2\n", "needs a label column and at least one feature"),
        ("label,a\n1,2\n1,2,3\n", "line 3 has 3 columns, the first line has 2"),
        ("1,2\n\n3\n", "line 3 has 1 columns"),
        ("label,a\n1,2\n0,oops\n", "could not convert string 'oops'"),
        ("label,a\n1,2\n0,nan\n", "line 3 holds NaN in column 'a'"),
        ("label,a\n", "no data rows"),
    ],
)
def test_csv_errors(tmp_path: Path, content: str, pattern: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(DatasetError, match=pattern) as info:
        load_csv(path)
    assert "bad.csv" in str(info.value)


def test_csv_unknown_label_column(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "t.csv", "a,b", [[1, 2], [3, 4]])
    with pytest.raises(DatasetError, match="no column named 'cls'"):
        load_csv(path, label_column="cls")


# --- values that cannot be learnt from, and shapes that are not data sets -------------------------------


@pytest.mark.parametrize(
    ("arrays", "pattern"),
    [
        (
            {"x": np.array([[0, 1], [2, np.nan], [1, 1]] * 4), "y": np.arange(12) % 2},
            "array 'x' holds NaN at sample 1",
        ),
        (
            {
                "x_train": np.zeros((6, 2)),
                "y_train": np.arange(6) % 2,
                "x_test": np.array([[0, 1], [np.inf, 0]]),
                "y_test": np.array([0, 1]),
            },
            "array 'x_test' holds infinity at sample 1",
        ),
        (
            {"x": np.full((6, 2), 1e300), "y": np.arange(6) % 2},
            "array 'x' holds 1e\\+300, beyond the range of 32-bit floats at sample 0",
        ),
        ({"x": np.zeros((6, 2)), "y": np.array([0, 1, 0, 1, np.nan, 0])}, "array 'y' holds NaN at sample 4"),
        (
            {"x": np.zeros((6, 2)), "y": np.array([0.5, 1, 0, 1, -np.inf, 0]), "task": "regression"},
            "array 'y' holds -infinity at sample 4",
        ),
        ({"x": np.zeros((6, 0)), "y": np.arange(6) % 2}, r"array 'x' of shape \(6, 0\) holds no features"),
        ({"x": np.zeros((0, 3)), "y": np.zeros(0)}, "array 'x' holds no samples"),
        (
            {"x": np.zeros((6, 2)), "y": np.array("abc")},
            "array 'y' is a single value, not one label per sample",
        ),
        (
            {"x": np.zeros((3, 2)), "y": np.array([["a", "b"]] * 3)},
            r"one per sample, array 'y' has shape \(3, 2\)",
        ),
        (
            {"x": np.zeros((6, 2)), "y": np.array([b"a", b"b", b"\xff", b"a", b"b", b"a"])},
            "array 'y' holds bytes that are not ASCII text at sample 2",
        ),
        (
            {"x": np.zeros((6, 2)), "y": np.arange(6) % 2, "class_names": np.array([b"a", b"\xe9"])},
            "'class_names' holds bytes that are not ASCII text at position 1",
        ),
        (
            {"x": np.zeros((6, 2)), "y": np.array([0, 1, 2, 0, 1, 2 * 10**7])},
            "the label 20000000 would make more than the 100,000 classes",
        ),
        (
            {"x": np.zeros((6, 2)), "y": np.arange(6) % 2, "task": np.array(["regression", "x"])},
            "'task' must be",
        ),
        (
            {"x": np.zeros((6, 2), complex), "y": np.arange(6) % 2},
            "array 'x' must hold numbers, not complex128",
        ),
    ],
)
def test_npz_values_and_shapes_that_cannot_be_used_are_refused(
    tmp_path: Path, arrays: dict, pattern: str
) -> None:
    path = tmp_path / "data.npz"
    np.savez(path, **arrays)
    with pytest.raises(DatasetError, match=pattern) as info:
        load_npz(path)
    assert str(info.value).startswith(f"{path}: ")


def test_npz_byte_labels_and_class_names_are_text(tmp_path: Path) -> None:
    y = np.array([b"cat", b"dog"] * 5)
    np.savez(
        tmp_path / "b.npz", x=np.arange(20.0).reshape(10, 2), y=y, class_names=np.array([b"dog", b"cat"])
    )
    ds = load_npz(tmp_path / "b.npz")
    assert ds.class_names == ["dog", "cat"] and ds.num_classes == 2


@pytest.mark.parametrize("n", [1, 2])
def test_npz_too_small_for_a_test_split_is_refused(tmp_path: Path, n: int) -> None:
    np.savez(tmp_path / "tiny.npz", x=np.ones((n, 2)), y=np.zeros(n))
    with pytest.raises(DatasetError, match=rf"tiny\.npz: too few samples \({n}\) to hold out 20% of them"):
        load_npz(tmp_path / "tiny.npz")
    ds = load_npz(tmp_path / "tiny.npz", test_fraction=0.5) if n == 2 else None
    assert ds is None or (len(ds.x_train), len(ds.x_test)) == (1, 1)
    with pytest.raises(DatasetError, match=r"the test fraction must lie between 0 and 1, not 1\.5"):
        load_npz(tmp_path / "tiny.npz", test_fraction=1.5)


def _zip_flags(data: bytes, flags: int) -> bytes:
    """A zip archive with the general purpose flags of every member (local and central headers) set."""
    out = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = out.find(signature)
        while start >= 0:
            out[start + offset : start + offset + 2] = flags.to_bytes(2, "little")
            start = out.find(signature, start + 4)
    return bytes(out)


def test_npz_encrypted_or_bit_flipped_members_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.npz"
    np.savez_compressed(path, x=np.arange(400.0).reshape(100, 4), y=np.arange(100) % 3)
    good = path.read_bytes()
    path.write_bytes(_zip_flags(good, 0x1))
    with pytest.raises(DatasetError, match=r"a\.npz: holds an encrypted array"):
        load_npz(path)
    flipped = bytearray(good)
    flipped[len(good) // 4] ^= 0x10  # inside the first member's compressed data
    path.write_bytes(bytes(flipped))
    with pytest.raises(DatasetError, match=r"a\.npz: "):
        load_npz(path)


@pytest.mark.parametrize("loader", [load_npz, load_csv])
def test_pipes_devices_and_folders_are_refused_without_reading(tmp_path: Path, loader) -> None:
    fifo = tmp_path / "pipe.data"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []

    def load() -> None:
        try:
            loader(fifo)
        except BaseException as exc:  # the test thread reports whatever it raised
            outcome.append(exc)

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), "opening a FIFO blocked"
    assert isinstance(outcome[0], DatasetError) and "pipe.data: is not a regular file" in str(outcome[0])
    with pytest.raises(DatasetError, match="/dev/zero: is not a regular file"):
        loader("/dev/zero")
    with pytest.raises(DatasetError, match="is a folder, not a file"):
        loader(tmp_path)


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        ("label,a\nnan,2\n0,3\n1,4\n", "the label on line 2 is not a usable number \\(NaN\\)"),
        ("label,a\n0,2\ninf,3\n1,4\n", "the label on line 3 is not a usable number \\(infinity\\)"),
        (
            "label,a\n0,2\n1,3\n" + "9" * 5000 + ",4\n",
            "the label on line 4 is not a usable number \\(infinity\\)",
        ),
        ("label,a\n0,2\n1," + "9" * 5000 + "\n", "line 3 holds infinity in column 'a'"),
        ("0,2\n1,-inf\n", "line 2 holds -infinity in column 2"),
        ("label,a\n0,1e39\n1,2\n", "line 2 holds 1e\\+39, beyond the range of 32-bit floats in column 'a'"),
        ("label,a\n1,2\n", "too few samples \\(1\\) to hold out 20%"),
        ("label,a\n0,\xe9\n", "could not convert string"),
        ("x," * 300_000 + "y\n", "the first line has 300,001 columns, more than the 250,000"),
    ],
)
def test_csv_values_that_cannot_be_used_are_refused(tmp_path: Path, content: str, pattern: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(DatasetError, match=pattern) as info:
        load_csv(path)
    assert str(info.value).startswith(f"{path}: ")


def test_csv_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    (tmp_path / "latin.csv").write_bytes(b"label,a\n0,1\n\xff\xfe,2\n")
    with pytest.raises(DatasetError, match=r"latin\.csv: cannot be read as text \(it is not UTF-8\)"):
        load_csv(tmp_path / "latin.csv")


def test_csv_nan_in_the_test_file_names_the_test_file(tmp_path: Path) -> None:
    _write_csv(tmp_path / "s_train.csv", "label,a", [[i % 2, i] for i in range(6)])
    _write_csv(tmp_path / "s_test.csv", "label,a", [[0, 1], [1, "nan"]])
    with pytest.raises(DatasetError, match=r"s_test\.csv: line 3 holds NaN in column 'a'"):
        load_csv(tmp_path / "s_train.csv")
