"""Helpers for the data tests: small generated IDX files and a loopback HTTP server serving them."""

from __future__ import annotations

import gzip
import hashlib
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from dllab.data import Dataset
from dllab.data.dataset import MAX_CLASSES
from dllab.data.idx import IDX_FILES

#: Settings of the property tests on files: few, fast examples (``DLLAB_FUZZ_EXAMPLES`` asks for more), no
#: example database in the project folder.
FUZZ = settings(
    max_examples=int(os.environ.get("DLLAB_FUZZ_EXAMPLES", "150")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

_CODES = {
    np.dtype(np.uint8): 0x08,
    np.dtype(np.int8): 0x09,
    np.dtype(">i2"): 0x0B,
    np.dtype(">i4"): 0x0C,
    np.dtype(">f4"): 0x0D,
    np.dtype(">f8"): 0x0E,
}


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode an array as an IDX file (big-endian values, as the format requires)."""
    dtype = array.dtype.newbyteorder(">") if array.dtype.itemsize > 1 else array.dtype
    header = bytes([0, 0, _CODES[dtype], array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(dtype).tobytes()


def small_mnist(n_train: int = 60, n_test: int = 20, seed: int = 0) -> dict[str, np.ndarray]:
    """A tiny MNIST-like data set: random 28x28 uint8 images and labels 0-9."""
    rng = np.random.default_rng(seed)
    return {
        "train_images": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train_labels": (np.arange(n_train) % 10).astype(np.uint8),
        "test_images": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "test_labels": (np.arange(n_test)[::-1] % 10).astype(np.uint8),
    }


def gz_files(arrays: dict[str, np.ndarray]) -> dict[str, bytes]:
    """The gzip-compressed IDX files of a data set, keyed by their canonical file names."""
    return {IDX_FILES[role] + ".gz": gzip.compress(idx_bytes(a), mtime=0) for role, a in arrays.items()}


def write_idx_folder(folder: Path, arrays: dict[str, np.ndarray], *, compress: bool = True) -> Path:
    """Write an MNIST-style folder and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    for role, array in arrays.items():
        data = idx_bytes(array)
        if compress:
            (folder / (IDX_FILES[role] + ".gz")).write_bytes(gzip.compress(data, mtime=0))
        else:
            (folder / IDX_FILES[role]).write_bytes(data)
    return folder


class FileServer(ThreadingHTTPServer):
    """Serves ``files`` by name, records each request path; ``release`` ends hanging responses."""

    daemon_threads = True
    files: dict[str, bytes]
    requests: list[str]
    release: threading.Event


class FileHandler(BaseHTTPRequestHandler):
    """``/<mode>/<file>``: ok, corrupt (one byte changed), missing (404), drop (connection closed half-way),
    nolength (no Content-Length, cut half-way), hang (headers, then silence until the test ends)."""

    server: FileServer

    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        mode, _, name = self.path.strip("/").partition("/")
        data = self.server.files.get(name)
        if mode == "missing" or data is None:
            self.send_error(404)
            return
        if mode == "corrupt":
            data = data[:-1] + bytes([data[-1] ^ 0xFF])
        self.send_response(200)
        if mode != "nolength":
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if mode in ("drop", "nolength"):
            self.wfile.write(data[: len(data) // 2])
            self.close_connection = True
        elif mode == "hang":
            self.wfile.flush()
            self.server.release.wait(10)
        else:
            self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass


def base_url(server: FileServer, mode: str = "ok") -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}/{mode}/"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@st.composite
def mutated(draw: st.DrawFn, original: bytes) -> bytes:
    """``original`` with one to three random changes: flipped bytes, a cut, inserted, removed or overwritten
    bytes, or a splice of two parts of it."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.integers(0, max(len(data) - 1, 0)))
        change = draw(st.sampled_from(["flip", "cut", "insert", "remove", "overwrite", "splice"]))
        if change == "flip" and data:
            data[where] ^= draw(st.integers(1, 255))
        elif change == "cut":
            del data[where:]
        elif change == "insert":
            data[where:where] = draw(st.binary(min_size=1, max_size=16))
        elif change == "remove":
            del data[where : where + draw(st.integers(1, 64))]
        elif change == "overwrite":
            patch = draw(st.binary(min_size=1, max_size=8))
            data[where : where + len(patch)] = patch
        elif change == "splice":
            other = draw(st.integers(0, len(data)))
            data = data[:where] + data[other:]
    return bytes(data)


def assert_sound(ds: Dataset) -> None:
    """What every loaded data set guarantees: samples in both sets, finite values, labels in range."""
    assert isinstance(ds, Dataset)
    for x in (ds.x_train, ds.x_test):
        assert x.ndim >= 2 and len(x) > 0 and x[0].size > 0
        assert x.dtype.kind in "biuf"
        if x.dtype.kind == "f":
            assert np.isfinite(x).all()
    if ds.task == "classification":
        assert 0 < ds.num_classes <= MAX_CLASSES
        for y in (ds.y_train, ds.y_test):
            assert y.dtype == np.int64 and y.ndim == 1
            assert y.min() >= 0 and y.max() < ds.num_classes
    else:
        for y in (ds.y_train, ds.y_test):
            assert y.dtype == np.float32 and y.ndim == 2 and y.shape[1] > 0
            assert np.isfinite(y).all()
