"""Whether Qt's X11 platform plugin (xcb) can load on this Linux, checked before Qt is imported.

On a minimal Debian or Ubuntu the plugin's system libraries (``libxcb-cursor0``, ``libxcb-icccm4``, ...) are
often missing, and Qt then aborts with a long message about platform plugins. :func:`platform_problem` asks the
dynamic linker first (``ldd`` on the plugin; without ``ldd``, loading the libraries the plugin needs with
:mod:`ctypes`) and, when libraries are missing, returns one line naming them and the command that installs
them (:data:`APT_COMMAND`, the README's line). No Qt module is imported here.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

#: The shared libraries Qt's xcb plugin loads that a desktop usually has and a minimal system often lacks,
#: with the Debian and Ubuntu package of each.
XCB_LIBRARIES: dict[str, str] = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-xinput.so.0": "libxcb-xinput0",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb.so.1": "libxcb1",
    "libEGL.so.1": "libegl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
}

#: The one line that installs every system library Qt's window needs on Debian and Ubuntu (as in the README).
APT_COMMAND = "sudo apt install " + " ".join(dict.fromkeys(XCB_LIBRARIES.values()))

#: Runs ``ldd`` on a file and returns its output (None when ``ldd`` is not there).
Ldd = Callable[[Path], str | None]
#: Whether a shared library of this name loads.
Loads = Callable[[str], bool]


def xcb_plugin() -> Path | None:
    """The xcb platform plugin of the installed PySide6 (found without importing it), or None."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    plugin = Path(next(iter(spec.submodule_search_locations))) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    return plugin if plugin.is_file() else None


def run_ldd(path: Path) -> str | None:
    """``ldd``'s report on ``path``, or None when ``ldd`` cannot run."""
    try:
        done = subprocess.run(["ldd", str(path)], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout


def library_loads(name: str) -> bool:
    """Whether the dynamic linker finds and loads the shared library ``name``."""
    try:
        ctypes.CDLL(name)
    except OSError:
        return False
    return True


def missing_libraries(plugin: Path, ldd: Ldd = run_ldd, loads: Loads = library_loads) -> list[str]:
    """The shared libraries ``plugin`` needs that the dynamic linker cannot find, in ``ldd``'s order (without
    ``ldd``: those of :data:`XCB_LIBRARIES` that do not load)."""
    report = ldd(plugin)
    if report is None:
        return [name for name in XCB_LIBRARIES if not loads(name)]
    missing: list[str] = []
    for line in report.splitlines():
        name, _, where = line.strip().partition("=>")
        if where.strip() == "not found" and name.strip() not in missing:
            missing.append(name.strip())
    return missing


def uses_xcb(environ: Mapping[str, str], platform: str) -> bool:
    """Whether Qt will load its xcb plugin: on Linux, asked for (``QT_QPA_PLATFORM=xcb``) or by default outside
    a Wayland session."""
    if not platform.startswith("linux"):
        return False
    chosen = environ.get("QT_QPA_PLATFORM", "").strip()
    if chosen:
        return chosen.split(":")[0].split(";")[0] == "xcb"
    return not (environ.get("WAYLAND_DISPLAY") and environ.get("XDG_SESSION_TYPE") == "wayland")


def platform_problem(
    environ: Mapping[str, str] | None = None,
    platform: str | None = None,
    plugin: Path | None = None,
    ldd: Ldd = run_ldd,
    loads: Loads = library_loads,
) -> str | None:
    """One line saying which system libraries Qt's window lacks and how to install them; None when nothing is
    missing (or Qt will not use xcb, or the plugin cannot be found: then Qt speaks for itself)."""
    environ = os.environ if environ is None else environ
    if not uses_xcb(environ, sys.platform if platform is None else platform):
        return None
    plugin = plugin or xcb_plugin()
    if plugin is None:
        return None
    missing = missing_libraries(plugin, ldd, loads)
    if not missing:
        return None
    names = missing[0] if len(missing) == 1 else f"{', '.join(missing[:-1])} and {missing[-1]}"
    return (
        f"dllab: the window cannot open: Qt's X11 plugin needs {names}, which this system lacks; install "
        f"them with: {APT_COMMAND}"
    )
