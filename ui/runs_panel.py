"""The Runs panel: the training runs kept in the user's data folder, newest first.

Each sub-folder of :func:`ui.paths.runs_dir` is a run. The list shows its name, when it was last written and
what it holds; a run with a model file opens that model on double-click. With no runs yet it says how to
make one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
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

from ui.icons import action_icon
from ui.paths import runs_dir
from ui.widgets import ElidedLabel

SUMMARY_FILES = ("summary.json", "run.json")


@dataclass(frozen=True)
class RunInfo:
    """What the list shows about one run folder."""

    path: Path
    modified: datetime
    model: Path | None
    summary: str


def _summary_text(folder: Path) -> str:
    for name in SUMMARY_FILES:
        file = folder / name
        if not file.is_file():
            continue
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return ""
        if not isinstance(data, dict):
            return ""
        parts = []
        for key, label in (("network", ""), ("dataset", "on "), ("epochs", "epochs "), ("status", "")):
            value = data.get(key)
            if isinstance(value, str | int | float) and not isinstance(value, bool):
                parts.append(f"{label}{value}")
        for key in ("val_accuracy", "test_accuracy", "accuracy"):
            value = data.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                parts.append(f"{key.replace('_', ' ')} {value:.1%}")
                break
        return " · ".join(parts)
    return ""


def find_runs(folder: Path | None = None) -> list[RunInfo]:
    """The run folders under ``folder`` (default :func:`ui.paths.runs_dir`), newest first."""
    folder = runs_dir() if folder is None else folder
    if not folder.is_dir():
        return []
    runs = []
    for sub in folder.iterdir():
        if not sub.is_dir() or sub.name.startswith("."):
            continue
        try:
            modified = datetime.fromtimestamp(sub.stat().st_mtime)
        except OSError:
            continue
        models = sorted(sub.glob("*.dllab.npz"))
        runs.append(RunInfo(sub, modified, models[0] if models else None, _summary_text(sub)))
    return sorted(runs, key=lambda r: r.modified, reverse=True)


class RunsPanel(QWidget):
    """The Runs dock's content."""

    model_open_requested = Signal(Path)
    """A run's model file was double-clicked."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.list = QListWidget(self)
        self.list.setObjectName("runsList")
        self.list.setIconSize(QSize(18, 18))
        self.list.itemActivated.connect(self._on_list_item_activated)
        self.empty = QLabel(
            "No training runs yet.\n\nPress Train to start one: every run is kept here with its curves, "
            "settings and model, so you can compare and reopen them.",
            self,
        )
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
        """The runs listed now."""
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())]

    def refresh(self) -> None:
        """Read the runs folder again."""
        folder = runs_dir()
        self.location.setText(f"In {folder}")
        self.location.setToolTip(str(folder))
        self.list.clear()
        for run in find_runs(folder):
            when = run.modified.strftime("%Y-%m-%d %H:%M")
            detail = run.summary or ("model saved" if run.model else "no model file")
            item = QListWidgetItem(action_icon("network"), f"{run.path.name}\n{when} · {detail}")
            item.setData(Qt.ItemDataRole.UserRole, run)
            item.setToolTip(str(run.path) + ("\nDouble-click to open its model." if run.model else ""))
            self.list.addItem(item)
        self.stack.setCurrentWidget(self.list if self.list.count() else self.empty)

    def _on_list_item_activated(self, item: QListWidgetItem) -> None:
        run: RunInfo = item.data(Qt.ItemDataRole.UserRole)
        if run.model is not None:
            self.model_open_requested.emit(run.model)

    def _on_folder_button_clicked(self) -> None:
        folder = runs_dir()
        folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))
