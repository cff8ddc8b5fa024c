"""The installed Qt binding keeps Python's reference counts right.

PySide6 6.12.0 on Python 3.11 loses a reference to None, True or False on every call that returns nothing
and on every signal emission, and the app aborts within minutes ("Fatal Python error: none_dealloc");
pyproject.toml excludes it. This test fails on such a build, after a few dozen calls, before a crash.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget


class _Emitter(QObject):
    emitted = Signal()


def test_calls_and_signals_keep_the_reference_counts_of_none_and_bools(qtbot):
    widget = QWidget()
    qtbot.addWidget(widget)
    emitter = _Emitter()
    counts = (sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False))
    for i in range(60):
        widget.resize(100 + i % 3, 80)  # returns None
        emitter.emitted.emit()
        widget.setVisible(False)
    after = (sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False))
    assert all(a > b - 30 for a, b in zip(after, counts, strict=True)), (counts, after)
