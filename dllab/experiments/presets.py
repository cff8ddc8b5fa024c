"""The book's chapter 6 experiments as data: network, data, training settings and what varies.

:data:`PRESETS` holds the optimizers, initializers, batchnorm, weight_decay, dropout and dropout_scaling
comparisons; :func:`comparison_from_preset` turns one into a ready
:class:`~dllab.experiments.compare.Comparison` on MNIST. :data:`BOOK_SEARCH` is the random search of figure 6-24
(:meth:`SearchPreset.definition`, run as a study by :mod:`dllab.experiments.study`).

>>> comparison = comparison_from_preset("weight_decay", data_dir="data/mnist")   # doctest: +SKIP
>>> for tagged in comparison.run():                                             # doctest: +SKIP
...     print(tagged.label, tagged.event)
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dllab.data import Dataset
from dllab.data.download import ProgressCallback
from dllab.errors import SettingsError, quote
from dllab.experiment import Experiment
from dllab.experiments.compare import Comparison
from dllab.experiments.search import BOOK_RANGES, Dimension, SearchDefinition, book_space
from dllab.experiments.variants import with_dropout
from dllab.runs import DataSettings
from dllab.spec import read_spec
from dllab.trainer import TrainingConfig

#: What a ``quick`` preset trains on: at most this many training samples, mini-batches and evaluated samples.
QUICK_SUBSET, QUICK_STEPS, QUICK_EVAL_SAMPLES = 500, 20, 500


def book_mlp(hidden_layers: int, *, name: str = "MultiLayerNet", units: int = 100) -> dict[str, Any]:
    """The book's ``MultiLayerNet`` for MNIST: 784 inputs, ``hidden_layers`` x ``units`` ReLU, 10 outputs.

    Every Dense layer, the output layer too, starts with He initialisation, as the book's
    ``weight_init_std="relu"`` does.
    """
    layers: list[dict[str, Any]] = []
    for _ in range(hidden_layers):
        layers += [{"type": "Dense", "units": units, "init": "he"}, {"type": "ReLU"}]
    layers.append({"type": "Dense", "units": 10, "init": "he"})
    return {
        "format": "dllab.network/1",
        "name": name,
        "description": f"784-{units}x{hidden_layers}-10 ReLU (the book's MultiLayerNet, chapter 6)",
        "input_shape": [784],
        "layers": layers,
        "loss": "softmax_cross_entropy",
    }


@dataclass(frozen=True, kw_only=True)
class Preset:
    """One of the book's experiments on MNIST as data: network, data and training settings.

    Attributes
    ----------
    name : str
        The key that names it (``dllab compare --preset NAME``).
    title, figure : str
        A short title and the book's figure numbers.
    description : str
        What the experiment shows and what to look for.
    network : dict
        The network spec.
    data : dict
        :class:`~dllab.runs.DataSettings` options besides the data set (always MNIST).
    config : dict
        :class:`~dllab.trainer.TrainingConfig` options.
    book : dict
        What the book's own run changes, where the default is shorter: ``TrainingConfig`` options, and
        ``"factors"`` for a bigger grid of a comparison. Empty when the default is the book's run.
    """

    name: str
    title: str
    figure: str
    description: str
    network: dict[str, Any]
    data: dict[str, Any]
    config: dict[str, Any]
    book: dict[str, Any] = field(default_factory=dict)

    def spec(self) -> dict[str, Any]:
        """A copy of the network spec."""
        return read_spec(self.network)

    def data_settings(
        self, data_dir: str | os.PathLike[str] | None = None, *, quick: bool = False
    ) -> DataSettings:
        """How to load and prepare the data.

        Parameters
        ----------
        data_dir
            A folder holding the MNIST IDX files; None uses the ``"mnist"`` data set (the cache folder,
            downloading on first use).
        quick
            Use at most :data:`QUICK_SUBSET` training samples.
        """
        options = dict(self.data)
        if quick:
            options["subset"] = min(options.get("subset") or QUICK_SUBSET, QUICK_SUBSET)
        return DataSettings(dataset="mnist" if data_dir is None else str(data_dir), **options)

    def training_config(self, *, quick: bool = False, book: bool = False) -> TrainingConfig:
        """The training config: the default run, the book's full run (``book``) or a few steps (``quick``)."""
        _check_scale(quick, book)
        options = dict(self.config)
        if book:
            options.update({k: v for k, v in self.book.items() if k != "factors"})
        config = TrainingConfig(**options)
        if quick:
            config = dataclasses.replace(
                config,
                max_steps=min(config.max_steps or QUICK_STEPS, QUICK_STEPS),
                eval_samples=min(config.eval_samples or QUICK_EVAL_SAMPLES, QUICK_EVAL_SAMPLES),
            )
        return config

    def experiment(
        self,
        data_dir: str | os.PathLike[str] | None = None,
        *,
        seed: int = 0,
        changes: Mapping[str, Any] | None = None,
    ) -> Experiment:
        """The preset as one experiment: its network, data (see :meth:`data_settings`) and training config with
        ``changes`` (e.g. ``{"epochs": 10}``), seeded by ``seed``."""
        config = dataclasses.replace(self.training_config(), **(changes or {}), seed=seed)
        return Experiment(self.spec(), self.data_settings(data_dir), config, seed)

    def describe(self) -> str:
        """Title, figure and description as a few lines of text."""
        return f"{self.title} ({self.figure})\n{self.description}"


@dataclass(frozen=True, kw_only=True)
class ComparisonPreset(Preset):
    """One of the book's comparisons: a :class:`Preset` and what varies.

    Attributes
    ----------
    factors : dict
        One or two of :data:`~dllab.experiments.variants.FACTORS` with their values (see
        :func:`~dllab.experiments.variants.make_variants`).
    test_curve : bool
        Measure the test set after every epoch for display (the overfitting figures).
    inserted : dict
        Options of the BatchNorm and Dropout layers the factors insert, by layer type: the book's values
        where they differ from the lab's defaults (BatchNorm's eps 1e-6, the book's dropout scaling).
    """

    factors: dict[str, tuple[Any, ...]]
    test_curve: bool = False
    inserted: dict[str, dict[str, Any]] = field(default_factory=dict)

    def comparison_factors(self, *, book: bool = False) -> dict[str, list[Any]]:
        """The settings to compare: the default values, or the book's full grid (``book``)."""
        factors = self.book.get("factors", self.factors) if book else self.factors
        return {name: list(values) for name, values in factors.items()}


@dataclass(frozen=True, kw_only=True)
class SearchPreset(Preset):
    """The book's hyperparameter search: a :class:`Preset`, the ranges drawn log-uniformly (at random, the
    book's method), the number of trials and what ranks them."""

    ranges: dict[str, tuple[float, float]]
    trials: int
    rank_by: str

    def space(self) -> tuple[Dimension, ...]:
        """The ranges as the search's space: log-uniform learning rate and weight decay."""
        return book_space(self.ranges)

    def definition(
        self,
        data_dir: str | os.PathLike[str] | None = None,
        *,
        seed: int = 0,
        changes: Mapping[str, Any] | None = None,
        trials: int | None = None,
    ) -> SearchDefinition:
        """The search as a study holds it: the preset's experiment (see :meth:`Preset.experiment`), its
        ranges, random draws seeded by ``seed``, ``trials`` (the preset's by default) ranked as the book ranks
        them."""
        return SearchDefinition(
            self.experiment(data_dir, seed=seed, changes=changes),
            self.space(),
            trials=self.trials if trials is None else trials,
            sampler="random",
            pruner="none",
            rank_by=self.rank_by,
            seed=seed,
        )


def _check_scale(quick: bool, book: bool) -> None:
    if quick and book:
        raise SettingsError("choose either the quick run or the book's full run, not both")


#: The data and the length of the book's 2000-step MNIST comparisons (figures 6-9 and 6-15): all 60,000
#: training images, as the book trains on; the curves are of the training loss.
_MNIST_DATA = {"val_fraction": 0.0, "normalization": "scale"}
_MNIST_2000_STEPS = {"batch_size": 128, "epochs": 5, "max_steps": 2000}
_OVERFIT_DATA = {"subset": 300, "val_fraction": 0.0, "normalization": "scale"}
_OVERFIT_CONFIG = {"optimizer": "sgd", "lr": 0.01, "batch_size": 100}
#: The book's BatchNorm (``common/layers.py``) adds 1e-6 to the variance (written ``10e-7``) where the lab's
#: default is 1e-5; its Dropout scales at inference.
_BOOK_LAYERS = {"BatchNorm": {"eps": 1e-6}, "Dropout": {"scaling": "book"}}


def _overfit_preset(
    name: str, title: str, figure: str, description: str, epochs: int, factors: dict[str, tuple[Any, ...]]
) -> ComparisonPreset:
    """The book's overfitting experiment (784-100x6-10 ReLU on 300 MNIST samples, the test accuracy after
    every epoch shown) for ``epochs``, without and with a remedy (``factors``)."""
    return ComparisonPreset(
        name=name,
        title=title,
        figure=figure,
        description=description,
        network=book_mlp(6),
        data=_OVERFIT_DATA,
        config={**_OVERFIT_CONFIG, "epochs": epochs},
        factors=factors,
        test_curve=True,
        book={"epochs": epochs + 1},
        inserted=_BOOK_LAYERS,
    )


#: The book's comparisons (chapter 6), by name.
PRESETS: dict[str, ComparisonPreset] = {
    preset.name: preset
    for preset in (
        ComparisonPreset(
            name="optimizers",
            title="SGD, Momentum, AdaGrad and Adam on MNIST",
            figure="figure 6-9",
            description=(
                "The same 784-100x4-10 ReLU network trains on MNIST for 2000 mini-batches of 128 with each "
                "optimizer at its book learning rate (SGD, Momentum and AdaGrad 0.01, Adam 0.001). SGD is "
                "clearly the slowest; Momentum, AdaGrad and Adam bring the loss down much faster."
            ),
            network=book_mlp(4),
            data=_MNIST_DATA,
            config=_MNIST_2000_STEPS,
            factors={"optimizer": ("sgd", "momentum", "adagrad", "adam")},
        ),
        ComparisonPreset(
            name="initializers",
            title="Weight initialisation: std 0.01, Xavier and He",
            figure="figure 6-15",
            description=(
                "784-100x4-10 ReLU on MNIST, SGD with learning rate 0.01, 2000 mini-batches of 128, "
                "starting from weights of standard deviation 0.01, Xavier or He. With std 0.01 the signal "
                "fades layer by layer and the loss barely moves; He, made for ReLU, learns fastest."
            ),
            network=book_mlp(4),
            data=_MNIST_DATA,
            config={**_MNIST_2000_STEPS, "optimizer": "sgd", "lr": 0.01},
            factors={"init": (0.01, "xavier", "he")},
        ),
        ComparisonPreset(
            name="batchnorm",
            title="Batch normalisation at different weight scales",
            figure="figure 6-18",
            description=(
                "784-100x5-10 ReLU trained on 1000 MNIST samples (SGD, learning rate 0.01, batch 100, 20 "
                "epochs) with and without batch normalisation, for initial weights of standard deviation "
                "1, 0.1, 0.01 and 0.001 (the book: 16 scales from 1 to 0.0001, run with the book option). "
                "With BatchNorm the network learns at almost every scale; without it, hardly at all. The "
                "accuracy shown is the training accuracy, as in the book."
            ),
            network=book_mlp(5),
            data={"subset": 1000, "val_fraction": 0.0, "normalization": "scale"},
            config={"optimizer": "sgd", "lr": 0.01, "batch_size": 100, "epochs": 20},
            factors={"init": (1.0, 0.1, 0.01, 0.001), "batchnorm": (True, False)},
            book={
                "factors": {
                    "init": tuple(float(f"{v:.4g}") for v in np.logspace(0, -4, 16)),
                    "batchnorm": (True, False),
                }
            },
            inserted=_BOOK_LAYERS,
        ),
        _overfit_preset(
            "weight_decay",
            "Overfitting and weight decay",
            "figures 6-20 and 6-21",
            (
                "784-100x6-10 ReLU trained on only 300 MNIST samples for 200 epochs (SGD, learning rate "
                "0.01, batch 100), without and with weight decay 0.1. Without it the training accuracy "
                "reaches 100% while the test accuracy stays far below: overfitting. Weight decay narrows "
                "the gap. The test accuracy after each epoch is shown for display only, as in the book; "
                "nothing is chosen by it."
            ),
            200,
            {"weight_decay": (0.0, 0.1)},
        ),
        _overfit_preset(
            "dropout",
            "Overfitting and dropout",
            "figures 6-20 and 6-23",
            (
                "784-100x6-10 ReLU trained on only 300 MNIST samples for 300 epochs (SGD, learning rate "
                "0.01, batch 100), without dropout and with the book's dropout 0.2 after every hidden "
                "layer. Dropout keeps the training accuracy from racing to 100% and narrows the gap to the "
                "test accuracy, which is shown after each epoch for display only, as in the book."
            ),
            300,
            {"dropout": (0.0, 0.2)},
        ),
        dataclasses.replace(
            _overfit_preset(
                "dropout_scaling",
                "Two ways to scale dropout",
                "figure 6-23",
                (
                    "The dropout experiment again (784-100x6-10 ReLU, dropout 0.2 after every hidden layer, "
                    "300 MNIST samples, 300 epochs), with the book's dropout, which keeps the kept values "
                    "unscaled while training and multiplies by 1 - rate at inference, against inverted "
                    "dropout, which scales the kept values by 1 / (1 - rate) while training. Each layer sees "
                    "smaller values in training with the book's, so with the same learning rate it learns "
                    "more slowly and overfits later."
                ),
                300,
                {"dropout_scaling": ("inverted", "book")},
            ),
            network=with_dropout(book_mlp(6), 0.2),
        ),
    )
}


#: The book's random search of learning rate and weight decay (section 6.5, figure 6-24): the six-layer
#: network on 500 MNIST samples, 20 % of them held out to score the trials, 50 epochs of SGD, 100 trials
#: ranked by the last epoch's validation accuracy as the book's ``hyperparameter_optimization.py`` does.
BOOK_SEARCH = SearchPreset(
    name="book_search",
    title="Hyperparameter search on a log scale",
    figure="figure 6-24",
    description=(
        "784-100x6-10 ReLU on 500 MNIST samples (400 train, 100 validation), SGD with batch 100 for 50 "
        "epochs; each of 100 trials draws a learning rate 10^U(-6, -2) and a weight decay 10^U(-8, -4) and "
        "is ranked by its validation accuracy after the last epoch. The good trials gather at learning "
        "rates of 0.001 to 0.01; the test set is never used."
    ),
    network=book_mlp(6),
    data={"subset": 500, "val_fraction": 0.2, "normalization": "scale"},
    config={"optimizer": "sgd", "batch_size": 100, "epochs": 50},
    ranges=dict(BOOK_RANGES),
    trials=100,
    rank_by="last",
)


def get_preset(name: str) -> ComparisonPreset:
    """The preset of that name (``-`` and ``_`` alike, any case); SettingsError naming the known ones."""
    key = name.strip().lower().replace("-", "_") if isinstance(name, str) else None
    if key not in PRESETS:
        raise SettingsError(f"unknown comparison preset {quote(name)}; known: {', '.join(PRESETS)}")
    return PRESETS[key]


def comparison_from_preset(
    name: str,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    quick: bool = False,
    book: bool = False,
    seed: int = 0,
    changes: Mapping[str, Any] | None = None,
    out: str | os.PathLike[str] | None = None,
    dataset: Dataset | None = None,
    progress: ProgressCallback | None = None,
) -> Comparison:
    """A ready-to-run :class:`Comparison` of one of the book's comparisons (:data:`PRESETS`).

    Parameters
    ----------
    name
        A key of :data:`PRESETS`: ``"optimizers"``, ``"initializers"``, ``"batchnorm"``,
        ``"weight_decay"`` or ``"dropout"``.
    data_dir
        A folder holding the MNIST IDX files; None uses the ``"mnist"`` data set (the cache folder,
        downloading on first use).
    quick
        A few steps on a small subset (:data:`QUICK_SUBSET` samples, :data:`QUICK_STEPS` mini-batches per
        variant), to try the comparison out or test it.
    book
        The book's full run where the default is shorter (more epochs, the batchnorm preset's 16 scales).
    seed
        Seeds the initial weights, the data split and the mini-batch order.
    changes
        :class:`~dllab.trainer.TrainingConfig` options that replace the preset's, e.g. ``{"epochs": 50}``.
    out
        Folder for the outputs (see :class:`Comparison`); None writes nothing.
    dataset
        MNIST already loaded (skips loading; ``data_dir`` then only names it in the run records).
    progress
        Download progress callback, ``progress(done, total, message)``.

    Returns
    -------
    Comparison
        With ``data_settings`` and ``test_curve`` set from the preset; call :meth:`Comparison.run`.

    Raises
    ------
    SettingsError
        For an unknown preset or both ``quick`` and ``book``; DatasetError when MNIST cannot be loaded.
    """
    preset = get_preset(name)
    _check_scale(quick, book)
    settings = preset.data_settings(data_dir, quick=quick)
    spec = preset.spec()
    prepared = settings.prepare(tuple(spec["input_shape"]), seed=seed, dataset=dataset, progress=progress)
    config = dataclasses.replace(preset.training_config(quick=quick, book=book), **(changes or {}), seed=seed)
    return Comparison(
        spec,
        prepared,
        config,
        preset.comparison_factors(book=book),
        inserted=preset.inserted,
        seed=seed,
        out=out,
        data_settings=settings,
        test_curve=preset.test_curve,
    )
