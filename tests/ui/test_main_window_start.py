"""The window starts with only what its first screen shows: the views further in (training, experiments,
playground) are stand-ins until they are shown or asked for, and their modules are not imported; the view
switcher and the View menu list every view from the start."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QWidget

from ui.common.lazy_view import LazyView
from ui.main_window import DEFERRED_VIEWS, TRAINING_VIEWS, VIEWS_MINIMUM_SIZE, MainWindow, _menu_actions

ROOT = Path(__file__).resolve().parents[2]

#: Modules of the views not on the first screen, and packages that the first screen does not need.
NOT_AT_START = (
    "ui.training.views",
    "ui.experiments.compare_view",
    "ui.experiments.search_view",
    "ui.experiments.distributions_view",
    "ui.experiments.precision_view",
    "ui.experiments.run_browser",
    "ui.experiments.transfer_dialog",
    "ui.playground.view",
    "ui.design.gradient_check",
    "pyqtgraph",
    "optuna",
    "matplotlib",
    "onnx",
    "PIL",
)

_START = """
import gc, json, sys
from PySide6.QtWidgets import QApplication
app = QApplication([])
from ui.app import configure_application
configure_application(app)
from ui.main_window import MainWindow
window = MainWindow()
window.show()
app.processEvents()
print(json.dumps({
    "imported": sorted(m for m in sys.modules),
    "pending": sorted(name for name, lazy in window.lazy_views.items() if lazy.pending),
    "tabs": [window.views.tabText(i) for i in range(window.views.count())],
    "collecting_in_any_thread": gc.isenabled(),
}))
"""


def test_a_fresh_start_imports_and_builds_no_deferred_view(tmp_path):
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "DLLAB_HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path),
        "XDG_CACHE_HOME": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-c", _START], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr
    start = json.loads(done.stdout.splitlines()[-1])
    imported = set(start["imported"])
    assert [m for m in NOT_AT_START if m in imported] == []
    every_deferred = [name for name, *_ in TRAINING_VIEWS] + [name for name, *_ in DEFERRED_VIEWS]
    assert start["pending"] == sorted(every_deferred)
    assert len(start["tabs"]) == 2 + len(every_deferred)
    assert not start["collecting_in_any_thread"]  # the GUI thread collects (ui.common.garbage)


def test_the_window_builds_no_deferred_view_and_lists_them_all(window):
    assert all(isinstance(lazy, LazyView) and lazy.pending for lazy in window.lazy_views.values())
    assert window.views.currentWidget() is window.architecture_view
    tabs = [window.views.tabText(i) for i in range(window.views.count())]
    assert tabs == ["Architecture", "Dataset"] + [t for _, t, _ in TRAINING_VIEWS] + [
        t for _, t, _, _ in DEFERRED_VIEWS
    ]
    menu = [a.text() for a in _menu_actions(window.view_menu)]
    assert all(tab in menu for tab in tabs)
    for lazy in window.lazy_views.values():
        assert window.view_switcher.buttons[lazy].text() == window.views.tabText(window.views.indexOf(lazy))


def test_asking_for_a_deferred_view_builds_it_once_in_its_place(window):
    lazy = window.lazy_views["search_view"]
    index = window.views.indexOf(lazy)
    view = window.search_view
    assert type(view).__name__ == "SearchView" and not lazy.pending
    assert window.search_view is view and window.views.widget(index) is view
    assert window.views.indexOf(lazy) == -1 and window.views.currentWidget() is window.architecture_view
    assert len(window.views.findChildren(type(view))) == 1
    assert window.view_switcher.groups["Experiments"][1] is view
    assert window.view_switcher.buttons[view].text() == "Search"
    others = [name for name, other in window.lazy_views.items() if other.pending]
    assert "compare_view" in others and "curves_view" in others  # the rest wait


def test_switching_to_a_deferred_view_builds_it(window, qtbot):
    lazy = window.lazy_views["playground_view"]
    window.view_switcher.show_view(lazy)
    view = lazy.built_view()
    assert view is not None and type(view).__name__ == "PlaygroundView"
    assert window.views.currentWidget() is view and view.isVisible()
    assert window.view_switcher.actions_by_view[view].isChecked()
    assert window.playground_view is view
    assert all(other.pending for name, other in window.lazy_views.items() if name != "playground_view")


def test_a_training_view_shown_builds_the_training_views_together(window, qtbot):
    window.view_switcher.actions_by_view[window.lazy_views["boundary_view"]].trigger()
    views = [window.lazy_views[name].built_view() for name, *_ in TRAINING_VIEWS]
    assert all(isinstance(view, QWidget) for view in views)
    assert window.views.currentWidget() is window.boundary_view is views[4]
    assert window.training_views == views == window.training.views
    assert window.view_switcher.groups["Training"] == views
    assert window.lazy_views["compare_view"].pending


@pytest.mark.parametrize(
    ("name", "title", "tip"),
    [(name, title, tip) for name, title, tip in TRAINING_VIEWS]
    + [(name, title, tip) for name, title, tip, _ in DEFERRED_VIEWS if name != "playground_view"],
)
def test_the_tab_of_a_deferred_view_is_the_views_own_title(window, name, title, tip):
    """The titles written down for the stand-ins are the views' (the playground has none of its own)."""
    view = getattr(window, name)
    label = view.tab_title or view.title
    assert (title, tip) == (label, view.title if view.title != label else "")


def test_closing_shuts_down_only_the_views_that_were_built(qtbot, monkeypatch):
    from ui.experiments.compare_view import CompareView
    from ui.experiments.search_view import SearchView

    shut = []
    monkeypatch.setattr(CompareView, "shutdown", lambda self: shut.append("compare"))
    monkeypatch.setattr(SearchView, "shutdown", lambda self: shut.append("search"))
    window = MainWindow()
    qtbot.addWidget(window)
    window.compare_view  # noqa: B018 (asking builds it)
    window.window_closing.emit()
    assert shut == ["compare"] and window.lazy_views["search_view"].pending


def test_the_panels_stay_where_they_are_when_the_views_are_built(window, qtbot):
    """The stand-ins ask for the room that the views will: building them moves no panel (at 1280×800 the
    centre's minimum width is what narrows the panels)."""
    window.resize(1280, 800)
    qtbot.waitUntil(lambda: window.views.width() < 600)

    def layout() -> tuple:
        return window.views.size().toTuple(), tuple(dock.width() for dock in window.docks[:3])

    at_start = layout()
    for name in window.lazy_views:
        getattr(window, name)
    qtbot.wait(50)
    assert layout() == at_start
    largest = max(window.views.widget(i).minimumSizeHint().width() for i in range(window.views.count()))
    assert largest - 16 <= VIEWS_MINIMUM_SIZE.width() <= largest + 16  # measured with the app's theme


def test_a_run_builds_the_training_views_before_its_first_item(window, qtbot, fake_dialogs):
    names = [name for name, *_ in TRAINING_VIEWS]
    assert all(window.lazy_views[name].pending for name in names)
    at_run_start = []
    window.training.run_started.connect(
        lambda _: at_run_start.append([window.lazy_views[name].pending for name in names])
    )
    window.state.set_training_settings(epochs=2)
    with qtbot.waitSignal(window.training.run_ended, timeout=60_000):
        window.training_panel.train_button.click()
    assert at_run_start == [[False] * len(names)]
    curves = window.curves_view
    curves.flush()
    assert (
        curves.iterations.seen == 2 * 14
    )  # every batch of the run, from its first (432 samples, 32 a batch)
    assert window.lazy_views["compare_view"].pending  # the other views still wait
