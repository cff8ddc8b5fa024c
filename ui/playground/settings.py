"""The optimizer playground's sidebar: a preset, the function, the start point, the number of steps, the
tolerance, the gradient the optimizers follow (analytic or the book's numerical one, with its step ``h``,
checked against each other at the start point), and the optimizers with their hyperparameters. Together they
make a :class:`~ui.playground.runs.RunRequest`."""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
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
from dllab.numerical import DEFAULT_H
from dllab.testfns import Function2D
from ui.common.widgets import FloatSpinBox, hint_label, section_title, style_form
from ui.playground.gradient_check import GradientCheck
from ui.playground.optimizers import OptimizerPanel
from ui.playground.runs import MAX_STEPS, PRESETS, Preset, RunRequest

DEFAULT_TOLERANCE = 1e-3
#: What the optimizers may follow: (label, key).
GRADIENTS = (("Analytic ∇f", "analytic"), ("Numerical (centred difference)", "numerical"))


def _coordinate_spin(parent: QWidget) -> QDoubleSpinBox:
    spin = QDoubleSpinBox(parent)
    spin.setRange(-1e6, 1e6)
    spin.setDecimals(3)
    spin.setSingleStep(0.1)
    spin.setKeyboardTracking(False)
    return spin


def _log_spin(parent: QWidget, limits: tuple[float, float], value: float, tip: str) -> FloatSpinBox:
    spin = FloatSpinBox(log_scale=True, parent=parent)
    spin.setRange(*limits)
    spin.setValue(value)
    spin.setToolTip(tip)
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
        The user changed the steps, the tolerance, the gradient followed or an optimizer.
    gradient_field_toggled(bool)
        The user switched the arrows of −∇f on or off.
    """

    preset_chosen = Signal(str)
    function_chosen = Signal(str)
    start_edited = Signal()
    changed = Signal()
    gradient_field_toggled = Signal(bool)

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
        self.tol_spin = _log_spin(
            content,
            (1e-12, 1e3),
            DEFAULT_TOLERANCE,
            "A run has converged once f − f(minimum) is at most this value.",
        )
        self.tol_spin.valueChanged.connect(self._on_value_edited)
        form.addRow("Tolerance", self.tol_spin)
        column.addWidget(section_title("Start and steps", content))
        column.addLayout(form)
        column.addWidget(hint_label("Click on the plot to move the start point.", content))
        column.addSpacing(6)
        self._build_gradient_section(column, content)
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

    def _build_gradient_section(self, column: QVBoxLayout, content: QWidget) -> None:
        form = QFormLayout()
        style_form(form)
        self.gradient_combo = QComboBox(content)
        for label, key in GRADIENTS:
            self.gradient_combo.addItem(label, key)
        self.gradient_combo.setToolTip(
            "What the optimizers step along: the exact gradient, or the book's numerical one, "
            "(f(x + h) − f(x − h)) / 2h for each coordinate."
        )
        self.gradient_combo.currentIndexChanged.connect(self._on_value_edited)
        form.addRow("Follow", self.gradient_combo)
        self.h_spin = _log_spin(
            content, (1e-12, 1.0), DEFAULT_H, "The step of the numerical gradient; the book uses 1e-4."
        )
        self.h_spin.valueChanged.connect(self._on_h_spin_changed)
        form.addRow("Step h", self.h_spin)
        self.gradient_field_check = QCheckBox("Show the gradient field (−∇f)", content)
        self.gradient_field_check.setToolTip(
            "Arrows of −∇f over the contours, as in the book's figure 4-9: the way down from every point."
        )
        self.gradient_field_check.toggled.connect(self.gradient_field_toggled)
        self.gradient_check = GradientCheck(content)
        column.addWidget(section_title("Gradient", content))
        column.addLayout(form)
        column.addWidget(self.gradient_field_check)
        column.addWidget(self.gradient_check)

    @property
    def function(self) -> Function2D:
        """The function chosen."""
        return testfns.get(self.function_combo.currentData())

    @property
    def start(self) -> tuple[float, float]:
        """The start point."""
        return (self.start_x.value(), self.start_y.value())

    @property
    def h(self) -> float | None:
        """The step of the numerical gradient the optimizers follow; None when they follow the analytic one."""
        return self.h_spin.value() if self.gradient_combo.currentData() == "numerical" else None

    def request(self) -> RunRequest:
        """What to compute for the settings shown."""
        return RunRequest(
            self.function.name,
            self.start,
            self.steps_spin.value(),
            self.tol_spin.value(),
            self.optimizer_panel.settings(),
            self.h,
        )

    def _show_gradient_check(self) -> None:
        self.gradient_check.show_point(self.function, *self.start, self.h_spin.value())

    def set_function(self, name: str) -> None:
        """Show ``name`` as the chosen function (emits nothing)."""
        with QSignalBlocker(self.function_combo):
            self.function_combo.setCurrentIndex(self.function_combo.findData(testfns.get(name).name))
        self.function_hint.setText(self.function.description)
        self._show_gradient_check()

    def set_start(self, x: float, y: float) -> None:
        """Show ``(x, y)`` as the start point (emits nothing)."""
        with QSignalBlocker(self.start_x), QSignalBlocker(self.start_y):
            self.start_x.setValue(x)
            self.start_y.setValue(y)
        self._show_gradient_check()

    def load_preset(self, preset: Preset) -> None:
        """Show the settings of ``preset`` (emits nothing); the tolerance is kept."""
        self.set_function(preset.function)
        self.set_start(*preset.start)
        with QSignalBlocker(self.steps_spin):
            self.steps_spin.setValue(preset.steps)
        with QSignalBlocker(self.gradient_combo), QSignalBlocker(self.h_spin):
            self.gradient_combo.setCurrentIndex(
                self.gradient_combo.findData("analytic" if preset.h is None else "numerical")
            )
            if preset.h is not None:
                self.h_spin.setValue(preset.h)
        self._show_gradient_check()
        self.optimizer_panel.apply(preset.optimizers)
        with QSignalBlocker(self.preset_combo):
            self.preset_combo.setCurrentIndex(self.preset_combo.findData(preset.key))

    def forget_preset(self) -> None:
        """Show that the settings are no longer a preset's (the combo returns to its placeholder)."""
        with QSignalBlocker(self.preset_combo):
            self.preset_combo.setCurrentIndex(0)

    def _on_start_spin_changed(self) -> None:
        self.forget_preset()
        self._show_gradient_check()
        self.start_edited.emit()

    def _on_h_spin_changed(self) -> None:
        self._show_gradient_check()
        if self.h is not None:  # the optimizers follow it
            self._on_value_edited()

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
        self._show_gradient_check()
        self.function_chosen.emit(self.function.name)
