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

__all__ = [
    "BOOK_EXPERIMENTS",
    "CHAPTERS",
    "COURSE_TOPICS",
    "OPENS",
    "BookExperiment",
    "CourseTopic",
    "experiments_of",
]

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
    concept : str
        Two or three sentences for the welcome page's card: the concept the experiment shows, and what to look
        for in the lab.
    """

    chapter: int
    title: str
    figure: str
    opens: str
    target: str
    command: str
    book: str
    concept: str


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
        "A trained network is nothing but its weights: the book's three-layer sigmoid network classifies MNIST "
        "digits by matrix products alone, with no training here. Look at the accuracy its weights reach on the "
        "10,000 test images, and at the digits it confuses in the Evaluation view.",
    ),
    BookExperiment(
        4,
        "Numerical derivative and tangent of 0.01x² + 0.1x",
        "figure 4-7",
        "playground",
        "derivative",
        "",
        "0.1999999999990898 at x = 5, 0.2999999999986347 at x = 10",
        "The derivative is the slope of the tangent, and a centred difference with a small h estimates it without "
        "any calculus. Look at how close the numerical slope at x = 5 and x = 10 comes to the exact 0.2 and 0.3.",
    ),
    BookExperiment(
        4,
        "Gradient field of x0² + x1²",
        "figure 4-9",
        "playground",
        "gradient_field",
        "",
        "gradient (6, 8) at (3, 4); the arrows point to the minimum",
        "The gradient of a function of two variables is the vector of its partial derivatives, and minus the "
        "gradient points downhill. Look at the arrows: all of them point to the minimum at (0, 0), longer the "
        "farther away they start.",
    ),
    BookExperiment(
        4,
        "Gradient descent with learning rates 0.1, 10 and 1e-10",
        "section 4.4.1",
        "playground",
        "book_4_learning_rate",
        "",
        "(-6.1e-10, 8.1e-10); (-2.6e13, -1.3e12); (-2.99999994, 3.99999992)",
        "Gradient descent steps against the gradient, and the learning rate sets the length of each step. Look at "
        "0.1 reaching the minimum, 10 flying off to enormous values, and 1e-10 hardly moving at all.",
    ),
    BookExperiment(
        4,
        "Training TwoLayerNet (sigmoid) by mini-batches",
        "figure 4-12",
        "experiment",
        "ch04_two_layer_net.json",
        "dllab train --config assets/experiments/ch04_two_layer_net.json",
        "training and test accuracy near 0.95 after 10,000 iterations",
        "The whole learning loop of chapter 4: mini-batches, a loss, its gradients and an update, on a two-layer "
        "network of sigmoid units. Look at the loss falling in the Curves view while training and test accuracy "
        "rise together, the sign of a network that does not overfit.",
    ),
    BookExperiment(
        5,
        "Gradient check: backpropagation against numerical gradients",
        "section 5.7.3",
        "gradcheck",
        "",
        "dllab gradcheck assets/networks/two_layer_net.json",
        "differences of 1e-10 to 1e-13",
        "Backpropagation computes every gradient in one backward pass; numerical differentiation computes the same "
        "numbers slowly but simply. Look at the differences between the two: about 1e-10 means the backward pass is "
        "right, a large one points at the layer with the bug.",
    ),
    BookExperiment(
        5,
        "Training TwoLayerNet (ReLU) with backpropagation",
        "section 5.7.4",
        "experiment",
        "ch05_two_layer_net.json",
        "dllab train --config assets/experiments/ch05_two_layer_net.json",
        "test accuracy about 0.97 after 10,000 iterations",
        "The same two-layer network, its gradients from backpropagation and ReLU in place of the sigmoid. Look at "
        "how many more steps a second it trains than with numerical gradients, and at the higher accuracy ReLU "
        "reaches.",
    ),
    BookExperiment(
        6,
        "SGD, Momentum, AdaGrad and Adam on x²/20 + y²",
        "figure 6-8",
        "playground",
        "book_6_8",
        "",
        "SGD zig-zags; Momentum rolls; AdaGrad and Adam head for the minimum",
        "SGD, Momentum, AdaGrad and Adam race from the same start down an elongated bowl. Look at SGD zig-zagging "
        "across the steep direction, Momentum overshooting and rolling back, AdaGrad and Adam heading for the "
        "minimum.",
    ),
    BookExperiment(
        6,
        "The optimizers on MNIST",
        "figure 6-9",
        "comparison",
        "optimizers",
        "dllab compare --preset optimizers --data mnist",
        "SGD learns slowest; AdaGrad a little ahead of Momentum and Adam",
        "One network trained by each optimizer from the same initial weights on the same mini-batches. Look at how "
        "fast each loss falls: plain SGD lags behind, the adaptive optimizers learn fastest.",
    ),
    BookExperiment(
        6,
        "Activation distributions by initial weights",
        "figures 6-10 to 6-14",
        "distributions",
        "",
        "",
        "std 1 saturates sigmoid at 0 and 1; std 0.01 squeezes it at 0.5; Xavier and He keep the spread",
        "Five layers fed random data show how the scale of the initial weights shapes what every layer outputs. "
        "Look at std 1 piling sigmoid outputs at 0 and 1 where gradients vanish, std 0.01 squeezing them into one "
        "value, and Xavier and He keeping them spread.",
    ),
    BookExperiment(
        6,
        "Initial weights on MNIST: std 0.01, Xavier, He",
        "figure 6-15",
        "comparison",
        "initializers",
        "dllab compare --preset initializers --data mnist",
        "std 0.01 does not learn; He learns fastest",
        "A five-layer network trained from three scales of initial weights. Look at std 0.01 hardly learning at all "
        "while Xavier and He learn, He fastest under ReLU.",
    ),
    BookExperiment(
        6,
        "Batch normalisation at 16 weight scales",
        "figure 6-18",
        "comparison",
        "batchnorm",
        "dllab compare --preset batchnorm --book --data mnist",
        "with BatchNorm learning at almost every scale; 0.53 at std 1e-4 in the book's code",
        "Batch normalisation rescales every layer's inputs to mean 0 and variance 1 on each mini-batch. Look at the "
        "runs with BatchNorm learning at almost every weight scale where those without it stall.",
    ),
    BookExperiment(
        6,
        "Overfitting and weight decay",
        "figures 6-20 and 6-21",
        "comparison",
        "weight_decay",
        "dllab compare --preset weight_decay --book --data mnist",
        "training accuracy 1.0 without decay; the gap to test narrows with 0.1",
        "A large network on only 300 training images learns them by heart: training accuracy reaches 1.0 while test "
        "accuracy stays far below. Look at the gap between the two curves, and at weight decay narrowing it.",
    ),
    BookExperiment(
        6,
        "Dropout",
        "figure 6-23",
        "comparison",
        "dropout",
        "dllab compare --preset dropout --book --data mnist",
        "train 0.67, test 0.55 after 301 epochs with dropout 0.2",
        "Dropout silences a random share of the units at every training step, so that the network cannot rely on "
        "any single one. Look at training and test accuracy staying close together, at the price of slower "
        "learning.",
    ),
    BookExperiment(
        6,
        "Two ways to scale dropout",
        "figure 6-23",
        "comparison",
        "dropout_scaling",
        "dllab compare --preset dropout_scaling --book --data mnist",
        "the book's dropout only (train 0.67, test 0.55)",
        "Dropout can scale the kept units up while training (inverted dropout) or scale every unit down at test "
        "time, as the book does; both keep the expected output the same. Look at the two runs learning alike.",
    ),
    BookExperiment(
        6,
        "Hyperparameter search on a log scale",
        "figure 6-24",
        "search",
        "book_search",
        "dllab search --book --data mnist",
        "best validation accuracy 0.83, learning rates 0.001 to 0.01",
        "Learning rate and weight decay drawn at random on a log scale, each trial trained briefly and judged on "
        "validation data, never on the test set. Look at where the best trials gather, then narrow the ranges "
        "there.",
    ),
    BookExperiment(
        7,
        "Training SimpleConvNet; its filters before and after",
        "figure 7-24",
        "experiment",
        "ch07_simple_conv_net.json",
        "dllab train --config assets/experiments/ch07_simple_conv_net.json",
        "test accuracy about 0.99 after 20 epochs; the trained filters detect edges and blobs",
        "A convolution slides small learned filters over the image and keeps its spatial structure, which Dense "
        "layers flatten away. Look at the Filters view: random noise at the start, edge and blob detectors once "
        "trained.",
    ),
    BookExperiment(
        7,
        "The book's trained SimpleConvNet",
        "section 7.5",
        "book_weights",
        "ch07_params.pkl",
        "dllab import-book ch07_params.pkl --out ch07.dllab.npz && dllab evaluate ch07.dllab.npz --data mnist",
        "accuracy 0.9890",
        "The weights the book trained for 20 epochs, loaded into the lab's own network. Look at its accuracy on the "
        "test set and at its first layer's filters, edges at several orientations.",
    ),
    BookExperiment(
        8,
        "Training DeepConvNet",
        "section 8.1.1",
        "experiment",
        "ch08_deep_conv_net.json",
        "dllab train --config assets/experiments/ch08_deep_conv_net.json",
        "test accuracy 0.9935 after 20 epochs",
        "Deeper: six 3×3 convolutions with ReLU, He initialisation, dropout and Adam, in the style of VGG. It "
        "trains for a long time on a CPU; look at how few test images it gets wrong, and which ones, in the "
        "Evaluation view.",
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
        "The book's trained DeepConvNet, which gets fewer than 70 of the 10,000 test images wrong. Look at its "
        "mistakes in the Evaluation view: many of them are hard for people too.",
    ),
    BookExperiment(
        8,
        "Half precision: float64, float32 and float16",
        "section 8.3.4",
        "precision",
        "",
        "dllab precision ch08.dllab.npz --data mnist",
        "the same accuracy in float16 (0.9935)",
        "Deep learning needs few bits: the same trained network computes in float64, float32 and float16. Look at "
        "the accuracy staying the same while the model's size halves and halves again.",
    ),
)


@dataclass(frozen=True)
class CourseTopic:
    """One topic of the deep-learning course that the lab has an experiment for (Examples ▸ The Course).

    Attributes
    ----------
    title : str
        The topic, in a few words.
    target : str
        What the app opens: an experiment file of ``assets/experiments`` (``course_*.json``), or
        ``"transfer"`` for the transfer-learning experiment.
    concept : str
        Two or three sentences for the welcome page's card: the concept, and what to look for in the lab.
    """

    title: str
    target: str
    concept: str


#: The course's topics with an experiment, in the order of the course.
COURSE_TOPICS: tuple[CourseTopic, ...] = (
    CourseTopic(
        "Data mismatch",
        "course_data_mismatch.json",
        "Training data from one distribution, dev and test data from another: here clean digits to learn from, "
        "noisy ones to be judged on. Look at the fit reading under the Curves view: the gap between train-dev "
        "and dev error is the data mismatch, which more training data of the same kind never closes.",
    ),
    CourseTopic(
        "Data mismatch remedied",
        "course_data_mismatch_remedy.json",
        "The same experiment with 30 % of the training images made noisy like the dev and test data. Look at the "
        "data-mismatch gap shrinking against the previous experiment while the other errors stay where they were.",
    ),
    CourseTopic(
        "Transfer learning",
        "transfer",
        "A small convolutional network learns digits 0 to 4, then its features serve to learn 5 to 9 from only a "
        "few samples. Look at fine-tuning and frozen features beating training from scratch when samples are "
        "few, and the advantage fading as they grow.",
    ),
)


def experiments_of(chapter: int) -> Iterator[BookExperiment]:
    """The book's experiments of one chapter, in the order of the book."""
    return (experiment for experiment in BOOK_EXPERIMENTS if experiment.chapter == chapter)
