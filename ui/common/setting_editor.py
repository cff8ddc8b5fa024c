"""The one editor builder: from an engine :class:`~dllab.settings.Setting`, the widget that edits it.

:func:`make_editor` picks the widget by the setting's kind: a spin box for whole numbers, a number field that
steps 1-2-5 on a log scale (with a slider across the decades of its editor range for log-scaled settings such
as the learning rate), a checked text field for sizes (``5`` or ``5×3``), same / valid / pixels for padding, an
editable list for the initialiser and a list for choices. An optional setting gets a check box in front: off
(unchecked) is ``None``. :func:`add_editor_row` puts an editor into a form under the setting's label (``β₁``,
``Learning rate``) with its help as tooltip. The Inspector, the Training panel and the optimizer playground
all build their editors here, so a setting looks, reads and refuses the same everywhere.

Every value is checked by the engine (:meth:`Setting.validate`) while it is typed: a refused value marks the
field (the ``invalid`` property), shows the engine's sentence as tooltip and in :attr:`SettingEditor.error_changed`,
and is not committed; a valid change emits :attr:`SettingEditor.committed` once.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import QEvent, QObject, QSignalBlocker, Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSlider,
    QSpinBox,
    QWidget,
)

from dllab.errors import SettingsError
from dllab.initializers import INITIALIZERS, describe_init
from dllab.settings import MAX_INTEGER, Setting
from ui.common.formatting import parse_size, size_text
from ui.common.widgets import CheckedInput, FloatSpinBox, ValidatedLineEdit, let_shrink, mark_invalid

#: The largest value a Qt spin box holds.
_SPIN_LIMIT = 2**31 - 1
#: Standard deviations the initialiser list offers besides the named initialisers.
STD_CHOICES = (0.01, 0.1, 1.0)
#: Mantissas of a log slider's stops in each decade (round numbers a person would type).
SLIDER_MANTISSAS = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0)


class SettingEditor(QWidget, CheckedInput):
    """Base of the editors of one setting: shows a value and commits a new valid one.

    Parameters
    ----------
    setting
        What is edited.
    parent
        The parent widget.

    Signals
    -------
    committed(object)
        A new valid value, edited by the user (``None`` when an optional setting is switched off).
    error_changed(str)
        The engine's reason why the text shown is refused; empty once it is valid again.
    """

    committed = Signal(object)
    error_changed = Signal(str)

    def __init__(self, setting: Setting, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setting = setting
        self._value = setting.default
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(6)
        #: The "on" switch of an optional setting (unchecked: off, ``None``); None for other settings.
        self.check: QCheckBox | None = None
        if setting.optional:
            self.check = QCheckBox(self)
            self.check.setToolTip(f"Switch {setting.label} on or off")
            self.check.toggled.connect(self._on_check_toggled)
            self._layout.addWidget(self.check)
        self.setToolTip(setting.help)

    # --- what panels use ------------------------------------------------------------------------------------

    def value(self) -> Any:
        """The value shown: the last one set or committed (``None`` when off)."""
        return self._value

    def set_value(self, value: Any) -> None:
        """Show ``value`` without emitting :attr:`committed`; ``None`` switches an optional setting off (its
        field keeps the number it shows, for when it is switched on again)."""
        self._value = value
        if self.check is not None:
            with QSignalBlocker(self.check):
                self.check.setChecked(value is not None)
        if value is not None:
            self._show(value)
        self._sync_enabled()
        self._set_error("")

    # --- for the editors of each kind -----------------------------------------------------------------------

    def _finish(self) -> None:
        """Called by each kind's constructor once its fields exist: show the default."""
        self.setFocusProxy(self._fields()[0])
        self._show(self.setting.default if self.setting.default is not None else _resting_value(self.setting))
        self.set_value(self.setting.default)

    def _add_field(self, widget: QWidget, stretch: int = 1) -> None:
        widget.setToolTip(self.setting.help)
        self._layout.addWidget(widget, stretch)

    def _show(self, value: Any) -> None:
        """Show a (valid, not None) value in the fields, emitting nothing."""
        raise NotImplementedError

    def _field_value(self) -> Any:
        """The value the fields show (not yet validated)."""
        raise NotImplementedError

    def _fields(self) -> list[QWidget]:
        """The widgets that hold the value (enabled only while an optional setting is on)."""
        raise NotImplementedError

    def _invalid_widget(self) -> QWidget:
        """The widget marked while the text is refused."""
        return self._fields()[0]

    def _validated(self, candidate: Any) -> tuple[bool, Any]:
        """Whether the engine accepts ``candidate`` (showing its reason when not), and the value it makes."""
        try:
            value = self.setting.validate(candidate)
        except SettingsError as exc:
            self._set_error(str(exc))
            return False, None
        self._set_error("")
        return True, value

    def _offer(self, candidate: Any) -> None:
        """The user edited the fields to ``candidate``: commit it if it is valid and new."""
        valid, value = self._validated(candidate)
        if valid:
            self._commit(value)

    def _show_refusal(self, message: str) -> None:
        widget = self._invalid_widget()
        mark_invalid(widget, message)
        widget.setToolTip(message or self.setting.help)

    def _sync_enabled(self) -> None:
        on = self.check is None or self.check.isChecked()
        for widget in self._fields():
            widget.setEnabled(on)

    def _on_check_toggled(self, checked: bool) -> None:
        self._sync_enabled()
        if checked:
            self._offer(self._field_value())
        else:
            self._set_error("")
            self._commit(None)


class IntEditor(SettingEditor):
    """A whole number (units, filters): a spin box over the setting's bounds."""

    def __init__(self, setting: Setting, parent: QWidget | None = None) -> None:
        super().__init__(setting, parent)
        self.spin = QSpinBox(self)
        low, high = _integer_range(setting)
        self.spin.setRange(low, high)
        self.spin.setKeyboardTracking(False)
        self.spin.setAccelerated(True)
        self.spin.valueChanged.connect(self._offer)
        self._add_field(self.spin)
        self._finish()

    def _show(self, value: Any) -> None:
        with QSignalBlocker(self.spin):
            self.spin.setValue(int(value))

    def _field_value(self) -> Any:
        return self.spin.value()

    def _fields(self) -> list[QWidget]:
        return [self.spin]


class NumberEditor(SettingEditor):
    """A real number: a field that reads and writes 0.001 or 1e-08 and checks what is typed, stepping 1-2-5 on
    a log scale (or by the setting's ``step``); for a log-scaled setting also a slider across the decades of its
    editor range in round steps (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10ⁿ), unless ``compact``."""

    def __init__(self, setting: Setting, parent: QWidget | None = None, *, compact: bool = False) -> None:
        super().__init__(setting, parent)
        self.spin = FloatSpinBox(log_scale=setting.log_scale and setting.step is None, parent=self)
        self.spin.setRange(*_number_range(setting))
        if setting.step is not None:
            self.spin.setStepType(FloatSpinBox.StepType.DefaultStepType)
            self.spin.setSingleStep(setting.step)
        self.spin.lineEdit().textEdited.connect(self._on_spin_text_edited)
        self.spin.valueChanged.connect(self._offer)
        #: The slider of a log-scaled setting (None when compact, or for a linear setting).
        self.slider: QSlider | None = None
        if setting.log_scale and not compact and not setting.optional:
            self.slider = QSlider(Qt.Orientation.Horizontal, self)
            low, high = setting.editor_range or (self.spin.minimum(), self.spin.maximum())
            self._low_decade = math.floor(math.log10(max(low, 1e-12)))
            high_decade = math.ceil(math.log10(max(high, low * 10, 1e-11)))
            self.slider.setRange(0, (high_decade - self._low_decade) * len(SLIDER_MANTISSAS))
            self.slider.setPageStep(len(SLIDER_MANTISSAS))
            self.slider.valueChanged.connect(self._on_slider_value_changed)
            self._add_field(self.slider)
            self.slider.setToolTip(f"{setting.help} Drag across the decades; type an exact value beside it.")
            self.spin.setMinimumWidth(86)
            self._layout.addWidget(self.spin)
            self.spin.setToolTip(setting.help)
        else:
            if compact:
                self.spin.setMinimumWidth(92)
            self._add_field(self.spin)
        self.spin.editingFinished.connect(self._on_spin_editing_finished)
        self._finish()

    def slider_value(self, position: int) -> float:
        """The value at slider ``position``."""
        decade, stop = divmod(position, len(SLIDER_MANTISSAS))
        return float(f"{SLIDER_MANTISSAS[stop] * 10.0 ** (self._low_decade + decade):.6g}")

    def slider_position(self, value: float) -> int:
        """The slider position nearest to ``value`` (on a log scale)."""
        if self.slider is None or value <= 0:
            return 0
        target = math.log10(value)
        positions = range(self.slider.maximum() + 1)
        return min(positions, key=lambda p: abs(math.log10(self.slider_value(p)) - target))

    def _show(self, value: Any) -> None:
        with QSignalBlocker(self.spin):
            self.spin.setValue(float(value))
        if self.slider is not None:
            with QSignalBlocker(self.slider):
                self.slider.setValue(self.slider_position(float(value)))

    def _field_value(self) -> Any:
        return float(self.spin.value())

    def _fields(self) -> list[QWidget]:
        return [self.spin] if self.slider is None else [self.slider, self.spin]

    def _offer(self, candidate: Any) -> None:
        if self.slider is not None and isinstance(candidate, float):
            with QSignalBlocker(self.slider):
                self.slider.setValue(self.slider_position(candidate))
        super()._offer(candidate)

    def _on_spin_text_edited(self, text: str) -> None:
        try:
            number = float(text.strip())
        except ValueError:
            self._set_error(f"{self.setting.name} must be a number, got {text.strip()!r}")
            return
        self._validated(number)

    def _on_spin_editing_finished(self) -> None:
        if self.spin.isEnabled():
            self._offer(self._field_value())

    def _on_slider_value_changed(self, position: int) -> None:
        value = self.slider_value(position)
        with QSignalBlocker(self.spin):
            self.spin.setValue(value)
        super()._offer(value)


class SizeEditor(SettingEditor):
    """A size or a stride: one number (``5``) or two (``5×3``), typed and checked while typing."""

    def __init__(self, setting: Setting, parent: QWidget | None = None) -> None:
        super().__init__(setting, parent)
        self.edit = ValidatedLineEdit(self._parse, self)
        self.edit.set_help(setting.help)
        self.edit.committed.connect(self._commit)
        self.edit.error_changed.connect(self._set_error)
        self._add_field(self.edit)
        self._finish()

    def _parse(self, text: str) -> Any:
        value = parse_size(text)
        if value is None:
            raise ValueError(f"{self.setting.name} must be a number such as 3, or two such as 3x2")
        return self.setting.validate(value)

    def _show(self, value: Any) -> None:
        self.edit.set_value(value, size_text(value))

    def _field_value(self) -> Any:
        return parse_size(self.edit.text())

    def _fields(self) -> list[QWidget]:
        return [self.edit]

    def _show_refusal(self, message: str) -> None:
        pass  # the line edit marks itself: its error is only passed on to the panel


class PaddingEditor(SettingEditor):
    """Padding as "same", "valid" or a number of pixels."""

    def __init__(self, setting: Setting, parent: QWidget | None = None) -> None:
        super().__init__(setting, parent)
        self.mode = let_shrink(QComboBox(self), 6)
        self.mode.addItem("Pixels", "number")
        self.mode.addItem("Same", "same")
        self.mode.addItem("Valid", "valid")
        self.mode.setItemData(
            1, "Pad so the output keeps the input's size (at stride 1).", Qt.ItemDataRole.ToolTipRole
        )
        self.mode.setItemData(2, "No padding (the same as 0).", Qt.ItemDataRole.ToolTipRole)
        self.spin = QSpinBox(self)
        self.spin.setRange(_integer_range(setting)[0], 1000)
        self.spin.setKeyboardTracking(False)
        self._add_field(self.mode)
        self._add_field(self.spin)
        self.mode.activated.connect(self._on_mode_activated)
        self.spin.valueChanged.connect(self._offer)
        self._finish()

    def _show(self, value: Any) -> None:
        with QSignalBlocker(self.mode), QSignalBlocker(self.spin):
            if isinstance(value, str):
                self.mode.setCurrentIndex(self.mode.findData(value))
            else:
                self.mode.setCurrentIndex(0)
                self.spin.setValue(int(value))
        self.spin.setEnabled(not isinstance(value, str))

    def _field_value(self) -> Any:
        mode = self.mode.currentData()
        return self.spin.value() if mode == "number" else mode

    def _fields(self) -> list[QWidget]:
        return [self.mode, self.spin]

    def _sync_enabled(self) -> None:
        self.mode.setEnabled(True)
        self.spin.setEnabled(self.mode.currentData() == "number")

    def _on_mode_activated(self, row: int) -> None:
        self.spin.setEnabled(self.mode.itemData(row) == "number")
        self._offer(self._field_value())


class InitEditor(SettingEditor):
    """The initialiser: He, Xavier, their uniform forms, or a standard deviation picked or typed in."""

    def __init__(self, setting: Setting, parent: QWidget | None = None) -> None:
        super().__init__(setting, parent)
        self.combo = let_shrink(QComboBox(self))
        self.combo.setEditable(True)
        self.combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        for name in setting.choices:
            self.combo.addItem(describe_init(name), name)
            self.combo.setItemData(
                self.combo.count() - 1, INITIALIZERS[name].summary, Qt.ItemDataRole.ToolTipRole
            )
        for std in STD_CHOICES:
            self.combo.addItem(describe_init(std), std)
            self.combo.setItemData(
                self.combo.count() - 1,
                f"Normal distribution with standard deviation {std:g}, whatever the layer's size.",
                Qt.ItemDataRole.ToolTipRole,
            )
        self._add_field(self.combo)
        self.combo.setToolTip("Pick an initialiser, or type a standard deviation such as 0.05.")
        self.combo.activated.connect(self._on_combo_activated)
        line = self.combo.lineEdit()
        line.editingFinished.connect(self._on_line_editing_finished)
        line.textEdited.connect(self._on_line_text_edited)
        line.installEventFilter(self)
        self._finish()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """A first click on the text opens the list, as on any list; once the field has the focus, clicks place
        the cursor for typing a standard deviation."""
        if (
            watched is self.combo.lineEdit()
            and event.type() == QEvent.Type.MouseButtonPress
            and isinstance(event, QMouseEvent)
            and event.button() == Qt.MouseButton.LeftButton
            and not self.combo.lineEdit().hasFocus()
            and self.combo.isEnabled()
        ):
            self.combo.showPopup()
            return True
        return super().eventFilter(watched, event)

    def parse(self, text: str) -> Any:
        """``"He"`` -> ``"he"``, ``"std 0.05"`` or ``"0.05"`` -> 0.05; what the engine accepts, not yet checked."""
        cleaned = text.strip()
        for row in range(self.combo.count()):
            if cleaned.lower() == self.combo.itemText(row).lower():
                return self.combo.itemData(row)
        if cleaned.lower().startswith("std"):
            cleaned = cleaned[3:].strip()
        return cleaned

    def _show(self, value: Any) -> None:
        with QSignalBlocker(self.combo):
            row = self.combo.findData(value)
            if row >= 0:
                self.combo.setCurrentIndex(row)
            self.combo.setEditText(describe_init(value))

    def _field_value(self) -> Any:
        return self.parse(self.combo.currentText())

    def _fields(self) -> list[QWidget]:
        return [self.combo]

    def _on_combo_activated(self, row: int) -> None:
        self._offer(self.combo.itemData(row))

    def _on_line_editing_finished(self) -> None:
        self._offer(self._field_value())

    def _on_line_text_edited(self, text: str) -> None:
        self._validated(self.parse(text))


class ChoiceEditor(SettingEditor):
    """One of a few names: a list."""

    def __init__(self, setting: Setting, parent: QWidget | None = None) -> None:
        super().__init__(setting, parent)
        self.combo = let_shrink(QComboBox(self))
        for name in setting.choices:
            self.combo.addItem(name.replace("_", " ").capitalize(), name)
        self.combo.activated.connect(lambda row: self._offer(self.combo.itemData(row)))
        self._add_field(self.combo)
        self._finish()

    def _show(self, value: Any) -> None:
        with QSignalBlocker(self.combo):
            self.combo.setCurrentIndex(self.combo.findData(value))

    def _field_value(self) -> Any:
        return self.combo.currentData()

    def _fields(self) -> list[QWidget]:
        return [self.combo]


_EDITORS: dict[str, type[SettingEditor]] = {
    "int": IntEditor,
    "size": SizeEditor,
    "padding": PaddingEditor,
    "init": InitEditor,
    "choice": ChoiceEditor,
}


def make_editor(setting: Setting, parent: QWidget | None = None, *, compact: bool = False) -> SettingEditor:
    """The editor that fits ``setting``, showing its default.

    Parameters
    ----------
    setting
        What is edited.
    parent
        The parent widget.
    compact
        Whether the editor must stay narrow (a column of a grid): a log-scaled number gets no slider.
    """
    if setting.kind == "float":
        return NumberEditor(setting, parent, compact=compact)
    return _EDITORS[setting.kind](setting, parent)


def setting_label(setting: Setting, parent: QWidget | None = None) -> QLabel:
    """The setting's label (``"β₁"``) with its help as tooltip."""
    label = QLabel(setting.label, parent)
    label.setToolTip(setting.help)
    return label


def add_editor_row(form: QFormLayout, setting: Setting, value: Any) -> SettingEditor:
    """Add a row to ``form``: the setting's label and its editor, showing ``value``.

    Returns
    -------
    SettingEditor
        The editor; connect to its :attr:`~SettingEditor.committed` and :attr:`~SettingEditor.error_changed`.
    """
    host = form.parentWidget()
    editor = make_editor(setting, host)
    editor.set_value(value)
    label = setting_label(setting, host)
    label.setBuddy(editor)
    form.addRow(label, editor)
    return editor


def _resting_value(setting: Setting) -> float:
    """What the field of an optional setting shows while it is off and has never been on: a round number in
    the middle of its editor range (1 for a clipping norm from 0.001 to 100)."""
    low, high = setting.editor_range or (1.0, 1.0)
    if setting.log_scale and low > 0:
        return 10.0 ** round(math.log10(math.sqrt(low * high)))
    return (low + high) / 2


def _integer_range(setting: Setting) -> tuple[int, int]:
    """The lowest and highest whole number a spin box offers: the setting's bounds, within a spin box's."""
    low = -_SPIN_LIMIT if setting.minimum is None else math.ceil(setting.minimum)
    if setting.minimum is not None and setting.exclusive_minimum and low == setting.minimum:
        low += 1
    high = MAX_INTEGER if setting.maximum is None else math.floor(setting.maximum)
    if setting.maximum is not None and setting.exclusive_maximum and high == setting.maximum:
        high -= 1
    return max(low, -_SPIN_LIMIT), min(high, _SPIN_LIMIT)


def _number_range(setting: Setting) -> tuple[float, float]:
    """What a number field accepts: the setting's bounds (the engine refuses an excluded bound with its
    reason), and beyond its editor range where it has no bound, so that divergence can be tried."""
    low, high = setting.editor_range or (0.0, 1.0)
    lowest = setting.minimum if setting.minimum is not None else -max(abs(low) * 100, 1e6)
    highest = setting.maximum if setting.maximum is not None else max(high * 100, 1e6)
    return lowest, highest
