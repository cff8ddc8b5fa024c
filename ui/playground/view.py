"""The optimizer playground: race the engine's optimizers across 2D test functions and watch them step.

Pick a function (the book's x²/20 + y² and x² + y², Rosenbrock, Beale, Himmelblau, a saddle, Rastrigin,
Booth), click on the plot to set the start point, switch optimizers on and tune their learning rates and other
hyperparameters, or race one optimizer at several learning rates. The optimizers follow the analytic gradient
or the book's numerical one; the sidebar compares the two at the start point, and the plot can show the
gradient field as arrows of −∇f (the book's figure 4-9). The Derivative page shows a function of one variable
with its tangent (figure 4-7). Trajectories are computed whole by :func:`dllab.testfns.run_optimizer` (the optimizer classes
that train networks) and animated by revealing points on a timer, so drawing never waits for computing; runs
of many steps are computed on a background thread. The overlay shows every trajectory on one contour map;
small multiples give each optimizer its own panel, as in the book's figure 6-8. A results table says where
each run ended, how close to a minimum, when it first came within the tolerance, and when it diverged.

The parts: :mod:`ui.playground.settings` (sidebar), :mod:`ui.playground.player` (play/step/reset),
:mod:`ui.playground.plot`, :mod:`ui.playground.contours` and :mod:`ui.playground.gradient_field` (drawing),
:mod:`ui.playground.gradient_check` (numerical against analytic), :mod:`ui.playground.tangent` (the Derivative
page), :mod:`ui.playground.results` (table), :mod:`ui.playground.runs` (what is computed, presets, CSV).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QBoxLayout,
    QButtonGroup,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from dllab.testfns import Function2D
from ui.common import dialogs, theme
from ui.common.flow_layout import FlowLayout
from ui.common.plotting import pg
from ui.common.widgets import tool_button, vertical_splitter
from ui.playground.player import PlaybackBar
from ui.playground.plot import FunctionPlot, SmallMultiples
from ui.playground.results import RunsTable
from ui.playground.runs import PRESETS, BackgroundRuns, Run, RunRequest, compute_runs, write_trajectories_csv
from ui.playground.settings import SettingsPanel
from ui.playground.tangent import TangentView

#: Requests that cost up to this many updates in total are computed at once; longer ones on a background thread.
SYNC_STEPS = 2000
IDLE_STATUS = "Click the plot to move the start point · drag to pan · wheel to zoom"
DERIVATIVE_STATUS = "Click the plot to move the point where the tangent touches the curve"
DEFAULT_PRESET = "book_6_8"
#: The plot's least width beside the settings; narrower, it goes above them.
SIDE_BY_SIDE_PLOT_WIDTH = 440
#: Qt's largest widget size (QWIDGETSIZE_MAX): no maximum.
UNBOUNDED_WIDTH = 16_777_215
#: The plot's height when it is above the settings.
STACKED_PLOT_HEIGHT = 460


class PlaygroundView(QWidget):
    """The optimizer playground, a view for a central tab (builds itself with no arguments).

    Signals
    -------
    runs_changed()
        New trajectories are shown (after any change of function, start, steps, tolerance or optimizers).
    """

    runs_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._request: RunRequest | None = None
        self._runs: list[Run] = []
        self._job: BackgroundRuns | None = None
        self._poll = QTimer(self)
        self._poll.setInterval(15)
        self._poll.timeout.connect(self._on_poll_timeout)

        self.settings = SettingsPanel(self)
        self.settings.preset_chosen.connect(self.apply_preset)
        self.settings.function_chosen.connect(self._on_settings_function_chosen)
        self.settings.start_edited.connect(self._on_settings_start_edited)
        self.settings.changed.connect(self._recompute)
        self.settings.gradient_field_toggled.connect(self.set_gradient_field)

        main = QWidget(self)
        column = QVBoxLayout(main)
        column.setContentsMargins(12, 10, 12, 8)
        column.setSpacing(8)
        column.addLayout(self._build_toolbar(main))

        self.overlay_widget = pg.PlotWidget(main)
        self.overlay = FunctionPlot(self.overlay_widget.getPlotItem(), legend=True)
        self.grid_widget = SmallMultiples(main)
        self.tangent_view = TangentView(main)
        self.plot_stack = QStackedWidget(main)
        self.plot_stack.addWidget(self.overlay_widget)
        self.plot_stack.addWidget(self.grid_widget)
        self.plot_stack.addWidget(self.tangent_view)
        self.plot_stack.setMinimumHeight(280)
        for widget in (self.overlay_widget, self.grid_widget):
            widget.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)
            widget.scene().sigMouseClicked.connect(self._on_scene_clicked)
            widget.viewport().installEventFilter(self)
        self.results_table = RunsTable(main)
        column.addWidget(vertical_splitter(self.plot_stack, self.results_table, main, stretch=(4, 1)), 1)

        self.status_label = QLabel(IDLE_STATUS, main)
        self.status_label.setObjectName("hint")
        self.status_label.setWordWrap(True)
        self.busy_label = QLabel(main)
        self.busy_label.setObjectName("hint")
        status = QHBoxLayout()
        status.addWidget(self.status_label, 1)
        status.addWidget(self.busy_label)
        column.addLayout(status)

        # Settings left of the plot; in a view too narrow for both side by side, the plot on top and the
        # settings under it (_arrange_for_width), the whole scrolling rather than forcing the window wider.
        content = QWidget(self)
        layout = QBoxLayout(QBoxLayout.Direction.LeftToRight, content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.settings)
        divider = QFrame(content)
        divider.setObjectName("separator")
        divider.setFrameShape(QFrame.Shape.VLine)
        layout.addWidget(divider)
        layout.addWidget(main, 1)
        self._content_layout, self._divider, self._main = layout, divider, main
        self._settings_width = self.settings.width()  # the column's fixed width beside the plot
        scroll = QScrollArea(self)
        scroll.setWidget(content)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self._restyle()
        self.apply_preset(DEFAULT_PRESET)

    @property
    def stacked(self) -> bool:
        """Whether the plot is above the settings (a narrow view) rather than right of them."""
        return self._content_layout.direction() == QBoxLayout.Direction.BottomToTop

    def _arrange_for_width(self, width: int) -> None:
        """Settings and plot side by side when both have room in ``width``, else the plot above the settings."""
        stacked = width < self._settings_width + SIDE_BY_SIDE_PLOT_WIDTH
        if stacked == self.stacked:
            return
        direction = QBoxLayout.Direction.BottomToTop if stacked else QBoxLayout.Direction.LeftToRight
        self._content_layout.setDirection(direction)
        self._divider.setFrameShape(QFrame.Shape.HLine if stacked else QFrame.Shape.VLine)
        self._main.setMinimumHeight(STACKED_PLOT_HEIGHT if stacked else 0)
        body = self.settings.widget()  # under the plot the settings take the full width and height (the view
        settings_width = self._settings_width  # scrolls) instead of a column of their own
        self.settings.setMinimumHeight(body.sizeHint().height() if stacked and body is not None else 0)
        self.settings.setMinimumWidth(0 if stacked else settings_width)
        self.settings.setMaximumWidth(UNBOUNDED_WIDTH if stacked else settings_width)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._arrange_for_width(event.size().width())
        super().resizeEvent(event)

    def _build_toolbar(self, parent: QWidget) -> QVBoxLayout:
        self.player = PlaybackBar(parent)
        self.player.frame_changed.connect(self._on_player_frame_changed)
        self.overlay_button = tool_button("Overlay", parent)
        self.overlay_button.setToolTip("All trajectories on one plot")
        self.grid_button = tool_button("Small multiples", parent)
        self.grid_button.setToolTip("One panel per optimizer, as in the book's figure 6-8")
        self.derivative_button = tool_button("Derivative", parent)
        self.derivative_button.setToolTip(
            "A function of one variable with its tangent and numerical derivative, as in the book's figure 4-7"
        )
        self.view_group = QButtonGroup(self)
        for button in (self.overlay_button, self.grid_button, self.derivative_button):
            button.setCheckable(True)
            self.view_group.addButton(button)
        self.overlay_button.setChecked(True)
        self.view_group.buttonToggled.connect(self._on_view_group_button_toggled)

        self.export_button = QPushButton("Export", parent)
        self.export_button.setToolTip("Save the plot as an image or the trajectories as a table")
        menu = QMenu(self.export_button)
        self.export_png_action = QAction("Plot as PNG image…", self)
        self.export_png_action.triggered.connect(self._on_export_png_triggered)
        self.export_csv_action = QAction("Trajectories as CSV…", self)
        self.export_csv_action.triggered.connect(self._on_export_csv_triggered)
        menu.addAction(self.export_png_action)
        menu.addAction(self.export_csv_action)
        self.export_button.setMenu(menu)

        # The player a line of its own; the buttons wrap in a narrow view instead of widening it.
        buttons = FlowLayout(spacing=4, line_spacing=4)
        for widget in (self.overlay_button, self.grid_button, self.derivative_button, self.export_button):
            buttons.addWidget(widget)
        bar = QVBoxLayout()
        bar.setSpacing(6)
        bar.addWidget(self.player)
        bar.addLayout(buttons)
        return bar

    # -- public API ----------------------------------------------------------------------------------------

    @property
    def function(self) -> Function2D:
        """The function shown."""
        return self.settings.function

    @property
    def start(self) -> tuple[float, float]:
        """The start point of every trajectory."""
        return self.settings.start

    @property
    def runs(self) -> list[Run]:
        """The trajectories shown, one per checked optimizer."""
        return list(self._runs)

    @property
    def busy(self) -> bool:
        """Whether trajectories are being computed in the background."""
        return self._job is not None

    @property
    def small_multiples(self) -> bool:
        """Whether each optimizer has its own panel."""
        return self.grid_button.isChecked()

    def plots(self) -> list[FunctionPlot]:
        """The plots on screen: the overlay, or one panel per optimizer."""
        return list(self.grid_widget.shown) if self.small_multiples else [self.overlay]

    def set_function(self, name: str) -> None:
        """Show the test function ``name`` from its default start."""
        self.settings.forget_preset()
        self.settings.set_function(name)
        self._on_settings_function_chosen()

    def set_start(self, x: float, y: float) -> None:
        """Start every trajectory at ``(x, y)``."""
        self.settings.forget_preset()
        self.settings.set_start(x, y)
        self._on_settings_start_edited()

    def apply_preset(self, key: str) -> None:
        """Load a preset of :data:`ui.playground.runs.PRESETS`, e.g. ``"book_6_8"`` (the book's figure 6-8:
        x²/20 + y² from (−7, 2), SGD 0.95, Momentum 0.1, AdaGrad 1.5, Adam 0.3, 30 steps) or
        ``"book_4_learning_rate"`` (SGD at lr 0.1, 10 and 1e-10 on x² + y² from (−3, 4), 100 steps)."""
        self.settings.load_preset(PRESETS[key])
        self.player.seek(self.player.length)  # show the new runs whole
        self._show_function()
        self._on_settings_start_edited()

    def set_small_multiples(self, on: bool) -> None:
        """Switch between the overlay and one panel per optimizer."""
        (self.grid_button if on else self.overlay_button).setChecked(True)

    def show_derivative(self) -> None:
        """Show the Derivative page: a function of one variable and its tangent."""
        self.derivative_button.setChecked(True)

    @property
    def gradient_field(self) -> bool:
        """Whether the plots show the arrows of −∇f."""
        return self.settings.gradient_field_check.isChecked()

    def set_gradient_field(self, on: bool) -> None:
        """Draw the gradient field (arrows of −∇f) on every plot, or not."""
        if self.settings.gradient_field_check.isChecked() != on:
            self.settings.gradient_field_check.setChecked(on)  # comes back here through the signal
            return
        self.overlay.set_gradient_field(on)
        self.grid_widget.set_gradient_field(on)

    def export_png(self, path: str | Path) -> None:
        """Save the plot (overlay or small multiples, as shown) as a PNG image; raises OSError on failure."""
        if not self.plot_stack.grab().save(str(path), "PNG"):
            raise OSError(f"Could not write the image {path}.")

    def export_csv(self, path: str | Path) -> int:
        """Save every point of every trajectory as ``optimizer, step, x, y, f`` rows; returns the row count."""
        return write_trajectories_csv(path, self._runs)

    # -- computing -----------------------------------------------------------------------------------------

    def _show_function(self) -> None:
        fn = self.function
        self.overlay.set_function(fn)
        self.grid_widget.set_function(fn)

    def _recompute(self) -> None:
        if self._job is not None:
            self._job.cancel()
            self._job = None
            self._poll.stop()
        request = self.settings.request()
        if request.cost > SYNC_STEPS:
            self._job = BackgroundRuns(request)
            self.busy_label.setText(f"Computing {len(request.optimizers)} × {request.steps:,} steps…")
            self._poll.start()
            return
        try:
            runs = compute_runs(request)
        except ValueError as exc:
            self.busy_label.setText(str(exc))
            return
        self._show_runs(request, runs)

    def _on_poll_timeout(self) -> None:
        job = self._job
        if job is None or not job.done:
            return
        self._job = None
        self._poll.stop()
        if job.error is not None:
            self.busy_label.setText(str(job.error))
        elif job.runs is not None:
            self._show_runs(job.request, job.runs)

    def _show_runs(self, request: RunRequest, runs: list[Run]) -> None:
        self._request = request
        self._runs = runs
        self.busy_label.setText("")
        self.overlay.set_runs(runs)
        if self.small_multiples:
            self.grid_widget.set_runs(runs)
        self.results_table.show_runs(runs, self.function, request.tol)
        self.player.set_length(request.steps)
        self.runs_changed.emit()

    # -- slots ---------------------------------------------------------------------------------------------

    def _on_player_frame_changed(self, frame: int) -> None:
        for plot in self.plots():
            plot.show_frame(frame)

    def _on_view_group_button_toggled(self, button: QAbstractButton, checked: bool) -> None:
        if not checked:
            return
        if button is self.grid_button:
            self.grid_widget.set_runs(self._runs)  # panels are made when first needed
        pages = {
            self.overlay_button: self.overlay_widget,
            self.grid_button: self.grid_widget,
            self.derivative_button: self.tangent_view,
        }
        self.plot_stack.setCurrentWidget(pages[button])
        derivative = button is self.derivative_button
        self.results_table.setVisible(not derivative)  # the page has its own numbers
        self.player.setEnabled(not derivative)
        self.status_label.setText(self._idle_status())
        for plot in self.plots():
            plot.request_resample()
            plot.show_frame(self.player.frame)

    def _idle_status(self) -> str:
        return DERIVATIVE_STATUS if self.derivative_button.isChecked() else IDLE_STATUS

    def _on_settings_function_chosen(self) -> None:
        self._show_function()
        self.settings.set_start(*self.function.default_start)
        self._on_settings_start_edited()

    def _on_settings_start_edited(self) -> None:
        self.overlay.set_start(*self.start)
        self.grid_widget.set_start(*self.start)
        self._recompute()

    def _on_export_png_triggered(self) -> None:
        self._export("Export plot", "png", "PNG image (*.png)", self.export_png)

    def _on_export_csv_triggered(self) -> None:
        self._export("Export trajectories", "csv", "CSV table (*.csv)", self.export_csv)

    def _export(self, title: str, suffix: str, filters: str, write: Callable[[Path], object]) -> None:
        """Ask where to save (``playground-<function>.<suffix>`` in the home folder), then ``write`` there."""
        suggestion = str(Path.home() / f"playground-{self.function.name}.{suffix}")
        path = dialogs.get_save_path(self, title, suggestion, filters)
        if path is None:
            return
        with dialogs.report_user_errors(self, "Export failed"):
            write(path)

    # -- mouse ---------------------------------------------------------------------------------------------

    def _plot_at(self, scene_pos: QPointF) -> FunctionPlot | None:
        for plot in self.plots():
            if plot.plot.getViewBox().sceneBoundingRect().contains(scene_pos):
                return plot
        return None

    def _on_scene_mouse_moved(self, scene_pos: QPointF) -> None:
        plot = self._plot_at(scene_pos)
        if plot is None:
            self.status_label.setText(self._idle_status())
            return
        point = plot.plot.getViewBox().mapSceneToView(scene_pos)
        x, y = point.x(), point.y()
        with np.errstate(over="ignore", invalid="ignore"):  # far out, f may overflow: show inf
            value = float(self.function.value(x, y))
        self.status_label.setText(f"x = {x:.4g}    y = {y:.4g}    f(x, y) = {value:.4g}")

    def _on_scene_clicked(self, event: object) -> None:
        """Move the start point to a left click on a plot (``event``: pyqtgraph's ``MouseClickEvent``)."""
        if event.button() != Qt.MouseButton.LeftButton or event.double():
            return
        plot = self._plot_at(event.scenePos())
        if plot is None:
            return
        if plot.legend is not None and plot.legend.sceneBoundingRect().contains(event.scenePos()):
            return
        event.accept()
        point = plot.plot.getViewBox().mapSceneToView(event.scenePos())
        self.set_start(point.x(), point.y())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Leave:
            self.status_label.setText(self._idle_status())
        return super().eventFilter(watched, event)

    # -- theme ---------------------------------------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._restyle()

    def _restyle(self) -> None:
        self.overlay_widget.setBackground(QColor(theme.colors().plot_background))
        self.overlay.restyle()
        self.grid_widget.restyle()
        self.tangent_view.restyle()
        self.settings.optimizer_panel.refresh_colors()
        self.results_table.restyle()


def main() -> int:
    """Open the playground on its own (``python -m ui.playground.view``)."""
    import sys

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv)
    theme.apply_theme(app)
    view = PlaygroundView()
    view.setWindowTitle("dllab · Optimizer playground")
    view.resize(1200, 800)
    view.show()
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
