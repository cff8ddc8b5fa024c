"""Why transfer learning matters: a convnet pretrained on some classes learns the others from few samples.

A small convnet is pretrained on the first classes of a data set (MNIST digits 0-4). The other classes (digits
5-9) are then learned from a few samples each time, in three ways:

- ``scratch``: a fresh network, every weight learned from the few samples;
- ``finetune``: the pretrained network with a new head, every layer trained further;
- ``frozen``: the pretrained features frozen (:func:`dllab.transfer.freeze_layers`), only the new head learns.

Each way trains the same number of steps at every sample count, and is measured on the whole test set of the
new classes. The result is the test accuracy against the number of samples: with 50 or 100 samples the
pretrained features are worth far more than what a fresh network learns from so few; with thousands the
difference shrinks.

>>> result = transfer_experiment(load_dataset("mnist"))                  # doctest: +SKIP
>>> print(result.table())                                                # doctest: +SKIP
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dllab.data import Dataset, prepare
from dllab.errors import SettingsError
from dllab.files import atomic_write
from dllab.model import build
from dllab.trainer import Finished, Trainer, TrainingConfig
from dllab.transfer import TransferReport, freeze_layers, init_from

if TYPE_CHECKING:
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

#: The pretraining and the new classes: the first and second half of a ten-class data set.
PRETRAIN_CLASSES = (0, 1, 2, 3, 4)
TARGET_CLASSES = (5, 6, 7, 8, 9)


def network(classes: int, suffix: str) -> dict[str, Any]:
    """The small convnet of the experiment: a convolution (the features) and a classifier of two Dense layers
    whose names end in ``suffix``, so a network for other classes gets a classifier of its own."""
    return {
        "format": "dllab.network/1",
        "name": "transfer_convnet",
        "input_shape": [1, 28, 28],
        "layers": [
            {"type": "Conv2D", "name": "conv2d_1", "filters": 16, "kernel_size": 5, "init": "he"},
            {"type": "ReLU"},
            {"type": "MaxPool2D", "pool_size": 2, "stride": 2},
            {"type": "Flatten"},
            {"type": "Dense", "name": f"dense_{suffix}", "units": 64, "init": "he"},
            {"type": "ReLU"},
            {"type": "Dense", "name": f"head_{suffix}", "units": classes, "init": "xavier"},
        ],
        "loss": "softmax_cross_entropy",
    }


#: The layers whose weights are the features: copied after pretraining, frozen in the ``frozen`` way.
FEATURE_LAYERS = ("conv2d_1",)


@dataclass(frozen=True)
class TransferSettings:
    """How long each part trains.

    Attributes
    ----------
    pretrain_samples : int
        Samples of the pretraining classes the network is pretrained on.
    pretrain_epochs : int
    steps : int
        Mini-batches each way trains on the new classes, at every sample count.
    batch_size : int
        At most this many samples a batch (fewer when fewer samples are given).
    lr : float
        Adam's learning rate, for pretraining and every way.
    sample_counts : tuple of int
    seed : int
    """

    pretrain_samples: int = 12000
    pretrain_epochs: int = 2
    steps: int = 200
    batch_size: int = 50
    lr: float = 0.001
    sample_counts: tuple[int, ...] = SAMPLE_COUNTS
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("pretrain_samples", "pretrain_epochs", "steps", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SettingsError(f"{name} must be a whole number of at least 1, got {value!r}")
        if not self.sample_counts or any(
            isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in self.sample_counts
        ):
            raise SettingsError(f"sample counts must be whole numbers of at least 1, got {self.sample_counts!r}")


#: Shorter settings for a quick look (about a third of the time).
QUICK = TransferSettings(pretrain_samples=4000, pretrain_epochs=2, steps=100, sample_counts=(50, 100, 500))


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
        return "\n".join("  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) for row in rows)

    def csv_text(self) -> str:
        """The accuracies as CSV: ``samples,scratch,finetune,frozen``."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["samples", *WAYS])
        for i, count in enumerate(self.settings.sample_counts):
            writer.writerow([count, *(repr(self.accuracy[way][i]) for way in WAYS)])
        return buffer.getvalue()

    def figure(self) -> Figure:
        """Test accuracy against the number of training samples (log scale), one line per way."""
        from dllab.experiments.plotting import figure_style, new_figure

        with figure_style():
            figure = new_figure(6.4, 4.0)
            axes = figure.add_subplot()
            counts = self.settings.sample_counts
            for way, marker in zip(WAYS, "osd", strict=True):
                axes.plot(counts, self.accuracy[way], marker=marker, label=WAY_LABELS[way])
            axes.set_xscale("log")
            axes.set_xticks(counts, [f"{n:,}" for n in counts])
            axes.minorticks_off()
            axes.set_xlabel("training samples of the new classes")
            axes.set_ylabel("test accuracy")
            axes.set_title("Learning digits 5-9 after pretraining on 0-4")
            axes.legend(loc="lower right")
        return figure

    def write(self, folder: str | Path) -> list[Path]:
        """Write ``transfer.csv`` and ``transfer.png`` into ``folder``; returns their paths."""
        folder = Path(folder)
        text = self.csv_text().encode()
        written = [atomic_write(folder / "transfer.csv", lambda file: file.write(text))]
        from dllab.experiments.plotting import write_figure

        written.append(write_figure(folder / "transfer.png", self.figure()))
        return written


def _train(model: Any, data: Dataset, samples: int, settings: TransferSettings, steps: int) -> float:
    """Train ``model`` on ``samples`` random training samples of ``data`` for ``steps`` mini-batches (all
    epochs when ``steps`` is 0); the test accuracy."""
    prepared = prepare(
        data, subset=samples, subset_mode="random", val_fraction=0.0, seed=settings.seed, normalization="scale"
    )
    batch = min(settings.batch_size, len(prepared.x_train))
    per_epoch = math.ceil(len(prepared.x_train) / batch)
    config = TrainingConfig(
        optimizer="adam",
        lr=settings.lr,
        batch_size=batch,
        epochs=settings.pretrain_epochs if steps == 0 else math.ceil(steps / per_epoch),
        max_steps=None if steps == 0 else steps,
        seed=settings.seed,
        eval_samples=1000,
        stats_every=0,
        probe_size=10,
    )
    last = None
    for event in Trainer(model, prepared, config).run():
        last = event
    if not isinstance(last, Finished):
        raise SettingsError(f"training stopped before it finished ({last!r})")
    return last.test_accuracy


def transfer_experiment(
    dataset: Dataset,
    settings: TransferSettings | None = None,
    *,
    progress: Callable[[str], None] | None = None,
) -> TransferResult:
    """Pretrain on digits 0-4 of ``dataset``, then learn 5-9 from each sample count in the three :data:`WAYS`.

    Parameters
    ----------
    dataset
        A ten-class image data set of 1x28x28 images (MNIST or Fashion-MNIST), as loaded.
    settings
        How long each part trains; the defaults when None (see also :data:`QUICK`).
    progress
        Called with one line before each part (pretraining, then every way and sample count).

    Returns
    -------
    TransferResult

    Raises
    ------
    SettingsError
        When the data set is not ten classes of 1x28x28 images.
    """
    settings = settings or TransferSettings()
    say = progress or (lambda line: None)
    if dataset.num_classes != 10 or dataset.input_shape != (1, 28, 28):
        raise SettingsError(
            f"the transfer experiment needs ten classes of 1x28x28 images (MNIST or Fashion-MNIST), and "
            f"{dataset.name} has {dataset.num_classes} classes of {dataset.input_shape}"
        )
    source_data = dataset.select_classes(list(PRETRAIN_CLASSES))
    target_data = dataset.select_classes(list(TARGET_CLASSES))
    say(f"pretraining on {source_data.name}: {settings.pretrain_samples:,} samples, {settings.pretrain_epochs} epochs")
    pretrained = build(network(len(PRETRAIN_CLASSES), "pretrain"), seed=settings.seed)
    result = TransferResult(settings, {way: [] for way in WAYS})
    result.pretrain_accuracy = _train(pretrained, source_data, settings.pretrain_samples, settings, steps=0)
    fresh = network(len(TARGET_CLASSES), "new")
    specs = {"scratch": fresh, "finetune": fresh, "frozen": freeze_layers(fresh, list(FEATURE_LAYERS))}
    for count in settings.sample_counts:
        for way in WAYS:
            say(f"{WAY_LABELS[way]}, {count:,} samples of {target_data.name}")
            model = build(specs[way], seed=settings.seed + 1)
            if way != "scratch":
                report = init_from(model, pretrained)
                if way == "frozen":
                    result.report = report
            result.accuracy[way].append(_train(model, target_data, count, settings, settings.steps))
    return result
