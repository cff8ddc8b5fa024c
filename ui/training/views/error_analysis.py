"""The error-analysis side of the Evaluation view: tag the chosen misclassified sample, mark it mislabelled, read
each tag's share of the errors and the counts of each kind of mistake, export the mistakes as CSV.

The tags and marks are the engine's (:mod:`dllab.error_analysis`), kept in the run folder's
``error_analysis.json``: each edit writes that small file at once (atomically), so closing the window loses
nothing. A damaged file is said in one sentence and left as it is: tagging is then off, so nothing overwrites
what the user had.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from dllab.error_analysis import (
    SUGGESTED_TAGS,
    ErrorAnalysis,
    read_error_analysis,
    write_error_analysis,
    write_error_csv,
)
from dllab.metrics import Mistake
from ui.common import dialogs

NO_SAMPLE_TEXT = "Choose a misclassified sample in the gallery to tag it."


def table(parent: QWidget, headers: Sequence[str], name: str) -> QTableWidget:
    """A read-only table of whole rows with these column headers."""
    widget = QTableWidget(0, len(headers), parent)
    widget.setObjectName(name)
    widget.setHorizontalHeaderLabels(list(headers))
    widget.verticalHeader().hide()
    widget.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    widget.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    widget.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    widget.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    return widget


def fill_table(widget: QTableWidget, rows: Sequence[Sequence[str]]) -> None:
    """Replace the rows of ``widget`` (numbers right-aligned)."""
    widget.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            item = QTableWidgetItem(text)
            if c:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            widget.setItem(r, c, item)


class ErrorAnalysisPanel(QWidget):
    """Tags and mislabelled marks of one sample, the share of the errors per tag, the mistakes per pair."""

    changed = Signal()
    """A tag or mark was edited (the gallery shows them)."""
    pair_chosen = Signal(int, int)
    """A row of the mistakes-per-pair table was clicked: its true and predicted class."""
    exclusion_requested = Signal(tuple)
    """The rows of the data set's test set to leave out of the next run's test evaluation (sorted)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.folder: Path | None = None
        self.analysis: ErrorAnalysis | None = None
        self.mistakes: list[Mistake] = []
        self.class_names: list[str] = []
        self.sample: Mistake | None = None
        self.pair_rows: list[tuple[int, int]] = []
        #: Rows of the data set's test set this run left out already (its indices count the others).
        self.excluded: tuple[int, ...] = ()

        self.problem = QLabel(self)
        self.problem.setObjectName("hint")
        self.problem.setWordWrap(True)
        self.problem.hide()
        self.sample_label = QLabel(NO_SAMPLE_TEXT, self)
        self.sample_label.setWordWrap(True)
        self.tag_box = QComboBox(self)
        self.tag_box.setObjectName("tagBox")
        self.tag_box.setEditable(True)
        self.tag_box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.tag_box.lineEdit().setPlaceholderText("a tag: blurry, looks like 7, …")
        self.tag_box.lineEdit().returnPressed.connect(self._on_add_button_clicked)
        self.tag_box.setToolTip(
            "Type a category of your own or pick a suggestion; a sample may have several."
        )
        self.add_button = QPushButton("Add tag", self)
        self.add_button.clicked.connect(self._on_add_button_clicked)
        self.tag_list = QListWidget(self)
        self.tag_list.setObjectName("sampleTags")
        self.tag_list.setFlow(QListWidget.Flow.LeftToRight)
        self.tag_list.setWrapping(True)
        self.tag_list.setMaximumHeight(48)
        self.tag_list.setToolTip("This sample's tags; double-click one to remove it.")
        self.tag_list.itemDoubleClicked.connect(self._on_tag_list_item_double_clicked)
        self.mislabelled_box = QCheckBox("Mislabelled: the test label is wrong", self)
        self.mislabelled_box.setToolTip(
            "Marked samples are kept in the run folder; a retrain can leave them out of its test evaluation "
            "(the data setting 'excluded test samples')."
        )
        self.mislabelled_box.toggled.connect(self._on_mislabelled_box_toggled)

        self.shares = table(self, ["Tag", "Errors", "% of errors"], "tagShares")
        self.shares.setToolTip(
            "The ceiling of each category: fixing every error with this tag removes at most this share of the "
            "errors."
        )
        self.pairs = table(self, ["True → predicted", "Errors"], "mistakePairs")
        self.pairs.setToolTip("The kinds of mistake, most frequent first; click one to see its samples.")
        self.pairs.cellClicked.connect(self._on_pairs_cell_clicked)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self.shares, "Errors per tag")
        self.tabs.addTab(self.pairs, "Errors per pair")
        self.export_button = QPushButton("Export errors CSV…", self)
        self.export_button.setToolTip(
            "One row per misclassified test sample: index, true and predicted class, loss, confidence, tags, "
            "mislabelled."
        )
        self.export_button.clicked.connect(self._on_export_button_clicked)
        self.exclude_button = QPushButton(self)
        self.exclude_button.setObjectName("excludeMislabelled")
        self.exclude_button.setToolTip(
            "Sets the data setting 'excluded test samples': the next run is evaluated without the test samples "
            "marked mislabelled (the data set's files are not changed)."
        )
        self.exclude_button.clicked.connect(self._on_exclude_button_clicked)

        row = QHBoxLayout()
        row.addWidget(self.tag_box, 1)
        row.addWidget(self.add_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.problem)
        layout.addWidget(self.sample_label)
        layout.addLayout(row)
        layout.addWidget(self.tag_list)
        layout.addWidget(self.mislabelled_box)
        layout.addWidget(self.tabs, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.exclude_button)
        layout.addLayout(buttons)
        self.show_sample(None)

    # --- the run's analysis ---------------------------------------------------------------------------------

    def load(
        self,
        folder: Path,
        test_samples: int,
        mistakes: list[Mistake],
        class_names: Sequence[str],
        excluded: tuple[int, ...] = (),
    ) -> None:
        """Read the run folder's tags and marks for these mistakes (highest loss first) of its test set (the
        data set's test set without the rows ``excluded``)."""
        self.folder, self.mistakes, self.class_names = folder, mistakes, list(class_names)
        self.excluded = excluded
        self.analysis = None
        self.problem.hide()
        if not folder.is_dir():
            self.analysis = ErrorAnalysis(test_samples)
            self._say("Tags are not kept: this run has no run folder.")
        else:
            try:
                self.analysis = read_error_analysis(folder, test_samples)
            except dialogs.USER_ERRORS as error:
                self._say(
                    f"Tagging is off: {dialogs.error_sentence(error)} The file is left as it is; move it away "
                    "to start a new analysis."
                )
        self.show_sample(None)
        self.refresh_tables()

    def clear(self) -> None:
        """No run's results."""
        self.folder, self.analysis, self.mistakes = None, None, []
        self.problem.hide()
        self.show_sample(None)
        self.refresh_tables()

    def _say(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.show()

    def name(self, k: int) -> str:
        return self.class_names[k] if k < len(self.class_names) else str(k)

    # --- one sample -----------------------------------------------------------------------------------------

    def show_sample(self, mistake: Mistake | None) -> None:
        """Show the tags and mark of this sample (None: no sample chosen)."""
        self.sample = mistake
        editable = mistake is not None and self.analysis is not None and mistake.true != mistake.predicted
        for widget in (self.tag_box, self.add_button, self.tag_list, self.mislabelled_box):
            widget.setEnabled(editable)
        self.tag_list.clear()
        self.mislabelled_box.blockSignals(True)
        self.mislabelled_box.setChecked(False)
        if mistake is None:
            self.sample_label.setText(NO_SAMPLE_TEXT)
        else:
            self.sample_label.setText(
                f"<b>Test sample {mistake.index}</b>: true {self.name(mistake.true)}, predicted "
                f"{self.name(mistake.predicted)} ({mistake.confidence:.1%}), loss {mistake.loss:.3g}"
            )
            if self.analysis is not None:
                self.tag_list.addItems(self.analysis.tags_of(mistake.index))
                self.mislabelled_box.setChecked(mistake.index in self.analysis.mislabelled)
        self.mislabelled_box.blockSignals(False)
        self._fill_suggestions()

    def _fill_suggestions(self) -> None:
        text = self.tag_box.currentText()
        used = self.analysis.all_tags() if self.analysis is not None else []
        self.tag_box.blockSignals(True)
        self.tag_box.clear()
        self.tag_box.addItems(list(dict.fromkeys([*used, *SUGGESTED_TAGS])))
        self.tag_box.setEditText(text)
        self.tag_box.blockSignals(False)

    def add_tag(self, tag: str) -> bool:
        """Give the chosen sample the tag ``tag`` and keep it; False (and why in a dialog) when it cannot be."""
        if self.sample is None or self.analysis is None:
            return False
        with dialogs.report_user_errors(self, "Cannot add the tag"):
            self.analysis.add_tag(self.sample.index, tag)
            self._edited()
            self.tag_box.setEditText("")
            return True
        return False

    def remove_tag(self, tag: str) -> None:
        """Take the tag ``tag`` off the chosen sample and keep the change."""
        if self.sample is not None and self.analysis is not None:
            self.analysis.remove_tag(self.sample.index, tag)
            self._edited()

    def mark_mislabelled(self, mislabelled: bool) -> None:
        """Mark the chosen sample as mislabelled (or not) and keep the change."""
        if self.sample is not None and self.analysis is not None:
            self.analysis.mark_mislabelled(self.sample.index, mislabelled)
            self._edited()

    def _edited(self) -> None:
        self._save()
        self.show_sample(self.sample)
        self.refresh_tables()
        self.changed.emit()

    def _save(self) -> None:
        if self.analysis is None or self.folder is None or not self.folder.is_dir():
            return
        try:
            write_error_analysis(self.folder, self.analysis)
        except dialogs.USER_ERRORS as error:
            self._say(f"The tags could not be kept: {dialogs.error_sentence(error)}")

    # --- the tables -----------------------------------------------------------------------------------------

    def refresh_tables(self, pairs: Sequence[tuple[int, int, int]] | None = None) -> None:
        """Fill the share of the errors per tag and, when given, the mistakes per pair."""
        rows = []
        if self.analysis is not None:
            for share in self.analysis.tag_shares(m.index for m in self.mistakes):
                rows.append([share.tag, f"{share.count:,}", f"{share.share:.1%}"])
        fill_table(self.shares, rows)
        self.export_button.setEnabled(bool(self.mistakes) and self.analysis is not None)
        marked = len(self.analysis.mislabelled) if self.analysis is not None else 0
        self.exclude_button.setText(
            f"Retrain without the {marked} marked…" if marked else "Retrain without marked"
        )
        self.exclude_button.setEnabled(marked > 0)
        if pairs is not None:
            self.pair_rows = [(i, j) for i, j, _ in pairs]
            fill_table(self.pairs, [[f"{self.name(i)} → {self.name(j)}", f"{n:,}"] for i, j, n in pairs])

    def excluded_rows(self) -> tuple[int, ...]:
        """The data set's test rows to leave out of the next run: this run's own and the ones marked now
        (whose indices count the rows this run kept)."""
        if self.analysis is None:
            return self.excluded
        total = self.analysis.test_samples + len(self.excluded)
        keep = np.ones(total, dtype=bool)
        keep[list(self.excluded)] = False
        kept = np.flatnonzero(keep)
        return tuple(sorted({*self.excluded, *(int(kept[i]) for i in self.analysis.mislabelled)}))

    def export_csv(self, path: Path) -> Path:
        """Write the mistakes with their tags and marks as CSV (:func:`dllab.error_analysis.write_error_csv`)."""
        analysis = self.analysis if self.analysis is not None else ErrorAnalysis(0)
        return write_error_csv(path, self.mistakes, analysis, self.class_names)

    # --- slots ----------------------------------------------------------------------------------------------

    def _on_add_button_clicked(self) -> None:
        self.add_tag(self.tag_box.currentText())

    def _on_tag_list_item_double_clicked(self, item: QListWidgetItem) -> None:
        self.remove_tag(item.text())

    def _on_mislabelled_box_toggled(self, checked: bool) -> None:
        self.mark_mislabelled(checked)

    def _on_pairs_cell_clicked(self, row: int, _column: int) -> None:
        if 0 <= row < len(self.pair_rows):
            self.pair_chosen.emit(*self.pair_rows[row])

    def _on_exclude_button_clicked(self) -> None:
        self.exclusion_requested.emit(self.excluded_rows())

    def _on_export_button_clicked(self) -> None:
        path = dialogs.get_save_path(self, "Export the errors as CSV", "errors.csv", "CSV files (*.csv)")
        if path is None:
            return
        with dialogs.report_user_errors(self, "Cannot export the errors"):
            self.export_csv(path)
