"""The gradient field: arrows of −∇f over the contours (the book's figure 4-9), drawn where the user looks."""

import numpy as np
import pytest
from PySide6.QtCore import QRectF

from dllab import testfns
from ui.playground.gradient_field import COLUMNS, LONGEST, SHORTEST, arrow_segments, grid_points


def drawn_arrows(plot) -> np.ndarray:
    """The arrows as painted: ``(n, 3, 2, 2)`` from the curve's own data (a shaft and two barbs each)."""
    x, y = plot.gradient_field.curve.getData()
    return np.column_stack([x, y]).reshape(-1, 3, 2, 2)


def test_arrows_appear_when_switched_on_and_point_downhill(view, qtbot):
    view.set_function("sphere")
    assert not view.overlay.gradient_field.curve.isVisible()
    view.settings.gradient_field_check.setChecked(True)  # as the user does
    assert view.gradient_field and view.overlay.gradient_field.curve.isVisible()
    qtbot.wait(150)  # the field follows the settled view
    arrows = drawn_arrows(view.overlay)
    rect = view.overlay.plot.getViewBox().viewRect()
    assert len(grid_points(rect)) - 1 <= len(arrows) <= len(grid_points(rect))  # none at an exact minimum
    assert len(arrows) > 100

    fn = testfns.get("sphere")
    tails, tips = arrows[:, 0, 0], arrows[:, 0, 1]
    centres = (tails + tips) / 2
    direction = tips - tails
    gx, gy = fn.gradient(centres[:, 0], centres[:, 1])
    downhill = -np.column_stack([gx, gy])
    cosine = np.sum(direction * downhill, axis=1) / (
        np.linalg.norm(direction, axis=1) * np.linalg.norm(downhill, axis=1)
    )
    np.testing.assert_allclose(cosine, 1.0, atol=1e-9)
    # A few by hand: at (3, 4) the way down is towards the origin, (−0.6, −0.8).
    k = np.argmin(np.hypot(centres[:, 0] - 3.0, centres[:, 1] - 4.0))
    unit = direction[k] / np.linalg.norm(direction[k])
    expected = -np.array([3.0, 4.0]) / 5.0
    assert np.dot(unit, expected) > 0.99  # the grid point nearest (3, 4) lies within half a cell
    # Every arrow ends where its barbs start, and the barbs point back along the shaft.
    np.testing.assert_array_equal(arrows[:, 1, 0], tips)
    np.testing.assert_array_equal(arrows[:, 2, 0], tips)
    for barb in (arrows[:, 1], arrows[:, 2]):
        back = barb[:, 1] - barb[:, 0]
        assert np.all(np.sum(back * direction, axis=1) < 0)

    view.settings.gradient_field_check.setChecked(False)
    assert not view.overlay.gradient_field.curve.isVisible()


def test_arrow_lengths_are_normalised_but_shrink_towards_the_minimum():
    fn = testfns.get("rosenbrock")
    rect = QRectF(-2.0, -1.0, 4.0, 4.0)
    arrows = arrow_segments(fn, rect)
    cell = rect.width() / COLUMNS
    length = np.linalg.norm(arrows[:, 0, 1] - arrows[:, 0, 0], axis=1)
    # Rosenbrock's gradient spans four decades here; the arrows stay between the shortest and longest.
    assert np.all(length >= SHORTEST * cell - 1e-12) and np.all(length <= LONGEST * cell + 1e-12)
    assert length.max() == pytest.approx(LONGEST * cell)
    centres = (arrows[:, 0, 0] + arrows[:, 0, 1]) / 2
    size = np.hypot(*fn.gradient(centres[:, 0], centres[:, 1]))
    order = np.argsort(size)
    assert np.all(np.diff(length[order]) >= -1e-12)  # a larger gradient never gets a shorter arrow
    assert length[order[0]] < length[order[-1]] / 2


def test_no_arrow_where_the_gradient_is_zero():
    # A 3×3 grid centred on the minimum of x² + y²: the middle point has no direction.
    arrows = arrow_segments(testfns.get("sphere"), QRectF(-1.5, -1.5, 3.0, 3.0), columns=3)
    centres = (arrows[:, 0, 0] + arrows[:, 0, 1]) / 2
    assert len(arrows) == 8
    assert not np.any(np.all(np.isclose(centres, 0.0), axis=1))


def test_the_field_follows_the_function_and_the_view(view, qtbot):
    view.set_gradient_field(True)
    assert view.settings.gradient_field_check.isChecked()
    view.set_function("himmelblau")
    qtbot.wait(150)
    fn = testfns.get("himmelblau")
    arrows = drawn_arrows(view.overlay)
    centres = (arrows[:, 0, 0] + arrows[:, 0, 1]) / 2
    gx, gy = fn.gradient(centres[:, 0], centres[:, 1])
    direction = arrows[:, 0, 1] - arrows[:, 0, 0]
    assert np.all(direction[:, 0] * gx + direction[:, 1] * gy < 0)

    box = view.overlay.plot.getViewBox()
    box.setRange(rect=QRectF(2.0, 1.0, 2.0, 2.0), padding=0.0)  # zoom in around the minimum at (3, 2)
    qtbot.waitUntil(lambda: drawn_arrows(view.overlay)[:, 0, 0, 0].min() > 1.5, timeout=3000)
    centres = drawn_arrows(view.overlay)[:, 0].mean(axis=1)
    view_rect = box.viewRect()
    assert view_rect.left() <= centres[:, 0].min() and centres[:, 0].max() <= view_rect.right()


def test_small_multiples_panels_show_the_field_too(view):
    view.set_gradient_field(True)
    view.set_small_multiples(True)
    panels = view.plots()
    assert len(panels) == 4
    assert all(panel.gradient_field.curve.isVisible() for panel in panels)
    view.set_gradient_field(False)
    assert not any(panel.gradient_field.curve.isVisible() for panel in panels)
