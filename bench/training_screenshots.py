"""Save screenshots of the training and experiment views after real runs to ``assets/screenshots/view_*.png``.

    python bench/training_screenshots.py [--out assets/screenshots] [--size 1400x900]

Trains for real, offscreen, with a temporary DLLAB_HOME (your settings and runs are never touched):

- the spiral with the SpiralMLP example: curves, decision boundary; then three optimizers on it, overlaid in
  the Runs view;
- MNIST (from the dataset cache, linked to the real files beside the project when they are there, else the
  generated shapes set) with the book's SimpleConvNet, its filters initialised with standard deviation 0.01 as
  in the book: filters before and after, feature maps, evaluation;
- MNIST with five sigmoid layers of 100 units initialised with standard deviation 1 (the book's figure 6-10):
  activations piling up at 0 and 1, gradients vanishing towards the input;
- with MNIST: the book's optimizer comparison (figure 6-9) and a random search of the learning rate and weight
  decay of the book's MultiLayerNet on 1,000 samples (section 6.5), both two runs at a time; and the
  activation distributions (figures 6-10 to 6-14), which need no training.

The window focuses on the views (View ▸ Focus on the Views: the Layers, Network and Inspector panels hidden);
the Training panel stays. ``view_training.png`` is the learning curves during the SimpleConvNet run.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from screens import Screens, parse_args

SIGMOID_NET = {
    "format": "dllab.network/1",
    "name": "FiveSigmoidLayers",
    "description": "The book's figure 6-10: five sigmoid layers of 100 units, weights drawn with std 1.",
    "input_shape": [784],
    "layers": [
        layer
        for i in range(5)
        for layer in ({"type": "Dense", "units": 100, "init": 1.0}, {"type": "Sigmoid"})
    ]
    + [{"type": "Dense", "units": 10, "init": "xavier"}],
    "loss": "softmax_cross_entropy",
}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(__doc__.splitlines()[0], argv)
    screens = Screens(args.out, args.size, reserve_core=True)
    app, settle, close = screens.app, screens.settle, screens.close

    from ui.common import dialogs
    from ui.common.paths import example_networks
    from ui.main_window import MainWindow
    from ui.training.views import TrainingView

    dialogs.show_error = lambda parent, title, message: print(f"{title}: {message}", file=sys.stderr)

    def new_window() -> MainWindow:
        return screens.new_window(focus_views=True)

    def train(window: MainWindow, during: TrainingView | None = None, **settings: Any) -> None:
        """Train with ``settings``; with ``during``, also save that view when 70 % is done (``view_training.png``)."""
        lr = settings.pop("lr", None)
        window.state.set_training_settings(**settings)
        if lr is not None:
            window.state.set_hyperparameter("lr", lr)
        if during is not None:
            window.views.setCurrentWidget(during)
        _, message = screens.train(window, during, at=0.7, name="view_training")
        print(message)

    def grab(window: MainWindow, name: str) -> None:
        screens.grab(window, f"view_{name}")

    def save(window: MainWindow, view: TrainingView, name: str) -> None:
        window.views.setCurrentWidget(view)
        settle(window, 0.2)
        view.flush()
        settle(window, 0.2)
        grab(window, name)

    def runs_view(window: MainWindow) -> None:
        """The Runs view with the three newest runs overlaid, the newest named and tagged (``view_runs.png``)."""
        browser = window.run_browser
        window.views.setCurrentWidget(browser)  # it reads the runs folder when shown
        newest = browser.shown[:3]
        browser.rename(newest[0], "Adam, lr 0.01")
        browser.set_tags(browser.shown[0], "baseline, adam")
        browser.select_runs([entry.path for entry in newest])
        save(window, browser, "runs")

    def load_images(window: MainWindow, subset: int) -> None:
        screens.load_images(window, 0.5)
        window.state.set_data_settings(subset=subset, normalization="scale")

    # The spiral: curves and the decision boundary.
    window = new_window()
    train(window, epochs=150, batch_size=32, lr=0.01)
    save(window, window.curves_view, "curves")
    save(window, window.boundary_view, "boundary")
    close(window)

    # The Runs view: the spiral trained with three optimizers, named and tagged, overlaid.
    window = new_window()
    for optimizer, lr in (("sgd", 0.1), ("momentum", 0.05), ("adam", 0.01)):
        train(window, optimizer=optimizer, epochs=60, batch_size=32, lr=lr)
    runs_view(window)
    close(window)

    # SimpleConvNet on MNIST: filters, feature maps, evaluation.
    window = new_window()
    window.documents.open_example(next(p for p in example_networks() if p.name == "simple_conv_net.json"))
    spec = window.state.spec_copy()
    spec["layers"][0]["init"] = 0.01  # the book's weight_init_std: learned structure stands out of the noise
    window.state.load_network(spec)
    load_images(window, 20000)
    train(window, window.curves_view, epochs=2, batch_size=100, lr=0.003)
    window.filters_view.sample_spin.setValue(3)
    save(window, window.filters_view, "filters")
    save(window, window.evaluation_view, "evaluation")
    close(window)

    # Five sigmoid layers with std-1 weights: saturated activations, vanishing gradients.
    window = new_window()
    window.state.load_network(SIGMOID_NET)
    load_images(window, 6000)
    window.state.set_training_settings(optimizer="sgd")
    train(window, epochs=3, batch_size=100, lr=0.1)
    save(window, window.activations_view, "activations")
    save(window, window.weights_view, "weights")
    close(window)

    def experiment(window: MainWindow, view: Any, name: str) -> None:
        """Run the experiment view ``view`` as set up, then save it as ``name``."""
        window.views.setCurrentWidget(view)
        ended: list[str] = []
        view.run_finished.connect(ended.append)
        view.run_button.click()
        while not ended:
            app.processEvents()
            time.sleep(0.005)
        print(f"{name}: {ended[0]}, {view.progress_label.text()}")
        save(window, view, name)

    # The book's optimizer comparison (figure 6-9, 2000 mini-batches each) and a random search on MNIST.
    if screens.have_mnist:
        window = new_window()
        window.compare_view.choose_experiment("optimizers")
        window.compare_view.processes_spin.setValue(2)
        experiment(window, window.compare_view, "compare")
        window.documents.open_example(next(p for p in example_networks() if p.name == "multi_layer_net.json"))
        load_images(window, 1000)
        window.state.set_data_settings(val_fraction=0.2)
        window.state.set_training_settings(optimizer="sgd", batch_size=100)
        search = window.search_view
        search.trials_spin.setValue(20)
        search.epochs_spin.setValue(40)
        search.processes_spin.setValue(2)
        experiment(window, search, "search")
        close(window)

    # The activation distributions (no training): the book's grid of activation × initial weights.
    window = new_window()
    save(window, window.distributions_view, "distributions")
    close(window)

    screens.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
