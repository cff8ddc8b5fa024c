"""Weight initialisers: the book's scales, uniform variants of equal variance, fan in of Dense and Conv2D,
zero biases and reproducibility from an explicit generator."""

import math

import numpy as np
import pytest

import dllab
from dllab.initializers import (
    Normal,
    XavierUniform,
    describe_init,
    init_std,
    initialize,
    resolve,
    validate_init,
)
from tests.engine.numerical import make_layer
from tests.engine.user_errors import LONG, assert_settings_error


@pytest.mark.parametrize(
    ("init", "fan_in", "std"),
    [
        ("he", 50, math.sqrt(2 / 50)),
        ("xavier", 50, math.sqrt(1 / 50)),  # the book's Xavier: 1 / sqrt(n)
        ("he_uniform", 50, math.sqrt(2 / 50)),
        ("xavier_uniform", 50, math.sqrt(1 / 50)),
        (0.01, 50, 0.01),
        (1.0, 784, 1.0),
    ],
)
def test_init_std(init, fan_in, std):
    assert init_std(init, fan_in) == pytest.approx(std, rel=1e-15)


@pytest.mark.parametrize("init", ["he", "xavier", 0.05, 2])
def test_normal_initialisers_draw_with_the_right_spread(init):
    fan_in = 200
    w = initialize(init, (fan_in, 1000), fan_in, np.random.default_rng(0), np.float64)
    std = init_std(init, fan_in)
    assert abs(w.mean()) < 0.02 * std
    assert w.std() == pytest.approx(std, rel=0.01)
    # Normal, not uniform: about 4.6 % of the values lie beyond two standard deviations.
    assert np.mean(np.abs(w) > 2 * std) == pytest.approx(0.0455, abs=0.005)


@pytest.mark.parametrize(("init", "gain"), [("he_uniform", 6.0), ("xavier_uniform", 3.0)])
def test_uniform_initialisers_have_the_same_variance_within_their_limit(init, gain):
    fan_in = 150
    w = initialize(init, (fan_in, 1000), fan_in, np.random.default_rng(1), np.float64)
    limit = math.sqrt(gain / fan_in)
    assert np.abs(w).max() <= limit
    assert np.abs(w).max() > 0.999 * limit
    assert w.std() == pytest.approx(init_std(init.removesuffix("_uniform"), fan_in), rel=0.01)
    # Uniform: a quarter of the values in each quarter of the range.
    counts, _ = np.histogram(w, bins=4, range=(-limit, limit))
    np.testing.assert_allclose(counts / w.size, 0.25, atol=0.01)


def test_dense_fan_in_is_its_inputs_and_bias_starts_at_zero():
    layer = make_layer("Dense", (400,), units=300, init="he")
    assert layer.params["W"].std() == pytest.approx(math.sqrt(2 / 400), rel=0.02)
    assert not layer.params["b"].any()


def test_conv2d_fan_in_is_channels_times_kernel_area():
    layer = make_layer("Conv2D", (3, 8, 8), filters=400, kernel_size=5, init="xavier")
    assert layer.params["W"].std() == pytest.approx(math.sqrt(1 / (3 * 5 * 5)), rel=0.02)
    assert not layer.params["b"].any()
    he = make_layer("Conv2D", (4, 6, 6), filters=500, kernel_size=[3, 2], init="he")
    assert he.params["W"].std() == pytest.approx(math.sqrt(2 / (4 * 3 * 2)), rel=0.02)


def test_a_number_is_the_standard_deviation_whatever_the_fan_in():
    layer = make_layer("Dense", (20,), units=5000, init=0.01)
    assert layer.params["W"].std() == pytest.approx(0.01, rel=0.02)


def test_same_generator_state_gives_the_same_weights_and_draws_come_from_it():
    a = initialize("he", (30, 20), 30, np.random.default_rng(7))
    b = initialize("he", (30, 20), 30, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
    rng = np.random.default_rng(7)
    first = initialize("he", (30, 20), 30, rng)
    second = initialize("he", (30, 20), 30, rng)  # the generator moved on
    np.testing.assert_array_equal(first, a)
    assert not np.array_equal(first, second)
    assert not np.array_equal(a, initialize("he", (30, 20), 30, np.random.default_rng(8)))


def test_same_seed_gives_the_same_network_weights():
    spec = {
        "input_shape": [1, 6, 6],
        "layers": [{"type": "Conv2D", "filters": 2}, {"type": "Flatten"}, {"type": "Dense", "units": 3}],
    }
    a, b, c = dllab.build(spec, seed=5), dllab.build(spec, seed=5), dllab.build(spec, seed=6)
    for key in a.params:
        np.testing.assert_array_equal(a.params[key], b.params[key])
    assert not np.array_equal(a.params["conv2d_1.W"], c.params["conv2d_1.W"])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_of_the_weights(dtype):
    assert initialize("xavier_uniform", (3, 4), 3, np.random.default_rng(0), dtype).dtype == dtype


def test_default_dtype_is_float32():
    assert initialize("he", (3, 4), 3, np.random.default_rng(0)).dtype == np.float32


def test_validate_init_accepts_names_and_positive_numbers():
    assert validate_init("He") == "he"
    assert validate_init(" xavier_uniform ") == "xavier_uniform"
    assert validate_init("0.01") == 0.01
    assert validate_init(1) == 1.0
    assert isinstance(validate_init(1), float)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "glorot",
            r'init must be one of "he", "xavier", "he_uniform", "xavier_uniform" or a standard deviation, got \'glorot\'',
        ),
        (0, r"init standard deviation must be a positive number, got 0"),
        (-0.01, r"init standard deviation must be a positive number, got -0\.01"),
        (float("nan"), r"positive number, got nan"),
        (1e308, r"init standard deviation must be at most 1000, got 1e\+308"),
        ("1001", r"init standard deviation must be at most 1000, got '1001'"),
        ("inf", r"positive number, got 'inf'"),
        (True, r"init must be a name or a standard deviation, got True"),
        (None, r"init must be a name or a standard deviation, got None"),
        ([0.1], r"init must be a name or a standard deviation, got \[0\.1\]"),
    ],
)
def test_validate_init_rejects_everything_else(value, message):
    with pytest.raises(ValueError, match=message):
        validate_init(value)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (LONG, 'init must be one of "he", '),
        ("1e999", "init standard deviation must be a positive number, got '1e999'"),
        ("9" * 5000, "init standard deviation must be a positive number, got '999"),
        (10**400, "init standard deviation must be a positive number, got 1000"),
        (-math.inf, "init standard deviation must be a positive number, got -inf"),
        (np.float32(-1.0), "init standard deviation must be a positive number"),
        ([LONG], "init must be a name or a standard deviation, got ['xxx"),
        (b"he", "init must be a name or a standard deviation, got b'he'"),
    ],
)
def test_bad_inits_raise_settings_error(value, shown):
    assert_settings_error(lambda: validate_init(value), shown)


def test_numpy_numbers_are_standard_deviations():
    assert validate_init(np.float32(0.5)) == 0.5 and type(validate_init(np.int64(2))) is float


def test_initialisers_are_found_by_name_and_a_number_is_a_fixed_normal():
    assert [describe_init(n) for n in ("he", "Xavier", "he_uniform", 0.01)] == [
        "He",
        "Xavier",
        "He uniform",
        "std 0.01",
    ]
    assert isinstance(resolve("xavier_uniform"), XavierUniform) and resolve(0.5).std == 0.5
    assert resolve("0.5").get_config() == {"type": "normal", "std": 0.5}
    a = initialize(0.5, (50, 4), 3, np.random.default_rng(1))
    b = Normal(0.5)((50, 4), 3, np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)
    assert_settings_error(lambda: Normal(std=0), "Normal: std must be above 0, got 0")
