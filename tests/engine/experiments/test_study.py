"""Searches as Optuna studies: workers in several processes share one study, a killed worker's trial fails and
another worker finishes the study, seeded draws reproduce, pruners stop hopeless trials, and the storages:
SQLite, a journal file and a real PostgreSQL server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import optuna
import pytest
from optuna.trial import TrialState

from dllab.errors import SettingsError
from dllab.experiment import DataSettings, Experiment
from dllab.experiments import study as studies
from dllab.experiments.search import SearchDefinition, book_space, check_dimension, parse_dimension
from dllab.spec import read_spec
from dllab.trainer import TrainingConfig

ROOT = Path(__file__).resolve().parents[3]
SPIRAL = ROOT / "assets" / "networks" / "spiral_mlp.json"
PROCESS_TIMEOUT_S = 120


def definition(trials: int = 4, epochs: int = 2, **options) -> SearchDefinition:
    """A search of the spiral MLP: tiny, quick trials."""
    experiment = Experiment(
        read_spec(SPIRAL),
        DataSettings("spiral", val_fraction=0.2),
        TrainingConfig(batch_size=50, epochs=epochs, stats_every=0, stats_budget=0.01),
        0,
    )
    space = options.pop("space", book_space({"lr": (1e-3, 1.0)}))
    return SearchDefinition(experiment, space, trials=trials, **options)


def worker_process(name: str, url: str, folder: Path, *extra: str) -> subprocess.Popen:
    """``dllab search-worker`` in a process of its own, on this checkout."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1"}
    argv = [sys.executable, "-m", "dllab", "search-worker", "--study", name, "--storage", url]
    return subprocess.Popen(
        [*argv, "--out", str(folder), *extra],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen) -> str:
    out, err = process.communicate(timeout=PROCESS_TIMEOUT_S)
    assert process.returncode == 0, err
    return out + err


def trials_of(name: str, url: str) -> list[optuna.trial.FrozenTrial]:
    return optuna.load_study(study_name=name, storage=studies.open_storage(url)).get_trials()


def wait_for(condition, timeout: float = PROCESS_TIMEOUT_S, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("timed out")


# --- storages and definitions ----------------------------------------------------------------------------


def test_storage_urls_and_their_passwords(tmp_path: Path) -> None:
    assert studies.storage_url(tmp_path / "s.db") == f"sqlite:///{tmp_path / 's.db'}"
    assert studies.storage_url(tmp_path / "s.log") == f"journal:{tmp_path / 's.log'}"
    assert studies.storage_url("sqlite:///x.db") == "sqlite:///x.db"
    assert studies.storage_url("postgresql://u:pw@host/db") in (
        "postgresql+psycopg://u:pw@host/db",
        "postgresql://u:pw@host/db",
    )
    assert (
        studies.redacted("postgresql+psycopg://u:secret@host:5432/db")
        == "postgresql+psycopg://u:***@host:5432/db"
    )
    assert studies.redacted("sqlite:////tmp/a.db") == "sqlite:////tmp/a.db"
    with pytest.raises(SettingsError, match="cannot tell what storage"):
        studies.storage_url("notes.txt")
    with pytest.raises(SettingsError, match="cannot open the storage"):
        studies.open_storage("sqlite:////proc/forbidden/x.db")


def test_a_study_holds_its_definition_and_refuses_another_search_under_its_name(tmp_path: Path) -> None:
    url = studies.folder_storage(tmp_path)
    first = studies.create_or_join(definition(trials=3), "s", url, heartbeat=2)
    assert first.created and first.heartbeat == 2
    again = studies.create_or_join(definition(trials=5), "s", url)  # more trials: the same search, resumed
    assert not again.created and again.heartbeat == 2 and again.target() == 5
    assert again.definition.to_dict() == {**definition(trials=5).to_dict()}
    opened = studies.open_search("s", url)
    assert opened.definition.trials == 5 and opened.target() == 5
    with pytest.raises(SettingsError, match=r"holds another search \(its the searched settings differ"):
        studies.create_or_join(definition(space=book_space()), "s", url)
    with pytest.raises(SettingsError, match=r"there is no study 'other' in .* \(it holds 's'\)"):
        studies.open_search("other", url)


def test_a_trial_applies_what_it_drew_to_the_network_and_training() -> None:
    space = (
        check_dimension("lr", 1e-3, 1e-1),
        parse_dimension("batch_size=16..64"),
        parse_dimension("optimizer=sgd,adam"),
        parse_dimension("hidden_units=8..64"),
        parse_dimension("batchnorm=on,off"),
        parse_dimension("dropout=0..0.5"),
        parse_dimension("init=he,0.01"),
    )
    search = definition(space=space)
    search.check()
    spec, config = search.trial_setup(
        {
            "lr": 0.02,
            "batch_size": 17,
            "optimizer": "adam",
            "hidden_units": 12,
            "batchnorm": True,
            "dropout": 0.3,
            "init": 0.01,
        }
    )
    assert (config.lr, config.batch_size, config.optimizer) == (0.02, 17, "adam")
    types = [layer["type"] for layer in spec["layers"]]
    assert types.count("BatchNorm") == 2 and types.count("Dropout") == 2
    dense = [layer for layer in spec["layers"] if layer["type"] == "Dense"]
    assert [d["units"] for d in dense] == [12, 12, 3] and {d["init"] for d in dense} == {0.01}
    _, config = search.trial_setup({"optimizer": "adam"})  # an optimizer drawn alone: its book learning rate
    assert config.lr == 0.001


# --- sampling ------------------------------------------------------------------------------------------------


def drawn(search: SearchDefinition, count: int) -> list[dict]:
    """The values of the first ``count`` trials of ``search``'s sampler (a study in memory)."""
    study = optuna.create_study(direction="maximize", sampler=studies.make_sampler(search))
    params = []
    for _ in range(count):
        trial = study.ask()
        params.append(studies.suggest(trial, search))
        study.tell(trial, 0.5)
    return params


def test_a_seeded_random_sampler_reproduces_its_draws() -> None:
    space = (
        *book_space(),
        parse_dimension("optimizer=sgd,momentum,adam"),
        parse_dimension("batch_size=16..256"),
    )
    first = drawn(definition(space=space, seed=3), 12)
    assert drawn(definition(space=space, seed=3), 12) == first
    assert drawn(definition(space=space, seed=4), 12) != first
    assert drawn(definition(space=space, seed=3), 5) == first[:5]  # trial n draws the same
    for params in first:
        assert 1e-6 <= params["lr"] <= 1e-2 and 1e-8 <= params["weight_decay"] <= 1e-4
        assert isinstance(params["batch_size"], int) and 16 <= params["batch_size"] <= 256
    assert len({p["lr"] for p in first}) == 12  # no two trials alike
    # The draws are log-uniform: as many in each decade.
    many = drawn(definition(space=book_space(), seed=0), 400)
    exponents = np.log10([p["lr"] for p in many])
    quarters = np.histogram(exponents, bins=4, range=(-6, -2))[0] / len(many)
    np.testing.assert_allclose(quarters, 0.25, atol=0.07)
    # TPE draws reproduce too, trial by trial.
    tpe = definition(space=space, seed=3, sampler="tpe")
    assert drawn(tpe, 14) == drawn(tpe, 14)


# --- workers ----------------------------------------------------------------------------------------------


def test_a_worker_runs_the_trials_and_the_snapshot_reads_them_back(tmp_path: Path) -> None:
    url = studies.folder_storage(tmp_path)
    search = studies.create_or_join(definition(trials=3), "s", url, heartbeat=1)
    events = list(studies.SearchWorker("s", url, folder=tmp_path).events())
    ended = [e for e in events if isinstance(e, studies.TrialEnded)]
    assert [e.trial for e in ended] == [0, 1, 2] and {e.state for e in ended} == {"complete"}
    assert isinstance(events[-1], studies.WorkerDone) and events[-1].trials_run == 3
    assert sum(isinstance(e, studies.TrialEpoch) for e in events) == 6
    snapshot = studies.read_snapshot("s", url)
    assert snapshot.done == 3 and snapshot.complete and snapshot.summary() == "3 of 3 trials done"
    for record, end in zip(snapshot.trials, ended, strict=True):
        assert record.value == pytest.approx(end.value) and len(record.epochs) == 2
        assert record.host.startswith(studies.worker_host()) and record.duration > 0
        assert record.result().best_val_accuracy == pytest.approx(end.value)
        folder = Path(record.folder)
        assert folder == tmp_path / f"trial-{record.number:04d}"
        document = json.loads((folder / "trial.json").read_text(encoding="utf-8"))
        assert (document["trial"], document["state"], document["study"]) == (record.number, "complete", "s")
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        assert config["search"]["params"] == record.params and config["training"]["lr"] == record.params["lr"]
        assert (folder / "metrics.csv").is_file() and (folder / "model_final.dllab.npz").is_file()
    # A worker on a study that has its trials runs none.
    assert list(studies.SearchWorker("s", url).events()) == [
        studies.WorkerDone(0, "the study has its 3 trials")
    ]
    outputs = studies.write_search_outputs(tmp_path, snapshot)
    assert json.loads(outputs["json"].read_text(encoding="utf-8"))["study"] == "s"
    assert search.done() == 3


def test_a_trial_asked_when_the_study_has_all_its_trials_is_given_up(tmp_path: Path) -> None:
    url = studies.folder_storage(tmp_path)
    search = studies.create_or_join(definition(trials=1), "s", url)
    worker = studies.SearchWorker("s", url)
    first, second = search.ask(), search.ask()  # two workers asked at once
    assert not worker._surplus(search, first, 1)
    assert worker._surplus(search, second, 1)
    assert [t.number for t in search.trials()] == [0]  # the surplus trial is no part of the search
    assert studies.read_snapshot("s", url).trials[0].state == "running"


@pytest.mark.slow
def test_two_worker_processes_finish_the_trials_between_them_none_twice(tmp_path: Path) -> None:
    url = studies.folder_storage(tmp_path / "study")
    studies.create_or_join(definition(trials=6, epochs=12), "s", url, heartbeat=1)
    first = worker_process("s", url, tmp_path / "a", "--trials", "3")
    # The second starts once the first trains, so that both take part.
    wait_for(lambda: any(t.state == TrialState.RUNNING for t in trials_of("s", url)))
    second = worker_process("s", url, tmp_path / "b")
    finish(first), finish(second)

    trials = [t for t in trials_of("s", url) if not t.system_attrs.get(studies.SURPLUS_KEY)]
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 6
    assert sorted(t.number for t in trials) == list(range(6))
    by_worker = {}
    for t in trials:
        by_worker.setdefault(t.user_attrs["pid"], []).append(t.number)
    assert sorted(len(numbers) for numbers in by_worker.values()) == [3, 3]
    folders = sorted(p.name for p in [*(tmp_path / "a").glob("trial-*"), *(tmp_path / "b").glob("trial-*")])
    assert folders == [f"trial-{n:04d}" for n in range(6)]  # every trial run once, by one worker
    # Whichever worker ran it, trial n drew what a seeded draw gives trial n.
    expected = drawn(definition(trials=6), 6)
    assert [t.params for t in sorted(trials, key=lambda t: t.number)] == expected


@pytest.mark.slow
def test_a_killed_worker_leaves_its_trial_failed_and_another_worker_completes_the_study(
    tmp_path: Path,
) -> None:
    url = studies.folder_storage(tmp_path / "study")
    studies.create_or_join(definition(trials=3, epochs=20), "s", url, heartbeat=1)
    doomed = worker_process("s", url, tmp_path / "a")

    def training() -> bool:
        return any(
            t.state == TrialState.RUNNING and any(k.startswith(studies.EPOCH_KEY) for k in t.system_attrs)
            for t in trials_of("s", url)
        )

    wait_for(training, every=0.05)
    doomed.send_signal(signal.SIGKILL)
    doomed.communicate(timeout=30)
    (victim,) = [t for t in trials_of("s", url) if t.state == TrialState.RUNNING]  # nobody told the study

    text = finish(worker_process("s", url, tmp_path / "b", "--data", "spiral"))

    trials = {t.number: t for t in trials_of("s", url) if not t.system_attrs.get(studies.SURPLUS_KEY)}
    assert trials[victim.number].state == TrialState.FAIL
    assert sum(t.state == TrialState.COMPLETE for t in trials.values()) == 3
    assert f"trials {victim.number} failed: their workers stopped sending heartbeats" in text
    assert "study 's': 3 of 3 trials done, 1 failed" in text
    record = studies.trial_record(trials[victim.number])
    assert record.status == "failed" and "heartbeats" in record.reason
    killed = tmp_path / "a" / f"trial-{victim.number:04d}"
    assert (killed / "metrics.csv").is_file() and not (killed / "trial.json").exists()
    assert len(list((tmp_path / "b").glob("trial-*"))) == 3 - sum(
        t.state == TrialState.COMPLETE and t.user_attrs["pid"] == victim.user_attrs["pid"]
        for t in trials.values()
    )


@pytest.mark.slow
def test_a_stopped_worker_fails_its_trial_at_once_and_the_same_command_resumes(tmp_path: Path) -> None:
    url = studies.folder_storage(tmp_path)
    studies.create_or_join(definition(trials=2, epochs=3), "s", url, heartbeat=1)
    worker = studies.SearchWorker("s", url, folder=tmp_path)
    events = []
    for event in worker.events():
        events.append(event)
        if isinstance(event, studies.TrialEpoch):
            worker.stop()
    ended = [e for e in events if isinstance(e, studies.TrialEnded)]
    assert [(e.state, e.status) for e in ended] == [("failed", "stopped")]
    assert events[-1] == studies.WorkerDone(1, "stopped")
    assert (
        json.loads((tmp_path / "trial-0000" / "trial.json").read_text(encoding="utf-8"))["status"]
        == "stopped"
    )
    assert list(studies.SearchWorker("s", url, folder=tmp_path).events())[-1] == studies.WorkerDone(
        2, "the study has its 2 trials"
    )
    states = [t.state for t in studies.read_snapshot("s", url).trials]
    assert states == ["failed", "complete", "complete"]


def test_a_pruner_stops_a_trial_whose_curve_is_hopeless(tmp_path: Path) -> None:
    url = studies.folder_storage(tmp_path)
    hopeless = book_space({"lr": (1e-7, 2e-7)})  # nothing moves in 8 epochs
    search = studies.create_or_join(
        definition(trials=6, epochs=8, space=hopeless, pruner="median"), "s", url, heartbeat=1
    )
    distributions = {"lr": optuna.distributions.FloatDistribution(1e-7, 2e-7, log=True)}
    for _ in range(5):  # five trials that did well at every epoch
        search.study.add_trial(
            optuna.trial.create_trial(
                params={"lr": 1.5e-7},
                distributions=distributions,
                value=0.95,
                intermediate_values={epoch: 0.95 for epoch in range(1, 9)},
            )
        )
    events = list(studies.SearchWorker("s", url, folder=tmp_path, max_trials=1).events())
    (ended,) = [e for e in events if isinstance(e, studies.TrialEnded)]
    assert (ended.state, ended.status, ended.epochs) == ("pruned", "pruned", 3)  # two epochs are never judged
    assert ended.reason.startswith("pruned after epoch 3 by the median pruner")
    folder = Path(ended.folder)
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["epochs"] == 3 and summary["reason"].startswith("pruned after epoch 3")
    assert json.loads((folder / "trial.json").read_text(encoding="utf-8"))["state"] == "pruned"
    record = studies.read_snapshot("s", url).trials[-1]
    assert (record.state, record.status, len(record.epochs)) == ("pruned", "pruned", 3)
    assert studies.read_snapshot("s", url).done == 6  # a pruned trial counts: the study is complete


def test_successive_halving_prunes_too(tmp_path: Path) -> None:
    url = studies.folder_storage(tmp_path)
    search = definition(trials=4, epochs=4, space=book_space({"lr": (1e-7, 1.0)}), pruner="halving", seed=1)
    studies.create_or_join(search, "s", url, heartbeat=1)
    events = list(studies.SearchWorker("s", url).events())
    states = [e.state for e in events if isinstance(e, studies.TrialEnded)]
    assert "pruned" in states and states.count("complete") + states.count("pruned") == 4


# --- journal files and PostgreSQL -------------------------------------------------------------------------


def test_a_journal_file_keeps_the_study_and_its_heartbeats(tmp_path: Path) -> None:
    url = studies.storage_url(tmp_path / "shared" / "study.log")
    assert url.startswith("journal:")
    search = studies.create_or_join(definition(trials=2), "s", url, heartbeat=1)
    list(studies.SearchWorker("s", url, folder=tmp_path / "w").events())
    assert studies.read_snapshot("s", url).done == 2
    # A trial whose heartbeat stopped two intervals and more ago is taken for dead.
    search = studies.create_or_join(definition(trials=3), "s", url)
    trial = search.ask()
    search.storage.set_trial_system_attr(trial._trial_id, studies.HEARTBEAT_KEY, time.time() - 60)
    assert search.fail_stale() == [trial.number]
    record = studies.read_snapshot("s", url).trials[-1]
    assert (record.state, record.status) == ("failed", "failed")


def test_a_real_postgresql_server_holds_a_study_for_workers_in_two_processes(
    postgres_url: str, tmp_path: Path
) -> None:
    search = studies.create_or_join(definition(trials=4), "pg", postgres_url, heartbeat=1)
    try:
        assert search.created and search.shown_storage.startswith("postgresql")
        workers = studies.LocalWorkers("pg", postgres_url, processes=2, folder=tmp_path)
        ended = [e for _, e in workers.events() if isinstance(e, studies.TrialEnded)]
        assert sorted(e.trial for e in ended) == [0, 1, 2, 3]
        snapshot = studies.read_snapshot("pg", postgres_url)
        assert snapshot.done == 4 and all(len(t.epochs) == 2 for t in snapshot.trials)
        assert sorted(p.name for p in tmp_path.glob("trial-*")) == [f"trial-{n:04d}" for n in range(4)]
        joined = studies.create_or_join(definition(trials=4), "pg", postgres_url)
        assert not joined.created
        joined.close()
        # Optuna's own heartbeat, kept by the database's clock: a silent trial fails after the grace period.
        trial = search.ask()
        search.storage.record_heartbeat(trial._trial_id)
        assert search.fail_stale() == []
        time.sleep(studies.grace_period(1) + 1.5)
        assert search.fail_stale() == [trial.number]
        with pytest.raises(SettingsError, match="there is no study 'nothing'"):
            studies.open_search("nothing", postgres_url)
    finally:
        search.close()
