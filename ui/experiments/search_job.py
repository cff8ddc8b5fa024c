"""The search view's work in the worker thread: create or resume the study, run this machine's workers, write
the outputs. Plain Python, no Qt (Optuna is imported here only when a search runs).

:class:`SearchJob` takes the app's design (a :class:`~ui.experiments.jobs.DesignRequest`, captured on the GUI
thread) and what the view's settings say, and in the worker thread:

1. yields :class:`~ui.experiments.jobs.ExperimentPreparing` and prepares the data;
2. makes the :class:`~dllab.experiments.search.SearchDefinition` and creates its study (an SQLite file in a new
   folder under the runs folder, or the named study in the given storage), or resumes the last one when it is
   the same search and has trials left; yields :class:`SearchPlanned` (where the study is);
3. runs this machine's workers (:class:`~dllab.experiments.study.LocalWorkers`: in this thread, or each in a
   process of its own), yielding their events as :class:`WorkerUpdate` items;
4. reads the whole study (other machines' trials too), writes ``search.csv``, ``search.png``, ... into the
   search's folder and yields :class:`SearchSaved`.

What the view draws comes from the study itself, read by :class:`ui.experiments.search_view.StudyWatcher`:
the worker's events only say when to read it again. :meth:`SearchJob.stop` stops this machine's workers (their
trials are marked failed, "stopped"); workers elsewhere go on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dllab.experiment import Experiment
from dllab.experiments.parallel_runs import check_processes
from dllab.experiments.search import HEARTBEAT_SECONDS, Dimension, SearchDefinition
from dllab.runs import new_run_folder
from ui.experiments.jobs import (
    DesignRequest,
    ExperimentJob,
    ExperimentPreparing,
    data_summary,
)

if TYPE_CHECKING:
    from dllab.experiments.study import StudySnapshot


@dataclass(frozen=True)
class StudyPlace:
    """Where a study is: its name, its storage (the full URL, password included: never shown) and this
    machine's folder of the search (None: not known here)."""

    name: str
    url: str
    folder: Path | None = None


@dataclass(frozen=True)
class SearchPlanned:
    """The study is created or joined: where it is, what it searches, how far it is."""

    place: StudyPlace
    shown_storage: str
    definition: SearchDefinition
    created: bool
    done: int
    data: str
    urgent = True


@dataclass(frozen=True)
class WorkerUpdate:
    """An event of one of this machine's workers (:mod:`dllab.experiments.study`'s worker events, or a
    :class:`~dllab.experiments.parallel_runs.ProcessDied`)."""

    worker: int
    event: Any

    @property
    def urgent(self) -> bool:
        from dllab.experiments.study import TrialEpoch

        return not isinstance(self.event, TrialEpoch)


@dataclass(frozen=True)
class SearchSaved:
    """The workers here have ended; the study as it was then, and the files written in the search's folder."""

    snapshot: StudySnapshot
    outputs: dict[str, Path]
    urgent = True


class SearchJob(ExperimentJob):
    """A search of the design: its study created or resumed, this machine's workers run.

    Parameters
    ----------
    request
        The design, captured on the GUI thread.
    space
        What the trials draw.
    trials, seed, sampler, pruner, rank_by
        As for :class:`~dllab.experiments.search.SearchDefinition`.
    top_k
        How many of the best trials the figure of the outputs draws.
    processes
        How many workers run here (in processes of their own when more than one).
    changes
        :class:`~dllab.trainer.TrainingConfig` options replacing the design's (epochs).
    study
        The study's name, and its storage (a URL or a file), to create or join; None: a new SQLite study in a
        new folder under the runs folder (or ``resume``).
    resume
        The last search of the view: resumed when it is the same search and has trials left (and ``study`` is
        not given).

    Raises
    ------
    ValueError
        When the design holds no validation split.
    """

    def __init__(
        self,
        request: DesignRequest,
        space: Sequence[Dimension],
        *,
        trials: int,
        seed: int,
        top_k: int = 5,
        sampler: str = "random",
        pruner: str = "none",
        rank_by: str = "best",
        processes: int = 1,
        changes: Mapping[str, Any] | None = None,
        study: tuple[str, str] | None = None,
        resume: StudyPlace | None = None,
    ) -> None:
        super().__init__()
        check_processes(processes)
        if request.data_settings.val_fraction <= 0:
            raise ValueError(
                "A search scores its trials on the validation split, and this design holds none out: set a "
                "validation fraction above 0 in the Data panel."
            )
        self.request = request
        self.space = tuple(space)
        self.trials, self.seed, self.top_k, self.processes = trials, seed, top_k, processes
        self.sampler, self.pruner, self.rank_by = sampler, pruner, rank_by
        self.config = dataclasses.replace(request.config, **{**(changes or {}), "seed": seed})
        self.study = study
        self.resume = resume
        #: Where the study is, once the job has created or joined it.
        self.place: StudyPlace | None = None
        #: The outputs and the study at the end, once the workers have ended.
        self.saved: SearchSaved | None = None

    def definition(self, experiment: Experiment) -> SearchDefinition:
        return SearchDefinition(
            experiment,
            self.space,
            trials=self.trials,
            sampler=self.sampler,
            pruner=self.pruner,
            rank_by=self.rank_by,
            seed=self.seed,
        )

    def _place(self, definition: SearchDefinition) -> StudyPlace:
        """Where this search's study goes: the named one, the last one resumed, or a new folder."""
        from dllab.experiments.study import folder_storage, open_search, study_folder

        if self.study is not None:
            name, storage = self.study
            return StudyPlace(name, storage, study_folder(name, storage))
        last = self.resume
        if last is not None and last.folder is not None:
            try:
                opened = open_search(last.name, last.url)
            except ValueError:
                opened = None
            if opened is not None:
                same = opened.definition.difference(definition) is None
                unfinished = opened.done() < definition.trials
                opened.close()
                if same and unfinished:
                    return last
        name = definition.experiment.network.get("name") or "network"
        folder = new_run_folder(name, kind="search")
        return StudyPlace(folder.name, folder_storage(folder), folder)

    def events(self) -> Iterator[Any]:
        from dllab.experiments.study import (
            LocalWorkers,
            create_or_join,
            read_snapshot,
            save_definition,
            write_search_outputs,
        )

        request = self.request
        yield ExperimentPreparing(f"Preparing {request.title}…")
        experiment = Experiment(request.spec, request.data_settings, self.config, self.seed)
        experiment, prepared, _ = experiment.prepare(request.dataset)
        definition = self.definition(experiment)
        definition.check()
        place = self._place(definition)
        search = create_or_join(definition, place.name, place.url, heartbeat=HEARTBEAT_SECONDS)
        try:
            if place.folder is not None:
                save_definition(place.folder, search)
            self.place = place
            yield SearchPlanned(
                place,
                search.shown_storage,
                search.definition,
                search.created,
                search.done(),
                data_summary(prepared),
            )
            workers = LocalWorkers(
                place.name, place.url, processes=self.processes, folder=place.folder, data=prepared
            )
            self._attach(workers)
            for index, event in workers.events():
                yield WorkerUpdate(index, event)
        finally:
            search.close()
        snapshot = read_snapshot(place.name, place.url)
        outputs = write_search_outputs(place.folder, snapshot, top_k=self.top_k) if place.folder else {}
        self.saved = SearchSaved(snapshot, outputs)
        yield self.saved
