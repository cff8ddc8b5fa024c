"""What every training view shares: a header with a hint and Export PNG / CSV, a placeholder that says why the
view does not apply (or that no run has started), redraws coalesced on a timer, and pyqtgraph styled for the
theme.

A view receives the worker's items in batches (:meth:`TrainingView.handle_items`), stores what it needs in
bounded buffers and calls :meth:`TrainingView.request_redraw`; the actual drawing (:meth:`TrainingView.redraw`)
happens on a single-shot timer at most ``max_fps`` times a second and only while the view is visible. All views
share one :class:`DrawingBudget`: updating and painting plots may take at most a small share of the GUI thread's
time, so costly drawing happens less often and the window stays free for input. Plots that take long to create
are built a few at a time between events (:meth:`TrainingView.build_in_steps`), and a view of many plots draws
them a few at a time too (a :meth:`TrainingView.redraw` that returns an iterator), so the window never freezes
for long: Qt paints what changed after each part.
"""

from __future__ import annotations

import csv
import html
import math
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QColor, QPaintEvent, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QBoxLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ui.common import dialogs, theme
from ui.common.icons import action_icon
from ui.common.plot_reserve import take_static_plot
from ui.common.plotting import pg
from ui.common.widgets import empty_state_label

if TYPE_CHECKING:  # a view reads a run's start as a plain object; no training internals
    from ui.training.session import SessionStarted

#: Drawing (updating the plot items and painting them) may take at most 1 / COST_FACTOR of the GUI thread's time.
COST_FACTOR = 15.0
#: Seconds of plot building per turn of the event loop at the most: one plot of a few, 8-10 ms of a loaded
#: machine's time, per slice (at 15 ms, two plots made slices of 17-19 ms, a frame at 60 Hz missed each time).
BUILD_SLICE_S = 0.010
#: Seconds of drawing (updating plot items) per turn of the event loop at the most, for views drawn in parts.
DRAW_SLICE_S = 0.006
#: Seconds left to the event loop between two slices of building plots (in any views): time to paint and take
#: input; the building takes as long as before with slices of one plot.
BUILD_GAP_S = 0.01
CSV_FILTER = "CSV tables (*.csv)"
#: Narrowest width of one small plot (histograms side by side).
MIN_PLOT_WIDTH = 215
#: Narrower than this (pixels), a view's PNG and CSV buttons go one above the other beside its texts.
NARROW_HEADER_WIDTH = 600
PNG_FILTER = "PNG images (*.png)"


def class_color(index: int, alpha: int = 255) -> QColor:
    """The colour of class ``index`` (Tableau 10, repeating)."""
    color = QColor(theme.CLASS_COLORS[index % len(theme.CLASS_COLORS)])
    color.setAlpha(alpha)
    return color


def series_color(index: int) -> QColor:
    """A distinct colour for the ``index``-th layer or curve."""
    return class_color(index)


def static_plot(
    layout: pg.GraphicsLayoutWidget | pg.GraphicsLayout, row: int, col: int, colspan: int = 1
) -> pg.PlotItem:
    """A plot in ``layout`` that only shows what it is given: no context menu, no panning or zooming with the
    mouse, no auto-range button, and plain numbers on its axes (no SI prefix). A spare one of the window's
    reserve when it has one (:mod:`ui.common.plot_reserve`)."""
    plot = take_static_plot()
    layout.addItem(plot, row=row, col=col, colspan=colspan)
    return plot


def style_plot(plot: pg.PlotItem, *, left: str = "", bottom: str = "", title: str = "") -> None:
    """Axis colours and labels of ``plot`` for the current theme."""
    colors = theme.colors()
    for name in ("left", "bottom", "right", "top"):
        axis = plot.getAxis(name)
        axis.setPen(pg.mkPen(colors.card_border))
        axis.setTextPen(pg.mkPen(colors.secondary_text))
    label_style = {"color": colors.secondary_text.name(), "font-size": "9pt"}
    if left:
        plot.setLabel("left", left, **label_style)
    if bottom:
        plot.setLabel("bottom", bottom, **label_style)
    if title:
        plot.setTitle(title, color=colors.text.name(), size="9.5pt")


def colour_key(names: Sequence[str]) -> str:
    """Rich text naming each series in its colour (``■ name``), in place of a legend over the plots."""
    return " &nbsp;".join(
        f"<span style='color:{series_color(i).name()}'>■</span>&nbsp;{html.escape(name)}"
        for i, name in enumerate(names)
    )


def set_title(plot: pg.PlotItem, title: str, size: str = "9.5pt") -> None:
    """Set ``plot``'s title in the theme's colour, only when it changed (setting text costs a relayout)."""
    if getattr(plot, "_shown_title", None) != title:
        plot._shown_title = title  # type: ignore[attr-defined]
        plot.setTitle(title, color=theme.colors().text.name(), size=size)


def plot_widget_background(widget: pg.GraphicsView) -> None:
    """The plot area's background for the current theme."""
    widget.setBackground(theme.colors().plot_background)


def run_steps(steps: Iterator[None], deadline: float) -> bool:
    """Run ``steps`` (building plots, or drawing them in parts) until ``deadline`` (``time.perf_counter``), one
    step at least; True once they are all done.

    A step starts only if the longest one so far in this slice still ends before the deadline: a slice then
    overruns its time by little, rather than by a whole step (a plot built can take as long as the slice).
    """
    longest = 0.0
    now = time.perf_counter()
    try:
        while True:
            next(steps)
            then, now = now, time.perf_counter()
            longest = max(longest, now - then)
            if now + longest >= deadline:
                return False
    except StopIteration:
        return True


class DrawingBudget:
    """Paces the drawing of all views together: after drawing that took ``s`` seconds, the next may start
    ``factor * s`` seconds later, so drawing takes at most ``1 / factor`` of the time. Views that wait take
    turns in the order they asked."""

    def __init__(self, factor: float = COST_FACTOR) -> None:
        self.factor = factor
        self.ready_at = 0.0
        self.build_ready_at = 0.0
        self.spent = 0.0
        self._queue: list[weakref.ref[TrainingView]] = []

    def wait_turn(self, view: TrainingView) -> None:
        """Put ``view`` in the queue of views waiting to draw (once)."""
        if not any(entry() is view for entry in self._queue):
            self._queue.append(weakref.ref(view))

    def is_turn(self, view: TrainingView) -> bool:
        """Whether ``view`` is first among the views that still want to draw."""
        while self._queue:
            head = self._queue[0]()
            if head is not None and head.wants_to_draw():
                return head is view
            self._queue.pop(0)
        return True

    def leave(self, view: TrainingView) -> None:
        """``view`` drew (or no longer waits)."""
        self._queue = [entry for entry in self._queue if entry() not in (None, view)]

    def delay(self) -> float:
        """Seconds until drawing may start again."""
        return max(0.0, self.ready_at - time.perf_counter())

    def build_delay(self) -> float:
        """Seconds until a view may build plots again: one slice of building at a time, in any view, with
        :data:`BUILD_GAP_S` between slices for the event loop (painting, input)."""
        return max(0.0, self.build_ready_at - time.perf_counter())

    def built(self) -> None:
        """A slice of building just ended."""
        self.build_ready_at = time.perf_counter() + BUILD_GAP_S

    def spend(self, seconds: float) -> None:
        """Count ``seconds`` of drawing just done."""
        self.spent += seconds
        self.ready_at = max(self.ready_at, time.perf_counter()) + self.factor * seconds


#: The budget every view draws from.
BUDGET = DrawingBudget()


class PlotCanvas(pg.GraphicsLayoutWidget):
    """A pyqtgraph layout widget that reports how long each paint takes, so its view can pace its redraws.

    The report goes to a weakly held method (no reference cycle between a view and its canvas, so Python's
    garbage collector never decides when Qt objects are deleted).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.paint_seconds = 0.0
        self._on_painted: weakref.WeakMethod | None = None
        plot_widget_background(self)

    def report_paints_to(self, method: Callable[[float], None] | None) -> None:
        """Call ``method(seconds)`` after each paint (a bound method, held weakly; None: nobody)."""
        self._on_painted = weakref.WeakMethod(method) if method is not None else None  # type: ignore[arg-type]

    def paintEvent(self, event: QPaintEvent) -> None:
        t0 = time.perf_counter()
        super().paintEvent(event)
        spent = time.perf_counter() - t0
        self.paint_seconds += spent
        report = self._on_painted() if self._on_painted is not None else None
        if report is not None:
            report(spent)


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> Path:
    """Write a CSV table; floats as their shortest exact text, NaN as an empty cell."""

    def cell(value: Any) -> Any:
        if isinstance(value, float | np.floating):
            return "" if not math.isfinite(value) else repr(float(value))
        if isinstance(value, np.integer):
            return int(value)
        return value

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow([cell(v) for v in row])
    return path


class TrainingView(QWidget):
    """Base of the centre views that show a run (one subclass per view)."""

    #: The view's name (the tab's tooltip).
    title: ClassVar[str] = ""
    #: The tab's label, short so a dozen tabs fit side by side ("" : the title).
    tab_title: ClassVar[str] = ""
    #: What the view shows, in one line under the tab.
    hint: ClassVar[str] = ""
    #: File name stem for exports.
    export_stem: ClassVar[str] = "view"
    #: What the placeholder says before the first run.
    empty_text: ClassVar[str] = (
        "No run yet: press Train (F5) and this view fills in while the network trains."
    )
    #: What the placeholder says from the start of a run until the view first draws.
    waiting_text: ClassVar[str] = "Training… the first measurements appear here in a moment."
    #: Redraws per second at the most.
    max_fps: ClassVar[float] = 30.0
    #: Whether what the view shows is computed from the run's network and data (its model, snapshots, test
    #: set), so that it goes once the design's network or data change (:meth:`forget_run`); False for a view
    #: of the run's history alone.
    shows_the_model: ClassVar[bool] = True
    #: What the placeholder says once the network or the data shown have changed.
    changed_text: ClassVar[str] = (
        "The network or the data changed since the last run, so what it showed here no longer applies: press "
        "Train (F5) to see the new design."
    )

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"view_{self.export_stem}")
        self.hint_label = QLabel(self.hint, self)
        self.hint_label.setObjectName("hint")
        self.hint_label.setWordWrap(True)
        self.status_label = QLabel(self)
        self.status_label.setObjectName("viewStatus")
        self.status_label.setTextFormat(Qt.TextFormat.RichText)
        self.status_label.setWordWrap(True)
        self.png_button = self._tool_button("PNG", "Save this view as a PNG image")
        self.csv_button = self._tool_button("CSV", "Save the data shown here as a CSV table")
        self.png_button.clicked.connect(self._on_png_button_clicked)
        self.csv_button.clicked.connect(self._on_csv_button_clicked)
        header = QHBoxLayout()
        header.setContentsMargins(12, 8, 8, 4)
        header.setSpacing(6)
        texts = QVBoxLayout()
        texts.setSpacing(2)
        texts.addWidget(self.hint_label)
        texts.addWidget(self.status_label)
        header.addLayout(texts, 1)
        #: PNG and CSV side by side, one above the other in a narrow view (the texts keep more of the width).
        self._export_buttons = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        self._export_buttons.setSpacing(6)
        self._export_buttons.addWidget(self.png_button)
        self._export_buttons.addWidget(self.csv_button)
        header.addLayout(self._export_buttons)
        self._export_buttons.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.placeholder = empty_state_label(self.empty_text, self)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.placeholder)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(header)
        layout.addWidget(self.stack, 1)
        self.content: QWidget | None = None
        self.not_applicable_reason: str | None = None
        self.has_data = False
        self._dirty = False
        self._next_redraw = 0.0
        self.paint_seconds = 0.0
        #: True while :meth:`flush` draws, visible or not.
        self.flushing = False
        self._builder: Iterator[None] | None = None
        self._build_timer = QTimer(self)
        self._build_timer.setSingleShot(True)
        self._build_timer.timeout.connect(self._on_build_timer_timeout)
        self.redraw_count = 0
        self.redraw_seconds = 0.0
        #: The rest of a redraw drawn in parts (see :meth:`redraw`), or None.
        self._parts: Iterator[None] | None = None
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.timeout.connect(self._on_redraw_timer_timeout)
        self._update_export_buttons()

    def _tool_button(self, text: str, tip: str) -> QToolButton:
        button = QToolButton(self)
        button.setText(text)
        button.setIcon(action_icon("export"))
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        button.setToolTip(tip)
        button.setAutoRaise(True)
        return button

    # --- content and placeholder ------------------------------------------------------------------------

    def set_content(self, widget: QWidget) -> None:
        """The widget that shows the view's data (shown while the view applies and has data)."""
        self.content = widget
        self.stack.addWidget(widget)

    def set_content_below(self, controls: QLayout, body: QWidget, host: QWidget) -> None:
        """Make ``host`` the content: a row of ``controls`` above ``body``, which takes the height."""
        box = QVBoxLayout(host)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(4)
        box.addLayout(controls)
        box.addWidget(body, 1)
        self.set_content(host)

    def fitting_columns(self, count: int, minimum_width: int = MIN_PLOT_WIDTH, most: int = 6) -> int:
        """Columns for ``count`` small plots: as many of ``minimum_width`` pixels as fit in the view now, then
        balanced over the rows (5 plots in 4 columns become 3 + 2)."""
        fit = max(1, min(most, self.width() // minimum_width, max(count, 1)))
        rows = -(-max(count, 1) // fit)
        return -(-max(count, 1) // rows)

    def canvas(self, parent: QWidget | None = None) -> PlotCanvas:
        """A new plot canvas whose painting counts towards this view's drawing cost."""
        canvas = PlotCanvas(parent or self)
        canvas.report_paints_to(self._on_canvas_painted)
        return canvas

    def fresh_canvas(self, old: PlotCanvas) -> PlotCanvas:
        """A new, empty canvas in ``old``'s place; ``old`` is deleted.

        Plots are rebuilt on a fresh canvas rather than removed from the old one: taking items out of a live
        pyqtgraph scene one by one is where PySide and pyqtgraph disagree about who owns them.
        """
        if not old.ci.items:
            return old
        host = old.parentWidget()
        new = self.canvas(host)
        layout = host.layout() if host is not None else None
        if layout is not None:
            layout.replaceWidget(old, new)
        old.report_paints_to(None)
        old.hide()
        old.deleteLater()
        return new

    def _on_canvas_painted(self, seconds: float) -> None:
        self.paint_seconds += seconds
        BUDGET.spend(seconds)

    def show_placeholder(self, text: str) -> None:
        """Show ``text`` in place of the content."""
        self.placeholder.setText(text)
        self.stack.setCurrentWidget(self.placeholder)
        self._update_export_buttons()

    def show_content(self) -> None:
        """Show the content."""
        if self.content is not None:
            self.stack.setCurrentWidget(self.content)
        self._update_export_buttons()

    def set_not_applicable(self, reason: str | None) -> None:
        """Say why the view does not apply to this run (None: it applies, and waits for its first data)."""
        self.not_applicable_reason = reason
        if reason is not None:
            self.show_placeholder(f"This view does not apply to this run: {reason}")
        else:
            self.show_placeholder(self.waiting_text)

    @property
    def applicable(self) -> bool:
        """Whether the view applies to the current run."""
        return self.not_applicable_reason is None

    def set_status(self, text: str) -> None:
        """The line under the hint (rich text): what the view shows right now.

        During a run the label grows but never shrinks: a status a line shorter or longer than the last would
        lay the plots below out again, and paint every one of them anew, at each redraw.
        """
        label = self.status_label
        if text == label.text():
            return
        label.setText(text)
        if text and label.isVisible():
            needed = label.heightForWidth(label.width())
            if needed > label.minimumHeight():
                label.setMinimumHeight(needed)

    # --- the run -----------------------------------------------------------------------------------------

    def begin_run(self, started: SessionStarted) -> None:
        """A run started: forget the last one and decide whether this view applies."""
        self.has_data = False
        self._parts = None
        self.status_label.setMinimumHeight(0)
        self.set_status("")
        self.set_not_applicable(self.reason_not_applicable(started))

    def forget_run(self) -> None:
        """The design's network or data changed after a run: a view of its model (``shows_the_model``) says so
        in place of what no longer exists; the others keep the run."""
        if not self.shows_the_model or not self.has_data:
            return
        self.has_data = False
        self._dirty = False
        self._parts = None
        self._redraw_timer.stop()
        self.set_status("")
        self.show_placeholder(self.changed_text)

    def reason_not_applicable(self, started: SessionStarted) -> str | None:
        """Why the view does not apply to ``started``'s run, in one sentence (None: it applies)."""
        return None

    def handle_items(self, items: Sequence[Any]) -> None:
        """Take what the view needs from a batch of worker items (events and snapshots)."""

    def set_model(self, model: Any) -> None:
        """The trained model once a run has ended (views that compute with it override this)."""

    def end_run(self, status: str) -> None:
        """The run ended (``"finished"``, ``"stopped"``, ``"diverged"`` or ``"failed"``): draw the last state
        (soon, while visible; a hidden view draws when it is shown)."""
        if self._dirty:
            self._next_redraw = 0.0
            self.request_redraw()

    # --- coalesced drawing -------------------------------------------------------------------------------

    def request_redraw(self) -> None:
        """Ask for a redraw; it happens on the timer, at most ``max_fps`` times a second, while visible."""
        self._dirty = True
        self.has_data = True
        self._schedule_redraw()

    def _schedule_redraw(self) -> None:
        if self.isVisible() and not self._redraw_timer.isActive() and self._builder is None:
            BUDGET.wait_turn(self)
            self._redraw_timer.start(round(self._redraw_delay() * 1000))

    def wants_to_draw(self) -> bool:
        """Whether the view has something to draw and can (visible, not building)."""
        try:
            return self._wants_redraw and self._builder is None and self.isVisible()
        except RuntimeError:  # the Qt object is gone
            return False

    @property
    def _wants_redraw(self) -> bool:
        """New data to draw, or the rest of a redraw drawn in parts."""
        return self._dirty or self._parts is not None

    def _redraw_delay(self) -> float:
        if self._parts is not None:  # the rest of a redraw: as soon as the budget allows
            return BUDGET.delay()
        return max(self._next_redraw - time.perf_counter(), BUDGET.delay(), 0.0)

    def redraw(self) -> Iterator[None] | None:
        """Draw the stored data (subclasses).

        A view with many plots may return an iterator instead (a generator that updates one plot per step):
        its steps are then drawn :data:`DRAW_SLICE_S` at a time, Qt painting what changed after each slice, and
        new data wait until the last step.
        """
        return None

    def _on_redraw_timer_timeout(self) -> None:
        if not (self.isVisible() and self._wants_redraw) or self._builder is not None:
            return
        delay = self._redraw_delay()
        if delay > 0.001 or not BUDGET.is_turn(self):  # another view drew meanwhile, or comes first
            self._redraw_timer.start(max(round(delay * 1000), 5))
            return
        self._redraw_now()

    def _redraw_now(self) -> None:
        BUDGET.leave(self)
        if self.applicable and self.content is not None and self.stack.currentWidget() is not self.content:
            self.show_content()  # here, not when data arrive: views switch one at a time, within the budget
        t0 = time.perf_counter()
        if self._parts is None:
            self._dirty = False
            self.redraw_count += 1
            self._parts = self.redraw()
        if self._parts is not None and run_steps(
            self._parts, math.inf if self.flushing else t0 + DRAW_SLICE_S
        ):
            self._parts = None
        cost = time.perf_counter() - t0
        self.redraw_seconds += cost
        BUDGET.spend(cost)
        if self._parts is None:
            self._next_redraw = time.perf_counter() + 1.0 / self.max_fps
        if self._wants_redraw:
            self._schedule_redraw()

    def flush(self) -> None:
        """Draw now whatever is pending, visible or not (exports, screenshots, tests)."""
        self._redraw_timer.stop()
        self.flushing = True
        try:
            while self._wants_redraw or self._builder is not None:
                if self._builder is not None:
                    self._build_step(deadline=float("inf"))
                else:
                    self._redraw_now()
        finally:
            self.flushing = False

    # --- plots built a few at a time ---------------------------------------------------------------------

    @property
    def building(self) -> bool:
        """Whether plots are being built (no redraw meanwhile)."""
        return self._builder is not None

    def build_in_steps(self, steps: Iterator[None]) -> None:
        """Run ``steps`` (a generator that yields after each plot it creates) between events, about
        ``BUILD_SLICE_S`` at a time, then redraw."""
        self._builder = steps
        self._parts = None  # they draw on the plots being replaced: a whole redraw follows the building
        self._redraw_timer.stop()
        for canvas in self.findChildren(PlotCanvas):
            canvas.setUpdatesEnabled(False)  # no paint of half-built layouts
        self._build_timer.start(0)

    def _on_build_timer_timeout(self) -> None:
        delay = BUDGET.build_delay()
        if delay > 0.001:  # this or another view built a slice just now
            self._build_timer.start(max(round(delay * 1000), 1))
            return
        self._build_step(deadline=time.perf_counter() + BUILD_SLICE_S)
        BUDGET.built()
        if self._builder is not None:
            self._build_timer.start(round(BUILD_GAP_S * 1000))

    def _build_step(self, deadline: float) -> None:
        builder = self._builder
        if builder is None:
            return
        t0 = time.perf_counter()
        try:
            done = run_steps(builder, deadline)
        finally:
            self.redraw_seconds += time.perf_counter() - t0
        if done:
            self._builder = None
            self._dirty = True
            for canvas in self.findChildren(PlotCanvas):
                canvas.setUpdatesEnabled(True)
            if deadline != float("inf"):
                self.request_redraw()

    def resizeEvent(self, event: QResizeEvent) -> None:
        narrow = event.size().width() < NARROW_HEADER_WIDTH
        self._export_buttons.setDirection(
            QBoxLayout.Direction.TopToBottom if narrow else QBoxLayout.Direction.LeftToRight
        )
        super().resizeEvent(event)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._dirty:
            self.request_redraw()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.restyle()

    def restyle(self) -> None:
        """Apply the theme's colours to the plots (subclasses)."""

    # --- export ------------------------------------------------------------------------------------------

    def _update_export_buttons(self) -> None:
        showing = self.content is not None and self.stack.currentWidget() is self.content
        for button in (self.png_button, self.csv_button):
            button.setEnabled(showing)

    def csv_table(self) -> tuple[list[str], list[list[Any]]]:
        """The data shown, as a header and rows (subclasses)."""
        return [], []

    def export_png(self, path: Path) -> Path:
        """Save the view as it looks now (1:1 with the screen) to ``path``."""
        self.flush()
        image = self.stack.currentWidget().grab()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not image.save(str(path), "PNG"):
            raise OSError(f"could not write {path}")
        return path

    def export_csv(self, path: Path) -> Path:
        """Save the data shown as a CSV table to ``path``."""
        header, rows = self.csv_table()
        return write_csv(Path(path), header, rows)

    def _on_png_button_clicked(self) -> None:
        self._export("png", PNG_FILTER, self.export_png)

    def _on_csv_button_clicked(self) -> None:
        self._export("csv", CSV_FILTER, self.export_csv)

    def _export(self, suffix: str, filters: str, write: Any) -> None:
        path = dialogs.get_save_path(self, f"Export {self.title}", f"{self.export_stem}.{suffix}", filters)
        if path is None:
            return
        if path.suffix.lower() != f".{suffix}":
            path = path.with_name(f"{path.name}.{suffix}")
        try:
            write(path)
        except OSError as exc:
            dialogs.show_error(self, "Export failed", f"Could not write {path.name}: {exc.strerror or exc}.")
