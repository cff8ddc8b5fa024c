"""The optimizer playground's results table: where each run ended, how far from a minimum, when it came within
the tolerance, and whether it diverged."""

from __future__ import annotations

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QTableWidgetItem, QWidget

from dllab.testfns import Function2D
from ui.common import theme
from ui.common.widgets import RIGHT_ALIGNED, ResultsTable, swatch_pixmap
from ui.playground.plot import run_color
from ui.playground.runs import Run

COLUMNS = ("Optimizer", "x", "y", "f(x, y)", "Distance to minimum", "Steps to tolerance", "Status")
_NUMERIC = range(1, 6)


def number_text(value: float | None) -> str:
    """Four significant digits, or a dash for "none"."""
    return "—" if value is None else f"{value:.4g}"


def status_text(run: Run, fn: Function2D, tol: float) -> str:
    """``"Diverged at step 7"``, ``"Converged"`` (within ``tol`` of the minimum at the end), ``"Not
    converged"`` or ``"No minimum"``."""
    trajectory = run.trajectory
    if trajectory.diverged:
        return f"Diverged at step {trajectory.diverged_at}"
    if fn.min_value is None:
        return "No minimum"
    return "Converged" if trajectory.values[-1] - fn.min_value <= tol else "Not converged"


class RunsTable(ResultsTable):
    """One row per run, as tall as its rows (the plot above takes the rest of the height)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(COLUMNS, numeric=_NUMERIC, stretch=len(COLUMNS) - 1, parent=parent)
        self._shown: tuple[list[Run], Function2D, float] | None = None

    def show_runs(self, runs: list[Run], fn: Function2D, tol: float) -> None:
        """Fill the table from ``runs`` over ``fn`` with tolerance ``tol``."""
        self._shown = (runs, fn, tol)
        colors = theme.colors()
        self.setRowCount(len(runs))
        for row, run in enumerate(runs):
            trajectory = run.trajectory
            x, y = (float(v) for v in trajectory.positions[-1])
            status = status_text(run, fn, tol)
            steps = trajectory.steps_to_tol
            cells = (
                run.title,
                number_text(x),
                number_text(y),
                number_text(float(trajectory.values[-1])),
                number_text(run.distance_to_minimum),
                "—" if steps is None else f"{steps:,}",
                status,
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 0:
                    item.setIcon(QIcon(swatch_pixmap(run_color(run))))
                elif column in _NUMERIC:
                    item.setTextAlignment(RIGHT_ALIGNED)
                elif status.startswith("Diverged"):
                    item.setForeground(colors.error)
                elif status == "Converged":
                    item.setForeground(colors.success)
                self.setItem(row, column, item)
        self.fit_rows()

    def restyle(self) -> None:
        """Redraw the colours (swatches, status) for the current palette."""
        if self._shown is not None:
            self.show_runs(*self._shown)
