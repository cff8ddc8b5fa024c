"""Every experiment of the book, chapters 3 to 8, as a catalogue: what it shows, where the lab has it, how to
run it from the command line with the book's settings, and the result the book gives.

The app's Examples menu is built from :data:`BOOK_EXPERIMENTS` (a submenu per chapter of :data:`CHAPTERS`), and
the README's table of the book's experiments follows it. Each entry names what the app opens (``opens``):

- ``"experiment"``: an experiment file of ``assets/experiments`` (network, data and training settings);
- ``"comparison"``: a comparison preset (:data:`~dllab.experiments.presets.PRESETS`);
- ``"search"``: the book's search (:data:`~dllab.experiments.presets.BOOK_SEARCH`);
- ``"playground"``: the optimizer playground, with a preset of its own, the gradient field or the Derivative
  page (``target``);
- ``"distributions"``: the activation distributions of section 6.2.2;
- ``"gradcheck"``: the gradient check of the design (section 5.7.3);
- ``"book_weights"``: File ▸ Import Book Weights, for one of the book's published weight files (``target``);
- ``"precision"``: the precision experiment of section 8.3.4 on the current model.

>>> [e.title for e in experiments_of(3)]
["Inference with the book's sample weights"]
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["BOOK_EXPERIMENTS", "CHAPTERS", "OPENS", "BookExperiment", "experiments_of"]

#: The chapters of the book the lab covers, with their titles.
CHAPTERS: dict[int, str] = {
    3: "Neural networks",
    4: "Neural network training",
    5: "Backpropagation",
    6: "Training techniques",
    7: "Convolutional neural networks",
    8: "Deep learning",
}
#: What an entry can open in the app.
OPENS = (
    "experiment",
    "comparison",
    "search",
    "playground",
    "distributions",
    "gradcheck",
    "book_weights",
    "precision",
)


@dataclass(frozen=True)
class BookExperiment:
    """One experiment of the book.

    Attributes
    ----------
    chapter : int
        A key of :data:`CHAPTERS`.
    title : str
        What the experiment is, in a few words.
    figure : str
        Where the book shows it (``"figure 6-9"``, ``"section 5.7.3"``).
    opens : str
        What the app opens: one of :data:`OPENS`.
    target : str
        What exactly: a file name, a preset's key, a playground page; empty when ``opens`` says it all.
    command : str
        The command line that runs it with the book's settings (``--data mnist`` downloads MNIST once), or
        empty when only the app has it.
    book : str
        The result the book gives, as the book gives it.
    """

    chapter: int
    title: str
    figure: str
    opens: str
    target: str
    command: str
    book: str


#: The book's experiments, in the order of the book.
BOOK_EXPERIMENTS: tuple[BookExperiment, ...] = (
    BookExperiment(
        3,
        "Inference with the book's sample weights",
        "section 3.6.2",
        "book_weights",
        "ch03_sample_weight.pkl",
        "dllab import-book ch03_sample_weight.pkl --out ch03.dllab.npz && "
        "dllab evaluate ch03.dllab.npz --data mnist",
        "accuracy 0.9352",
    ),
    BookExperiment(
        4,
        "Numerical derivative and tangent of 0.01x² + 0.1x",
        "figure 4-7",
        "playground",
        "derivative",
        "",
        "0.1999999999990898 at x = 5, 0.2999999999986347 at x = 10",
    ),
    BookExperiment(
        4,
        "Gradient field of x0² + x1²",
        "figure 4-9",
        "playground",
        "gradient_field",
        "",
        "gradient (6, 8) at (3, 4); the arrows point to the minimum",
    ),
    BookExperiment(
        4,
        "Gradient descent with learning rates 0.1, 10 and 1e-10",
        "section 4.4.1",
        "playground",
        "book_4_learning_rate",
        "",
        "(-6.1e-10, 8.1e-10); (-2.6e13, -1.3e12); (-2.99999994, 3.99999992)",
    ),
    BookExperiment(
        4,
        "Training TwoLayerNet (sigmoid) by mini-batches",
        "figure 4-12",
        "experiment",
        "ch04_two_layer_net.json",
        "dllab train --config assets/experiments/ch04_two_layer_net.json",
        "training and test accuracy near 0.95 after 10,000 iterations",
    ),
    BookExperiment(
        5,
        "Gradient check: backpropagation against numerical gradients",
        "section 5.7.3",
        "gradcheck",
        "",
        "dllab gradcheck assets/networks/two_layer_net.json",
        "differences of 1e-10 to 1e-13",
    ),
    BookExperiment(
        5,
        "Training TwoLayerNet (ReLU) with backpropagation",
        "section 5.7.4",
        "experiment",
        "ch05_two_layer_net.json",
        "dllab train --config assets/experiments/ch05_two_layer_net.json",
        "test accuracy about 0.97 after 10,000 iterations",
    ),
    BookExperiment(
        6,
        "SGD, Momentum, AdaGrad and Adam on x²/20 + y²",
        "figure 6-8",
        "playground",
        "book_6_8",
        "",
        "SGD zig-zags; Momentum rolls; AdaGrad and Adam head for the minimum",
    ),
    BookExperiment(
        6,
        "The optimizers on MNIST",
        "figure 6-9",
        "comparison",
        "optimizers",
        "dllab compare --preset optimizers --data mnist",
        "SGD learns slowest; AdaGrad a little ahead of Momentum and Adam",
    ),
    BookExperiment(
        6,
        "Activation distributions by initial weights",
        "figures 6-10 to 6-14",
        "distributions",
        "",
        "",
        "std 1 saturates sigmoid at 0 and 1; std 0.01 squeezes it at 0.5; Xavier and He keep the spread",
    ),
    BookExperiment(
        6,
        "Initial weights on MNIST: std 0.01, Xavier, He",
        "figure 6-15",
        "comparison",
        "initializers",
        "dllab compare --preset initializers --data mnist",
        "std 0.01 does not learn; He learns fastest",
    ),
    BookExperiment(
        6,
        "Batch normalisation at 16 weight scales",
        "figure 6-18",
        "comparison",
        "batchnorm",
        "dllab compare --preset batchnorm --book --data mnist",
        "with BatchNorm learning at almost every scale; 0.53 at std 1e-4 in the book's code",
    ),
    BookExperiment(
        6,
        "Overfitting and weight decay",
        "figures 6-20 and 6-21",
        "comparison",
        "weight_decay",
        "dllab compare --preset weight_decay --book --data mnist",
        "training accuracy 1.0 without decay; the gap to test narrows with 0.1",
    ),
    BookExperiment(
        6,
        "Dropout",
        "figure 6-23",
        "comparison",
        "dropout",
        "dllab compare --preset dropout --book --data mnist",
        "train 0.67, test 0.55 after 301 epochs with dropout 0.2",
    ),
    BookExperiment(
        6,
        "Two ways to scale dropout",
        "figure 6-23",
        "comparison",
        "dropout_scaling",
        "dllab compare --preset dropout_scaling --book --data mnist",
        "the book's dropout only (train 0.67, test 0.55)",
    ),
    BookExperiment(
        6,
        "Hyperparameter search on a log scale",
        "figure 6-24",
        "search",
        "book_search",
        "dllab search --book --data mnist",
        "best validation accuracy 0.83, learning rates 0.001 to 0.01",
    ),
    BookExperiment(
        7,
        "Training SimpleConvNet; its filters before and after",
        "figure 7-24",
        "experiment",
        "ch07_simple_conv_net.json",
        "dllab train --config assets/experiments/ch07_simple_conv_net.json",
        "test accuracy about 0.99 after 20 epochs; the trained filters detect edges and blobs",
    ),
    BookExperiment(
        7,
        "The book's trained SimpleConvNet",
        "section 7.5",
        "book_weights",
        "ch07_params.pkl",
        "dllab import-book ch07_params.pkl --out ch07.dllab.npz && dllab evaluate ch07.dllab.npz --data mnist",
        "accuracy 0.9890",
    ),
    BookExperiment(
        8,
        "Training DeepConvNet",
        "section 8.1.1",
        "experiment",
        "ch08_deep_conv_net.json",
        "dllab train --config assets/experiments/ch08_deep_conv_net.json",
        "test accuracy 0.9935 after 20 epochs",
    ),
    BookExperiment(
        8,
        "The book's trained DeepConvNet",
        "section 8.1.1",
        "book_weights",
        "ch08_deep_convnet_params.pkl",
        "dllab import-book ch08_deep_convnet_params.pkl --out ch08.dllab.npz && "
        "dllab evaluate ch08.dllab.npz --data mnist",
        "accuracy 0.9935",
    ),
    BookExperiment(
        8,
        "Half precision: float64, float32 and float16",
        "section 8.3.4",
        "precision",
        "",
        "dllab precision ch08.dllab.npz --data mnist",
        "the same accuracy in float16 (0.9935)",
    ),
)


def experiments_of(chapter: int) -> Iterator[BookExperiment]:
    """The book's experiments of one chapter, in the order of the book."""
    return (experiment for experiment in BOOK_EXPERIMENTS if experiment.chapter == chapter)
