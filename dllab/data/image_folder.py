"""Image folders: one subfolder per class of PNG, JPEG, BMP or GIF files, as a data set.

The convention of ``torchvision.datasets.ImageFolder`` and Keras' ``image_dataset_from_directory``::

    digits/                     digits/
      0/  a.png b.png ...         train/  0/ ...  1/ ...
      1/  ...                     test/   0/ ...  1/ ...

Class names are the subfolders' names in sorted order; files in folders below a class folder belong to it.
A ``train/`` and a ``test/`` folder side by side are the training and the test set (the test classes must be
among the training ones); without them, a seeded, stratified 20% of the images becomes the test set.

Images are decoded with Pillow, converted to grayscale or RGB (``color="auto"`` takes grayscale when every
image is grey: grey modes, or a palette of greys), and resized to one size: the one asked for, or the most
common size among the images (at most :data:`MAX_DEFAULT_SIDE` on its longer side). A folder of MNIST digits
gives ``(N, 1, 28, 28)`` uint8 images, as the IDX files do.

Hostile or broken files never stop a load: a file that is not an image of the four formats, is truncated,
cannot be read, is a link (links are not followed), is larger than :data:`MAX_FILE_BYTES` or holds more than
:data:`MAX_IMAGE_PIXELS` pixels is skipped, and :attr:`Dataset.notes` lists the skipped files in one line.
What cannot make a data set (no class folders, a single class, a class without readable images, more images
than :data:`MAX_IMAGE_FILES` or more bytes than :data:`MAX_DATA_BYTES`) raises `DatasetError`.

The decoded images are cached in the user's cache folder (`dllab.data.image_cache`), keyed by every file's
path, size and modification time: a second load of an unchanged folder reads one array instead of decoding
every image.
"""

from __future__ import annotations

import io
import os
import stat
import struct
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from dllab.data.dataset import Dataset, DatasetError, LoadCancelled
from dllab.data.download import CancelCheck, ProgressCallback, cancel_check
from dllab.data.image_cache import cache_file, listing_key, read_cached, write_cached
from dllab.data.local import LOCAL_TEST_FRACTION
from dllab.data.split import stratified_split
from dllab.errors import DamagedFileError, quote
from dllab.files import open_regular

if TYPE_CHECKING:
    from PIL.Image import Image as PilImage

#: How images are converted: ``"auto"`` (grayscale when every image is grey), ``"grayscale"`` or ``"rgb"``.
IMAGE_COLORS = ("auto", "grayscale", "rgb")
#: The formats read (Pillow's names); anything else in a class folder is skipped as "not an image".
IMAGE_FORMATS = ("PNG", "JPEG", "BMP", "GIF")
#: The file suffixes of those formats, for telling a folder of images at a glance.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
#: The most files a folder may hold.
MAX_IMAGE_FILES = 2_000_000
#: The largest file read; larger ones are skipped.
MAX_FILE_BYTES = 64 * 2**20
#: The most pixels one image may have (a decompression bomb declares billions); larger ones are skipped.
MAX_IMAGE_PIXELS = 50_000_000
#: The longest side of the default size: larger common sizes are scaled down to it, keeping their aspect.
MAX_DEFAULT_SIDE = 128
#: The longest side a chosen size may have.
MAX_SIDE = 4096
#: The most bytes of images at their own size kept between reading their sizes and resizing them; beyond it,
#: images are decoded a second time.
DECODED_BUDGET_BYTES = 512 * 2**20
#: The most bytes the decoded images may take together.
MAX_DATA_BYTES = 4 * 2**30
#: Files named in the summary of skipped files; the rest are counted.
NAMED_SKIPS = 5

_GREY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"})
_SPLIT_NAMES = ("train", "test")
# What Pillow can raise on a damaged or hostile file.
_DECODE_ERRORS = (
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    TypeError,
    IndexError,
    KeyError,
    struct.error,
    MemoryError,
    OverflowError,
    ZeroDivisionError,
    RuntimeError,
)


@dataclass(frozen=True)
class _ImageFile:
    path: str
    shown: str  # the path relative to the folder, as messages give it
    label: int
    test: bool
    size: int
    mtime_ns: int


@dataclass
class _Scan:
    class_names: list[str]
    files: list[_ImageFile]
    skipped: list[tuple[str, str]]  # (shown path, why)


def looks_like_image_folder(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a folder with at least one subfolder that holds an image file (by its suffix).

    Only the first level of subfolders (and of ``train/``) is looked at; `load_image_folder` tells what is
    wrong with a folder that does not load.
    """
    folder = Path(path)
    for sub in _subfolders(folder, []):
        for candidate in (sub, *(_subfolders(sub, []) if sub.name.lower() in _SPLIT_NAMES else [])):
            try:
                with os.scandir(candidate) as entries:
                    if any(e.name.lower().endswith(IMAGE_SUFFIXES) for e in entries):
                        return True
            except OSError:
                continue
    return False


def load_image_folder(
    path: str | os.PathLike[str],
    *,
    color: str = "auto",
    size: int | Sequence[int] | None = None,
    seed: int = 0,
    test_fraction: float = LOCAL_TEST_FRACTION,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    use_cache: bool = True,
) -> Dataset:
    """Load a folder of class subfolders of images as a data set of uint8 ``(N, C, H, W)`` images.

    Parameters
    ----------
    path
        The folder: one subfolder per class, or ``train/`` and ``test/`` each holding them.
    color
        ``"auto"``, ``"grayscale"`` (1 channel) or ``"rgb"`` (3 channels); see :data:`IMAGE_COLORS`.
    size
        The images' size: a side (square) or ``(height, width)``; None: the most common size.
    seed, test_fraction
        The stratified test split of a folder without ``train/`` and ``test/``.
    progress
        ``progress(done_bytes, total_bytes, message)`` while files are read.
    cancel
        Returns True (or is a set ``threading.Event``) to stop: `LoadCancelled` is raised, nothing is kept.
    cache_dir
        The root of the cache (see `dllab.data.download.data_root`); the decoded images go to its
        ``image-folders`` folder.
    use_cache
        Whether to read and write the cache.

    Returns
    -------
    Dataset
        Named after the folder, ``source`` the folder, ``notes`` the summary of the files skipped.

    Raises
    ------
    DatasetError
        Not a folder, no class folders, a single class, a class without a readable image, too many files or
        bytes, an invalid option.
    LoadCancelled
        When ``cancel`` asked to stop.
    """
    root = Path(path).expanduser()
    if color not in IMAGE_COLORS:
        raise DatasetError(f"the image colour must be one of {', '.join(IMAGE_COLORS)}, not {quote(color)}")
    wanted = image_size(size)
    stop = cancel_check(cancel)
    try:
        root = root.resolve(strict=True)
    except (OSError, RuntimeError):
        raise DatasetError(f"{root}: no such folder") from None
    if not root.is_dir():
        raise DatasetError(f"{root}: is not a folder of class subfolders of images")
    scan = _scan(root)
    key = listing_key(
        scan.class_names, [(f.shown, f.size, f.mtime_ns, f.test) for f in scan.files], scan.skipped
    )
    cache = cache_file(root, color, wanted, cache_dir)
    cached = read_cached(cache, key) if use_cache else None
    if cached is not None:
        x, y, test, skipped = cached
    else:
        x, y, test, skipped = _decode_all(root, scan, color, wanted, progress, stop)
        if use_cache:
            write_cached(cache, key, x, y, test, skipped)
    files = len(scan.files) + len(scan.skipped)
    return _dataset(root, scan.class_names, x, y, test, skipped, files, seed, test_fraction)


def image_size(size: int | Sequence[int] | None) -> tuple[int, int] | None:
    """A size option as ``(height, width)``: a side, a pair, or None (the most common size).

    Raises
    ------
    DatasetError
        For anything but whole numbers from 1 to :data:`MAX_SIDE`.
    """
    if size is None:
        return None
    sides = [size] if isinstance(size, int | np.integer) else list(size) if isinstance(size, Sequence) else []
    if isinstance(size, str) or len(sides) not in (1, 2):
        raise DatasetError(f"the image size must be a side or (height, width), not {quote(size)}")
    for side in sides:
        if isinstance(side, bool) or not isinstance(side, int | np.integer) or not 1 <= side <= MAX_SIDE:
            raise DatasetError(
                f"the image size must be whole numbers from 1 to {MAX_SIDE}, not {quote(size)}"
            )
    return (int(sides[0]), int(sides[-1]))


# --- finding the files -------------------------------------------------------------------------------------


def _hidden(name: str) -> bool:
    return name.startswith(".") or name in ("__MACOSX", "Thumbs.db", "desktop.ini")


def _subfolders(folder: Path, skipped: list[tuple[str, str]], shown: str = "") -> list[Path]:
    """The subfolders of ``folder`` in sorted order; links are skipped (and listed), hidden entries ignored."""
    try:
        with os.scandir(folder) as entries:
            found = sorted(entries, key=lambda e: e.name)
    except OSError as exc:
        raise DatasetError(f"{folder}: cannot be read ({exc.strerror or exc})") from None
    folders = []
    for entry in found:
        if _hidden(entry.name):
            continue
        if entry.is_symlink():
            skipped.append((shown + entry.name, "a link, not followed"))
        elif entry.is_dir(follow_symlinks=False):
            folders.append(Path(entry.path))
    return folders


def _class_files(
    folder: Path, label: int, test: bool, root: Path, files: list[_ImageFile], skipped: list[tuple[str, str]]
) -> None:
    """Every file under a class folder (links not followed, hidden files ignored), in sorted order.

    Plain strings and ``os.scandir`` (whose entries cache the file type): a folder of 60,000 files is listed
    and stat'ed in a fraction of a second, so a cached load stays quick.
    """
    pending = [(str(folder), folder.relative_to(root).as_posix() + "/")]
    while pending:
        here, shown_here = pending.pop()
        try:
            with os.scandir(here) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            skipped.append((shown_here.rstrip("/"), f"cannot be read ({exc.strerror or exc})"))
            continue
        folders = []
        for entry in entries:
            if _hidden(entry.name):
                continue
            shown = shown_here + entry.name
            try:
                if entry.is_symlink():
                    skipped.append((shown, "a link, not followed"))
                    continue
                if entry.is_dir(follow_symlinks=False):
                    folders.append((entry.path, shown + "/"))
                    continue
                info = entry.stat(follow_symlinks=False)
            except OSError as exc:
                skipped.append((shown, f"cannot be read ({exc.strerror or exc})"))
                continue
            if not stat.S_ISREG(info.st_mode):
                skipped.append((shown, "not a regular file"))
            elif info.st_size > MAX_FILE_BYTES:
                skipped.append((shown, f"larger than {MAX_FILE_BYTES // 2**20} MB"))
            else:
                files.append(_ImageFile(entry.path, shown, label, test, info.st_size, info.st_mtime_ns))
                if len(files) > MAX_IMAGE_FILES:
                    raise DatasetError(
                        f"{root}: holds more than {MAX_IMAGE_FILES:,} files, more than dllab reads"
                    )
        pending.extend(reversed(folders))


def _scan(root: Path) -> _Scan:
    skipped: list[tuple[str, str]] = []
    top = _subfolders(root, skipped)
    names = {folder.name.lower(): folder for folder in top}
    split = all(name in names for name in _SPLIT_NAMES)
    parts = [(names["train"], False), (names["test"], True)] if split else [(root, False)]
    class_folders = _subfolders(parts[0][0], skipped, f"{parts[0][0].name}/" if split else "")
    class_names = [folder.name for folder in class_folders]
    if not class_names:
        where = f"{root}{os.sep}{parts[0][0].name}" if split else str(root)
        raise DatasetError(f"{where}: holds no class subfolders of images (one folder per class)")
    if len(class_names) == 1:
        raise DatasetError(
            f"{root}: holds a single class folder {quote(class_names[0])}; a classifier needs at least two"
        )
    files: list[_ImageFile] = []
    for folder, is_test in parts:
        prefix = f"{folder.name}/" if split else ""
        folders = class_folders if not is_test else _subfolders(folder, skipped, prefix)
        for class_folder in folders:
            if class_folder.name not in class_names:
                raise DatasetError(
                    f"{class_folder}: the test set's class {quote(class_folder.name)} is not one of the "
                    f"training set's {len(class_names)} classes"
                )
            label = class_names.index(class_folder.name)
            _class_files(class_folder, label, is_test, root, files, skipped)
    return _Scan(class_names, files, skipped)


# --- decoding ----------------------------------------------------------------------------------------------


def _open_image(file: _ImageFile) -> PilImage:
    """The image of a file with its header read (pixels not yet decoded); raises what Pillow raises."""
    from PIL import Image

    with open_regular(file.path) as handle:
        data = _read_bounded(handle, file.size)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)
    width, height = image.size
    if width * height > MAX_IMAGE_PIXELS:
        raise _Skip(f"{width}×{height} pixels, more than {MAX_IMAGE_PIXELS:,}")
    if not width or not height:
        raise _Skip("an image without pixels")
    return image


def _read_bounded(handle: IO[bytes], expected: int) -> bytes:
    """The file's bytes: as many as it had when listed, and at most :data:`MAX_FILE_BYTES` (it may have grown)."""
    data = handle.read(min(expected, MAX_FILE_BYTES) + 1)
    if len(data) > expected:  # grown since it was listed: read on, within the limit
        data += handle.read(MAX_FILE_BYTES + 1 - len(data))
    if len(data) > MAX_FILE_BYTES:
        raise _Skip(f"larger than {MAX_FILE_BYTES // 2**20} MB")
    return data


class _Skip(Exception):
    """A file is skipped; the message says why."""


def _why(exc: BaseException) -> str:
    from PIL import Image, UnidentifiedImageError

    if isinstance(exc, _Skip):
        return str(exc)
    if isinstance(exc, UnidentifiedImageError):
        return "not a PNG, JPEG, BMP or GIF image"
    if isinstance(exc, Image.DecompressionBombError | Image.DecompressionBombWarning):
        return "too many pixels (a decompression bomb)"
    if isinstance(exc, DamagedFileError):
        return exc.problem
    text = " ".join(str(exc).split()).lower()
    if "truncated" in text:
        return "truncated"
    if isinstance(exc, OSError) and exc.strerror:
        return f"cannot be read ({exc.strerror})"
    return f"cannot be decoded ({text[:60] or type(exc).__name__})"


def _is_grey(image: PilImage) -> bool:
    if image.mode in _GREY_MODES:
        return True
    if image.mode in ("P", "PA") and image.palette is not None and image.palette.mode == "RGB":
        colors = np.frombuffer(bytes(image.palette.palette), dtype=np.uint8)
        colors = colors[: len(colors) // 3 * 3].reshape(-1, 3)
        return bool(np.all(colors == colors[:, :1]))
    return False


def _default_size(sizes: Counter[tuple[int, int]]) -> tuple[int, int]:
    """The most common ``(height, width)``, scaled down to :data:`MAX_DEFAULT_SIDE` when larger."""
    (height, width), _ = max(sizes.items(), key=lambda item: (item[1], item[0]))
    longer = max(height, width)
    if longer <= MAX_DEFAULT_SIDE:
        return height, width
    scale = MAX_DEFAULT_SIDE / longer
    return max(1, round(height * scale)), max(1, round(width * scale))


class _Reporter:
    """Progress in bytes of files read, with a message counting the files; stops when asked."""

    def __init__(
        self,
        files: list[_ImageFile],
        passes: int,
        progress: ProgressCallback | None,
        stop: Callable[[], bool],
    ) -> None:
        self.total = sum(f.size for f in files) * passes
        self.done = 0
        self.count = len(files)
        self.progress = progress
        self.stop = stop

    def step(self, index: int, file: _ImageFile, what: str) -> None:
        if self.stop():
            raise LoadCancelled("loading the image folder was cancelled; nothing was kept")
        self.done += file.size
        if self.progress is not None and (index % 64 == 0 or index == self.count - 1):
            self.progress(self.done, self.total, f"{what} ({self.count:,} files)")


def _decode_all(
    root: Path,
    scan: _Scan,
    color: str,
    wanted: tuple[int, int] | None,
    progress: ProgressCallback | None,
    stop: Callable[[], bool],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[str, str]]]:
    from PIL import Image

    skipped = list(scan.skipped)
    files = scan.files
    errors = (_Skip, Image.DecompressionBombError, Image.DecompressionBombWarning, *_DECODE_ERRORS)
    bad: set[int] = set()
    # Images decoded while sizes and colours are read, kept (within a memory budget) for the second pass.
    decoded: dict[int, Any] = {}
    budget = DECODED_BUDGET_BYTES
    reporter = _Reporter(files, 1 if color != "auto" and wanted is not None else 2, progress, stop)
    if color == "auto" or wanted is None:
        sizes: Counter[tuple[int, int]] = Counter()
        grey = True
        for index, file in enumerate(files):
            reporter.step(index, file, "Reading images")
            try:
                image = _open_image(file)
                sizes[(image.height, image.width)] += 1
                grey = grey and _is_grey(image)
                cost = image.width * image.height * len(image.getbands())
                if cost <= budget:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")  # a palette's transparency, an odd EXIF block
                        image.load()
                    decoded[index] = image
                    budget -= cost
            except errors as exc:
                skipped.append((file.shown, _why(exc)))
                bad.add(index)
        if color == "auto":
            color = "grayscale" if grey else "rgb"
        if wanted is None:
            wanted = _default_size(sizes) if sizes else (1, 1)
    channels = 1 if color == "grayscale" else 3
    height, width = wanted
    good = [i for i in range(len(files)) if i not in bad]
    need = len(good) * channels * height * width
    if need > MAX_DATA_BYTES:
        raise DatasetError(
            f"{root}: {len(good):,} images of {channels}×{height}×{width} would take {need / 2**30:.1f} GB, more "
            f"than the {MAX_DATA_BYTES / 2**30:.0f} GB dllab holds; choose a smaller image size"
        )
    x = np.empty((len(good), height, width, channels), dtype=np.uint8)
    kept = np.zeros(len(good), dtype=bool)
    mode = "L" if channels == 1 else "RGB"
    for row, index in enumerate(good):
        file = files[index]
        reporter.step(index, file, "Decoding images")
        try:
            image = decoded.pop(index, None) or _open_image(file)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a palette's transparency, an odd EXIF block
                converted = image.convert(mode)
                if converted.size != (width, height):
                    converted = converted.resize((width, height), Image.Resampling.BILINEAR)
                x[row] = np.asarray(converted, dtype=np.uint8).reshape(height, width, channels)
                kept[row] = True
        except errors as exc:
            skipped.append((file.shown, _why(exc)))
    chosen = [files[i] for i in good]
    y = np.array([f.label for f in chosen], dtype=np.int64)[kept]
    test = np.array([f.test for f in chosen], dtype=bool)[kept]
    x = np.ascontiguousarray(x[kept].transpose(0, 3, 1, 2))
    skipped.sort()
    summary = skipped_summary(skipped, len(files) + len(scan.skipped))
    if summary and progress is not None:
        progress(reporter.total, reporter.total, summary[:1].upper() + summary[1:])
    return x, y, test, skipped


# --- the data set ------------------------------------------------------------------------------------------


def skipped_summary(skipped: Sequence[tuple[str, str]], files: int) -> str:
    """One line naming the files skipped (the first :data:`NAMED_SKIPS`) and why; empty when none were."""
    if not skipped:
        return ""
    named = "; ".join(f"{shown} ({why})" for shown, why in skipped[:NAMED_SKIPS])
    more = f"; and {len(skipped) - NAMED_SKIPS:,} more" if len(skipped) > NAMED_SKIPS else ""
    total = max(files, len(skipped))
    return f"skipped {len(skipped):,} of {total:,} files that are not readable images: {named}{more}"


def _dataset(
    root: Path,
    class_names: list[str],
    x: np.ndarray,
    y: np.ndarray,
    test: np.ndarray,
    skipped: list[tuple[str, str]],
    files: int,
    seed: int,
    test_fraction: float,
) -> Dataset:
    summary = skipped_summary(skipped, files)
    counts = np.bincount(y[~test], minlength=len(class_names))
    if not counts.all():
        empty = class_names[int(np.argmin(counts))]
        raise DatasetError(
            f"{root}: the class folder {quote(empty)} holds no readable images"
            + (f" ({summary})" if summary else "")
        )
    if test.any():
        x_train, y_train, x_test, y_test = x[~test], y[~test], x[test], y[test]
    else:
        keep, held = stratified_split(y, test_fraction, np.random.default_rng(seed))
        if not len(keep) or not len(held):
            raise DatasetError(
                f"{root}: too few images ({len(y)}) to hold out {test_fraction:.0%} of them as a test set; "
                "add images or a test/ folder"
            )
        x_train, y_train, x_test, y_test = x[keep], y[keep], x[held], y[held]
    return Dataset(
        name=root.name,
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        class_names=class_names,
        source=str(root),
        notes=(summary,) if summary else (),
    )


__all__ = [
    "IMAGE_COLORS",
    "IMAGE_FORMATS",
    "image_size",
    "load_image_folder",
    "looks_like_image_folder",
    "skipped_summary",
]
