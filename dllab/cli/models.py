"""``dllab evaluate``, ``precision``, ``export``, ``info`` and ``gradcheck``: commands on a model or network file."""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np

from dllab.cli.status import EXIT_FAILED, EXIT_OK
from dllab.cli.terminal import download_progress, format_metric, print_table, printable
from dllab.data import DATASET_NAMES, Dataset, load_dataset, model_inputs
from dllab.errors import SettingsError, quote
from dllab.experiments.precision import PRECISION_COLUMNS, PrecisionResult, precision_rows, precision_steps
from dllab.gradcheck import gradcheck
from dllab.io import ModelFileError, load, read_model_info
from dllab.metrics import Evaluation, evaluate
from dllab.model import Sequential, build
from dllab.onnx_import import describe_onnx, is_onnx_path, load_model
from dllab.precision import FLOAT16_METHOD, at_precision
from dllab.spec import SpecError, read_spec

#: The width notes under a table are wrapped to.
NOTE_WIDTH = 100


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
            f"{names[i].ljust(label_width)} {str(i).rjust(2)}  {format_metric(float(acc))}  ({totals[i]:,} samples)"
        )
    return "\n".join(lines)


def _data_named_by(model: Sequential, path: str) -> str:
    """The built-in data set a model file names, said on stderr; a path it names is refused, since a file
    must not make dllab read (or download) whatever it points at."""
    named = model.training_summary.get("dataset")
    if not named or not isinstance(named, str):
        raise SettingsError(
            "say which data to evaluate on with --data (the model file does not name its data set)"
        )
    if named.strip().lower().replace("_", "-") not in DATASET_NAMES:
        raise SettingsError(
            f"the model file names the data {quote(printable(named))}, which is not a built-in data set; "
            "give the data to evaluate on with --data"
        )
    sys.stderr.write(
        f"evaluating on {named}, the data set the model file names (choose another with --data)\n"
    )
    return named


def _evaluation_data(model: Sequential, args: argparse.Namespace) -> tuple[Dataset, np.ndarray, np.ndarray]:
    """The data set of ``--data`` (or the one the model names) and the ``--split`` part of it, preprocessed as
    the model stores and shaped for its network: ``(dataset, x, y)``."""
    data = args.data if args.data is not None else _data_named_by(model, args.model)
    color, size = args.image_color, args.image_size
    shape = model.input_shape
    if color == "auto" and size is None and len(shape) == 3 and shape[0] in (1, 3):
        # An image folder is read the way the model sees images: its channels and its size.
        color, size = ("grayscale" if shape[0] == 1 else "rgb"), (shape[1], shape[2])
    dataset = load_dataset(data, progress=download_progress(sys.stderr), image_color=color, image_size=size)
    for note in dataset.notes:
        sys.stderr.write(printable(note) + "\n")
    x, y = (dataset.x_test, dataset.y_test) if args.split == "test" else (dataset.x_train, dataset.y_train)
    x = model_inputs(x, model.preprocessing, model.input_shape)
    if dataset.task == "classification" and model.loss.name != "mse":
        outputs = model.output_shape[0]
        if dataset.num_classes > outputs and not (dataset.num_classes == 2 and outputs == 1):
            raise SettingsError(
                f"the data has {dataset.num_classes} classes but the model has only {outputs} outputs"
            )
    return dataset, x, y


def evaluate_command(args: argparse.Namespace) -> int:
    """``dllab evaluate``: a model file's (or an ONNX file's) loss, accuracy and confusion matrix on a data set
    (``--dtype``: in that precision)."""
    model = load_model(args.model)
    if args.dtype is not None:
        model = at_precision(model, args.dtype)
    dataset, x, y = _evaluation_data(model, args)
    evaluation = evaluate(model, x, y)
    names = model.class_names or dataset.class_names
    precision = "" if args.dtype is None else f" in {args.dtype}"
    print(
        printable(
            f"model {model.name} from {args.model}{precision}; {dataset.name} {args.split} split, "
            f"{len(x):,} samples"
        )
    )
    if args.dtype is not None and model.rounds:
        print(textwrap.fill(f"{FLOAT16_METHOD}.", width=NOTE_WIDTH))
    print(_printable_lines(format_evaluation(evaluation, names)))
    return EXIT_OK


def precision_command(args: argparse.Namespace) -> int:
    """``dllab precision``: a model file evaluated in float64, float32 and float16 side by side."""
    model = load_model(args.model)
    dataset, x, y = _evaluation_data(model, args)
    steps = precision_steps(model, x, y, batch_size=args.batch_size)
    print(
        printable(
            f"model {model.name} from {args.model}; {dataset.name} {args.split} split, {len(x):,} samples, "
            f"batches of {min(args.batch_size, len(x)):,}"
        )
    )
    progress = sys.stderr.isatty()
    results = []
    for step in steps:
        if isinstance(step, PrecisionResult):
            results.append(step)
        elif progress:
            sys.stderr.write(f"\r{step.precision}: {step.done} of {step.total} batches")
    if progress:
        sys.stderr.write("\r\x1b[K")
    print_table(precision_rows(results), 1, sys.stdout)
    print()
    print(textwrap.fill(PRECISION_COLUMNS, width=NOTE_WIDTH))
    print(textwrap.fill(f"{FLOAT16_METHOD}.", width=NOTE_WIDTH))
    return EXIT_OK


def export_command(args: argparse.Namespace) -> int:
    """``dllab export``: write a model file as ONNX."""
    model = load(args.model)
    try:
        from dllab.onnx_export import export_onnx

        path = export_onnx(model, args.onnx, opset=args.opset)
    except ImportError as exc:
        raise SettingsError(f"ONNX export needs the onnx package ({exc})") from None
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


def _printable_lines(text: str) -> str:
    """Multi-line text with each line :func:`~dllab.cli.terminal.printable` (names read from a file)."""
    return "\n".join(printable(line) for line in text.split("\n"))


def info_command(args: argparse.Namespace) -> int:
    """``dllab info``: summary, preprocessing, classes and training summary of a model file; inputs, outputs,
    operators and parameter count of an ONNX file."""
    if is_onnx_path(args.model):
        print(_printable_lines("\n".join(describe_onnx(args.model).lines())))
        return EXIT_OK
    info = read_model_info(args.model)
    try:
        model = build(info["spec"], seed=0)
    except SpecError as exc:
        raise ModelFileError(info["path"], f"has a network spec that cannot be built ({exc})") from None
    lines = [
        f"file: {info['path']}",
        f"format: {info.get('format')} (written by dllab {info.get('dllab_version', '?')}), {info.get('dtype')}",
        model.summary(),
        f"preprocessing: {_describe_preprocessing(info.get('preprocessing') or {})}",
    ]
    classes = info.get("class_names") or []
    names = ", ".join(printable(name) for name in classes)
    lines.append(f"classes ({len(classes)}): {names}" if classes else "classes: not stored")
    summary = info.get("training_summary") or {}
    if summary:
        lines.append("training summary:")
        width = max(len(k) for k in summary)
        for key, value in summary.items():
            shown = f"{value:.4g}" if isinstance(value, float) else value
            lines.append(f"  {printable(key).ljust(width)}  {printable(shown)}")
    else:
        lines.append("training summary: none")
    print(_printable_lines("\n".join(lines)))
    return EXIT_OK


def gradcheck_command(args: argparse.Namespace) -> int:
    """``dllab gradcheck``: backprop against numerical gradients; exit status 1 when it fails."""
    spec = read_spec(args.network)
    if args.checks < 1:
        raise SettingsError(f"--checks must be at least 1, got {args.checks}")
    result = gradcheck(spec, max_checks=args.checks, batch_size=args.batch_size, seed=args.seed)
    print(result.report())
    passed = result.passed(args.tolerance)
    verdict = "passed" if passed else "FAILED"
    print(f"max relative error {result.max_error:.2e}: {verdict} (tolerance {args.tolerance:g})")
    return EXIT_OK if passed else EXIT_FAILED
