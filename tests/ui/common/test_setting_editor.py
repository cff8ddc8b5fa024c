"""The one editor builder: the widget that fits each kind of setting, values round-tripped (off included), the
engine's reasons shown while typing, and a commit only for a valid change made by the user."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QWidget

from dllab import optimizers, schedules
from dllab.initializers import INIT
from dllab.layers import Conv2D, Dropout
from dllab.settings import Setting
from ui.common.setting_editor import (
    ChoiceEditor,
    InitEditor,
    IntEditor,
    NumberEditor,
    PaddingEditor,
    SizeEditor,
    add_editor_row,
    make_editor,
)

UNITS = Setting("units", "int", 100, "Output units.", minimum=1)
RATE = Dropout.SETTINGS[0]
LR = optimizers.Adam.SETTINGS[0]
CLIP = next(s for s in optimizers.Adam.SETTINGS if s.name == "clip_norm")
STEP_SIZE = schedules.StepDecay.SETTINGS[0]
MODE = Setting("mode", "choice", "fast", "How.", choices=("fast", "exact_sum"))


def make(qtbot, setting: Setting, **kwargs):
    editor = make_editor(setting, **kwargs)
    qtbot.addWidget(editor)
    commits: list = []
    editor.committed.connect(commits.append)
    return editor, commits


@pytest.mark.parametrize(
    ("setting", "kind"),
    [
        (UNITS, IntEditor),
        (RATE, NumberEditor),
        (LR, NumberEditor),
        (CLIP, NumberEditor),
        (Conv2D.SETTINGS[1], SizeEditor),
        (Conv2D.SETTINGS[3], PaddingEditor),
        (INIT, InitEditor),
        (MODE, ChoiceEditor),
    ],
)
def test_each_kind_gets_its_widget_showing_the_default(qtbot, setting, kind):
    editor, commits = make(qtbot, setting)
    assert type(editor) is kind and editor.value() == setting.default and editor.toolTip() == setting.help
    assert editor.error == "" and commits == []
    assert (editor.check is not None) == setting.optional


def test_a_whole_number_spins_within_its_bounds(qtbot):
    editor, commits = make(qtbot, UNITS)
    assert editor.spin.minimum() == 1 and editor.spin.maximum() == 1_000_000_000
    editor.spin.setValue(64)
    assert commits == [64] and editor.value() == 64
    editor.set_value(32)  # shown, not committed
    assert editor.spin.value() == 32 and commits == [64]


def test_a_log_scaled_number_has_a_slider_unless_compact(qtbot):
    editor, commits = make(qtbot, LR)
    assert editor.slider is not None
    editor.slider.setValue(editor.slider_position(0.003))
    assert commits == [0.003] and editor.spin.value() == 0.003
    editor.spin.setValue(0.00437)
    assert commits[-1] == 0.00437 and editor.slider_value(editor.slider.value()) == 0.004
    editor.spin.stepBy(1)  # 1-2-5 steps on a log scale
    assert commits[-1] == 0.005
    compact, _ = make(qtbot, LR, compact=True)
    assert compact.slider is None and compact.spin.minimumWidth() >= 90
    linear, _ = make(qtbot, RATE)
    assert linear.slider is None


def test_a_step_makes_whole_steps(qtbot):
    editor, commits = make(qtbot, STEP_SIZE)
    assert editor.slider is None
    editor.spin.stepBy(2)
    assert commits == [12.0]


def test_an_optional_setting_is_off_when_unchecked(qtbot):
    editor, commits = make(qtbot, CLIP)
    assert editor.value() is None and not editor.check.isChecked() and not editor.spin.isEnabled()
    assert editor.spin.value() == 1.0  # a round number in its editor range, ready for when it is on
    editor.check.setChecked(True)
    assert commits == [1.0] and editor.spin.isEnabled()
    editor.spin.setValue(2.5)
    editor.check.setChecked(False)
    assert commits == [1.0, 2.5, None] and editor.value() is None
    editor.set_value(4.0)  # round trip: shown, switched on, no commit
    assert editor.check.isChecked() and editor.spin.value() == 4.0 and editor.value() == 4.0
    editor.set_value(None)
    assert not editor.check.isChecked() and editor.value() is None and commits == [1.0, 2.5, None]


def test_typing_shows_the_engines_reason_and_commits_nothing_refused(qtbot):
    editor, commits = make(qtbot, RATE)
    errors: list[str] = []
    editor.error_changed.connect(errors.append)
    edit = editor.spin.lineEdit()
    edit.selectAll()
    qtbot.keyClicks(edit, "1")
    assert errors == ["rate must be below 1, got 1.0"] and editor.spin.property("invalid") is True
    assert editor.spin.toolTip() == errors[0]
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert commits == [] and editor.value() == 0.5
    edit.selectAll()
    qtbot.keyClicks(edit, "0.25")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert commits == [0.25] and errors[-1] == "" and not editor.spin.property("invalid")


def test_sizes_padding_initialisers_and_choices_round_trip(qtbot):
    size, commits = make(qtbot, Conv2D.SETTINGS[1])
    size.set_value([3, 2])
    assert size.edit.text() == "3×2" and size.value() == [3, 2]
    size.edit.setText("0")
    size.edit.textEdited.emit("0")
    assert "at least 1" in size.error
    size.edit.setText("5")
    size.edit.textEdited.emit("5")
    size.edit.editingFinished.emit()
    assert commits == [5] and not size.error

    padding, commits = make(qtbot, Conv2D.SETTINGS[3])
    padding.set_value("same")
    assert padding.mode.currentData() == "same" and not padding.spin.isEnabled()
    padding.mode.setCurrentIndex(0)
    padding.mode.activated.emit(0)
    padding.spin.setValue(2)
    assert commits == [0, 2] and padding.spin.isEnabled()

    init, commits = make(qtbot, INIT)
    init.set_value(0.05)
    assert init.combo.currentText() == "std 0.05"
    init.combo.lineEdit().setText("xavier uniform")
    init.combo.lineEdit().editingFinished.emit()
    assert commits == ["xavier_uniform"]
    init.combo.lineEdit().textEdited.emit("bogus")
    assert init.error.startswith('init must be one of "he"')

    choice, commits = make(qtbot, MODE)
    assert [choice.combo.itemText(i) for i in range(choice.combo.count())] == ["Fast", "Exact sum"]
    choice.combo.setCurrentIndex(1)
    choice.combo.activated.emit(1)
    assert commits == ["exact_sum"] and choice.value() == "exact_sum"


def test_a_form_row_has_the_settings_label_and_help(qtbot):
    host = QWidget()
    qtbot.addWidget(host)
    form = QFormLayout(host)
    beta1 = optimizers.Adam.SETTINGS[1]
    editor = add_editor_row(form, beta1, 0.8)
    label = form.itemAt(0, QFormLayout.ItemRole.LabelRole).widget()
    assert label.text() == "β₁" and label.toolTip() == beta1.help and label.buddy() is editor
    assert editor.value() == 0.8 and editor.spin.value() == 0.8


def test_a_click_on_the_initialiser_text_opens_its_list_and_then_the_text_is_editable(qtbot):
    from PySide6.QtTest import QTest

    editor, _ = make(qtbot, INIT)
    editor.show()
    qtbot.waitExposed(editor)
    line = editor.combo.lineEdit()
    QTest.mouseClick(line, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: editor.combo.view().isVisible(), timeout=2000)
    editor.combo.hidePopup()
    editor.activateWindow()
    qtbot.waitActive(editor)
    line.setFocus()
    qtbot.waitUntil(line.hasFocus, timeout=2000)
    QTest.mouseClick(line, Qt.MouseButton.LeftButton)  # the field has the focus: the click is for typing
    qtbot.wait(50)
    assert not editor.combo.view().isVisible()
