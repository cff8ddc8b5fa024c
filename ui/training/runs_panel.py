"""The Runs panel: the training runs kept in the user's data folder, newest first.

Run folders are read by the engine (:func:`dllab.runs.list_runs` and :func:`dllab.runs.open_run`), the same
code behind ``dllab runs``, so the panel and the command line always agree. Each line says when the run
started, which network on which data, how it ended and its best accuracies, under the name and tags the user
gave it (:mod:`dllab.run_history`); double-clicking a run opens it in the Runs view (its curves, settings and
evaluation), and its context menu opens its final model (or its best one). A damaged run folder says what is
wrong with it in a dialog, as the engine's sentence. With no runs yet the panel says how to make one. The training controller refreshes the list
when a run starts and ends.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from dllab.run_history import RunEntry, run_entry, run_history
from dllab.runs import RunInfo, open_run, runs_root
from ui.common import dialogs
from ui.common.icons import action_icon
from ui.common.widgets import ElidedLabel

EMPTY_TEXT = (
    "No training runs yet.\n\nPress Train to start one: every run is kept here with its curves, settings and "
    "model, so you can compare and reopen them."
)
STATUS_TITLES = {
    "finished": "finished",
    "stopped": "stopped",
    "diverged": "diverged",
    "incomplete": "running or interrupted",
    "damaged": "damaged",
}


def run_line(info: RunInfo) -> str:
    """The second line of a run's entry: when, what, how it ended, how well."""
    parts = []
    with contextlib.suppress(ValueError):
        parts.append(datetime.fromisoformat(info.started).strftime("%Y-%m-%d %H:%M"))
    what = info.network or "?"
    if info.dataset:
        what += f" on {Path(info.dataset).name or info.dataset}"
    parts.append(what)
    parts.append(STATUS_TITLES.get(info.status, info.status))
    if info.epochs:
        parts.append(f"{info.epochs} epoch{'s' if info.epochs != 1 else ''}")
    if info.best_val_accuracy is not None:
        parts.append(f"val {info.best_val_accuracy:.1%}")
    if info.test_accuracy is not None:
        parts.append(f"test {info.test_accuracy:.1%}")
    return " · ".join(parts)


def run_model(info: RunInfo) -> Path | None:
    """The model file to open for a run: the final model, else the best one; None when it has none yet.

    Raises
    ------
    dllab.errors.DllabError
        When the run folder is damaged (:class:`dllab.runs.RunError`, its message one sentence).
    """
    run = open_run(info.path)
    return run.model_final or run.model_best


class RunsPanel(QWidget):
    """The Runs dock's content."""

    model_open_requested = Signal(Path)
    """"Open model" was chosen in a run's context menu; its model file."""
    run_open_requested = Signal(Path)
    """A run was double-clicked; its folder, to show in the Runs view."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.list = QListWidget(self)
        self.list.setObjectName("runsList")
        self.list.setIconSize(QSize(18, 18))
        self.list.itemActivated.connect(self._on_list_item_activated)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.show_action = QAction("Show Run", self.list)
        self.show_action.triggered.connect(self._on_show_action_triggered)
        self.open_model_action = QAction("Open Model", self.list)
        self.open_model_action.triggered.connect(self._on_open_model_action_triggered)
        self.list.addActions([self.show_action, self.open_model_action])
        self.empty = QLabel(EMPTY_TEXT, self)
        self.empty.setObjectName("emptyState")
        self.empty.setWordWrap(True)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.list)
        self.stack.addWidget(self.empty)
        refresh = QToolButton(self)
        refresh.setIcon(action_icon("refresh"))
        refresh.setToolTip("Look for new runs")
        refresh.setAutoRaise(True)
        refresh.clicked.connect(self.refresh)
        folder = QToolButton(self)
        folder.setIcon(action_icon("folder"))
        folder.setToolTip("Open the runs folder")
        folder.setAutoRaise(True)
        folder.clicked.connect(self._on_folder_button_clicked)
        self.location = ElidedLabel(parent=self)
        self.location.setObjectName("hint")
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.location, 1)
        top.addWidget(refresh)
        top.addWidget(folder)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 10)
        layout.setSpacing(6)
        layout.addLayout(top)
        layout.addWidget(self.stack, 1)
        self.refresh()

    @property
    def runs(self) -> list[RunInfo]:
        """The runs listed now, newest first."""
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())]

    def refresh(self) -> None:
        """Read the runs folder again."""
        folder = runs_root()
        self.location.setText(f"In {folder}")
        self.location.setToolTip(str(folder))
        self.list.clear()
        try:
            entries = run_history(folder)
        except dialogs.USER_ERRORS as error:
            self.empty.setText(f"Cannot read the runs folder. {dialogs.error_sentence(error)}")
            self.stack.setCurrentWidget(self.empty)
            return
        self.empty.setText(EMPTY_TEXT)
        for entry in entries:
            self.list.addItem(self._item(entry))
        self.stack.setCurrentWidget(self.list if self.list.count() else self.empty)

    def refresh_run(self, folder: Path) -> None:
        """Read one run again (one that has just started or ended) and list it in its place, newest first; the
        other runs are not read again (the whole folder of 300 runs took 66 ms of the window's time)."""
        if folder.parent != runs_root():  # not one of the runs listed
            return
        item = self._item(run_entry(folder))
        for row, info in enumerate(self.runs):
            if info.path == folder:
                current = self.list.currentRow() == row
                self.list.takeItem(row)
                self.list.insertItem(row, item)
                if current:  # still the run chosen
                    self.list.setCurrentRow(row)
                return
            if info.path.name < folder.name:  # newest first: the folder names start with the start time
                self.list.insertItem(row, item)
                break
        else:
            self.list.addItem(item)
        self.stack.setCurrentWidget(self.list)

    @staticmethod
    def _item(entry: RunEntry) -> QListWidgetItem:
        """The list's line of a run: its title and tags over what it is and how far it went."""
        info = entry.info
        tags = f"  [{', '.join(entry.labels.tags)}]" if entry.labels.tags else ""
        item = QListWidgetItem(action_icon("network"), f"{entry.title}{tags}\n{run_line(info)}")
        item.setData(Qt.ItemDataRole.UserRole, info)
        tip = str(info.path)
        if info.error:
            tip += f"\n{info.error}"
        elif info.status != "damaged":
            tip += "\nDouble-click to see its curves, settings and results; right-click to open its model."
        item.setToolTip(tip)
        return item

    def open_run_model(self, info: RunInfo) -> bool:
        """Open the model of the run ``info`` (what double-clicking it does); False, and why in a dialog, when
        the run folder is damaged or holds no model yet."""
        with dialogs.report_user_errors(self, "Cannot open run"):
            model = run_model(info)
            if model is None:
                dialogs.show_info(
                    self,
                    "No model yet",
                    f"The run {info.name} has no saved model: it is still training, or it ended before "
                    "saving one.",
                )
                return False
            self.model_open_requested.emit(model)
            return True
        return False

    def show_run(self, info: RunInfo) -> bool:
        """Ask for the run ``info`` in the Runs view (what double-clicking it does); False, and what is wrong
        in a dialog, when its folder is damaged."""
        with dialogs.report_user_errors(self, "Cannot open run"):
            if info.status == "damaged":
                open_run(info.path)  # the engine's sentence (unless it was mended meanwhile)
            self.run_open_requested.emit(info.path)
            return True
        return False

    def _on_list_item_activated(self, item: QListWidgetItem) -> None:
        self.show_run(item.data(Qt.ItemDataRole.UserRole))

    def _current_info(self) -> RunInfo | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def _on_show_action_triggered(self) -> None:
        info = self._current_info()
        if info is not None:
            self.show_run(info)

    def _on_open_model_action_triggered(self) -> None:
        info = self._current_info()
        if info is not None:
            self.open_run_model(info)

    def _on_folder_button_clicked(self) -> None:
        folder = runs_root()
        with dialogs.report_user_errors(self, "Cannot open the runs folder"):
            folder.mkdir(parents=True, exist_ok=True)
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))
