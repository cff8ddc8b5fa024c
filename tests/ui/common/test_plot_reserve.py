"""Plots made ahead while the window is idle: filled up to the reserve's size, not while a run trains, drawn on
by every static plot, and deleted as the window closes."""

from __future__ import annotations

from ui.common import plot_reserve
from ui.common.plot_reserve import PlotReserve, take_static_plot
from ui.common.plotting import pg
from ui.common.view import static_plot


def is_static(plot: pg.PlotItem) -> bool:
    return (
        not plot.menuEnabled()
        and plot.getViewBox().state["mouseEnabled"] == [False, False]
        and not plot.getAxis("left").autoSIPrefix
        and not plot.getAxis("bottom").autoSIPrefix
    )


def test_a_reserve_fills_to_its_size_and_static_plots_take_its_spares(qtbot):
    reserve = PlotReserve(size=3)
    reserve.install()
    try:
        reserve.fill(delay_ms=0)
        qtbot.waitUntil(lambda: len(reserve.spares) == 3, timeout=5_000)
        qtbot.wait(3 * plot_reserve.FILL_INTERVAL_MS)
        assert len(reserve.spares) == 3  # no more than its size
        spares = list(reserve.spares)
        assert all(is_static(plot) and plot.scene() is None for plot in spares)

        canvas = pg.GraphicsLayoutWidget()
        qtbot.addWidget(canvas)
        taken = [static_plot(canvas, 0, col) for col in range(4)]
        assert set(map(id, taken[:3])) == set(map(id, spares))  # the spares first...
        assert id(taken[3]) not in set(map(id, spares)) and is_static(taken[3])  # ... then new plots
        assert all(plot.scene() is canvas.scene() for plot in taken)
    finally:
        reserve.clear()
    assert plot_reserve._current is None
    assert is_static(take_static_plot())  # no reserve: a new plot


def test_a_held_reserve_makes_no_plots_and_fills_once_released(qtbot):
    reserve = PlotReserve(size=2)
    try:
        reserve.hold(True)
        reserve.fill(delay_ms=0)
        qtbot.wait(4 * plot_reserve.FILL_INTERVAL_MS)
        assert reserve.spares == []
        reserve.hold(False)
        qtbot.waitUntil(lambda: len(reserve.spares) == 2, timeout=plot_reserve.FILL_DELAY_MS + 5_000)
    finally:
        reserve.clear()


def test_the_window_holds_its_reserve_while_a_run_trains_and_clears_it_as_it_closes(window, qtbot):
    reserve = window.plot_reserve
    assert plot_reserve._current is reserve
    window.state.set_training_active(True)
    assert reserve.held
    window.state.set_training_active(False)
    assert not reserve.held
    qtbot.waitUntil(lambda: len(reserve.spares) > 0, timeout=10_000)  # filled again once the run ended
    window.state.undo_stack.setClean()
    window.close()
    assert reserve.spares == [] and plot_reserve._current is None
    reserve.hold(False)  # a run that ends after the window closed
    reserve.fill(delay_ms=0)
    qtbot.wait(4 * plot_reserve.FILL_INTERVAL_MS)
    assert reserve.spares == []


def test_no_plot_is_made_while_a_mouse_button_is_held(qtbot):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QWidget

    widget = QWidget()
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    reserve = PlotReserve(size=2)
    try:
        qtbot.mousePress(widget, Qt.MouseButton.LeftButton)  # a drag begins
        reserve.fill(delay_ms=0)
        qtbot.wait(4 * plot_reserve.FILL_INTERVAL_MS)
        assert reserve.spares == []
        qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: len(reserve.spares) == 2, timeout=5_000)
    finally:
        reserve.clear()
