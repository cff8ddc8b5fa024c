"""The optimizer playground's optimizer list: one row per engine optimizer with a checkbox to include it, its
colour, a learning-rate spin box that steps on a log scale, and its other hyperparameters behind a
disclosure button. Editors are built from each class's ``HYPERPARAMETERS``, so a new optimizer in the engine
appears here without code."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QObject, QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QToolButton,
    QWidget,
)

from dllab import optimizers
from dllab.optimizers import Hyperparameter
from ui.formatting import humanize
from ui.playground_plot import optimizer_color, swatch_pixmap
from ui.playground_runs import HIDDEN_HYPERPARAMETERS, OptimizerSetting, optimizer_title
from ui.widgets import FloatSpinBox, style_form

#: Short labels for the hyperparameters that have a usual symbol.
SYMBOLS = {"beta1": "β₁", "beta2": "β₂", "eps": "ε", "rho": "ρ", "lr": "Learning rate"}
#: The learning-rate range offered; wider than the engine's suggestion so divergence can be shown.
LR_RANGE = (1e-6, 100.0)
#: Shown by an optional hyperparameter (``clip_norm``) at its minimum, which means "None".
OFF_TEXT = "off"


def hyperparameter_label(name: str) -> str:
    """``"beta1"`` -> ``"β₁"``, ``"clip_norm"`` -> ``"Clip norm"``."""
    return SYMBOLS.get(name, humanize(name))


def _editor(hyper: Hyperparameter, parent: QWidget) -> QDoubleSpinBox:
    spin = FloatSpinBox(log_scale=hyper.log_scale, parent=parent)
    if hyper.name == "lr":
        spin.setRange(*LR_RANGE)
    elif hyper.optional:
        spin.setRange(0.0, hyper.maximum)
        spin.setSpecialValueText(OFF_TEXT)
    else:
        spin.setRange(min(hyper.minimum, hyper.default or 0.0), hyper.maximum)
    spin.setValue(0.0 if hyper.default is None else hyper.default)
    spin.setToolTip(hyper.help)
    spin.setMinimumWidth(92)
    return spin


class OptimizerRow(QObject):
    """The editors of one optimizer, placed into two rows of the panel's grid."""

    changed = Signal()

    def __init__(self, name: str, grid: QGridLayout, row: int, parent: QWidget) -> None:
        super().__init__(parent)
        self.name = name
        cls = optimizers.OPTIMIZERS[name]
        self.hyperparameters = {
            h.name: h for h in cls.HYPERPARAMETERS if h.name not in HIDDEN_HYPERPARAMETERS
        }
        self.swatch = QLabel(parent)
        self.swatch.setPixmap(swatch_pixmap(optimizer_color(name)))
        self.checkbox = QCheckBox(optimizer_title(name), parent)
        self.checkbox.setToolTip(cls.DESCRIPTION)
        self.editors: dict[str, QDoubleSpinBox] = {}
        for hyper in self.hyperparameters.values():
            self.editors[hyper.name] = _editor(hyper, parent)
        self.more = QToolButton(parent)
        self.more.setCheckable(True)
        self.more.setAutoRaise(True)
        self.more.setArrowType(Qt.ArrowType.RightArrow)
        self.more.setToolTip(f"More {optimizer_title(name)} hyperparameters")
        self.details = QWidget(parent)
        form = QFormLayout(self.details)
        style_form(form)
        form.setContentsMargins(28, 0, 0, 6)
        form.setVerticalSpacing(4)
        for hyper_name, editor in self.editors.items():
            if hyper_name != "lr":
                form.addRow(hyperparameter_label(hyper_name), editor)
        self.details.setVisible(False)
        self.more.setVisible(len(self.editors) > 1)

        grid.addWidget(self.swatch, row, 0)
        grid.addWidget(self.checkbox, row, 1)
        grid.addWidget(self.editors["lr"], row, 2)
        grid.addWidget(self.more, row, 3)
        grid.addWidget(self.details, row + 1, 1, 1, 3)

        self.checkbox.toggled.connect(self._on_checkbox_toggled)
        self.more.toggled.connect(self._on_more_toggled)
        for editor in self.editors.values():
            editor.valueChanged.connect(self.changed)
        self._on_checkbox_toggled(False)

    @property
    def checked(self) -> bool:
        """Whether this optimizer takes part."""
        return self.checkbox.isChecked()

    def values(self) -> dict[str, float | None]:
        """The hyperparameters as constructor arguments (``None`` for an optional one that is off)."""
        out: dict[str, float | None] = {}
        for name, editor in self.editors.items():
            value = editor.value()
            out[name] = None if self.hyperparameters[name].optional and value <= 0.0 else value
        return out

    def setting(self) -> OptimizerSetting:
        """This optimizer with its current hyperparameters."""
        return OptimizerSetting(self.name, self.values())

    def set_values(self, values: Mapping[str, float | None], *, reset_others: bool = True) -> None:
        """Show ``values``; the hyperparameters not given return to their defaults when ``reset_others``.
        Emits nothing."""
        for name, editor in self.editors.items():
            if name not in values and not reset_others:
                continue
            value = values.get(name, self.hyperparameters[name].default)
            with QSignalBlocker(editor):
                editor.setValue(0.0 if value is None else float(value))

    def set_checked(self, checked: bool) -> None:
        """Include or leave out this optimizer without emitting :attr:`changed`."""
        with QSignalBlocker(self.checkbox):
            self.checkbox.setChecked(checked)
        self._sync_enabled()

    def refresh_colors(self) -> None:
        """Redraw the swatch (its colour may follow the theme)."""
        self.swatch.setPixmap(swatch_pixmap(optimizer_color(self.name)))

    def _on_checkbox_toggled(self, checked: bool) -> None:
        self._sync_enabled()
        self.changed.emit()

    def _sync_enabled(self) -> None:
        on = self.checkbox.isChecked()
        for editor in self.editors.values():
            editor.setEnabled(on)
        self.swatch.setEnabled(on)

    def _on_more_toggled(self, shown: bool) -> None:
        self.more.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
        self.details.setVisible(shown)


class OptimizerPanel(QWidget):
    """Every optimizer of the engine's registry, in registry order.

    Signals
    -------
    changed()
        Emitted once per user edit (a checkbox or a hyperparameter), not by :meth:`apply`.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(2)
        grid.setColumnStretch(1, 1)
        header = QLabel("Learning rate", self)
        header.setObjectName("hint")
        grid.addWidget(header, 0, 2)
        self.rows: dict[str, OptimizerRow] = {}
        for k, name in enumerate(optimizers.OPTIMIZERS):
            row = OptimizerRow(name, grid, 1 + 2 * k, self)
            row.changed.connect(self.changed)
            self.rows[name] = row

    def settings(self) -> tuple[OptimizerSetting, ...]:
        """The checked optimizers with their hyperparameters, in registry order."""
        return tuple(row.setting() for row in self.rows.values() if row.checked)

    def apply(self, chosen: Mapping[str, Mapping[str, float | None]]) -> None:
        """Check exactly the optimizers in ``chosen`` and give them those hyperparameters (the rest of each
        one's hyperparameters return to their defaults). Emits nothing."""
        for name, row in self.rows.items():
            row.set_checked(name in chosen)
            if name in chosen:
                row.set_values(chosen[name])

    def refresh_colors(self) -> None:
        """Redraw the colour swatches."""
        for row in self.rows.values():
            row.refresh_colors()
