"""The Inspector: the network's input shape, loss and name, and the selected layer's settings.

Each setting of the layer (its ``SETTINGS``) gets the editor of :func:`ui.common.setting_editor.add_editor_row`,
which fits its kind; an activation also gets a list of the other functions. Text is checked by the engine
while typing (:meth:`dllab.settings.Setting.validate` or :func:`dllab.analyze`); a change that is valid
becomes one undo command when editing finishes.
"""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtCore import QSignalBlocker, QSize, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QWidget,
)

import dllab
from dllab import losses
from dllab.spec import LAYER_TYPES
from ui.commands import ReplaceLayerCommand, SetLayerOptionCommand, SetNetworkOptionCommand
from ui.common.formatting import loss_summary, loss_title, parse_shape, shape_text
from ui.common.icons import layer_icon
from ui.common.scroll_panel import scroll_body
from ui.common.setting_editor import SettingEditor, add_editor_row
from ui.common.widgets import (
    ValidatedLineEdit,
    error_label,
    form_host,
    hint_label,
    let_shrink,
    section_title,
    style_form,
)
from ui.state import AppState, default_layer


class Inspector(QScrollArea):
    """The Inspector dock's content."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        body, self._layout = scroll_body(self)
        body.setObjectName("inspectorBody")

        # Network settings.
        self._layout.addWidget(section_title("Network", body))
        network_form = QFormLayout()
        style_form(network_form)
        self.name_edit = ValidatedLineEdit(self._parse_network_name, body)
        self.name_edit.set_help("The network's name, saved in the file.")
        self.name_edit.committed.connect(lambda v: self._push_network_option("name", v))
        self.input_edit = ValidatedLineEdit(self._parse_input_shape, body)
        self.input_edit.setPlaceholderText("784 or 1×28×28")
        self.input_edit.set_help(
            "Shape of one sample: features (784) or channels × height × width (1×28×28). "
            "It follows the dataset when you load one."
        )
        self.input_edit.committed.connect(lambda v: self._push_network_option("input_shape", v))
        self.loss_combo = let_shrink(QComboBox(body))
        for name, cls in losses.LOSSES.items():
            self.loss_combo.addItem(loss_title(name), name)
            self.loss_combo.setItemData(self.loss_combo.count() - 1, cls.summary, Qt.ItemDataRole.ToolTipRole)
        self.loss_combo.activated.connect(self._on_loss_combo_activated)
        network_form.addRow("Name", self.name_edit)
        network_form.addRow("Input shape", self.input_edit)
        network_form.addRow("Loss", self.loss_combo)
        self._layout.addLayout(network_form)
        self.network_error = error_label(body)
        self._layout.addWidget(self.network_error)
        self.loss_hint = hint_label("", body)
        self._layout.addWidget(self.loss_hint)
        for edit in (self.name_edit, self.input_edit):
            edit.error_changed.connect(self._on_network_editor_error_changed)

        line = QFrame(body)
        line.setFrameShape(QFrame.Shape.HLine)
        line.setObjectName("separator")
        self._layout.addSpacing(4)
        self._layout.addWidget(line)
        self._layout.addSpacing(2)

        # Layer settings (rebuilt when the selected layer's type or row changes).
        self.layer_title = QLabel(body)
        self.layer_title.setObjectName("sectionTitle")
        self.layer_icon = QLabel(body)
        self.layer_icon.setFixedSize(QSize(28, 28))
        title_row = QHBoxLayout()
        title_row.setSpacing(8)
        title_row.addWidget(self.layer_icon)
        title_row.addWidget(self.layer_title, 1)
        self._layout.addLayout(title_row)
        self.layer_summary = hint_label("", body)
        self._layout.addWidget(self.layer_summary)
        self.layer_form_host, self.layer_form = form_host(body)
        self.layer_form.setContentsMargins(0, 4, 0, 0)
        self._layout.addWidget(self.layer_form_host)
        self.layer_error = error_label(body)
        self._layout.addWidget(self.layer_error)
        self.layer_explanation = hint_label("", body)
        self._layout.addWidget(self.layer_explanation)
        self._layout.addStretch(1)

        self.editors: dict[str, SettingEditor] = {}
        self.function_combo: QComboBox | None = None
        self.layer_name_edit: ValidatedLineEdit | None = None
        self._shown: tuple[int, str] | None = None

        state.network_changed.connect(self._on_state_network_changed)
        state.current_layer_changed.connect(self._on_state_current_layer_changed)
        state.training_active_changed.connect(self._on_state_training_active_changed)
        self._refresh_network()
        self._refresh_layer()

    # --- network level --------------------------------------------------------------------------------------

    def _parse_network_name(self, text: str) -> str:
        return self._check_network_key("name", text.strip())

    def _parse_input_shape(self, text: str) -> list[int]:
        shape = parse_shape(text)
        if shape is None:
            raise ValueError("input shape must be numbers such as 784 or 1×28×28")
        return self._check_network_key("input_shape", shape)

    def _check_network_key(self, key: str, value: Any) -> Any:
        """``value`` if the engine accepts it for ``key``; otherwise ``ValueError`` with the engine's reason."""
        candidate = copy.deepcopy(self._state.spec)
        candidate[key] = value
        error = dllab.analyze(candidate).error
        if error is not None and error.index is None and key in error.message.replace(" ", "_"):
            raise ValueError(error.message)
        return value

    def _push_network_option(self, key: str, value: Any) -> None:
        if self._state.spec.get(key) != value:
            self._state.undo_stack.push(SetNetworkOptionCommand(self._state, key, value))

    def _on_loss_combo_activated(self, row: int) -> None:
        self._push_network_option("loss", self.loss_combo.itemData(row))

    def _on_network_editor_error_changed(self, message: str) -> None:
        message = self.name_edit.error or self.input_edit.error
        self.network_error.setText(message[:1].upper() + message[1:])
        self.network_error.setVisible(bool(message))

    def _refresh_network(self) -> None:
        spec = self._state.spec
        self.name_edit.set_value(spec.get("name"), str(spec.get("name", "")))
        shape = spec.get("input_shape")
        self.input_edit.set_value(shape, shape_text(shape) if shape else "")
        loss = spec.get("loss", "softmax_cross_entropy")
        with QSignalBlocker(self.loss_combo):
            self.loss_combo.setCurrentIndex(max(0, self.loss_combo.findData(loss)))
        self.loss_hint.setText(loss_summary(loss))

    # --- layer level ----------------------------------------------------------------------------------------

    def _on_state_network_changed(self) -> None:
        self._refresh_network()
        self._refresh_layer()

    def _on_state_current_layer_changed(self, row: int) -> None:
        self._refresh_layer()

    def _on_state_training_active_changed(self, active: bool) -> None:
        self.widget().setEnabled(not active)

    def _refresh_layer(self) -> None:
        row = self._state.current_layer
        if row < 0:
            self._shown = None
            self._clear_form()
            self.layer_icon.clear()
            self.layer_icon.hide()
            self.layer_title.setText("Layer")
            self.layer_summary.setText("Select a layer in the Network panel to edit its settings.")
            self.layer_explanation.clear()
            self.layer_error.hide()
            return
        layer = self._state.layers[row]
        type_name = str(layer.get("type", ""))
        if self._shown != (row, type_name):
            self._build_form(row, type_name)
        self._fill_values(row, layer)

    def _clear_form(self) -> None:
        while self.layer_form.rowCount():
            self.layer_form.removeRow(0)
        self.editors = {}
        self.function_combo = None
        self.layer_name_edit = None

    def _build_form(self, row: int, type_name: str) -> None:
        self._clear_form()
        self._shown = (row, type_name)
        cls = LAYER_TYPES.get(type_name)
        self.layer_icon.setPixmap(layer_icon(type_name).pixmap(QSize(28, 28), self.devicePixelRatioF()))
        self.layer_icon.show()
        self.layer_title.setText(f"{type_name}  ·  row {row + 1}")
        self.layer_summary.setText(cls.summary if cls else "Unknown layer type.")
        self.layer_explanation.setText(cls.explanation if cls else "")
        if cls is None:
            return
        if cls.category == "Activation":
            combo = let_shrink(QComboBox(self.layer_form_host))
            for name, other in LAYER_TYPES.items():
                if other.category == "Activation":
                    combo.addItem(layer_icon(name), name, name)
                    combo.setItemData(combo.count() - 1, other.summary, Qt.ItemDataRole.ToolTipRole)
            combo.activated.connect(self._on_function_combo_activated)
            self.function_combo = combo
            self.layer_form.addRow("Function", combo)
        for setting in cls.SETTINGS:
            editor = add_editor_row(self.layer_form, setting, setting.default)
            editor.committed.connect(lambda value, key=setting.name: self._push_layer_option(key, value))
            editor.error_changed.connect(self._on_layer_editor_error_changed)
            self.editors[setting.name] = editor
        name_edit = ValidatedLineEdit(self._parse_layer_name, self.layer_form_host)
        name_edit.set_help("A name for the layer; parameters are saved as <name>.W and <name>.b.")
        name_edit.committed.connect(lambda value: self._push_layer_option("name", value))
        name_edit.error_changed.connect(self._on_layer_editor_error_changed)
        self.layer_name_edit = name_edit
        self.layer_form.addRow("Name", name_edit)

    def _fill_values(self, row: int, layer: dict[str, Any]) -> None:
        cls = LAYER_TYPES.get(str(layer.get("type", "")))
        if cls is None:
            return
        if self.function_combo is not None:
            with QSignalBlocker(self.function_combo):
                self.function_combo.setCurrentIndex(self.function_combo.findData(cls.type_name))
        for setting in cls.SETTINGS:
            self.editors[setting.name].set_value(layer.get(setting.name, setting.default))
        analysis = self._state.analysis
        generated = analysis.layers[row].name if row < len(analysis.layers) else ""
        if self.layer_name_edit is not None:
            self.layer_name_edit.setPlaceholderText(generated or "automatic")
            self.layer_name_edit.set_value(layer.get("name"), str(layer.get("name") or ""))
        self._show_engine_error(row)

    def _show_engine_error(self, row: int) -> None:
        """Show the engine's reason when the layer at ``row`` is the one that cannot be built."""
        error = self._state.analysis.error
        if error is not None and error.index == row:
            self.layer_error.setText(error.message[:1].upper() + error.message[1:])
            self.layer_error.show()
        else:
            self.layer_error.hide()

    def _parse_layer_name(self, text: str) -> str | None:
        name = text.strip()
        if not name:
            return None
        row = self._state.current_layer
        candidate = copy.deepcopy(self._state.spec)
        candidate["layers"][row]["name"] = name
        error = dllab.analyze(candidate).error
        if error is not None and error.index == row and "name" in error.message:
            raise ValueError(error.message)
        return name

    def _push_layer_option(self, key: str, value: Any) -> None:
        row = self._state.current_layer
        if row < 0:
            return
        layer = self._state.layers[row]
        cls = LAYER_TYPES.get(str(layer.get("type", "")))
        default = next((s.default for s in cls.SETTINGS if s.name == key), None) if cls else None
        if layer.get(key, default) == value:
            return
        self._state.undo_stack.push(SetLayerOptionCommand(self._state, row, key, value))

    def _on_function_combo_activated(self, index: int) -> None:
        row = self._state.current_layer
        assert self.function_combo is not None
        new_type = self.function_combo.itemData(index)
        old = self._state.layers[row]
        if new_type == old.get("type"):
            return
        layer = default_layer(new_type)
        if "name" in old:
            layer["name"] = old["name"]
        self._state.undo_stack.push(ReplaceLayerCommand(self._state, row, layer))

    def _on_layer_editor_error_changed(self, message: str) -> None:
        if message:
            self.layer_error.setText(message[:1].upper() + message[1:])
            self.layer_error.setVisible(True)
        else:
            self._show_engine_error(self._state.current_layer)
