"""The network spec: canonical form, generated names, and one clear SpecError (layer index, type, what is
wrong) for every kind of mistake; ``analyze`` reports shapes and counts up to the first error."""

import copy
import json

import numpy as np
import pytest

import dllab
from dllab.spec import DESIGN_FORMAT, FORMAT, SpecError, analyze, build_layers, read_design, read_spec
from tests.conftest import PROJECT_ROOT

NETWORKS = PROJECT_ROOT / "assets" / "networks"


def image_spec(*layers, loss="softmax_cross_entropy", input_shape=(1, 8, 8)):
    return {"format": FORMAT, "input_shape": list(input_shape), "layers": list(layers), "loss": loss}


CONV = {"type": "Conv2D", "filters": 2, "kernel_size": 3}
FLAT = {"type": "Flatten"}
OUT = {"type": "Dense", "units": 3}

LAYER_ERRORS = [
    pytest.param(
        image_spec(CONV, FLAT, CONV, OUT),
        2,
        "Conv2D",
        "expects images (channels, height, width) but gets 72; "
        "convolution must come before Flatten and Dense",
        id="conv-after-flatten",
    ),
    pytest.param(
        image_spec(CONV, OUT, input_shape=(2,)),
        0,
        "Conv2D",
        "expects images (channels, height, width) but the network's input is 2 features; convolution needs "
        "image data (such as MNIST or Shapes) or an image input shape such as 1×28×28",
        id="conv-on-flat-data",
    ),
    pytest.param(
        image_spec({"type": "Conv2D", "kernel_size": 5}, FLAT, OUT, input_shape=(1, 4, 4)),
        0,
        "Conv2D",
        "kernel 5x5 is larger than its padded input 4x4",
        id="kernel-larger-than-input",
    ),
    pytest.param(
        image_spec(CONV, {"type": "MaxPool2D", "pool_size": 7}, FLAT, OUT),
        1,
        "MaxPool2D",
        "window 7x7 is larger than its input 6x6",
        id="pool-larger-than-input",
    ),
    pytest.param(
        image_spec(FLAT, {"type": "Dense", "units": 0}, OUT),
        1,
        "Dense",
        "units must be at least 1, got 0",
        id="zero-units",
    ),
    pytest.param(
        image_spec(CONV, FLAT, {"type": "Dense", "neurons": 10}, OUT),
        2,
        "Dense",
        "unknown setting 'neurons' (allowed: units, init)",
        id="unknown-key",
    ),
    pytest.param(
        image_spec({"type": "Conv2D", "padding": "full"}, FLAT, OUT),
        0,
        "Conv2D",
        'padding must be an int, "same" or "valid", got \'full\'',
        id="bad-padding-string",
    ),
    pytest.param(
        image_spec({"type": "Conv2D", "padding": -1}, FLAT, OUT),
        0,
        "Conv2D",
        "padding must be at least 0, got -1",
        id="negative-padding",
    ),
    pytest.param(
        image_spec({"type": "MaxPool2D", "padding": 2}, FLAT, OUT),
        0,
        "MaxPool2D",
        "padding 2 must be smaller than the window 2x2",
        id="pool-padding-too-large",
    ),
    pytest.param(
        image_spec(FLAT, {"type": "Dense", "units": 4, "init": "glorot"}, OUT),
        1,
        "Dense",
        'init must be one of "he", "xavier", "he_uniform", "xavier_uniform" or a standard deviation, '
        "got 'glorot'",
        id="bad-init",
    ),
    pytest.param(
        image_spec(FLAT, {"type": "Dense", "init": -0.01}, OUT),
        1,
        "Dense",
        "init standard deviation must be a positive number, got -0.01",
        id="negative-init-std",
    ),
    pytest.param(
        image_spec(CONV, {"type": "ReLU"}, {"type": "Dense", "units": 10}),
        2,
        "Dense",
        "expects a flat input (features,) but gets 2x6x6; insert a Flatten layer before it",
        id="dense-on-images",
    ),
    pytest.param(
        image_spec(CONV, {"type": "ReLU", "name": "conv2d_1"}, FLAT, OUT),
        1,
        "ReLU",
        "name 'conv2d_1' is used by an earlier layer",
        id="duplicate-name",
    ),
    pytest.param(
        image_spec(FLAT, {"type": "Dense", "units": 4, "name": "fc.1"}, OUT),
        1,
        "Dense",
        "name must be letters, digits, '_' or '-' (no dots), got 'fc.1'",
        id="dotted-name",
    ),
    pytest.param(
        image_spec(FLAT, {"type": "Dropout", "rate": -0.5}, OUT),
        1,
        "Dropout",
        "rate must be at least 0, got -0.5",
        id="negative-dropout",
    ),
    pytest.param(
        image_spec(FLAT, {"type": "Dropout", "rate": 1}, OUT),
        1,
        "Dropout",
        "rate must be below 1, got 1",
        id="dropout-rate-one",
    ),
    pytest.param(
        image_spec(FLAT, OUT, {"type": "BatchNorm", "momentum": 1.5}),
        2,
        "BatchNorm",
        "momentum must be below 1, got 1.5",
        id="batchnorm-momentum",
    ),
    pytest.param(
        image_spec(FLAT, {"type": "BatchNorm", "eps": 0}, OUT),
        1,
        "BatchNorm",
        "eps must be above 0, got 0",
        id="batchnorm-eps-zero",
    ),
    pytest.param(
        image_spec({"type": "Conv2D", "stride": 0}, FLAT, OUT),
        0,
        "Conv2D",
        "stride must be at least 1, got 0",
        id="zero-stride",
    ),
    pytest.param(
        image_spec({"type": "Conv2D", "kernel_size": [3, 3, 3]}, FLAT, OUT),
        0,
        "Conv2D",
        "kernel_size must be an int or a pair of ints, got [3, 3, 3]",
        id="kernel-triple",
    ),
    pytest.param(
        image_spec(FLAT, {"type": "Dense", "units": "ten"}, OUT),
        1,
        "Dense",
        "units must be an integer, got 'ten'",
        id="units-string",
    ),
    pytest.param(
        image_spec(FLAT, {"type": "Dense", "units": float("inf")}, OUT),
        1,
        "Dense",
        "units must be an integer, got inf",
        id="units-infinite",
    ),
    pytest.param(
        image_spec(FLAT, {"type": "LeakyReLU", "alpha": -1}, OUT),
        1,
        "LeakyReLU",
        "alpha must be at least 0, got -1",
        id="negative-alpha",
    ),
    pytest.param(
        image_spec(FLAT, {"type": "Dense", "units": 1}),
        1,
        "Dense",
        "softmax cross-entropy needs at least 2 output units (one per class)",
        id="softmax-one-output",
    ),
    pytest.param(
        image_spec(CONV, loss="mse"),
        0,
        "Conv2D",
        "the mse loss needs a flat output (units,), got (2, 6, 6); end with Dense",
        id="loss-on-images",
    ),
]


@pytest.mark.parametrize(("spec", "index", "layer_type", "what"), LAYER_ERRORS)
def test_layer_errors_name_index_type_and_problem(spec, index, layer_type, what):
    with pytest.raises(SpecError) as info:
        dllab.build(spec)
    err = info.value
    assert (err.index, err.layer_type, err.message) == (index, layer_type, what)
    assert str(err) == f"layer {index} ({layer_type}): {what}"
    # analyze reports the same error and everything before it.
    analysis = analyze(spec)
    assert not analysis.ok
    assert str(analysis.error) == str(err)
    reached = index + 1 if what.startswith(("softmax cross-entropy", "the mse loss")) else index
    assert [info.index for info in analysis.layers] == list(range(reached))


@pytest.mark.parametrize(
    ("entry", "what"),
    [
        (
            {"type": "Conv3D"},
            "unknown layer type 'Conv3D' (known: Dense, Conv2D, MaxPool2D, AvgPool2D, Flatten, ",
        ),
        ({"type": "dense"}, "unknown layer type 'dense'"),
        ({"units": 3}, "unknown layer type None"),
        ({"type": ["Dense"]}, "unknown layer type ['Dense']"),
        ("Dense", "must be an object with a 'type', got 'Dense'"),
    ],
)
def test_unknown_layer_types_name_the_index_and_the_type_given(entry, what):
    with pytest.raises(SpecError) as info:
        dllab.build(image_spec(FLAT, entry, OUT))
    assert info.value.index == 1
    assert str(info.value).startswith(f"layer 1: {what}")


NETWORK_ERRORS = [
    pytest.param(
        {"input_shape": [0], "layers": [OUT]},
        "input_shape must be a list of positive integers",
        id="zero-dim",
    ),
    pytest.param(
        {"input_shape": [], "layers": [OUT]}, "input_shape must be a list of positive integers", id="empty"
    ),
    pytest.param(
        {"input_shape": "784", "layers": [OUT]}, "input_shape must be a list of positive integers", id="str"
    ),
    pytest.param(
        {"input_shape": [28.0], "layers": [OUT]},
        "input_shape must be a list of positive integers",
        id="float",
    ),
    pytest.param(
        {"input_shape": [True], "layers": [OUT]}, "input_shape must be a list of positive integers", id="bool"
    ),
    pytest.param({"layers": [OUT]}, "input_shape must be a list of positive integers", id="missing"),
    pytest.param(
        {"input_shape": [28, 28], "layers": [OUT]},
        "input_shape must be (features,) or (channels, height, width), got [28, 28]",
        id="two-dims",
    ),
    pytest.param(
        {"input_shape": [4], "layers": [OUT], "loss": "hinge"}, "unknown loss 'hinge' (known: ", id="loss"
    ),
    pytest.param(
        {"input_shape": [4], "layers": [OUT], "loss": ["mse"]}, "unknown loss ['mse']", id="loss-list"
    ),
    pytest.param(
        {"format": "dllab.network/2", "input_shape": [4], "layers": [OUT]},
        "format 'dllab.network/2' is newer than this dllab understands (dllab.network/1); update dllab",
        id="future-format",
    ),
    pytest.param(
        {"format": "keras", "input_shape": [4], "layers": [OUT]},
        "format must be 'dllab.network/1', got 'keras'",
        id="foreign-format",
    ),
    pytest.param(
        {"input_shape": [4], "layers": [OUT], "optimizer": "adam"}, "unknown key 'optimizer'", id="key"
    ),
    pytest.param({"input_shape": [4], "layers": []}, "layers must be a non-empty list", id="no-layers"),
    pytest.param({"input_shape": [4], "layers": OUT}, "layers must be a non-empty list", id="layers-object"),
    pytest.param(
        {"input_shape": [4], "layers": [OUT], "name": ""}, "name must be a non-empty string", id="name"
    ),
]


@pytest.mark.parametrize(("spec", "what"), NETWORK_ERRORS)
def test_network_errors(spec, what):
    with pytest.raises(SpecError) as info:
        dllab.build(spec)
    assert info.value.index is None
    assert str(info.value).startswith(f"network: {what}")
    analysis = analyze(spec)
    assert analysis.layers == []
    assert str(analysis.error) == str(info.value)


def test_a_file_that_is_not_json(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"input_shape": [4], "layers": [', encoding="utf-8")
    with pytest.raises(SpecError, match=r"^network: broken\.json is not valid JSON \(.* at line 1\)$"):
        dllab.build(path)
    assert not analyze(path).ok


def test_a_file_that_holds_no_object(tmp_path):
    path = tmp_path / "list.json"
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(SpecError, match=r"list\.json must hold a JSON object, not list"):
        dllab.build(str(path))


def test_a_file_that_is_not_text(tmp_path):
    path = tmp_path / "binary.json"
    path.write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(SpecError, match=r"network file .*binary\.json. is not UTF-8 text"):
        dllab.build(path)


def test_a_missing_file(tmp_path):
    path = tmp_path / "nowhere.json"
    with pytest.raises(SpecError, match=r"network file '.*nowhere\.json' does not exist"):
        dllab.build(path)
    analysis = analyze(path)
    assert "does not exist" in str(analysis.error)
    assert analysis.layers == []


def test_spec_error_is_a_value_error():
    assert issubclass(SpecError, ValueError)


# --- canonical form and names ------------------------------------------------------------------------------


def test_generated_names_count_per_type():
    spec, layers, _ = build_layers(
        image_spec(
            CONV,
            {"type": "ReLU"},
            {"type": "MaxPool2D"},
            FLAT,
            {"type": "Dense", "units": 5},
            {"type": "ReLU"},
            OUT,
        )
    )
    assert [layer.name for layer in layers] == [
        "conv2d_1", "relu_1", "maxpool2d_1", "flatten_1", "dense_1", "relu_2", "dense_2",
    ]  # fmt: skip
    assert [entry["name"] for entry in spec["layers"]] == [layer.name for layer in layers]


def test_generated_names_skip_names_given_by_the_user():
    _, layers, _ = build_layers(
        {
            "input_shape": [4],
            "layers": [{"type": "Dense", "name": "dense_2"}, {"type": "Dense"}, {"type": "Dense"}, OUT],
        }
    )
    assert [layer.name for layer in layers] == ["dense_2", "dense_1", "dense_3", "dense_4"]


def test_canonical_spec_fills_every_default_and_rebuilds_the_same_network():
    source = {"input_shape": [1, 6, 6], "layers": [{"type": "Conv2D"}, FLAT, {"type": "Dense", "units": 2}]}
    original = copy.deepcopy(source)
    canonical, _, loss = build_layers(source)
    assert source == original  # the caller's dict is not changed
    assert canonical == {
        "format": "dllab.network/1",
        "name": "network",
        "input_shape": [1, 6, 6],
        "layers": [
            {
                "type": "Conv2D",
                "name": "conv2d_1",
                "filters": 16,
                "kernel_size": 3,
                "stride": 1,
                "padding": 0,
                "init": "he",
            },
            {"type": "Flatten", "name": "flatten_1"},
            {"type": "Dense", "name": "dense_1", "units": 2, "init": "he"},
        ],
        "loss": "softmax_cross_entropy",
    }
    assert loss.name == "softmax_cross_entropy"
    assert json.loads(json.dumps(canonical)) == canonical
    assert build_layers(canonical)[0] == canonical
    a, b = dllab.build(source, seed=1), dllab.build(canonical, seed=1)
    for key in a.params:
        np.testing.assert_array_equal(a.params[key], b.params[key])


def test_description_is_kept():
    canonical, _, _ = build_layers(
        {"input_shape": [4], "layers": [OUT], "description": "tiny", "name": "Tiny"}
    )
    assert canonical["description"] == "tiny"
    assert canonical["name"] == "Tiny"


def test_read_spec_from_a_path_and_copy_of_a_dict():
    path = NETWORKS / "two_layer_net.json"
    assert read_spec(path) == read_spec(str(path)) == json.loads(path.read_text(encoding="utf-8"))
    source = {"input_shape": [4], "layers": [OUT]}
    copied = read_spec(source)
    copied["layers"][0]["units"] = 99
    assert source["layers"][0]["units"] == 3


# --- analyze -----------------------------------------------------------------------------------------------


def test_analyze_reports_shapes_and_counts_up_to_the_error():
    spec = image_spec(
        {"type": "Conv2D", "filters": 4, "kernel_size": 3},
        {"type": "ReLU"},
        {"type": "MaxPool2D"},
        FLAT,
        {"type": "Conv2D", "filters": 2},
        OUT,
    )
    analysis = analyze(spec)
    assert not analysis.ok
    assert analysis.error.index == 4
    assert analysis.error.layer_type == "Conv2D"
    assert [(i.name, i.type_name, i.output_shape, i.param_count) for i in analysis.layers] == [
        ("conv2d_1", "Conv2D", (4, 6, 6), 4 * 9 + 4),
        ("relu_1", "ReLU", (4, 6, 6), 0),
        ("maxpool2d_1", "MaxPool2D", (4, 3, 3), 0),
        ("flatten_1", "Flatten", (36,), 0),
    ]
    assert analysis.param_count == 40
    assert analysis.input_shape == (1, 8, 8)


def test_analyze_of_a_good_spec_matches_the_model():
    analysis = analyze(NETWORKS / "simple_conv_net.json")
    assert analysis.ok
    assert analysis.param_count == 433_890
    assert [i.output_shape for i in analysis.layers] == [
        (30, 24, 24), (30, 24, 24), (30, 12, 12), (4320,), (100,), (100,), (10,),
    ]  # fmt: skip
    assert analysis.layers[0].description == "30 filters 5x5, stride 1, pad 0, std 0.01"
    assert analysis.activation_count == 784 + 2 * 30 * 24 * 24 + 30 * 12 * 12 + 4320 + 100 + 100 + 10
    assert analysis.batch_memory(100) == 4 * (2 * 100 * analysis.activation_count + 4 * 433_890)
    model = dllab.build(NETWORKS / "simple_conv_net.json")
    assert [i.output_shape for i in analysis.layers] == [layer.output_shape for layer in model.layers]


def test_read_spec_takes_the_network_of_a_design_file(tmp_path):
    network = json.loads((NETWORKS / "two_layer_net.json").read_text(encoding="utf-8"))
    design = tmp_path / "design.json"
    design.write_text(
        json.dumps({"format": DESIGN_FORMAT, "network": network, "training": {"epochs": 3}, "data": {}})
    )
    assert read_spec(design) == network
    assert build_layers(design)[0]["name"] == network["name"]
    design.write_text(json.dumps({"format": DESIGN_FORMAT, "training": {}}))
    with pytest.raises(SpecError, match="design without a network"):
        read_spec(design)


@pytest.mark.parametrize("kind", ["dllab.design/1", "dllab.experiment/1", "dllab.run/1"])
def test_a_design_experiment_or_run_config_gives_its_network(tmp_path, kind):
    network = {"input_shape": [2], "layers": [{"type": "Dense", "units": 3}]}
    path = tmp_path / "document.json"
    path.write_text(json.dumps({"format": kind, "network": network, "data": {}}), encoding="utf-8")
    assert read_design(path)[0] == network
    path.write_text(json.dumps({"format": kind, "network": [1]}), encoding="utf-8")
    with pytest.raises(SpecError, match="without a network"):
        read_design(path)


@pytest.mark.parametrize(
    ("layers", "loss", "expected"),
    [
        (
            [OUT, {"type": "Dropout", "rate": 0.5}],
            "softmax_cross_entropy",
            [(1, "Dropout after the output layer")],
        ),
        (
            [OUT, {"type": "ReLU"}],
            "softmax_cross_entropy",
            [(1, "ReLU after the output layer bends the scores")],
        ),
        ([OUT, {"type": "Sigmoid"}], "mse", []),  # a regression may squash its output
        (
            [{"type": "Dense", "units": 4}, {"type": "ReLU"}, {"type": "ReLU"}, OUT],
            "mse",
            [(2, "ReLU right after")],
        ),
        ([{"type": "Dropout", "rate": 0.0}, OUT], "mse", [(0, "Dropout with rate 0 does nothing")]),
        ([{"type": "Dense", "units": 4}, FLAT, OUT], "mse", [(1, "Flatten of values that are already flat")]),
        ([{"type": "Dense", "units": 4}, {"type": "ReLU"}, {"type": "Dropout", "rate": 0.5}, OUT], "mse", []),
    ],
)
def test_legal_but_pointless_stacks_get_a_note_not_an_error(layers, loss, expected):
    analysis = analyze(image_spec(*layers, loss=loss, input_shape=(6,)))
    assert analysis.ok
    assert len(analysis.notes) == len(expected)
    for (index, sentence), (want, start) in zip(analysis.notes, expected, strict=True):
        assert index == want and sentence.startswith(start)
