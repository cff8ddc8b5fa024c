"""Autosave and crash recovery of the design.

While the design has unsaved changes it is written, a moment after each edit, to
:func:`ui.common.paths.autosave_path` (JSON: the spec, the file it belongs to, when). A clean exit removes that file
and records the time in the settings. At start-up an autosave newer than the last clean exit means the app
did not close cleanly, and the window offers it back.

Writing goes through :func:`dllab.files.atomic_write`; reading through :func:`dllab.spec.read_json_file`
(a regular file within the engine's limits of size and nesting), so a damaged, hostile or non-regular
autosave file is never offered back and never raises.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from dllab.errors import DllabError
from dllab.files import atomic_write
from dllab.spec import read_json_file
from ui.common.paths import autosave_path

FORMAT = "dllab.autosave/1"


@dataclass(frozen=True)
class Autosave:
    """A design found in the autosave file."""

    spec: dict[str, Any]
    file_path: Path | None
    saved_at: float

    @property
    def saved_at_text(self) -> str:
        """When it was written, e.g. ``"2025-03-01 14:05"``."""
        return datetime.fromtimestamp(self.saved_at).strftime("%Y-%m-%d %H:%M")

    @property
    def name(self) -> str:
        """The file name, or the network's name."""
        return self.file_path.name if self.file_path else str(self.spec.get("name") or "Untitled")


def write_text_atomically(path: Path, text: str) -> None:
    """Write ``text`` as UTF-8 to ``path`` (its folder created if needed) by :func:`dllab.files.atomic_write`.

    Readers see the old file or the complete new one; an error leaves the old file as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8")

    def write(file: IO[bytes]) -> None:
        file.write(data)

    atomic_write(path, write)


def write_autosave(spec: dict[str, Any], file_path: Path | None, path: Path | None = None) -> Path:
    """Write the design to the autosave file and return its path."""
    path = path or autosave_path()
    document = {
        "format": FORMAT,
        "saved_at": time.time(),
        "file_path": str(file_path) if file_path else None,
        "spec": spec,
    }
    write_text_atomically(path, json.dumps(document, indent=2))
    return path


def _timestamp(value: Any) -> float | None:
    """``value`` as a time a date can be shown for, or None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        datetime.fromtimestamp(value)
    except (OverflowError, ValueError, OSError):  # NaN, infinite, or beyond the platform's dates
        return None
    return float(value)


def read_autosave(path: Path | None = None) -> Autosave | None:
    """The autosaved design, or None when there is none or it cannot be read.

    A file that is not a regular file, too large, not JSON or nested too deep is never read as a design; a
    file path or time that cannot be used is left out (the time is then the file's).
    """
    path = path or autosave_path()
    try:
        document = read_json_file(path)
        modified = path.stat().st_mtime
    except (DllabError, OSError):
        return None
    if (
        not isinstance(document, dict)
        or document.get("format") != FORMAT
        or not isinstance(document.get("spec"), dict)
    ):
        return None
    file_path = document.get("file_path")
    usable_path = isinstance(file_path, str) and bool(file_path) and "\x00" not in file_path
    saved_at = _timestamp(document.get("saved_at"))
    return Autosave(
        spec=document["spec"],
        file_path=Path(file_path) if usable_path else None,
        saved_at=saved_at if saved_at is not None else modified,
    )


def remove_autosave(path: Path | None = None) -> None:
    """Delete the autosave file, if any."""
    (path or autosave_path()).unlink(missing_ok=True)


def recovery_candidate(last_clean_exit: float | None, path: Path | None = None) -> Autosave | None:
    """The autosave to offer at start-up: one written after the last clean exit (or with no clean exit)."""
    found = read_autosave(path)
    if found is None:
        return None
    if last_clean_exit is not None and found.saved_at <= last_clean_exit:
        return None
    return found
