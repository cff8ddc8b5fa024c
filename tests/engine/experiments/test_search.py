"""Random search on a log scale: reproducible log-uniform draws, validation scoring, no test set."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from dllab.experiments.compare import VariantResult
from dllab.experiments.search import (
    BOOK_RANGES,
    RandomSearch,
    TrialEvent,
    check_ranges,
    parse_range,
    render_search,
    sample_log_uniform,
    trial_score,
    without_test,
)
from dllab.runs import DataSettings
from dllab.trainer import BatchEnded, EpochEnded, Finished, RunStarted, TrainingConfig
from tests.engine.png import decode_png

SPIRAL = Path(__file__).resolve().parents[3] / "assets" / "networks" / "spiral_mlp.json"


# --- the draws -------------------------------------------------------------------------------------------


def test_the_same_seed_draws_exactly_the_same_values() -> None:
    first = sample_log_uniform(BOOK_RANGES, 20, seed=3)
    assert sample_log_uniform(BOOK_RANGES, 20, seed=3) == first
    assert sample_log_uniform(BOOK_RANGES, 20, seed=4) != first
    assert sample_log_uniform(BOOK_RANGES, 50, seed=3)[:20] == first  # more trials keep the first ones
    assert all(set(params) == {"lr", "weight_decay"} for params in first)


def test_draws_are_log_uniform_within_the_ranges() -> None:
    draws = sample_log_uniform(BOOK_RANGES, 4000, seed=0)
    for name, (low, high) in BOOK_RANGES.items():
        exponents = np.log10([params[name] for params in draws])
        lo, hi = np.log10(low), np.log10(high)
        assert exponents.min() >= lo and exponents.max() <= hi
        # Uniform in the exponent: each quarter of the decades holds about a quarter of the draws ...
        quarters = np.histogram(exponents, bins=4, range=(lo, hi))[0] / len(draws)
        np.testing.assert_allclose(quarters, 0.25, atol=0.03)
        assert exponents.min() < lo + 0.01 and exponents.max() > hi - 0.01
        # ... so the typical value is the geometric middle, far below the arithmetic one.
        assert np.median([params[name] for params in draws]) == pytest.approx(np.sqrt(low * high), rel=0.15)
    assert np.corrcoef(np.log10([p["lr"] for p in draws]), np.log10([p["weight_decay"] for p in draws]))[
        0, 1
    ] == pytest.approx(0.0, abs=0.05)


@pytest.mark.parametrize(
    ("ranges", "message"),
    [
        ({}, "at least one range"),
        ({"momentum": (0.5, 0.9)}, "cannot search 'momentum'"),
        ({"lr": (1e-2, 1e-6)}, "lower one first"),
        ({"lr": (0.0, 1e-2)}, "positive"),
        ({"weight_decay": (-1e-8, 1e-4)}, "positive"),
        ({"lr": (1e-6, float("inf"))}, "positive"),
        ({"lr": ("a", "b")}, "two numbers"),
        ({"lr": (1e-3,)}, "two numbers"),
    ],
)
def test_invalid_ranges_are_rejected(ranges: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_ranges(ranges)


def test_parse_range_and_a_fixed_value() -> None:
    assert parse_range("1e-6,1e-2") == (1e-6, 1e-2)
    assert parse_range(" 1e-8 : 1e-4 ") == (1e-8, 1e-4)
    with pytest.raises(ValueError, match="two numbers"):
        parse_range("1e-6")
    with pytest.raises(ValueError, match="two numbers"):
        parse_range("low,high")
    assert [p["lr"] for p in sample_log_uniform({"lr": (0.01, 0.01)}, 3)] == pytest.approx([0.01] * 3)
    with pytest.raises(ValueError, match="trials"):
        sample_log_uniform(BOOK_RANGES, 0)


# --- searches --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spiral():
    return DataSettings("spiral", val_fraction=0.2).prepare((2,), seed=0)


CONFIG = TrainingConfig(optimizer="sgd", batch_size=50, epochs=3, seed=0)
RANGES = {"lr": (1e-3, 1.0), "weight_decay": (1e-8, 1e-4)}


def _run(search: RandomSearch) -> tuple[list[TrialEvent], list]:
    events = []
    generator = search.run()
    while True:
        try:
            events.append(next(generator))
        except StopIteration as stop:
            return events, stop.value


def test_a_search_yields_tagged_events_and_ranks_by_validation_accuracy(spiral, tmp_path: Path) -> None:
    search = RandomSearch(SPIRAL, spiral, CONFIG, RANGES, trials=4, seed=1, out=tmp_path, top_k=2)
    events, ranked = _run(search)
    assert [e.trial for e in events if isinstance(e.event, RunStarted)] == [0, 1, 2, 3]
    assert [e.trial for e in events if isinstance(e.event, Finished)] == [0, 1, 2, 3]
    for event in events:
        assert event.params == search.trial_params[event.trial]
    # Each trial trained with what it drew.
    first_lr = {e.trial: e.event.lr for e in events if isinstance(e.event, BatchEnded) and e.event.step == 1}
    assert first_lr == {i: p["lr"] for i, p in enumerate(search.trial_params)}
    assert [r.settings for r in search.results] == search.trial_params
    scores = [r.best_val_accuracy for r in ranked]
    assert scores == sorted(scores, reverse=True) and ranked == search.ranking()
    best = max(
        e.event.val_accuracy for e in events if isinstance(e.event, EpochEnded) and e.trial == ranked[0].index
    )
    assert scores[0] == best
    # The test set is out of reach: the trainers saw none of it.
    assert len(search.comparison.data.x_test) == 0
    assert all(np.isnan(r.test_accuracy) for r in search.results)
    # The outputs.
    with search.outputs["csv"].open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert [int(r["rank"]) for r in rows] == [1, 2, 3, 4]
    assert [int(r["trial"]) for r in rows] == [r.index + 1 for r in ranked]
    assert float(rows[0]["lr"]) == ranked[0].settings["lr"]
    assert float(rows[0]["best_val_accuracy"]) == scores[0]
    with search.outputs["epochs_csv"].open(encoding="utf-8") as file:
        epochs = list(csv.DictReader(file))
    assert len(epochs) == 4 * 3 and epochs[0]["trial"] == "1" and "test_accuracy" not in epochs[0]
    image = decode_png(search.outputs["png"].read_bytes())
    assert image.shape[1] == 1400 and (image != 255).any(axis=2).mean() > 0.02
    # What the PNG shows: a scatter per hyperparameter (every trial, the best 2 coloured), the best curves.
    figure = render_search(ranked, search.ranges, top_k=2)
    *scatters, curves = figure.axes
    assert [axes.get_xlabel() for axes in scatters] == ["learning rate (log)", "weight decay (log)"]
    for axes, name in zip(scatters, RANGES, strict=True):
        assert axes.get_xscale() == "log" and len(axes.lines) == 4
        assert sorted(line.get_xdata()[0] for line in axes.lines) == sorted(
            p[name] for p in search.trial_params
        )
    assert len(curves.lines) == 2
    labels = [t.get_text() for t in figure.legends[0].get_texts()]
    assert labels[0].startswith(f"1. {scores[0]:.3f}, trial {ranked[0].index + 1}: lr ")
    assert len(labels) == 3 and labels[2] == "other trials"
    assert '"ranges"' in search.outputs["json"].read_text(encoding="utf-8")


def test_ranked_by_the_last_epoch_as_the_book_does(spiral, tmp_path: Path) -> None:
    search = RandomSearch(SPIRAL, spiral, CONFIG, RANGES, trials=5, seed=3, out=tmp_path, rank_by="last")
    _, ranked = _run(search)
    last = [r.final_val_accuracy for r in ranked]
    assert last == sorted(last, reverse=True)
    assert [trial_score(r, "last") for r in ranked] == last
    assert json.loads(search.outputs["json"].read_text(encoding="utf-8"))["rank_by"] == "last"
    figure = render_search(ranked, search.ranges, rank_by="last")
    assert figure.axes[0].get_title("left") == "last epoch's validation accuracy by learning rate"
    with pytest.raises(ValueError, match="ranked by best or last epoch, got 'middle'"):
        RandomSearch(SPIRAL, spiral, CONFIG, RANGES, rank_by="middle")


def test_the_same_seed_reproduces_a_search_and_the_test_set_changes_nothing(spiral) -> None:
    _, ranked = _run(RandomSearch(SPIRAL, spiral, CONFIG, RANGES, trials=3, seed=5))
    garbage = dataclasses.replace(
        spiral,
        x_test=np.full_like(spiral.x_test, np.nan),
        y_test=np.full_like(spiral.y_test, 99),
    )
    _, again = _run(RandomSearch(SPIRAL, garbage, CONFIG, RANGES, trials=3, seed=5))
    assert [r.settings for r in again] == [r.settings for r in ranked]
    assert [r.losses for r in again] == [r.losses for r in ranked]
    assert [r.epoch_metrics()["val_accuracy"].tolist() for r in again] == [
        r.epoch_metrics()["val_accuracy"].tolist() for r in ranked
    ]
    assert len(without_test(spiral).x_test) == 0 and len(spiral.x_test) > 0  # the caller's data is kept


def test_a_search_needs_a_validation_split_and_can_be_stopped(spiral) -> None:
    no_val = DataSettings("spiral", val_fraction=0.0).prepare((2,))
    with pytest.raises(ValueError, match="validation split"):
        RandomSearch(SPIRAL, no_val, CONFIG, RANGES)
    with pytest.raises(ValueError, match="top_k"):
        RandomSearch(SPIRAL, spiral, CONFIG, RANGES, top_k=0)
    search = RandomSearch(SPIRAL, spiral, CONFIG, {"lr": (0.01, 0.1)}, trials=3)
    for event in search.run():
        if isinstance(event.event, BatchEnded) and event.event.step == 2:
            search.stop()
    assert [r.status for r in search.results] == ["stopped", "not run", "not run"]
    assert [r.index for r in search.ranking()] == [0, 1, 2]  # no validation accuracy yet: trial order


def test_the_search_figure_marks_trials_without_a_validation_accuracy() -> None:
    trials = [
        VariantResult(i, f"trial {i + 1}", {"lr": 10.0 ** (i - 3)}, status="finished") for i in range(3)
    ]
    trials[2].status = "diverged"  # no epoch: no validation accuracy
    for r, accuracy in zip(trials[:2], (0.6, 0.8), strict=True):
        r.epochs = [EpochEnded(1, 10, 1.0, accuracy, 1.0, accuracy, 0.1, 0.0, 0.0, True, "")]
    ranked = sorted(trials, key=lambda r: -r.best_val_accuracy if r.epochs else 1.0)
    figure = render_search(ranked, {"lr": (1e-3, 1e-1)}, top_k=1)
    scatter, curves = figure.axes
    crosses = [line for line in scatter.lines if line.get_marker() == "x"]
    assert [line.get_xdata()[0] for line in crosses] == [0.1]
    assert len(curves.lines) == 1 and curves.get_title("left") == "best 1: validation accuracy per epoch"
    labels = [t.get_text() for t in figure.legends[0].get_texts()]
    assert labels == [
        "1. 0.800, trial 2: lr 1.00e-02",
        "other trials",
        "no validation accuracy (diverged or not run)",
    ]
