"""Local files: .npz archives and CSV tables, with their layouts, labels and errors."""

from __future__ import annotations

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
    with pytest.raises(DatasetError, match=r"obj\.npz: not a readable \.npz archive"):
        load_npz(tmp_path / "obj.npz")
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DatasetError, match=r"junk\.npz"):
        load_npz(tmp_path / "junk.npz")
    with pytest.raises(DatasetError, match="file not found"):
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
        ("label,a\n1,2\n0,nan\n", "missing or infinite"),
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
