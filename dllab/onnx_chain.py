"""A graph that is a chain of ONNX operators, mapped onto dllab's layers: the ONNX files of other tools.

``Gemm`` (or ``MatMul`` and ``Add``) -> Dense; ``Conv`` -> Conv2D; ``MaxPool``, ``AveragePool`` -> MaxPool2D,
AvgPool2D; ``Flatten`` (or a ``Reshape`` to two axes) -> Flatten; ``BatchNormalization`` -> BatchNorm; ``Relu``,
``LeakyRelu``, ``Sigmoid``, ``Tanh``, ``Elu``, ``Gelu`` (tanh approximation) -> the activations; ``Dropout`` and
``Identity`` disappear. A final ``Softmax`` makes the loss softmax cross-entropy, a final ``Sigmoid`` binary
cross-entropy, anything else mean squared error. Other operators, branches and attributes that dllab's layers do
not have (dilations, groups, uneven padding that is not "same", ...) are refused in one sentence naming them.

The walk keeps the spec so far and asks :func:`dllab.spec.analyze` for its output shape where an operator needs
it (to tell "same" padding). Used by :mod:`dllab.onnx_import`; ``onnx`` is imported only when a graph is read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dllab import convolution
from dllab.io import ModelFileError
from dllab.model import Sequential, build
from dllab.spec import SpecError, analyze

if TYPE_CHECKING:
    import onnx

#: Operators a chain of dllab layers is made of (besides the output function).
MAPPED_OPERATORS = (
    "Gemm",
    "MatMul",
    "Add",
    "Conv",
    "MaxPool",
    "AveragePool",
    "Flatten",
    "Reshape",
    "BatchNormalization",
    "Relu",
    "LeakyRelu",
    "Sigmoid",
    "Tanh",
    "Elu",
    "Gelu",
    "Dropout",
    "Identity",
    "Softmax",
)
#: The loss whose output function the last operator is.
_OUTPUT_LOSSES = {"Softmax": "softmax_cross_entropy", "Sigmoid": "sigmoid_binary_cross_entropy"}


@dataclass
class _Chain:
    """The spec and weights gathered while a chain of nodes is walked."""

    path: Path
    input_shape: list[int]
    layers: list[dict[str, Any]] = field(default_factory=list)
    weights: list[dict[str, np.ndarray]] = field(default_factory=list)

    def add(self, layer: dict[str, Any], weights: dict[str, np.ndarray] | None = None) -> None:
        self.layers.append(layer)
        self.weights.append(weights or {})

    def shape(self) -> tuple[int, ...]:
        """The output shape of the layers so far."""
        if not self.layers:
            return tuple(self.input_shape)
        analysis = analyze(self.spec("mse"))  # the loss may not fit yet: only the layers' shapes matter
        if len(analysis.layers) < len(self.layers) or analysis.layers[-1].output_shape is None:
            raise ModelFileError(self.path, f"maps to a network that cannot be built ({analysis.error})")
        return tuple(analysis.layers[-1].output_shape)

    def spec(self, loss: str) -> dict[str, Any]:
        return {
            "format": "dllab.network/1",
            "name": self.path.name.split(".")[0] or "onnx",
            "input_shape": self.input_shape,
            "layers": [dict(layer) for layer in self.layers],
            "loss": loss,
        }


def _attributes(node: Any) -> dict[str, Any]:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def model_from_chain(proto: onnx.ModelProto, arrays: dict[str, np.ndarray], path: Path) -> Sequential:
    """The dllab model of a graph that is a chain of mapped operators (weights in ``arrays``, by tensor name).

    Raises
    ------
    ModelFileError
        Naming every operator that cannot be mapped, a branch, an attribute dllab's layers lack, or an input
        without a fixed size.
    """
    graph = proto.graph
    operators = sorted({node.op_type for node in graph.node if node.op_type != "Constant"})
    unmapped = [op for op in operators if op not in MAPPED_OPERATORS]
    foreign = sorted({f"{n.domain}.{n.op_type}" for n in graph.node if n.domain not in ("", "ai.onnx")})
    if unmapped or foreign:
        names = ", ".join(foreign or unmapped)
        raise ModelFileError(path, f"has operators dllab cannot map to its layers: {names}")
    inputs = [v for v in graph.input if v.name not in arrays]
    if len(inputs) != 1 or len(graph.output) != 1:
        raise ModelFileError(
            path, f"has {len(inputs)} inputs and {len(graph.output)} outputs; a dllab network has one of each"
        )
    dims = inputs[0].type.tensor_type.shape.dim
    shape = [int(d.dim_value) if d.HasField("dim_value") else (d.dim_param or None) for d in dims]
    sample = shape[1:]
    if not sample or not all(isinstance(d, int) and d > 0 for d in sample):
        raise ModelFileError(
            path, f"has an input of shape {shape}; dllab needs a fixed size for every axis but the batch"
        )
    chain = _Chain(path, [int(d) for d in sample])
    consumers: dict[str, list[Any]] = {}
    for node in graph.node:
        if node.op_type == "Constant":
            continue
        for name in node.input:
            if name and name not in arrays:
                consumers.setdefault(name, []).append(node)
    current, loss = inputs[0].name, "mse"
    final = graph.output[0].name
    while current != final:
        nodes = consumers.get(current, [])
        if len(nodes) != 1:
            raise ModelFileError(
                path,
                f"is not a chain of layers: the tensor {current!r} feeds {len(nodes)} operators"
                if nodes
                else f"is not a chain of layers: nothing leads from {current!r} to the output",
            )
        node = nodes[0]
        following = consumers.get(node.output[0], []) if node.output else []
        step = _MAPPINGS[node.op_type]
        current = step(chain, node, arrays, following)
        if current == final and node.op_type in _OUTPUT_LOSSES:
            loss = _OUTPUT_LOSSES[node.op_type]
            chain.layers.pop()
            chain.weights.pop()
    if not any(layer["type"] in ("Dense", "Conv2D") for layer in chain.layers):
        raise ModelFileError(path, "has no Dense or Conv2D layer to map")
    try:
        model = build(chain.spec(loss), seed=0)
    except SpecError as exc:
        raise ModelFileError(path, f"maps to a network that cannot be built ({exc})") from None
    weights = {}
    for layer, arrays_of in zip(model.layers, chain.weights, strict=True):
        for key, value in arrays_of.items():
            weights[f"{layer.name}.{key}"] = value
    try:
        model.set_weights(weights)
    except ValueError as exc:
        raise ModelFileError(path, f"holds weights that do not fit the network ({exc})") from None
    return model


def _refuse(chain: _Chain, node: Any, what: str) -> ModelFileError:
    return ModelFileError(
        chain.path, f"has a {node.op_type} operator {node.name!r} with {what}, which dllab cannot map"
    )


def _constant(chain: _Chain, node: Any, arrays: dict[str, np.ndarray], index: int) -> np.ndarray | None:
    if len(node.input) <= index or not node.input[index]:
        return None
    name = node.input[index]
    if name not in arrays:
        raise _refuse(chain, node, f"a computed input {name!r} where weights belong")
    return np.asarray(arrays[name], dtype=np.float32)


def _dense(units: int, w: np.ndarray, b: np.ndarray) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    return {"type": "Dense", "units": units}, {"W": w, "b": b.reshape(units)}


def _gemm(chain: _Chain, node: Any, arrays: dict[str, np.ndarray], following: list[Any]) -> str:
    a = _attributes(node)
    if a.get("transA", 0) or a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0:
        raise _refuse(chain, node, "transA, alpha or beta")
    w = _constant(chain, node, arrays, 1)
    if w is None or w.ndim != 2:
        raise _refuse(chain, node, "weights that are not a matrix")
    if a.get("transB", 0):
        w = w.T
    units = w.shape[1]
    b = _constant(chain, node, arrays, 2)
    b = np.zeros(units, np.float32) if b is None else np.broadcast_to(b, (units,)).copy()
    chain.add(*_dense(units, np.ascontiguousarray(w), b))
    return node.output[0]


def _matmul(chain: _Chain, node: Any, arrays: dict[str, np.ndarray], following: list[Any]) -> str:
    w = _constant(chain, node, arrays, 1)
    if w is None or w.ndim != 2:
        raise _refuse(chain, node, "weights that are not a matrix")
    units = w.shape[1]
    b = np.zeros(units, np.float32)
    out = node.output[0]
    if len(following) == 1 and following[0].op_type == "Add":
        add = following[0]
        other = next((name for name in add.input if name != out), None)
        if other in arrays and np.asarray(arrays[other]).size == units:
            b = np.asarray(arrays[other], dtype=np.float32).reshape(units)
            out = add.output[0]
    chain.add(*_dense(units, w, b))
    return out


def _add(chain: _Chain, node: Any, arrays: dict[str, np.ndarray], following: list[Any]) -> str:
    raise _refuse(chain, node, "an addition that is not a Dense layer's bias")


def _window(chain: _Chain, node: Any, kernel: list[int]) -> dict[str, Any]:
    """kernel, stride and padding options of a Conv or a pooling node."""
    a = _attributes(node)
    if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET", b"VALID", "VALID"):
        raise _refuse(chain, node, f"auto_pad {a['auto_pad']!r}")
    if any(d != 1 for d in a.get("dilations", [1, 1])) or a.get("group", 1) != 1 or a.get("ceil_mode", 0):
        raise _refuse(chain, node, "dilations, groups or ceil_mode")
    if len(kernel) != 2:
        raise _refuse(chain, node, f"a {len(kernel)}-dimensional window")
    stride = list(a.get("strides", [1, 1]))
    top, left, bottom, right = list(a.get("pads", [0, 0, 0, 0]))
    shape = chain.shape()
    if len(shape) != 3:
        raise _refuse(chain, node, f"an input of shape {shape} (not channels × height × width)")
    same = convolution.resolve_padding("same", shape[1:], tuple(kernel), tuple(stride))
    if top == bottom == left == right:
        padding: int | str = int(top)
    elif (top, bottom, left, right) == tuple(same):
        padding = "same"
    else:
        raise _refuse(chain, node, f"uneven padding {[top, left, bottom, right]}")
    return {
        "kernel_size": kernel[0] if kernel[0] == kernel[1] else list(kernel),
        "stride": stride[0] if stride[0] == stride[1] else stride,
        "padding": padding,
    }


def _conv(chain: _Chain, node: Any, arrays: dict[str, np.ndarray], following: list[Any]) -> str:
    w = _constant(chain, node, arrays, 1)
    if w is None or w.ndim != 4:
        raise _refuse(chain, node, "weights that are not filters × channels × height × width")
    options = _window(chain, node, list(w.shape[2:]))
    b = _constant(chain, node, arrays, 2)
    b = np.zeros(w.shape[0], np.float32) if b is None else b.reshape(w.shape[0])
    chain.add({"type": "Conv2D", "filters": int(w.shape[0]), **options}, {"W": w, "b": b})
    return node.output[0]


def _pool(kind: str) -> Callable[[_Chain, Any, dict[str, np.ndarray], list[Any]], str]:
    def step(chain: _Chain, node: Any, arrays: dict[str, np.ndarray], following: list[Any]) -> str:
        a = _attributes(node)
        options = _window(chain, node, list(a.get("kernel_shape", [])))
        if (
            kind == "AvgPool2D"
            and options["padding"] not in (0, "valid")
            and not a.get("count_include_pad", 0)
        ):
            raise _refuse(chain, node, "padding left out of the averages (count_include_pad 0)")
        options["pool_size"] = options.pop("kernel_size")
        chain.add({"type": kind, **options})
        return node.output[0]

    return step


def _flatten(chain: _Chain, node: Any, arrays: dict[str, np.ndarray], following: list[Any]) -> str:
    if _attributes(node).get("axis", 1) != 1:
        raise _refuse(chain, node, "an axis other than 1")
    chain.add({"type": "Flatten"})
    return node.output[0]


def _reshape(chain: _Chain, node: Any, arrays: dict[str, np.ndarray], following: list[Any]) -> str:
    target = arrays.get(node.input[1]) if len(node.input) > 1 else None
    size = int(np.prod(chain.shape()))
    if target is None or target.ndim != 1 or len(target) != 2 or int(target[1]) not in (-1, size):
        raise _refuse(chain, node, "a shape other than (batch, features)")
    chain.add({"type": "Flatten"})
    return node.output[0]


def _batch_norm(chain: _Chain, node: Any, arrays: dict[str, np.ndarray], following: list[Any]) -> str:
    a = _attributes(node)
    gamma, beta, mean, var = (_constant(chain, node, arrays, i) for i in range(1, 5))
    if any(v is None for v in (gamma, beta, mean, var)):
        raise _refuse(chain, node, "missing statistics")
    layer = {
        "type": "BatchNorm",
        "eps": float(a.get("epsilon", 1e-5)),
        "momentum": float(a.get("momentum", 0.9)),
    }
    chain.add(layer, {"gamma": gamma, "beta": beta, "mean": mean, "var": var})
    return node.output[0]


def _activation(kind: str) -> Callable[[_Chain, Any, dict[str, np.ndarray], list[Any]], str]:
    def step(chain: _Chain, node: Any, arrays: dict[str, np.ndarray], following: list[Any]) -> str:
        a = _attributes(node)
        layer: dict[str, Any] = {"type": kind}
        if kind in ("LeakyReLU", "ELU"):
            layer["alpha"] = float(a.get("alpha", 0.01 if kind == "LeakyReLU" else 1.0))
        if kind == "GELU" and a.get("approximate", b"none") not in (b"tanh", "tanh"):
            raise _refuse(chain, node, "the exact (erf) form; dllab's GELU is the tanh approximation")
        chain.add(layer)
        return node.output[0]

    return step


def _passing(chain: _Chain, node: Any, arrays: dict[str, np.ndarray], following: list[Any]) -> str:
    return node.output[0]


def _softmax(chain: _Chain, node: Any, arrays: dict[str, np.ndarray], following: list[Any]) -> str:
    if _attributes(node).get("axis", -1) not in (-1, 1) or following:
        raise _refuse(chain, node, "a place other than the end of the network")
    chain.add({"type": "Softmax"})  # removed again as the output function
    return node.output[0]


_MAPPINGS: dict[str, Callable[[_Chain, Any, dict[str, np.ndarray], list[Any]], str]] = {
    "Gemm": _gemm,
    "MatMul": _matmul,
    "Add": _add,
    "Conv": _conv,
    "MaxPool": _pool("MaxPool2D"),
    "AveragePool": _pool("AvgPool2D"),
    "Flatten": _flatten,
    "Reshape": _reshape,
    "BatchNormalization": _batch_norm,
    "Relu": _activation("ReLU"),
    "LeakyRelu": _activation("LeakyReLU"),
    "Sigmoid": _activation("Sigmoid"),
    "Tanh": _activation("Tanh"),
    "Elu": _activation("ELU"),
    "Gelu": _activation("GELU"),
    "Dropout": _passing,
    "Identity": _passing,
    "Softmax": _softmax,
}
