"""Persistent preferences (window layout, recent files, theme, the welcome page seen) in a ``QSettings`` store.

The store belongs to organisation and application ``"dllab"``. When ``$DLLAB_HOME`` is set (tests do), it
is an INI file inside that folder instead, so a test never reads or writes the real user's settings.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

from ui.common.paths import settings_path

ORGANIZATION = "dllab"
APPLICATION = "dllab"
MAX_RECENT_FILES = 8

# Keys, in one place.
KEY_GEOMETRY = "window/geometry"
KEY_STATE = "window/state"
KEY_LAYOUT_VERSION = "window/layout_version"
KEY_RECENT = "files/recent"
KEY_CLEAN_EXIT = "session/clean_exit"
KEY_THEME = "appearance/theme"
KEY_WELCOME_SEEN = "welcome/seen"

#: Bump when docks are added or renamed, so an old saved layout is not restored onto a new window.
LAYOUT_VERSION = 1


def open_settings() -> QSettings:
    """The app's settings store (an INI file under ``$DLLAB_HOME`` when set)."""
    path = settings_path()
    if path is not None:
        return QSettings(str(path), QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)


def recent_files() -> list[Path]:
    """Recently opened or saved network files, newest first, only those that still exist."""
    value = open_settings().value(KEY_RECENT, [])
    if isinstance(value, str):  # QSettings gives a lone string for a one-element list in INI files
        value = [value]
    paths = [Path(v) for v in value or [] if isinstance(v, str) and v]
    return [p for p in paths if p.is_file()]


def add_recent_file(path: Path) -> list[Path]:
    """Put ``path`` first in the recent files list and return the new list."""
    path = Path(path).resolve()
    paths = [path] + [p for p in recent_files() if p.resolve() != path]
    paths = paths[:MAX_RECENT_FILES]
    open_settings().setValue(KEY_RECENT, [str(p) for p in paths])
    return paths


def clear_recent_files() -> None:
    """Forget every recent file."""
    open_settings().setValue(KEY_RECENT, [])


def theme_preference() -> str:
    """``"system"``, ``"light"`` or ``"dark"``."""
    value = open_settings().value(KEY_THEME, "system")
    return value if value in ("system", "light", "dark") else "system"


def set_theme_preference(value: str) -> None:
    """Remember ``"system"``, ``"light"`` or ``"dark"``."""
    open_settings().setValue(KEY_THEME, value)


def welcome_seen() -> bool:
    """Whether the welcome page was shown once already (after the first launch)."""
    return str(open_settings().value(KEY_WELCOME_SEEN, "false")).lower() == "true"


def set_welcome_seen() -> None:
    """Remember that the welcome page was shown."""
    open_settings().setValue(KEY_WELCOME_SEEN, True)
