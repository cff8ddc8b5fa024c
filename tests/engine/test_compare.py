"""Comparisons: identical starting points, one curve per setting, CSVs, run folders and the PNG."""

from __future__ import annotations

import csv
import struct
from pathlib import Path

import numpy as np
import pytest

from dllab.compare import Comparison, smooth
from dllab.plotting import COLORS
from dllab.runs import DataSettings, open_run
from dllab.trainer import BatchEnded, TrainingConfig
from dllab.variants import make_variants
from tests.engine.png import decode_png

NETWORKS = Path(__file__).resolve().parents[2] / "assets" / "networks"


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


def test_smoothing() -> None:
    np.testing.assert_allclose(smooth(np.array([1.0, 2.0, 3.0, np.nan, 5.0]), 3), [1.5, 2.0, 2.5, 4.0, 5.0])


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


def test_from_variants_runs_given_variants() -> None:
    prepared = DataSettings("spiral").prepare((2,))
    variants = make_variants(NETWORKS / "spiral_mlp.json", TrainingConfig(epochs=1), {"lr": [0.1, 0.01]})
    comparison = Comparison.from_variants(variants[::-1], prepared, seed=3)
    assert [v.label for v in comparison.variants] == ["lr 0.01", "lr 0.1"]
    assert comparison.factors == {} and comparison.seed == 3
    assert {t.label for t in comparison.run()} == {"lr 0.01", "lr 0.1"}
    with pytest.raises(ValueError, match="at least one variant"):
        Comparison.from_variants([], prepared)
