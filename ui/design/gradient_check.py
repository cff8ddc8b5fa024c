"""The gradient check of the design (the book's section 5.7.3): backpropagation against numerical gradients.

:class:`GradientCheckDialog` builds the design's network in float64 and runs :func:`dllab.gradcheck.gradcheck`
on a random batch in a worker thread (:class:`ui.common.worker.GeneratorWorker`), so a large network does not
hold up the window; a table then shows each parameter's relative error and a line says what it means.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTableWidgetItem, QVBoxLayout, QWidget

from dllab.gradcheck import GradcheckResult, gradcheck
from ui.common.widgets import RIGHT_ALIGNED, ResultsTable, error_label, hint_label
from ui.common.worker import GeneratorWorker

#: Below this relative error the backward pass is taken to be right.
TOLERANCE = 1e-6
#: Elements checked per parameter and samples in the random batch.
CHECKS, BATCH_SIZE = 40, 4


def verdict(result: GradcheckResult) -> str:
    """One sentence on what the largest relative error means."""
    worst = result.max_error
    if result.passed(TOLERANCE):
        return (
            f"Largest relative error {worst:.1e}: backpropagation agrees with the numerical gradients "
            "(the book finds differences of 1e-10 to 1e-13)."
        )
    return (
        f"Largest relative error {worst:.1e}, above {TOLERANCE:g}: a backward pass disagrees with the numerical "
        "gradient; look at the parameters marked ✗."
    )


class GradientCheckDialog(QDialog):
    """Checks the gradients of ``spec`` when shown, and shows the result.

    Parameters
    ----------
    spec
        The network spec to check (built in float64 with seed 0).
    parent
        The window it belongs to.
    """

    def __init__(self, spec: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("gradientCheckDialog")
        self.setWindowTitle("Gradient check")
        self.spec = spec
        self.result: GradcheckResult | None = None
        name = spec.get("name") or "the network"
        intro = hint_label(
            f"Backpropagation's gradient of every parameter of {name} against centred numerical differences "
            f"(L(p + h) − L(p − h)) / 2h, in float64, on a random batch of {BATCH_SIZE} samples, {CHECKS} "
            "elements of each parameter (the book's section 5.7.3).",
            self,
        )
        self.table = ResultsTable(
            ["Parameter", "Compared", "Relative error", "At kinks", ""], numeric=(1, 2, 3), stretch=0
        )
        self.table.setToolTip(
            "At kinks: elements where a ReLU or a max pooling switches within h, so the centred difference "
            "measures the kink, not the gradient; they are left out of the comparison."
        )
        self.status = hint_label("Checking…", self)
        self.error = error_label(self)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table)
        layout.addWidget(self.status)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.resize(560, 420)
        self.worker = GeneratorWorker(self._check, name="gradient-check")
        self.worker.events_ready.connect(self._on_worker_events_ready)
        self.worker.failed.connect(self._on_worker_failed)
        self.worker.start()

    def _check(self) -> Iterator[GradcheckResult]:
        yield gradcheck(self.spec, max_checks=CHECKS, batch_size=BATCH_SIZE, seed=0)

    def _on_worker_events_ready(self, items: list[GradcheckResult]) -> None:
        self.show_result(items[-1])

    def _on_worker_failed(self, reason: str) -> None:
        self.status.setText("")
        self.error.setText(f"The check could not run: {reason}")
        self.error.show()

    def show_result(self, result: GradcheckResult) -> None:
        """Fill the table with ``result`` and say what it means."""
        self.result = result
        self.table.setRowCount(len(result.errors))
        for row, (key, value) in enumerate(result.errors.items()):
            ok = value < TOLERANCE
            kinks = result.kinks.get(key, 0)
            cells = [key, f"{result.checked[key]:,}", f"{value:.2e}", f"{kinks:,}", "✓" if ok else "✗"]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column in (1, 2, 3):
                    item.setTextAlignment(RIGHT_ALIGNED)
                elif column == 4:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.table.setItem(row, column, item)
        self.status.setText(verdict(result))

    def done(self, code: int) -> None:
        self.worker.abort()
        self.worker.wait()
        super().done(code)
