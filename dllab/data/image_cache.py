"""The decoded images of image folders, kept in the user's cache folder so that a second load is one read.

One ``.npz`` file per folder and options (colour, size) in ``<data root>/image-folders`` (see
`dllab.data.download.data_root`), so the cache holds one copy per folder however often it changes. The file
records a key of the folder's listing (every file's path, size and modification time, and the files skipped):
when the folder changes, the key differs and the images are decoded again. A cache file that is damaged,
foreign or unreadable counts as absent; one that cannot be written only makes the next load slower.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dllab.data.download import data_root
from dllab.errors import DamagedFileError
from dllab.files import atomic_write, read_npz

#: Changes when the cache's content changes, so that older caches are decoded again.
CACHE_VERSION = 1
#: The folder of the caches under the data root.
CACHE_FOLDER = "image-folders"

Cached = tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[str, str]]]


def listing_key(
    class_names: Sequence[str], files: Sequence[tuple], skipped: Sequence[tuple[str, str]]
) -> str:
    """The key of a folder as listed: its classes, its files (path, size, time, part) and the files skipped."""
    listing = [CACHE_VERSION, list(class_names), [list(f) for f in files], [list(s) for s in skipped]]
    return hashlib.sha256(json.dumps(listing).encode()).hexdigest()


def cache_file(
    root: Path, color: str, size: tuple[int, int] | None, cache_dir: str | os.PathLike[str] | None = None
) -> Path:
    """The cache file of a folder read with these options."""
    ident = hashlib.sha256(json.dumps([str(root), color, size]).encode()).hexdigest()[:32]
    return data_root(cache_dir) / CACHE_FOLDER / f"{ident}.npz"


def read_cached(path: Path, key: str) -> Cached | None:
    """``(x, y, test, skipped)`` when the cache file holds the images of the folder as listed under ``key``;
    None otherwise (absent, stale, damaged or foreign)."""
    try:
        if not path.is_file():
            return None
        arrays = read_npz(path)
        if str(arrays["key"].reshape(-1)[0]) != key:
            return None
        x, y, test = arrays["x"], arrays["y"], arrays["test"]
        shown, why = arrays["skipped_files"].astype(str).tolist(), arrays["skipped_why"].astype(str).tolist()
        if x.dtype != np.uint8 or x.ndim != 4 or not len(x) == len(y) == len(test) or len(shown) != len(why):
            return None
        if y.dtype.kind not in "iu" or (len(y) and (y.min() < 0)):
            return None
        return x, y.astype(np.int64), test.astype(bool), list(zip(shown, why, strict=True))
    except (DamagedFileError, OSError, KeyError, IndexError, ValueError):
        return None


def write_cached(
    path: Path, key: str, x: np.ndarray, y: np.ndarray, test: np.ndarray, skipped: Sequence[tuple[str, str]]
) -> None:
    """Keep decoded images for the next load, atomically; a cache that cannot be written is left out."""
    arrays = {
        "key": np.array([key]),
        "x": x,
        "y": y,
        "test": test,
        "skipped_files": np.array([s for s, _ in skipped], dtype=str),
        "skipped_why": np.array([w for _, w in skipped], dtype=str),
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda file: np.savez(file, **arrays))
    except OSError:
        pass
