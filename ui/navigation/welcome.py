"""The welcome page: what the lab is, three ways to start, and every experiment of the book's chapters 3 to 8
and of the course as a card with two or three sentences on its concept and what to look for.

The page is shown on the first launch (:func:`ui.common.settings.welcome_seen`) and by Help ▸ Concepts. It
opens nothing itself: each card and each way to start carries the window's own action (the one of the Examples
menu for an experiment), and triggering it closes the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

#: The columns of cards in a section.
CARD_COLUMNS = 3


@dataclass(frozen=True)
class Card:
    """One card: a title, where it comes from (``"Chapter 6 · figure 6-9"``), two or three sentences, and the
    actions its buttons trigger (each button named by its ``label``, or by the action's text)."""

    title: str
    source: str
    text: str
    actions: tuple[QAction, ...]
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Section:
    """A heading over cards (a chapter of the book, the course)."""

    heading: str
    cards: tuple[Card, ...]


class WelcomePage(QDialog):
    """What the lab is, three ways to start (:attr:`starts`), and the sections of cards.

    Parameters
    ----------
    starts
        The three ways to start, as cards; a card without actions is the tour (it scrolls to the first section).
    sections
        The chapters and the course, their cards in order.
    """

    def __init__(
        self, starts: Sequence[Card], sections: Sequence[Section], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("welcomePage")
        self.setWindowTitle("Welcome to dllab")
        self.buttons: list[QPushButton] = []
        self.cards: dict[str, QFrame] = {}
        self.section_headings: list[QLabel] = []

        body = QWidget()
        body.setObjectName("welcomeBody")
        column = QVBoxLayout(body)
        column.setContentsMargins(28, 22, 28, 22)
        column.setSpacing(10)
        title = QLabel("Welcome to dllab", body)
        title.setObjectName("welcomeTitle")
        column.addWidget(title)
        intro = QLabel(
            "A laboratory for deep learning from scratch, on a CPU: stack layers into a network, train it on real "
            "data, and watch what happens inside while it learns (the loss, each layer's activations and gradients, "
            "the filters, the decision boundary). Every experiment of <i>Deep Learning from Scratch</i> and of the "
            "course is one click away, with the book's settings.",
            body,
        )
        intro.setWordWrap(True)
        intro.setObjectName("welcomeIntro")
        column.addWidget(intro)
        column.addWidget(_heading("Three ways to start", body))
        start_row = QHBoxLayout()
        start_row.setSpacing(12)
        for card in starts:
            start_row.addWidget(self._card(card, body, start=True), 1)
        column.addLayout(start_row)
        for section in sections:
            heading = _heading(section.heading, body)
            self.section_headings.append(heading)
            column.addWidget(heading)
            grid = QGridLayout()
            grid.setSpacing(12)
            for number, card in enumerate(section.cards):
                grid.addWidget(self._card(card, body), number // CARD_COLUMNS, number % CARD_COLUMNS)
            for number in range(CARD_COLUMNS):
                grid.setColumnStretch(number, 1)
            column.addLayout(grid)
        column.addStretch(1)

        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setWidget(body)
        footer = QHBoxLayout()
        footer.setContentsMargins(28, 4, 16, 12)
        hint = QLabel("Help ▸ Concepts (F1) opens this page again.", self)
        hint.setObjectName("hint")
        footer.addWidget(hint, 1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)
        footer.addWidget(close)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.scroll, 1)
        layout.addLayout(footer)
        self._fit_to_parent()

    def start_tour(self) -> None:
        """Scroll to the first chapter."""
        if self.section_headings:
            target = self.section_headings[0]
            QTimer.singleShot(0, lambda: self.scroll.verticalScrollBar().setValue(target.y() - 12))

    def _fit_to_parent(self) -> None:
        parent = self.parentWidget()
        width, height = 1100, 760
        if parent is not None:
            width = min(width, parent.width() - 40)
            height = min(height, parent.height() - 40)
        self.resize(max(width, 640), max(height, 480))

    def _card(self, card: Card, parent: QWidget, *, start: bool = False) -> QFrame:
        frame = QFrame(parent)
        frame.setObjectName("welcomeStart" if start else "welcomeCard")
        frame.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        box = QVBoxLayout(frame)
        box.setContentsMargins(14, 12, 14, 12)
        box.setSpacing(4)
        title = QLabel(card.title, frame)
        title.setObjectName("welcomeCardTitle")
        title.setWordWrap(True)
        box.addWidget(title)
        if card.source:
            source = QLabel(card.source, frame)
            source.setObjectName("hint")
            box.addWidget(source)
        text = QLabel(card.text, frame)
        text.setWordWrap(True)
        text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        box.addWidget(text, 1)
        row = QHBoxLayout()
        row.setSpacing(6)
        if card.actions:
            labels = card.labels or tuple(action.text().replace("&", "") for action in card.actions)
            for label, action in zip(labels, card.actions, strict=True):
                row.addWidget(self._button(label, frame, action, default=start))
        else:
            button = QPushButton("Start the tour", frame)
            button.setObjectName("welcomeButton")
            button.setProperty("primary", start)
            button.clicked.connect(self.start_tour)
            self.buttons.append(button)
            row.addWidget(button)
        row.addStretch(1)
        box.addLayout(row)
        self.cards[card.title] = frame
        return frame

    def _button(self, label: str, parent: QWidget, action: QAction, *, default: bool) -> QPushButton:
        button = QPushButton(label, parent)
        button.setObjectName("welcomeButton")
        button.setToolTip(action.toolTip())
        button.setEnabled(action.isEnabled())
        if default:
            button.setProperty("primary", True)

        def open_it() -> None:
            self.accept()
            action.trigger()

        button.clicked.connect(open_it)
        self.buttons.append(button)
        return button


def _heading(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setObjectName("welcomeHeading")
    label.setIndent(0)  # in line with the cards (a styled label would indent its text by half an x)
    return label
