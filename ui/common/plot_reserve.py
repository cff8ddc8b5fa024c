"""Plots made ahead of need, while the window is idle.

Making a pyqtgraph plot (a :class:`pyqtgraph.PlotItem`: its options form, its view box and four axes) takes the GUI
thread 8-13 ms on an idle machine and 20-40 ms on a busy one: the longest stalls of the window were the
activation and weight views laying out their small plots, one a slice, when Train was pressed for a network of new
layers. The window keeps a reserve of plots made beforehand, one every :data:`FILL_INTERVAL_MS` while no run
trains, and :func:`ui.common.view.static_plot` takes one of them when there is one: adding a spare plot to its grid
takes 1.4-5 ms instead of 8-13 (fifteen small plots, idle machine).

The first screen has no plot and does not import pyqtgraph; the first spare plot does (about a quarter of a
second), a few seconds after the window shows and never while a mouse button is held (a drag), instead of when
Train is first pressed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QGuiApplication

if TYPE_CHECKING:
    import pyqtgraph as pg

#: Plots kept in reserve: the activation, weight and evaluation views of a run of the MLP 784-100x4-10 take 20, of
#: the book's DeepConvNet 29 (43 with the activations of every layer: the others are made as they are needed).
#: Each spare plot holds about half a MiB (its options form's widgets): 16 MiB in all.
SPARE_PLOTS = 32
#: Milliseconds between two plots made for the reserve (each takes the GUI thread about 10 ms).
FILL_INTERVAL_MS = 60
#: Milliseconds after the window asks for the reserve before the first plot is made: the window's first paints
#: and a person's first look at it come first.
FILL_DELAY_MS = 3000

_current: PlotReserve | None = None


def new_static_plot() -> pg.PlotItem:
    """A plot that only shows what it is given: no context menu, no panning or zooming with the mouse, no
    auto-range button, and plain numbers on its axes (no SI prefix). Not in any layout yet."""
    from ui.common.plotting import pg  # (imported when the first plot is made: see the module)

    plot = pg.PlotItem(enableMenu=False)
    plot.setMenuEnabled(False)
    plot.setMouseEnabled(x=False, y=False)
    plot.hideButtons()
    for name in ("left", "bottom"):
        plot.getAxis(name).enableAutoSIPrefix(False)
    return plot


def take_static_plot() -> pg.PlotItem:
    """A plot of :func:`new_static_plot`: a spare one from the window's reserve when it has one, else a new one."""
    spare = _current.take() if _current is not None else None
    return spare if spare is not None else new_static_plot()


class PlotReserve(QObject):
    """The window's spare plots (see the module): made one at a time while :attr:`held` is False, up to
    ``size``; :meth:`install` makes it the reserve that :func:`take_static_plot` draws on.

    Spare plots belong to no scene; :meth:`clear` deletes them, as the window closes.
    """

    def __init__(self, parent: QObject | None = None, size: int = SPARE_PLOTS) -> None:
        super().__init__(parent)
        self.size = size
        self.spares: list[pg.PlotItem] = []
        #: True while a run trains: the reserve is drawn on, not filled.
        self.held = False
        self._timer = QTimer(self)
        self._timer.setInterval(FILL_INTERVAL_MS)
        self._timer.timeout.connect(self._make_one)

    def install(self) -> None:
        """Make this the reserve that :func:`take_static_plot` draws on."""
        global _current
        _current = self

    @property
    def wanted(self) -> bool:
        """Whether plots are to be made: not :attr:`held`, and fewer spare ones than ``size``."""
        return not self.held and len(self.spares) < self.size

    def fill(self, delay_ms: int = FILL_DELAY_MS) -> None:
        """Start making spare plots after ``delay_ms``, while they are :attr:`wanted`."""
        if self.wanted:
            QTimer.singleShot(delay_ms, self, self._start)

    def hold(self, held: bool) -> None:
        """Stop making plots while ``held`` (a run trains); fill again when released."""
        self.held = held
        if held:
            self._timer.stop()
        else:
            self.fill()

    def take(self) -> pg.PlotItem | None:
        """A spare plot, or None when there is none left."""
        return self.spares.pop() if self.spares else None

    def clear(self) -> None:
        """Stop for good (a run that ends after the window closed fills nothing), delete the spare plots, and stop
        being the reserve :func:`take_static_plot` draws on."""
        global _current
        self._timer.stop()
        self.size = 0
        self.spares.clear()
        if _current is self:
            _current = None

    def _start(self) -> None:
        if self.wanted:
            self._timer.start()

    def _make_one(self) -> None:
        if not self.wanted:
            self._timer.stop()
            return
        if QGuiApplication.mouseButtons() != Qt.MouseButton.NoButton:
            return  # a drag or a click goes on: the next tick
        self.spares.append(new_static_plot())
