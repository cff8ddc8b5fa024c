"""Time a first run in the app with the defaults sized for a CPU, as a newcomer starts one, and save the window
at 1280×800 while it trains.

    python bench/first_run.py [--out assets/screenshots] [--size 1280x800]

Three first runs: the spiral network on the spiral (what the app opens with), the book's TwoLayerNet and its
SimpleConvNet on MNIST (the real files beside the project when they are there, else skipped). Each starts from
a fresh window with the settings the app chose (epochs from the data's size and the network's cost, Adam's
learning rate for the network) and prints them with the time from Train to the end of the run. The windows are
saved as ``window_1280_<view>.png``: the Curves view during the spiral's run, the Weights and Filters views
after SimpleConvNet's.
"""

from __future__ import annotations

import time

from screens import Screens, parse_args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(__doc__.splitlines()[0], argv, size="1280x800")
    screens = Screens(args.out, args.size, reserve_core=True)
    settle, close = screens.settle, screens.close

    from ui.common.paths import example_networks
    from ui.main_window import MainWindow

    def first_run(window: MainWindow, name: str, during=None) -> None:
        t = window.state.training
        shot = ""
        if during is not None:
            window.views.setCurrentWidget(during)
            shot = f"window_1280_{title(window, during)}"
        began = time.monotonic()
        status, _ = screens.train(window, during, at=0.6, name=shot)
        seconds = time.monotonic() - began
        print(
            f"{name}: {t.epochs} epoch{'s' if t.epochs != 1 else ''} of {window.state.training_sample_count():,} "
            f"samples, {t.optimizer} lr "
            f"{t.lr:g}, batch {t.batch_size}: {status} in {seconds:.1f} s"
        )

    def title(window: MainWindow, view) -> str:
        return window.views.tabText(window.views.indexOf(view)).lower()

    def example(window: MainWindow, file_name: str) -> None:
        window.documents.open_example(next(p for p in example_networks() if p.name == file_name))

    window = screens.new_window()
    first_run(window, "spiral_mlp on the spiral", window.curves_view)
    close(window)
    if not screens.have_mnist:
        print("MNIST is not beside the project: the MNIST first runs are skipped")
        screens.cleanup()
        return 0
    for file_name in ("two_layer_net.json", "simple_conv_net.json"):
        window = screens.new_window()
        example(window, file_name)
        screens.load_images(window, 0.5)
        first_run(window, f"{file_name.removesuffix('.json')} on MNIST")
        if file_name == "simple_conv_net.json":
            for view in (window.weights_view, window.filters_view):
                window.views.setCurrentWidget(view)
                settle(window, 0.3)
                view.flush()
                settle(window, 0.2)
                screens.grab(window, f"window_1280_{title(window, view)}")
        close(window)
    screens.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
