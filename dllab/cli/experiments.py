"""``dllab compare``, ``dllab search``, ``dllab search-worker`` and ``dllab transfer``: several trainings of one
network, compared.

``dllab compare`` varies one or two settings (:mod:`dllab.experiments.compare`) or runs one of the book's comparisons
(:mod:`dllab.experiments.presets`); ``dllab search`` creates or resumes a hyperparameter search, an Optuna study
(:mod:`dllab.experiments.search`, :mod:`dllab.experiments.study`), and runs workers of it here; ``dllab
search-worker`` adds workers to a study from any machine; ``dllab transfer`` learns new classes from few samples
from scratch and from a pretrained network (:mod:`dllab.experiments.transfer`).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import textwrap
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

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
from dllab.experiments.parallel_runs import ProcessDied
from dllab.experiments.presets import BOOK_SEARCH, PRESETS, comparison_from_preset, get_preset
from dllab.experiments.search import (
    BOOK_RANGES,
    SEARCHABLE,
    Dimension,
    SearchDefinition,
    best_epoch,
    check_dimension,
    describe_params,
    format_value,
    parse_dimension,
    parse_range,
    rank,
    trial_score,
)
from dllab.experiments.transfer import QUICK, TransferSettings, transfer_experiment
from dllab.experiments.variants import FACTORS
from dllab.model import Sequential, build
from dllab.settings import check_whole_number
from dllab.text import counted
from dllab.trainer import RunStarted

if TYPE_CHECKING:  # Optuna is imported by the search commands only, not by every command of the CLI
    from dllab.experiments.study import LocalWorkers, SearchStudy, StudySnapshot, TrialEnded

#: Trials of a search unless ``--trials`` says otherwise (the book's search: its own 100).
SEARCH_TRIALS = 20
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


def _book_search_definition(
    args: argparse.Namespace, stream: TextIO
) -> tuple[SearchDefinition, PreparedData]:
    """The book's search (:data:`~dllab.experiments.presets.BOOK_SEARCH`) with its data prepared; only the data
    folder, the epochs, the trials, the seed and how it is run may change."""
    _refuse_what_a_preset_sets(
        args,
        "--book",
        "the network, the data, the training settings and the ranges",
        ("--lr-range", "--wd-range", "--search"),
        "--data, --epochs, --trials, --seed, --rank-by, --sampler, --pruner, --top-k, --processes, --study, "
        "--storage and --out",
    )
    changes = {"epochs": args.epochs} if args.epochs is not None else {}
    stream.write(f"{BOOK_SEARCH.describe()}\n")
    definition = BOOK_SEARCH.definition(args.data, seed=args.seed, changes=changes, trials=args.trials)
    experiment, prepared = prepare_data(definition.experiment, stream)
    return dataclasses.replace(definition, experiment=experiment), prepared


def _space_from(args: argparse.Namespace) -> tuple[Dimension, ...]:
    """What ``--lr-range``, ``--wd-range`` and ``--search`` draw; the learning rate and the weight decay over the
    book's ranges unless a range or a fixed value (``--lr``, ``--weight-decay``) is given."""
    space: dict[str, Dimension] = {}
    for text in args.search or ():
        dimension = parse_dimension(text)
        if dimension.name in space:
            raise SettingsError(f"the {dimension.label} is searched twice; give it once")
        space[dimension.name] = dimension
    for name, text, fixed, flag in (
        ("lr", args.lr_range, args.lr, "--lr"),
        ("weight_decay", args.wd_range, args.weight_decay, "--weight-decay"),
    ):
        range_flag = "--lr-range" if name == "lr" else "--wd-range"
        if text is not None:
            if fixed is not None:
                raise SettingsError(
                    f"give {range_flag} to search the {SEARCHABLE[name]} or {flag} to fix it, not both"
                )
            if name in space:
                raise SettingsError(f"the {SEARCHABLE[name]} is searched twice; give it once")
            space[name] = check_dimension(name, *parse_range(text, f"{SEARCHABLE[name]} range"))
        elif fixed is None and name not in space:
            space[name] = check_dimension(name, *BOOK_RANGES[name])
        elif fixed is not None and name in space:
            raise SettingsError(
                f"{flag} fixes the {SEARCHABLE[name]}, which --search draws; give one of them"
            )
    if not space:
        raise SettingsError("nothing to search: --lr and --weight-decay fix both; add --search NAME=VALUES")
    return tuple(space.values())


def _search_definition(args: argparse.Namespace, stream: TextIO) -> tuple[SearchDefinition, PreparedData]:
    """The search the network file and the flags describe, with its data prepared."""
    space = _space_from(args)
    if args.network is None:
        raise SettingsError("give a network file to search, or --book for the book's search (figure 6-24)")
    if args.data is None:
        raise SettingsError("say which data to train on with --data, e.g. --data mnist")
    _fill_defaults(args)
    if args.val_split <= 0:
        raise SettingsError("a search scores its trials on a validation split; give --val-split above 0")
    experiment, prepared, _ = _prepared_experiment(args, stream)
    definition = SearchDefinition(
        experiment,
        space,
        trials=SEARCH_TRIALS if args.trials is None else args.trials,
        sampler=args.sampler,
        pruner=args.pruner,
        rank_by=args.rank_by or "best",
        seed=args.seed,
    )
    return definition, prepared


def _search_place(args: argparse.Namespace) -> tuple[str | None, str | None, Path | None]:
    """The study's name, its storage URL and this machine's folder of the search, as far as they are known
    before the data is prepared (a new default folder is made later, once everything is valid)."""
    from dllab.experiments.study import STUDY_FILE, folder_storage, read_folder_record, storage_url

    if args.storage is not None:
        if not args.study:
            raise SettingsError("name the study with --study NAME, so that workers elsewhere can join it")
        url = storage_url(args.storage)
        return args.study, url, None
    if args.out is not None and (Path(args.out) / "search.json").is_file():
        folder = Path(args.out)
        record = read_folder_record(folder) or {}
        name = args.study or record.get("study") or "search"
        if not (folder / STUDY_FILE).is_file() and record.get("storage"):
            raise SettingsError(
                f"the folder {folder} is this machine's folder of the study {name!r} in {record['storage']}; "
                f"give --study {name} --storage URL to resume it"
            )
        return str(name), folder_storage(folder), folder
    check_out_free(args.out)
    return args.study or "search", None, None


def _say_trial(event: TrialEnded, target: int, done: int, stream: TextIO) -> None:
    what = {
        "finished": "",
        "diverged": "  diverged",
        "pruned": "  pruned",
        "stopped": "  stopped",
        "failed": "  failed",
    }.get(event.status, f"  {event.status}")
    reason = f" ({event.reason})" if event.status in ("failed",) and event.reason else ""
    stream.write(
        f"trial {event.trial}  {describe_params(event.params)}  val acc {format_metric(event.value)}  after "
        f"{event.epochs} epochs{what}{reason}  [{done}/{target} done]\n"
    )
    stream.flush()


def _run_search_workers(workers: LocalWorkers, search: SearchStudy, stream: TextIO) -> bool:
    """Run this machine's workers, a line per trial ended on ``stream``; True when Ctrl-C stopped them."""
    from dllab.experiments.study import StaleTrialsFailed, TrialEnded, WorkerWaiting

    target = search.target()
    done = search.done()
    with stop_on_interrupt(workers.stop, stream) as pressed:
        for index, event in workers.events():
            who = f"worker {index + 1}: " if workers.processes > 1 else ""
            if isinstance(event, TrialEnded):
                done += event.state in ("complete", "pruned")
                _say_trial(event, target, done, stream)
            elif isinstance(event, StaleTrialsFailed):
                numbers = ", ".join(str(n) for n in event.trials)
                stream.write(f"{who}trials {numbers} failed: their workers stopped sending heartbeats\n")
            elif isinstance(event, WorkerWaiting) and event.running:
                numbers = ", ".join(str(n) for n in event.running)
                stream.write(f"{who}all trials started; waiting for trials {numbers} running elsewhere\n")
            elif isinstance(event, ProcessDied):
                stream.write(f"{who}{event.message}; the other workers go on\n")
    return bool(pressed)


def _print_search_results(snapshot: StudySnapshot, out: TextIO) -> None:
    """The ranking of every trial in the study and the best one."""
    definition = snapshot.definition
    results = [t.result() for t in snapshot.trials if t.state != "running"]
    ranked = rank(results, definition.rank_by)
    names = definition.names
    rows = [("rank", "trial", *names, "best val acc", "epoch", "final val acc", "train acc", "status")]
    scored = [r for r in ranked if math.isfinite(trial_score(r, definition.rank_by))]
    for k, r in enumerate(ranked, start=1):
        rows.append(
            (
                str(k) if r in scored else "-",
                str(r.index),
                *(format_value(n, r.settings[n]) if n in r.settings else "-" for n in names),
                format_metric(r.best_val_accuracy),
                str(best_epoch(r) or "-"),
                format_metric(r.final_val_accuracy),
                format_metric(r.final_train_accuracy),
                r.status,
            )
        )
    if len(rows) > 1:
        print_table(rows, 0, out)
    if not scored:
        return
    best = scored[0]
    if definition.rank_by == "last":
        print(
            f"best: trial {best.index}, {describe_params(best.settings)}, validation accuracy "
            f"{format_metric(best.final_val_accuracy)} after the last epoch",
            file=out,
        )
    else:
        print(
            f"best: trial {best.index}, {describe_params(best.settings)}, validation accuracy "
            f"{format_metric(best.best_val_accuracy)} at epoch {best_epoch(best)}",
            file=out,
        )
    if snapshot.importances:
        shares = ", ".join(f"{SEARCHABLE[n]} {v:.2f}" for n, v in snapshot.importances.items())
        print(f"importance: {shares}", file=out)


def _finish_search(search: SearchStudy, folder: Path, top_k: int, out: TextIO) -> None:
    """Read the whole study (other machines' trials too), print its ranking, write the outputs into
    ``folder`` and say where they are and how to open the study in optuna-dashboard."""
    from dllab.experiments.study import dashboard_command, read_snapshot, write_search_outputs

    snapshot = read_snapshot(search.name, search.url)
    print(f"study {search.name!r}: {snapshot.summary()}", file=out)
    _print_search_results(snapshot, out)
    outputs = write_search_outputs(folder, snapshot, top_k=top_k)
    _print_outputs(outputs, folder, out)
    print(f"storage: {search.shown_storage} (open it with: {dashboard_command(search.url)})", file=out)


def search_command(args: argparse.Namespace) -> int:
    """``dllab search``: a hyperparameter search as an Optuna study, created or resumed, with workers here."""
    from dllab.experiments.study import (
        LocalWorkers,
        create_or_join,
        folder_storage,
        save_definition,
        study_folder,
    )

    out, err = sys.stdout, sys.stderr
    check_whole_number("--processes", args.processes)
    check_whole_number("--top-k", args.top_k)
    check_whole_number("--heartbeat", args.heartbeat)
    name, url, folder = _search_place(args)
    if args.book:
        definition, prepared = _book_search_definition(args, err)
    else:
        definition, prepared = _search_definition(args, err)
    definition.check()
    if folder is None:
        if url is None:
            folder = new_output_folder(
                args.out, definition.experiment.network.get("name") or "network", kind="search"
            )
        else:
            folder = study_folder(name, url, args.out)
    url = url or folder_storage(folder)
    search = create_or_join(definition, name, url, heartbeat=args.heartbeat)
    save_definition(folder, search)
    definition = search.definition
    network = definition.experiment.network.get("name") or "the network"
    if search.created:
        err.write(
            f"searching {definition.trials} trials of {network} on {prepared.name}: {definition.describe()}; "
            f"training on {len(prepared.x_train):,} samples, scored on {len(prepared.x_val):,} validation "
            "samples; the test set is not used\n"
        )
    else:
        err.write(
            f"resuming the study {name!r} ({search.done()} of {definition.trials} trials done) of {network} on "
            f"{prepared.name}: {definition.describe()}\n"
        )
    err.write(
        f"study {name!r} in {search.shown_storage}; more workers: dllab search-worker --study {name} --storage "
        f"{search.shown_storage}\n"
    )
    workers = LocalWorkers(name, url, processes=args.processes, folder=folder, data=prepared)
    pressed = _run_search_workers(workers, search, err)
    _finish_search(search, folder, args.top_k, out)
    return EXIT_INTERRUPTED if pressed else EXIT_OK


def search_worker_command(args: argparse.Namespace) -> int:
    """``dllab search-worker``: run trials of an existing study on this machine until it has its trials."""
    from dllab.experiments.study import LocalWorkers, open_search, save_definition, study_folder

    out, err = sys.stdout, sys.stderr
    check_whole_number("--processes", args.processes)
    check_whole_number("--top-k", args.top_k)
    if args.trials is not None:
        check_whole_number("--trials", args.trials)
    search = open_search(args.study, args.storage)
    definition = search.definition
    experiment = definition.experiment
    if args.data is not None:
        experiment = dataclasses.replace(
            experiment, data=dataclasses.replace(experiment.data, dataset=args.data)
        )
    experiment, prepared = prepare_data(experiment, err)
    folder = study_folder(search.name, search.url, args.out)
    save_definition(folder, search)
    network = experiment.network.get("name") or "the network"
    err.write(
        f"joining the study {search.name!r} in {search.shown_storage} ({search.done()} of {search.target()} "
        f"trials done): {network} on {prepared.name}, {definition.describe()}; trial folders in {folder}\n"
    )
    workers = LocalWorkers(
        search.name,
        search.url,
        processes=args.processes,
        folder=folder,
        data=prepared,
        max_trials=args.trials,
    )
    pressed = _run_search_workers(workers, search, err)
    _finish_search(search, folder, args.top_k, out)
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
