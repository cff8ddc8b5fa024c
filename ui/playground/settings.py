"""The optimizer playground's sidebar: a preset, the function, the start point, the number of steps, the
tolerance, and the optimizers with their hyperparameters. Together they make a
:class:`~ui.playground.runs.RunRequest`."""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from dllab import testfns
from dllab.testfns import Function2D
from ui.common.widgets import FloatSpinBox, hint_label, section_title, style_form
from ui.playground.optimizers import OptimizerPanel
from ui.playground.runs import MAX_STEPS, PRESETS, Preset, RunRequest

DEFAULT_TOLERANCE = 1e-3


def _coordinate_spin(parent: QWidget) -> QDoubleSpinBox:
    spin = QDoubleSpinBox(parent)
    spin.setRange(-1e6, 1e6)
    spin.setDecimals(3)
    spin.setSingleStep(0.1)
    spin.setKeyboardTracking(False)
    return spin


class SettingsPanel(QScrollArea):
    """Everything that determines the trajectories, in a scrollable column.

    Signals
    -------
    preset_chosen(str)
        The user picked a preset (its key in :data:`~ui.playground.runs.PRESETS`).
    function_chosen(str)
        The user picked a test function.
    start_edited()
        The user typed a start coordinate.
    changed()
        The user changed the steps, the tolerance or an optimizer.
    """

    preset_chosen = Signal(str)
    function_chosen = Signal(str)
    start_edited = Signal()
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        content = QWidget()
        column = QVBoxLayout(content)
        column.setContentsMargins(14, 12, 14, 12)
        column.setSpacing(8)

        self.preset_combo = QComboBox(content)
        self.preset_combo.addItem("Choose a preset…", "")
        for preset in PRESETS.values():
            self.preset_combo.addItem(preset.title, preset.key)
            index = self.preset_combo.count() - 1
            self.preset_combo.setItemData(index, preset.description, Qt.ItemDataRole.ToolTipRole)
        self.preset_combo.activated.connect(self._on_preset_combo_activated)
        column.addWidget(section_title("Preset", content))
        column.addWidget(self.preset_combo)
        column.addSpacing(6)

        self.function_combo = QComboBox(content)
        for fn in testfns.FUNCTIONS.values():
            self.function_combo.addItem(fn.title, fn.name)
        self.function_combo.currentIndexChanged.connect(self._on_function_combo_changed)
        self.function_hint = hint_label(self.function.description, content)
        column.addWidget(section_title("Function", content))
        column.addWidget(self.function_combo)
        column.addWidget(self.function_hint)
        column.addSpacing(6)

        form = QFormLayout()
        style_form(form)
        self.start_x = _coordinate_spin(content)
        self.start_y = _coordinate_spin(content)
        start_row = QHBoxLayout()
        start_row.setSpacing(6)
        for label, spin in (("x", self.start_x), ("y", self.start_y)):
            start_row.addWidget(QLabel(label, content))
            start_row.addWidget(spin, 1)
            spin.valueChanged.connect(self._on_start_spin_changed)
        form.addRow("Start", start_row)
        self.steps_spin = QSpinBox(content)
        self.steps_spin.setRange(1, MAX_STEPS)
        self.steps_spin.setAccelerated(True)
        self.steps_spin.setKeyboardTracking(False)
        self.steps_spin.setToolTip(f"Number of updates each optimizer makes (up to {MAX_STEPS:,}).")
        self.steps_spin.valueChanged.connect(self._on_value_edited)
        form.addRow("Steps", self.steps_spin)
        self.tol_spin = FloatSpinBox(log_scale=True, parent=content)
        self.tol_spin.setRange(1e-12, 1e3)
        self.tol_spin.setValue(DEFAULT_TOLERANCE)
        self.tol_spin.setToolTip("A run has converged once f − f(minimum) is at most this value.")
        self.tol_spin.valueChanged.connect(self._on_value_edited)
        form.addRow("Tolerance", self.tol_spin)
        column.addWidget(section_title("Start and steps", content))
        column.addLayout(form)
        column.addWidget(hint_label("Click on the plot to move the start point.", content))
        column.addSpacing(6)

        self.optimizer_panel = OptimizerPanel(content)
        self.optimizer_panel.changed.connect(self._on_value_edited)
        column.addWidget(section_title("Optimizers", content))
        column.addWidget(self.optimizer_panel)
        column.addStretch(1)

        for title in content.findChildren(QLabel, "sectionTitle"):
            font = QFont(title.font())
            font.setBold(True)
            title.setFont(font)
        self.setWidget(content)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFixedWidth(content.sizeHint().width() + 16)

    @property
    def function(self) -> Function2D:
        """The function chosen."""
        return testfns.get(self.function_combo.currentData())

    @property
    def start(self) -> tuple[float, float]:
        """The start point."""
        return (self.start_x.value(), self.start_y.value())

    def request(self) -> RunRequest:
        """What to compute for the settings shown."""
        return RunRequest(
            self.function.name,
            self.start,
            self.steps_spin.value(),
            self.tol_spin.value(),
            self.optimizer_panel.settings(),
        )

    def set_function(self, name: str) -> None:
        """Show ``name`` as the chosen function (emits nothing)."""
        with QSignalBlocker(self.function_combo):
            self.function_combo.setCurrentIndex(self.function_combo.findData(testfns.get(name).name))
        self.function_hint.setText(self.function.description)

    def set_start(self, x: float, y: float) -> None:
        """Show ``(x, y)`` as the start point (emits nothing)."""
        with QSignalBlocker(self.start_x), QSignalBlocker(self.start_y):
            self.start_x.setValue(x)
            self.start_y.setValue(y)

    def load_preset(self, preset: Preset) -> None:
        """Show the settings of ``preset`` (emits nothing); the tolerance is kept."""
        self.set_function(preset.function)
        self.set_start(*preset.start)
        with QSignalBlocker(self.steps_spin):
            self.steps_spin.setValue(preset.steps)
        self.optimizer_panel.apply(preset.optimizers)
        with QSignalBlocker(self.preset_combo):
            self.preset_combo.setCurrentIndex(self.preset_combo.findData(preset.key))

    def forget_preset(self) -> None:
        """Show that the settings are no longer a preset's (the combo returns to its placeholder)."""
        with QSignalBlocker(self.preset_combo):
            self.preset_combo.setCurrentIndex(0)

    def _on_start_spin_changed(self) -> None:
        self.forget_preset()
        self.start_edited.emit()

    def _on_value_edited(self) -> None:
        self.forget_preset()
        self.changed.emit()

    def _on_preset_combo_activated(self, index: int) -> None:
        key = self.preset_combo.itemData(index)
        if key:
            self.preset_chosen.emit(key)

    def _on_function_combo_changed(self, index: int) -> None:
        self.forget_preset()
        self.function_hint.setText(self.function.description)
        self.function_chosen.emit(self.function.name)
