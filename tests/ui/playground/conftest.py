"""What the playground's tests share: the view, shown at a fixed size."""

import pytest

from ui.playground.view import PlaygroundView


@pytest.fixture
def view(qtbot):
    widget = PlaygroundView()
    qtbot.addWidget(widget)
    widget.resize(1200, 800)
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.wait(100)  # let the layout settle (the results table sizes itself), so pixels map to fixed data
    return widget
