"""load_dataset by name and path, the list the GUI shows, system folders, and the no-Qt rule."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import dllab.data.download as download
import dllab.data.registry as registry
from dllab.data import DATASET_NAMES, Dataset, DatasetError, dataset_info, describe, load_dataset
from tests.engine.data.helpers import small_mnist, write_idx_folder


def test_names_in_display_order() -> None:
    assert DATASET_NAMES == (
        "spiral",
        "moons",
        "circles",
        "xor",
        "blobs",
        "regression",
        "shapes",
        "mnist",
        "fashion-mnist",
        "kmnist",
    )
    for name in DATASET_NAMES:
        line = describe(name)
        assert line and "\n" not in line
    assert dataset_info("Fashion_MNIST").allows_flip
    assert not dataset_info("mnist").allows_flip and not dataset_info("shapes").allows_flip
    assert dataset_info("spiral").variable_classes and not dataset_info("moons").variable_classes
    assert dataset_info("regression").task == "regression"
    assert dataset_info("shapes").input_shape == (1, 28, 28)


@pytest.mark.parametrize("name", [n for n in DATASET_NAMES if dataset_info(n).kind != "download"])
def test_generated_sets_match_their_info(name: str) -> None:
    info = dataset_info(name)
    ds = load_dataset(name.upper(), n_samples=200)
    assert isinstance(ds, Dataset)
    assert ds.input_shape == info.input_shape and ds.task == info.task and ds.num_classes == info.num_classes


def test_unknown_name_lists_known_names() -> None:
    with pytest.raises(DatasetError, match=r"unknown dataset 'cifar10'; known names: spiral, moons.*kmnist"):
        load_dataset("cifar10")
    with pytest.raises(DatasetError, match="unknown dataset"):
        describe("cifar10")


def test_paths(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such file or folder"):
        load_dataset(tmp_path / "nothing.npz")
    with pytest.raises(DatasetError, match="no such file or folder"):
        load_dataset(str(tmp_path / "missing"))
    (tmp_path / "data.json").write_text("{}")
    with pytest.raises(DatasetError, match=r"unsupported file type \.json"):
        load_dataset(tmp_path / "data.json")


def test_idx_folder_by_path_gets_class_names_from_its_name(tmp_path: Path) -> None:
    folder = write_idx_folder(tmp_path / "fashion-mnist-copy", small_mnist())
    ds = load_dataset(str(folder))
    assert ds.class_names[0] == "T-shirt/top" and ds.name == "fashion-mnist-copy"


def test_system_folder_is_used_before_downloading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    system = write_idx_folder(tmp_path / "usr-share-datasets-fashion-mnist", small_mnist(n_train=40))
    monkeypatch.setitem(registry.SYSTEM_DIRS, "fashion-mnist", [tmp_path / "absent", system])
    monkeypatch.setitem(download.MIRRORS, "fashion-mnist", [])  # a download attempt would fail
    ds = load_dataset("fashion-mnist", cache_dir=tmp_path / "cache")
    assert len(ds.x_train) == 40 and ds.class_names[-1] == "Ankle boot" and ds.source == str(system)
    assert not (tmp_path / "cache").exists()  # nothing copied or downloaded


def test_cache_is_preferred_to_the_system_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    system = write_idx_folder(tmp_path / "system", small_mnist(n_train=40))
    write_idx_folder(tmp_path / "cache" / "fashion-mnist", small_mnist(n_train=50), compress=False)
    monkeypatch.setitem(registry.SYSTEM_DIRS, "fashion-mnist", [system])
    assert len(load_dataset("fashion-mnist", cache_dir=tmp_path / "cache").x_train) == 50


def test_seed_is_passed_to_generated_sets() -> None:
    a = load_dataset("moons", seed=3, noise=0.2, n_samples=100)
    b = load_dataset("moons", seed=np.random.default_rng(3), noise=0.2, n_samples=100)
    np.testing.assert_array_equal(a.x_train, b.x_train)


def test_importing_dllab_data_loads_no_qt() -> None:
    code = "import sys, dllab.data; print(sorted(m for m in sys.modules if m.split('.')[0] in {'PySide6', 'pyqtgraph', 'ui'}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", [5, 5.0, None, b"mnist", ["mnist"]])
def test_a_name_that_is_not_text_is_an_unknown_dataset(name: object) -> None:
    with pytest.raises(DatasetError, match="unknown dataset"):
        load_dataset(name)


@pytest.mark.parametrize("name", ["5", "x" * 5000, "~nobody-at-all/set", "a\0b"])
def test_odd_names_are_refused_clearly(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DatasetError) as info:
        load_dataset(name)
    assert len(str(info.value)) < 400 and "\n" not in str(info.value)


def test_a_pipe_named_like_a_data_file_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "data.csv"
    os.mkfifo(fifo)
    with pytest.raises(DatasetError, match=r"data\.csv: is not a regular file"):
        load_dataset(fifo)
    with pytest.raises(DatasetError, match="unsupported file type"):
        load_dataset("/dev/zero")
