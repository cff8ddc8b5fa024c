"""Fixtures for the data tests: a tiny MNIST-style folder and a loopback HTTP server."""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis.configuration import set_hypothesis_home_dir

from tests.engine.data.helpers import FileHandler, FileServer, small_mnist, write_idx_folder

# Hypothesis keeps its caches in a temporary folder (removed at exit), not in the project folder; set before
# the test modules are collected, since building their strategies already writes there.
_HYPOTHESIS_HOME = tempfile.TemporaryDirectory(prefix="dllab-hypothesis-")
set_hypothesis_home_dir(_HYPOTHESIS_HOME.name)


@pytest.fixture
def mnist_arrays() -> dict[str, np.ndarray]:
    return small_mnist()


@pytest.fixture
def idx_folder(tmp_path: Path, mnist_arrays: dict[str, np.ndarray]) -> Path:
    return write_idx_folder(tmp_path / "tiny-mnist", mnist_arrays)


@pytest.fixture
def http_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FileServer]:
    """A ThreadingHTTPServer on 127.0.0.1 in a background thread; set ``server.files`` to serve files."""
    for var in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    server = FileServer(("127.0.0.1", 0), FileHandler)
    server.files, server.requests, server.release = {}, [], threading.Event()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
