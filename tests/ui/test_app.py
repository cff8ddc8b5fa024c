"""How the window's process shares the cores with training (:func:`ui.app.share_cores_with_training`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: Paints a translucent fill of 600 rows, as a histogram's area is painted, and prints how many threads the process
#: had before and after.
_PAINTER = """
import os, sys
if sys.argv[1] == "app":
    from ui.app import share_cores_with_training
    share_cores_with_training()
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter
app = QGuiApplication([])
def threads():
    return len(os.listdir("/proc/self/task"))
before = threads()
image = QImage(800, 600, QImage.Format.Format_ARGB32_Premultiplied)
image.fill(0)
painter = QPainter(image)
painter.fillRect(0, 0, 800, 600, QColor(30, 120, 200, 110))
painter.end()
print(before, threads())
"""


def threads_around_a_fill(setup: str) -> tuple[int, int]:
    env = {k: v for k, v in os.environ.items() if k != "QT_NO_GUI_THREADPOOL"}
    env.update(QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", _PAINTER, setup],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    before, after = (int(n) for n in done.stdout.split())
    return before, after


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="counts threads in /proc")
def test_the_window_paints_on_its_own_thread_without_qts_pool():
    before, after = threads_around_a_fill("qt")
    assert after > before  # left to itself, Qt hands the fill to threads of its own (and waits for them)
    before, after = threads_around_a_fill("app")
    assert after == before
