"""The course's transfer-learning lesson in the app: :func:`dllab.experiments.transfer.transfer_steps` run in a
worker thread, its parts listed as they start, then the accuracies as a table and a figure.

A small convnet is pretrained on MNIST digits 0-4, then learns 5-9 from a few samples from scratch, by
fine-tuning everything and with its convolutions frozen under a new head. The data are the app's when they are
ten classes of 1x28x28 images, else MNIST (from the download cache, downloaded once). Stop ends the experiment
between two parts.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dllab.data import Dataset, load_dataset
from dllab.experiments.plotting import DPI
from dllab.experiments.transfer import QUICK, TransferResult, TransferSettings, transfer_steps
from ui.common.widgets import RIGHT_ALIGNED, ResultsTable, error_label, hint_label
from ui.common.worker import GeneratorWorker


def is_ten_digit_images(dataset: Dataset | None) -> bool:
    """Whether ``dataset`` is ten classes of 1x28x28 images, as the experiment needs (MNIST, Fashion-MNIST)."""
    return (
        dataset is not None
        and dataset.task == "classification"
        and dataset.num_classes == 10
        and dataset.input_shape == (1, 28, 28)
    )


class TransferDialog(QDialog):
    """Runs the transfer experiment on demand and shows its result.

    Parameters
    ----------
    dataset
        The data to use when they suit (see :func:`is_ten_digit_images`); otherwise MNIST is loaded.
    settings
        The settings of a full run; the Quick box runs :data:`dllab.experiments.transfer.QUICK` instead.
    parent
        The window it belongs to.
    """

    def __init__(
        self,
        dataset: Dataset | None = None,
        settings: TransferSettings | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("transferDialog")
        self.setWindowTitle("Transfer learning")
        self.dataset = dataset if is_ten_digit_images(dataset) else None
        self.settings = settings or TransferSettings()
        self.result: TransferResult | None = None
        self.worker: GeneratorWorker | None = None
        self._running = False
        intro = hint_label(
            "A small convnet is pretrained on the digits 0-4, then learns 5-9 from a few samples three "
            "ways: from scratch, fine-tuning every layer, and with the pretrained convolutions frozen under a "
            "new head. Transfer helps most when the new task has little data. The full run takes a few "
            "minutes; Quick pretrains on less and tries 50 and 100 samples.",
            self,
        )
        self.quick_check = QCheckBox("Quick", self)
        self.run_button = QPushButton("Run", self)
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self._on_run_button_clicked)
        controls = QHBoxLayout()
        controls.addWidget(self.quick_check)
        controls.addStretch(1)
        controls.addWidget(self.run_button)
        self.status = hint_label("", self)
        self.error = error_label(self)
        self.table = ResultsTable(
            ["Samples", "From scratch", "Fine-tuning", "Frozen features"], numeric=(1, 2, 3), stretch=3
        )
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.figure = QLabel(self)
        self.figure.setAlignment(Qt.AlignmentFlag.AlignCenter)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(controls)
        layout.addWidget(self.status)
        layout.addWidget(self.error)
        layout.addWidget(self.table)
        layout.addWidget(self.figure, 1)
        layout.addWidget(buttons)
        self._fit_table()
        self.resize(720, 820)

    @property
    def running(self) -> bool:
        """Whether the experiment runs: from Run until the worker's end has reached the window."""
        return self._running

    def run(self) -> None:
        """Start the experiment (Quick or full) in the worker thread."""
        settings = QUICK if self.quick_check.isChecked() else self.settings
        dataset = self.dataset
        self.result = None
        self.error.hide()
        self.status.setText("Loading MNIST…" if dataset is None else "Starting…")
        self.run_button.setText("Stop")
        self.quick_check.setEnabled(False)
        self._running = True

        def steps() -> Iterator[str | TransferResult]:
            yield from transfer_steps(dataset if dataset is not None else load_dataset("mnist"), settings)

        self.worker = GeneratorWorker(steps, urgent=lambda item: True, name="transfer")
        self.worker.events_ready.connect(self._on_worker_events_ready)
        self.worker.failed.connect(self._on_worker_failed)
        self.worker.finished.connect(self._on_worker_finished)
        self.worker.start()

    def stop(self) -> None:
        """End the experiment before its next part."""
        if self.worker is not None:
            self.worker.abort()
            self.status.setText("Stopping after the part that runs…")

    def _on_run_button_clicked(self) -> None:
        if self.running:
            self.stop()
        else:
            self.run()

    def _on_worker_events_ready(self, items: list[Any]) -> None:
        for item in items:
            if isinstance(item, TransferResult):
                self.show_result(item)
            else:
                self.status.setText(f"Now: {item}…")

    def _on_worker_failed(self, reason: str) -> None:
        self.error.setText(f"The experiment could not run: {reason}")
        self.error.show()

    def _on_worker_finished(self) -> None:
        self._running = False
        self.run_button.setText("Run")
        self.quick_check.setEnabled(True)
        if self.result is None and not self.error.isVisible():
            self.status.setText("Stopped.")

    def show_result(self, result: TransferResult) -> None:
        """Fill the table and draw the figure of ``result``."""
        self.result = result
        rows = result.rows()[1:]
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                item = QTableWidgetItem(text)
                item.setTextAlignment(RIGHT_ALIGNED)
                self.table.setItem(r, c, item)
        self._fit_table()
        buffer = io.BytesIO()
        result.figure().savefig(buffer, format="png", dpi=DPI)
        pixmap = QPixmap()
        pixmap.loadFromData(buffer.getvalue(), "PNG")
        self.figure.setPixmap(pixmap)
        self.status.setText(
            f"Pretrained on digits 0-4 to a test accuracy of {result.pretrain_accuracy:.1%}; test accuracy on "
            "digits 5-9 by the samples each way learned from:"
        )

    def _fit_table(self) -> None:
        """As tall as its rows, neither more nor less, whatever room the figure takes."""
        self.table.fit_rows()
        self.table.setMinimumHeight(self.table.maximumHeight())

    def done(self, code: int) -> None:
        if self.worker is not None:
            self.worker.abort()
            self.worker.wait()
        super().done(code)
