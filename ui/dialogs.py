"""Every modal question and file chooser the app shows, in one place.

Code elsewhere calls these functions through the module (``dialogs.ask_save_changes(...)``), never
``QMessageBox`` or ``QFileDialog`` directly, so tests replace them (``monkeypatch.setattr``) with canned
answers and never block on a modal dialog.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QMessageBox,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

SaveAnswer = Literal["save", "discard", "cancel"]


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
    """Tell the user that something failed, in one or two sentences."""
    QMessageBox.critical(parent, title, message)


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
