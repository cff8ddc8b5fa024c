"""ONNX files read back: every example network's export opens with its weights, foreign chains map, and what
cannot be mapped is said in one sentence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import dllab
from dllab.io import ModelFileError
from dllab.onnx_export import export_onnx, to_onnx
from dllab.onnx_import import describe_onnx, load_model, load_onnx

onnx = pytest.importorskip("onnx")
from onnx import TensorProto  # noqa: E402

NETWORKS = sorted((Path(__file__).resolve().parents[2] / "assets" / "networks").glob("*.json"))
EXTRA_LAYERS = [
    {"type": "Conv2D", "filters": 4, "kernel_size": 3, "padding": "same"},
    {"type": "BatchNorm"},
    {"type": "GELU"},
    {"type": "AvgPool2D", "pool_size": 2, "stride": 2, "padding": 1},
    {"type": "LeakyReLU", "alpha": 0.2},
    {"type": "Flatten"},
    {"type": "Dropout", "rate": 0.3},
    {"type": "Dense", "units": 6},
    {"type": "ELU"},
    {"type": "Step"},
    {"type": "Dense", "units": 3},
]


def trained_like(model: dllab.Sequential, seed: int = 1) -> dllab.Sequential:
    """The model with every weight and running statistic changed, so nothing matches by its initial value."""
    rng = np.random.default_rng(seed)
    for value in {**model.params, **model.state}.values():
        value[...] = (
            np.abs(value + rng.normal(0, 0.05, value.shape))
            if value.ndim == 1
            else value + rng.normal(0, 0.05, value.shape)
        )
    return model


def inputs(model: dllab.Sequential, n: int = 5) -> np.ndarray:
    return np.random.default_rng(0).normal(0, 1, (n, *model.input_shape)).astype(np.float32)


@pytest.mark.parametrize("network", NETWORKS, ids=lambda p: p.stem)
def test_every_example_network_comes_back_with_identical_predictions(network, tmp_path):
    model = trained_like(dllab.build(network, seed=0))
    model.class_names = [f"c{i}" for i in range(model.output_shape[0])]
    model.preprocessing = {"kind": "scale", "input_shape": None, "low": [0.0], "high": [255.0]}
    path = export_onnx(model, tmp_path / "model.onnx")
    back = load_onnx(path)
    assert back.spec == model.spec
    assert np.array_equal(back.predict(inputs(model)), model.predict(inputs(model)))
    assert back.class_names == model.class_names and back.preprocessing == model.preprocessing
    assert load_model(path).spec == model.spec


def network_spec(layers, input_shape=(2, 8, 8), loss="softmax_cross_entropy"):
    return {
        "format": "dllab.network/1",
        "name": "extra",
        "input_shape": list(input_shape),
        "layers": layers,
        "loss": loss,
    }


@pytest.mark.parametrize("opset", [17, 20])
def test_every_layer_type_comes_back_at_each_opset(opset, tmp_path):
    model = trained_like(dllab.build(network_spec(EXTRA_LAYERS), seed=0))
    path = export_onnx(model, tmp_path / "all.onnx", opset=opset)
    back = load_onnx(path)
    assert np.array_equal(back.predict(inputs(model)), model.predict(inputs(model)))


def test_a_graph_changed_after_export_is_refused(tmp_path):
    model = dllab.build(network_spec([{"type": "Flatten"}, {"type": "Dense", "units": 3}]), seed=0)
    proto = to_onnx(model)
    proto.graph.node[1].op_type = "MatMul"
    path = tmp_path / "changed.onnx"
    path.write_bytes(proto.SerializeToString())
    with pytest.raises(ModelFileError, match="differs from the network its metadata describes"):
        load_onnx(path)


def test_a_file_that_is_not_onnx_and_external_weights_are_refused(tmp_path):
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\xff\xfe not protobuf at all" * 10)
    with pytest.raises(ModelFileError, match=r"junk\.onnx' is not an ONNX model"):
        describe_onnx(junk)
    with pytest.raises(ModelFileError, match="does not exist"):
        load_onnx(tmp_path / "missing.onnx")
    model = dllab.build(network_spec([{"type": "Flatten"}, {"type": "Dense", "units": 3}]), seed=0)
    proto = to_onnx(model)
    tensor = proto.graph.initializer[0]
    tensor.data_location = TensorProto.EXTERNAL
    entry = tensor.external_data.add()
    entry.key, entry.value = "location", "/etc/passwd"
    outside = tmp_path / "outside.onnx"
    outside.write_bytes(proto.SerializeToString())
    with pytest.raises(ModelFileError, match="keeps its weights in external files"):
        load_onnx(outside)


def test_describe_lists_inputs_outputs_operators_and_parameters(tmp_path):
    model = dllab.build(next(p for p in NETWORKS if p.stem == "simple_conv_net"), seed=0)
    path = export_onnx(model, tmp_path / "m.onnx")
    info = describe_onnx(path)
    assert info.parameter_count == model.param_count
    assert info.inputs[0].name == "input" and info.inputs[0].shape == ["batch", *model.input_shape]
    assert info.outputs[0].shape == ["batch", *model.output_shape]
    text = "\n".join(info.lines())
    assert f"parameters: {model.param_count:,}" in text
    assert "exported by dllab" in text
    assert "Softmax" in text
