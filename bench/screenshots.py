"""Save screenshots of the desktop app with each example network, the welcome page and the window at 1280×800 to
``assets/screenshots/``.

    python bench/screenshots.py [--out assets/screenshots] [--size 1400x900]

Runs offscreen (no display needed) with a temporary DLLAB_HOME, so it never touches your settings. Image
networks get the real MNIST folder beside the project when it is there (``../shared/data/mnist``), and the
generated shapes set otherwise.
"""

from __future__ import annotations

from screens import MNIST_DIR, Screens, parse_args

#: The book's trained SimpleConvNet (chapter 7), for the Draw panel and the look inside one unit.
BOOK_CONVNET = MNIST_DIR.parent / "book-weights" / "ch07_params.pkl"
#: A 7 drawn in two strokes (the bar and the stem, then the cross bar), as fractions of the canvas.
SEVEN = [
    [(0.25, 0.2), (0.5, 0.2), (0.75, 0.2), (0.62, 0.45), (0.45, 0.85)],
    [(0.42, 0.5), (0.7, 0.5)],
]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(__doc__.splitlines()[0], argv)
    screens = Screens(args.out, args.size)
    new_window, load_images, close = screens.new_window, screens.load_images, screens.close

    import numpy as np
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QDragMoveEvent

    from dllab.data import model_inputs
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

    # Draw and predict, and inside one prediction: the book's trained SimpleConvNet reads a drawn 7, and one
    # unit of its first convolution for a test digit, with its receptive field.
    if BOOK_CONVNET.is_file() and screens.have_mnist:
        window = new_window(focus_views=True)
        window.documents.import_book_weights_file(BOOK_CONVNET, ask=False)
        load_images(window)
        window.draw_panel.canvas.strokes = [list(stroke) for stroke in SEVEN]
        window.dock_draw.raise_()
        window.resizeDocks([window.dock_draw], [920], Qt.Orientation.Horizontal)
        window.views.setCurrentWidget(window.architecture_view)
        screens.settle(window)
        window.draw_panel.refresh()
        save(window, "draw_panel")
        window.views.setCurrentWidget(window.architecture_view)
        # A test digit the model reads right but not surely (so the gradient is not vanishingly small), and
        # the position where one channel of the first convolution answers it most strongly.
        model, dataset = window.state.model, window.state.dataset
        x = model_inputs(dataset.x_test[:300], model.preprocessing, model.input_shape)
        probabilities = model.predict(x)
        right = probabilities.argmax(axis=1) == dataset.y_test[:300]
        sample = int(np.argmin(np.where(right, probabilities.max(axis=1), 2.0)))
        maps = model.activations(x[sample : sample + 1])[1][0, 3]
        row, col = np.unravel_index(int(np.argmax(maps)), maps.shape)
        window.unit_dialog.show_unit(0, (3, int(row), int(col)), sample)
        screens.settle(window)
        path = screens.out / "unit_inside.png"
        window.unit_dialog.grab().save(str(path))
        print(f"wrote {path}")
        window.unit_dialog.close()
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
