"""Errors reach the user as one sentence in a dialog: a damaged design, model, data or run file opened the way a
user opens it, what the file controller lets through, and the app's ``sys.excepthook`` (the
:class:`ui.common.dialogs.ErrorReporter`) for what escapes any slot; a bug is an internal error that still fails the
test. The real dialogs open without waiting, over the window."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QThread, QTimer
from PySide6.QtWidgets import QMessageBox, QPushButton, QToolButton

import dllab
from dllab import experiment as experiment_module  # the loader loads through DataSettings.load here
from dllab.data import DatasetError, load_dataset
from dllab.errors import DamagedFileError, DllabError
from dllab.runs import open_run, runs_root
from dllab.spec import SpecError
from ui.common import dialogs, settings
from ui.common.dialogs import show_error as real_show_error  # taken before the fixtures replace it
from ui.common.dialogs import show_internal_error as real_show_internal_error
from ui.data.panel import LOCAL_SOURCE
from ui.design.documents import read_design_file

GARBAGE = bytes(range(256)) * 4


def engine_error(read, *args) -> DllabError:
    """The error the engine's reader raises for a damaged file (the sentence the dialog must show)."""
    with pytest.raises(DllabError) as caught:
        read(*args)
    return caught.value


def shows(message: str, error: Exception) -> bool:
    """Whether a dialog's message holds the engine's sentence (its first letter may be a capital, a full stop
    added)."""
    sentence = " ".join(str(error).split()).rstrip(".")
    return sentence.lower() in message.lower()


@pytest.fixture
def internal_errors(monkeypatch: pytest.MonkeyPatch) -> list[BaseException]:
    """The exceptions shown as internal errors (in place of the dialog)."""
    shown: list[BaseException] = []
    monkeypatch.setattr(dialogs, "show_internal_error", lambda parent, error: shown.append(error))
    return shown


@pytest.fixture
def reporter(internal_errors):
    """The app's excepthook, installed over pytest-qt's for the test (a bug still fails the test)."""
    hook = dialogs.ErrorReporter()
    hook.install()
    yield hook
    hook.uninstall()


# --- the sentence and the one helper -------------------------------------------------------------------------


def test_the_sentence_of_a_user_error():
    assert dialogs.error_sentence(SpecError("'units' must be positive", 2, "Dense")) == (
        "Layer 2 (Dense): 'units' must be positive."
    )
    assert dialogs.error_sentence(DamagedFileError("/d/m.npz", "is cut short")) == "'/d/m.npz' is cut short."
    assert dialogs.error_sentence(PermissionError(13, "Permission denied", "/d/net.json")) == (
        "Permission denied: /d/net.json."
    )
    assert (
        dialogs.error_sentence(OSError("Could not write the image a.png."))
        == "Could not write the image a.png."
    )
    assert dialogs.error_sentence(DatasetError("two\n  lines?")) == "Two lines?"


def test_report_user_errors_shows_a_user_error_and_lets_a_bug_through(fake_dialogs):
    with dialogs.report_user_errors(None, "Cannot open run"):
        raise DamagedFileError("/r/config.json", "is not UTF-8 text")
    with dialogs.report_user_errors(None, "Cannot save"):
        raise FileNotFoundError(2, "No such file or directory", "/gone/net.json")
    assert fake_dialogs.errors() == [
        ("Cannot open run", "'/r/config.json' is not UTF-8 text."),
        ("Cannot save", "No such file or directory: /gone/net.json."),
    ]
    with pytest.raises(KeyError), dialogs.report_user_errors(None, "Cannot open"):
        raise KeyError("a bug")
    assert len(fake_dialogs.errors()) == 2


# --- the excepthook --------------------------------------------------------------------------------------------


def test_the_reporter_installs_and_uninstalls():
    before = sys.excepthook
    hook = dialogs.ErrorReporter()
    hook.install()
    hook.install()  # once only: uninstalling goes back to the hook before
    assert hook.installed and sys.excepthook == hook.excepthook
    hook.uninstall()
    assert not hook.installed and sys.excepthook is before
    hook.uninstall()
    assert sys.excepthook is before


def test_a_user_error_escaping_a_slot_is_shown_as_its_sentence_and_goes_no_further(
    qtbot, fake_dialogs, internal_errors
):
    button = QPushButton()
    qtbot.addWidget(button)

    def on_clicked() -> None:
        raise DamagedFileError("/d/run/config.json", "is not UTF-8 text")

    button.clicked.connect(on_clicked)
    with qtbot.capture_exceptions() as escaped:
        hook = dialogs.ErrorReporter()
        hook.install()
        try:
            button.click()
            qtbot.waitUntil(lambda: bool(fake_dialogs.errors()))
        finally:
            hook.uninstall()
    assert fake_dialogs.errors() == [(dialogs.UNCAUGHT_TITLE, "'/d/run/config.json' is not UTF-8 text.")]
    assert escaped == [] and internal_errors == []


def test_a_bug_escaping_a_slot_is_an_internal_error_that_still_reaches_the_hook_before(
    qtbot, fake_dialogs, internal_errors
):
    def on_timeout() -> None:
        raise ZeroDivisionError("a bug in dllab")

    with qtbot.capture_exceptions() as escaped:  # the hook before: pytest-qt's, which fails a test
        hook = dialogs.ErrorReporter()
        hook.install()
        try:
            QTimer.singleShot(0, on_timeout)
            qtbot.waitUntil(lambda: bool(internal_errors))
        finally:
            hook.uninstall()
    assert [type(error) for _, error, _ in escaped] == [ZeroDivisionError]
    assert [str(error) for error in internal_errors] == ["a bug in dllab"]
    assert fake_dialogs.errors() == []


def test_an_error_in_a_worker_thread_is_shown_from_the_gui_thread(qtbot, fake_dialogs, monkeypatch):
    shown_in: list[threading.Thread] = []

    def show_error(*args: object) -> None:
        shown_in.append(threading.current_thread())
        fake_dialogs.calls.append(("show_error", args))

    monkeypatch.setattr(dialogs, "show_error", show_error)

    class Worker(QThread):
        def run(self) -> None:
            raise DatasetError("'/d/table.csv' has no data rows")

    worker = Worker()
    hook = dialogs.ErrorReporter()
    hook.install()
    try:
        worker.start()
        qtbot.waitUntil(lambda: bool(fake_dialogs.errors()))
    finally:
        hook.uninstall()
        worker.wait(5000)
    assert shown_in == [threading.main_thread()]
    assert fake_dialogs.errors() == [(dialogs.UNCAUGHT_TITLE, "'/d/table.csv' has no data rows.")]


def test_an_error_in_a_plain_python_thread_is_shown_too(qtbot, fake_dialogs):
    def load() -> None:
        raise DatasetError("'/d/table.csv' has no data rows")

    hook = dialogs.ErrorReporter()
    hook.install()
    try:
        assert threading.excepthook == hook.thread_excepthook
        thread = threading.Thread(target=load)
        thread.start()
        thread.join(5)
        qtbot.waitUntil(lambda: bool(fake_dialogs.errors()))
    finally:
        hook.uninstall()
    assert threading.excepthook != hook.thread_excepthook
    assert fake_dialogs.errors() == [(dialogs.UNCAUGHT_TITLE, "'/d/table.csv' has no data rows.")]


# --- the real dialogs ------------------------------------------------------------------------------------------


def test_the_error_dialog_opens_over_the_window_without_waiting_and_only_once(window, qtbot):
    real_show_error(window, "Cannot open network", "'bad.json' is not a dllab network.")
    real_show_error(window, "Cannot open network", "'bad.json' is not a dllab network.")
    boxes = [box for box in window.findChildren(QMessageBox) if box.isVisible()]
    assert len(boxes) == 1
    box = boxes[0]
    assert box.windowTitle() == "Cannot open network" and box.text() == "'bad.json' is not a dllab network."
    assert box.icon() == QMessageBox.Icon.Warning and box.isModal()
    box.accept()
    qtbot.waitUntil(lambda: not any(b.isVisible() for b in window.findChildren(QMessageBox)))


def test_the_internal_error_dialog_names_the_exception_and_asks_for_a_report(window, qtbot):
    try:
        raise KeyError("layers")
    except KeyError as error:
        real_show_internal_error(window, error)
    box = next(box for box in window.findChildren(QMessageBox) if box.isVisible())
    assert "internal error" in box.text() and "please report it" in box.text()
    assert box.informativeText() == "KeyError: 'layers'"
    assert "Traceback" in box.detailedText() and "raise KeyError" in box.detailedText()
    assert box.icon() == QMessageBox.Icon.Critical
    box.accept()


# --- damaged files, opened the way a user opens them --------------------------------------------------------------


def test_a_damaged_design_file_says_why_in_a_dialog(
    window, reporter, fake_dialogs, internal_errors, tmp_path
):
    bad = tmp_path / "garbage.json"
    bad.write_bytes(GARBAGE)
    expected = engine_error(read_design_file, bad)  # the engine's reader, as the window calls it
    before = window.state.spec_copy()
    fake_dialogs.open_paths.append(bad)
    window.open_action.trigger()
    (title, message) = fake_dialogs.errors()[-1]
    assert title == "Cannot open network" and shows(message, expected)
    assert window.state.spec == before and internal_errors == []


@pytest.mark.parametrize(
    "error",
    [
        DamagedFileError(
            "net.json", "is not a regular file (a pipe, a device or a socket), so it is not read"
        ),
        PermissionError(13, "Permission denied", "net.json"),
    ],
)
def test_what_the_file_controller_lets_through_is_still_shown(
    window, reporter, fake_dialogs, internal_errors, monkeypatch, tmp_path, error
):
    def open_network_file(*_: object, **__: object) -> bool:
        raise error

    recent = tmp_path / "net.json"
    recent.write_text("{}")
    settings.add_recent_file(recent)
    monkeypatch.setattr(window.documents, "open_network_file", open_network_file)
    window._rebuild_recent_menu()
    window.recent_menu.actions()[0].trigger()  # File ▸ Open Recent ▸ net.json
    assert fake_dialogs.errors() == [("Cannot open network", dialogs.error_sentence(error))]
    assert internal_errors == []


def test_a_damaged_model_file_says_why_in_a_dialog(window, reporter, fake_dialogs, internal_errors, tmp_path):
    bad = tmp_path / "garbage.dllab.npz"
    bad.write_bytes(GARBAGE)
    expected = engine_error(dllab.load, bad)
    before = window.state.spec_copy()
    fake_dialogs.open_paths.append(bad)
    window.open_model_action.trigger()
    (title, message) = fake_dialogs.errors()[-1]
    assert title == "Cannot open model" and shows(message, expected)
    assert window.state.spec == before and window.state.model is None and internal_errors == []


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("garbage.npz", GARBAGE),
        ("nan-label.csv", b"x1,x2,label\n1,2,nan\n3,4,0\n5,6,1\n7,8,0\n9,10,1\n"),
        ("ragged.csv", b"x1,x2,label\n1,2,0\n3,4\n"),
    ],
)
def test_a_damaged_data_file_says_why_in_a_dialog(
    window, reporter, qtbot, fake_dialogs, internal_errors, tmp_path, name, content
):
    bad = tmp_path / name
    bad.write_bytes(content)
    expected = engine_error(load_dataset, str(bad))
    panel = window.data_panel
    combo = panel.source_combo
    combo.setCurrentIndex(combo.findData(LOCAL_SOURCE))
    combo.activated.emit(combo.currentIndex())
    fake_dialogs.open_paths.append(bad)
    with qtbot.waitSignal(panel.load_finished, timeout=10_000) as finished:
        panel.file_button.click()
    assert finished.args == [False]
    (title, message) = fake_dialogs.errors()[-1]
    assert title == f"Cannot load {name}" and shows(message, expected)
    assert shows(panel.status.text(), expected)
    assert window.state.dataset.name == "spiral" and internal_errors == []


def test_a_damaged_idx_folder_says_why_in_a_dialog(
    window, reporter, qtbot, fake_dialogs, internal_errors, tmp_path
):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in (
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ):
        (folder / name).write_bytes(GARBAGE)
    expected = engine_error(load_dataset, str(folder))
    panel = window.data_panel
    combo = panel.source_combo
    combo.setCurrentIndex(combo.findData(LOCAL_SOURCE))
    combo.activated.emit(combo.currentIndex())
    fake_dialogs.directories.append(folder)
    with qtbot.waitSignal(panel.load_finished, timeout=10_000):
        panel.folder_button.click()
    (title, message) = fake_dialogs.errors()[-1]
    assert title == "Cannot load mnist" and shows(message, expected)
    assert internal_errors == []


def test_a_bug_while_loading_is_an_internal_error_not_a_sentence(
    window, qtbot, fake_dialogs, internal_errors, monkeypatch, tmp_path
):
    def broken(source, **kwargs):
        raise IndexError("a bug in a reader")

    monkeypatch.setattr(experiment_module, "load_dataset", broken)
    panel = window.data_panel
    panel.select_source(str(tmp_path / "data.npz"))
    with qtbot.capture_exceptions() as escaped:
        hook = dialogs.ErrorReporter()
        hook.install()
        try:
            with qtbot.waitSignal(panel.load_finished, timeout=10_000):
                panel.load_button.click()
            qtbot.waitUntil(lambda: bool(internal_errors))
        finally:
            hook.uninstall()
    assert [type(error) for _, error, _ in escaped] == [IndexError]
    assert [str(error) for error in internal_errors] == ["a bug in a reader"]
    assert fake_dialogs.errors() == [] and "internal error" in panel.status.text()


def test_a_damaged_run_folder_says_why_in_a_dialog(window, reporter, fake_dialogs, internal_errors):
    folder = runs_root() / "2024-01-01_120000_damaged"
    folder.mkdir(parents=True)
    (folder / "config.json").write_bytes(GARBAGE)
    expected = engine_error(open_run, folder)
    panel = window.runs_panel
    panel.refresh()
    assert [info.status for info in panel.runs] == ["damaged"]
    opened: list[Path] = []
    panel.model_open_requested.connect(opened.append)
    panel.list.itemActivated.emit(panel.list.item(0))  # a double-click
    (title, message) = fake_dialogs.errors()[-1]
    assert title == "Cannot open run" and shows(message, expected)
    assert opened == [] and internal_errors == []


def test_a_run_without_a_model_says_so(window, reporter, fake_dialogs, internal_errors, monkeypatch):
    from ui.training import runs_panel

    folder = runs_root() / "2024-01-01_120000_running"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    monkeypatch.setattr(runs_panel, "run_model", lambda info: None)
    panel = window.runs_panel
    panel.refresh()
    assert not panel.open_run_model(panel.runs[0])
    assert fake_dialogs.names()[-1] == "show_info" and fake_dialogs.errors() == []


def test_the_app_reports_errors_while_it_runs(qtbot, monkeypatch):
    from PySide6.QtWidgets import QApplication

    from ui import app, main_window
    from ui.common import garbage

    hooks = []
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(name, "1")  # run_app sets them only when unset
    # Keeps the test's theme and its own garbage collection (tests/ui/conftest.py).
    monkeypatch.setattr(app, "configure_application", lambda application: None)
    monkeypatch.setattr(garbage, "set_aside_what_lives", lambda: None)  # the suite's objects stay collectable

    class Window(QPushButton):
        def show_welcome_on_first_launch(self) -> None:
            pass

    def make_window() -> QPushButton:
        window = Window()
        qtbot.addWidget(window)
        return window

    monkeypatch.setattr(main_window, "MainWindow", make_window)
    monkeypatch.setattr(QApplication, "exec", lambda self: hooks.append(sys.excepthook) or 0)
    before = sys.excepthook
    assert app.run_app() == 0
    assert isinstance(hooks[0].__self__, dialogs.ErrorReporter)
    assert sys.excepthook is before


def test_an_unreadable_runs_folder_is_said_in_the_panel_and_its_button(
    window, reporter, fake_dialogs, internal_errors, monkeypatch, tmp_path
):
    from ui.training import runs_panel

    def unreadable(folder: Path) -> list:
        raise PermissionError(13, "Permission denied", str(folder))

    monkeypatch.setattr(runs_panel, "run_history", unreadable)
    panel = window.runs_panel
    panel.refresh()
    assert panel.stack.currentWidget() is panel.empty
    assert "Cannot read the runs folder. Permission denied" in panel.empty.text()
    blocker = tmp_path / "a file"
    blocker.write_text("")
    monkeypatch.setattr(runs_panel, "runs_root", lambda: blocker / "runs")
    folder_button = next(b for b in panel.findChildren(QToolButton) if b.toolTip() == "Open the runs folder")
    folder_button.click()
    (title, message) = fake_dialogs.errors()[-1]
    assert title == "Cannot open the runs folder" and "a file" in message
    assert internal_errors == []
