"""Training runs on disk: one folder per run, written while it trains and reopened later.

A run folder holds

- ``config.json`` (format ``"dllab.run/1"``): the experiment (:class:`~dllab.experiment.Experiment`: the network
  spec as built, the data settings, the training config and the seed) beside the run's record (the sample
  counts and classes, the versions of dllab, numpy and Python, the start time), so
  ``Experiment.from_dict`` reads it back and ``dllab train --config RUN/config.json`` repeats the run; it is
  written again when the optimizer's settings are changed by hand during the run, the change added to the
  training config's ``changes`` (at its step), so the repeated run makes the same changes at the same steps;
- ``metrics.csv``: one row per epoch (:data:`METRIC_COLUMNS`), appended and flushed as each epoch ends, so a
  crash loses nothing that was measured;
- ``steps.csv`` (optional): step, loss and learning rate of every mini-batch, written at each epoch's end;
- ``model_best.dllab.npz``: the model at the best epoch so far: the lowest validation loss, or the lowest
  training loss when there is no validation split (``best_measure`` in the summary says which);
- ``model_final.dllab.npz`` and ``summary.json``: written when the run ends (finished, stopped or diverged),
  the summary with the test loss and accuracy, the best epoch, the confusion matrix and per-class accuracy.

Model files carry the data normaliser (``model.preprocessing``), the class names and a training summary, so
a saved model applies to raw data on its own.

Runs live under :func:`runs_root` (``$DLLAB_HOME/runs`` or the platform's user data folder) in folders named
by start time and network, e.g. ``20250107-142501-SpiralMLP``, which sort in the order the runs started.

>>> recorder = RunRecorder(new_run_folder("SpiralMLP"), model, data=prepared, config=config)  # doctest: +SKIP
>>> for event in Trainer(model, prepared, config).run():                                       # doctest: +SKIP
...     recorder.handle(event)
>>> [info.name for info in list_runs()]                                                        # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import platform
import re
import time
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from dllab.data import PreparedData
from dllab.error_analysis import ErrorAnalysis, read_error_analysis
from dllab.errors import DllabError, quote, reading

# The data settings live with the experiment; importable from here as before.
from dllab.experiment import RUN_FORMAT
from dllab.experiment import DataSettings as DataSettings
from dllab.files import atomic_write, open_regular, read_at_most
from dllab.io import json_default, save
from dllab.metrics import Evaluation, evaluate
from dllab.model import Sequential
from dllab.setting_changes import merge_change
from dllab.trainer import (
    BatchEnded,
    Diverged,
    EpochEnded,
    Event,
    Finished,
    RunStarted,
    SettingsChanged,
    Stopped,
    TrainingConfig,
    best_measure,
    first_nonfinite,
)

#: Environment variable naming the folder for dllab's own files; runs go to its ``runs`` sub-folder.
ENV_HOME = "DLLAB_HOME"
CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.csv"
STEPS_FILE = "steps.csv"
SUMMARY_FILE = "summary.json"
MODEL_FINAL = "model_final.dllab.npz"
MODEL_BEST = "model_best.dllab.npz"
#: The file whose exclusive creation claims a folder for one run (:func:`claim_folder`).
CLAIM_FILE = ".dllab-run"
#: The largest run file (``config.json``, ``metrics.csv``, ...) that is read, in bytes.
RUN_FILE_LIMIT = 2**30
#: The columns of ``metrics.csv``, one row per epoch: where it is, then what it is recorded with.
METRIC_COLUMNS = ("epoch", "step", *EpochEnded.RECORDED)
#: What the summary in ``model_best.dllab.npz`` keeps of the epoch that saved it.
BEST_MODEL_MEASURES = ("epoch", "step", "train_loss", "train_accuracy", "val_loss", "val_accuracy")
#: The columns of ``metrics.csv`` that runs recorded before the train-dev set lack (read as NaN).
LATER_METRIC_COLUMNS = ("train_dev_loss", "train_dev_accuracy")
#: The columns of ``steps.csv``, one row per mini-batch.
STEP_COLUMNS = ("step", "loss", "lr")


class RunError(DllabError, ValueError):
    """A run folder or one of its files is missing or damaged; the message names the file."""


# --- where runs live -------------------------------------------------------------------------------------


def runs_root() -> Path:
    """The folder holding one sub-folder per run (not created).

    Returns
    -------
    Path
        ``$DLLAB_HOME/runs`` when ``DLLAB_HOME`` is set, else ``runs`` in the platform's user data folder
        (``platformdirs.user_data_dir("dllab")``).
    """
    env = os.environ.get(ENV_HOME)
    if env:
        return Path(env).expanduser() / "runs"
    import platformdirs

    return Path(platformdirs.user_data_dir("dllab", appauthor=False)) / "runs"


def safe_name(text: str) -> str:
    """``text`` reduced to characters that are safe in a folder name on every platform."""
    cleaned = re.sub(r"[^A-Za-z0-9_.\-]+", "_", text).strip("._")
    return cleaned[:60] or "run"


def _folder_problem(folder: Path) -> str | None:
    """Why ``folder`` cannot become a run's folder, or None when it does not exist or is an empty folder."""
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name == CLAIM_FILE:
                    return "is taken by another run"
                return "exists and is not empty"
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return "exists and is not a folder"
    except OSError as exc:
        return f"cannot be used ({exc.strerror or exc})"
    return None


def _checked_folder(path: str | os.PathLike[str]) -> Path:
    if not str(path).strip():
        raise RunError("the output folder is an empty name; give the folder a run should create")
    return Path(path).expanduser()


def check_folder_free(path: str | os.PathLike[str]) -> Path:
    """Refuse, early, a folder that :func:`claim_folder` would refuse (nothing is created).

    Raises
    ------
    RunError
        When ``path`` is empty, exists and is not a folder, or is a folder that is not empty.
    """
    folder = _checked_folder(path)
    problem = _folder_problem(folder)
    if problem:
        raise RunError(f"the folder {quote(str(folder))} {problem}; choose another folder")
    return folder


def claim_folder(path: str | os.PathLike[str]) -> Path:
    """Create the folder of a run (or of a comparison, a search), or take an existing empty one, for this
    process alone.

    The folder is made with an exclusive :func:`os.mkdir`; an existing folder is taken only while it is empty,
    and either way the claim is the exclusive creation of :data:`CLAIM_FILE` inside it, so of two runs
    started at once with the same folder exactly one wins. Nothing already in a folder is ever touched. A
    folder this process has claimed already is returned as it is.

    Parameters
    ----------
    path
        The folder; its parents are created when missing.

    Returns
    -------
    Path
        The folder, holding :data:`CLAIM_FILE`.

    Raises
    ------
    RunError
        When ``path`` is empty, exists and is not an empty folder, or another run took it first.
    """
    folder = _checked_folder(path)
    if _claimed_by_this_process(folder):
        return folder
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            folder.mkdir()
    except OSError as exc:
        raise RunError(f"the folder {quote(str(folder))} cannot be created ({exc.strerror or exc})") from None
    problem = _folder_problem(folder)
    if problem:
        raise RunError(f"the folder {quote(str(folder))} {problem}; choose another folder")
    claim = {"pid": os.getpid(), "host": platform.node(), "claimed": datetime.now().astimezone().isoformat()}
    try:
        fd = os.open(folder / CLAIM_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except FileExistsError:
        raise RunError(
            f"the folder {quote(str(folder))} is taken by another run; choose another folder"
        ) from None
    except OSError as exc:
        raise RunError(f"the folder {quote(str(folder))} cannot be written ({exc.strerror or exc})") from None
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        json.dump(claim, file)
    return folder


def _claimed_by_this_process(folder: Path) -> bool:
    """Whether ``folder`` holds this process's claim (made by :func:`claim_folder`)."""
    try:
        claim = json.loads((folder / CLAIM_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(claim, dict) and claim.get("pid") == os.getpid()


def new_run_folder(network_name: str, root: str | os.PathLike[str] | None = None, *, kind: str = "") -> Path:
    """Create and claim (:func:`claim_folder`) a new run folder named by the current time and the network.

    Parameters
    ----------
    network_name
        The network's name; it becomes part of the folder name (unsafe characters are replaced).
    root
        The folder to create it in; :func:`runs_root` by default (created when missing).
    kind
        An optional word between the time and the name, e.g. ``"compare"``.

    Returns
    -------
    Path
        A folder that did not exist before, e.g. ``<root>/20250107-142501-SpiralMLP`` (``-2``, ``-3``, ...
        is appended when several runs start in the same second).
    """
    base_dir = Path(root) if root is not None else runs_root()
    parts = [
        datetime.now().strftime("%Y%m%d-%H%M%S"),
        safe_name(kind) if kind else "",
        safe_name(network_name),
    ]
    base = "-".join(p for p in parts if p)
    for k in range(1, 10000):
        folder = base_dir / (base if k == 1 else f"{base}-{k}")
        if folder.exists():
            continue
        try:
            return claim_folder(folder)
        except RunError:
            if not _folder_problem(folder):
                raise  # not a name taken meanwhile, but a folder that cannot be made
    raise RunError(f"cannot create a new run folder in {quote(str(base_dir))}")  # pragma: no cover


# --- recording -------------------------------------------------------------------------------------------


def _finite_or_none(value: Any) -> Any:
    """NaN and infinities become None, recursively (JSON has no NaN)."""
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite_or_none(v) for v in value]
    if isinstance(value, np.ndarray):
        return _finite_or_none(value.tolist())
    if isinstance(value, np.integer):
        return int(value)
    return value


def _write_json(path: Path, document: dict[str, Any]) -> None:
    text = json.dumps(_finite_or_none(document), indent=2, default=json_default, ensure_ascii=False)
    atomic_write(path, lambda file: file.write((text + "\n").encode("utf-8")))


def _append_rows(path: Path, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """Append CSV rows (with a header when the file is new), flushed and synced to disk."""
    new = not path.exists()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if new:
        writer.writerow(columns)
    for row in rows:
        writer.writerow([repr(float(v)) if isinstance(v, float | np.floating) else v for v in row])
    with path.open("a", encoding="utf-8", newline="") as file:
        file.write(buffer.getvalue())
        file.flush()
        os.fsync(file.fileno())


def versions() -> dict[str, str]:
    """The versions of dllab, numpy and Python, as stored in a run's config."""
    from dllab.version import __version__

    return {"dllab": __version__, "numpy": np.__version__, "python": platform.python_version()}


class RunRecorder:
    """Writes a run folder from trainer events: config, metrics, steps, models and summary.

    Call :meth:`handle` with every event the trainer yields, in order; it runs between batches, so the model
    is in the state the event describes (the best model is saved when an epoch improves on the validation
    loss). Files are complete after every epoch: ``metrics.csv`` and ``steps.csv`` are appended and synced,
    models and JSON files are replaced atomically.

    Parameters
    ----------
    folder
        The run folder: one that :func:`claim_folder` or :func:`new_run_folder` gave this process, or a
        folder to claim now (created when missing; an existing one must be empty).
    model
        The model being trained. Its ``preprocessing`` and ``class_names`` are set from ``data``.
    data
        The prepared data the trainer uses (its normaliser goes into the model files; its test set is
        evaluated when a run is stopped or diverges).
    config
        The training config.
    data_settings
        How the data was made, stored in ``config.json`` (optional but needed to reproduce the run).
    seed
        The seed the model was built with.
    record_steps
        Write ``steps.csv`` (loss and learning rate of every mini-batch).
    save_models
        Write ``model_best`` and ``model_final`` files.
    extra
        More entries for ``config.json`` (e.g. the settings of a comparison's variant).

    Attributes
    ----------
    evaluate_on_stop : bool
        Whether a stopped or diverged run is evaluated on the test set before its summary is written (the
        default). Set it to False, from any thread, to end a stopped run quickly, e.g. when the app closes
        during training: the summary then has no test results.
    test : Evaluation or None
        The test set's evaluation at the end of the run, once it is known.
    """

    def __init__(
        self,
        folder: str | os.PathLike[str],
        model: Sequential,
        *,
        data: PreparedData,
        config: TrainingConfig,
        data_settings: DataSettings | None = None,
        seed: int | None = 0,
        record_steps: bool = True,
        save_models: bool = True,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.folder = Path(folder)
        self.model = model
        self.data = data
        self.config = config
        self.record_steps = record_steps
        self.save_models = save_models
        claim_folder(self.folder)
        if (self.folder / CONFIG_FILE).exists():
            raise RunError(f"the folder {quote(str(self.folder))} already holds a run; choose another folder")
        model.preprocessing = data.normalizer.to_dict()
        model.class_names = list(data.class_names)
        self.started = datetime.now().astimezone()
        self._t0 = time.perf_counter()
        self._steps: list[tuple[int, float, float]] = []
        self.epochs: list[EpochEnded] = []
        self.best: EpochEnded | None = None
        self.total_steps: int | None = None
        self.summary: dict[str, Any] | None = None
        self.evaluate_on_stop = True
        self.test: Evaluation | None = None
        #: What model files name as their data set: a built-in name or the data's path (for evaluating).
        self.dataset = data_settings.dataset if data_settings else data.name
        data_section: dict[str, Any] = data_settings.to_dict() if data_settings else {"dataset": data.name}
        data_section.update(
            augment=config.augment,
            train_samples=len(data.x_train),
            val_samples=len(data.x_val),
            train_dev_samples=len(data.x_train_dev),
            test_samples=len(data.x_test),
            class_names=list(data.class_names),
            input_shape=list(data.input_shape),
        )
        self._document = document = {
            "format": RUN_FORMAT,
            "name": self.folder.name,
            "network": model.spec,
            "data": data_section,
            "training": config.to_dict(),
            "seed": seed,
            "versions": versions(),
            "started": self.started.isoformat(timespec="seconds"),
            **(extra or {}),
        }
        _write_json(self.folder / CONFIG_FILE, document)

    @property
    def finished(self) -> bool:
        """True once the run's last event (finished, stopped or diverged) has been recorded."""
        return self.summary is not None

    def handle(self, event: Event, *, test: Evaluation | None = None) -> None:
        """Record one trainer event (others, such as layer statistics, are ignored); a change of the optimizer's
        settings made by hand goes into ``config.json`` at once (see the module). ``test``: the test set's
        evaluation of a stopped or diverged run when the caller has made it (e.g. with progress, see
        :func:`dllab.metrics.evaluation_steps`); without it, ``evaluate_on_stop`` decides."""
        if isinstance(event, RunStarted):
            self.total_steps = event.total_steps
        elif isinstance(event, BatchEnded):
            if self.record_steps:
                self._steps.append((event.step, event.loss, event.lr))
        elif isinstance(event, EpochEnded):
            self._on_epoch(event)
        elif isinstance(event, SettingsChanged) and event.manual:
            training = self._document["training"]
            training["changes"] = merge_change(training["changes"], event.step, event.values)
            _write_json(self.folder / CONFIG_FILE, self._document)
        elif isinstance(event, Finished | Stopped | Diverged):
            self._on_end(event, test)

    def _flush_steps(self) -> None:
        if self.record_steps and self._steps:
            _append_rows(self.folder / STEPS_FILE, STEP_COLUMNS, self._steps)
            self._steps = []

    def _on_epoch(self, event: EpochEnded) -> None:
        row = tuple(getattr(event, column) for column in METRIC_COLUMNS)
        _append_rows(self.folder / METRICS_FILE, METRIC_COLUMNS, [row])
        self._flush_steps()
        self.epochs.append(event)
        if event.improved:
            self.best = event
            if self.save_models and self._weights_finite():
                best = {name: getattr(event, name) for name in BEST_MODEL_MEASURES}
                self.model.training_summary = self._model_summary("best", **best)
                save(self.model, self.folder / MODEL_BEST)

    def _weights_finite(self) -> bool:
        """Whether the model can be saved: a model file never holds NaN or infinite weights."""
        return first_nonfinite({**self.model.params, **self.model.state}) is None

    def _model_summary(self, which: str, **values: Any) -> dict[str, Any]:
        summary = {
            "model": which,
            "run": self.folder.name,
            "dataset": self.dataset,
            "optimizer": self.config.optimizer,
            "lr": self.config.lr,
            "batch_size": self.config.batch_size,
            **values,
        }
        return _finite_or_none(summary)

    def _on_end(self, event: Finished | Stopped | Diverged, given: Evaluation | None) -> None:
        self._flush_steps()
        test: Evaluation | None
        if isinstance(event, Finished):
            status, reason, test = "finished", event.reason, event.test
            elapsed = event.elapsed
        else:
            status = "stopped" if isinstance(event, Stopped) else "diverged"
            reason = event.reason if isinstance(event, Stopped) else event.message
            test = given
            if test is None and self.evaluate_on_stop:
                with np.errstate(all="ignore"):
                    test = evaluate(self.model, self.data.x_test, self.data.y_test)
            elapsed = time.perf_counter() - self._t0
        self.test = test
        save_final = self.save_models and self._weights_finite()
        last = self.epochs[-1] if self.epochs else None
        per_class = None if test is None else test.per_class_accuracy
        fit = event.fit if isinstance(event, Finished) else None
        if fit is None and last is not None and last.fit is not None:
            test_error = math.nan if test is None else 1 - test.accuracy
            fit = replace(last.fit, test_error=test_error)
        confusion = None if test is None else test.confusion
        summary: dict[str, Any] = {
            "status": status,
            "reason": reason,
            "ended": datetime.now().astimezone().isoformat(timespec="seconds"),
            "steps": event.step,
            "epochs": len(self.epochs),
            "elapsed": elapsed,
            "final_train_loss": last.train_loss if last else None,
            "final_train_accuracy": last.train_accuracy if last else None,
            "final_val_loss": last.val_loss if last else None,
            "final_val_accuracy": last.val_accuracy if last else None,
            "final_train_dev_accuracy": last.train_dev_accuracy if last else None,
            "best_measure": best_measure(self.data),
            "best_epoch": self.best.epoch if self.best else None,
            "best_val_loss": self.best.val_loss if self.best else None,
            "best_val_accuracy": self.best.val_accuracy if self.best else None,
            "test_samples": len(self.data.x_test),
            "test_loss": None if test is None else test.loss,
            "test_accuracy": None if test is None else test.accuracy,
            "confusion_matrix": None if confusion is None else confusion.tolist(),
            "per_class_accuracy": None if per_class is None else per_class.tolist(),
            "class_names": list(self.data.class_names),
            "fit": None if fit is None else fit.summary(),
            "models": {
                "final": MODEL_FINAL if save_final else None,
                "best": MODEL_BEST if (self.folder / MODEL_BEST).is_file() else None,
            },
        }
        if self.save_models and not save_final:
            summary["reason"] = f"{reason}; the final weights are not finite, so no final model was saved"
        if save_final:
            self.model.training_summary = self._model_summary(
                "final",
                status=status,
                epochs=len(self.epochs),
                steps=event.step,
                best_epoch=summary["best_epoch"],
                val_accuracy=summary["final_val_accuracy"],
                test_loss=None if test is None else test.loss,
                test_accuracy=None if test is None else test.accuracy,
            )
            save(self.model, self.folder / MODEL_FINAL)
        self.summary = _finite_or_none(summary)
        _write_json(self.folder / SUMMARY_FILE, self.summary)


# --- reading ---------------------------------------------------------------------------------------------


@dataclass
class RunInfo:
    """One line of :func:`list_runs`.

    Attributes
    ----------
    name, path
        The run folder's name and path.
    started : str
        Start time, ISO 8601.
    network : str
        The network's name.
    dataset : str
    status : str
        ``"finished"``, ``"stopped"``, ``"diverged"``, ``"incomplete"`` (no summary: still running or the
        process ended abruptly) or ``"damaged"`` (see ``error``).
    epochs : int
        Epochs recorded in ``metrics.csv``.
    best_val_accuracy : float or None
        The highest validation accuracy of any epoch.
    test_accuracy : float or None
    error : str or None
        Why a damaged run could not be read.
    """

    name: str
    path: Path
    started: str = ""
    network: str = ""
    dataset: str = ""
    status: str = "incomplete"
    epochs: int = 0
    best_val_accuracy: float | None = None
    test_accuracy: float | None = None
    error: str | None = None


@dataclass
class Run:
    """A run folder, read back.

    Attributes
    ----------
    path : Path
    config : dict
        ``config.json``.
    metrics : dict of str to numpy.ndarray
        The columns of ``metrics.csv`` (:data:`METRIC_COLUMNS`), one value per epoch.
    steps : dict of str to numpy.ndarray or None
        The columns of ``steps.csv`` when the run recorded steps (and they were read: see :func:`open_run`).
    summary : dict or None
        ``summary.json``; None while a run is still going or when it ended abruptly.
    model_final, model_best : Path or None
        The model files that exist.
    """

    path: Path
    config: dict[str, Any]
    metrics: dict[str, np.ndarray]
    steps: dict[str, np.ndarray] | None = None
    summary: dict[str, Any] | None = None
    model_final: Path | None = None
    model_best: Path | None = None

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def status(self) -> str:
        """``"finished"``, ``"stopped"``, ``"diverged"`` or ``"incomplete"``."""
        return str(self.summary.get("status", "incomplete")) if self.summary else "incomplete"

    @property
    def network_name(self) -> str:
        network = self.config.get("network")
        return str(network.get("name", "")) if isinstance(network, dict) else ""

    @property
    def dataset(self) -> str:
        data = self.config.get("data")
        return str(data.get("dataset", "")) if isinstance(data, dict) else ""

    @property
    def training_config(self) -> TrainingConfig:
        """The run's :class:`TrainingConfig` (RunError when ``config.json`` holds an invalid one)."""
        try:
            return TrainingConfig.from_dict(self.config["training"])
        except (KeyError, TypeError, ValueError) as exc:
            raise RunError(f"{self.path / CONFIG_FILE}: invalid training settings ({exc})") from None

    @property
    def test_samples(self) -> int | None:
        """The size of the run's test set as ``config.json`` records it; None when it does not."""
        data = self.config.get("data")
        count = data.get("test_samples") if isinstance(data, dict) else None
        return count if isinstance(count, int) and not isinstance(count, bool) and count >= 0 else None

    def error_analysis(self) -> ErrorAnalysis:
        """The tags and mislabelled marks kept in the run folder (:mod:`dllab.error_analysis`); an empty
        analysis when there are none yet.

        Raises
        ------
        dllab.error_analysis.ErrorAnalysisError
            When ``error_analysis.json`` is damaged, or the run does not record its test set's size.
        """
        count = self.test_samples
        if count is None:
            raise RunError(f"{self.path / CONFIG_FILE}: does not record the size of the test set")
        return read_error_analysis(self.path, count)

    def info(self) -> RunInfo:
        """The run as a :class:`RunInfo` line (RunError when its files hold values of the wrong kind)."""
        val = self.metrics.get("val_accuracy", np.zeros(0))
        finite = val[np.isfinite(val)]
        test = self.summary.get("test_accuracy") if self.summary else None
        if test is not None and (isinstance(test, bool) or not isinstance(test, int | float)):
            raise RunError(f"{self.path / SUMMARY_FILE}: damaged (the test accuracy is not a number)")
        return RunInfo(
            name=self.name,
            path=self.path,
            started=str(self.config.get("started", "")),
            network=self.network_name,
            dataset=self.dataset,
            status=self.status,
            epochs=len(self.metrics.get("epoch", ())),
            best_val_accuracy=float(finite.max()) if finite.size else None,
            test_accuracy=None if test is None else float(test),
        )


def _read_text(path: Path) -> str:
    """A run file's text: a regular file of at most :data:`RUN_FILE_LIMIT` bytes, UTF-8 (else RunError)."""
    with reading(lambda problem: RunError(f"{path}: {problem}")), open_regular(path) as file:
        raw = read_at_most(file, RUN_FILE_LIMIT)
    if len(raw) > RUN_FILE_LIMIT:
        raise RunError(f"{path}: damaged (larger than the {RUN_FILE_LIMIT:,} bytes a run file may have)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RunError(f"{path}: damaged (not UTF-8 text)") from None


def _read_if_present(path: Path, required: bool, missing: str = "missing") -> str | None:
    """A run file's text (:func:`_read_text`); None when an optional file is absent, ``RunError`` saying
    ``missing`` when a required one is."""
    if path.exists():
        return _read_text(path)
    if required:
        raise RunError(f"{path}: {missing}")
    return None


def _read_json(path: Path, required: bool) -> dict[str, Any] | None:
    text = _read_if_present(path, required, f"missing (is {path.parent} a run folder?)")
    if text is None:
        return None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RunError(f"{path}: damaged (invalid JSON: {exc.msg} at line {exc.lineno})") from None
    except RecursionError:
        raise RunError(f"{path}: damaged (JSON nested too deeply)") from None
    if not isinstance(document, dict):
        raise RunError(f"{path}: damaged (a JSON {type(document).__name__}, not an object)")
    return document


def _read_csv(path: Path, columns: tuple[str, ...], required: bool) -> dict[str, np.ndarray] | None:
    text = _read_if_present(path, required)
    if text is None:
        return None
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise RunError(f"{path}: damaged ({exc})") from None
    if not rows:
        return {column: np.zeros(0) for column in columns}
    header = rows[0]
    missing = [c for c in columns if c not in header]
    if missing:
        raise RunError(f"{path}: damaged (the header lacks the column {missing[0]!r})")
    try:  # numpy converts the text of every row at once (a long run's steps.csv 10x faster than row by row)
        values = np.array(rows[1:], dtype=np.float64).reshape(len(rows) - 1, len(header))
    except ValueError:  # a row of the wrong length or a value that is not a number: find the first
        values = np.empty((len(rows) - 1, len(header)))
        for line, row in enumerate(rows[1:], start=2):
            if len(row) != len(header):
                raise RunError(
                    f"{path}: damaged (line {line} has {len(row)} values, expected {len(header)})"
                ) from None
            try:
                values[line - 2] = [float(v) for v in row]
            except ValueError:
                raise RunError(f"{path}: damaged (line {line} holds a value that is not a number)") from None
    result = {name: values[:, i] for i, name in enumerate(header)}
    for name in ("epoch", "step"):
        if name in result:
            result[name] = result[name].astype(np.int64)
    return result


def open_run(path: str | os.PathLike[str], *, steps: bool = True) -> Run:
    """Read a run folder: config, per-epoch metrics, per-step losses, summary and model paths.

    Parameters
    ----------
    path
        The run folder.
    steps
        Whether to read ``steps.csv``, the longest file of a run (a list of runs needs only the rest: without
        it, :attr:`Run.steps` is None).

    Returns
    -------
    Run

    Raises
    ------
    RunError
        When the folder does not exist, or ``config.json``, ``metrics.csv``, ``steps.csv`` or
        ``summary.json`` is missing (where required) or damaged; the message names the file.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise RunError(f"{folder}: no such run folder")
    config = _read_json(folder / CONFIG_FILE, required=True)
    assert config is not None
    required = tuple(c for c in METRIC_COLUMNS if c not in LATER_METRIC_COLUMNS)
    metrics = _read_csv(folder / METRICS_FILE, required, required=False)
    if metrics is None:
        metrics = {column: np.zeros(0) for column in METRIC_COLUMNS}
    rows = len(metrics["epoch"])
    for column in LATER_METRIC_COLUMNS:
        metrics.setdefault(column, np.full(rows, np.nan))
    summary = _read_json(folder / SUMMARY_FILE, required=False)
    final, best = folder / MODEL_FINAL, folder / MODEL_BEST
    return Run(
        path=folder,
        config=config,
        metrics=metrics,
        steps=_read_csv(folder / STEPS_FILE, STEP_COLUMNS, required=False) if steps else None,
        summary=summary,
        model_final=final if final.is_file() else None,
        model_best=best if best.is_file() else None,
    )


def list_runs(root: str | os.PathLike[str] | None = None) -> list[RunInfo]:
    """The runs under ``root``, oldest first; a damaged run is listed with status ``"damaged"``.

    Parameters
    ----------
    root
        The folder of run folders; :func:`runs_root` by default. A missing folder has no runs.

    Returns
    -------
    list of RunInfo
        One per sub-folder holding a ``config.json``, sorted by folder name (start time). A damaged
        ``steps.csv`` is found when the run is opened (the list does not read it).
    """
    base = Path(root) if root is not None else runs_root()
    if not base.is_dir():
        return []
    return [run_info(p) for p in sorted(base.iterdir()) if p.is_dir() and (p / CONFIG_FILE).exists()]


def run_info(folder: str | os.PathLike[str]) -> RunInfo:
    """The line of one run in :func:`list_runs` (status ``"damaged"``, with the reason, when it cannot be read;
    its ``steps.csv`` is not read)."""
    folder = Path(folder)
    try:
        return open_run(folder, steps=False).info()
    except DllabError as exc:
        return RunInfo(name=folder.name, path=folder, status="damaged", error=str(exc))
