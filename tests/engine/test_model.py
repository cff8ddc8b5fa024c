"""Sequential models built from specs: summary, live parameters, gradients keyed like parameters, predict,
input shapes, weights in and out, example networks and reproducibility."""

import math

import numpy as np
import pytest

import dllab
from tests.conftest import PROJECT_ROOT

NETWORKS = PROJECT_ROOT / "assets" / "networks"
EXAMPLES = sorted(NETWORKS.glob("*.json"))

SMALL_CONV = {
    "name": "SmallConv",
    "input_shape": [1, 6, 6],
    "layers": [
        {"type": "Conv2D", "filters": 3, "kernel_size": 3, "padding": 1},
        {"type": "BatchNorm"},
        {"type": "ReLU"},
        {"type": "MaxPool2D"},
        {"type": "Flatten"},
        {"type": "Dense", "units": 8},
        {"type": "Dropout", "rate": 0.5},
        {"type": "Dense", "units": 4},
    ],
}


def batch(model, n=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, *model.input_shape)), rng.integers(0, model.output_shape[0], size=n)


def test_summary_lists_every_layer_with_output_shape_and_parameter_count():
    model = dllab.build(NETWORKS / "simple_conv_net.json")
    text = model.summary()
    rows = {line.split()[1]: line for line in text.splitlines() if line[:1].isdigit()}
    assert list(rows) == ["conv2d_1", "relu_1", "maxpool2d_1", "flatten_1", "dense_1", "relu_2", "dense_2"]
    expected = {
        "conv2d_1": ("Conv2D", "30x24x24", "780"),
        "relu_1": ("ReLU", "30x24x24", "0"),
        "maxpool2d_1": ("MaxPool2D", "30x12x12", "0"),
        "flatten_1": ("Flatten", "4320", "0"),
        "dense_1": ("Dense", "100", "432,100"),
        "relu_2": ("ReLU", "100", "0"),
        "dense_2": ("Dense", "10", "1,010"),
    }
    for name, (type_name, shape, count) in expected.items():
        cells = rows[name].split()
        assert cells[2] == type_name
        assert cells[-2:] == [shape, count]
    assert "1x28x28" in text
    assert "Total parameters: 433,890" in text
    assert model.param_count == 433_890
    assert "SimpleConvNet" in text
    assert "softmax_cross_entropy" in text
    assert repr(model) == "<Sequential 'SimpleConvNet': 7 layers, 433,890 parameters>"


def test_parameter_keys_are_layer_name_dot_parameter():
    model = dllab.build(SMALL_CONV)
    assert list(model.params) == [
        "conv2d_1.W", "conv2d_1.b", "batchnorm_1.gamma", "batchnorm_1.beta",
        "dense_1.W", "dense_1.b", "dense_2.W", "dense_2.b",
    ]  # fmt: skip
    assert list(model.state) == ["batchnorm_1.mean", "batchnorm_1.var"]
    assert model.params["conv2d_1.W"].shape == (3, 1, 3, 3)
    assert model.params["dense_1.W"].shape == (27, 8)
    assert model.param_count == sum(p.size for p in model.params.values())


def test_only_the_first_layer_skips_its_input_gradient():
    model = dllab.build(SMALL_CONV)
    assert [layer.needs_input_grad for layer in model.layers] == [False] + [True] * 7
    x, _ = batch(model)
    model.forward(x, training=True)
    assert model.layers[0].backward(np.ones((5, 3, 6, 6), np.float32)) is None


def test_params_are_live():
    model = dllab.build(NETWORKS / "two_layer_net.json")
    x, _ = batch(model, 3)
    before = model.forward(x)
    assert model.params["dense_2.b"] is model.layers[2].params["b"]
    model.params["dense_2.b"][:] += 1.0  # in place, as an optimizer does
    np.testing.assert_allclose(model.forward(x), before + 1.0, rtol=1e-5)
    model.params["dense_1.W"] *= 0.0
    np.testing.assert_allclose(model.forward(x), np.broadcast_to(model.params["dense_2.b"], (3, 10)))


def test_loss_and_grads_keys_and_shapes_match_params():
    model = dllab.build(SMALL_CONV)
    x, t = batch(model)
    loss, grads = model.loss_and_grads(x, t)
    assert isinstance(loss, float)
    assert np.isfinite(loss)
    assert list(grads) == list(model.params)
    for key, grad in grads.items():
        assert grad.shape == model.params[key].shape
        assert grad.dtype == np.float32
        assert grad is not model.params[key]


def test_loss_and_grads_accepts_one_hot_labels():
    model = dllab.build(SMALL_CONV, dtype=np.float64)
    x, t = batch(model)
    state = model.rng.bit_generator.state
    loss_index, grads_index = model.loss_and_grads(x, t)
    model.rng.bit_generator.state = state  # same dropout mask
    loss_onehot, grads_onehot = model.loss_and_grads(x, np.eye(4)[t])
    assert loss_index == pytest.approx(loss_onehot, rel=1e-12)
    for key in grads_index:
        np.testing.assert_allclose(grads_index[key], grads_onehot[key], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("loss", ["softmax_cross_entropy", "sigmoid_binary_cross_entropy"])
def test_predict_applies_the_output_function(loss):
    spec = {"input_shape": [3], "layers": [{"type": "Dense", "units": 4}], "loss": loss}
    model = dllab.build(spec, seed=1)
    x = np.random.default_rng(0).normal(size=(7, 3))
    probs = model.predict(x)
    assert probs.shape == (7, 4)
    assert probs.dtype == np.float32
    assert ((probs > 0) & (probs < 1)).all()
    if loss == "softmax_cross_entropy":
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)
    else:
        assert not np.allclose(probs.sum(axis=1), 1.0, rtol=1e-2)  # independent probabilities
    np.testing.assert_allclose(probs, model.loss.output(model.forward(x)), rtol=1e-6)


def test_predict_of_a_regression_network_is_the_raw_output():
    model = dllab.build({"input_shape": [3], "layers": [{"type": "Dense", "units": 2}], "loss": "mse"})
    x = np.random.default_rng(0).normal(size=(4, 3))
    np.testing.assert_array_equal(model.predict(x), model.forward(x))


def test_predict_in_batches_gives_the_same_rows_and_handles_no_input():
    model = dllab.build(SMALL_CONV)
    x, _ = batch(model, 11)
    np.testing.assert_allclose(model.predict(x, batch_size=3), model.predict(x), rtol=1e-6)
    np.testing.assert_allclose(model.predict(x).sum(axis=1), 1.0, rtol=1e-6)
    assert model.predict(x[:0]).shape == (0, 4)


def test_forward_accepts_flattened_images():
    model = dllab.build(NETWORKS / "simple_conv_net.json")
    x = np.random.default_rng(0).random((2, 1, 28, 28)).astype(np.float32)
    np.testing.assert_array_equal(model.forward(x.reshape(2, 784)), model.forward(x))
    np.testing.assert_array_equal(model.predict(x.reshape(2, 28, 28)), model.predict(x))


@pytest.mark.parametrize("shape", [(2, 783), (2, 1, 27, 28), (784,)])
def test_wrong_input_shape_is_a_clear_error(shape):
    model = dllab.build(NETWORKS / "simple_conv_net.json")
    with pytest.raises(ValueError, match=r"per sample does not fit the network's \(1, 28, 28\)"):
        model.forward(np.zeros(shape))


def test_wrong_input_shape_names_both_shapes():
    model = dllab.build(NETWORKS / "two_layer_net.json")
    with pytest.raises(
        ValueError, match=r"^input of shape \(10,\) per sample does not fit the network's \(784,\)$"
    ):
        model.predict(np.zeros((3, 10)))


def test_forward_converts_inputs_to_the_model_dtype():
    model = dllab.build(NETWORKS / "two_layer_net.json")
    assert model.forward(np.zeros((2, 784), dtype=np.float64)).dtype == np.float32
    assert model.forward(np.zeros((2, 784), dtype=np.uint8)).dtype == np.float32


def test_float64_on_request():
    model = dllab.build(SMALL_CONV, dtype=np.float64)
    assert model.dtype == np.float64
    assert all(v.dtype == np.float64 for v in (*model.params.values(), *model.state.values()))
    x, t = batch(model)
    assert model.forward(x, training=True).dtype == np.float64
    _, grads = model.loss_and_grads(x, t)
    assert all(g.dtype == np.float64 for g in grads.values())
    assert "(float64)" in model.summary()


def test_float32_by_default_and_no_integer_models():
    model = dllab.build(SMALL_CONV)
    assert model.dtype == np.float32
    assert all(v.dtype == np.float32 for v in (*model.params.values(), *model.state.values()))
    with pytest.raises(dllab.SettingsError, match="dtype must be float32 or float64, got int64"):
        dllab.build(SMALL_CONV, dtype=np.int64)
    with pytest.raises(dllab.SettingsError, match="dtype must be float32 or float64, got float16"):
        dllab.build(SMALL_CONV, dtype=np.float16)


# --- weights in and out ------------------------------------------------------------------------------------


def test_get_and_set_weights_round_trip():
    a = dllab.build(SMALL_CONV, seed=1)
    x, t = batch(a)
    a.loss_and_grads(x, t)  # moves the running statistics away from their start
    weights = a.get_weights()
    assert set(weights) == set(a.params) | set(a.state)
    b = dllab.build(SMALL_CONV, seed=2)
    assert not np.array_equal(b.forward(x), a.forward(x))
    b.set_weights(weights)
    np.testing.assert_array_equal(b.forward(x), a.forward(x))
    for key, value in weights.items():
        assert value is not a.params.get(key, a.state.get(key))  # copies
    weights["dense_2.b"][:] = 100.0
    assert not (a.params["dense_2.b"] == 100.0).any()


def test_set_weights_errors_leave_the_model_unchanged():
    model = dllab.build(SMALL_CONV)
    before = model.get_weights()
    good = {k: v + 1 for k, v in before.items()}
    missing = {k: v for k, v in good.items() if k != "batchnorm_1.var"}
    with pytest.raises(ValueError, match=r"weights are missing 'batchnorm_1\.var'"):
        model.set_weights(missing)
    with pytest.raises(ValueError, match=r"weights have an unknown entry 'dense_3\.W'"):
        model.set_weights({**good, "dense_3.W": np.zeros(3)})
    with pytest.raises(
        ValueError, match=r"weight 'dense_2.W' has shape \(4, 8\), the network needs \(8, 4\)"
    ):
        model.set_weights({**good, "dense_2.W": good["dense_2.W"].T})
    for key, value in model.get_weights().items():
        np.testing.assert_array_equal(value, before[key])


# --- example networks ---------------------------------------------------------------------------------------


def test_the_examples_are_there():
    assert {p.stem for p in EXAMPLES} >= {
        "simple_conv_net",
        "deep_conv_net",
        "two_layer_net",
        "multi_layer_net",
    }


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_network_builds_and_runs(path):
    model = dllab.build(path)
    analysis = dllab.analyze(path)
    assert analysis.ok
    assert model.param_count == analysis.param_count > 0
    assert f"Total parameters: {model.param_count:,}" in model.summary()
    x, t = batch(model, 2)
    assert model.forward(x).shape == (2, *model.output_shape)
    loss, grads = model.loss_and_grads(x, t)
    assert np.isfinite(loss)
    assert list(grads) == list(model.params)


# --- reproducibility ----------------------------------------------------------------------------------------


def test_same_seed_gives_identical_params_and_gradients():
    a, b = dllab.build(SMALL_CONV, seed=3), dllab.build(SMALL_CONV, seed=3)
    for key in a.params:
        np.testing.assert_array_equal(a.params[key], b.params[key])
    x, t = batch(a)
    for _ in range(2):  # dropout masks follow the seed too, batch after batch
        loss_a, grads_a = a.loss_and_grads(x, t)
        loss_b, grads_b = b.loss_and_grads(x, t)
        assert loss_a == loss_b
        for key in grads_a:
            np.testing.assert_array_equal(grads_a[key], grads_b[key])


def test_different_seeds_give_different_models():
    a, b = dllab.build(SMALL_CONV, seed=3), dllab.build(SMALL_CONV, seed=4)
    for key in ("conv2d_1.W", "dense_1.W", "dense_2.W"):
        assert not np.array_equal(a.params[key], b.params[key])
    x, t = batch(a)
    assert a.loss_and_grads(x, t)[0] != b.loss_and_grads(x, t)[0]


def test_dropout_masks_come_from_the_models_generator_and_weights_do_not_depend_on_dropout():
    model = dllab.build(SMALL_CONV, seed=0)
    dropout = model.layers[6]
    assert dropout.type_name == "Dropout"
    assert dropout.rng is model.rng
    without = dict(SMALL_CONV, layers=[e for e in SMALL_CONV["layers"] if e["type"] != "Dropout"])
    other = dllab.build(without, seed=0)
    for key in other.params:
        np.testing.assert_array_equal(model.params[key], other.params[key])
    x, _ = batch(model)
    first = model.forward(x, training=True)
    assert not np.array_equal(model.forward(x, training=True), first)  # a new mask each batch


def test_inference_is_deterministic_and_leaves_running_statistics_alone():
    model = dllab.build(SMALL_CONV)
    x, t = batch(model)
    state = {k: v.copy() for k, v in model.state.items()}
    np.testing.assert_array_equal(model.forward(x), model.forward(x))
    assert model.evaluate_loss(x, t) == model.evaluate_loss(x, t)
    for key, value in model.state.items():
        np.testing.assert_array_equal(value, state[key])
    model.loss_and_grads(x, t)
    assert not np.array_equal(model.state["batchnorm_1.mean"], state["batchnorm_1.mean"])


def test_gradient_steps_lower_the_loss():
    model = dllab.build(
        {
            "input_shape": [2],
            "layers": [{"type": "Dense", "units": 16}, {"type": "Tanh"}, {"type": "Dense", "units": 2}],
        },
        seed=0,
        dtype=np.float64,
    )
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 2))
    t = (x[:, 0] * x[:, 1] > 0).astype(int)  # XOR-like quadrants
    first, _ = model.loss_and_grads(x, t)
    for _ in range(300):
        loss, grads = model.loss_and_grads(x, t)
        for key, grad in grads.items():
            model.params[key] -= 0.5 * grad
    assert loss < 0.5 * first
    assert np.mean(model.predict(x).argmax(axis=1) == t) > 0.9


def test_layers_work_in_place_only_where_the_array_is_the_passes_own():
    model = dllab.build(NETWORKS / "simple_conv_net.json", seed=0)
    overwrites = {layer.name: layer.may_overwrite for layer in model.layers}
    assert overwrites["relu_1"] and overwrites["relu_2"]  # after Conv2D's and Dense's fresh outputs
    assert not overwrites["conv2d_1"]  # the caller's input
    assert not overwrites["dense_1"]  # after Flatten: a view of an array MaxPool2D made
    assert not dllab.layers.Dense(units=2).may_overwrite  # a layer on its own never does


def test_in_place_layers_give_the_gradients_and_activations_of_separate_arrays():
    spec = {
        "input_shape": [1, 8, 8],
        "layers": [
            {"type": "Conv2D", "filters": 3, "kernel_size": 3},
            {"type": "ReLU"},
            {"type": "MaxPool2D", "pool_size": 2},
            {"type": "ReLU"},
            {"type": "Flatten"},
            {"type": "ReLU"},
            {"type": "Dense", "units": 5},
            {"type": "ReLU"},
            {"type": "Dense", "units": 3},
        ],
    }
    rng = np.random.default_rng(0)
    x, t = rng.normal(size=(4, 1, 8, 8)), np.array([0, 1, 2, 1])
    model = dllab.build(spec, seed=1, dtype=np.float64)
    reference = dllab.build(spec, seed=1, dtype=np.float64)
    for layer in reference.layers:
        layer.may_overwrite = False
    before = x.copy()
    loss, grads = model.loss_and_grads(x, t)
    expected_loss, expected = reference.loss_and_grads(x, t)
    np.testing.assert_array_equal(x, before)
    assert loss == expected_loss
    for key in expected:
        np.testing.assert_array_equal(grads[key], expected[key])
    conv_out, relu_out = model.activations(x)[:2]  # inference: every layer's output kept apart
    assert not np.shares_memory(conv_out, relu_out)
    assert (conv_out < 0).any()


@pytest.mark.parametrize(
    "pool",
    [
        {"type": "MaxPool2D", "pool_size": 2},
        {"type": "MaxPool2D", "pool_size": 3, "stride": 1, "padding": 1},  # overlapping, padded windows
    ],
)
def test_relu_before_max_pooling_is_computed_after_it_with_the_same_results(pool):
    spec = {
        "input_shape": [2, 6, 6],
        "layers": [
            {"type": "Conv2D", "filters": 3, "kernel_size": 3, "padding": 1},
            {"type": "ReLU"},
            pool,
            {"type": "ReLU"},
            pool,
            {"type": "Flatten"},
            {"type": "Dense", "units": 3},
        ],
    }
    model = dllab.build(spec, seed=1, dtype=np.float64)
    names = [layer.name for layer in dllab.model.computing_order(model.layers)]
    assert names[:5] == ["conv2d_1", "maxpool2d_1", "relu_1", "maxpool2d_2", "relu_2"]
    rng = np.random.default_rng(0)
    x, t = rng.normal(size=(5, 2, 6, 6)), np.array([0, 1, 2, 1, 0])
    x[0, :, :3, :3] = -1.0  # every value of some windows below zero: no gradient through them either way
    loss, grads = model.loss_and_grads(x, t)

    # The declared order, layer by layer.
    reference = dllab.build(spec, seed=1, dtype=np.float64)
    out = x
    for layer in reference.layers:
        out = layer.forward(out, True)
    expected_loss = reference.loss.forward(out, t)
    dout = reference.loss.backward()
    for layer in reversed(reference.layers):
        dout = layer.backward(dout)
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    for layer in reference.layers:
        for key, grad in layer.grads.items():
            np.testing.assert_allclose(grads[f"{layer.name}.{key}"], grad, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(model.forward(x), out, rtol=1e-12)
    assert [a.shape for a in model.activations(x)] == [(5, *layer.output_shape) for layer in model.layers]


def test_inference_in_parts_gives_the_rows_of_one_pass():
    model = dllab.build(SMALL_CONV, seed=0, dtype=np.float64)
    x, _ = batch(model, n=7)
    model.INFERENCE_BYTES = 1 << 40
    whole = model.forward(x)
    model.INFERENCE_PART = 3
    np.testing.assert_allclose(model.forward(x), whole, rtol=1e-12)


def test_inference_parts_keep_the_largest_layer_output_within_the_byte_limit():
    model = dllab.build(SMALL_CONV, seed=0, dtype=np.float64)
    largest = max(math.prod(layer.output_shape) for layer in model.layers) * 8
    model.INFERENCE_BYTES = 2 * largest
    assert model.inference_part() == 2
    model.INFERENCE_BYTES = 1
    assert model.inference_part() == 1  # at least one sample
    model.INFERENCE_BYTES = 1 << 40
    assert model.inference_part() == model.INFERENCE_PART
    x, _ = batch(model, n=7)
    whole = model.forward(x)
    model.INFERENCE_BYTES = 2 * largest
    np.testing.assert_allclose(model.forward(x), whole, rtol=1e-12)


# --- a mini-batch in two halves side by side --------------------------------------------------------------

APART_CONV = {
    "name": "ApartConv",
    "input_shape": [2, 7, 7],
    "layers": [
        {"type": "Conv2D", "filters": 3, "kernel_size": 3, "padding": 1},
        {"type": "ReLU"},
        {"type": "MaxPool2D"},
        {"type": "Conv2D", "filters": 4, "kernel_size": 2},
        {"type": "Tanh"},
        {"type": "Flatten"},
        {"type": "Dense", "units": 8},
        {"type": "Sigmoid"},
        {"type": "Dense", "units": 5},
    ],
}


@pytest.fixture
def halves(monkeypatch):
    """Every training pass of two samples or more split in halves, as on a machine with two cores."""
    from dllab import cores
    from dllab.layers import Layer

    monkeypatch.setattr(cores, "threads", lambda: 2)
    monkeypatch.setattr(dllab.Sequential, "SPLIT_MULTIPLY_ADDS", 0)
    twins = []
    twin = Layer.twin
    monkeypatch.setattr(Layer, "twin", lambda layer: twins.append(layer.name) or twin(layer))
    return twins


@pytest.mark.parametrize("n", [2, 7, 40])
def test_a_batch_in_halves_gives_the_loss_and_gradients_of_one_pass(halves, n):
    whole = dllab.build(APART_CONV, seed=0, dtype=np.float64)
    whole.SPLIT_MULTIPLY_ADDS = 10**18
    split = dllab.build(APART_CONV, seed=0, dtype=np.float64)
    x, t = batch(split, n=n)
    loss, grads = split.loss_and_grads(x, t)
    assert halves == [layer.name for layer in split.layers]  # computed in halves, one twin a layer
    expected_loss, expected = whole.loss_and_grads(x, t)
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    assert grads.keys() == expected.keys()
    for key in expected:
        np.testing.assert_allclose(grads[key], expected[key], rtol=1e-10, atol=1e-14)


def test_the_gradients_of_a_batch_in_halves_match_numerical_differences(halves):
    from tests.engine.numerical import numerical_gradient, relative_error

    model = dllab.build(APART_CONV, seed=1, dtype=np.float64)
    x, t = batch(model, n=6, seed=2)
    _, grads = model.loss_and_grads(x, t)
    assert halves
    for key, param in model.params.items():
        numerical = numerical_gradient(lambda: model.evaluate_loss(x, t), param)
        assert relative_error(grads[key], numerical) < 1e-6, key


def test_a_batch_in_halves_trains_the_parameters_both_halves_share(halves):
    model = dllab.build(APART_CONV, seed=0)
    x, t = batch(model, n=20)
    before = model.get_weights()
    optimizer = dllab.optimizers.Adam(lr=0.01)
    losses = []
    for _ in range(40):
        loss, grads = model.loss_and_grads(x, t)
        optimizer.update(model.trainable_params, grads)
        losses.append(loss)
    assert losses[-1] < 0.5 * losses[0]
    assert all(not np.array_equal(before[key], value) for key, value in model.get_weights().items())


def test_batch_statistics_keep_the_batch_whole(halves):
    spec = {
        **APART_CONV,
        "layers": [*APART_CONV["layers"][:-1], {"type": "BatchNorm"}, APART_CONV["layers"][-1]],
    }
    model = dllab.build(spec, seed=0)
    model.loss_and_grads(*batch(model, n=10))
    assert halves == []


@pytest.mark.parametrize("scaling", ["inverted", "book"])
def test_dropout_in_halves_drops_what_one_pass_drops(halves, scaling):
    dropout = {"type": "Dropout", "rate": 0.5, "scaling": scaling}
    layers = APART_CONV["layers"]
    spec = {**APART_CONV, "layers": [dropout, *layers[:-1], dict(dropout), layers[-1]]}
    whole = dllab.build(spec, seed=3, dtype=np.float64)
    whole.SPLIT_MULTIPLY_ADDS = 10**18
    split = dllab.build(spec, seed=3, dtype=np.float64)
    for step in range(3):  # the random values go on from one batch to the next alike
        x, t = batch(split, n=9, seed=step)
        loss, grads = split.loss_and_grads(x, t)
        expected_loss, expected = whole.loss_and_grads(x, t)
        assert loss == pytest.approx(expected_loss, rel=1e-12)
        for key in expected:
            np.testing.assert_allclose(grads[key], expected[key], rtol=1e-10, atol=1e-14)
    assert halves and all(layer.drawn is None for layer in split.layers)


def test_a_small_batch_stays_whole(monkeypatch):
    from dllab import cores

    monkeypatch.setattr(cores, "threads", lambda: 2)
    model = dllab.build(APART_CONV, seed=0)
    per_sample = dllab.layers.forward_multiply_adds(model.layers)
    model.SPLIT_MULTIPLY_ADDS = 5 * per_sample
    assert model._splits(10) and not model._splits(9)
    monkeypatch.setattr(cores, "threads", lambda: 1)
    assert not model._splits(10)  # one core: no halves
