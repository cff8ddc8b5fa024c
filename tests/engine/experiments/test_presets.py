"""The book's comparisons as presets: their settings, and a quick overfitting run with a test curve."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

import dllab
from dllab.experiments.presets import PRESETS, QUICK_STEPS, comparison_from_preset, get_preset
from tests.engine.png import decode_png
from tests.engine.user_errors import LONG, assert_settings_error


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


@pytest.mark.parametrize(
    ("make", "shown"),
    [
        (lambda: get_preset(LONG), "unknown comparison preset 'xxx"),
        (lambda: get_preset(None), "unknown comparison preset None"),
        (lambda: PRESETS["dropout"].training_config(quick=True, book=True), "not both"),
        (lambda: comparison_from_preset(LONG), "unknown comparison preset 'xxx"),
        (lambda: comparison_from_preset("dropout", quick=True, book=True), "not both"),
    ],
)
def test_bad_preset_settings_raise_settings_error(make, shown) -> None:
    assert_settings_error(make, shown)
