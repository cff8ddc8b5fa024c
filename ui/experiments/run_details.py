"""What the Runs view shows of one run besides its curves: its settings, and its evaluation on the test set
(loss, accuracy, the confusion matrix with each class's accuracy), as the run's ``summary.json`` records them."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableWidgetItem, QVBoxLayout, QWidget

from dllab.run_history import RunEntry, describe_run
from dllab.runs import Run
from ui.common import theme
from ui.common.widgets import RIGHT_ALIGNED, ResultsTable
from ui.experiments.compare_plots import percent_text


def confusion_rows(summary: dict[str, Any] | None) -> tuple[list[str], np.ndarray] | None:
    """The class names and the confusion matrix (true classes in rows) a run's summary records, or None when
    it records none or a damaged one."""
    if not summary:
        return None
    matrix = summary.get("confusion_matrix")
    try:
        counts = np.asarray(matrix, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if (
        counts.ndim != 2
        or counts.shape[0] != counts.shape[1]
        or not counts.size
        or not np.isfinite(counts).all()
    ):
        return None
    names = summary.get("class_names")
    if not isinstance(names, list) or len(names) != len(counts):
        names = [str(k) for k in range(len(counts))]
    return [str(n) for n in names], counts


class ConfusionTable(ResultsTable):
    """A confusion matrix as a table: a row per true class, a column per predicted class and each class's
    accuracy, the cells shaded by their share of the row."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(("true \\ predicted",), numeric=(), stretch=0, parent=parent)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setAlternatingRowColors(False)

    def show_matrix(self, names: Sequence[str], counts: np.ndarray) -> None:
        """Fill the table with ``counts`` (true classes in rows) of the classes ``names``."""
        k = len(names)
        self.clear()
        self.setColumnCount(k + 2)
        self.setRowCount(k)
        self.setHorizontalHeaderLabels(["true \\ predicted", *names, "accuracy"])
        accent = QColor(theme.colors().accent)
        for i in range(k):
            total = counts[i].sum()
            self.setItem(i, 0, QTableWidgetItem(names[i]))
            for j in range(k):
                item = QTableWidgetItem(f"{int(counts[i, j]):,}")
                item.setTextAlignment(RIGHT_ALIGNED)
                share = counts[i, j] / total if total else 0.0
                shade = QColor(accent)
                shade.setAlpha(round(25 + 180 * share) if counts[i, j] else 0)
                item.setBackground(shade)
                item.setToolTip(
                    f"{int(counts[i, j]):,} {names[i]} predicted as {names[j]} ({share:.1%} of them)"
                )
                self.setItem(i, j + 1, item)
            accuracy = QTableWidgetItem(percent_text(counts[i, i] / total if total else math.nan))
            accuracy.setTextAlignment(RIGHT_ALIGNED)
            self.setItem(i, k + 1, accuracy)
        header = self.horizontalHeader()
        header.setStretchLastSection(False)
        for column in range(k + 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)


class RunSettingsTable(ResultsTable):
    """A run's settings, a line each (:func:`dllab.run_history.describe_run`), under its name and tags."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(("Setting", "Value"), numeric=(), stretch=1, parent=parent)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)

    def show_run(self, entry: RunEntry | None, run: Run | None) -> None:
        """Show ``run`` (``entry`` its line in the history), or nothing when either is None."""
        rows: list[tuple[str, str]] = []
        if entry is not None and run is not None:
            rows = [("Run", f"{entry.title} ({run.name})" if entry.labels.title else run.name)]
            if entry.labels.tags:
                rows.append(("Tags", ", ".join(entry.labels.tags)))
            rows += describe_run(run)
        self.setRowCount(len(rows))
        for row, cells in enumerate(rows):
            for column, text in enumerate(cells):
                self.setItem(row, column, QTableWidgetItem(text))

    def values(self) -> dict[str, str]:
        """The settings shown, by their names."""
        return {self.item(r, 0).text(): self.item(r, 1).text() for r in range(self.rowCount())}


class RunEvaluation(QWidget):
    """A run's results on the test set in a line, and its confusion matrix."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.confusion_table = ConfusionTable(self)
        box = QVBoxLayout(self)
        box.setContentsMargins(12, 8, 12, 8)
        box.addWidget(self.label)
        box.addWidget(self.confusion_table, 1)

    def show_run(self, entry: RunEntry | None, run: Run | None) -> None:
        """Show how ``run`` did (``entry`` its line in the history), or ask for one when either is None."""
        summary = run.summary if run is not None else None
        matrix = confusion_rows(summary)
        name = f"<b>{entry.title}</b>" if entry is not None else ""
        if entry is None or run is None:
            text = "Select a run to see how it did on the test set."
        elif not summary:
            text = f"{name} has no results yet: it is still training, or it ended abruptly."
        elif not isinstance(summary.get("test_accuracy"), int | float):
            text = f"{name} ended before the test set was evaluated."
        else:
            parts = [f"test accuracy <b>{percent_text(float(summary['test_accuracy']))}</b>"]
            if isinstance(summary.get("test_loss"), int | float):
                parts.append(f"test loss {summary['test_loss']:.4g}")
            if isinstance(summary.get("test_samples"), int):
                parts.append(f"{summary['test_samples']:,} test samples")
            if summary.get("best_epoch") is not None:
                parts.append(f"best epoch {summary['best_epoch']}")
            text = f"{name}: " + " · ".join(parts)
            if matrix is not None:
                text += "<br>Confusion matrix on the test set: a row per true class; the diagonal is right."
        self.label.setText(text)
        if matrix is None:
            self.confusion_table.setRowCount(0)
            self.confusion_table.hide()
        else:
            self.confusion_table.show_matrix(*matrix)
            self.confusion_table.show()
