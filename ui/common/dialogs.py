"""Every modal question, message and file chooser the app shows, in one place, and how errors reach the user.

Code elsewhere calls these functions through the module (``dialogs.ask_save_changes(...)``), never
``QMessageBox`` or ``QFileDialog`` directly, so tests replace them (``monkeypatch.setattr``) with canned
answers and never block on a modal dialog.

Errors
------
An error that a user's file, setting or data cause is a :class:`~dllab.errors.DllabError` whose message is one
sentence; the file system adds :class:`OSError` (:data:`USER_ERRORS`, both). Wherever the app opens or writes
a user's file it catches them with :func:`report_user_errors` and shows :func:`error_sentence` in
:func:`show_error`. Anything else is a bug in dllab. The :class:`ErrorReporter`, installed as
``sys.excepthook`` by :func:`ui.app.run_app`, catches what slips through a Qt slot: a ``DllabError`` is shown
as its sentence, any other exception as :func:`show_internal_error` (and still goes to the hook it replaced,
which prints the traceback).
"""

from __future__ import annotations

import contextlib
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Literal

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from dllab.errors import DllabError, error_sentence

SaveAnswer = Literal["save", "discard", "cancel"]
ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], object]

USER_ERRORS: tuple[type[Exception], ...] = (DllabError, OSError)
"""What a user's file, setting or data, or the file system, cause: shown as their sentence, never a bug."""

UNCAUGHT_TITLE = "Cannot continue"
"""The title of the dialog that shows a user error no code caught (the :class:`ErrorReporter`'s)."""

#: The longest exception message an internal-error dialog quotes (the traceback is under Show Details).
INTERNAL_MESSAGE_LIMIT = 300

_open_boxes: list[QMessageBox] = []  # message boxes shown with open(), kept alive until they close


def ask_save_changes(parent: QWidget | None, document: str) -> SaveAnswer:
    """Ask whether to save the unsaved changes of ``document`` before they would be lost."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Unsaved changes")
    box.setText(f"Save the changes to “{document}”?")
    box.setInformativeText("Your changes will be lost if you don't save them.")
    box.setStandardButtons(
        QMessageBox.StandardButton.Save
        | QMessageBox.StandardButton.Discard
        | QMessageBox.StandardButton.Cancel
    )
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    answer = box.exec()
    if answer == QMessageBox.StandardButton.Save:
        return "save"
    if answer == QMessageBox.StandardButton.Discard:
        return "discard"
    return "cancel"


def ask_quit_while_training(parent: QWidget | None) -> bool:
    """Ask whether to quit while a network trains; True to stop the run and quit."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Quit while training?")
    box.setText("A network is training. Quit anyway?")
    box.setInformativeText("The run stops now; its folder keeps what was done, without the test evaluation.")
    quit_button = box.addButton("Stop and Quit", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is quit_button


class DownloadFailedDialog(QDialog):
    """A data set could not be downloaded: the files it needs, the folder they go in (selectable, with Copy),
    and the way on without a connection, "Local file or folder…" (``accepted``)."""

    def __init__(
        self, parent: QWidget | None, title: str, files: list[str] | tuple[str, ...], folder: Path
    ) -> None:
        super().__init__(_dialog_parent(parent))
        self.setWindowTitle(f"Cannot download {title}")
        self.setMinimumWidth(480)
        layout = QVBoxLayout(self)
        intro = QLabel(
            f"<b>{title} could not be downloaded</b> (no connection, or no mirror answered).<br><br>"
            f"Without a connection: put these files into the folder below and load {title} again, or choose "
            "a folder that holds them with <i>Local file or folder…</i>:",
            self,
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.files_label = QLabel("\n".join(f"•  {name}" for name in files), self)
        self.files_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.files_label)
        row = QHBoxLayout()
        self.folder_edit = QLineEdit(str(folder), self)
        self.folder_edit.setReadOnly(True)
        self.folder_edit.setToolTip("The cache folder for this data set: select and copy it")
        self.folder_edit.setMinimumWidth(self.fontMetrics().horizontalAdvance(str(folder)) + 24)
        self.copy_button = QPushButton("Copy", self)
        self.copy_button.setToolTip("Copy the folder's path")
        self.copy_button.clicked.connect(lambda: QApplication.clipboard().setText(str(folder)))
        row.addWidget(self.folder_edit, 1)
        row.addWidget(self.copy_button)
        layout.addLayout(row)
        buttons = QDialogButtonBox(self)
        self.local_button = buttons.addButton("Local file or folder…", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.local_button.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)


def ask_download_failed(
    parent: QWidget | None, title: str, files: list[str] | tuple[str, ...], folder: Path
) -> bool:
    """Say that ``title`` could not be downloaded (see :class:`DownloadFailedDialog`); True when the user
    chose "Local file or folder…"."""
    return DownloadFailedDialog(parent, title, files, folder).exec() == QDialog.DialogCode.Accepted


def ask_recover(parent: QWidget | None, document: str, saved_at: str) -> bool:
    """Offer the autosaved design that a crash left behind; True to restore it."""
    answer = QMessageBox.question(
        parent,
        "Recover unsaved work",
        f"dllab did not close cleanly last time. An autosaved version of “{document}” from {saved_at} "
        "was found.\n\nRestore it?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.Yes,
    )
    return answer == QMessageBox.StandardButton.Yes


def show_error(parent: QWidget | None, title: str, message: str) -> None:
    """Tell the user that something could not be done, in one or two sentences (:func:`error_sentence`).

    A warning over ``parent`` (window-modal) that does not wait for OK: the caller goes on at once, and the
    same message already on the screen is not shown twice.
    """
    _open_message_box(parent, QMessageBox.Icon.Warning, title, message)


def show_internal_error(parent: QWidget | None, error: BaseException) -> None:
    """Tell the user that dllab hit a bug: the exception's type and message, its traceback under Details.

    Like :func:`show_error` it does not wait for OK.
    """
    message = " ".join(str(error).split())
    if len(message) > INTERNAL_MESSAGE_LIMIT:
        message = message[: INTERNAL_MESSAGE_LIMIT - 1] + "…"
    _open_message_box(
        parent,
        QMessageBox.Icon.Critical,
        "Internal error",
        "dllab hit an internal error and could not finish what it was doing. This is a bug in dllab: "
        "please report it, with the details below.",
        informative=f"{type(error).__name__}: {message}" if message else type(error).__name__,
        details="".join(traceback.format_exception(type(error), error, error.__traceback__)),
    )


@contextlib.contextmanager
def report_user_errors(parent: QWidget | None, title: str) -> Iterator[None]:
    """Run the block; a :data:`USER_ERRORS` it raises is shown as its sentence under ``title`` and ends the
    block, anything else goes on up (a bug).

    Examples
    --------
    ::

        with dialogs.report_user_errors(self, "Cannot open run"):
            model = run_model(info)
    """
    try:
        yield
    except USER_ERRORS as error:
        show_error(parent, title, error_sentence(error))


def report_internal_error(error: BaseException) -> None:
    """Report a bug caught where it could not go up to Qt (a worker's thread, a load that must end cleanly)
    as if it had escaped a slot: to ``sys.excepthook`` (the :class:`ErrorReporter` in the app)."""
    sys.excepthook(type(error), error, error.__traceback__)


def show_info(parent: QWidget | None, title: str, message: str) -> None:
    """Tell the user something that needs no decision."""
    QMessageBox.information(parent, title, message)


def get_open_path(parent: QWidget | None, caption: str, directory: str, filters: str) -> Path | None:
    """Ask for an existing file; None when cancelled."""
    path, _ = QFileDialog.getOpenFileName(parent, caption, directory, filters)
    return Path(path) if path else None


def get_save_path(parent: QWidget | None, caption: str, directory: str, filters: str) -> Path | None:
    """Ask for a file to write; None when cancelled."""
    path, _ = QFileDialog.getSaveFileName(parent, caption, directory, filters)
    return Path(path) if path else None


def get_directory(parent: QWidget | None, caption: str, directory: str) -> Path | None:
    """Ask for a folder; None when cancelled."""
    path = QFileDialog.getExistingDirectory(parent, caption, directory)
    return Path(path) if path else None


def show_about(parent: QWidget | None, title: str, html: str) -> None:
    """The About box."""
    QMessageBox.about(parent, title, html)


def show_document(parent: QWidget | None, title: str, html: str) -> None:
    """A read-only rich-text page (the keyboard shortcuts) in a small dialog."""
    dialog = QDialog(parent)
    dialog.setWindowTitle(title)
    dialog.resize(520, 560)
    layout = QVBoxLayout(dialog)
    browser = QTextBrowser(dialog)
    browser.setHtml(html)
    browser.setOpenExternalLinks(True)
    layout.addWidget(browser)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, Qt.Orientation.Horizontal, dialog)
    buttons.rejected.connect(dialog.reject)
    layout.addWidget(buttons)
    dialog.exec()


def _dialog_parent(parent: QWidget | None) -> QWidget | None:
    """``parent``, else the active window, else the first visible main window (None when there is none)."""
    if parent is not None:
        return parent
    active = QApplication.activeWindow()
    if active is not None:
        return active
    return next(
        (w for w in QApplication.topLevelWidgets() if isinstance(w, QMainWindow) and w.isVisible()), None
    )


def _open_message_box(
    parent: QWidget | None,
    icon: QMessageBox.Icon,
    title: str,
    text: str,
    *,
    informative: str = "",
    details: str = "",
) -> QMessageBox | None:
    """Show a message box with ``open()`` (window-modal, no nested event loop); None when the same box is
    already on the screen (it is raised instead)."""
    _open_boxes[:] = [box for box in _open_boxes if shiboken6.isValid(box) and box.isVisible()]
    for box in _open_boxes:
        if (box.windowTitle(), box.text(), box.informativeText()) == (title, text, informative):
            box.raise_()
            return None
    box = QMessageBox(_dialog_parent(parent))
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setIcon(icon)
    box.setWindowTitle(title)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(text)
    if informative:
        box.setInformativeText(informative)
    if details:
        box.setDetailedText(details)
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.open()
    _open_boxes.append(box)
    return box


class ErrorReporter(QObject):
    """The app's ``sys.excepthook``: what escapes a Qt slot reaches the user as a dialog.

    A :class:`~dllab.errors.DllabError` (a user's file, setting or data) is shown as its sentence
    (:func:`show_error` titled :data:`UNCAUGHT_TITLE`) and goes no further. Any other exception is a bug: it
    goes to the hook that was installed before (Python's prints the traceback to stderr, pytest-qt's fails the
    test) and :func:`show_internal_error` shows it. The dialog is shown from the event loop of the GUI thread,
    whichever thread the exception came from, never from inside the failing slot. ``KeyboardInterrupt`` and
    other non-``Exception`` errors only go to the previous hook.

    Examples
    --------
    ::

        reporter = ErrorReporter(app)
        reporter.install()   # sys.excepthook is now reporter.excepthook
        ...
        reporter.uninstall()  # the previous hook again
    """

    _caught = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._previous: ExceptHook | None = None
        self._previous_thread_hook: Callable[[threading.ExceptHookArgs], object] | None = None
        # Queued, so the dialog opens from the event loop (not inside a paint event) and in the GUI thread.
        self._caught.connect(self._on_self_caught, Qt.ConnectionType.QueuedConnection)

    @property
    def installed(self) -> bool:
        """Whether this reporter is ``sys.excepthook`` now."""
        return sys.excepthook == self.excepthook

    def install(self) -> None:
        """Become ``sys.excepthook`` and ``threading.excepthook`` (what escapes a plain Python thread), remembering
        the hooks before (nothing changes when already installed)."""
        if not self.installed:
            self._previous = sys.excepthook
            sys.excepthook = self.excepthook
            self._previous_thread_hook = threading.excepthook
            threading.excepthook = self.thread_excepthook

    def uninstall(self) -> None:
        """Put the previous hooks back (when this reporter is still the hook)."""
        if self.installed:
            sys.excepthook = self._previous or sys.__excepthook__
            self._previous = None
            if threading.excepthook == self.thread_excepthook:
                threading.excepthook = self._previous_thread_hook or threading.__excepthook__
            self._previous_thread_hook = None

    def thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        """Report what escaped a plain Python thread as :meth:`excepthook` does (``SystemExit`` is no error)."""
        if args.exc_type is SystemExit or args.exc_value is None:
            (self._previous_thread_hook or threading.__excepthook__)(args)
            return
        self.excepthook(args.exc_type, args.exc_value, args.exc_traceback)

    def excepthook(
        self, exc_type: type[BaseException], error: BaseException, tb: TracebackType | None
    ) -> None:
        """Report ``error`` (the signature of ``sys.excepthook``)."""
        previous = self._previous or sys.__excepthook__
        if not isinstance(error, Exception) or QApplication.instance() is None:
            previous(exc_type, error, tb)
            return
        user_error = isinstance(error, DllabError)
        if not user_error:  # a bug: its traceback is printed (or fails the test)
            previous(exc_type, error, tb)
        try:
            self._caught.emit(error)
        except RuntimeError:  # the reporter was deleted (the app is closing): the error is printed at least
            if user_error:
                previous(exc_type, error, tb)

    def _on_self_caught(self, error: Exception) -> None:
        if isinstance(error, DllabError):
            show_error(None, UNCAUGHT_TITLE, error_sentence(error))
        else:
            show_internal_error(None, error)
