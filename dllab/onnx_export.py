"""ONNX export: a model as an ONNX graph that any runtime can execute, matching ``model.predict``.

The graph takes ``"input"``, a float32 tensor of shape ``(batch, *model.input_shape)`` (NCHW for images) with
a dynamic batch dimension, and gives ``"output"``: the loss's output function applied to the scores, as in
:meth:`dllab.model.Sequential.predict` (``Softmax`` over the last axis for softmax cross-entropy, ``Sigmoid``
for binary cross-entropy, ``Identity`` for MSE). Weights are stored as float32 initializers (a float64 model
is converted). The graph describes inference: BatchNorm uses its running statistics and Dropout disappears
(the book's dropout becomes a ``Mul`` by 1 - rate).

Layers map onto standard operators: Dense -> ``Gemm``; Conv2D -> ``Conv`` (OIHW weights; dllab's pads
``(top, bottom, left, right)`` become ONNX's ``[top, left, bottom, right]``); MaxPool2D -> ``MaxPool``;
AvgPool2D -> ``AveragePool`` with ``count_include_pad=1`` (dllab averages padding zeros in); Flatten ->
``Flatten(axis=1)``; BatchNorm -> ``BatchNormalization``; ReLU, LeakyReLU, Sigmoid, Tanh, ELU -> ``Relu``,
``LeakyRelu``, ``Sigmoid``, ``Tanh``, ``Elu``; GELU (tanh approximation) -> ``Gelu(approximate="tanh")``
from opset 20, explicit ``Mul``/``Add``/``Tanh`` below it; Step -> ``Greater(x, 0)`` and ``Cast`` to float.

The model's name is the graph's name; ``metadata_props`` hold ``name``, ``loss``, ``output_function``,
``class_names``, ``preprocessing``, ``training_summary`` (JSON) and ``dllab.spec`` (the network spec, JSON).

The ``onnx`` package is imported only when exporting, so ``import dllab`` stays light.

>>> import dllab
>>> dllab.export_onnx(model, "model.onnx")   # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from dllab.files import atomic_write
from dllab.io import json_default
from dllab.layers import Layer
from dllab.model import Sequential
from dllab.optimizers import check_whole_number

if TYPE_CHECKING:
    import onnx

#: The opset exports use unless told otherwise: old enough for every current runtime, new enough for all
#: operators above (onnxruntime 1.13 or later runs it).
DEFAULT_OPSET = 17
#: The oldest opset supported (``Softmax`` over one axis, as ``predict`` computes it, starts at 13).
MIN_OPSET = 13
#: The first opset with a ``Gelu`` operator.
GELU_OPSET = 20


class _GraphBuilder:
    """Collects nodes and float32 initializers while layers are converted; hands out unique names."""

    def __init__(self, opset: int) -> None:
        from onnx import helper

        self.helper = helper
        self.opset = opset
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._names: set[str] = {"input", "output"}

    def unique(self, name: str) -> str:
        """A tensor or node name not used yet, based on ``name``."""
        candidate, k = name, 1
        while candidate in self._names:
            k += 1
            candidate = f"{name}_{k}"
        self._names.add(candidate)
        return candidate

    def constant(self, name: str, value: np.ndarray | float) -> str:
        """Add a float32 initializer and return its name."""
        from onnx import numpy_helper

        array = np.asarray(value, dtype=np.float32)
        tensor = numpy_helper.from_array(np.ascontiguousarray(array), self.unique(name))
        self.initializers.append(tensor)
        return tensor.name

    def node(self, op: str, inputs: list[str], base: str, output: str | None = None, **attrs: Any) -> str:
        """Add one node; its single output is ``output`` or a new name from ``base``; returns that name."""
        out = output or self.unique(base)
        self.nodes.append(self.helper.make_node(op, inputs, [out], name=self.unique(f"{base}/{op}"), **attrs))
        return out


Converter = Callable[[_GraphBuilder, Layer, str], str]


def _dense(g: _GraphBuilder, layer: Layer, x: str) -> str:
    w = g.constant(f"{layer.name}.W", layer.params["W"])
    b = g.constant(f"{layer.name}.b", layer.params["b"])
    return g.node("Gemm", [x, w, b], layer.name)


def _onnx_pads(layer: Layer) -> list[int]:
    top, bottom, left, right = layer.pads
    return [int(top), int(left), int(bottom), int(right)]


def _windowed(g: _GraphBuilder, op: str, layer: Layer, inputs: list[str], **attributes: Any) -> str:
    """A node of an operation that slides a window: a convolution or a pooling."""
    return g.node(
        op,
        inputs,
        layer.name,
        kernel_shape=list(layer.kernel),
        strides=list(layer.stride),
        pads=_onnx_pads(layer),
        **attributes,
    )


def _conv2d(g: _GraphBuilder, layer: Layer, x: str) -> str:
    w = g.constant(f"{layer.name}.W", layer.params["W"])
    b = g.constant(f"{layer.name}.b", layer.params["b"])
    return _windowed(g, "Conv", layer, [x, w, b])


def _max_pool(g: _GraphBuilder, layer: Layer, x: str) -> str:
    return _windowed(g, "MaxPool", layer, [x])


def _avg_pool(g: _GraphBuilder, layer: Layer, x: str) -> str:
    return _windowed(g, "AveragePool", layer, [x], count_include_pad=1)


def _flatten(g: _GraphBuilder, layer: Layer, x: str) -> str:
    return g.node("Flatten", [x], layer.name, axis=1)


def _batch_norm(g: _GraphBuilder, layer: Layer, x: str) -> str:
    inputs = [
        x,
        g.constant(f"{layer.name}.gamma", layer.params["gamma"]),
        g.constant(f"{layer.name}.beta", layer.params["beta"]),
        g.constant(f"{layer.name}.mean", layer.state["mean"]),
        g.constant(f"{layer.name}.var", layer.state["var"]),
    ]
    return g.node(
        "BatchNormalization",
        inputs,
        layer.name,
        epsilon=float(layer.options["eps"]),
        momentum=float(layer.options["momentum"]),
    )


def _dropout(g: _GraphBuilder, layer: Layer, x: str) -> str:
    scale = layer.inference_scale()  # inverted dropout passes its input through unchanged at inference
    if scale == 1.0:
        return x
    return g.node("Mul", [x, g.constant(f"{layer.name}.scale", np.float32(scale))], layer.name)


def _simple(op: str) -> Converter:
    def convert(g: _GraphBuilder, layer: Layer, x: str) -> str:
        return g.node(op, [x], layer.name)

    return convert


def _with_alpha(op: str) -> Converter:
    def convert(g: _GraphBuilder, layer: Layer, x: str) -> str:
        return g.node(op, [x], layer.name, alpha=float(layer.options["alpha"]))

    return convert


def _gelu(g: _GraphBuilder, layer: Layer, x: str) -> str:
    if g.opset >= GELU_OPSET:
        return g.node("Gelu", [x], layer.name, approximate="tanh")
    # 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3))), as dllab.activations.GELU computes it.
    name = layer.name
    x2 = g.node("Mul", [x, x], f"{name}/x2")
    x3 = g.node("Mul", [x2, x], f"{name}/x3")
    cubic = g.node("Mul", [x3, g.constant(f"{name}/k", 0.044715)], f"{name}/kx3")
    inner = g.node("Add", [x, cubic], f"{name}/inner")
    scaled = g.node("Mul", [inner, g.constant(f"{name}/c", math.sqrt(2.0 / math.pi))], f"{name}/scaled")
    t = g.node("Tanh", [scaled], f"{name}/tanh")
    one_plus = g.node("Add", [t, g.constant(f"{name}/one", 1.0)], f"{name}/one_plus")
    half_x = g.node("Mul", [x, g.constant(f"{name}/half", 0.5)], f"{name}/half_x")
    return g.node("Mul", [half_x, one_plus], name)


def _step(g: _GraphBuilder, layer: Layer, x: str) -> str:
    from onnx import TensorProto

    positive = g.node("Greater", [x, g.constant(f"{layer.name}/zero", 0.0)], f"{layer.name}/positive")
    return g.node("Cast", [positive], layer.name, to=TensorProto.FLOAT)


#: How each layer type becomes ONNX nodes: ``convert(graph, layer, input_name) -> output_name``.
CONVERTERS: dict[str, Converter] = {
    "Dense": _dense,
    "Conv2D": _conv2d,
    "MaxPool2D": _max_pool,
    "AvgPool2D": _avg_pool,
    "Flatten": _flatten,
    "BatchNorm": _batch_norm,
    "Dropout": _dropout,
    "ReLU": _simple("Relu"),
    "LeakyReLU": _with_alpha("LeakyRelu"),
    "Sigmoid": _simple("Sigmoid"),
    "Tanh": _simple("Tanh"),
    "ELU": _with_alpha("Elu"),
    "GELU": _gelu,
    "Step": _step,
}

#: The output function of each loss (``Loss.output_name``) as ONNX: operator and attributes.
OUTPUT_FUNCTIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "softmax": ("Softmax", {"axis": -1}),
    "sigmoid": ("Sigmoid", {}),
    "identity": ("Identity", {}),
}


def _check_opset(opset: int) -> int:
    """``opset`` when the exporter and the installed ``onnx`` support it; SettingsError otherwise."""
    import onnx

    return check_whole_number("opset", opset, minimum=MIN_OPSET, maximum=onnx.defs.onnx_opset_version())


def to_onnx(model: Sequential, *, opset: int | None = None) -> onnx.ModelProto:
    """The model as an ONNX ``ModelProto`` (inference graph, float32), checked by ``onnx.checker``.

    Parameters
    ----------
    model
        The model to convert.
    opset
        The ONNX operator set version, from :data:`MIN_OPSET` to the newest the installed ``onnx`` knows;
        ``None`` (default) means :data:`DEFAULT_OPSET`.

    Returns
    -------
    onnx.ModelProto
        The model, with ``"input"`` (dynamic batch) and ``"output"`` as in ``model.predict``.

    Raises
    ------
    SettingsError
        When ``opset`` is not supported.
    ValueError
        When a layer or the loss's output function has no ONNX conversion (only custom layer and loss
        classes lack one: every layer type a network spec can name is converted).
    """
    import onnx
    from onnx import TensorProto, helper

    from dllab.version import __version__

    opset = _check_opset(DEFAULT_OPSET if opset is None else opset)
    output_name = model.loss.output_name
    if output_name not in OUTPUT_FUNCTIONS:
        raise ValueError(
            f"cannot export the {model.loss.name!r} loss's output function {output_name!r} to ONNX "
            f"(supported: {', '.join(OUTPUT_FUNCTIONS)})"
        )
    for index, layer in enumerate(model.layers):
        if layer.type_name not in CONVERTERS:
            raise ValueError(
                f"cannot export layer {index} {layer.name!r} ({layer.type_name or type(layer).__name__}) to "
                f"ONNX: no conversion exists for this layer type (supported: {', '.join(CONVERTERS)})"
            )

    g = _GraphBuilder(opset)
    current = "input"
    for layer in model.layers:
        current = CONVERTERS[layer.type_name](g, layer, current)
    op, attrs = OUTPUT_FUNCTIONS[output_name]
    g.node(op, [current], output_name, output="output", **attrs)

    graph = helper.make_graph(
        g.nodes,
        model.name,
        inputs=[helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", *model.input_shape])],
        outputs=[helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", *model.output_shape])],
        initializer=g.initializers,
        doc_string=str(model.spec.get("description", "")),
    )
    opset_ids = [helper.make_opsetid("", opset)]
    proto = helper.make_model(
        graph,
        opset_imports=opset_ids,
        producer_name="dllab",
        producer_version=__version__,
        doc_string=f"{model.name}: exported by dllab {__version__}",
        ir_version=helper.find_min_ir_version_for(opset_ids),
    )

    def as_json(value: Any) -> str:
        return json.dumps(value, default=json_default, ensure_ascii=False)

    helper.set_model_props(
        proto,
        {
            "name": model.name,
            "loss": model.loss.name,
            "output_function": output_name,
            "class_names": as_json([str(name) for name in model.class_names]),
            "preprocessing": as_json(model.preprocessing),
            "training_summary": as_json(model.training_summary),
            "dllab.spec": as_json(model.spec),
        },
    )
    onnx.checker.check_model(proto, full_check=True)
    return proto


def export_onnx(model: Sequential, path: str | os.PathLike[str], *, opset: int | None = None) -> Path:
    """Export a model as an ONNX file that reproduces ``model.predict`` (float32, dynamic batch size).

    The file is written exactly at ``path`` (no suffix is added), atomically: through a temporary file that
    replaces the target only when complete.

    Parameters
    ----------
    model
        The model to export.
    path
        The ``.onnx`` file to write.
    opset
        The ONNX operator set version; ``None`` (default) means :data:`DEFAULT_OPSET`. See :func:`to_onnx`.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    SettingsError
        When ``opset`` is not supported; nothing is written.
    ValueError
        When the model cannot be expressed in ONNX (see :func:`to_onnx`); nothing is written.
    OSError
        When the file cannot be written; an existing file at ``path`` is then left unchanged.
    """
    data = to_onnx(model, opset=opset).SerializeToString()

    def write(file: IO[bytes]) -> None:
        file.write(data)

    return atomic_write(path, write)
