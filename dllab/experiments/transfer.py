"""Why transfer learning matters: a convnet pretrained on some classes learns the others from few samples.

A small convnet (two convolutions, then a classifier) is pretrained on the first half of a ten-class image data
set (MNIST digits 0-4). The other half (digits 5-9) is then learned from a few training samples, in three ways:

- ``scratch``: a fresh network, every weight learned from the few samples;
- ``finetune``: the pretrained network with a new output layer, every layer trained further (at the same
  learning rate by default: a smaller one, measured, leaves the new output layer too far behind in so few
  epochs);
- ``frozen``: the pretrained convolutions frozen (:func:`dllab.transfer.freeze_layers`): only the Dense head
  (its hidden layer started from the pretrained one, its output layer new) learns.

Every way trains the same number of epochs over its samples, so none sees its few samples more often than
another, and is measured on the whole test set of the new classes. The result is the test accuracy against the
number of samples: the course's lesson is that transfer helps most when the new task has little data.

>>> result = transfer_experiment(load_dataset("mnist"))                  # doctest: +SKIP
>>> print(result.table())                                                # doctest: +SKIP
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dllab.data import Dataset, prepare
from dllab.errors import SettingsError
from dllab.files import atomic_write
from dllab.model import Sequential, build
from dllab.trainer import Diverged, Finished, Trainer, TrainingConfig
from dllab.transfer import TransferReport, freeze_layers, init_from

if TYPE_CHECKING:  # matplotlib is imported only where a figure is drawn
    from matplotlib.figure import Figure

#: The three ways of learning the new classes, in the order of the table's columns.
WAYS = ("scratch", "finetune", "frozen")
#: What each way is called in a table or legend.
WAY_LABELS = {
    "scratch": "from scratch",
    "finetune": "fine-tuning everything",
    "frozen": "frozen features, new head",
}
#: Training samples of the new classes the experiment learns from.
SAMPLE_COUNTS = (50, 100, 500, 5000)
#: The pretraining classes and the new classes: the two halves of a ten-class data set.
PRETRAIN_CLASSES = (0, 1, 2, 3, 4)
TARGET_CLASSES = (5, 6, 7, 8, 9)
#: The layers that are the features: frozen in the ``frozen`` way.
FEATURE_LAYERS = ("conv2d_1", "conv2d_2")


def network(classes: int, head: str) -> dict[str, Any]:
    """The experiment's small convnet: two convolutions (the features), a hidden Dense layer and an output
    layer named ``head``, so that a network for other classes gets an output layer of its own.

    Parameters
    ----------
    classes
        Outputs of the last layer.
    head
        The name of the last layer.
    """
    return {
        "format": "dllab.network/1",
        "name": "TransferConvNet",
        "input_shape": [1, 28, 28],
        "layers": [
            {"type": "Conv2D", "name": "conv2d_1", "filters": 16, "kernel_size": 5, "init": "he"},
            {"type": "ReLU"},
            {"type": "MaxPool2D", "pool_size": 2, "stride": 2},
            {"type": "Conv2D", "name": "conv2d_2", "filters": 32, "kernel_size": 3, "init": "he"},
            {"type": "ReLU"},
            {"type": "MaxPool2D", "pool_size": 2, "stride": 2},
            {"type": "Flatten"},
            {"type": "Dense", "name": "dense_1", "units": 64, "init": "he"},
            {"type": "ReLU"},
            {"type": "Dense", "name": head, "units": classes, "init": "xavier"},
        ],
        "loss": "softmax_cross_entropy",
    }


@dataclass(frozen=True)
class TransferSettings:
    """How long and how fast each part trains.

    Attributes
    ----------
    pretrain_samples : int
        Samples of the pretraining classes the network is pretrained on.
    pretrain_epochs : int
    epochs : int
        Epochs each way trains over its samples of the new classes, at every sample count.
    batch_size : int
        Samples a mini-batch (all of them when fewer are given).
    lr : float
        Adam's learning rate for pretraining, from scratch and the frozen way's head.
    finetune_lr : float
        Adam's learning rate for fine-tuning the whole pretrained network.
    sample_counts : tuple of int
    seed : int
        Seeds the weights, the samples drawn and their order.
    """

    pretrain_samples: int = 30000
    pretrain_epochs: int = 3
    epochs: int = 20
    batch_size: int = 25
    lr: float = 0.001
    finetune_lr: float = 0.001
    sample_counts: tuple[int, ...] = SAMPLE_COUNTS
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("pretrain_samples", "pretrain_epochs", "epochs", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SettingsError(f"{name} must be a whole number of at least 1, got {value!r}")
        for name in ("lr", "finetune_lr"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
                raise SettingsError(f"{name} must be a positive number, got {value!r}")
        if not self.sample_counts or any(
            isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in self.sample_counts
        ):
            raise SettingsError(
                f"sample counts must be whole numbers of at least 1, got {self.sample_counts!r}"
            )


#: Shorter settings for a quick look: less pretraining, and only the small sample counts.
QUICK = TransferSettings(pretrain_samples=15000, sample_counts=(50, 100))


@dataclass
class TransferResult:
    """Test accuracy on the new classes for each way and sample count, and what the pretraining gave."""

    settings: TransferSettings
    #: ``accuracy[way][i]`` for ``settings.sample_counts[i]``.
    accuracy: dict[str, list[float]] = field(default_factory=dict)
    #: Test accuracy of the pretrained network on its own classes.
    pretrain_accuracy: float = math.nan
    #: What :func:`dllab.transfer.init_from` did for the ``frozen`` way.
    report: TransferReport | None = None

    def rows(self) -> list[tuple[str, ...]]:
        """The table as text cells, a header row first."""
        rows = [("samples", *(WAY_LABELS[way] for way in WAYS))]
        for i, count in enumerate(self.settings.sample_counts):
            rows.append((f"{count:,}", *(f"{self.accuracy[way][i]:.4f}" for way in WAYS)))
        return rows

    def table(self) -> str:
        """The rows aligned in columns."""
        rows = self.rows()
        widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
        return "\n".join(
            "  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) for row in rows
        )

    def csv_text(self) -> str:
        """The accuracies as CSV: ``samples,scratch,finetune,frozen``."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["samples", *WAYS])
        for i, count in enumerate(self.settings.sample_counts):
            writer.writerow([count, *(f"{self.accuracy[way][i]:.6g}" for way in WAYS)])
        return buffer.getvalue()

    def figure(self) -> Figure:
        """Test accuracy against the number of training samples (log scale), one line per way."""
        from dllab.experiments.plotting import COLORS, figure_style, new_figure

        with figure_style():
            figure = new_figure(6.4, 4.0)
            axes = figure.add_subplot()
            counts = self.settings.sample_counts
            for way, marker, color in zip(WAYS, "osd", COLORS, strict=False):
                axes.plot(counts, self.accuracy[way], marker=marker, color=color, label=WAY_LABELS[way])
            axes.set_xscale("log")
            axes.set_xticks(counts, [f"{n:,}" for n in counts])
            axes.minorticks_off()
            axes.set_xlabel("training samples of the new classes (log scale)")
            axes.set_ylabel("test accuracy on the new classes")
            axes.set_title(
                f"Learning classes {_names(TARGET_CLASSES)} after pretraining on {_names(PRETRAIN_CLASSES)}"
            )
            axes.legend(loc="lower right")
        return figure

    def write(self, folder: str | Path) -> dict[str, Path]:
        """Write ``transfer.csv`` and ``transfer.png`` into ``folder``; returns their paths by what they are."""
        from dllab.experiments.plotting import write_figure

        folder = Path(folder)
        text = self.csv_text().encode()
        return {
            "table": atomic_write(folder / "transfer.csv", lambda file: file.write(text)),
            "figure": write_figure(folder / "transfer.png", self.figure()),
        }


def _names(classes: tuple[int, ...]) -> str:
    return f"{classes[0]}-{classes[-1]}"


def _train(
    model: Sequential,
    data: Dataset,
    samples: int,
    epochs: int,
    lr: float,
    settings: TransferSettings,
    seed: int,
) -> float:
    """Train ``model`` with Adam for ``epochs`` over ``samples`` random training samples of ``data`` (drawn by
    ``seed``) in mini-batches of ``settings.batch_size``; its accuracy on the whole test set of ``data``."""
    prepared = prepare(data, subset=samples, subset_mode="random", val_fraction=0.0, seed=seed)
    config = TrainingConfig(
        optimizer="adam",
        lr=lr,
        batch_size=min(settings.batch_size, len(prepared.x_train)),
        epochs=epochs,
        seed=seed,
        eval_samples=500,
        stats_every=0,
        probe_size=1,
    )
    last: Any = None
    for event in Trainer(model, prepared, config).run():
        last = event
    if isinstance(last, Diverged):
        raise SettingsError(f"the transfer experiment diverged: {last.message}")
    assert isinstance(last, Finished)
    return float(last.test_accuracy)


def transfer_experiment(
    dataset: Dataset,
    settings: TransferSettings | None = None,
    *,
    progress: Callable[[str], None] | None = None,
) -> TransferResult:
    """Pretrain on classes 0-4 of ``dataset``, then learn 5-9 from each sample count in the three :data:`WAYS`.

    Parameters
    ----------
    dataset
        A ten-class data set of 1x28x28 images (MNIST or Fashion-MNIST), as loaded.
    settings
        How long each part trains; :class:`TransferSettings`' defaults when None (see also :data:`QUICK`).
    progress
        Called with one line before each part (pretraining, then every sample count and way).

    Returns
    -------
    TransferResult

    Raises
    ------
    SettingsError
        When the data set is not ten classes of 1x28x28 images, or a sample count exceeds its training samples
        of the new classes.
    """
    say = progress or (lambda line: None)
    for step in transfer_steps(dataset, settings):
        if isinstance(step, TransferResult):
            return step
        say(step)
    raise AssertionError("transfer_steps ends with its result")


def transfer_steps(
    dataset: Dataset, settings: TransferSettings | None = None
) -> Iterator[str | TransferResult]:
    """:func:`transfer_experiment` one part at a time: a line before each part, then the result, last.

    Closing the generator between two parts stops the experiment there (the app's Stop).
    """
    settings = settings or TransferSettings()
    if dataset.task != "classification" or dataset.num_classes != 10 or dataset.input_shape != (1, 28, 28):
        raise SettingsError(
            f"the transfer experiment needs ten classes of 1x28x28 images (MNIST or Fashion-MNIST), and "
            f"{dataset.name} is not that"
        )
    source_data = dataset.select_classes(list(PRETRAIN_CLASSES))
    target_data = dataset.select_classes(list(TARGET_CLASSES))
    available = len(target_data.x_train)
    if max(settings.sample_counts) > available:
        raise SettingsError(
            f"{target_data.name} has {available:,} training samples, fewer than the "
            f"{max(settings.sample_counts):,} asked for"
        )
    pretrain_samples = min(settings.pretrain_samples, len(source_data.x_train))
    yield f"pretraining on {source_data.name}: {pretrain_samples:,} samples, {settings.pretrain_epochs} epochs"
    pretrained = build(network(len(PRETRAIN_CLASSES), "head_pretrain"), seed=settings.seed)
    result = TransferResult(settings, {way: [] for way in WAYS})
    result.pretrain_accuracy = _train(
        pretrained,
        source_data,
        pretrain_samples,
        settings.pretrain_epochs,
        settings.lr,
        settings,
        settings.seed,
    )
    fresh = network(len(TARGET_CLASSES), "head_new")
    specs = {"scratch": fresh, "finetune": fresh, "frozen": freeze_layers(fresh, list(FEATURE_LAYERS))}
    rates = {"scratch": settings.lr, "finetune": settings.finetune_lr, "frozen": settings.lr}
    for count in settings.sample_counts:
        for way in WAYS:
            yield f"{WAY_LABELS[way]}: {count:,} samples of {target_data.name}"
            model = build(specs[way], seed=settings.seed + 1)
            if way != "scratch":
                report = init_from(model, pretrained)
                if way == "frozen":
                    result.report = report
            accuracy = _train(
                model, target_data, count, settings.epochs, rates[way], settings, settings.seed + 1
            )
            result.accuracy[way].append(accuracy)
    yield result
