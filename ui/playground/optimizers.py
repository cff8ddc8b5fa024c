"""The optimizer playground's optimizer list: one row per engine optimizer with a checkbox to include it, its
colour, a learning-rate field that steps on a log scale, and its other hyperparameters behind a disclosure
button, with a field of further learning rates to race the same optimizer at (the book's chapter 4 lesson).
Editors come from :mod:`ui.common.setting_editor` for each of the class's ``SETTINGS``, so a new optimizer in
the engine appears here without code, and every hyperparameter reads and refuses as in the Training panel."""

from __future__ import annotations

import re
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
from dllab.errors import SettingsError, quote
from dllab.settings import Setting
from ui.common.setting_editor import SettingEditor, add_editor_row, make_editor
from ui.common.widgets import ValidatedLineEdit, style_form, swatch_pixmap
from ui.playground.plot import optimizer_color
from ui.playground.runs import HIDDEN_HYPERPARAMETERS, OptimizerSetting, learning_rates, optimizer_title

#: The most further learning rates one optimizer races at.
MAX_MORE_LEARNING_RATES = 5


def parse_learning_rates(text: str, setting: Setting) -> tuple[float, ...]:
    """Learning rates typed as ``"10, 1e-10"`` (commas, semicolons or spaces between them), each checked by
    the engine's ``setting``; an empty text is none.

    Raises
    ------
    SettingsError
        For a word that is not a number, a learning rate the engine refuses, or more than
        :data:`MAX_MORE_LEARNING_RATES` of them.
    """
    values: list[float] = []
    for word in re.split(r"[\s,;]+", text.strip()):
        if not word:
            continue
        try:
            number = float(word)
        except ValueError:
            raise SettingsError(
                f"more learning rates must be numbers separated by commas, got {quote(word, 40)}"
            ) from None
        value = setting.validate(number)
        if value not in values:
            values.append(value)
    if len(values) > MAX_MORE_LEARNING_RATES:
        raise SettingsError(f"at most {MAX_MORE_LEARNING_RATES} more learning rates, got {len(values)}")
    return tuple(values)


def learning_rates_text(values: tuple[float, ...]) -> str:
    """``(10.0, 1e-10)`` as ``"10, 1e-10"``."""
    return ", ".join(f"{value:g}" for value in values)


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
        self._more_lrs: tuple[float, ...] = ()
        self.more_lrs = ValidatedLineEdit(self._parse_more_lrs, self.details)
        self.more_lrs.setPlaceholderText("e.g. 10, 1e-10")
        self.more_lrs.set_help(
            f"Race {optimizer_title(name)} again at each of these learning rates (up to "
            f"{MAX_MORE_LEARNING_RATES}), e.g. to see one too large and one too small."
        )
        self.more_lrs.set_value((), "")
        self.more_lrs.committed.connect(self._on_more_lrs_committed)
        form.addRow("Also at lr", self.more_lrs)
        self.details.setVisible(False)

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

    @property
    def more_learning_rates(self) -> tuple[float, ...]:
        """The further learning rates this optimizer races at (besides its own)."""
        return self._more_lrs

    def settings(self) -> list[OptimizerSetting]:
        """This optimizer at its learning rate, then at each further one (its other hyperparameters kept)."""
        values = self.values()
        extra = [lr for lr in self._more_lrs if lr != values["lr"]]
        return [OptimizerSetting(self.name, values)] + [
            OptimizerSetting(self.name, {**values, "lr": lr}) for lr in extra
        ]

    def set_values(self, values: Mapping[str, float | tuple[float, ...] | None]) -> None:
        """Show ``values`` (a tuple ``"lr"``: the learning rate, then further ones); the hyperparameters not
        given return to their defaults and the further learning rates are cleared. Emits nothing."""
        rates = learning_rates(values) if "lr" in values else (self.hyperparameters["lr"].default,)
        for name, editor in self.editors.items():
            editor.set_value(
                rates[0] if name == "lr" else values.get(name, self.hyperparameters[name].default)
            )
        self._more_lrs = rates[1:]
        self.more_lrs.set_value(self._more_lrs, learning_rates_text(self._more_lrs))
        if self._more_lrs:
            self.more.setChecked(True)

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
        self.more_lrs.setEnabled(on)
        self.swatch.setEnabled(on)

    def _parse_more_lrs(self, text: str) -> tuple[float, ...]:
        return parse_learning_rates(text, self.hyperparameters["lr"])

    def _on_more_lrs_committed(self, values: tuple[float, ...]) -> None:
        self._more_lrs = values
        self.more_lrs.set_value(values, learning_rates_text(values))
        self.changed.emit()

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
        """The checked optimizers with their hyperparameters, in registry order, each followed by its further
        learning rates."""
        return tuple(setting for row in self.rows.values() if row.checked for setting in row.settings())

    def apply(self, chosen: Mapping[str, Mapping[str, float | tuple[float, ...] | None]]) -> None:
        """Check exactly the optimizers in ``chosen`` and give them those hyperparameters (the rest of each
        one's hyperparameters return to their defaults; a tuple ``"lr"`` races at each learning rate).
        Emits nothing."""
        for name, row in self.rows.items():
            row.set_checked(name in chosen)
            if name in chosen:
                row.set_values(chosen[name])

    def refresh_colors(self) -> None:
        """Redraw the colour swatches."""
        for row in self.rows.values():
            row.refresh_colors()
