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
    PRESETS,
    QUICK_STEPS,
    Comparison,
    VariantResult,
    clip_polyline,
    comparison_from_preset,
    get_preset,
    make_variants,
    render_comparison,
    render_comparison_grid,
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


# --- drawing helpers -------------------------------------------------------------------------------------


def test_clip_polyline_keeps_the_visible_part_of_huge_coordinates() -> None:
    xs, ys = clip_polyline(np.array([0.0, 10.0, 20.0]), np.array([5.0, -1e32, 5.0]), (0, 0, 20, 10))
    points = np.column_stack([xs, ys])
    segments = points[np.isfinite(xs)].reshape(-1, 2, 2)
    assert len(segments) == 2
    assert np.all(np.abs(segments) <= 20)
    np.testing.assert_allclose(segments[0], [[0.0, 5.0], [10 * 5 / (5 + 1e32), 0.0]], atol=1e-12)
    # A segment wholly outside is dropped; an isolated visible point stays.
    xs, ys = clip_polyline(
        np.array([30.0, 40.0, np.nan, 3.0]), np.array([5.0, 5.0, 0.0, 4.0]), (0, 0, 20, 10)
    )
    assert xs[np.isfinite(xs)].tolist() == [3.0] and ys[np.isfinite(ys)].tolist() == [4.0]


def test_many_variants_and_a_diverged_one_still_draw(tmp_path: Path) -> None:
    results = []
    for i in range(32):
        r = VariantResult(i, f"init std {10 ** (-i / 8):.4g}, batchnorm {'on' if i % 2 else 'off'}", {})
        r.steps, r.losses, r.lrs = [1, 2, 3], [2.3, 1e30 if i == 5 else 2.0, 1.0], [0.01] * 3
        results.append(r)
    image = render_comparison(results)
    assert image.shape == (520, 1200, 3)
    assert (image == np.array(COLORS[5], dtype=np.uint8)).all(axis=2).any()


# --- the book's comparisons ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mnist(mnist_dir: Path) -> dllab.data.Dataset:
    return dllab.data.load_dataset(str(mnist_dir))


def test_every_preset_builds_its_comparison(mnist: dllab.data.Dataset, mnist_dir: Path) -> None:
    built = {
        name: comparison_from_preset(name, data_dir=mnist_dir, dataset=mnist, quick=True) for name in PRESETS
    }
    optimizers = built["optimizers"]
    assert [v.label for v in optimizers.variants] == ["sgd", "momentum", "adagrad", "adam"]
    assert [v.config.lr for v in optimizers.variants] == [0.01, 0.01, 0.01, 0.001]
    assert [v.label for v in built["initializers"].variants] == ["init std 0.01", "init xavier", "init he"]
    assert len(built["batchnorm"].variants) == 8
    assert built["batchnorm"].variants[0].label == "init std 1, batchnorm on"
    assert [v.label for v in built["dropout"].variants] == ["dropout 0", "dropout 0.2"]
    assert built["weight_decay"].test_curve and not built["optimizers"].test_curve
    for comparison in built.values():
        assert comparison.config.max_steps == QUICK_STEPS
        assert len(comparison.data.x_train) + len(comparison.data.x_val) <= 500
    # The full settings are the book's.
    preset = PRESETS["optimizers"]
    config = preset.training_config()
    assert (config.batch_size, config.max_steps) == (128, 2000)
    assert [layer["type"] for layer in preset.spec()["layers"]].count("Dense") == 5  # 784-100x4-10
    assert PRESETS["batchnorm"].data_settings().subset == 1000
    assert [layer["type"] for layer in PRESETS["weight_decay"].spec()["layers"]].count("Dense") == 7
    overfit = PRESETS["dropout"].data_settings("somewhere")
    assert (overfit.dataset, overfit.subset, overfit.val_fraction) == ("somewhere", 300, 0.0)
    assert PRESETS["weight_decay"].training_config(book=True).epochs == 201
    book_grid = PRESETS["batchnorm"].comparison_factors(book=True)
    assert len(book_grid["init"]) == 16 and book_grid["init"][0] == 1.0 and book_grid["init"][-1] == 1e-4
    with pytest.raises(ValueError, match="unknown comparison preset 'adamw'"):
        get_preset("adamw")
    assert get_preset("Weight-Decay") is PRESETS["weight_decay"]
    with pytest.raises(ValueError, match="not both"):
        comparison_from_preset("dropout", dataset=mnist, quick=True, book=True)


def test_an_overfitting_preset_records_training_and_test_accuracy_per_epoch(
    mnist: dllab.data.Dataset, mnist_dir: Path, tmp_path: Path
) -> None:
    comparison = comparison_from_preset(
        "weight_decay",
        data_dir=mnist_dir,
        dataset=mnist,
        quick=True,
        out=tmp_path,
        changes={"max_steps": 6, "eval_samples": None},  # the whole test set after every epoch
    )
    tagged = list(comparison.run())
    kinds = [type(t.event).__name__ for t in tagged if t.index == 0]
    # Every epoch's end is followed by the test set's evaluation, for display.
    assert [k for k in kinds if k in ("EpochEnded", "TestEvaluated")] == ["EpochEnded", "TestEvaluated"] * 2
    plain, decayed = comparison.results
    assert len(plain.epochs) == len(plain.test_curve) == 2
    metrics = plain.epoch_metrics()
    assert metrics["epoch"].tolist() == [1.0, 2.0]
    assert metrics["test_accuracy"].tolist() == [t.accuracy for t in plain.test_curve]
    assert np.isnan(metrics["val_accuracy"]).all()  # no validation split: 300 training samples, as the book
    assert plain.test_curve[-1].accuracy == plain.test_accuracy  # the last one is the final test
    assert plain.final_train_accuracy == metrics["train_accuracy"][-1]
    assert len(comparison.data.x_train) == 300 and len(comparison.data.x_test) == 10000
    assert decayed.settings == {"weight_decay": 0.1}
    with comparison.outputs["epochs_csv"].open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert float(rows[1]["test_accuracy"]) == plain.test_curve[-1].accuracy
    image = decode_png(comparison.outputs["png"].read_bytes())
    assert image.shape == (520, 1200, 3)
    assert "grid_png" not in comparison.outputs


def test_a_two_factor_comparison_also_draws_small_multiples(tmp_path: Path) -> None:
    prepared = DataSettings("spiral").prepare((2,))
    config = TrainingConfig(epochs=2, batch_size=100)
    comparison = Comparison(
        NETWORKS / "spiral_mlp.json",
        prepared,
        config,
        {"init": ["std 0.1", "he", "xavier"], "batchnorm": ["on", "off"]},
        out=tmp_path,
    )
    list(comparison.run())
    grid = decode_png(comparison.outputs["grid_png"].read_bytes())
    assert grid.shape == (2 * 300 + 38, 2 * 420, 3)  # three panels in a 2 x 2 grid, a legend on top
    for color in COLORS[:2]:  # batchnorm on and off in every panel
        assert np.all(grid == color, axis=2).sum() > 200
    rendered = render_comparison_grid(
        comparison.results, {"init": [0.1, "he", "xavier"], "batchnorm": [True, False]}
    )
    np.testing.assert_array_equal(rendered, grid)
    with pytest.raises(ValueError, match="two factors"):
        render_comparison_grid(comparison.results, {"init": [0.1]})


def test_from_variants_runs_given_variants() -> None:
    prepared = DataSettings("spiral").prepare((2,))
    variants = make_variants(NETWORKS / "spiral_mlp.json", TrainingConfig(epochs=1), {"lr": [0.1, 0.01]})
    comparison = Comparison.from_variants(variants[::-1], prepared, seed=3)
    assert [v.label for v in comparison.variants] == ["lr 0.01", "lr 0.1"]
    assert comparison.factors == {} and comparison.seed == 3
    assert {t.label for t in comparison.run()} == {"lr 0.01", "lr 0.1"}
    with pytest.raises(ValueError, match="at least one variant"):
        Comparison.from_variants([], prepared)
