"""Editors of the comparison and search views: what varies in a comparison (:class:`FactorEditor`) and a range
of hyperparameters on a log scale (:class:`LogRangeEditor`).

Values are checked by the engine as they are edited (:func:`dllab.experiments.variants.check_factor_values`,
:func:`dllab.experiments.search.check_ranges`), so the views and ``dllab compare`` accept exactly the same settings.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from dllab.experiments.variants import BOOK_LEARNING_RATES, FACTORS, check_factor_values
from dllab.layers import DROPOUT_SCALINGS
from dllab.optimizers import OPTIMIZERS
from ui.common.widgets import ValidatedLineEdit, error_label

#: How each factor of :data:`dllab.experiments.variants.FACTORS` is named in the views.
FACTOR_TITLES: dict[str, str] = {
    "optimizer": "Optimizer",
    "init": "Weight initialisation",
    "batchnorm": "Batch normalisation",
    "dropout": "Dropout rate",
    "dropout_scaling": "Dropout scaling",
    "weight_decay": "Weight decay (λ)",
    "batch_size": "Batch size",
    "lr": "Learning rate",
}
#: The values offered as check boxes for the factors that take names, and those checked at first.
CHOICES: dict[str, tuple[Any, ...]] = {
    "optimizer": tuple(OPTIMIZERS),
    "init": (1.0, 0.1, 0.01, 0.001, "xavier", "he", "xavier_uniform", "he_uniform"),
    "batchnorm": (True, False),
    "dropout_scaling": DROPOUT_SCALINGS,
}
DEFAULT_CHOICES: dict[str, tuple[Any, ...]] = {
    "optimizer": ("sgd", "momentum", "adagrad", "adam"),
    "init": (0.01, "xavier", "he"),
    "batchnorm": (True, False),
    "dropout_scaling": DROPOUT_SCALINGS,
}
#: The values first shown for the factors typed as numbers.
DEFAULT_TEXT: dict[str, str] = {
    "weight_decay": "0, 0.01, 0.1",
    "dropout": "0, 0.2, 0.5",
    "batch_size": "16, 64, 256",
    "lr": "0.1, 0.01, 0.001",
}
NO_FACTOR = ""
_INIT_NAMES = {
    "xavier": "Xavier",
    "he": "He",
    "xavier_uniform": "Xavier (uniform)",
    "he_uniform": "He (uniform)",
}


def choice_text(factor: str, value: Any) -> str:
    """How a value of a named factor reads in its list, e.g. ``"Adam (book lr 0.001)"`` or ``"std 0.01"``."""
    if factor == "optimizer":
        return f"{OPTIMIZERS[value].__name__} (book lr {BOOK_LEARNING_RATES.get(value, math.nan):g})"
    if factor == "init":
        return _INIT_NAMES.get(value, value) if isinstance(value, str) else f"std {value:g}"
    if factor == "batchnorm":
        return "on" if value else "off"
    if factor == "dropout_scaling":
        return "book's (scale at inference)" if value == "book" else "inverted (scale while training)"
    return str(value)


def values_text(values: Sequence[Any]) -> str:
    """Numbers as the line edit shows them: ``"0, 0.1"``."""
    return ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values)


class ChoiceList(QListWidget):
    """Values to switch on and off, one check box each, as tall as its rows.

    Signals
    -------
    changed()
        A value was switched on or off.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.itemChanged.connect(self._on_self_item_changed)

    def add_choice(self, value: Any, text: str, checked: bool = False) -> None:
        """Offer ``value``, shown as ``text``."""
        with QSignalBlocker(self):
            item = QListWidgetItem(text, self)
            item.setData(Qt.ItemDataRole.UserRole, value)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        height = sum(self.sizeHintForRow(r) for r in range(self.count())) + 2 * self.frameWidth() + 2
        self.setFixedHeight(max(height, 24))

    def offered(self) -> list[Any]:
        """Every value offered, in order."""
        return [self.item(r).data(Qt.ItemDataRole.UserRole) for r in range(self.count())]

    def checked(self) -> list[Any]:
        """The values switched on, in order."""
        return [
            self.item(r).data(Qt.ItemDataRole.UserRole)
            for r in range(self.count())
            if self.item(r).checkState() == Qt.CheckState.Checked
        ]

    def set_checked(self, values: Sequence[Any]) -> None:
        """Switch on exactly ``values`` (among those offered)."""
        with QSignalBlocker(self):
            for r in range(self.count()):
                item = self.item(r)
                on = item.data(Qt.ItemDataRole.UserRole) in values
                item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
        self.changed.emit()

    def _on_self_item_changed(self, item: QListWidgetItem) -> None:
        self.changed.emit()


class FactorEditor(QWidget):
    """One setting a comparison varies: a combo box of the factors and its values.

    Named values (optimizers, initialisers, batch norm on/off) are check boxes; numbers are typed, separated
    by commas, and checked as they are typed.

    Parameters
    ----------
    optional
        Offer "nothing" (the second factor).

    Signals
    -------
    changed()
        The factor or its values changed.
    """

    changed = Signal()

    def __init__(self, *, optional: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.combo = QComboBox(self)
        if optional:
            self.combo.addItem("Nothing else", NO_FACTOR)
        for factor in FACTORS:
            self.combo.addItem(FACTOR_TITLES[factor], factor)
        self.combo.currentIndexChanged.connect(self._on_combo_current_index_changed)
        self.lists: dict[str, ChoiceList] = {}
        self.edits: dict[str, ValidatedLineEdit] = {}
        self.stack = QStackedWidget(self)
        self.stack.addWidget(QWidget(self.stack))  # nothing varies
        self._pages: dict[str, QWidget] = {}
        for factor in FACTORS:
            page = self._make_list(factor) if factor in CHOICES else self._make_edit(factor)
            self._pages[factor] = page
            self.stack.addWidget(page)
        self.error_label = error_label(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.combo)
        layout.addWidget(self.stack)
        layout.addWidget(self.error_label)
        self._on_combo_current_index_changed(self.combo.currentIndex())

    def _make_list(self, factor: str) -> ChoiceList:
        widget = ChoiceList(self.stack)
        for value in CHOICES[factor]:
            widget.add_choice(value, choice_text(factor, value), value in DEFAULT_CHOICES[factor])
        if factor == "batchnorm":
            widget.setToolTip("On: a BatchNorm layer after every Dense and Conv2D layer but the last.")
        widget.changed.connect(self._on_list_changed)
        self.lists[factor] = widget
        return widget

    def _make_edit(self, factor: str) -> QWidget:
        edit = ValidatedLineEdit(lambda text: self._parse(factor, text), self.stack)
        edit.set_value(self._parse(factor, DEFAULT_TEXT[factor]), DEFAULT_TEXT[factor])
        edit.set_help("Values separated by commas; each one trains a run.")
        edit.setPlaceholderText(DEFAULT_TEXT[factor])
        edit.textEdited.connect(self._on_edit_text_edited)
        edit.error_changed.connect(self._on_edit_error_changed)
        self.edits[factor] = edit
        return edit

    @staticmethod
    def _parse(factor: str, text: str) -> list[Any]:
        return check_factor_values(factor, [part for part in text.split(",") if part.strip()])

    # --- the setting ----------------------------------------------------------------------------------------

    @property
    def factor(self) -> str | None:
        """The factor chosen (None: nothing, for the optional editor)."""
        return self.combo.currentData() or None

    def values(self) -> list[Any]:
        """The values to compare, checked by the engine.

        Raises
        ------
        ValueError
            With the reason (none chosen, a value that is not valid, a repeated value).
        """
        factor = self.factor
        if factor is None:
            return []
        if factor in self.lists:
            return check_factor_values(factor, self.lists[factor].checked())
        return self._parse(factor, self.edits[factor].text())

    def error(self) -> str:
        """Why the values are not valid now (empty: they are)."""
        try:
            self.values()
        except ValueError as exc:
            return str(exc)
        return ""

    def set_setting(self, factor: str | None, values: Sequence[Any] = ()) -> None:
        """Show ``factor`` (None: nothing) with ``values`` chosen (named values not offered yet are added);
        emits :attr:`changed`."""
        with QSignalBlocker(self.combo):
            self.combo.setCurrentIndex(max(self.combo.findData(factor or NO_FACTOR), 0))
        if factor in self.lists:
            widget = self.lists[factor]
            checked = check_factor_values(factor, list(values)) if values else []
            for value in checked:
                if value not in widget.offered():
                    widget.add_choice(value, choice_text(factor, value))
            with QSignalBlocker(widget):
                widget.set_checked(checked)
        elif factor in self.edits:
            text = values_text(values) if values else DEFAULT_TEXT[factor]
            self.edits[factor].set_value(self._parse(factor, text), text)
        self._show_page()
        self.changed.emit()

    def _show_page(self) -> None:
        factor = self.factor
        self.stack.setCurrentWidget(self._pages[factor] if factor else self.stack.widget(0))
        page = self.stack.currentWidget()
        fixed = (
            page.maximumHeight() if page.maximumHeight() == page.minimumHeight() else page.sizeHint().height()
        )
        self.stack.setFixedHeight(fixed if factor else 0)
        self._show_error()

    def _show_error(self) -> None:
        message = self.error()
        self.error_label.setText(message)
        self.error_label.setVisible(bool(message))

    # --- slots ----------------------------------------------------------------------------------------------

    def _on_combo_current_index_changed(self, index: int) -> None:
        self._show_page()
        self.changed.emit()

    def _on_list_changed(self) -> None:
        self._show_error()
        self.changed.emit()

    def _on_edit_text_edited(self, text: str) -> None:
        self.changed.emit()

    def _on_edit_error_changed(self, message: str) -> None:
        self._show_error()


class LogSpinBox(QDoubleSpinBox):
    """A positive number edited on a log scale: the arrows step by half a decade (1e-3, 3.2e-3, 1e-2, ...),
    the text is the number itself (``1e-06``, ``0.003``), typed in any float notation.

    The spin box's own value is the base-10 exponent; :meth:`number` and :meth:`set_number` read and write
    the number.
    """

    def __init__(self, lowest: float = 1e-12, highest: float = 10.0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDecimals(6)
        self.setRange(math.log10(lowest), math.log10(highest))
        self.setSingleStep(0.5)
        self.setKeyboardTracking(False)
        self.setCorrectionMode(QDoubleSpinBox.CorrectionMode.CorrectToNearestValue)

    def number(self) -> float:
        """The number shown."""
        return float(f"{10.0 ** self.value():.6g}")

    def set_number(self, number: float) -> None:
        """Show ``number`` (clamped to the range)."""
        self.setValue(math.log10(number) if number > 0 else self.minimum())

    def textFromValue(self, value: float) -> str:
        return f"{10.0**value:.3g}"

    def valueFromText(self, text: str) -> float:
        try:
            number = float(text.strip())
        except ValueError:
            return self.value()
        return math.log10(number) if number > 0 else self.minimum()

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        stripped = text.strip()
        try:
            number = float(stripped)
        except ValueError:
            partial = stripped == "" or stripped[-1] in "eE.-+"
            return (QValidator.State.Intermediate if partial else QValidator.State.Invalid), text, pos
        if number > 0 and self.minimum() <= math.log10(number) <= self.maximum():
            return QValidator.State.Acceptable, text, pos
        return QValidator.State.Intermediate, text, pos


class LogRangeEditor(QWidget):
    """A range ``low`` to ``high`` drawn log-uniformly, e.g. learning rates from 1e-6 to 1e-2.

    Signals
    -------
    changed()
        Either bound changed.
    """

    changed = Signal()

    def __init__(self, low: float, high: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.low_spin = LogSpinBox(parent=self)
        self.high_spin = LogSpinBox(parent=self)
        self.low_spin.set_number(low)
        self.high_spin.set_number(high)
        for spin in (self.low_spin, self.high_spin):
            spin.setToolTip(
                "Drawn log-uniformly: 10 ** uniform(log10 low, log10 high). The arrows step by ½ decade."
            )
            spin.valueChanged.connect(self._on_spin_value_changed)
        self.span_label = QLabel(self)
        self.span_label.setObjectName("hint")
        self.span_label.setTextFormat(Qt.TextFormat.RichText)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        row.addWidget(self.low_spin, 1)
        row.addWidget(QLabel("to", self))
        row.addWidget(self.high_spin, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(row)
        layout.addWidget(self.span_label)
        self._describe()

    def bounds(self) -> tuple[float, float]:
        """``(low, high)``."""
        return self.low_spin.number(), self.high_spin.number()

    def set_bounds(self, low: float, high: float) -> None:
        """Show ``low`` to ``high``."""
        with QSignalBlocker(self.low_spin), QSignalBlocker(self.high_spin):
            self.low_spin.set_number(low)
            self.high_spin.set_number(high)
        self._describe()
        self.changed.emit()

    def _describe(self) -> None:
        low, high = self.low_spin.value(), self.high_spin.value()
        if low > high:
            self.span_label.setObjectName("errorText")
            self.span_label.setText("The lower bound must not be above the upper one.")
        else:
            self.span_label.setObjectName("hint")
            decades = high - low
            self.span_label.setText(
                f"10<sup>{low:.3g}</sup> to 10<sup>{high:.3g}</sup>: {decades:.3g} decades, log-uniform".replace(
                    "-", "−"
                )
            )
        self.span_label.style().unpolish(self.span_label)
        self.span_label.style().polish(self.span_label)

    def _on_spin_value_changed(self, value: float) -> None:
        self._describe()
        self.changed.emit()
