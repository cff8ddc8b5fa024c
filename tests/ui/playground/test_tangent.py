"""The Derivative page: the book's figure 4-7, a tangent whose slope is the numerical derivative."""

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from dllab import testfns


def tangent_slope(tangent) -> float:
    """The slope of the line as drawn."""
    x, y = tangent.tangent.getData()
    return float((y[-1] - y[0]) / (x[-1] - x[0]))


def test_the_books_tangent_at_5_and_10(view):
    view.derivative_button.click()
    tangent = view.tangent_view
    assert view.plot_stack.currentWidget() is tangent
    assert not view.results_table.isVisible() and not view.player.isEnabled()
    assert tangent.function.name == "book" and tangent.x == 5.0 and tangent.h == 1e-4
    assert tangent_slope(tangent) == pytest.approx(0.2, abs=1e-9)
    # It touches the curve at (5, f(5) = 0.75), where the point is drawn.
    x, y = tangent.tangent.getData()
    assert np.interp(5.0, x, y) == pytest.approx(0.75, abs=1e-9)
    px, py = tangent.point.getData()
    assert (px[0], py[0]) == (5.0, pytest.approx(0.75))
    assert tangent.readout["numerical"].text() == "0.1999999999990898"  # as the book prints it
    assert tangent.readout["analytic"].text() == "0.2"
    assert tangent.readout["difference"].text() == f"{0.1999999999990898 - 0.2:.2g}"

    tangent.x_spin.setValue(10.0)
    assert tangent_slope(tangent) == pytest.approx(0.3, abs=1e-9)
    assert tangent.readout["numerical"].text() == "0.2999999999986347"
    curve_x, curve_y = tangent.curve.getData()
    np.testing.assert_allclose(curve_y, 0.01 * curve_x**2 + 0.1 * curve_x)

    view.overlay_button.click()
    assert view.plot_stack.currentWidget() is view.overlay_widget
    assert view.results_table.isVisible() and view.player.isEnabled()


def test_a_tiny_h_is_lost_to_rounding_and_the_forward_difference_is_worse(view):
    tangent = view.tangent_view
    forward_error = float(tangent.readout["forward"].text().split("(")[1].rstrip(")"))
    assert forward_error == pytest.approx(1e-6, rel=0.05)  # h · f''/2 = 1e-4 · 0.02 / 2
    tangent.h_spin.setValue(1e-50)  # the book's example of rounding error
    assert tangent.h == 1e-50
    assert tangent.slope == 0.0 and tangent_slope(tangent) == 0.0
    assert tangent.readout["numerical"].text() == "0"


def test_clicking_the_plot_moves_the_point_of_contact(view, qtbot):
    view.show_derivative()
    tangent = view.tangent_view
    qtbot.wait(50)
    box = tangent.plot.getViewBox()
    pixel = tangent.plot_widget.mapFromScene(box.mapViewToScene(QPointF(12.0, 2.0)))
    QTest.mouseClick(
        tangent.plot_widget.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pixel
    )
    qtbot.waitUntil(lambda: tangent.x != 5.0)
    assert tangent.x == pytest.approx(12.0, abs=2 * box.viewPixelSize()[0] + 1e-4)
    assert tangent_slope(tangent) == pytest.approx(0.02 * tangent.x + 0.1, abs=1e-8)
    assert "tangent" in view.status_label.text()


@pytest.mark.parametrize("name", list(testfns.FUNCTIONS_1D))
def test_every_function_of_one_variable(view, name):
    tangent = view.tangent_view
    tangent.function_combo.setCurrentIndex(tangent.function_combo.findData(name))
    fn = testfns.get_1d(name)
    assert tangent.function is fn and tangent.x == fn.default_x
    assert tangent_slope(tangent) == pytest.approx(float(fn.derivative(fn.default_x)), abs=1e-7)
    assert tangent.description.text() == fn.description
    assert tangent.x_spin.minimum() == pytest.approx(fn.x_range[0], abs=1e-4)
