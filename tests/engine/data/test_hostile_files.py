"""Hostile and damaged data: every reader returns a sound data set or raises DatasetError, nothing else, and
reads within a memory bound.

Property tests feed each reader arbitrary bytes and valid files mutated by hypothesis (flipped bytes, cuts,
splices); the bombs run in a child process under an address-space cap (`tests.memory.run_bounded`).
"""

from __future__ import annotations

import gzip
import io
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dllab.data import Dataset, DatasetError, load_csv, load_dataset, load_idx_folder, load_npz, read_idx
from dllab.data.idx import IDX_FILES, IDX_TYPES
from dllab.data.registry import DATASET_NAMES
from tests.engine.data.helpers import FUZZ, assert_sound, idx_bytes, mutated
from tests.memory import run_bounded

#: Memory a reader may take beyond its imports while refusing a bomb.
BOMB_GROWTH_MIB = 200


def _fresh(tmp_path: Path) -> Path:
    """A new folder for one hypothesis example (the test's tmp_path is shared by all of them)."""
    return Path(tempfile.mkdtemp(dir=tmp_path))


def _load_or_refuse(load: Callable[[Path], Dataset], path: Path) -> Dataset | None:
    """``load(path)``: a sound data set, or None when it raised DatasetError; anything else fails the test."""
    try:
        ds = load(path)
    except DatasetError as exc:
        assert "\n" not in str(exc)
        return None
    assert_sound(ds)
    return ds


def _read_or_refuse(path: Path) -> None:
    """``read_idx(path)``: a native, finite array, or DatasetError; anything else fails the test."""
    try:
        array = read_idx(path)
    except DatasetError:
        return
    assert array.dtype.isnative
    if array.dtype.kind == "f":
        assert np.isfinite(array).all()


# --- IDX -------------------------------------------------------------------------------------------------


def _tiny_idx() -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    arrays = {
        "train_images": rng.integers(0, 256, (12, 6, 6), dtype=np.uint8),
        "train_labels": (np.arange(12) % 3).astype(np.uint8),
        "test_images": rng.integers(0, 256, (6, 6, 6), dtype=np.uint8),
        "test_labels": (np.arange(6) % 3).astype(np.uint8),
    }
    return {role: idx_bytes(a) for role, a in arrays.items()}


TINY_IDX = _tiny_idx()


@FUZZ
@given(data=st.data(), role=st.sampled_from(sorted(IDX_FILES)), compress=st.booleans())
def test_mutated_idx_folder_loads_soundly_or_is_refused(
    tmp_path: Path, data: st.DataObject, role: str, compress: bool
) -> None:
    folder = _fresh(tmp_path)
    suffix = ".gz" if compress else ""
    for r, content in TINY_IDX.items():
        packed = gzip.compress(content, mtime=0) if compress else content
        if r == role:
            packed = data.draw(mutated(packed), label="file")
        (folder / (IDX_FILES[r] + suffix)).write_bytes(packed)
    _load_or_refuse(load_idx_folder, folder)


@st.composite
def idx_like(draw: st.DrawFn) -> bytes:
    """Bytes that start like an IDX file: a type code, a few dimensions, then data of about the right size."""
    code = draw(st.sampled_from([*IDX_TYPES, 0x42]))
    dims = draw(st.lists(st.one_of(st.integers(0, 5), st.integers(0, 2**32 - 1)), max_size=6))
    header = bytes([0, 0, code, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims)
    itemsize = IDX_TYPES[code].itemsize if code in IDX_TYPES else 1
    exact = int(np.prod(dims, dtype=object)) * itemsize if dims else 0
    size = draw(st.sampled_from([exact, exact + 1, max(exact - 1, 0)])) if exact <= 2048 else 16
    return header + draw(st.binary(min_size=size, max_size=size))


@FUZZ
@given(content=st.one_of(st.binary(max_size=300), idx_like()), compress=st.booleans())
def test_any_bytes_as_an_idx_file_are_read_or_refused(tmp_path: Path, content: bytes, compress: bool) -> None:
    path = _fresh(tmp_path) / "any-idx"
    path.write_bytes(gzip.compress(content, mtime=0) if compress else content)
    _read_or_refuse(path)


# --- .npz ------------------------------------------------------------------------------------------------


def _npz_bytes(compressed: bool, **arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buffer, **arrays)
    return buffer.getvalue()


VALID_NPZ = [
    _npz_bytes(False, x=np.arange(40, dtype=np.float32).reshape(10, 4), y=np.arange(10) % 2),
    _npz_bytes(
        True,
        x_train=np.arange(8 * 64, dtype=np.uint8).reshape(8, 8, 8),
        y_train=np.array(["a", "b"] * 4),
        x_test=np.zeros((2, 8, 8), np.uint8),
        y_test=np.array(["b", "a"]),
        class_names=np.array(["a", "b"]),
    ),
    _npz_bytes(False, x=np.linspace(0, 1, 30).reshape(10, 3), y=np.linspace(-1, 1, 10), task="regression"),
]


@FUZZ
@given(data=st.data(), which=st.sampled_from(range(len(VALID_NPZ))))
def test_mutated_npz_loads_soundly_or_is_refused(tmp_path: Path, data: st.DataObject, which: int) -> None:
    path = _fresh(tmp_path) / "data.npz"
    path.write_bytes(data.draw(mutated(VALID_NPZ[which]), label="file"))
    _load_or_refuse(load_npz, path)


@FUZZ
@given(content=st.binary(max_size=400))
def test_any_bytes_as_an_npz_file_are_loaded_or_refused(tmp_path: Path, content: bytes) -> None:
    path = _fresh(tmp_path) / "data.npz"
    path.write_bytes(content)
    _load_or_refuse(load_npz, path)


DTYPES = st.sampled_from(["u1", "i2", "i8", "u8", "f2", "f4", "f8", "b1", "c8", "U3", "S3"])


def any_array(min_dims: int = 0) -> st.SearchStrategy[np.ndarray]:
    """Small arrays of any dtype and shape, NaN, infinity and extreme values included."""
    return DTYPES.flatmap(
        lambda dtype: hnp.arrays(
            dtype, hnp.array_shapes(min_dims=min_dims, max_dims=5, min_side=0, max_side=5)
        )
    )


@FUZZ
@given(
    x=any_array(),
    y=any_array(),
    test=st.none() | st.tuples(any_array(), any_array()),
    extra=st.fixed_dictionaries(
        {},
        optional={
            "class_names": any_array(),
            "task": st.sampled_from(["classification", "regression", "clustering"]).map(np.array),
        },
    ),
)
def test_any_arrays_in_an_npz_load_soundly_or_are_refused(
    tmp_path: Path, x: np.ndarray, y: np.ndarray, test: tuple[np.ndarray, np.ndarray] | None, extra: dict
) -> None:
    arrays = {"x": x, "y": y, **extra}
    if test is not None:
        arrays["x_test"], arrays["y_test"] = test
    path = _fresh(tmp_path) / "arrays.npz"
    path.write_bytes(_npz_bytes(False, **arrays))
    _load_or_refuse(load_npz, path)


@FUZZ
@given(
    n=st.integers(1, 12),
    width=st.integers(1, 4),
    labels=hnp.arrays(np.int64, 12, elements=st.integers(0, 4)),
    fraction=st.floats(0.05, 0.95),
)
def test_small_sets_are_split_soundly_or_refused(
    tmp_path: Path, n: int, width: int, labels: np.ndarray, fraction: float
) -> None:
    path = _fresh(tmp_path) / "small.npz"
    path.write_bytes(_npz_bytes(False, x=np.ones((n, width)), y=labels[:n]))
    _load_or_refuse(lambda p: load_npz(p, test_fraction=fraction), path)


# --- CSV -------------------------------------------------------------------------------------------------

VALID_CSV = [
    b"a,label,b\n" + b"".join(b"%d.5,%d,%d\n" % (i, i % 3, -i) for i in range(12)),
    b"".join(b"%s,%d,%d\n" % ([b"cat", b"dog"][i % 2], i, i * i) for i in range(10)),
    b"target,u\r\n" + b"".join(b"%f,%d\r\n" % (i * 0.37, i) for i in range(10)),
]
CSV_TEXT = st.text(alphabet='0123456789,.-+eE\n\r \t"abnifNI#\u00e9', max_size=200)


@FUZZ
@given(data=st.data(), which=st.sampled_from(range(len(VALID_CSV))))
def test_mutated_csv_loads_soundly_or_is_refused(tmp_path: Path, data: st.DataObject, which: int) -> None:
    path = _fresh(tmp_path) / "table.csv"
    path.write_bytes(data.draw(mutated(VALID_CSV[which]), label="file"))
    _load_or_refuse(load_csv, path)


@FUZZ
@given(data=st.data(), mutate_test=st.booleans())
def test_mutated_train_and_test_csv_load_soundly_or_are_refused(
    tmp_path: Path, data: st.DataObject, mutate_test: bool
) -> None:
    folder = _fresh(tmp_path)
    train, test = VALID_CSV[0], VALID_CSV[0][:40] + b"\n"
    if mutate_test:
        test = data.draw(mutated(test), label="test file")
    else:
        train = data.draw(mutated(train), label="training file")
    (folder / "set_test.csv").write_bytes(test)
    (folder / "set_train.csv").write_bytes(train)
    _load_or_refuse(load_csv, folder / "set_train.csv")


@FUZZ
@given(content=st.one_of(CSV_TEXT.map(lambda t: t.encode("utf-8")), st.binary(max_size=200)))
def test_any_text_as_a_csv_file_is_loaded_or_refused(tmp_path: Path, content: bytes) -> None:
    path = _fresh(tmp_path) / "any.csv"
    path.write_bytes(content)
    _load_or_refuse(load_csv, path)


# --- the Dataset container and load_dataset ------------------------------------------------------------


@FUZZ
@given(
    x_train=any_array(),
    y_train=any_array(),
    x_test=any_array(),
    y_test=any_array(),
    classes=st.integers(0, 6),
    task=st.sampled_from(["classification", "regression"]),
)
def test_the_dataset_container_accepts_only_sound_data(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    classes: int,
    task: str,
) -> None:
    names = [str(i) for i in range(classes)] if task == "classification" else []
    try:
        ds = Dataset("api", x_train, y_train, x_test, y_test, class_names=names, task=task)
    except DatasetError:
        return
    assert_sound(ds)


@FUZZ
@given(name=st.one_of(st.text(max_size=80), st.integers(), st.floats(), st.none(), st.binary(max_size=8)))
def test_load_dataset_refuses_what_is_neither_a_name_nor_a_data_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: object
) -> None:
    assume(not (isinstance(name, str) and name.strip().lower().replace("_", "-") in DATASET_NAMES))
    monkeypatch.chdir(_fresh(tmp_path))
    with pytest.raises(DatasetError):
        load_dataset(name)


# --- bombs: refused within bounded memory ----------------------------------------------------------------


def _gzip_zeros(path: Path, header: bytes, zeros: int) -> Path:
    """Write ``header`` followed by ``zeros`` zero bytes, gzip-compressed (about a thousand times smaller)."""
    chunk = bytes(1 << 22)
    with gzip.open(path, "wb", compresslevel=6) as out:
        out.write(header)
        for _ in range(zeros // len(chunk)):
            out.write(chunk)
        out.write(bytes(zeros % len(chunk)))
    return path


def _idx_header(code: int, *dims: int) -> bytes:
    return bytes([0, 0, code, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims)


def _assert_refused_within_bounds(code: str, pattern: str) -> None:
    outcome = run_bounded(code, imports="import dllab.data")
    assert outcome.outcome == "DllabError", outcome.message
    assert pattern in outcome.message
    assert outcome.grew_mib < BOMB_GROWTH_MIB, outcome


def test_gzip_bomb_idx_declaring_little_is_refused_after_that_little(tmp_path: Path) -> None:
    # 256 MB of zeros behind a header that declares 10 images: only 7,841 bytes are ever decompressed.
    bomb = _gzip_zeros(tmp_path / "bomb.gz", _idx_header(0x08, 10, 28, 28), 256 * 2**20)
    assert bomb.stat().st_size < 2**20
    _assert_refused_within_bounds(f"dllab.data.read_idx({str(bomb)!r})", "longer than its header says")


def test_idx_declaring_more_than_gzip_can_hold_is_refused_before_allocating(tmp_path: Path) -> None:
    bomb = _gzip_zeros(tmp_path / "huge.gz", _idx_header(0x0E, 2**32 - 1, 4096, 4096), 2**20)
    _assert_refused_within_bounds(f"dllab.data.read_idx({str(bomb)!r})", "more than a gzip file")


def test_npz_declaring_2_to_the_40_elements_is_refused(tmp_path: Path) -> None:
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (2**40,)})
    bomb = tmp_path / "huge.npz"
    with zipfile.ZipFile(bomb, "w") as archive:
        archive.writestr("x.npy", header.getvalue() + bytes(64))
        archive.writestr("y.npy", header.getvalue())
    _assert_refused_within_bounds(f"dllab.data.load_npz({str(bomb)!r})", "larger than the")


def test_npz_with_one_label_of_2e7_is_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "label.npz"
    np.savez_compressed(
        bomb, x=np.zeros((2, 2)), y=np.array([0, 2 * 10**7]), x_test=np.zeros((1, 2)), y_test=np.array([0])
    )
    assert bomb.stat().st_size < 2048
    _assert_refused_within_bounds(f"dllab.data.load_npz({str(bomb)!r})", "more than the 100,000 classes")


def test_csv_with_one_long_label_loads_within_bounded_memory(tmp_path: Path) -> None:
    # A fixed-width text array would take rows x longest label x 4 bytes: 300,000 x 2 MB x 4.
    path = tmp_path / "long.csv"
    path.write_bytes(b"ab,1\n" * 300_000 + b"z" * 2**21 + b",2\n")
    outcome = run_bounded(
        f"ds = dllab.data.load_csv({str(path)!r})\nassert ds.num_classes == 2, ds",
        imports="import dllab.data",
    )
    assert outcome.outcome == "ok", outcome.message
    assert outcome.grew_mib < BOMB_GROWTH_MIB, outcome
