"""Downloading data set files into the user's cache: mirrors in turn, sha256, progress and cancel.

A file is written to a ``<name>.<random>.part`` file beside its target and renamed to its real name only
once its sha256 matches, so a partial, interrupted or corrupt download is never used and never left behind
as if complete. Mirrors are tried in order; each gets a socket timeout. Uses only ``urllib``.

``progress(done_bytes, total_bytes, message)`` is called as bytes arrive (``total_bytes`` is None when the
server does not say). ``cancel`` is a zero-argument callable returning True once the user has cancelled (pass
``event.is_set`` for a ``threading.Event``; an Event itself is accepted too); it is checked between chunks.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import platformdirs

from dllab.data.dataset import DatasetError, LoadCancelled

ProgressCallback = Callable[[int, int | None, str], None]
CancelCheck = Callable[[], bool] | threading.Event

ENV_DATA_DIR = "DLLAB_DATA_DIR"
TIMEOUT_S = 30.0
CHUNK_SIZE = 1 << 16
USER_AGENT = "dllab (https://github.com/dllab; dataset download)"

# Base URLs per data set, tried in this order; tests point them at 127.0.0.1.
MIRRORS: dict[str, list[str]] = {
    "mnist": [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ],
    "fashion-mnist": [
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    ],
    "kmnist": [
        "https://codh.rois.ac.jp/kmnist/dataset/kmnist/",
        "http://codh.rois.ac.jp/kmnist/dataset/kmnist/",
    ],
}

# sha256 of each file. MNIST: verified against the canonical files (the project's test data). Fashion-MNIST and
# KMNIST: the values several independent projects publish (torchvision, tensorflow-datasets and others agree).
CHECKSUMS: dict[str, dict[str, str]] = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc",
        "train-labels-idx1-ubyte.gz": "b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc",
        "t10k-images-idx3-ubyte.gz": "78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229",
        "t10k-labels-idx1-ubyte.gz": "42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf",
    },
    "kmnist": {
        "train-images-idx3-ubyte.gz": "51467d22d8cc72929e2a028a0428f2086b092bb31cfb79c69cc0a90ce135fde4",
        "train-labels-idx1-ubyte.gz": "e38f9ebcd0f3ebcdec7fc8eabdcdaef93bb0df8ea12bee65224341c8183d8e17",
        "t10k-images-idx3-ubyte.gz": "edd7a857845ad6bb1d0ba43fe7e794d164fe2dce499a1694695a792adfac43c5",
        "t10k-labels-idx1-ubyte.gz": "20bb9a0ef54c7db3efc55a92eef5582c109615df22683c380526788f98e42a1c",
    },
}


class DownloadError(DatasetError):
    """No mirror delivered a file with the right checksum; the message names the files and the folder.

    Attributes
    ----------
    missing : tuple of str
        The files of the data set still missing (known when a whole data set was asked for).
    folder : pathlib.Path or None
        The folder they belong in (the data set's cache folder).
    """

    def __init__(self, message: str, *, missing: Sequence[str] = (), folder: Path | None = None) -> None:
        super().__init__(message)
        self.missing = tuple(missing)
        self.folder = folder

    def __reduce__(self) -> tuple[Any, ...]:  # picklable with its attributes, e.g. from a worker process
        return (_rebuild_download_error, (str(self), self.missing, self.folder))


def _rebuild_download_error(message: str, missing: tuple[str, ...], folder: Path | None) -> DownloadError:
    return DownloadError(message, missing=missing, folder=folder)


class DownloadCancelled(LoadCancelled):
    """The user cancelled a download; nothing partial was kept."""


def data_root(cache_dir: Path | str | None = None) -> Path:
    """The folder under which each downloaded data set gets its own sub-folder.

    Parameters
    ----------
    cache_dir : pathlib.Path or str, optional
        Explicit root; otherwise ``$DLLAB_DATA_DIR``, otherwise ``<user cache dir>/dllab/datasets``
        (``~/.cache/dllab/datasets`` on Linux, per platform conventions elsewhere).

    Returns
    -------
    pathlib.Path
        The root folder (not created).
    """
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    env = os.environ.get(ENV_DATA_DIR)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_cache_dir("dllab")) / "datasets"


def dataset_dir(name: str, cache_dir: Path | str | None = None) -> Path:
    """The cache folder of one data set: ``data_root(cache_dir) / name``."""
    return data_root(cache_dir) / name


def sha256_of(path: Path | str) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def cancel_check(cancel: CancelCheck | None) -> Callable[[], bool]:
    """``cancel`` as a function that returns True once the user asked to stop (never, for None)."""
    if cancel is None:
        return lambda: False
    if isinstance(cancel, threading.Event):
        return cancel.is_set
    return cancel


def _fetch(
    url: str,
    part: Path,
    *,
    filename: str,
    sha256: str,
    label: str,
    progress: ProgressCallback | None,
    cancelled: Callable[[], bool],
    timeout: float,
) -> str | None:
    """Stream ``url`` into ``part``; None on success, else why this mirror failed. Raises on cancel."""
    # Imported here, not with the module: the HTTP client takes a twentieth of the window's start.
    import http.client
    import urllib.error
    import urllib.request

    digest = hashlib.sha256()
    done, total = 0, None
    try:
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        with urllib.request.urlopen(request, timeout=timeout) as response, part.open("wb") as out:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            if progress:
                progress(0, total, label)
            while True:
                if cancelled():
                    raise DownloadCancelled(f"the download of {filename} was cancelled; nothing was kept")
                chunk = response.read(CHUNK_SIZE)
                if not chunk:
                    break
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total, label)
    except DownloadCancelled:  # a DatasetError, hence a ValueError: not a failure of this mirror
        raise
    except urllib.error.HTTPError as exc:
        exc.close()
        return f"HTTP {exc.code} {exc.reason}"
    except urllib.error.URLError as exc:
        return str(exc.reason)
    except http.client.IncompleteRead:
        return f"the connection broke after {done} bytes"
    except (http.client.HTTPException, OSError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if total is not None and done != total:
        return f"the connection broke after {done} of {total} bytes"
    if digest.hexdigest() != sha256:
        return f"wrong sha256 {digest.hexdigest()[:12]}… (expected {sha256[:12]}…), file rejected"
    return None


def download_file(
    filename: str,
    dest_dir: Path | str,
    *,
    sha256: str,
    mirrors: Sequence[str],
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
    timeout: float | None = None,
    label: str | None = None,
) -> Path:
    """Download one file from the first mirror that delivers it with the expected sha256.

    Parameters
    ----------
    filename : str
        Name of the file on the mirrors and in ``dest_dir``.
    dest_dir : pathlib.Path or str
        Folder to put it in (created if needed).
    sha256 : str
        Expected hex digest; a file that does not match is deleted and the next mirror tried.
    mirrors : sequence of str
        Base URLs, tried in order; the URL is ``mirror + filename``.
    progress : callable, optional
        ``progress(done_bytes, total_bytes_or_None, message)``.
    cancel : callable or threading.Event, optional
        Returns True when the user cancelled; checked between chunks.
    timeout : float, optional
        Socket timeout in seconds (`TIMEOUT_S` when None).
    label : str, optional
        Start of the progress message, followed by ``" from <host>"``; ``"Downloading <filename>"`` when
        None.

    Returns
    -------
    pathlib.Path
        The verified file ``dest_dir / filename``.

    Raises
    ------
    DownloadError
        Every mirror failed; the message lists why for each.
    DownloadCancelled
        ``cancel`` returned True; the partial file was removed.
    """
    dest_dir = Path(dest_dir)
    target = dest_dir / filename
    cancelled = cancel_check(cancel)
    if cancelled():
        raise DownloadCancelled(f"the download of {filename} was cancelled")
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(
            f"{dest_dir}: cannot create the download folder ({exc.strerror or exc})"
        ) from None
    failures = []
    for mirror in mirrors:
        url = mirror if mirror.endswith(filename) else mirror.rstrip("/") + "/" + filename
        host = urlsplit(url).netloc or url
        fd, tmp = tempfile.mkstemp(prefix=filename + ".", suffix=".part", dir=dest_dir)
        os.close(fd)
        part = Path(tmp)
        try:
            problem = _fetch(
                url,
                part,
                filename=filename,
                sha256=sha256.lower(),
                label=f"{label or 'Downloading ' + filename} from {host}",
                progress=progress,
                cancelled=cancelled,
                timeout=TIMEOUT_S if timeout is None else timeout,
            )
            if problem is None:
                os.replace(part, target)
                return target
            failures.append(f"{url}: {problem}")
        finally:
            part.unlink(missing_ok=True)
    tried = "; ".join(failures) if failures else "no mirrors configured"
    raise DownloadError(f"could not download {filename} ({tried})")


def download_dataset(
    name: str,
    dest_dir: Path | str | None = None,
    *,
    mirrors: Sequence[str] | None = None,
    checksums: dict[str, str] | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
    timeout: float | None = None,
) -> Path:
    """Make sure every file of a data set is in its cache folder, downloading the missing ones.

    Files already present are kept as they are (they are validated when read). A file that cannot be
    downloaded raises `DownloadError` naming every missing file and the folder to place them in by hand.

    Parameters
    ----------
    name : str
        A key of `CHECKSUMS`: ``"mnist"``, ``"fashion-mnist"`` or ``"kmnist"``.
    dest_dir : pathlib.Path or str, optional
        Folder for the files; `dataset_dir(name)` when None.
    mirrors : sequence of str, optional
        Base URLs; ``MIRRORS[name]`` when None.
    checksums : dict, optional
        ``{filename: sha256}``; ``CHECKSUMS[name]`` when None.
    progress, cancel, timeout
        As for `download_file`.

    Returns
    -------
    pathlib.Path
        The folder holding all files.
    """
    if checksums is None and name not in CHECKSUMS:
        raise DatasetError(f"no download is known for {name!r}; downloadable: {', '.join(CHECKSUMS)}")
    files = CHECKSUMS[name] if checksums is None else checksums
    mirrors = MIRRORS.get(name, []) if mirrors is None else list(mirrors)
    folder = dataset_dir(name) if dest_dir is None else Path(dest_dir)
    missing = [f for f in files if not (folder / f).is_file()]
    for i, filename in enumerate(missing, start=1):
        try:
            download_file(
                filename,
                folder,
                sha256=files[filename],
                mirrors=mirrors,
                progress=progress,
                cancel=cancel,
                timeout=timeout,
                label=f"Downloading {name} {filename} ({i}/{len(missing)})",
            )
        except DownloadError as exc:
            still = [f for f in files if not (folder / f).is_file()]
            raise DownloadError(
                f"{exc}; without a connection, put {', '.join(still)} into {folder} and load {name} again",
                missing=still,
                folder=folder,
            ) from None
    return folder
