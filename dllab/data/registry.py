"""One entry point for every data set: `load_dataset` by name or by path, and what the GUI lists.

Names, in display order, are `DATASET_NAMES`: the generated 2D sets and image set (no network), then MNIST,
Fashion-MNIST and KMNIST. Those three are looked up in the cache folder first (see
`dllab.data.download.data_root`), then in system folders (Debian's ``dataset-fashion-mnist`` package puts
Fashion-MNIST in ``/usr/share/datasets/fashion-mnist/``), and only then downloaded. Anything else is a path
to an IDX folder, a folder of class subfolders of images (`dllab.data.image_folder`), an ``.npz`` archive or a
``.csv`` table.
"""

from __future__ import annotations

import contextlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dllab.data.dataset import Dataset, DatasetError
from dllab.data.download import CancelCheck, ProgressCallback, dataset_dir, download_dataset
from dllab.data.idx import find_idx_files, load_idx_folder
from dllab.data.image_folder import load_image_folder, looks_like_image_folder
from dllab.data.local import load_csv, load_npz
from dllab.data.shapes import SHAPE_CLASSES, SHAPES_DEFAULT_NOISE, SHAPES_DEFAULT_SAMPLES, make_shapes
from dllab.data.toy import TOY_SETS, make_toy
from dllab.errors import quote

DIGITS = [str(i) for i in range(10)]
CLASS_NAMES: dict[str, list[str]] = {
    "mnist": DIGITS,
    "fashion-mnist": [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ],
    "kmnist": ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"],
}

# Folders where an operating system's package may already hold a data set; searched before downloading.
SYSTEM_DIRS: dict[str, list[Path]] = {
    "fashion-mnist": [Path("/usr/share/datasets/fashion-mnist")],
}


@dataclass(frozen=True)
class DatasetInfo:
    """What the GUI needs to list a built-in data set and its options.

    Attributes
    ----------
    name : str
        The name `load_dataset` takes.
    title : str
        Display name.
    description : str
        One line.
    kind : str
        ``"2d"`` (generated points), ``"generated-images"`` or ``"download"``.
    task : str
        ``"classification"`` or ``"regression"``.
    input_shape : tuple of int
        Per-sample shape.
    num_classes : int
        Default number of classes (0 for regression).
    default_samples : int or None
        Default ``n_samples`` of generated sets (None: fixed size).
    default_noise : float or None
        Default ``noise`` of generated sets.
    variable_classes : bool
        Whether ``n_classes`` can be chosen (spiral arms, blobs).
    allows_flip : bool
        Whether a mirrored sample still belongs to its class (no for digits, characters and the shapes set).
    """

    name: str
    title: str
    description: str
    kind: str
    task: str
    input_shape: tuple[int, ...]
    num_classes: int
    default_samples: int | None = None
    default_noise: float | None = None
    variable_classes: bool = False
    allows_flip: bool = False


def _toy_info(name: str, title: str) -> DatasetInfo:
    spec = TOY_SETS[name]
    regression = name == "regression"
    return DatasetInfo(
        name=name,
        title=title,
        description=spec.description,
        kind="2d",
        task="regression" if regression else "classification",
        input_shape=(2,),
        num_classes=0 if regression else spec.n_classes or 2,
        default_samples=spec.n_samples,
        default_noise=spec.noise,
        variable_classes=spec.n_classes is not None,
    )


def _download_info(
    name: str, title: str, what: str, megabytes: int, *, allows_flip: bool = False
) -> DatasetInfo:
    """A downloaded set in the layout of MNIST: 70,000 28x28 grey images in 10 classes."""
    return DatasetInfo(
        name=name,
        title=title,
        description=f"70,000 {what}, 28x28 grey (downloaded once, {megabytes} MB)",
        kind="download",
        task="classification",
        input_shape=(1, 28, 28),
        num_classes=10,
        allows_flip=allows_flip,
    )


_INFO: dict[str, DatasetInfo] = {
    "spiral": _toy_info("spiral", "Spiral"),
    "moons": _toy_info("moons", "Moons"),
    "circles": _toy_info("circles", "Circles"),
    "xor": _toy_info("xor", "XOR"),
    "blobs": _toy_info("blobs", "Gaussian blobs"),
    "regression": _toy_info("regression", "2D regression"),
    "shapes": DatasetInfo(
        name="shapes",
        title="Shapes",
        description="generated 28x28 bars, edges and shapes in 10 classes, for watching convolution filters",
        kind="generated-images",
        task="classification",
        input_shape=(1, 28, 28),
        num_classes=len(SHAPE_CLASSES),
        default_samples=SHAPES_DEFAULT_SAMPLES,
        default_noise=SHAPES_DEFAULT_NOISE,
    ),
    "mnist": _download_info("mnist", "MNIST", "handwritten digits 0-9", 11),
    "fashion-mnist": _download_info(
        "fashion-mnist", "Fashion-MNIST", "clothing images in 10 classes", 30, allows_flip=True
    ),
    "kmnist": _download_info("kmnist", "Kuzushiji-MNIST", "cursive Japanese characters in 10 classes", 21),
}

DATASET_NAMES: tuple[str, ...] = tuple(_INFO)
_KNOWN = (
    f"known names: {', '.join(DATASET_NAMES)}, or give the path of an IDX folder, an image folder, an .npz or a "
    ".csv file"
)


def _key(name: object) -> str:
    return str(name).strip().lower().replace("_", "-")


def dataset_info(name: str) -> DatasetInfo:
    """The `DatasetInfo` of a built-in data set.

    Parameters
    ----------
    name : str
        One of `DATASET_NAMES` (case and ``_``/``-`` do not matter).

    Returns
    -------
    DatasetInfo
    """
    try:
        return _INFO[_key(name)]
    except KeyError:
        raise DatasetError(
            f"unknown dataset {quote(name)}; known names: {', '.join(DATASET_NAMES)}"
        ) from None


def describe(name: str) -> str:
    """One line describing a built-in data set, for the GUI, e.g. ``"MNIST: 70,000 handwritten digits..."``."""
    info = dataset_info(name)
    return f"{info.title}: {info.description}"


def _has_files(folder: Path) -> bool:
    try:
        find_idx_files(folder)
    except DatasetError:
        return False
    return True


def _load_known(
    name: str,
    cache_dir: Path | str | None,
    progress: ProgressCallback | None,
    cancel: CancelCheck | None,
) -> Dataset:
    """MNIST, Fashion-MNIST or KMNIST: from the cache, a system folder, or a fresh download."""
    folder = dataset_dir(name, cache_dir)
    if not _has_files(folder):
        system = next((d for d in SYSTEM_DIRS.get(name, []) if _has_files(d)), None)
        if system is not None:
            return load_idx_folder(system, name=name, class_names=CLASS_NAMES[name])
        download_dataset(name, folder, progress=progress, cancel=cancel)
    try:
        return load_idx_folder(folder, name=name, class_names=CLASS_NAMES[name])
    except DatasetError as exc:
        raise DatasetError(f"{exc} (delete the damaged file to download it again)") from None


def _has_subfolders(folder: Path) -> bool:
    """Whether a folder holds a (not hidden) folder: an image folder, whose errors say what is wrong with it."""
    try:
        with os.scandir(folder) as entries:
            return any(not e.name.startswith(".") and e.is_dir(follow_symlinks=False) for e in entries)
    except OSError:
        return False


def _class_names_for_folder(folder: Path) -> list[str] | None:
    lowered = folder.name.lower()
    if "fashion" in lowered:
        return CLASS_NAMES["fashion-mnist"]
    if "kmnist" in lowered or "kuzushiji" in lowered:
        return CLASS_NAMES["kmnist"]
    if "mnist" in lowered:
        return CLASS_NAMES["mnist"]
    return None


def load_dataset(
    name_or_path: str | Path,
    *,
    cache_dir: Path | str | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
    n_samples: int | None = None,
    noise: float | None = None,
    seed: int | np.random.Generator = 0,
    n_classes: int | None = None,
    image_color: str = "auto",
    image_size: int | tuple[int, int] | None = None,
) -> Dataset:
    """Load a data set by name or from a path.

    Parameters
    ----------
    name_or_path : str or pathlib.Path
        A name of `DATASET_NAMES` (``"spiral"``, ``"moons"``, ``"circles"``, ``"xor"``, ``"blobs"``,
        ``"regression"``, ``"shapes"``, ``"mnist"``, ``"fashion-mnist"``, ``"kmnist"``), or a path to a
        folder of IDX files, a folder of class subfolders of images, an ``.npz`` archive or a ``.csv`` table.
    cache_dir : pathlib.Path or str, optional
        Root of the download cache; each data set gets a sub-folder ``<cache_dir>/<name>``. Default
        ``$DLLAB_DATA_DIR`` or the user's cache folder (see `dllab.data.download.data_root`).
    progress : callable, optional
        ``progress(done_bytes, total_bytes_or_None, message)`` during downloads and while an image folder is
        read.
    cancel : callable or threading.Event, optional
        Returns True to cancel a download or the reading of an image folder (`LoadCancelled` is raised,
        nothing partial is kept).
    n_samples, noise : optional
        Size and noise of generated sets (ignored for real data); None takes the set's default.
    seed : int or numpy.random.Generator
        Seed of generated sets and of the test split of files without one.
    n_classes : int, optional
        Arms of ``spiral`` or clusters of ``blobs``.
    image_color, image_size : optional
        How an image folder's images are converted and resized (`dllab.data.image_folder.load_image_folder`).

    Returns
    -------
    Dataset
        Its training and test samples, not yet split for validation nor normalised
        (`dllab.data.prepare` does that).

    Raises
    ------
    DatasetError
        Unknown name (the message lists the known ones), missing or damaged file, failed download.
    """
    if not isinstance(name_or_path, str | os.PathLike):
        raise DatasetError(f"unknown dataset {quote(name_or_path)}; {_KNOWN}")
    if isinstance(name_or_path, str) and _key(name_or_path) in _INFO:
        name = _key(name_or_path)
        if name in TOY_SETS:
            return make_toy(name, n_samples=n_samples, noise=noise, seed=seed, n_classes=n_classes)
        if name == "shapes":
            return make_shapes(n_samples=n_samples, noise=noise, seed=seed)
        return _load_known(name, cache_dir, progress, cancel)
    path = Path(name_or_path)
    with contextlib.suppress(RuntimeError, ValueError):  # "~user" of no known user stays as written
        path = path.expanduser()
    file_seed = seed if isinstance(seed, int) else 0
    try:
        mode: int | None = path.stat().st_mode
    except (OSError, ValueError):  # absent, a name too long, a NUL character
        mode = None
    if mode is not None and stat.S_ISDIR(mode):
        if not _has_files(path) and (looks_like_image_folder(path) or _has_subfolders(path)):
            return load_image_folder(
                path,
                color=image_color,
                size=image_size,
                seed=file_seed,
                progress=progress,
                cancel=cancel,
                cache_dir=cache_dir,
            )
        return load_idx_folder(path, name=path.name, class_names=_class_names_for_folder(path))
    suffix = path.suffix.lower()
    if mode is not None and suffix == ".npz":
        return load_npz(path, seed=file_seed)  # a pipe or a device is refused there, before reading
    if mode is not None and suffix == ".csv":
        return load_csv(path, seed=file_seed)
    if mode is not None:
        raise DatasetError(
            f"{path}: unsupported file type {suffix or '(none)'}; give an .npz or .csv "
            "file, or the folder holding IDX files"
        )
    if isinstance(name_or_path, str) and not any(sep in name_or_path for sep in "/\\") and not suffix:
        raise DatasetError(f"unknown dataset {quote(name_or_path)}; {_KNOWN}")
    raise DatasetError(f"{path}: no such file or folder")
