"""``dllab train`` and ``dllab runs``, and the training options every training command shares.

The training commands (train, compare, search) take the same data and training flags;
:func:`data_settings_from` and :func:`training_config_from` turn them into a
:class:`~dllab.experiment.DataSettings` and a :class:`~dllab.trainer.TrainingConfig`, and
:func:`experiment_from_args` into one :class:`~dllab.experiment.Experiment`, starting from ``--config`` (an
experiment, a design or a run folder's ``config.json``) when given. :func:`prepare_data` is the one data
preparation: load, fit the network to the data (:mod:`dllab.fit`, saying what changed in one line) and prepare.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from dllab.cli.status import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK
from dllab.cli.terminal import (
    ProgressBar,
    download_progress,
    format_duration,
    format_metric,
    print_table,
    stop_on_interrupt,
)
from dllab.data import PreparedData
from dllab.errors import DllabError, SettingsError
from dllab.experiment import DataSettings, Experiment, read_experiment, read_network_document
from dllab.experiments.variants import BOOK_LEARNING_RATES
from dllab.io import read_model_info
from dllab.option_strings import parse_augment, parse_named_options
from dllab.run_history import (
    RunFilter,
    data_name,
    filter_runs,
    read_labels,
    rename_run,
    restore_run,
    run_history,
    tag_run,
    trash_folder,
    trash_run,
)
from dllab.runs import (
    RunRecorder,
    check_folder_free,
    claim_folder,
    new_run_folder,
    runs_root,
)
from dllab.setting_changes import check_changes
from dllab.spec import analyze, read_json_file, read_spec
from dllab.text import counted
from dllab.trainer import Diverged, Event, Finished, Stopped, Trainer, TrainingConfig
from dllab.transfer import build_started, freeze_layers, parse_layer_names

#: The data and training flags (their argparse names) of ``dllab train``: what a ``--config`` gives unless
#: the flag is given too. Each is None when not given; :data:`argparse.Namespace` ``training_defaults`` holds
#: the defaults that apply without ``--config``.
TRAIN_FLAGS = (
    "data",
    "image_color",
    "image_size",
    "optimizer",
    "lr",
    "batch_size",
    "epochs",
    "max_steps",
    "weight_decay",
    "schedule",
    "augment",
    "early_stopping",
    "seed",
    "val_split",
    "subset",
    "normalization",
    "train_dev_split",
    "dev_shift",
    "shift_mix",
    "human_error",
)
#: The data flags and the :class:`~dllab.experiment.DataSettings` fields they set.
DATA_FLAGS = {
    "data": "dataset",
    "image_color": "image_color",
    "image_size": "image_size",
    "val_split": "val_fraction",
    "subset": "subset",
    "normalization": "normalization",
    "train_dev_split": "train_dev_fraction",
    "dev_shift": "dev_shift",
    "shift_mix": "shift_mix",
}


def read_network(path: str) -> dict[str, Any]:
    """The network in a network file, or in a design, an experiment or a run's ``config.json``."""
    return read_spec(read_network_document(path)[0])


def data_settings_from(args: argparse.Namespace) -> DataSettings:
    """How to load and prepare the data: ``--data`` (with ``--image-color`` and ``--image-size`` for an image
    folder), ``--val-split``, ``--subset``, ``--normalization``, ``--train-dev-split``, ``--dev-shift``,
    ``--shift-mix`` (and ``--augment``, a data setting of the experiment)."""
    return DataSettings(
        **{field: getattr(args, flag) for flag, field in DATA_FLAGS.items()},
        augment=parse_augment(args.augment),
    )


def human_error_share(percent: float) -> float:
    """``--human-error PERCENT`` as the share the training config holds (SettingsError out of [0, 100))."""
    if not 0 <= percent < 100:
        raise SettingsError(f"--human-error is a percentage of at least 0 and below 100, got {percent:g}")
    return percent / 100


def training_config_from(args: argparse.Namespace) -> TrainingConfig:
    """The training flags as a config; without ``--lr`` the optimizer's book learning rate."""
    optimizer, options = parse_named_options(args.optimizer, "optimizer")
    schedule, schedule_options = parse_named_options(args.schedule, "schedule")
    lr = args.lr if args.lr is not None else BOOK_LEARNING_RATES.get(optimizer, 0.01)
    return TrainingConfig(
        optimizer=optimizer,
        lr=lr,
        optimizer_options=options,
        weight_decay=args.weight_decay,
        schedule=schedule,
        schedule_options=schedule_options,
        batch_size=args.batch_size,
        epochs=args.epochs,
        seed=args.seed,
        augment=parse_augment(args.augment),
        early_stopping=args.early_stopping,
        max_steps=args.max_steps,
        human_error=human_error_share(args.human_error),
    )


def _given(args: argparse.Namespace) -> dict[str, Any]:
    return {name: getattr(args, name) for name in TRAIN_FLAGS if getattr(args, name, None) is not None}


def _overridden(base: Experiment, network: dict[str, Any], given: dict[str, Any]) -> Experiment:
    """``base`` with the network and the flags given on the command line in place of its own."""
    data = {DATA_FLAGS[k]: v for k, v in given.items() if k in DATA_FLAGS}
    training: dict[str, Any] = {}
    if "human_error" in given:
        training["human_error"] = human_error_share(given["human_error"])
    if "optimizer" in given:
        name, options = parse_named_options(given["optimizer"], "optimizer")
        training.update(optimizer=name, optimizer_options=options)
        if "lr" not in given:
            training["lr"] = BOOK_LEARNING_RATES.get(name, 0.01)
    if "schedule" in given:
        name, options = parse_named_options(given["schedule"], "schedule")
        training.update(schedule=name, schedule_options=options)
    for key in ("lr", "batch_size", "epochs", "max_steps", "weight_decay", "early_stopping"):
        if key in given:
            training[key] = given[key]
    if "augment" in given:
        data["augment"] = training["augment"] = parse_augment(given["augment"])
    seed = base.seed
    if "seed" in given:
        # --seed seeds the weights, the split and the batch order, as without --config.
        seed = training["seed"] = given["seed"]
        data["split_seed"] = None
    return Experiment(
        network,
        replace(base.data, **data),
        TrainingConfig.from_dict({**base.training.to_dict(), **training}),
        seed,
    )


def experiment_from_args(args: argparse.Namespace) -> Experiment:
    """The experiment a ``dllab train`` command line describes: ``--config`` (when given) with the network
    file and the flags given on the command line in its place; otherwise the network file and the flags.

    Raises
    ------
    SpecError, SettingsError
        For a file or a flag that cannot be used, in one sentence.
    """
    given = _given(args)
    network = read_network(args.network) if args.network is not None else None
    if args.config is not None:
        base = read_experiment(args.config)
        return _overridden(base, network if network is not None else base.network, given)
    if network is None:
        raise SettingsError("give a network file to train, or --config RUN/config.json to repeat a run")
    if "data" not in given:
        raise SettingsError(
            "say which data to train on with --data, e.g. --data mnist (or repeat a run with --config)"
        )
    for key, value in args.training_defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return Experiment(network, data_settings_from(args), training_config_from(args), args.seed)


def read_changes(path: str, optimizer: str) -> list[dict[str, Any]]:
    """The changes of optimizer settings in a ``--changes`` file, checked for ``optimizer``.

    Raises
    ------
    SettingsError
        One sentence naming the file: it cannot be read, or a change is not valid (see
        :func:`dllab.setting_changes.check_changes`).
    """
    try:
        return check_changes(read_json_file(path), optimizer)
    except DllabError as exc:
        message = str(exc)
        raise SettingsError(message if path in message else f"{path}: {message}") from None


def with_changes(experiment: Experiment, path: str | None) -> Experiment:
    """``experiment`` with the changes of the ``--changes`` file in place of its own (as it is without one)."""
    if path is None:
        return experiment
    changes = read_changes(path, experiment.training.optimizer)
    return replace(experiment, training=replace(experiment.training, changes=changes))


def with_transfer(experiment: Experiment, init_from: str | None, freeze: str | None) -> Experiment:
    """``experiment`` starting from the model file ``init_from`` (``--init-from``) with the layers named in
    ``freeze`` (``--freeze``, comma-separated) frozen; either may be None (as the experiment has it).

    The model file is checked here, before any data is loaded, and recorded by its absolute path so that
    ``--config RUN/config.json`` repeats the run from anywhere.

    Raises
    ------
    ModelFileError
        For an ``init_from`` that is no readable model file.
    SettingsError
        For a name in ``freeze`` that is no layer with weights.
    """
    if freeze is not None:
        names = parse_layer_names(freeze)
        if not names:
            raise SettingsError("--freeze needs layer names, e.g. --freeze conv2d_1,dense_1")
        experiment = replace(experiment, network=freeze_layers(experiment.network, names))
    if init_from is not None:
        path = str(Path(read_model_info(init_from)["path"]).resolve())
        experiment = replace(experiment, training=replace(experiment.training, init_from=path))
    return experiment


def check_network(network: dict[str, Any]) -> None:
    """Refuse early (before any data is loaded) a network whose problem no data can change: an unknown key,
    loss or format, no layers. A layer's problem waits for the data, which may change the input shape."""
    error = analyze(network).error
    if error is not None and error.index is None:
        raise error


def prepare_data(
    experiment: Experiment, stream: TextIO, dataset: Any = None
) -> tuple[Experiment, PreparedData]:
    """Load (downloading with progress lines on ``stream``), fit the network to the data and prepare the data:
    the one data preparation of the training commands. What the fit rule changed is said on ``stream`` in one
    line (``"input shape set to 1×28×28 from the data"``).

    Returns
    -------
    experiment : Experiment
        With the network fitted to the data.
    prepared : PreparedData

    Raises
    ------
    DatasetError, SpecError, SettingsError
        When the data cannot be loaded, the network cannot take it, or the experiment augments data that
        holds no images.
    """
    check_network(experiment.network)
    try:
        fitted, prepared, note = experiment.prepare(dataset, progress=download_progress(stream))
    except SettingsError as exc:
        if experiment.training.augment is not None and "augmentation works on images" in str(exc):
            raise SettingsError(f"{exc}; use --augment none") from None
        raise
    if note:
        stream.write(f"{note}\n")
    return fitted, prepared


def new_output_folder(out: str | None, network_name: str, kind: str = "") -> Path:
    """The ``--out`` folder, created and claimed for this run; without one a new folder under the runs
    folder (see :func:`dllab.runs.claim_folder`: an existing folder must be empty)."""
    if out is None:
        return new_run_folder(network_name, kind=kind)
    return claim_folder(out)


def check_out_free(out: str | None) -> None:
    """Refuse early an ``--out`` folder that a run could not claim (RunError): empty name, not empty."""
    if out is not None:
        check_folder_free(out)


def train_command(args: argparse.Namespace) -> int:
    """``dllab train``: train a network with a progress bar and record the run."""
    out, err = sys.stdout, sys.stderr
    check_out_free(args.out)
    experiment = with_changes(experiment_from_args(args), args.changes)
    experiment = with_transfer(experiment, args.init_from, args.freeze)
    experiment, prepared = prepare_data(experiment, err)
    config = experiment.training
    model, report = build_started(
        experiment.network, seed=experiment.seed, dtype=args.dtype, source=config.init_from
    )
    if report is not None:
        err.write(f"starting from {config.init_from}:\n")
        for line in report.lines():
            err.write(f"  {line}\n")
    trainer = Trainer(model, prepared, config.unwatched())
    folder = new_output_folder(args.out, model.name)
    recorder = RunRecorder(
        folder,
        model,
        data=prepared,
        config=config,
        data_settings=experiment.data,
        seed=experiment.seed,
        record_steps=not args.no_steps,
    )
    frozen_count = model.param_count - model.trainable_param_count
    frozen = f", {frozen_count:,} of them frozen" if frozen_count else ""
    err.write(
        f"training {model.name} ({model.param_count:,} parameters{frozen}) on {prepared.name}: {len(prepared.x_train):,} "
        f"training, {_train_dev_part(prepared)}{len(prepared.x_val):,} validation, {len(prepared.x_test):,} "
        f"test samples{_shift_part(prepared)}; "
        f"{config.optimizer} lr {config.lr:g}, batch {config.batch_size}, {model.dtype.name}\n"
    )
    progress = ProgressBar(err)
    last: Event | None = None
    with stop_on_interrupt(trainer.stop, err):
        for event in trainer.run():
            recorder.handle(event)
            progress.handle(event)
            last = event
    progress.close()
    if isinstance(last, Finished):
        print(
            f"test accuracy {format_metric(last.test_accuracy)} (test loss {format_metric(last.test_loss)}) "
            f"after {counted(last.epochs, 'epoch')}, "
            f"{counted(last.step, 'step')}, {format_duration(last.elapsed)} ({last.reason})",
            file=out,
        )
        if last.fit is not None:
            print("\n".join(last.fit.lines()), file=out)
        print(f"run folder: {folder.resolve()}", file=out)
        return EXIT_OK
    if isinstance(last, Stopped):
        print(
            f"stopped at step {last.step} (epoch {last.epoch}); the run folder keeps what was done", file=out
        )
        print(f"run folder: {folder.resolve()}", file=out)
        return EXIT_INTERRUPTED
    if isinstance(last, Diverged):
        err.write(f"dllab: training diverged: {last.message}\n")
        print(f"run folder: {folder.resolve()}", file=out)
        return EXIT_FAILED
    raise RuntimeError("the trainer ended without a final event")  # pragma: no cover


def _train_dev_part(prepared: PreparedData) -> str:
    return f"{len(prepared.x_train_dev):,} train-dev, " if len(prepared.x_train_dev) else ""


def _shift_part(prepared: PreparedData) -> str:
    return f" (validation and test shifted: {prepared.dev_shift})" if prepared.dev_shift != "none" else ""


def runs_command(args: argparse.Namespace) -> int:
    """``dllab runs``: list the recorded runs as a table (those the filters keep), or rename, tag, delete or
    restore one."""
    root = Path(args.root).expanduser() if args.root else runs_root()
    if args.rename or args.tags or args.delete or args.restore:
        return _edit_run(args, root)
    entries = list(reversed(run_history(root)))
    shown = filter_runs(
        entries,
        RunFilter(
            text=args.find or "",
            network=args.network or "",
            dataset=args.data or "",
            metric="test_accuracy" if args.min_test_accuracy is not None else "",
            minimum=args.min_test_accuracy or 0.0,
        ),
    )
    if not entries:
        print(f"no runs in {root}")
        return EXIT_OK
    rows = [("run", "network", "data", "status", "name", "tags", "epochs", "best val acc", "test acc")]
    for entry in shown:
        r = entry.info
        rows.append(
            (
                r.name,
                r.network,
                data_name(r.dataset),
                r.status,
                entry.labels.title,
                ", ".join(entry.labels.tags),
                str(r.epochs),
                format_metric(r.best_val_accuracy if r.best_val_accuracy is not None else math.nan),
                format_metric(r.test_accuracy if r.test_accuracy is not None else math.nan),
            )
        )
    print_table(rows, 6, sys.stdout)
    kept = f"{len(shown)} of {len(entries)}" if len(shown) != len(entries) else f"{len(entries)}"
    print(f"{kept} runs in {root}")
    for entry in shown:
        if entry.info.error:
            print(f"damaged: {entry.info.error}", file=sys.stderr)
    return EXIT_OK


def _edit_run(args: argparse.Namespace, root: Path) -> int:
    """The edit ``dllab runs`` was asked for; RunError (a sentence) when it cannot be made."""
    if args.restore:
        folder = restore_run(trash_folder(root) / Path(args.restore).name, root)
        print(f"restored {folder}")
        return EXIT_OK
    name = (args.rename or args.tags or [args.delete])[0]
    folder = root / Path(name).name
    if args.rename:
        rename_run(folder, args.rename[1])
        print(f"{folder.name}: named {read_labels(folder).title or 'by its folder'}")
    elif args.tags:
        tag_run(folder, args.tags[1])
        print(f"{folder.name}: tags {', '.join(read_labels(folder).tags) or 'none'}")
    else:
        trashed = trash_run(folder, root)
        print(f"moved {folder.name} to {trashed.parent} (dllab runs --restore {folder.name} brings it back)")
    return EXIT_OK
