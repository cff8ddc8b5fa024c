"""The work behind the comparison and search views, as it happens in the worker thread: plain Python, no Qt.

A view captures what it needs on the GUI thread (a :class:`DesignRequest` of the app's current network and
data, or a preset's name and options) and hands a job to :class:`ui.common.worker.GeneratorWorker`, which
iterates :meth:`ExperimentJob.events`. A comparison job loads and prepares the data there (MNIST for a preset),
builds the engine's :class:`~dllab.experiments.compare.Comparison` and yields:

1. :class:`ExperimentPreparing`: what it is loading;
2. :class:`ComparisonPlanned`: the runs it will train, so the view can lay out its curves and table before the
   first batch;
3. the engine's own items, :class:`~dllab.experiments.compare.VariantEvent`, which the view records into
   :class:`~dllab.experiments.compare.VariantResult` objects of its own (the engine's ``VariantResult.record``),
   so the GUI thread never reads what the worker thread is writing.

The search's job, which runs a study's workers, is :class:`ui.experiments.search_job.SearchJob`.

:meth:`ExperimentJob.stop` may be called from any thread; it reaches the running trainer directly and takes
effect before the next mini-batch. Once the worker's thread has ended, :meth:`ComparisonJob.final_results`
hands over the engine's own results (runs skipped by a stop say "not run").
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from dllab.data import Dataset, PreparedData
from dllab.experiments.compare import Comparison, VariantEvent, VariantResult
from dllab.experiments.parallel_runs import check_processes
from dllab.experiments.presets import comparison_from_preset, get_preset
from dllab.experiments.variants import check_factor_values, make_variants
from dllab.runs import DataSettings
from dllab.trainer import Diverged, Finished, RunStarted, Stopped, TrainingConfig

if TYPE_CHECKING:  # a type hint only: this module does not import Qt
    from ui.state import AppState


@dataclass(frozen=True)
class DesignRequest:
    """The app's current network, data and training settings, captured on the GUI thread.

    Attributes
    ----------
    spec : dict
        A copy of the network spec.
    dataset : Dataset
        The raw data set as loaded (never changed).
    data_settings : DataSettings
        How it is split and normalised.
    config : TrainingConfig
        The design's training settings.
    seed : int
        The design's training seed.
    data_seed : int
        Seeds the subset and the validation split.
    title : str
        The network's and the data set's names, for the view.
    """

    spec: dict[str, Any]
    dataset: Dataset
    data_settings: DataSettings
    config: TrainingConfig
    seed: int
    data_seed: int
    title: str

    def prepare(self) -> PreparedData:
        """Subset, split and normalise the data for the network (in the worker thread)."""
        return self.data_settings.prepare(
            tuple(self.spec["input_shape"]), seed=self.data_seed, dataset=self.dataset
        )


def capture_design(state: AppState) -> DesignRequest:
    """What a comparison or search of ``state``'s design needs (an :class:`ui.state.AppState`).

    Raises
    ------
    ValueError
        With one sentence saying why the design cannot train now (no data, a network that does not fit it,
        invalid settings).
    """
    reason = state.training_blocker()
    if reason is not None:
        raise ValueError(reason)
    dataset = state.dataset
    if dataset is None:  # training_blocker says so too, unless a run is active
        raise ValueError("Load a dataset in the Data panel first.")
    spec = state.spec_copy()
    return DesignRequest(
        spec=spec,
        dataset=dataset,
        data_settings=state.run_data_settings(),
        config=state.training_config(),
        seed=state.training.seed,
        data_seed=state.data_settings.seed,
        title=f"{spec.get('name') or 'the network'} on {state.dataset_title()}",
    )


def data_summary(data: PreparedData) -> str:
    """``"mnist: 450 training, 50 validation, 10,000 test samples"``."""
    return (
        f"{data.name}: {len(data.x_train):,} training, {len(data.x_val):,} validation, "
        f"{len(data.x_test):,} test samples"
    )


def normalized_factors(factors: Mapping[str, Sequence[Any]]) -> dict[str, list[Any]]:
    """The factors with their values checked and normalised by the engine (:func:`check_factor_values`)."""
    return {name: check_factor_values(name, list(values)) for name, values in factors.items()}


# --- items --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExperimentPreparing:
    """The job is loading or preparing its data."""

    message: str


@dataclass(frozen=True)
class ComparisonPlanned:
    """The comparison is built: the runs it will train, in order."""

    labels: tuple[str, ...]
    settings: tuple[dict[str, Any], ...]
    factors: dict[str, list[Any]]
    test_curve: bool
    data: str
    #: Mini-batches of each run at the most, when the runs stop at a step limit (else None).
    max_steps: int | None
    #: How many runs train at once, each in a worker process (1: one after another).
    processes: int = 1

    @classmethod
    def of(cls, comparison: Comparison) -> ComparisonPlanned:
        """The plan of ``comparison``."""
        return cls(
            labels=tuple(v.label for v in comparison.variants),
            settings=tuple(dict(v.settings) for v in comparison.variants),
            factors=normalized_factors(comparison.factors),
            test_curve=comparison.test_curve,
            data=data_summary(comparison.data),
            max_steps=comparison.config.max_steps,
            processes=min(comparison.processes, len(comparison.variants)),
        )


def is_urgent(item: Any) -> bool:
    """Whether the worker hands ``item`` over at once: the plan, and the start and end of every run (a job's
    items may say so themselves, with an ``urgent`` attribute)."""
    if getattr(item, "urgent", False):
        return True
    if isinstance(item, VariantEvent):
        item = item.event
    return isinstance(
        item, ExperimentPreparing | ComparisonPlanned | RunStarted | Finished | Stopped | Diverged
    )


# --- jobs ---------------------------------------------------------------------------------------------------


class Stoppable(Protocol):
    """What a job runs: a comparison, a search's workers."""

    def stop(self) -> None: ...


class ExperimentJob:
    """A comparison or search for the worker thread: :meth:`events` is its generator, :meth:`stop` works from
    any thread."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._engine: Stoppable | None = None

    @property
    def stop_requested(self) -> bool:
        """Whether :meth:`stop` was called."""
        return self._stop.is_set()

    def stop(self) -> None:
        """Stop the running trainers before their next mini-batch and skip the runs not started."""
        self._stop.set()
        engine = self._engine
        if engine is not None:
            engine.stop()

    def _attach(self, engine: Stoppable) -> None:
        self._engine = engine
        if self._stop.is_set():  # stopped while the data were loading
            engine.stop()

    def events(self) -> Iterator[Any]:
        """The items for the view (see the module's description)."""
        raise NotImplementedError


class ComparisonJob(ExperimentJob):
    """Trains the variants of a comparison, in turn or several at once in worker processes (the engine's
    ``processes``): of the app's design, or of one of the book's presets.

    Parameters
    ----------
    build
        Makes the comparison, in the worker thread (it may load and prepare data); :meth:`of_design` and
        :meth:`of_preset` make it.
    preparing
        What the view says while ``build`` runs.
    """

    def __init__(self, build: Callable[[], Comparison], preparing: str) -> None:
        super().__init__()
        self._build = build
        self.preparing = preparing
        self.comparison: Comparison | None = None

    @classmethod
    def of_design(
        cls,
        request: DesignRequest,
        factors: Mapping[str, Sequence[Any]],
        *,
        changes: Mapping[str, Any] | None = None,
        keep_lr: bool = False,
        seed: int | None = None,
        processes: int = 1,
    ) -> ComparisonJob:
        """A comparison of the design's network on its data.

        Parameters
        ----------
        request
            The design, captured on the GUI thread.
        factors
            One or two factors and their values (:func:`dllab.experiments.variants.make_variants`).
        changes
            :class:`~dllab.trainer.TrainingConfig` options replacing the design's (epochs, ``max_steps``).
        keep_lr
            Keep the design's learning rate for every optimizer instead of each one's book learning rate.
        seed
            Seeds the initial weights and the mini-batch order (the design's training seed when None).
        processes
            How many runs train at once, each in a worker process (see :class:`~dllab.experiments.compare.Comparison`).

        Raises
        ------
        ValueError, SpecError
            For invalid factors or options, or a variant network that cannot be built (checked now, on the
            calling thread: it takes milliseconds).
        """
        seed = request.seed if seed is None else seed
        config = dataclasses.replace(request.config, **{**(changes or {}), "seed": seed})
        make_variants(request.spec, config, factors, keep_lr=keep_lr)  # invalid settings fail here, at once
        check_processes(processes)

        def build() -> Comparison:
            return Comparison(
                request.spec,
                request.prepare(),
                config,
                factors,
                keep_lr=keep_lr,
                seed=seed,
                data_settings=request.data_settings,
                processes=processes,
            )

        return cls(build, f"Preparing {request.title}…")

    @classmethod
    def of_preset(
        cls,
        name: str,
        *,
        quick: bool = False,
        seed: int = 0,
        changes: Mapping[str, Any] | None = None,
        factors: Mapping[str, Sequence[Any]] | None = None,
        data_dir: str | Path | None = None,
        dataset: Dataset | None = None,
        processes: int = 1,
    ) -> ComparisonJob:
        """One of the book's comparisons (:data:`dllab.experiments.presets.PRESETS`) on MNIST.

        Parameters
        ----------
        name
            The preset's key.
        quick, seed, changes, data_dir, dataset
            As for :func:`dllab.experiments.presets.comparison_from_preset` (``dataset``: MNIST already loaded).
        factors
            What varies, when it differs from the preset's own factors (same network, data and training).
        processes
            How many runs train at once, each in a worker process (see :class:`~dllab.experiments.compare.Comparison`).
        """
        preset = get_preset(name)
        check_processes(processes)
        wanted = normalized_factors(factors) if factors is not None else None
        if wanted == normalized_factors(preset.comparison_factors()):
            wanted = None
        changes = changes or {}
        source = "MNIST" if dataset is not None or data_dir is not None else "MNIST (downloaded on first use)"

        def build() -> Comparison:
            comparison = comparison_from_preset(
                preset.name, data_dir=data_dir, quick=quick, seed=seed, changes=changes, dataset=dataset
            )
            if wanted is None:
                comparison.processes = processes
                return comparison
            return Comparison(
                preset.spec(),
                comparison.data,
                comparison.config,
                wanted,
                inserted=preset.inserted,
                seed=seed,
                data_settings=comparison.data_settings,
                test_curve=comparison.test_curve,
                processes=processes,
            )

        return cls(build, f"Loading {source} for “{preset.title}”…")

    def events(self) -> Iterator[Any]:
        yield ExperimentPreparing(self.preparing)
        comparison = self._build()
        self.comparison = comparison
        self._attach(comparison)
        yield ComparisonPlanned.of(comparison)
        yield from comparison.run()

    def final_results(self) -> list[VariantResult] | None:
        """The engine's results, once the worker's thread has ended (None when nothing was built)."""
        return None if self.comparison is None else list(self.comparison.results)
