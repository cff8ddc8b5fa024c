"""Layers: array layouts, forward passes against naive loop references, and backward passes against
centred numerical differences (input and parameter gradients) in float64."""

import numpy as np
import pytest

import dllab
from dllab.layers import AvgPool2D, BatchNorm, Conv2D, Dense, Dropout, Flatten, MaxPool2D
from tests.engine.numerical import layer_gradient_errors, make_layer

TOL = 1e-6


# --- naive references (plain loops over every output position) -------------------------------------------


def naive_conv(x, w, b, stride, pads):
    """Direct convolution (cross-correlation) of NCHW ``x`` with OIHW ``w``; pads = (top, bottom, left, right)."""
    n, c, height, width = x.shape
    f, _, kh, kw = w.shape
    sh, sw = stride
    top, bottom, left, right = pads
    xp = np.zeros((n, c, height + top + bottom, width + left + right))
    xp[:, :, top : top + height, left : left + width] = x
    oh = (xp.shape[2] - kh) // sh + 1
    ow = (xp.shape[3] - kw) // sw + 1
    out = np.zeros((n, f, oh, ow))
    for i in range(n):
        for k in range(f):
            for r in range(oh):
                for s in range(ow):
                    total = b[k]
                    for ch in range(c):
                        for u in range(kh):
                            for v in range(kw):
                                total += xp[i, ch, r * sh + u, s * sw + v] * w[k, ch, u, v]
                    out[i, k, r, s] = total
    return out


def naive_pool(x, kernel, stride, pads, mode):
    """Max or average pooling by loops; max pads with -inf, average counts the padding as zeros."""
    n, c, height, width = x.shape
    kh, kw = kernel
    sh, sw = stride
    top, bottom, left, right = pads
    fill = -np.inf if mode == "max" else 0.0
    xp = np.full((n, c, height + top + bottom, width + left + right), fill)
    xp[:, :, top : top + height, left : left + width] = x
    oh = (xp.shape[2] - kh) // sh + 1
    ow = (xp.shape[3] - kw) // sw + 1
    out = np.zeros((n, c, oh, ow))
    for i in range(n):
        for ch in range(c):
            for r in range(oh):
                for s in range(ow):
                    window = [xp[i, ch, r * sh + u, s * sw + v] for u in range(kh) for v in range(kw)]
                    out[i, ch, r, s] = max(window) if mode == "max" else sum(window) / (kh * kw)
    return out


# --- array layout contract ----------------------------------------------------------------------------------


def test_dense_weights_are_in_by_out_and_compute_x_at_w_plus_b():
    layer = make_layer("Dense", (4,), units=3)
    assert layer.params["W"].shape == (4, 3)
    assert layer.params["b"].shape == (3,)
    layer.params["b"][:] = [0.5, -1.0, 2.0]
    x = np.random.default_rng(0).normal(size=(2, 4))
    expected = np.array(
        [
            [
                sum(x[n, i] * layer.params["W"][i, j] for i in range(4)) + layer.params["b"][j]
                for j in range(3)
            ]
            for n in range(2)
        ]
    )
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-12)


def test_conv2d_weights_are_filters_channels_kh_kw_and_bias_per_filter():
    layer = make_layer("Conv2D", (3, 8, 7), filters=5, kernel_size=[3, 2])
    assert layer.params["W"].shape == (5, 3, 3, 2)
    assert layer.params["b"].shape == (5,)
    assert layer.output_shape == (5, 6, 6)
    assert layer.param_count == 5 * 3 * 3 * 2 + 5


@pytest.mark.parametrize(("input_shape", "size"), [((6,), 6), ((4, 5, 5), 4)])
def test_batchnorm_parameters_and_running_statistics_per_feature_or_channel(input_shape, size):
    layer = make_layer("BatchNorm", input_shape)
    assert {k: v.shape for k, v in layer.params.items()} == {"gamma": (size,), "beta": (size,)}
    assert {k: v.shape for k, v in layer.state.items()} == {"mean": (size,), "var": (size,)}
    np.testing.assert_array_equal(layer.params["gamma"], 1)
    np.testing.assert_array_equal(layer.params["beta"], 0)
    np.testing.assert_array_equal(layer.state["mean"], 0)
    np.testing.assert_array_equal(layer.state["var"], 1)
    assert layer.param_count == 2 * size


LAYER_CASES = [
    ("Dense", (5,), {"units": 3}),
    ("Conv2D", (2, 6, 6), {"filters": 3, "kernel_size": 3, "padding": 1}),
    ("MaxPool2D", (2, 6, 6), {}),
    ("AvgPool2D", (2, 6, 6), {"pool_size": 3, "stride": 2, "padding": 1}),
    ("Flatten", (2, 3, 3), {}),
    ("BatchNorm", (5,), {}),
    ("BatchNorm", (2, 4, 4), {}),
    ("Dropout", (7,), {"rate": 0.4}),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("type_name", "input_shape", "options"), LAYER_CASES)
def test_outputs_and_gradients_keep_the_dtype(type_name, input_shape, options, dtype):
    layer = make_layer(type_name, input_shape, dtype=dtype, **options)
    assert all(p.dtype == dtype for p in (*layer.params.values(), *layer.state.values()))
    x = np.random.default_rng(0).normal(size=(3, *input_shape)).astype(dtype)
    out = layer.forward(x, training=True)
    assert out.dtype == dtype
    assert out.shape == (3, *layer.output_shape)
    dx = layer.backward(np.ones_like(out))
    assert dx.dtype == dtype
    assert dx.shape == x.shape
    assert {k: g.dtype for k, g in layer.grads.items()} == dict.fromkeys(layer.params, np.dtype(dtype))


def test_layers_default_to_float32():
    layer = Dense(units=2)
    layer.setup((3,))
    layer.init_params(np.random.default_rng(0))
    assert layer.params["W"].dtype == np.float32
    assert layer.params["b"].dtype == np.float32


def test_first_layer_skips_its_input_gradient_but_still_fills_its_parameter_gradients():
    layer = make_layer("Dense", (4,), units=2)
    layer.needs_input_grad = False
    x = np.ones((3, 4))
    layer.forward(x, training=True)
    assert layer.backward(np.ones((3, 2))) is None
    np.testing.assert_allclose(layer.grads["W"], np.full((4, 2), 3.0))
    np.testing.assert_allclose(layer.grads["b"], [3.0, 3.0])


# --- backward passes against numerical differences -----------------------------------------------------------

GRADIENT_CASES = [
    ("Dense", (5,), {"units": 3}),
    ("Conv2D", (2, 5, 5), {"filters": 3, "kernel_size": 3}),
    ("Conv2D", (2, 5, 5), {"filters": 2, "kernel_size": 3, "padding": "same"}),
    ("Conv2D", (2, 6, 5), {"filters": 2, "kernel_size": 4, "padding": "same"}),
    ("Conv2D", (2, 7, 6), {"filters": 2, "kernel_size": 3, "stride": 2, "padding": "same"}),
    ("Conv2D", (1, 5, 5), {"filters": 2, "kernel_size": 3, "stride": 2, "padding": 2}),
    ("Conv2D", (2, 7, 6), {"filters": 2, "kernel_size": [3, 2], "stride": [2, 1], "padding": 1}),
    ("Conv2D", (1, 6, 7), {"filters": 2, "kernel_size": [2, 3], "stride": [1, 2]}),
    ("Conv2D", (1, 8, 8), {"filters": 2, "kernel_size": 2, "stride": 3}),
    ("Conv2D", (2, 6, 6), {"filters": 2, "kernel_size": 2, "stride": 2}),
    ("MaxPool2D", (2, 6, 6), {}),
    ("MaxPool2D", (2, 7, 7), {"pool_size": 3, "stride": 2}),
    ("MaxPool2D", (2, 6, 6), {"pool_size": 3, "stride": 2, "padding": 1}),
    ("MaxPool2D", (1, 5, 7), {"pool_size": [2, 3], "stride": [1, 2]}),
    ("MaxPool2D", (1, 5, 5), {"pool_size": 2, "stride": 2, "padding": "same"}),
    ("AvgPool2D", (2, 6, 6), {}),
    ("AvgPool2D", (2, 7, 7), {"pool_size": 3, "stride": 2}),
    ("AvgPool2D", (2, 6, 6), {"pool_size": 3, "stride": 2, "padding": 1}),
    ("AvgPool2D", (1, 5, 7), {"pool_size": [2, 3], "stride": [1, 2]}),
    ("AvgPool2D", (1, 5, 5), {"pool_size": 2, "stride": 2, "padding": "same"}),
    ("Flatten", (2, 3, 4), {}),
    ("BatchNorm", (6,), {}),
    ("BatchNorm", (3, 3, 4), {}),
    ("Dropout", (12,), {"rate": 0.5}),
    ("Dropout", (2, 4, 4), {"rate": 0.25}),
    ("Dropout", (2, 4, 4), {"rate": 0.25, "scaling": "book"}),
]


@pytest.mark.parametrize(("type_name", "input_shape", "options"), GRADIENT_CASES)
def test_backward_matches_numerical_gradients(type_name, input_shape, options):
    layer = make_layer(type_name, input_shape, **options)
    if type_name == "BatchNorm":  # not the trivial gamma = 1, beta = 0
        rng = np.random.default_rng(5)
        layer.params["gamma"][:] = rng.uniform(0.5, 2.0, size=layer.params["gamma"].shape)
        layer.params["beta"][:] = rng.normal(size=layer.params["beta"].shape)
    x = np.random.default_rng(3).normal(size=(3, *input_shape))
    errors = layer_gradient_errors(layer, x)
    assert set(errors) == {"x", *layer.params}
    assert max(errors.values()) < TOL, errors


def test_maxpool_gradient_goes_to_one_position_per_window_even_on_ties():
    layer = make_layer("MaxPool2D", (1, 2, 4))
    x = np.array([[[[1.0, 1.0, 0.0, 2.0], [1.0, 1.0, 2.0, 2.0]]]])
    out = layer.forward(x, training=True)
    np.testing.assert_array_equal(out, [[[[1.0, 2.0]]]])
    dx = layer.backward(np.array([[[[3.0, 5.0]]]]))
    np.testing.assert_array_equal(dx, [[[[3.0, 0.0, 0.0, 5.0], [0.0, 0.0, 0.0, 0.0]]]])


def test_overlapping_maxpool_hands_each_window_gradient_to_exactly_one_input():
    layer = make_layer("MaxPool2D", (2, 7, 7), pool_size=3, stride=2, padding=1)
    x = np.random.default_rng(0).normal(size=(2, 2, 7, 7))
    out = layer.forward(x, training=True)
    dout = np.random.default_rng(1).normal(size=out.shape)
    dx = layer.backward(dout)
    np.testing.assert_allclose(dx.sum(axis=(2, 3)), dout.sum(axis=(2, 3)), rtol=1e-12)


def test_flatten_hands_back_the_gradient_in_the_input_shape_for_a_strided_input():
    conv = make_layer("Conv2D", (1, 4, 4), filters=3, kernel_size=3)
    images = conv.forward(np.random.default_rng(0).normal(size=(2, 1, 4, 4)), training=True)
    assert not images.flags.c_contiguous  # Conv2D's output is a batch-last view
    flatten = make_layer("Flatten", (3, 2, 2))
    flat = flatten.forward(images, training=True)
    np.testing.assert_array_equal(flat, images.reshape(2, 12))
    dout = np.arange(24.0).reshape(2, 12)
    dx = flatten.backward(dout)
    assert dx.shape == images.shape
    assert dx.strides == images.strides  # the layout the input had, so Conv2D's backward gets no surprise
    np.testing.assert_array_equal(dx, dout.reshape(2, 3, 2, 2))


# --- forward passes against the naive references ----------------------------------------------------------

CONV_CASES = [
    # input (C, H, W), options, expected pads (top, bottom, left, right), expected output (F, OH, OW)
    ((2, 5, 5), {"filters": 3, "kernel_size": 3}, (0, 0, 0, 0), (3, 3, 3)),
    ((2, 5, 6), {"filters": 2, "kernel_size": 3, "padding": "same"}, (1, 1, 1, 1), (2, 5, 6)),
    ((1, 6, 6), {"filters": 2, "kernel_size": 4, "padding": "same"}, (1, 2, 1, 2), (2, 6, 6)),
    ((1, 7, 6), {"filters": 2, "kernel_size": 3, "stride": 2, "padding": "same"}, (1, 1, 0, 1), (2, 4, 3)),
    ((2, 5, 5), {"filters": 2, "kernel_size": 3, "stride": 2, "padding": 2}, (2, 2, 2, 2), (2, 4, 4)),
    (
        (2, 7, 6),
        {"filters": 2, "kernel_size": [3, 2], "stride": [2, 1], "padding": 1},
        (1, 1, 1, 1),
        (2, 4, 7),
    ),
    (
        (1, 6, 7),
        {"filters": 1, "kernel_size": [2, 3], "stride": [1, 2], "padding": "valid"},
        (0, 0, 0, 0),
        (1, 5, 3),
    ),
    ((1, 8, 8), {"filters": 2, "kernel_size": 2, "stride": 3}, (0, 0, 0, 0), (2, 3, 3)),
]


@pytest.mark.parametrize(("input_shape", "options", "pads", "output_shape"), CONV_CASES)
def test_conv2d_forward_matches_a_direct_loop_convolution(input_shape, options, pads, output_shape):
    layer = make_layer("Conv2D", input_shape, **options)
    assert layer.pads == pads
    assert layer.output_shape == output_shape
    layer.params["b"][:] = np.random.default_rng(7).normal(size=layer.params["b"].shape)
    x = np.random.default_rng(1).normal(size=(2, *input_shape))
    expected = naive_conv(x, layer.params["W"], layer.params["b"], layer.stride, pads)
    assert expected.shape == (2, *output_shape)
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-10, atol=1e-12)


def test_conv2d_on_the_books_example():
    # Figure 7-7 of the book: a 4x4 input, a 3x3 filter and a bias of 3.
    x = np.array([[1, 2, 3, 0], [0, 1, 2, 3], [3, 0, 1, 2], [2, 3, 0, 1]], dtype=float).reshape(1, 1, 4, 4)
    w = np.array([[2, 0, 1], [0, 1, 2], [1, 0, 2]], dtype=float).reshape(1, 1, 3, 3)
    layer = make_layer("Conv2D", (1, 4, 4), filters=1, kernel_size=3)
    layer.params["W"][...] = w
    layer.params["b"][...] = 3
    np.testing.assert_array_equal(layer.forward(x), [[[[18, 19], [9, 18]]]])


POOL_CASES = [
    ((2, 4, 6), {}, (0, 0, 0, 0), (2, 2, 3)),
    ((2, 7, 7), {"pool_size": 3, "stride": 2}, (0, 0, 0, 0), (2, 3, 3)),
    ((1, 6, 6), {"pool_size": 3, "stride": 2, "padding": 1}, (1, 1, 1, 1), (1, 3, 3)),
    ((1, 5, 7), {"pool_size": [2, 3], "stride": [1, 2]}, (0, 0, 0, 0), (1, 4, 3)),
    ((1, 5, 5), {"pool_size": 2, "stride": 2, "padding": "same"}, (0, 1, 0, 1), (1, 3, 3)),
    ((1, 6, 6), {"pool_size": 2, "stride": 1, "padding": 1}, (1, 1, 1, 1), (1, 7, 7)),
]


@pytest.mark.parametrize(("type_name", "mode"), [("MaxPool2D", "max"), ("AvgPool2D", "avg")])
@pytest.mark.parametrize(("input_shape", "options", "pads", "output_shape"), POOL_CASES)
def test_pooling_forward_matches_loops(type_name, mode, input_shape, options, pads, output_shape):
    layer = make_layer(type_name, input_shape, **options)
    assert layer.pads == pads
    assert layer.output_shape == output_shape
    x = np.random.default_rng(2).normal(size=(2, *input_shape))
    expected = naive_pool(x, layer.kernel, layer.stride, pads, mode)
    assert expected.shape == (2, *output_shape)
    np.testing.assert_allclose(layer.forward(x, training=True), expected, rtol=1e-12, atol=1e-15)


def test_avgpool_counts_padding_as_zeros():
    layer = make_layer("AvgPool2D", (1, 2, 2), pool_size=2, stride=2, padding=1)
    out = layer.forward(np.ones((1, 1, 2, 2)))
    np.testing.assert_allclose(out, np.full((1, 1, 2, 2), 0.25))


def test_maxpool_padding_never_wins_over_negative_inputs():
    layer = make_layer("MaxPool2D", (1, 2, 2), pool_size=2, stride=2, padding=1)
    x = -np.arange(1.0, 5.0).reshape(1, 1, 2, 2)
    np.testing.assert_array_equal(layer.forward(x), x)


def test_pooling_has_no_parameters_and_keeps_channels():
    for cls in (MaxPool2D, AvgPool2D):
        layer = cls(pool_size=3, stride=2)
        assert layer.setup((4, 9, 9)) == (4, 4, 4)
        assert layer.param_count == 0


# --- BatchNorm ---------------------------------------------------------------------------------------------


def bn_reference(x, gamma, beta, mean, var, eps):
    """gamma * (x - mean) / sqrt(var + eps) + beta, broadcast per feature (axis 1)."""
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return gamma.reshape(shape) * (x - mean.reshape(shape)) / np.sqrt(
        var.reshape(shape) + eps
    ) + beta.reshape(shape)


def population_stats(x):
    """Per-feature (axis 1) mean and population variance, by explicit sums over every other axis."""
    moved = np.moveaxis(x, 1, 0).reshape(x.shape[1], -1)
    count = moved.shape[1]
    mean = np.array([sum(row) / count for row in moved])
    var = np.array([sum((v - m) ** 2 for v in row) / count for row, m in zip(moved, mean, strict=True)])
    return mean, var


@pytest.mark.parametrize("input_shape", [(4,), (3, 2, 3)])
def test_batchnorm_training_normalises_with_batch_statistics_and_updates_running_averages(input_shape):
    layer = make_layer("BatchNorm", input_shape)
    rng = np.random.default_rng(0)
    layer.params["gamma"][:] = rng.uniform(0.5, 2, size=input_shape[0])
    layer.params["beta"][:] = rng.normal(size=input_shape[0])
    eps = 1e-5
    running_mean, running_var = np.zeros(input_shape[0]), np.ones(input_shape[0])
    for step in range(3):
        x = rng.normal(loc=step + 3.0, scale=2.0, size=(5, *input_shape))
        mean, var = population_stats(x)
        out = layer.forward(x, training=True)
        np.testing.assert_allclose(
            out, bn_reference(x, layer.params["gamma"], layer.params["beta"], mean, var, eps), rtol=1e-10
        )
        running_mean = 0.9 * running_mean + 0.1 * mean
        running_var = 0.9 * running_var + 0.1 * var
        np.testing.assert_allclose(layer.state["mean"], running_mean, rtol=1e-12)
        np.testing.assert_allclose(layer.state["var"], running_var, rtol=1e-12)


def test_batchnorm_training_output_has_zero_mean_and_unit_variance_per_channel():
    layer = make_layer("BatchNorm", (3, 4, 4))
    x = np.random.default_rng(1).normal(loc=10.0, scale=5.0, size=(6, 3, 4, 4))
    out = layer.forward(x, training=True)
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), 1, rtol=1e-5)


def test_batchnorm_inference_uses_running_statistics_and_leaves_them_alone():
    layer = make_layer("BatchNorm", (3,), momentum=0.5, eps=1e-3)
    layer.params["gamma"][:] = [1.0, 2.0, 0.5]
    layer.params["beta"][:] = [0.0, -1.0, 3.0]
    layer.state["mean"][:] = [1.0, -2.0, 0.5]
    layer.state["var"][:] = [4.0, 0.25, 1.0]
    x = np.random.default_rng(2).normal(size=(4, 3))
    out = layer.forward(x, training=False)
    expected = bn_reference(
        x, layer.params["gamma"], layer.params["beta"], layer.state["mean"], layer.state["var"], 1e-3
    )
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    np.testing.assert_array_equal(layer.state["mean"], [1.0, -2.0, 0.5])
    np.testing.assert_array_equal(layer.state["var"], [4.0, 0.25, 1.0])
    # One sample alone gives the same answer as inside the batch.
    np.testing.assert_allclose(layer.forward(x[:1], training=False), out[:1], rtol=1e-12)
    # The momentum setting is used in training.
    batch_mean, batch_var = population_stats(x)
    layer.forward(x, training=True)
    np.testing.assert_allclose(layer.state["mean"], 0.5 * np.array([1.0, -2.0, 0.5]) + 0.5 * batch_mean)
    np.testing.assert_allclose(layer.state["var"], 0.5 * np.array([4.0, 0.25, 1.0]) + 0.5 * batch_var)


def test_batchnorm_defaults():
    layer = BatchNorm()
    assert layer.options == {"momentum": 0.9, "eps": 1e-5}


# --- Dropout -----------------------------------------------------------------------------------------------


def test_dropout_is_inverted_so_the_expected_value_is_preserved():
    layer = make_layer("Dropout", (500,), rate=0.3)
    x = np.random.default_rng(0).uniform(1.0, 2.0, size=(200, 500))
    out = layer.forward(x, training=True)
    dropped = out == 0
    assert abs(dropped.mean() - 0.3) < 0.01
    np.testing.assert_allclose(out[~dropped], x[~dropped] / 0.7, rtol=1e-6)
    assert abs(out.sum() / x.sum() - 1.0) < 0.01
    # The backward pass uses the same mask and scale.
    dx = layer.backward(np.ones_like(x))
    np.testing.assert_array_equal(dx == 0, dropped)
    np.testing.assert_allclose(dx[~dropped], 1 / 0.7, rtol=1e-6)


def test_dropout_is_the_identity_at_inference_and_with_rate_zero():
    x = np.random.default_rng(0).normal(size=(4, 6))
    layer = make_layer("Dropout", (6,), rate=0.5)
    np.testing.assert_array_equal(layer.forward(x, training=False), x)
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), np.ones_like(x))
    no_drop = make_layer("Dropout", (6,), rate=0.0)
    np.testing.assert_array_equal(no_drop.forward(x, training=True), x)
    np.testing.assert_array_equal(no_drop.backward(2 * x), 2 * x)


def test_the_books_dropout_scales_at_inference_instead():
    layer = make_layer("Dropout", (500,), rate=0.3, scaling="book")
    x = np.random.default_rng(0).uniform(1.0, 2.0, size=(200, 500))
    out = layer.forward(x, training=True)
    dropped = out == 0
    assert abs(dropped.mean() - 0.3) < 0.01
    np.testing.assert_array_equal(out[~dropped], x[~dropped])  # kept values are not scaled in training
    dx = layer.backward(np.ones_like(x))
    np.testing.assert_array_equal(dx, (~dropped).astype(float))
    inference = layer.forward(x, training=False)
    np.testing.assert_allclose(inference, x * 0.7, rtol=1e-15)  # every value times 1 - rate at inference
    assert abs(out.sum() / inference.sum() - 1.0) < 0.01  # the same expected value either way
    assert layer.describe() == "rate 0.3, book's scaling"


def test_dropout_draws_a_new_mask_each_batch_from_its_generator():
    layer = make_layer("Dropout", (50,), rate=0.5)
    layer.rng = np.random.default_rng(42)
    x = np.ones((4, 50))
    first = layer.forward(x, training=True)
    second = layer.forward(x, training=True)
    assert not np.array_equal(first, second)
    layer.rng = np.random.default_rng(42)
    np.testing.assert_array_equal(layer.forward(x, training=True), first)


@pytest.mark.parametrize(
    ("option", "value"), [("rate", 1.0), ("rate", -0.1), ("rate", 1.5), ("scaling", "dropconnect")]
)
def test_dropout_rate_must_be_in_zero_one(option, value):
    with pytest.raises(ValueError, match=option):
        Dropout(**{option: value})


# --- options -----------------------------------------------------------------------------------------------


def test_option_errors_name_the_setting_and_the_value():
    with pytest.raises(ValueError, match=r"units must be at least 1, got 0"):
        Dense(units=0)
    with pytest.raises(ValueError, match=r"units must be an integer, got 2\.5"):
        Dense(units=2.5)
    with pytest.raises(ValueError, match=r"units must be an integer, got inf"):
        Dense(units=float("inf"))
    with pytest.raises(ValueError, match=r"units must be an integer, got True"):
        Dense(units=True)
    with pytest.raises(ValueError, match=r'padding must be an int, "same" or "valid", got \'full\''):
        Conv2D(padding="full")
    with pytest.raises(ValueError, match=r"kernel_size must be an int or a pair of ints"):
        Conv2D(kernel_size=[3, 3, 3])
    with pytest.raises(ValueError, match=r"unknown setting 'size' \(allowed: units, init\)"):
        Dense(size=3)
    with pytest.raises(ValueError, match=r"unknown setting 'units' \(allowed: no settings\)"):
        Flatten(units=3)


def test_options_are_canonical():
    assert Conv2D(kernel_size=[3, 3], padding="SAME").options["kernel_size"] == 3
    assert Conv2D(padding="SAME").options["padding"] == "same"
    assert Conv2D(kernel_size=(3, 2)).options["kernel_size"] == [3, 2]
    assert Dense(units=4.0).options["units"] == 4
    assert Dense(init="0.01").options["init"] == 0.01


def test_layer_types_registry_lists_every_type():
    assert list(dllab.LAYER_TYPES) == [
        "Dense", "Conv2D", "MaxPool2D", "AvgPool2D", "Flatten", "BatchNorm", "Dropout",
        "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "ELU", "GELU", "Step",
    ]  # fmt: skip


def test_setup_rejects_inputs_a_layer_cannot_take():
    with pytest.raises(ValueError, match="insert a Flatten"):
        Dense(units=3).setup((1, 4, 4))
    with pytest.raises(ValueError, match="convolution must come before Flatten"):
        Conv2D().setup((16,))
    with pytest.raises(ValueError, match="pooling must come before Flatten"):
        MaxPool2D().setup((16,))
    with pytest.raises(ValueError, match=r"kernel 5x5 is larger than its padded input 4x4"):
        Conv2D(kernel_size=5).setup((1, 4, 4))
    with pytest.raises(ValueError, match=r"padding 2 must be smaller than the window 2x2"):
        AvgPool2D(padding=2).setup((1, 4, 4))


def test_conv2d_reuses_its_patches_buffer_between_training_batches():
    conv = make_layer("Conv2D", (1, 5, 5), filters=2, kernel_size=3)
    rng = np.random.default_rng(5)
    conv.backward(np.ones_like(conv.forward(rng.normal(size=(4, 1, 5, 5)), training=True)))
    first = conv._scratch.array
    x = rng.normal(size=(4, 1, 5, 5))
    out = conv.forward(x, training=True)
    conv.backward(np.ones_like(out))
    assert conv._scratch.array is first  # grown to the largest block of the first pass, then kept
    assert conv.twin()._blocks() is not conv._scratch  # a twin in another thread has a buffer of its own
    conv.forward(x)  # inference (perhaps in several threads at once) leaves the training buffer alone
    assert conv._scratch.array is first
    fresh = make_layer("Conv2D", (1, 5, 5), filters=2, kernel_size=3)
    fresh.params = {key: value.copy() for key, value in conv.params.items()}
    np.testing.assert_allclose(out, fresh.forward(x, training=True), rtol=1e-12)


def test_dense_hands_a_batch_last_input_its_gradient_in_the_same_layout():
    dense = make_layer("Dense", (6,), units=4)
    rng = np.random.default_rng(6)
    x = np.asfortranarray(rng.normal(size=(5, 6)))  # a flattened Conv2D output is laid out this way
    dense.forward(x, training=True)
    dout = rng.normal(size=(5, 4))
    dx = dense.backward(dout)
    assert dx.strides == x.strides
    np.testing.assert_allclose(dx, dout @ dense.params["W"].T, rtol=1e-12)
