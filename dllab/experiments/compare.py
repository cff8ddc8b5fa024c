"""Compare training runs that differ in one or two settings: optimizer, initialisation, batch norm, ...

The book's comparisons (chapter 6) train the same network on the same data under each setting and overlay
the loss curves. :class:`Comparison` does that: every variant starts from the same initial weights where the
architecture allows (all models are built with the same seed; BatchNorm and Dropout draw nothing when
built, so inserting them leaves the Dense and Conv2D weights unchanged) and sees the same mini-batches in the
same order (the same trainer seed). One factor gives one run per value, two factors a grid. The factors and
the network variants they make are in :mod:`dllab.experiments.variants`.

:meth:`Comparison.run` yields every trainer event tagged with its variant (a GUI draws live curves from
them) and returns the per-run results; it writes a run folder per variant, a combined CSV and a PNG of the
overlaid curves (and small multiples for two factors, see :mod:`dllab.experiments.comparison_figures`). With
``test_curve`` the test set is also measured after every epoch, for the book's training-against-test
figures; it is displayed, never used to choose anything. The variants train in turn, or with ``processes``
above 1 that many at once in worker processes (:mod:`dllab.experiments.parallel_runs`), their events interleaved; each
variant is one :class:`VariantTraining` either way. The results (:class:`VariantResult`,
:class:`TestEvaluated`, :func:`smooth`) are defined in :mod:`dllab.experiments.comparison_results`, importable from here.

The book's own comparisons are data in :data:`dllab.experiments.presets.PRESETS`;
:func:`dllab.experiments.presets.comparison_from_preset` turns one into a ready :class:`Comparison` on MNIST.

>>> comparison = Comparison(spec, prepared, TrainingConfig(batch_size=128, max_steps=2000),
...                         {"optimizer": ["sgd", "momentum", "adagrad", "adam"]}, out="runs/opt",
...                         processes=2)
>>> for tagged in comparison.run():          # doctest: +SKIP
...     print(tagged.label, tagged.event)
"""

from __future__ import annotations

import contextlib
import csv
import os
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dllab.data import PreparedData
from dllab.errors import SettingsError
from dllab.experiments.comparison_figures import render_comparison, render_comparison_grid
from dllab.experiments.comparison_results import TEST_COLUMNS, TestEvaluated, VariantResult
from dllab.experiments.comparison_results import smooth as smooth  # re-exported: its home was this module
from dllab.experiments.parallel_runs import ParallelRuns, check_processes
from dllab.experiments.plotting import write_figure
from dllab.experiments.variants import Variant, make_variants
from dllab.metrics import evaluate
from dllab.model import Sequential, build
from dllab.runs import METRIC_COLUMNS, DataSettings, RunRecorder, claim_folder, safe_name
from dllab.trainer import EpochEnded, Event, Trainer, TrainingConfig


@dataclass(frozen=True)
class VariantEvent:
    """A trainer event of one variant, or its :class:`TestEvaluated` after an epoch."""

    index: int
    label: str
    event: Event | TestEvaluated


@dataclass
class VariantTraining:
    """One variant's training, in this process or in a worker process: its model, trainer and run folder.

    :meth:`events` builds the variant's network with ``seed`` (the comparison's initial weights), trains it,
    writes its run folder when ``folder`` is set and yields the trainer's events, each
    :class:`~dllab.trainer.EpochEnded` followed by a :class:`TestEvaluated` when ``test_curve`` is set.
    :class:`Comparison` runs one per variant, in turn or in worker processes (:mod:`dllab.experiments.parallel_runs`, which
    pickles it with its data): the same code either way.
    """

    variant: Variant
    data: PreparedData
    seed: int
    folder: Path | None = None
    data_settings: DataSettings | None = None
    test_curve: bool = False
    _trainer: Trainer | None = field(default=None, init=False, repr=False)
    _stopped: bool = field(default=False, init=False, repr=False)

    def stop(self) -> None:
        """Stop the training before its next batch (any thread; before :meth:`events` too)."""
        self._stopped = True
        trainer = self._trainer
        if trainer is not None:
            trainer.stop()

    def events(self) -> Iterator[Event | TestEvaluated]:
        """Train the variant, yielding its events (the run folder is written as they come)."""
        variant = self.variant
        model = build(variant.spec, seed=self.seed)
        trainer = Trainer(model, self.data, variant.config.unwatched())
        recorder = None
        if self.folder is not None:
            recorder = RunRecorder(
                self.folder,
                model,
                data=self.data,
                config=variant.config,
                data_settings=self.data_settings,
                seed=self.seed,
                extra={"comparison": {"label": variant.label, "settings": variant.settings}},
            )
        self._trainer = trainer
        if self._stopped:
            trainer.stop()
        try:
            for event in trainer.run():
                if recorder is not None:
                    recorder.handle(event)
                yield event
                if self.test_curve and isinstance(event, EpochEnded):
                    yield self._evaluate_test(model, event)
        finally:
            self._trainer = None

    def _evaluate_test(self, model: Sequential, epoch: EpochEnded) -> TestEvaluated:
        limit = self.variant.config.eval_samples
        x, y = self.data.x_test[:limit], self.data.y_test[:limit]
        with np.errstate(all="ignore"):
            test = evaluate(model, x, y)
        return TestEvaluated(epoch.epoch, epoch.step, test.loss, test.accuracy)


class Comparison:
    """Train one network under several settings from identical starting points.

    Parameters
    ----------
    spec
        The base network spec (dict or ``.json`` path).
    data
        The prepared data every variant trains on.
    config
        The base training config; its ``seed`` fixes the mini-batch order of every variant.
    factors
        One or two of :data:`~dllab.experiments.variants.FACTORS` with their values (see
        :func:`~dllab.experiments.variants.make_variants`).
    keep_lr
        Keep ``config.lr`` for every optimizer instead of each one's book learning rate.
    inserted
        Options of the BatchNorm and Dropout layers the factors insert, by layer type (see
        :func:`~dllab.experiments.variants.make_variants`).
    seed
        The seed every variant's network is built with.
    out
        Folder for the outputs (a run folder per variant, the combined CSVs and the PNG); None writes
        nothing.
    data_settings
        How the data was made, stored in each run's ``config.json``.
    test_curve
        Also measure the test set after every epoch (at most ``config.eval_samples`` samples) and yield it
        as :class:`TestEvaluated`, for the book's training-against-test plots. For display only: nothing is
        chosen by it.
    processes
        How many variants train at once, each in a worker process of its own (:mod:`dllab.experiments.parallel_runs`)
        with ``cpu_count // processes`` BLAS threads; one per core at most is useful. 1 (the default) trains
        them in turn in this process. Each variant starts from the same weights and sees the same mini-batches
        either way, and the results are bit for bit the same where the BLAS thread counts are; with other
        thread counts BLAS rounds its float32 sums differently, and long runs drift apart slightly.

    Raises
    ------
    ValueError, SpecError
        For invalid factors, a variant network that cannot be built, data that does not fit it, or a
        ``processes`` that is not a whole number of at least 1.
    """

    def __init__(
        self,
        spec: dict[str, Any] | str | os.PathLike[str],
        data: PreparedData,
        config: TrainingConfig,
        factors: Mapping[str, Sequence[Any]],
        *,
        keep_lr: bool = False,
        inserted: Mapping[str, Mapping[str, Any]] | None = None,
        seed: int = 0,
        out: str | os.PathLike[str] | None = None,
        data_settings: DataSettings | None = None,
        test_curve: bool = False,
        processes: int = 1,
    ) -> None:
        self.config = config
        self.factors = {name: list(values) for name, values in factors.items()}
        self.processes = processes
        self._setup(
            make_variants(spec, config, factors, keep_lr=keep_lr, inserted=inserted),
            data,
            seed,
            out,
            data_settings,
        )
        self.test_curve = test_curve

    @classmethod
    def from_variants(
        cls,
        variants: Sequence[Variant],
        data: PreparedData,
        *,
        seed: int = 0,
        out: str | os.PathLike[str] | None = None,
        data_settings: DataSettings | None = None,
        test_curve: bool = False,
        processes: int = 1,
    ) -> Comparison:
        """A comparison of variants made elsewhere.

        Parameters
        ----------
        variants
            At least one; each with its own label, settings, spec and training config.
        data, seed, out, data_settings, test_curve, processes
            As for the constructor.
        """
        if not variants:
            raise SettingsError("a comparison needs at least one variant")
        comparison = cls.__new__(cls)
        comparison.config = variants[0].config
        comparison.factors = {}
        comparison.processes = processes
        comparison._setup(list(variants), data, seed, out, data_settings)
        comparison.test_curve = test_curve
        return comparison

    def _setup(
        self,
        variants: list[Variant],
        data: PreparedData,
        seed: int,
        out: str | os.PathLike[str] | None,
        data_settings: DataSettings | None,
    ) -> None:
        self.data = data
        self.seed = seed
        self.out = None if out is None else Path(out)
        self.data_settings = data_settings
        self.variants = variants
        for variant in self.variants:  # fail now, not after the first runs
            Trainer(self.build_model(variant), data, variant.config)
        self.results: list[VariantResult] = [
            VariantResult(i, v.label, v.settings) for i, v in enumerate(self.variants)
        ]
        self.outputs: dict[str, Path] = {}
        self._running: VariantTraining | ParallelRuns | None = None
        self._stopped = False

    @property
    def processes(self) -> int:
        """How many variants train at once in worker processes (1: in turn, in this process)."""
        return self._processes

    @processes.setter
    def processes(self, value: int) -> None:
        self._processes = check_processes(value)

    def build_model(self, variant: Variant) -> Sequential:
        """A fresh model of the variant's network with the comparison's initial weights."""
        return build(variant.spec, seed=self.seed)

    def stop(self) -> None:
        """Stop the running variants before their next batch and skip the rest (any thread)."""
        self._stopped = True
        running = self._running
        if running is not None:
            running.stop()

    def run(self) -> Generator[VariantEvent, None, list[VariantResult]]:
        """Train every variant, yielding their events; returns the results.

        With ``processes`` 1 the variants train in turn, in this process; with more, that many train at once
        in worker processes and their events come interleaved. Either way they are recorded into
        :attr:`results` here, as they come. When ``out`` is set, each variant gets a run folder
        ``out/NN-label`` as it runs, and the combined CSVs and the PNG are written at the end (also after a
        stop). With ``test_curve``, every :class:`~dllab.trainer.EpochEnded` is followed by the variant's
        :class:`TestEvaluated`.

        Raises
        ------
        Exception
            What training a variant raised (from a worker process: the same type and message).
        dllab.experiments.parallel_runs.RunProcessError
            When a worker process ends without finishing its variant (killed, crashed).
        """
        if self.out is not None:
            self.out = claim_folder(self.out)
        if self.processes == 1:
            yield from self._train_in_turn()
        else:
            yield from self._train_in_processes()
        if self.out is not None:
            self.outputs = self.write_outputs(self.out)
        return self.results

    def _training(self, variant: Variant, result: VariantResult) -> VariantTraining:
        if self.out is not None:
            result.folder = self.out / f"{result.index + 1:02d}-{safe_name(variant.label.replace(', ', '-'))}"
        return VariantTraining(
            variant, self.data, self.seed, result.folder, self.data_settings, self.test_curve
        )

    def _train_in_turn(self) -> Iterator[VariantEvent]:
        for variant, result in zip(self.variants, self.results, strict=True):
            if self._stopped:
                result.status = "not run"
                continue
            training = self._training(variant, result)
            self._running = training
            if self._stopped:
                training.stop()
            try:
                for event in training.events():
                    result.record(event)
                    yield VariantEvent(result.index, variant.label, event)
            finally:
                self._running = None

    def _train_in_processes(self) -> Iterator[VariantEvent]:
        trainings = [self._training(v, r) for v, r in zip(self.variants, self.results, strict=True)]
        runs = ParallelRuns(trainings, self.processes, [v.label for v in self.variants])
        self._running = runs
        if self._stopped:
            runs.stop()
        try:
            with contextlib.closing(runs.events()) as events:
                for index, event in events:
                    result = self.results[index]
                    result.record(event)
                    yield VariantEvent(index, result.label, event)
        finally:
            self._running = None
        for result in self.results:
            if result.index not in runs.started:
                result.status, result.folder = "not run", None

    def write_outputs(self, folder: str | os.PathLike[str]) -> dict[str, Path]:
        """Write the combined CSVs and the PNG of the results so far.

        Returns
        -------
        dict
            ``"epochs_csv"``: ``comparison.csv`` (variant, epoch, step, losses, accuracies, lr, elapsed, and
            the test loss and accuracy when measured per epoch); ``"steps_csv"``: ``comparison_steps.csv``
            (variant, step, loss, smoothed loss, lr); ``"png"``: ``comparison.png``; for two factors also
            ``"grid_png"``: ``comparison_grid.png``, small multiples
            (:func:`~dllab.experiments.comparison_figures.render_comparison_grid`).
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        epochs_path, steps_path, png_path = (
            folder / "comparison.csv",
            folder / "comparison_steps.csv",
            folder / "comparison.png",
        )
        write_epochs_csv(epochs_path, self.results)
        with steps_path.open("w", encoding="utf-8", newline="") as file:
            writer = csv.writer(file, lineterminator="\n")
            writer.writerow(("variant", "step", "loss", "smoothed_loss", "lr"))
            for result in self.results:
                smoothed = result.smoothed_losses()
                for step, loss, sm, lr in zip(result.steps, result.losses, smoothed, result.lrs, strict=True):
                    writer.writerow((result.label, step, _cell(loss), _cell(sm), _cell(lr)))
        write_figure(png_path, render_comparison(self.results))
        outputs = {"epochs_csv": epochs_path, "steps_csv": steps_path, "png": png_path}
        if len(self.factors) == 2:
            outputs["grid_png"] = write_figure(
                folder / "comparison_grid.png", render_comparison_grid(self.results, self.factors)
            )
        return outputs


def write_epochs_csv(
    path: str | os.PathLike[str],
    results: Sequence[VariantResult],
    *,
    key: tuple[str, Callable[[VariantResult], Any]] = ("variant", lambda r: r.label),
) -> Path:
    """Write the per-epoch metrics of several runs as one CSV table.

    Parameters
    ----------
    path
        The file to write.
    results
        The runs, in the order their rows are written.
    key
        The name of the first column and what it holds for each run (the variant's label by default).

    Returns
    -------
    Path
        The file, with :data:`dllab.runs.METRIC_COLUMNS` after the key, and :data:`TEST_COLUMNS` when any
        run measured the test set per epoch.
    """
    path = Path(path)
    column, value = key
    with_test = any(r.test_curve for r in results)
    columns = METRIC_COLUMNS + (TEST_COLUMNS if with_test else ())
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow((column, *columns))
        for result in results:
            metrics = result.epoch_metrics()
            for i, e in enumerate(result.epochs):
                cells = [_cell(getattr(e, c)) for c in METRIC_COLUMNS]
                cells += [_cell(float(metrics[c][i])) for c in TEST_COLUMNS] if with_test else []
                writer.writerow((value(result), *cells))
    return path


def _cell(value: float) -> str | int:
    return value if isinstance(value, int) else repr(float(value))
