"""The network builder: drag and drop from the palette and within the list, the insertion marker, Delete,
row texts, and an invalid stack marked in red with Train disabled."""

from __future__ import annotations

import json

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from ui.common.paths import example_networks
from ui.design.layer_drag import LAYER_MIME, decode_layer_drag
from ui.design.network_panel import ERROR_ROLE, INFO_ROLE, STATUS_ROLE

ACTIONS = Qt.DropAction.CopyAction | Qt.DropAction.MoveAction


def types(window) -> list[str]:
    return [layer["type"] for layer in window.state.layers]


def drag_and_drop(view, mime: QMimeData, pos: QPoint) -> int | None:
    """Send the events of a real drag (enter, move, drop) to the view; return the gap the marker showed."""
    viewport = view.viewport()
    buttons, modifiers = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    QApplication.sendEvent(viewport, QDragEnterEvent(pos, ACTIONS, mime, buttons, modifiers))
    move = QDragMoveEvent(pos, ACTIONS, mime, buttons, modifiers)
    QApplication.sendEvent(viewport, move)
    assert move.isAccepted()
    shown = view.drop_gap
    drop = QDropEvent(QPointF(pos), ACTIONS, mime, buttons, modifiers)
    QApplication.sendEvent(viewport, drop)
    assert drop.isAccepted()
    assert view.drop_gap is None
    return shown


def test_drag_from_the_palette_inserts_where_the_marker_shows(window):
    view = window.network_panel.view
    mime = window.palette_panel.mime_data("Dropout")
    assert decode_layer_drag(mime).layer == {"type": "Dropout", "rate": 0.5, "scaling": "inverted"}
    shown = drag_and_drop(view, mime, view.gap_position(2))
    assert shown == 2
    assert types(window) == ["Dense", "ReLU", "Dropout", "Dense", "ReLU", "Dense"]
    assert window.state.current_layer == 2
    assert window.state.undo_stack.undoText() == "Add Dropout"
    # At the very end and at the very top.
    drag_and_drop(view, window.palette_panel.mime_data("Sigmoid"), view.gap_position(6))
    assert types(window)[-1] == "Sigmoid"
    drag_and_drop(view, window.palette_panel.mime_data("BatchNorm"), view.gap_position(0))
    assert types(window)[0] == "BatchNorm"
    window.state.undo_stack.undo()
    window.state.undo_stack.undo()
    window.state.undo_stack.undo()
    assert types(window) == ["Dense", "ReLU", "Dense", "ReLU", "Dense"]


def test_drag_within_the_list_reorders(window):
    view = window.network_panel.view
    first = window.state.layer(0)
    drag_and_drop(view, view.mime_data_for_row(0), view.gap_position(3))
    assert types(window) == ["ReLU", "Dense", "Dense", "ReLU", "Dense"]
    assert window.state.layers[2] == first and window.state.current_layer == 2
    assert window.state.undo_stack.undoText() == "Move Dense"
    # Upwards, and a drop onto its own place changes nothing.
    drag_and_drop(view, view.mime_data_for_row(4), view.gap_position(0))
    assert types(window) == ["Dense", "ReLU", "Dense", "Dense", "ReLU"]
    count = window.state.undo_stack.count()
    drag_and_drop(view, view.mime_data_for_row(1), view.gap_position(2))
    assert window.state.undo_stack.count() == count
    window.state.undo_stack.undo()
    window.state.undo_stack.undo()
    assert types(window) == ["Dense", "ReLU", "Dense", "ReLU", "Dense"]


def test_foreign_drops_are_refused(window):
    view = window.network_panel.view
    text = QMimeData()
    text.setText("Dense")
    enter = QDragEnterEvent(
        view.gap_position(0),
        ACTIONS,
        text,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(view.viewport(), enter)
    assert not enter.isAccepted()
    broken = QMimeData()
    broken.setData(LAYER_MIME, b"not json")
    assert not view.handle_drop(broken, 0)
    assert window.state.undo_stack.count() == 0


def test_marker_follows_the_cursor_and_disappears_on_leave(window, qtbot):
    view = window.network_panel.view
    mime = window.palette_panel.mime_data("ReLU")
    viewport = view.viewport()
    QApplication.sendEvent(
        viewport,
        QDragEnterEvent(
            view.gap_position(1),
            ACTIONS,
            mime,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        ),
    )
    assert view.drop_gap == 1
    QApplication.sendEvent(
        viewport,
        QDragMoveEvent(
            view.gap_position(4),
            ACTIONS,
            mime,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        ),
    )
    assert view.drop_gap == 4
    view.repaint()  # paints the marker without error
    from PySide6.QtGui import QDragLeaveEvent

    QApplication.sendEvent(viewport, QDragLeaveEvent())
    assert view.drop_gap is None


def test_double_click_in_the_palette_appends(window, qtbot):
    palette = window.palette_panel
    index = palette.index_of("Dropout")
    palette.view.scrollTo(index)
    center = palette.view.visualRect(index).center()
    qtbot.mouseClick(palette.view.viewport(), Qt.MouseButton.LeftButton, pos=center)
    qtbot.mouseDClick(palette.view.viewport(), Qt.MouseButton.LeftButton, pos=center)
    assert types(window)[-1] == "Dropout" and len(window.state.layers) == 6


def test_delete_key_removes_the_selected_layer(window, qtbot):
    view = window.network_panel.view
    window.state.set_current_layer(1)
    assert view.currentIndex().row() == 1
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert types(window) == ["Dense", "Dense", "ReLU", "Dense"]
    assert window.state.current_layer == 1
    window.state.undo_stack.undo()
    assert types(window)[1] == "ReLU"


def test_rows_show_type_settings_shape_and_parameters(window):
    spec = json.loads(next(p for p in example_networks() if p.name == "simple_conv_net.json").read_text())
    window.state.load_network(spec)
    model = window.network_panel.model
    first = model.index(0, 0)
    info = first.data(INFO_ROLE)
    assert first.data() == "Conv2D"
    assert info.description == "30 filters 5x5, stride 1, pad 0, std 0.01"
    assert info.output_shape == (30, 24, 24) and info.param_count == 30 * 25 + 30
    assert "30 filters 5x5" in first.data(Qt.ItemDataRole.ToolTipRole)
    footer = window.network_panel.footer.text()
    assert "7</b> layers" in footer and "parameters" in footer and "per batch of" in footer
    assert "1×28×28" in window.network_panel.header.text()


def test_an_invalid_stack_marks_the_row_and_disables_train(window):
    view = window.network_panel.view
    drag_and_drop(view, window.palette_panel.mime_data("Conv2D"), view.gap_position(2))
    model = window.network_panel.model
    row = model.index(2, 0)
    assert row.data(STATUS_ROLE) == "error"
    shown = row.data(ERROR_ROLE)
    # The spiral's points are flat: the fix is image data or an image input shape, not another order.
    assert shown.startswith("Expects images") and "the network's input is 2 features" in shown
    assert "needs image data" in shown and "Flatten" not in shown
    reason = "Conv2D (row 3): " + shown
    assert reason in row.data(Qt.ItemDataRole.ToolTipRole)
    assert model.index(3, 0).data(STATUS_ROLE) == "unchecked"
    button = window.training_panel.train_button
    assert not button.isEnabled()
    assert button.toolTip() == reason
    assert window.training_panel.reason.text() == reason and window.training_panel.reason.isVisible()
    assert not window.train_action.isEnabled()
    assert "cannot be built" in window.network_panel.footer.text()
    view.repaint()
    window.state.undo_stack.undo()
    assert button.isEnabled() and model.index(2, 0).data(STATUS_ROLE) == "ok"


def test_an_empty_network_invites_dragging(window):
    window.documents.new_network()
    assert window.state.layers == [] and window.network_panel.model.rowCount() == 0
    window.network_panel.view.repaint()
    reason = window.training_panel.train_button.toolTip()
    assert reason == "The network has no layers yet: drag some in from the Layers panel."
    drag_and_drop(window.network_panel.view, window.palette_panel.mime_data("Dense"), QPoint(50, 10))
    assert types(window) == ["Dense"]


def test_selection_follows_the_state_both_ways(window, qtbot):
    view = window.network_panel.view
    rect = window.network_panel.row_rect(3)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.state.current_layer == 3
    window.state.set_current_layer(0)
    assert view.currentIndex().row() == 0


def test_freeze_from_the_context_menu_marks_the_layer_and_undoes(window):
    panel, state = window.network_panel, window.state
    row = next(i for i, layer in enumerate(state.layers) if layer["type"] == "Dense")
    relu = next(i for i, layer in enumerate(state.layers) if layer["type"] == "ReLU")
    assert not panel.freeze_action(relu).isEnabled()  # nothing to freeze in an activation
    action = panel.freeze_action(row)
    assert action.text() == "Freeze" and action.isEnabled()
    action.trigger()
    assert state.layers[row]["trainable"] is False
    assert state.undo_stack.undoText().startswith("Freeze")
    assert not state.analysis.layers[row].trainable
    assert "frozen" in panel.footer.text()
    unfreeze = panel.freeze_action(row)
    assert unfreeze.text() == "Unfreeze"
    state.undo_stack.undo()
    assert "trainable" not in state.layers[row]
    assert "frozen" not in panel.footer.text()
    state.undo_stack.redo()
    assert state.layers[row]["trainable"] is False
    unfreeze.trigger()
    assert "trainable" not in state.layers[row]


def test_dropout_after_the_output_layer_gets_a_gentle_note(window):
    view = window.network_panel.view
    rows = window.network_panel.model.rowCount()
    drag_and_drop(view, window.palette_panel.mime_data("Dropout"), view.gap_position(rows))
    footer = window.network_panel.footer.text()
    assert f"Dropout (row {rows + 1}): Dropout after the output layer drops the scores" in footer
    assert window.training_panel.train_button.isEnabled()  # a note, not an error
    assert window.network_panel.model.index(rows, 0).data(STATUS_ROLE) == "ok"


def test_a_layer_dragged_out_of_the_network_panel_is_removed_and_undo_brings_it_back(window, monkeypatch):
    from PySide6.QtGui import QCursor, QDrag

    view, state = window.network_panel.view, window.state
    before = [layer["type"] for layer in state.layers]
    view.setCurrentIndex(view.model().index(1, 0))
    outside = view.viewport().mapToGlobal(QPoint(view.viewport().width() + 300, 10))
    monkeypatch.setattr(QDrag, "exec", lambda drag, *args: Qt.DropAction.IgnoreAction)  # dropped on nothing
    monkeypatch.setattr(QCursor, "pos", staticmethod(lambda: outside))
    view.startDrag(Qt.DropAction.MoveAction)
    assert [layer["type"] for layer in state.layers] == before[:1] + before[2:]
    assert "Undo (Ctrl+Z) brings it back" in window.statusBar().currentMessage()
    state.undo_stack.undo()
    assert [layer["type"] for layer in state.layers] == before
    # Released inside the list (a drop that changed nothing) or taken by another widget: the layer stays.
    assert not view.finish_drag(1, Qt.DropAction.IgnoreAction, QPoint(5, 5))
    assert not view.finish_drag(1, Qt.DropAction.MoveAction, QPoint(-50, -50))
    assert [layer["type"] for layer in state.layers] == before
