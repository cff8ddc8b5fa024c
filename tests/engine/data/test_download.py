"""Downloads against a loopback HTTP server: success, bad checksum, failing mirrors, broken transfers, cancel."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import numpy as np
import platformdirs
import pytest

import dllab.data.download as download
from dllab.data import (
    DatasetError,
    DownloadCancelled,
    DownloadError,
    data_root,
    dataset_dir,
    download_dataset,
    download_file,
    load_dataset,
)
from tests.engine.data.helpers import FileServer, base_url, gz_files, sha256_hex, small_mnist

FILENAME = "train-images-idx3-ubyte.gz"


@pytest.fixture
def served(http_server: FileServer) -> dict[str, bytes]:
    """The four gzip IDX files of a tiny MNIST, served by the loopback server."""
    files = gz_files(small_mnist(n_train=120, n_test=30))
    http_server.files = files
    return files


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def test_download_success_reports_progress(http_server: FileServer, served: dict[str, bytes], tmp_path: Path):
    data = served[FILENAME]
    calls: list[tuple[int, int | None, str]] = []
    path = download_file(
        FILENAME,
        tmp_path / "dl",
        sha256=sha256_hex(data),
        mirrors=[base_url(http_server)],
        progress=lambda done, total, msg: calls.append((done, total, msg)),
    )
    assert path == tmp_path / "dl" / FILENAME
    assert path.read_bytes() == data
    assert _leftovers(tmp_path / "dl") == [FILENAME]  # no .part file left
    done = [c[0] for c in calls]
    assert done[0] == 0 and done[-1] == len(data) and done == sorted(done)
    assert all(total == len(data) for _, total, _ in calls)
    assert FILENAME in calls[-1][2] and "127.0.0.1" in calls[-1][2]


def test_checksum_mismatch_is_rejected_and_removed(http_server, served, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match=rf"could not download {FILENAME}.*wrong sha256") as info:
        download_file(
            FILENAME,
            tmp_path,
            sha256=sha256_hex(served[FILENAME]),
            mirrors=[base_url(http_server, "corrupt")],
        )
    assert "/corrupt/" in str(info.value)
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("first", ["missing", "closed port", "corrupt", "drop", "not a url"])
def test_failing_first_mirror_then_second(http_server, served, tmp_path: Path, first: str) -> None:
    special = {"closed port": _closed_port_url(), "not a url": "nonsense"}
    bad = special.get(first) or base_url(http_server, first)
    path = download_file(
        FILENAME, tmp_path, sha256=sha256_hex(served[FILENAME]), mirrors=[bad, base_url(http_server)]
    )
    assert path.read_bytes() == served[FILENAME]
    assert _leftovers(tmp_path) == [FILENAME]
    assert http_server.requests[-1] == f"/ok/{FILENAME}"


@pytest.mark.parametrize("mode", ["drop", "nolength"])
def test_interrupted_transfer_is_never_kept(http_server, served, tmp_path: Path, mode: str) -> None:
    with pytest.raises(DownloadError, match=r"connection broke after|wrong sha256"):
        download_file(
            FILENAME, tmp_path, sha256=sha256_hex(served[FILENAME]), mirrors=[base_url(http_server, mode)]
        )
    assert _leftovers(tmp_path) == []


def test_interrupted_transfer_message_says_how_far(http_server, served, tmp_path: Path) -> None:
    size = len(served[FILENAME])
    with pytest.raises(DownloadError, match=f"after {size // 2} of {size} bytes"):
        download_file(
            FILENAME, tmp_path, sha256=sha256_hex(served[FILENAME]), mirrors=[base_url(http_server, "drop")]
        )


def test_socket_timeout(http_server, served, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="timed out"):
        download_file(
            FILENAME,
            tmp_path,
            sha256=sha256_hex(served[FILENAME]),
            mirrors=[base_url(http_server, "hang")],
            timeout=0.2,
        )
    assert _leftovers(tmp_path) == []


def test_cancel_mid_transfer(http_server, served, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(download, "CHUNK_SIZE", 1024)
    seen: list[int] = []
    with pytest.raises(DownloadCancelled, match=f"download of {FILENAME} was cancelled"):
        download_file(
            FILENAME,
            tmp_path,
            sha256=sha256_hex(served[FILENAME]),
            mirrors=[base_url(http_server), base_url(http_server)],
            progress=lambda done, total, msg: seen.append(done),
            cancel=lambda: bool(seen) and seen[-1] >= 4096,
        )
    assert seen[-1] == 4096 < len(served[FILENAME])  # stopped between chunks, at once
    assert _leftovers(tmp_path) == []
    assert len(http_server.requests) == 1  # cancel does not move on to the next mirror


def test_cancel_with_an_event_before_starting(http_server, served, tmp_path: Path) -> None:
    event = threading.Event()
    event.set()
    with pytest.raises(DownloadCancelled):
        download_dataset("mnist", tmp_path, mirrors=[base_url(http_server)], cancel=event)
    assert http_server.requests == []
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def _checksums(files: dict[str, bytes]) -> dict[str, str]:
    return {name: sha256_hex(data) for name, data in files.items()}


def test_download_dataset_fetches_only_missing_files(http_server, served, tmp_path: Path) -> None:
    folder = tmp_path / "mnist"
    folder.mkdir()
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(served["t10k-labels-idx1-ubyte.gz"])
    messages: list[str] = []
    out = download_dataset(
        "mnist",
        folder,
        mirrors=[base_url(http_server)],
        checksums=_checksums(served),
        progress=lambda d, t, m: messages.append(m),
    )
    assert out == folder
    assert sorted(p.name for p in folder.iterdir()) == sorted(served)
    assert len(http_server.requests) == 3
    assert any("(3/3)" in m for m in messages)


def test_offline_error_names_files_and_folder(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setitem(download.MIRRORS, "mnist", [_closed_port_url(), _closed_port_url()])
    with pytest.raises(DownloadError) as info:
        load_dataset("mnist", cache_dir=tmp_path)
    message = str(info.value)
    for filename in download.CHECKSUMS["mnist"]:
        assert filename in message
    assert str(tmp_path / "mnist") in message
    assert "put " in message and "Connection refused" in message
    assert isinstance(info.value, DatasetError)
    assert _leftovers(tmp_path / "mnist") == []


def test_load_dataset_downloads_verifies_and_then_uses_the_cache(
    http_server, served, tmp_path: Path, monkeypatch
):
    monkeypatch.setitem(download.MIRRORS, "mnist", [base_url(http_server, "missing"), base_url(http_server)])
    monkeypatch.setitem(download.CHECKSUMS, "mnist", _checksums(served))
    seen: list[tuple[int, int | None, str]] = []
    ds = load_dataset("mnist", cache_dir=tmp_path, progress=lambda *a: seen.append(a))
    assert ds.name == "mnist" and ds.x_train.shape == (120, 1, 28, 28) and ds.x_test.shape == (30, 1, 28, 28)
    np.testing.assert_array_equal(ds.x_train[:, 0], small_mnist(120, 30)["train_images"])
    assert sorted(p.name for p in (tmp_path / "mnist").iterdir()) == sorted(served)
    assert seen
    requests = len(http_server.requests)
    again = load_dataset("mnist", cache_dir=tmp_path)
    assert len(http_server.requests) == requests  # from the cache, no network
    np.testing.assert_array_equal(again.y_train, ds.y_train)


def test_damaged_cached_file_says_how_to_recover(tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name, data in gz_files(small_mnist()).items():
        (folder / name).write_bytes(data[:-30] if name == FILENAME else data)
    with pytest.raises(DatasetError, match=f"{FILENAME}.*truncated.*delete the damaged file"):
        load_dataset("mnist", cache_dir=tmp_path)


def test_cache_location(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv(download.ENV_DATA_DIR, raising=False)
    assert data_root() == Path(platformdirs.user_cache_dir("dllab")) / "datasets"
    assert dataset_dir("mnist") == data_root() / "mnist"
    monkeypatch.setenv(download.ENV_DATA_DIR, str(tmp_path / "env"))
    assert dataset_dir("fashion-mnist") == tmp_path / "env" / "fashion-mnist"
    assert dataset_dir("mnist", tmp_path / "arg") == tmp_path / "arg" / "mnist"


def test_env_var_is_used_by_load_dataset(tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "env" / "kmnist"
    folder.mkdir(parents=True)
    for name, data in gz_files(small_mnist()).items():
        (folder / name).write_bytes(data)
    monkeypatch.setenv(download.ENV_DATA_DIR, str(tmp_path / "env"))
    monkeypatch.setitem(download.MIRRORS, "kmnist", [])
    ds = load_dataset("kmnist")
    assert ds.class_names[:3] == ["o", "ki", "su"] and len(ds.x_train) == 60


def test_no_mirrors_and_unknown_dataset(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="no mirrors configured"):
        download_file(FILENAME, tmp_path, sha256="0" * 64, mirrors=[])
    with pytest.raises(DatasetError, match="no download is known for 'cifar'"):
        download_dataset("cifar", tmp_path)


def test_known_checksums_are_well_formed() -> None:
    for name, files in download.CHECKSUMS.items():
        assert len(download.MIRRORS[name]) >= 2, name
        assert sorted(files) == sorted(
            [
                "train-images-idx3-ubyte.gz",
                "train-labels-idx1-ubyte.gz",
                "t10k-images-idx3-ubyte.gz",
                "t10k-labels-idx1-ubyte.gz",
            ]
        )
        assert all(len(h) == 64 and int(h, 16) >= 0 for h in files.values())
