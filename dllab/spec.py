"""The network spec: the one JSON description of a network shared by the builder, files, the CLI and models.

A spec is validated completely before anything is allocated: unknown types or keys, bad values and shapes
that do not fit together raise :class:`SpecError`, which names the layer's index, its type and what is
wrong. :func:`analyze` goes through a spec without allocating weights and reports every layer's output shape
and parameter count up to the first problem, for a builder that shows them while the user edits.
"""

from __future__ import annotations

import copy
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dllab import activations, layers, losses
from dllab.errors import DllabError
from dllab.layers import Layer

FORMAT = "dllab.network/1"
_FORMAT_PREFIX = "dllab.network/"
#: A design file of the desktop app: ``{"format": DESIGN_FORMAT, "network": <spec>, "data": {...},
#: "training": {...}}``. Wherever a network file is read, a design file gives its network.
DESIGN_FORMAT = "dllab.design/1"

#: Every layer type by its spec name, in the order a palette shows them.
LAYER_TYPES: dict[str, type[Layer]] = {
    cls.type_name: cls
    for cls in (
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
    )
}

_TOP_LEVEL_KEYS = ("format", "name", "description", "input_shape", "layers", "loss")
_NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")


class SpecError(DllabError, ValueError):
    """A network spec that cannot be built; says where (layer index and type) and what is wrong."""

    def __init__(self, message: str, index: int | None = None, layer_type: str | None = None) -> None:
        self.message = message
        self.index = index
        self.layer_type = layer_type
        where = "network" if index is None else f"layer {index}" + (f" ({layer_type})" if layer_type else "")
        super().__init__(f"{where}: {message}")


def read_spec(source: dict[str, Any] | str | Path) -> dict[str, Any]:
    """The spec as a dict: a dict is copied, a path is read as JSON. Errors become :class:`SpecError`.

    A path may also hold a design file of the desktop app (format :data:`DESIGN_FORMAT`: the network with
    the data and training settings beside it); its ``"network"`` is the spec.
    """
    if isinstance(source, dict):
        return copy.deepcopy(source)
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"network file {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot read network file {str(path)!r}: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpecError(f"{path.name} is not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise SpecError(f"{path.name} must hold a JSON object, not {type(data).__name__}")
    if data.get("format") == DESIGN_FORMAT:
        network = data.get("network")
        if not isinstance(network, dict):
            raise SpecError(
                f"{path.name} is a dllab design without a network (a JSON object under 'network')"
            )
        return network
    return data


def _check_top_level(spec: dict[str, Any]) -> tuple[str, tuple[int, ...], str, list[Any]]:
    unknown = [k for k in spec if k not in _TOP_LEVEL_KEYS]
    if unknown:
        raise SpecError(f"unknown key {unknown[0]!r} (allowed: {', '.join(_TOP_LEVEL_KEYS)})")
    fmt = spec.get("format", FORMAT)
    if fmt != FORMAT:
        if isinstance(fmt, str) and fmt.startswith(_FORMAT_PREFIX):
            raise SpecError(f"format {fmt!r} is newer than this dllab understands ({FORMAT}); update dllab")
        raise SpecError(f"format must be {FORMAT!r}, got {fmt!r}")
    name = spec.get("name", "network")
    if not isinstance(name, str) or not name.strip():
        raise SpecError(f"name must be a non-empty string, got {name!r}")
    shape = spec.get("input_shape")
    if (
        not isinstance(shape, list | tuple)
        or not shape
        or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in shape)
    ):
        raise SpecError(
            f"input_shape must be a list of positive integers such as [784] or [1, 28, 28], got {shape!r}"
        )
    if len(shape) not in (1, 3):
        raise SpecError(f"input_shape must be (features,) or (channels, height, width), got {list(shape)}")
    loss = spec.get("loss", "softmax_cross_entropy")
    if not isinstance(loss, str) or loss not in losses.LOSSES:
        known = ", ".join(losses.LOSSES)
        raise SpecError(f"unknown loss {loss!r} (known: {known})")
    layer_list = spec.get("layers")
    if not isinstance(layer_list, list) or not layer_list:
        raise SpecError("layers must be a non-empty list")
    return name, tuple(shape), loss, layer_list


def _create_layer(index: int, entry: Any, used_names: set[str], counters: dict[str, int]) -> Layer:
    if not isinstance(entry, dict):
        raise SpecError(f"must be an object with a 'type', got {entry!r}", index)
    layer_type = entry.get("type")
    if not isinstance(layer_type, str) or layer_type not in LAYER_TYPES:
        known = ", ".join(LAYER_TYPES)
        raise SpecError(f"unknown layer type {layer_type!r} (known: {known})", index)
    cls = LAYER_TYPES[layer_type]
    options = {k: v for k, v in entry.items() if k not in ("type", "name")}
    name = entry.get("name")
    if name is None:
        base = layer_type.lower()
        while True:
            counters[base] = counters.get(base, 0) + 1
            name = f"{base}_{counters[base]}"
            if name not in used_names:
                break
    elif not isinstance(name, str) or not _NAME_PATTERN.match(name):
        raise SpecError(
            f"name must be letters, digits, '_' or '-' (no dots), got {name!r}", index, layer_type
        )
    if name in used_names:
        raise SpecError(f"name {name!r} is used by an earlier layer", index, layer_type)
    used_names.add(name)
    try:
        return cls(name=name, **options)
    except ValueError as exc:
        raise SpecError(str(exc), index, layer_type) from None


@dataclass
class LayerInfo:
    """What a builder shows for one layer."""

    index: int
    name: str
    type_name: str
    description: str
    output_shape: tuple[int, ...] | None
    param_count: int


@dataclass
class Analysis:
    """A spec gone through without allocating weights: per-layer shapes and counts up to the first error."""

    layers: list[LayerInfo] = field(default_factory=list)
    error: SpecError | None = None
    input_shape: tuple[int, ...] | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def param_count(self) -> int:
        return sum(info.param_count for info in self.layers)

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
    for index, entry in enumerate(entries):
        try:
            layer = _create_layer(index, entry, used, counters)
        except SpecError as exc:
            analysis.error = exc
            return analysis, None
        try:
            shape = layer.setup(shape)
        except ValueError as exc:
            analysis.error = SpecError(str(exc), index, layer.type_name)
            return analysis, None
        if any(d <= 0 for d in shape):
            analysis.error = SpecError(
                f"output would be empty ({shape}); the input is too small", index, layer.type_name
            )
            return analysis, None
        built.append(layer)
        analysis.layers.append(
            LayerInfo(index, layer.name, layer.type_name, layer.describe(), shape, layer.param_count)
        )
    loss = losses.get(loss_name)
    try:
        loss.check_output_shape(shape)
    except ValueError as exc:
        last = len(built) - 1
        analysis.error = SpecError(str(exc), last, built[last].type_name)
        return analysis, None
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
