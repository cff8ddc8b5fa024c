"""The Network panel: the layer stack as cards, edited by drag and drop.

Each row shows the layer's type, the engine's description of its key settings, its output shape and its
parameter count. A row the engine rejects is drawn in red with the engine's reason; rows after it are dimmed
(the engine stops at the first problem). Layers dragged from the palette are inserted where the insertion
marker shows; rows dragged within the list are moved. The view only reports what was dropped where; the
panel turns that into undo commands.
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QEvent,
    QItemSelectionModel,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QPointF,
    QRect,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QColor,
    QCursor,
    QDrag,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QFont,
    QFontMetrics,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QLabel,
    QListView,
    QMenu,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from dllab.spec import LayerInfo
from ui.commands import InsertLayerCommand, MoveLayerCommand, RemoveLayerCommand, SetLayerTrainableCommand
from ui.common import theme
from ui.common.formatting import (
    bytes_text,
    count_text,
    layer_settings_text,
    loss_title,
    shape_text,
    spec_error_text,
)
from ui.common.icons import category_color, layer_icon
from ui.design.layer_drag import LAYER_MIME, decode_layer_drag, encode_layer_drag
from ui.state import AppState

LAYER_ROLE = Qt.ItemDataRole.UserRole + 1
INFO_ROLE = Qt.ItemDataRole.UserRole + 2
ERROR_ROLE = Qt.ItemDataRole.UserRole + 3
STATUS_ROLE = Qt.ItemDataRole.UserRole + 4
"""``"ok"``, ``"error"`` (the engine's first problem) or ``"unchecked"`` (after the problem)."""


class NetworkModel(QAbstractListModel):
    """The state's layers as rows, with the engine's analysis of each."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        state.network_changed.connect(self._on_state_network_changed)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._state.layers)

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.ItemIsDropEnabled
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._state.layers):
            return None
        row = index.row()
        layer = self._state.layers[row]
        analysis = self._state.analysis
        error = analysis.error
        if role == Qt.ItemDataRole.DisplayRole:
            return str(layer.get("type", "?"))
        if role == Qt.ItemDataRole.DecorationRole:
            return layer_icon(str(layer.get("type", "")))
        if role == LAYER_ROLE:
            return layer
        if role == INFO_ROLE:
            return analysis.layers[row] if row < len(analysis.layers) else None
        if role == STATUS_ROLE:
            if row < len(analysis.layers):
                return "ok"
            return "error" if error is not None and error.index == row else "unchecked"
        if role == ERROR_ROLE:  # the engine's reason; the row itself says which layer
            if error is not None and error.index == row:
                return error.message[:1].upper() + error.message[1:]
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            if error is not None and error.index == row:
                return f"<qt><b>This layer cannot be built.</b><br>{spec_error_text(error)}</qt>"
            info = analysis.layers[row] if row < len(analysis.layers) else None
            if info is None:
                return "Not checked yet: an earlier layer has a problem."
            return (
                f"<qt><b>{info.type_name}</b> ({info.name})<br>{layer_settings_text(layer)}<br>"
                f"Output {shape_text(info.output_shape)}, {count_text(info.param_count)} parameters</qt>"
            )
        return None

    def _on_state_network_changed(self) -> None:
        self.beginResetModel()
        self.endResetModel()


class NetworkDelegate(QStyledItemDelegate):
    """Draws a layer as a card: stripe, icon, type, settings, output shape, parameters, and any error."""

    BASE_HEIGHT = 52
    MARGIN_X = 6
    MARGIN_Y = 3

    def __init__(self, view: QListView) -> None:
        super().__init__(view)
        self._view = view

    TEXT_INSET = 66  # from the card's left edge to its text: number, icon, spacing

    def _error_rect_width(self, card_width: int | None = None) -> int:
        """Width the engine's reason wraps to, inside a card (by default, one as wide as the view)."""
        if card_width is None:
            card_width = self._view.viewport().width() - 2 * self.MARGIN_X
        return max(80, card_width - self.TEXT_INSET - 11)

    def _error_height(self, font: QFont, text: str) -> int:
        metrics = QFontMetrics(font)
        bounds = metrics.boundingRect(
            QRect(0, 0, self._error_rect_width(), 1000), Qt.TextFlag.TextWordWrap, text
        )
        return bounds.height()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        height = self.BASE_HEIGHT
        error = index.data(ERROR_ROLE)
        if error:
            height += self._error_height(option.font, error) + 6
        return QSize(200, height + 2 * self.MARGIN_Y)

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        colors = theme.colors()
        status = index.data(STATUS_ROLE)
        layer = index.data(LAYER_ROLE) or {}
        info: LayerInfo | None = index.data(INFO_ROLE)
        error = index.data(ERROR_ROLE)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if status == "unchecked":
            painter.setOpacity(0.5)
        card = option.rect.adjusted(self.MARGIN_X, self.MARGIN_Y, -self.MARGIN_X, -self.MARGIN_Y)
        background = QColor(colors.error_background if status == "error" else colors.card)
        border = QColor(colors.error if status == "error" else colors.card_border)
        width = 1.0
        if selected:
            border, width = (QColor(colors.error) if status == "error" else QColor(colors.accent)), 2.0
            if status != "error":
                tint = QColor(colors.accent)
                tint.setAlphaF(0.07)
                background = _blend(background, tint)
        painter.setPen(QPen(border, width))
        painter.setBrush(background)
        painter.drawRoundedRect(_inset(card, width / 2), 7, 7)
        stripe_color = colors.error if status == "error" else category_color(str(layer.get("type", "")))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(stripe_color)
        painter.drawRoundedRect(QRect(card.left() + 1, card.top() + 8, 4, self.BASE_HEIGHT - 16), 2, 2)

        small = QFont(option.font)
        small.setPointSizeF(small.pointSizeF() * 0.9)
        bold = QFont(option.font)
        bold.setBold(True)
        line = QFontMetrics(option.font).height()
        top = card.top() + (self.BASE_HEIGHT - 2 * line) // 2

        # Row number and icon.
        painter.setFont(small)
        painter.setPen(colors.secondary_text)
        number_rect = QRect(card.left() + 8, card.top(), 18, self.BASE_HEIGHT)
        painter.drawText(number_rect, Qt.AlignmentFlag.AlignCenter, str(index.row() + 1))
        icon_rect = QRect(number_rect.right() + 4, card.top() + (self.BASE_HEIGHT - 28) // 2, 28, 28)
        index.data(Qt.ItemDataRole.DecorationRole).paint(painter, icon_rect)

        # Right column: output shape and parameter count.
        shape = shape_text(info.output_shape) if info else "?"
        frozen = layer.get("trainable") is False
        params = (
            f"{count_text(info.param_count)} params" if info and info.param_count else ("—" if info else "")
        )
        if frozen:
            params += " · frozen"
        painter.setFont(bold)
        right_width = max(
            QFontMetrics(bold).horizontalAdvance(shape), QFontMetrics(small).horizontalAdvance(params), 40
        )
        right = QRect(card.right() - 10 - right_width, top, right_width, line)
        painter.setPen(colors.error if status == "error" else colors.text)
        painter.drawText(right, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, shape)
        painter.setFont(small)
        painter.setPen(colors.secondary_text)
        painter.drawText(
            right.translated(0, line), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, params
        )
        if frozen:
            params_width = QFontMetrics(small).horizontalAdvance(params)
            _paint_lock(
                painter, QRect(right.right() - params_width - 16, right.top() + line + 1, 12, line - 2)
            )

        # Middle: type (and name) over the settings.
        text_left = icon_rect.right() + 10
        text_width = right.left() - 12 - text_left
        painter.setFont(bold)
        painter.setPen(colors.text)
        type_name = str(layer.get("type", "?"))
        painter.drawText(QRect(text_left, top, text_width, line), Qt.AlignmentFlag.AlignVCenter, type_name)
        name = info.name if info else layer.get("name", "")
        if name:
            offset = QFontMetrics(bold).horizontalAdvance(type_name) + 8
            painter.setFont(small)
            painter.setPen(colors.secondary_text)
            elided = painter.fontMetrics().elidedText(
                name, Qt.TextElideMode.ElideRight, max(0, text_width - offset)
            )
            painter.drawText(
                QRect(text_left + offset, top, max(0, text_width - offset), line),
                Qt.AlignmentFlag.AlignVCenter,
                elided,
            )
        settings = info.description if info else layer_settings_text(layer)
        painter.setFont(small)
        painter.setPen(colors.secondary_text)
        settings = painter.fontMetrics().elidedText(settings, Qt.TextElideMode.ElideRight, text_width)
        painter.drawText(
            QRect(text_left, top + line, text_width, line), Qt.AlignmentFlag.AlignVCenter, settings
        )

        if error:
            painter.setFont(option.font)
            painter.setPen(colors.error)
            error_rect = QRect(
                card.left() + self.TEXT_INSET,
                card.top() + self.BASE_HEIGHT - 2,
                self._error_rect_width(card.width()),
                1000,
            )
            error_rect.setBottom(card.bottom() - 4)
            painter.drawText(error_rect, Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignTop, error)
        painter.restore()


def _paint_lock(painter: QPainter, rect: QRect) -> None:
    """A padlock in ``rect`` (a frozen layer's mark), in the secondary text colour."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    color = theme.colors().secondary_text
    body_height = rect.height() * 0.55
    body = QRectF(rect.left(), rect.bottom() - body_height, rect.width(), body_height)
    painter.setPen(QPen(color, 1.5))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    shackle = QRectF(rect.left() + rect.width() * 0.2, rect.top(), rect.width() * 0.6, rect.height() * 0.8)
    painter.drawArc(shackle, 0, 180 * 16)
    painter.drawLine(
        shackle.topLeft() + QPointF(0, shackle.height() / 2), QPointF(shackle.left(), body.top())
    )
    painter.drawLine(
        shackle.topRight() + QPointF(0, shackle.height() / 2), QPointF(shackle.right(), body.top())
    )
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color)
    painter.drawRoundedRect(body, 1.5, 1.5)
    painter.restore()


def _inset(rect: QRect, inset: float) -> QRectF:
    """``rect`` as a QRectF shrunk by ``inset`` on every side (keeps a border inside the card)."""
    return QRectF(rect).adjusted(inset, inset, -inset, -inset)


def _blend(base: QColor, over: QColor) -> QColor:
    a = over.alphaF()
    return QColor.fromRgbF(
        base.redF() * (1 - a) + over.redF() * a,
        base.greenF() * (1 - a) + over.greenF() * a,
        base.blueF() * (1 - a) + over.blueF() * a,
    )


def _drop_action(mime: QMimeData) -> Qt.DropAction:
    drag = decode_layer_drag(mime)
    return (
        Qt.DropAction.MoveAction
        if drag is not None and drag.source_row is not None
        else Qt.DropAction.CopyAction
    )


class NetworkView(QListView):
    """The list of layer cards, with an insertion marker while a layer is dragged over it.

    It reports drops as signals and changes nothing itself.
    """

    insert_requested = Signal(int, dict)
    """A layer (the dict) was dropped from outside at this insertion gap (0..rows)."""
    move_requested = Signal(int, int)
    """The row (first) was dropped so that it ends up at this index (second)."""
    remove_requested = Signal(int)
    """The row was dragged out of the list and dropped where nothing takes it: the layer goes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("networkView")
        self.setItemDelegate(NetworkDelegate(self))
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(False)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setUniformItemSizes(False)
        self.setMouseTracking(True)
        self.viewport().setAutoFillBackground(False)
        self._drop_gap: int | None = None

    # --- where a drop goes --------------------------------------------------------------------------------

    @property
    def drop_gap(self) -> int | None:
        """The insertion gap the marker shows now (None when no drag is over the view)."""
        return self._drop_gap

    def gap_at(self, pos: QPoint) -> int:
        """The insertion gap (0..rows) nearest to a viewport position."""
        rows = self.model().rowCount() if self.model() else 0
        for row in range(rows):
            rect = self.visualRect(self.model().index(row, 0))
            if pos.y() < rect.center().y():
                return row
        return rows

    def gap_position(self, gap: int) -> QPoint:
        """A viewport position that :meth:`gap_at` maps to ``gap`` (used to aim drops)."""
        rows = self.model().rowCount()
        if rows == 0:
            return QPoint(self.viewport().width() // 2, 10)
        if gap < rows:
            rect = self.visualRect(self.model().index(gap, 0))
            return QPoint(rect.center().x(), rect.top() + 2)
        rect = self.visualRect(self.model().index(rows - 1, 0))
        return QPoint(rect.center().x(), rect.bottom() - 2)

    def handle_drop(self, mime: QMimeData | None, gap: int) -> bool:
        """Turn a drop of ``mime`` at insertion ``gap`` into a request; returns whether it held a layer.

        A payload with a source row is a row of this list being moved; one without is a new layer.
        """
        drag = decode_layer_drag(mime)
        if drag is None:
            return False
        if drag.source_row is not None:
            source = drag.source_row
            if not 0 <= source < self.model().rowCount():  # a row of another window's list
                return False
            target = gap if gap <= source else gap - 1
            if target != source:
                self.move_requested.emit(source, target)
        else:
            self.insert_requested.emit(gap, drag.layer)
        return True

    # --- dragging out ---------------------------------------------------------------------------------------

    def mime_data_for_row(self, row: int) -> QMimeData:
        """What dragging the row carries: its layer entry and where it came from."""
        return encode_layer_drag(dict(self.model().index(row, 0).data(LAYER_ROLE)), row)

    def startDrag(self, supportedActions: Qt.DropAction) -> None:
        index = self.currentIndex()
        if not index.isValid():
            return
        drag = QDrag(self)
        drag.setMimeData(self.mime_data_for_row(index.row()))
        drag.setPixmap(self._row_pixmap(index))
        drag.setHotSpot(QPoint(20, 20))
        action = drag.exec(Qt.DropAction.MoveAction)
        self.finish_drag(index.row(), action, self.viewport().mapFromGlobal(QCursor.pos()))

    def finish_drag(self, row: int, action: Qt.DropAction, released: QPoint) -> bool:
        """After a drag of ``row`` ended with ``action`` at ``released`` (viewport coordinates): a layer dropped
        outside the list where nothing took it is removed, as a card is pulled off a stack. True when so."""
        if action != Qt.DropAction.IgnoreAction or self.viewport().rect().contains(released):
            return False
        self.remove_requested.emit(row)
        return True

    def _row_pixmap(self, index: QModelIndex) -> QPixmap:
        rect = self.visualRect(index)
        ratio = self.devicePixelRatioF()
        pixmap = QPixmap(rect.size() * ratio)
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        option.rect = QRect(QPoint(0, 0), rect.size())
        option.state |= QStyle.StateFlag.State_Selected
        painter.setOpacity(0.85)
        self.itemDelegate().paint(painter, option, index)
        painter.end()
        return pixmap

    # --- dropping in ----------------------------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        self.dragMoveEvent(event)  # a QDragEnterEvent is a QDragMoveEvent: the same answer and drop marker

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if event.mimeData().hasFormat(LAYER_MIME):
            event.setDropAction(_drop_action(event.mimeData()))
            event.accept()
            self._set_drop_gap(self.gap_at(event.position().toPoint()))
        else:
            event.ignore()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self._set_drop_gap(None)
        event.accept()

    def dropEvent(self, event: QDropEvent) -> None:
        gap = self.gap_at(event.position().toPoint())
        self._set_drop_gap(None)
        if self.handle_drop(event.mimeData(), gap):
            event.setDropAction(_drop_action(event.mimeData()))
            event.accept()
        else:
            event.ignore()

    def _set_drop_gap(self, gap: int | None) -> None:
        if gap != self._drop_gap:
            self._drop_gap = gap
            self.viewport().update()

    # --- painting -------------------------------------------------------------------------------------------

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.scheduleDelayedItemsLayout()  # error rows wrap to the new width

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        painter = QPainter(self.viewport())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        colors = theme.colors()
        rows = self.model().rowCount() if self.model() else 0
        if rows == 0:
            painter.setPen(colors.secondary_text)
            painter.drawText(
                self.viewport().rect().adjusted(24, 24, -24, -24),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                "Drag layers here from the Layers panel,\nor double-click one to append it.",
            )
        if self._drop_gap is not None:
            if rows == 0:
                y = 12
            elif self._drop_gap < rows:
                y = self.visualRect(self.model().index(self._drop_gap, 0)).top() + 1
            else:
                y = self.visualRect(self.model().index(rows - 1, 0)).bottom()
            pen = QPen(colors.accent, 3)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            painter.setPen(pen)
            painter.drawLine(QPointF(14, y), QPointF(self.viewport().width() - 8, y))
            painter.setBrush(colors.accent)
            painter.drawEllipse(QPointF(10, y), 4, 4)
        painter.end()


class NetworkPanel(QWidget):
    """The Network dock's content: the input, the layer cards, and the totals."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._syncing_selection = False
        self.header = QLabel(self)
        self.header.setObjectName("networkHeader")
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.setWordWrap(True)
        self.model = NetworkModel(state, self)
        self.view = NetworkView(self)
        self.view.setModel(self.model)
        self.footer = QLabel(self)
        self.footer.setObjectName("networkFooter")
        self.footer.setTextFormat(Qt.TextFormat.RichText)
        self.footer.setToolTip(
            "Memory one training batch needs: every layer's activations and their gradients, plus the weights, "
            "their gradients and two optimizer slots per weight (as Adam keeps), in float32."
        )
        self.footer.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 8, 6, 6)
        layout.setSpacing(4)
        self.locked_banner = QLabel(self)
        self.locked_banner.setObjectName("lockedBanner")
        self.locked_banner.setWordWrap(True)
        self.locked_banner.hide()
        layout.addWidget(self.header)
        layout.addWidget(self.locked_banner)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.footer)

        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._on_view_context_menu_requested)
        self.view.insert_requested.connect(self._on_view_insert_requested)
        self.view.move_requested.connect(self._on_view_move_requested)
        self.view.remove_requested.connect(self._on_view_remove_requested)
        self.view.selectionModel().currentChanged.connect(self._on_view_current_changed)
        state.network_changed.connect(self._on_state_network_changed)
        state.current_layer_changed.connect(self._on_state_current_layer_changed)
        state.training_settings_changed.connect(self._update_labels)
        state.dataset_changed.connect(self._update_labels)
        state.training_active_changed.connect(self._on_state_training_active_changed)
        self._update_labels()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._update_labels()  # the rich text carries theme colours

    def row_rect(self, row: int) -> QRect:
        """The viewport rectangle of a row (for tests and screenshots)."""
        return self.view.visualRect(self.model.index(row, 0))

    def freeze_action(self, row: int, parent: QWidget | None = None) -> QAction:
        """The Freeze (or Unfreeze) action of a layer's context menu; disabled for a layer without weights."""
        layer = self._state.layers[row]
        frozen = layer.get("trainable") is False
        action = QAction("Unfreeze" if frozen else "Freeze", parent or self)
        infos = self._state.analysis.layers
        has_weights = row < len(infos) and infos[row].param_count > 0
        action.setEnabled(frozen or has_weights)
        action.setToolTip(
            "Let this layer learn again"
            if frozen
            else "Keep this layer's weights as they are while the rest of the network trains"
        )
        action.triggered.connect(
            lambda: self._state.undo_stack.push(SetLayerTrainableCommand(self._state, row, frozen))
        )
        return action

    def _on_view_context_menu_requested(self, pos: QPoint) -> None:
        index = self.view.indexAt(pos)
        if not index.isValid():
            return
        menu = QMenu(self)
        menu.addAction(self.freeze_action(index.row(), menu))
        menu.popup(self.view.viewport().mapToGlobal(pos))

    def _on_view_insert_requested(self, gap: int, layer: dict) -> None:
        self._state.undo_stack.push(InsertLayerCommand(self._state, gap, layer))

    def _on_view_move_requested(self, source: int, target: int) -> None:
        self._state.undo_stack.push(MoveLayerCommand(self._state, source, target))

    def _on_view_remove_requested(self, row: int) -> None:
        reason = self._state.edit_blocker()
        if reason is not None:
            self._state.post_message(reason)
            return
        kind = self._state.layers[row].get("type", "layer")
        self._state.undo_stack.push(RemoveLayerCommand(self._state, row))
        self._state.post_message(f"Removed {kind} (row {row + 1}); Undo (Ctrl+Z) brings it back.")

    def _on_view_current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        if not self._syncing_selection:
            self._state.set_current_layer(current.row() if current.isValid() else -1)

    def _on_state_current_layer_changed(self, row: int) -> None:
        self._select_row(row)

    def _on_state_network_changed(self) -> None:
        self._select_row(self._state.current_layer)
        self._update_labels()

    def _on_state_training_active_changed(self, active: bool) -> None:
        self.view.setEnabled(not active)
        reason = self._state.edit_blocker()
        self.locked_banner.setText(reason or "")
        self.locked_banner.setVisible(reason is not None)
        self.view.setToolTip(reason or "")

    def _select_row(self, row: int) -> None:
        self._syncing_selection = True
        try:
            selection = self.view.selectionModel()
            if 0 <= row < self.model.rowCount():
                index = self.model.index(row, 0)
                selection.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
                self.view.scrollTo(index)
            else:
                selection.clearSelection()
                selection.setCurrentIndex(QModelIndex(), QItemSelectionModel.SelectionFlag.Clear)
        finally:
            self._syncing_selection = False

    def _update_labels(self) -> None:
        colors = theme.colors()
        spec = self._state.spec
        analysis = self._state.analysis
        secondary = colors.secondary_text.name(QColor.NameFormat.HexArgb)
        input_shape = spec.get("input_shape")
        dataset = self._state.dataset
        source = (
            f" &nbsp;<span style='color:{secondary}'>from {self._state.dataset_title()}</span>"
            if dataset
            else ""
        )
        header = f"<b>Input</b> &nbsp;{shape_text(input_shape)}{source}"
        error = analysis.error
        if error is not None and error.index is None:
            header += f"<br><span style='color:{colors.error.name()}'>{spec_error_text(error)}</span>"
        self.header.setText(header)
        layers = len(self._state.layers)
        batch = self._state.training.batch_size
        loss = loss_title(spec.get("loss", "softmax_cross_entropy"))
        details = f"Loss: {loss}"
        if analysis.ok:
            totals = f"<b>{layers}</b> layers · <b>{count_text(analysis.param_count)}</b> parameters"
            if analysis.frozen_param_count:
                totals += f" ({count_text(analysis.frozen_param_count)} frozen)"
            details = (
                f"{bytes_text(analysis.batch_memory(batch))} of memory per batch of {batch}<br>{details}"
            )
        else:
            counted = len(analysis.layers)
            totals = (
                f"<b>{layers}</b> layers · <span style='color:{colors.error.name()}'>cannot be built</span>"
                + (
                    f" · {count_text(analysis.param_count)} parameters in the first {counted}"
                    if counted
                    else ""
                )
            )
        note = ""
        if analysis.ok and analysis.notes:  # legal but pointless: a gentle note, not an error
            index, sentence = analysis.notes[0]
            layer = analysis.layers[index]
            note = (
                f"<br><span style='color:{colors.accent.name()}'>Note</span> · {layer.type_name} (row {index + 1}): "
                f"{html.escape(sentence)}."
            )
        self.footer.setText(f"{totals}<br><span style='color:{secondary}'>{details}</span>{note}")
