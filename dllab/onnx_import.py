"""ONNX files read back: a description of any ONNX model, and a dllab model from one that maps onto its layers.

:func:`describe_onnx` tells what an ONNX file holds (inputs, outputs, operators, parameters) whatever wrote
it. :func:`load_onnx` turns a graph into a network spec with its weights, reading back what
:mod:`dllab.onnx_export` writes:

- A file the lab exported carries its network spec (``metadata_props["dllab.spec"]``): the network is built
  from it, its weights are the initializers named by the parameter keys (``dense_1.W``, ``batchnorm_1.mean``),
  and the graph is checked to be the one the spec exports to (the same operators in the same order), so
  predictions are those of the model that was exported. Class names, preprocessing and the training summary
  come back too.
- Any other file is read as a chain of operators that map onto dllab's layers (:mod:`dllab.onnx_chain`);
  a file with other operators, branches or unusual attributes is refused with one sentence naming what cannot
  be mapped.

Every problem is a :class:`~dllab.io.ModelFileError`. The file is read only when it is a regular file of at
most :data:`MAX_ONNX_BYTES`; weights kept in external files are never followed. ``onnx`` is imported only
here, when a file is read.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dllab.errors import reading
from dllab.files import open_regular
from dllab.io import ModelFileError, metadata_problem
from dllab.model import Sequential, build
from dllab.onnx_chain import MAPPED_OPERATORS, model_from_chain
from dllab.spec import SpecError

if TYPE_CHECKING:
    import onnx

#: The largest ONNX file read (protobuf itself stops at 2 GB).
MAX_ONNX_BYTES = 1 << 30


@dataclass
class OnnxTensor:
    """An input or output of a graph: its name, element type and shape (``None`` or a name for a free axis)."""

    name: str
    element_type: str
    shape: list[int | str | None]


@dataclass
class OnnxDescription:
    """What an ONNX file holds, as :func:`describe_onnx` reads it."""

    path: Path
    producer: str
    ir_version: int
    opsets: dict[str, int]
    graph_name: str
    inputs: list[OnnxTensor]
    outputs: list[OnnxTensor]
    operators: Counter[str]
    parameter_count: int
    metadata: dict[str, str] = field(default_factory=dict)
    unmapped: list[str] = field(default_factory=list)
    #: Why the file does not open as a dllab model (the problem of :func:`load_onnx`), or "" when it does.
    not_a_model: str = ""

    def lines(self) -> list[str]:
        """The description as lines of text (what ``dllab info`` prints)."""

        def tensor(t: OnnxTensor) -> str:
            dims = ", ".join("?" if d is None else str(d) for d in t.shape)
            return f"  {t.name}: {t.element_type} [{dims}]"

        opsets = ", ".join(
            f"{domain or 'ai.onnx'} {version}" for domain, version in sorted(self.opsets.items())
        )
        lines = [
            f"file: {self.path}",
            f"format: ONNX (IR version {self.ir_version}, opset {opsets}), written by {self.producer or 'unknown'}",
            f"graph: {self.graph_name or '(unnamed)'}",
            "inputs:",
            *(tensor(t) for t in self.inputs),
            "outputs:",
            *(tensor(t) for t in self.outputs),
            f"operators ({sum(self.operators.values()):,} nodes): "
            + ", ".join(f"{op} ×{n}" if n > 1 else op for op, n in sorted(self.operators.items())),
            f"parameters: {self.parameter_count:,} (the values of the file's initializers)",
        ]
        origin = (
            "exported by dllab" if "dllab.spec" in self.metadata else "its operators map onto dllab's layers"
        )
        if not self.not_a_model:
            lines.append(f"{origin}: opens as a model (File ▸ Open Model, dllab evaluate)")
        else:
            lines.append(f"does not open as a dllab model: it {self.not_a_model}")
        return lines


def _element_type(code: int) -> str:
    from onnx import helper

    try:
        return str(np.dtype(helper.tensor_dtype_to_np_dtype(code)))
    except (KeyError, TypeError, ValueError):
        return f"type {code}"


def _tensors(values: Any) -> list[OnnxTensor]:
    found = []
    for value in values:
        kind = value.type.tensor_type
        dims: list[int | str | None] = []
        for dim in kind.shape.dim:
            if dim.HasField("dim_value"):
                dims.append(int(dim.dim_value))
            else:
                dims.append(dim.dim_param or None)
        found.append(OnnxTensor(value.name, _element_type(kind.elem_type), dims))
    return found


def read_onnx(path: str | os.PathLike[str]) -> onnx.ModelProto:
    """The ONNX model in a file, parsed but not checked beyond its encoding.

    Raises
    ------
    ModelFileError
        When the file is missing, not a regular file, larger than :data:`MAX_ONNX_BYTES`, not an ONNX model,
        or keeps tensors in external files.
    """
    import onnx
    from google.protobuf.message import DecodeError

    path = Path(path)
    with reading(lambda problem: ModelFileError(path, problem)), open_regular(path) as file:
        data = file.read(MAX_ONNX_BYTES + 1)
    if len(data) > MAX_ONNX_BYTES:
        raise ModelFileError(
            path, f"is larger than the {MAX_ONNX_BYTES >> 20:,} MB dllab reads as an ONNX file"
        )
    try:
        model = onnx.load_model_from_string(data)
    except (DecodeError, ValueError, RuntimeError, TypeError) as exc:
        raise ModelFileError(path, f"is not an ONNX model ({' '.join(str(exc).split())[:80]})") from None
    if not model.HasField("graph") or not model.graph.output:
        raise ModelFileError(path, "is not an ONNX model (it holds no graph)")
    if any(t.data_location == onnx.TensorProto.EXTERNAL for t in model.graph.initializer):
        raise ModelFileError(path, "keeps its weights in external files, which dllab does not read")
    return model


def describe_onnx(path: str | os.PathLike[str]) -> OnnxDescription:
    """Inputs, outputs, operators and parameter count of any ONNX file.

    Raises
    ------
    ModelFileError
        See :func:`read_onnx`.
    """
    model = read_onnx(path)
    graph = model.graph
    initialized = {t.name for t in graph.initializer}
    try:
        _model_of(model, Path(path))
        not_a_model = ""
    except ModelFileError as exc:
        not_a_model = exc.problem
    operators = Counter(
        node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"
        for node in graph.node
    )
    return OnnxDescription(
        path=Path(path),
        producer=" ".join(filter(None, (model.producer_name, model.producer_version))),
        ir_version=int(model.ir_version),
        opsets={o.domain: int(o.version) for o in model.opset_import},
        graph_name=graph.name,
        inputs=_tensors(v for v in graph.input if v.name not in initialized),
        outputs=_tensors(graph.output),
        operators=operators,
        parameter_count=sum(int(np.prod(t.dims, dtype=np.int64)) for t in graph.initializer),
        metadata={p.key: p.value for p in model.metadata_props},
        unmapped=sorted(op for op in operators if op not in MAPPED_OPERATORS),
        not_a_model=not_a_model,
    )


def load_onnx(path: str | os.PathLike[str]) -> Sequential:
    """A dllab model (float32) from an ONNX file the lab exported, or from a chain of operators it maps.

    Raises
    ------
    ModelFileError
        When the file cannot be read, names operators dllab cannot map (all of them, in one sentence), is
        not a chain of layers, or holds weights that do not fit the network.
    """
    path = Path(path)
    return _model_of(read_onnx(path), path)


def _model_of(model: onnx.ModelProto, path: Path) -> Sequential:
    metadata = {p.key: p.value for p in model.metadata_props}
    arrays = _initializers(model, path)
    if "dllab.spec" in metadata:
        return _from_dllab_export(model, metadata, arrays, path)
    return model_from_chain(model, arrays, path)


def _initializers(model: onnx.ModelProto, path: Path) -> dict[str, np.ndarray]:
    from onnx import numpy_helper

    arrays = {}
    for tensor in model.graph.initializer:
        try:
            arrays[tensor.name] = numpy_helper.to_array(tensor)
        except (ValueError, TypeError, KeyError) as exc:
            raise ModelFileError(path, f"holds the tensor {tensor.name!r} damaged ({exc})") from None
    for node in model.graph.node:  # Constant nodes hold tensors too (a Reshape's shape)
        if node.op_type == "Constant" and node.output:
            for attribute in node.attribute:
                if attribute.name == "value":
                    arrays[node.output[0]] = numpy_helper.to_array(attribute.t)
    return arrays


# --- a file the lab exported -------------------------------------------------------------------------------


def _from_dllab_export(
    proto: onnx.ModelProto, metadata: dict[str, str], arrays: dict[str, np.ndarray], path: Path
) -> Sequential:
    from dllab.onnx_export import to_onnx

    def document(key: str, default: Any) -> Any:
        if key not in metadata:
            return default
        try:
            return json.loads(metadata[key])
        except (ValueError, RecursionError):
            raise ModelFileError(path, f"has a damaged {key!r} entry in its metadata") from None

    spec = document("dllab.spec", None)
    try:
        model = build(spec, seed=0)
    except SpecError as exc:
        raise ModelFileError(path, f"has a network spec that cannot be built ({exc})") from None
    weights = {}
    for key, target in {**model.params, **model.state}.items():
        value = arrays.get(key)
        if value is None or value.shape != target.shape:
            raise ModelFileError(
                path, f"does not hold the weights of its network: {key!r} is missing or of another shape"
            )
        weights[key] = value
    model.set_weights(weights)
    for key in ("class_names", "preprocessing", "training_summary"):
        value = document(key, [] if key == "class_names" else {})
        problem = metadata_problem(key, value)
        if problem is not None:
            raise ModelFileError(path, f"has {problem}")
    model.class_names = list(document("class_names", []))
    model.preprocessing = document("preprocessing", {})
    model.training_summary = document("training_summary", {})
    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), None)
    try:
        expected = to_onnx(model, opset=opset)
    except (ValueError, SpecError) as exc:
        raise ModelFileError(path, f"cannot be compared with its network ({exc})") from None
    if _signature(expected.graph) != _signature(proto.graph):
        raise ModelFileError(
            path,
            "has a graph that differs from the network its metadata describes (it was changed after export)",
        )
    return model


def _signature(graph: Any) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """The operators of a graph in order, with their inputs and outputs."""
    return [(node.op_type, tuple(node.input), tuple(node.output)) for node in graph.node]


def is_onnx_path(path: str | os.PathLike[str]) -> bool:
    """Whether a path names an ONNX file (by its suffix), for the readers that take either kind of model."""
    return Path(path).suffix.lower() == ".onnx"


def load_model(path: str | os.PathLike[str]) -> Sequential:
    """A model from a dllab model file or from an ONNX file (:func:`load_onnx`), told apart by the suffix."""
    from dllab.io import load

    return load_onnx(path) if is_onnx_path(path) else load(path)
