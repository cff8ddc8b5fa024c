"""The Runs view: every past training run, to look at again, compare, name, tag, delete and reopen.

The runs are the engine's (:mod:`dllab.run_history`: the titles, tags, filters and the trash;
:mod:`dllab.runs`: the folders). A table lists them, newest first, filtered by words (title, folder name, tags),
network, data and a least validation or test accuracy. The runs selected are overlaid in the comparison plots
of Compare (:class:`ui.experiments.compare_plots.ComparisonPlots`: smoothed loss and accuracy, against
mini-batches and epochs or against time); the current run's settings and its evaluation on the test set (loss,
accuracy, the confusion matrix, each class's accuracy) are tabs beside them.

Renaming, tagging and deleting (into the trash in the runs folder) are undo commands
(:class:`ui.commands.RunEditCommand`) on the view's own stack: Undo and Redo beside the table, or Ctrl+Z and
Ctrl+Shift+Z while the table has the focus (where Delete and F2 delete and rename runs too). "Open design"
restores a run's network, data and training settings as File ▸ Open of its ``config.json`` does; "Open model"
loads its trained model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, QSize, Qt, Signal
from PySide6.QtGui import QIcon, QKeyEvent, QKeySequence, QShowEvent, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QTableWidgetItem,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from dllab.errors import DllabError
from dllab.experiments.comparison_results import VariantResult
from dllab.run_history import (
    FILTER_METRICS,
    RunEntry,
    RunFilter,
    RunLabels,
    clean_title,
    data_name,
    filter_runs,
    networks_and_data,
    parse_tags,
    run_entry,
    run_history,
    run_label,
    run_result,
    trashed_runs,
)
from dllab.runs import CONFIG_FILE, Run, open_run, runs_root
from ui.commands import RunEditCommand, label_run, restore_run_command, trash_run_command
from ui.common import dialogs, theme
from ui.common.flow_layout import FlowLayout
from ui.common.icons import action_icon
from ui.common.view import TrainingView, series_color
from ui.common.widgets import RIGHT_ALIGNED, ResultsTable, swatch_pixmap, tool_button, vertical_splitter
from ui.experiments.compare_plots import ComparisonPlots, percent_text
from ui.experiments.run_details import RunEvaluation, RunSettingsTable

#: The run table's columns.
COLUMNS = ("Run", "Tags", "Started", "Network", "Data", "Status", "Epochs", "Best val. acc.", "Test acc.")
#: Runs overlaid at the most (the first ones selected).
OVERLAY_LIMIT = 12
ANY = ""


def started_text(started: str) -> str:
    """``"2025-01-07 14:25"``, or the text as it is when it is not a time."""
    try:
        return datetime.fromisoformat(started).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return started


class RunBrowserView(TrainingView):
    """Past runs: a filtered table, their curves overlaid, a run's settings and evaluation (see the module)."""

    title = "Runs"
    export_stem = "runs"
    hint = (
        "Every past run. Select several to overlay their curves; rename, tag or delete them (Undo brings them "
        "back); open a run's design and data again, or its model."
    )
    empty_text = (
        "No training runs yet: press Train (F5) and every run is kept here with its curves, settings and "
        "results, to compare and reopen."
    )

    design_open_requested = Signal(Path)
    """"Open design" was pressed: the run's ``config.json``, to open as File ▸ Open does."""
    model_open_requested = Signal(Path)
    """"Open model" was pressed: the run's model file."""
    runs_changed = Signal()
    """A run was renamed, tagged, deleted or restored."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        #: The undo history of the edits of runs (:class:`ui.commands.RunEditCommand`).
        self.undo_stack = QUndoStack(self)
        self.entries: list[RunEntry] = []
        self.shown: list[RunEntry] = []
        #: The runs overlaid now, in the order of their colours, and the run whose details are shown.
        self.results: list[VariantResult] = []
        self.current: Run | None = None
        self._runs: dict[Path, Run] = {}

        host = QWidget(self)
        self.search_edit = QLineEdit(host)
        self.search_edit.setPlaceholderText("Filter by name or tag")
        self.search_edit.setClearButtonEnabled(True)
        self.network_combo = QComboBox(host)
        self.data_combo = QComboBox(host)
        self.metric_combo = QComboBox(host)
        self.metric_combo.addItem("Any result", ANY)
        for key, name in FILTER_METRICS.items():
            self.metric_combo.addItem(f"{name.replace('best validation', 'Val.').capitalize()} ≥", key)
            self.metric_combo.setItemData(
                self.metric_combo.count() - 1, f"Runs with a {name} of at least", Qt.ItemDataRole.ToolTipRole
            )
        self.minimum_spin = QDoubleSpinBox(host)
        self.minimum_spin.setRange(0.0, 100.0)
        self.minimum_spin.setDecimals(1)
        self.minimum_spin.setSuffix(" %")
        self.minimum_spin.setValue(90.0)
        self.minimum_spin.setEnabled(False)
        self.count_label = QLabel(host)
        self.count_label.setObjectName("hint")
        # The filters wrap onto a second line in a narrow view rather than widening the window.
        filters = FlowLayout(spacing=6, line_spacing=4)
        filters.setContentsMargins(12, 0, 12, 0)
        for widget in (self.network_combo, self.data_combo, self.metric_combo, self.minimum_spin):
            filters.addWidget(widget)
        self.search_edit.setMinimumWidth(160)
        filters.addWidget(self.search_edit)  # last on its line, it takes the width left
        self.search_edit.textChanged.connect(self._on_filter_changed)
        for combo in (self.network_combo, self.data_combo, self.metric_combo):
            combo.currentIndexChanged.connect(self._on_filter_changed)
        self.minimum_spin.valueChanged.connect(self._on_filter_changed)

        self.table = ResultsTable(COLUMNS, numeric=range(6, len(COLUMNS)), stretch=0, parent=host)
        self.table.setObjectName("runTable")
        self.table.setIconSize(QSize(26, 14))
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.itemSelectionChanged.connect(self._on_table_selection_changed)
        self.table.itemActivated.connect(self._on_table_item_activated)
        self.table.installEventFilter(self)

        self.open_design_button = tool_button("Open design", host, action_icon("open"))
        self.open_design_button.setToolTip(
            "Make this run's network, data and training settings the design again (as File ▸ Open of its "
            "config.json), to repeat or vary it"
        )
        self.open_model_button = tool_button("Open model", host)
        self.open_model_button.setToolTip("Load this run's trained model (its final one, else its best)")
        self.rename_button = tool_button("Rename…", host)
        self.rename_button.setToolTip("Give the run a name of your own (F2); its folder keeps its name")
        self.tags_button = tool_button("Tags…", host)
        self.tags_button.setToolTip("Tag the run (comma-separated) to find it again with the filter")
        self.delete_button = tool_button("Delete", host, action_icon("delete"))
        self.delete_button.setToolTip(
            "Move the selected runs to the trash in the runs folder (Del; Undo restores)"
        )
        self.trash_button = tool_button("Trash…", host)
        self.trash_button.setToolTip("Restore a run deleted earlier, from the trash in the runs folder")
        self.trash_button.clicked.connect(self._on_trash_button_clicked)
        # Short buttons (what they undo in the tooltip), so a long run name never widens the view.
        self.undo_button = QToolButton(host)
        self.undo_button.setIcon(action_icon("undo"))
        self.redo_button = QToolButton(host)
        self.redo_button.setIcon(action_icon("redo"))
        self.undo_button.clicked.connect(self.undo_stack.undo)
        self.redo_button.clicked.connect(self.undo_stack.redo)
        for signal in (
            self.undo_stack.indexChanged,
            self.undo_stack.canUndoChanged,
            self.undo_stack.canRedoChanged,
        ):
            signal.connect(self._on_undo_stack_index_changed)
        self._on_undo_stack_index_changed()
        self.open_design_button.clicked.connect(self._on_open_design_button_clicked)
        self.open_model_button.clicked.connect(self._on_open_model_button_clicked)
        self.rename_button.clicked.connect(self._on_rename_button_clicked)
        self.tags_button.clicked.connect(self._on_tags_button_clicked)
        self.delete_button.clicked.connect(self.delete_selected)
        actions = QHBoxLayout()
        actions.setContentsMargins(12, 0, 12, 0)
        actions.setSpacing(4)
        for button in (self.rename_button, self.tags_button, self.delete_button):
            actions.addWidget(button)
        actions.addSpacing(8)
        actions.addWidget(self.count_label, 1)
        actions.addWidget(self.trash_button)
        actions.addWidget(self.undo_button)
        actions.addWidget(self.redo_button)

        top = QWidget(host)
        top_box = QVBoxLayout(top)
        top_box.setContentsMargins(0, 0, 0, 0)
        top_box.setSpacing(6)
        top_box.addLayout(filters)
        top_box.addWidget(self.table, 1)
        top_box.addLayout(actions)

        self.tabs = QTabWidget(host)
        self.tabs.setDocumentMode(True)
        corner = QWidget(self.tabs)  # what to do with the run shown, beside its tabs
        corner_box = QHBoxLayout(corner)
        corner_box.setContentsMargins(0, 0, 12, 0)
        corner_box.setSpacing(4)
        corner_box.addWidget(self.open_design_button)
        corner_box.addWidget(self.open_model_button)
        self.tabs.setCornerWidget(corner, Qt.Corner.TopRightCorner)
        self.plots = ComparisonPlots(self, self.tabs, time_option=True)
        self.plots.grid_button.hide()  # small multiples need a comparison's factors
        self.settings_table = RunSettingsTable(self.tabs)
        self.evaluation = RunEvaluation(self.tabs)
        self.tabs.addTab(self.plots, "Curves")
        self.tabs.addTab(self.settings_table, "Settings")
        self.tabs.addTab(self.evaluation, "Evaluation")

        layout = QVBoxLayout(host)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(vertical_splitter(top, self.tabs, host, stretch=(2, 3)))
        self.set_content(host)
        #: Whether the runs folder may have changed since it was last read (it is read when the view shows).
        self.stale = True

    # --- the list -------------------------------------------------------------------------------------------

    @property
    def root(self) -> Path:
        """The runs folder shown."""
        return runs_root()

    def refresh(self) -> None:
        """Read the runs folder again, keeping the filter and the selection where the runs still exist; while
        the view is hidden, only note that it must (the window need not read every run at start-up)."""
        if not self.isVisible():
            self.stale = True
            return
        self._reload()

    def showEvent(self, event: QShowEvent) -> None:
        if self.stale:
            self._reload()
        super().showEvent(event)

    def refresh_run(self, folder: Path) -> None:
        """Read one run again (one that has just ended) and show it among the others, which are not read again;
        while the view is hidden, only note that it must read the runs folder (as :meth:`refresh`)."""
        if not self.isVisible() or self.stale or folder.parent != self.root:
            self.refresh()
            return
        self._runs.pop(folder, None)
        entries = [entry for entry in self.entries if entry.path != folder] + [run_entry(folder)]
        self._show_entries(sorted(entries, key=lambda entry: entry.path.name, reverse=True))

    def _reload(self) -> None:
        self.stale = False
        self._runs.clear()
        try:
            entries = run_history(self.root)
        except dialogs.USER_ERRORS as error:
            self.entries = []
            self.show_placeholder(f"Cannot read the runs folder. {dialogs.error_sentence(error)}")
            return
        self._show_entries(entries)

    def _show_entries(self, entries: list[RunEntry]) -> None:
        """List ``entries`` (newest first), keeping the filter and the selection where the runs still exist."""
        selected = [entry.path for entry in self.selected_entries()]
        self.entries = entries
        if not self.entries:
            self.shown = []
            self.table.setRowCount(0)
            self._show_selection()
            self.show_placeholder(self.empty_text)
            return
        networks, data = networks_and_data(self.entries)
        for combo, values, everything in (
            (self.network_combo, networks, "Any network"),
            (self.data_combo, data, "Any data"),
        ):
            chosen = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(everything, ANY)
            for value in values:
                combo.addItem(value, value)
            combo.setCurrentIndex(max(combo.findData(chosen), 0))
            combo.blockSignals(False)
        self.show_content()
        self._fill_table(selected)

    def run_filter(self) -> RunFilter:
        """The filter the controls above the table set."""
        metric = self.metric_combo.currentData() or ""
        return RunFilter(
            text=self.search_edit.text().strip(),
            network=self.network_combo.currentData() or "",
            dataset=self.data_combo.currentData() or "",
            metric=metric,
            minimum=self.minimum_spin.value() / 100 if metric else 0.0,
        )

    def _fill_table(self, selected: Sequence[Path]) -> None:
        self.shown = filter_runs(self.entries, self.run_filter())
        table = self.table
        table.blockSignals(True)
        table.clearSelection()
        table.setRowCount(len(self.shown))
        for row, entry in enumerate(self.shown):
            info = entry.info
            cells = (
                entry.title,
                ", ".join(entry.labels.tags),
                started_text(info.started),
                info.network,
                data_name(info.dataset),
                info.status,
                str(info.epochs),
                percent_text(math.nan if info.best_val_accuracy is None else info.best_val_accuracy),
                percent_text(math.nan if info.test_accuracy is None else info.test_accuracy),
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column >= 6:
                    item.setTextAlignment(RIGHT_ALIGNED)
                item.setToolTip(f"{info.path}\n{info.error}" if info.error else str(info.path))
                if info.status in ("damaged", "diverged"):
                    item.setForeground(theme.colors().error)
                table.setItem(row, column, item)
        for row, entry in enumerate(self.shown):
            if entry.path in selected:
                self._add_row_to_selection(row)
        table.blockSignals(False)
        self.count_label.setText(
            f"{len(self.shown)} of {len(self.entries)} runs"
            if len(self.shown) != len(self.entries)
            else f"{len(self.entries)} run{'s' if len(self.entries) != 1 else ''}"
        )
        self._show_selection()

    def _add_row_to_selection(self, row: int) -> None:
        model = self.table.selectionModel()
        index = self.table.model().index(row, 0)
        model.select(index, model.SelectionFlag.Select | model.SelectionFlag.Rows)

    def selected_entries(self) -> list[RunEntry]:
        """The runs selected in the table, top to bottom."""
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [self.shown[row] for row in rows if row < len(self.shown)]

    def select_runs(self, paths: Sequence[Path]) -> None:
        """Select the runs in ``paths`` that the table shows (and nothing else)."""
        self.table.blockSignals(True)
        self.table.clearSelection()
        for row, entry in enumerate(self.shown):
            if entry.path in paths:
                self._add_row_to_selection(row)
        self.table.blockSignals(False)
        self._show_selection()

    def show_run(self, path: Path) -> bool:
        """Show the run in ``path`` (what double-clicking it in the Runs panel does): listed again, the filter
        cleared when it hides the run, selected, its curves in front. False when it is not a run of the runs
        folder."""
        path = Path(path)
        self._reload()
        if path not in (entry.path for entry in self.entries):
            return False
        if path not in (entry.path for entry in self.shown):
            self.clear_filter()
        self.select_runs([path])
        self.tabs.setCurrentWidget(self.plots)
        return True

    def clear_filter(self) -> None:
        """Show every run."""
        for widget in (self.search_edit, self.network_combo, self.data_combo, self.metric_combo):
            widget.blockSignals(True)
        self.search_edit.clear()
        for combo in (self.network_combo, self.data_combo, self.metric_combo):
            combo.setCurrentIndex(0)
        for widget in (self.search_edit, self.network_combo, self.data_combo, self.metric_combo):
            widget.blockSignals(False)
        self.minimum_spin.setEnabled(False)
        self._fill_table([e.path for e in self.selected_entries()])

    def _on_filter_changed(self, *_: Any) -> None:
        self.minimum_spin.setEnabled(bool(self.metric_combo.currentData()))
        self._fill_table([entry.path for entry in self.selected_entries()])

    # --- the selected runs ----------------------------------------------------------------------------------

    def _open(self, entry: RunEntry) -> Run | None:
        if entry.path not in self._runs:
            try:
                self._runs[entry.path] = open_run(entry.path)
            except DllabError as error:
                self.set_status(f"Cannot show {entry.title}: {dialogs.error_sentence(error)}")
                return None
        return self._runs[entry.path]

    def _show_selection(self) -> None:
        entries = self.selected_entries()
        self.results = []
        for entry in entries[:OVERLAY_LIMIT]:
            run = self._open(entry)
            if run is None:
                continue
            try:
                self.results.append(run_result(run, len(self.results), run_label(run, entry.labels)))
            except DllabError as error:
                self.set_status(f"Cannot show {entry.title}: {dialogs.error_sentence(error)}")
        self.plots.set_runs(self.results, {})
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            item.setIcon(QIcon())
        for result in self.results:
            row = next(r for r, e in enumerate(self.shown) if e.path == result.folder)
            self.table.item(row, 0).setIcon(QIcon(swatch_pixmap(series_color(result.index))))
        current = self.table.currentRow()
        focus = (
            self.shown[current] if 0 <= current < len(self.shown) and self.shown[current] in entries else None
        )
        focus = focus or (entries[0] if entries else None)
        self.current = self._open(focus) if focus is not None else None
        self._show_details(focus)
        one = len(entries) == 1
        for button in (self.open_design_button, self.open_model_button, self.rename_button, self.tags_button):
            button.setEnabled(one)
        self.delete_button.setEnabled(bool(entries))
        if self.results:
            self.request_redraw()
        else:
            self.plots.redraw([])
            self.set_status("Select runs to overlay their curves." if self.shown else "")

    def _show_details(self, entry: RunEntry | None) -> None:
        run = self.current if entry is not None else None
        self.settings_table.show_run(entry, run)
        self.evaluation.show_run(entry, run)

    def redraw(self) -> None:
        self.plots.redraw(self.results)
        if self.results:
            names = ", ".join(r.label for r in self.results[:3]) + (" …" if len(self.results) > 3 else "")
            self.set_status(
                f"{len(self.results)} run{'s' if len(self.results) != 1 else ''} overlaid: {names}"
            )

    def restyle(self) -> None:
        self.plots.restyle()

    # --- edits ------------------------------------------------------------------------------------------------

    def _push(self, command: RunEditCommand) -> bool:
        self.undo_stack.push(command)
        if command.error is not None:
            dialogs.show_error(self, "Cannot change the run", command.error)
            return False
        return True

    def _on_run_edited(self, error: str | None) -> None:
        if error is not None:
            self.set_status(error)
        self.refresh()
        self.runs_changed.emit()

    def rename(self, entry: RunEntry, title: str) -> bool:
        """Give ``entry`` the title ``title`` (empty: its folder's name), as one undo step."""
        with dialogs.report_user_errors(self, "Cannot rename the run"):
            labels = RunLabels(clean_title(title), entry.labels.tags)
            command = label_run(entry.path, labels, f"Rename run {entry.title}", self._on_run_edited)
            return self._push(command)
        return False

    def set_tags(self, entry: RunEntry, tags: str) -> bool:
        """Give ``entry`` the comma-separated ``tags``, as one undo step."""
        with dialogs.report_user_errors(self, "Cannot tag the run"):
            labels = RunLabels(entry.labels.title, parse_tags(tags))
            command = label_run(entry.path, labels, f"Tag run {entry.title}", self._on_run_edited)
            return self._push(command)
        return False

    def delete(self, entries: Sequence[RunEntry]) -> int:
        """Move ``entries`` to the trash, each an undo step; returns how many went."""
        moved = 0
        root = self.root
        for entry in entries:
            if not self._push(trash_run_command(entry.path, root, self._on_run_edited)):
                break
            moved += 1
        if moved:
            self.set_status(
                f"Moved {moved} run{'s' if moved != 1 else ''} to the trash in the runs folder; Undo brings "
                f"{'them' if moved != 1 else 'it'} back."
            )
        return moved

    def restore(self, trashed: Path) -> bool:
        """Move the run ``trashed`` back from the trash and select it, as one undo step."""
        command = restore_run_command(trashed, self.root, self._on_run_edited)
        if not self._push(command):
            return False
        self.show_run(self.root / Path(trashed).name)
        return True

    def delete_selected(self) -> int:
        """Delete the selected runs (the Delete button and key)."""
        return self.delete(self.selected_entries())

    def _only_selected(self) -> RunEntry | None:
        entries = self.selected_entries()
        return entries[0] if len(entries) == 1 else None

    def _on_rename_button_clicked(self) -> None:
        entry = self._only_selected()
        if entry is None:
            return
        title, ok = QInputDialog.getText(
            self,
            "Rename run",
            f"A name for {entry.info.name} (empty: the folder's name):",
            text=entry.labels.title,
        )
        if ok:
            self.rename(entry, title)

    def _on_tags_button_clicked(self) -> None:
        entry = self._only_selected()
        if entry is None:
            return
        tags, ok = QInputDialog.getText(
            self, "Tag run", f"Tags of {entry.title}, separated by commas:", text=", ".join(entry.labels.tags)
        )
        if ok:
            self.set_tags(entry, tags)

    def _on_trash_button_clicked(self) -> None:
        trashed = {path.name: path for path in trashed_runs(self.root)}
        if not trashed:
            dialogs.show_info(self, "Trash", "The trash is empty: no run has been deleted.")
            return
        name, ok = QInputDialog.getItem(
            self, "Restore run", "Restore a run from the trash:", sorted(trashed, reverse=True), 0, False
        )
        if ok and name:
            self.restore(trashed[name])

    def _on_open_design_button_clicked(self) -> None:
        entry = self._only_selected()
        if entry is not None:
            self.design_open_requested.emit(entry.path / CONFIG_FILE)

    def _on_open_model_button_clicked(self) -> None:
        entry = self._only_selected()
        run = self._open(entry) if entry is not None else None
        if run is None:
            return
        model = run.model_final or run.model_best
        if model is None:
            dialogs.show_info(
                self,
                "No model",
                f"The run {entry.title} has no saved model: it is still training, or it ended "
                "before saving one.",
            )
            return
        self.model_open_requested.emit(model)

    def _on_undo_stack_index_changed(self, *_: Any) -> None:
        stack = self.undo_stack
        for button, can, text, verb in (
            (self.undo_button, stack.canUndo(), stack.undoText(), "Undo"),
            (self.redo_button, stack.canRedo(), stack.redoText(), "Redo"),
        ):
            button.setEnabled(can)
            button.setToolTip(f"{verb}: {text}" if can else f"Nothing to {verb.lower()} among the runs")

    def _on_table_selection_changed(self) -> None:
        self._show_selection()

    def _on_table_item_activated(self, _item: QTableWidgetItem) -> None:
        self.tabs.setCurrentWidget(self.plots)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """While the table has the focus, Undo, Redo, Delete and F2 act on the runs, not on the design."""
        if watched is self.table and event.type() in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress):
            assert isinstance(event, QKeyEvent)
            action = self._key_action(event)
            if action is not None:
                event.accept()
                if event.type() == QEvent.Type.KeyPress:
                    action()
                return True
        return super().eventFilter(watched, event)

    def _key_action(self, event: QKeyEvent) -> Any:
        if event.matches(QKeySequence.StandardKey.Undo):
            return self.undo_stack.undo
        if event.matches(QKeySequence.StandardKey.Redo):
            return self.undo_stack.redo
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and not event.modifiers():
            return self.delete_selected
        if event.key() == Qt.Key.Key_F2 and not event.modifiers():
            return self._on_rename_button_clicked
        return None

    # --- export -----------------------------------------------------------------------------------------------

    def csv_table(self) -> tuple[list[str], list[list[Any]]]:
        header = [
            "run",
            "title",
            "tags",
            "started",
            "network",
            "data",
            "status",
            "epochs",
            "best_val_accuracy",
            "test_accuracy",
        ]
        rows = []
        for entry in self.shown:
            info = entry.info
            rows.append(
                [
                    info.name,
                    entry.labels.title,
                    ";".join(entry.labels.tags),
                    info.started,
                    info.network,
                    info.dataset,
                    info.status,
                    info.epochs,
                    math.nan if info.best_val_accuracy is None else info.best_val_accuracy,
                    math.nan if info.test_accuracy is None else info.test_accuracy,
                ]
            )
        return header, rows
