"""Files on disk, read and written safely: atomic writes, leftover temporaries, regular files only, and NumPy
archives read within limits.

- :func:`atomic_write` writes through a temporary file that replaces the target only when complete, and
  removes the temporaries that earlier writers killed mid-write left in the same folder.
- :func:`open_regular` opens a file for reading only when it is a regular file: a pipe, a device or a socket is
  refused before anything is read (reading ``/dev/zero`` never ends, opening a FIFO blocks).
- :func:`read_npz` reads a NumPy ``.npz`` archive without unpickling anything and without allocating more than
  the archive really holds: every member's declared size is checked against a limit, and every array header
  against the bytes of its member, before an array is allocated.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import stat
import sys
import time
import uuid
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO, BinaryIO

import numpy as np

from dllab.errors import DamagedFileError, quote

#: Temporary files of :func:`atomic_write`: ``.<target name>.<process id>.<12 hex digits>.tmp``.
_TEMP_PATTERN = re.compile(r"^\.(?P<target>.+)\.(?P<pid>\d+)\.[0-9a-f]{12}\.tmp$")
#: Temporaries of earlier versions had no process id; they are removed once this old (seconds).
_LEGACY_TEMP_PATTERN = re.compile(r"^\.(?P<target>.+)\.[0-9a-f]{12}\.tmp$")
_LEGACY_TEMP_AGE = 3600.0

#: Decompressed bytes an archive may hold: this many times its size on disk, and at least :data:`NPZ_FLOOR`.
NPZ_RATIO = 32
NPZ_FLOOR = 256 * 2**20
_NPY_SUFFIX = ".npy"
#: Bytes read at a time by :func:`read_into`.
READ_CHUNK = 1 << 22
_ZIP_COMPRESSIONS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA)
# What reading a damaged or hostile archive can raise.
_ARCHIVE_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    KeyError,
    ValueError,
    RuntimeError,  # an encrypted member
    NotImplementedError,  # an unknown compression method
    SyntaxError,
    RecursionError,
    MemoryError,
    OverflowError,
    TypeError,
)


# --- writing ---------------------------------------------------------------------------------------------


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], None]) -> Path:
    """Write a file so that readers only ever see the old content or the complete new one.

    ``write`` receives a binary file opened on a new temporary file in the target's folder. When it returns,
    the file is flushed and synced to disk and renamed onto ``path`` (:func:`os.replace`, atomic on one file
    system). When anything fails, the temporary file is removed, the exception propagates and an existing
    file at ``path`` is left as it was. Temporaries that a writer killed mid-write (``kill -9``, a power cut)
    left in the folder are removed first.

    Parameters
    ----------
    path
        The file to create or replace, written exactly there.
    write
        Writes the whole content to the file object it is given.

    Returns
    -------
    Path
        ``path``.
    """
    target = Path(path)
    folder = target.parent
    remove_stale_temporaries(folder)
    while True:
        temp = folder / f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:12]}.tmp"
        try:
            # 0o666 under the process umask: the file gets the permissions an ordinary open() would give it.
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        except FileExistsError:
            continue
        break
    try:
        try:
            file = os.fdopen(fd, "wb")
        except BaseException:
            os.close(fd)
            raise
        with file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _sync_folder(folder)
    return target


def process_alive(pid: int) -> bool:
    """Whether the process ``pid`` is running (True where that cannot be checked: a file it holds is kept)."""
    if pid == os.getpid():
        return True
    if sys.platform == "win32":  # os.kill would end the process there; keep what cannot be checked
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process, or not allowed to ask
        return True
    return True


def remove_stale_temporaries(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporaries of :func:`atomic_write` in ``folder`` whose writer no longer runs.

    A temporary names the process that writes it; one whose process has ended was left by a writer that was
    killed mid-write, and nothing will ever use it. Temporaries of running writers are kept.

    Returns
    -------
    list of Path
        The files removed.
    """
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        match = _TEMP_PATTERN.match(entry.name)
        try:
            if match:
                stale = not process_alive(int(match["pid"]))
            elif _LEGACY_TEMP_PATTERN.match(entry.name):
                stale = now - entry.stat(follow_symlinks=False).st_mtime > _LEGACY_TEMP_AGE
            else:
                continue
            if stale and entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except (OSError, ValueError):
            continue
    return removed


def _sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable where the platform allows it (POSIX; a no-op elsewhere)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --- reading ---------------------------------------------------------------------------------------------


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """Open a regular file for binary reading; anything else raises :class:`DamagedFileError`.

    The file is opened without blocking and checked on the open descriptor, so a FIFO, a device or a socket
    is refused before a byte is read, and a file swapped for one after a check cannot slip through.

    Raises
    ------
    DamagedFileError
        When the path does not exist, is a folder, is not a regular file or cannot be opened; ``problem``
        says which, e.g. ``"does not exist"``.
    """
    path = Path(path)
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise DamagedFileError(path, "does not exist") from None
    except IsADirectoryError:
        raise DamagedFileError(path, "is a folder, not a file") from None
    except OSError as exc:
        raise DamagedFileError(path, f"cannot be opened ({exc.strerror or exc})") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise DamagedFileError(path, "is a folder, not a file")
        if not stat.S_ISREG(mode):
            raise DamagedFileError(
                path, "is not a regular file (a pipe, a device or a socket), so it is not read"
            )
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_at_most(file: BinaryIO, limit: int) -> bytes:
    """What an open regular file holds, up to ``limit + 1`` bytes (more than ``limit`` says it is too large).

    Asks for the size the file has rather than for the limit: ``read(limit + 1)`` allocates the whole limit
    first (a gigabyte for a run file; 300 runs were listed in 110 ms that way, 66 ms this way). A file that
    grows while it is read is read on, up to the limit.
    """
    size = min(os.fstat(file.fileno()).st_size, limit)
    data = file.read(size + 1)
    if len(data) > size:
        data += file.read(limit + 1 - len(data))
    return data


def read_into(stream: IO[bytes], buffer: memoryview) -> int:
    """Fill ``buffer`` from ``stream``; the number of bytes read (fewer at the end of the stream).

    Reads in chunks of :data:`READ_CHUNK` bytes: a decompressing stream reads into a temporary of the size
    asked for and then copies, so asking for the whole buffer at once would hold it twice.
    """
    done = 0
    while done < len(buffer):
        got = stream.readinto(buffer[done : done + READ_CHUNK])
        if not got:
            break
        done += got
    return done


def npz_limit(file_size: int) -> int:
    """The decompressed bytes :func:`read_npz` allows an archive of ``file_size`` bytes on disk."""
    return max(NPZ_FLOOR, NPZ_RATIO * file_size)


def _member_header(member: IO[bytes]) -> tuple[tuple[int, ...], bool, np.dtype]:
    version = np.lib.format.read_magic(member)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(member)
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(member)
    raise ValueError(f"unsupported .npy format version {version[0]}.{version[1]}")


def read_npz(path: str | os.PathLike[str], *, limit: int | None = None) -> dict[str, np.ndarray]:
    """The arrays of a NumPy ``.npz`` archive, read without unpickling and within a memory limit.

    Parameters
    ----------
    path
        The archive (a regular file).
    limit
        The most decompressed bytes the archive may hold; :func:`npz_limit` of its size by default.

    Returns
    -------
    dict of str to numpy.ndarray
        Each ``.npy`` member under its name without the suffix, in the archive's order; other members are
        ignored.

    Raises
    ------
    DamagedFileError
        When the file is not a readable archive, a member is encrypted, uses an unknown compression, declares
        more than ``limit`` bytes, holds a pickled object array or an array larger than its bytes, or cannot
        be decompressed; the message names the member.
    """
    path = Path(path)
    with open_regular(path) as file:
        size = os.fstat(file.fileno()).st_size
        limit = npz_limit(size) if limit is None else limit
        try:
            archive = zipfile.ZipFile(file)
        except _ARCHIVE_ERRORS as exc:
            raise DamagedFileError(path, f"is not a readable .npz archive ({_reason(exc)})") from None
        with archive:
            infos = [info for info in archive.infolist() if info.filename.endswith(_NPY_SUFFIX)]
            declared = 0
            for info in infos:
                name = quote(info.filename[: -len(_NPY_SUFFIX)])
                if info.flag_bits & 0x1:
                    raise DamagedFileError(path, f"holds an encrypted array {name}, which dllab cannot read")
                if info.compress_type not in _ZIP_COMPRESSIONS:
                    raise DamagedFileError(
                        path,
                        f"holds the array {name} in an unknown compression (method {info.compress_type})",
                    )
                declared += info.file_size
                if declared > limit:
                    raise DamagedFileError(
                        path,
                        f"declares {declared:,} bytes of arrays, more than the {limit:,} bytes dllab reads "
                        f"from a file of {size:,} bytes",
                    )
            return {info.filename[: -len(_NPY_SUFFIX)]: _read_member(archive, info, path) for info in infos}


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> np.ndarray:
    name = quote(info.filename[: -len(_NPY_SUFFIX)])
    try:
        with archive.open(info) as member:
            shape, fortran, dtype = _member_header(member)
            if dtype.hasobject:
                raise DamagedFileError(
                    path, f"holds a pickled object array {name}, which dllab refuses to load"
                )
            if dtype.kind not in "biufcUS" or dtype.fields is not None:
                raise DamagedFileError(path, f"holds the array {name} of an unsupported type {dtype}")
            count = math.prod(shape)
            if count * max(dtype.itemsize, 1) > info.file_size:
                raise DamagedFileError(
                    path,
                    f"declares the array {name} of shape {quote(shape, 40)} ({dtype}), larger than the "
                    f"{info.file_size:,} bytes it holds",
                )
            array = np.empty(count, dtype=dtype)
            if read_into(member, memoryview(array).cast("B")) < array.nbytes:
                raise DamagedFileError(path, f"holds the array {name} cut short")
            if fortran:
                return array.reshape(shape[::-1]).transpose()
            return array.reshape(shape)
    except DamagedFileError:
        raise
    except _ARCHIVE_ERRORS as exc:
        raise DamagedFileError(path, f"holds the array {name} damaged ({_reason(exc)})") from None


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 80 else text[:79] + "…"
