"""The view switcher: every view of the centre one click away at 1280×800, through its button and through the
View menu, none of them out of sight."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QTabWidget

from ui.common.lazy_view import LazyView
from ui.main_window import MainWindow, _menu_actions
from ui.navigation.view_switcher import GROUPS, ViewSwitcher


def all_views(window: MainWindow) -> list:
    return [window.views.widget(i) for i in range(window.views.count())]


def test_every_view_is_one_click_away_in_the_switcher_at_1280_by_800(window, qtbot):
    window.resize(1280, 800)
    qtbot.waitUntil(lambda: window.views.width() < 700)
    switcher = window.view_switcher
    assert list(switcher.groups) == list(GROUPS)
    assert [window.views.tabText(window.views.indexOf(v)) for v in switcher.groups["Design"]] == [
        "Architecture",
        "Dataset",
    ]
    assert switcher.groups["Training"] == window.training_views
    assert switcher.groups["Playground"] == [window.playground_view]
    assert not window.views.tabBar().isVisible()  # the switcher takes the place of the scrolling tab bar
    views = all_views(window)
    assert sorted(map(id, views)) == sorted(id(v) for group in switcher.groups.values() for v in group)
    for index in range(len(views)):
        button = switcher.buttons[window.views.widget(index)]  # a stand-in while its view is not built
        assert button.isVisible()
        top_left = button.mapTo(window, QPoint(0, 0))  # the whole button inside the window, none cut off
        assert (
            top_left.x() >= 0
            and top_left.x() + button.width()
            <= window.views.mapTo(window, QPoint(window.views.width(), 0)).x()
        )
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        view = window.views.widget(index)  # a view not built yet has taken its stand-in's place
        assert window.views.currentWidget() is view and not isinstance(view, LazyView)
        assert button.isChecked() and switcher.buttons[view] is button
        assert sum(b.isChecked() for b in switcher.buttons.values()) == 1


def test_the_view_menu_lists_every_view_with_its_shortcut(window, qtbot):
    menu_actions = _menu_actions(window.view_menu)
    switcher = window.view_switcher
    views = all_views(window)
    for number, action in enumerate(switcher.view_actions):
        assert action in menu_actions
        expected = f"Alt+{(number + 1) % 10}" if number < 10 else ""
        assert action.shortcut() == QKeySequence(expected)
    sections = [a.text() for a in window.view_menu.actions() if a.isSeparator() and a.text()]
    assert sections[: len(GROUPS)] == list(GROUPS) and "Panels" in sections
    for index in reversed(range(len(views))):
        action = switcher.actions_by_view[window.views.widget(index)]
        action.trigger()
        view = window.views.widget(index)  # the view itself, built now if it was not
        assert window.views.currentWidget() is view and action.isChecked()
        assert switcher.actions_by_view[view] is action and not isinstance(view, LazyView)
    order = [v for group in switcher.groups.values() for v in group]
    window.views.setCurrentWidget(order[-1])
    window.next_view_action.trigger()  # wraps round to the first
    assert window.views.currentWidget() is order[0]
    window.previous_view_action.trigger()
    assert window.views.currentWidget() is order[-1]
    window.views.setCurrentWidget(window.compare_view)  # chosen from code: the switcher follows
    assert switcher.actions_by_view[window.compare_view].isChecked()


def test_the_shortcut_reaches_its_view(window, qtbot):
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.AltModifier)
    assert window.views.currentWidget() is window.curves_view  # Design's two views, then Training's first


def test_the_buttons_wrap_onto_more_lines_when_narrow_and_a_view_needs_a_tab_first(qtbot):
    views = QTabWidget()
    qtbot.addWidget(views)
    switcher = ViewSwitcher(views)
    qtbot.addWidget(switcher)
    pages = []
    for number in range(8):
        page = QTabWidget()
        pages.append(page)
        views.addTab(page, f"View number {number}")
        switcher.add_view(page, GROUPS[number % 2])
    switcher.resize(2000, 200)
    switcher.show()
    QApplication.processEvents()
    assert switcher.line_count() == 1
    switcher.resize(300, 400)
    QApplication.processEvents()
    assert switcher.line_count() >= 4
    assert switcher.heightForWidth(300) > switcher.heightForWidth(2000)
    for button in switcher.buttons.values():
        assert button.geometry().right() <= 300
    stray = QTabWidget()
    try:
        switcher.add_view(stray, "Design")
    except ValueError as error:
        assert "tab" in str(error)
    else:
        raise AssertionError("a view that is not a tab got a button")


def test_a_view_added_later_gets_a_button_and_a_view_menu_entry(window, qtbot):
    from PySide6.QtWidgets import QLabel

    extra = QLabel("A view of one's own")
    window.add_view(extra, "Extra", tip="A view added by a script", group="Experiments")
    action = window.view_switcher.actions_by_view[extra]
    assert action in _menu_actions(window.view_menu)
    assert window.view_switcher.groups["Experiments"][-1] is extra
    qtbot.mouseClick(window.view_switcher.buttons[extra], Qt.MouseButton.LeftButton)
    assert window.views.currentWidget() is extra
