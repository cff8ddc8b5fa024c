"""The training defaults sized for a CPU: epochs from the data's size and the network's cost, the learning rate
from the network."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import dllab
from dllab import optimizers
from dllab.first_run import (
    FIRST_RUN_SECONDS,
    MAX_FIRST_RUN_EPOCHS,
    epoch_seconds,
    first_run_epochs,
    first_run_learning_rate,
    multiply_adds,
)

NETWORKS = Path(__file__).resolve().parents[2] / "assets" / "networks"


def network(name: str) -> dict:
    return json.loads((NETWORKS / f"{name}.json").read_text())


def test_multiply_adds_count_each_weight_once_per_output_position():
    dense = dllab.analyze({"input_shape": [784], "layers": [{"type": "Dense", "units": 10}]})
    assert multiply_adds(dense) == 784 * 10 + 10
    conv = dllab.analyze(
        {"input_shape": [1, 28, 28], "layers": [{"type": "Conv2D", "filters": 30, "kernel_size": 5}]}
    )
    assert multiply_adds(conv) == (30 * 25 + 30) * 24 * 24  # every weight at each of the 24×24 positions


def test_the_epochs_shrink_with_the_data_and_the_network_and_stay_within_bounds():
    spiral = dllab.analyze(network("spiral_mlp"))
    mlp = dllab.analyze(network("two_layer_net"))
    conv = dllab.analyze(network("simple_conv_net"))
    assert first_run_epochs(spiral, 432) == MAX_FIRST_RUN_EPOCHS  # seconds: the spiral learns within the cap
    assert 5 <= first_run_epochs(mlp, 54_000) < 50  # not 50 epochs everywhere
    assert first_run_epochs(conv, 54_000) == 1
    assert first_run_epochs(conv, 5_000) > first_run_epochs(conv, 54_000)
    for analysis, n in ((mlp, 54_000), (conv, 10_000)):
        epochs = first_run_epochs(analysis, n)
        assert epochs * epoch_seconds(analysis, n) <= FIRST_RUN_SECONDS
        assert (epochs + 1) * epoch_seconds(analysis, n) > FIRST_RUN_SECONDS or epochs == MAX_FIRST_RUN_EPOCHS
    assert first_run_epochs(mlp, 0) == MAX_FIRST_RUN_EPOCHS


@pytest.mark.parametrize("name", ["simple_conv_net", "deep_conv_net"])
def test_adam_starts_at_0_001_on_a_convolutional_network(name):
    assert first_run_learning_rate("adam", network(name)) == pytest.approx(0.001)


def test_adam_starts_at_0_01_without_convolution_and_the_others_at_their_own_default():
    assert first_run_learning_rate("adam", network("spiral_mlp")) == pytest.approx(0.01)
    for name in ("sgd", "momentum", "rmsprop"):
        assert first_run_learning_rate(name, network("simple_conv_net")) == optimizers.get(name).lr
