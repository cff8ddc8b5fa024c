"""No view is clipped at 1280×800: each fits the centre's width with the window's panels open (the playground
and the settings columns of Compare, Search, Init and Precision go under their plots), and side by side again
when the centre is wide."""

from __future__ import annotations

from PySide6.QtWidgets import QScrollArea


def scrolled_sideways(view) -> list[str]:
    """The scroll areas of ``view`` that fit their content to their width and yet scroll sideways."""
    return [
        f"{type(area).__name__} {area.objectName()}"
        for area in view.findChildren(QScrollArea)
        if area.isVisible() and area.widgetResizable() and area.horizontalScrollBar().maximum() > 0
    ]


def test_every_view_fits_the_centre_at_1280_by_800(window, qtbot):
    window.resize(1280, 800)
    qtbot.waitUntil(lambda: window.views.width() < 600)
    for index in range(window.views.count()):
        view = window.views.widget(index)
        window.view_switcher.show_view(view)
        qtbot.wait(20)
        name = window.views.tabText(index)
        assert view.minimumSizeHint().width() <= window.views.width(), name
        assert scrolled_sideways(view) == [], name
    for view in (window.compare_view, window.search_view, window.distributions_view, window.precision_view):
        assert view.stacked  # the plots above the settings, each with a usable share of the height
        assert min(view.splitter.sizes()) >= 150
    assert window.playground_view.stacked


def test_wide_views_put_the_settings_beside_the_plots_again(window, qtbot):
    window.resize(1280, 800)
    window.view_switcher.show_view(window.compare_view)
    qtbot.waitUntil(lambda: window.compare_view.stacked)
    window.resize(1600, 1000)
    window.focus_on_views()
    qtbot.waitUntil(lambda: window.views.width() > 1000)
    window.view_switcher.show_view(window.compare_view)
    qtbot.waitUntil(lambda: not window.compare_view.stacked)
    assert window.compare_view.splitter.widget(0) is window.compare_view.sidebar_scroll
    window.view_switcher.show_view(window.playground_view)
    qtbot.waitUntil(lambda: not window.playground_view.stacked)
    assert window.playground_view.settings.width() < window.playground_view.width() // 2
    assert scrolled_sideways(window.playground_view) == []
