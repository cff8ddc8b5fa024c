"""The welcome page: shown on the first launch only, again from Help ▸ Concepts, a card for every experiment of
the book and the course that opens it through the Examples menu's own action, and the three ways to start."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton

from dllab.experiments.chapters import BOOK_EXPERIMENTS, COURSE_TOPICS
from ui.common import settings
from ui.main_window import MainWindow, _menu_actions


def buttons_of(page, title: str) -> list[QPushButton]:
    return page.cards[title].findChildren(QPushButton)


def texts_of(page, title: str) -> list[str]:
    return [label.text() for label in page.cards[title].findChildren(QLabel)]


def test_shown_on_the_first_launch_only_and_again_from_help_concepts(window, qtbot):
    page = window.show_welcome_on_first_launch()
    assert page is not None and page.isVisible()
    assert settings.welcome_seen()
    page.reject()
    assert window.show_welcome_on_first_launch() is None  # the second launch opens the lab itself
    assert window.concepts_action in _menu_actions(window.help_menu)
    window.concepts_action.trigger()
    assert window.welcome_page.isVisible() and window.welcome_page is not page
    window.welcome_page.reject()


def test_every_experiment_of_the_book_and_the_course_has_a_card_with_its_concept(window):
    page = window.show_concepts()
    for entry in BOOK_EXPERIMENTS:
        assert entry.concept.count(". ") + 1 in (2, 3, 4), (
            entry.title
        )  # two or three sentences, one may have ":"
        assert entry.concept in texts_of(page, entry.title)
        assert [b.text() for b in buttons_of(page, entry.title)] == ["Open"]
    for topic in COURSE_TOPICS:
        assert topic.concept in texts_of(page, topic.title)
    headings = [label.text() for label in page.section_headings]
    assert headings[0] == "Chapter 3: Neural networks" and headings[5] == "Chapter 8: Deep learning"
    assert headings[-1] == "The course: structuring projects"
    page.reject()


def test_a_card_opens_its_experiment_through_the_examples_menu_action(window, qtbot):
    page = window.show_concepts()
    entry = next(e for e in BOOK_EXPERIMENTS if e.target == "gradient_field")
    triggered = []
    window.book_actions[entry.title].triggered.connect(lambda *_: triggered.append(entry.title))
    (button,) = buttons_of(page, entry.title)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert triggered == [entry.title]
    assert not page.isVisible()  # the page gives way to the experiment
    assert window.views.currentWidget() is window.playground_view
    assert window.playground_view.gradient_field


def test_the_tour_scrolls_to_the_chapters(window, qtbot):
    page = window.show_concepts()
    qtbot.waitExposed(page)
    bar = page.scroll.verticalScrollBar()
    assert bar.value() == 0
    (tour,) = buttons_of(page, "A tour of the chapters")
    qtbot.mouseClick(tour, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bar.value() > 0)
    assert abs(bar.value() - (page.section_headings[0].y() - 12)) <= 1 or bar.value() == bar.maximum()
    page.reject()


def test_train_the_spiral_opens_the_spiral_network_on_the_spiral_and_trains(window, qtbot):
    window.data_panel.select_source("moons")
    qtbot.waitUntil(lambda: window.state.dataset is not None and window.state.dataset.name == "moons")
    window.state.load_network({**window.state.spec, "name": "Other"})
    page = window.show_concepts()
    (start,) = buttons_of(page, "Train the spiral")
    with qtbot.waitSignal(window.training.run_started, timeout=20_000):
        qtbot.mouseClick(start, Qt.MouseButton.LeftButton)
    assert window.state.spec["name"] == "SpiralMLP" and window.state.dataset.name == "spiral"
    with qtbot.waitSignal(window.training.run_ended, timeout=20_000):
        window.state.request_stop()


def test_the_book_mnist_networks_card_offers_the_book_networks(window):
    page = window.show_concepts()
    buttons = buttons_of(page, "The book's MNIST networks")
    assert [b.text() for b in buttons] == ["TwoLayerNet", "SimpleConvNet"]
    assert (
        buttons[1].toolTip()
        == window.book_actions["Training SimpleConvNet; its filters before and after"].toolTip()
    )
    page.reject()


def test_a_window_made_by_a_test_or_a_script_never_shows_it_by_itself(qtbot):
    window = MainWindow()
    qtbot.addWidget(window)
    assert getattr(window, "welcome_page", None) is None
    assert not settings.welcome_seen()
    window.close()
