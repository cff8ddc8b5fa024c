"""Where the desktop app keeps its files: the user's data folder, autosaves, and the bundled assets (training
runs live in :func:`dllab.runs.runs_root`, ``runs`` inside the same folder).

Everything the app writes lives under one folder, :func:`data_home`: ``platformdirs.user_data_dir("dllab")``,
or ``$DLLAB_HOME`` when that is set (tests point it at a temporary folder so they never touch a real user's
files).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

ENV_HOME = "DLLAB_HOME"

#: The project's ``assets/`` folder (example networks, stylesheet, screenshots).
ASSETS_DIR = Path(__file__).resolve().parents[2] / "assets"
#: The book's experiments as experiment files (network, data and training settings).
EXPERIMENTS_DIR = ASSETS_DIR / "experiments"


def data_home() -> Path:
    """The folder for the app's own files (not created): ``$DLLAB_HOME`` or the platform's user data dir."""
    env = os.environ.get(ENV_HOME)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("dllab", appauthor=False))


def autosave_path() -> Path:
    """The file the current design is autosaved to while it has unsaved changes."""
    return data_home() / "autosave" / "network.json"


def settings_path() -> Path | None:
    """The settings file to use instead of the platform's store, when ``$DLLAB_HOME`` is set."""
    env = os.environ.get(ENV_HOME)
    return Path(env).expanduser() / "settings.ini" if env else None


def example_networks() -> list[Path]:
    """The example network files shipped in ``assets/networks``, sorted by name."""
    folder = ASSETS_DIR / "networks"
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def course_experiments() -> list[Path]:
    """The experiment files of the deep-learning course's lessons shipped in ``assets/experiments``
    (``course_*.json``), sorted by name."""
    return sorted(EXPERIMENTS_DIR.glob("course_*.json")) if EXPERIMENTS_DIR.is_dir() else []


def stylesheet_path() -> Path:
    """The application stylesheet."""
    return ASSETS_DIR / "style" / "dllab.qss"
