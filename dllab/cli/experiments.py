"""``dllab compare``, ``dllab search`` and ``dllab transfer``: several trainings of one network, compared.

``dllab compare`` varies one or two settings (:mod:`dllab.experiments.compare`) or runs one of the book's comparisons
(:mod:`dllab.experiments.presets`); ``dllab search`` draws learning rates and weight decays at random
(:mod:`dllab.experiments.search`); ``dllab transfer`` learns new classes from few samples from scratch and from a
pretrained network (:mod:`dllab.experiments.transfer`).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import textwrap
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

import numpy as np

from dllab.cli.status import EXIT_INTERRUPTED, EXIT_OK
from dllab.cli.terminal import ProgressBar, download_progress, format_metric, print_table, stop_on_interrupt
from dllab.cli.training import (
    check_out_free,
    data_settings_from,
    new_output_folder,
    prepare_data,
    read_network,
    training_config_from,
)
from dllab.data import PreparedData, load_dataset
from dllab.errors import SettingsError
from dllab.experiment import Experiment
from dllab.experiments.compare import Comparison, TestEvaluated
from dllab.experiments.presets import BOOK_SEARCH, PRESETS, comparison_from_preset, get_preset
from dllab.experiments.search import SEARCHABLE, RandomSearch, best_epoch, describe_params, parse_range
from dllab.experiments.transfer import QUICK, TransferSettings, transfer_experiment
from dllab.experiments.variants import FACTORS
from dllab.model import Sequential, build
from dllab.text import counted
from dllab.trainer import Diverged, Finished, RunStarted, Stopped

#: The ``dllab compare`` flag of each factor.
FACTOR_FLAGS: dict[str, str] = {
    "optimizer": "--optimizers",
    "init": "--inits",
    "batchnorm": "--batchnorm",
    "dropout": "--dropouts",
    "dropout_scaling": "--dropout-scalings",
    "weight_decay": "--weight-decays",
    "batch_size": "--batch-sizes",
    "lr": "--lrs",
}
#: The ``dllab compare`` options a preset decides, with their flags (a preset takes none of them).
PRESET_FIXED: dict[str, str] = {
    "optimizer": "--optimizer",
    "lr": "--lr",
    "batch_size": "--batch-size",
    "weight_decay": "--weight-decay",
    "schedule": "--schedule",
    "augment": "--augment",
    "early_stopping": "--early-stopping",
    "val_split": "--val-split",
    "subset": "--subset",
    "normalization": "--normalization",
    "train_dev_split": "--train-dev-split",
    "dev_shift": "--dev-shift",
    "shift_mix": "--shift-mix",
    "human_error": "--human-error",
}


def _list_presets() -> int:
    for name, preset in PRESETS.items():
        print(f"{name}: {preset.title} ({preset.figure})")
        print(textwrap.fill(preset.description, 100, initial_indent="  ", subsequent_indent="  "))
        book = [f"{key} {value}" for key, value in preset.book.items() if key != "factors"]
        if "factors" in preset.book:
            runs = math.prod(len(values) for values in preset.book["factors"].values())
            book.append(f"the book's full grid of {runs} runs")
        if book:
            print(f"  --book: {', '.join(book)}")
    return EXIT_OK


def _refuse_what_a_preset_sets(
    args: argparse.Namespace, preset: str, sets: str, flags: Iterable[str], allowed: str
) -> None:
    """SettingsError naming the network file, the training flags of :data:`PRESET_FIXED` and ``flags`` the
    user gave although ``preset`` (the option, e.g. ``"--book"``) sets them."""
    given = [flag for name, flag in PRESET_FIXED.items() if getattr(args, name) is not None]
    given += [flag for flag in flags if getattr(args, _dest(flag)) is not None]
    if args.network is not None:
        given.insert(0, args.network)
    if given:
        raise SettingsError(f"{preset} sets {sets}; leave out {', '.join(given)} (only {allowed} go with it)")


def _preset_comparison(args: argparse.Namespace) -> Comparison:
    _refuse_what_a_preset_sets(
        args,
        f"--preset {args.preset}",
        "the network, the data and the training settings",
        FACTOR_FLAGS.values(),
        "--data, --epochs, --max-steps, --seed, --quick, --book, --processes and --out",
    )
    preset = get_preset(args.preset)
    changes = {
        name: getattr(args, name) for name in ("epochs", "max_steps") if getattr(args, name) is not None
    }
    return comparison_from_preset(
        preset.name,
        data_dir=args.data,
        quick=args.quick,
        book=args.book,
        seed=args.seed,
        changes=changes,
        progress=download_progress(sys.stderr),
    )


def _print_outputs(outputs: dict[str, Path], folder: Path, stream: TextIO) -> None:
    """The files written and the output folder, a line each."""
    for key, path in outputs.items():
        print(f"{key.replace('_', ' ')}: {path.resolve()}", file=stream)
    print(f"output folder: {folder.resolve()}", file=stream)


def _prepared_experiment(
    args: argparse.Namespace, stream: TextIO
) -> tuple[Experiment, PreparedData, Sequential]:
    """The experiment that the network file and the flags describe, with its data prepared (progress and the
    fit rule's note on ``stream``) and its model built from ``--seed``: what a comparison or a search starts
    from."""
    experiment = Experiment(
        read_network(args.network), data_settings_from(args), training_config_from(args), args.seed
    )
    experiment, prepared = prepare_data(experiment, stream)
    return experiment, prepared, build(experiment.network, seed=args.seed)


def _fill_defaults(args: argparse.Namespace) -> None:
    """Give the options left unset (None, so that a preset could refuse them) their usual defaults."""
    for key, value in args.training_defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)


def _dest(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


def compare_command(args: argparse.Namespace) -> int:
    """``dllab compare``: train one network under several settings, or run a preset, and overlay the curves."""
    out, err = sys.stdout, sys.stderr
    if args.list_presets:
        return _list_presets()
    check_out_free(args.out)
    if args.preset is not None:
        comparison = _preset_comparison(args)
        preset = get_preset(args.preset)
        name, kind = preset.name, "compare"
        err.write(f"{preset.describe()}\n")
    else:
        if args.quick or args.book:
            raise SettingsError("--quick and --book go with --preset NAME")
        if args.network is None:
            raise SettingsError("give a network file to compare, or --preset NAME (see --list-presets)")
        if args.data is None:
            raise SettingsError("say which data to train on with --data, e.g. --data mnist")
        _fill_defaults(args)
        factors: dict[str, list[str]] = {}
        for factor in FACTORS:
            text = getattr(args, _dest(FACTOR_FLAGS[factor]))
            if text is not None:
                factors[factor] = [v for v in text.split(",") if v.strip()]
        if not factors:
            raise SettingsError(f"say what to compare with one or two of {', '.join(FACTOR_FLAGS.values())}")
        experiment, prepared, model = _prepared_experiment(args, err)
        comparison = Comparison(
            experiment.network,
            prepared,
            experiment.training,
            factors,
            keep_lr=args.lr is not None,
            seed=args.seed,
            data_settings=experiment.data,
        )
        name, kind = model.name, "compare"
    comparison.processes = args.processes
    folder = new_output_folder(args.out, name, kind=kind)  # only once everything is known to be valid
    comparison.out = folder
    data = comparison.data
    at_once = f", {comparison.processes} at a time" if comparison.processes > 1 else ""
    err.write(
        f"comparing {len(comparison.variants)} settings on {data.name} ({len(data.x_train):,} training, "
        f"{len(data.x_val):,} validation samples{at_once}): {', '.join(v.label for v in comparison.variants)}\n"
    )
    # Runs in parallel processes interleave their progress: plain lines then, never one rewritten line.
    tty = False if comparison.processes > 1 else None
    progress: dict[int, ProgressBar] = {}
    with stop_on_interrupt(comparison.stop, err) as pressed:
        for tagged in comparison.run():
            if isinstance(tagged.event, RunStarted):
                progress[tagged.index] = ProgressBar(err, label=f"[{tagged.label}] ", tty=tty)
            if tagged.index in progress and not isinstance(tagged.event, TestEvaluated):
                progress[tagged.index].handle(tagged.event)
    rows = [("variant", "status", "final loss", "train acc", "val acc", "test acc")]
    for r in comparison.results:
        smoothed = r.smoothed_losses()
        final = float(smoothed[np.isfinite(smoothed)][-1]) if np.isfinite(smoothed).any() else math.nan
        rows.append(
            (
                r.label,
                r.status,
                format_metric(final),
                format_metric(r.final_train_accuracy),
                format_metric(r.final_val_accuracy),
                format_metric(r.test_accuracy),
            )
        )
    print_table(rows, 2, out)
    if comparison.test_curve:
        print(
            "test accuracy per epoch is in comparison.csv, for display only (nothing is chosen by it)",
            file=out,
        )
    _print_outputs(comparison.outputs, folder, out)
    return EXIT_INTERRUPTED if pressed else EXIT_OK


def _book_search_experiment(
    args: argparse.Namespace, stream: TextIO
) -> tuple[Experiment, PreparedData, Sequential]:
    """The book's search (:data:`~dllab.experiments.presets.BOOK_SEARCH`) with its data prepared; only the data
    folder, the epochs and the seed may change."""
    _refuse_what_a_preset_sets(
        args,
        "--book",
        "the network, the data, the training settings and the ranges",
        ("--lr-range", "--wd-range"),
        "--data, --epochs, --trials, --seed, --rank-by, --top-k, --processes and --out",
    )
    changes = {"epochs": args.epochs} if args.epochs is not None else {}
    stream.write(f"{BOOK_SEARCH.describe()}\n")
    experiment = BOOK_SEARCH.experiment(args.data, seed=args.seed, changes=changes)
    experiment, prepared = prepare_data(experiment, stream)
    return experiment, prepared, build(experiment.network, seed=args.seed)


def search_command(args: argparse.Namespace) -> int:
    """``dllab search``: random search of learning rate and weight decay, ranked on the validation split."""
    out, err = sys.stdout, sys.stderr
    check_out_free(args.out)
    if args.book:
        experiment, prepared, model = _book_search_experiment(args, err)
        ranges, trials, rank_by = BOOK_SEARCH.ranges, args.trials or BOOK_SEARCH.trials, BOOK_SEARCH.rank_by
    else:
        _fill_defaults(args)
        ranges = {}
        for name, text in (("lr", args.lr_range), ("weight_decay", args.wd_range)):
            if text is not None:
                ranges[name] = parse_range(text, f"{SEARCHABLE[name]} range")
        if not ranges:
            raise SettingsError("say what to search with --lr-range LOW,HIGH and/or --wd-range LOW,HIGH")
        if args.network is None:
            raise SettingsError(
                "give a network file to search, or --book for the book's search (figure 6-24)"
            )
        if args.data is None:
            raise SettingsError("say which data to train on with --data, e.g. --data mnist")
        if args.val_split <= 0:
            raise SettingsError("a search scores its trials on a validation split; give --val-split above 0")
        experiment, prepared, model = _prepared_experiment(args, err)
        trials, rank_by = args.trials, "best"
    search = RandomSearch(
        experiment.network,
        prepared,
        experiment.training,
        ranges,
        trials=trials,
        seed=args.seed,
        data_settings=experiment.data,
        top_k=args.top_k,
        rank_by=args.rank_by or rank_by,
        processes=args.processes,
    )
    folder = new_output_folder(args.out, model.name, kind="search")
    search.out = folder
    drawn = "; ".join(f"{SEARCHABLE[n]} {lo:g} to {hi:g}" for n, (lo, hi) in search.ranges.items())
    err.write(
        f"searching {trials} trials of {model.name} on {prepared.name}, log-uniform {drawn} (seed "
        f"{args.seed}); training on {len(prepared.x_train):,} samples, scored on {len(prepared.x_val):,} "
        f"validation samples; the test set is not used\n"
    )
    with stop_on_interrupt(search.stop, err) as pressed:
        for event in search.run():
            if isinstance(event.event, Finished | Stopped | Diverged):
                r = search.results[event.trial]
                err.write(
                    f"trial {event.trial + 1}/{trials}  {describe_params(event.params)}  best val acc "
                    f"{format_metric(r.best_val_accuracy)}  {r.status}\n"
                )
                err.flush()
    ranked = search.ranking()
    names = list(search.ranges)
    rows = [("rank", "trial", *names, "best val acc", "epoch", "final val acc", "train acc", "status")]
    for rank, r in enumerate(ranked, start=1):
        rows.append(
            (
                str(rank),
                str(r.index + 1),
                *(f"{r.settings[n]:.3e}" for n in names),
                format_metric(r.best_val_accuracy),
                str(best_epoch(r) or "-"),
                format_metric(r.final_val_accuracy),
                format_metric(r.final_train_accuracy),
                r.status,
            )
        )
    print_table(rows, 0, out)
    best = ranked[0]
    if search.rank_by == "last" and math.isfinite(best.final_val_accuracy):
        print(
            f"best: trial {best.index + 1}, {describe_params(best.settings)}, validation accuracy "
            f"{format_metric(best.final_val_accuracy)} after the last epoch",
            file=out,
        )
    elif math.isfinite(best.best_val_accuracy):
        print(
            f"best: trial {best.index + 1}, {describe_params(best.settings)}, validation accuracy "
            f"{format_metric(best.best_val_accuracy)} at epoch {best_epoch(best)}",
            file=out,
        )
    _print_outputs(search.outputs, folder, out)
    return EXIT_INTERRUPTED if pressed else EXIT_OK


def transfer_command(args: argparse.Namespace) -> int:
    """``dllab transfer``: pretrain a convnet on classes 0-4, learn 5-9 from few samples in three ways, and
    write the table of test accuracies (``transfer.csv``) and its figure (``transfer.png``)."""
    out, err = sys.stdout, sys.stderr
    check_out_free(args.out)
    settings = dataclasses.replace(QUICK if args.quick else TransferSettings(), seed=args.seed)
    dataset = load_dataset(args.data, progress=download_progress(err))
    result = transfer_experiment(dataset, settings, progress=lambda line: err.write(f"{line}\n"))
    folder = new_output_folder(args.out, "TransferConvNet", kind="transfer")
    outputs = result.write(folder)
    print(f"pretrained on classes 0-4: test accuracy {format_metric(result.pretrain_accuracy)}", file=out)
    if result.report is not None:
        print(f"frozen features, new head: {'; '.join(result.report.lines())}", file=out)
    print(
        f"test accuracy on classes 5-9 of {dataset.name} after {counted(settings.epochs, 'epoch')}:", file=out
    )
    print_table(result.rows(), 1, out)
    _print_outputs(outputs, folder, out)
    return EXIT_OK
