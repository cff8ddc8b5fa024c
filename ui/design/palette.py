"""The Layers palette: every layer type with its icon and a one-line explanation, grouped by category.

Drag an entry into the network (private MIME type, see :mod:`ui.design.layer_drag`) or double-click it to append it.
The tooltip explains the concept behind the layer, in the engine's own words.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtCore import QMimeData, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QKeyEvent, QPainter, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from dllab.initializers import NAMED_INITIALIZERS
from dllab.spec import LAYER_TYPES
from ui.common import theme
from ui.common.icons import layer_icon
from ui.design.layer_drag import LAYER_MIME, encode_layer_drag
from ui.state import default_layer

TYPE_ROLE = Qt.ItemDataRole.UserRole + 1
SUMMARY_ROLE = Qt.ItemDataRole.UserRole + 2
HEADER_ROLE = Qt.ItemDataRole.UserRole + 3

CATEGORY_ORDER = ("Core", "Convolution", "Normalization", "Regularization", "Activation")
CATEGORY_TITLES = {
    "Core": "Core",
    "Convolution": "Convolution & pooling",
    "Normalization": "Normalization",
    "Regularization": "Regularization",
    "Activation": "Activations",
}


def layer_tooltip(type_name: str) -> str:
    """Rich-text tooltip: summary, the concept, the settings and, for weights, what each initialiser is for."""
    cls = LAYER_TYPES[type_name]
    parts = [
        f"<p><b>{html.escape(type_name)}</b> &nbsp;<span style='color:gray'>{html.escape(cls.category)}</span>"
        f"<br>{html.escape(cls.summary)}</p>",
        f"<p>{html.escape(cls.explanation)}</p>",
    ]
    settings = [s for s in cls.SETTINGS if s.kind != "init"]
    if settings:
        items = "".join(f"<li><b>{html.escape(s.label)}</b>: {html.escape(s.help)}</li>" for s in settings)
        parts.append(f"<p>Settings:</p><ul style='margin-top:0'>{items}</ul>")
    if any(s.kind == "init" for s in cls.SETTINGS):
        items = "".join(f"<li>{html.escape(text)}</li>" for text in NAMED_INITIALIZERS.values())
        parts.append(
            "<p>Initialisation sets the scale of the starting weights, so signals neither vanish nor explode "
            f"as they pass through the layers:</p><ul style='margin-top:0'>{items}</ul>"
        )
    parts.append("<p><i>Drag into the network, or double-click to append.</i></p>")
    return "<qt>" + "".join(parts) + "</qt>"


class PaletteModel(QStandardItemModel):
    """Category headers and one draggable item per layer type."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        by_category: dict[str, list[str]] = {}
        for name, cls in LAYER_TYPES.items():
            by_category.setdefault(cls.category, []).append(name)
        categories = [c for c in CATEGORY_ORDER if c in by_category] + [
            c for c in by_category if c not in CATEGORY_ORDER
        ]
        for category in categories:
            header = QStandardItem(CATEGORY_TITLES.get(category, category))
            header.setData(True, HEADER_ROLE)
            header.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.appendRow(header)
            for name in by_category[category]:
                cls = LAYER_TYPES[name]
                item = QStandardItem(layer_icon(name), name)
                item.setData(name, TYPE_ROLE)
                item.setData(cls.summary, SUMMARY_ROLE)
                item.setToolTip(layer_tooltip(name))
                item.setFlags(
                    Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled
                )
                self.appendRow(item)

    def mimeTypes(self) -> list[str]:
        return [LAYER_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        names = [i.data(TYPE_ROLE) for i in indexes if i.data(TYPE_ROLE)]
        return encode_layer_drag(default_layer(names[0]) if names else {"type": ""})

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction


class PaletteDelegate(QStyledItemDelegate):
    """Draws a header as small capitals, an entry as icon, bold name and a grey one-line summary."""

    ROW_HEIGHT = 44
    HEADER_HEIGHT = 30

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        height = self.HEADER_HEIGHT if index.data(HEADER_ROLE) else self.ROW_HEIGHT
        return QSize(200, height)

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        colors = theme.colors()
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = option.rect
        if index.data(HEADER_ROLE):
            font = QFont(option.font)
            font.setPointSizeF(font.pointSizeF() * 0.85)
            font.setBold(True)
            font.setCapitalization(QFont.Capitalization.AllUppercase)
            font.setLetterSpacing(QFont.SpacingType.PercentageSpacing, 106)
            painter.setFont(font)
            painter.setPen(colors.secondary_text)
            painter.drawText(
                rect.adjusted(12, 0, -8, -4),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom,
                index.data(),
            )
            painter.restore()
            return
        card = rect.adjusted(4, 1, -4, -1)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hovered = bool(option.state & QStyle.StateFlag.State_MouseOver)
        if selected or hovered:
            fill = QColor(colors.accent)
            fill.setAlphaF(0.18 if selected else 0.08)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(fill)
            painter.drawRoundedRect(card, 6, 6)
        icon_size = 28
        icon_rect = QRect(card.left() + 8, card.center().y() - icon_size // 2 + 1, icon_size, icon_size)
        index.data(Qt.ItemDataRole.DecorationRole).paint(painter, icon_rect)
        text_left = icon_rect.right() + 10
        text_width = card.right() - text_left - 6
        name_font = QFont(option.font)
        name_font.setBold(True)
        painter.setFont(name_font)
        painter.setPen(colors.text)
        line = painter.fontMetrics().height()
        top = card.top() + (card.height() - 2 * line) // 2
        painter.drawText(QRect(text_left, top, text_width, line), Qt.AlignmentFlag.AlignVCenter, index.data())
        small = QFont(option.font)
        small.setPointSizeF(small.pointSizeF() * 0.92)
        painter.setFont(small)
        painter.setPen(colors.secondary_text)
        summary = painter.fontMetrics().elidedText(
            index.data(SUMMARY_ROLE) or "", Qt.TextElideMode.ElideRight, text_width
        )
        painter.drawText(
            QRect(text_left, top + line, text_width, line), Qt.AlignmentFlag.AlignVCenter, summary
        )
        painter.restore()


class _PaletteListView(QListView):
    """A list view that reports Enter on an entry (double-click is the view's own signal)."""

    return_pressed = Signal(QModelIndex)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self.return_pressed.emit(self.currentIndex())
            return
        super().keyPressEvent(event)


class LayerPalette(QWidget):
    """The palette panel: a filter box over the list of layer types."""

    layer_activated = Signal(str)
    """A layer type was double-clicked (or Enter was pressed on it): append it to the network."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.filter_edit = QLineEdit(self)
        self.filter_edit.setPlaceholderText("Filter layers…")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self._on_filter_edit_text_changed)
        self.model = PaletteModel(self)
        self.view = _PaletteListView(self)
        self.view.setObjectName("paletteView")
        self.view.setModel(self.model)
        self.view.setItemDelegate(PaletteDelegate(self.view))
        self.view.setDragEnabled(True)
        self.view.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.view.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setMouseTracking(True)
        self.view.setFrameShape(QListView.Shape.NoFrame)
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.view.doubleClicked.connect(self._on_view_activated)
        self.view.return_pressed.connect(self._on_view_activated)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 4)
        layout.setSpacing(6)
        layout.addWidget(self.filter_edit)
        layout.addWidget(self.view)

    def index_of(self, type_name: str) -> QModelIndex:
        """The model index of a layer type's entry."""
        for row in range(self.model.rowCount()):
            index = self.model.index(row, 0)
            if index.data(TYPE_ROLE) == type_name:
                return index
        raise KeyError(type_name)

    def mime_data(self, type_name: str) -> QMimeData:
        """The MIME data a drag of ``type_name`` from this palette carries."""
        return self.model.mimeData([self.index_of(type_name)])

    def visible_types(self) -> list[str]:
        """Layer types not hidden by the filter, in order."""
        return [
            self.model.index(r, 0).data(TYPE_ROLE)
            for r in range(self.model.rowCount())
            if self.model.index(r, 0).data(TYPE_ROLE) and not self.view.isRowHidden(r)
        ]

    def _on_filter_edit_text_changed(self, text: str) -> None:
        needle = text.strip().lower()
        header_row: int | None = None
        header_has_match = False
        for row in range(self.model.rowCount()):
            index = self.model.index(row, 0)
            if index.data(HEADER_ROLE):
                if header_row is not None:
                    self.view.setRowHidden(header_row, not header_has_match)
                header_row, header_has_match = row, False
                continue
            haystack = (
                f"{index.data()} {index.data(SUMMARY_ROLE)} {LAYER_TYPES[index.data(TYPE_ROLE)].category}"
            )
            match = not needle or needle in haystack.lower()
            self.view.setRowHidden(row, not match)
            header_has_match |= match
        if header_row is not None:
            self.view.setRowHidden(header_row, not header_has_match)

    def _on_view_activated(self, index: QModelIndex) -> None:
        name = index.data(TYPE_ROLE)
        if name:
            self.layer_activated.emit(name)
