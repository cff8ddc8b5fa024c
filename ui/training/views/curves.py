"""Learning curves: the training loss of every iteration (faint) with its moving average, the validation loss and
the training, train-dev and validation accuracy of every epoch, and the learning rate, with a hover readout, a
log scale and the fit read as the course reads it (:mod:`dllab.fit_reading`): the errors against the human-level
estimate and the gaps named avoidable bias, variance, data mismatch and overfitting to dev. A change of the
optimizer's settings during the run is a vertical line on the loss and learning-rate plots after the last
iteration before it, labelled with the change (``"lr 0.01 → 0.003"``).

The smoothed loss is the engine's centred moving average (:func:`dllab.experiments.comparison_results.smooth`), the one
Compare draws, so a run's loss looks the same in both. Curves live in :class:`ui.common.series.DecimatingSeries`,
so a run of any length keeps a bounded number of points, and are drawn with pyqtgraph's clip-to-view and peak
downsampling, as in pyqtgraph's ``scrollingPlots`` example.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, Qt, QTimer
from PySide6.QtGui import QColor, QResizeEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QWidget,
)

from dllab.experiments.comparison_results import smooth, smoothing_window
from dllab.fit_reading import FitReading, read_accuracies
from dllab.trainer import BatchEnded, Diverged, EpochEnded, Finished, RunStarted, SettingsChanged
from ui.common import theme
from ui.common.histogram_plots import decade_span, set_iterations
from ui.common.plotting import pg
from ui.common.series import DecimatingSeries
from ui.common.view import TrainingView, plot_widget_background, set_title, style_plot
from ui.training.session import SessionStarted

#: Columns of the per-iteration series.
_LOSS, _SMOOTH, _LR = 0, 1, 2
#: Columns of the per-epoch series.
_EPOCH, _TRAIN_LOSS, _TRAIN_ACC, _VAL_LOSS, _VAL_ACC, _EPOCH_LR, _TRAIN_DEV_ACC = range(7)
EPOCH_CAPACITY = 4_000

TRAIN_COLOR = "#4e79a7"
RAW_COLOR = "#9db7d5"
SMOOTH_COLOR = "#2b5b8f"
#: More epochs than this are drawn as lines without markers.
MARKER_LIMIT = 60
VAL_COLOR = "#f28e2b"
TRAIN_DEV_COLOR = "#b07aa1"
LR_COLOR = "#59a14f"
#: Narrower than this (pixels), the plots' keys name the curves in short, so that they fit the width.
WIDE_KEY_WIDTH = 640
#: Those short names (the axis says what is measured).
SHORT_KEYS = {
    "loss (mini-batch)": "mini-batch",
    "loss (moving average)": "moving average",
    "validation loss": "validation",
    "training accuracy": "training",
    "train-dev accuracy": "train-dev",
    "validation accuracy": "validation",
}
#: The line of a change of the optimizer's settings.
CHANGE_COLOR = "#b07aa1"


def loss_ceiling(peak: float) -> float:
    """The top of the loss axis for losses up to ``peak``: ``peak`` rounded up to two significant digits
    (1.12 -> 1.2, 2.302 -> 2.4), so that the curves fill the plot; 1 for nothing positive."""
    if not math.isfinite(peak) or peak <= 0:
        return 1.0
    unit = 10.0 ** (math.floor(math.log10(peak)) - 1)
    return math.ceil(peak / unit * (1 - 1e-9)) * unit


def level_changes(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The points of a series that holds a level for long (the learning rate: it changes at an epoch's start or
    by a person's change) where it changes level, and those just before: the same line through a few points
    instead of every iteration's (a line of thousands of points 1.8 px wide took about 2 ms to paint)."""
    if len(y) < 3:
        return x, y
    differs = y[1:] != y[:-1]  # (NaN differs from everything: gaps stay gaps)
    keep = np.zeros(len(y), dtype=bool)
    keep[[0, -1]] = True
    keep[1:] |= differs
    keep[:-1] |= differs
    return x[keep], y[keep]


class CurvesView(TrainingView):
    """Loss, accuracy and learning rate over the iterations of a run."""

    title = "Curves"
    shows_the_model = False  # the run's history stays worth seeing after the design changes
    export_stem = "curves"
    hint = (
        "Training loss of every mini-batch (faint) and its moving average; training accuracy (on a fixed "
        "sample of the training set as large as the validation set), validation loss and accuracy (and "
        "train-dev accuracy) after each epoch; the learning rate. Hover for values. Below: the fit read against "
        "the human-level error of the Training panel."
    )
    empty_text = (
        "No run yet: press Train (F5) and the training loss appears here as it falls, with the validation "
        "loss and accuracy after every epoch."
    )

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.iterations = DecimatingSeries(columns=3)
        #: New losses came since the smoothed ones were computed (:meth:`smoothed_losses`).
        self._smoothing_due = False
        self.epochs = DecimatingSeries(columns=7, capacity=EPOCH_CAPACITY)
        self._batches_per_epoch = 1
        self._task = "classification"
        self.last_epoch: EpochEnded | None = None
        #: The last reading: the last epoch's, then the run's with the test error.
        self.fit: FitReading | None = None
        self.diverged_at: int | None = None
        #: The changes of the optimizer's settings so far, and their lines (on the loss and the lr plots).
        self.changes: list[SettingsChanged] = []
        self.change_lines: list[tuple[pg.PlotItem, pg.InfiniteLine]] = []

        host = QWidget(self)
        controls = QHBoxLayout()
        controls.setContentsMargins(12, 0, 12, 0)
        controls.setSpacing(8)
        self.log_check = QCheckBox("Log scale", host)
        self.log_check.setToolTip(
            "Show the loss on a logarithmic axis (the late, slow part becomes visible)."
        )
        self.log_check.toggled.connect(self._on_log_check_toggled)
        controls.addWidget(self.log_check)
        controls.addSpacing(12)
        self.readout = QLabel(host)
        self.readout.setObjectName("hint")
        self.readout.setTextFormat(Qt.TextFormat.RichText)
        self.readout.setWordWrap(True)
        self.readout.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        controls.addWidget(self.readout, 1)

        self.graphics = self.canvas(host)
        self.loss_plot: pg.PlotItem = self.graphics.addPlot(row=0, col=0)
        self.accuracy_plot: pg.PlotItem = self.graphics.addPlot(row=1, col=0)
        self.lr_plot: pg.PlotItem = self.graphics.addPlot(row=2, col=0)
        layout = self.graphics.ci.layout
        layout.setRowStretchFactor(0, 6)
        layout.setRowStretchFactor(1, 3)
        layout.setRowStretchFactor(2, 1)
        for plot in (self.accuracy_plot, self.lr_plot):
            plot.setXLink(self.loss_plot)
        for plot in (self.loss_plot, self.accuracy_plot):
            # One iterations axis for the three, numbered under the last: the window lays out one axis's
            # numbers as the run grows, not three (1.3-1.6 ms each).
            plot.getAxis("bottom").setStyle(showValues=False)
        self.accuracy_plot.getViewBox().setDefaultPadding(0.1)  # the dots of the first epochs stay whole
        for plot in (self.loss_plot, self.accuracy_plot, self.lr_plot):
            plot.setMenuEnabled(False)
            for name in ("left", "bottom"):
                plot.getAxis(name).enableAutoSIPrefix(False)
            plot.getViewBox().setMouseEnabled(x=True, y=False)
            plot.getViewBox().sigRangeChangedManually.connect(self._on_view_range_changed_manually)
        #: While a run trains, the iterations axis runs to a round number the run grows into
        #: (:func:`set_iterations`), not to the last step: its three axes (one a plot, linked) are laid out again
        #: a few times a run instead of at every draw (each lay-out 1-1.5 ms of the window's time); a run that
        #: ended fills it. True once a person pans or zooms it.
        self._iterations_by_hand = False
        self._running = False

        self.raw_curve = self._curve(self.loss_plot, "loss (mini-batch)", RAW_COLOR, width=1, alpha=120)
        self.smooth_curve = self._curve(self.loss_plot, "loss (moving average)", SMOOTH_COLOR, width=2.4)
        self.val_loss_curve = self._curve(self.loss_plot, "validation loss", VAL_COLOR, width=2, symbol=True)
        self.train_acc_curve = self._curve(
            self.accuracy_plot, "training accuracy", TRAIN_COLOR, width=2, symbol=True
        )
        self.train_dev_acc_curve = self._curve(
            self.accuracy_plot, "train-dev accuracy", TRAIN_DEV_COLOR, width=2, symbol=True
        )
        self.val_acc_curve = self._curve(
            self.accuracy_plot, "validation accuracy", VAL_COLOR, width=2, symbol=True
        )
        self.lr_curve = self._curve(self.lr_plot, "", LR_COLOR, width=1.8)
        for curve in (self.raw_curve, self.smooth_curve, self.lr_curve):
            curve.setClipToView(True)
            curve.setDownsampling(auto=True, method="peak")
        self.hover_lines = [pg.InfiniteLine(angle=90, movable=False) for _ in range(3)]
        for plot, line in zip(
            (self.loss_plot, self.accuracy_plot, self.lr_plot), self.hover_lines, strict=True
        ):
            line.setZValue(20)
            line.hide()
            plot.addItem(line, ignoreBounds=True)
        self.diverged_line = pg.InfiniteLine(
            angle=90, movable=False, label="diverged", labelOpts={"position": 0.9}
        )
        self.diverged_line.hide()
        self.loss_plot.addItem(self.diverged_line, ignoreBounds=True)
        # The readout follows the mouse at most 30 times a second: the last position waits on a timer.
        self._mouse_position: QPointF | None = None
        self._hover_timer = QTimer(self)
        self._hover_timer.setSingleShot(True)
        self._hover_timer.setInterval(33)
        self._hover_timer.timeout.connect(self._on_hover_timer_timeout)
        self.graphics.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)

        self.set_content_below(controls, self.graphics, host)
        self.restyle()

    @staticmethod
    def _curve(
        plot: pg.PlotItem, name: str, color: str, *, width: float, alpha: int = 255, symbol: bool = False
    ) -> pg.PlotDataItem:
        c = QColor(color)
        c.setAlpha(alpha)
        options: dict[str, Any] = {"pen": pg.mkPen(c, width=width), "name": name or None, "connect": "finite"}
        if symbol:
            options.update(symbol="o", symbolSize=5, symbolBrush=pg.mkBrush(c), symbolPen=pg.mkPen(c))
        if not symbol:
            options["antialias"] = False  # thousands of points: twice as fast to paint, hardly different
        return plot.plot([], [], **options)

    def restyle(self) -> None:
        plot_widget_background(self.graphics)
        style_plot(self.loss_plot, left="loss")
        style_plot(self.accuracy_plot, left="accuracy (%)")
        style_plot(self.lr_plot, left="learning rate", bottom="iteration (mini-batches)")
        colors = theme.colors()
        for line in self.hover_lines:
            line.setPen(pg.mkPen(colors.secondary_text, width=1, style=Qt.PenStyle.DashLine))
        self.diverged_line.setPen(pg.mkPen(colors.error, width=1.5))
        self.diverged_line.label.setColor(colors.error)
        self._show_keys()

    # --- the run ---------------------------------------------------------------------------------------

    def begin_run(self, started: SessionStarted) -> None:
        self.iterations.clear()
        self._iterations_by_hand = False
        self._running = True
        set_iterations(self.loss_plot, 1.0)  # the axis starts anew: a zoom of the last run goes
        self._forget_y_axes()
        self._smoothing_due = False
        self.epochs.clear()
        self._task = started.task
        self.last_epoch = None
        self.fit = None
        self.diverged_at = None
        self.diverged_line.hide()
        for plot, line in self.change_lines:
            plot.removeItem(line)
        self.changes, self.change_lines = [], []
        self.readout.clear()
        for curve in (
            self.raw_curve,
            self.smooth_curve,
            self.val_loss_curve,
            self.train_acc_curve,
            self.train_dev_acc_curve,
            self.val_acc_curve,
            self.lr_curve,
        ):
            curve.setData([], [])
        self.accuracy_plot.setTitle(None)
        if started.task != "classification":
            style_plot(self.accuracy_plot, title="accuracy is not defined for regression")
        super().begin_run(started)

    def end_run(self, status: str) -> None:
        self._running = False
        self.request_redraw()  # the axis now fits the run's steps
        super().end_run(status)

    def handle_items(self, items: Sequence[Any]) -> None:
        batches = [item for item in items if type(item) is BatchEnded]
        changed = False
        if batches:
            steps = np.fromiter((b.step for b in batches), np.float64, len(batches))
            losses = np.fromiter((b.loss for b in batches), np.float64, len(batches))
            lrs = np.fromiter((b.lr for b in batches), np.float64, len(batches))
            self.iterations.append(steps, np.column_stack([losses, np.full(len(losses), np.nan), lrs]))
            self._smoothing_due = True
            changed = True
        for item in items:
            if isinstance(item, EpochEnded):
                self.epochs.append(
                    [item.step],
                    [
                        [
                            item.epoch,
                            item.train_loss,
                            item.train_accuracy,
                            item.val_loss,
                            item.val_accuracy,
                            item.lr,
                            item.train_dev_accuracy,
                        ]
                    ],
                )
                self.last_epoch = item
                self.fit = item.fit or read_accuracies(
                    item.train_accuracy, item.val_accuracy, train_dev=item.train_dev_accuracy
                )
                changed = True
            elif isinstance(item, Finished) and item.fit is not None:
                self.fit = item.fit
                changed = True
            elif isinstance(item, RunStarted):
                self._batches_per_epoch = max(item.batches_per_epoch, 1)
            elif isinstance(item, Diverged):
                self.diverged_at = item.step
                changed = True
            elif isinstance(item, SettingsChanged):
                self._mark_change(item)
        if changed:
            self.request_redraw()

    def _mark_change(self, change: SettingsChanged) -> None:
        """A line after iteration ``change.step`` on the loss plot, labelled with the change, and one on the
        learning-rate plot."""
        self.changes.append(change)
        colors = theme.colors()
        pen = pg.mkPen(CHANGE_COLOR, width=1.5, style=Qt.PenStyle.DashLine)
        label = pg.InfiniteLine(
            pos=change.step + 0.5,
            angle=90,
            movable=False,
            pen=pen,
            label=change.text(),
            labelOpts={
                # One below the other; right of the line, or left in the view's right half.
                "position": 0.78 - 0.07 * ((len(self.changes) - 1) % 4),
                "color": colors.text,
                "fill": pg.mkBrush(colors.plot_background),
                "anchors": [(0, 0), (1, 0)],
            },
        )
        below = pg.InfiniteLine(pos=change.step + 0.5, angle=90, movable=False, pen=pen)
        for plot, line in ((self.loss_plot, label), (self.lr_plot, below)):
            line.setZValue(15)
            plot.addItem(line, ignoreBounds=True)
            self.change_lines.append((plot, line))

    # --- drawing -------------------------------------------------------------------------------------------

    def redraw(self) -> None:
        it, ep = self.iterations, self.epochs
        x = it.x
        if len(x) and not self._iterations_by_hand:
            if self._running:
                set_iterations(self.loss_plot, float(x[-1]))
            else:
                self.loss_plot.setXRange(0.0, float(x[-1]), padding=0.0)
        self.raw_curve.setData(x, it.column(_LOSS))
        self.smooth_curve.setData(x, self.smoothed_losses())
        lrs = it.column(_LR)
        self.lr_curve.setData(*level_changes(x, lrs))
        ex = ep.x
        markers = "o" if len(ex) <= MARKER_LIMIT else None
        for curve, column, scale in (
            (self.val_loss_curve, _VAL_LOSS, 1.0),
            (self.train_acc_curve, _TRAIN_ACC, 100.0),
            (self.train_dev_acc_curve, _TRAIN_DEV_ACC, 100.0),
            (self.val_acc_curve, _VAL_ACC, 100.0),
        ):
            values = ep.column(column) * scale
            if np.isfinite(values).any():
                curve.setData(ex, values, symbol=markers)
            else:  # no such set (no validation or train-dev split): nothing to draw, and no bounds to take
                curve.setData([], [])
        self._fit_y_axes()
        if len(lrs):
            top = float(np.nanmax(lrs)) if np.isfinite(lrs).any() else 1.0
            self.lr_plot.setYRange(0, top * 1.15 if top > 0 else 1.0, padding=0)
        if self.diverged_at is not None:
            self.diverged_line.setPos(self.diverged_at)
            self.diverged_line.show()
        self._show_keys()
        self.set_status(self.reading_text())

    def _fit_y_axes(self) -> None:
        """Steady y ranges for the loss (from 0 to :func:`loss_ceiling`, or whole decades on a log scale) and the
        accuracy (from a multiple of 10 % to 100 %), changed only when the values leave them. Autoranged, the
        ranges changed at every draw, and each change made the window measure every curve's bounds, lay out the
        axes and clip and thin the curves anew when it painted: 10-19 ms a paint of this view while the MLP
        trained, most of the window's longest stalls."""
        losses = np.concatenate([self.iterations.column(_LOSS), self.epochs.column(_VAL_LOSS)])
        losses = losses[np.isfinite(losses)]
        view = self.loss_plot.getViewBox()
        if self.log_check.isChecked():
            decades = decade_span(np.log10(losses[losses > 0]))
            if decades is not None and getattr(view, "_shown_decades", None) != decades:
                view._shown_decades = decades  # type: ignore[attr-defined]
                view.setYRange(*decades, padding=0.0)
        elif losses.size and float(losses.max()) > (getattr(view, "_shown_top", None) or 0.0):
            view._shown_top = loss_ceiling(float(losses.max()))  # type: ignore[attr-defined]
            view.setYRange(0.0, view._shown_top, padding=0.0)
        accuracies = np.concatenate(
            [self.epochs.column(column) for column in (_TRAIN_ACC, _TRAIN_DEV_ACC, _VAL_ACC)]
        )
        accuracies = accuracies[np.isfinite(accuracies)] * 100.0
        if accuracies.size:
            bottom = max(0.0, 10.0 * math.floor(float(accuracies.min()) / 10.0))
            view = self.accuracy_plot.getViewBox()
            if getattr(view, "_shown_bottom", None) != bottom:
                view._shown_bottom = bottom  # type: ignore[attr-defined]
                view.setYRange(bottom, 100.0)  # with the view's padding: the dots at 100 % stay whole

    def _forget_y_axes(self) -> None:
        """Let :meth:`_fit_y_axes` set both y ranges anew at the next draw."""
        for plot in (self.loss_plot, self.accuracy_plot):
            view = plot.getViewBox()
            view._shown_top = view._shown_decades = view._shown_bottom = None  # type: ignore[attr-defined]

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.has_data:
            self._show_keys()

    def _show_keys(self) -> None:
        """Name the curves drawn in each plot's title, in their colours: a legend inside the plot would cover
        the lines it names."""
        for plot, curves in (
            (self.loss_plot, (self.raw_curve, self.smooth_curve, self.val_loss_curve)),
            (self.accuracy_plot, (self.train_acc_curve, self.train_dev_acc_curve, self.val_acc_curve)),
        ):
            drawn = [curve for curve in curves if curve.xData is not None and len(curve.xData)] or list(
                curves
            )
            narrow = self.width() < WIDE_KEY_WIDTH  # the plot's axis says "loss" or "accuracy" already
            key = " &nbsp; ".join(
                f"<span style='color:{curve.opts['pen'].color().name()}'>━</span>&nbsp;"
                + (SHORT_KEYS.get(curve.name(), curve.name()) if narrow else curve.name())
                for curve in drawn
            )
            set_title(plot, key, size="8.5pt")

    def reading_text(self) -> str:
        """The fit reading of the last epoch (with the test error once the run has finished), as rich text:
        the errors, the gaps between them (the largest in bold) and what to try."""
        e, fit = self.last_epoch, self.fit
        if e is None:
            return ""
        if fit is None or not math.isfinite(fit.train_error):
            return (
                f"<b>Epoch {e.epoch}</b>: training loss {e.train_loss:.4g}, validation loss {e.val_loss:.4g}"
            )
        when = "at the end" if math.isfinite(fit.test_error) else f"after epoch {e.epoch}"
        errors = " · ".join(f"{label} {error:.1%}" for label, error in fit.errors.items())
        gaps = " · ".join(
            f"<b>{name} {gap * 100:+.1f}</b>"
            if name in (fit.largest, fit.negative)
            else f"{name} {gap * 100:+.1f}"
            for name, gap in fit.gaps.items()
        )
        return f"<b>Fit {when}</b>: error {errors}<br>gaps (points): {gaps} — {html.escape(fit.sentence)}"

    def smoothed_losses(self) -> np.ndarray:
        """The kept losses smoothed as Compare smooths a run's (:func:`dllab.experiments.comparison_results.smooth`):
        all of them while every loss is kept; once the series is thinned, the kept ones over the same span of
        iterations.

        Computed when asked for after new losses came (a redraw, the readout, an export), not as each batch of
        items arrives: the whole series is smoothed each time, and items arrive 10-20 times a second while the
        curves are redrawn once or twice (batches of 12 losses up to 2,700 iterations: 0.11 ms of the GUI
        thread per batch of items before, 0.02 ms now).
        """
        it = self.iterations
        if self._smoothing_due:
            self._smoothing_due = False
            window = max(1, smoothing_window(it.seen) // it.stride)
            it.y[:, _SMOOTH] = smooth(it.column(_LOSS), window)
        return it.column(_SMOOTH)

    def _on_view_range_changed_manually(self, *_: Any) -> None:
        self._iterations_by_hand = True

    def _on_log_check_toggled(self, checked: bool) -> None:
        self.loss_plot.setLogMode(x=False, y=checked)
        self._forget_y_axes()
        self.request_redraw()

    # --- hover readout ---------------------------------------------------------------------------------------

    def _on_scene_mouse_moved(self, position: QPointF) -> None:
        self._mouse_position = QPointF(position)
        if not self._hover_timer.isActive():
            self._hover_timer.start()

    def _on_hover_timer_timeout(self) -> None:
        position = self._mouse_position
        if position is None or not len(self.iterations):
            return
        for plot in (self.loss_plot, self.accuracy_plot, self.lr_plot):
            if plot.sceneBoundingRect().contains(position):
                step = plot.getViewBox().mapSceneToView(position).x()
                self.show_readout(step)
                return
        for line in self.hover_lines:
            line.hide()

    def show_readout(self, step: float) -> str:
        """Show the values at the iteration nearest to ``step`` (and draw a line there); returns the text."""
        it = self.iterations
        x = it.x
        if not len(x):
            return ""
        i = int(np.clip(np.searchsorted(x, step), 0, len(x) - 1))
        if i > 0 and abs(x[i - 1] - step) < abs(x[i] - step):
            i -= 1
        at = float(x[i])
        self.smoothed_losses()
        for line in self.hover_lines:
            line.setPos(at)
            line.show()
        loss, smoothed, lr = it.y[i]
        epoch = int((at - 1) // self._batches_per_epoch) + 1
        parts = [
            f"<b>iteration {int(at):,}</b> (epoch {epoch})",
            f"loss {loss:.4g}",
            f"average {smoothed:.4g}",
            f"learning rate {lr:.3g}",
        ]
        ex = self.epochs.x
        if len(ex):
            j = int(np.searchsorted(ex, at, side="right")) - 1
            if j >= 0:
                row = self.epochs.y[j]
                parts.append(f"after epoch {int(row[_EPOCH])}: validation loss {row[_VAL_LOSS]:.4g}")
                if math.isfinite(row[_VAL_ACC]):
                    parts.append(f"accuracy {row[_TRAIN_ACC]:.1%} / {row[_VAL_ACC]:.1%}")
                if math.isfinite(row[_TRAIN_DEV_ACC]):
                    parts.append(f"train-dev {row[_TRAIN_DEV_ACC]:.1%}")
        text = " · ".join(parts)
        self.readout.setText(text)
        return text

    # --- export ----------------------------------------------------------------------------------------------

    def csv_table(self) -> tuple[list[str], list[list[Any]]]:
        header = [
            "step",
            "loss",
            "smoothed_loss",
            "lr",
            "epoch",
            "train_loss",
            "train_accuracy",
            "val_loss",
            "val_accuracy",
            "train_dev_accuracy",
        ]
        rows: dict[int, list[Any]] = {}
        nan = float("nan")
        self.smoothed_losses()
        for step, (loss, smoothed, lr) in zip(self.iterations.x, self.iterations.y, strict=True):
            rows[int(step)] = [int(step), loss, smoothed, lr, "", nan, nan, nan, nan, nan]
        for step, values in zip(self.epochs.x, self.epochs.y, strict=True):
            row = rows.setdefault(
                int(step), [int(step), nan, nan, values[_EPOCH_LR], "", nan, nan, nan, nan, nan]
            )
            row[4:] = [
                int(values[_EPOCH]),
                values[_TRAIN_LOSS],
                values[_TRAIN_ACC],
                values[_VAL_LOSS],
                values[_VAL_ACC],
                values[_TRAIN_DEV_ACC],
            ]
        return header, [rows[k] for k in sorted(rows)]
