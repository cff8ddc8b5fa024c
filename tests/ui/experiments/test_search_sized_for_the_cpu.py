"""The Search view's epochs per trial sized for a CPU: the whole search fits in a few minutes on the design's
data and network, until the user or a preset sets them."""

from __future__ import annotations

from typing import Any

from dllab.data import load_dataset
from dllab.experiments.presets import BOOK_SEARCH
from dllab.first_run import SEARCH_SECONDS, epoch_seconds, search_trial_epochs
from tests.ui.test_state import images
from ui.experiments.search_view import SearchView
from ui.state import AppState


def test_the_epochs_of_a_trial_follow_the_data_the_network_and_the_trials(qtbot: Any) -> None:
    state = AppState()
    view = SearchView(state)
    qtbot.addWidget(view)
    state.set_dataset(load_dataset("spiral"))
    view.trials_spin.setValue(20)
    expected = search_trial_epochs(state.analysis, state.training_sample_count(), 20)
    assert view.epochs_spin.value() == expected
    state.set_dataset(images(n=20_000))
    state.load_network(
        {
            "input_shape": [1, 28, 28],
            "layers": [
                {"type": "Conv2D", "filters": 30, "kernel_size": 5},
                {"type": "ReLU"},
                {"type": "Flatten"},
                {"type": "Dense", "units": 10},
            ],
            "loss": "softmax_cross_entropy",
        }
    )
    epochs = view.epochs_spin.value()
    assert epochs < expected  # bigger data, a convolution: fewer epochs per trial
    n_train = state.training_sample_count()
    assert epochs == 1 or 20 * epochs * epoch_seconds(state.analysis, n_train) <= SEARCH_SECONDS
    view.trials_spin.setValue(2)  # fewer trials: each gets more
    assert view.epochs_spin.value() >= epochs


def test_epochs_set_by_hand_or_by_the_book_preset_stay(qtbot: Any) -> None:
    state = AppState()
    state.set_dataset(load_dataset("spiral"))
    view = SearchView(state)
    qtbot.addWidget(view)
    view.epochs_spin.setValue(7)
    view.trials_spin.setValue(3)
    state.set_dataset(load_dataset("moons"))
    assert view.epochs_spin.value() == 7
    other = SearchView(state)
    qtbot.addWidget(other)
    other.use_preset(BOOK_SEARCH)
    state.set_dataset(load_dataset("spiral"))
    assert other.epochs_spin.value() == BOOK_SEARCH.training_config().epochs
