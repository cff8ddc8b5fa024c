"""The setup every panel that scrolls shares: a frameless scroll area, vertical scrolling only, around a body with
a column layout."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QScrollArea, QVBoxLayout, QWidget

#: The margins of a dock panel's body (left, top, right, bottom).
PANEL_MARGINS = (12, 10, 12, 12)


def scroll_body(
    area: QScrollArea, margins: tuple[int, int, int, int] = PANEL_MARGINS, spacing: int = 8
) -> tuple[QWidget, QVBoxLayout]:
    """Make ``area`` a frameless panel that scrolls vertically only, and give it a body to fill.

    Parameters
    ----------
    area
        The scroll area (usually the panel itself, a ``QScrollArea`` subclass).
    margins
        The body's margins: left, top, right, bottom.
    spacing
        Between the body's rows.

    Returns
    -------
    tuple of QWidget and QVBoxLayout
        The body (the area's widget, as wide as the area) and its column layout.

    Examples
    --------
    ::

        class DataPanel(QScrollArea):
            def __init__(self, parent=None):
                super().__init__(parent)
                body, layout = scroll_body(self)
                layout.addWidget(section_title("Dataset", body))
    """
    area.setWidgetResizable(True)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setFrameShape(QFrame.Shape.NoFrame)
    body = QWidget(area)
    area.setWidget(body)
    layout = QVBoxLayout(body)
    layout.setContentsMargins(*margins)
    layout.setSpacing(spacing)
    return body, layout
