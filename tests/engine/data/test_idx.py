"""IDX reading and validation: every kind of damage gives a clear error naming the file."""

from __future__ import annotations

import gzip
import os
import threading
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
        # The header is read first: damage that garbles it shows as an impossible header.
        return "train_images", bytes(packed), "gzip data is damaged|the header declares"
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
    with pytest.raises(DatasetError, match=r"absent\.gz: does not exist"):
        read_idx(tmp_path / "absent.gz")
    with pytest.raises(DatasetError, match="is a folder"):
        read_idx(tmp_path)


# --- hostile headers and files: refused before anything large is allocated -----------------------------


def _header(code: int, *dims: int) -> bytes:
    return bytes([0, 0, code, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims)


@pytest.mark.parametrize("ndim", [5, 65, 255])
def test_more_than_four_dimensions_are_refused(tmp_path: Path, ndim: int) -> None:
    (tmp_path / "deep").write_bytes(_header(0x08, *[1] * ndim) + b"\x00")
    with pytest.raises(DatasetError, match=f"declares {ndim} dimensions; IDX data sets have at most 4"):
        read_idx(tmp_path / "deep")


@pytest.mark.parametrize("dims", [(0, 28, 28), (5, 0, 0), (0, 2**31, 2**31, 2**31)])
def test_no_images_or_empty_images_are_refused(tmp_path: Path, dims: tuple[int, ...]) -> None:
    (tmp_path / "empty").write_bytes(_header(0x08, *dims))
    with pytest.raises(DatasetError, match="empty: holds no data"):
        read_idx(tmp_path / "empty")


@pytest.mark.parametrize("compress", [False, True])
def test_float_images_with_nan_are_refused_naming_the_sample(tmp_path: Path, compress: bool) -> None:
    images = np.zeros((4, 2, 2), ">f4")
    images[2, 1, 0] = np.nan
    data = idx_bytes(images)
    (tmp_path / "f").write_bytes(gzip.compress(data) if compress else data)
    with pytest.raises(DatasetError, match="f: the data holds NaN at sample 2"):
        read_idx(tmp_path / "f")
    images[2, 1, 0] = -np.inf
    (tmp_path / "g").write_bytes(idx_bytes(images))
    with pytest.raises(DatasetError, match="g: the data holds -infinity at sample 2"):
        read_idx(tmp_path / "g")


def test_float64_values_beyond_float32_are_refused(tmp_path: Path) -> None:
    (tmp_path / "big").write_bytes(idx_bytes(np.array([[0.0, 1e300]], ">f8")))
    with pytest.raises(DatasetError, match="big: the data holds 1e\\+300, beyond the range of 32-bit floats"):
        read_idx(tmp_path / "big")


def test_gzip_stream_must_hold_exactly_what_its_header_declares(tmp_path: Path) -> None:
    good = idx_bytes(np.arange(24, dtype=np.uint8).reshape(2, 3, 4))
    (tmp_path / "long.gz").write_bytes(gzip.compress(good + b"\x00"))
    with pytest.raises(DatasetError, match=r"long\.gz: longer than its header says: .* the file has more"):
        read_idx(tmp_path / "long.gz")
    (tmp_path / "short.gz").write_bytes(gzip.compress(good[:-5]))
    with pytest.raises(
        DatasetError, match=r"short\.gz: truncated: dimensions 2 x 3 x 4 need 24 bytes .* has 19"
    ):
        read_idx(tmp_path / "short.gz")


def test_a_header_declaring_more_than_gzip_can_expand_to_is_refused(tmp_path: Path) -> None:
    (tmp_path / "lie.gz").write_bytes(gzip.compress(_header(0x08, 60000, 28, 28) + bytes(1000)))
    with pytest.raises(DatasetError, match=r"declares 47,040,000 bytes of data .* more than a gzip file of"):
        read_idx(tmp_path / "lie.gz")


def test_pipes_devices_and_folders_are_refused_without_reading(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    done: list[BaseException] = []

    def read() -> None:
        try:
            read_idx(fifo)
        except BaseException as exc:  # the test thread reports whatever it raised
            done.append(exc)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), "reading a FIFO blocked"
    assert isinstance(done[0], DatasetError) and "is not a regular file" in str(done[0])
    with pytest.raises(DatasetError, match="/dev/zero: is not a regular file"):
        read_idx("/dev/zero")
    folder = write_idx_folder(tmp_path / "set", small_mnist())
    (folder / "train-labels-idx1-ubyte.gz").unlink()
    (folder / "train-labels-idx1-ubyte").symlink_to("/dev/zero")
    with pytest.raises(DatasetError, match="train-labels-idx1-ubyte: is not a regular file"):
        load_idx_folder(folder)
    (folder / "train-labels-idx1-ubyte.gz").mkdir()  # a folder where a file is expected
    with pytest.raises(DatasetError, match=r"train-labels-idx1-ubyte\.gz: is a folder"):
        load_idx_folder(folder)


def test_labels_beyond_the_class_limit_are_refused(tmp_path: Path) -> None:
    arrays = small_mnist(n_train=10, n_test=5)
    arrays["train_labels"] = np.zeros(10, ">i4")
    arrays["train_labels"][3] = 2 * 10**7
    folder = write_idx_folder(tmp_path / "many", arrays)
    with pytest.raises(DatasetError, match=r"train-labels.*label 20000000 would make more than the 100,000"):
        load_idx_folder(folder)
