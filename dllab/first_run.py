"""Training defaults sized for a CPU, in one place: how many epochs a first run takes, from the data's size and
the network's cost, how many a search's trials take, and the learning rate a network starts with.

A first run on any data should finish in about a minute on a laptop's CPU: 150 epochs of the spiral (432
training samples) take seconds and reach about 98 % test accuracy, while a convolutional network on the 54,000
MNIST training images gets one epoch. The estimate counts the multiply-adds of a forward pass per sample (a
backward pass costs about twice as much again) at a rate a laptop's numpy reaches with two cores, plus a fixed
cost per sample and per epoch (validation, statistics, events). A search of 20 trials shares three minutes
among them.

>>> import dllab
>>> first_run_epochs(dllab.analyze({"input_shape": [2], "layers": [{"type": "Dense", "units": 3}]}), 432)
150
"""

from __future__ import annotations

from typing import Any

from dllab import optimizers
from dllab.layers import forward_multiply_adds
from dllab.spec import Analysis

__all__ = [
    "FIRST_RUN_SECONDS",
    "MAX_FIRST_RUN_EPOCHS",
    "epoch_seconds",
    "first_run_epochs",
    "first_run_learning_rate",
    "multiply_adds",
    "search_trial_epochs",
]

#: What a first run may take, in seconds.
FIRST_RUN_SECONDS = 45.0
#: What all the trials of a search may take together, in seconds.
SEARCH_SECONDS = 180.0
#: The most epochs a first run gets: small data sets learn within them (the spiral reaches about 98 %).
MAX_FIRST_RUN_EPOCHS = 150
#: Multiply-adds a second that training reaches on a laptop's CPU, forward and backward counted.
MULTIPLY_ADDS_PER_SECOND = 3e9
#: Work per sample besides the multiply-adds (shuffling, batching, element-wise layers), in seconds.
SECONDS_PER_SAMPLE = 2e-6
#: Work per epoch besides the samples (validation, layer statistics, events), in seconds.
SECONDS_PER_EPOCH = 0.02
#: Adam's learning rate for a network without convolution (the spiral learns in seconds with it); a
#: convolutional network gets the optimizer's own default (0.001), which keeps SimpleConvNet's loss from spiking.
ADAM_DENSE_LEARNING_RATE = 0.01


def multiply_adds(analysis: Analysis) -> int:
    """The multiply-adds of one sample's forward pass through the network of ``analysis``
    (:func:`dllab.layers.forward_multiply_adds`)."""
    return forward_multiply_adds(analysis.layers)


def epoch_seconds(analysis: Analysis, n_train: int) -> float:
    """An estimate of the seconds one training epoch of ``n_train`` samples takes on a CPU."""
    per_sample = 3 * multiply_adds(analysis) / MULTIPLY_ADDS_PER_SECOND + SECONDS_PER_SAMPLE
    return n_train * per_sample + SECONDS_PER_EPOCH


def first_run_epochs(analysis: Analysis, n_train: int, seconds: float = FIRST_RUN_SECONDS) -> int:
    """The epochs that fit in ``seconds`` (1 at least, :data:`MAX_FIRST_RUN_EPOCHS` at most) for the network of
    ``analysis`` on ``n_train`` training samples."""
    if n_train <= 0:
        return MAX_FIRST_RUN_EPOCHS
    return max(1, min(MAX_FIRST_RUN_EPOCHS, int(seconds / epoch_seconds(analysis, n_train))))


def search_trial_epochs(
    analysis: Analysis, n_train: int, trials: int, seconds: float = SEARCH_SECONDS
) -> int:
    """The epochs of each of ``trials`` trials so that the whole search fits in ``seconds`` (1 at least)."""
    return first_run_epochs(analysis, n_train, seconds / max(1, trials))


def first_run_learning_rate(optimizer: str, spec: dict[str, Any]) -> float:
    """The learning rate ``optimizer`` starts with for the network ``spec``: Adam's 0.01 for a network without
    convolution, the optimizer's own default otherwise (0.001 for Adam)."""
    default = float(optimizers.get(optimizer).lr)
    convolutional = any(layer.get("type") == "Conv2D" for layer in spec.get("layers", []))
    if optimizer.lower() == "adam" and not convolutional:
        return ADAM_DENSE_LEARNING_RATE
    return default
