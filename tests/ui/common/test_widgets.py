"""Shared widgets: the progress bar that leaves painting to the event loop."""

from __future__ import annotations

from PySide6.QtWidgets import QProgressBar, QVBoxLayout, QWidget

from ui.common.widgets import ProgressBar


class CountedPaints(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.paints = 0

    def paintEvent(self, event) -> None:
        self.paints += 1


def test_a_new_value_is_painted_with_the_window_not_at_once(qtbot):
    def window_with(bar_type):
        window = QWidget()
        qtbot.addWidget(window)
        layout = QVBoxLayout(window)
        sibling, bar = CountedPaints(), bar_type()
        bar.setRange(0, 1000)
        bar.setValue(0)
        layout.addWidget(sibling)
        layout.addWidget(bar)
        window.resize(300, 200)
        window.show()
        qtbot.waitExposed(window)
        qtbot.wait(50)
        return window, sibling, bar

    def paints_at_set_value(window, sibling, bar) -> int:
        sibling.update()  # waiting to be painted, as the design panel is when a run ends
        before = sibling.paints
        bar.setValue(bar.value() + 500)
        return sibling.paints - before

    assert paints_at_set_value(*window_with(QProgressBar)) == 1  # Qt's own bar paints the window at once
    window, sibling, bar = window_with(ProgressBar)
    assert paints_at_set_value(window, sibling, bar) == 0
    qtbot.waitUntil(lambda: sibling.paints > 0 and bar.updatesEnabled())
    assert bar.value() == 500 and bar.text() == "50%"
