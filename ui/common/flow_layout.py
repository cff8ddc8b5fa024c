"""A layout that places its widgets left to right and wraps them onto the next line when the width runs out,
as words wrap in a paragraph (the ``FlowLayout`` of Qt's layout examples).

A widget whose ``keepWithNext`` property is true (a group's caption) never ends a line: it wraps together with
the widget after it. A widget whose horizontal size policy expands (a slider) takes the room left at the end of
its line.
"""

from __future__ import annotations

from PySide6.QtCore import QMargins, QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QLayout, QLayoutItem, QWidget


class FlowLayout(QLayout):
    """Widgets in lines that wrap; its height follows its width (``heightForWidth``)."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 4, line_spacing: int = 4) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing = spacing
        self._line_spacing = line_spacing
        self._line_count = 0
        self.setContentsMargins(QMargins(0, 0, 0, 0))

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._arrange(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._arrange(rect, move=True)

    def sizeHint(self) -> QSize:
        return self.minimumSize()

    def minimumSize(self) -> QSize:
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        margins = self.contentsMargins()
        return size + QSize(margins.left() + margins.right(), margins.top() + margins.bottom())

    def line_count(self) -> int:
        """The lines the widgets take at the layout's current width."""
        return self._line_count

    def _visible_items(self) -> list[QLayoutItem]:
        return [item for item in self._items if not (item.widget() and item.widget().isHidden())]

    def line_count_for(self, width: int, widgets: set[QWidget]) -> int:
        """The lines that only ``widgets`` (of this layout's) would take at ``width``, whether shown or not."""
        items = [item for item in self._items if item.widget() in widgets]
        return len(self._lines(items, self.contentsMargins().left(), width - self.contentsMargins().right()))

    def _lines(self, items: list[QLayoutItem], left: int, right: int) -> list[list[QLayoutItem]]:
        """``items`` in lines between x = ``left`` and x = ``right`` (inclusive)."""
        lines: list[list[QLayoutItem]] = [[]]
        x = left
        for index, item in enumerate(items):
            needed = item.sizeHint().width()
            widget = item.widget()
            if widget is not None and widget.property("keepWithNext") and index + 1 < len(items):
                needed += self._spacing + items[index + 1].sizeHint().width()
            if lines[-1] and x + needed > right + 1:
                lines.append([])
                x = left
            lines[-1].append(item)
            x += item.sizeHint().width() + self._spacing
        return lines if items else []

    def _arrange(self, rect: QRect, *, move: bool) -> int:
        """Place the items in ``rect``, each centred in the height of its line (only measure when not
        ``move``); returns the height they take."""
        margins = self.contentsMargins()
        area = rect.marginsRemoved(margins)
        lines = self._lines(self._visible_items(), area.x(), area.right())
        if move:
            self._line_count = len(lines)
        y = area.y()
        for number, line in enumerate(lines):
            height = max((item.sizeHint().height() for item in line), default=0)
            if move:
                used = sum(item.sizeHint().width() for item in line) + self._spacing * (len(line) - 1)
                expanding = [item for item in line if item.expandingDirections() & Qt.Orientation.Horizontal]
                room = max(0, area.width() - used)
                x = area.x()
                for item in line:
                    hint = item.sizeHint()
                    if item in expanding:
                        hint = QSize(hint.width() + room // len(expanding), hint.height())
                    item.setGeometry(QRect(QPoint(x, y + (height - hint.height()) // 2), hint))
                    x += hint.width() + self._spacing
            y += height + (self._line_spacing if number + 1 < len(lines) else 0)
        return y - rect.y() + margins.bottom()
