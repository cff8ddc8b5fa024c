"""Persistent preferences (window layout, recent files, recent local data sets, theme, the welcome page seen).

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
MAX_RECENT_DATA = 5

# Keys, in one place.
KEY_GEOMETRY = "window/geometry"
KEY_STATE = "window/state"
KEY_LAYOUT_VERSION = "window/layout_version"
KEY_RECENT = "files/recent"
KEY_RECENT_DATA = "data/recent"
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


def _recent_paths(key: str) -> list[Path]:
    value = open_settings().value(key, [])
    if isinstance(value, str):  # QSettings gives a lone string for a one-element list in INI files
        value = [value]
    return [Path(v) for v in value or [] if isinstance(v, str) and v]


def _add_recent_path(key: str, path: Path, known: list[Path], most: int) -> list[Path]:
    path = Path(path).resolve()
    paths = ([path] + [p for p in known if p.resolve() != path])[:most]
    open_settings().setValue(key, [str(p) for p in paths])
    return paths


def recent_files() -> list[Path]:
    """Recently opened or saved network files, newest first, only those that still exist."""
    return [p for p in _recent_paths(KEY_RECENT) if p.is_file()]


def add_recent_file(path: Path) -> list[Path]:
    """Put ``path`` first in the recent files list and return the new list."""
    return _add_recent_path(KEY_RECENT, path, recent_files(), MAX_RECENT_FILES)


def clear_recent_files() -> None:
    """Forget every recent file."""
    open_settings().setValue(KEY_RECENT, [])


def recent_data_sources() -> list[Path]:
    """Local data files and folders loaded lately, newest first, only those that still exist."""
    return [p for p in _recent_paths(KEY_RECENT_DATA) if p.exists()]


def add_recent_data_source(path: Path) -> list[Path]:
    """Put the data file or folder ``path`` first among the recent data sources and return them."""
    return _add_recent_path(KEY_RECENT_DATA, path, recent_data_sources(), MAX_RECENT_DATA)


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
