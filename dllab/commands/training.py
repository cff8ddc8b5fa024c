"""``dllab train`` and ``dllab runs``, and the training options every training command shares.

The training commands (train, compare, search) take the same data and training flags;
:func:`data_settings_from` and :func:`training_config_from` turn them into a :class:`~dllab.runs.DataSettings`
and a :class:`~dllab.trainer.TrainingConfig`.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import TextIO

from dllab.commands import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK
from dllab.data import PreparedData
from dllab.errors import SettingsError
from dllab.model import build
from dllab.option_strings import parse_augment, parse_named_options
from dllab.runs import (
    DataSettings,
    RunRecorder,
    check_folder_free,
    claim_folder,
    list_runs,
    new_run_folder,
    runs_root,
)
from dllab.terminal import (
    ProgressBar,
    download_progress,
    format_duration,
    format_metric,
    print_table,
    stop_on_interrupt,
)
from dllab.trainer import Diverged, Event, Finished, Stopped, Trainer, TrainingConfig
from dllab.variants import BOOK_LEARNING_RATES


def data_settings_from(args: argparse.Namespace) -> DataSettings:
    """How to load and prepare the data: ``--data``, ``--val-split``, ``--subset``, ``--normalization``."""
    return DataSettings(
        dataset=args.data,
        val_fraction=args.val_split,
        subset=args.subset,
        normalization=args.normalization,
    )


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
    )


def prepare_data(
    settings: DataSettings, config: TrainingConfig, input_shape: tuple[int, ...], seed: int, stream: TextIO
) -> PreparedData:
    """Load (downloading with progress lines on ``stream``) and prepare the data for a network.

    Raises
    ------
    ValueError
        When ``config`` augments and the data holds no images.
    """
    prepared = settings.prepare(input_shape, seed=seed, progress=download_progress(stream))
    if config.augment is not None and prepared.image_shape is None:
        raise SettingsError(
            f"augmentation works on images, and the data set {prepared.name!r} holds none; use --augment none"
        )
    return prepared


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
    model = build(args.network, seed=args.seed)
    settings = data_settings_from(args)
    config = training_config_from(args)
    prepared = prepare_data(settings, config, model.input_shape, args.seed, err)
    trainer = Trainer(model, prepared, config)
    folder = new_output_folder(args.out, model.name)
    recorder = RunRecorder(
        folder,
        model,
        data=prepared,
        config=config,
        data_settings=settings,
        seed=args.seed,
        record_steps=not args.no_steps,
    )
    err.write(
        f"training {model.name} ({model.param_count:,} parameters) on {prepared.name}: {len(prepared.x_train):,} "
        f"training, {len(prepared.x_val):,} validation, {len(prepared.x_test):,} test samples; "
        f"{config.optimizer} lr {config.lr:g}, batch {config.batch_size}\n"
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
            f"after {last.epochs} epochs, "
            f"{last.step} steps, {format_duration(last.elapsed)} ({last.reason})",
            file=out,
        )
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


def runs_command(args: argparse.Namespace) -> int:
    """``dllab runs``: list the recorded runs as a table."""
    root = Path(args.root).expanduser() if args.root else runs_root()
    infos = list_runs(root)
    if not infos:
        print(f"no runs in {root}")
        return EXIT_OK
    rows = [("run", "network", "data", "status", "epochs", "best val acc", "test acc")]
    for r in infos:
        data = Path(r.dataset).name if ("/" in r.dataset or "\\" in r.dataset) else r.dataset
        rows.append(
            (
                r.name,
                r.network,
                data,
                r.status,
                str(r.epochs),
                format_metric(r.best_val_accuracy if r.best_val_accuracy is not None else math.nan),
                format_metric(r.test_accuracy if r.test_accuracy is not None else math.nan),
            )
        )
    print_table(rows, 4, sys.stdout)
    print(f"{len(infos)} runs in {root}")
    for r in infos:
        if r.error:
            print(f"damaged: {r.error}", file=sys.stderr)
    return EXIT_OK
