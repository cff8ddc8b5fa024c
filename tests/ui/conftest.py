"""Fixtures of the desktop tests: a private home and settings per test, dialogs that answer at once, and
the main window."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings

from ui.common import dialogs
from ui.common.garbage import GarbageCollector


@pytest.fixture(scope="session", autouse=True)
def _collected_on_the_gui_thread(qapp):
    """As in the app (:func:`ui.app.run_app`): Python's cyclic garbage is collected on the GUI thread only. Left to
    the thread that allocates, a collection in a worker's thread freed a closed window's widgets there while the
    GUI thread built the next window, and the suite hung."""
    collector = GarbageCollector(parent=qapp)
    yield collector
    collector.stop()


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own DLLAB_HOME (settings, autosave, runs) and download cache, outside the test's
    own ``tmp_path`` (which stays empty for the test)."""
    root = tmp_path_factory.mktemp("dllab")
    home = root / "home"
    home.mkdir()
    monkeypatch.setenv("DLLAB_HOME", str(home))
    monkeypatch.setenv("DLLAB_DATA_DIR", str(root / "datasets"))
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, str(root / "qsettings"))
    return home


@dataclass
class FakeDialogs:
    """Canned answers for every dialog in :mod:`ui.common.dialogs`, and a record of what was asked."""

    save_answer: str = "discard"
    recover: bool = False
    quit_while_training: bool = True
    choose_local_after_failed_download: bool = False
    open_paths: list[Path | None] = field(default_factory=list)
    save_paths: list[Path | None] = field(default_factory=list)
    directories: list[Path | None] = field(default_factory=list)
    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)

    def names(self) -> list[str]:
        """The dialog functions called so far, in order."""
        return [name for name, _ in self.calls]

    def errors(self) -> list[tuple[Any, ...]]:
        """The (title, message) of every error shown."""
        return [args[1:] for name, args in self.calls if name == "show_error"]

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        def record(name: str, result: Any):
            def function(*args: Any) -> Any:
                self.calls.append((name, args))
                return result() if callable(result) else result

            return function

        monkeypatch.setattr(dialogs, "ask_save_changes", record("ask_save_changes", lambda: self.save_answer))
        monkeypatch.setattr(dialogs, "ask_recover", record("ask_recover", lambda: self.recover))
        monkeypatch.setattr(
            dialogs,
            "ask_download_failed",
            record("ask_download_failed", lambda: self.choose_local_after_failed_download),
        )
        monkeypatch.setattr(
            dialogs,
            "ask_quit_while_training",
            record("ask_quit_while_training", lambda: self.quit_while_training),
        )
        monkeypatch.setattr(dialogs, "show_error", record("show_error", None))
        monkeypatch.setattr(dialogs, "show_info", record("show_info", None))
        monkeypatch.setattr(dialogs, "show_about", record("show_about", None))
        monkeypatch.setattr(dialogs, "show_document", record("show_document", None))
        monkeypatch.setattr(
            dialogs,
            "get_open_path",
            record("get_open_path", lambda: self.open_paths.pop(0) if self.open_paths else None),
        )
        monkeypatch.setattr(
            dialogs,
            "get_save_path",
            record("get_save_path", lambda: self.save_paths.pop(0) if self.save_paths else None),
        )
        monkeypatch.setattr(
            dialogs,
            "get_directory",
            record("get_directory", lambda: self.directories.pop(0) if self.directories else None),
        )


@pytest.fixture(autouse=True)
def fake_dialogs(monkeypatch: pytest.MonkeyPatch) -> FakeDialogs:
    """No test ever blocks on a modal dialog: each answers from this object and is recorded."""
    fake = FakeDialogs()
    fake.install(monkeypatch)
    return fake


@pytest.fixture
def window(qtbot):
    """The main window, shown offscreen, with the spiral example and the spiral data loaded."""
    from ui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: win.state.dataset is not None)
    yield win
    win.state.undo_stack.setClean()
    win.close()
