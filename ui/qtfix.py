"""A work-around for a reference-counting bug of some PySide6 builds on Python 3.11.

PySide6 6.12.0 on Python 3.11 hands ``None``, ``True`` and ``False`` back to Python without the reference it
owes: every call of a method returning nothing (``widget.resize(...)``, ``app.processEvents()``, a
``paintEvent`` override) and every ``signal.emit(...)`` lowers their reference counts by one. A GUI makes
thousands of such calls a minute, so the interpreter soon aborts with "Fatal Python error: none_dealloc:
deallocating None" (or ``bool_dealloc``). From Python 3.12 these objects are immortal and the bug is
harmless.

:func:`apply` measures whether the running PySide6 has the bug and, only then, gives the three objects the
protection Python 3.12 gives them: a reference count so large that it never reaches zero. They are static
objects that are never freed anyway, so nothing else changes.
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject, Signal

_RESERVE = 1 << 40
_PROBES = 16
_applied = False


class _Probe(QObject):
    probed = Signal()


def leaked_references() -> int:
    """References to ``None``, ``True`` and ``False`` lost over a few PySide6 calls (0 on a sound build)."""
    probe = _Probe()
    before = sys.getrefcount(None) + sys.getrefcount(True) + sys.getrefcount(False)
    for _ in range(_PROBES):
        probe.probed.emit()
        probe.setObjectName("probe")
    after = sys.getrefcount(None) + sys.getrefcount(True) + sys.getrefcount(False)
    return max(0, before - after)


def apply() -> bool:
    """Protect ``None``, ``True`` and ``False`` if this PySide6 needs it (once per process); returns whether
    the protection is in place."""
    global _applied
    if _applied:
        return True
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython" or leaked_references() < _PROBES:
        return False
    for obj in (None, True, False):
        # ob_refcnt is the first field of every CPython object.
        ctypes.c_ssize_t.from_address(id(obj)).value += _RESERVE
    _applied = True
    return True
