"""What the screenshot scripts (``bench/screenshots.py``, ``bench/training_screenshots.py``) share: the offscreen
app, fresh windows with a temporary DLLAB_HOME each, MNIST in a temporary dataset cache, and saving a window.

The scripts run as ``python bench/<script>.py``, so this folder is on the import path: ``from screens import
Screens``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ui.common.view import TrainingView
    from ui.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[1]
#: The real MNIST files beside the project, when they are there.
MNIST_DIR = ROOT.parent / "shared" / "data" / "mnist"


def parse_args(description: str, argv: list[str] | None = None, size: str = "1400x900") -> argparse.Namespace:
    """The scripts' options: ``--out`` (the folder of the images) and ``--size`` (the window's, ``WxH``, by
    default ``size``)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", type=Path, default=ROOT / "assets" / "screenshots")
    parser.add_argument("--size", default=size)
    return parser.parse_args(argv)


class Screens:
    """The offscreen app and the windows a screenshot script shows and saves.

    Parameters
    ----------
    out
        The folder the images are saved in (made when missing).
    size
        The windows' size, ``"WIDTHxHEIGHT"``.
    reserve_core
        Keep a core for the window while runs train (as the app does).
    """

    def __init__(self, out: Path, size: str, *, reserve_core: bool = False) -> None:
        self.width, self.height = (int(v) for v in size.lower().split("x"))
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        sys.path.insert(0, str(ROOT))

        from PySide6.QtGui import QFont
        from PySide6.QtWidgets import QApplication

        from ui.app import configure_application, share_cores_with_training

        if reserve_core:
            share_cores_with_training()
        self.app = QApplication.instance() or QApplication([])
        configure_application(self.app)
        font = QFont("DejaVu Sans")
        font.setPointSizeF(9.5)
        self.app.setFont(font)
        self.out = out
        out.mkdir(parents=True, exist_ok=True)
        self.homes = tempfile.TemporaryDirectory(prefix="dllab-screens-")
        # MNIST as a user has it after the first download: in the dataset cache (here a temporary one that
        # links to the real files), chosen by name, so no folder of this machine shows in the pictures.
        self.cache = tempfile.TemporaryDirectory(prefix="dllab-screens-data-")
        self.have_mnist = (MNIST_DIR / "train-images-idx3-ubyte.gz").is_file()
        if self.have_mnist:
            (Path(self.cache.name) / "mnist").symlink_to(MNIST_DIR, target_is_directory=True)
            os.environ["DLLAB_DATA_DIR"] = self.cache.name

    def settle(self, window: MainWindow, seconds: float = 0.3) -> None:
        """Let the window work for ``seconds`` at least, and until its data set has loaded."""
        end = time.monotonic() + seconds
        while time.monotonic() < end or window.data_panel.loader.busy:
            self.app.processEvents()
            time.sleep(0.01)
        self.app.processEvents()

    def new_window(self, theme: str = "light", *, focus_views: bool = False) -> MainWindow:
        """A main window shown in the default layout with no settings of yours read or written (a fresh
        DLLAB_HOME); with ``focus_views``, the views in focus and the Training panel raised."""
        from ui.main_window import MainWindow

        os.environ["DLLAB_HOME"] = tempfile.mkdtemp(dir=self.homes.name)
        window = MainWindow()
        window.set_theme(theme)
        window.resize(self.width, self.height)
        window.show()
        if focus_views:
            window.focus_on_views()
            window.dock_training.raise_()
        self.settle(window)
        return window

    def load_images(self, window: MainWindow, seconds: float = 0.3) -> None:
        """Load MNIST (or, without it, the generated shapes) in ``window``."""
        window.data_panel.select_source("mnist" if self.have_mnist else "shapes")
        window.data_panel.load()
        self.settle(window, seconds)

    def grab(self, window: MainWindow, name: str) -> None:
        """Save the window as ``<out>/<name>.png`` (without a status message) and say so."""
        window.statusBar().clearMessage()
        path = self.out / f"{name}.png"
        window.grab().save(str(path))
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")

    def train(
        self, window: MainWindow, during: TrainingView | None = None, *, at: float = 0.7, name: str = ""
    ) -> tuple[str, str]:
        """Press Train in ``window`` and wait for the run's end: its status and message. With ``during`` (a view,
        shown beforehand), the window is saved as ``name`` once ``at`` of the run is done."""
        ended: list[tuple[str, str]] = []
        window.training.run_ended.connect(lambda status, message: ended.append((status, message)))
        if not window.state.request_training():
            raise SystemExit(f"cannot train: {window.state.training_blocker()}")
        while not ended:
            self.app.processEvents()
            time.sleep(0.005)
            if during is not None and window.training.progress.fraction >= at:
                self.settle(window, 0.25)  # the progress line catches up (it changes five times a second)
                during.flush()
                self.app.processEvents()  # the layout follows the texts that changed
                self.grab(window, name)
                during = None
        return ended[0]

    def close(self, window: MainWindow) -> None:
        """Close the window without asking to save its design."""
        window.state.undo_stack.setClean()
        window.state.mark_saved(Path(self.homes.name) / "design.json")
        window.close()

    def cleanup(self) -> None:
        """Remove the temporary homes and the dataset cache."""
        self.cache.cleanup()
        self.homes.cleanup()
