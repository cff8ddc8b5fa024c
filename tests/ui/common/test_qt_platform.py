"""The check of Qt's X11 plugin before the window opens: missing system libraries become one line naming them
and the apt command, with ``ldd`` or without it, and only where Qt would load that plugin."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ui.common import qt_platform
from ui.common.qt_platform import APT_COMMAND, XCB_LIBRARIES, missing_libraries, platform_problem, uses_xcb

LDD_REPORT = """\
\tlinux-vdso.so.1 (0x00007ffd)
\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007f1)
\tlibxcb-cursor.so.0 => not found
\tlibxcb.so.1 => /lib/x86_64-linux-gnu/libxcb.so.1 (0x00007f2)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-cursor.so.0 => not found
"""
X11 = {"DISPLAY": ":0"}


def test_missing_libraries_are_read_from_ldd_once_each_in_its_order():
    assert missing_libraries(Path("libqxcb.so"), ldd=lambda path: LDD_REPORT) == [
        "libxcb-cursor.so.0",
        "libxcb-icccm.so.4",
    ]


def test_without_ldd_the_known_libraries_are_loaded_one_by_one():
    lacking = {"libxcb-keysyms.so.1"}
    missing = missing_libraries(
        Path("libqxcb.so"), ldd=lambda path: None, loads=lambda name: name not in lacking
    )
    assert missing == ["libxcb-keysyms.so.1"]


def test_a_missing_library_becomes_one_line_with_the_apt_command(tmp_path):
    line = platform_problem(X11, "linux", tmp_path / "libqxcb.so", ldd=lambda path: LDD_REPORT)
    assert line is not None and "\n" not in line
    assert line.startswith("dllab: the window cannot open:")
    assert "needs libxcb-cursor.so.0 and libxcb-icccm.so.4" in line and line.endswith(APT_COMMAND)
    assert platform_problem(X11, "linux", tmp_path / "libqxcb.so", ldd=lambda path: "") is None


def test_the_apt_command_installs_a_package_for_every_library_and_the_readme_shows_it():
    assert all(package in APT_COMMAND.split() for package in XCB_LIBRARIES.values())
    readme = (Path(__file__).parents[3] / "README.md").read_text(encoding="utf-8")
    assert APT_COMMAND in readme


@pytest.mark.parametrize(
    ("environ", "platform", "expected"),
    [
        ({}, "linux", True),
        ({"QT_QPA_PLATFORM": "xcb"}, "linux", True),
        ({"QT_QPA_PLATFORM": "offscreen"}, "linux", False),
        ({"QT_QPA_PLATFORM": "wayland"}, "linux", False),
        ({"WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"}, "linux", False),
        ({}, "darwin", False),
        ({}, "win32", False),
    ],
)
def test_only_a_linux_window_on_x11_is_checked(environ, platform, expected):
    assert uses_xcb(environ, platform) is expected
    checked: list[Path] = []
    platform_problem(environ, platform, Path("libqxcb.so"), ldd=lambda path: checked.append(path) or "")
    assert bool(checked) is expected


def test_the_real_plugin_is_found_and_checked_without_importing_qt():
    code = (
        "import sys; from ui.common import qt_platform; "
        "plugin = qt_platform.xcb_plugin(); "
        "print(plugin is not None and plugin.name == 'libqxcb.so', isinstance(qt_platform.missing_libraries(plugin), list) if plugin else None, "
        "any(m.startswith('PySide6.Qt') for m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    found, checked, qt_loaded = done.stdout.split()
    if sys.platform.startswith("linux"):
        assert found == "True" and checked == "True"
    assert qt_loaded == "False"


def test_dllab_prints_the_line_and_exits_before_qt_when_libraries_are_missing(monkeypatch, capsys):
    from ui import app

    monkeypatch.setattr(qt_platform, "platform_problem", lambda: "dllab: the window cannot open: test")
    assert app.run_app() == 1
    assert capsys.readouterr().err == "dllab: the window cannot open: test\n"
