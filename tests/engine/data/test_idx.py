"""IDX reading and validation: every kind of damage gives a clear error naming the file."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from dllab.data import Dataset, DatasetError, load_idx_folder, read_idx
from dllab.data.idx import IDX_FILES, find_idx_files, parse_idx, read_idx_pair
from tests.engine.data.helpers import idx_bytes, small_mnist, write_idx_folder


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_round_trip_every_idx_type(tmp_path: Path, dtype: type) -> None:
    array = (np.arange(2 * 3 * 4) - 7).astype(dtype).reshape(2, 3, 4)
    if dtype == np.uint8:
        array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / "a.idx"
    path.write_bytes(idx_bytes(array))
    out = read_idx(path)
    assert out.shape == (2, 3, 4)
    assert out.dtype.isnative
    np.testing.assert_array_equal(out, array)
    out[0, 0, 0] = 1  # writable


def test_gzip_is_detected_by_content_not_name(tmp_path: Path) -> None:
    array = np.arange(10, dtype=np.uint8)
    (tmp_path / "labels.bin").write_bytes(gzip.compress(idx_bytes(array)))
    (tmp_path / "labels.gz").write_bytes(idx_bytes(array))  # misnamed: raw data
    np.testing.assert_array_equal(read_idx(tmp_path / "labels.bin"), array)
    np.testing.assert_array_equal(read_idx(tmp_path / "labels.gz"), array)


def test_magic_numbers_of_mnist_files() -> None:
    images = idx_bytes(np.zeros((2, 28, 28), np.uint8))
    labels = idx_bytes(np.zeros(2, np.uint8))
    assert int.from_bytes(images[:4], "big") == 2051
    assert int.from_bytes(labels[:4], "big") == 2049
    assert parse_idx(images).shape == (2, 28, 28)


def test_load_idx_folder(idx_folder: Path, mnist_arrays: dict[str, np.ndarray]) -> None:
    ds = load_idx_folder(idx_folder, name="tiny", class_names=[str(i) for i in range(10)])
    assert isinstance(ds, Dataset)
    assert ds.name == "tiny"
    assert ds.x_train.shape == (60, 1, 28, 28) and ds.x_train.dtype == np.uint8
    assert ds.x_test.shape == (20, 1, 28, 28)
    assert ds.y_train.dtype == np.int64
    np.testing.assert_array_equal(ds.x_train[:, 0], mnist_arrays["train_images"])
    np.testing.assert_array_equal(ds.y_test, mnist_arrays["test_labels"])
    assert ds.input_shape == (1, 28, 28)
    assert ds.num_classes == 10


def test_uncompressed_and_dotted_names_are_found(tmp_path: Path, mnist_arrays: dict[str, np.ndarray]) -> None:
    folder = write_idx_folder(tmp_path / "raw", mnist_arrays, compress=False)
    (folder / "train-images-idx3-ubyte").rename(folder / "train-images.idx3-ubyte")
    ds = load_idx_folder(folder)
    assert len(ds.x_train) == 60
    assert ds.class_names == [str(i) for i in range(10)]  # inferred from the labels


def test_missing_files_are_named(tmp_path: Path, mnist_arrays: dict[str, np.ndarray]) -> None:
    folder = write_idx_folder(tmp_path / "partial", mnist_arrays)
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DatasetError, match=r"partial.*missing t10k-labels-idx1-ubyte\.gz"):
        find_idx_files(folder)
    with pytest.raises(DatasetError, match="folder not found"):
        find_idx_files(tmp_path / "nowhere")


# --- damage: each case writes one broken file into an otherwise good folder --------------------------------


def _good() -> dict[str, bytes]:
    return {role: idx_bytes(a) for role, a in small_mnist().items()}


def _damaged(kind: str) -> tuple[str, bytes, str]:
    """(role of the broken file, its bytes (raw or gzip), a pattern its error message must contain)."""
    good = _good()
    images, labels = good["train_images"], good["train_labels"]
    if kind == "empty file":
        return "train_images", b"", "too short"
    if kind == "wrong magic":
        return "train_images", b"PK\x03\x04" + images[4:], "not an IDX file"
    if kind == "unknown type code":
        return "train_images", images[:2] + b"\x42" + images[3:], "not an IDX file"
    if kind == "truncated header":
        return "train_images", images[:10], "truncated header"
    if kind == "truncated data":
        return "train_images", images[:-100], r"truncated: dimensions 60 x 28 x 28 need 47040 bytes"
    if kind == "trailing bytes":
        return "train_images", images + b"\x00" * 7, "longer than its header says"
    if kind == "truncated gzip":
        packed = gzip.compress(images)
        return "train_images", packed[: len(packed) // 2], "gzip data is truncated"
    if kind == "gzip crc":
        packed = bytearray(gzip.compress(images))
        packed[-8] ^= 0xFF  # the CRC32 in the gzip trailer
        return "train_images", bytes(packed), "gzip data is damaged"
    if kind == "gzip garbage":
        packed = bytearray(gzip.compress(images))
        packed[20:40] = b"\xff" * 20
        return "train_images", bytes(packed), "gzip data is damaged"
    if kind == "label out of range":
        bad = small_mnist()["train_labels"].copy()
        bad[7] = 12
        return "train_labels", idx_bytes(bad), "label 12 is out of range"
    if kind == "count mismatch":
        return (
            "train_labels",
            idx_bytes(np.zeros(59, np.uint8)),
            "59 labels but train-images-idx3-ubyte.gz has 60",
        )
    if kind == "labels given as images":
        return "train_images", labels, "expected images with 3 dimensions"
    if kind == "images given as labels":
        return "train_labels", images, "expected labels with 1 dimension"
    if kind == "float labels":
        return "train_labels", idx_bytes(np.zeros(60, ">f4")), "labels must be integers"
    raise AssertionError(kind)


DAMAGE = [
    "empty file",
    "wrong magic",
    "unknown type code",
    "truncated header",
    "truncated data",
    "trailing bytes",
    "truncated gzip",
    "gzip crc",
    "gzip garbage",
    "label out of range",
    "count mismatch",
    "labels given as images",
    "images given as labels",
    "float labels",
]


@pytest.mark.parametrize("kind", DAMAGE)
def test_damaged_file_raises_clear_error_naming_it(tmp_path: Path, kind: str) -> None:
    folder = tmp_path / "damaged"
    folder.mkdir()
    role, broken, pattern = _damaged(kind)
    for r, data in _good().items():
        (folder / (IDX_FILES[r] + ".gz")).write_bytes(gzip.compress(data) if r != role else b"")
    (folder / (IDX_FILES[role] + ".gz")).write_bytes(broken)
    with pytest.raises(DatasetError, match=pattern) as info:
        load_idx_folder(folder, class_names=[str(i) for i in range(10)])
    assert f"{IDX_FILES[role]}.gz" in str(info.value)
    assert str(folder) in str(info.value)


def test_absurd_header_is_rejected_without_allocating(tmp_path: Path) -> None:
    header = bytes([0, 0, 0x0E, 4]) + (2**32 - 1).to_bytes(4, "big") * 4
    (tmp_path / "huge").write_bytes(header + b"\x00" * 16)
    with pytest.raises(DatasetError, match="huge: truncated"):
        read_idx(tmp_path / "huge")


def test_negative_labels_rejected(tmp_path: Path) -> None:
    (tmp_path / "i").write_bytes(idx_bytes(np.zeros((3, 2, 2), np.uint8)))
    (tmp_path / "l").write_bytes(idx_bytes(np.array([0, -1, 2], np.int8)))
    with pytest.raises(DatasetError, match="label -1 is out of range"):
        read_idx_pair(tmp_path / "i", tmp_path / "l")


def test_train_and_test_image_sizes_must_agree(tmp_path: Path) -> None:
    arrays = small_mnist()
    arrays["test_images"] = np.zeros((20, 14, 14), np.uint8)
    folder = write_idx_folder(tmp_path / "mixed", arrays)
    with pytest.raises(DatasetError, match="test images are 1 x 14 x 14 but training images 1 x 28 x 28"):
        load_idx_folder(folder)


def test_unreadable_path(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="file not found"):
        read_idx(tmp_path / "absent.gz")
    with pytest.raises(DatasetError, match="cannot be read"):
        read_idx(tmp_path)  # a folder
