"""The ``dllab`` command line: train, evaluate, export, inspect and compare without a screen.

``dllab`` with no arguments opens the desktop app (``ui.app.main``); with arguments it calls :func:`main`,
which ``python -m dllab`` runs too::

    dllab train assets/networks/spiral_mlp.json --data spiral --optimizer adam --epochs 50
    dllab evaluate runs/x/model_final.dllab.npz --data spiral
    dllab export runs/x/model_final.dllab.npz --onnx spiral.onnx
    dllab info runs/x/model_final.dllab.npz
    dllab gradcheck assets/networks/simple_conv_net.json
    dllab runs
    dllab compare assets/networks/multi_layer_net.json --data mnist --optimizers sgd,momentum,adagrad,adam \\
        --batch-size 128 --max-steps 2000
    dllab compare --list-presets
    dllab compare --preset weight_decay
    dllab search assets/networks/multi_layer_net.json --data mnist --subset 500 --val-split 0.2 --trials 20 \\
        --lr-range 1e-6,1e-2 --wd-range 1e-8,1e-4 --epochs 50

A user mistake (a missing file, a bad spec, an unknown data set, a bad flag value, a damaged model file) is
reported as one line, ``dllab: error: ...``, with exit status 2; never a traceback. Ctrl-C stops training
cleanly after the current batch (the run folder keeps what was done) with exit status 130; a run that
diverges exits with 1.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import signal
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

import numpy as np

from dllab.compare import (
    BOOK_LEARNING_RATES,
    FACTORS,
    PRESETS,
    Comparison,
    TestEvaluated,
    comparison_from_preset,
    get_preset,
)
from dllab.data import NORMALIZATIONS, Augmenter, DatasetError, Normalizer, load_dataset, reshape_for
from dllab.gradcheck import gradcheck
from dllab.io import ModelFileError, load, read_model_info
from dllab.metrics import Evaluation, evaluate
from dllab.model import build
from dllab.runs import CONFIG_FILE, DataSettings, RunError, RunRecorder, list_runs, new_run_folder, runs_root
from dllab.search import SEARCHABLE, RandomSearch, best_epoch, describe_params, parse_range
from dllab.spec import SpecError, read_spec
from dllab.trainer import (
    BatchEnded,
    Diverged,
    EpochEnded,
    Event,
    Finished,
    Paused,
    Resumed,
    RunStarted,
    Stopped,
    Trainer,
    TrainingConfig,
)

#: Exit statuses.
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
#: The ``dllab compare`` flag of each factor.
FACTOR_FLAGS: dict[str, str] = {
    "optimizer": "--optimizers",
    "init": "--inits",
    "batchnorm": "--batchnorm",
    "dropout": "--dropouts",
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
}
_USER_ERRORS = (SpecError, DatasetError, ModelFileError, RunError, ValueError, OSError)


# --- argument parsing ------------------------------------------------------------------------------------


class _UsageError(Exception):
    """A command line that argparse rejects."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (raised, so :func:`main` can return the status)."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{message} (see '{self.prog} --help')")


def _parse_value(text: str) -> Any:
    """``"3"`` -> 3, ``"0.5"`` -> 0.5, ``"true"`` -> True, ``"none"`` -> None, anything else the text."""
    lowered = text.strip().lower()
    if lowered in ("true", "yes", "on"):
        return True
    if lowered in ("false", "no", "off"):
        return False
    if lowered in ("none", "null"):
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text.strip()


def parse_named_options(text: str, what: str) -> tuple[str, dict[str, Any]]:
    """Split ``"name:key=value,key=value"`` into the name and a dict of values.

    Parameters
    ----------
    text
        E.g. ``"momentum:momentum=0.95"``, ``"step:step_size=5,gamma=0.5"`` or just ``"adam"``.
    what
        What is being parsed, for messages (``"optimizer"``, ``"schedule"``).

    Returns
    -------
    tuple
        The lower-case name and the options (numbers parsed).
    """
    name, _, rest = text.partition(":")
    if not name.strip():
        raise ValueError(f"the {what} needs a name, got {text!r}")
    options: dict[str, Any] = {}
    for item in rest.split(","):
        if not item.strip():
            continue
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise ValueError(f"{what} option {item.strip()!r} must look like key=value")
        options[key.strip()] = _parse_value(value)
    return name.strip().lower(), options


def parse_augment(text: str | None) -> dict[str, Any] | None:
    """Augmentation settings from ``"shift=2,rotation=10,noise=0.1,flip"`` (``"none"``: None).

    Returns
    -------
    dict or None
        ``Augmenter.to_dict()`` of the settings, or None for none.
    """
    if text is None or text.strip().lower() in ("", "none", "off"):
        return None
    values: dict[str, Any] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        key, eq, value = item.partition("=")
        key = key.strip().lower()
        if key not in ("shift", "rotation", "flip", "noise"):
            raise ValueError(f"unknown augmentation {key!r}; use shift, rotation, flip and noise, or none")
        if not eq:
            if key != "flip":
                raise ValueError(f"augmentation {key!r} needs a value, e.g. {key}=2")
            values[key] = True
            continue
        parsed = _parse_value(value)
        if isinstance(parsed, str):
            raise ValueError(f"augmentation {key} must be a number, got {value!r}")
        values[key] = parsed
    augmenter = Augmenter(**values)
    return augmenter.to_dict() if augmenter.enabled else None


def _add_data_args(p: argparse.ArgumentParser, *, required: bool = True) -> None:
    p.add_argument(
        "--data",
        required=required,
        metavar="NAME|PATH",
        help="a built-in data set (mnist, fashion-mnist, kmnist, spiral, moons, circles, xor, blobs, shapes, "
        "regression) or an IDX folder, .npz or .csv file",
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
        "--early-stopping", type=int, metavar="EPOCHS", help="stop after this many epochs without improvement"
    )
    g.add_argument(
        "--seed",
        type=int,
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
    d.add_argument("--subset", type=int, metavar="N", help="use only this many training samples")
    d.add_argument(
        "--normalization",
        choices=NORMALIZATIONS,
        default="standardize",
        help="input normalisation fitted on the training split (default: standardize)",
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
        description="Train a network file on a data set, showing progress, and write a run folder.",
    )
    p.add_argument("network", metavar="NETWORK.json", help="the network file")
    _add_training_args(p)
    p.add_argument(
        "--out", metavar="FOLDER", help="the run folder (default: a new folder under the runs folder)"
    )
    p.add_argument("--no-steps", action="store_true", help="do not record the loss of every step (steps.csv)")
    p.set_defaults(handler=_cmd_train)

    p = sub.add_parser(
        "evaluate",
        help="evaluate a model on a data set's test split",
        description="Loss, accuracy, confusion matrix and per-class accuracy of a model file.",
    )
    p.add_argument("model", metavar="MODEL", help="a model file (.dllab.npz)")
    _add_data_args(p, required=False)
    p.add_argument(
        "--split", choices=("test", "train"), default="test", help="which part to evaluate (default: test)"
    )
    p.set_defaults(handler=_cmd_evaluate)

    p = sub.add_parser("export", help="export a model to ONNX", description="Write a model file as ONNX.")
    p.add_argument("model", metavar="MODEL", help="a model file (.dllab.npz)")
    p.add_argument("--onnx", required=True, metavar="PATH", help="the ONNX file to write")
    p.add_argument("--opset", type=int, help="ONNX opset (default: the exporter's)")
    p.set_defaults(handler=_cmd_export)

    p = sub.add_parser(
        "info",
        help="describe a model file",
        description="Network summary, preprocessing, classes and training summary of a model file.",
    )
    p.add_argument("model", metavar="MODEL", help="a model file (.dllab.npz)")
    p.set_defaults(handler=_cmd_info)

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
        "--seed", type=int, metavar="N", default=0, help="seeds the weights and the inputs (default: 0)"
    )
    p.set_defaults(handler=_cmd_gradcheck)

    p = sub.add_parser("runs", help="list past training runs", description="List the recorded training runs.")
    p.add_argument("--root", metavar="FOLDER", help="the folder of runs (default: the dllab runs folder)")
    p.set_defaults(handler=_cmd_runs)

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
    v.add_argument("--weight-decays", metavar="LIST", help="e.g. 0,0.01,0.1")
    v.add_argument("--batch-sizes", metavar="LIST", help="e.g. 32,128,512")
    v.add_argument("--lrs", metavar="LIST", help="learning rates, e.g. 0.001,0.01,0.1")
    _add_training_args(p, data_required=False)
    p.add_argument(
        "--out", metavar="FOLDER", help="the output folder (default: a new folder under the runs folder)"
    )
    # None marks what the user did not give, so a preset can refuse it; the usual defaults apply otherwise.
    unset = (*PRESET_FIXED, "epochs")
    defaults = {name: p.get_default(name) for name in unset}
    p.set_defaults(**dict.fromkeys(unset), handler=_cmd_compare, training_defaults=defaults)

    p = sub.add_parser(
        "search",
        help="random search of learning rate and weight decay on a log scale",
        description="Train a network once per trial with a learning rate and/or weight decay drawn "
        "log-uniformly from the given ranges, score every trial on the validation split (never the test "
        "set) and rank them. Writes search.csv, search_epochs.csv and search.png.",
    )
    p.add_argument("network", metavar="NETWORK.json", help="the network file")
    r = p.add_argument_group("search")
    r.add_argument("--trials", type=int, default=20, metavar="N", help="number of trials (default: 20)")
    r.add_argument("--lr-range", metavar="LOW,HIGH", help="learning rates to draw from, e.g. 1e-6,1e-2")
    r.add_argument("--wd-range", metavar="LOW,HIGH", help="weight decays to draw from, e.g. 1e-8,1e-4")
    r.add_argument(
        "--top-k", type=int, default=5, metavar="K", help="best trials drawn in the figure (default: 5)"
    )
    _add_training_args(p)
    p.add_argument(
        "--out", metavar="FOLDER", help="the output folder (default: a new folder under the runs folder)"
    )
    p.set_defaults(handler=_cmd_search)
    return parser


# --- progress --------------------------------------------------------------------------------------------


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    if seconds < 60:
        return f"{seconds:.1f}s"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _fmt(value: float, digits: int = 4) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:.{digits}f}" if abs(value) < 1e6 else f"{value:.3g}"  # a diverging loss stays short


class ProgressBar:
    """Shows a training run's progress on a text stream.

    On a terminal it is one line rewritten in place (``\\r``) at most ``refresh`` times a second: epoch, a
    bar, the epoch's mean loss so far, the last validation accuracy, samples per second and the time left.
    On anything else (a log file, a pipe) it writes plain lines: one per epoch and one every ``interval``
    seconds in between. Every finished epoch gets a line of its own in both cases.

    Parameters
    ----------
    stream
        Where to write (usually ``sys.stderr``).
    label
        Text put before every line (e.g. a comparison's variant).
    tty
        Whether to rewrite one line; by default ``stream.isatty()``.
    interval
        Seconds between plain progress lines when not on a terminal.
    refresh
        Seconds between redraws on a terminal.
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        label: str = "",
        tty: bool | None = None,
        interval: float = 10.0,
        refresh: float = 0.1,
    ) -> None:
        self.stream = stream
        self.label = label
        if tty is None:
            isatty = getattr(stream, "isatty", None)
            tty = bool(isatty()) if callable(isatty) else False
        self.tty = tty
        self.interval = interval
        self.refresh = refresh
        self._start = time.monotonic()
        self._last_draw = -math.inf
        self._width = 0
        self._epochs = 0
        self._total = 0
        self._epoch_losses: list[float] = []
        self._accuracy = math.nan
        self._last: BatchEnded | None = None

    def handle(self, event: Event) -> None:
        """Update the display for one trainer event."""
        now = time.monotonic()
        if isinstance(event, RunStarted):
            self._start, self._total = now, event.total_steps
            # With a step limit, the epochs that will actually run.
            self._epochs = min(event.epochs, -(-event.total_steps // max(event.batches_per_epoch, 1)))
            self._last_draw = now
        elif isinstance(event, BatchEnded):
            if event.batch == 1:
                self._epoch_losses = []
            self._epoch_losses.append(event.loss)
            self._last = event
            wait = self.refresh if self.tty else self.interval
            if now - self._last_draw >= wait:
                self._last_draw = now
                self._show(self._progress_line(now))
        elif isinstance(event, EpochEnded):
            self._accuracy = event.val_accuracy if math.isfinite(event.val_accuracy) else event.train_accuracy
            self._last_draw = now
            self._print(self._epoch_line(event))
        elif isinstance(event, Paused):
            self._print("paused")
        elif isinstance(event, Resumed):
            self._print("resumed")
        elif isinstance(event, Finished | Stopped | Diverged):
            self.close()

    def _progress_line(self, now: float) -> str:
        last = self._last
        assert last is not None
        done = last.step / max(self._total, 1)
        elapsed = now - self._start
        eta = elapsed * (self._total - last.step) / last.step if last.step else math.nan
        bar_width = 20
        filled = int(done * bar_width)
        bar = "#" * filled + "." * (bar_width - filled)
        loss = float(np.mean(self._epoch_losses)) if self._epoch_losses else math.nan
        return (
            f"{self.label}epoch {last.epoch}/{self._epochs} [{bar}] {done:4.0%}  loss {_fmt(loss)}  "
            f"val acc {_fmt(self._accuracy, 3)}  {last.samples_per_second:,.0f} samples/s  ETA {_duration(eta)}"
        )

    def _epoch_line(self, e: EpochEnded) -> str:
        best = "  *" if e.improved else ""
        return (
            f"{self.label}epoch {e.epoch}/{self._epochs}  loss {_fmt(e.train_loss)}  acc {_fmt(e.train_accuracy, 3)}"
            f"  val loss {_fmt(e.val_loss)}  val acc {_fmt(e.val_accuracy, 3)}  lr {e.lr:.3g}  "
            f"{e.samples_per_second:,.0f} samples/s  {_duration(e.elapsed)}{best}"
        )

    def _show(self, line: str) -> None:
        if self.tty:
            padding = " " * max(self._width - len(line), 0)
            self.stream.write("\r" + line + padding)
            self._width = len(line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def _print(self, line: str) -> None:
        self.close()
        self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        """Clear the in-place line (on a terminal)."""
        if self.tty and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0


def _download_progress(stream: TextIO) -> Callable[[int, int | None, str], None]:
    """A download progress callback that writes a line per 10 % (and per message)."""
    state = {"shown": -1, "message": ""}

    def report(done: int, total: int | None, message: str) -> None:
        tenth = int(10 * done / total) if total else -1
        if message != state["message"] or tenth > state["shown"]:
            state["message"], state["shown"] = message, tenth
            size = f"{done / 1e6:.1f} MB" + (f" of {total / 1e6:.1f} MB" if total else "")
            stream.write(f"{message} ({size})\n")
            stream.flush()

    return report


@contextlib.contextmanager
def stop_on_interrupt(stop: Callable[[], None], stream: TextIO) -> Iterator[list[bool]]:
    """While active, Ctrl-C calls ``stop`` (training ends cleanly after the batch); a second one aborts.

    Yields a list that holds True once Ctrl-C was pressed. Outside the main thread (where signal handlers
    cannot be set) it does nothing.
    """
    pressed: list[bool] = []
    if threading.current_thread() is not threading.main_thread():
        yield pressed
        return

    def handler(signum: int, frame: Any) -> None:
        if pressed:
            raise KeyboardInterrupt
        pressed.append(True)
        stream.write("\nstopping after this batch (press Ctrl-C again to abort)\n")
        stream.flush()
        stop()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield pressed
    finally:
        signal.signal(signal.SIGINT, previous)


# --- commands --------------------------------------------------------------------------------------------


def _data_settings(args: argparse.Namespace) -> DataSettings:
    return DataSettings(
        dataset=args.data,
        val_fraction=args.val_split,
        subset=args.subset,
        normalization=args.normalization,
    )


def _training_config(args: argparse.Namespace) -> TrainingConfig:
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


def _check_augment(config: TrainingConfig, image_shape: tuple[int, ...] | None, name: str) -> None:
    if config.augment is not None and image_shape is None:
        raise ValueError(
            f"augmentation works on images, and the data set {name!r} holds none; use --augment none"
        )


def _new_folder(out: str | None, network_name: str, kind: str = "") -> Path:
    if out is None:
        return new_run_folder(network_name, kind=kind)
    folder = Path(out).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _cmd_train(args: argparse.Namespace) -> int:
    out, err = sys.stdout, sys.stderr
    if args.out and (Path(args.out) / CONFIG_FILE).exists():
        raise RunError(f"{args.out} already holds a run; choose another --out folder")
    model = build(args.network, seed=args.seed)
    settings = _data_settings(args)
    config = _training_config(args)
    prepared = settings.prepare(model.input_shape, seed=args.seed, progress=_download_progress(err))
    _check_augment(config, prepared.image_shape, prepared.name)
    trainer = Trainer(model, prepared, config)
    folder = _new_folder(args.out, model.name)
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
            f"test accuracy {_fmt(last.test_accuracy)} (test loss {_fmt(last.test_loss)}) after {last.epochs} epochs, "
            f"{last.step} steps, {_duration(last.elapsed)} ({last.reason})",
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


def format_evaluation(evaluation: Evaluation, class_names: Sequence[str]) -> str:
    """Loss, accuracy, confusion matrix and per-class accuracy as text."""
    n = len(evaluation.labels)
    lines = [f"loss {evaluation.loss:.4f}"]
    if evaluation.confusion is None:
        return "\n".join(lines)
    correct = int(np.trace(evaluation.confusion))
    lines[0] += f"  accuracy {evaluation.accuracy:.4f} ({correct:,} of {n:,} correct)"
    confusion = evaluation.confusion
    k = len(confusion)
    names = [str(class_names[i]) if i < len(class_names) else str(i) for i in range(k)]
    names = [name if len(name) <= 14 else name[:13] + "~" for name in names]
    label_width = max(len(name) for name in names)
    cell = max(len(f"{confusion.max():,}"), len(str(k - 1)), 3) + 1
    lines.append("")
    lines.append("confusion matrix (rows: true class, columns: predicted class)")
    lines.append(" " * (label_width + 4) + "".join(str(j).rjust(cell) for j in range(k)))
    for i in range(k):
        row = "".join(f"{confusion[i, j]:,}".rjust(cell) for j in range(k))
        lines.append(f"{names[i].ljust(label_width)} {str(i).rjust(2)} {row}")
    lines.append("")
    lines.append("per-class accuracy")
    totals = confusion.sum(axis=1)
    for i, acc in enumerate(
        evaluation.per_class_accuracy if evaluation.per_class_accuracy is not None else []
    ):
        lines.append(
            f"{names[i].ljust(label_width)} {str(i).rjust(2)}  {_fmt(float(acc))}  ({totals[i]:,} samples)"
        )
    return "\n".join(lines)


def _cmd_evaluate(args: argparse.Namespace) -> int:
    model = load(args.model)
    data = args.data or model.training_summary.get("dataset")
    if not data:
        raise ValueError(
            "say which data to evaluate on with --data (the model file does not name its data set)"
        )
    dataset = load_dataset(data, progress=_download_progress(sys.stderr))
    x, y = (dataset.x_test, dataset.y_test) if args.split == "test" else (dataset.x_train, dataset.y_train)
    if model.preprocessing:
        x = Normalizer.from_dict(model.preprocessing).transform(x)
    x = reshape_for(np.asarray(x, dtype=np.float32), model.input_shape)
    if dataset.task == "classification" and model.loss.name != "mse":
        outputs = model.output_shape[0]
        if dataset.num_classes > outputs and not (dataset.num_classes == 2 and outputs == 1):
            raise ValueError(
                f"the data has {dataset.num_classes} classes but the model has only {outputs} outputs"
            )
    evaluation = evaluate(model, x, y)
    names = model.class_names or dataset.class_names
    print(f"model {model.name} from {args.model}; {dataset.name} {args.split} split, {len(x):,} samples")
    print(format_evaluation(evaluation, names))
    return EXIT_OK


def _cmd_export(args: argparse.Namespace) -> int:
    model = load(args.model)
    try:
        from dllab.onnx_export import export_onnx

        path = export_onnx(model, args.onnx, opset=args.opset)
    except ImportError as exc:
        raise ValueError(f"ONNX export needs the onnx package ({exc})") from None
    print(f"wrote {path}")
    return EXIT_OK


def _describe_preprocessing(pre: dict[str, Any]) -> str:
    if not pre:
        return "none stored (inputs are used as given)"
    kind = pre.get("kind", "?")
    shape = pre.get("input_shape")
    text = f"{kind}" + (f" for inputs of shape {tuple(shape)}" if shape else "")

    def values(key: str) -> str:
        vals = pre.get(key) or []
        shown = ", ".join(f"{v:.4g}" for v in vals[:4])
        return shown + (f", ... ({len(vals)} values)" if len(vals) > 4 else "")

    if kind == "standardize" and "mean" in pre:
        text += f"; mean {values('mean')}; std {values('std')}"
    elif kind == "scale" and "low" in pre:
        text += f"; low {values('low')}; high {values('high')}"
    return text


def _cmd_info(args: argparse.Namespace) -> int:
    info = read_model_info(args.model)
    try:
        model = build(info["spec"], seed=0)
    except SpecError as exc:
        raise ModelFileError(info["path"], f"has a network spec that cannot be built ({exc})") from None
    print(f"file: {info['path']}")
    print(
        f"format: {info.get('format')} (written by dllab {info.get('dllab_version', '?')}), {info.get('dtype')}"
    )
    print(model.summary())
    print(f"preprocessing: {_describe_preprocessing(info.get('preprocessing') or {})}")
    classes = info.get("class_names") or []
    print(f"classes ({len(classes)}): {', '.join(classes)}" if classes else "classes: not stored")
    summary = info.get("training_summary") or {}
    if summary:
        print("training summary:")
        width = max(len(k) for k in summary)
        for key, value in summary.items():
            shown = f"{value:.4g}" if isinstance(value, float) else value
            print(f"  {key.ljust(width)}  {shown}")
    else:
        print("training summary: none")
    return EXIT_OK


def _cmd_gradcheck(args: argparse.Namespace) -> int:
    spec = read_spec(args.network)
    if args.checks < 1:
        raise ValueError(f"--checks must be at least 1, got {args.checks}")
    result = gradcheck(spec, max_checks=args.checks, batch_size=args.batch_size, seed=args.seed)
    print(result.report())
    passed = result.passed(args.tolerance)
    verdict = "passed" if passed else "FAILED"
    print(f"max relative error {result.max_error:.2e}: {verdict} (tolerance {args.tolerance:g})")
    return EXIT_OK if passed else EXIT_FAILED


def _cmd_runs(args: argparse.Namespace) -> int:
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
                _fmt(r.best_val_accuracy if r.best_val_accuracy is not None else math.nan),
                _fmt(r.test_accuracy if r.test_accuracy is not None else math.nan),
            )
        )
    _print_table(rows, 4, sys.stdout)
    print(f"{len(infos)} runs in {root}")
    for r in infos:
        if r.error:
            print(f"damaged: {r.error}", file=sys.stderr)
    return EXIT_OK


def _print_table(rows: Sequence[Sequence[str]], numeric_from: int, stream: TextIO) -> None:
    """Rows of text cells as aligned columns, the first row a header underlined with dashes."""
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    for k, row in enumerate(rows):
        cells = [
            cell.rjust(w) if c >= numeric_from else cell.ljust(w)
            for c, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells).rstrip(), file=stream)
        if k == 0:
            print("  ".join("-" * w for w in widths), file=stream)


def _check_out_empty(out: str | None) -> None:
    if out and Path(out).exists() and any(Path(out).iterdir()):
        raise ValueError(f"{out} exists and is not empty; choose another --out folder")


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


def _preset_comparison(args: argparse.Namespace) -> Comparison:
    given = [flag for name, flag in PRESET_FIXED.items() if getattr(args, name) is not None]
    given += [flag for factor, flag in FACTOR_FLAGS.items() if getattr(args, _dest(flag)) is not None]
    if args.network is not None:
        given.insert(0, args.network)
    if given:
        raise ValueError(
            f"--preset {args.preset} sets the network, the data and the training settings; leave out "
            f"{', '.join(given)} (only --data, --epochs, --max-steps, --seed, --quick, --book and --out go with it)"
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
        progress=_download_progress(sys.stderr),
    )


def _dest(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


def _cmd_compare(args: argparse.Namespace) -> int:
    out, err = sys.stdout, sys.stderr
    if args.list_presets:
        return _list_presets()
    _check_out_empty(args.out)
    if args.preset is not None:
        comparison = _preset_comparison(args)
        preset = get_preset(args.preset)
        name, kind = preset.name, "compare"
        err.write(f"{preset.describe()}\n")
    else:
        if args.quick or args.book:
            raise ValueError("--quick and --book go with --preset NAME")
        if args.network is None:
            raise ValueError("give a network file to compare, or --preset NAME (see --list-presets)")
        if args.data is None:
            raise ValueError("say which data to train on with --data, e.g. --data mnist")
        for key, value in args.training_defaults.items():
            if getattr(args, key) is None:
                setattr(args, key, value)
        factors: dict[str, list[str]] = {}
        for factor in FACTORS:
            text = getattr(args, _dest(FACTOR_FLAGS[factor]))
            if text is not None:
                factors[factor] = [v for v in text.split(",") if v.strip()]
        if not factors:
            raise ValueError(f"say what to compare with one or two of {', '.join(FACTOR_FLAGS.values())}")
        spec = read_spec(args.network)
        model = build(spec, seed=args.seed)
        settings = _data_settings(args)
        config = _training_config(args)
        prepared = settings.prepare(model.input_shape, seed=args.seed, progress=_download_progress(err))
        _check_augment(config, prepared.image_shape, prepared.name)
        comparison = Comparison(
            spec,
            prepared,
            config,
            factors,
            keep_lr=args.lr is not None,
            seed=args.seed,
            data_settings=settings,
        )
        name, kind = model.name, "compare"
    folder = _new_folder(args.out, name, kind=kind)  # only once everything is known to be valid
    comparison.out = folder
    data = comparison.data
    err.write(
        f"comparing {len(comparison.variants)} settings on {data.name} ({len(data.x_train):,} training, "
        f"{len(data.x_val):,} validation samples): {', '.join(v.label for v in comparison.variants)}\n"
    )
    progress: ProgressBar | None = None
    with stop_on_interrupt(comparison.stop, err) as pressed:
        for tagged in comparison.run():
            if isinstance(tagged.event, RunStarted):
                progress = ProgressBar(err, label=f"[{tagged.label}] ")
            if progress is not None and not isinstance(tagged.event, TestEvaluated):
                progress.handle(tagged.event)
    rows = [("variant", "status", "final loss", "train acc", "val acc", "test acc")]
    for r in comparison.results:
        smoothed = r.smoothed_losses()
        final = float(smoothed[np.isfinite(smoothed)][-1]) if np.isfinite(smoothed).any() else math.nan
        rows.append(
            (
                r.label,
                r.status,
                _fmt(final),
                _fmt(r.final_train_accuracy),
                _fmt(r.final_val_accuracy),
                _fmt(r.test_accuracy),
            )
        )
    _print_table(rows, 2, out)
    if comparison.test_curve:
        print(
            "test accuracy per epoch is in comparison.csv, for display only (nothing is chosen by it)",
            file=out,
        )
    for key, path in comparison.outputs.items():
        print(f"{key.replace('_', ' ')}: {path.resolve()}", file=out)
    print(f"output folder: {folder.resolve()}", file=out)
    return EXIT_INTERRUPTED if pressed else EXIT_OK


def _cmd_search(args: argparse.Namespace) -> int:
    out, err = sys.stdout, sys.stderr
    ranges = {}
    for name, text in (("lr", args.lr_range), ("weight_decay", args.wd_range)):
        if text is not None:
            ranges[name] = parse_range(text, f"{SEARCHABLE[name]} range")
    if not ranges:
        raise ValueError("say what to search with --lr-range LOW,HIGH and/or --wd-range LOW,HIGH")
    _check_out_empty(args.out)
    spec = read_spec(args.network)
    model = build(spec, seed=args.seed)
    settings = _data_settings(args)
    config = _training_config(args)
    if args.val_split <= 0:
        raise ValueError("a search scores its trials on a validation split; give --val-split above 0")
    prepared = settings.prepare(model.input_shape, seed=args.seed, progress=_download_progress(err))
    _check_augment(config, prepared.image_shape, prepared.name)
    search = RandomSearch(
        spec,
        prepared,
        config,
        ranges,
        trials=args.trials,
        seed=args.seed,
        data_settings=settings,
        top_k=args.top_k,
    )
    folder = _new_folder(args.out, model.name, kind="search")
    search.out = folder
    drawn = "; ".join(f"{SEARCHABLE[n]} {lo:g} to {hi:g}" for n, (lo, hi) in search.ranges.items())
    err.write(
        f"searching {args.trials} trials of {model.name} on {prepared.name}, log-uniform {drawn} (seed "
        f"{args.seed}); training on {len(prepared.x_train):,} samples, scored on {len(prepared.x_val):,} "
        f"validation samples; the test set is not used\n"
    )
    with stop_on_interrupt(search.stop, err) as pressed:
        for event in search.run():
            if isinstance(event.event, Finished | Stopped | Diverged):
                r = search.results[event.trial]
                err.write(
                    f"trial {event.trial + 1}/{args.trials}  {describe_params(event.params)}  best val acc "
                    f"{_fmt(r.best_val_accuracy)}  {r.status}\n"
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
                _fmt(r.best_val_accuracy),
                str(best_epoch(r) or "-"),
                _fmt(r.final_val_accuracy),
                _fmt(r.final_train_accuracy),
                r.status,
            )
        )
    _print_table(rows, 0, out)
    best = ranked[0]
    if math.isfinite(best.best_val_accuracy):
        print(
            f"best: trial {best.index + 1}, {describe_params(best.settings)}, validation accuracy "
            f"{_fmt(best.best_val_accuracy)} at epoch {best_epoch(best)}",
            file=out,
        )
    for key, path in search.outputs.items():
        print(f"{key.replace('_', ' ')}: {path.resolve()}", file=out)
    print(f"output folder: {folder.resolve()}", file=out)
    return EXIT_INTERRUPTED if pressed else EXIT_OK


# --- entry point -----------------------------------------------------------------------------------------


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and not isinstance(exc, ModelFileError) and exc.strerror:
        text = exc.strerror + (f": {exc.filename}" if exc.filename else "")
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())


def main(argv: Sequence[str] | None = None) -> int:
    """Run a ``dllab`` subcommand.

    Parameters
    ----------
    argv
        The arguments after the program name; ``sys.argv[1:]`` when None.

    Returns
    -------
    int
        The exit status: 0 success, 1 a failed check or a diverged run, 2 a user mistake (reported as one
        line on stderr), 130 interrupted.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        print(f"dllab: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    try:
        return int(args.handler(args))
    except _USER_ERRORS as exc:
        sys.stderr.write(f"dllab: error: {_one_line(exc)}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("\ndllab: interrupted\n")
        return EXIT_INTERRUPTED
