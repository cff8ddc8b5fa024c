"""Safe files: atomic writes that survive kill -9 and clear what it leaves, regular files only, NumPy archives
read within limits."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

import dllab
from dllab.errors import DamagedFileError
from dllab.files import atomic_write, open_regular, read_at_most, read_npz, remove_stale_temporaries
from tests.memory import run_bounded

ROOT = Path(__file__).resolve().parents[2]


def _temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_a_temporary_of_an_ended_writer_is_removed_and_a_running_one_kept(tmp_path: Path) -> None:
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_pid = int(ended.stdout)
    stale = tmp_path / f".model.dllab.npz.{dead_pid}.0123456789ab.tmp"
    mine = tmp_path / f".model.dllab.npz.{os.getpid()}.0123456789ab.tmp"
    other = tmp_path / ".notes.txt.tmp"  # not one of ours: the pattern does not match
    for path in (stale, mine, other):
        path.write_bytes(b"half a file")
    assert remove_stale_temporaries(tmp_path) == [stale]
    atomic_write(tmp_path / "model.dllab.npz", lambda f: f.write(b"new"))
    assert _temporaries(tmp_path) == sorted([mine.name, other.name])


_SAVER = """
import sys, numpy as np, dllab
spec = {"format": "dllab.network/1", "input_shape": [2000],
        "layers": [{"type": "Dense", "units": 2000}, {"type": "Dense", "units": 10}],
        "loss": "softmax_cross_entropy"}
model = dllab.build(spec, seed=1)
print("saving", flush=True)
while True:
    dllab.save(model, sys.argv[1])
"""


def test_kill_9_during_saves_keeps_the_old_file_and_the_next_save_clears_the_temporary(
    tmp_path: Path,
) -> None:
    target = tmp_path / "model.dllab.npz"
    spec = {
        "format": "dllab.network/1",
        "input_shape": [2000],
        "layers": [{"type": "Dense", "units": 2000}, {"type": "Dense", "units": 10}],
        "loss": "softmax_cross_entropy",
    }
    original = dllab.build(spec, seed=0)
    dllab.save(original, target)
    left_behind = 0
    for attempt in range(6):
        child = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(_SAVER), str(target)], stdout=subprocess.PIPE, text=True
        )
        assert child.stdout is not None and child.stdout.readline().strip() == "saving"
        time.sleep(0.05 + 0.03 * attempt)  # somewhere inside a 16 MB save
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        left_behind += len(_temporaries(tmp_path))
        loaded = dllab.load(target)  # complete: the old model or a whole new one, never a torn file
        assert set(loaded.params) == set(original.params)
        dllab.save(original, target)  # the next save into the folder removes what the killed one left
        assert _temporaries(tmp_path) == []
    assert left_behind > 0  # the kills did land inside saves


def test_open_regular_refuses_a_fifo_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "model.dllab.npz"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []

    def read() -> None:
        try:
            open_regular(fifo).close()
        except DamagedFileError as exc:
            outcome.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    reader.join(10)
    assert not reader.is_alive(), "opening a FIFO blocked"
    assert "not a regular file" in str(outcome[0])


@pytest.mark.parametrize("path", ["/dev/zero", "/dev/null"])
def test_open_regular_refuses_devices(path: str) -> None:
    if not os.path.exists(path):
        pytest.skip(f"{path} does not exist here")
    with pytest.raises(DamagedFileError, match="not a regular file"):
        open_regular(path)


def test_open_regular_names_missing_files_and_folders(tmp_path: Path) -> None:
    with pytest.raises(DamagedFileError, match="does not exist"):
        open_regular(tmp_path / "nothing")
    with pytest.raises(DamagedFileError, match="is a folder"):
        open_regular(tmp_path)


def _npz(path: Path, **arrays: np.ndarray) -> Path:
    np.savez(path, **arrays)
    return path


def test_read_at_most_reads_the_file_or_one_byte_past_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_bytes(b"0123456789")
    with open_regular(path) as file:
        assert read_at_most(file, 100) == b"0123456789"
    with open_regular(path) as file:
        assert read_at_most(file, 4) == b"01234"  # one byte more than the limit: too large
    path.write_bytes(b"")
    with open_regular(path) as file:
        assert read_at_most(file, 4) == b""


def test_read_at_most_reads_on_when_the_file_grows_while_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "growing"
    path.write_bytes(b"abcdefgh")
    real_fstat = os.fstat

    def size_before_growing(fd: int) -> os.stat_result:  # the 3 bytes it had before a writer appended 5
        result = real_fstat(fd)
        return os.stat_result((*result[:6], 3, *result[7:10]))

    with open_regular(path) as file:
        monkeypatch.setattr(os, "fstat", size_before_growing)
        assert read_at_most(file, 100) == b"abcdefgh"
    with open_regular(path) as file:
        assert read_at_most(file, 6) == b"abcdefg"


def test_read_npz_reads_what_numpy_writes(tmp_path: Path) -> None:
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    names = np.array(["a", "bb"])
    fortran = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    arrays = read_npz(_npz(tmp_path / "a.npz", x=x, names=names, f=fortran))
    assert list(arrays) == ["x", "names", "f"]
    assert np.array_equal(arrays["x"], x) and arrays["x"].dtype == np.float32
    assert arrays["names"].tolist() == ["a", "bb"]
    assert np.array_equal(arrays["f"], fortran)
    arrays["x"][0, 0] = 5  # writable


def test_read_npz_refuses_pickles_encryption_and_headers_that_lie(tmp_path: Path) -> None:
    with pytest.raises(DamagedFileError, match="pickled object array 'o'"):
        read_npz(_npz(tmp_path / "o.npz", o=np.array([{"a": 1}], dtype=object)))
    path = _npz(tmp_path / "e.npz", x=np.zeros(4))
    raw = bytearray(path.read_bytes())
    raw[6] |= 1  # the local header's "encrypted" flag
    central = raw.rfind(b"PK\x01\x02")
    raw[central + 8] |= 1
    path.write_bytes(bytes(raw))
    with pytest.raises(DamagedFileError, match="encrypted"):
        read_npz(path)
    # A header declaring 2**40 float64 values in a member of a few bytes.
    header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776,), }"
    header += b" " * (117 - len(header)) + b"\n"
    with zipfile.ZipFile(tmp_path / "big.npz", "w") as archive:
        archive.writestr(
            "x.npy", b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + b"\0" * 8
        )
    with pytest.raises(DamagedFileError, match="larger than the 136 bytes it holds"):
        read_npz(tmp_path / "big.npz")


def test_a_zip_bomb_is_refused_before_it_is_inflated(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.npz"
    with (
        zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open("x.npy", "w", force_zip64=True) as member,
    ):
        header = b"{'descr': '|u1', 'fortran_order': False, 'shape': (600000000,), }"
        header += b" " * (117 - len(header)) + b"\n"
        member.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header)
        block = bytes(2**24)
        for _ in range(600000000 // len(block)):
            member.write(block)
        member.write(bytes(600000000 % len(block)))
    assert bomb.stat().st_size < 4 * 2**20
    outcome = run_bounded(f"read_npz({str(bomb)!r})", imports="from dllab.files import read_npz")
    assert outcome.outcome == "DllabError" and "more than" in outcome.message
    assert outcome.grew_mib < 100


def test_the_command_line_refuses_a_fifo_as_a_model_file(tmp_path: Path) -> None:
    fifo = tmp_path / "model.dllab.npz"
    os.mkfifo(fifo)
    done = subprocess.run(
        [sys.executable, "-m", "dllab", "info", str(fifo)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "not a regular file" in done.stderr
