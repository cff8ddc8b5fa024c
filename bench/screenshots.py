"""Save screenshots of the desktop app with each example network to ``assets/screenshots/``.

    python bench/screenshots.py [--out assets/screenshots] [--size 1400x900]

Runs offscreen (no display needed) with a temporary DLLAB_HOME, so it never touches your settings. Image
networks get the real MNIST folder beside the project when it is there (``../shared/data/mnist``), and the
generated shapes set otherwise.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MNIST_DIR = ROOT.parent / "shared" / "data" / "mnist"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "assets" / "screenshots")
    parser.add_argument("--size", default="1400x900")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, str(ROOT))

    from PySide6.QtCore import Qt
    from PySide6.QtGui import QDragMoveEvent, QFont
    from PySide6.QtWidgets import QApplication

    from ui.app import configure_application
    from ui.commands import InsertLayerCommand
    from ui.main_window import MainWindow
    from ui.paths import example_networks

    app = QApplication.instance() or QApplication([])
    configure_application(app)
    font = QFont("DejaVu Sans")
    font.setPointSizeF(9.5)
    app.setFont(font)
    args.out.mkdir(parents=True, exist_ok=True)

    def settle(window: MainWindow, seconds: float = 0.2) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)
        while window.data_panel.loader.busy:
            app.processEvents()
            time.sleep(0.02)
        app.processEvents()

    homes = tempfile.TemporaryDirectory(prefix="dllab-screens-")

    def new_window(theme: str = "light") -> MainWindow:
        # A fresh DLLAB_HOME per window: the default layout, and no settings of yours read or written.
        os.environ["DLLAB_HOME"] = tempfile.mkdtemp(dir=homes.name)
        window = MainWindow()
        window.set_theme(theme)
        window.resize(width, height)
        window.show()
        settle(window)
        return window

    # MNIST as a user has it after the first download: in the dataset cache (here a temporary one that links
    # to the real files), chosen by name, so no folder of this machine shows in the pictures.
    cache = tempfile.TemporaryDirectory(prefix="dllab-screens-data-")
    have_mnist = (MNIST_DIR / "train-images-idx3-ubyte.gz").is_file()
    if have_mnist:
        (Path(cache.name) / "mnist").symlink_to(MNIST_DIR, target_is_directory=True)
        os.environ["DLLAB_DATA_DIR"] = cache.name

    def load_images(window: MainWindow) -> None:
        window.data_panel.select_source("mnist" if have_mnist else "shapes")
        window.data_panel.load()
        settle(window, 0.3)

    def save(window: MainWindow, name: str) -> None:
        settle(window)
        window.statusBar().clearMessage()
        path = args.out / f"{name}.png"
        window.grab().save(str(path))
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")

    def close(window: MainWindow) -> None:
        window.state.undo_stack.setClean()
        window.close()

    for path in example_networks():
        window = new_window()
        window.documents.open_example(path)
        if window.state.spec["input_shape"] != [2]:
            load_images(window)
        window.state.set_current_layer(0)
        save(window, path.stem)
        close(window)

    # The builder in action: a Dropout being dragged in, the marker showing where it lands.
    window = new_window()
    window.state.set_current_layer(2)
    view = window.network_panel.view
    mime = window.palette_panel.mime_data("Dropout")
    view.dragEnterEvent(
        QDragMoveEvent(
            view.gap_position(4),
            Qt.DropAction.CopyAction,
            mime,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
            QDragMoveEvent.Type.DragEnter,
        )
    )
    save(window, "builder_drag")
    close(window)

    # A stack the engine rejects: the row in red with its reason, Train disabled.
    window = new_window()
    window.state.undo_stack.push(
        InsertLayerCommand(window.state, 2, {"type": "Conv2D", "filters": 8, "kernel_size": 3})
    )
    save(window, "invalid_stack")
    close(window)

    # Data: MNIST (or shapes) with augmentation, the Dataset view raised; and the dark theme.
    window = new_window()
    load_images(window)
    window.state.set_data_settings(shift=2, rotation=15.0)
    window.dock_data.raise_()
    window.views.setCurrentWidget(window.dataset_view)
    save(window, "data_augmentation")
    close(window)

    window = new_window("dark")
    window.state.set_current_layer(0)
    save(window, "spiral_mlp_dark")
    close(window)
    homes.cleanup()
    cache.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
