"""Comparisons: identical starting points, one curve per setting, the variant specs, CSVs and the PNG."""

from __future__ import annotations

import csv
import struct
from pathlib import Path

import numpy as np
import pytest

import dllab
from dllab.compare import (
    BOOK_LEARNING_RATES,
    Comparison,
    VariantResult,
    make_variants,
    render_comparison,
    smooth,
    with_batchnorm,
    with_dropout,
    with_init,
)
from dllab.plotting import COLORS
from dllab.runs import DataSettings, open_run
from dllab.trainer import BatchEnded, TrainingConfig
from tests.engine.png import decode_png

NETWORKS = Path(__file__).resolve().parents[2] / "assets" / "networks"
MLP = NETWORKS / "multi_layer_net.json"


def _types(spec: dict) -> list[str]:
    return [layer["type"] for layer in spec["layers"]]


# --- variant specs -----------------------------------------------------------------------------------


def test_batchnorm_goes_after_every_hidden_weighted_layer_and_keeps_the_weights() -> None:
    on = with_batchnorm(MLP, True)
    assert _types(on)[:3] == ["Dense", "BatchNorm", "ReLU"]
    assert _types(on).count("BatchNorm") == 4  # four hidden Dense layers, none after the output layer
    assert _types(on)[-1] == "Dense"
    assert with_batchnorm(on, True) == on  # not doubled
    off = with_batchnorm(on, False)
    assert "BatchNorm" not in _types(off)
    plain, normed = dllab.build(MLP, seed=7), dllab.build(on, seed=7)
    for key, value in plain.params.items():
        np.testing.assert_array_equal(normed.params[key], value)


def test_init_is_set_on_every_weighted_layer() -> None:
    spec = with_init(NETWORKS / "simple_conv_net.json", 0.01)
    weighted = [layer for layer in spec["layers"] if layer["type"] in ("Dense", "Conv2D")]
    assert len(weighted) == 3 and all(layer["init"] == 0.01 for layer in weighted)
    model = dllab.build(spec, seed=0)
    assert float(np.std(model.params["conv2d_1.W"])) == pytest.approx(0.01, rel=0.1)
    with pytest.raises(ValueError, match="init"):
        with_init(MLP, "glorot")


def test_dropout_goes_after_the_activation_of_hidden_dense_layers() -> None:
    spec = with_dropout(with_batchnorm(NETWORKS / "two_layer_net.json", True), 0.3)
    assert _types(spec) == ["Dense", "BatchNorm", "ReLU", "Dropout", "Dense"]
    assert spec["layers"][3]["rate"] == 0.3
    assert "Dropout" not in _types(with_dropout(spec, 0.0))
    with pytest.raises(ValueError, match="hidden Dense"):
        with_dropout({"input_shape": [2], "layers": [{"type": "Dense", "units": 2}]}, 0.5)


def test_make_variants_uses_book_learning_rates_and_builds_grids() -> None:
    config = TrainingConfig(lr=0.5, optimizer="momentum", optimizer_options={"momentum": 0.8})
    variants = make_variants(MLP, config, {"optimizer": ["SGD", "adam", "adadelta"]})
    assert [v.label for v in variants] == ["sgd", "adam", "adadelta"]
    assert [v.config.lr for v in variants] == [0.01, 0.001, 1.0]
    assert all(v.config.optimizer_options == {} for v in variants)
    kept = make_variants(MLP, config, {"optimizer": ["sgd", "rmsprop"]}, keep_lr=True)
    assert [v.config.lr for v in kept] == [0.5, 0.5]
    assert BOOK_LEARNING_RATES["rmsprop"] == 0.001
    grid = make_variants(MLP, config, {"optimizer": ["sgd", "adam"], "batchnorm": ["on", "off"]})
    assert [v.label for v in grid] == [
        "sgd, batchnorm on",
        "sgd, batchnorm off",
        "adam, batchnorm on",
        "adam, batchnorm off",
    ]
    assert "BatchNorm" in _types(grid[0].spec) and "BatchNorm" not in _types(grid[1].spec)
    sizes = make_variants(MLP, config, {"batch_size": ["32", "128"], "weight_decay": [0, 0.1]})
    assert [(v.config.batch_size, v.config.weight_decay) for v in sizes] == [
        (32, 0.0),
        (32, 0.1),
        (128, 0.0),
        (128, 0.1),
    ]
    assert sizes[1].label == "batch 32, weight decay 0.1"
    inits = make_variants(MLP, config, {"init": ["std 0.01", "xavier", "he"]})
    assert [v.label for v in inits] == ["init std 0.01", "init xavier", "init he"]
    assert inits[0].spec["layers"][0]["init"] == 0.01


@pytest.mark.parametrize(
    ("factors", "message"),
    [
        ({}, "choose a setting"),
        ({"optimizer": ["sgd"], "init": ["he"], "lr": [0.1]}, "at most 2"),
        ({"optimizer": ["sgd", "bogus"]}, "unknown optimizer 'bogus'"),
        ({"optimizer": ["sgd", "sgd"]}, "twice"),
        ({"colour": ["red"]}, "unknown comparison factor"),
        ({"batchnorm": ["maybe"]}, "on or off"),
        ({"batch_size": ["0"]}, "at least 1"),
        ({"lr": ["fast"]}, "must be numbers"),
        ({"dropout": [1.5]}, "below 1"),
    ],
)
def test_invalid_factors_are_rejected(factors: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_variants(MLP, TrainingConfig(), factors)


# --- a real comparison on MNIST ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def mnist_comparison(mnist_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Comparison, list]:
    settings = DataSettings(str(mnist_dir), subset=1000, val_fraction=0.1)
    spec = NETWORKS / "two_layer_net.json"
    prepared = settings.prepare((784,), seed=0)
    config = TrainingConfig(batch_size=100, epochs=10, max_steps=30, seed=0, eval_samples=500)
    out = tmp_path_factory.mktemp("compare")
    comparison = Comparison(
        spec, prepared, config, {"optimizer": ["sgd", "adam"]}, seed=0, out=out, data_settings=settings
    )
    tagged = list(comparison.run())
    return comparison, tagged


def test_variants_start_from_identical_weights_and_batches(mnist_comparison: tuple[Comparison, list]) -> None:
    comparison, tagged = mnist_comparison
    sgd, adam = (comparison.build_model(v) for v in comparison.variants)
    for key, value in sgd.get_weights().items():
        np.testing.assert_array_equal(adam.get_weights()[key], value)
    # The first mini-batch's loss is measured before any update, so it is the initial model's loss on the
    # first batch: equal weights and the same batch give exactly the same value.
    first = {t.index: t.event.loss for t in tagged if isinstance(t.event, BatchEnded) and t.event.step == 1}
    assert first[0] == first[1]


def test_comparison_yields_tagged_events_and_one_curve_per_variant(
    mnist_comparison: tuple[Comparison, list],
) -> None:
    comparison, tagged = mnist_comparison
    assert {t.label for t in tagged} == {"sgd", "adam"}
    sgd, adam = comparison.results
    assert (sgd.status, adam.status) == ("finished", "finished")
    assert sgd.steps == adam.steps == list(range(1, 31))
    assert sgd.losses != adam.losses
    # Adam's book rate trains this network much faster than plain SGD's in 30 steps.
    assert np.mean(adam.losses[-5:]) < np.mean(sgd.losses[-5:])
    assert adam.losses[-1] < adam.losses[0]
    assert 0 <= adam.test_accuracy <= 1 and len(adam.epochs) == 4  # 9 batches per epoch, 30 steps


def test_comparison_writes_csvs_runs_and_a_png(mnist_comparison: tuple[Comparison, list]) -> None:
    comparison, _ = mnist_comparison
    outputs = comparison.outputs
    with outputs["epochs_csv"].open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert [r["variant"] for r in rows] == ["sgd"] * 4 + ["adam"] * 4
    assert [int(r["step"]) for r in rows[:4]] == [9, 18, 27, 30]
    with outputs["steps_csv"].open(encoding="utf-8") as file:
        steps = list(csv.DictReader(file))
    assert len(steps) == 60
    assert float(steps[30]["loss"]) == comparison.results[1].losses[0]
    for result in comparison.results:
        run = open_run(result.folder)
        assert run.status == "finished"
        assert run.config["comparison"]["label"] == result.label
        assert len(run.metrics["epoch"]) == 4
    data = outputs["png"].read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    image = decode_png(data)
    assert image.shape == (height, width, 3) == (520, 1200, 3)
    assert (image != 255).any(axis=2).mean() > 0.02  # not blank
    for color in COLORS[:2]:  # both curves are drawn
        assert np.all(image == color, axis=2).sum() > 200


def test_smoothing_and_an_empty_figure() -> None:
    np.testing.assert_allclose(smooth(np.array([1.0, 2.0, 3.0, np.nan, 5.0]), 3), [1.5, 2.0, 2.5, 4.0, 5.0])
    empty = render_comparison([VariantResult(0, "nothing yet", {})], width=300, height=200, scale=1)
    assert empty.shape == (200, 300, 3)


def test_stopping_a_comparison_skips_the_remaining_variants(tmp_path: Path) -> None:
    prepared = DataSettings("spiral").prepare((2,))
    config = TrainingConfig(epochs=3, batch_size=50)
    spec = NETWORKS / "spiral_mlp.json"
    comparison = Comparison(spec, prepared, config, {"batchnorm": ["on", "off"]}, out=tmp_path / "cmp")
    for tagged in comparison.run():
        if isinstance(tagged.event, BatchEnded) and tagged.event.step == 2:
            comparison.stop()
    assert [r.status for r in comparison.results] == ["stopped", "not run"]
    assert comparison.results[0].steps == [1, 2]
    assert open_run(comparison.results[0].folder).status == "stopped"
    assert comparison.outputs["png"].is_file()
