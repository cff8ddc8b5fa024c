"""Hostile input for the readers of network specs and model files: whatever they are given, they build or
load correctly or raise one :class:`~dllab.errors.DllabError` (one sentence), within bounded memory, without
blocking on a pipe or reading a device forever."""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import struct
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import dllab
from dllab.cli import main as cli
from dllab.io import METADATA_KEY, ModelFileError, read_model_info
from dllab.spec import (
    JSON_DEPTH_LIMIT,
    LAYER_TYPES,
    MAX_FILE_SIZE,
    SpecError,
    analyze,
    build_layers,
    read_spec,
)
from tests.conftest import PROJECT_ROOT
from tests.memory import run_bounded

NETWORKS = sorted((PROJECT_ROOT / "assets" / "networks").glob("*.json"))
#: Memory a reader may take for a hostile file that it refuses.
GROWTH_MIB = 200
#: Models up to this many parameters are built in the property tests (larger ones are only analysed).
BUILD_LIMIT = 200_000

SMALL_SPEC: dict[str, Any] = {
    "name": "hostile",
    "input_shape": [1, 6, 6],
    "layers": [
        {"type": "Conv2D", "filters": 2, "kernel_size": 3, "padding": 1},
        {"type": "BatchNorm"},
        {"type": "ReLU"},
        {"type": "MaxPool2D"},
        {"type": "Flatten"},
        {"type": "Dense", "units": 5},
        {"type": "Dense", "units": 3},
    ],
}

# --- strategies ---------------------------------------------------------------------------------------------

ODD_NUMBERS = [0, -1, 1, 2, 3, 10**9 + 1, 10**12, 10**308, 10**5000, 1e308, -1e308, 2.5, math.nan, math.inf]


def one_of_values(values: list[Any]) -> st.SearchStrategy[Any]:
    """``sampled_from(values)``, by index: hypothesis shows a strategy by ``repr``, which an integer of
    thousands of digits does not have."""

    def pick(index: int) -> Any:
        return values[index]

    return st.integers(0, len(values) - 1).map(pick)


SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | one_of_values(ODD_NUMBERS)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(["same", "valid", "he", "xavier", "Dense", "dense\n", "a.b", "dllab.network/9"])
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=16,
)
OPTION_NAMES = [
    "units", "filters", "kernel_size", "stride", "padding", "pool_size", "init", "rate", "alpha", "momentum",
    "eps", "name", "size",
]  # fmt: skip
OPTION_VALUES = (
    st.integers(-2, 12)
    | one_of_values([*ODD_NUMBERS, "same", "valid", "he", "xavier_uniform", "0.01", [3, 2], [2], [1, 1, 1]])
    | JSON_VALUES
)
LAYERS = st.builds(
    lambda layer_type, options: {"type": layer_type, **options},
    st.sampled_from([*LAYER_TYPES, "Bogus"]),
    st.dictionaries(st.sampled_from(OPTION_NAMES), OPTION_VALUES, max_size=3),
)
SPECS = st.fixed_dictionaries(
    {
        "input_shape": one_of_values([[4], [1, 6, 6], [3, 5, 5], [0], [10**12], [10**5000], [2, 2]])
        | JSON_VALUES,
        "layers": st.lists(LAYERS | JSON_VALUES, max_size=5),
    },
    optional={
        "loss": st.sampled_from(["softmax_cross_entropy", "mse", "sigmoid_binary_cross_entropy"])
        | JSON_VALUES,
        "name": JSON_VALUES,
        "format": st.sampled_from(["dllab.network/1", "dllab.network/2"]) | JSON_VALUES,
    },
)

IMAGE_BLOCKS = [
    {"type": "Conv2D", "filters": 2, "kernel_size": 3, "padding": "same"},
    {"type": "Conv2D", "filters": 3, "kernel_size": [2, 3], "stride": 2, "init": 0.1},
    {"type": "MaxPool2D"},
    {"type": "AvgPool2D", "pool_size": 2, "stride": 1, "padding": 1},
    {"type": "BatchNorm", "momentum": 0.5},
    {"type": "ReLU"},
    {"type": "GELU"},
    {"type": "Step"},
]
FLAT_BLOCKS = [
    {"type": "Dense", "units": 4, "init": "xavier_uniform"},
    {"type": "Dropout", "rate": 0.25},
    {"type": "BatchNorm"},
    {"type": "Tanh"},
    {"type": "Sigmoid"},
    {"type": "ELU", "alpha": 0.5},
    {"type": "LeakyReLU", "alpha": 0.1},
]


@st.composite
def plausible_specs(draw: st.DrawFn) -> dict[str, Any]:
    """A spec that mostly builds: image layers, Flatten, flat layers, an output layer; maybe with one setting
    or name changed to anything."""
    image = draw(st.booleans())
    layers = (
        [dict(block) for block in draw(st.lists(st.sampled_from(IMAGE_BLOCKS), max_size=3))] if image else []
    )
    layers += [{"type": "Flatten"}] if image else []
    layers += [dict(block) for block in draw(st.lists(st.sampled_from(FLAT_BLOCKS), max_size=3))]
    layers.append({"type": "Dense", "units": draw(st.integers(1, 6))})
    loss = draw(st.sampled_from(["softmax_cross_entropy", "mse", "sigmoid_binary_cross_entropy"]))
    spec = {"input_shape": [1, 6, 6] if image else [4], "layers": layers, "loss": loss}
    if draw(st.booleans()):
        layer = draw(st.sampled_from(layers))
        layer[draw(st.sampled_from(OPTION_NAMES))] = draw(OPTION_VALUES)
    return spec


def mutate(value: Any, data: st.DataObject, depth: int = 0) -> Any:
    """``value`` (JSON-like) with one entry somewhere inside replaced, removed or added, as ``data`` draws."""
    containers = isinstance(value, dict | list) and bool(value)
    if not containers or depth > 6 or (depth > 0 and data.draw(st.integers(0, 3)) == 0):
        return data.draw(JSON_VALUES)
    result = dict(value) if isinstance(value, dict) else list(value)
    keys = list(result) if isinstance(result, dict) else list(range(len(result)))
    key = data.draw(st.sampled_from(keys))
    action = data.draw(st.sampled_from(["descend", "remove", "add"]))
    if action == "remove":
        del result[key]
    elif action == "add" and isinstance(result, dict):
        result[data.draw(st.sampled_from([*OPTION_NAMES, "layers", "input_shape", "loss", "type"]))] = (
            data.draw(OPTION_VALUES)
        )
    elif action == "add":
        result.insert(key, data.draw(JSON_VALUES | st.just(result[key])))
    else:
        result[key] = mutate(result[key], data, depth + 1)
    return result


# --- helpers ------------------------------------------------------------------------------------------------


def one_sentence(exc: BaseException) -> str:
    message = str(exc)
    assert message and "\n" not in message, message
    return message


def builds_or_refuses(spec: Any) -> None:
    """The spec is built correctly (analysis and model agree) or refused with a SpecError."""
    try:
        canonical, _, _ = build_layers(spec)
    except SpecError as exc:
        one_sentence(exc)
        assert not analyze(spec).ok
        return
    analysis = analyze(spec)
    assert analysis.ok
    if analysis.param_count <= BUILD_LIMIT:
        model = dllab.build(spec, seed=0)
        assert model.param_count == analysis.param_count
        assert dllab.build(canonical, seed=0).spec == model.spec


def save_small_model(path: Path) -> Path:
    model = dllab.build(SMALL_SPEC, seed=0)
    model.preprocessing = {"kind": "standardize", "input_shape": [1, 6, 6], "mean": [0.5], "std": [0.2]}
    model.class_names = ["a", "b", "c"]
    model.training_summary = {"epochs": 2, "dataset": "toy"}
    return dllab.save(model, path)


def parts(path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    with np.load(path, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files if key != METADATA_KEY}
        document = json.loads(npz[METADATA_KEY].tobytes().decode("utf-8"))
    return arrays, document


def member_headers(data: bytes | bytearray, name: str) -> tuple[int, int]:
    """Offsets of the local header and of the central directory entry of the zip member ``name``."""
    encoded = name.encode()
    offsets = []
    for signature, name_at in ((b"PK\x03\x04", 30), (b"PK\x01\x02", 46)):
        at = data.index(signature)
        while data[at + name_at : at + name_at + len(encoded)] != encoded:
            at = data.index(signature, at + 4)
        offsets.append(at)
    return offsets[0], offsets[1]


def write_model(path: Path, arrays: dict[str, np.ndarray], document: Any) -> Path:
    """A model file with these arrays and this metadata (a JSON value, or raw text)."""
    text = document if isinstance(document, str) else json.dumps(document)
    np.savez(path, **arrays, **{METADATA_KEY: np.frombuffer(text.encode("utf-8"), dtype=np.uint8)})
    return path


def loads_or_refuses(path: Path) -> None:
    """The model file loads (and its info reads) or both raise ModelFileError naming the file."""
    try:
        model = dllab.load(path)
    except ModelFileError as exc:
        assert path.name in one_sentence(exc)
        with pytest.raises(ModelFileError):
            read_model_info(path)
        return
    info = read_model_info(path)
    assert info["spec"] == model.spec
    if analyze(model.spec).activation_count <= 100_000:  # a mutated padding can ask for gigabytes per sample
        assert model.predict(np.zeros((1, *model.input_shape))).shape[0] == 1


def dllab_info_status(path: Path) -> int:
    """The exit status of ``dllab info path`` (0 or 2; 70 would be an internal error)."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
        status = cli.main(["info", str(path)])
    assert status in (0, 2), err.getvalue()
    return status


@pytest.fixture(scope="module")
def model_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return save_small_model(tmp_path_factory.mktemp("model") / "small.dllab.npz").read_bytes()


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder for the files property tests write (function-scoped tmp_path does not mix with @given)."""
    return tmp_path_factory.mktemp("scratch")


# --- network specs: property tests --------------------------------------------------------------------------


@settings(max_examples=100, deadline=None, database=None)
@given(SPECS)
def test_any_spec_builds_or_raises_a_spec_error(spec: dict[str, Any]) -> None:
    builds_or_refuses(spec)


@settings(max_examples=150, deadline=None, database=None)
@given(plausible_specs())
def test_plausible_specs_build_or_raise_a_spec_error(spec: dict[str, Any]) -> None:
    builds_or_refuses(spec)


@settings(max_examples=100, deadline=None, database=None)
@given(JSON_VALUES)
def test_any_json_value_as_a_spec_builds_or_raises_a_spec_error(value: Any) -> None:
    builds_or_refuses(value)


@settings(max_examples=150, deadline=None, database=None)
@given(st.sampled_from(NETWORKS), st.data())
def test_mutated_example_networks_build_or_raise_a_spec_error(path: Path, data: st.DataObject) -> None:
    spec = json.loads(path.read_text(encoding="utf-8"))
    builds_or_refuses(mutate(spec, data))


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_any_network_file_builds_or_raises_a_spec_error(scratch: Path, content: bytes) -> None:
    path = scratch / "network.json"
    path.write_bytes(content)
    with contextlib.suppress(SpecError):
        builds_or_refuses(read_spec(path))


# --- network specs: limits ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("units", "what"),
    [
        (10**12, "units must be at most 1,000,000,000"),
        (1e308, "units must be at most 1,000,000,000"),
        (10**5000, "units must be at most 1,000,000,000, got "),
        (2.5, "units must be an integer"),
        ("12", "units must be an integer"),
        (math.nan, "units must be an integer"),
    ],
    ids=["10**12", "1e308", "5000-digits", "2.5", "text", "nan"],
)
def test_absurd_integer_settings_are_refused_naming_the_layer(units: Any, what: str) -> None:
    spec = {"input_shape": [4], "layers": [{"type": "Dense", "units": units}]}
    with pytest.raises(SpecError, match="^layer 0 \\(Dense\\): " + what):
        dllab.build(spec)


def test_a_network_over_the_parameter_limit_is_refused_before_anything_is_allocated() -> None:
    spec = {"input_shape": [100_000], "layers": [{"type": "Dense", "units": 20_000}]}
    with pytest.raises(SpecError, match=r"layer 0 \(Dense\): it has 2,000,020,000 parameters"):
        build_layers(spec)
    two = {"input_shape": [30_000], "layers": [{"type": "Dense", "units": 20_000}] * 2}
    with pytest.raises(SpecError, match=r"layer 1 \(Dense\): its 400,020,000 parameters bring the network"):
        build_layers(two)
    assert analyze(two).layers[0].param_count == 600_020_000


def test_huge_outputs_and_inputs_are_refused() -> None:
    padded = {
        "input_shape": [1, 4, 4],
        "layers": [{"type": "Conv2D", "filters": 4, "padding": 10**8}, {"type": "Flatten"}],
    }
    with pytest.raises(SpecError, match=r"layer 0 \(Conv2D\): its output of .* values per sample"):
        build_layers(padded)
    for shape in ([10**12], [10**5000], [1000, 1000, 1001]):
        with pytest.raises(SpecError, match="input_shape must have at most 1,000,000,000 values"):
            build_layers({"input_shape": shape, "layers": [{"type": "ReLU"}]})


def test_init_that_is_a_huge_integer_is_refused() -> None:
    with pytest.raises(
        SpecError, match=r"layer 0 \(Dense\): init standard deviation must be a positive number"
    ):
        dllab.build({"input_shape": [2], "layers": [{"type": "Dense", "units": 2, "init": 10**400}]})


@pytest.mark.parametrize("name", ["dense\n", "dense\r\n", "a b", "dense.1", "", "\ndense"])
def test_layer_names_must_match_to_the_end(name: str) -> None:
    with pytest.raises(SpecError, match="name must be letters, digits"):
        dllab.build({"input_shape": [2], "layers": [{"type": "Dense", "units": 2, "name": name}]})


def test_setting_names_that_are_not_strings_are_refused() -> None:
    with pytest.raises(SpecError, match="setting names must be strings"):
        dllab.build({"input_shape": [2], "layers": [{"type": "Dense", 3: 2}]})


def test_a_deeply_nested_spec_is_refused(tmp_path: Path) -> None:
    deep: Any = []
    for _ in range(JSON_DEPTH_LIMIT + 5):
        deep = [deep]
    spec = {"input_shape": [2], "layers": [{"type": "Dense", "units": 2}], "description": deep}
    with pytest.raises(SpecError, match="nested deeper than"):
        read_spec(spec)
    path = tmp_path / "deep.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    with pytest.raises(SpecError, match=r"deep\.json is not valid JSON \(nested deeper than"):
        read_spec(path)
    path.write_text('{"layers": ' + "[" * 200_000 + "]" * 200_000 + "}", encoding="utf-8")
    with pytest.raises(SpecError, match="nested deeper than"):
        dllab.build(path)
    assert not analyze(path).ok


def test_numbers_too_large_for_a_float_are_refused_in_a_network_file(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    for digits in (400, 5000):
        path.write_text('{"input_shape": [2], "layers": [{"type": "Dense", "units": 1' + "0" * digits + "}]}")
        with pytest.raises(SpecError, match=r"big\.json is not valid JSON \(a number too large to read\)"):
            read_spec(path)


def test_an_oversized_network_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "large.json"
    path.write_text(json.dumps({**SMALL_SPEC, "description": "x" * MAX_FILE_SIZE}), encoding="utf-8")
    with pytest.raises(SpecError, match=f"large.json' is larger than the {MAX_FILE_SIZE:,} bytes"):
        read_spec(path)


# --- files that are not regular files -----------------------------------------------------------------------


def finishes(function: Callable[[], Any], fifo: Path | None = None, timeout: float = 10.0) -> BaseException:
    """Run ``function`` in a thread; it must finish (not block) within ``timeout`` and raise. Returns what it
    raised. A reader left blocked on ``fifo`` is released so the test run ends."""
    outcome: list[BaseException | None] = []

    def target() -> None:
        try:
            function()
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive() and fifo is not None:
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(timeout)
        pytest.fail(f"{function} blocked on a FIFO")
    assert outcome and outcome[0] is not None, "no error was raised"
    return outcome[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("reader", ["load", "info", "spec"])
def test_a_fifo_is_refused_without_blocking(tmp_path: Path, reader: str) -> None:
    fifo = tmp_path / ("pipe.json" if reader == "spec" else "pipe.dllab.npz")
    os.mkfifo(fifo)
    function = {"load": dllab.load, "info": read_model_info, "spec": dllab.build}[reader]
    error = finishes(lambda: function(fifo), fifo)
    assert isinstance(error, dllab.DllabError), repr(error)
    assert "not a regular file" in one_sentence(error)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
@pytest.mark.parametrize("function", [dllab.load, read_model_info, dllab.build, read_spec])
def test_a_device_is_refused_unread(function: Callable[[Any], Any]) -> None:
    error = finishes(lambda: function(Path("/dev/zero")))
    assert isinstance(error, dllab.DllabError), repr(error)
    assert "not a regular file" in one_sentence(error)


# --- model files: property tests ----------------------------------------------------------------------------


@settings(max_examples=60, deadline=None, database=None)
@given(st.binary(max_size=600) | st.binary(max_size=40).map(lambda tail: b"PK\x03\x04" + tail))
def test_any_bytes_as_a_model_file_raise_a_model_file_error(scratch: Path, content: bytes) -> None:
    path = scratch / "bytes.dllab.npz"
    path.write_bytes(content)
    with pytest.raises(ModelFileError) as info:
        dllab.load(path)
    assert path.name in one_sentence(info.value)
    with pytest.raises(ModelFileError):
        read_model_info(path)


@settings(max_examples=100, deadline=None, database=None)
@given(st.data())
def test_damaged_model_files_load_or_raise_a_model_file_error(
    scratch: Path, model_bytes: bytes, data: st.DataObject
) -> None:
    content = bytearray(model_bytes)
    kind = data.draw(st.sampled_from(["flip", "truncate", "splice", "zero"]))
    size = len(content)
    if kind == "flip":
        for _ in range(data.draw(st.integers(1, 4))):
            content[data.draw(st.integers(0, size - 1))] ^= 1 << data.draw(st.integers(0, 7))
    elif kind == "truncate":
        del content[data.draw(st.integers(0, size - 1)) :]
    elif kind == "splice":
        at = data.draw(st.integers(0, size))
        content[at:at] = data.draw(st.binary(min_size=1, max_size=64))
    else:
        start = data.draw(st.integers(0, size - 1))
        end = min(size, start + data.draw(st.integers(1, 64)))
        content[start:end] = bytes(end - start)
    path = scratch / "damaged.dllab.npz"
    path.write_bytes(bytes(content))
    loads_or_refuses(path)


@settings(max_examples=50, deadline=None, database=None)
@given(st.data())
def test_model_files_with_mutated_metadata_load_or_raise_a_model_file_error(
    scratch: Path, model_bytes: bytes, data: st.DataObject
) -> None:
    source = scratch / "source.dllab.npz"
    source.write_bytes(model_bytes)
    arrays, document = parts(source)
    mutated = mutate(document, data)
    try:
        text = json.dumps(mutated)
    except ValueError:  # an integer too long for Python to write (reading one is tested on its own)
        assume(False)
    path = write_model(scratch / "mutated.dllab.npz", arrays, text)
    loads_or_refuses(path)
    dllab_info_status(path)


# --- model files: one clear error ---------------------------------------------------------------------------


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    return save_small_model(tmp_path / "model.dllab.npz")


def load_error(path: Path) -> str:
    with pytest.raises(ModelFileError) as info:
        dllab.load(path)
    message = one_sentence(info.value)
    assert path.name in message
    with pytest.raises(ModelFileError):
        read_model_info(path)
    assert dllab_info_status(path) == 2
    return message


def test_a_float16_model_is_refused(model_file: Path) -> None:
    arrays, document = parts(model_file)
    half = {key: value.astype(np.float16) for key, value in arrays.items()}
    write_model(model_file, half, {**document, "dtype": "float16"})
    assert "unsupported dtype 'float16' (expected float32 or float64)" in load_error(model_file)
    write_model(model_file, half, document)
    assert "of type float16, not floating point (float32 or float64)" in load_error(model_file)


@pytest.mark.parametrize(
    ("field", "value", "what"),
    [
        ("preprocessing", [], "preprocessing that is a JSON list"),
        ("preprocessing", {"kind": 5}, "preprocessing of unknown kind 5"),
        ("preprocessing", {"kind": ["scale"]}, "preprocessing of unknown kind"),
        ("preprocessing", {"kind": "scale", "low": "abc", "high": [1.0]}, "'low' is not a list of finite"),
        ("preprocessing", {"kind": "scale", "low": [0.0]}, "scale preprocessing with 'low' but no 'high'"),
        ("preprocessing", {"kind": "standardize", "mean": [1, 2], "std": [1]}, "differ in length"),
        ("preprocessing", {"kind": "standardize", "mean": [0.5], "std": [math.inf]}, "'std' is not a list"),
        ("preprocessing", {"kind": "scale", "input_shape": "1x6x6"}, "input_shape that is not"),
        (
            "preprocessing",
            {"kind": "scale", "input_shape": [3, 6, 6], "low": [0], "high": [1]},
            "1 statistics",
        ),
        ("preprocessing", {"kind": "standardize", "mean": [[1]], "std": [[1]]}, "'mean' is not a list"),
        ("class_names", [1, 2, 3], "class names that are not a list of strings"),
        ("class_names", "abc", "class names that are not a list of strings"),
        ("training_summary", [1], "training summary that is a JSON list"),
        ("training_summary", {"dataset": 5}, "'dataset' is not a name"),
    ],
)
def test_malformed_metadata_entries_are_refused_when_read(
    model_file: Path, field: str, value: Any, what: str
) -> None:
    arrays, document = parts(model_file)
    write_model(model_file, arrays, {**document, field: value})
    assert what in load_error(model_file)


def test_deeply_nested_metadata_is_refused(model_file: Path) -> None:
    arrays, document = parts(model_file)
    text = json.dumps(document)[:-1] + ', "extra": ' + "[" * 100_000 + "]" * 100_000 + "}"
    write_model(model_file, arrays, text)
    assert "corrupt metadata document (invalid JSON: nested deeper than" in load_error(model_file)
    nested: Any = {}
    for _ in range(JSON_DEPTH_LIMIT + 2):
        nested = {"a": nested}
    write_model(model_file, arrays, {**document, "training_summary": nested})
    assert "nested deeper than" in load_error(model_file)


def test_an_encrypted_member_is_refused(model_file: Path) -> None:
    data = bytearray(model_file.read_bytes())
    local, central = member_headers(data, "dense_1.W.npy")
    data[local + 6] |= 0x1  # general purpose flags: encrypted
    data[central + 8] |= 0x1
    model_file.write_bytes(bytes(data))
    assert "encrypted array 'dense_1.W'" in load_error(model_file)


def test_shapes_are_checked_before_the_network_is_built(
    model_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    arrays, document = parts(model_file)
    arrays["dense_1.W"] = arrays["dense_1.W"][:, :2]
    write_model(model_file, arrays, document)

    def no_build(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the network was built before its weights were checked")

    monkeypatch.setattr(dllab.io, "Sequential", no_build)
    message = load_error(model_file)
    assert "does not fit its network: weight 'dense_1.W' has shape" in message


def test_an_unbuildable_spec_in_a_model_file_is_refused(model_file: Path) -> None:
    arrays, document = parts(model_file)
    document["spec"]["layers"][5]["units"] = 10**12
    write_model(model_file, arrays, document)
    message = load_error(model_file)
    assert "cannot be built" in message
    assert "units must be at most" in message


# --- saving -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_save_refuses_non_finite_weights_and_writes_nothing(tmp_path: Path, bad: float) -> None:
    model = dllab.build(SMALL_SPEC, seed=0)
    model.params["dense_2.W"][1, 1] = bad
    with pytest.raises(
        ModelFileError, match=r"is not written: the weight array 'dense_2\.W' holds NaN"
    ) as info:
        dllab.save(model, tmp_path / "model.dllab.npz")
    one_sentence(info.value)
    assert list(tmp_path.iterdir()) == []
    path = dllab.save(model, tmp_path / "model.dllab.npz", allow_nonfinite=True)
    loaded = dllab.load(path)
    assert not np.isfinite(loaded.params["dense_2.W"][1, 1])


def test_save_refuses_non_finite_running_statistics(tmp_path: Path) -> None:
    model = dllab.build(SMALL_SPEC, seed=0)
    model.state["batchnorm_1.var"][0] = math.nan
    with pytest.raises(ModelFileError, match=r"'batchnorm_1\.var'"):
        dllab.save(model, tmp_path / "model")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("preprocessing", {"kind": "bogus"}),
        ("preprocessing", {"kind": "scale", "low": [0.0], "high": [math.nan]}),
        ("training_summary", {"dataset": 3}),
        ("training_summary", [1, 2]),
    ],
)
def test_save_refuses_metadata_that_would_not_be_read_back(tmp_path: Path, field: str, value: Any) -> None:
    model = dllab.build(SMALL_SPEC, seed=0)
    setattr(model, field, value)
    with pytest.raises(ModelFileError, match="is not written: the model has") as info:
        dllab.save(model, tmp_path / "model")
    one_sentence(info.value)
    assert list(tmp_path.iterdir()) == []


def test_save_writes_class_names_as_strings(tmp_path: Path) -> None:
    model = dllab.build(SMALL_SPEC, seed=0)
    model.class_names = [None, 1, "two"]
    assert dllab.load(dllab.save(model, tmp_path / "names")).class_names == ["None", "1", "two"]


# --- memory bombs, each read in a child process under an address-space cap ---------------------------------


def _metadata_text(spec: dict[str, Any], keys: list[str]) -> bytes:
    document = {"format": "dllab.model/1", "dtype": "float32", "spec": spec, "arrays": keys}
    return json.dumps(document).encode("utf-8")


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _set_declared_size(data: bytearray, name: str, size: int) -> None:
    """Declare ``size`` uncompressed bytes for member ``name`` in its local header and its directory entry."""
    local, central = member_headers(data, name)
    struct.pack_into("<I", data, local + 22, size)
    struct.pack_into("<I", data, central + 24, size)


def bounded_load(path: Path, function: str = "dllab.load") -> None:
    outcome = run_bounded(f"{function}({str(path)!r})")
    assert outcome.outcome == "DllabError", outcome.message
    assert "\n" not in outcome.message
    assert outcome.grew_mib < GROWTH_MIB, outcome


def test_a_zip_bomb_declaring_gigabytes_is_refused_within_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "bomb.dllab.npz"
    count = 750_000_000  # 3 GB of float32
    spec = {"input_shape": [count], "layers": [{"type": "ReLU"}], "loss": "mse"}
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": (count,)})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{METADATA_KEY}.npy", _npy(np.frombuffer(_metadata_text(spec, ["x.W"]), np.uint8)))
        archive.writestr("x.W.npy", header.getvalue() + bytes(1 << 16))
    data = bytearray(path.read_bytes())
    _set_declared_size(data, "x.W.npy", 4 * count + len(header.getvalue()))
    path.write_bytes(bytes(data))
    bounded_load(path)
    bounded_load(path, "dllab.io.read_model_info")


def test_an_honest_deflate_bomb_is_refused_within_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "zeros.dllab.npz"
    chunk, chunks = bytes(1 << 24), 24  # 384 MiB of zeros, about 400 kB deflated
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{METADATA_KEY}.npy", _npy(np.frombuffer(_metadata_text({}, []), np.uint8)))
        with archive.open("w.npy", "w") as member:
            header = io.BytesIO()
            shape = (chunks * len(chunk) // 4,)
            np.lib.format.write_array_header_1_0(
                header, {"descr": "<f4", "fortran_order": False, "shape": shape}
            )
            member.write(header.getvalue())
            for _ in range(chunks):
                member.write(chunk)
    assert path.stat().st_size < 2 * 2**20
    bounded_load(path)


def test_a_huge_spec_with_tiny_arrays_is_refused_before_building(tmp_path: Path) -> None:
    spec = {
        "input_shape": [12000],
        "layers": [
            {"type": "Dense", "units": 12000, "name": "d"},
            {"type": "Dense", "units": 2, "name": "e"},
        ],
    }
    arrays = {"d.W": np.zeros((2, 2), np.float32), "d.b": np.zeros(2, np.float32)}
    arrays |= {"e.W": np.zeros((2, 2), np.float32), "e.b": np.zeros(2, np.float32)}
    path = write_model(tmp_path / "huge.dllab.npz", arrays, json.loads(_metadata_text(spec, list(arrays))))
    assert path.stat().st_size < 10_000
    bounded_load(path)
    bounded_load(path, "dllab.io.read_model_info")


def test_a_spec_asking_for_a_trillion_units_is_refused_within_bounded_memory(tmp_path: Path) -> None:
    spec = {"input_shape": [4], "layers": [{"type": "Dense", "units": 10**12, "name": "d"}]}
    arrays = {"d.W": np.zeros((4, 2), np.float32), "d.b": np.zeros(2, np.float32)}
    path = write_model(
        tmp_path / "trillion.dllab.npz", arrays, json.loads(_metadata_text(spec, list(arrays)))
    )
    bounded_load(path)
    network = tmp_path / "trillion.json"
    network.write_text(json.dumps(spec), encoding="utf-8")
    bounded_load(network, "dllab.build")
