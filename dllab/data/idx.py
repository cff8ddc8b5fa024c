"""Reading and validating IDX files (the MNIST format), gzip-compressed or raw, and folders of them.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of dimensions), one big-endian
uint32 per dimension, then the values in C order. Everything is checked before any array is returned: the
gzip stream (truncation, CRC), the magic number, the header against the data's size, image and label counts,
and the label range. Each failure raises `DatasetError` naming the file and what is wrong.
"""

from __future__ import annotations

import gzip
import math
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dllab.data.dataset import Dataset, DatasetError

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

# The four files of an MNIST-style folder, by role, under their canonical names.
IDX_FILES: dict[str, str] = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def read_bytes(path: Path) -> bytes:
    """The content of a file, decompressed when it is gzip (detected by its first bytes, not its name).

    Parameters
    ----------
    path : pathlib.Path
        File to read.

    Returns
    -------
    bytes
        The (decompressed) content.
    """
    path = Path(path)
    try:
        with path.open("rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise DatasetError(f"{path}: file not found") from None
    except OSError as exc:
        raise DatasetError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if not raw.startswith(GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except EOFError:
        raise DatasetError(f"{path}: the gzip data is truncated (the download may be incomplete)") from None
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise DatasetError(f"{path}: the gzip data is damaged ({exc})") from None


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
    if len(data) < 4:
        raise DatasetError(f"{path}: too short to be an IDX file ({len(data)} bytes)")
    zero, code, ndim = int.from_bytes(data[:2], "big"), data[2], data[3]
    magic = int.from_bytes(data[:4], "big")
    if zero != 0 or code not in IDX_TYPES or ndim == 0:
        raise DatasetError(
            f"{path}: not an IDX file (magic number {magic:#010x}; expected e.g. "
            f"{IMAGES_MAGIC} for images or {LABELS_MAGIC} for labels)"
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DatasetError(
            f"{path}: truncated header: {ndim} dimensions need {header} bytes, the file has {len(data)}"
        )
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = IDX_TYPES[code]
    expected = math.prod(shape) * dtype.itemsize  # Python ints: no overflow for absurd headers
    actual = len(data) - header
    if actual != expected:
        what = "truncated" if actual < expected else "longer than its header says"
        raise DatasetError(
            f"{path}: {what}: dimensions {' x '.join(map(str, shape))} need {expected} bytes of "
            f"{dtype.name} data, the file has {actual}"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))  # a writable copy in native byte order


def read_idx(path: Path | str) -> np.ndarray:
    """Read one IDX file (gzip or raw) and validate it.

    Parameters
    ----------
    path : pathlib.Path or str
        The file.

    Returns
    -------
    numpy.ndarray
        The array declared by the file's header, in native byte order.
    """
    path = Path(path)
    return parse_idx(read_bytes(path), path)


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
            f"{images.ndim} ({' x '.join(map(str, images.shape))}); is it a label file?"
        )
    labels = read_idx(labels_path)
    if labels.ndim != 1:
        raise DatasetError(
            f"{labels_path}: expected labels with 1 dimension, found {labels.ndim} "
            f"({' x '.join(map(str, labels.shape))}); is it an image file?"
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
    if not folder.is_dir():
        raise DatasetError(f"{folder}: folder not found")
    found: dict[str, Path] = {}
    missing = []
    for role, canonical in IDX_FILES.items():
        path = next((folder / c for c in _candidates(canonical) if (folder / c).is_file()), None)
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
            f"{files.test_images}: test images are {' x '.join(map(str, x_test.shape[1:]))} but training "
            f"images {' x '.join(map(str, x_train.shape[1:]))}"
        )
    if class_names is None:
        top = max((int(y.max()) for y in (y_train, y_test) if y.size), default=0)
        class_names = [str(i) for i in range(top + 1)]
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
