"""The history of training runs: names and tags a user gives runs, filters, the trash, and a run's curves.

A run folder (:mod:`dllab.runs`) is the run's record and is never rewritten. What a user adds later lives
beside it, in ``labels.json`` (format ``"dllab.run-labels/1"``): a title shown instead of the folder's name and
a few tags. The folder itself is never renamed, so model files, comparisons and a run still training keep
finding it.

Deleting a run moves its folder into the trash, ``.trash`` inside the runs root, from where
:func:`restore_run` moves it back: nothing is destroyed, and the app's undo is a restore. A run whose process
still holds its folder (:func:`dllab.runs.claim_folder`) and has not ended is refused.

>>> entries = run_history(root)                                               # doctest: +SKIP
>>> mnist = filter_runs(entries, RunFilter(dataset="mnist", metric="test_accuracy", minimum=0.98))  # doctest: +SKIP
>>> rename_run(entries[0].path, "Adam, lr 0.001")                             # doctest: +SKIP
>>> trashed = trash_run(entries[0].path, root)                                 # doctest: +SKIP
>>> restore_run(trashed, root)                                                 # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import os
import platform
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from dllab.errors import quote, reading
from dllab.experiments.comparison_results import VariantResult
from dllab.files import atomic_write, open_regular, process_alive, read_at_most
from dllab.runs import CLAIM_FILE, SUMMARY_FILE, Run, RunError, RunInfo, list_runs, run_info, runs_root
from dllab.text import format_duration
from dllab.trainer import EpochEnded

#: The file in a run folder holding the user's title and tags.
LABELS_FILE = "labels.json"
LABELS_FORMAT = "dllab.run-labels/1"
#: The largest ``labels.json`` that is read, in bytes.
LABELS_FILE_LIMIT = 2**16
#: The folder inside the runs root that deleted runs are moved to.
TRASH_FOLDER = ".trash"
#: The longest title and tag, and the most tags a run has.
TITLE_LIMIT = 120
TAG_LIMIT = 40
TAGS_LIMIT = 20
#: The metrics a run can be filtered by, with their names for people.
FILTER_METRICS = {"best_val_accuracy": "best validation accuracy", "test_accuracy": "test accuracy"}


# --- labels ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunLabels:
    """What a user called a run: a title (empty: the folder's name is shown) and tags."""

    title: str = ""
    tags: tuple[str, ...] = ()


def clean_title(text: str) -> str:
    """``text`` as a run's title: one line, spaces trimmed (RunError when longer than :data:`TITLE_LIMIT`)."""
    title = " ".join(str(text).split())
    if len(title) > TITLE_LIMIT:
        raise RunError(
            f"the name {quote(title)} is longer than {TITLE_LIMIT} characters; choose a shorter one"
        )
    return title


def parse_tags(text: str | Iterable[str]) -> tuple[str, ...]:
    """Tags from a comma-separated text (or a list): trimmed, empty ones dropped, each once, in order.

    Raises
    ------
    RunError
        When a tag is longer than :data:`TAG_LIMIT` characters or there are more than :data:`TAGS_LIMIT`.
    """
    parts = str(text).split(",") if isinstance(text, str) else list(text)
    tags: list[str] = []
    for part in parts:
        tag = " ".join(str(part).split())
        if len(tag) > TAG_LIMIT:
            raise RunError(f"the tag {quote(tag)} is longer than {TAG_LIMIT} characters; shorten it")
        if tag and tag.casefold() not in (t.casefold() for t in tags):
            tags.append(tag)
    if len(tags) > TAGS_LIMIT:
        raise RunError(f"a run has at most {TAGS_LIMIT} tags, not {len(tags)}; remove some")
    return tuple(tags)


def read_labels(folder: str | os.PathLike[str]) -> RunLabels:
    """The title and tags kept in ``folder`` (empty labels when it has none).

    Raises
    ------
    RunError
        When ``labels.json`` is damaged: not a JSON object of this format, or a title or tags of the wrong kind.
    """
    path = Path(folder) / LABELS_FILE
    if not path.exists():
        return RunLabels()
    with reading(lambda problem: RunError(f"{path}: {problem}")), open_regular(path) as file:
        raw = read_at_most(file, LABELS_FILE_LIMIT)
    if len(raw) > LABELS_FILE_LIMIT:
        raise RunError(f"{path}: damaged (larger than the {LABELS_FILE_LIMIT:,} bytes it may have)")
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise RunError(f"{path}: damaged (not a JSON document)") from None
    if not isinstance(document, dict) or document.get("format") != LABELS_FORMAT:
        raise RunError(f"{path}: damaged (not a {LABELS_FORMAT} document)")
    title, tags = document.get("title", ""), document.get("tags", [])
    if not isinstance(title, str) or not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise RunError(f"{path}: damaged (the title must be text and the tags a list of texts)")
    return RunLabels(clean_title(title), parse_tags(tags))


def write_labels(folder: str | os.PathLike[str], labels: RunLabels) -> RunLabels:
    """Keep ``labels`` in ``folder`` (replacing ``labels.json`` atomically); returns the labels written.

    Raises
    ------
    RunError
        When ``folder`` is not a run folder, a label is too long, or the file cannot be written.
    """
    folder = Path(folder)
    if not (folder / "config.json").is_file():
        raise RunError(f"{folder}: not a run folder (it has no config.json)")
    labels = RunLabels(clean_title(labels.title), parse_tags(labels.tags))
    document = {"format": LABELS_FORMAT, "title": labels.title, "tags": list(labels.tags)}
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    try:
        atomic_write(folder / LABELS_FILE, lambda file: file.write(text.encode("utf-8")))
    except OSError as exc:
        raise RunError(f"{folder / LABELS_FILE}: cannot be written ({exc.strerror or exc})") from None
    return labels


def rename_run(folder: str | os.PathLike[str], title: str) -> RunLabels:
    """Give the run in ``folder`` the title ``title`` (empty: its folder's name again), keeping its tags;
    returns the labels it had before (to undo)."""
    before = read_labels(folder)
    write_labels(folder, replace(before, title=clean_title(title)))
    return before


def tag_run(folder: str | os.PathLike[str], tags: str | Iterable[str]) -> RunLabels:
    """Set the tags of the run in ``folder`` (a comma-separated text or a list); returns the labels it had
    before (to undo)."""
    before = read_labels(folder)
    write_labels(folder, replace(before, tags=parse_tags(tags)))
    return before


# --- listing and filtering --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunEntry:
    """A run in the history: its :class:`~dllab.runs.RunInfo` line and the user's labels."""

    info: RunInfo
    labels: RunLabels = RunLabels()

    @property
    def path(self) -> Path:
        return self.info.path

    @property
    def title(self) -> str:
        """The user's title, else the folder's name."""
        return self.labels.title or self.info.name

    def metric(self, name: str) -> float | None:
        """The value of one of :data:`FILTER_METRICS` (None when the run has none)."""
        if name not in FILTER_METRICS:
            raise ValueError(f"unknown metric {name!r}; expected one of {', '.join(FILTER_METRICS)}")
        value = getattr(self.info, name)
        return None if value is None or not math.isfinite(value) else float(value)


def run_history(root: str | os.PathLike[str] | None = None) -> list[RunEntry]:
    """The runs under ``root`` (:func:`dllab.runs.runs_root` by default) with their labels, newest first.

    A run whose ``labels.json`` is damaged is listed with empty labels and the reason in ``info.error``;
    runs in the trash are not listed.
    """
    return [run_entry(info) for info in reversed(list_runs(root))]


def run_entry(run: RunInfo | str | os.PathLike[str]) -> RunEntry:
    """A run's entry in :func:`run_history`: ``run`` is its line (:func:`dllab.runs.run_info`) or its folder."""
    info = run if isinstance(run, RunInfo) else run_info(run)
    try:
        return RunEntry(info, read_labels(info.path))
    except RunError as exc:
        return RunEntry(replace(info, error=str(exc)))


def data_name(dataset: str) -> str:
    """A data set as people call it: a built-in's name, or the last part of a local file's path."""
    return Path(dataset).name if ("/" in dataset or "\\" in dataset) else dataset


@dataclass(frozen=True)
class RunFilter:
    """Which runs to show; an empty field matches every run.

    Attributes
    ----------
    text : str
        Words that must each appear (ignoring case) in the run's title, folder name or tags.
    network : str
        The network's name, exactly.
    dataset : str
        The data set (:func:`data_name`), exactly.
    metric : str
        One of :data:`FILTER_METRICS`; runs without it do not match.
    minimum : float
        The least value of ``metric`` (0 to 1).
    """

    text: str = ""
    network: str = ""
    dataset: str = ""
    metric: str = ""
    minimum: float = 0.0

    def matches(self, entry: RunEntry) -> bool:
        """Whether ``entry`` passes every part of the filter."""
        info = entry.info
        if self.network and info.network != self.network:
            return False
        if self.dataset and data_name(info.dataset) != self.dataset:
            return False
        if self.metric:
            value = entry.metric(self.metric)
            if value is None or value < self.minimum:
                return False
        if self.text:
            haystack = " ".join([entry.title, info.name, *entry.labels.tags]).casefold()
            return all(word in haystack for word in self.text.casefold().split())
        return True


def filter_runs(entries: Iterable[RunEntry], run_filter: RunFilter) -> list[RunEntry]:
    """The entries that ``run_filter`` matches, in their order."""
    return [entry for entry in entries if run_filter.matches(entry)]


def networks_and_data(entries: Iterable[RunEntry]) -> tuple[list[str], list[str]]:
    """The networks and the data sets that the runs used, each sorted, to choose a filter from."""
    entries = list(entries)
    networks = sorted({e.info.network for e in entries if e.info.network})
    data = sorted({data_name(e.info.dataset) for e in entries if e.info.dataset})
    return networks, data


# --- the trash -------------------------------------------------------------------------------------------


def trash_folder(root: str | os.PathLike[str] | None = None) -> Path:
    """The trash of the runs root ``root`` (:func:`dllab.runs.runs_root` by default); not created."""
    return (Path(root) if root is not None else runs_root()) / TRASH_FOLDER


def is_running(folder: str | os.PathLike[str]) -> bool:
    """Whether a process on this computer still holds the run in ``folder`` and the run has not ended (no
    ``summary.json``): a running run is never moved."""
    folder = Path(folder)
    if (folder / SUMMARY_FILE).exists():
        return False
    try:
        claim = json.loads((folder / CLAIM_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(claim, dict) or claim.get("host") != platform.node():
        return False
    pid = claim.get("pid")
    return isinstance(pid, int) and not isinstance(pid, bool) and pid > 0 and process_alive(pid)


def _free_place(folder: Path, name: str) -> Path:
    for k in range(1, 10000):
        place = folder / (name if k == 1 else f"{name}-{k}")
        if not place.exists():
            return place
    raise RunError(f"{folder}: holds too many folders named {quote(name)}")  # pragma: no cover


def _move(source: Path, target: Path, what: str) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():  # os.rename would replace an empty folder on POSIX
            raise FileExistsError
        os.rename(source, target)
    except FileExistsError:
        raise RunError(f"cannot {what}: {target} exists already; move it away first") from None
    except OSError as exc:
        raise RunError(f"cannot {what} {source} ({exc.strerror or exc})") from None


def trash_run(folder: str | os.PathLike[str], root: str | os.PathLike[str] | None = None) -> Path:
    """Move the run in ``folder`` into the trash of ``root``; returns where it is now (for :func:`restore_run`).

    Raises
    ------
    RunError
        When ``folder`` is not a run folder directly inside ``root``, is still training, or cannot be moved.
    """
    folder = Path(folder)
    base = Path(root) if root is not None else runs_root()
    if not (folder / "config.json").is_file():
        raise RunError(f"{folder}: not a run folder (it has no config.json)")
    if folder.resolve().parent != base.resolve():
        raise RunError(f"{folder}: is not a run of {base}; only runs of the runs folder go to its trash")
    if is_running(folder):
        raise RunError(f"{folder}: is still training; stop the run before deleting it")
    target = _free_place(trash_folder(base), folder.name)
    _move(folder, target, "move the run to the trash:")
    return target


def restore_run(
    trashed: str | os.PathLike[str], root: str | os.PathLike[str] | None = None, name: str | None = None
) -> Path:
    """Move a run back from the trash of ``root`` into ``root``; returns its folder.

    Parameters
    ----------
    trashed
        Where :func:`trash_run` put it.
    root
        The runs root (:func:`dllab.runs.runs_root` by default).
    name
        The folder name to give it back (its name in the trash by default).

    Raises
    ------
    RunError
        When ``trashed`` is not in the trash, or a folder of that name exists again in ``root``.
    """
    trashed = Path(trashed)
    base = Path(root) if root is not None else runs_root()
    if not trashed.is_dir() or trashed.resolve().parent != trash_folder(base).resolve():
        raise RunError(f"{trashed}: is not a run in the trash of {base}")
    target = base / (name or trashed.name)
    _move(trashed, target, "restore the run:")
    return target


def trashed_runs(root: str | os.PathLike[str] | None = None) -> list[Path]:
    """The run folders in the trash of ``root``, by name."""
    trash = trash_folder(root)
    return sorted(p for p in trash.iterdir() if p.is_dir()) if trash.is_dir() else []


# --- a run's curves --------------------------------------------------------------------------------------


def step_seconds(
    steps: Sequence[float], epoch_steps: Sequence[float], epoch_elapsed: Sequence[float]
) -> np.ndarray:
    """The time since the start of a run at each of ``steps``, interpolated between the ends of its epochs
    (mini-batch ``epoch_steps[i]`` ended ``epoch_elapsed[i]`` seconds in; step 0 at 0 s).

    Steps after the last epoch's end are extrapolated at the last epoch's pace; without epochs, NaN.
    """
    steps = np.asarray(steps, dtype=np.float64)
    known_steps = np.concatenate([[0.0], np.asarray(epoch_steps, dtype=np.float64)])
    known_times = np.concatenate([[0.0], np.asarray(epoch_elapsed, dtype=np.float64)])
    keep = np.isfinite(known_times)
    known_steps, known_times = known_steps[keep], known_times[keep]
    if len(known_steps) < 2 or known_steps[-1] <= 0:
        return np.full(steps.shape, np.nan)
    seconds = np.interp(steps, known_steps, known_times)
    later = steps > known_steps[-1]
    pace = (known_times[-1] - known_times[-2]) / max(known_steps[-1] - known_steps[-2], 1.0)
    seconds[later] = known_times[-1] + (steps[later] - known_steps[-1]) * pace
    return seconds


def run_result(run: Run, index: int = 0, label: str | None = None) -> VariantResult:
    """A recorded run as a comparison's :class:`~dllab.experiments.comparison_results.VariantResult`, so the
    plots of comparisons draw past runs too: its losses per mini-batch (from ``steps.csv``), its epochs (from
    ``metrics.csv``), how it ended and its test results.

    Raises
    ------
    RunError
        When the summary holds values of the wrong kind.
    """
    label = label if label is not None else run.name
    result = VariantResult(index, label, {"run": run.name}, folder=run.path)
    metrics = run.metrics
    count = len(metrics["epoch"])
    nan = math.nan
    for i in range(count):

        def value(column: str, i: int = i) -> float:
            column_values = metrics.get(column)
            return float(column_values[i]) if column_values is not None and i < len(column_values) else nan

        result.epochs.append(EpochEnded.recorded(int(metrics["epoch"][i]), int(metrics["step"][i]), value))
    if count and metrics["epoch"][0] > 0:
        result.batches_per_epoch = max(1, int(metrics["step"][0]) // int(metrics["epoch"][0]))
    if run.steps is not None:
        result.steps = [int(s) for s in run.steps["step"]]
        result.losses = [float(v) for v in run.steps["loss"]]
        result.lrs = [float(v) for v in run.steps["lr"]]
    summary = run.summary or {}
    result.status = run.status
    reason = summary.get("reason", "")
    result.reason = reason if isinstance(reason, str) else ""
    for key in ("test_loss", "test_accuracy"):
        value = summary.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise RunError(
                f"{run.path / SUMMARY_FILE}: damaged (the {key.replace('_', ' ')} is not a number)"
            )
        setattr(result, key, float(value))
    return result


def run_label(run: Run, labels: RunLabels) -> str:
    """What a run is called in a legend: the user's title, else its network, optimizer, learning rate and
    start time (``"SpiralMLP · adam, lr 0.01 · 14:25:01"``), which tell runs apart where folder names do not."""
    if labels.title:
        return labels.title
    training = run.config.get("training") if isinstance(run.config.get("training"), dict) else {}
    parts = [run.network_name or run.name]
    optimizer, lr = training.get("optimizer"), training.get("lr")
    if isinstance(optimizer, str) and optimizer:
        parts.append(f"{optimizer}, lr {_setting_text(lr)}" if isinstance(lr, int | float) else optimizer)
    started = str(run.config.get("started", ""))
    if "T" in started:
        parts.append(started.split("T", 1)[1][:8])
    return " · ".join(parts)


def result_seconds(result: VariantResult) -> tuple[np.ndarray, np.ndarray]:
    """The seconds into the run of each mini-batch and of each epoch's end of ``result``."""
    epoch_steps = [e.step for e in result.epochs]
    epoch_seconds = np.array([e.elapsed for e in result.epochs], dtype=np.float64)
    return step_seconds(result.steps, epoch_steps, epoch_seconds), epoch_seconds


def describe_run(run: Run) -> list[tuple[str, str]]:
    """A run's settings as (what, value) lines for people: network, data, training, how it ended."""
    config = run.config
    lines: list[tuple[str, str]] = []
    network = config.get("network") if isinstance(config.get("network"), dict) else {}
    layers = network.get("layers") if isinstance(network.get("layers"), list) else []
    kinds = [str(layer.get("type", "?")) for layer in layers if isinstance(layer, dict)]
    lines.append(("Network", f"{run.network_name or '?'}: {' → '.join(kinds) or 'no layers'}"))
    data = config.get("data") if isinstance(config.get("data"), dict) else {}
    counts = [
        f"{data[key]:,} {word}"
        for key, word in (
            ("train_samples", "training"),
            ("val_samples", "validation"),
            ("test_samples", "test"),
        )
        if isinstance(data.get(key), int) and not isinstance(data.get(key), bool)
    ]
    lines.append(("Data", data_name(run.dataset) + (f" ({', '.join(counts)})" if counts else "")))
    training = config.get("training") if isinstance(config.get("training"), dict) else {}
    for key, title in (
        ("optimizer", "Optimizer"),
        ("lr", "Learning rate"),
        ("schedule", "Schedule"),
        ("batch_size", "Batch size"),
        ("epochs", "Epochs"),
        ("steps", "Steps"),
        ("weight_decay", "Weight decay"),
        ("clip_norm", "Gradient clipping"),
    ):
        value = training.get(key)
        if value not in (None, "", 0, 0.0) or key in ("optimizer", "lr", "batch_size"):
            lines.append((title, _setting_text(value)))
    if config.get("seed") is not None:
        lines.append(("Seed", str(config.get("seed"))))
    lines.append(("Started", str(config.get("started", "?"))))
    summary = run.summary or {}
    ended = run.status
    if summary.get("reason"):
        ended += f" ({summary['reason']})"
    lines.append(("Ended", ended))
    elapsed = summary.get("elapsed")
    if isinstance(elapsed, int | float) and not isinstance(elapsed, bool) and math.isfinite(elapsed):
        lines.append(("Time", format_duration(elapsed, unit=" s", tenths_below=10)))
    return lines


def _setting_text(value: object) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {_setting_text(v)}" for k, v in value.items()) or "—"
    if isinstance(value, float):
        return f"{value:g}"
    return "—" if value is None else str(value)
