"""Model files: round trips, file names, atomic writing, and a clear error for every kind of bad file."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import dllab
from dllab import io as model_io
from dllab.io import FORMAT, METADATA_KEY, ModelFileError, model_file_path, read_model_info

SPEC: dict[str, Any] = {
    "name": "io-test",
    "input_shape": [1, 8, 8],
    "layers": [
        {"type": "Conv2D", "filters": 3, "kernel_size": 3, "padding": 1},
        {"type": "BatchNorm"},
        {"type": "ReLU"},
        {"type": "MaxPool2D", "pool_size": 2, "stride": 2},
        {"type": "Flatten"},
        {"type": "Dense", "units": 12},
        {"type": "BatchNorm", "momentum": 0.5},
        {"type": "Tanh"},
        {"type": "Dropout", "rate": 0.3},
        {"type": "Dense", "units": 4},
    ],
    "loss": "softmax_cross_entropy",
}


def trained_model(dtype: type = np.float32, seed: int = 0) -> dllab.Sequential:
    """A model whose parameters and BatchNorm running statistics are all non-trivial."""
    model = dllab.build(SPEC, seed=seed, dtype=dtype)
    rng = np.random.default_rng(seed + 100)
    for value in model.params.values():
        value[...] = rng.normal(0.0, 0.5, value.shape)
    for _ in range(3):  # training-mode forwards move the running statistics and draw dropout masks
        model.forward(rng.normal(1.0, 2.0, (16, 1, 8, 8)), training=True)
    model.preprocessing = {"kind": "standardize", "input_shape": [1, 8, 8], "mean": [0.13], "std": [0.31]}
    model.class_names = ["zero", "one", "two", "drei"]
    model.training_summary = {"epochs": 3, "accuracy": np.float32(0.75), "history": np.arange(3)}
    return model


def write_npz(path: Path, arrays: dict[str, np.ndarray], document: Any = None, **kwargs: Any) -> Path:
    """An archive with these arrays and (unless ``None``) this metadata document (dict or raw JSON text)."""
    contents = dict(arrays)
    if document is not None:
        text = document if isinstance(document, str) else json.dumps(document)
        contents[METADATA_KEY] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    np.savez(path, **contents, **kwargs)
    return path


def saved_parts(path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The arrays and the metadata document of a model file."""
    with np.load(path, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files if key != METADATA_KEY}
        document = json.loads(npz[METADATA_KEY].tobytes().decode("utf-8"))
    return arrays, document


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    return dllab.save(trained_model(), tmp_path / "model.dllab.npz")


def inputs(n: int = 9) -> np.ndarray:
    return np.random.default_rng(1).normal(0.0, 1.0, (n, 1, 8, 8))


# --- round trips -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_round_trip_gives_bit_identical_predictions(tmp_path: Path, dtype: type) -> None:
    model = trained_model(dtype)
    path = dllab.save(model, tmp_path / "model.dllab.npz")
    loaded = dllab.load(path)

    assert loaded.dtype == np.dtype(dtype)
    assert loaded.spec == model.spec
    x = inputs()
    assert np.array_equal(loaded.predict(x), model.predict(x))
    assert np.array_equal(loaded.forward(x), model.forward(x))
    for key, value in {**model.params, **model.state}.items():
        restored = {**loaded.params, **loaded.state}[key]
        assert restored.dtype == value.dtype
        assert np.array_equal(restored, value), key
    assert not np.array_equal(model.state["batchnorm_1.mean"], 0)  # the statistics were non-trivial
    assert loaded.preprocessing == model.preprocessing
    assert loaded.class_names == model.class_names
    assert loaded.training_summary == {"epochs": 3, "accuracy": 0.75, "history": [0, 1, 2]}


def test_file_holds_every_array_under_its_key_and_one_json_document(model_file: Path) -> None:
    model = trained_model()
    arrays, document = saved_parts(model_file)

    assert set(arrays) == set(model.params) | set(model.state)
    assert {"batchnorm_1.mean", "batchnorm_1.var", "batchnorm_2.mean", "batchnorm_2.var"} <= set(arrays)
    assert document["format"] == FORMAT
    assert document["dllab_version"] == dllab.__version__
    assert document["dtype"] == "float32"
    assert document["spec"] == model.spec
    assert document["arrays"] == list(model.params) + list(model.state)
    assert document["class_names"] == model.class_names
    assert document["preprocessing"] == model.preprocessing


def test_read_model_info_reads_metadata_without_building(model_file: Path, monkeypatch) -> None:
    def no_build(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("read_model_info must not build the network")

    monkeypatch.setattr(model_io, "Sequential", no_build)
    info = read_model_info(model_file)
    assert info["format"] == FORMAT
    assert info["spec"]["name"] == "io-test"
    assert info["class_names"] == ["zero", "one", "two", "drei"]
    assert info["training_summary"]["epochs"] == 3
    assert info["path"] == str(model_file)
    assert "dense_1.W" in info["arrays"]


def test_metadata_may_be_a_zero_dimensional_unicode_array(tmp_path: Path) -> None:
    model = trained_model()
    arrays, document = saved_parts(dllab.save(model, tmp_path / "a.dllab.npz"))
    path = tmp_path / "b.dllab.npz"
    np.savez(path, **arrays, **{METADATA_KEY: np.array(json.dumps(document))})
    loaded = dllab.load(path)
    assert np.array_equal(loaded.predict(inputs()), model.predict(inputs()))


def test_training_summary_that_is_not_json_is_refused_before_writing(tmp_path: Path) -> None:
    model = trained_model()
    model.training_summary = {"callback": print}
    with pytest.raises(ValueError, match="training_summary"):
        dllab.save(model, tmp_path / "model.dllab.npz")
    assert list(tmp_path.iterdir()) == []


# --- file names ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "written"),
    [
        ("model.dllab.npz", "model.dllab.npz"),
        ("model.npz", "model.npz"),
        ("model.dllab", "model.dllab.npz"),
        ("model", "model.dllab.npz"),
        ("run.v2", "run.v2.dllab.npz"),
    ],
)
def test_save_completes_names_and_load_finds_them(tmp_path: Path, given: str, written: str) -> None:
    model = trained_model()
    path = dllab.save(model, tmp_path / given)
    assert path == tmp_path / written
    assert [p.name for p in tmp_path.iterdir()] == [written]
    assert model_file_path(tmp_path / given) == path
    assert np.array_equal(dllab.load(tmp_path / given).predict(inputs()), model.predict(inputs()))
    assert np.array_equal(dllab.load(str(path)).predict(inputs()), model.predict(inputs()))


# --- atomic writing --------------------------------------------------------------------------------------


def failing_savez(file: Any, *args: Any, **kwargs: Any) -> None:
    """Write the beginning of an archive, then fail as a full disk would."""
    file.write(b"PK\x03\x04" + b"\0" * 1000)
    raise OSError(28, "No space left on device")


def test_failed_save_keeps_the_old_file_and_leaves_no_temporary_file(model_file: Path, monkeypatch) -> None:
    before = model_file.read_bytes()
    other = trained_model(seed=5)
    monkeypatch.setattr(np, "savez", failing_savez)
    with pytest.raises(OSError, match="No space left"):
        dllab.save(other, model_file)
    monkeypatch.undo()

    assert [p.name for p in model_file.parent.iterdir()] == [model_file.name]
    assert model_file.read_bytes() == before
    assert np.array_equal(dllab.load(model_file).predict(inputs()), trained_model().predict(inputs()))


def test_failed_save_creates_nothing(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(np, "savez", failing_savez)
    with pytest.raises(OSError):
        dllab.save(trained_model(), tmp_path / "model")
    assert list(tmp_path.iterdir()) == []


def test_interrupted_save_cleans_up(tmp_path: Path, monkeypatch) -> None:
    def interrupted(file: Any, *args: Any, **kwargs: Any) -> None:
        file.write(b"PK")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", interrupted)
    with pytest.raises(KeyboardInterrupt):
        dllab.save(trained_model(), tmp_path / "model")
    assert list(tmp_path.iterdir()) == []


def test_save_replaces_an_existing_file(model_file: Path) -> None:
    other = trained_model(np.float64, seed=7)
    dllab.save(other, model_file)
    assert [p.name for p in model_file.parent.iterdir()] == [model_file.name]
    loaded = dllab.load(model_file)
    assert loaded.dtype == np.float64
    assert np.array_equal(loaded.predict(inputs()), other.predict(inputs()))


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_saved_file_has_ordinary_permissions(model_file: Path) -> None:
    umask = os.umask(0)
    os.umask(umask)
    assert model_file.stat().st_mode & 0o777 == 0o666 & ~umask


# --- bad files -------------------------------------------------------------------------------------------


def load_error(path: Path) -> str:
    """The message of the ModelFileError that loading ``path`` raises; checked to be one line naming it."""
    with pytest.raises(ModelFileError) as info:
        dllab.load(path)
    message = str(info.value)
    assert path.name in message
    assert "\n" not in message
    assert isinstance(info.value, ValueError)
    return message


def test_missing_file(tmp_path: Path) -> None:
    assert "does not exist" in load_error(tmp_path / "nothing.dllab.npz")
    with pytest.raises(ModelFileError, match="does not exist"):
        read_model_info(tmp_path / "nothing")


def test_folder(tmp_path: Path) -> None:
    folder = tmp_path / "folder.dllab.npz"
    folder.mkdir()
    assert "is a folder" in load_error(folder)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.dllab.npz"
    path.write_bytes(b"")
    assert "is empty" in load_error(path)


@pytest.mark.parametrize(
    "content",
    [b"input_shape,layers\n784,dense\n", np.random.default_rng(0).bytes(4096)],
    ids=["text", "random"],
)
def test_file_that_is_not_an_archive(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "junk.dllab.npz"
    path.write_bytes(content)
    assert "not a NumPy .npz archive" in load_error(path)


def test_single_npy_array(tmp_path: Path) -> None:
    path = tmp_path / "array.npy"
    np.save(path, np.zeros(3))
    assert "single NumPy array" in load_error(path)


def test_truncated_file(model_file: Path) -> None:
    data = model_file.read_bytes()
    model_file.write_bytes(data[: len(data) // 2])
    assert "cut short" in load_error(model_file)


def test_file_damaged_inside(model_file: Path) -> None:
    data = bytearray(model_file.read_bytes())
    with zipfile.ZipFile(model_file) as archive:
        info = archive.getinfo("dense_1.W.npy")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 200  # inside the array's data
    data[start : start + 16] = bytes(16)
    model_file.write_bytes(bytes(data))
    message = load_error(model_file)
    assert "damaged" in message
    assert "dense_1.W" in message


def test_foreign_npz(tmp_path: Path) -> None:
    path = write_npz(tmp_path / "foreign.npz", {"x": np.zeros(3), "y": np.ones(2)})
    assert "not a dllab model" in load_error(path)


@pytest.mark.parametrize("text", ['{"format": "dllab.model/1", "spec": {', "\xff not json"])
def test_corrupt_metadata_document(model_file: Path, text: str) -> None:
    arrays, _ = saved_parts(model_file)
    write_npz(model_file, arrays, text)
    assert "corrupt metadata document" in load_error(model_file)


def test_metadata_document_that_is_not_an_object(model_file: Path) -> None:
    arrays, _ = saved_parts(model_file)
    write_npz(model_file, arrays, "[1, 2, 3]")
    assert "not an object" in load_error(model_file)


def test_future_format_version(model_file: Path) -> None:
    arrays, document = saved_parts(model_file)
    write_npz(model_file, arrays, {**document, "format": "dllab.model/2"})
    assert "written by a newer dllab" in load_error(model_file)
    with pytest.raises(ModelFileError, match="newer dllab"):
        read_model_info(model_file)


def test_unknown_format(model_file: Path) -> None:
    arrays, document = saved_parts(model_file)
    write_npz(model_file, arrays, {**document, "format": "keras"})
    assert "unknown format" in load_error(model_file)


def test_metadata_without_spec(model_file: Path) -> None:
    arrays, document = saved_parts(model_file)
    del document["spec"]
    write_npz(model_file, arrays, document)
    assert "'spec'" in load_error(model_file)


def test_unsupported_dtype(model_file: Path) -> None:
    arrays, document = saved_parts(model_file)
    write_npz(model_file, arrays, {**document, "dtype": "int32"})
    assert "unsupported dtype" in load_error(model_file)


def test_spec_that_fails_to_build(model_file: Path) -> None:
    arrays, document = saved_parts(model_file)
    document["spec"]["layers"][5]["units"] = 0
    write_npz(model_file, arrays, document)
    message = load_error(model_file)
    assert "cannot be built" in message
    assert "layer 5 (Dense)" in message


def test_missing_weight_array(model_file: Path) -> None:
    arrays, document = saved_parts(model_file)
    del arrays["dense_2.W"]
    write_npz(model_file, arrays, document)
    assert "missing the weight array 'dense_2.W'" in load_error(model_file)


def test_weight_array_the_network_does_not_know(model_file: Path) -> None:
    arrays, document = saved_parts(model_file)
    del arrays["dense_2.b"]
    document["arrays"].remove("dense_2.b")
    write_npz(model_file, arrays, document)
    assert "dense_2.b" in load_error(model_file)


def test_misshaped_weight_array(model_file: Path) -> None:
    arrays, document = saved_parts(model_file)
    arrays["dense_1.W"] = arrays["dense_1.W"][:, :-1]
    write_npz(model_file, arrays, document)
    message = load_error(model_file)
    assert "dense_1.W" in message
    assert "shape" in message


def test_weight_array_that_is_not_floating_point(model_file: Path) -> None:
    arrays, document = saved_parts(model_file)
    arrays["dense_1.b"] = np.zeros(arrays["dense_1.b"].shape, dtype=np.int64)
    write_npz(model_file, arrays, document)
    assert "not floating point" in load_error(model_file)


UNPICKLED: list[str] = []


def _record_unpickling(tag: str) -> str:
    UNPICKLED.append(tag)
    return tag


class Payload:
    """An object whose unpickling would leave a trace: loading a model file must never do it."""

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return _record_unpickling, ("ran",)


@pytest.mark.parametrize("key", ["dense_1.W", METADATA_KEY])
def test_pickled_object_array_is_refused_without_unpickling(model_file: Path, key: str) -> None:
    arrays, document = saved_parts(model_file)
    payload = np.empty(1, dtype=object)
    payload[0] = Payload()
    if key == METADATA_KEY:
        write_npz(model_file, {**arrays, key: payload}, None, allow_pickle=True)
    else:
        write_npz(model_file, {**arrays, key: payload}, document, allow_pickle=True)
    UNPICKLED.clear()
    assert "pickled object array" in load_error(model_file)
    assert UNPICKLED == []


def test_metadata_document_that_is_not_utf8(model_file: Path) -> None:
    arrays, _ = saved_parts(model_file)
    np.savez(model_file, **arrays, **{METADATA_KEY: np.frombuffer(b'{"format": "\xff"}', dtype=np.uint8)})
    assert "not UTF-8" in load_error(model_file)


def test_metadata_document_of_unexpected_form(model_file: Path) -> None:
    arrays, _ = saved_parts(model_file)
    np.savez(model_file, **arrays, **{METADATA_KEY: np.zeros((2, 2))})
    assert "unexpected form" in load_error(model_file)
