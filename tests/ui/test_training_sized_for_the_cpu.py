"""The app's training settings sized for a CPU (:mod:`dllab.first_run`): they follow the data and the network
until the user or an opened file sets them."""

from __future__ import annotations

import json

import pytest

from dllab.data import load_dataset
from dllab.first_run import MAX_FIRST_RUN_EPOCHS, first_run_epochs
from tests.ui.test_state import images
from ui.common.paths import EXPERIMENTS_DIR, example_networks
from ui.state import AppState


def example(name: str) -> dict:
    return json.loads(next(p for p in example_networks() if p.name == name).read_text())


def adam_lr(state: AppState) -> float:
    return state.training.optimizer_params["adam"]["lr"]


def test_the_spiral_gets_a_short_first_run_and_adam_0_01():
    state = AppState(example("spiral_mlp.json"))
    state.set_dataset(load_dataset("spiral"))
    assert state.training_sample_count() == 432  # 480, less the validation tenth
    assert state.training.epochs == MAX_FIRST_RUN_EPOCHS
    assert state.training.optimizer == "adam" and adam_lr(state) == pytest.approx(0.01)
    assert not state.is_dirty


def test_a_convolutional_network_on_digits_gets_fewer_epochs_and_adam_0_001():
    state = AppState(example("spiral_mlp.json"))
    state.set_dataset(load_dataset("spiral"))
    conv = example("simple_conv_net.json")
    state.load_network(conv)
    assert adam_lr(state) == pytest.approx(0.001)  # 0.01 makes SimpleConvNet's loss spike to about 15
    state.set_dataset(images(n=6000))
    assert state.training.epochs == first_run_epochs(state.analysis, 5400) < MAX_FIRST_RUN_EPOCHS
    state.set_data_settings(subset=1000)
    assert state.training.epochs == first_run_epochs(state.analysis, 900)
    state.load_network(example("spiral_mlp.json"))
    assert adam_lr(state) == pytest.approx(0.01)
    assert state.make_optimizer().lr == pytest.approx(0.01)


def test_settings_the_user_set_stay_as_they_are():
    state = AppState(example("spiral_mlp.json"))
    state.set_dataset(load_dataset("spiral"))
    state.set_training_settings(epochs=7)
    state.set_hyperparameter("lr", 0.05)
    assert state.training.automatic == frozenset()
    assert state.is_dirty
    state.load_network(example("simple_conv_net.json"))
    state.set_dataset(images(n=6000))
    assert state.training.epochs == 7 and adam_lr(state) == pytest.approx(0.05)


def test_an_experiment_file_keeps_its_own_settings():
    state = AppState(example("spiral_mlp.json"))
    document = json.loads((EXPERIMENTS_DIR / "ch07_simple_conv_net.json").read_text())
    state.apply_document(document, "ch07_simple_conv_net.json")
    state.load_network(document["network"])
    config = state.training_config()
    assert config.epochs == document["training"]["epochs"]
    state.set_dataset(images(n=6000))
    assert state.training_config().epochs == document["training"]["epochs"]
    assert state.training.automatic == frozenset()
