"""Autosave and crash recovery of the design.

While the design has unsaved changes it is written, a moment after each edit, to
:func:`ui.paths.autosave_path` (JSON: the spec, the file it belongs to, when). A clean exit removes that file
and records the time in the settings. At start-up an autosave newer than the last clean exit means the app
did not close cleanly, and the window offers it back.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ui.paths import autosave_path

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
    """Write ``text`` to a temporary file beside ``path`` and rename it over ``path`` once complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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


def read_autosave(path: Path | None = None) -> Autosave | None:
    """The autosaved design, or None when there is none or it cannot be read."""
    path = path or autosave_path()
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if (
        not isinstance(document, dict)
        or document.get("format") != FORMAT
        or not isinstance(document.get("spec"), dict)
    ):
        return None
    file_path = document.get("file_path")
    saved_at = document.get("saved_at")
    return Autosave(
        spec=document["spec"],
        file_path=Path(file_path) if isinstance(file_path, str) else None,
        saved_at=float(saved_at) if isinstance(saved_at, int | float) else path.stat().st_mtime,
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
