"""Hyperparameter searches as Optuna studies: any number of workers, on any machines, share one search.

A search (:class:`~dllab.experiments.search.SearchDefinition`: the experiment, what it draws, how) is an
`Optuna <https://optuna.org>`_ study. The study lives in a *storage* that every worker opens:

- by default an SQLite file, ``study.db``, inside the search's folder: nothing to set up;
- any database URL Optuna accepts (``postgresql://user:password@host/db``, ``mysql://...``), for workers on
  several machines; ``postgresql://`` uses psycopg 3 when psycopg2 is not installed;
- a journal file (``journal:PATH``, or a path ending in ``.log``), a log that workers on a shared disk append to.

The definition is stored in the study itself (user attribute :data:`DEFINITION_KEY`), so a worker needs only the
study's name and storage (:class:`SearchWorker`, ``dllab search-worker --study NAME --storage URL``): it loads
the definition, prepares the data, and runs trials until the study has its number of trials. Every trial
writes a run folder of its own, ``trial-NNNN`` (the trial's number) in the worker's search folder, with the
metrics and models of any run, and ``trial.json`` saying how the trial ended.

- **Sampling**: random (the book's method, the default) or TPE (:data:`~dllab.experiments.search.SAMPLERS`).
  Trial ``n``'s draws are seeded by the search's seed and ``n``, so the same seed reproduces every trial's
  values whichever worker runs it, and no two trials draw alike.
- **Pruning**: each epoch's validation accuracy is reported to the trial; the median or successive-halving
  pruner (:data:`~dllab.experiments.search.PRUNERS`) stops a trial whose curve is hopeless. A pruned trial's
  run folder says so (``summary.json``'s reason, ``trial.json``'s state), and so do the views.
- **Faults**: a trial that trains sends a heartbeat every few seconds (Optuna's own on a database, the same in
  a system attribute on a journal file); a worker marks the trials of workers silent for longer than the grace
  period failed (killed, crashed, lost), and runs others in their place. A stopped worker's trial is failed at
  once. Failed trials do not count: the study goes on until it has its number of complete and pruned trials,
  so running the same command again resumes a search. Each trial is created by the one worker that runs it
  (``study.ask()``), so two workers never run the same trial; a worker that finds the study has all its
  trials when its own begins (two asked at once) gives that trial up before it trains.

What a trial measured is kept in the storage too (:data:`EPOCH_KEY` system attributes: every epoch's
metrics), so :class:`StudyReader` rebuilds every trial's curves from the storage alone, those of other machines
included: the Search view and :func:`write_search_outputs` read the study, not the run folders.

``optuna-dashboard sqlite:///PATH/study.db`` (or the database URL) shows the same study in a browser.

>>> study = create_or_join(definition, "lr-search", "sqlite:///runs/s/study.db")      # doctest: +SKIP
>>> for event in SearchWorker("lr-search", "sqlite:///runs/s/study.db", folder="runs/s").events():  # doctest: +SKIP
...     print(event)
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import json
import math
import os
import platform
import threading
import time
import warnings
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import optuna
from optuna.exceptions import ExperimentalWarning, UpdateFinishedTrialError
from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import FrozenTrial, Trial, TrialState

from dllab.data import Dataset, PreparedData
from dllab.errors import SettingsError, quote
from dllab.experiments.comparison_results import VariantResult
from dllab.experiments.parallel_runs import ParallelRuns, ProcessDied, check_processes
from dllab.experiments.search import (
    HEARTBEAT_SECONDS,
    SearchDefinition,
    trial_score,
    without_test,
    write_definition,
    write_outputs,
)
from dllab.files import atomic_write
from dllab.model import build
from dllab.runs import RunError, RunRecorder, claim_folder, runs_root, safe_name
from dllab.settings import check_whole_number
from dllab.trainer import EpochEnded, Stopped, Trainer

#: The study's user attribute that holds the search's definition (:meth:`SearchDefinition.to_dict`).
DEFINITION_KEY = "dllab.search"
#: The study's user attribute that holds the heartbeat interval its workers keep, in seconds.
HEARTBEAT_ATTR = "dllab.heartbeat"
#: Prefix of the trial system attributes that hold each epoch's metrics (``dllab:epoch:0001``, ...).
EPOCH_KEY = "dllab:epoch:"
#: A trial's heartbeat on a journal file (the time it was last alive); a database keeps its own.
HEARTBEAT_KEY = "dllab:heartbeat"
#: Marks a trial that a worker gave up before training, the study having all its trials already.
SURPLUS_KEY = "dllab:surplus"
#: The SQLite file of a search's folder.
STUDY_FILE = "study.db"
#: The file in a trial's run folder that says how the trial ended.
TRIAL_FILE = "trial.json"
TRIAL_FORMAT = "dllab.trial/1"
#: The states of a trial that count towards a study's number of trials (with ``RUNNING`` and ``WAITING``,
#: which may still end so).
DONE = (TrialState.COMPLETE, TrialState.PRUNED)
_COUNTED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING, TrialState.WAITING)
_STATE_NAMES = {
    TrialState.COMPLETE: "complete",
    TrialState.PRUNED: "pruned",
    TrialState.FAIL: "failed",
    TrialState.RUNNING: "running",
    TrialState.WAITING: "waiting",
}
_DEFINITION_WAIT_S = 10.0


def quiet_optuna() -> None:
    """Optuna's own log lines (one per trial) only for warnings: dllab says what happens its own way."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)


def grace_period(heartbeat: int) -> int:
    """Seconds without a heartbeat after which a running trial is taken for dead: two intervals and one more."""
    return 2 * int(heartbeat) + 1


# --- storages ----------------------------------------------------------------------------------------------


def folder_storage(folder: str | os.PathLike[str]) -> str:
    """The URL of a search folder's own SQLite study (:data:`STUDY_FILE`)."""
    return f"sqlite:///{(Path(folder) / STUDY_FILE).resolve()}"


def storage_url(text: str | os.PathLike[str]) -> str:
    """A storage as Optuna opens it: a database URL, ``journal:PATH``, or a file path.

    A path ending in ``.db``, ``.sqlite`` or ``.sqlite3`` is an SQLite URL; one ending in ``.log``,
    ``.journal`` or ``.jsonl`` a journal file (absolute either way). ``postgresql://`` names psycopg 3's driver
    when psycopg2 is not installed.

    Raises
    ------
    SettingsError
        For anything else.
    """
    text = os.fspath(text).strip()
    if text.startswith("journal:"):
        path = text.removeprefix("journal:")
        if not path:
            raise SettingsError("a journal storage names its file: journal:PATH")
        return f"journal:{Path(path).expanduser().resolve()}"
    if "://" in text:
        scheme = text.split("://", 1)[0].lower()
        if scheme in ("postgresql", "postgres"):
            rest = text.split("://", 1)[1]
            if importlib.util.find_spec("psycopg2") is None and importlib.util.find_spec("psycopg"):
                return f"postgresql+psycopg://{rest}"
            return f"postgresql://{rest}"
        return text
    suffix = Path(text).suffix.lower()
    if suffix in (".db", ".sqlite", ".sqlite3"):
        return f"sqlite:///{Path(text).expanduser().resolve()}"
    if suffix in (".log", ".journal", ".jsonl"):
        return f"journal:{Path(text).expanduser().resolve()}"
    raise SettingsError(
        f"cannot tell what storage {quote(text)} is: give a database URL (sqlite:///PATH, postgresql://...), "
        "journal:PATH, or a file ending in .db (SQLite) or .log (a journal)"
    )


def redacted(url: str) -> str:
    """``url`` without its password, to print and to write into files."""
    if "://" not in url or "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, _, place = rest.rpartition("@")
    if ":" not in credentials:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{place}"


class _StaleRecorder:
    """Optuna's callback for the trials its heartbeat check fails: remembers their numbers."""

    def __init__(self) -> None:
        self.numbers: list[int] = []

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        self.numbers.append(trial.number)


def open_storage(url: str, *, create: bool = True) -> BaseStorage:
    """Open a storage (:func:`storage_url`'s form); an SQLite or journal file is created when missing (its
    folder too), unless ``create`` is False.

    Raises
    ------
    SettingsError
        When it cannot be opened (no such server, a driver missing, a file that is not a study, a file missing
        with ``create`` False), in one sentence naming the storage.
    """
    url = storage_url(url)
    if not create:
        path = url.removeprefix("journal:") if url.startswith("journal:") else None
        if url.startswith("sqlite:///"):
            path = url.removeprefix("sqlite:///")
        if path is not None and not Path(path).is_file():
            raise SettingsError(f"there is no study file {path} (the storage {redacted(url)})")
    try:
        if url.startswith("journal:"):
            path = Path(url.removeprefix("journal:"))
            path.parent.mkdir(parents=True, exist_ok=True)
            return JournalStorage(JournalFileBackend(str(path)))
        kwargs: dict[str, Any] = {}
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            # Several worker processes write to one file: wait for the lock rather than fail.
            kwargs["engine_kwargs"] = {"connect_args": {"timeout": 60}}
        storage = RDBStorage(url, heartbeat_stale_trial_callback=_StaleRecorder(), **kwargs)
    except (ImportError, ModuleNotFoundError) as exc:
        raise SettingsError(f"cannot open the storage {redacted(url)}: a driver is missing ({exc})") from None
    except Exception as exc:  # SQLAlchemy's errors: no server, refused, not a database
        message = " ".join(str(exc).split("\n")[0].split())
        raise SettingsError(f"cannot open the storage {redacted(url)}: {message[:300]}") from None
    return storage


def close_storage(storage: BaseStorage) -> None:
    """Close a database storage's connections (its pool); nothing to do for a journal file."""
    if isinstance(storage, RDBStorage):
        with contextlib.suppress(Exception):
            storage.remove_session()
            storage.engine.dispose()


def _set_heartbeat(storage: BaseStorage, seconds: int) -> None:
    """Make a database storage keep Optuna's heartbeat every ``seconds`` (a journal keeps dllab's own)."""
    if isinstance(storage, RDBStorage):
        storage.heartbeat_interval = int(seconds)
        storage.grace_period = grace_period(seconds)


# --- samplers and pruners -----------------------------------------------------------------------------------


def trial_seed(seed: int, number: int) -> int:
    """The seed of trial ``number``'s draws in a search seeded by ``seed``."""
    import numpy as np

    return int(np.random.SeedSequence([int(seed), int(number)]).generate_state(1)[0])


class PerTrialSampler(optuna.samplers.BaseSampler):
    """A sampler whose draws for trial ``n`` are seeded by ``(seed, n)``: the same values for the same trial
    whichever worker runs it, different values for different trials.

    Parameters
    ----------
    seed
        The search's seed.
    make
        Makes the sampler of one trial from its seed (e.g. ``RandomSampler``).
    """

    def __init__(self, seed: int, make: Callable[[int], optuna.samplers.BaseSampler]) -> None:
        self.seed = int(seed)
        self._make = make
        self._samplers: dict[int, optuna.samplers.BaseSampler] = {}
        self._lock = threading.Lock()

    def _of(self, trial: FrozenTrial) -> optuna.samplers.BaseSampler:
        with self._lock:
            sampler = self._samplers.get(trial.number)
            if sampler is None:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ExperimentalWarning)
                    sampler = self._make(trial_seed(self.seed, trial.number))
                self._samplers[trial.number] = sampler
            return sampler

    def infer_relative_search_space(self, study: optuna.Study, trial: FrozenTrial) -> dict[str, Any]:
        return self._of(trial).infer_relative_search_space(study, trial)

    def sample_relative(self, study: optuna.Study, trial: FrozenTrial, search_space: dict[str, Any]) -> dict:
        return self._of(trial).sample_relative(study, trial, search_space)

    def sample_independent(
        self, study: optuna.Study, trial: FrozenTrial, param_name: str, param_distribution: Any
    ) -> Any:
        return self._of(trial).sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        self._of(trial).before_trial(study, trial)

    def after_trial(
        self, study: optuna.Study, trial: FrozenTrial, state: TrialState, values: Sequence[float] | None
    ) -> None:
        with self._lock:
            sampler = self._samplers.pop(trial.number, None)
        if sampler is not None:
            sampler.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        """Nothing to do: every trial's draws are seeded by its number."""


def make_sampler(definition: SearchDefinition) -> optuna.samplers.BaseSampler:
    """The search's sampler: random or TPE (with the constant liar, for parallel workers), per trial seeded."""
    if definition.sampler == "tpe":
        return PerTrialSampler(
            definition.seed, lambda s: optuna.samplers.TPESampler(seed=s, constant_liar=True)
        )
    return PerTrialSampler(definition.seed, lambda s: optuna.samplers.RandomSampler(seed=s))


def make_pruner(definition: SearchDefinition) -> optuna.pruners.BasePruner:
    """The search's pruner: none, the median pruner (once 5 trials have finished, from a trial's third epoch
    on: the first two are never judged) or successive halving (Optuna's defaults)."""
    if definition.pruner == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=3)
    if definition.pruner == "halving":
        return optuna.pruners.SuccessiveHalvingPruner()
    return optuna.pruners.NopPruner()


# --- opening a study ---------------------------------------------------------------------------------------


@dataclass
class SearchStudy:
    """A search's study, opened: its storage, the Optuna study (with the search's sampler and pruner) and the
    definition it holds.

    Attributes
    ----------
    name : str
    url : str
        The storage as opened (:func:`storage_url`; :func:`redacted` to show it).
    storage : optuna.storages.BaseStorage
    study : optuna.Study
    definition : SearchDefinition
    heartbeat : int
        Seconds between the heartbeats of its trials.
    created : bool
        Whether this call created it (False: it existed and was joined).
    """

    name: str
    url: str
    storage: BaseStorage
    study: optuna.Study
    definition: SearchDefinition
    heartbeat: int = HEARTBEAT_SECONDS
    created: bool = False

    @property
    def shown_storage(self) -> str:
        return redacted(self.url)

    def close(self) -> None:
        """Close the storage's connections (a database's; a journal file has none open)."""
        close_storage(self.storage)

    def record(self) -> dict[str, Any]:
        """What ``search.json`` adds to the definition: the study's name and storage (no password)."""
        return {"study": self.name, "storage": self.shown_storage}

    def target(self) -> int:
        """The number of trials the study finishes (it may have grown since it was opened)."""
        stored = self.study.user_attrs.get(DEFINITION_KEY)
        if isinstance(stored, dict) and isinstance(stored.get("trials"), int) and stored["trials"] >= 1:
            return stored["trials"]
        return self.definition.trials

    def ask(self) -> Trial:
        """A new trial of the study, to run here (its heartbeat is :meth:`heartbeat_of`'s to keep)."""
        with warnings.catch_warnings():  # Optuna advises optimize() with a heartbeat; our loop keeps it
            warnings.filterwarnings("ignore", message="Heartbeat of storage")
            return self.study.ask()

    def trials(self) -> list[FrozenTrial]:
        """Every trial that is part of the search (not those given up as surplus), in number order."""
        return [t for t in self.study.get_trials(deepcopy=False) if not t.system_attrs.get(SURPLUS_KEY)]

    def done(self) -> int:
        """Complete and pruned trials so far."""
        return sum(t.state in DONE for t in self.trials())

    def fail_stale(self) -> list[int]:
        """Mark failed the running trials whose workers have been silent for the grace period; their numbers.

        A database uses Optuna's heartbeat (:func:`optuna.storages.fail_stale_trials`, by the database's
        clock), a journal file the heartbeat time kept in :data:`HEARTBEAT_KEY` (by the workers' clocks, which
        must agree within the grace period).
        """
        storage = self.storage
        if isinstance(storage, RDBStorage):
            recorder = storage.heartbeat_stale_trial_callback
            before = len(recorder.numbers) if isinstance(recorder, _StaleRecorder) else 0
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ExperimentalWarning)
                optuna.storages.fail_stale_trials(self.study)
            return recorder.numbers[before:] if isinstance(recorder, _StaleRecorder) else []
        failed = []
        now = time.time()
        for trial in self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            beat = trial.system_attrs.get(HEARTBEAT_KEY)
            if beat is None and trial.datetime_start is not None:
                beat = trial.datetime_start.timestamp()
            if isinstance(beat, int | float) and now - beat > grace_period(self.heartbeat):
                with contextlib.suppress(UpdateFinishedTrialError):
                    if storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL):
                        failed.append(trial.number)
        return failed

    @contextlib.contextmanager
    def heartbeat_of(self, trial: Trial) -> Iterator[None]:
        """Keep ``trial`` alive in the storage while the block runs (a thread beats every interval)."""
        stop = threading.Event()
        storage, trial_id, interval = self.storage, trial._trial_id, self.heartbeat

        def beat() -> None:
            while True:
                with contextlib.suppress(
                    Exception
                ):  # a failed beat is retried; a trial failed meanwhile ends
                    if isinstance(storage, RDBStorage):
                        storage.record_heartbeat(trial_id)
                    else:
                        storage.set_trial_system_attr(trial_id, HEARTBEAT_KEY, time.time())
                if stop.wait(interval):
                    return

        thread = threading.Thread(target=beat, name=f"dllab heartbeat {trial.number}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()


def _load(storage: BaseStorage, name: str, url: str) -> optuna.Study:
    try:
        return optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        names = [s.study_name for s in optuna.get_all_study_summaries(storage, include_best_trial=False)]
        known = f" (it holds {', '.join(repr(n) for n in names[:10])})" if names else " (it holds none)"
        raise SettingsError(f"there is no study {quote(name)} in {redacted(url)}{known}") from None


def _stored_definition(study: optuna.Study, name: str, wait: float = _DEFINITION_WAIT_S) -> SearchDefinition:
    """The definition a study holds (waiting a moment for one created at this very instant)."""
    deadline = time.monotonic() + wait
    while True:
        document = study.user_attrs.get(DEFINITION_KEY)
        if document is not None:
            definition = SearchDefinition.from_dict(document, where=f"the study {quote(name)}")
            break
        if time.monotonic() > deadline:
            raise SettingsError(
                f"the study {quote(name)} is not a dllab search (it holds no {DEFINITION_KEY})"
            )
        time.sleep(0.2)  # user_attrs reads the storage again
    return definition


def _opened(
    storage: BaseStorage, name: str, url: str, definition: SearchDefinition, heartbeat: int, created: bool
) -> SearchStudy:
    _set_heartbeat(storage, heartbeat)
    study = optuna.load_study(
        study_name=name, storage=storage, sampler=make_sampler(definition), pruner=make_pruner(definition)
    )
    return SearchStudy(name, url, storage, study, definition, heartbeat, created)


def _stored_heartbeat(study: optuna.Study) -> int:
    value = study.user_attrs.get(HEARTBEAT_ATTR)
    return (
        value if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else HEARTBEAT_SECONDS
    )


def open_search(name: str, url: str) -> SearchStudy:
    """Open an existing search's study (a worker's start).

    Raises
    ------
    SettingsError
        When the storage cannot be opened, holds no study of that name, or the study is not a dllab search.
    """
    quiet_optuna()
    url = storage_url(url)
    storage = open_storage(url, create=False)
    with _closed_on_error(storage):
        study = _load(storage, name, url)
        definition = _stored_definition(study, name)
        return _opened(storage, name, url, definition, _stored_heartbeat(study), created=False)


@contextlib.contextmanager
def _closed_on_error(storage: BaseStorage) -> Iterator[None]:
    try:
        yield
    except BaseException:
        close_storage(storage)
        raise


def create_or_join(
    definition: SearchDefinition, name: str, url: str, *, heartbeat: int = HEARTBEAT_SECONDS
) -> SearchStudy:
    """Create the study of ``definition``, or join it when the storage holds it already (a resumed search).

    Joining takes the stored study's own definition; a different number of trials replaces the stored one
    (a search can be extended or cut short), anything else different is refused.

    Parameters
    ----------
    definition
        The search.
    name
        The study's name.
    url
        The storage (:func:`storage_url`'s forms).
    heartbeat
        Seconds between the heartbeats of the study's trials (kept in the study for all its workers).

    Raises
    ------
    SettingsError
        When the storage cannot be opened, or holds another search under that name.
    """
    quiet_optuna()
    if not isinstance(name, str) or not name.strip():
        raise SettingsError(f"a study needs a name, got {quote(name)}")
    if isinstance(heartbeat, bool) or not isinstance(heartbeat, int) or heartbeat < 1:
        raise SettingsError(f"the heartbeat is a whole number of seconds of at least 1, got {heartbeat!r}")
    url = storage_url(url)
    storage = open_storage(url)
    with _closed_on_error(storage):
        return _create_or_join(storage, definition, name, url, heartbeat)


def _create_or_join(
    storage: BaseStorage, definition: SearchDefinition, name: str, url: str, heartbeat: int
) -> SearchStudy:
    try:
        study = optuna.create_study(study_name=name, storage=storage, direction="maximize")
    except optuna.exceptions.DuplicatedStudyError:
        study = _load(storage, name, url)
        stored = _stored_definition(study, name)
        difference = stored.difference(definition)
        if difference is not None:
            raise SettingsError(
                f"the study {quote(name)} in {redacted(url)} holds another search (its {difference} differ); "
                "choose another study name, or leave the settings as they were to resume it"
            ) from None
        if stored.trials != definition.trials:
            study.set_user_attr(DEFINITION_KEY, {**stored.to_dict(), "trials": definition.trials})
            stored = dataclasses.replace(stored, trials=definition.trials)
        return _opened(storage, name, url, stored, _stored_heartbeat(study), created=False)
    study.set_user_attr(HEARTBEAT_ATTR, heartbeat)
    study.set_user_attr(DEFINITION_KEY, definition.to_dict())
    return _opened(storage, name, url, definition, heartbeat, created=True)


def suggest(trial: Trial, definition: SearchDefinition) -> dict[str, Any]:
    """Draw the trial's values of every searched setting (the study's sampler decides how)."""
    params: dict[str, Any] = {}
    for d in definition.space:
        if d.choices:
            params[d.name] = trial.suggest_categorical(d.name, list(d.choices))
        elif d.whole:
            params[d.name] = trial.suggest_int(d.name, int(d.low), int(d.high), log=d.log)
        else:
            params[d.name] = trial.suggest_float(d.name, float(d.low), float(d.high), log=d.log)
    return params


# --- the trials as the views read them -------------------------------------------------------------------


def _plain(value: float) -> float | None:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def _epoch_record(event: EpochEnded) -> dict[str, Any]:
    return {
        "epoch": event.epoch,
        "step": event.step,
        "train_loss": _plain(event.train_loss),
        "train_accuracy": _plain(event.train_accuracy),
        "val_loss": _plain(event.val_loss),
        "val_accuracy": _plain(event.val_accuracy),
        "lr": _plain(event.lr),
        "elapsed": _plain(event.elapsed),
        "samples_per_second": _plain(event.samples_per_second),
        "train_dev_loss": _plain(event.train_dev_loss),
        "train_dev_accuracy": _plain(event.train_dev_accuracy),
        "improved": bool(event.improved),
    }


def _epoch_event(record: Any) -> EpochEnded | None:
    if not isinstance(record, dict):
        return None

    def number(key: str) -> float:
        value = record.get(key)
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else math.nan

    try:
        return EpochEnded.recorded(
            int(record["epoch"]), int(record.get("step") or 0), number, improved=bool(record.get("improved"))
        )
    except (KeyError, TypeError, ValueError):
        return None


@dataclass(frozen=True)
class TrialRecord:
    """One trial of a study as the views show it.

    Attributes
    ----------
    number : int
        The trial's number in the study (its run folder is ``trial-NNNN``).
    state : str
        Optuna's state: ``"complete"``, ``"pruned"``, ``"failed"``, ``"running"`` or ``"waiting"``.
    status : str
        What happened, in a word: ``"finished"``, ``"diverged"``, ``"pruned"``, ``"stopped"`` (its worker was
        stopped), ``"failed"`` (an error, or its worker died), ``"running"`` or ``"waiting"``.
    params : dict
        The values it drew.
    value : float or None
        Its score in the study (NaN-free; None while it runs or when it failed).
    epochs : tuple of EpochEnded
        The metrics of every epoch so far.
    started, completed : datetime or None
    host : str
        The machine of the worker that ran it, with the worker's process id (``"lab-3 (pid 4242)"``).
    folder : str
        Its run folder on that machine ("" when none).
    reason : str
        Why it ended, when it did not finish: the pruner's words, the error, the lost worker.
    """

    number: int
    state: str
    status: str
    params: dict[str, Any]
    value: float | None
    epochs: tuple[EpochEnded, ...]
    started: datetime | None
    completed: datetime | None
    host: str
    folder: str
    reason: str

    @property
    def duration(self) -> float:
        """Seconds from its start to its end (or to now while it runs); NaN before it started."""
        if self.started is None:
            return math.nan
        end = self.completed or datetime.now()
        return max(0.0, (end - self.started).total_seconds())

    def result(self) -> VariantResult:
        """The trial as the ranking and the figures take it (``index`` is the trial's number)."""
        result = VariantResult(self.number, f"trial {self.number}", dict(self.params), status=self.status)
        result.epochs = list(self.epochs)
        result.reason = self.reason
        return result


def trial_record(trial: FrozenTrial) -> TrialRecord:
    """A stored trial as :class:`TrialRecord`."""
    state = _STATE_NAMES.get(trial.state, trial.state.name.lower())
    attrs = trial.user_attrs
    epochs = sorted(
        (
            e
            for key, value in trial.system_attrs.items()
            if key.startswith(EPOCH_KEY)
            for e in [_epoch_event(value)]
            if e
        ),
        key=lambda e: e.epoch,
    )
    status = attrs.get("status") if isinstance(attrs.get("status"), str) else None
    reason = attrs.get("reason") if isinstance(attrs.get("reason"), str) else ""
    if trial.state == TrialState.RUNNING:
        status = "running"
    elif trial.state == TrialState.WAITING:
        status = "waiting"
    elif trial.state == TrialState.PRUNED:
        status = "pruned"
    elif trial.state == TrialState.FAIL and status not in ("stopped", "failed"):
        status = "failed"
        reason = reason or "its worker stopped sending heartbeats (killed, crashed or lost)"
    elif status is None:
        status = "finished"
    host = str(attrs.get("host", ""))
    if host and isinstance(attrs.get("pid"), int):
        host = f"{host} (pid {attrs['pid']})"
    value = trial.value if trial.state in DONE and trial.value is not None else None
    return TrialRecord(
        number=trial.number,
        state=state,
        status=status,
        params=dict(trial.params),
        value=value if value is None or math.isfinite(value) else None,
        epochs=tuple(epochs),
        started=trial.datetime_start,
        completed=trial.datetime_complete,
        host=host,
        folder=str(attrs.get("folder", "")),
        reason=reason,
    )


@dataclass(frozen=True)
class StudySnapshot:
    """A study as read at one moment: its definition and every trial.

    Attributes
    ----------
    name, storage : str
        The study's name and storage (without a password).
    definition : SearchDefinition
    trials : tuple of TrialRecord
        In number order (surplus trials left out).
    target : int
        The number of trials the study finishes.
    importances : dict or None
        How much each searched setting explains the scores (:func:`compute_importances`), most important
        first; None until enough trials have finished.
    """

    name: str
    storage: str
    definition: SearchDefinition
    trials: tuple[TrialRecord, ...]
    target: int
    importances: dict[str, float] | None = None

    def count(self, *states: str) -> int:
        return sum(t.state in states for t in self.trials)

    @property
    def done(self) -> int:
        """Complete and pruned trials."""
        return self.count("complete", "pruned")

    @property
    def running(self) -> list[TrialRecord]:
        return [t for t in self.trials if t.state == "running"]

    @property
    def complete(self) -> bool:
        """Whether the study has its number of trials and none runs."""
        return self.done >= self.target and not self.running

    def results(self) -> list[VariantResult]:
        """Every trial as :class:`VariantResult` (index: the trial's number)."""
        return [t.result() for t in self.trials]

    def summary(self) -> str:
        """``"12 of 100 trials done (2 pruned), 3 running, 1 failed"``."""
        parts = [f"{self.done} of {self.target} trials done"]
        pruned = self.count("pruned")
        if pruned:
            parts[0] += f" ({pruned} pruned)"
        for state, words in (("running", "running"), ("failed", "failed")):
            n = self.count(state)
            if n:
                parts.append(f"{n} {words}")
        return ", ".join(parts)


def compute_importances(study: optuna.Study, definition: SearchDefinition) -> dict[str, float] | None:
    """Optuna's importances of the settings that vary among the complete trials (its default evaluator,
    PED-ANOVA, which needs no other package), summing to 1; None with fewer than three complete trials, or
    when nothing varies."""
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    names = [
        d.name
        for d in definition.space
        if len({json.dumps(t.params.get(d.name), default=str) for t in complete if d.name in t.params}) > 1
    ]
    if len(complete) < 3 or not names:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values = optuna.importance.get_param_importances(study, params=names)
    except (ValueError, RuntimeError, ImportError):
        return None
    return {name: float(value) for name, value in values.items()}


class StudyReader:
    """Reads a study again and again (the views' live display): the storage stays open between reads.

    Use it from one thread at a time. :meth:`read` recomputes the importances only when the complete trials
    changed.
    """

    def __init__(self, name: str, url: str) -> None:
        quiet_optuna()
        self.name = name
        self.url = storage_url(url)
        self._storage = open_storage(self.url, create=False)
        with _closed_on_error(self._storage):
            self._study = _load(self._storage, name, self.url)
        self._definition: SearchDefinition | None = None
        self._importances: tuple[tuple[int, ...], dict[str, float] | None] = ((), None)

    def close(self) -> None:
        """Close the storage's connections."""
        close_storage(self._storage)

    def read(self) -> StudySnapshot:
        """The study now.

        Raises
        ------
        SettingsError
            When the storage cannot be read or the study is not a dllab search.
        """
        study = self._study
        if self._definition is None:
            self._definition = _stored_definition(study, self.name, wait=0.0)
        try:
            trials = [t for t in study.get_trials(deepcopy=False) if not t.system_attrs.get(SURPLUS_KEY)]
            stored = study.user_attrs.get(DEFINITION_KEY)
        except Exception as exc:  # the database went away, a journal being rewritten
            raise SettingsError(
                f"cannot read the study {quote(self.name)}: {' '.join(str(exc).split())[:200]}"
            ) from None
        target = stored.get("trials") if isinstance(stored, dict) else None
        target = target if isinstance(target, int) and target >= 1 else self._definition.trials
        complete = tuple(t.number for t in trials if t.state == TrialState.COMPLETE)
        if complete != self._importances[0]:
            self._importances = (complete, compute_importances(study, self._definition))
        return StudySnapshot(
            self.name,
            redacted(self.url),
            self._definition,
            tuple(trial_record(t) for t in trials),
            target,
            self._importances[1],
        )


def read_snapshot(name: str, url: str) -> StudySnapshot:
    """The study ``name`` in ``url`` now (see :class:`StudyReader`)."""
    reader = StudyReader(name, url)
    try:
        return reader.read()
    finally:
        reader.close()


def write_search_outputs(
    folder: str | os.PathLike[str], snapshot: StudySnapshot, *, top_k: int = 5
) -> dict[str, Path]:
    """The search's table, curves and figure from every trial in the study, other machines' included
    (:func:`dllab.experiments.search.write_outputs`)."""
    shown = [t.result() for t in snapshot.trials if t.state != "running"]
    record = {"study": snapshot.name, "storage": snapshot.storage}
    return write_outputs(folder, shown, snapshot.definition, top_k=top_k, record=record)


# --- the workers ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrialStarted:
    """A worker began a trial."""

    trial: int
    params: dict[str, Any]
    host: str
    folder: str


@dataclass(frozen=True)
class TrialEpoch:
    """A trial finished an epoch (its metrics, the validation accuracy reported to the study)."""

    trial: int
    epoch: EpochEnded


@dataclass(frozen=True)
class TrialEnded:
    """A worker's trial ended.

    Attributes
    ----------
    state : str
        ``"complete"``, ``"pruned"`` or ``"failed"`` (see :class:`TrialRecord`).
    status : str
        ``"finished"``, ``"diverged"``, ``"pruned"``, ``"stopped"`` or ``"failed"``.
    value : float
        Its score (NaN when it has none).
    """

    trial: int
    params: dict[str, Any]
    state: str
    status: str
    value: float
    reason: str
    folder: str
    epochs: int


@dataclass(frozen=True)
class StaleTrialsFailed:
    """A worker marked failed the trials of workers that stopped sending heartbeats."""

    trials: tuple[int, ...]


@dataclass(frozen=True)
class WorkerWaiting:
    """The study has all its trials started: the worker waits for those running elsewhere to end (and runs
    one in place of any that fails)."""

    running: tuple[int, ...]


@dataclass(frozen=True)
class WorkerDone:
    """A worker ended: how many trials it ran and why it stopped."""

    trials_run: int
    reason: str


WorkerEvent = TrialStarted | TrialEpoch | TrialEnded | StaleTrialsFailed | WorkerWaiting | WorkerDone


def worker_host() -> str:
    """This machine's name, as trials record it."""
    return platform.node() or "localhost"


class SearchWorker:
    """Runs a study's trials in this process until the study has its number of trials.

    Parameters
    ----------
    name
        The study's name.
    storage
        Its storage (:func:`storage_url`'s forms).
    folder
        The search folder on this machine: each trial writes its run folder ``trial-NNNN`` in it; None writes
        none.
    data
        The data already prepared for the study's network (the same the definition makes); prepared from the
        definition when None.
    dataset
        The data set already loaded (prepared here); loaded from the definition's data settings when None.
    data_dir
        Where this machine has the data, in place of the definition's data set (another machine's path).
    max_trials
        This worker runs at most this many trials (None: as many as the study needs).
    """

    def __init__(
        self,
        name: str,
        storage: str,
        *,
        folder: str | os.PathLike[str] | None = None,
        data: PreparedData | None = None,
        dataset: Dataset | None = None,
        data_dir: str | None = None,
        max_trials: int | None = None,
    ) -> None:
        if max_trials is not None:
            check_whole_number("the number of trials of a worker", max_trials)
        self.name = name
        self.url = storage_url(storage)
        self.folder = None if folder is None else Path(folder)
        self.data = data
        self.dataset = dataset
        self.data_dir = data_dir
        self.max_trials = max_trials
        self.host = worker_host()
        self._stop = threading.Event()
        self._trainer: Trainer | None = None
        self.search: SearchStudy | None = None

    def stop(self) -> None:
        """Stop the trial training now before its next mini-batch (it is marked failed, "stopped"), and run no
        other (any thread)."""
        self._stop.set()
        trainer = self._trainer
        if trainer is not None:
            trainer.stop()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def _prepared(self, definition: SearchDefinition) -> PreparedData:
        if self.data is not None:
            return without_test(self.data)
        experiment = definition.experiment
        if self.data_dir is not None:
            experiment = dataclasses.replace(
                experiment, data=dataclasses.replace(experiment.data, dataset=str(self.data_dir))
            )
        _, prepared, _ = experiment.prepare(self.dataset)
        return without_test(prepared)

    def events(self) -> Generator[WorkerEvent, None, int]:
        """Run trials, yielding what happens; returns how many trials this worker ran.

        Raises
        ------
        SettingsError
            When the study cannot be opened or its data prepared.
        Exception
            What training a trial raised (the trial is marked failed first, with the error as its reason).
        """
        search = open_search(self.name, self.url)
        self.search = search
        try:
            return (yield from self._trials(search))
        finally:
            search.close()

    def _trials(self, search: SearchStudy) -> Generator[WorkerEvent, None, int]:
        data = self._prepared(search.definition)
        ran = 0
        shown_waiting: tuple[int, ...] | None = None
        while not self.stopped:
            if self.max_trials is not None and ran >= self.max_trials:
                yield WorkerDone(ran, f"ran the {self.max_trials} trials asked of it")
                return ran
            failed = search.fail_stale()
            if failed:
                yield StaleTrialsFailed(tuple(failed))
            target = search.target()
            trials = search.trials()
            counted = [t for t in trials if t.state in _COUNTED]
            if sum(t.state in DONE for t in counted) >= target:
                yield WorkerDone(ran, f"the study has its {target} trials")
                return ran
            if len(counted) >= target:
                running = tuple(t.number for t in counted if t.state == TrialState.RUNNING)
                if running != shown_waiting:
                    shown_waiting = running
                    yield WorkerWaiting(running)
                self._stop.wait(min(search.heartbeat, 5))
                continue
            shown_waiting = None
            trial = search.ask()
            if self._surplus(search, trial, target):
                continue
            yield from self._run(search, trial, data)
            ran += 1
        yield WorkerDone(ran, "stopped")
        return ran

    def _surplus(self, search: SearchStudy, trial: Trial, target: int) -> bool:
        """Give the trial up when the study has all its trials without it (another worker asked at the same
        time and came first)."""
        ahead = sum(
            t.number < trial.number and t.state in _COUNTED
            for t in search.study.get_trials(deepcopy=False)
            if not t.system_attrs.get(SURPLUS_KEY)
        )
        if ahead < target:
            return False
        trial.storage.set_trial_system_attr(trial._trial_id, SURPLUS_KEY, True)
        search.study.tell(trial, state=TrialState.FAIL)
        return True

    def _trial_folder(self, number: int) -> Path | None:
        if self.folder is None:
            return None
        for k in range(1, 100):
            folder = self.folder / (f"trial-{number:04d}" if k == 1 else f"trial-{number:04d}-{k}")
            try:
                return claim_folder(folder)
            except RunError:
                continue
        raise RunError(f"cannot create a folder for trial {number} in {quote(str(self.folder))}")

    def _run(self, search: SearchStudy, trial: Trial, data: PreparedData) -> Iterator[WorkerEvent]:
        definition = search.definition
        number = trial.number
        folder: Path | None = None
        result = VariantResult(number, f"trial {number}", {})
        reason = ""
        pruned = False
        try:
            with search.heartbeat_of(trial):
                params = suggest(trial, definition)
                result.settings = dict(params)
                folder = self._trial_folder(number)
                trial.set_user_attr("host", self.host)
                trial.set_user_attr("pid", os.getpid())
                trial.set_user_attr("folder", "" if folder is None else str(folder))
                yield TrialStarted(number, params, self.host, "" if folder is None else str(folder))
                spec, config = definition.trial_setup(params)
                model = build(spec, seed=definition.experiment.seed)
                trainer = Trainer(model, data, config.unwatched())
                recorder = None
                if folder is not None:
                    recorder = RunRecorder(
                        folder,
                        model,
                        data=data,
                        config=config,
                        data_settings=definition.experiment.data,
                        seed=definition.experiment.seed,
                        extra={"search": {**search.record(), "trial": number, "params": params}},
                    )
                self._trainer = trainer
                if self.stopped:
                    trainer.stop()
                events = trainer.run()
                try:
                    for event in events:
                        if recorder is not None:
                            recorder.handle(event)
                        result.record(event)
                        if not isinstance(event, EpochEnded):
                            continue
                        trial.storage.set_trial_system_attr(
                            trial._trial_id, f"{EPOCH_KEY}{event.epoch:04d}", _epoch_record(event)
                        )
                        if math.isfinite(event.val_accuracy):
                            trial.report(float(event.val_accuracy), event.epoch)
                        yield TrialEpoch(number, event)
                        if definition.pruner != "none" and trial.should_prune():
                            pruned = True
                            reason = (
                                f"pruned after epoch {event.epoch} by the {definition.pruner} pruner: its "
                                f"validation accuracy {event.val_accuracy:.3f} is below what the other trials "
                                "had at that epoch"
                            )
                            stopped = Stopped(event.step, event.epoch, reason)
                            if recorder is not None:
                                recorder.handle(stopped)
                            result.record(stopped)
                            break
                finally:
                    events.close()
                    self._trainer = None
        except GeneratorExit:  # whoever iterated the events went away: the trial was stopped
            self._end(search, trial, "failed", "stopped", math.nan, "its worker was stopped", folder, result)
            raise
        except Exception as exc:
            reason = " ".join(str(exc).split()) or type(exc).__name__
            self._end(search, trial, "failed", "failed", math.nan, reason, folder, result)
            raise
        score = trial_score(result, definition.rank_by)
        if pruned:
            state, status = "pruned", "pruned"
        elif result.status == "stopped":
            state, status, reason = "failed", "stopped", "its worker was stopped"
        else:
            state, status, reason = (
                "complete",
                result.status,
                result.reason if result.status == "diverged" else "",
            )
        state, status, reason = self._end(search, trial, state, status, score, reason, folder, result)
        yield TrialEnded(
            number,
            dict(result.settings),
            state,
            status,
            score,
            reason,
            "" if folder is None else str(folder),
            len(result.epochs),
        )

    def _end(
        self,
        search: SearchStudy,
        trial: Trial,
        state: str,
        status: str,
        score: float,
        reason: str,
        folder: Path | None,
        result: VariantResult,
    ) -> tuple[str, str, str]:
        """Tell the study how the trial ended and write ``trial.json``; the state, status and reason it was
        recorded with (a trial another worker took for dead meanwhile stays failed)."""
        wanted = {"complete": TrialState.COMPLETE, "pruned": TrialState.PRUNED}.get(state, TrialState.FAIL)
        try:
            trial.set_user_attr("status", status)
            if reason:
                trial.set_user_attr("reason", reason[:1000])
            if state == "complete":
                told = search.study.tell(trial, score if math.isfinite(score) else 0.0, skip_if_finished=True)
            else:
                told = search.study.tell(trial, state=wanted, skip_if_finished=True)
            kept = told.state == wanted
        except UpdateFinishedTrialError:
            kept = False
        if not kept:
            state, status = "failed", "failed"
            reason = "another worker marked it failed: its heartbeats did not reach the storage in time"
        if folder is not None:
            document = {
                "format": TRIAL_FORMAT,
                **search.record(),
                "trial": trial.number,
                "state": state,
                "status": status,
                "reason": reason,
                "params": result.settings,
                "value": _plain(score),
                "epochs": len(result.epochs),
                "host": self.host,
                "pid": os.getpid(),
                "ended": datetime.now().astimezone().isoformat(timespec="seconds"),
            }
            text = json.dumps(document, indent=1, default=str) + "\n"
            with contextlib.suppress(OSError):
                atomic_write(folder / TRIAL_FILE, lambda file: file.write(text.encode("utf-8")))
        return state, status, reason


@dataclass
class WorkerTask:
    """A :class:`SearchWorker` to run in a worker process (:class:`~dllab.experiments.parallel_runs.ParallelRuns`
    pickles it, data included)."""

    name: str
    storage: str
    folder: Path | None = None
    data: PreparedData | None = None
    data_dir: str | None = None
    max_trials: int | None = None
    dataset: Dataset | None = None
    _worker: SearchWorker | None = dataclasses.field(default=None, init=False, repr=False)
    _stopped: bool = dataclasses.field(default=False, init=False, repr=False)

    def stop(self) -> None:
        self._stopped = True
        if self._worker is not None:
            self._worker.stop()

    def events(self) -> Iterator[WorkerEvent]:
        worker = SearchWorker(
            self.name,
            self.storage,
            folder=self.folder,
            data=self.data,
            dataset=self.dataset,
            data_dir=self.data_dir,
            max_trials=self.max_trials,
        )
        self._worker = worker
        if self._stopped:
            worker.stop()
        yield from worker.events()


class LocalWorkers:
    """Several workers of one study on this machine: in this process (one), or each in a process of its own.

    Parameters
    ----------
    name, storage, folder, data, data_dir, max_trials
        As for :class:`SearchWorker` (``max_trials`` per worker).
    processes
        How many workers; with more than one, each runs in a worker process with a share of the cores for its
        matrix products.

    :meth:`events` yields ``(worker index, event)``; a worker process that dies (killed, out of memory) is
    reported as a :class:`~dllab.experiments.parallel_runs.ProcessDied` event and the others go on: its trial
    is failed by the heartbeat check.
    """

    def __init__(
        self,
        name: str,
        storage: str,
        *,
        processes: int = 1,
        folder: str | os.PathLike[str] | None = None,
        data: PreparedData | None = None,
        dataset: Dataset | None = None,
        data_dir: str | None = None,
        max_trials: int | None = None,
    ) -> None:
        self.processes = check_processes(processes)
        self.name, self.storage = name, storage_url(storage)
        self.folder = None if folder is None else Path(folder)
        self.data, self.dataset, self.data_dir, self.max_trials = data, dataset, data_dir, max_trials
        self._running: WorkerTask | ParallelRuns | None = None
        self._stopped = False

    def stop(self) -> None:
        """Stop this machine's workers: their trials end before the next mini-batch (any thread)."""
        self._stopped = True
        running = self._running
        if running is not None:
            running.stop()

    def events(self) -> Iterator[tuple[int, WorkerEvent | ProcessDied]]:
        if self.processes == 1:  # in this process, where the loaded data set can be shared
            task = WorkerTask(
                self.name, self.storage, self.folder, self.data, self.data_dir, self.max_trials, self.dataset
            )
            self._running = task
            if self._stopped:
                task.stop()
            for event in task.events():
                yield 0, event
            return
        tasks = [
            WorkerTask(self.name, self.storage, self.folder, self.data, self.data_dir, self.max_trials)
            for _ in range(self.processes)
        ]
        runs = ParallelRuns(
            tasks, self.processes, [f"worker {i + 1}" for i in range(self.processes)], keep_going=True
        )
        self._running = runs
        if self._stopped:
            runs.stop()
        with contextlib.closing(runs.events()) as events:
            yield from events


# --- a search's folder on this machine -------------------------------------------------------------------


def read_folder_record(folder: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The ``search.json`` of a search folder (None when it has none or it cannot be read)."""
    try:
        document = json.loads((Path(folder) / "search.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def study_folder(name: str, url: str, out: str | os.PathLike[str] | None = None) -> Path:
    """This machine's folder for the trials of the study ``name`` in ``url``: ``out``, or ``search-NAME`` under
    the runs folder (``-2``, ... when that one belongs to another study), created when missing.

    Raises
    ------
    RunError
        When ``out`` is a folder of another search or not empty.
    """
    shown = redacted(storage_url(url))
    if out is not None:
        folder = Path(out)
        record = read_folder_record(folder)
        if record is not None and (record.get("study"), record.get("storage")) == (name, shown):
            return folder
        return claim_folder(folder)
    root = runs_root()
    for k in range(1, 1000):
        folder = root / (f"search-{safe_name(name)}" if k == 1 else f"search-{safe_name(name)}-{k}")
        record = read_folder_record(folder)
        if record is not None and (record.get("study"), record.get("storage")) == (name, shown):
            return folder
        if folder.exists() and record is None and not any(folder.iterdir()):
            return claim_folder(folder)
        if not folder.exists():
            with contextlib.suppress(RunError):
                return claim_folder(folder)
    raise RunError(f"cannot make a folder for the study {quote(name)} in {quote(str(root))}")


def save_definition(folder: Path, search: SearchStudy) -> Path:
    """Write the search folder's ``search.json`` (the definition, the study's name and storage)."""
    return write_definition(folder, search.definition, search.record())


def dashboard_command(url: str) -> str:
    """The command that opens the study's storage in optuna-dashboard (a separate install)."""
    shown = redacted(storage_url(url))
    if shown.startswith("journal:"):
        return f"optuna-dashboard {shown.removeprefix('journal:')}"
    return f"optuna-dashboard {shown}"
