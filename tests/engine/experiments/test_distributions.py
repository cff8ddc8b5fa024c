"""Activation distributions of an untrained deep network: the book's figures 6-10 to 6-14, in numbers."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from dllab.experiments.distributions import (
    ACTIVATIONS,
    activation_distributions,
    distribution_grid,
    distribution_network,
)
from tests.engine.user_errors import LONG, assert_settings_error


def _end_share(layer) -> float:
    return float(layer.fractions[0] + layer.fractions[-1])


def test_sigmoid_with_std_1_piles_up_at_0_and_1() -> None:
    layers = activation_distributions("sigmoid", 1.0)
    assert len(layers) == 5
    for layer in layers:
        assert layer.edges[0] == 0.0 and layer.edges[-1] == 1.0 and len(layer.counts) == 30
        assert _end_share(layer) > 0.55  # most outputs in the bins at 0 and at 1
        assert layer.std > 0.4


def test_sigmoid_with_std_0_01_collapses_near_one_half() -> None:
    for layer in activation_distributions("sigmoid", 0.01):
        assert layer.mean == pytest.approx(0.5, abs=0.01)
        assert layer.std < 0.03
        centre = (layer.edges[:-1] >= 0.4) & (layer.edges[1:] <= 0.6)
        assert layer.fractions[centre].sum() > 0.999
        assert _end_share(layer) == 0.0


def test_sigmoid_with_xavier_keeps_a_broad_spread_in_every_layer() -> None:
    for layer in activation_distributions("sigmoid", "xavier"):
        assert layer.std > 0.1
        assert layer.fractions.max() < 0.2  # no spike
        assert (layer.fractions > 0.01).sum() >= 12  # spread over many bins
        assert _end_share(layer) < 0.01  # and not saturated


def test_relu_with_he_keeps_its_spread_while_std_0_01_shrinks_toward_0() -> None:
    he = [layer.std for layer in activation_distributions("relu", "he")]
    assert min(he) > 0.5 and max(he) / min(he) < 1.25
    small = [layer.std for layer in activation_distributions("relu", 0.01)]
    assert all(later < 0.2 * earlier for earlier, later in itertools.pairwise(small))
    assert small[-1] < 1e-4
    assert activation_distributions("relu", 0.01)[-1].fractions[0] == 1.0  # everything in the first bin


def test_tanh_with_std_0_01_vanishes_and_std_1_saturates() -> None:
    assert activation_distributions("tanh", 0.01)[-1].std < 1e-3
    assert all(_end_share(layer) > 0.8 for layer in activation_distributions("tanh", 1.0))


def test_the_grid_covers_every_pair_on_the_same_inputs() -> None:
    grid = distribution_grid(("Sigmoid", "relu"), (1.0, "he"), layers=3, units=20, samples=50, bins=10)
    assert list(grid) == [("Sigmoid", 1.0), ("Sigmoid", "he"), ("relu", 1.0), ("relu", "he")]
    for layers in grid.values():
        assert len(layers) == 3
        assert all(layer.counts.sum() == 50 * 20 and len(layer.edges) == 11 for layer in layers)
    # The first layers of std 1.0 and He see the same inputs through weights drawn from the same normal
    # draws at another scale, and ReLU keeps scales: their statistics differ by exactly that factor.
    plain, he = grid["relu", 1.0][0], grid["relu", "he"][0]
    assert plain.mean / he.mean == pytest.approx(1.0 / np.sqrt(2 / 20), rel=1e-9)
    assert plain.std / he.std == pytest.approx(1.0 / np.sqrt(2 / 20), rel=1e-9)
    again = distribution_grid(("Sigmoid",), (1.0,), layers=3, units=20, samples=50, bins=10)
    np.testing.assert_array_equal(again["Sigmoid", 1.0][2].counts, grid["Sigmoid", 1.0][2].counts)


def test_outputs_that_overflow_are_counted_not_binned_and_never_raise() -> None:
    # The largest standard deviation: each layer multiplies by about 7,000, past float64's range after 80.
    layers = activation_distributions("relu", 1000, samples=50, layers=100)
    assert layers[0].nonfinite == 0 and layers[-1].nonfinite > 0
    for layer in layers:
        assert layer.counts.sum() + layer.nonfinite == 50 * 100


def test_the_network_is_a_real_spec_and_bad_settings_fail() -> None:
    spec = distribution_network("leaky_relu", "xavier", layers=2, units=8)
    assert [layer["type"] for layer in spec["layers"]] == ["Dense", "LeakyReLU", "Dense", "LeakyReLU"]
    assert set(ACTIVATIONS) >= {"sigmoid", "tanh", "relu", "leakyrelu", "elu", "gelu", "step"}
    layers = activation_distributions("gelu", "he", value_range=(-2.0, 2.0), bins=8)
    assert layers[0].name == "gelu_1" and layers[0].edges[0] == -2.0
    with pytest.raises(ValueError, match="unknown activation"):
        activation_distributions("swish")
    with pytest.raises(ValueError, match="init"):
        activation_distributions("relu", "glorot")
    with pytest.raises(ValueError, match="layers"):
        activation_distributions("relu", layers=0)
    with pytest.raises(ValueError, match="value range"):
        activation_distributions("relu", value_range=(1.0, 1.0))


@pytest.mark.parametrize(
    ("make", "shown"),
    [
        (lambda: distribution_network(LONG), "unknown activation 'xxx"),
        (lambda: distribution_network(["relu"]), "unknown activation ['relu']"),
        (lambda: distribution_network("relu", LONG), "init must be one of"),
        (
            lambda: distribution_network("relu", layers=True),
            "layers must be a whole number of at least 1, got True",
        ),
        (
            lambda: distribution_network("relu", units=2.0),
            "units must be a whole number of at least 1, got 2.0",
        ),
        (
            lambda: distribution_network("relu", units=LONG),
            "units must be a whole number of at least 1, got 'xxx",
        ),
        (
            lambda: activation_distributions("relu", samples=0),
            "samples must be a whole number of at least 1, got 0",
        ),
        (
            lambda: activation_distributions("relu", bins=None),
            "bins must be a whole number of at least 1, got None",
        ),
        (
            lambda: activation_distributions("relu", seed=-1),
            "seed must be a whole number of at least 0, got -1",
        ),
        (
            lambda: activation_distributions("relu", value_range=(1,)),
            "the value range must be two finite numbers",
        ),
        (lambda: activation_distributions("relu", value_range=("a", 1)), "low below high, got ('a', 1)"),
        (lambda: activation_distributions("relu", value_range=LONG), "low below high, got 'xxx"),
        (lambda: activation_distributions("relu", value_range=(0, 10**400)), "the value range must be"),
        (lambda: activation_distributions("relu", value_range=3), "low below high, got 3"),
    ],
)
def test_bad_settings_raise_settings_error(make, shown) -> None:
    assert_settings_error(make, shown)


def test_numpy_sizes_and_ranges_are_accepted() -> None:
    layers = activation_distributions(
        "tanh", layers=np.int64(2), units=4, samples=8, value_range=np.array([-1, 1])
    )
    assert len(layers) == 2 and layers[0].edges[-1] == 1.0
