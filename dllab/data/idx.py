"""Reading and validating IDX files (the MNIST format), gzip-compressed or raw, and folders of them.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of dimensions), one big-endian
uint32 per dimension, then the values in C order. Everything is checked before any array is returned: the
magic number, the header (at most `MAX_IDX_DIMS` dimensions, none of them 0) against the file's size before
anything is allocated, the gzip stream (truncation, CRC; never decompressed beyond the declared size), float
values (finite), image and label counts, and the label range. Files are opened only when they are regular
files. Each failure raises `DatasetError` naming the file and what is wrong.
"""

from __future__ import annotations

import gzip
import io
import math
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from dllab.data.dataset import Dataset, DatasetError, check_values, numbered_class_names, open_data_file
from dllab.files import read_into

IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
IMAGES_MAGIC = 0x00000803  # 2051: uint8, 3 dimensions
LABELS_MAGIC = 0x00000801  # 2049: uint8, 1 dimension
GZIP_MAGIC = b"\x1f\x8b"
#: Dimensions an IDX header may declare: images are (count, rows, columns) or (count, channels, rows, columns).
MAX_IDX_DIMS = 4
#: Deflate expands at most about 1032 times; a gzip file whose header declares more is lying.
GZIP_MAX_RATIO = 1100

# The four files of an MNIST-style folder, by role, under their canonical names.
IDX_FILES: dict[str, str] = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def _dims(shape: tuple[int, ...]) -> str:
    return " x ".join(map(str, shape))


def _parse_stream(stream: BinaryIO, path: Path | str, *, size: int, compressed: bool) -> np.ndarray:
    """Decode an IDX stream, checking what its header declares against what the file can hold first.

    ``size`` is the file's size on disk; a raw file must hold exactly what its header declares, a gzip file
    cannot expand more than `GZIP_MAX_RATIO` times. The data is read into one array of the declared size, and
    one more byte is asked for to refuse a stream that is longer than declared, so that no more than the
    declared size plus one byte is ever decompressed.
    """
    head = stream.read(4)
    if len(head) < 4:
        raise DatasetError(f"{path}: too short to be an IDX file ({len(head)} bytes)")
    magic = int.from_bytes(head, "big")
    code, ndim = head[2], head[3]
    if head[:2] != b"\x00\x00" or code not in IDX_TYPES or ndim == 0:
        raise DatasetError(
            f"{path}: not an IDX file (magic number {magic:#010x}; expected e.g. "
            f"{IMAGES_MAGIC} for images or {LABELS_MAGIC} for labels)"
        )
    if ndim > MAX_IDX_DIMS:
        raise DatasetError(
            f"{path}: the header declares {ndim} dimensions; IDX data sets have at most {MAX_IDX_DIMS}"
        )
    header = 4 + 4 * ndim
    dims = stream.read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise DatasetError(
            f"{path}: truncated header: {ndim} dimensions need {header} bytes, the file has {4 + len(dims)}"
        )
    shape = tuple(int(d) for d in np.frombuffer(dims, dtype=">u4"))
    if 0 in shape:
        raise DatasetError(f"{path}: holds no data (dimensions {_dims(shape)})")
    dtype = IDX_TYPES[code]
    count = math.prod(shape)
    expected = count * dtype.itemsize  # Python ints: no overflow for absurd headers
    need = f"dimensions {_dims(shape)} need {expected} bytes of {dtype.name} data"
    if not compressed and size - header != expected:
        what = "truncated" if size - header < expected else "longer than its header says"
        raise DatasetError(f"{path}: {what}: {need}, the file has {size - header}")
    if compressed and expected > GZIP_MAX_RATIO * size:
        raise DatasetError(
            f"{path}: the header declares {expected:,} bytes of data ({_dims(shape)}), more than a gzip file "
            f"of {size:,} bytes can hold"
        )
    try:
        array = np.empty(count, dtype=dtype)
    except MemoryError:
        raise DatasetError(f"{path}: {need}, more memory than is free") from None
    got = read_into(stream, memoryview(array).cast("B"))
    if got < expected:
        raise DatasetError(f"{path}: truncated: {need}, the file has {got}")
    if stream.read(1):
        raise DatasetError(f"{path}: longer than its header says: {need}, the file has more")
    if not dtype.isnative:
        array = array.byteswap(inplace=True).view(dtype.newbyteorder("="))
    array = array.reshape(shape)
    check_values(array, str(path), "the data")
    return array


def parse_idx(data: bytes, path: Path | str = "<bytes>") -> np.ndarray:
    """Decode the bytes of an IDX file into an array, checking the header against the data.

    Parameters
    ----------
    data : bytes
        Uncompressed IDX content.
    path : pathlib.Path or str
        Name used in error messages.

    Returns
    -------
    numpy.ndarray
        The values in native byte order, shape as declared by the header.
    """
    return _parse_stream(io.BytesIO(data), path, size=len(data), compressed=False)


def read_idx(path: Path | str) -> np.ndarray:
    """Read one IDX file (gzip or raw, told apart by its first bytes) and validate it.

    Nothing is allocated before the header is checked against the file's size, and a gzip stream is
    decompressed only up to the size its header declares (plus one byte, to refuse a longer one).

    Parameters
    ----------
    path : pathlib.Path or str
        The file (a regular file: pipes, devices and folders are refused before anything is read).

    Returns
    -------
    numpy.ndarray
        The array declared by the file's header, in native byte order.

    Raises
    ------
    DatasetError
        The file cannot be read, is not an IDX file, is damaged or truncated, or declares more data than
        it holds; the message names the file.
    """
    path = Path(path)
    with open_data_file(path) as file:
        try:
            size = os.fstat(file.fileno()).st_size
            compressed = file.read(2) == GZIP_MAGIC
            file.seek(0)
            if not compressed:
                return _parse_stream(file, path, size=size, compressed=False)
            with gzip.GzipFile(fileobj=file, mode="rb") as stream:
                return _parse_stream(stream, path, size=size, compressed=True)
        except EOFError:
            raise DatasetError(
                f"{path}: the gzip data is truncated (the download may be incomplete)"
            ) from None
        except (gzip.BadGzipFile, zlib.error) as exc:
            raise DatasetError(f"{path}: the gzip data is damaged ({exc})") from None
        except OSError as exc:
            raise DatasetError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def read_idx_pair(
    images_path: Path, labels_path: Path, num_classes: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Read matching image and label IDX files and check them against each other.

    Parameters
    ----------
    images_path, labels_path : pathlib.Path
        IDX files with images ``(N, H, W)`` (or ``(N, C, H, W)``) and labels ``(N,)``.
    num_classes : int, optional
        When given, every label must lie in ``[0, num_classes)``.

    Returns
    -------
    images, labels : numpy.ndarray
        Images ``(N, C, H, W)`` (a channel axis of 1 is added to 3-dimensional files) and int64 labels.
    """
    images = read_idx(images_path)
    if images.ndim not in (3, 4):
        raise DatasetError(
            f"{images_path}: expected images with 3 dimensions (count, rows, columns), found "
            f"{images.ndim} ({_dims(images.shape)}); is it a label file?"
        )
    labels = read_idx(labels_path)
    if labels.ndim != 1:
        raise DatasetError(
            f"{labels_path}: expected labels with 1 dimension, found {labels.ndim} "
            f"({_dims(labels.shape)}); is it an image file?"
        )
    if not np.issubdtype(labels.dtype, np.integer):
        raise DatasetError(f"{labels_path}: labels must be integers, the file holds {labels.dtype.name}")
    if len(images) != len(labels):
        raise DatasetError(
            f"{labels_path}: {len(labels)} labels but {images_path.name} has {len(images)} images"
        )
    labels = labels.astype(np.int64)
    if labels.size:
        low, high = int(labels.min()), int(labels.max())
        if low < 0 or (num_classes is not None and high >= num_classes):
            limit = f"0 to {num_classes - 1}" if num_classes is not None else "at least 0"
            bad = low if low < 0 else high
            raise DatasetError(f"{labels_path}: label {bad} is out of range (labels must be {limit})")
    if images.ndim == 3:
        images = images[:, None]
    return images, labels


@dataclass(frozen=True)
class IdxFolder:
    """The four files of an MNIST-style folder, found under any of the usual names."""

    train_images: Path
    train_labels: Path
    test_images: Path
    test_labels: Path


def _candidates(canonical: str) -> list[str]:
    dotted = canonical.replace("-idx", ".idx", 1)  # e.g. train-images.idx3-ubyte, as some archives ship
    return [canonical + ".gz", canonical, dotted + ".gz", dotted]


def find_idx_files(folder: Path | str) -> IdxFolder:
    """Locate the training and test image and label files in a folder.

    Parameters
    ----------
    folder : pathlib.Path or str
        A folder holding ``train-images-idx3-ubyte[.gz]``, ``train-labels-idx1-ubyte[.gz]``,
        ``t10k-images-idx3-ubyte[.gz]`` and ``t10k-labels-idx1-ubyte[.gz]`` (``-idx`` may also be ``.idx``).

    Returns
    -------
    IdxFolder
        The paths found.
    """
    folder = Path(folder)
    try:
        found_folder = folder.is_dir()
    except OSError:  # e.g. a name too long for the file system
        found_folder = False
    if not found_folder:
        raise DatasetError(f"{folder}: folder not found")
    found: dict[str, Path] = {}
    missing = []
    for role, canonical in IDX_FILES.items():
        paths = [folder / c for c in _candidates(canonical)]
        # A regular file first; else whatever is there under the name, for the reader to say what it is.
        path = next((p for p in paths if p.is_file()), None) or next((p for p in paths if p.exists()), None)
        if path is None:
            missing.append(canonical + ".gz")
        else:
            found[role] = path
    if missing:
        raise DatasetError(f"{folder}: missing {', '.join(missing)} (gzip or uncompressed)")
    return IdxFolder(**found)


def load_idx_folder(
    folder: Path | str, *, name: str | None = None, class_names: list[str] | None = None
) -> Dataset:
    """Load an MNIST-style folder of IDX files (MNIST, Fashion-MNIST, KMNIST, ...).

    Parameters
    ----------
    folder : pathlib.Path or str
        Folder with the four files (see `find_idx_files`).
    name : str, optional
        Dataset name; the folder's name when None.
    class_names : list of str, optional
        One name per class; labels must lie in their range. When None, the classes are ``"0"`` to the
        largest label found.

    Returns
    -------
    Dataset
        uint8 images ``(N, 1, H, W)`` and int64 labels.
    """
    files = find_idx_files(folder)
    k = None if class_names is None else len(class_names)
    x_train, y_train = read_idx_pair(files.train_images, files.train_labels, k)
    x_test, y_test = read_idx_pair(files.test_images, files.test_labels, k)
    if x_train.shape[1:] != x_test.shape[1:]:
        raise DatasetError(
            f"{files.test_images}: test images are {_dims(x_test.shape[1:])} but training "
            f"images {_dims(x_train.shape[1:])}"
        )
    if class_names is None:
        top, where = max((int(y_train.max()), files.train_labels), (int(y_test.max()), files.test_labels))
        class_names = numbered_class_names(top, str(where))
    return Dataset(
        name=name or Path(folder).name,
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        class_names=list(class_names),
        task="classification",
        source=str(folder),
    )
