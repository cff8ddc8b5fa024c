"""Foreign ONNX files: a chain of operators becomes dllab layers, and what cannot be mapped is named."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import dllab
from dllab.io import ModelFileError
from dllab.onnx_export import to_onnx
from dllab.onnx_import import describe_onnx, load_onnx
from tests.engine.test_onnx_import import EXTRA_LAYERS, inputs, network_spec, trained_like

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402


def _without_metadata(model: dllab.Sequential, path: Path) -> Path:
    proto = to_onnx(model)
    del proto.metadata_props[:]
    proto.producer_name = "another tool"
    path.write_bytes(proto.SerializeToString())
    return path


@pytest.mark.parametrize(
    "layers, loss",
    [
        (
            [{"type": "Dense", "units": 5}, {"type": "Tanh"}, {"type": "Dense", "units": 3}],
            "sigmoid_binary_cross_entropy",
        ),
        (
            [
                *EXTRA_LAYERS[:2],
                {"type": "ReLU"},
                {"type": "MaxPool2D", "pool_size": 2},
                {"type": "Flatten"},
                {"type": "Dense", "units": 3},
            ],
            "softmax_cross_entropy",
        ),
        (
            [
                {"type": "Flatten"},
                {"type": "Dense", "units": 4},
                {"type": "Sigmoid"},
                {"type": "Dense", "units": 2},
            ],
            "mse",
        ),
    ],
)
def test_a_foreign_chain_is_mapped_from_its_operators(layers, loss, tmp_path):
    input_shape = (6,) if layers[0]["type"] == "Dense" else (2, 8, 8)
    model = trained_like(dllab.build(network_spec(layers, input_shape, loss), seed=0))
    back = load_onnx(_without_metadata(model, tmp_path / "foreign.onnx"))
    assert [layer.type_name for layer in back.layers] == [layer.type_name for layer in model.layers]
    assert back.loss.name == loss
    np.testing.assert_allclose(
        back.predict(inputs(model)), model.predict(inputs(model)), rtol=1e-6, atol=1e-7
    )


def _graph_file(path: Path, nodes, initializers, input_shape=(1, 4), output_shape=(1, 3)) -> Path:
    graph = helper.make_graph(
        nodes,
        "foreign",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", *input_shape[1:]])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", *output_shape[1:]])],
        initializer=[numpy_helper.from_array(v.astype(np.float32), k) for k, v in initializers.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="elsewhere")
    path.write_bytes(model.SerializeToString())
    return path


def test_matmul_and_add_become_a_dense_layer(tmp_path):
    rng = np.random.default_rng(3)
    w, b = rng.normal(size=(4, 3)), rng.normal(size=3)
    path = _graph_file(
        tmp_path / "mm.onnx",
        [
            helper.make_node("MatMul", ["x", "w"], ["h"]),
            helper.make_node("Add", ["h", "b"], ["z"]),
            helper.make_node("Softmax", ["z"], ["y"], axis=1),
        ],
        {"w": w, "b": b},
    )
    model = load_onnx(path)
    assert (
        describe_onnx(path).lines()[-1].startswith("its operators map onto dllab's layers: opens as a model")
    )
    x = rng.normal(size=(2, 4)).astype(np.float32)
    z = x @ w.astype(np.float32) + b.astype(np.float32)
    expected = np.exp(z - z.max(axis=1, keepdims=True))
    np.testing.assert_allclose(model.predict(x), expected / expected.sum(axis=1, keepdims=True), rtol=1e-5)


def test_operators_that_cannot_be_mapped_are_named_in_one_sentence(tmp_path):
    path = _graph_file(
        tmp_path / "odd.onnx",
        [
            helper.make_node("Sin", ["x"], ["s"]),
            helper.make_node("Concat", ["s", "x"], ["c"], axis=1),
            helper.make_node("Gemm", ["c", "w"], ["y"]),
        ],
        {"w": np.ones((8, 3))},
    )
    with pytest.raises(ModelFileError) as caught:
        load_onnx(path)
    message = str(caught.value)
    assert (
        message.endswith("has operators dllab cannot map to its layers: Concat, Sin") and "\n" not in message
    )
    info = describe_onnx(path)
    assert info.unmapped == ["Concat", "Sin"]
    assert (
        info.lines()[-1]
        == "does not open as a dllab model: it has operators dllab cannot map to its layers: Concat, Sin"
    )


def test_a_branching_graph_is_refused(tmp_path):
    path = _graph_file(
        tmp_path / "branch.onnx",
        [
            helper.make_node("Relu", ["x"], ["r"]),
            helper.make_node("Tanh", ["x"], ["t"]),
            helper.make_node("Add", ["r", "t"], ["y"]),
        ],
        {},
        output_shape=(1, 4),
    )
    with pytest.raises(ModelFileError, match="is not a chain of layers: the tensor 'x' feeds 2 operators"):
        load_onnx(path)
