"""Comparisons: identical starting points, one curve per setting, CSVs, run folders and the PNG."""

from __future__ import annotations

import csv
import dataclasses
import json
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dllab.experiments.compare import Comparison, smooth
from dllab.experiments.comparison_figures import render_comparison
from dllab.experiments.parallel_runs import BLAS_VARIABLES, blas_threads
from dllab.experiments.plotting import COLORS
from dllab.experiments.variants import make_variants
from dllab.model import build
from dllab.runs import DataSettings, RunError, claim_folder, open_run
from dllab.spec import SpecError
from dllab.trainer import BatchEnded, EpochEnded, LayerStatistics, TrainingConfig
from tests.engine.png import decode_png

ROOT = Path(__file__).resolve().parents[3]
NETWORKS = ROOT / "assets" / "networks"


# --- a real comparison on MNIST ----------------------------------------------------------------------


def mnist_optimizers(mnist_dir: Path, out: Path, processes: int = 1) -> Comparison:
    """SGD against Adam for 30 steps on 1000 MNIST samples, writing into ``out``."""
    settings = DataSettings(str(mnist_dir), subset=1000, val_fraction=0.1)
    spec = NETWORKS / "two_layer_net.json"
    prepared = settings.prepare((784,), seed=0)
    config = TrainingConfig(batch_size=100, epochs=10, max_steps=30, seed=0, eval_samples=500)
    return Comparison(
        spec,
        prepared,
        config,
        {"optimizer": ["sgd", "adam"]},
        seed=0,
        out=out,
        data_settings=settings,
        processes=processes,
    )


@pytest.fixture(scope="module")
def mnist_comparison(mnist_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Comparison, list]:
    comparison = mnist_optimizers(mnist_dir, tmp_path_factory.mktemp("compare"))
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
    image = decode_png(outputs["png"].read_bytes())
    assert image.shape == (520, 1200, 3)
    assert (image != 255).any(axis=2).mean() > 0.02  # not blank
    figure = render_comparison(comparison.results)  # what the PNG shows
    loss, accuracy = figure.axes
    assert [line.get_color() for line in loss.lines[1::2]] == list(COLORS[:2])  # both smoothed curves
    assert len(accuracy.lines) == 2
    assert [t.get_text().split(",")[0] for t in figure.legends[0].get_texts()] == ["sgd", "adam"]


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


# --- variants trained in parallel processes -------------------------------------------------------------


def spiral_comparison(processes: int, epochs: int, out: Path | None = None, **factors: list) -> Comparison:
    prepared = DataSettings("spiral").prepare((2,))
    config = TrainingConfig(epochs=epochs, batch_size=50, stats_every=0)
    factors = factors or {"optimizer": ["sgd", "adam", "momentum"]}
    return Comparison(NETWORKS / "spiral_mlp.json", prepared, config, factors, out=out, processes=processes)


def without_statistics(tagged: list, index: int) -> list[type]:
    """The kinds of a variant's events in order, but layer statistics (taken within a time budget)."""
    return [type(t.event) for t in tagged if t.index == index and not isinstance(t.event, LayerStatistics)]


def epoch_rows(path: Path) -> list[dict[str, str]]:
    """``comparison.csv`` without its timings."""
    with path.open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    return [{k: v for k, v in row.items() if k not in ("elapsed", "samples_per_second")} for row in rows]


def test_parallel_processes_give_the_same_results_as_in_turn(tmp_path: Path) -> None:
    in_turn = spiral_comparison(1, epochs=4, out=tmp_path / "in-turn")
    tagged = list(in_turn.run())
    parallel = spiral_comparison(2, epochs=4, out=tmp_path / "parallel")

    events = list(parallel.run())

    for index in range(3):  # every event of each variant, in its own order
        assert without_statistics(events, index) == without_statistics(tagged, index)
    for before, after in zip(in_turn.results, parallel.results, strict=True):
        assert after.status == before.status == "finished"
        assert after.steps == before.steps and after.losses == before.losses and after.lrs == before.lrs
        assert [(e.train_loss, e.val_accuracy) for e in after.epochs] == [
            (e.train_loss, e.val_accuracy) for e in before.epochs
        ]
        assert (after.test_loss, after.test_accuracy) == (before.test_loss, before.test_accuracy)
        assert after.folder.name == before.folder.name and open_run(after.folder).status == "finished"
    assert parallel.outputs.keys() == in_turn.outputs.keys()
    steps = parallel.outputs["steps_csv"].read_bytes()
    assert steps == in_turn.outputs["steps_csv"].read_bytes()
    assert epoch_rows(parallel.outputs["epochs_csv"]) == epoch_rows(in_turn.outputs["epochs_csv"])
    assert multiprocessing.active_children() == []


def test_parallel_processes_train_mnist_bit_for_bit_as_in_turn(
    mnist_comparison: tuple[Comparison, list], mnist_dir: Path, tmp_path: Path
) -> None:
    # BLAS sums in an order that depends on its thread count, so "the same" means the same BLAS threads: the
    # runs in turn are made in a process with as many as each worker process has.
    env = {**os.environ, **dict.fromkeys(BLAS_VARIABLES, str(blas_threads(2)))}
    code = (
        "import sys; from pathlib import Path; from tests.engine.experiments.test_compare import mnist_optimizers; "
        "list(mnist_optimizers(Path(sys.argv[1]), Path(sys.argv[2])).run())"
    )
    in_turn = tmp_path / "in-turn"
    subprocess.run(
        [sys.executable, "-c", code, str(mnist_dir), str(in_turn)], cwd=ROOT, env=env, check=True, timeout=120
    )
    parallel = mnist_optimizers(mnist_dir, tmp_path / "parallel", processes=2)

    events = list(parallel.run())

    assert (parallel.out / "comparison_steps.csv").read_bytes() == (
        in_turn / "comparison_steps.csv"
    ).read_bytes()
    assert epoch_rows(parallel.out / "comparison.csv") == epoch_rows(in_turn / "comparison.csv")
    for result in parallel.results:
        summary = json.loads((result.folder / "summary.json").read_text(encoding="utf-8"))
        reference = json.loads((in_turn / result.folder.name / "summary.json").read_text(encoding="utf-8"))
        assert summary["test_accuracy"] == reference["test_accuracy"] == result.test_accuracy
        assert summary["test_loss"] == reference["test_loss"]
    # Against the runs in turn in this process (its own BLAS threads): the same to float32 rounding.
    sequential, tagged = mnist_comparison
    for index, (before, after) in enumerate(zip(sequential.results, parallel.results, strict=True)):
        assert without_statistics(events, index) == without_statistics(tagged, index)
        assert after.steps == before.steps and after.losses[0] == before.losses[0]
        np.testing.assert_allclose(after.losses, before.losses, rtol=1e-4)


def test_stopping_parallel_runs_stops_the_running_and_skips_the_rest(tmp_path: Path) -> None:
    comparison = spiral_comparison(2, epochs=500, out=tmp_path / "cmp")
    for tagged in comparison.run():
        if isinstance(tagged.event, BatchEnded) and tagged.event.step == 2:
            comparison.stop()

    assert [r.status for r in comparison.results] == ["stopped", "stopped", "not run"]
    # Stopped long before their 500 epochs (events come in batches, so a child may be a few dozen ahead).
    assert all(len(r.steps) < 50 * r.batches_per_epoch for r in comparison.results[:2])
    assert max(len(r.steps) for r in comparison.results[:2]) >= 2
    assert comparison.results[2].steps == [] and comparison.results[2].folder is None
    assert open_run(comparison.results[0].folder).status == "stopped"
    assert comparison.outputs["png"].is_file()
    assert multiprocessing.active_children() == []


def test_an_error_in_a_worker_process_reaches_the_caller(tmp_path: Path) -> None:
    # A run folder in the way: the run recorder refuses it in the worker, as it does in turn.
    messages = []
    for processes in (1, 2):
        out = claim_folder(tmp_path / f"cmp{processes}")
        (out / "02-adam").mkdir(parents=True)
        (out / "02-adam" / "config.json").write_text("{}", encoding="utf-8")
        with pytest.raises(RunError, match="exists and is not empty") as raised:
            list(spiral_comparison(processes, epochs=50, out=out).run())
        messages.append(str(raised.value).replace(f"cmp{processes}", "cmp"))
    assert messages[0] == messages[1]
    # A spec error keeps its type and its message, though SpecError formats its arguments in __init__.
    comparison = spiral_comparison(2, epochs=50)
    bad = {**comparison.variants[1].spec, "layers": [{"type": "Dense", "units": 0}]}
    comparison.variants[1] = dataclasses.replace(comparison.variants[1], spec=bad)
    with pytest.raises(SpecError) as raised:
        build(bad)
    with pytest.raises(SpecError) as remote:
        list(comparison.run())
    assert str(remote.value) == str(raised.value)
    assert multiprocessing.active_children() == []


def test_closing_the_generator_early_ends_every_worker_process() -> None:
    comparison = spiral_comparison(2, epochs=500)
    events = comparison.run()
    for tagged in events:
        if isinstance(tagged.event, EpochEnded):
            break
    assert len(multiprocessing.active_children()) == 2

    events.close()

    assert multiprocessing.active_children() == []


@pytest.mark.parametrize("processes", [0, -1, 1.5, "2", True, None])
def test_processes_must_be_a_whole_number_of_at_least_one(processes: object) -> None:
    with pytest.raises(ValueError, match="processes must be a whole number of at least 1"):
        spiral_comparison(processes, epochs=1)  # type: ignore[arg-type]
    comparison = spiral_comparison(1, epochs=1)
    with pytest.raises(ValueError, match="processes"):
        comparison.processes = processes  # type: ignore[assignment]
