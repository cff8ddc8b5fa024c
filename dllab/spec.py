"""The network spec: the one JSON description of a network shared by the builder, files, the CLI and models.

A spec is validated completely before anything is allocated: unknown types or keys, bad values and shapes
that do not fit together raise :class:`SpecError`, which names the layer's index, its type and what is
wrong. :func:`analyze` goes through a spec without allocating weights and reports every layer's output shape
and parameter count up to the first problem, for a builder that shows them while the user edits.

Sane limits keep a spec from asking for more memory than any machine has: a network has at most
:data:`MAX_PARAMETERS` parameters, one sample at most :data:`MAX_VALUES` values at any layer (input
included), and an integer setting is at most :data:`dllab.settings.MAX_INTEGER`. A network file (or design
file) is a regular file of at most :data:`MAX_FILE_SIZE` bytes of UTF-8 JSON nested at most
:data:`JSON_DEPTH_LIMIT` deep; :func:`parse_json` reads such JSON for every reader of a user's JSON.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dllab import activations, layers, losses
from dllab.errors import DamagedFileError, DllabError, SettingsError
from dllab.files import open_regular, read_at_most
from dllab.layers import Layer
from dllab.registry import Registry
from dllab.settings import MAX_INTEGER, shown

FORMAT = "dllab.network/1"
_FORMAT_PREFIX = "dllab.network/"
#: A design file of the desktop app: ``{"format": DESIGN_FORMAT, "network": <spec>, "data": {...},
#: "training": {...}}``. Wherever a network file is read, a design file gives its network.
DESIGN_FORMAT = "dllab.design/1"
#: Documents that carry a network under ``"network"`` beside their other settings: a design file, an experiment
#: file (:mod:`dllab.experiment`) and a run folder's ``config.json`` (:mod:`dllab.runs`).
NETWORK_CARRIERS = (DESIGN_FORMAT, "dllab.experiment/1", "dllab.run/1")

#: Every layer type (activations included) by its spec name, in the order a palette shows them.
LAYER_TYPES: Registry[Layer] = Registry(
    "layer type",
    (
        layers.Dense,
        layers.Conv2D,
        layers.MaxPool2D,
        layers.AvgPool2D,
        layers.Flatten,
        layers.BatchNorm,
        layers.Dropout,
        activations.ReLU,
        activations.LeakyReLU,
        activations.Sigmoid,
        activations.Tanh,
        activations.ELU,
        activations.GELU,
        activations.Step,
    ),
    key="type_name",
    extra_keys=("name",),
)

_TOP_LEVEL_KEYS = ("format", "name", "description", "input_shape", "layers", "loss")
_NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")  # the whole name: used with fullmatch

#: The most parameters a network may have (4 GB in float32); a spec asking for more is refused unbuilt.
MAX_PARAMETERS = 10**9
#: The most values one sample may have at any layer, input included.
MAX_VALUES = 10**9
#: The largest network or design file read (a spec is a few kilobytes).
MAX_FILE_SIZE = 16 * 2**20
#: The deepest nesting of lists and objects in a JSON document of a user's (a spec nests about 4 deep).
JSON_DEPTH_LIMIT = 64


class SpecError(DllabError, ValueError):
    """A network spec that cannot be built; says where (layer index and type) and what is wrong."""

    def __init__(self, message: str, index: int | None = None, layer_type: str | None = None) -> None:
        self.message = message
        self.index = index
        self.layer_type = layer_type
        where = "network" if index is None else f"layer {index}" + (f" ({layer_type})" if layer_type else "")
        super().__init__(f"{where}: {message}")


def json_too_deep(value: Any, limit: int = JSON_DEPTH_LIMIT) -> bool:
    """Whether ``value`` nests lists, tuples and dicts more than ``limit`` deep (checked without recursion).

    A scalar has depth 0, ``[]`` depth 1, ``[{}]`` depth 2.

    Examples
    --------
    >>> json_too_deep({"layers": [{"type": "Dense"}]}, limit=3)
    False
    >>> json_too_deep([[[[]]]], limit=3)
    True
    """
    containers = list | tuple | dict
    # The containers at each level of nesting, each once (a structure shared or cyclic stays small).
    level = [value] if isinstance(value, containers) else []
    for _ in range(limit):
        inside: dict[int, Any] = {}
        for item in level:
            for child in item.values() if isinstance(item, dict) else item:
                if isinstance(child, containers):
                    inside[id(child)] = child
        level = list(inside.values())
        if not level:
            return False
    return bool(level)


def _parse_int(text: str) -> int:
    """An integer of a JSON document; one no float can hold (over about 10**308) is refused."""
    value = int(text)
    float(value)  # OverflowError beyond the range of a float
    return value


def parse_json(text: str | bytes) -> Any:
    """The value of a JSON document from a user's file, within sane limits.

    Lists and objects nest at most :data:`JSON_DEPTH_LIMIT` deep, and every integer fits a float (so a
    reader may compare and convert numbers without overflow). ``NaN`` and ``Infinity`` are read as floats,
    as :func:`json.loads` does.

    Parameters
    ----------
    text
        The document; bytes must be UTF-8.

    Returns
    -------
    Any
        What :func:`json.loads` gives.

    Raises
    ------
    ValueError
        When the text is not valid JSON or breaks a limit; the message is a short reason for a reader to put
        in its own error, e.g. ``"Expecting value at line 1"`` or ``"nested deeper than 64 levels"``.
    """
    deep = f"nested deeper than {JSON_DEPTH_LIMIT} levels"
    try:
        value = json.loads(text, parse_int=_parse_int)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{exc.msg} at line {exc.lineno}") from None
    except RecursionError:
        raise ValueError(deep) from None
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None
    # An integer of more digits than Python converts, or larger than a float holds.
    except (ValueError, OverflowError):
        raise ValueError("a number too large to read") from None
    if json_too_deep(value):
        raise ValueError(deep)
    return value


def read_json_file(path: str | os.PathLike[str], *, limit: int = MAX_FILE_SIZE) -> Any:
    """The JSON value in a user's file: a regular file of at most ``limit`` bytes, read by :func:`parse_json`.

    Raises
    ------
    DamagedFileError
        When the file does not exist, is not a regular file (a FIFO, a device), is larger than ``limit``,
        is not UTF-8 or not valid JSON, or nests too deep; ``problem`` says which, e.g. ``"is not valid JSON
        (Expecting value at line 1)"``.
    """
    try:
        file = open_regular(path)
    except DamagedFileError:
        raise
    except ValueError:  # a name with a NUL character
        raise DamagedFileError(path, "is not a valid file name") from None
    with file:
        try:
            data = read_at_most(file, limit)
        except OSError as exc:
            raise DamagedFileError(path, f"cannot be read ({exc.strerror or exc})") from None
    if len(data) > limit:
        raise DamagedFileError(path, f"is larger than the {limit:,} bytes dllab reads from such a file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise DamagedFileError(path, "is not UTF-8 text") from None
    try:
        return parse_json(text)
    except ValueError as exc:
        raise DamagedFileError(path, f"is not valid JSON ({exc})") from None


def read_design(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The network spec in a network or design file, and the whole design document (``None`` for a network).

    The file is read once, by :func:`read_json_file`.

    Raises
    ------
    SpecError
        When the file cannot be read, is not JSON, holds no object, or is a design without a network.
    """
    path = Path(path)
    try:
        data = read_json_file(path)
    except DamagedFileError as exc:
        if exc.problem.startswith("is not valid JSON"):
            raise SpecError(f"{path.name} {exc.problem}") from None
        raise SpecError(f"network file {str(path)!r} {exc.problem}") from None
    if not isinstance(data, dict):
        raise SpecError(f"{path.name} must hold a JSON object, not {type(data).__name__}")
    if data.get("format") in NETWORK_CARRIERS:
        network = data.get("network")
        if not isinstance(network, dict):
            kind = {"dllab.experiment/1": "experiment", "dllab.run/1": "run configuration"}.get(
                data["format"], "design"
            )
            raise SpecError(
                f"{path.name} is a dllab {kind} without a network (a JSON object under 'network')"
            )
        return network, data
    return data, None


def read_spec(source: dict[str, Any] | str | os.PathLike[str]) -> dict[str, Any]:
    """The spec as a dict: a dict is copied, a path is read as JSON. Errors become :class:`SpecError`.

    A path may also hold a design file of the desktop app (format :data:`DESIGN_FORMAT`: the network with
    the data and training settings beside it); its ``"network"`` is the spec. The file must be a regular
    file (not a pipe or a device) of at most :data:`MAX_FILE_SIZE` bytes; a spec, read or given, may nest at
    most :data:`JSON_DEPTH_LIMIT` deep.
    """
    if isinstance(source, dict):
        if json_too_deep(source):
            raise SpecError(f"the spec is nested deeper than {JSON_DEPTH_LIMIT} levels")
        return copy.deepcopy(source)
    if not isinstance(source, str | os.PathLike):
        raise SpecError(f"a spec must be a dict or the path of a network file, not {type(source).__name__}")
    return read_design(source)[0]


def _check_top_level(spec: dict[str, Any]) -> tuple[str, tuple[int, ...], str, list[Any]]:
    unknown = [k for k in spec if k not in _TOP_LEVEL_KEYS]
    if unknown:
        raise SpecError(f"unknown key {shown(unknown[0])} (allowed: {', '.join(_TOP_LEVEL_KEYS)})")
    fmt = spec.get("format", FORMAT)
    if fmt != FORMAT:
        if isinstance(fmt, str) and fmt.startswith(_FORMAT_PREFIX):
            raise SpecError(
                f"format {shown(fmt)} is newer than this dllab understands ({FORMAT}); update dllab"
            )
        raise SpecError(f"format must be {FORMAT!r}, got {shown(fmt)}")
    name = spec.get("name", "network")
    if not isinstance(name, str) or not name.strip():
        raise SpecError(f"name must be a non-empty string, got {shown(name)}")
    shape = spec.get("input_shape")
    if (
        not isinstance(shape, list | tuple)
        or not shape
        or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in shape)
    ):
        raise SpecError(
            "input_shape must be a list of positive integers such as [784] or [1, 28, 28], "
            f"got {shown(shape)}"
        )
    if len(shape) not in (1, 3):
        raise SpecError(
            f"input_shape must be (features,) or (channels, height, width), got {shown(list(shape))}"
        )
    if any(d > MAX_INTEGER for d in shape) or math.prod(shape) > MAX_VALUES:
        raise SpecError(
            f"input_shape must have at most {MAX_VALUES:,} values per sample, got {shown(list(shape))}"
        )
    loss = spec.get("loss", "softmax_cross_entropy")
    try:
        losses.LOSSES.lookup(loss)
    except SettingsError as exc:
        raise SpecError(str(exc)) from None
    layer_list = spec.get("layers")
    if not isinstance(layer_list, list) or not layer_list:
        raise SpecError("layers must be a non-empty list")
    return name, tuple(shape), loss, layer_list


def _create_layer(index: int, entry: Any, used_names: set[str], counters: dict[str, int]) -> Layer:
    if not isinstance(entry, dict):
        raise SpecError(f"must be an object with a 'type', got {shown(entry)}", index)
    layer_type = entry.get("type")
    try:
        cls = LAYER_TYPES.lookup(layer_type)
    except SettingsError as exc:
        raise SpecError(str(exc), index) from None
    options = {k: v for k, v in entry.items() if k not in ("type", "name")}
    name = entry.get("name")
    if name is None:
        base = layer_type.lower()
        while True:
            counters[base] = counters.get(base, 0) + 1
            name = f"{base}_{counters[base]}"
            if name not in used_names:
                break
    elif not isinstance(name, str) or not _NAME_PATTERN.fullmatch(name):
        raise SpecError(
            f"name must be letters, digits, '_' or '-' (no dots), got {shown(name)}", index, layer_type
        )
    if name in used_names:
        raise SpecError(f"name {shown(name)} is used by an earlier layer", index, layer_type)
    used_names.add(name)
    if not all(isinstance(key, str) for key in options):
        raise SpecError("setting names must be strings", index, layer_type)
    try:
        return cls(name=name, **options)
    except ValueError as exc:
        raise SpecError(str(exc), index, layer_type) from None


def _too_large(layer: Layer, shape: tuple[int, ...], total: int) -> str | None:
    """Why ``layer`` (set up, with output ``shape``) asks for too much memory, or ``None``.

    ``total`` is the parameter count of the layers before it.
    """
    values = math.prod(shape)
    if values > MAX_VALUES:
        return f"its output of {values:,} values per sample is more than the {MAX_VALUES:,} allowed"
    count = layer.param_count
    if count > MAX_PARAMETERS:
        return f"it has {count:,} parameters, more than the {MAX_PARAMETERS:,} a network may have"
    if total + count > MAX_PARAMETERS:
        return (
            f"its {count:,} parameters bring the network to {total + count:,}, more than the "
            f"{MAX_PARAMETERS:,} a network may have"
        )
    return None


@dataclass
class LayerInfo:
    """What a builder shows for one layer."""

    index: int
    name: str
    type_name: str
    description: str
    output_shape: tuple[int, ...] | None
    param_count: int
    #: False for a frozen layer (``"trainable": false``): training leaves its parameters as they are.
    trainable: bool = True


@dataclass
class Analysis:
    """A spec gone through without allocating weights: per-layer shapes and counts up to the first error."""

    layers: list[LayerInfo] = field(default_factory=list)
    error: SpecError | None = None
    input_shape: tuple[int, ...] | None = None
    #: Legal but pointless or harmful stacks (:func:`stack_notes`): ``(layer index, one sentence)``; not errors.
    notes: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def param_count(self) -> int:
        """Every parameter value, frozen or not."""
        return sum(info.param_count for info in self.layers)

    @property
    def frozen_param_count(self) -> int:
        """The parameter values of frozen layers, which training leaves as they are."""
        return sum(info.param_count for info in self.layers if not info.trainable)

    @property
    def activation_count(self) -> int:
        """Values one sample produces in the forward pass, input included."""
        shapes = [self.input_shape] + [info.output_shape for info in self.layers]
        return sum(math.prod(s) for s in shapes if s)

    def batch_memory(self, batch_size: int, itemsize: int = 4) -> int:
        """Bytes one training batch needs: activations and their gradients, plus weights, gradients and
        two optimizer slots (Adam's)."""
        return itemsize * (2 * batch_size * self.activation_count + 4 * self.param_count)


def build_layers(source: dict[str, Any] | str | Path) -> tuple[dict[str, Any], list[Layer], Any]:
    """Validate a spec and create its layers (shapes set up, no weights yet).

    Returns the canonical spec (every name and default filled in), the layers and the loss object.
    Raises :class:`SpecError` on the first problem.
    """
    analysis, result = _walk(read_spec(source))
    if analysis.error is not None:
        raise analysis.error
    assert result is not None
    return result


def stack_notes(built: list[Layer], loss_name: str) -> list[tuple[int, str]]:
    """Stacks that build and train but do nothing, or harm (a gentle note each, never an error): what follows the
    output layer (the last with weights) when the loss computes on its outputs, an activation right after the
    same one, Dropout of rate 0, a Flatten of flat values. ``(layer index, one sentence)`` each, in order."""
    notes: list[tuple[int, str]] = []
    weighted = [i for i, layer in enumerate(built) if layer.param_count]
    output = weighted[-1] if weighted else None
    squashing = loss_name in ("softmax_cross_entropy", "sigmoid_binary_cross_entropy")
    for i, layer in enumerate(built):
        kind = layer.type_name
        previous = built[i - 1] if i else None
        if output is not None and i > output and kind == "Dropout":
            notes.append(
                (
                    i,
                    "Dropout after the output layer drops the scores the loss needs: put it before the last Dense",
                )
            )
        elif output is not None and i > output and squashing and isinstance(layer, activations.Activation):
            loss = "softmax" if loss_name == "softmax_cross_entropy" else "the sigmoid"
            notes.append(
                (
                    i,
                    f"{kind} after the output layer bends the scores before the loss applies {loss}: the output layer needs no activation",
                )
            )
        elif (
            previous is not None and isinstance(layer, activations.Activation) and previous.type_name == kind
        ):
            notes.append((i, f"{kind} right after {kind} changes nothing more"))
        elif kind == "Dropout" and not layer.options.get("rate"):
            notes.append((i, "Dropout with rate 0 does nothing"))
        elif kind == "Flatten" and previous is not None and len(previous.output_shape or ()) == 1:
            notes.append((i, "Flatten of values that are already flat does nothing"))
    return notes


def analyze(source: dict[str, Any] | str | Path) -> Analysis:
    """Shapes and parameter counts of every layer up to the first problem, which is kept in ``error``."""
    try:
        spec = read_spec(source)
    except SpecError as exc:
        return Analysis(error=exc)
    return _walk(spec)[0]


def _walk(spec: dict[str, Any]) -> tuple[Analysis, tuple[dict[str, Any], list[Layer], Any] | None]:
    analysis = Analysis()
    try:
        name, shape, loss_name, entries = _check_top_level(spec)
    except SpecError as exc:
        analysis.error = exc
        return analysis, None
    analysis.input_shape = shape
    used: set[str] = set()
    counters: dict[str, int] = {}
    built: list[Layer] = []
    total = 0
    for index, entry in enumerate(entries):
        try:
            layer = _create_layer(index, entry, used, counters)
        except SpecError as exc:
            analysis.error = exc
            return analysis, None
        try:
            shape = layer.setup(shape)
        except ValueError as exc:
            message = str(exc)
            if isinstance(exc, layers.NeedsImagesError) and len(analysis.input_shape or ()) == 1:
                message = exc.without_flattening(
                    analysis.input_shape
                )  # no Flatten or Dense to move: the input itself is flat
            analysis.error = SpecError(message, index, layer.type_name)
            return analysis, None
        if any(d <= 0 for d in shape):
            analysis.error = SpecError(
                f"output would be empty ({shape}); the input is too small", index, layer.type_name
            )
            return analysis, None
        problem = _too_large(layer, shape, total)
        if problem is not None:
            analysis.error = SpecError(problem, index, layer.type_name)
            return analysis, None
        total += layer.param_count
        built.append(layer)
        analysis.layers.append(
            LayerInfo(
                index,
                layer.name,
                layer.type_name,
                layer.describe(),
                shape,
                layer.param_count,
                layer.trainable,
            )
        )
    loss = losses.get(loss_name)
    try:
        loss.check_output_shape(shape)
    except ValueError as exc:
        last = len(built) - 1
        analysis.error = SpecError(str(exc), last, built[last].type_name)
        return analysis, None
    analysis.notes = stack_notes(built, loss_name)
    canonical: dict[str, Any] = {
        "format": FORMAT,
        "name": name,
        "input_shape": list(analysis.input_shape),
        "layers": [layer.config() for layer in built],
        "loss": loss_name,
    }
    if "description" in spec:
        canonical["description"] = spec["description"]
    return analysis, (canonical, built, loss)
