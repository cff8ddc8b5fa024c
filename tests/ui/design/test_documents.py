"""Design files, the autosave and layer drags read hostile input: a damaged, hostile or non-regular file
becomes one SpecError (whose sentence the Open dialog shows), an autosave that cannot be used is never offered
back, and a drag payload that is not a layer is ignored; nothing raises anything else or blocks."""

from __future__ import annotations

import contextlib
import json
import math
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QByteArray, QMimeData
from PySide6.QtWidgets import QWidget

import dllab
from dllab.spec import DESIGN_FORMAT, JSON_DEPTH_LIMIT, SpecError, analyze
from tests.conftest import PROJECT_ROOT
from ui.design import autosave
from ui.design.documents import DocumentController, read_design_file, read_network_file
from ui.design.layer_drag import LAYER_MIME, decode_layer_drag, encode_layer_drag
from ui.state import AppState

EXAMPLE = PROJECT_ROOT / "assets" / "networks" / "two_layer_net.json"
HAS_FIFO = hasattr(os, "mkfifo")
HAS_DEV_ZERO = Path("/dev/zero").exists()
#: Hypothesis shares the autouse fixtures of the UI tests (a private home, fake dialogs) across examples.
SHARED = settings(deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.sampled_from([10**12, 10**300, -1, 0, 1e308, math.nan, math.inf, 2.5])
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=10)
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=16,
)


def design(network: Any = None, **extra: Any) -> dict[str, Any]:
    network = json.loads(EXAMPLE.read_text(encoding="utf-8")) if network is None else network
    return {
        "format": DESIGN_FORMAT,
        "network": network,
        "data": {"val_fraction": 0.1, "normalization": "scale"},
        "training": {"optimizer": "adam", "batch_size": 16, "epochs": 2},
        **extra,
    }


def deep(levels: int) -> Any:
    value: Any = []
    for _ in range(levels):
        value = [value]
    return value


def finishes(function: Callable[[], Any], fifo: Path | None = None, timeout: float = 10.0) -> Any:
    """What ``function`` returned or raised, run in a thread that must end within ``timeout`` (a reader left
    blocked on ``fifo`` is released so the run ends)."""
    outcome: list[Any] = []

    def target() -> None:
        try:
            outcome.append(function())
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        if fifo is not None:
            with contextlib.suppress(OSError):
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            thread.join(timeout)
        pytest.fail(f"{function} blocked")
    return outcome[0]


def spec_error(path: Path) -> str:
    """The one-sentence SpecError that reading ``path`` as a design gives (read in a thread: never blocks)."""
    error = finishes(lambda: read_design_file(path), path)
    assert isinstance(error, SpecError), repr(error)
    message = str(error)
    assert "\n" not in message
    assert path.name in message
    return message


# --- design files -------------------------------------------------------------------------------------------


def test_a_design_file_gives_its_network_and_document_once_read(tmp_path: Path) -> None:
    path = tmp_path / "design.json"
    path.write_text(json.dumps(design()), encoding="utf-8")
    spec, document = read_design_file(path)
    assert document is not None and document["training"]["epochs"] == 2
    assert spec["layers"] == document["network"]["layers"]
    spec["layers"].clear()  # the spec is the caller's own copy
    assert document["network"]["layers"]
    assert read_network_file(path)["format"] == "dllab.network/1"
    assert read_design_file(EXAMPLE)[1] is None


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (b"", "is not valid JSON"),
        (b"\xff\xfe\x00", "is not UTF-8 text"),
        (b"[1, 2]", "must hold a JSON object"),
        (json.dumps({"format": DESIGN_FORMAT, "network": [1]}).encode(), "design without a network"),
        (json.dumps(design({"input_shape": [2], "layers": "Dense"})).encode(), "needs a list of layers"),
        (json.dumps(design(description=deep(JSON_DEPTH_LIMIT + 3))).encode(), "nested deeper than"),
        (b'{"network": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested deeper than"),
        (b'{"format": "dllab.design/1", "training": {"epochs": 1' + b"0" * 400 + b"}}", "a number too large"),
        (b'{"format": "dllab.design/1", "training": {"seed": 1' + b"0" * 5000 + b"}}", "a number too large"),
    ],
    ids=["empty", "not-utf8", "list", "no-network", "layers-not-list", "deep", "very-deep", "huge", "huger"],
)
def test_damaged_and_hostile_design_files_raise_one_spec_error(
    tmp_path: Path, content: bytes, what: str
) -> None:
    path = tmp_path / "design.json"
    path.write_bytes(content)
    assert what in spec_error(path)


def test_missing_files_and_folders_raise_one_spec_error(tmp_path: Path) -> None:
    assert "does not exist" in spec_error(tmp_path / "nothing.json")
    folder = tmp_path / "folder.json"
    folder.mkdir()
    assert "is a folder" in spec_error(folder)


@pytest.mark.skipif(not HAS_FIFO, reason="needs FIFOs")
def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    assert "not a regular file" in spec_error(fifo)


@pytest.mark.skipif(not HAS_DEV_ZERO, reason="needs /dev/zero")
def test_a_device_is_refused_unread() -> None:
    error = finishes(lambda: read_network_file(Path("/dev/zero")))
    assert isinstance(error, SpecError)
    assert "not a regular file" in str(error)


@settings(SHARED, max_examples=60)
@given(JSON_VALUES)
def test_any_json_as_a_design_file_is_read_or_refused(
    tmp_path_factory: pytest.TempPathFactory, value: Any
) -> None:
    for document in (value, design(value), design(training=value, data=value)):
        path = tmp_path_factory.getbasetemp() / "hypothesis-design.json"
        try:
            path.write_text(json.dumps(document), encoding="utf-8")
        except ValueError:
            continue
        try:
            spec, _ = read_design_file(path)
        except SpecError as exc:
            assert "\n" not in str(exc)
            continue
        analysis = analyze(spec)  # a builder shows any readable network, marking its problem
        assert analysis.ok or isinstance(analysis.error, SpecError)


@settings(SHARED, max_examples=40)
@given(st.binary(max_size=300))
def test_any_bytes_as_a_design_file_are_read_or_refused(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    path = tmp_path_factory.getbasetemp() / "hypothesis-bytes.json"
    path.write_bytes(data)
    with contextlib.suppress(SpecError):
        read_design_file(path)


def test_open_shows_the_sentence_of_the_error_and_changes_nothing(
    qtbot, fake_dialogs, tmp_path: Path
) -> None:
    state = AppState()
    window = QWidget()
    qtbot.addWidget(window)
    documents = DocumentController(state, window)
    before = state.spec
    hostile = tmp_path / "hostile.json"
    hostile.write_text('{"network": ' + "[" * 50_000 + "]" * 50_000 + "}", encoding="utf-8")
    paths = [hostile, tmp_path / "missing.json"]
    if HAS_FIFO:
        os.mkfifo(tmp_path / "pipe.json")
        paths.append(tmp_path / "pipe.json")
    for path in paths:
        assert documents.open_network_file(path, ask=False) is False
        title, message = fake_dialogs.errors()[-1]
        assert title == "Cannot open network"
        assert path.name in message and "\n" not in message
    assert len(fake_dialogs.errors()) == len(paths)
    assert state.spec == before and state.file_path is None
    good = tmp_path / "design.json"
    good.write_text(json.dumps(design()), encoding="utf-8")
    assert documents.open_network_file(good, ask=False) is True
    assert state.file_path == good


def test_a_run_config_and_an_experiment_file_give_their_network_and_document(tmp_path: Path) -> None:
    network = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    for kind in ("dllab.run/1", "dllab.experiment/1"):
        path = tmp_path / "config.json"
        path.write_text(json.dumps({"format": kind, "network": network, "data": {"dataset": "mnist"}}))
        spec, document = read_design_file(path)
        assert spec["layers"] == network["layers"] and document["format"] == kind
        path.write_text(json.dumps({"format": kind, "data": {"dataset": "mnist"}}))
        assert "without a network" in spec_error(path)


def test_a_file_whose_settings_cannot_be_used_says_why_and_changes_nothing(
    qtbot, fake_dialogs, tmp_path: Path
) -> None:
    state = AppState()
    window = QWidget()
    qtbot.addWidget(window)
    documents = DocumentController(state, window)
    before = (state.spec_copy(), state.data_settings, state.training)
    network = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    run = tmp_path / "run" / "config.json"
    run.parent.mkdir()
    cases = [
        {"format": "dllab.run/1", "network": network, "data": {"dataset": "mnist", "subset": "all"}},
        {"format": "dllab.run/1", "network": network, "data": {"dataset": "mnist"}, "training": {"lr": -1}},
        {"format": "dllab.experiment/1", "network": network, "data": {"dataset": "mnist"}, "seed": -2},
        {"format": DESIGN_FORMAT, "network": network, "data": {"source": 3}, "training": {"lr": 0.1}},
    ]
    for document in cases:
        run.write_text(json.dumps(document), encoding="utf-8")
        assert documents.open_network_file(run, ask=False) is False
        title, message = fake_dialogs.errors()[-1]
        assert title == "Cannot open network" and "run/config.json" in message.lower() and "\n" not in message
        assert (state.spec_copy(), state.data_settings, state.training) == before
    assert len(fake_dialogs.errors()) == len(cases)


# --- autosave -----------------------------------------------------------------------------------------------


def test_autosave_round_trip_writes_through_a_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "autosave" / "network.json"
    spec = {"input_shape": [2], "layers": [{"type": "Dense", "units": 3}]}
    autosave.write_autosave(spec, tmp_path / "design.json", path)
    autosave.write_autosave(spec, None, path)
    found = autosave.read_autosave(path)
    assert found is not None and found.spec == spec and found.file_path is None
    assert found.saved_at_text
    assert [p.name for p in path.parent.iterdir()] == ["network.json"]


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\xff\xfe",
        b"[1]",
        b'{"format": "dllab.autosave/1", "spec": [1]}',
        b'{"format": "dllab.autosave/1", "spec": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"format": "dllab.autosave/1", "spec": {}, "saved_at": 1' + b"0" * 5000 + b"}",
    ],
    ids=["empty", "not-utf8", "list", "spec-not-object", "deep", "huge-number"],
)
def test_an_autosave_that_cannot_be_used_is_not_offered(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "network.json"
    path.write_bytes(content)
    assert autosave.read_autosave(path) is None
    assert autosave.recovery_candidate(None, path) is None


@pytest.mark.skipif(not HAS_FIFO, reason="needs FIFOs")
def test_an_autosave_that_is_a_fifo_is_not_read(tmp_path: Path) -> None:
    fifo = tmp_path / "network.json"
    os.mkfifo(fifo)
    assert finishes(lambda: autosave.read_autosave(fifo), fifo) is None


@pytest.mark.parametrize("saved_at", [math.nan, math.inf, -math.inf, 1e300, 10**300, "yesterday", True])
def test_an_unusable_autosave_time_falls_back_to_the_file_time(tmp_path: Path, saved_at: Any) -> None:
    path = tmp_path / "network.json"
    document = {
        "format": autosave.FORMAT,
        "spec": {"layers": []},
        "saved_at": saved_at,
        "file_path": "a\x00b",
    }
    path.write_text(json.dumps(document), encoding="utf-8")
    found = autosave.read_autosave(path)
    assert found is not None
    assert found.saved_at == path.stat().st_mtime
    assert found.file_path is None
    assert found.saved_at_text


@settings(SHARED, max_examples=60)
@given(JSON_VALUES, JSON_VALUES, JSON_VALUES)
def test_any_autosave_document_is_offered_usable_or_not_at_all(
    tmp_path_factory: pytest.TempPathFactory, spec: Any, saved_at: Any, file_path: Any
) -> None:
    path = tmp_path_factory.getbasetemp() / "hypothesis-autosave.json"
    document = {"format": autosave.FORMAT, "spec": spec, "saved_at": saved_at, "file_path": file_path}
    try:
        path.write_text(json.dumps(document), encoding="utf-8")
    except ValueError:
        return
    found = autosave.recovery_candidate(None, path)
    if found is not None:
        assert isinstance(found.spec, dict) and math.isfinite(found.saved_at)
        assert found.saved_at_text and found.name
        assert isinstance(analyze(found.spec), dllab.spec.Analysis)


# --- layer drags --------------------------------------------------------------------------------------------


def mime_with(payload: bytes) -> QMimeData:
    mime = QMimeData()
    mime.setData(LAYER_MIME, QByteArray(payload))
    return mime


def test_layer_drags_round_trip() -> None:
    drag = decode_layer_drag(encode_layer_drag({"type": "Dense", "units": 3}, source_row=2))
    assert drag is not None and drag.layer == {"type": "Dense", "units": 3} and drag.source_row == 2
    assert decode_layer_drag(encode_layer_drag({"type": "ReLU"})).source_row is None


@pytest.mark.parametrize(
    "payload",
    [
        b"[1, 2]",
        b"42",
        b"\xff\xfe",
        b'{"layer": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"layer": {"type": "Dense"}, "deep": ' + json.dumps(deep(JSON_DEPTH_LIMIT + 2)).encode() + b"}",
        b'{"layer": {"type": 3}}',
        b'{"layer": "Dense"}',
    ],
    ids=["list", "number", "not-utf8", "very-deep", "deep", "type-not-text", "layer-not-object"],
)
def test_payloads_that_are_not_a_layer_are_ignored(payload: bytes) -> None:
    assert decode_layer_drag(mime_with(payload)) is None


@pytest.mark.parametrize("row", [True, -1, 2**40, 1.5, "3", None])
def test_a_source_row_that_is_not_a_row_is_dropped(row: Any) -> None:
    drag = decode_layer_drag(mime_with(json.dumps({"layer": {"type": "ReLU"}, "source_row": row}).encode()))
    assert drag is not None and drag.source_row is None


@settings(max_examples=80, deadline=None, database=None)
@given(st.binary(max_size=200) | JSON_VALUES.map(lambda value: json.dumps({"layer": value}).encode()))
def test_any_payload_is_a_layer_or_ignored(payload: bytes) -> None:
    drag = decode_layer_drag(mime_with(payload))
    if drag is not None:
        assert isinstance(drag.layer, dict) and isinstance(drag.layer["type"], str)
        assert drag.source_row is None or 0 <= drag.source_row < 2**31
