"""ONNX export: the graph passes onnx.checker and onnxruntime reproduces model.predict."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import dllab
from dllab.layers import Layer
from dllab.onnx_export import DEFAULT_OPSET, GELU_OPSET, MIN_OPSET, to_onnx
from tests.engine.user_errors import LONG, assert_settings_error

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

NETWORKS = sorted((Path(__file__).resolve().parents[2] / "assets" / "networks").glob("*.json"))
TOLERANCE = 1e-5


def session(model: dllab.Sequential, opset: int | None = None) -> Any:
    proto = to_onnx(model, opset=opset)
    return ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])


def random_inputs(model: dllab.Sequential, n: int = 7, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, 1.0, (n, *model.input_shape)).astype(np.float32)


def assert_matches(model: dllab.Sequential, n: int = 7, opset: int | None = None, seed: int = 0) -> None:
    """onnxruntime's output equals ``model.predict`` within 1e-5 on a random batch of ``n``."""
    x = random_inputs(model, n, seed)
    (got,) = session(model, opset).run(["output"], {"input": x})
    expected = model.predict(x)
    assert got.dtype == np.float32
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=TOLERANCE, atol=TOLERANCE)


def randomize(model: dllab.Sequential, seed: int = 1) -> dllab.Sequential:
    """Give biases and BatchNorm scales non-trivial values, and move the running statistics away from 0/1."""
    rng = np.random.default_rng(seed)
    for key, value in model.params.items():
        if key.endswith((".b", ".beta")):
            value[...] = rng.normal(0.0, 0.3, value.shape)
        elif key.endswith(".gamma"):
            value[...] = rng.uniform(0.5, 1.5, value.shape)
    if model.state:
        for _ in range(3):
            model.forward(rng.normal(0.5, 2.0, (16, *model.input_shape)), training=True)
    return model


def mlp(
    activation: dict[str, Any], loss: str = "softmax_cross_entropy", outputs: int = 3
) -> dllab.Sequential:
    spec = {
        "name": f"mlp-{activation['type']}",
        "input_shape": [6],
        "layers": [
            {"type": "Dense", "units": 10, "init": "xavier"},
            activation,
            {"type": "Dense", "units": 8, "init": "xavier"},
            dict(activation),
            {"type": "Dense", "units": outputs, "init": "xavier"},
        ],
        "loss": loss,
    }
    return randomize(dllab.build(spec, seed=3))


ACTIVATIONS = [
    {"type": "ReLU"},
    {"type": "LeakyReLU", "alpha": 0.2},
    {"type": "Sigmoid"},
    {"type": "Tanh"},
    {"type": "ELU", "alpha": 0.7},
    {"type": "GELU"},
    {"type": "Step"},
]


@pytest.mark.parametrize("activation", ACTIVATIONS, ids=lambda a: a["type"])
def test_mlp_with_each_activation(activation: dict[str, Any]) -> None:
    assert_matches(mlp(activation), n=32)


def test_gelu_uses_the_gelu_operator_from_opset_20() -> None:
    model = mlp({"type": "GELU"})
    assert "Gelu" not in {node.op_type for node in to_onnx(model).graph.node}
    assert "Gelu" in {node.op_type for node in to_onnx(model, opset=GELU_OPSET).graph.node}
    assert_matches(model, n=32, opset=GELU_OPSET)


@pytest.mark.parametrize(("loss", "outputs"), [("sigmoid_binary_cross_entropy", 1), ("mse", 2)])
def test_sigmoid_and_identity_outputs(loss: str, outputs: int) -> None:
    model = mlp({"type": "Tanh"}, loss=loss, outputs=outputs)
    last = to_onnx(model).graph.node[-1]
    assert last.op_type == ("Sigmoid" if outputs == 1 else "Identity")
    assert list(last.output) == ["output"]
    assert_matches(model)


def test_cnn_with_padding_stride_and_asymmetric_same_padding() -> None:
    spec = {
        "name": "cnn",
        "input_shape": [2, 11, 10],
        "layers": [
            # "same" with an even kernel and a stride: pads (1, 2, 1, 1), bottom heavier than top.
            {"type": "Conv2D", "filters": 4, "kernel_size": 4, "stride": 2, "padding": "same"},
            {"type": "ReLU"},
            {"type": "Conv2D", "filters": 5, "kernel_size": [3, 2], "stride": [1, 2], "padding": 1},
            {"type": "ELU"},
            {"type": "Conv2D", "filters": 3, "kernel_size": 2, "padding": "valid"},
            {"type": "Flatten"},
            {"type": "Dense", "units": 4},
        ],
    }
    model = randomize(dllab.build(spec, seed=4))
    assert model.layers[0].pads == (1, 2, 1, 1)
    conv = to_onnx(model).graph.node[0]
    pads = next(a for a in conv.attribute if a.name == "pads")
    assert list(pads.ints) == [1, 1, 2, 1]  # ONNX order: top, left, bottom, right
    assert_matches(model)


def test_batch_norm_after_dense_and_conv_with_dropout() -> None:
    spec = {
        "name": "bn",
        "input_shape": [3, 8, 8],
        "layers": [
            {"type": "Conv2D", "filters": 4, "kernel_size": 3, "padding": 1},
            {"type": "BatchNorm", "eps": 1e-3},
            {"type": "ReLU"},
            {"type": "Dropout", "rate": 0.4},
            {"type": "Flatten"},
            {"type": "Dense", "units": 12},
            {"type": "BatchNorm", "momentum": 0.5},
            {"type": "LeakyReLU"},
            {"type": "Dropout", "rate": 0.2},
            {"type": "Dense", "units": 5},
        ],
    }
    model = randomize(dllab.build(spec, seed=5))
    assert not np.allclose(model.state["batchnorm_1.mean"], 0)
    assert not np.allclose(model.state["batchnorm_2.var"], 1)
    ops = [node.op_type for node in to_onnx(model).graph.node]
    assert ops.count("BatchNormalization") == 2
    assert "Dropout" not in ops
    assert_matches(model)


def test_the_books_dropout_is_a_multiplication_at_inference() -> None:
    spec = {
        "name": "book dropout",
        "input_shape": [6],
        "layers": [
            {"type": "Dense", "units": 8},
            {"type": "ReLU"},
            {"type": "Dropout", "rate": 0.5, "scaling": "book"},
            {"type": "Dense", "units": 3},
            {"type": "Dropout", "rate": 0.25, "scaling": "book"},
        ],
    }
    model = randomize(dllab.build(spec, seed=5))
    ops = [node.op_type for node in to_onnx(model).graph.node]
    assert ops.count("Mul") == 2 and "Dropout" not in ops
    assert_matches(model)


@pytest.mark.parametrize("pool", ["MaxPool2D", "AvgPool2D"])
def test_pooling_overlapping_and_padded(pool: str) -> None:
    spec = {
        "name": "pools",
        "input_shape": [2, 13, 13],
        "layers": [
            {"type": pool, "pool_size": 3, "stride": 1, "padding": 1},  # overlapping, padded
            {"type": pool, "pool_size": 3, "stride": 2, "padding": "valid"},  # overlapping
            {"type": pool, "pool_size": 2, "stride": 2, "padding": "same"},  # 6 -> 3, then 3 -> 2 below
            {"type": pool, "pool_size": 2, "stride": 2, "padding": "same"},  # odd input: pads (0, 1, 0, 1)
            {"type": "Flatten"},
            {"type": "Dense", "units": 3},
        ],
    }
    model = randomize(dllab.build(spec, seed=6))
    assert model.layers[3].pads == (0, 1, 0, 1)
    nodes = to_onnx(model).graph.node
    if pool == "AvgPool2D":
        attrs = {a.name: a.i for a in nodes[0].attribute if a.name == "count_include_pad"}
        assert attrs == {"count_include_pad": 1}
    x_shift = 3.0  # all-positive inputs: an average that left out padded zeros would differ
    x = random_inputs(model) + x_shift
    (got,) = session(model).run(None, {"input": x})
    np.testing.assert_allclose(got, model.predict(x), rtol=TOLERANCE, atol=TOLERANCE)
    assert_matches(model)


@pytest.mark.parametrize("network", NETWORKS, ids=lambda p: p.stem)
def test_every_example_network(network: Path) -> None:
    assert_matches(randomize(dllab.build(network, seed=0)))


def test_float64_model_exports_float32_and_stays_float64() -> None:
    model = randomize(dllab.build(NETWORKS[0], seed=0, dtype=np.float64))
    proto = to_onnx(model)
    assert {init.data_type for init in proto.graph.initializer} == {onnx.TensorProto.FLOAT}
    assert model.dtype == np.float64
    assert all(value.dtype == np.float64 for value in model.params.values())
    assert_matches(model)


def test_file_passes_checker_and_batch_dimension_is_dynamic(tmp_path: Path) -> None:
    model = randomize(dllab.build(NETWORKS[-1], seed=0))
    model.class_names = ["a", "b", "c"]
    model.preprocessing = {
        "kind": "scale",
        "input_shape": list(model.input_shape),
        "low": [0.0],
        "high": [1.0],
    }
    path = dllab.export_onnx(model, tmp_path / "model.onnx")
    assert path == tmp_path / "model.onnx"
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]

    proto = onnx.load(path)
    onnx.checker.check_model(proto, full_check=True)
    assert proto.producer_name == "dllab"
    assert proto.graph.name == model.name
    assert proto.opset_import[0].version == DEFAULT_OPSET
    (graph_input,) = proto.graph.input
    (graph_output,) = proto.graph.output
    assert graph_input.name == "input"
    assert graph_output.name == "output"
    dims = graph_input.type.tensor_type.shape.dim
    assert dims[0].dim_param and not dims[0].HasField("dim_value")
    assert [d.dim_value for d in dims[1:]] == list(model.input_shape)
    props = {p.key: p.value for p in proto.metadata_props}
    assert props["name"] == model.name
    assert json.loads(props["class_names"]) == ["a", "b", "c"]
    assert json.loads(props["preprocessing"]) == model.preprocessing
    assert json.loads(props["dllab.spec"]) == model.spec

    runner = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for n in (1, 7):
        x = random_inputs(model, n, seed=n)
        (got,) = runner.run(None, {"input": x})
        assert got.shape == (n, *model.output_shape)
        np.testing.assert_allclose(got, model.predict(x), rtol=TOLERANCE, atol=TOLERANCE)


class Mystery(Layer):
    """A layer type the exporter has no conversion for."""

    type_name = "Mystery"

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        return x


def test_unsupported_layer_is_a_clear_error_and_writes_nothing(tmp_path: Path) -> None:
    model = mlp({"type": "ReLU"})
    model.layers.insert(2, Mystery(name="mystery_1"))
    target = tmp_path / "model.onnx"
    target.write_bytes(b"old")
    with pytest.raises(ValueError, match=r"layer 2 'mystery_1' \(Mystery\)"):
        dllab.export_onnx(model, target)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]


@pytest.mark.parametrize("opset", [12, 10_000, "17", True, 17.0, 10**400, LONG])
def test_unsupported_opset(opset: Any) -> None:
    assert_settings_error(
        lambda: to_onnx(mlp({"type": "ReLU"}), opset=opset),
        f"opset must be a whole number from {MIN_OPSET} to ",
    )


def test_import_dllab_does_not_load_onnx() -> None:
    code = "import sys, dllab; print('onnx' in sys.modules, 'onnxruntime' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]
