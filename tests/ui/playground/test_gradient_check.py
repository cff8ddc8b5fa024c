"""The sidebar's gradient check: the analytic gradient against the book's numerical one at the start point,
and which of the two the optimizers follow."""

import numpy as np
import pytest

from dllab import optimizers, testfns
from dllab.numerical import relative_error


def shown(view, row: str) -> list[str]:
    return [label.text() for label in view.settings.gradient_check.cells[row]]


def test_the_books_values_at_3_4(view):
    view.set_function("sphere")
    view.set_start(3.0, 4.0)
    check = view.settings.gradient_check
    assert check.analytic == (6.0, 8.0)
    # The book: numerical_gradient(function_2, np.array([3.0, 4.0])) is 6.00000000000378, 7.999999999999119.
    assert check.numerical == pytest.approx((6.00000000000378, 7.999999999999119), abs=1e-13)
    assert shown(view, "Analytic") == ["6", "8"]
    assert shown(view, "Numerical") == [f"{v:.16g}" for v in check.numerical]
    assert shown(view, "Numerical")[0].startswith("6.00000000000")
    differences = np.abs(np.subtract(check.analytic, check.numerical))
    assert shown(view, "Difference") == [f"{d:.2g}" for d in differences]
    error = relative_error(check.analytic, check.numerical)
    assert 0 < error < 1e-11
    assert check.error_label.text() == f"Relative error  {error:.2g}"
    assert "(3, 4)" in check.where_label.text() and "h = 0.0001" in check.where_label.text()


def test_it_follows_the_start_point_the_function_and_h(view):
    fn = testfns.get("rosenbrock")
    view.set_function("rosenbrock")
    check = view.settings.gradient_check
    x, y = fn.default_start
    assert check.analytic == tuple(float(g) for g in fn.gradient(x, y))  # (-155, -50) at (-1.5, 2)
    assert shown(view, "Analytic") == ["-155", "-50"]
    view.settings.start_x.setValue(0.5)  # typed by the user
    assert check.analytic == tuple(float(g) for g in fn.gradient(0.5, y))
    assert check.numerical == fn.numerical_gradient(0.5, y, 1e-4)
    # Rosenbrock is a quartic: the centred difference is off by about h² · f''' / 6; a larger h, more so.
    small = relative_error(check.analytic, check.numerical)
    view.settings.h_spin.setValue(1e-2)
    assert check.numerical == fn.numerical_gradient(0.5, y, 1e-2)
    assert relative_error(check.analytic, check.numerical) > 100 * small
    assert "h = 0.01" in check.where_label.text()


def test_the_optimizers_follow_the_gradient_chosen(view):
    view.set_function("sphere")
    view.set_start(-3.0, 4.0)
    view.settings.steps_spin.setValue(100)
    rows = view.settings.optimizer_panel.rows
    for name, row in rows.items():
        row.checkbox.setChecked(name == "sgd")
    rows["sgd"].editors["lr"].spin.setValue(10.0)
    analytic_end = view.runs[0].trajectory.positions[-1]
    assert analytic_end[0] == pytest.approx(-3.0 * 19.0**100, rel=1e-9)  # flies on: the exact gradient

    view.settings.gradient_combo.setCurrentIndex(view.settings.gradient_combo.findData("numerical"))
    assert view.settings.request().h == 1e-4
    # The book's numerical gradient rounds to 0 out there and stops the point at about -2.6e13.
    np.testing.assert_allclose(
        view.runs[0].trajectory.positions[-1], [-2.58983747e13, -1.29524862e12], rtol=1e-6
    )
    expected = testfns.run_optimizer(
        testfns.get("sphere"), optimizers.get("sgd", lr=10.0), (-3.0, 4.0), 100, h=1e-2
    )
    view.settings.h_spin.setValue(1e-2)  # the step the optimizers follow: a new race
    np.testing.assert_array_equal(view.runs[0].trajectory.positions, expected.positions)


def test_a_long_race_on_the_numerical_gradient_is_computed_in_the_background(view, qtbot):
    view.settings.gradient_combo.setCurrentIndex(view.settings.gradient_combo.findData("numerical"))
    for name, row in view.settings.optimizer_panel.rows.items():
        row.checkbox.setChecked(name == "adam")
    view.settings.steps_spin.setValue(1500)  # 1,500 updates, each four values of f: not between two frames
    assert view.busy
    qtbot.waitUntil(lambda: not view.busy, timeout=20_000)
    fn = testfns.get("book")
    expected = testfns.run_optimizer(
        fn,
        optimizers.get("adam", **view.settings.optimizer_panel.rows["adam"].values()),
        (-7.0, 2.0),
        1500,
        h=1e-4,
    )
    np.testing.assert_array_equal(view.runs[0].trajectory.positions, expected.positions)
