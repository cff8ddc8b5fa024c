"""The Inspector: fitting editors per setting, validation while typing, and every change one undo step."""

from __future__ import annotations

from PySide6.QtCore import Qt

from ui.commands import InsertLayerCommand
from ui.common.paths import example_networks
from ui.common.setting_editor import InitEditor, IntEditor, NumberEditor, PaddingEditor, SizeEditor


def select(window, row: int):
    window.state.set_current_layer(row)
    return window.inspector


def test_a_dense_layer_gets_a_spin_box_and_an_initialiser_combo(window):
    inspector = select(window, 0)
    assert isinstance(inspector.editors["units"], IntEditor)
    assert isinstance(inspector.editors["init"], InitEditor)
    assert inspector.editors["units"].spin.value() == 32
    assert inspector.editors["init"].combo.currentText() == "He"
    assert "Dense" in inspector.layer_title.text()


def test_changing_units_is_one_undoable_step(window):
    inspector = select(window, 2)
    inspector.editors["units"].spin.setValue(64)
    assert window.state.layers[2]["units"] == 64
    assert window.state.analysis.layers[2].output_shape == (64,)
    assert window.state.undo_stack.undoText() == "Change units of Dense"
    window.state.undo_stack.undo()
    assert window.state.layers[2]["units"] == 32
    assert inspector.editors["units"].spin.value() == 32
    window.state.undo_stack.redo()
    assert inspector.editors["units"].spin.value() == 64


def test_initialiser_choice_and_a_typed_standard_deviation(window, qtbot):
    inspector = select(window, 0)
    combo = inspector.editors["init"].combo
    combo.setCurrentIndex(combo.findData("xavier"))
    combo.activated.emit(combo.currentIndex())
    assert window.state.layers[0]["init"] == "xavier"
    combo.lineEdit().clear()
    qtbot.keyClicks(combo.lineEdit(), "abc")
    assert combo.property("invalid") is True
    assert inspector.layer_error.isVisible() and "init must be one of" in inspector.layer_error.text().lower()
    combo.lineEdit().clear()
    qtbot.keyClicks(combo.lineEdit(), "0.05")
    assert combo.property("invalid") is False
    combo.lineEdit().editingFinished.emit()
    assert window.state.layers[0]["init"] == 0.05
    assert window.network_panel.model.index(0, 0).data(Qt.ItemDataRole.ToolTipRole).count("std 0.05") == 1
    window.state.undo_stack.undo()
    assert window.state.layers[0]["init"] == "xavier"


def test_conv_settings_padding_and_size(window):
    window.documents.open_example(_example("simple_conv_net.json"))
    inspector = select(window, 0)
    padding = inspector.editors["padding"]
    assert isinstance(padding, PaddingEditor) and isinstance(inspector.editors["kernel_size"], SizeEditor)
    padding.mode.setCurrentIndex(padding.mode.findData("same"))
    padding.mode.activated.emit(padding.mode.currentIndex())
    assert window.state.layers[0]["padding"] == "same"
    assert window.state.analysis.layers[0].output_shape == (30, 28, 28)
    padding.mode.setCurrentIndex(0)
    padding.mode.activated.emit(0)
    padding.spin.setValue(2)
    assert window.state.layers[0]["padding"] == 2
    size = inspector.editors["kernel_size"].edit
    size.setText("3x2")
    size.textEdited.emit("3x2")
    size.editingFinished.emit()
    assert window.state.layers[0]["kernel_size"] == [3, 2]
    size.setText("0")
    size.textEdited.emit("0")
    assert size.error and "at least 1" in size.error
    size.editingFinished.emit()
    assert window.state.layers[0]["kernel_size"] == [3, 2]
    for _ in range(4):
        window.state.undo_stack.undo()
    assert window.state.layers[0]["padding"] == 0 and window.state.layers[0]["kernel_size"] == 5


def test_a_float_setting_is_validated_while_typing(window, qtbot):
    window.state.undo_stack.push(InsertLayerCommand(window.state, 2, {"type": "Dropout", "rate": 0.5}))
    inspector = select(window, 2)
    editor = inspector.editors["rate"]
    assert isinstance(editor, NumberEditor) and editor.spin.value() == 0.5
    edit = editor.spin.lineEdit()
    edit.selectAll()
    qtbot.keyClicks(edit, "1")
    assert editor.spin.property("invalid") is True and editor.error == "rate must be below 1, got 1.0"
    assert (
        editor.spin.toolTip() == editor.error
        and inspector.layer_error.text() == "Rate must be below 1, got 1.0"
    )
    count = window.state.undo_stack.count()
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert window.state.undo_stack.count() == count and window.state.layers[2]["rate"] == 0.5
    assert editor.error  # 1 is shown, refused, until another value is typed
    edit.selectAll()
    qtbot.keyClicks(edit, "0.2")
    assert not editor.error and not editor.spin.property("invalid") and not inspector.layer_error.isVisible()
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert window.state.layers[2]["rate"] == 0.2
    assert window.state.undo_stack.undoText() == "Change rate of Dropout"


def test_labels_and_tooltips_come_from_the_engine(window):
    window.state.undo_stack.push(InsertLayerCommand(window.state, 2, {"type": "BatchNorm"}))
    inspector = select(window, 2)
    form = inspector.layer_form
    labels = [form.itemAt(row, form.ItemRole.LabelRole).widget() for row in range(form.rowCount())]
    assert [label.text() for label in labels] == ["Momentum", "ε", "Name"]
    assert labels[1].toolTip() == inspector.editors["eps"].setting.help
    eps = inspector.editors["eps"]
    assert eps.slider is not None and eps.spin.value() == 1e-5  # log-scaled: a slider across decades too
    eps.spin.setValue(0.0)  # the field allows 0, the engine refuses it: eps > 0
    assert eps.error == "eps must be above 0, got 0.0" and window.state.layers[2].get("eps", 1e-5) == 1e-5
    eps.slider.setValue(eps.slider_position(1e-3))
    assert window.state.layers[2]["eps"] == 0.001 and not eps.error


def test_an_activation_can_become_another(window):
    inspector = select(window, 1)
    combo = inspector.function_combo
    assert combo is not None and combo.currentText() == "ReLU"
    combo.setCurrentIndex(combo.findData("LeakyReLU"))
    combo.activated.emit(combo.currentIndex())
    assert window.state.layers[1] == {"type": "LeakyReLU", "alpha": 0.01}
    assert "alpha" in window.inspector.editors
    window.state.undo_stack.undo()
    assert window.state.layers[1] == {"type": "ReLU"}


def test_layer_names_are_checked_by_the_engine(window, qtbot):
    inspector = select(window, 0)
    edit = inspector.layer_name_edit
    assert edit.placeholderText() == "dense_1"
    qtbot.keyClicks(edit, "dense_2")
    assert "used by" not in edit.error  # dense_2 is a generated name of a later layer: fine for now
    edit.clear()
    qtbot.keyClicks(edit, "bad.name")
    assert "no dots" in edit.error
    edit.clear()
    qtbot.keyClicks(edit, "hidden")
    edit.editingFinished.emit()
    assert window.state.layers[0]["name"] == "hidden"
    assert window.state.analysis.layers[0].name == "hidden"


def test_network_level_input_shape_loss_and_name(window, qtbot):
    inspector = window.inspector
    edit = inspector.input_edit
    assert edit.text() == "2"
    edit.clear()
    qtbot.keyClicks(edit, "1x2")
    assert edit.error and inspector.network_error.isVisible()
    edit.clear()
    qtbot.keyClicks(edit, "1×28×28")
    assert not edit.error
    edit.editingFinished.emit()
    assert window.state.spec["input_shape"] == [1, 28, 28]
    assert window.state.analysis.error is not None  # Dense right after an image input
    window.state.undo_stack.undo()
    assert window.state.spec["input_shape"] == [2] and edit.text() == "2"
    combo = inspector.loss_combo
    combo.setCurrentIndex(combo.findData("mse"))
    combo.activated.emit(combo.currentIndex())
    assert window.state.spec["loss"] == "mse" and "squared" in inspector.loss_hint.text()
    inspector.name_edit.setText("Spiral2")
    inspector.name_edit.editingFinished.emit()
    assert window.state.spec["name"] == "Spiral2" and "Spiral2" in window.windowTitle()
    assert window.state.undo_stack.count() == 2


def test_nothing_selected_shows_a_hint(window):
    window.state.set_current_layer(-1)
    assert "Select a layer" in window.inspector.layer_summary.text()
    assert window.inspector.layer_form.rowCount() == 0


def _example(name: str):
    return next(p for p in example_networks() if p.name == name)
