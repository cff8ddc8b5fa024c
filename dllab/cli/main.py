"""The ``dllab`` command line: train, evaluate, export, inspect and compare without a screen.

``dllab`` with no arguments opens the desktop app (``ui.app.main``); with arguments it calls :func:`main`,
which ``python -m dllab`` runs too::

    dllab train assets/networks/spiral_mlp.json --data spiral --optimizer adam --epochs 50
    dllab train --config runs/x/config.json --epochs 100
    dllab evaluate runs/x/model_final.dllab.npz --data spiral
    dllab evaluate runs/x/model_final.dllab.npz --data spiral --dtype float16
    dllab precision runs/x/model_final.dllab.npz --data spiral
    dllab import-book ch08_deep_convnet_params.pkl --out deep_conv_net.dllab.npz
    dllab export runs/x/model_final.dllab.npz --onnx spiral.onnx
    dllab info runs/x/model_final.dllab.npz
    dllab gradcheck assets/networks/simple_conv_net.json
    dllab runs
    dllab compare assets/networks/multi_layer_net.json --data mnist --optimizers sgd,momentum,adagrad,adam \\
        --batch-size 128 --max-steps 2000
    dllab compare --list-presets
    dllab compare --preset weight_decay --processes 2
    dllab search assets/networks/multi_layer_net.json --data mnist --subset 500 --val-split 0.2 --trials 20 \\
        --lr-range 1e-6,1e-2 --wd-range 1e-8,1e-4 --epochs 50
    dllab search assets/networks/multi_layer_net.json --data mnist --subset 500 --val-split 0.2 \\
        --search optimizer=sgd,adam --sampler tpe --pruner median --study s1 --storage postgresql://lab@db/dllab
    dllab search-worker --study s1 --storage postgresql://lab@db/dllab
    dllab transfer --data mnist --quick

A user mistake (a missing file, a bad spec, an unknown data set, a bad flag value, a damaged model file: any
:class:`~dllab.errors.DllabError`) is reported as one line, ``dllab: error: ...``, with exit status 2; never a
traceback. Anything else is a bug in dllab: one line asks to report it (exit status 70). Ctrl-C stops
training cleanly after the current batch (the run folder keeps what was done) with exit status 130; a run
that diverges exits with 1.

This module is the argument parser and :func:`main`; what each subcommand does is in :mod:`dllab.cli.status`,
the progress display in :mod:`dllab.cli.terminal` and the option strings in :mod:`dllab.option_strings`.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

from dllab.cli.book import add_book_parser
from dllab.cli.experiments import (
    PRESET_FIXED,
    compare_command,
    search_command,
    search_worker_command,
    transfer_command,
)
from dllab.cli.models import (
    evaluate_command,
    export_command,
    gradcheck_command,
    info_command,
    precision_command,
)
from dllab.cli.status import EXIT_BUG, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from dllab.cli.terminal import ProgressBar, printable
from dllab.cli.training import TRAIN_FLAGS, runs_command, train_command
from dllab.data import IMAGE_COLORS, NORMALIZATIONS, SHIFTS, DatasetError
from dllab.data.image_folder import image_size as checked_image_size
from dllab.errors import DllabError, error_line
from dllab.experiments.parallel_runs import RunProcessError
from dllab.experiments.precision import BATCH_SIZE
from dllab.experiments.presets import PRESETS
from dllab.experiments.search import HEARTBEAT_SECONDS, PRUNERS, RANK_BY, SAMPLERS
from dllab.option_strings import parse_augment, parse_named_options
from dllab.precision import PRECISIONS

#: The parser and entry point, and the helpers callers of the command line use: the option-string parsers
#: (:mod:`dllab.option_strings`) and the progress bar (:mod:`dllab.cli.terminal`).
__all__ = ["ProgressBar", "build_parser", "main", "parse_augment", "parse_named_options"]

#: Set to show the traceback of an internal error (a bug) instead of one line.
ENV_TRACEBACK = "DLLAB_TRACEBACK"


# --- argument parsing ------------------------------------------------------------------------------------


class _UsageError(Exception):
    """A command line that argparse rejects."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (raised, so :func:`main` can return the status)."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{message} (see '{self.prog} --help')")


def _seed(text: str) -> int:
    """A ``--seed``: a whole number of at least 0 (what numpy's generators take)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text[:40]!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, got {value}")
    return value


def _image_size(text: str) -> tuple[int, int]:
    """An ``--image-size``: ``28`` or ``32x24`` (height x width)."""
    try:
        sides = [int(part) for part in text.lower().replace("×", "x").split("x")]
        size = checked_image_size(sides)
        if size is None:
            raise ValueError(text)
        return size
    except (ValueError, DatasetError):
        raise argparse.ArgumentTypeError(
            f"must be a side or HEIGHTxWIDTH of whole numbers from 1 to 4096, got {text[:40]!r}"
        ) from None


def _add_data_args(p: argparse.ArgumentParser, *, required: bool = True) -> None:
    p.add_argument(
        "--data",
        required=required,
        metavar="NAME|PATH",
        help="a built-in data set (mnist, fashion-mnist, kmnist, spiral, moons, circles, xor, blobs, shapes, "
        "regression), an IDX folder, an image folder (one subfolder per class, optionally inside train/ and "
        "test/), or an .npz or .csv file",
    )
    p.add_argument(
        "--image-color",
        choices=IMAGE_COLORS,
        default="auto",
        help="an image folder's images as grayscale or rgb (default: auto, grayscale when all are grey)",
    )
    p.add_argument(
        "--image-size",
        type=_image_size,
        metavar="SIDE|HxW",
        help="resize an image folder's images to SIDE x SIDE or H x W pixels (default: their most common size)",
    )


def _add_evaluated_args(p: argparse.ArgumentParser) -> None:
    """A saved model, and the data set and part of it that it is evaluated on (``evaluate``, ``precision``)."""
    p.add_argument(
        "model", metavar="MODEL", help="a model file (.dllab.npz) or an ONNX file the lab exported (.onnx)"
    )
    _add_data_args(p, required=False)
    p.add_argument(
        "--split", choices=("test", "train"), default="test", help="which part to evaluate (default: test)"
    )


def _add_training_args(p: argparse.ArgumentParser, *, data_required: bool = True) -> None:
    _add_data_args(p, required=data_required)
    g = p.add_argument_group("training")
    g.add_argument(
        "--optimizer",
        default="sgd",
        metavar="NAME[:k=v,...]",
        help="sgd, momentum, nesterov, adagrad, rmsprop, adadelta, adam or adamw, with options such as "
        "momentum:momentum=0.95 (default: sgd)",
    )
    g.add_argument(
        "--lr",
        type=float,
        metavar="X",
        help="learning rate (default: the optimizer's book value, e.g. 0.01 for sgd)",
    )
    g.add_argument("--batch-size", type=int, metavar="N", default=100, help="mini-batch size (default: 100)")
    g.add_argument("--epochs", type=int, metavar="N", default=10, help="epochs (default: 10)")
    g.add_argument("--max-steps", type=int, metavar="N", help="stop after this many mini-batches in total")
    g.add_argument(
        "--weight-decay", type=float, metavar="X", default=0.0, help="L2 weight decay (default: 0)"
    )
    g.add_argument(
        "--schedule",
        default="constant",
        metavar="NAME[:k=v,...]",
        help="learning-rate schedule: constant, step, exponential, inverse_time or cosine, with options "
        "such as step:step_size=5,gamma=0.5 (default: constant)",
    )
    g.add_argument(
        "--augment",
        default="none",
        metavar="SPEC",
        help='image augmentation, e.g. "shift=2,rotation=10,noise=0.1,flip", or "none" (default)',
    )
    g.add_argument(
        "--human-error",
        type=float,
        metavar="PERCENT",
        default=0.0,
        help="human-level (Bayes) error estimate in percent, against which the fit is read (default: 0)",
    )
    g.add_argument(
        "--early-stopping", type=int, metavar="EPOCHS", help="stop after this many epochs without improvement"
    )
    g.add_argument(
        "--seed",
        type=_seed,
        metavar="N",
        default=0,
        help="seeds the weights, the split and the batch order (default: 0)",
    )
    d = p.add_argument_group("data")
    d.add_argument(
        "--val-split",
        type=float,
        metavar="X",
        default=0.1,
        help="validation share of the training set (default: 0.1)",
    )
    d.add_argument(
        "--train-dev-split",
        type=float,
        metavar="X",
        default=0.0,
        help="train-dev share of the training set: held out of training besides the validation set, to tell "
        "variance from data mismatch (default: 0)",
    )
    d.add_argument(
        "--dev-shift",
        choices=tuple(SHIFTS),
        default="none",
        help="draw the validation (dev) and test images from a shifted distribution: "
        + "; ".join(f"{name}: {what}" for name, what in SHIFTS.items() if name != "none").replace("%", "%%")
        + " (default: none)",
    )
    d.add_argument(
        "--shift-mix",
        type=float,
        metavar="X",
        default=0.0,
        help="share of the training images given the dev shift: the remedy for data mismatch (default: 0)",
    )
    d.add_argument("--subset", type=int, metavar="N", help="use only this many training samples")
    d.add_argument(
        "--normalization",
        choices=NORMALIZATIONS,
        default="standardize",
        help="input normalisation fitted on the training split (default: standardize)",
    )


def _add_processes_arg(p: argparse.ArgumentParser, runs: str) -> None:
    p.add_argument(
        "--processes",
        type=int,
        metavar="N",
        default=1,
        help=f"train N {runs} at once, each in a process of its own with a share of the cores for its "
        "matrix products; at most one per core is useful (default: 1, one after another)",
    )


def _add_study_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("the study")
    g.add_argument(
        "--study",
        metavar="NAME",
        help="the study's name: created, or resumed when the storage holds it (needed with --storage)",
    )
    g.add_argument(
        "--storage",
        metavar="URL",
        help="where the study lives: sqlite:///PATH, postgresql://USER:PASSWORD@HOST/DB, journal:PATH (a "
        "file on a shared disk); default: study.db in the search's folder",
    )
    g.add_argument(
        "--heartbeat",
        type=int,
        metavar="SECONDS",
        default=HEARTBEAT_SECONDS,
        help="a training trial's sign of life; one silent for twice as long is marked failed and run again by "
        f"another worker (default: {HEARTBEAT_SECONDS})",
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``dllab`` argument parser with its subcommands."""
    parser = _Parser(
        prog="dllab",
        description="dllab: a deep-learning lab. Without arguments `dllab` opens the desktop app; these "
        "commands work without a screen.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "train",
        help="train a network and record the run",
        description="Train a network file on a data set, showing progress, and write a run folder. "
        "--config repeats a run (or an experiment or design file): its network, data and training settings "
        "and seed, with the network file and the flags given beside it in their place.",
    )
    p.add_argument(
        "network",
        metavar="NETWORK.json",
        nargs="?",
        help="the network file (a design or experiment file gives its network; optional with --config)",
    )
    p.add_argument(
        "--config",
        metavar="FILE",
        help="repeat a run: a run folder's config.json (or the run folder), an experiment or a design file",
    )
    _add_training_args(p, data_required=False)
    p.add_argument(
        "--changes",
        metavar="FILE",
        help='change optimizer settings at given steps: a JSON list such as [{"step": 500, "lr": 0.003}] '
        "(after 500 mini-batches the learning rate is 0.003); replaces the changes of --config",
    )
    p.add_argument(
        "--out", metavar="FOLDER", help="the run folder (default: a new folder under the runs folder)"
    )
    p.add_argument("--no-steps", action="store_true", help="do not record the loss of every step (steps.csv)")
    p.add_argument(
        "--dtype",
        choices=PRECISIONS[:2],
        default="float32",
        help="the type the network computes and trains in: float32 (default) or float64, as the book's numpy "
        "code does; float16 only predicts (see evaluate --dtype and precision)",
    )
    p.add_argument(
        "--init-from",
        metavar="MODEL",
        help="start from a saved model: copy the weights of the layers whose names and shapes match, "
        "initialise the others afresh (e.g. a new head)",
    )
    p.add_argument(
        "--freeze",
        metavar="LAYERS",
        help="comma-separated layer names that keep their weights while the rest trains, e.g. conv2d_1,dense_1",
    )
    # None marks what the user did not give, so --config keeps its own; the usual defaults apply otherwise.
    defaults = {name: p.get_default(name) for name in TRAIN_FLAGS}
    p.set_defaults(**dict.fromkeys(TRAIN_FLAGS), handler=train_command, training_defaults=defaults)

    p = sub.add_parser(
        "evaluate",
        help="evaluate a model on a data set's test split",
        description="Loss, accuracy, confusion matrix and per-class accuracy of a model file.",
    )
    _add_evaluated_args(p)
    p.add_argument(
        "--dtype",
        choices=PRECISIONS,
        help="compute in this precision (float16: stored in float16, each layer computed in float32; "
        "default: the model file's)",
    )
    p.set_defaults(handler=evaluate_command)

    p = sub.add_parser(
        "precision",
        help="evaluate a model in float64, float32 and float16 side by side",
        description="Accuracy, time and memory of a model file in each precision, on a data set's test split "
        "(the book's section 8.3.4).",
    )
    _add_evaluated_args(p)
    p.add_argument(
        "--batch-size",
        type=int,
        default=BATCH_SIZE,
        metavar="N",
        help=f"samples a batch (default: {BATCH_SIZE})",
    )
    p.set_defaults(handler=precision_command)

    add_book_parser(sub)

    p = sub.add_parser("export", help="export a model to ONNX", description="Write a model file as ONNX.")
    p.add_argument("model", metavar="MODEL", help="a model file (.dllab.npz)")
    p.add_argument("--onnx", required=True, metavar="PATH", help="the ONNX file to write")
    p.add_argument("--opset", type=int, help="ONNX opset (default: the exporter's)")
    p.set_defaults(handler=export_command)

    p = sub.add_parser(
        "info",
        help="describe a model file or an ONNX file",
        description="Network summary, preprocessing, classes and training summary of a model file; inputs, "
        "outputs, operators and parameter count of an ONNX file.",
    )
    p.add_argument("model", metavar="MODEL", help="a model file (.dllab.npz) or any ONNX file (.onnx)")
    p.set_defaults(handler=info_command)

    p = sub.add_parser(
        "gradcheck",
        help="check backpropagation against numerical gradients",
        description="Compare a network's backprop gradients with centred numerical differences in float64.",
    )
    p.add_argument("network", metavar="NETWORK.json", help="the network file")
    p.add_argument(
        "--tolerance", type=float, default=1e-6, help="largest relative error that passes (default: 1e-6)"
    )
    p.add_argument("--checks", type=int, default=40, help="elements checked per parameter (default: 40)")
    p.add_argument("--batch-size", type=int, default=4, help="random samples in the batch (default: 4)")
    p.add_argument(
        "--seed", type=_seed, metavar="N", default=0, help="seeds the weights and the inputs (default: 0)"
    )
    p.set_defaults(handler=gradcheck_command)

    p = sub.add_parser(
        "runs",
        help="list, find, rename, tag and delete past training runs",
        description="List the recorded training runs, oldest first, or those a filter keeps; give a run a name "
        "or tags of your own, move it to the trash in the runs folder, or restore it from there.",
    )
    p.add_argument("--root", metavar="FOLDER", help="the folder of runs (default: the dllab runs folder)")
    f = p.add_argument_group("filters")
    f.add_argument("--find", metavar="WORDS", help="runs whose name, folder or tags hold every word")
    f.add_argument("--network", metavar="NAME", help="runs of this network")
    f.add_argument("--data", metavar="NAME", help="runs on this data set")
    f.add_argument(
        "--min-test-accuracy",
        type=float,
        metavar="A",
        help="runs with a test accuracy of at least A (0 to 1)",
    )
    e = p.add_argument_group("edits (one at a time)").add_mutually_exclusive_group()
    e.add_argument(
        "--rename", nargs=2, metavar=("RUN", "NAME"), help="name the run (an empty NAME: its folder's)"
    )
    e.add_argument("--tags", nargs=2, metavar=("RUN", "TAGS"), help="set the run's tags, separated by commas")
    e.add_argument("--delete", metavar="RUN", help="move the run to the trash in the runs folder")
    e.add_argument("--restore", metavar="RUN", help="move the run back from the trash")
    p.set_defaults(handler=runs_command)

    p = sub.add_parser(
        "compare",
        help="train one network under several settings and overlay the curves",
        description="Train the same network and data under each setting, from identical initial weights and "
        "the same mini-batch order; vary one setting, or two as a grid. Writes a run folder per setting, "
        "combined CSVs and a PNG of the curves. --preset runs one of the book's comparisons instead "
        "(see --list-presets).",
    )
    p.add_argument("network", metavar="NETWORK.json", nargs="?", help="the network file (not with --preset)")
    b = p.add_argument_group("the book's comparisons")
    b.add_argument("--preset", metavar="NAME", help=f"one of {', '.join(PRESETS)}; MNIST, see --list-presets")
    b.add_argument("--list-presets", action="store_true", help="describe the presets and exit")
    b.add_argument("--quick", action="store_true", help="a preset on a small subset for a few steps")
    b.add_argument(
        "--book", action="store_true", help="a preset's full run from the book where the default is shorter"
    )
    v = p.add_argument_group("settings to compare (one or two)")
    v.add_argument(
        "--optimizers",
        metavar="LIST",
        help="e.g. sgd,momentum,adagrad,adam (each with its book lr unless --lr)",
    )
    v.add_argument("--inits", metavar="LIST", help='e.g. "std 0.01",xavier,he')
    v.add_argument("--batchnorm", metavar="LIST", help="on,off: a BatchNorm after every hidden Dense/Conv2D")
    v.add_argument(
        "--dropouts", metavar="LIST", help="dropout rates after hidden Dense layers, e.g. 0,0.2,0.5"
    )
    v.add_argument(
        "--dropout-scalings",
        metavar="LIST",
        help="inverted,book: scale while training, or at inference as the book's Dropout does",
    )
    v.add_argument("--weight-decays", metavar="LIST", help="e.g. 0,0.01,0.1")
    v.add_argument("--batch-sizes", metavar="LIST", help="e.g. 32,128,512")
    v.add_argument("--lrs", metavar="LIST", help="learning rates, e.g. 0.001,0.01,0.1")
    _add_training_args(p, data_required=False)
    _add_processes_arg(p, "settings")
    p.add_argument(
        "--out", metavar="FOLDER", help="the output folder (default: a new folder under the runs folder)"
    )
    # None marks what the user did not give, so a preset can refuse it; the usual defaults apply otherwise.
    unset = (*PRESET_FIXED, "epochs")
    defaults = {name: p.get_default(name) for name in unset}
    p.set_defaults(**dict.fromkeys(unset), handler=compare_command, training_defaults=defaults)

    p = sub.add_parser(
        "transfer",
        help="transfer learning: new classes from few samples, from scratch and from a pretrained convnet",
        description="Pretrain a small convnet on digits 0-4, then learn digits 5-9 from 50, 100, 500 and 5,000 "
        "samples three ways: from scratch, fine-tuning every layer, and with the pretrained convolutions "
        "frozen under a new head. Prints the test accuracies and writes transfer.csv and transfer.png.",
    )
    p.add_argument(
        "--data",
        default="mnist",
        metavar="NAME",
        help="ten classes of 28x28 grey images: mnist (the default), fashion-mnist or a local copy",
    )
    p.add_argument(
        "--quick", action="store_true", help="less pretraining and only 50 and 100 samples: a quick look"
    )
    p.add_argument(
        "--out", metavar="FOLDER", help="where the table and figure go (default: a new run folder)"
    )
    p.add_argument(
        "--seed", type=_seed, metavar="N", default=0, help="seeds the weights and the samples (default: 0)"
    )
    p.set_defaults(handler=transfer_command)

    p = sub.add_parser(
        "search",
        help="hyperparameter search: an Optuna study of learning rate, weight decay and more, resumable",
        description="Train a network once per trial with hyperparameters drawn from the search space (by "
        "default the learning rate and weight decay, log-uniform over the book's ranges), score every trial on "
        "the validation split (never the test set) and rank them. The search is an Optuna study: in an SQLite "
        "file in the output folder by default, or in any --storage (a database URL or a journal file) that "
        "workers on other machines join with `dllab search-worker`; the same command again resumes it. Writes "
        "a run folder per trial (trial-NNNN), search.csv, search_epochs.csv and search.png.",
    )
    p.add_argument("network", metavar="NETWORK.json", nargs="?", help="the network file (not with --book)")
    p.add_argument(
        "--book",
        action="store_true",
        help="the book's search of figure 6-24: its network, MNIST data, training, ranges and 100 trials "
        "ranked by the last epoch",
    )
    r = p.add_argument_group("what to search")
    r.add_argument(
        "--trials",
        type=int,
        metavar="N",
        help="trials the study finishes, all workers together (default: 20)",
    )
    r.add_argument(
        "--lr-range",
        metavar="LOW,HIGH",
        help="learning rates to draw from (default: 1e-6,1e-2; --lr fixes it)",
    )
    r.add_argument(
        "--wd-range",
        metavar="LOW,HIGH",
        help="weight decays to draw from (default: 1e-8,1e-4; --weight-decay fixes it)",
    )
    r.add_argument(
        "--search",
        action="append",
        metavar="NAME=VALUES",
        help="another setting to draw: a range LOW..HIGH or choices A,B,C of batch_size, optimizer, init, "
        "dropout, hidden_units or batchnorm, e.g. batch_size=32..512, optimizer=sgd,adam, batchnorm=on,off "
        "(repeat for several)",
    )
    r.add_argument(
        "--sampler",
        choices=tuple(SAMPLERS),
        default="random",
        help="how values are drawn: at random, the book's method (the default), or by TPE, which draws more "
        "where the trials so far did well",
    )
    r.add_argument(
        "--pruner",
        choices=tuple(PRUNERS),
        default="none",
        help="stop hopeless trials early from each epoch's validation accuracy: median (below the other "
        "trials' median at the same epoch) or halving (successive halving); default: none",
    )
    r.add_argument(
        "--top-k", type=int, default=5, metavar="K", help="best trials drawn in the figure (default: 5)"
    )
    r.add_argument(
        "--rank-by",
        choices=tuple(RANK_BY),
        help="rank the trials by their best epoch's validation accuracy (the default) or the last epoch's, "
        "as the book does (the default with --book)",
    )
    _add_study_args(p)
    _add_training_args(p, data_required=False)
    _add_processes_arg(p, "trials (workers)")
    p.add_argument(
        "--out",
        metavar="FOLDER",
        help="the search's folder on this machine (default: a new folder under the runs folder; a folder of "
        "an earlier search resumes it)",
    )
    unset = (*PRESET_FIXED, "epochs", "trials")
    defaults = {name: p.get_default(name) for name in unset}
    defaults["trials"] = 20
    p.set_defaults(**dict.fromkeys(unset), handler=search_command, training_defaults=defaults)

    p = sub.add_parser(
        "search-worker",
        help="run trials of an existing search's study on this machine",
        description="Join a study that `dllab search` created (in a database or a journal file that this "
        "machine reaches) and run its trials until it has them all: the network, data and settings come from "
        "the study. Each trial's run folder goes into this machine's folder of the search.",
    )
    p.add_argument("--study", required=True, metavar="NAME", help="the study's name")
    p.add_argument(
        "--storage",
        required=True,
        metavar="URL",
        help="where the study is: sqlite:///PATH, postgresql://USER:PASSWORD@HOST/DB, journal:PATH, ...",
    )
    p.add_argument("--trials", type=int, metavar="N", help="run at most N trials here (default: until done)")
    p.add_argument(
        "--data",
        metavar="NAME|PATH",
        help="where this machine has the data, when not where the study's creator had it",
    )
    _add_processes_arg(p, "trials (workers)")
    p.add_argument(
        "--top-k", type=int, default=5, metavar="K", help="best trials drawn in the figure (default: 5)"
    )
    p.add_argument(
        "--out",
        metavar="FOLDER",
        help="this machine's folder of the search (default: search-NAME under the runs folder)",
    )
    p.set_defaults(handler=search_worker_command)
    return parser


# --- entry point -----------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run a ``dllab`` subcommand.

    Parameters
    ----------
    argv
        The arguments after the program name; ``sys.argv[1:]`` when None.

    Returns
    -------
    int
        The exit status: 0 success, 1 a failed check, a diverged run or a worker process that died, 2 a user
        mistake (any :class:`~dllab.errors.DllabError`, or the file system refusing a file; one line on
        stderr), 70 a bug in dllab (one line asking to report it; the traceback with ``DLLAB_TRACEBACK=1``),
        130 interrupted.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        return _run(argv)
    except KeyboardInterrupt:
        sys.stderr.write("\ndllab: interrupted\n")
        return EXIT_INTERRUPTED


def _run(argv: list[str]) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        print(f"dllab: error: {printable(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    try:
        return int(args.handler(args))
    except BrokenPipeError:  # the reader of the output went away (``dllab info X | head``): not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that the final flush at exit stays quiet too
        return EXIT_OK
    except (DllabError, OSError) as exc:
        sys.stderr.write(f"dllab: error: {printable(error_line(exc))}\n")
        return EXIT_USAGE
    except RunProcessError as exc:  # a worker process of --processes died (killed, out of memory)
        sys.stderr.write(f"dllab: error: {printable(error_line(exc))}\n")
        return EXIT_FAILED
    except KeyboardInterrupt:
        raise
    except Exception as exc:
        if _caused_by_interrupt(exc):  # Python wraps a Ctrl-C that falls in some of its own machinery
            raise KeyboardInterrupt from exc
        if os.environ.get(ENV_TRACEBACK):
            traceback.print_exc()
        sys.stderr.write(
            f"dllab: internal error ({type(exc).__name__}: {printable(error_line(exc))[:200]}); this is a bug in dllab, "
            f"please report it with the command you ran (set {ENV_TRACEBACK}=1 to see the traceback)\n"
        )
        return EXIT_BUG


def _caused_by_interrupt(error: BaseException) -> bool:
    """Whether ``error`` was raised because of a Ctrl-C: a KeyboardInterrupt among its causes and contexts."""
    seen: set[int] = set()
    link: BaseException | None = error
    while link is not None and id(link) not in seen:
        if isinstance(link, KeyboardInterrupt):
            return True
        seen.add(id(link))
        link = link.__cause__ or link.__context__
    return False
