"""Probes of a live model: one time budget counted on a fake clock, statistics that count values that are not
finite instead of failing, and snapshots that are copies."""

from __future__ import annotations

import numpy as np
import pytest

import dllab
from dllab import data
from dllab.data import Normalizer
from dllab.probes import (
    LayerProbe,
    ProbeBudget,
    boundary_grid,
    feature_maps,
    first_conv_filters,
    histogram,
    layer_outputs,
    nonfinite_count,
    plane_extent,
    summarize,
)
from dllab.trainer import BatchEnded, LayerStatistics, Trainer, TrainingConfig

MLP = {
    "name": "tiny",
    "input_shape": [2],
    "layers": [
        {"type": "Dense", "units": 16},
        {"type": "ReLU"},
        {"type": "Dense", "units": 16},
        {"type": "Sigmoid"},
        {"type": "Dense", "units": 3, "init": "xavier"},
    ],
}
TINY_CNN = {
    "name": "TinyCNN",
    "input_shape": [1, 28, 28],
    "layers": [
        {"type": "Conv2D", "filters": 4, "kernel_size": 5, "init": "he"},
        {"type": "ReLU"},
        {"type": "MaxPool2D", "pool_size": 2, "stride": 2},
        {"type": "Flatten"},
        {"type": "Dense", "units": 10, "init": "xavier"},
    ],
}


class Ticks:
    """A fake clock: every reading is ``seconds`` after the last, so anything timed takes exactly that long."""

    def __init__(self, seconds: float = 1.0) -> None:
        self.now = 0.0
        self.seconds = seconds

    def __call__(self) -> float:
        self.now += self.seconds
        return self.now


@pytest.fixture(scope="module")
def spiral():
    return data.prepare(data.load_dataset("spiral", n_samples=600, seed=0), val_fraction=0.2, seed=0)


# --- the budget -------------------------------------------------------------------------------------------


def test_the_budget_allows_probes_while_they_took_at_most_their_share_of_training() -> None:
    budget = ProbeBudget(0.25, clock=Ticks())
    assert budget.allows()  # nothing spent yet
    assert budget.spend(lambda: "result") == "result" and budget.spent == 1.0
    assert not budget.allows()  # 1 s of probes, no training yet
    budget.count_training(3.0)
    assert not budget.allows()  # 1 > 0.25 * 3
    budget.count_training(1.0)
    assert budget.allows()  # 1 <= 0.25 * 4
    with pytest.raises(KeyError):
        budget.spend(lambda: {}["missing"])
    assert budget.spent == 2.0  # a probe that fails counted too
    assert budget.trained == 4.0


def test_a_short_run_may_probe_for_the_allowance_whatever_its_share() -> None:
    budget = ProbeBudget(0.05, clock=Ticks(seconds=0.04))
    probes = 0
    while budget.allows():
        budget.spend(lambda: None)
        probes += 1
    assert probes == 3 and budget.spent == pytest.approx(0.12)  # 0.08 <= 0.1 allowed a third
    budget.count_training(3.0)  # 5 % of 3 s: 0.15 s
    assert budget.allows()
    budget.spend(lambda: None)
    assert not budget.allows()  # 0.16 > 0.15: past the share, which is now more than the allowance


def test_the_trainer_s_statistics_take_their_share_of_training_and_the_last_always_comes(spiral) -> None:
    config = TrainingConfig(
        optimizer="adam", lr=0.01, batch_size=32, epochs=3, stats_every=1, stats_budget=0.25
    )
    trainer = Trainer(dllab.build(MLP, seed=0), spiral, config)
    budget = trainer.probe_budget = ProbeBudget(0.25, clock=Ticks())  # every batch and probe takes 1 s
    events = list(trainer.run())
    steps = [e.step for e in events if isinstance(e, BatchEnded)]
    statistics = [e.step for e in events if isinstance(e, LayerStatistics)]
    assert budget.trained == len(steps) and budget.spent == len(statistics)
    for taken, step in enumerate(statistics[:-1]):
        assert taken <= 0.25 * step  # the probes before it took at most their share
    assert len(statistics) - 1 >= 0.25 * len(steps) - 1  # and it was used: every batch was due
    assert statistics[-1] == steps[-1]  # the final state, whatever the budget says


def test_statistics_every_batch_with_a_whole_budget(spiral) -> None:
    config = TrainingConfig(batch_size=32, epochs=1, stats_every=1, stats_budget=1.0)
    trainer = Trainer(dllab.build(MLP, seed=0), spiral, config)
    trainer.probe_budget = ProbeBudget(1.0, clock=Ticks())
    events = list(trainer.run())
    steps = [e.step for e in events if isinstance(e, BatchEnded)]
    assert [e.step for e in events if isinstance(e, LayerStatistics)] == steps


# --- values -------------------------------------------------------------------------------------------------


def test_histograms_leave_out_and_count_values_that_are_not_finite() -> None:
    values = np.array([0.0, 0.5, np.nan, np.inf, -np.inf, 1.0, 7.0])
    counts = histogram(values, 0.0, 1.0, 4)
    assert counts.sum() == 4 and counts[-1] == 2  # 1.0 and 7.0 in the last bin
    assert nonfinite_count(values) == 3


def test_a_summary_counts_what_is_not_finite_and_measures_the_rest() -> None:
    values = np.array([1.0, 3.0, np.nan, np.inf, 1e300, -1e300], dtype=np.float64)
    summary = summarize(values, np.linspace(0.0, 4.0, 5))
    assert summary.nonfinite == 2 and summary.counts.sum() == 4
    assert np.isfinite(summary.mean) or np.isnan(summary.mean)  # huge values: no warning, no error
    small = summarize(np.array([1.0, 3.0, np.nan]), np.linspace(0.0, 4.0, 5))
    assert (small.mean, small.std, small.nonfinite) == (2.0, 1.0, 1)
    assert list(small.counts) == [0, 1, 0, 1]
    empty = summarize(np.array([np.nan]), np.linspace(0.0, 1.0, 3))
    assert np.isnan(empty.mean) and empty.counts.sum() == 0 and empty.nonfinite == 1


# --- layer statistics -------------------------------------------------------------------------------------------


def test_statistics_of_a_network_holding_nan_report_it_instead_of_crashing(spiral) -> None:
    model = dllab.build(MLP, seed=0)
    probe = LayerProbe(model, spiral.x_train[:50], bins=40)
    model.params["dense_1.W"][0, :4] = np.nan
    grads = {key: np.full_like(value, np.inf) for key, value in model.params.items()}
    before = {key: value.copy() for key, value in model.params.items()}
    statistics = probe(1, 1, grads, before)
    first = statistics.layers[0]
    assert first.nonfinite > 0 and first.params[0].nonfinite >= 4
    outputs = layer_outputs(model, spiral.x_train[:50])
    for layer, out in zip(statistics.layers, outputs, strict=True):  # in the histogram or counted
        assert layer.counts.sum() + layer.nonfinite == out.size


def test_histogram_edges_stay_fixed_for_a_run_and_bounded_activations_use_their_range(spiral) -> None:
    model = dllab.build(MLP, seed=0)
    probe = LayerProbe(model, spiral.x_train[:100], bins=20)
    before = {key: value.copy() for key, value in model.params.items()}
    first = probe(0, 0, {}, before)
    for value in model.params.values():
        value *= 3.0
    later = probe(1, 1, {}, before)
    for a, b in zip(first.layers, later.layers, strict=True):
        np.testing.assert_array_equal(a.edges, b.edges)
        assert len(a.edges) == 21 and not np.shares_memory(a.edges, b.edges)
    sigmoid = first.layers[3]
    assert (sigmoid.edges[0], sigmoid.edges[-1]) == (0.0, 1.0) and 0 <= sigmoid.saturated_fraction <= 1
    relu = first.layers[1]
    assert relu.edges[0] == 0.0 and 0 <= relu.dead_fraction <= 1 and np.isnan(relu.saturated_fraction)
    assert later.layers[0].params[0].update_ratio == pytest.approx(2.0)  # from W to 3 W


# --- snapshots ------------------------------------------------------------------------------------------------


def test_snapshots_are_copies_of_the_live_model() -> None:
    model = dllab.build(TINY_CNN, seed=0)
    name, weights = first_conv_filters(model)
    model.params["conv2d_1.W"][...] = 0
    assert name == "conv2d_1" and np.abs(weights).sum() > 0
    maps = feature_maps(model, np.zeros((1, 28, 28), np.float32))
    assert maps["conv2d_1"].shape == (4, 24, 24) and maps["maxpool2d_1"].shape == (4, 12, 12)
    assert first_conv_filters(dllab.build(MLP)) is None


def test_the_boundary_grid_covers_the_plane_in_raw_coordinates() -> None:
    points = np.array([[0.0, 0.0], [2.0, 1.0]], np.float32)
    extent = plane_extent(points, margin=0.5)
    assert extent == pytest.approx((-1.0, 3.0, -0.5, 1.5))
    model = dllab.build(MLP, seed=0)
    classes, confidence = boundary_grid(model, Normalizer("none").fit(points), extent, resolution=20)
    assert classes.shape == confidence.shape == (20, 20)
    assert np.all((confidence >= 1 / 3 - 1e-6) & (confidence <= 1))


def test_a_histogram_of_many_values_counts_each_once_across_its_parts():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(3, 70_001)).astype(np.float32)  # more than one part of 65,536 values
    values[0, 5] = values[2, 69_999] = np.nan
    values[1, 3] = np.inf
    values[2, 10] = -np.inf
    values[1, 7] = 1e30  # finite, far outside: the last bin
    values[0, 8] = values[0, 9] = 3e38  # finite, though their sum overflows
    counts = histogram(values, -2.0, 2.0, 40)
    # The same counts as in one pass over all values.
    with np.errstate(over="ignore", invalid="ignore"):
        index = ((values - np.float32(-2.0)) * np.float32(40 / 4.0))[np.isfinite(values)]
    expected = np.bincount(np.clip(index, 0, 39).astype(np.intp), minlength=40)
    np.testing.assert_array_equal(counts, expected)
    assert counts[-1] >= 3 and counts.sum() == values.size - 4 and nonfinite_count(values) == 4
    # Values in another memory order (a convolution's outputs lie batch last) count alike, without a copy.
    np.testing.assert_array_equal(histogram(np.asfortranarray(values).T, -2.0, 2.0, 40), counts)
