"""Small widgets shared by the panels: what every checked input keeps (its value, why it is refused), a line
edit that validates while typing, a float spin box that reads and writes 0.001 or 1e-08, a section title, a form
label, and a read-only table of results."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QPointF, QSize, Qt, QTimer, Signal, SignalInstance
from PySide6.QtGui import (
    QColor,
    QIcon,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QResizeEvent,
    QShowEvent,
    QValidator,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QSizePolicy,
    QSplitter,
    QTableWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ui.common.formatting import number_text


class CheckedInput:
    """What every editor whose input is checked keeps: the value last set or committed, and why the input shown
    is refused. Mixed into a widget class that declares ``committed = Signal(object)`` and
    ``error_changed = Signal(str)``; :meth:`_show_refusal` gives a refusal its look."""

    committed: SignalInstance
    error_changed: SignalInstance
    _value: Any = None
    _error = ""

    @property
    def error(self) -> str:
        """Why the input shown is refused; empty when it is valid."""
        return self._error

    def _set_error(self, message: str) -> None:
        """Show why the input is refused (empty: it is valid) and tell :attr:`error_changed`, if that changed."""
        if message == self._error:
            return
        self._error = message
        self._show_refusal(message)
        self.error_changed.emit(message)

    def _show_refusal(self, message: str) -> None:
        """Give the input the look of ``message`` (empty: valid)."""

    def _commit(self, value: Any) -> None:
        """Emit :attr:`committed` with ``value`` if it is not the value last set or committed."""
        if value != self._value:
            self._value = value
            self.committed.emit(value)


class ValidatedLineEdit(QLineEdit, CheckedInput):
    """A line edit whose text is checked by ``parse`` on every keystroke.

    ``parse(text)`` returns the value or raises ``ValueError`` with one sentence saying why the text is not
    valid. Invalid text gets a red border (the ``invalid`` property, styled in the stylesheet) and the reason
    as tooltip and in :attr:`error_changed`; a valid value is emitted by :attr:`committed` when editing
    finishes (Enter or focus leaves), and only if it differs from the value last set.
    """

    committed = Signal(object)
    error_changed = Signal(str)

    def __init__(self, parse: Callable[[str], Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._parse = parse
        self._help = ""
        self.textEdited.connect(self._on_self_text_edited)
        self.editingFinished.connect(self._on_self_editing_finished)

    def set_help(self, text: str) -> None:
        """The tooltip shown while the text is valid."""
        self._help = text
        if not self._error:
            self.setToolTip(text)

    def set_value(self, value: Any, text: str) -> None:
        """Show ``value`` as ``text`` without emitting :attr:`committed`."""
        self._value = value
        if self.text() != text:
            self.setText(text)
        self._set_error("")

    def _on_self_text_edited(self, text: str) -> None:
        try:
            self._parse(text)
        except ValueError as exc:
            self._set_error(str(exc))
        else:
            self._set_error("")

    def _on_self_editing_finished(self) -> None:
        try:
            value = self._parse(self.text())
        except ValueError as exc:
            self._set_error(str(exc))
            return
        self._set_error("")
        self._commit(value)

    def _show_refusal(self, message: str) -> None:
        mark_invalid(self, message)
        self.setToolTip(message or self._help)


def mark_invalid(widget: QWidget, message: str) -> None:
    """Give ``widget`` the ``invalid`` look (styled in the stylesheet) while ``message`` is not empty."""
    if bool(widget.property("invalid")) == bool(message):
        return
    widget.setProperty("invalid", bool(message))
    widget.style().unpolish(widget)
    widget.style().polish(widget)


class FloatSpinBox(QDoubleSpinBox):
    """A spin box for hyperparameters from 1e-8 to 1000: shows the shortest form (0.001, 1e-08), accepts
    scientific notation, and on a log scale steps through 1, 2, 5, 10, 20, ..."""

    def __init__(self, *, log_scale: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._log_scale = log_scale
        self.setDecimals(12)
        self.setKeyboardTracking(False)
        self.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
        self.setCorrectionMode(QDoubleSpinBox.CorrectionMode.CorrectToNearestValue)

    def textFromValue(self, value: float) -> str:
        return number_text(value)

    def valueFromText(self, text: str) -> float:
        try:
            return float(text.strip())
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        stripped = text.strip()
        try:
            value = float(stripped)
        except ValueError:
            partial = stripped == "" or stripped[-1] in "eE.-+" or stripped in ("-", "+")
            state = QValidator.State.Intermediate if partial else QValidator.State.Invalid
            return state, text, pos
        if self.minimum() <= value <= self.maximum():
            return QValidator.State.Acceptable, text, pos
        return QValidator.State.Intermediate, text, pos

    def stepBy(self, steps: int) -> None:
        if not self._log_scale or self.value() <= 0:
            super().stepBy(steps)
            return
        value = self.value()
        for _ in range(abs(steps)):
            value = _next_125(value, up=steps > 0)
        self.setValue(min(max(value, self.minimum()), self.maximum()))


def _next_125(value: float, *, up: bool) -> float:
    """The next number of the 1-2-5 sequence above (or below) ``value``."""
    exponent = math.floor(math.log10(value))
    candidates = [m * 10.0**e for e in (exponent - 1, exponent, exponent + 1) for m in (1, 2, 5)]
    if up:
        above = [c for c in candidates if c > value * (1 + 1e-9)]
        return float(f"{min(above):.12g}")
    below = [c for c in candidates if c < value * (1 - 1e-9)]
    return float(f"{max(below):.12g}")


def let_shrink(combo: QComboBox, characters: int = 12) -> QComboBox:
    """Make ``combo`` as narrow as ``characters`` allow rather than as wide as its longest entry (longer ones
    are elided; its list shows them whole), so that a narrow panel is never wider than its dock."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(characters)
    return combo


def section_title(text: str, parent: QWidget | None = None) -> QLabel:
    """A bold, slightly larger label that heads a group of settings."""
    label = QLabel(text, parent)
    label.setObjectName("sectionTitle")
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def add_section_title(layout: QVBoxLayout, text: str, parent: QWidget) -> None:
    """Start a further section of a panel's column: a little space, then its :func:`section_title`."""
    layout.addSpacing(4)
    layout.addWidget(section_title(text, parent))


def add_section_form(layout: QVBoxLayout, text: str, parent: QWidget) -> QFormLayout:
    """Start a further section of a panel's column (:func:`add_section_title`) whose rows are a styled form,
    added to ``layout`` here; returns the form to fill."""
    add_section_title(layout, text, parent)
    form = QFormLayout()
    style_form(form)
    layout.addLayout(form)
    return form


def hint_label(text: str, parent: QWidget | None = None) -> QLabel:
    """A small, grey, wrapped explanation."""
    label = QLabel(text, parent)
    label.setObjectName("hint")
    label.setWordWrap(True)
    return label


def error_label(parent: QWidget | None = None, *, hidden: bool = True) -> QLabel:
    """A red, wrapped label for what is wrong, empty and (unless ``hidden`` is False) hidden until there is."""
    label = QLabel(parent)
    label.setObjectName("errorText")
    label.setWordWrap(True)
    if hidden:
        label.hide()
    return label


def empty_state_label(text: str = "", parent: QWidget | None = None) -> QLabel:
    """The centred, wrapped message a view shows in place of its content while it has none."""
    label = QLabel(text, parent)
    label.setObjectName("emptyState")
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setMargin(40)
    return label


def form_host(parent: QWidget | None = None) -> tuple[QWidget, QFormLayout]:
    """A widget holding a styled form with no margins of its own, to show, hide or rebuild as one piece.

    Returns
    -------
    tuple of QWidget and QFormLayout
        The host widget and its form.
    """
    host = QWidget(parent)
    form = QFormLayout(host)
    style_form(form)
    form.setContentsMargins(0, 0, 0, 0)
    return host, form


class StackingSplitter(QSplitter):
    """Two parts side by side, or one above the other when the splitter is narrower than
    ``side_by_side_width`` pixels (as the playground and the settings columns of Compare stack in a narrow
    centre); the first part gets ``beside`` of the room side by side, ``above`` of it stacked."""

    arrangement_changed = Signal(bool)
    """The parts went one above the other (True) or side by side again (False)."""

    def __init__(
        self, side_by_side_width: int, *, beside: float, above: float, parent: QWidget | None = None
    ) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.setChildrenCollapsible(False)
        self._side_by_side_width = side_by_side_width
        self._shares = (beside, above)
        self._share_pending = True
        # Once the splitter has its size in the new direction; a timer of its own goes with it.
        self._share_timer = QTimer(self)
        self._share_timer.setSingleShot(True)
        self._share_timer.setInterval(0)
        self._share_timer.timeout.connect(self._share)

    @property
    def stacked(self) -> bool:
        """Whether the parts are one above the other."""
        return self.orientation() == Qt.Orientation.Vertical

    def resizeEvent(self, event: QResizeEvent) -> None:
        stacked = event.size().width() < self._side_by_side_width
        if stacked != self.stacked:
            self.setOrientation(Qt.Orientation.Vertical if stacked else Qt.Orientation.Horizontal)
            self._share_pending = True
            self.arrangement_changed.emit(stacked)
        super().resizeEvent(event)
        if self._share_pending:
            self._share_timer.start()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._share_pending:
            self._share_timer.start()

    def _share(self) -> None:
        sizes = self.sizes()
        total = sum(sizes)
        if not self.isVisible() or total <= 0 or len(sizes) < 2:
            return  # shared when it shows: a hidden splitter has no size of its own yet
        self._share_pending = False
        first = round(total * self._shares[1 if self.stacked else 0])
        self.setSizes([first, total - first] + [0] * (len(sizes) - 2))  # (a part being replaced: none)


def vertical_splitter(
    top: QWidget, bottom: QWidget, parent: QWidget, *, stretch: tuple[int, int]
) -> QSplitter:
    """``top`` over ``bottom`` with a handle between them to drag; neither can be collapsed, and they share
    extra height as ``stretch`` says (e.g. ``(3, 1)``: the top gets three parts of four)."""
    splitter = QSplitter(Qt.Orientation.Vertical, parent)
    splitter.addWidget(top)
    splitter.addWidget(bottom)
    splitter.setStretchFactor(0, stretch[0])
    splitter.setStretchFactor(1, stretch[1])
    splitter.setChildrenCollapsible(False)
    return splitter


def style_form(form: QFormLayout) -> None:
    """The app's form spacing: labels left, fields growing, 12 px between columns and 8 px between rows."""
    form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    form.setHorizontalSpacing(12)
    form.setVerticalSpacing(8)


class ProgressBar(QProgressBar):
    """A progress bar whose new value is painted with the window's next paint.

    ``QProgressBar.setValue`` repaints the bar at once, and with it every part of the window waiting to be painted:
    the end of a run, whose progress comes as the design panel unlocks, kept the window busy 17-24 ms in one go.
    Here a new value asks for a paint, as every other widget's change does.
    """

    def setValue(self, value: int) -> None:
        self.setUpdatesEnabled(False)  # (QWidget.repaint does nothing then; enabling again asks for a paint)
        super().setValue(value)
        self.setUpdatesEnabled(True)


class ElidedLabel(QLabel):
    """A one-line label that shortens its text with "…" in the middle instead of growing the layout."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def minimumSizeHint(self) -> QSize:
        return QSize(0, super().minimumSizeHint().height())

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        text = self.fontMetrics().elidedText(
            self.text(), Qt.TextElideMode.ElideMiddle, self.contentsRect().width()
        )
        painter.drawText(self.contentsRect(), int(self.alignment()), text)
        painter.end()


#: Alignment of numbers in table cells and headers.
RIGHT_ALIGNED = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


class ResultsTable(QTableWidget):
    """A read-only table of results, a row per run: ``columns`` as headers, the ``numeric`` ones right-aligned,
    whole rows selected, alternate rows shaded, no grid, and the ``stretch`` column taking the spare width."""

    def __init__(
        self,
        columns: Sequence[str],
        *,
        numeric: Sequence[int],
        stretch: int,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(0, len(columns), parent)
        self.setHorizontalHeaderLabels(list(columns))
        for column in numeric:
            self.horizontalHeaderItem(column).setTextAlignment(RIGHT_ALIGNED)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)

    def fit_rows(self) -> None:
        """Grow no taller than the header and the rows (one row's height when empty): no blank space below."""
        rows = (
            sum(self.rowHeight(r) for r in range(self.rowCount()))
            or self.verticalHeader().defaultSectionSize()
        )
        self.setMaximumHeight(self.horizontalHeader().height() + rows + 2 * self.frameWidth() + 2)


def tool_button(text: str, parent: QWidget, icon: QIcon | None = None) -> QToolButton:
    """A toolbar-style button with text (and an icon beside it, when given)."""
    button = QToolButton(parent)
    button.setText(text)
    if icon is not None:
        button.setIcon(icon)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    button.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
    return button


def _pen(color: QColor, width: float) -> QPen:
    """A cosmetic pen, as ``pyqtgraph.mkPen`` makes them (without importing pyqtgraph, slow to import)."""
    pen = QPen(color)
    pen.setWidthF(width)
    pen.setCosmetic(True)
    return pen


def swatch_pixmap(color: QColor, width: int = 26, height: int = 14) -> QPixmap:
    """A short line with a dot in ``color``: how a trajectory looks, for legends and table rows."""
    pixmap = QPixmap(width * 2, height * 2)
    pixmap.setDevicePixelRatio(2.0)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(_pen(color, 2.2))
    painter.drawLine(QPointF(2, height / 2), QPointF(width - 2, height / 2))
    painter.setBrush(color)
    painter.setPen(_pen(color.darker(140), 1.0))
    painter.drawEllipse(QPointF(width / 2, height / 2), 3.6, 3.6)
    painter.end()
    return pixmap
