"""A view built on first show or first use: it takes its stand-in's place in the tab widget (index, text,
tooltip, current page), once, without building its neighbours or telling that the current page changed."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QLabel, QTabWidget, QVBoxLayout, QWidget

from ui.common.lazy_view import LazyView


class Factory:
    """Builds a label and counts the calls."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.calls = 0
        self.parents: list[QWidget] = []

    def __call__(self, parent: QWidget) -> QLabel:
        self.calls += 1
        self.parents.append(parent)
        return QLabel(self.text, parent)


def tabs_with_stand_ins(qtbot, count: int = 3) -> tuple[QTabWidget, list[LazyView], list[Factory]]:
    tabs = QTabWidget()
    qtbot.addWidget(tabs)
    tabs.addTab(QLabel("first"), "First")
    factories = [Factory(f"view {n}") for n in range(count)]
    stand_ins = [LazyView(factory, f"v{n}", tabs) for n, factory in enumerate(factories)]
    for n, lazy in enumerate(stand_ins):
        index = tabs.addTab(lazy, f"View {n}")
        tabs.setTabToolTip(index, f"The view number {n}")
    return tabs, stand_ins, factories


def test_asking_for_the_view_builds_it_once_in_its_stand_ins_place(qtbot):
    tabs, stand_ins, factories = tabs_with_stand_ins(qtbot)
    assert all(lazy.pending and not lazy.is_built for lazy in stand_ins)
    assert stand_ins[1].built_view() is None and factories[1].calls == 0
    built = []
    stand_ins[1].built.connect(lambda old, new: built.append((old, new)))
    view = stand_ins[1].view()
    assert isinstance(view, QLabel) and view.text() == "view 1"
    assert stand_ins[1].view() is view and stand_ins[1].built_view() is view and factories[1].calls == 1
    assert built == [(stand_ins[1], view)]
    assert tabs.widget(2) is view and tabs.indexOf(stand_ins[1]) == -1 and tabs.count() == 4
    assert (tabs.tabText(2), tabs.tabToolTip(2)) == ("View 1", "The view number 1")
    assert tabs.currentIndex() == 0  # built while hidden: the first page stays in front
    assert [f.calls for f in factories] == [0, 1, 0]


def test_showing_the_stand_in_builds_the_view_and_shows_it_alone(qtbot):
    tabs, stand_ins, factories = tabs_with_stand_ins(qtbot)
    tabs.show()
    qtbot.waitExposed(tabs)
    changes = []
    tabs.currentChanged.connect(lambda index: changes.append((index, tabs.widget(index))))
    tabs.setCurrentIndex(2)
    view = stand_ins[1].built_view()
    assert view is not None and factories[1].calls == 1
    assert tabs.currentWidget() is view and view.isVisible()
    assert changes == [(2, view)]  # one change, to the view (not to the stand-in, nor to a neighbour)
    assert [f.calls for f in factories] == [0, 1, 0]  # its neighbours are still to be built
    tabs.setCurrentIndex(0)
    tabs.setCurrentIndex(2)
    assert factories[1].calls == 1 and tabs.currentWidget() is view


def test_the_current_stand_in_asked_for_stays_the_current_page(qtbot):
    tabs, stand_ins, _ = tabs_with_stand_ins(qtbot)
    tabs.setCurrentIndex(3)  # while the tab widget is hidden: nothing is shown, nothing built
    assert stand_ins[2].pending
    view = stand_ins[2].view()
    assert tabs.currentIndex() == 3 and tabs.currentWidget() is view


def test_a_stand_in_outside_a_tab_widget_shows_the_view_inside_itself(qtbot):
    host = QWidget()
    qtbot.addWidget(host)
    factory = Factory("inside")
    lazy = LazyView(factory, "inside")
    QVBoxLayout(host).addWidget(lazy)
    host.resize(300, 200)
    host.show()
    qtbot.waitExposed(host)
    qtbot.waitUntil(lambda: lazy.is_built)  # once it has its size and is painted
    view = lazy.built_view()
    assert view is not None and view.parentWidget() is lazy and view.isVisible()
    assert factory.parents == [lazy]


def test_a_stand_in_shown_out_of_sight_waits_until_it_comes_into_sight(qtbot):
    """Like a dock tabbed behind another, which Qt keeps shown, off the window."""
    host = QWidget()
    qtbot.addWidget(host)
    host.resize(300, 200)
    factory = Factory("later")
    lazy = LazyView(factory, "later", host)
    lazy.setGeometry(-500, -500, 100, 100)
    host.show()
    qtbot.waitExposed(host)
    qtbot.wait(50)
    assert lazy.isVisible() and lazy.pending and factory.calls == 0
    lazy.setGeometry(10, 10, 100, 100)
    qtbot.waitUntil(lambda: lazy.is_built)
    assert factory.calls == 1 and lazy.built_view().isVisible()


def test_a_view_whose_factory_failed_is_still_to_be_built(qtbot):
    tabs, _, _ = tabs_with_stand_ins(qtbot, 1)
    calls = []

    def failing(parent: QWidget) -> QWidget:
        calls.append(parent)
        if len(calls) == 1:
            raise OSError("the disk is full")
        return QLabel("second try", parent)

    lazy = LazyView(failing, "failing", tabs)
    tabs.addTab(lazy, "Failing")
    with pytest.raises(OSError):
        lazy.view()
    assert lazy.pending and tabs.widget(2) is lazy
    assert lazy.view().text() == "second try" and tabs.widget(2) is lazy.built_view()
