"""Save screenshots of the desktop app with each example network, the welcome page and the window at 1280×800 to
``assets/screenshots/``.

    python bench/screenshots.py [--out assets/screenshots] [--size 1400x900]

Runs offscreen (no display needed) with a temporary DLLAB_HOME, so it never touches your settings. Image
networks get the real MNIST folder beside the project when it is there (``../shared/data/mnist``), and the
generated shapes set otherwise.
"""

from __future__ import annotations

from screens import Screens, parse_args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(__doc__.splitlines()[0], argv)
    screens = Screens(args.out, args.size)
    new_window, load_images, close = screens.new_window, screens.load_images, screens.close

    from PySide6.QtCore import Qt
    from PySide6.QtGui import QDragMoveEvent

    from ui.commands import InsertLayerCommand
    from ui.common.paths import example_networks
    from ui.main_window import MainWindow

    def save(window: MainWindow, name: str) -> None:
        screens.settle(window)
        screens.grab(window, name)

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

    # A first launch: the welcome page over the window; then the window at 1280×800, every view in the
    # switcher over the centre, the playground's plot above its settings.
    window = new_window()
    window.resize(1280, 800)
    page = window.show_welcome_on_first_launch()
    screens.settle(window)
    path = args.out / "welcome.png"
    page.grab().save(str(path))
    print(f"wrote {path}")
    page.reject()
    save(window, "window_1280")
    window.view_switcher.show_view(window.playground_view)
    save(window, "window_1280_playground")
    window.view_switcher.show_view(window.compare_view)
    save(window, "window_1280_compare")
    close(window)
    screens.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
