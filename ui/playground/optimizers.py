"""The optimizer playground's optimizer list: one row per engine optimizer with a checkbox to include it, its
colour, a learning-rate field that steps on a log scale, and its other hyperparameters behind a disclosure
button. Editors come from :mod:`ui.common.setting_editor` for each of the class's ``SETTINGS``, so a new optimizer in
the engine appears here without code, and every hyperparameter reads and refuses as in the Training panel."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QObject, QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QToolButton,
    QWidget,
)

from dllab import optimizers
from ui.common.setting_editor import SettingEditor, add_editor_row, make_editor
from ui.common.widgets import style_form, swatch_pixmap
from ui.playground.plot import optimizer_color
from ui.playground.runs import HIDDEN_HYPERPARAMETERS, OptimizerSetting, optimizer_title


class OptimizerRow(QObject):
    """The editors of one optimizer, placed into two rows of the panel's grid."""

    changed = Signal()

    def __init__(self, name: str, grid: QGridLayout, row: int, parent: QWidget) -> None:
        super().__init__(parent)
        self.name = name
        cls = optimizers.OPTIMIZERS[name]
        self.hyperparameters = {s.name: s for s in cls.SETTINGS if s.name not in HIDDEN_HYPERPARAMETERS}
        self.swatch = QLabel(parent)
        self.swatch.setPixmap(swatch_pixmap(optimizer_color(name)))
        self.checkbox = QCheckBox(optimizer_title(name), parent)
        self.checkbox.setToolTip(cls.DESCRIPTION)
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
        self.editors: dict[str, SettingEditor] = {}
        for setting in self.hyperparameters.values():
            if setting.name == "lr":  # in the row itself, under the panel's "Learning rate" header
                self.editors[setting.name] = make_editor(setting, parent, compact=True)
            else:
                self.editors[setting.name] = add_editor_row(form, setting, setting.default)
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
            editor.committed.connect(self.changed)
        self._on_checkbox_toggled(False)

    @property
    def checked(self) -> bool:
        """Whether this optimizer takes part."""
        return self.checkbox.isChecked()

    def values(self) -> dict[str, float | None]:
        """The hyperparameters as constructor arguments (``None`` for an optional one that is off)."""
        return {name: editor.value() for name, editor in self.editors.items()}

    def setting(self) -> OptimizerSetting:
        """This optimizer with its current hyperparameters."""
        return OptimizerSetting(self.name, self.values())

    def set_values(self, values: Mapping[str, float | None], *, reset_others: bool = True) -> None:
        """Show ``values``; the hyperparameters not given return to their defaults when ``reset_others``.
        Emits nothing."""
        for name, editor in self.editors.items():
            if name not in values and not reset_others:
                continue
            editor.set_value(values.get(name, self.hyperparameters[name].default))

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
